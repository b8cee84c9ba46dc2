"""gate.evaluate: every check passing and failing, the no-champion, not-comparable, disabled,
dry-run and fail-closed paths, on fixed synthetic predictions."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from types import MappingProxyType

import numpy as np
import pytest

from mlgate import noninferiority as ni
from mlgate import stats
from mlgate.config import GateConfig
from mlgate.gate import (
    BETTER,
    NO_DIFFERENCE,
    VERDICT_FAIL,
    VERDICT_NO_CHAMPION,
    VERDICT_PASS,
    WORSE,
    GateResult,
    ModelEvidence,
    evaluate,
    schema_changes,
)

CLASSES = ("Insufficient_Weight", "Normal_Weight", "Obesity_Type_I", "Overweight_Level_I")
PER_CLASS = 105
Y = np.repeat(CLASSES, PER_CLASS)  # 420 rows, balanced
SCHEMA = (("Age", "double"), ("Gender", "string"), ("Height", "double"))
SHA = "0123456789abcdef" * 4


def predictions(wrong: int | dict[str, int]) -> np.ndarray:
    """Y with the first `wrong` rows of each class (or per class) labelled as the next class.

    Errors always hit the first rows of a class, so a model with more errors is wrong on a
    superset of the rows of a model with fewer: discordant pairs are all one-sided.
    """
    counts = wrong if isinstance(wrong, dict) else dict.fromkeys(CLASSES, wrong)
    pred = Y.copy()
    for i, label in enumerate(CLASSES):
        start = i * PER_CLASS
        pred[start : start + counts.get(label, 0)] = CLASSES[(i + 1) % len(CLASSES)]
    return pred


def model(version: str, wrong: int | dict[str, int] = 10, **changes: object) -> ModelEvidence:
    evidence = ModelEvidence(
        version=version,
        run_id=f"run{version}",
        predictions=predictions(wrong),
        input_schema=SCHEMA,
        size_bytes=1_000_000,
        latency_s=0.05,
        logged_metrics=MappingProxyType({"accuracy": 0.9, "f1_macro": 0.9}),
    )
    return dataclasses.replace(evidence, **changes)


def gate(challenger: ModelEvidence, champion: ModelEvidence | None, **cfg: object) -> GateResult:
    return evaluate(Y, CLASSES, challenger, champion, GateConfig(**cfg), SHA)


def check(result: GateResult, name: str):
    (found,) = [c for c in result.checks if c.name == name]
    return found


# --- each check, passing and failing -------------------------------------------------------

Scenario = Callable[[], GateResult]

SCENARIOS: list[tuple[str, Scenario, str, bool]] = [
    # (id, scenario, check name, check passes)
    ("threshold-met", lambda: gate(model("2", 5), model("1")), "threshold.accuracy", True),
    (
        "threshold-missed",
        lambda: gate(model("2", 5), model("1"), thresholds={"accuracy": 0.99}),
        "threshold.accuracy",
        False,
    ),
    (
        "threshold-on-per-class-f1",
        lambda: gate(model("2", 5), model("1"), thresholds={"f1_Normal_Weight": 0.9}),
        "threshold.f1_Normal_Weight",
        True,
    ),
    (
        "threshold-on-unknown-metric",
        lambda: gate(model("2", 5), model("1"), thresholds={"auc": 0.8}),
        "threshold.auc",
        False,
    ),
    (
        "non-inferior",
        lambda: gate(model("2", 10), model("1", 10)),
        "non_inferiority.f1_macro",
        True,
    ),
    ("inferior", lambda: gate(model("2", 30), model("1", 5)), "non_inferiority.f1_macro", False),
    (
        "unknown-primary-metric",
        lambda: gate(model("2"), model("1"), primary_metric="auc"),
        "non_inferiority.auc",
        False,
    ),
    ("no-class-dropped", lambda: gate(model("2", 5), model("1", 10)), "per_class_f1", True),
    (
        "one-class-collapsed",
        lambda: gate(model("2", {"Normal_Weight": 60}), model("1", 5), margin=0.5),
        "per_class_f1",
        False,
    ),
    ("mcnemar-better", lambda: gate(model("2", 0), model("1", 10)), "mcnemar", True),
    (
        "mcnemar-worse-within-margin",
        lambda: gate(model("2", 10), model("1", 5), margin=0.2, max_class_drop=0.5),
        "mcnemar",
        True,
    ),
    ("mcnemar-worse-and-inferior", lambda: gate(model("2", 30), model("1", 5)), "mcnemar", False),
    ("schema-unchanged", lambda: gate(model("2"), model("1")), "signature", True),
    (
        "column-removed",
        lambda: gate(model("2", input_schema=SCHEMA[:2]), model("1")),
        "signature",
        False,
    ),
    (
        "column-retyped",
        lambda: gate(model("2", input_schema=(*SCHEMA[:2], ("Height", "long"))), model("1")),
        "signature",
        False,
    ),
    (
        "column-added",
        lambda: gate(model("2", input_schema=(*SCHEMA, ("FAF", "double"))), model("1")),
        "signature",
        False,
    ),
    (
        "column-added-allowed",
        lambda: gate(
            model("2", input_schema=(*SCHEMA, ("FAF", "double"))),
            model("1"),
            allow_schema_change=True,
        ),
        "signature",
        True,
    ),
    (
        "schema-not-recorded",
        lambda: gate(model("2", input_schema=None), model("1")),
        "signature",
        True,
    ),
    (
        "size-within-budget",
        lambda: gate(model("2", size_bytes=2_900_000), model("1")),
        "budget.size",
        True,
    ),
    (
        "size-over-budget",
        lambda: gate(model("2", size_bytes=3_100_000), model("1")),
        "budget.size",
        False,
    ),
    ("size-unknown", lambda: gate(model("2", size_bytes=None), model("1")), "budget.size", True),
    (
        "latency-within-budget",
        lambda: gate(model("2", latency_s=0.1), model("1")),
        "budget.latency",
        True,
    ),
    (
        "latency-over-budget",
        lambda: gate(model("2", latency_s=0.2), model("1")),
        "budget.latency",
        False,
    ),
    (
        "latency-unknown",
        lambda: gate(model("2"), model("1", latency_s=None)),
        "budget.latency",
        True,
    ),
]


@pytest.mark.parametrize(
    ("scenario", "name", "passes"),
    [pytest.param(s, n, p, id=i) for i, s, n, p in SCENARIOS],
)
def test_check_outcome(scenario: Scenario, name: str, passes: bool) -> None:
    result = scenario()
    assert check(result, name).passed is passes, check(result, name).message
    # The verdict and the exit code follow the checks (mode enabled).
    all_passed = all(c.passed for c in result.checks)
    assert result.verdict == (VERDICT_PASS if all_passed else VERDICT_FAIL)
    assert result.passed is all_passed


def test_a_better_challenger_passes_every_check_with_its_evidence() -> None:
    result = gate(model("2", 5), model("1", 10))
    assert result.verdict == VERDICT_PASS and result.passed and result.comparable
    assert [c.name for c in result.checks] == [
        "threshold.accuracy",
        "non_inferiority.f1_macro",
        "per_class_f1",
        "mcnemar",
        "signature",
        "budget.size",
        "budget.latency",
    ]
    assert [row.metric for row in result.metrics] == list(stats.METRICS)
    assert all(
        row.ci_lo is not None and row.ci_lo <= row.delta <= row.ci_hi for row in result.metrics
    )
    assert [row.label for row in result.per_class] == list(CLASSES)
    assert {row.support for row in result.per_class} == {PER_CLASS}
    assert (result.mcnemar.b, result.mcnemar.c) == (0, 20)
    assert (result.challenger.version, result.champion.version) == ("2", "1")
    assert (result.holdout.sha256, result.holdout.n_rows) == (SHA, 420)


def test_the_primary_interval_is_the_honest_interval_of_the_bootstrap() -> None:
    challenger, champion = model("2", 5), model("1", 10)
    result = gate(challenger, champion, seed=3, n_bootstrap=500)
    point, lo, hi = stats.paired_bootstrap_ci(
        Y, champion.predictions, challenger.predictions, "f1_macro", 500, 0.95, 3, CLASSES
    )
    deltas = stats.paired_bootstrap_deltas(
        Y, champion.predictions, challenger.predictions, CLASSES, ("f1_macro",), 500, 3
    )["f1_macro"]
    test = stats.mcnemar(Y, champion.predictions, challenger.predictions)
    # gate.evidence: cv (the default): the holdout stage tests at half the one-sided level.
    honest = ni.honest_interval(
        point, deltas, discordant=test.b + test.c, n=Y.size, margin=0.03, confidence=0.975
    )
    row = next(r for r in result.metrics if r.metric == "f1_macro")
    assert (row.ci_lo, row.ci_hi) == pytest.approx((honest.lo, honest.hi))
    assert row.ci_lo <= lo and row.ci_hi >= hi  # never narrower than the percentile interval
    assert check(result, "non_inferiority.f1_macro").candidate == pytest.approx(honest.lo)
    assert result.decision.holdout == honest


def test_metric_rows_are_marked_by_the_checks_about_them() -> None:
    result = gate(model("2", 30), model("1", 5), thresholds={"accuracy": 0.5})
    marks = {row.metric: row.passed for row in result.metrics}
    assert marks == {
        "accuracy": True,
        "f1_macro": False,
        "precision_macro": None,
        "recall_macro": None,
    }


def test_unknown_threshold_metric_names_the_metrics_that_exist() -> None:
    message = check(gate(model("2"), model("1"), thresholds={"auc": 0.8}), "threshold.auc").message
    assert "no metric named 'auc'" in message
    assert "accuracy, f1_macro, precision_macro, recall_macro, f1_Insufficient_Weight" in message


def test_collapsed_class_is_named_in_the_message() -> None:
    result = gate(model("2", {"Normal_Weight": 60}), model("1", 5), margin=0.5)
    assert "Normal_Weight" in check(result, "per_class_f1").message
    assert check(result, "per_class_f1").candidate > 0.1


@pytest.mark.parametrize(
    ("challenger_wrong", "champion_wrong", "label"),
    [
        pytest.param(0, 10, BETTER, id="better"),
        pytest.param(10, 0, WORSE, id="worse"),
        pytest.param(10, 10, NO_DIFFERENCE, id="same"),
        pytest.param(6, 5, NO_DIFFERENCE, id="small-difference"),
    ],
)
def test_mcnemar_label(challenger_wrong: int, champion_wrong: int, label: str) -> None:
    result = gate(model("2", challenger_wrong), model("1", champion_wrong))
    assert result.mcnemar.label == label


def test_schema_changes_lists_removed_retyped_and_added_columns() -> None:
    old = (("a", "long"), ("b", "string"), ("c", "double"))
    new = (("c", "double"), ("b", "long"), ("d", "string"))  # order is irrelevant
    assert schema_changes(old, new) == (
        "removed 'a' (long)",
        "'b' changed type string -> long",
        "added 'd' (string)",
    )


# --- no champion -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("threshold", "verdict"),
    [
        pytest.param(0.85, VERDICT_NO_CHAMPION, id="threshold-met"),
        pytest.param(0.99, VERDICT_FAIL, id="threshold-missed"),
    ],
)
def test_without_a_champion_only_thresholds_apply(threshold: float, verdict: str) -> None:
    result = gate(model("1", 10), None, thresholds={"accuracy": threshold})
    assert result.verdict == verdict
    assert [c.name for c in result.checks] == ["threshold.accuracy"]
    assert result.champion is None and result.mcnemar is None and not result.comparable
    assert all(row.champion is None and row.ci_lo is None for row in result.metrics)
    assert "no champion" in result.note


# --- champion cannot score the holdout ------------------------------------------------------


def _schema_change(allow: bool) -> GateResult:
    champion = model("1", predictions=None, error="missing column 'FAF'")
    challenger = model("2", 5, input_schema=(*SCHEMA, ("FAF", "double")))
    return gate(challenger, champion, allow_schema_change=allow)


@pytest.mark.parametrize(
    ("allow", "verdict"),
    [
        pytest.param(False, VERDICT_FAIL, id="schema-change-refused"),
        pytest.param(True, VERDICT_PASS, id="schema-change-allowed"),
    ],
)
def test_schema_change_is_not_comparable_and_needs_allow(allow: bool, verdict: str) -> None:
    result = _schema_change(allow)
    assert result.verdict == verdict
    assert not result.comparable and result.mcnemar is None
    assert result.note.startswith("schema change: champion v1 could not score this holdout")
    for name in ("non_inferiority.f1_macro", "per_class_f1", "mcnemar", "signature"):
        assert check(result, name).passed is allow, name
    assert "not comparable" in check(result, "per_class_f1").message
    # Logged metrics are shown for reference, without an interval.
    accuracy = next(row for row in result.metrics if row.metric == "accuracy")
    assert accuracy.champion == 0.9 and accuracy.ci_lo is None
    assert check(result, "threshold.accuracy").baseline == 0.9


@pytest.mark.parametrize("allow", [False, True], ids=["refused", "allow-schema-change"])
@pytest.mark.parametrize(
    "champion_schema",
    [pytest.param(SCHEMA, id="schema-unchanged"), pytest.param(None, id="schema-unknown")],
)
def test_a_champion_failing_without_a_schema_change_fails_closed(champion_schema, allow) -> None:
    # e.g. a corrupted artifact: allow_schema_change must not turn it into a pass.
    champion = model("1", predictions=None, input_schema=champion_schema, error="cannot load v1")
    result = gate(model("2"), champion, allow_schema_change=allow)
    assert result.verdict == VERDICT_FAIL and not result.passed
    assert result.note.startswith("champion cannot score: champion v1")
    for name in ("non_inferiority.f1_macro", "per_class_f1", "mcnemar"):
        assert not check(result, name).passed, name
        assert "no recorded schema change explains it" in check(result, name).message
    assert check(result, "signature").passed is (champion_schema is not None)


def test_champion_failing_with_an_unchanged_schema_is_not_called_a_schema_change() -> None:
    result = gate(model("2"), model("1", predictions=None, error="cannot load model"))
    assert result.verdict == VERDICT_FAIL
    assert result.note.startswith("champion cannot score: champion v1")
    assert check(result, "signature").passed


# --- fail closed, disabled, dry run --------------------------------------------------------


@pytest.mark.parametrize(
    "challenger",
    [
        pytest.param(model("2", error="model failed to load"), id="load-error"),
        pytest.param(model("2", predictions=None), id="no-predictions"),
        pytest.param(model("2", predictions=np.array(CLASSES)), id="wrong-row-count"),
    ],
)
def test_a_challenger_that_cannot_score_fails_closed(challenger: ModelEvidence) -> None:
    result = gate(challenger, model("1"))
    assert result.verdict == VERDICT_FAIL and not result.passed
    assert [c.name for c in result.checks] == ["challenger.scored"]
    assert "fails closed" in result.checks[0].message


@pytest.mark.parametrize(
    ("y_true", "classes"),
    [
        pytest.param(Y, ("Normal_Weight",), id="labels-outside-classes"),
        pytest.param(np.array([]), CLASSES, id="empty-holdout"),
    ],
)
@pytest.mark.parametrize("mode", ["enabled", "dry_run"])
def test_an_error_inside_the_gate_is_never_a_pass(y_true, classes, mode: str) -> None:
    result = evaluate(y_true, classes, model("2"), model("1"), GateConfig(mode=mode), SHA)
    assert result.verdict == VERDICT_FAIL
    assert [c.name for c in result.checks] == ["gate.error"]
    # dry_run never blocks, but it does not claim a pass either.
    assert result.passed is (mode == "dry_run")


def test_disabled_gate_passes_with_one_check_saying_so() -> None:
    result = gate(model("2", 100), model("1", 0), mode="disabled")
    assert result.verdict == VERDICT_PASS and result.passed
    assert [(c.name, c.passed) for c in result.checks] == [("gate.disabled", True)]
    assert "disabled" in result.checks[0].message


@pytest.mark.parametrize(
    ("challenger_wrong", "verdict"),
    [
        pytest.param(30, VERDICT_FAIL, id="would-fail"),
        pytest.param(5, VERDICT_PASS, id="would-pass"),
    ],
)
def test_dry_run_tells_the_verdict_but_never_blocks(challenger_wrong: int, verdict: str) -> None:
    result = gate(model("2", challenger_wrong), model("1", 5), mode="dry_run")
    assert result.verdict == verdict
    assert result.passed and result.dry_run
    assert len(result.checks) == 7


def test_the_rules_module_is_the_gate_public_api() -> None:
    # The rules live in checks.py; gate.py keeps re-exporting the names callers import.
    from mlgate import checks, gate

    for name in ("Check", "McNemarSummary", "schema_changes", "BETTER", "WORSE", "NO_DIFFERENCE"):
        assert getattr(gate, name) is getattr(checks, name)
        assert name in gate.__all__
