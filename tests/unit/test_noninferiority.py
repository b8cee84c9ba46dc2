"""The honest interval, the three verdict zones and the operating characteristic."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from mlgate import noninferiority as ni
from mlgate.stats import paired_bootstrap_deltas

Z = 1.959963984540054


def _interval(lo: float, hi: float, n: int = 400) -> ni.Interval:
    return ni.Interval((lo + hi) / 2, lo, hi, (hi - lo) / (2 * Z), 0.95, n)


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        pytest.param(-0.02, 0.01, ni.PASS, id="within-margin"),
        pytest.param(-0.03, 0.00, ni.PASS, id="lower-bound-on-the-margin"),
        pytest.param(-0.05, -0.01, ni.FAIL, id="worse-and-not-within"),
        pytest.param(-0.05, 0.01, ni.INCONCLUSIVE, id="holds-both"),
        pytest.param(-0.031, 0.0, ni.INCONCLUSIVE, id="upper-bound-zero-is-not-worse"),
        pytest.param(-0.02, -0.01, ni.PASS, id="significant-loss-within-margin-passes"),
    ],
)
def test_verdict_zones(lo: float, hi: float, expected: str) -> None:
    assert ni.verdict(_interval(lo, hi), 0.03) == expected


def test_too_few_rows_is_inconclusive_whatever_the_interval() -> None:
    assert ni.verdict(_interval(-0.001, 0.001, n=ni.MIN_ROWS - 1), 0.03) == ni.INCONCLUSIVE
    with pytest.raises(ValueError, match="margin"):
        ni.verdict(_interval(0, 0), -0.01)


def test_no_discordant_row_is_no_pass_on_a_small_holdout() -> None:
    """With no discordant row every bootstrap resample gives 0: [0, 0] must not pass at 60."""
    zeros = np.zeros(2000)
    small = ni.honest_interval(0.0, zeros, discordant=0, n=60, margin=0.03)
    # A loss of 0.03 needs 1.8 discordant rows among 60: the floor assumes them (plus one).
    assert small.lo == pytest.approx(-Z * math.sqrt(2.8) / 62)
    assert ni.verdict(small, 0.03) == ni.INCONCLUSIVE
    large = ni.honest_interval(0.0, zeros, discordant=0, n=418, margin=0.03)
    assert ni.verdict(large, 0.03) == ni.PASS


def _pure_loss_pass_rate(n: int, margin: float, reps: int, *, floor: bool) -> float:
    """A challenger that only loses rows (c = 0), exactly `margin` worse in accuracy."""
    rng = np.random.default_rng(4)
    passes = 0
    for r in range(reps):
        y = np.zeros(n, int)
        old = y.copy()
        new = np.where(rng.random(n) < margin, 1, 0)
        deltas = paired_bootstrap_deltas(y, old, new, [0, 1], ("accuracy",), 200, r)["accuracy"]
        point = -float(new.mean())
        if floor:
            interval = ni.honest_interval(
                point, deltas, discordant=int(new.sum()), n=n, margin=margin
            )
            passes += ni.verdict(interval, margin) == ni.PASS
        else:
            passes += np.quantile(deltas, 0.025) >= -margin
    return passes / reps


def test_a_pure_loss_of_the_margin_passes_at_most_the_one_sided_level() -> None:
    """The percentile interval narrows when such a challenger happens to lose few rows; the
    score-type floor keeps its pass rate at the nominal 2.5 %."""
    reps = 400
    mc = 2 * math.sqrt(0.025 * 0.975 / reps)
    assert _pure_loss_pass_rate(420, 0.03, reps, floor=False) > 0.025 + mc
    assert _pure_loss_pass_rate(420, 0.03, reps, floor=True) <= 0.025


def test_honest_interval_is_never_narrower_than_the_percentile_interval() -> None:
    rng = np.random.default_rng(0)
    deltas = rng.normal(-0.01, 0.01, 4000) ** 3 * 300  # skewed
    point = float(np.median(deltas))
    interval = ni.honest_interval(point, deltas, discordant=40, n=400, margin=0.03)
    lo, hi = np.quantile(deltas, [0.025, 0.975])
    assert interval.lo <= lo and interval.hi >= hi
    assert interval.se >= deltas.std(ddof=1)


def test_pass_rate_at_a_drop_equal_to_the_margin_is_at_most_the_one_sided_level() -> None:
    """Paired 0/1 outcomes whose accuracy differs by exactly the margin: P(pass) <= 2.5 %."""
    rng = np.random.default_rng(1)
    n, margin, reps = 120, 0.05, 300
    passes = 0
    for r in range(reps):
        # Per row: both right 80 %, champion only 7.5 %, challenger only 2.5 %, both wrong 10 %.
        cell = rng.choice(4, n, p=[0.8, 0.075, 0.025, 0.1])
        y = np.zeros(n, int)
        old = np.where((cell == 0) | (cell == 1), 0, 1)
        new = np.where((cell == 0) | (cell == 2), 0, 1)
        deltas = paired_bootstrap_deltas(y, old, new, [0, 1], ("accuracy",), 500, r)["accuracy"]
        point = float((new == y).mean() - (old == y).mean())
        discordant = int(((old == y) != (new == y)).sum())
        interval = ni.honest_interval(point, deltas, discordant=discordant, n=n, margin=margin)
        passes += ni.verdict(interval, margin) == ni.PASS
    assert passes / reps <= 0.025 + 2 * math.sqrt(0.025 * 0.975 / reps)


def test_paired_mean_interval_matches_the_paired_t_test() -> None:
    rng = np.random.default_rng(2)
    old = rng.normal(0.0, 1.0, 50)
    new = old + rng.normal(-0.1, 0.3, 50)
    interval = ni.paired_mean_interval(old, new)
    result = sps.ttest_rel(new, old)
    lo, hi = result.confidence_interval(0.95)
    assert (interval.lo, interval.hi) == pytest.approx((lo, hi), rel=1e-10)
    same = ni.paired_mean_interval([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert math.isfinite(same.lo) and same.lo < 0 < same.hi
    with pytest.raises(ValueError, match="same length"):
        ni.paired_mean_interval([1.0], [1.0, 2.0])


def test_operating_characteristic_at_the_margin_and_at_no_drop() -> None:
    se, margin = 0.011, 0.03
    at_zero, at_margin = ni.operating_characteristic(se, margin, drops=(0.0, margin))
    assert at_margin.p_pass == pytest.approx(0.025)
    assert at_zero.p_fail == pytest.approx(0.025)  # m < 2·z·se: fail iff U < 0
    for row in (at_zero, at_margin):
        assert row.p_pass + row.p_inconclusive + row.p_fail == pytest.approx(1.0)
    passes = [r.p_pass for r in ni.operating_characteristic(se, margin)]
    assert passes == sorted(passes, reverse=True)


def test_operating_characteristic_matches_simulated_verdicts() -> None:
    rng = np.random.default_rng(3)
    se, margin, drop = 0.012, 0.03, 0.02
    points = rng.normal(-drop, se, 200_000)
    lo, hi = points - Z * se, points + Z * se
    passed = lo >= -margin
    failed = ~passed & (hi < 0)
    row = ni.operating_characteristic(se, margin, drops=(drop,))[0]
    assert passed.mean() == pytest.approx(row.p_pass, abs=0.004)
    assert failed.mean() == pytest.approx(row.p_fail, abs=0.004)


def test_detectable_drop_is_blocked_with_95_percent_probability() -> None:
    se, margin = 0.011, 0.03
    d95 = ni.detectable_drop(se, margin)
    assert d95 == pytest.approx(margin - Z * se + 1.6448536269514722 * se)
    row = ni.operating_characteristic(se, margin, drops=(d95,))[0]
    assert row.p_block(inconclusive_blocks=True) == pytest.approx(0.95)
    d95_fail = ni.detectable_drop(se, margin, inconclusive_blocks=False)
    row = ni.operating_characteristic(se, margin, drops=(d95_fail,))[0]
    assert row.p_block(inconclusive_blocks=False) == pytest.approx(0.95)
    assert ni.detectable_drop(math.inf, margin) == math.inf


def test_rows_to_settle_scales_with_the_square_of_the_width() -> None:
    interval = ni.Interval(-0.01, -0.01 - 0.04, -0.01 + 0.04, 0.04 / Z, 0.95, 400)
    # Pass needs a half-width of 0.02 (= point + margin): (0.04 / 0.02)² = 4x the rows.
    assert ni.rows_to_settle(interval, 0.03) == 1600
    decided = ni.Interval(0.0, -0.01, 0.01, 0.01 / Z, 0.95, 400)
    assert ni.rows_to_settle(decided, 0.03) is None


def test_the_holdout_decides_unless_it_is_inconclusive() -> None:
    worse = _interval(-0.06, -0.01)
    passing_cv = _interval(-0.01, 0.01, n=2000)
    decision = ni.decide(worse, 0.03, cv=passing_cv)
    assert (decision.verdict, decision.decided_by) == (ni.FAIL, "holdout")
    unsure = _interval(-0.05, 0.02)
    decision = ni.decide(unsure, 0.03, cv=passing_cv)
    assert (decision.verdict, decision.decided_by, decision.cv_verdict) == (ni.PASS, "cv", ni.PASS)
    assert decision.settle() is None
    failing_cv = _interval(-0.06, -0.02, n=2000)
    assert ni.decide(unsure, 0.03, cv=failing_cv).verdict == ni.FAIL


def test_an_undecided_verdict_says_what_would_settle_it() -> None:
    unsure = ni.Interval(-0.01, -0.01 - 0.04, -0.01 + 0.04, 0.04 / Z, 0.95, 400)
    decision = ni.decide(unsure, 0.03, cv_note="cannot cross-validate: no git history")
    assert (decision.verdict, decision.decided_by) == (ni.INCONCLUSIVE, "none")
    assert decision.settle() == (
        "about 1600 clean holdout rows (4.0x these 400) at the observed difference; "
        "or cross-validation, once possible (cannot cross-validate: no git history)"
    )
    few = ni.decide(_interval(-0.01, 0.01, n=12), 0.03)
    assert few.settle().startswith(f"at least {ni.MIN_ROWS} clean holdout rows (there are 12)")


def test_power_is_the_whole_procedure_s() -> None:
    holdout = _interval(-0.05, 0.02)
    d95, oc = ni.decide(holdout, 0.03).power(inconclusive_blocks=True)
    # Holdout alone: the one-stage formulas.
    assert d95 == pytest.approx(ni.detectable_drop(holdout.se, 0.03), abs=1e-6)
    single = ni.operating_characteristic(holdout.se, 0.03)
    assert [r.p_pass for r in oc] == pytest.approx([r.p_pass for r in single])
    assert [r.p_fail for r in oc] == pytest.approx([r.p_fail for r in single])
    # With a cross-validation stage an inconclusive holdout gets a second chance to pass.
    staged = ni.decide(holdout, 0.03, cv_stage=(0.008, 9)).power(inconclusive_blocks=True)[1]
    assert all(b.p_pass > a.p_pass for a, b in zip(oc, staged, strict=True))


def test_procedure_oc_matches_a_simulation_of_the_procedure() -> None:
    """Holdout (normal, z) then, when it cannot tell, cross-validation (t on 9 df): simulated."""
    from scipy.stats import norm, t

    rng = np.random.default_rng(0)
    margin, conf, h_se, cv_se, df = 0.03, 0.975, 0.015, 0.008, 9
    z, q = norm.ppf(0.5 + conf / 2), t.ppf(0.5 + conf / 2, df)
    draws = 200_000
    for drop in (0.0, 0.015, 0.03, 0.045):
        h = -drop + h_se * rng.standard_normal(draws)
        c = -drop + cv_se * rng.standard_t(df, draws)

        def zones(d: np.ndarray, half: float) -> tuple[np.ndarray, np.ndarray]:
            return d - half >= -margin, (d + half < 0) & (d - half < -margin)

        h_pass, h_fail = zones(h, z * h_se)
        c_pass, c_fail = zones(c, q * cv_se)
        undecided = ~h_pass & ~h_fail
        simulated = (h_pass | (undecided & c_pass)).mean(), (h_fail | (undecided & c_fail)).mean()
        row = ni.procedure_oc(h_se, margin, conf, (cv_se, df), (drop,))[0]
        assert (row.p_pass, row.p_fail) == pytest.approx(simulated, abs=0.004)


def test_a_loss_of_the_margin_passes_the_two_stage_procedure_at_most_the_level() -> None:
    """Each stage at half the one-sided level: 2.5 % for the whole procedure, at any spread."""
    conf = ni.stage_confidence(0.95, two_stage=True)
    assert conf == pytest.approx(0.975)
    for h_se, cv_se in ((0.005, 0.004), (0.015, 0.008), (0.03, 0.01)):
        row = ni.procedure_oc(h_se, 0.03, conf, (cv_se, 9), (0.03,))[0]
        assert row.p_pass <= 0.025
    # Both stages at the full level would not hold it.
    row = ni.procedure_oc(0.015, 0.03, 0.95, (0.008, 9), (0.03,))[0]
    assert row.p_pass > 0.025


def test_below_the_rows_a_holdout_can_vouch_with_only_a_shown_loss_decides() -> None:
    """Under z²/m clean rows no holdout can pass an identical model: it goes straight on to
    cross-validation, but a loss it does show still fails."""
    rows = ni.min_holdout_rows(0.03, 0.975)
    assert rows == 168
    equal = _interval(-0.02, 0.02, n=100)
    assert ni.verdict(equal, 0.03, min_rows=rows) == ni.INCONCLUSIVE
    assert ni.verdict(_interval(-0.02, 0.02, n=200), 0.03, min_rows=rows) == ni.PASS
    assert ni.verdict(_interval(-0.4, -0.2, n=85), 0.03, min_rows=rows) == ni.FAIL
