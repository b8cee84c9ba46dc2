"""Regression metrics and the gate's paired evidence for them.

RMSE, MAE and R² match scikit-learn's `root_mean_squared_error`, `mean_absolute_error` and
`r2_score`. As for classification, every comparison is paired: one bootstrap resample of holdout
rows is applied to both models. Each metric is a function of a few per-row sums (squared error,
absolute error, y, y²), so a resample is a vector of row weights and thousands of resamples are
one matrix product.

Errors are lower-is-better, R² higher-is-better. The gate's rules are stated once, on the
*improvement* of the challenger (champion − challenger for an error, challenger − champion for
R²), so the same rule reads the same way for every metric and every task: noninferiority.py's
three verdicts on the improvement's interval [L, U] — pass when L ≥ −margin, fail when L < −margin
and U < 0, inconclusive otherwise. The margin is in the metric's units (`absolute`) or a share of
the champion's error (`relative`: 0.05 allows a 5 % larger RMSE).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .checks import Check
from .noninferiority import FAIL, INCONCLUSIVE, MIN_ROWS, PASS, Decision, Interval
from .stats import percentile_interval, resampled_sums
from .task import REGRESSION

__all__ = [
    "DIRECTIONS",
    "MARGIN_KINDS",
    "METRICS",
    "SliceRow",
    "allowed_loss",
    "bootstrap_ci",
    "improvement",
    "improvement_interval",
    "non_inferiority_check",
    "oc_losses",
    "paired_bootstrap_ci",
    "paired_bootstrap_deltas",
    "per_slice_check",
    "regression_metrics",
    "slice_rows",
    "threshold_checks",
]

METRICS = REGRESSION.metrics
DIRECTIONS = {m: REGRESSION.direction(m) for m in METRICS}
MARGIN_KINDS = ("relative", "absolute")

_EPS = 1e-9


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """RMSE, MAE and R² of one model (R² is 0 when the targets do not vary, as with a constant)."""
    truth, pred = _arrays(y_true, y_pred)
    err = pred - truth
    sse = float(np.sum(err**2))
    sst = float(np.sum((truth - truth.mean()) ** 2))
    return {
        "rmse": float(np.sqrt(sse / truth.size)),
        "mae": float(np.mean(np.abs(err))),
        "r2": 1.0 - sse / sst if sst > 0 else 0.0,
    }


def paired_bootstrap_deltas(
    y_true: Any,
    pred_champion: Any,
    pred_challenger: Any,
    metrics: Sequence[str] = METRICS,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Bootstrap distribution of (challenger − champion) for each metric, on shared resamples."""
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"cannot bootstrap {unknown}; supported metrics: {', '.join(METRICS)}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    truth, old, new = _arrays(y_true, pred_champion, pred_challenger)
    n = truth.size
    # Per-row columns whose weighted sums give every metric of a resample.
    design = np.column_stack(
        [
            (old - truth) ** 2,
            np.abs(old - truth),
            (new - truth) ** 2,
            np.abs(new - truth),
            truth,
            truth**2,
        ]
    )
    sums = resampled_sums(design, n_boot, seed)
    sst = sums[:, 5] - sums[:, 4] ** 2 / n
    values = []
    for sq, ab in ((0, 1), (2, 3)):
        r2 = np.zeros(len(sums))
        np.divide(sums[:, sq], sst, out=r2, where=sst > 0)
        values.append({"rmse": np.sqrt(sums[:, sq] / n), "mae": sums[:, ab] / n, "r2": 1.0 - r2})
    champion, challenger = values
    return {m: challenger[m] - champion[m] for m in metrics}


