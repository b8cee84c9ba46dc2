"""What a new user gets from a fresh clone of this repository, with the real UCI file.

The clone holds every tracked file of this tree (as `git clone` would give), committed once.
`mlgate train` registers v1 from data/obesity.csv; `mlgate release` makes it champion and writes
the model card committed in model_cards/; MLflow's own scoring server serves `@champion` over
HTTP; and the seed guide's `python scripts/train.py ...` command works as written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ..conftest import REPO, free_port

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
MODEL = "obesity_classifier"
CARD = Path("model_cards") / f"{MODEL}.md"
GUIDE_TRAIN = (
    "python scripts/train.py --data data/obesity.csv --params params.yaml --model_dir models"
    " --metrics reports/metrics.json --fig_cm reports/figures/confusion_matrix.png"
)


def fresh_clone(path: Path) -> Path:
    """The tracked files of this tree, as they are on disk, in a new repository with one commit."""
    tracked = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, check=True, text=True
    ).stdout.split("\0")
    for rel in filter(None, tracked):
        if (REPO / rel).is_file():
            (path / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, path / rel)
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "Ada Lovelace"],  # who the card's history says moved @champion
        ["config", "user.email", "ada@example.org"],
        ["add", "-A"],
        ["commit", "-qm", "init"],
    ):
        subprocess.run(["git", *args], cwd=path, check=True, capture_output=True)
    return path


def user_env(root: Path) -> dict[str, str]:
    """A shell with the venv's bin/ first on PATH (as after `source .venv/bin/activate`), no
    registry configured (params.yaml's sqlite:///mlflow.db applies), no GitHub, no CI."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "MLFLOW_", "GIT_")) and k != "CI"
    }
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        GIT_CONFIG_GLOBAL=os.devnull,
    )
    return env


