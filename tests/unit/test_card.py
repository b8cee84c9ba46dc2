"""card.py: the rendered model card against a snapshot, and the rules around it.

Regenerate the snapshot after an intended change with:

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/unit/test_card.py

and review the diff of tests/unit/snapshots/model_card.md like any other change.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import pytest
import yaml

from mlgate import data as data_mod
from mlgate.card import (
    CardFacts,
    ClassStats,
    Comparison,
    ComparisonRow,
    GateSummary,
    MetricInterval,
    SliceStats,
    description,
    render,
    save,
)
from mlgate.champion import Move
from mlgate.config import load_params

SNAPSHOT = Path(__file__).parent / "snapshots" / "model_card.md"
CLASSES = ("Insufficient_Weight", "Normal_Weight", "Obesity_Type_I")


def _move(at: str, old: str | None, new: str, kind: str, reason: str, commit: str) -> Move:
    return Move(
        at=at,
        alias="champion",
        from_version=old,
        to_version=new,
        kind=kind,
        actor="octocat",
        reason=reason,
        commit=commit,
        run_url=None,
    )


FACTS = CardFacts(
    name="obesity_classifier",
    version="3",
    run_id="0123456789abcdef0123456789abcdef",
    stage="Production",
    aliases=("champion",),
    model_type="random_forest",
    hyperparameters=(("max_depth", "20"), ("n_estimators", "100"), ("random_state", "42")),
    fingerprint="f" * 64,
    commit="c" * 40,
    git_ref="tune-forest",
    pr_number="12",
    training_date="2025-03-01T10:00:00Z",
    ci_run_url="https://github.com/acme/obesity/actions/runs/42",
    target="NObeyesdad",
    data_path="data/obesity.csv",
    data_sha256="d" * 64,
    training_data_sha256="d" * 64,
    dataset_rows=300,
    n_features=16,
    class_balance=(("Insufficient_Weight", 90), ("Normal_Weight", 110), ("Obesity_Type_I", 100)),
    holdout_rows=60,
    holdout_sha256="h" * 64,
    confidence=0.95,
    n_bootstrap=2000,
    metrics=(
        MetricInterval("accuracy", 0.9, 0.8333, 0.9667),
        MetricInterval("f1_macro", 0.8989, 0.8201, 0.9655),
    ),
    per_class=(
        ClassStats("Insufficient_Weight", 18, 0.9474, 1.0, 0.973),
        ClassStats("Normal_Weight", 22, 0.85, 0.7727, 0.8095),
        ClassStats("Obesity_Type_I", 20, 0.8636, 0.95, 0.9048),
    ),
    slices=(
        SliceStats("Gender", "Female", 31, 0.9032, 0.9011),
        SliceStats("Gender", "Male", 29, 0.8966, 0.8912),
    ),
    confusion_labels=CLASSES,
    confusion=((18, 0, 0), (1, 17, 4), (0, 1, 19)),
    comparison=Comparison(
        version="2",
        role="previous champion",
        comparable=True,
        rows=(
            ComparisonRow("accuracy", 0.8833, 0.9, 0.0167, -0.0167, 0.05),
            ComparisonRow("f1_macro", 0.8801, 0.8989, 0.0188, -0.0152, 0.0541),
        ),
    ),
    gate=GateSummary(
        verdict="pass",
        champion_version="2",
        holdout_sha256="h" * 64,
        checks=(
            ("threshold.accuracy", True, "accuracy 0.9000 >= 0.85"),
            ("non_inferiority.f1_macro", True, "lower bound -0.0152 >= -0.02"),
            ("per_class_f1", True, "largest drop 0.0100 (Normal_Weight) <= 0.10"),
        ),
    ),
    history=(
        _move("2025-02-01T09:00:00Z", None, "1", "release", "Initial model", "a" * 40),
        _move("2025-02-15T09:00:00Z", "1", "2", "release", "Merge pull request #9", "b" * 40),
        _move("2025-02-20T09:00:00Z", "2", "1", "rollback", "latency | regression", "e" * 40),
        _move("2025-03-01T11:00:00Z", "1", "3", "promote", "Merge pull request #12", "c" * 40),
    ),
    # the obesity example's words, from this repository's params.yaml
    text=load_params(Path(__file__).resolve().parents[2] / "params.yaml").card,
)


def assert_snapshot(text: str) -> None:
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert SNAPSHOT.exists(), f"{SNAPSHOT} is missing: run with UPDATE_SNAPSHOTS=1 to create it"
    assert text == SNAPSHOT.read_text(encoding="utf-8"), (
        "model_card.md changed (UPDATE_SNAPSHOTS=1 to accept)"
    )


def test_card_matches_snapshot() -> None:
    assert_snapshot(render(FACTS))


def test_rendering_is_deterministic_and_front_matter_is_yaml() -> None:
    text = render(FACTS)
    assert render(dataclasses.replace(FACTS)) == text
    front = yaml.safe_load(text.split("---\n", 2)[1])
    assert front["version"] == "3"  # a string: promote.yml names the card's commit after it
    assert front["model_name"] == "obesity_classifier"
    assert front["metrics"]["f1_macro"] == {"value": 0.8989, "ci95": [0.8201, 0.9655]}


def test_table_cells_escape_pipes_and_newlines() -> None:
    text = render(FACTS)
    assert "| latency \\| regression |" in text
    odd = dataclasses.replace(FACTS, history=(_move("t", None, "3", "promote", "a\nb", "c"),))
    assert "| a b |" in render(odd)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            {"comparison": None}, "None: this is the first champion.", id="first-champion"
        ),
        pytest.param({"gate": None}, "No gate verdict is recorded for this version.", id="no-gate"),
        pytest.param({"history": ()}, "No champion moves are recorded.", id="no-history"),
        pytest.param(
            {"training_data_sha256": "0" * 64}, "whose holdout may include rows", id="data-changed"
        ),
        pytest.param(
            {"aliases": (), "stage": "Staging"}, "v3 is in stage Staging.", id="not-champion"
        ),
    ],
)
def test_sections_say_what_is_missing(change: dict, expected: str) -> None:
    assert expected in render(dataclasses.replace(FACTS, **change))


def test_not_comparable_comparison_uses_logged_metrics() -> None:
    logged = Comparison(
        "2",
        "previous champion",
        False,
        (ComparisonRow("accuracy", 0.88, 0.9, None, None, None),),
        "cannot score the holdout: missing column 'FAVC'",
    )
    text = render(dataclasses.replace(FACTS, comparison=logged))
    assert (
        "Not comparable on this holdout: cannot score the holdout: missing column 'FAVC'." in text
    )
    assert "| accuracy | 0.8800 | 0.9000 |" in text
    assert "- **Schema change.** v2 cannot score this data" in text


def test_rollback_arrival_is_explained() -> None:
    back = _move("2025-03-02T08:00:00Z", "3", "1", "rollback", "revert #12", "f" * 40)
    facts = dataclasses.replace(FACTS, version="1", history=(*FACTS.history, back))
    text = render(facts)
    assert "It became champion on 2025-03-02T08:00:00Z (rollback: revert #12)." in text
    assert "Restored by a rollback, without a new gate" in text


def test_history_shows_the_latest_twenty_moves() -> None:
    moves = tuple(
        _move(f"2025-01-{i:02d}", str(i), str(i + 1), "release", f"r{i}", "c") for i in range(1, 26)
    )
    text = render(dataclasses.replace(FACTS, history=moves))
    assert "The 20 latest of 25 moves" in text
    assert "| r5 |" not in text and "| r6 |" in text and "| r25 |" in text


def test_description_fits_mlflow_limit_at_a_section_boundary() -> None:
    text = render(FACTS)
    assert description(text, FACTS.run_id, limit=len(text)) == text
    short = description(text, FACTS.run_id, limit=2500)
    assert len(short) <= 2500
    assert short.startswith("---\nmodel_name: obesity_classifier")
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    pointer = f"*Full model card ({digest}): artifact `model_card.md` of run `{FACTS.run_id}`.*\n"
    assert short.endswith(pointer)
    assert "## Promotion history" not in short


def test_a_change_past_the_cut_changes_the_description() -> None:
    # publish_card re-logs the full card only when the description differs: a new line in the
    # promotion history, past the cut, must still be written.
    older = _move("2024-12-01T08:00:00Z", None, "9", "release", "first", "e" * 40)
    before = render(FACTS)
    after = render(dataclasses.replace(FACTS, history=(older, *FACTS.history)))
    assert before[:2500] == after[:2500]
    cut_before = description(before, FACTS.run_id, limit=2500)
    cut_after = description(after, FACTS.run_id, limit=2500)
    assert "## Promotion history" not in cut_after
    assert cut_before != cut_after


def test_save_writes_only_changes(tmp_path: Path) -> None:
    path = tmp_path / "model_cards" / "m.md"
    assert save("card\n", path) is True
    mtime = path.stat().st_mtime_ns
    assert save("card\n", path) is False and path.stat().st_mtime_ns == mtime
    assert save("card v2\n", path) is True and path.read_text() == "card v2\n"


def test_data_section_cites_the_uci_file_only_when_it_is_that_file() -> None:
    # params.yaml's card: names the file its data_source describes
    UCI_SHA256 = FACTS.text.data_sha256
    assert data_mod.file_sha256(Path(__file__).parents[2] / "data" / "obesity.csv") == UCI_SHA256
    real = render(dataclasses.replace(FACTS, data_sha256=UCI_SHA256))
    source = next(ln for ln in real.splitlines() if ln.startswith("- **Source:**"))
    assert "as published (UCI id 544, doi 10.24432/C5H31Z;" in source
    assert "*Data in Brief* 25), licensed CC BY 4.0; see `data/README.md`." in source
    other = render(FACTS)
    source = next(ln for ln in other.splitlines() if ln.startswith("- **Source:**"))
    assert "a file with the schema of the UCI dataset" in source and "CC BY" not in source


def test_card_intervals_from_one_set_of_resamples_equal_the_per_metric_ones() -> None:
    import numpy as np

    from mlgate.card_facts import _NEVER, _intervals
    from mlgate.stats import METRICS, bootstrap_ci, paired_bootstrap_ci

    rng = np.random.default_rng(1)
    classes = list("abcdefg")
    y = np.array(rng.choice(classes, 400), dtype=object)
    pred, other = y.copy(), y.copy()
    pred[rng.random(400) < 0.2] = "a"
    other[rng.random(400) < 0.3] = "b"
    boot = dict(n_boot=500, confidence=0.95, seed=3, classes=classes)
    own = _intervals(y, np.full(400, _NEVER, dtype=object), pred, boot)
    paired = _intervals(y, other, pred, boot)
    for m in METRICS:
        assert own[m] == bootstrap_ci(y, pred, m, **boot)[1:]
        assert paired[m] == paired_bootstrap_ci(y, other, pred, m, 500, 0.95, 3, classes)[1:]
