"""A champion move writes the card from the gate's stored evidence when it was made on today's
holdout by the same versions, and loads the models only when it was not.

`load_model` and scikit-learn's `train_test_split` are wrapped (the real functions still run) to
count how often a command loads a model or splits the data.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mlgate import card_facts, release, verdict
from mlgate.cli import main
from mlgate.config import load_params
from mlgate.data import holdout
from mlgate.estimators import trusted_types
from mlgate.registry import connect, load_model

from ..conftest import FAST_MODEL, set_model_params

MODEL = "obesity_classifier"
pytestmark = pytest.mark.slow


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []

    def counted(registry, name, version, trusted):
        seen.append(str(version))
        return load_model(registry, name, version, trusted)

    for module in (release, card_facts):
        monkeypatch.setattr(module, "load_model", counted)
    return seen


@pytest.fixture
def splits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    import sklearn.model_selection

    seen: list[int] = []
    real = sklearn.model_selection.train_test_split

    def counted(*args, **kwargs):
        seen.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sklearn.model_selection, "train_test_split", counted)
    return seen


def _forget_evidence(project) -> None:
    """v2's stored gate record as a gate that stored no predictions (nor their split) left it."""
    registry = connect(f"sqlite:///{project / 'mlflow.db'}")
    run_id = registry.get_version(MODEL, "2").run_id
    payload = registry.load_run_dict(run_id, verdict.GATE_ARTIFACT)
    del payload["predictions"], payload["split"]
    registry.log_run_dict(run_id, payload, verdict.GATE_ARTIFACT)


@pytest.fixture
def gated_v2(fast_project):
    """v1 champion; v2 trained and gated against it (the gate stored its evidence)."""
    assert _run("train").exit_code == 0
    assert _run("promote", MODEL, "1", "Production", "--reason", "first").exit_code == 0
    set_model_params(fast_project, **{**FAST_MODEL, "n_estimators": 40})
    assert _run("train").exit_code == 0
    gate = _run("gate")
    assert gate.exit_code == 0, gate.output
    return fast_project


def test_stored_predictions_are_the_models_own(gated_v2) -> None:
    params = load_params("params.yaml")
    registry = connect(f"sqlite:///{gated_v2 / 'mlflow.db'}")
    rows = holdout(params.data)
    stored = verdict.load(registry, registry.get_version(MODEL, "2").run_id)
    for version in ("1", "2"):
        trusted = trusted_types()
        predicted = load_model(registry, MODEL, version, trusted).model.predict(rows.split.X_test)
        assert list(stored.scored(version, rows.sha256)) == [str(p) for p in predicted]
    assert stored.scored("2", "another holdout") is None
    assert stored.scored("3", rows.sha256) is None


def test_promote_with_matching_evidence_loads_no_model(
    gated_v2, loads: list[str], splits: list[int]
) -> None:
    moved = _run("promote", MODEL, "2", "Production", "--reason", "gated")
    assert moved.exit_code == 0, moved.output
    assert loads == []
    assert splits == []  # the holdout comes from the split the gate stored with its predictions
    card = (gated_v2 / "model_cards" / f"{MODEL}.md").read_text()
    assert "version: '2'" in card and "## Comparison with v1 (previous champion)" in card


def test_the_card_from_stored_evidence_is_the_card_from_the_models(
    gated_v2, loads: list[str], splits: list[int]
) -> None:
    moved = _run("promote", MODEL, "2", "Production", "--reason", "gated")
    assert moved.exit_code == 0, moved.output
    card = gated_v2 / "model_cards" / f"{MODEL}.md"
    from_evidence = card.read_text()
    assert loads == [] and splits == []

    _forget_evidence(gated_v2)
    rewritten = _run("card", MODEL)

    assert rewritten.exit_code == 0, rewritten.output
    assert sorted(loads) == ["1", "2"] and splits  # split and scored again, by both models
    assert "(unchanged)" in rewritten.output
    assert card.read_text() == from_evidence


def test_promote_after_the_data_changed_loads_the_models(gated_v2, loads: list[str]) -> None:
    data = gated_v2 / "data" / "obesity.csv"
    lines = data.read_text().splitlines(keepends=True)
    data.write_text("".join(lines[:-40]))  # another holdout: the stored evidence is not about it

    moved = _run("promote", MODEL, "2", "Production", "--reason", "gated")

    assert moved.exit_code == 0, moved.output
    assert sorted(loads) == ["1", "2"]