def sh(command: str, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command],
        cwd=root,
        env=user_env(root),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def client(root: Path):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{root / 'mlflow.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def normalized(card: str) -> str:
    """The card without what differs between two runs of the same commands: the run id, the
    commit, the fingerprint (it hashes the training code, which edits elsewhere may touch without
    changing the model) and timestamps."""
    card = re.sub(r"\b[0-9a-f]{32}\b", "<run>", card)
    card = re.sub(r"(fingerprint: |Fingerprint \| `)[0-9a-f]{64}", r"\1<fp>", card)
    card = re.sub(r"(commit: |Commit \| `)[0-9a-f]{40}", r"\1<sha>", card)
    card = re.sub(r"`[0-9a-f]{12}` \|$", "`<sha>` |", card, flags=re.M)
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>", card)


@pytest.fixture(scope="module")
def champion(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh clone after the tutorial's first two commands: v1 trained and released."""
    root = fresh_clone(tmp_path_factory.mktemp("clone"))
    trained = sh("mlgate train", root)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert trained.stdout.startswith(f"Registered {MODEL} v1 (stage: Staging)\n")
    assert trained.stderr == ""  # installed from the lock: no mismatch warning
    # The version's one-line description, before the release makes the card its description.
    (root / "v1-description.txt").write_text(client(root).get_model_version(MODEL, "1").description)
    released = sh('mlgate release --reason "first model"', root)
    assert released.returncode == 0, released.stdout + released.stderr
    return root


def test_train_registers_v1_from_the_real_file(champion: Path) -> None:
    version = client(champion).get_model_version(MODEL, "1")
    assert version.tags["dataset_size"] == "2087"
    assert version.tags["mlgate.data_sha256"].startswith("5e9f57cc")
    assert float(version.tags["mlgate.metric.accuracy"]) >= 0.93
    assert (champion / "v1-description.txt").read_text() == (
        "RandomForest n_estimators=100 max_depth=20 random_state=42 · 2087 rows"
        f" · commit {version.tags['git_sha'][:12]}"
    )
    assert version.description.startswith("---\nmodel_name: obesity_classifier\nversion: '1'\n")
    listing = sh("mlgate list", champion)
    assert listing.returncode == 0
    assert f"| {MODEL} | RandomForest obesity classifier |" in listing.stdout


def test_committed_model_card_is_what_the_tutorial_commands_write(champion: Path) -> None:
    written = (champion / CARD).read_text()
    committed = (REPO / CARD).read_text()
    assert written != committed  # a new run id, commit and dates...
    assert normalized(written) == normalized(committed)  # ...and nothing else


def _post(url: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, json.dumps(payload).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_mlflow_scoring_server_serves_the_champion(champion: Path) -> None:
    import pandas as pd

    port = free_port()
    log = (champion / "serve.log").open("wb")
    server = subprocess.Popen(
        [
            "mlflow",
            "models",
            "serve",
            "-m",
            f"models:/{MODEL}@champion",
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=champion,
        env={**user_env(champion), "MLFLOW_TRACKING_URI": "sqlite:///mlflow.db"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (champion / "serve.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "mlflow models serve did not start in 120 s"
                time.sleep(0.5)

        # Real rows of the file: the first 10 survey answers and the last 10 (SMOTE) rows.
        frame = pd.read_csv(champion / "data" / "obesity.csv")
        rows = pd.concat([frame.head(10), frame.tail(10)])
        features = rows.drop(columns=["NObeyesdad"])
        payload = {"dataframe_split": json.loads(features.to_json(orient="split", index=False))}
        status, body = _post(f"http://127.0.0.1:{port}/invocations", payload)
        assert status == 200, body
        assert body["predictions"] == rows["NObeyesdad"].tolist()

        missing = features.drop(columns=["FAVC"])
        payload = {"dataframe_split": json.loads(missing.to_json(orient="split", index=False))}
        status, body = _post(f"http://127.0.0.1:{port}/invocations", payload)
        assert status == 400
        assert "FAVC" in body["message"]

        # What the card's "Input checks" row says: the server checks the signature (a text in a
        # number column is refused), not the schema's domain (a category or a range outside it
        # is predicted on), which the caller validates (docs/deployment.md).
        card = (champion / CARD).read_text()
        assert "the served model (`mlflow models serve`): column names and types only" in card
        wrong_type = features.head(1).assign(Height="tall")
        payload = {"dataframe_split": json.loads(wrong_type.to_json(orient="split", index=False))}
        status, body = _post(f"http://127.0.0.1:{port}/invocations", payload)
        assert status == 400, body
        outside = features.head(2).assign(Gender=["Other", "Male"], Height=[170.0, 1.7])
        payload = {"dataframe_split": json.loads(outside.to_json(orient="split", index=False))}
        status, body = _post(f"http://127.0.0.1:{port}/invocations", payload)
        assert status == 200, body
        assert len(body["predictions"]) == 2
    finally:
        os.killpg(server.pid, 9)
        server.wait(timeout=30)
        log.close()


@pytest.mark.parametrize("form", ["underscores", "dashes"])
def test_guide_train_command_works_verbatim(tmp_path: Path, form: str) -> None:
    root = fresh_clone(tmp_path)
    command = GUIDE_TRAIN if form == "underscores" else GUIDE_TRAIN.replace("l_d", "l-d")
    if form == "dashes":
        command = command.replace("--fig_cm", "--fig-cm")
    done = sh(command, root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"Registered {MODEL} v1 (stage: Staging)\n")
    assert (root / "models" / "MLmodel").is_file()
    metrics = json.loads((root / "reports" / "metrics.json").read_text())
    assert metrics["accuracy"] >= 0.93
    png = root / "reports" / "figures" / "confusion_matrix.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert client(root).get_model_version(MODEL, "1").tags["dataset_size"] == "2087"


@pytest.mark.parametrize(
    ("script", "args", "hint"),
    [
        ("train.py", "--model_dri models", "python scripts/train.py --help"),
        ("gate.py", "--bogus", "python scripts/gate.py --help"),
        ("manage_registry.py", "versions", "python scripts/manage_registry.py versions --help"),
    ],
)
def test_script_errors_name_a_command_that_exists(
    tmp_path: Path, script: str, args: str, hint: str
) -> None:
    root = fresh_clone(tmp_path)
    failed = sh(f"python scripts/{script} {args}", root)
    assert failed.returncode == 2
    (line,) = failed.stderr.splitlines()
    assert line.endswith(f"(see '{hint}')")
    helped = sh(hint, root)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("Usage: ")
