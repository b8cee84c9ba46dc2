"""The gate's rules: each takes numbers about the two models and returns one `Check`.

Pure functions, no I/O. gate.py decides which rules apply (no champion, not comparable, paired)
and turns their results into a verdict; the rules themselves and their messages live here.

For every check, `passed` is `candidate` compared with `threshold` in `direction` ("higher":
candidate >= threshold, "lower": candidate <= threshold); ties pass, with a 1e-9 tolerance for
floating-point rounding. A check that cannot tell is `inconclusive` (and not passed); the gate's
verdict is then "inconclusive" unless another check failed.

- `threshold.<metric>`: the challenger's holdout metric (baseline: the champion's) against
  `gate.thresholds`. A threshold on a metric that does not exist fails and lists those that do.
- `non_inferiority.<primary>`: three verdicts on (challenger − champion), m = `gate.margin`,
  [L, U] the two-sided `gate.confidence` interval (each side a one-sided test at
  (1 − confidence)/2, 2.5 % by default) — the honest interval of noninferiority.py: the wider
  of the paired percentile bootstrap and a normal interval whose spread never falls below the
  one a loss of the margin implies:
  * pass: L ≥ −m — the loss is shown to be smaller than the margin. The margin is therefore the
    largest loss a pass may hide: a challenger exactly m worse passes at most 2.5 % of the time.
  * fail: L < −m and U < 0 — the challenger is shown to be worse and not shown to be within
    the margin. An equally good challenger fails at most 2.5 % of the time, however much it
    disagrees with the champion.
  * inconclusive: otherwise — the interval holds both "no loss" and "a loss of the margin" —,
    or fewer clean holdout rows than can vouch for the margin (30; with `gate.evidence: cv`,
    z²/m: 168 at the defaults, where only a shown loss still fails). With `gate.evidence: cv`
    the two recipes (each configuration on its own labelled data file) are then
    cross-validated (crossval.py) and that interval decides with the same zones, each stage at
    half the one-sided level; the holdout's fail always stands, so a worse artifact cannot pass
    on the strength of its recipe. What is left inconclusive follows `gate.on_inconclusive`.
- `per_class_f1`: the largest per-class F1 drop (champion − challenger) against
  `gate.max_class_drop`. A drop over the limit counts only when it is *shown*: the class's
  exact sign test on the rows where the two models differ for that class (multiplicity.py), Holm-
  adjusted across every class, is below the one-sided level (1 − confidence)/2. Without the
  correction, four discordant rows all one way (p = 0.0625) in one of seven classes fail an
  identical model on a reshuffled split. A drop over the limit that is not shown is
  inconclusive, and goes on to cross-validation like the primary metric; there the same test
  on out-of-fold predictions decides (a holdout drop shown stays a fail).
- `mcnemar`: McNemar's exact test of *accuracy* on the discordant rows (those exactly one model
  gets right) labels the challenger significantly better, significantly worse or "no
  detectable difference" at `gate.alpha`. It is informational: it fails only when the
  challenger is significantly worse *and* non-inferiority failed too, so it can never flip a
  verdict on its own. A significant loss smaller than the margin is exactly what a
  non-inferiority margin is there to accept; with large holdouts tiny losses become
  significant.
- `signature`: the number of breaking input-schema changes against 0. Removed columns and type
  changes break the champion's callers; added columns break them too, since those callers do
  not send them. `gate.allow_schema_change` accepts them (the check then passes and says so).
  When the champion cannot score the holdout, only a recorded schema change can excuse it: an
  unknown schema or an unchanged one fails closed, whatever `gate.allow_schema_change` says.
- `budget.size`, `budget.latency`: the challenger's value against `max_*_ratio` × the
  champion's; skipped (passing, with a message) when a number is missing. Latency is the median
  of interleaved single-threaded repeats of both models on the same batch in one process
  (challenge.py), compared as the median of the per-pair ratios: a challenger whose median is
  under `LATENCY_FLOOR_S` is not judged (timer and scheduler noise dominate there), and a ratio
  over the limit by less than its measured noise (half the interquartile range of the per-pair
  ratios) is inconclusive, not a fail.

Why one module: every rule's message names the settings and evidence of the others (the
per-class rule defers to cross-validation as non-inferiority does, McNemar reads the
non-inferiority check), and the report lists them as one table of the same `Check`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .config import GateConfig
from .multiplicity import ClassDrop
from .noninferiority import FAIL, INCONCLUSIVE, PASS, Decision
from .stats import METRICS

if TYPE_CHECKING:
    from .gate import ModelEvidence

__all__ = [
    "BETTER",
    "LATENCY_FLOOR_S",
    "NO_DIFFERENCE",
    "WORSE",
    "Check",
    "McNemarSummary",
    "budget_checks",
    "float_or_none",
    "info",
    "latency_check",
    "mcnemar_check",
    "mcnemar_label",
    "non_inferiority_check",
    "not_comparable_check",
    "per_class_check",
    "schema_changes",
    "signature_check",
    "threshold_checks",
]

BETTER = "significantly better"
WORSE = "significantly worse"
NO_DIFFERENCE = "no detectable difference"

_EPS = 1e-9
_Schema = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Check:
    """One rule's evidence: `passed` is `candidate` vs `threshold` in `direction`."""

    name: str
    candidate: float | None
    baseline: float | None
    threshold: float | None
    direction: str | None  # "higher" | "lower" | None (informational)
    passed: bool
    message: str
    inconclusive: bool = False  # not passed, but for want of evidence, not shown worse


