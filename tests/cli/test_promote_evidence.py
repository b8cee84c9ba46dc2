"""A champion move writes the card from the gate's stored evidence when it was made on today's
holdout by the same versions, and loads the models only when it was not.

`load_model` is wrapped (the real function still runs) to count how often a command loads one.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mlgate import card_facts, release, verdict
from mlgate.cli import main
from mlgate.config import load_params
from mlgate.data import holdout
from mlgate.registry import connect, load_model

from ..conftest import FAST_MODEL, set_model_params

MODEL = "obesity_classifier"
pytestmark = pytest.mark.slow


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []

    def counted(registry, name, version):
        seen.append(str(version))
        return load_model(registry, name, version)

    for module in (release, card_facts):
        monkeypatch.setattr(module, "load_model", counted)
    return seen


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
        predicted = load_model(registry, MODEL, version).model.predict(rows.split.X_test)
        assert list(stored.scored(version, rows.sha256)) == [str(p) for p in predicted]
    assert stored.scored("2", "another holdout") is None
    assert stored.scored("3", rows.sha256) is None


def test_promote_with_matching_evidence_loads_no_model(gated_v2, loads: list[str]) -> None:
    moved = _run("promote", MODEL, "2", "Production", "--reason", "gated")
    assert moved.exit_code == 0, moved.output
    assert loads == []
    card = (gated_v2 / "model_cards" / f"{MODEL}.md").read_text()
    assert "version: '2'" in card and "## Comparison with v1 (previous champion)" in card


def test_promote_after_the_data_changed_loads_the_models(gated_v2, loads: list[str]) -> None:
    data = gated_v2 / "data" / "obesity.csv"
    lines = data.read_text().splitlines(keepends=True)
    data.write_text("".join(lines[:-40]))  # another holdout: the stored evidence is not about it

    moved = _run("promote", MODEL, "2", "Production", "--reason", "gated")

    assert moved.exit_code == 0, moved.output
    assert sorted(loads) == ["1", "2"]
