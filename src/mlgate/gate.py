"""The gate: evidence about a challenger (and the champion) + `GateConfig` -> `GateResult`.

Pure: no MLflow, no I/O. The CLI layer scores both versions on the same holdout and hands the
predictions here as `ModelEvidence`; `evaluate` returns every check with its numbers and a
verdict, and never raises: an unexpected error becomes a failed `gate.error` check, because a
gate that cannot decide must not let a model through (fail closed).

Checks, in order (DESIGN §4). For each, `passed` is `candidate` compared with `threshold` in
`direction` ("higher": candidate >= threshold, "lower": candidate <= threshold); ties pass, with
a 1e-9 tolerance for floating-point rounding.

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
- `budget.size`, `budget.latency`: the challenger's value against `max_*_ratio` × the
  champion's; skipped (passing, with a message) when a number is missing.

Without a champion only thresholds apply (verdict "pass (no champion)"). When the champion
cannot score the holdout (typically a schema change), its logged metrics are shown for
reference, the result is marked not comparable, and the paired checks pass only if
`gate.allow_schema_change` is set. A challenger that cannot score fails the gate.
`gate.mode: dry_run` evaluates everything and tells the true verdict, but `passed` (what the
exit code follows) is always true; `disabled` runs nothing and passes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from .config import GateConfig
from .stats import (
    METRICS,
    classification_metrics,
    mcnemar,
    paired_bootstrap_deltas,
    percentile_interval,
)

__all__ = [
    "BETTER",
    "NO_DIFFERENCE",
    "VERDICT_FAIL",
    "VERDICT_NO_CHAMPION",
    "VERDICT_PASS",
    "WORSE",
    "Check",
    "ClassRow",
    "GateResult",
    "Holdout",
    "McNemarSummary",
    "MetricRow",
    "ModelEvidence",
    "ModelRef",
    "evaluate",
    "schema_changes",
]

VERDICT_PASS = "pass"
VERDICT_FAIL = "fail"
VERDICT_NO_CHAMPION = "pass (no champion)"
BETTER = "significantly better"
WORSE = "significantly worse"
NO_DIFFERENCE = "no detectable difference"

_EPS = 1e-9
_Schema = tuple[tuple[str, str], ...]


@dataclass(frozen=True, eq=False)
class ModelEvidence:
    """What the CLI layer gathered about one model version (eq=False: it holds an array)."""

    version: str
    run_id: str | None = None
    predictions: np.ndarray | None = None  # labels predicted on the holdout
    input_schema: _Schema | None = None  # (column, type) pairs from the signature
    size_bytes: int | None = None
    latency_s: float | None = None  # wall time of predict() on the holdout
    logged_metrics: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    error: str | None = None  # why it could not score the holdout


@dataclass(frozen=True)
class ModelRef:
    """Which registered model version a result is about."""

    version: str
    run_id: str | None


@dataclass(frozen=True)
class Holdout:
    """The rows both models were scored on, identified by content hash."""

    sha256: str
    n_rows: int


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
class MetricRow:
    """One metric of both models; `passed` is None when no check is about this metric."""

    metric: str
    champion: float | None
    challenger: float | None
    delta: float | None
    ci_lo: float | None
    ci_hi: float | None
    passed: bool | None


@dataclass(frozen=True)
class ClassRow:
    """F1 of one class for both models; `support` is its row count in the holdout."""

    label: str
    champion_f1: float | None
    challenger_f1: float | None
    delta: float | None
    support: int


@dataclass(frozen=True)
class McNemarSummary:
    """McNemar's exact test on the paired predictions and its label at `alpha`."""

    b: int  # champion right, challenger wrong
    c: int  # champion wrong, challenger right
    p_value: float
    alpha: float
    label: str


@dataclass(frozen=True)
class GateResult:
    """The verdict and all its evidence; `passed` is what the exit code follows."""

    verdict: str
    mode: str
    passed: bool
    checks: tuple[Check, ...]
    metrics: tuple[MetricRow, ...]
    per_class: tuple[ClassRow, ...]
    mcnemar: McNemarSummary | None
    comparable: bool
    holdout: Holdout
    challenger: ModelRef
    champion: ModelRef | None
    config: GateConfig
    note: str | None = None

    @property
    def dry_run(self) -> bool:
        return self.mode == "dry_run"

    @property
    def failed_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)