@dataclass(frozen=True)
class McNemarSummary:
    """McNemar's exact test on the paired predictions and its label at `alpha`."""

    b: int  # champion right, challenger wrong
    c: int  # champion wrong, challenger right
    p_value: float
    alpha: float
    label: str


def info(name: str, passed: bool, message: str) -> Check:
    """A check without numbers (an outcome that is a fact, not a measurement)."""
    return Check(name, None, None, None, None, passed, message)


def threshold_checks(
    chall: Mapping[str, Any], champ: Mapping[str, Any] | None, cfg: GateConfig
) -> tuple[Check, ...]:
    """`threshold.<metric>`: the challenger's holdout metric against `gate.thresholds`."""
    available = [k for k, v in chall.items() if isinstance(v, float)]
    checks = []
    for metric, minimum in cfg.thresholds.items():
        name = f"threshold.{metric}"
        if metric not in available:
            message = (
                f"gate.thresholds.{metric}: no metric named {metric!r}; "
                f"metrics that exist: {', '.join(available)}"
            )
            checks.append(Check(name, None, None, minimum, "higher", False, message))
            continue
        value = chall[metric]
        baseline = float_or_none(champ.get(metric)) if champ is not None else None
        passed = value >= minimum - _EPS
        message = f"{metric} {value:.4f} {'>=' if passed else '<'} {minimum:g}"
        checks.append(Check(name, value, baseline, minimum, "higher", passed, message))
    return tuple(checks)


def non_inferiority_check(decision: Decision | None, cfg: GateConfig) -> Check:
    """`non_inferiority.<primary>`: the three zones of the module docstring."""
    metric, margin = cfg.primary_metric, cfg.margin
    name = f"non_inferiority.{metric}"
    if decision is None:
        message = (
            f"gate.primary_metric {metric!r} has no paired interval; "
            f"use one of: {', '.join(METRICS)}"
        )
        return Check(name, None, None, -margin, "higher", False, message)
    h = decision.holdout
    level = (1 - h.confidence) / 2 * 100
    if h.n < decision.min_rows and decision.holdout_verdict == INCONCLUSIVE:
        message = (
            f"only {h.n} clean holdout rows (fewer than {decision.min_rows}): no holdout verdict"
        )
    else:
        zone = {
            PASS: f"L {h.lo:+.4f} >= -{margin:g}: within the margin",
            FAIL: f"L {h.lo:+.4f} < -{margin:g} and U {h.hi:+.4f} < 0: worse",
            INCONCLUSIVE: f"L {h.lo:+.4f} < -{margin:g} <= 0 <= U {h.hi:+.4f}: cannot tell",
        }[decision.holdout_verdict]
        message = (
            f"holdout: delta {metric} {h.point:+.4f}, {h.confidence * 100:g}% CI [L, U] = "
            f"[{h.lo:+.4f}, {h.hi:+.4f}] (one-sided {level:g}% each side), {zone}"
        )
    if decision.cv is not None:
        cv = decision.cv
        message += (
            f"; cross-validation of the two recipes: delta {cv.point:+.4f}, "
            f"[{cv.lo:+.4f}, {cv.hi:+.4f}] over {cv.n} rows: {decision.cv_verdict}"
        )
    elif decision.cv_note and decision.holdout_verdict == INCONCLUSIVE:
        message += f"; {decision.cv_note}"
    bound = decision.cv.lo if decision.decided_by == "cv" and decision.cv else h.lo
    passed = decision.verdict == PASS
    return Check(
        name,
        float(bound) if math.isfinite(bound) else None,
        None,
        -margin,
        "higher",
        passed,
        message,
        inconclusive=decision.verdict == INCONCLUSIVE,
    )


