"""`release`, `rollback`, `history`, `card` and `promote ... Production` through the CLI, on real
registries: bad input exits 2 and writes nothing; moves print and record what they did; two
releases racing for different versions leave one champion that is the one Production version."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlgate.cli import main

from ..conftest import FAST_MODEL
from ..e2e.gitrepo import clone_of, make_origin
from ..helpers import Spec, client_for, populate

MODEL = "obesity_classifier"


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _state(uri: str, model: str = MODEL) -> dict:
    """Versions (stage, tags, description), aliases and model tags: all a command could change."""
    client = client_for(uri)
    registered = client.get_registered_model(model)
    return {
        "versions": {
            str(v.version): (v.current_stage, dict(v.tags), v.description)
            for v in client.search_model_versions(f"name = '{model}'")
        },
        "aliases": {a: str(v) for a, v in registered.aliases.items()},
        "tags": dict(registered.tags),
    }


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two registered versions (no trained model: nothing here loads one); v1 is champion.
    Built once: creating an MLflow sqlite database takes seconds, copying it does not."""
    from mlgate.champion import Who, make_champion
    from mlgate.config import PromotionConfig
    from mlgate.registry import connect

    path = tmp_path_factory.mktemp("seeded") / "mlflow.db"
    uri = f"sqlite:///{path}"
    populate(uri, MODEL, [Spec(metrics={"accuracy": 0.9}), Spec(metrics={"accuracy": 0.91})])
    make_champion(
        connect(uri),
        MODEL,
        "1",
        cfg=PromotionConfig(),
        who=Who("ada"),
        reason="first model",
        kind="release",
    )
    return path


@pytest.fixture
def seeded(project: Path, seeded_db: Path) -> str:
    shutil.copy(seeded_db, project / "mlflow.db")
    return f"sqlite:///{project / 'mlflow.db'}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["rollback", MODEL, "--reason", "x"],
            "obesity_classifier v1 is the earliest champion in the history:"
            " nothing to roll back to",
            id="rollback-nothing-earlier",
        ),
        pytest.param(
            ["rollback", MODEL, "--to", "9", "--reason", "x"],
            "obesity_classifier has no version 9; see 'mlgate versions obesity_classifier'",
            id="rollback-unknown-version",
        ),
        pytest.param(
            ["rollback", MODEL, "--to", "2", "--reason", "x"],
            "obesity_classifier v2 was never champion, so there is nothing to roll back to;"
            " promote it instead",
            id="rollback-to-never-champion",
        ),
        pytest.param(
            ["rollback", MODEL, "--to", "1"], "Missing option '--reason'", id="rollback-no-reason"
        ),
        pytest.param(
            ["rollback", MODEL, "--to", "1", "--reason", "  "],
            "a reason is required for every champion move (pass --reason TEXT)",
            id="blank-reason",
        ),
        pytest.param(
            ["rollback", "obesity_classifer", "--reason", "x"],
            "model 'obesity_classifer' is not registered (did you mean obesity_classifier?)",
            id="rollback-unknown-model",
        ),
        pytest.param(
            ["promote", MODEL, "9", "Production", "--reason", "x"],
            "obesity_classifier has no version 9",
            id="promote-unknown-version",
        ),
        pytest.param(
            ["promote", MODEL, "2", "Production", "--reason", ""],
            "a reason is required",
            id="promote-blank-reason",
        ),
        pytest.param(
            ["card", MODEL, "--version", "9"],
            "obesity_classifier has no version 9",
            id="card-unknown-version",
        ),
        pytest.param(
            ["history", "nope"], "model 'nope' is not registered", id="history-unknown-model"
        ),
        pytest.param(
            ["release", "--before", "no-such-commit"],
            "git revision 'no-such-commit' not found",
            id="release-unknown-revision",
        ),
        pytest.param(
            ["release", "--policy-from", "no-such-commit"],
            "--policy-from 'no-such-commit': no such commit in",
            id="release-unknown-policy-revision",
        ),
        pytest.param(
            ["gate", "--policy-from", "no-such-commit"],
            "--policy-from 'no-such-commit': no such commit in",
            id="gate-unknown-policy-revision",
        ),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(seeded: str, args: list[str], message: str) -> None:
    before = _state(seeded)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert _state(seeded) == before


def test_history_lists_moves_and_json(seeded: str) -> None:
    result = _run("history", MODEL)
    assert result.exit_code == 0
    header, _, row = result.output.splitlines()
    assert header.split() == ["When", "(UTC)", "Who", "Move", "Kind", "Why", "Commit"]
    assert "ada" in row and "@champion none → v1" in row and "first model" in row
    moves = json.loads(_run("history", MODEL, "--json").output)["moves"]
    assert [(m["from_version"], m["to_version"], m["kind"]) for m in moves] == [
        (None, "1", "release")
    ]