def evaluate(
    y_true: Sequence[Any] | np.ndarray,
    classes: Sequence[Any] | None,
    challenger: ModelEvidence,
    champion: ModelEvidence | None,
    cfg: GateConfig,
    holdout_sha256: str,
) -> GateResult:
    """Run every check of DESIGN §4; never raises, and an error is never a pass."""
    if cfg.mode == "disabled":
        return _disabled(y_true, challenger, champion, cfg, holdout_sha256)
    try:
        return _evaluate(y_true, classes, challenger, champion, cfg, holdout_sha256)
    except Exception as exc:
        return _errored(exc, y_true, challenger, champion, cfg, holdout_sha256)


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


# --- evaluation paths: challenger failed, no champion, not comparable, paired ----------------


def _evaluate(
    y_true: Sequence[Any] | np.ndarray,
    classes: Sequence[Any] | None,
    challenger: ModelEvidence,
    champion: ModelEvidence | None,
    cfg: GateConfig,
    holdout_sha256: str,
) -> GateResult:
    truth = np.asarray(y_true)
    if truth.ndim != 1 or truth.size == 0:
        raise ValueError(
            f"the holdout must be a non-empty 1-d label array, got shape {truth.shape}"
        )
    labels = list(classes) if classes is not None else np.unique(truth).tolist()
    ctx = _Context(truth, labels, challenger, champion, cfg, holdout_sha256)
    problem = _scoring_problem(challenger, truth.size)
    if problem is not None:
        return ctx.challenger_failed(problem)
    chall = classification_metrics(truth, challenger.predictions, labels)
    if champion is None:
        return ctx.no_champion(chall)
    champ_problem = _scoring_problem(champion, truth.size)
    if champ_problem is not None:
        return ctx.not_comparable(chall, champion, champ_problem)
    return ctx.paired(chall, champion)