def per_class_check(
    chall: Mapping[Any, float],
    champ: Mapping[Any, float],
    support: Mapping[Any, int],
    tests: Mapping[Any, ClassDrop],
    cv: tuple[Mapping[Any, float], Mapping[Any, ClassDrop]] | None,
    cfg: GateConfig,
) -> Check:
    """`per_class_f1`: the largest per-class F1 drop against `gate.max_class_drop`.

    `tests[label]`: the class's Holm-adjusted sign test on the holdout; `cv`: the drops and
    tests on cross-validation's out-of-fold predictions, when it ran.
    """
    limit = cfg.max_class_drop
    level = (1 - cfg.confidence) / 2
    drops = {label: champ[label] - chall[label] for label in champ}
    if not drops:
        return Check("per_class_f1", None, None, limit, "lower", True, "no classes to compare")
    worst = max(drops, key=lambda label: drops[label])
    too_big = [label for label, drop in drops.items() if drop > limit + _EPS]

    def shown(test: ClassDrop | None) -> bool:
        return test is not None and test.adjusted <= level

    def detail(labels: list[Any]) -> str:
        parts = []
        for label in labels:
            t = tests.get(label)
            odds = f", {t.worse} vs {t.better} rows, Holm p = {t.adjusted:.3g}" if t else ""
            parts.append(
                f"{label} {champ[label]:.4f} -> {chall[label]:.4f} ({support[label]} rows{odds})"
            )
        return ", ".join(parts)

    def result(passed: bool, message: str, inconclusive: bool = False) -> Check:
        return Check(
            "per_class_f1", drops[worst], None, limit, "lower", passed, message, inconclusive
        )

    if not too_big:
        if drops[worst] <= 0:
            return result(True, "no class's F1 dropped")
        return result(True, f"largest F1 drop {drops[worst]:.4f} ({detail([worst])}) <= {limit:g}")
    on_holdout = [label for label in too_big if shown(tests.get(label))]
    if on_holdout:
        return result(
            False,
            f"F1 dropped by more than {limit:g} for: {detail(on_holdout)}; shown at one-sided "
            f"{level:g} after Holm's correction across {len(tests)} classes",
        )
    unshown = (
        f"holdout F1 drops over {limit:g} for {detail(too_big)} are within row noise (Holm-"
        f"adjusted sign test above {level:g})"
    )
    if cv is None:
        return result(False, f"{unshown}: too few rows to tell", inconclusive=True)
    cv_drops, cv_tests = cv
    over = [label for label in too_big if cv_drops.get(label, 0.0) > limit + _EPS]
    cv_text = ", ".join(
        f"{label} {cv_drops.get(label, 0.0):+.4f}"
        + (f" (Holm p = {cv_tests[label].adjusted:.3g})" if label in cv_tests else "")
        for label in too_big
    )
    confirmed = [label for label in over if shown(cv_tests.get(label))]
    if confirmed:
        return result(False, f"{unshown}; cross-validation confirms them: drops {cv_text}")
    if over:
        return result(
            False,
            f"{unshown}; cross-validation shows drops over {limit:g} within its noise too: "
            f"{cv_text}",
            inconclusive=True,
        )
    return result(True, f"{unshown}; cross-validation over every row does not: drops {cv_text}")


