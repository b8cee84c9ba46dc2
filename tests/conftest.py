"""Shared fixtures: a project folder, a tmp sqlite registry, a real `mlflow server` on 127.0.0.1.

Nothing here mocks MLflow or git: the registries are real, the server is a real subprocess.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_UCI = REPO.parent / "shared" / "data" / "uci_obesity.csv"
# Small, fast model settings for tests that train many versions; the real params stay in
# params.yaml.
FAST_MODEL = {"n_estimators": 30, "max_depth": 12, "random_state": 42}

# The suite plays a developer's machine: CI's own CI=true would switch mlgate to its CI-only
# rules (a dirty build refused, a lock mismatch fatal) in tests that edit a project and train
# before committing, as a developer does. Tests of those rules set CI themselves, and act sets
# it inside every job it runs.
os.environ.pop("CI", None)


# Fixtures that start a real `mlflow server` or run a job in act: a test that uses one is marked
# for it, so the fast lane (README, "-m 'not slow and not server'") cannot start either by accident.
_MARKED_BY_FIXTURE = {"mlflow_server": "server", "act_engine": "slow"}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in _MARKED_BY_FIXTURE.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _process_state() -> Iterator[None]:
    """Each test starts from the process state before it. In-process CLI calls change it (MLflow's
    environment defaults and tracking URI, a project's root on sys.path for its own estimator
    classes): without this, a pytest-xdist worker's order of test files could change a result."""
    environ, path = dict(os.environ), list(sys.path)
    yield
    os.environ.clear()
    os.environ.update(environ)
    sys.path[:] = path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project's params.yaml, lock and data in tmp_path, as the working directory,
    with MLFLOW_TRACKING_URI pointing at a fresh sqlite registry inside it."""
    root = tmp_path / "project"
    root.mkdir()
    copy_project_inputs(root)
    monkeypatch.chdir(root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    for key in ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_EVENT_PATH"):
        monkeypatch.delenv(key, raising=False)
    return root


def copy_project_inputs(root: Path) -> None:
    """The repository's training inputs that a project copy needs: params.yaml, the data and the
    lock (the fingerprint reads it: without it a copy's versions would not match the template's)."""
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    shutil.copy(REPO / "requirements.lock", root / "requirements.lock")
    shutil.copytree(REPO / "data", root / "data")


def set_model_params(root: Path, **model_params: object) -> None:
    """Rewrite params.yaml's model.params (keeps everything else), as a user editing it would."""
    import yaml

    path = root / "params.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["model"]["params"] = dict(model_params)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


@pytest.fixture
def fast_project(project: Path) -> Path:
    set_model_params(project, **FAST_MODEL)
    return project


class MlflowServer:
    """A real `mlflow server` subprocess; `stop()`/`start()` let fault tests kill and revive it."""

    def __init__(self, root: Path, backend: str | None = None, auth: str | None = None) -> None:
        """`auth`: the admin's password; the server then runs MLflow's basic-auth app, its user
        database next to the backend (docs/deployment.md's setup, on 127.0.0.1)."""
        self.root = root
        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.backend = backend or f"sqlite:///{root / 'backend.db'}"
        self.auth = auth
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90) -> None:
        mlflow_bin = Path(sys.executable).with_name("mlflow")
        log = open(self.root / "server.log", "ab")  # noqa: SIM115 - lives as long as the server
        # MLflow 3's server also starts a job runner and seven huey consumers (its GenAI jobs),
        # each importing mlflow again: mlgate uses none of them.
        env, app = dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false"), []
        if self.auth is not None:
            config = self.root / "basic_auth.ini"
            config.write_text(
                "[mlflow]\ndefault_permission = READ\n"
                f"database_uri = sqlite:///{self.root / 'auth.db'}\n"
                f"admin_username = admin\nadmin_password = {self.auth}\n"
                "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
            )
            env.update(MLFLOW_AUTH_CONFIG_PATH=str(config), MLFLOW_FLASK_SERVER_SECRET_KEY="test")
            app = ["--app-name", "basic-auth"]
        self.proc = subprocess.Popen(
            [
                str(mlflow_bin),
                "server",
                *app,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
                "--backend-store-uri",
                self.backend,
                "--artifacts-destination",
                str(self.root / "artifacts"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"mlflow server exited: {(self.root / 'server.log').read_text()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"mlflow server did not answer within {timeout}s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """One real tracking server for the session, or for each pytest-xdist worker (backend: sqlite,
    or a database of its own on the PostgreSQL server of MLGATE_TEST_POSTGRES_URI)."""
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-server"), postgres_backend())
    server.start()
    yield server
    server.stop()


def postgres_backend() -> str | None:
    """MLGATE_TEST_POSTGRES_URI, or under pytest-xdist a fresh database beside its own for this
    worker: two servers creating MLflow's tables in one database at once would race."""
    uri = os.environ.get("MLGATE_TEST_POSTGRES_URI")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not uri or not worker:
        return uri
    import sqlalchemy

    server, database = uri.rsplit("/", 1)
    own = f"{database}_{worker}"
    engine = sqlalchemy.create_engine(uri, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{own}"')
            connection.exec_driver_sql(f'CREATE DATABASE "{own}"')
    finally:
        engine.dispose()
    return f"{server}/{own}"


@pytest.fixture(params=["sqlite", pytest.param("http", marks=pytest.mark.server)])
def registry_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Parametrizes a test over the embedded sqlite registry and the real HTTP server.

    On the shared HTTP server, tests must use model names unique to the test (see `model_name`).
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.db'}"
    return request.getfixturevalue("mlflow_server").uri


@pytest.fixture
def model_name(request: pytest.FixtureRequest) -> str:
    """A registered-model name unique to this test, so tests can share one HTTP server."""
    safe = "".join(c if c.isalnum() else "_" for c in request.node.name)[-60:]
    return f"m_{safe}_{os.getpid()}_{time.monotonic_ns() % 10**8}"
