"""The non-inferiority decision: an honest interval, three verdicts, and the gate's power.

Pure numbers in, numbers out: nothing here knows about labels, models or MLflow, so the same
functions serve a classifier (deltas of macro-F1 from the paired bootstrap) and a regressor
(per-row losses, `paired_mean_interval`).

**Interval.** `d = challenger − champion` on the primary metric, with a standard error `se`. The
paired percentile bootstrap is close to nominal at a few hundred rows, but it collapses when few
rows are discordant (with none, every resample has d = 0 and the interval is [0, 0]), and it is a
little narrow at any size (the plug-in variance divides by n, not n − 1). Worse, its width
follows the *observed* discordance: a challenger that is truly worse but happened to disagree
on few holdout rows gets both a small loss and a narrow interval, so it passes more often than
the one-sided level (measured: 6 % instead of 2.5 % for a pure 3-point loss at 420 rows).
`honest_interval` therefore takes the wider of the percentile interval and a normal interval
whose `se` is the bootstrap's, corrected by √(n/(n − 1)), and never below a score-type floor:
the standard error of a paired difference with max(b + c, m·n) discordant rows plus one
(Agresti & Min's half row in each discordant cell, *Biometrics* 61, 2005). A loss of the margin
m needs at least m·n discordant rows, so the floor is the spread the null hypothesis itself
implies — the reasoning of Wilson's score interval, which evaluates the variance at the
hypothesised proportion, not the observed one. It makes small holdouts honest: below about
z²/m rows (130 for m = 0.03) no holdout can vouch for the margin, because even zero observed
discordance does not exclude a loss of m; with none among 60 rows the interval is no longer
[0, 0].

**Verdict zones** (`verdict`), with margin m, lower bound L and upper bound U of the
`confidence` two-sided interval (one-sided level (1 − confidence)/2 each way):

- pass: L ≥ −m — the loss is shown to be smaller than the margin (non-inferior);
- fail: L < −m and U < 0 — the challenger is shown to be worse, and not shown to be within the
  margin;
- inconclusive: otherwise — the interval holds both "no loss" and "a loss of the margin"; or the
  clean holdout has fewer than `MIN_ROWS` rows.

So the margin is the largest loss a pass may hide: a challenger exactly m worse passes at most
(1 − confidence)/2 of the time (2.5 %), whatever the holdout size, and an equally good one fails
at most 2.5 % of the time, whatever its disagreement with the champion. What an inconclusive
verdict does is policy (`gate.on_inconclusive`), decided by the caller.

**Power** (`operating_characteristic`): with d̂ ≈ N(−δ, se²) for a true drop δ, the probability
of each verdict at δ, and `detectable_drop`: the smallest drop that is blocked with 95 %
probability.

**The procedure** (`procedure_oc`): holdout, then cross-validation when the holdout cannot tell,
then `gate.on_inconclusive`. Two chances to pass would double the level at the margin, so each
stage tests at half of it (`stage_confidence`); the OC and δ95 a report states are those of the
whole procedure, normal for the holdout stage and Student t for the cross-validation's.

Why one module: the interval, the zones, the two-stage decision and its power are one rule; the
power is computed from exactly the zones and confidences the decision used, and split apart the
two would drift.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "FAIL",
    "INCONCLUSIVE",
    "MIN_ROWS",
    "OC_DROPS",
    "PASS",
    "Decision",
    "Interval",
    "OCRow",
    "decide",
    "detectable_drop",
    "honest_interval",
    "min_holdout_rows",
    "operating_characteristic",
    "paired_mean_interval",
    "procedure_detectable_drop",
    "procedure_oc",
    "projected_cv_se",
    "rows_to_settle",
    "stage_confidence",
    "verdict",
]

PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
#: Below this many clean rows the holdout is not evidence (too few for any interval to mean much).
MIN_ROWS = 30
#: Drops at which every gate states its blocking probability: inside the default margin (0.5, 1,
#: 2 points), at it (3) and beyond it (5).
OC_DROPS = (0.005, 0.01, 0.02, 0.03, 0.05)
_POWER = 0.95


@dataclass(frozen=True)
class Interval:
    """`point` with the two-sided `confidence` interval [lo, hi] and its standard error."""

    point: float
    lo: float
    hi: float
    se: float
    confidence: float
    n: int

    @property
    def z(self) -> float:
        return float(_norm().ppf(0.5 + self.confidence / 2))


@dataclass(frozen=True)
class OCRow:
    """Probabilities of each verdict at a true drop (a loss of `drop`, in metric units)."""

    drop: float
    p_pass: float
    p_inconclusive: float
    p_fail: float

    def p_block(self, inconclusive_blocks: bool) -> float:
        return self.p_fail + (self.p_inconclusive if inconclusive_blocks else 0.0)


def discordance_floor(discordant: float, n: int) -> float:
    """The smallest standard error `n` rows with `discordant` disagreeing rows can claim.

    Agresti–Min: half a row added to each discordant cell, so the floor never reaches zero.
    The metric moves by about 1/n per discordant row (exactly for accuracy, about as much for
    macro-F1 with balanced classes).
    """
    if n <= 0:
        return math.inf
    return math.sqrt(discordant + 1.0) / (n + 2.0)


def honest_interval(
    point: float,
    deltas: np.ndarray,
    *,
    discordant: int,
    n: int,
    margin: float,
    confidence: float = 0.95,
) -> Interval:
    """The wider of the percentile interval of bootstrap `deltas` and a floored normal interval.

    `discordant`: rows on which the two models' correctness differs (McNemar's b + c); for a
    metric that is not about correctness, pass the rows where the per-row scores differ.
    `margin`: the loss the interval will be tested against; the floor assumes at least
    margin·n discordant rows (see the module docstring).
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    deltas = np.asarray(deltas, dtype=float)
    if n < 2 or deltas.size < 2:
        return Interval(point, -math.inf, math.inf, math.inf, confidence, n)
    tail = (1 - confidence) / 2
    p_lo, p_hi = (float(q) for q in np.quantile(deltas, [tail, 1 - tail]))
    floor = discordance_floor(max(float(discordant), margin * n), n)
    se = max(float(deltas.std(ddof=1)) * math.sqrt(n / (n - 1)), floor)
    z = float(_norm().ppf(1 - tail))
    return Interval(point, min(p_lo, point - z * se), max(p_hi, point + z * se), se, confidence, n)