def mcnemar_label(b: int, c: int, p_value: float, alpha: float) -> str:
    if p_value >= alpha or b == c:
        return NO_DIFFERENCE
    return BETTER if c > b else WORSE


def mcnemar_check(summary: McNemarSummary, non_inferiority: Check) -> Check:
    """Informational unless the challenger is significantly worse AND non-inferiority failed."""
    failed = not non_inferiority.passed and not non_inferiority.inconclusive
    blocking = summary.label == WORSE and failed
    relation = "<" if summary.p_value < summary.alpha else ">="
    message = (
        f"accuracy on the discordant rows: b={summary.b} (champion right, challenger wrong), "
        f"c={summary.c} (champion wrong, challenger right), exact p={summary.p_value:.4g} "
        f"{relation} alpha={summary.alpha:g}: {summary.label}"
    )
    if summary.label == WORSE:
        message += "; non-inferiority failed too" if blocking else "; not a failure on its own"
    return Check("mcnemar", summary.p_value, None, summary.alpha, None, not blocking, message)


def not_comparable_check(name: str, why: str, cfg: GateConfig, schema_changed: bool) -> Check:
    """A paired check that could not run: passes only for a recorded schema change that
    `gate.allow_schema_change` accepts; an unexplained failure to score fails closed."""
    if not schema_changed:
        message = (
            f"not comparable: {why} and no recorded schema change explains it; the gate fails "
            "closed (check the champion's artifact in the registry, or pass --champion)"
        )
        return info(name, False, message)
    if cfg.allow_schema_change:
        outcome = "accepted because gate.allow_schema_change is true"
    else:
        outcome = "set gate.allow_schema_change: true to accept a model that cannot be compared"
    return info(name, cfg.allow_schema_change, f"not comparable: {why}; {outcome}")


def schema_changes(old: _Schema, new: _Schema) -> tuple[str, ...]:
    """Breaking differences for callers of `old`: removed, retyped and added columns."""
    before, after = dict(old), dict(new)
    removed = [f"removed {c!r} ({t})" for c, t in before.items() if c not in after]
    retyped = [
        f"{c!r} changed type {t} -> {after[c]}"
        for c, t in before.items()
        if c in after and after[c] != t
    ]
    added = [f"added {c!r} ({t})" for c, t in after.items() if c not in before]
    return tuple(removed + retyped + added)


def signature_check(
    champion: ModelEvidence, challenger: ModelEvidence, cfg: GateConfig, *, comparable: bool
) -> Check:
    """`signature`: the number of breaking input-schema changes against 0."""
    allow = cfg.allow_schema_change
    if allow:
        accept = "accepted because gate.allow_schema_change is true"
    else:
        accept = "set gate.allow_schema_change: true to accept it"
    threshold = None if allow else 0.0
    if champion.input_schema is None or challenger.input_schema is None:
        missing = ", ".join(
            f"v{m.version}" for m in (champion, challenger) if m.input_schema is None
        )
        if comparable:
            message = (
                f"no input schema recorded for {missing}: compatibility not checked "
                "(the champion scored this holdout)"
            )
            return info("signature", True, message)
        message = (
            f"no input schema recorded for {missing} and the champion cannot score this "
            "holdout: a schema change cannot be told from a broken model, so the gate fails "
            "closed (re-register the model with a signature)"
        )
        return Check("signature", None, None, threshold, "lower", False, message)
    changes = schema_changes(champion.input_schema, challenger.input_schema)
    if changes:
        message = f"breaking for the champion's callers: {'; '.join(changes)}; {accept}"
    else:
        message = f"input schema unchanged ({len(challenger.input_schema)} columns)"
    passed = allow or not changes
    return Check("signature", float(len(changes)), None, threshold, "lower", passed, message)


#: Below this wall time per batch a latency is not judged: scheduler and timer noise on a shared
#: runner are of the same order (measured: the same batch took 3-24 ms in one process).
LATENCY_FLOOR_S = 0.005


