"""Against the session's real `mlflow server`: the gate over HTTP, and five champion moves at once.

Five `mlgate` processes, each moving @champion to a different version (three `promote ...
Production`, two `rollback --to`), are released together. MLflow has no compare-and-swap, so some
lose; afterwards there must be exactly one champion, it must be the one Production version, every
process must have either succeeded (recording one move) or stopped with exit 3 (recording none),
and the history must chain: each move starts where the previous one ended.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlgate.cli import main

from ..conftest import FAST_MODEL, MlflowServer, copy_project_inputs, set_model_params
from ..helpers import client_for

pytestmark = [pytest.mark.slow, pytest.mark.server]

DEGRADED = {"n_estimators": 3, "max_depth": 3, "random_state": 42}
# Heavy imports happen before the start line, so the five commands really run at the same time.
LAUNCHER = """
import sys, time
from pathlib import Path
import mlflow.tracking, sklearn.ensemble
import mlgate.cli, mlgate.release, mlgate.catalog, mlgate.registry
ready, start = Path(sys.argv[1]), Path(sys.argv[2])
ready.touch()
while not start.exists():
    time.sleep(0.002)
sys.argv = ["mlgate", *sys.argv[3:]]
mlgate.cli.main()
"""


def _cli(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def trained(mlflow_server: MlflowServer, tmp_path_factory: pytest.TempPathFactory):
    """A model on the server: v1 (FAST_MODEL) and v2 (a degraded forest) trained by `mlgate
    train`, then v3..v7 registered from v1's logged model (each a loadable version)."""
    root = tmp_path_factory.mktemp("concurrency") / "project"
    root.mkdir()
    copy_project_inputs(root)
    name = f"race_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
        for key in ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_EVENT_PATH"):
            mp.delenv(key, raising=False)
        for model_params in (FAST_MODEL, DEGRADED):
            set_model_params(root, **model_params)
            _rename(root, name)
            result = _cli("train")
            assert result.exit_code == 0, result.output
    client = client_for(mlflow_server.uri)
    first = client.get_model_version(name, "1")
    for _ in range(5):
        client.create_model_version(
            name,
            source=first.source,
            run_id=first.run_id,
            model_id=first.source.removeprefix("models:/"),  # MLflow 3: a logged model's id
        )
    return root, name


def _rename(root: Path, name: str) -> None:
    import yaml

    raw = yaml.safe_load((root / "params.yaml").read_text())
    raw["mlflow"]["registered_model_name"] = name
    # Timings on a shared machine are noise; the latency budget has its unit tests.
    raw["gate"]["max_latency_ratio"] = 1000
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))


def _state(uri: str, name: str) -> dict:
    client = client_for(uri)
    model = client.get_registered_model(name)
    moves = [
        json.loads(v) for k, v in sorted(model.tags.items()) if k.startswith("mlgate.history.")
    ]
    return {
        "stages": {
            str(v.version): v.current_stage
            for v in client.search_model_versions(f"name = '{name}'")
        },
        "aliases": {a: str(v) for a, v in model.aliases.items()},
        "moves": [m for m in moves if m["alias"] == "champion"],
    }