@pytest.mark.slow
def test_promote_rollback_and_card_on_trained_versions(
    fast_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ..conftest import set_model_params

    uri = f"sqlite:///{fast_project / 'mlflow.db'}"
    assert _run("train").exit_code == 0
    set_model_params(fast_project, **{**FAST_MODEL, "n_estimators": 20})
    assert _run("train").exit_code == 0
    card = fast_project / "model_cards" / f"{MODEL}.md"

    first = _run("promote", MODEL, "1", "Production", "--reason", "first model", "--actor", "ada")
    assert first.exit_code == 0, first.output
    assert first.output.startswith("Promoted obesity_classifier v1 to Production.\n")
    assert "  recorded: promote by ada: first model\n" in first.output
    assert "version: '1'" in card.read_text()

    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    second = _run(
        "promote", MODEL, "2", "Production", "--reason", "more trees", "--actor", "ada", "--json"
    )
    payload = json.loads(second.output)
    assert (payload["action"], payload["previous"], payload["archived"]) == ("promoted", "1", ["1"])
    assert (
        payload["move"]["reason"] == "more trees" and payload["card"] == f"model_cards/{MODEL}.md"
    )
    assert "champion_version<<" in outputs.read_text()
    assert "## Comparison with v1 (previous champion)" in card.read_text()

    back = _run("rollback", MODEL, "--reason", "f1 dropped in production", "--actor", "bob")
    assert back.exit_code == 0, back.output
    assert back.output.splitlines()[:3] == [
        "obesity_classifier: v1 is champion (was v2)",
        "  archived: v2",
        "  recorded: rollback by bob: f1 dropped in production",
    ]
    assert _state(uri)["aliases"] == {"champion": "1"}
    assert {v: s for v, (s, _, _) in _state(uri)["versions"].items()} == {
        "1": "Production",
        "2": "Archived",
    }
    assert card.read_text().count("| rollback | f1 dropped in production |") == 1

    # The card command writes the same card for the same registry state, and '-' only prints.
    text = card.read_text()
    assert (
        _run("card", MODEL).output
        == f"obesity_classifier v1: model card {card.relative_to(fast_project)} (unchanged)\n"
    )
    assert _run("card", MODEL, "--out", "-").output == text
    assert client_for(uri).get_model_version(MODEL, "1").description.startswith("---\nmodel_name:")
    other = _run("card", MODEL, "--version", "2")
    assert other.exit_code == 0 and (fast_project / "model_cards" / f"{MODEL}-v2.md").is_file()
    assert (
        "## Comparison with v1 (current champion)"
        in (fast_project / "model_cards" / f"{MODEL}-v2.md").read_text()
    )


@pytest.mark.slow
@pytest.mark.server
def test_two_releases_at_once_end_with_one_champion(mlflow_server, tmp_path: Path) -> None:
    """Each process trains and gates its own version, then both try to move @champion."""
    name = f"race_{time.monotonic_ns() % 10**9}"
    _, main_clone = make_origin(tmp_path, mlflow_server.uri, FAST_MODEL, name=name)
    first = main_clone.mlgate("release", "--before", "0" * 40)
    assert first.returncode == 0, first.stderr
    base = main_clone.head()
    clones = []
    for i, trees in enumerate((40, 50)):
        clone = clone_of(
            tmp_path / "origin.git", tmp_path / f"racer{i}", mlflow_server.uri, f"racer{i}"
        )
        clone.set_model_params(**{**FAST_MODEL, "n_estimators": trees})
        clone.commit_all(f"{trees} trees")
        clones.append(clone)
    racers = [clone.start("release", "--before", base) for clone in clones]
    results = [(p.wait(timeout=600), *p.communicate()) for p in racers]

    codes = sorted(code for code, _, _ in results)
    assert codes[0] == 0 and set(codes) <= {0, 1, 3}, results
    for code, _, err in results:
        if code == 3:
            assert "re-run" in err.lower()  # the loser says the champion moved and what to do
    state = _state(mlflow_server.uri, name)
    production = [v for v, (stage, _, _) in state["versions"].items() if stage == "Production"]
    assert len(state["versions"]) == 3
    assert production == [state["aliases"]["champion"]]
    assert state["aliases"]["champion"] in {"2", "3"}
    moves = [
        json.loads(v) for k, v in sorted(state["tags"].items()) if k.startswith("mlgate.history.")
    ]
    assert moves[-1]["to_version"] == state["aliases"]["champion"]


@pytest.mark.slow
def test_release_whose_gate_fails_exits_1_and_promotes_nothing(tmp_path: Path) -> None:
    import yaml

    uri = f"sqlite:///{tmp_path / 'registry.db'}"
    _, clone = make_origin(tmp_path, uri, FAST_MODEL)
    params = yaml.safe_load((clone.path / "params.yaml").read_text())
    params["gate"]["thresholds"] = {"accuracy": 0.995}
    (clone.path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    clone.commit_all("Demand 99.5% accuracy")
    outputs = tmp_path / "outputs"
    result = clone.mlgate("release", "--before", "0" * 40, GITHUB_OUTPUT=str(outputs))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "  FAIL threshold.accuracy (candidate 0.9" in result.stdout  # the evidence comes first
    assert (
        "obesity_classifier: v1 failed its gate against no champion (threshold.accuracy):"
        " nothing promoted" in result.stdout
    )
    assert "action<<" in outputs.read_text() and "\nrejected\n" in outputs.read_text()
    state = _state(uri)
    assert state["aliases"] == {} and state["versions"]["1"][0] == "Staging"
    assert not (clone.path / "model_cards").exists()