@dataclass(frozen=True)
class _Context:
    truth: np.ndarray
    labels: list[Any]
    challenger: ModelEvidence
    champion: ModelEvidence | None
    cfg: GateConfig
    sha256: str

    def challenger_failed(self, problem: str) -> GateResult:
        check = _info(
            "challenger.scored",
            False,
            f"challenger v{self.challenger.version} could not score the holdout: {problem}; "
            "the gate fails closed (fix the model or its input schema and re-run)",
        )
        champ_logged = self.champion.logged_metrics if self.champion else {}
        rows = _logged_rows(self.challenger.logged_metrics, champ_logged, ())
        note = "the challenger could not score the holdout; logged metrics shown for reference"
        return self.finish((check,), rows, (), None, comparable=False, note=note)

    def no_champion(self, chall: Mapping[str, Any]) -> GateResult:
        checks = _threshold_checks(chall, None, self.cfg)
        rows = _logged_rows(chall, {}, checks)
        per_class = self.class_rows(chall["per_class_f1"], None)
        note = "no champion: only the absolute thresholds apply"
        return self.finish(checks, rows, per_class, None, comparable=False, note=note)

    def not_comparable(
        self, chall: Mapping[str, Any], champion: ModelEvidence, problem: str
    ) -> GateResult:
        """The champion cannot score this holdout: logged metrics, paired checks not comparable."""
        logged = champion.logged_metrics
        signature = _signature_check(champion, self.challenger, self.cfg, comparable=False)
        why = f"champion v{champion.version} could not score this holdout"
        paired = (f"non_inferiority.{self.cfg.primary_metric}", "per_class_f1", "mcnemar")
        checks = (
            *_threshold_checks(chall, logged, self.cfg),
            *(_not_comparable(name, why, self.cfg) for name in paired),
            signature,
            *_budget_checks(self.challenger, champion, self.cfg),
        )
        rows = _logged_rows(chall, logged, checks)
        champ_f1 = {label: _float_or_none(logged.get(f"f1_{label}")) for label in self.labels}
        per_class = self.class_rows(chall["per_class_f1"], champ_f1)
        schema_changed = signature.candidate is None or signature.candidate > 0
        kind = "schema change" if schema_changed else "champion cannot score"
        note = (
            f"{kind}: {why} ({problem}); its logged metrics are shown for reference "
            "and are not comparable"
        )
        return self.finish(checks, rows, per_class, None, comparable=False, note=note)

    def paired(self, chall: Mapping[str, Any], champion: ModelEvidence) -> GateResult:
        """Both models scored the same rows: every check of DESIGN §4 applies."""
        cfg = self.cfg
        old, new = champion.predictions, self.challenger.predictions
        champ = classification_metrics(self.truth, old, self.labels)
        deltas = paired_bootstrap_deltas(
            self.truth, old, new, self.labels, METRICS, cfg.n_bootstrap, cfg.seed
        )
        intervals = {m: percentile_interval(deltas[m], cfg.confidence) for m in METRICS}
        test = mcnemar(self.truth, old, new)
        label = _mcnemar_label(test.b, test.c, test.p_value, cfg.alpha)
        summary = McNemarSummary(test.b, test.c, test.p_value, cfg.alpha, label)
        non_inferiority = _non_inferiority_check(chall, champ, intervals, cfg)
        checks = (
            *_threshold_checks(chall, champ, cfg),
            non_inferiority,
            _per_class_check(chall["per_class_f1"], champ["per_class_f1"], cfg),
            _mcnemar_check(summary, non_inferiority),
            _signature_check(champion, self.challenger, cfg, comparable=True),
            *_budget_checks(self.challenger, champion, cfg),
        )
        rows = tuple(
            MetricRow(m, champ[m], chall[m], chall[m] - champ[m], *intervals[m], None)
            for m in METRICS
        )
        rows = tuple(replace(row, passed=_row_passed(row.metric, checks)) for row in rows)
        per_class = self.class_rows(chall["per_class_f1"], champ["per_class_f1"])
        return self.finish(checks, rows, per_class, summary, comparable=True, note=None)

    def class_rows(
        self, chall: Mapping[Any, float], champ: Mapping[Any, float | None] | None
    ) -> tuple[ClassRow, ...]:
        rows = []
        for label in self.labels:
            old = None if champ is None else champ.get(label)
            new = chall.get(label)
            delta = None if old is None or new is None else new - old
            support = int(np.count_nonzero(self.truth == label))
            rows.append(ClassRow(str(label), old, new, delta, support))
        return tuple(rows)

    def finish(
        self,
        checks: tuple[Check, ...],
        rows: tuple[MetricRow, ...],
        per_class: tuple[ClassRow, ...],
        summary: McNemarSummary | None,
        *,
        comparable: bool,
        note: str | None,
    ) -> GateResult:
        ok = all(c.passed for c in checks)
        if not ok:
            verdict = VERDICT_FAIL
        else:
            verdict = VERDICT_PASS if self.champion is not None else VERDICT_NO_CHAMPION
        return GateResult(
            verdict=verdict,
            mode=self.cfg.mode,
            passed=ok or self.cfg.mode == "dry_run",
            checks=checks,
            metrics=rows,
            per_class=per_class,
            mcnemar=summary,
            comparable=comparable,
            holdout=Holdout(self.sha256, int(self.truth.size)),
            challenger=_ref(self.challenger),
            champion=None if self.champion is None else _ref(self.champion),
            config=self.cfg,
            note=note,
        )


def _disabled(y_true: Any, challenger: Any, champion: Any, cfg: Any, sha256: str) -> GateResult:
    message = "gate.mode is disabled: no check ran (set gate.mode: enabled in params.yaml to gate)"
    check = _info("gate.disabled", True, message)
    return _bare_result(VERDICT_PASS, True, check, y_true, challenger, champion, cfg, sha256)


def _errored(
    exc: Exception, y_true: Any, challenger: Any, champion: Any, cfg: Any, sha256: str
) -> GateResult:
    """A failed result for an unexpected error; dry_run still does not block, but says fail."""
    message = f"the gate could not be evaluated ({type(exc).__name__}: {exc}); it fails closed"
    dry_run = getattr(cfg, "mode", None) == "dry_run"
    check = _info("gate.error", False, message)
    return _bare_result(VERDICT_FAIL, dry_run, check, y_true, challenger, champion, cfg, sha256)


def _bare_result(
    verdict: str,
    passed: bool,
    check: Check,
    y_true: Any,
    challenger: Any,
    champion: Any,
    cfg: Any,
    sha256: str,
) -> GateResult:
    """A result with one check and no evidence; defensive, since the inputs may be the error."""
    try:
        n_rows = len(y_true)
    except TypeError:
        n_rows = 0
    return GateResult(
        verdict=verdict,
        mode=str(getattr(cfg, "mode", "enabled")),
        passed=passed,
        checks=(check,),
        metrics=(),
        per_class=(),
        mcnemar=None,
        comparable=False,
        holdout=Holdout(str(sha256), n_rows),
        challenger=_ref(challenger),
        champion=None if champion is None else _ref(champion),
        config=cfg if isinstance(cfg, GateConfig) else GateConfig(),
        note=None,
    )