def paired_mean_interval(
    champion_scores: Sequence[float] | np.ndarray,
    challenger_scores: Sequence[float] | np.ndarray,
    confidence: float = 0.95,
) -> Interval:
    """Student-t interval of the mean per-row difference (challenger − champion).

    For metrics that are means of per-row scores (accuracy as 0/1, a negated squared error,
    a log-likelihood): the paired t interval is exact enough at a few dozen rows and needs no
    resampling. Scores are "higher is better"; negate losses before calling.
    """
    old = np.asarray(champion_scores, dtype=float)
    new = np.asarray(challenger_scores, dtype=float)
    if old.shape != new.shape or old.ndim != 1:
        raise ValueError(
            f"champion and challenger scores must be 1-d and the same length, got "
            f"{old.shape} and {new.shape}"
        )
    n = old.size
    diff = new - old
    point = float(diff.mean()) if n else 0.0
    if n < 2:
        return Interval(point, -math.inf, math.inf, math.inf, confidence, n)
    se = float(diff.std(ddof=1)) / math.sqrt(n)
    if se == 0.0:  # every row agrees: the floor of a discordance count of zero, in row units
        scale = float(np.abs(np.concatenate([old, new])).max()) or 1.0
        se = scale * discordance_floor(0, n)
    q = float(_student_t().ppf(0.5 + confidence / 2, n - 1))
    return Interval(point, point - q * se, point + q * se, se, confidence, n)


def verdict(interval: Interval, margin: float, *, min_rows: int = MIN_ROWS) -> str:
    """pass / fail / inconclusive by the zones in the module docstring."""
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    if interval.n < min(min_rows, MIN_ROWS):
        return INCONCLUSIVE
    eps = 1e-12
    shown_worse = interval.hi < 0 and interval.lo < -margin - eps
    if interval.n < min_rows:  # too few rows to vouch for the margin; a loss still shows
        return FAIL if shown_worse else INCONCLUSIVE
    if interval.lo >= -margin - eps:
        return PASS
    if shown_worse:
        return FAIL
    return INCONCLUSIVE


