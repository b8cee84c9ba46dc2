"""report.py: snapshot tests of the PR comment, and the JSON verdict's schema.

Regenerate the snapshots after an intended change with:

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/unit/test_report.py

and review the diff of tests/unit/snapshots/ like any other change.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest

from mlgate.config import GateConfig
from mlgate.gate import GateResult, ModelEvidence, MoreEvidence, evaluate
from mlgate.report import MARKER, render_markdown, render_step_summary, render_text
from mlgate.verdict import SCHEMA_VERSION, to_json

SNAPSHOTS = Path(__file__).parent / "snapshots"
SCHEMA_DOC = Path(__file__).resolve().parents[2] / "docs" / "gate-json-schema.md"

CLASSES = ("Insufficient_Weight", "Normal_Weight", "Obesity_Type_I", "Overweight_Level_I")
Y = np.repeat(CLASSES, 105)
SCHEMA = (("Age", "double"), ("Gender", "string"), ("Height", "double"))
SHA = "9f2c" * 16
LINKS = {
    "MLflow run": "https://mlflow.example/runs/run2",
    "Model version 2": "https://mlflow.example/v/2",
}


def _predictions(wrong: dict[str, int]) -> np.ndarray:
    """Y with the first `wrong[class]` rows of each class labelled as the next class."""
    pred = Y.copy()
    for i, label in enumerate(CLASSES):
        pred[i * 105 : i * 105 + wrong.get(label, 0)] = CLASSES[(i + 1) % len(CLASSES)]
    return pred


def _model(version: str, wrong: dict[str, int], **changes: object) -> ModelEvidence:
    evidence = ModelEvidence(
        version=version,
        run_id=f"run{version}",
        predictions=_predictions(wrong),
        input_schema=SCHEMA,
        size_bytes=2_400_000,
        latency_s=0.04,
        logged_metrics=MappingProxyType({"accuracy": 0.91, "f1_macro": 0.905}),
    )
    return dataclasses.replace(evidence, **changes)


# Wrong rows per class.
CHAMPION = dict(zip(CLASSES, (8, 12, 6, 10), strict=True))
BETTER = dict(zip(CLASSES, (5, 9, 6, 7), strict=True))
WORSE = dict(zip(CLASSES, (9, 30, 8, 12), strict=True))


def _result(name: str) -> GateResult:
    cfg = GateConfig()
    champion = _model("1", CHAMPION)
    challenger = _model("2", BETTER)
    if name == "pass":
        pass
    elif name == "fail":
        challenger = _model("2", WORSE, size_bytes=9_000_000, input_schema=SCHEMA[:2])
        cfg = GateConfig(thresholds={"accuracy": 0.85, "auc": 0.8})
    elif name == "dry_run":
        challenger = _model("2", WORSE)
        cfg = GateConfig(mode="dry_run")
    elif name == "no_champion":
        champion = None
    elif name == "not_comparable":
        champion = _model("1", CHAMPION, predictions=None, error="missing column 'FAF'")
        challenger = _model("2", BETTER, input_schema=(*SCHEMA, ("FAF", "double")))
        cfg = GateConfig(allow_schema_change=True)
    elif name == "challenger_error":
        challenger = _model("2", BETTER, predictions=None, error="skops refused type 'x|y'")
    elif name == "disabled":
        cfg = GateConfig(mode="disabled")
    elif name == "inconclusive":
        # A reshuffled split: 20 rows of each class are clean, on which the two models agree.
        clean = np.r_[3, 20:39]
        rows = np.concatenate([clean + 105 * i for i in range(len(CLASSES))])
        why = "80 of 420 holdout rows are clean: 340 were in the champion's training rows"
        note = "cannot cross-validate: the champion recorded no configuration"
        more = MoreEvidence(n_holdout=420, why_fewer=why, cv_note=note)
        subset = [
            dataclasses.replace(m, predictions=m.predictions[rows]) for m in (challenger, champion)
        ]
        return evaluate(Y[rows], CLASSES, *subset, cfg, SHA, more)
    else:
        raise AssertionError(name)
    return evaluate(Y, CLASSES, challenger, champion, cfg, SHA)


SCENARIOS = ["pass", "fail", "dry_run", "no_champion", "not_comparable"]
SCENARIOS += ["challenger_error", "disabled", "inconclusive"]


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing: run with UPDATE_SNAPSHOTS=1 to create it"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} changed (UPDATE_SNAPSHOTS=1 to accept)"
    )


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_markdown_matches_snapshot(scenario: str) -> None:
    links = LINKS if scenario in ("pass", "fail") else None
    assert_snapshot(f"gate_report_{scenario}.md", render_markdown(_result(scenario), links))


def test_json_matches_snapshot() -> None:
    document = to_json(_result("pass"), LINKS)
    assert_snapshot(
        "gate_report_pass.json", json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    )


@pytest.mark.parametrize("scenario", ["fail", "no_champion", "disabled"])
def test_text_matches_snapshot(scenario: str) -> None:
    assert_snapshot(f"gate_report_{scenario}.txt", render_text(_result(scenario)))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_text_shows_the_verdict_and_every_check(scenario: str) -> None:
    result = _result(scenario)
    text = render_text(result)
    assert text.startswith(f"mlgate gate: {result.verdict.split()[0].upper()}")
    for c in result.checks:
        state = "PASS" if c.passed else ("INCONCLUSIVE" if c.inconclusive else "FAIL")
        assert f"{state} {c.name}" in text


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_first_line_is_the_sticky_comment_marker(scenario: str) -> None:
    text = render_markdown(_result(scenario))
    assert text.splitlines()[0] == MARKER == "<!-- mlgate:gate-report -->"
    assert text.count("<details>") == text.count("</details>")


def test_step_summary_is_the_report_without_the_marker() -> None:
    result = _result("pass")
    assert MARKER not in render_step_summary(result)
    assert render_markdown(result) == f"{MARKER}\n{render_step_summary(result)}"


@pytest.mark.parametrize(
    ("scenario", "headline"),
    [
        pytest.param("pass", "## ✅ mlgate: challenger v2 passed the gate", id="pass"),
        pytest.param("fail", "## ❌ mlgate: challenger v2 failed the gate", id="fail"),
        pytest.param(
            "dry_run", "## ❌ mlgate (dry run): challenger v2 would fail the gate", id="dry-run"
        ),
        pytest.param(
            "no_champion",
            "## ✅ mlgate: challenger v2 passed the gate (no champion)",
            id="no-champion",
        ),
        pytest.param(
            "disabled", "## ✅ mlgate: gate disabled, challenger v2 was not checked", id="disabled"
        ),
    ],
)
def test_headline_states_the_verdict(scenario: str, headline: str) -> None:
    assert render_markdown(_result(scenario)).splitlines()[1] == headline


def test_interval_column_is_labelled_with_the_configured_confidence() -> None:
    champion, challenger = _model("1", CHAMPION), _model("2", BETTER)
    result = evaluate(Y, CLASSES, challenger, champion, GateConfig(confidence=0.9), SHA)
    header = (
        "| Metric | Champion v1 | Challenger v2 | Δ | 90% CI of Δ (one-sided 5% each side) "
        "| Rule it feeds |"
    )
    assert header in render_markdown(result)


def test_chart_draws_the_champion_as_bars_and_the_challenger_as_a_line() -> None:
    # xychart-beta stacks bar series (mermaid-js/mermaid#7392): two bar series would overlap.
    text = render_markdown(_result("pass"))
    chart, caption = re.search(r"```mermaid\n(.*?)```\n\n(.*?)\n", text, re.S).groups()
    assert chart.startswith("xychart-beta\n")
    assert f"x-axis [{', '.join(f'{c!r}'.replace(chr(39), chr(34)) for c in CLASSES)}]" in chart
    assert 'y-axis "F1" 0 --> 1' in chart
    assert re.findall(r'^    (bar|line) "(.*?)"', chart, re.M) == [
        ("bar", "champion v1"),
        ("line", "challenger v2"),
    ]
    assert caption == "bars: champion v1 · line: challenger v2"


def test_chart_without_a_champion_draws_the_challenger_alone() -> None:
    text = render_markdown(_result("no_champion"))
    chart, caption = re.search(r"```mermaid\n(.*?)```\n\n(.*?)\n", text, re.S).groups()
    assert re.findall(r'^    (bar|line) "(.*?)"', chart, re.M) == [("line", "challenger v2")]
    assert caption == "line: challenger v2"


def test_links_are_markdown_links() -> None:
    text = render_markdown(_result("pass"), LINKS)
    run, version = LINKS.values()
    assert f"[MLflow run]({run}) · [Model version 2]({version})" in text


def test_table_cells_escape_pipes() -> None:
    text = render_markdown(_result("challenger_error"))
    assert "skops refused type 'x\\|y'" in text


def test_json_is_strict_json_with_the_documented_keys() -> None:
    document = to_json(_result("pass"))
    json.dumps(document, allow_nan=False)
    assert document["schema_version"] == SCHEMA_VERSION == 1
    assert list(document) == [
        "schema_version",
        "verdict",
        "passed",
        "mode",
        "task",
        "comparable",
        "note",
        "challenger",
        "champion",
        "holdout",
        "decision",
        "policy",
        "metrics",
        "per_class",
        "per_slice",
        "checks",
        "mcnemar",
        "links",
    ]
    assert set(document["checks"][0]) == {
        "name",
        "candidate",
        "baseline",
        "threshold",
        "direction",
        "passed",
        "inconclusive",
        "message",
    }
    assert set(document["metrics"][0]) == {
        "metric",
        "champion",
        "challenger",
        "delta",
        "ci_lo",
        "ci_hi",
        "passed",
    }
    per_class = {"class", "champion_f1", "challenger_f1", "delta", "support"}
    assert set(document["per_class"][0]) == per_class
    assert set(document["mcnemar"]) == {"b", "c", "p_value", "alpha", "label"}


def test_json_without_a_champion_has_nulls_not_missing_keys() -> None:
    document = to_json(_result("no_champion"))
    assert document["champion"] is None and document["mcnemar"] is None
    assert document["verdict"] == "pass (no champion)"
    assert all(row["champion"] is None and row["ci_lo"] is None for row in document["metrics"])


def test_every_json_key_is_documented() -> None:
    doc = SCHEMA_DOC.read_text(encoding="utf-8")
    document = to_json(_result("pass"), LINKS)
    keys = set(document) | set(document["policy"]) | set(document["checks"][0])
    keys |= set(document["metrics"][0]) | set(document["per_class"][0]) | set(document["mcnemar"])
    undocumented = sorted(k for k in keys if f"`{k}`" not in doc)
    assert not undocumented, f"document these keys in {SCHEMA_DOC.name}: {undocumented}"


def test_power_too_noisy_for_any_pass_is_said_plainly() -> None:
    """A spread wider than the margin makes δ95 negative: never "blocks a drop of -0.0010"."""
    rows = np.r_[0:8, 105:113, 210:218, 315:323]  # 32 rows; the challenger misses half
    champion = _model("1", {}, predictions=Y[rows])
    wrong = Y[rows].copy()
    wrong[::2] = CLASSES[0]
    challenger = _model("2", {}, predictions=wrong)
    result = evaluate(Y[rows], CLASSES, challenger, champion, GateConfig(margin=0.01), SHA)
    text = render_text(result)
    assert "blocks a true drop of -" not in text
    assert "this gate blocks even a challenger as good as the champion with 95 % probability" in (
        text
    )