def paired_bootstrap_ci(
    y_true: Any,
    pred_champion: Any,
    pred_challenger: Any,
    metric: str = "rmse",
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """(point, lower, upper) of challenger − champion on `metric` (percentile interval)."""
    point, deltas = _delta_and_resamples(
        y_true, pred_champion, pred_challenger, metric, n_boot, confidence, seed
    )
    lo, hi = percentile_interval(deltas, confidence)
    return point, lo, hi


def _delta_and_resamples(
    y_true: Any,
    pred_champion: Any,
    pred_challenger: Any,
    metric: str,
    n_boot: int,
    confidence: float,
    seed: int,
) -> tuple[float, Any]:
    """challenger − champion on `metric`, and its paired bootstrap resamples."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    point = (
        regression_metrics(y_true, pred_challenger)[metric]
        - regression_metrics(y_true, pred_champion)[metric]
    )
    deltas = paired_bootstrap_deltas(
        y_true, pred_champion, pred_challenger, (metric,), n_boot, seed
    )[metric]
    return point, deltas


def bootstrap_ci(
    y_true: Any,
    y_pred: Any,
    metric: str = "rmse",
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """(point, lower, upper) of one model's `metric`: the paired machinery against a baseline
    that is exactly right on every row (all errors 0, R² 1), shifted back."""
    truth = np.asarray(y_true, dtype=float)
    point = regression_metrics(truth, y_pred)[metric]
    deltas = paired_bootstrap_deltas(truth, truth, y_pred, (metric,), n_boot, seed)[metric]
    if metric == "r2":
        deltas = deltas + 1.0
    lo, hi = percentile_interval(deltas, confidence)
    return point, lo, hi


def improvement(metric: str, delta: float) -> float:
    """How much better the challenger is, from challenger − champion (positive: better)."""
    return -delta if DIRECTIONS[metric] == "lower" else delta


def allowed_loss(metric: str, champion_value: float, margin: float, kind: str) -> float:
    """The margin in the metric's units: `absolute` as given, `relative` a share of the
    champion's error (R² has no natural scale to take a share of: its margin is absolute)."""
    if kind not in MARGIN_KINDS:
        raise ValueError(f"margin kind must be one of {', '.join(MARGIN_KINDS)}, got {kind!r}")
    if kind == "relative" and DIRECTIONS[metric] == "lower":
        return margin * abs(champion_value)
    return margin


def improvement_interval(
    y_true: Any,
    pred_champion: Any,
    pred_challenger: Any,
    metric: str,
    n_boot: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[Interval, tuple[float, float]]:
    """The interval the regression gate decides on, and the percentile interval of the raw
    difference (challenger − champion, in the metric's own direction) for the report.

    The decision's interval is of the *improvement* (higher is better, as noninferiority.py
    expects): the wider of the paired percentile bootstrap and a normal interval whose standard
    error is the bootstrap's with the n/(n − 1) correction — the same construction as the
    classification gate's, without its discordance floor, which counts rows that change
    correctness and has no meaning for a continuous error. Identical predictions give a zero
    spread: their errors are the same on every row, so no resample could differ.
    """
    point, deltas = _delta_and_resamples(
        y_true, pred_champion, pred_challenger, metric, n_boot, confidence, seed
    )
    raw = percentile_interval(deltas, confidence)
    sign = -1.0 if DIRECTIONS[metric] == "lower" else 1.0
    gains = sign * deltas
    gain = sign * point
    n = int(np.asarray(y_true).size)
    if n < 2 or gains.size < 2:
        return Interval(gain, -math.inf, math.inf, math.inf, confidence, n), raw
    tail = (1 - confidence) / 2
    p_lo, p_hi = (float(q) for q in np.quantile(gains, [tail, 1 - tail]))
    se = float(gains.std(ddof=1)) * math.sqrt(n / (n - 1))
    from scipy.stats import norm  # ~0.5 s to import: only when an interval is computed

    z = float(norm.ppf(1 - tail))
    lo, hi = min(p_lo, gain - z * se), max(p_hi, gain + z * se)
    return Interval(gain, lo, hi, se, confidence, n), raw


def oc_losses(margin: float) -> tuple[float, ...]:
    """The true losses (metric units) at which a regression gate states its blocking chance:
    half, one, one and a half and two margins (an error has no fixed scale as F1 has points)."""
    return tuple(margin * f for f in (0.5, 1.0, 1.5, 2.0))


def non_inferiority_check(
    decision: Decision, metric: str, champion_value: float, margin: float, kind: str
) -> Check:
    """`non_inferiority.<metric>` with noninferiority.py's three verdicts, told in the metric's
    own units: for an error, the upper bound of challenger − champion against the allowed loss
    (`margin` of the champion's error when relative); for R², the lower bound against −margin."""
    allowed = decision.margin
    h = decision.holdout
    lower = DIRECTIONS[metric] == "lower"
    relative = kind == "relative" and lower
    scale = f"{margin:g} x the champion's {champion_value:.4g}" if relative else "the margin"
    if h.n < MIN_ROWS:
        message = f"only {h.n} clean holdout rows (fewer than {MIN_ROWS}): no holdout verdict"
    else:
        message = f"holdout: {_zone_text(h, decision.holdout_verdict, metric, allowed, scale)}"
    if decision.cv is not None:
        cv = decision.cv
        message += (
            f"; cross-validation of the two recipes: "
            f"{_zone_text(cv, decision.cv_verdict or INCONCLUSIVE, metric, allowed, scale)}"
            f" over {cv.n} rows"
        )
    elif decision.cv_note and decision.holdout_verdict == INCONCLUSIVE:
        message += f"; {decision.cv_note}"
    bound = decision.cv.lo if decision.decided_by == "cv" and decision.cv else h.lo
    candidate = float(bound) if math.isfinite(bound) else None
    # An error's check reads in its own direction: the increase's upper bound against the
    # allowed increase (the same comparison as the improvement's lower bound against −allowed).
    if lower:
        candidate = None if candidate is None else -candidate
    return Check(
        f"non_inferiority.{metric}",
        candidate,
        None,
        allowed if lower else -allowed,
        "lower" if lower else "higher",
        decision.verdict == PASS,
        message,
        inconclusive=decision.verdict == INCONCLUSIVE,
    )


def _zone_text(interval: Interval, zone: str, metric: str, allowed: float, scale: str) -> str:
    """One interval's verdict in the metric's direction: an error's change is −improvement."""
    if DIRECTIONS[metric] == "lower":
        delta, lo, hi = -interval.point, -interval.hi, -interval.lo
        words = {
            PASS: f"U {hi:+.4g} <= +{allowed:.4g} ({scale}): within the margin",
            FAIL: f"U {hi:+.4g} > +{allowed:.4g} ({scale}) and L {lo:+.4g} > 0: worse",
            INCONCLUSIVE: f"L {lo:+.4g} <= 0 <= +{allowed:.4g} < U {hi:+.4g}: cannot tell",
        }
    else:
        delta, lo, hi = interval.point, interval.lo, interval.hi
        words = {
            PASS: f"L {lo:+.4g} >= -{allowed:.4g} ({scale}): within the margin",
            FAIL: f"L {lo:+.4g} < -{allowed:.4g} ({scale}) and U {hi:+.4g} < 0: worse",
            INCONCLUSIVE: f"L {lo:+.4g} < -{allowed:.4g} <= 0 <= U {hi:+.4g}: cannot tell",
        }
    return (
        f"delta {metric} {delta:+.4g}, {interval.confidence * 100:g}% CI [{lo:+.4g}, {hi:+.4g}], "
        f"{words[zone]}"
    )


def threshold_checks(
    challenger: Mapping[str, float],
    champion: Mapping[str, float] | None,
    thresholds: Mapping[str, float],
) -> tuple[Check, ...]:
    """`threshold.<metric>`: an error at most its threshold, R² at least its threshold."""
    checks = []
    for metric, limit in thresholds.items():
        name = f"threshold.{metric}"
        if metric not in challenger:
            known = ", ".join(METRICS)
            message = f"gate.thresholds.{metric}: no metric named {metric!r}; metrics: {known}"
            checks.append(Check(name, None, None, limit, DIRECTIONS.get(metric), False, message))
            continue
        value = challenger[metric]
        lower = DIRECTIONS[metric] == "lower"
        passed = value <= limit + _EPS if lower else value >= limit - _EPS
        relation = ("<=" if passed else ">") if lower else (">=" if passed else "<")
        baseline = champion.get(metric) if champion is not None else None
        checks.append(
            Check(
                name,
                value,
                baseline,
                limit,
                DIRECTIONS[metric],
                passed,
                f"{metric} {value:.4g} {relation} {limit:g}",
            )
        )
    return tuple(checks)


@dataclass(frozen=True)
class SliceRow:
    """One slice of the holdout (rows sharing a value of `data.slice_by`) and its metric."""

    value: str
    rows: int
    champion: float | None
    challenger: float


def slice_rows(
    y_true: Any,
    slices: Any,
    pred_challenger: Any,
    pred_champion: Any | None = None,
    metric: str = "rmse",
    order: Sequence[str] = (),
) -> list[SliceRow]:
    """`metric` per slice, slices in `order` (the schema's categories), then any others."""
    truth, new = _arrays(y_true, pred_challenger)
    old = _arrays(y_true, pred_champion)[1] if pred_champion is not None else None
    labels = np.asarray(slices).astype(str)
    present = list(dict.fromkeys(labels.tolist()))
    ordered = [v for v in order if v in present] + sorted(v for v in present if v not in order)
    rows = []
    for value in ordered:
        mask = labels == value
        rows.append(
            SliceRow(
                value,
                int(mask.sum()),
                None if old is None else regression_metrics(truth[mask], old[mask])[metric],
                regression_metrics(truth[mask], new[mask])[metric],
            )
        )
    return rows


def per_slice_check(
    rows: Sequence[SliceRow], column: str, metric: str, limit: float, kind: str = "relative"
) -> Check:
    """`per_slice.<column>`: no slice's `metric` may get worse by more than `limit` (a share of
    the champion's value in that slice, or metric units). The regression counterpart of the
    per-class F1 check: an average can hide one group that got much worse."""
    name = f"per_slice.{column}"
    compared = [r for r in rows if r.champion is not None]
    if not compared:
        return Check(name, None, None, limit, "lower", True, "no slices to compare")
    losses = {
        r.value: -improvement(metric, r.challenger - r.champion)
        for r in compared  # type: ignore[operator]
    }
    allowed = {r.value: allowed_loss(metric, r.champion or 0.0, limit, kind) for r in compared}
    too_big = [r for r in compared if losses[r.value] > allowed[r.value] + _EPS]
    worst = max(compared, key=lambda r: losses[r.value] - allowed[r.value])
    unit = (
        f"{limit:g} x the champion's"
        if kind == "relative" and DIRECTIONS[metric] == "lower"
        else f"{limit:g}"
    )
    if too_big:
        detail = ", ".join(f"{r.value} {r.champion:.4g} -> {r.challenger:.4g}" for r in too_big)
        message = f"{metric} got worse by more than {unit} in {column} = {detail}"
    elif losses[worst.value] <= 0:
        message = f"no {column} slice's {metric} got worse"
    else:
        message = (
            f"largest {metric} loss {losses[worst.value]:.4g} ({column} = {worst.value}: "
            f"{worst.champion:.4g} -> {worst.challenger:.4g}) <= {allowed[worst.value]:.4g}"
        )
    return Check(
        name, losses[worst.value], None, allowed[worst.value], "lower", not too_big, message
    )


def _arrays(*arrays: Any) -> tuple[np.ndarray, ...]:
    out = tuple(np.asarray(a, dtype=float).ravel() for a in arrays)
    if len({a.size for a in out}) != 1:
        raise ValueError(
            f"y_true and predictions must have the same length, got {[a.size for a in out]}"
        )
    if out[0].size == 0:
        raise ValueError("cannot score an empty holdout")
    if not all(np.isfinite(a).all() for a in out):
        raise ValueError("targets and predictions must be finite numbers")
    return out
