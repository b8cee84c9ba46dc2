"""Three verdicts: what makes a gate inconclusive, what settles it, and what it lets through."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mlgate import noninferiority as ni
from mlgate.config import GateConfig
from mlgate.crossval import CrossValidation
from mlgate.gate import (
    VERDICT_FAIL,
    VERDICT_INCONCLUSIVE,
    VERDICT_PASS,
    GateResult,
    ModelEvidence,
    MoreEvidence,
    evaluate,
)
from mlgate.report import render_text

from .test_gate import CLASSES, PER_CLASS, SHA, Y, model


def shifted(start: int, count: int) -> np.ndarray:
    """Y with rows start..start+count of every class labelled as the next class."""
    pred = Y.copy()
    for i in range(len(CLASSES)):
        first = i * PER_CLASS + start
        pred[first : first + count] = CLASSES[(i + 1) % len(CLASSES)]
    return pred


# Equally accurate, wrong on different rows: 19 % of the rows disagree.
CHAMPION = dataclasses.replace(model("1"), predictions=shifted(0, 10))
EQUAL_BUT_DIFFERENT = dataclasses.replace(model("2"), predictions=shifted(10, 10))


def gate(
    challenger: ModelEvidence,
    champion: ModelEvidence,
    more: MoreEvidence | None = None,
    y: np.ndarray = Y,
    **cfg: object,
) -> GateResult:
    config = GateConfig(**{"max_class_drop": 0.5, **cfg})
    return evaluate(y, CLASSES, challenger, champion, config, SHA, more)


def cv_result(lo: float, hi: float, truth: np.ndarray | None = None) -> CrossValidation:
    point = (lo + hi) / 2
    interval = ni.Interval(point, lo, hi, (hi - lo) / 4, 0.95, 2000)
    return CrossValidation((0.9,) * 10, (0.9,) * 10, 5, 2, 2000, interval, 1.0, truth, truth, truth)


def check(result: GateResult, name: str):
    return next(c for c in result.checks if c.name == name)


def test_an_equal_challenger_that_disagrees_a_lot_is_inconclusive_not_failed() -> None:
    result = gate(EQUAL_BUT_DIFFERENT, CHAMPION)
    assert result.verdict == VERDICT_INCONCLUSIVE
    non_inferiority = check(result, "non_inferiority.f1_macro")
    assert non_inferiority.inconclusive and not non_inferiority.passed
    assert "cannot tell" in non_inferiority.message
    assert result.decision.holdout.lo < -0.03 < 0 < result.decision.holdout.hi
    assert check(result, "mcnemar").passed  # b == c: no detectable difference in accuracy


@pytest.mark.parametrize(("policy", "passed"), [("fail", False), ("warn", True), ("pass", True)])
def test_on_inconclusive_decides_whether_it_blocks(policy: str, passed: bool) -> None:
    result = gate(EQUAL_BUT_DIFFERENT, CHAMPION, on_inconclusive=policy)
    assert (result.verdict, result.passed) == (VERDICT_INCONCLUSIVE, passed)


def test_cross_validation_settles_an_inconclusive_holdout() -> None:
    passing = gate(EQUAL_BUT_DIFFERENT, CHAMPION, MoreEvidence(cv=cv_result(-0.01, 0.01)))
    assert (passing.verdict, passing.decision.decided_by) == (VERDICT_PASS, "cv")
    assert (
        "cross-validation of the two recipes" in check(passing, "non_inferiority.f1_macro").message
    )
    failing = gate(EQUAL_BUT_DIFFERENT, CHAMPION, MoreEvidence(cv=cv_result(-0.06, -0.04)))
    assert failing.verdict == VERDICT_FAIL
    # The report's power line names what the cross-validation's standard error was taken on.
    assert "(standard error 0.0050 on 2000 cross-validated rows; the whole procedure" in (
        render_text(passing)
    )


def test_a_worse_artifact_fails_whatever_its_configuration_does() -> None:
    worse = model("2", 40)
    result = gate(worse, model("1", 5), MoreEvidence(cv=cv_result(-0.005, 0.005)))
    assert result.verdict == VERDICT_FAIL
    assert result.decision.decided_by == "holdout"


def test_no_clean_row_is_inconclusive_and_says_why() -> None:
    empty = np.array([], dtype=Y.dtype)
    no_rows = dataclasses.replace(model("2"), predictions=np.array([], dtype=object))
    why = "0 of 420 holdout rows are clean: 420 were in the champion's training rows"
    more = MoreEvidence(n_holdout=420, why_fewer=why)
    result = gate(
        no_rows, dataclasses.replace(model("1"), predictions=no_rows.predictions), more, y=empty
    )
    assert result.verdict == VERDICT_INCONCLUSIVE
    assert (result.holdout.n_rows, result.holdout.n_clean) == (420, 0)
    assert result.holdout.why_fewer == why
    # Fewer rows than any holdout can pass an identical model on: straight to cross-validation.
    assert result.decision.min_rows == ni.min_holdout_rows(0.03, 0.975) == 168
    assert result.decision.settle().startswith("at least 168 clean holdout rows")


def test_a_per_class_drop_within_row_noise_is_inconclusive() -> None:
    """12 rows a class: 3 rows lost in one class drop its F1 by 0.14, which row noise explains."""
    y = np.repeat(CLASSES, 12)
    champion = dataclasses.replace(model("1"), predictions=y.copy())
    worse = y.copy()
    worse[:3] = CLASSES[1]
    challenger = dataclasses.replace(model("2"), predictions=worse)
    result = gate(challenger, champion, y=y, max_class_drop=0.10)
    per_class = check(result, "per_class_f1")
    assert per_class.inconclusive and "(12 rows, 3 vs 0 rows" in per_class.message
    assert result.verdict == VERDICT_INCONCLUSIVE
    # Cross-validation's out-of-fold predictions of every row then judge the class.
    more = MoreEvidence(cv=cv_result(-0.01, 0.01, truth=Y))
    settled = gate(challenger, champion, more, y=y, max_class_drop=0.10)
    assert check(settled, "per_class_f1").passed
    assert "cross-validation over every row does not" in check(settled, "per_class_f1").message


def test_four_discordant_rows_all_one_way_do_not_fail_a_class() -> None:
    """The same model on a reshuffled split: 4 rows of a 13-row class lost, none gained (exact
    sign test p = 0.0625, more after Holm across the classes) is row noise, not a shown drop."""
    y = np.repeat(CLASSES, 13)
    champion = dataclasses.replace(model("1"), predictions=y.copy())
    worse = y.copy()
    worse[13:17] = CLASSES[2]  # Normal_Weight rows predicted Overweight_Level_I
    challenger = dataclasses.replace(model("2"), predictions=worse)
    result = gate(challenger, champion, y=y, max_class_drop=0.10, margin=0.5)
    per_class = check(result, "per_class_f1")
    assert not per_class.passed and per_class.inconclusive
    assert "Normal_Weight" in per_class.message and "4 vs 0 rows" in per_class.message
    assert result.verdict == VERDICT_INCONCLUSIVE  # goes on to cross-validation, not a fail


def test_a_per_class_drop_shown_after_holm_fails() -> None:
    y = np.repeat(CLASSES, 40)
    champion = dataclasses.replace(model("1"), predictions=y.copy())
    worse = y.copy()
    worse[40:60] = CLASSES[2]  # 20 of 40 Normal_Weight rows lost: p = 2**-20
    challenger = dataclasses.replace(model("2"), predictions=worse)
    result = gate(challenger, champion, y=y, max_class_drop=0.10, margin=0.5)
    per_class = check(result, "per_class_f1")
    assert not per_class.passed and not per_class.inconclusive
    assert f"after Holm's correction across {len(CLASSES)} classes" in per_class.message
    assert result.verdict == VERDICT_FAIL


def test_what_would_settle_it_does_not_offer_a_setting_already_set() -> None:
    """A holdout that cannot tell, while another check fails, so cross-validation never ran:
    the report must not suggest `gate.evidence: cv` to a project that has set it."""
    slow = dataclasses.replace(EQUAL_BUT_DIFFERENT, latency_s=0.2, latency_runs=(0.2,) * 7)
    fast = dataclasses.replace(CHAMPION, latency_s=0.01, latency_runs=(0.01,) * 7)
    result = gate(slow, fast, evidence="cv")
    assert result.verdict == VERDICT_FAIL and not check(result, "budget.latency").passed
    assert result.decision.verdict == VERDICT_INCONCLUSIVE
    text = render_text(result)
    assert "more evidence from `gate.evidence: cv`" not in text
    assert "the cross-validation `gate.evidence: cv` runs once no other check fails" in text
    unset = render_text(gate(slow, fast, evidence="holdout"))
    assert "more evidence from `gate.evidence: cv`" in unset


def timed(version: str, runs: tuple[float, ...]) -> ModelEvidence:
    base = CHAMPION if version == "1" else dataclasses.replace(CHAMPION, version=version)
    return dataclasses.replace(base, latency_s=float(np.median(runs)), latency_runs=runs)


def test_a_latency_over_the_limit_by_less_than_its_noise_is_inconclusive() -> None:
    champion = timed("1", (0.010,) * 7)
    # Median ratio 3.5 over x3, but the pairs spread from 1.5 to 8: the noise covers the excess.
    noisy = timed("2", (0.015, 0.020, 0.030, 0.035, 0.050, 0.070, 0.080))
    latency = check(gate(noisy, champion), "budget.latency")
    assert not latency.passed and latency.inconclusive
    assert "by less than the timing noise" in latency.message
    steady = timed("2", (0.034, 0.035, 0.035, 0.035, 0.036, 0.035, 0.035))
    latency = check(gate(steady, champion), "budget.latency")
    assert not latency.passed and not latency.inconclusive


def test_a_latency_under_the_floor_is_not_judged() -> None:
    champion = timed("1", (0.0005,) * 7)
    quick = timed("2", (0.003,) * 7)  # x6, but 3 ms a batch: below the floor
    latency = check(gate(quick, champion), "budget.latency")
    assert latency.passed and "not judged" in latency.message