def budget_checks(
    challenger: ModelEvidence, champion: ModelEvidence, cfg: GateConfig
) -> tuple[Check, Check]:
    """`budget.size`, `budget.latency`: the challenger's value against ratio x the champion's."""
    size = _Budget("budget.size", "size", cfg.max_size_ratio, "gate.max_size_ratio", _fmt_bytes)
    return (
        size.check(challenger.size_bytes, champion.size_bytes),
        latency_check(challenger, champion, cfg.max_latency_ratio),
    )


def latency_check(challenger: ModelEvidence, champion: ModelEvidence, ratio: float) -> Check:
    """`budget.latency`: the median per-pair ratio of interleaved timings against `ratio`."""
    name, key = "budget.latency", "gate.max_latency_ratio"
    new, old = challenger.latency_s, champion.latency_s
    if new is None or old is None:
        whose = "challenger" if new is None else "champion"
        message = f"skipped: predict latency unknown for the {whose}"
        return Check(name, float_or_none(new), float_or_none(old), None, "lower", True, message)
    if old <= 0:
        message = f"skipped: the champion's predict latency is {_fmt_seconds(old)}, no ratio"
        return Check(name, float(new), float(old), None, "lower", True, message)
    limit = ratio * old
    runs_new, runs_old = challenger.latency_runs, champion.latency_runs
    if runs_new and len(runs_new) == len(runs_old):
        import numpy as np

        ratios = np.asarray(runs_new) / np.maximum(np.asarray(runs_old), 1e-12)
        observed = float(np.median(ratios))
        q1, q3 = np.quantile(ratios, [0.25, 0.75])
        noise = float(q3 - q1) / 2
        how = f"median of {len(ratios)} interleaved pairs, noise ±{noise:.2f}"
    else:
        observed, noise, how = new / old, 0.0, "one timing each"
    numbers = f"predict latency {_fmt_seconds(new)} vs {_fmt_seconds(old)}: x{observed:.2f}"
    if new < LATENCY_FLOOR_S:
        message = (
            f"{numbers} ({how}); not judged: under the {_fmt_seconds(LATENCY_FLOOR_S)} floor "
            "where timer noise dominates"
        )
        return Check(name, float(new), float(old), limit, "lower", True, message)
    if observed <= ratio * (1 + _EPS):
        message = f"{numbers} <= x{ratio:g} ({key}; {how})"
        return Check(name, float(new), float(old), limit, "lower", True, message)
    if observed - noise <= ratio:
        message = (
            f"{numbers} > x{ratio:g} ({key}) by less than the timing noise ({how}): cannot tell"
        )
        return Check(name, float(new), float(old), limit, "lower", False, message, True)
    message = f"{numbers} > x{ratio:g} ({key}; {how})"
    return Check(name, float(new), float(old), limit, "lower", False, message)


@dataclass(frozen=True)
class _Budget:
    name: str
    what: str
    ratio: float
    key: str
    fmt: Callable[[float], str]

    def check(self, new: float | None, old: float | None) -> Check:
        """challenger value <= ratio x champion value; skipped when either is unknown."""
        if new is None or old is None:
            whose = "challenger" if new is None else "champion"
            message = f"skipped: {self.what} unknown for the {whose}"
            return Check(
                self.name, float_or_none(new), float_or_none(old), None, "lower", True, message
            )
        if old <= 0:
            message = f"skipped: the champion's {self.what} is {self.fmt(old)}, no ratio to compare"
            return Check(self.name, float(new), float(old), None, "lower", True, message)
        limit = self.ratio * old
        passed = new <= limit * (1 + _EPS)
        message = (
            f"{self.what} {self.fmt(new)} vs {self.fmt(old)}: x{new / old:.2f} "
            f"{'<=' if passed else '>'} x{self.ratio:g} ({self.key})"
        )
        return Check(self.name, float(new), float(old), limit, "lower", passed, message)


def float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _fmt_bytes(value: float) -> str:
    if value < 1024:
        return f"{value:.0f} B"
    for unit in ("KiB", "MiB"):
        value /= 1024
        if value < 1024:
            return f"{value:.1f} {unit}"
    return f"{value / 1024:.1f} GiB"


def _fmt_seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
