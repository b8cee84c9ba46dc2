"""The gate on a regression: errors against a relative margin, slice by slice, and reported."""

from __future__ import annotations

import numpy as np
import pytest

from mlgate import report
from mlgate.config import parse_params
from mlgate.gate import ModelEvidence, Slices, evaluate

PARAMS = parse_params(
    """
data:
  task: regression
  target: y
  slice_by: group
  schema:
    x: numeric
    group: {type: categorical, values: [a, b]}
    y: numeric
"""
)


@pytest.fixture(scope="module")
def holdout():
    rng = np.random.default_rng(11)
    y = rng.normal(50, 10, 200)
    group = np.array(["a", "b"] * 100)
    champion = y + rng.normal(0, 4, 200)
    return y, group, champion


def _evidence(version: str, predictions) -> ModelEvidence:
    return ModelEvidence(version=version, predictions=np.asarray(predictions), size_bytes=100)


def _gate(y, group, champion, challenger):
    slices = Slices("regression", "group", group, ("a", "b"))
    return evaluate(
        y,
        None,
        _evidence("2", challenger),
        _evidence("1", champion),
        PARAMS.gate,
        "h" * 64,
        slices=slices,
    )


def test_regression_defaults_follow_the_task():
    cfg = PARAMS.gate
    assert (cfg.primary_metric, cfg.margin, cfg.margin_kind) == ("rmse", 0.10, "relative")
    assert dict(cfg.thresholds) == {}


def test_an_equal_challenger_passes(holdout):
    y, group, champion = holdout
    result = _gate(y, group, champion, champion + np.random.default_rng(3).normal(0, 0.3, y.size))
    assert result.verdict == "pass"
    assert [c.name for c in result.checks] == [
        "non_inferiority.rmse",
        "per_slice.group",
        "signature",
        "budget.size",
        "budget.latency",
    ]
    assert [m.metric for m in result.metrics] == ["rmse", "mae", "r2"]
    assert [(r.value, r.rows) for r in result.per_slice] == [("a", 100), ("b", 100)]
    assert result.per_class == () and result.mcnemar is None


def test_a_worse_challenger_fails_overall_and_in_its_slice(holdout):
    y, group, champion = holdout
    worse = champion.copy()
    worse[group == "b"] = y[group == "b"] + 3 * (champion - y)[group == "b"]  # slice b: 3x errors
    result = _gate(y, group, champion, worse)
    assert result.verdict == "fail"
    failed = {c.name: c.message for c in result.failed_checks}
    assert set(failed) == {"non_inferiority.rmse", "per_slice.group"}
    assert "(0.1 x the champion's" in failed["non_inferiority.rmse"]
    assert failed["per_slice.group"].startswith("rmse got worse by more than 0.1 x the champion's")
    markdown = report.render_markdown(result)
    assert "<summary>Per group</summary>" in markdown
    assert "| group | Champion v1 rmse | Challenger v2 rmse | Δ | Rows |" in markdown
    assert "margin 0.1 of the champion's error" in report.render_text(result)


def test_no_champion_applies_thresholds_only(holdout):
    y, _, champion = holdout
    params = parse_params(
        "data: {task: regression, target: y, schema: {x: numeric, y: numeric}}\n"
        "gate: {thresholds: {rmse: 3.0, r2: 0.5}}\n"
    )
    result = evaluate(
        y, None, _evidence("1", champion), None, params.gate, "h" * 64, slices=Slices("regression")
    )
    assert result.verdict == "fail"
    assert [(c.name, c.passed) for c in result.checks] == [
        ("threshold.rmse", False),
        ("threshold.r2", True),
    ]


def test_a_challenger_the_holdout_cannot_judge_is_inconclusive(holdout):
    """Different errors on every row, the same RMSE on average: 40 rows cannot tell "no loss"
    from "10 % worse", so the verdict is inconclusive and `gate.on_inconclusive` decides."""
    import dataclasses

    from mlgate.verdict import to_json

    y, group, champion = holdout
    rng = np.random.default_rng(5)
    y, group, champion = y[:40], group[:40], champion[:40]
    other = y + rng.permutation(champion - y)  # the same errors, on other rows
    result = _gate(y, group, champion, other)
    assert result.verdict == "inconclusive" and not result.passed
    check = next(c for c in result.checks if c.name == "non_inferiority.rmse")
    assert check.inconclusive and "cannot tell" in check.message
    assert result.decision.margin == pytest.approx(0.10 * result.metrics[0].champion)
    assert "what would settle it" in report.render_text(result)
    assert "a true rmse loss of" in report.render_text(result)

    lenient = dataclasses.replace(PARAMS.gate, on_inconclusive="warn")
    warned = evaluate(
        y,
        None,
        _evidence("2", other),
        _evidence("1", champion),
        lenient,
        "h" * 64,
        slices=Slices("regression", "group", group, ("a", "b")),
    )
    assert warned.verdict == "inconclusive" and warned.passed

    document = to_json(result)
    assert document["task"] == "regression" and document["per_class"] == []
    assert document["per_slice"]["column"] == "group"
    assert [row["value"] for row in document["per_slice"]["rows"]] == ["a", "b"]
    assert document["decision"]["verdict"] == "inconclusive"


def test_the_three_verdicts_follow_the_true_loss(holdout):
    """Scaling the champion's errors by a known factor: within the margin passes, well beyond
    it fails, and both are decided by the holdout."""
    y, group, champion = holdout
    errors = champion - y
    verdicts = {f: _gate(y, group, champion, y + f * errors).decision for f in (1.0, 0.95, 1.4)}
    assert {f: d.verdict for f, d in verdicts.items()} == {1.0: "pass", 0.95: "pass", 1.4: "fail"}
    assert all(d.decided_by == "holdout" for d in verdicts.values())
