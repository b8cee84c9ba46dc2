"""Infrastructure faults against a real `mlflow server` of this module's own (the session's server
is never killed): a server that is down or hung before a command, and a server killed in the
middle of `release`.

To kill the server at a chosen point, mlgate talks to it through `Proxy`, a small HTTP proxy on
127.0.0.1 that forwards every request and, at the first request matching a rule, SIGKILLs the
server (before or after forwarding that request) and stops answering. After each crash: exit 3
with one line naming the URI mlgate was given, within a bounded time, the registry never left
with two Production versions, and re-running `release` completes the move once.
"""

from __future__ import annotations

import http.client
import http.server
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlgate.rows import TRAINING_RECORD

from ..conftest import FAST_MODEL, MlflowServer
from ..e2e.gitrepo import Clone, make_origin
from ..helpers import client_for

pytestmark = [pytest.mark.slow, pytest.mark.server]

MLGATE = Path(sys.executable).with_name("mlgate")
CANDIDATE = {**FAST_MODEL, "n_estimators": 40}
BOUND_S = 60  # "bounded time": generous, the defaults in registry.py give up within seconds
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


# --- the proxy ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kill:
    """Kill the server at the first `method` request whose path ends with `path`; with `landed`,
    after the server has applied it (the write happens, its answer is lost)."""

    method: str
    path: str
    landed: bool = False
    body: bytes = b""  # and whose body holds this (e.g. which alias is written)