def operating_characteristic(
    se: float,
    margin: float,
    confidence: float = 0.95,
    drops: Sequence[float] = OC_DROPS,
) -> tuple[OCRow, ...]:
    """P(pass), P(inconclusive), P(fail) at each true drop, for d̂ ≈ N(−drop, se²).

    pass iff d̂ − z·se ≥ −m; fail iff d̂ + z·se < 0 and d̂ − z·se < −m, i.e.
    d̂ < −max(z·se, m − z·se).
    """
    z = float(_norm().ppf(0.5 + confidence / 2))
    rows = []
    for drop in drops:
        if not math.isfinite(se) or se <= 0:
            p_pass = 1.0 if se == 0 and drop <= margin else 0.0
            p_fail = 1.0 if se == 0 and drop > margin else 0.0
        else:
            p_pass = float(_norm().cdf((margin - drop - z * se) / se))
            p_fail = float(_norm().cdf((drop - max(z * se, margin - z * se)) / se))
        p_fail = min(p_fail, 1.0 - p_pass)
        rows.append(OCRow(drop, p_pass, max(0.0, 1.0 - p_pass - p_fail), p_fail))
    return tuple(rows)


def detectable_drop(
    se: float, margin: float, confidence: float = 0.95, *, inconclusive_blocks: bool = True
) -> float:
    """The smallest true drop blocked with 95 % probability (δ95).

    Blocking on anything but a pass: δ95 = m − z·se + 1.645·se. Blocking only on a fail:
    δ95 = max(z·se, m − z·se) + 1.645·se.
    """
    if not math.isfinite(se):
        return math.inf
    z = float(_norm().ppf(0.5 + confidence / 2))
    z_power = float(_norm().ppf(_POWER))
    edge = margin - z * se if inconclusive_blocks else max(z * se, margin - z * se)
    return edge + z_power * se


def rows_to_settle(interval: Interval, margin: float) -> int | None:
    """About how many clean rows would make this interval decisive at the same point estimate.

    The half-width shrinks as 1/√n. Pass needs half-width ≤ point + m; fail needs half-width
    < −point (when the point is below −m). None when no number of rows settles it (the point
    sits exactly on a zone edge) or the interval is already decisive.
    """
    if not math.isfinite(interval.se) or interval.n < 1:
        return None
    half = interval.z * interval.se
    room = interval.point + margin if interval.point > -margin else -interval.point
    if room <= 0:
        return None
    if half <= room:
        return None
    return math.ceil(interval.n * (half / room) ** 2 - 1e-9)