# --- checks ---------------------------------------------------------------------------------


def _threshold_checks(
    chall: Mapping[str, Any], champ: Mapping[str, Any] | None, cfg: GateConfig
) -> tuple[Check, ...]:
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
        baseline = _float_or_none(champ.get(metric)) if champ is not None else None
        passed = value >= minimum - _EPS
        message = f"{metric} {value:.4f} {'>=' if passed else '<'} {minimum:g}"
        checks.append(Check(name, value, baseline, minimum, "higher", passed, message))
    return tuple(checks)


def _non_inferiority_check(
    chall: Mapping[str, Any],
    champ: Mapping[str, Any],
    intervals: Mapping[str, tuple[float, float]],
    cfg: GateConfig,
) -> Check:
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


def _per_class_check(
    chall: Mapping[Any, float], champ: Mapping[Any, float], cfg: GateConfig
) -> Check:
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


def _mcnemar_label(b: int, c: int, p_value: float, alpha: float) -> str:
    if p_value >= alpha or b == c:
        return NO_DIFFERENCE
    return BETTER if c > b else WORSE


def _mcnemar_check(summary: McNemarSummary, non_inferiority: Check) -> Check:
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


def _not_comparable(name: str, why: str, cfg: GateConfig) -> Check:
    if cfg.allow_schema_change:
        outcome = "accepted because gate.allow_schema_change is true"
    else:
        outcome = "set gate.allow_schema_change: true to accept a model that cannot be compared"
    return _info(name, cfg.allow_schema_change, f"not comparable: {why}; {outcome}")


def _signature_check(
    champion: ModelEvidence, challenger: ModelEvidence, cfg: GateConfig, *, comparable: bool
) -> Check:
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
            return _info("signature", True, message)
        message = (
            f"no input schema recorded for {missing} and the champion cannot score this "
            f"holdout: treated as a breaking change; {accept}"
        )
        return Check("signature", None, None, threshold, "lower", allow, message)
    changes = schema_changes(champion.input_schema, challenger.input_schema)
    if changes:
        message = f"breaking for the champion's callers: {'; '.join(changes)}; {accept}"
    else:
        message = f"input schema unchanged ({len(challenger.input_schema)} columns)"
    passed = allow or not changes
    return Check("signature", float(len(changes)), None, threshold, "lower", passed, message)


def _budget_checks(
    challenger: ModelEvidence, champion: ModelEvidence, cfg: GateConfig
) -> tuple[Check, Check]:
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
                self.name, _float_or_none(new), _float_or_none(old), None, "lower", True, message
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


# --- helpers --------------------------------------------------------------------------------


def _scoring_problem(evidence: ModelEvidence, n_rows: int) -> str | None:
    """Why this model's predictions cannot be used, or None when they can."""
    if evidence.error:
        return evidence.error
    if evidence.predictions is None:
        return "no predictions were recorded"
    n = len(evidence.predictions)
    if n != n_rows:
        return f"{n} predictions for a holdout of {n_rows} rows"
    return None


def _logged_rows(
    chall: Mapping[str, Any], champ: Mapping[str, Any], checks: Sequence[Check]
) -> tuple[MetricRow, ...]:
    """Metric rows without intervals (values that were not computed on paired predictions)."""
    rows = []
    for m in METRICS:
        new, old = _float_or_none(chall.get(m)), _float_or_none(champ.get(m))
        delta = None if new is None or old is None else new - old
        rows.append(MetricRow(m, old, new, delta, None, None, _row_passed(m, checks)))
    return tuple(rows)


def _row_passed(metric: str, checks: Sequence[Check]) -> bool | None:
    names = (f"threshold.{metric}", f"non_inferiority.{metric}")
    related = [c.passed for c in checks if c.name in names]
    return all(related) if related else None


def _info(name: str, passed: bool, message: str) -> Check:
    """A check without numbers (an outcome that is a fact, not a measurement)."""
    return Check(name, None, None, None, None, passed, message)


def _ref(evidence: Any) -> ModelRef:
    return ModelRef(str(getattr(evidence, "version", "?")), getattr(evidence, "run_id", None))


def _float_or_none(value: Any) -> float | None:
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
