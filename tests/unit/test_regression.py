import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

from mlgate import noninferiority as ni
from mlgate import regression


@pytest.fixture(scope="module")
def holdout():
    rng = np.random.default_rng(7)
    y = rng.normal(100, 20, 300)
    champion = y + rng.normal(0, 10, 300)
    challenger = y + rng.normal(0, 11, 300)
    return y, champion, challenger


def test_metrics_match_scikit_learn(holdout):
    y, champion, _ = holdout
    metrics = regression.regression_metrics(y, champion)
    assert metrics["rmse"] == pytest.approx(root_mean_squared_error(y, champion))
    assert metrics["mae"] == pytest.approx(mean_absolute_error(y, champion))
    assert metrics["r2"] == pytest.approx(r2_score(y, champion))


def test_bootstrap_matches_explicit_resampling(holdout):
    """The weight-matrix bootstrap equals scoring both models on each resample, row by row."""
    y, champion, challenger = (a[:60] for a in holdout)
    deltas = regression.paired_bootstrap_deltas(y, champion, challenger, n_boot=50, seed=3)
    rows = np.random.default_rng(3).integers(0, 60, size=(50, 60))
    for metric in regression.METRICS:
        expected = [
            regression.regression_metrics(y[r], challenger[r])[metric]
            - regression.regression_metrics(y[r], champion[r])[metric]
            for r in rows
        ]
        np.testing.assert_allclose(deltas[metric], expected, rtol=1e-9, atol=1e-12)


def test_paired_interval_contains_the_point_and_is_zero_for_twins(holdout):
    y, champion, challenger = holdout
    point, lo, hi = regression.paired_bootstrap_ci(y, champion, challenger, "rmse", n_boot=500)
    assert lo <= point <= hi
    assert point == pytest.approx(
        root_mean_squared_error(y, challenger) - root_mean_squared_error(y, champion)
    )
    assert regression.paired_bootstrap_ci(y, champion, champion, "mae", n_boot=200) == (0, 0, 0)


def test_single_model_interval(holdout):
    y, champion, _ = holdout
    for metric in regression.METRICS:
        point, lo, hi = regression.bootstrap_ci(y, champion, metric, n_boot=500)
        assert lo < point < hi
    assert regression.bootstrap_ci(y, champion, "r2", n_boot=500)[1] > 0.5


@pytest.mark.parametrize(
    ("metric", "interval", "margin", "kind", "verdict", "message"),
    [
        (
            "rmse",
            (-0.5, 0.4),
            0.05,
            "relative",
            "pass",
            "U +0.4 <= +0.5 (0.05 x the champion's 10)",
        ),
        ("rmse", (0.1, 0.6), 0.05, "relative", "fail", "U +0.6 > +0.5 (0.05 x the champion's 10) "),
        ("rmse", (-0.2, 0.6), 0.05, "relative", "inconclusive", "L -0.2 <= 0 <= +0.5 < U +0.6"),
        ("mae", (-0.5, 0.6), 1.0, "absolute", "pass", "U +0.6 <= +1 (the margin)"),
        ("r2", (-0.03, -0.025), 0.02, "relative", "fail", "L -0.03 < -0.02 (the margin) and U"),
        ("r2", (-0.03, 0.01), 0.02, "absolute", "inconclusive", "L -0.03 < -0.02 <= 0 <= U +0.01"),
        ("r2", (-0.01, 0.01), 0.02, "absolute", "pass", "L -0.01 >= -0.02 (the margin)"),
    ],
)
def test_non_inferiority_has_three_verdicts(metric, interval, margin, kind, verdict, message):
    """`interval`: challenger − champion in the metric's own direction; the decision is on the
    improvement (an error's change negated), as the gate makes it."""
    lo, hi = interval
    sign = -1.0 if regression.DIRECTIONS[metric] == "lower" else 1.0
    gain = ni.Interval(sign * (lo + hi) / 2, *sorted((sign * lo, sign * hi)), 0.1, 0.95, 200)
    allowed = regression.allowed_loss(metric, 10.0, margin, kind)
    decision = ni.decide(gain, allowed)
    check = regression.non_inferiority_check(decision, metric, 10.0, margin, kind)
    assert check.name == f"non_inferiority.{metric}"
    assert decision.verdict == verdict
    assert check.passed is (verdict == "pass")
    assert check.inconclusive is (verdict == "inconclusive")
    assert message in check.message


def test_the_decision_interval_is_never_narrower_than_the_bootstrap(holdout):
    y, champion, challenger = holdout
    gain, raw = regression.improvement_interval(y, champion, challenger, "rmse", 2000, 0)
    point = (
        regression.regression_metrics(y, challenger)["rmse"]
        - regression.regression_metrics(y, champion)["rmse"]
    )
    assert gain.point == pytest.approx(-point)
    assert gain.lo <= -raw[1] + 1e-12 and gain.hi >= -raw[0] - 1e-12
    assert gain.n == y.size and gain.se > 0
    twins, _ = regression.improvement_interval(y, champion, champion, "rmse", 500, 0)
    assert (twins.lo, twins.hi, twins.se) == (0.0, 0.0, 0.0)


def test_improvement_is_signed_by_direction():
    assert regression.improvement("rmse", 2.0) == -2.0
    assert regression.improvement("r2", 0.1) == 0.1
    with pytest.raises(ValueError, match="margin kind"):
        regression.allowed_loss("rmse", 1.0, 0.1, "percent")


def test_per_slice_check_names_the_slice_that_got_worse():
    y = np.array([10.0, 12, 14, 16, 20, 22, 24, 26])
    sex = np.array(["1", "1", "1", "1", "2", "2", "2", "2"])
    champion = y + np.array([1, -1, 1, -1, 1, -1, 1, -1])
    same_in_1 = champion.copy()
    same_in_1[4:] = y[4:] + np.array([3, -3, 3, -3])  # slice 2's RMSE triples
    rows = regression.slice_rows(y, sex, same_in_1, champion, "rmse", order=("2", "1"))
    assert [(r.value, r.rows) for r in rows] == [("2", 4), ("1", 4)]
    check = regression.per_slice_check(rows, "sex", "rmse", 0.10)
    assert not check.passed
    assert check.message == "rmse got worse by more than 0.1 x the champion's in sex = 2 1 -> 3"
    fine = regression.per_slice_check(
        regression.slice_rows(y, sex, champion, champion, "rmse"), "sex", "rmse", 0.10
    )
    assert fine.passed and fine.message == "no sex slice's rmse got worse"


def test_thresholds_follow_the_metrics_direction():
    checks = regression.threshold_checks(
        {"rmse": 5.0, "r2": 0.4}, None, {"rmse": 6.0, "r2": 0.5, "mape": 0.1}
    )
    assert [(c.name, c.passed) for c in checks] == [
        ("threshold.rmse", True),
        ("threshold.r2", False),
        ("threshold.mape", False),
    ]
    assert checks[0].message == "rmse 5 <= 6"
    assert checks[1].message == "r2 0.4 < 0.5"
    assert "no metric named 'mape'" in checks[2].message


def test_inputs_are_checked():
    with pytest.raises(ValueError, match="same length"):
        regression.regression_metrics([1, 2], [1])
    with pytest.raises(ValueError, match="finite"):
        regression.regression_metrics([1, np.nan], [1, 2])
    with pytest.raises(ValueError, match="cannot bootstrap"):
        regression.paired_bootstrap_deltas([1, 2], [1, 2], [1, 2], ("mape",))