@dataclass(frozen=True)
class Decision:
    """The primary-metric verdict and the evidence behind it.

    `holdout`: the registered artifacts compared on the clean holdout rows. `cv`: the two
    training configurations cross-validated over the whole data (only when the holdout was
    inconclusive and `gate.evidence` is `cv`). The holdout decides unless it is inconclusive;
    then the cross-validation does. A worse artifact therefore never passes on the strength of
    its configuration: a holdout fail stays a fail.
    """

    verdict: str
    decided_by: str  # "holdout" | "cv" | "none" (inconclusive on every evidence)
    holdout: Interval
    holdout_verdict: str
    margin: float
    cv: Interval | None = None
    cv_verdict: str | None = None
    cv_note: str | None = None  # why cross-validation did not run, when it was asked for
    drops: tuple[float, ...] = OC_DROPS  # the true drops the OC table is stated at
    min_rows: int = MIN_ROWS  # below this many clean rows the holdout gives no verdict
    # The cross-validation stage of the procedure as configured: its standard error and the
    # degrees of freedom of its t (measured when it ran, else projected from the holdout's
    # spread: `cv_projected`); None when `gate.evidence` is holdout.
    cv_stage: tuple[float, int] | None = None
    cv_projected: bool = False

    def power(self, *, inconclusive_blocks: bool) -> tuple[float, tuple[OCRow, ...]]:
        """δ95 and the OC table at `drops` of the whole procedure as configured: the holdout,
        then (when it cannot tell and `gate.evidence` is cv) the cross-validation."""
        h = self.holdout
        holdout_se = h.se if h.n >= self.min_rows else math.inf
        oc = procedure_oc(holdout_se, self.margin, h.confidence, self.cv_stage, self.drops)
        d95 = procedure_detectable_drop(
            holdout_se, self.margin, h.confidence, self.cv_stage, inconclusive_blocks
        )
        return d95, oc

    def settle(self, cv_configured: bool = False) -> str | None:
        """What would settle an inconclusive verdict, in words; None for a decided one.

        `cv_configured`: `gate.evidence` is already `cv` (then it is not offered as a setting;
        only why it did not run)."""
        if self.verdict != INCONCLUSIVE:
            return None
        parts = []
        if self.holdout.n < self.min_rows:
            parts.append(
                f"at least {self.min_rows} clean holdout rows (there are {self.holdout.n})"
            )
        else:
            needed = rows_to_settle(self.holdout, self.margin)
            if needed is not None:
                parts.append(
                    f"about {needed} clean holdout rows ({needed / self.holdout.n:.1f}x these "
                    f"{self.holdout.n}) at the observed difference"
                )
        if self.cv is None and self.cv_note:
            parts.append(f"cross-validation, once possible ({self.cv_note})")
        elif self.cv is None and cv_configured:
            parts.append("the cross-validation `gate.evidence: cv` runs once no other check fails")
        elif self.cv is None:
            parts.append("more evidence from `gate.evidence: cv`")
        else:
            needed = rows_to_settle(self.cv, self.margin)
            if needed is not None:
                parts.append(f"cross-validation over about {needed} rows")
        return "; or ".join(parts) if parts else None


def decide(
    holdout: Interval,
    margin: float,
    *,
    cv: Interval | None = None,
    cv_note: str | None = None,
    min_rows: int = MIN_ROWS,
    drops: tuple[float, ...] = OC_DROPS,
    cv_stage: tuple[float, int] | None = None,
    cv_projected: bool = False,
) -> Decision:
    """Combine the holdout's verdict with the cross-validation's (see `Decision`)."""
    extra = (drops, min_rows, cv_stage, cv_projected)
    on_holdout = verdict(holdout, margin, min_rows=min_rows)
    if on_holdout != INCONCLUSIVE:
        return Decision(
            on_holdout, "holdout", holdout, on_holdout, margin, cv, None, cv_note, *extra
        )
    if cv is None:
        return Decision(
            INCONCLUSIVE, "none", holdout, on_holdout, margin, None, None, cv_note, *extra
        )
    on_cv = verdict(cv, margin, min_rows=MIN_ROWS)
    by = "cv" if on_cv != INCONCLUSIVE else "none"
    return Decision(on_cv, by, holdout, on_holdout, margin, cv, on_cv, cv_note, *extra)


def stage_confidence(confidence: float, two_stage: bool) -> float:
    """The two-sided confidence each stage's interval is built at.

    Holdout-then-cross-validation gives a challenger two chances to pass; a loss of exactly
    the margin would pass up to twice the one-sided level. Each stage therefore tests at half
    of it (Bonferroni: P(pass) <= P(holdout passes) + P(cv passes), whatever their dependence),
    so the whole procedure passes a loss of the margin at most (1 − confidence)/2 of the time.
    """
    return 1 - (1 - confidence) / 2 if two_stage else confidence


def min_holdout_rows(margin: float, confidence: float) -> int:
    """Fewer clean rows than this and no holdout can pass even an identical model.

    The interval's floor (`discordance_floor` at m·n discordant rows) is about √(m/n), so a pass
    (z·√(m/n) ≤ m) needs n ≥ z²/m: 168 rows for m = 0.03 at one-sided 1.25 %. Below it the
    holdout is skipped and cross-validation decides (a holdout could still *fail* there, but
    cross-validation sees that too, on five times the rows).
    """
    if margin <= 0:
        return MIN_ROWS
    z = float(_norm().ppf(0.5 + confidence / 2))
    return max(MIN_ROWS, math.ceil(z * z / margin))


