"""The gate's rules: each takes numbers about the two models and returns one `Check`.

Pure functions, no I/O. gate.py decides which rules apply (no champion, not comparable, paired)
and turns their results into a verdict; the rules themselves and their messages live here.

For every check, `passed` is `candidate` compared with `threshold` in `direction` ("higher":
candidate >= threshold, "lower": candidate <= threshold); ties pass, with a 1e-9 tolerance for
floating-point rounding.

- `threshold.<metric>`: the challenger's holdout metric (baseline: the champion's) against
  `gate.thresholds`. A threshold on a metric that does not exist fails and lists those that do.
- `non_inferiority.<primary>`: the lower bound of the paired percentile-bootstrap interval of
  (challenger − champion) against −`gate.margin`.
- `per_class_f1`: the largest per-class F1 drop (champion − challenger) against
  `gate.max_class_drop`.
- `mcnemar`: the exact test on discordant rows labels the challenger significantly better,
  significantly worse or "no detectable difference" at `gate.alpha`. It is informational: it
  fails only when the challenger is significantly worse *and* non-inferiority failed too, so it
  can never flip a verdict on its own. A significant loss smaller than the margin is exactly
  what a non-inferiority margin is there to accept; with large holdouts tiny losses become
  significant.
- `signature`: the number of breaking input-schema changes against 0. Removed columns and type
  changes break the champion's callers; added columns break them too, since those callers do
  not send them. `gate.allow_schema_change` accepts them (the check then passes and says so).
  When the champion cannot score the holdout, only a recorded schema change can excuse it: an
  unknown schema or an unchanged one fails closed, whatever `gate.allow_schema_change` says.
- `budget.size`, `budget.latency`: the challenger's value against `max_*_ratio` × the
  champion's; skipped (passing, with a message) when a number is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .config import GateConfig
from .stats import METRICS

if TYPE_CHECKING:
    from .gate import ModelEvidence

__all__ = [
    "BETTER",
    "NO_DIFFERENCE",
    "WORSE",
    "Check",
    "McNemarSummary",
    "budget_checks",
    "float_or_none",
    "info",
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


def non_inferiority_check(
    chall: Mapping[str, Any],
    champ: Mapping[str, Any],
    intervals: Mapping[str, tuple[float, float]],
    cfg: GateConfig,
) -> Check:
    """`non_inferiority.<primary>`: the interval's lower bound against −`gate.margin`."""
    metric, margin = cfg.primary_metric, cfg.margin
    name = f"non_inferiority.{metric}"
    if metric not in intervals:
        message = (
            f"gate.primary_metric {metric!r} has no paired interval; "
            f"use one of: {', '.join(METRICS)}"
        )
        return Check(name, None, None, -margin, "higher", False, message)
    lo, hi = intervals[metric]
    delta = chall[metric] - champ[metric]
    passed = lo >= -margin - _EPS
    message = (
        f"delta {metric} {delta:+.4f}, {cfg.confidence * 100:g}% CI [{lo:+.4f}, {hi:+.4f}]: "
        f"lower bound {lo:+.4f} {'>=' if passed else '<'} -{margin:g} (margin)"
    )
    return Check(name, lo, None, -margin, "higher", passed, message)


def per_class_check(
    chall: Mapping[Any, float], champ: Mapping[Any, float], cfg: GateConfig
) -> Check:
    """`per_class_f1`: the largest per-class F1 drop against `gate.max_class_drop`."""
    limit = cfg.max_class_drop
    drops = {label: champ[label] - chall[label] for label in champ}
    if not drops:
        return Check("per_class_f1", None, None, limit, "lower", True, "no classes to compare")
    worst = max(drops, key=lambda label: drops[label])
    too_big = [label for label, drop in drops.items() if drop > limit + _EPS]
    if too_big:
        detail = ", ".join(f"{label} {champ[label]:.4f} -> {chall[label]:.4f}" for label in too_big)
        message = f"F1 dropped by more than {limit:g} for: {detail}"
    elif drops[worst] <= 0:
        message = "no class's F1 dropped"
    else:
        message = (
            f"largest F1 drop {drops[worst]:.4f} "
            f"({worst} {champ[worst]:.4f} -> {chall[worst]:.4f}) <= {limit:g}"
        )
    return Check("per_class_f1", drops[worst], None, limit, "lower", not too_big, message)


def mcnemar_label(b: int, c: int, p_value: float, alpha: float) -> str:
    if p_value >= alpha or b == c:
        return NO_DIFFERENCE
    return BETTER if c > b else WORSE


def mcnemar_check(summary: McNemarSummary, non_inferiority: Check) -> Check:
    """Informational unless the challenger is significantly worse AND non-inferiority failed."""
    blocking = summary.label == WORSE and not non_inferiority.passed
    relation = "<" if summary.p_value < summary.alpha else ">="
    message = (
        f"b={summary.b} (champion right, challenger wrong), c={summary.c} (champion wrong, "
        f"challenger right), exact p={summary.p_value:.4g} {relation} alpha={summary.alpha:g}: "
        f"{summary.label}"
    )
    if summary.label == WORSE:
        message += "; non-inferiority failed too" if blocking else "; within the margin"
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


def budget_checks(
    challenger: ModelEvidence, champion: ModelEvidence, cfg: GateConfig
) -> tuple[Check, Check]:
    """`budget.size`, `budget.latency`: the challenger's value against ratio x the champion's."""
    size = _Budget("budget.size", "size", cfg.max_size_ratio, "gate.max_size_ratio", _fmt_bytes)
    latency = _Budget(
        "budget.latency",
        "predict latency",
        cfg.max_latency_ratio,
        "gate.max_latency_ratio",
        _fmt_seconds,
    )
    return (
        size.check(challenger.size_bytes, champion.size_bytes),
        latency.check(challenger.latency_s, champion.latency_s),
    )


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