def test_gate_over_http_scores_both_versions_and_records_the_verdict(
    trained, mlflow_server: MlflowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, name = trained
    monkeypatch.chdir(root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)

    failed = _cli("gate", "--challenger", "2", "--champion", "1", "--json", "gate.json")
    assert failed.exit_code == 1, failed.output
    assert failed.stdout.startswith("mlgate gate: FAIL\n")
    assert "FAIL non_inferiority.f1_macro" in failed.stdout
    verdict = json.loads((root / "gate.json").read_text())
    assert verdict["links"]["Model version 2"] == f"{mlflow_server.uri}/#/models/{name}/versions/2"

    passed = _cli("gate", "--challenger", "3", "--champion", "1", "--pr-number", "5")
    assert passed.exit_code == 0, passed.output
    assert passed.stdout.startswith("mlgate gate: PASS\n")  # v3 is v1's model: no difference
    client = client_for(mlflow_server.uri)
    tags = client.get_model_version(name, "3").tags
    assert (tags["mlgate.gate.verdict"], tags["mlgate.gate.champion_version"]) == ("pass", "1")
    assert client.get_model_version(name, "2").tags["mlgate.gate.verdict"] == "fail"
    aliases = _state(mlflow_server.uri, name)["aliases"]
    assert (aliases.get("challenger"), aliases.get("pr-5")) == ("3", "3")
    assert "champion" not in aliases  # a gate never promotes


def test_five_champion_moves_at_once_leave_one_champion_and_a_chained_history(
    trained, mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    root, name = trained
    uri = mlflow_server.uri
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update(MLFLOW_TRACKING_URI=uri)
    # v1 -> v2 -> v3 champions one after the other, so v1 and v2 can be rolled back to.
    for version in ("1", "2", "3"):
        done = subprocess.run(
            [
                str(Path(sys.executable).with_name("mlgate")),
                "promote",
                name,
                version,
                "Production",
                "--reason",
                f"setup v{version}",
                "--actor",
                "setup",
            ],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    before = _state(uri, name)
    assert before["aliases"]["champion"] == "3" and len(before["moves"]) == 3

    targets = {
        "rollback-to-1": "1",
        "rollback-to-2": "2",
        "promote-4": "4",
        "promote-5": "5",
        "promote-6": "6",
    }
    commands = {
        label: ["rollback", name, "--to", v, "--reason", "racer"]
        if label.startswith("rollback")
        else ["promote", name, v, "Production", "--reason", "racer"]
        for label, v in targets.items()
    }
    start = tmp_path / "start"
    racers = {}
    for label, args in commands.items():
        workdir = tmp_path / label  # each racer is its own CI job, with its own checkout
        workdir.mkdir()
        shutil.copy(root / "params.yaml", workdir / "params.yaml")
        shutil.copytree(root / "data", workdir / "data")
        racers[label] = subprocess.Popen(
            [
                sys.executable,
                "-c",
                LAUNCHER,
                str(workdir / "ready"),
                str(start),
                *args,
                "--actor",
                label,
            ],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    deadline = time.monotonic() + 120
    while not all((tmp_path / label / "ready").exists() for label in commands):
        assert time.monotonic() < deadline, "racers did not start"
        assert all(p.poll() is None for p in racers.values()), [
            p.communicate() for p in racers.values()
        ]
        time.sleep(0.05)
    start.touch()
    results = {label: (p.wait(timeout=300), *p.communicate()) for label, p in racers.items()}

    for label, (code, _, err) in results.items():
        assert "Traceback" not in err, (label, err)
        assert code in (0, 3), (label, code, err)
        if code == 3:
            (line,) = err.splitlines()
            assert line.startswith("mlgate: error: @champion of ") and "re-run" in line.lower(), (
                line
            )
    winners = sorted(label for label, (code, _, _) in results.items() if code == 0)
    assert winners, results

    after = _state(uri, name)
    champion = after["aliases"]["champion"]
    production = sorted(v for v, stage in after["stages"].items() if stage == "Production")
    assert production == [champion]
    new = after["moves"][len(before["moves"]) :]
    assert after["moves"][: len(before["moves"])] == before["moves"]
    # One move per winner, by that winner; losers recorded nothing themselves. A loser's alias
    # write that a winner found before moving on is accounted for as an `external` entry.
    lost = {targets[label] for label, (code, _, _) in results.items() if code == 3}
    assert sorted(m["actor"] for m in new if m["kind"] != "external") == winners, (new, results)
    assert all(m["to_version"] in lost for m in new if m["kind"] == "external"), new
    chain = after["moves"]
    for previous, move in itertools.pairwise(chain):
        assert move["from_version"] == previous["to_version"], json.dumps(
            {"moves": chain, "exits": {k: r[0] for k, r in results.items()}}
        )
    assert chain[-1]["to_version"] == champion


def test_a_move_from_an_unrecorded_holder_keeps_the_history_chained(
    mlflow_server: MlflowServer,
    trained: tuple[Path, str],
    model_name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlgate.champion import Who, make_champion
    from mlgate.config import PromotionConfig
    from mlgate.registry import connect

    monkeypatch.chdir(tmp_path)
    uri = mlflow_server.uri
    client = client_for(uri)
    first = client.get_model_version(trained[1], "1")
    client.create_registered_model(model_name)
    for _ in range(3):  # loadable versions: a manual promotion checks that the model loads
        client.create_model_version(
            model_name,
            source=first.source,
            run_id=first.run_id,
            model_id=first.source.removeprefix("models:/"),
        )
    make_champion(
        connect(uri),
        model_name,
        "1",
        cfg=PromotionConfig(),
        who=Who("ada"),
        reason="first",
        kind="release",
    )
    # What the loser of a race leaves behind: its alias write landed, its move was never recorded.
    client_for(uri).set_registered_model_alias(model_name, "champion", "2")

    result = _cli("promote", model_name, "3", "Production", "--reason", "x", "--tracking-uri", uri)

    assert result.exit_code == 0, result.output
    chain = _state(uri, model_name)["moves"]
    assert [m["to_version"] for m in chain][-1] == "3"
    for previous, move in itertools.pairwise(chain):
        assert move["from_version"] == previous["to_version"], chain