def projected_cv_se(holdout: Interval, n_data: int, folds: int, repeats: int) -> float:
    """The cross-validation's standard error expected from the holdout's spread.

    Per-row variance v = se²·n of the holdout; a fold of N/k rows has S² ≈ v·k/N; the
    Nadeau–Bengio variance is (1/J + 1/(k − 1))·S² with J = k·repeats.
    """
    if not math.isfinite(holdout.se) or holdout.n < 2 or n_data < folds or folds < 2:
        return math.inf
    v = holdout.se**2 * holdout.n
    return math.sqrt((1 / (folds * repeats) + 1 / (folds - 1)) * v * folds / n_data)


def _stage(se: float, margin: float, q: float, drop: float, cdf: Any) -> tuple[float, float]:
    """P(pass), P(fail) of one stage whose estimate is −drop + se·T, bound ±q·se."""
    if not math.isfinite(se) or se <= 0:
        if se == 0:
            return (1.0, 0.0) if drop <= margin else (0.0, 1.0)
        return 0.0, 0.0
    p_pass = float(cdf((margin - drop) / se - q))
    p_fail = float(cdf((drop - max(q * se, margin - q * se)) / se))
    return p_pass, min(p_fail, 1.0 - p_pass)


def procedure_oc(
    holdout_se: float,
    margin: float,
    confidence: float,
    cv_stage: tuple[float, int] | None,
    drops: Sequence[float] = OC_DROPS,
) -> tuple[OCRow, ...]:
    """P(pass), P(inconclusive), P(fail) of holdout-then-cross-validation at each true drop.

    The holdout stage is normal (its interval is), the cross-validation stage a Student t on
    its degrees of freedom (its bound is); an inconclusive holdout hands over to it. The two
    stages are treated as independent (the cross-validation's rows include the holdout's, so
    this is approximate; the level at the margin does not rest on it, see `stage_confidence`).
    """
    z = float(_norm().ppf(0.5 + confidence / 2))
    if cv_stage is not None:
        cv_se, df = cv_stage[0], max(cv_stage[1], 1)
        t = _student_t()
        q = float(t.ppf(0.5 + confidence / 2, df))

        def t_cdf(x: float) -> float:
            return float(t.cdf(x, df))

    rows = []
    for drop in drops:
        h_pass, h_fail = _stage(holdout_se, margin, z, drop, _norm().cdf)
        h_inc = max(0.0, 1.0 - h_pass - h_fail)
        c_pass = c_fail = 0.0
        if cv_stage is not None:
            c_pass, c_fail = _stage(cv_se, margin, q, drop, t_cdf)
        p_pass = h_pass + h_inc * c_pass
        p_fail = h_fail + h_inc * c_fail
        rows.append(OCRow(drop, p_pass, max(0.0, 1.0 - p_pass - p_fail), p_fail))
    return tuple(rows)


def procedure_detectable_drop(
    holdout_se: float,
    margin: float,
    confidence: float,
    cv_stage: tuple[float, int] | None,
    inconclusive_blocks: bool,
) -> float:
    """The smallest true drop the whole procedure blocks with 95 % probability (bisection)."""

    def blocked(drop: float) -> float:
        row = procedure_oc(holdout_se, margin, confidence, cv_stage, (drop,))[0]
        return row.p_block(inconclusive_blocks)

    hi = max(margin, 0.01) * 2
    for _ in range(20):
        if blocked(hi) >= _POWER:
            break
        hi *= 2
    else:
        return math.inf
    lo = 0.0
    if blocked(lo) >= _POWER:
        return 0.0
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if blocked(mid) >= _POWER else (mid, hi)
    return hi


# scipy.stats costs ~0.8 s to import: commands that only read a stored verdict (a champion move,
# a model card) never compute an interval and need not pay for it.
def _norm() -> Any:
    from scipy.stats import norm

    return norm


def _student_t() -> Any:
    from scipy.stats import t

    return t