class Proxy:
    """Forwards HTTP to `server`; setting `rule` arms a kill. After the kill it refuses
    connections, as the dead server would."""

    def __init__(self, server: MlflowServer) -> None:
        self.server = server
        self.rule: Kill | None = None
        # (path, status): every request whose path ends with `path` is answered `status` and not
        # forwarded (one endpoint out, as behind a load balancer); the server stays up.
        self.refuse: tuple[str, int] | None = None
        self.killed = threading.Event()
        self.seen: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_request(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                rule = proxy.rule
                hit = (
                    rule is not None
                    and not proxy.killed.is_set()
                    and self.command == rule.method
                    and self.path.split("?")[0].endswith(rule.path)
                    and rule.body in body
                )
                proxy.seen.append(f"{self.command} {self.path.split('?')[0]}")
                refuse = proxy.refuse
                if refuse is not None and self.path.split("?")[0].endswith(refuse[0]):
                    self.send_response(refuse[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if proxy.killed.is_set() or (hit and not rule.landed):
                    proxy._kill()
                    self.close_connection = True
                    return
                status, headers, payload = proxy._forward(
                    self.command, self.path, self.headers, body
                )
                if hit:
                    proxy._kill()
                    self.close_connection = True
                    return
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_request

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.uri = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def _forward(self, method: str, path: str, headers, body: bytes):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP | {"host"}}
            conn.request(method, path, body=body or None, headers=sent)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def _kill(self) -> None:
        if not self.killed.is_set():
            self.killed.set()
            self.server.stop()
            # Stop listening, from another thread: shutdown() waits for serve_forever to return.
            threading.Thread(target=self.close, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    own = MlflowServer(tmp_path_factory.mktemp("fault-server"))
    own.start()
    yield own
    own.stop()


@pytest.fixture
def live(server: MlflowServer) -> MlflowServer:
    """The module's server, started again if a previous test killed it."""
    if server.proc is None or server.proc.poll() is not None:
        server.start()
    return server


@pytest.fixture(scope="module")
def base(server: MlflowServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Two versions trained once on the server by `mlgate train` from a git project: v1 (the
    first commit's inputs) and v2 (a candidate with 40 trees, gated against v1 by `mlgate gate`).
    Each test copies them into a model of its own, tags included (fingerprints, the gate's pass)."""
    tmp = tmp_path_factory.mktemp("fault-base")
    _, clone = make_origin(tmp, server.uri, FAST_MODEL, name="fault_base")
    assert clone.mlgate("train").returncode == 0
    clone.set_model_params(**CANDIDATE)
    assert clone.mlgate("train").returncode == 0
    gated = clone.mlgate("gate", "--challenger", "2", "--champion", "1")
    assert gated.returncode == 0, gated.stdout + gated.stderr
    client = client_for(server.uri)
    return {v: _version_facts(client.get_model_version("fault_base", v)) for v in ("1", "2")}


def _version_facts(mv) -> dict:
    return {"source": mv.source, "run_id": mv.run_id, "tags": dict(mv.tags)}


@pytest.fixture
def project(live: MlflowServer, base: dict[str, dict], tmp_path: Path) -> tuple[str, Clone]:
    """A model of this test's own: v1 champion and Production (one recorded move), v2 the
    candidate; and a git clone whose last commit moved the inputs from v1's to v2's."""
    from mlgate.champion import Who, make_champion
    from mlgate.config import PromotionConfig
    from mlgate.registry import connect

    name = f"fault_{tmp_path.name[-40:].replace('-', '_')}_{time.monotonic_ns() % 10**8}"
    client = client_for(live.uri)
    client.create_registered_model(name)
    for version in ("1", "2"):
        facts = base[version]
        client.create_model_version(
            name,
            source=facts["source"],
            run_id=facts["run_id"],
            tags=facts["tags"],
            model_id=facts["source"].removeprefix("models:/"),
        )
    make_champion(
        connect(live.uri),
        name,
        "1",
        cfg=PromotionConfig(),
        who=Who("ada"),
        reason="first model",
        kind="release",
    )
    _, clone = make_origin(tmp_path, live.uri, FAST_MODEL, name=name)
    clone.set_model_params(**CANDIDATE)
    clone.commit_all("Merge pull request #3 from more-trees")
    return name, clone


# --- helpers --------------------------------------------------------------------------------------


def mlgate(clone: Clone, uri: str, *args: str) -> tuple[int, str, str, float]:
    started = time.monotonic()
    done = subprocess.run(
        [str(MLGATE), *args, "--tracking-uri", uri],
        cwd=clone.path,
        env=clone.env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


def state(uri: str, name: str) -> dict:
    client = client_for(uri)
    model = client.get_registered_model(name)
    moves = [
        json.loads(v) for k, v in sorted(model.tags.items()) if k.startswith("mlgate.history.")
    ]
    return {
        "production": sorted(
            str(v.version)
            for v in client.search_model_versions(f"name = '{name}'")
            if v.current_stage == "Production"
        ),
        "champion": {a: str(v) for a, v in model.aliases.items()}.get("champion"),
        "moves": [(m["from_version"], m["to_version"], m["kind"]) for m in moves],
    }


def assert_one_error_line(err: str, uri: str) -> str:
    assert "Traceback" not in err
    (line,) = err.splitlines()
    assert line.startswith("mlgate: error: ") and uri in line, line
    return line


# --- a server killed in the middle of release -----------------------------------------------------

ALIAS = "/registered-models/alias"
KILLS = {
    # @champion moved but its answer lost, before the stage transition: the window where the
    # alias and the stage disagree
    # (the kill waits for @champion's write, whatever the command writes before it)
    "after-alias-move": (
        Kill("POST", ALIAS, landed=True, body=b'"champion"'),
        "setting @champion on",
        ("2", ["1"]),
    ),
    # alias and stage moved, the history entry refused
    "before-history-entry": (
        Kill("POST", "/registered-models/set-tag"),
        "recording the move of @champion",
        ("2", ["2"]),
    ),
}


@pytest.mark.parametrize(("kill", "step", "left"), KILLS.values(), ids=KILLS)
def test_release_killed_midway_fails_clearly_and_a_rerun_completes(
    project: tuple[str, Clone],
    live: MlflowServer,
    kill: Kill,
    step: str,
    left: tuple[str, list[str]],
) -> None:
    name, clone = project
    proxy = Proxy(live)
    proxy.rule = kill
    code, out, err, took = mlgate(clone, proxy.uri, "release")
    if not proxy.killed.is_set():
        proxy.close()
    assert proxy.killed.is_set(), proxy.seen
    assert proxy.seen[0] == "GET /health"  # everything went through the proxy
    assert code == 3, out + err
    line = assert_one_error_line(err, proxy.uri)
    assert f"failed during {step}" in line and "re-run" in line, line
    assert took < BOUND_S

    live.start()
    crashed = state(live.uri, name)
    # One champion at most, one Production at most: where the crash left them, nothing else.
    assert (crashed["champion"], crashed["production"]) == left
    assert crashed["moves"] == [(None, "1", "release")]

    code, out, err, _ = mlgate(clone, live.uri, "release")
    assert code == 0, out + err
    done = state(live.uri, name)
    assert (done["champion"], done["production"]) == ("2", ["2"])
    assert done["moves"] == [(None, "1", "release"), ("1", "2", "release")]
    assert (clone.path / "model_cards" / f"{name}.md").is_file()

    # Re-running once more changes nothing: the release is complete.
    code, out, _, _ = mlgate(clone, live.uri, "release")
    assert code == 0 and f"{name}: v2 is already champion" in out, out
    assert state(live.uri, name) == done


# --- a server killed while the gate downloads a model ---------------------------------------------


def test_server_killed_during_the_gates_model_download_is_exit_3_not_a_verdict(
    project: tuple[str, Clone], live: MlflowServer
) -> None:
    """A model that cannot be loaded is evidence (the gate fails, exit 1); a server that dies
    while the model downloads is infrastructure (exit 3), and no verdict is recorded."""
    name, clone = project
    proxy = Proxy(live)
    proxy.rule = Kill("GET", "/MLmodel")
    code, out, err, took = mlgate(clone, proxy.uri, "gate", "--challenger", "2", "--champion", "1")
    if not proxy.killed.is_set():
        proxy.close()
    assert proxy.killed.is_set(), proxy.seen
    assert code == 3, out + err
    line = assert_one_error_line(err, proxy.uri)
    assert "downloading" in line and name in line, line
    assert "FAIL" not in out and took < BOUND_S

    live.start()
    tags = client_for(live.uri).get_model_version(name, "2").tags
    # Only the candidate's earlier pass (copied from the base model) is there: nothing new.
    assert tags.get("mlgate.gate.verdict") == "pass"


def test_an_artifact_store_that_fails_while_the_gate_reads_a_training_record_is_exit_3(
    project: tuple[str, Clone], live: MlflowServer
) -> None:
    """The champion's training record says which rows the gate may score. A store that answers
    503 for it is an outage (exit 3), not a record that was never written: that would exclude
    every row "trained before mlgate kept them" and print a verdict on a made-up reason."""
    _, clone = project
    proxy = Proxy(live)
    proxy.refuse = (f"/{TRAINING_RECORD}", 503)
    try:
        code, out, err, took = mlgate(
            clone, proxy.uri, "gate", "--challenger", "2", "--champion", "1"
        )
    finally:
        proxy.close()
    assert any(seen.endswith(TRAINING_RECORD) for seen in proxy.seen), proxy.seen
    assert code == 3, out + err
    line = assert_one_error_line(err, proxy.uri)
    assert TRAINING_RECORD in line, line
    assert "PASS" not in out and "FAIL" not in out and "INCONCLUSIVE" not in out, out
    assert took < BOUND_S


# --- a server that is not there -------------------------------------------------------------------


@pytest.fixture
def silent_uri() -> Iterator[str]:
    """A port that accepts connections and never answers (a wedged server or load balancer)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


COMMANDS = (["release"], ["gate"], ["train"], ["versions", "m"], ["rollback", "m", "--reason", "x"])


# Last in the module: the killed server stays down.
@pytest.mark.parametrize("how", ["hung", "killed"])
def test_server_down_before_a_command_exits_3_in_bounded_time(
    how: str, live: MlflowServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _, clone = make_origin(tmp_path, live.uri, FAST_MODEL)
    if how == "hung":  # a command waits for the health check's timeout: one is enough
        uri, commands = request.getfixturevalue("silent_uri"), COMMANDS[:1]
    else:
        live.stop()
        uri, commands = live.uri, COMMANDS
    for args in commands:
        code, _, err, took = mlgate(clone, uri, *args)
        assert code == 3, (args, err)
        line = assert_one_error_line(err, uri)
        assert "is unreachable" in line, line
        assert took < BOUND_S, (args, took)
