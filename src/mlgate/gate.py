"""The gate: evidence about a challenger (and the champion) + `GateConfig` -> `GateResult`.

Pure: no MLflow, no I/O. challenge.py scores both versions on the same holdout and hands the
predictions here as `ModelEvidence`; `evaluate` returns every check with its numbers and a
verdict, and never raises: an unexpected error becomes a failed `gate.error` check, because a
gate that cannot decide must not let a model through (fail closed).

Checks, in order (README, Architecture, "The gate's checks"), each one rule of checks.py (which
documents them): `threshold.*`, `non_inferiority.<primary>`, `per_class_f1`, `mcnemar`,
`signature`, `budget.size`, `budget.latency`. The verdict is "fail" when any check fails,
"inconclusive" when the only checks not passed could not tell (non-inferiority or per-class
inside the noise, or too few clean rows), and then `passed` follows `gate.on_inconclusive` (fail:
blocks; warn, pass: does not; only pass earns the candidate aliases, challenge.py). Every paired
verdict carries its `Decision`: the interval, and the power it implies.

Without a champion only thresholds apply (verdict "pass (no champion)"). When the champion
cannot score the holdout (typically a schema change), its logged metrics are shown for
reference, the result is marked not comparable, and the paired checks pass only if the
signatures show a schema change and `gate.allow_schema_change` is set (a champion that cannot
score for another reason, e.g. a corrupted artifact, fails closed). A challenger that cannot
score fails the gate.
`gate.mode: dry_run` evaluates everything and tells the true verdict, but `passed` (what the
exit code follows) is always true; `disabled` runs nothing and passes.

Every path is the same for both tasks; what differs is one rules object per task (`_RULES`,
chosen once from `Slices.task`). A classifier's: scores in [0, 1], the configured margin,
per-class F1 and McNemar. A regressor's (regression.py's rules): thresholds on RMSE, MAE or R² in
their own direction, the three verdicts of non-inferiority on the primary error's improvement
(the margin a share of the champion's error when `gate.margin_kind` is relative), and
`per_slice.<column>` on `data.slice_by` instead of per-class F1 and McNemar.

Why one module: the result types and the five paths that build them (disabled, errored,
challenger failed, no champion or no clean row, not comparable, paired) are one decision read
top to bottom; split, each path would import the others' types to build the same result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from . import checks, regression, task
from .checks import BETTER, NO_DIFFERENCE, WORSE, Check, McNemarSummary, schema_changes
from .config import GateConfig
from .crossval import CrossValidation
from .multiplicity import ClassDrop, class_sign_tests
from .noninferiority import (
    MIN_ROWS,
    OC_DROPS,
    Decision,
    decide,
    honest_interval,
    min_holdout_rows,
    projected_cv_se,
    stage_confidence,
)
from .regression import SliceRow
from .rows import DataChange
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
    "VERDICT_INCONCLUSIVE",
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
    "MoreEvidence",
    "Slices",
    "evaluate",
    "schema_changes",
]

VERDICT_PASS = "pass"
VERDICT_FAIL = "fail"
VERDICT_INCONCLUSIVE = "inconclusive"
VERDICT_NO_CHAMPION = "pass (no champion)"
_Schema = tuple[tuple[str, str], ...]


@dataclass(frozen=True, eq=False)
class ModelEvidence:
    """What challenge.py gathered about one model version (eq=False: it holds an array)."""

    version: str
    run_id: str | None = None
    predictions: np.ndarray | None = None  # labels predicted on the holdout
    input_schema: _Schema | None = None  # (column, type) pairs from the signature
    size_bytes: int | None = None
    latency_s: float | None = None  # median wall time of predict() on the holdout
    # Each timed predict, interleaved with the other model's (same index, same moment).
    latency_runs: tuple[float, ...] = ()
    logged_metrics: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    error: str | None = None  # why it could not score the holdout


@dataclass(frozen=True)
class ModelRef:
    """Which registered model version a result is about."""

    version: str
    run_id: str | None


@dataclass(frozen=True)
class Holdout:
    """The holdout, identified by content hash, and how many of its rows were compared:
    `n_clean` rows neither model trained on (`why_fewer` says why the others were left out)."""

    sha256: str
    n_rows: int
    n_clean: int | None = None
    why_fewer: str | None = None


@dataclass(frozen=True, eq=False)
class MoreEvidence:
    """What challenge.py adds to the predictions: the holdout before the unclean rows were
    dropped, the paired cross-validation of the two recipes (or why it did not run), the data
    file's size and how it differs from the champion's."""

    n_holdout: int | None = None
    why_fewer: str | None = None
    cv: CrossValidation | None = None
    cv_note: str | None = None
    n_data: int | None = None  # rows of the data file (the cross-validation's folds)
    # How the data file differs from the champion's, row by row (None: nothing recorded).
    data_change: DataChange | None = None


@dataclass(frozen=True, eq=False)
class Slices:
    """The task and, for regression, each compared row's value of `data.slice_by`."""

    task: str = task.DEFAULT
    column: str | None = None
    values: np.ndarray | None = None  # one per compared (clean) holdout row
    order: tuple[str, ...] = ()  # the schema's categories: the table's order


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
    decision: Decision | None = None  # the primary metric's verdict and its evidence
    cv: CrossValidation | None = None
    task: str = task.DEFAULT
    # Regression: the primary error metric per value of data.slice_by (no per-class rows).
    per_slice: tuple[SliceRow, ...] = ()
    slice_column: str | None = None
    data_change: DataChange | None = None  # the data file against the champion's

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
    more: MoreEvidence | None = None,
    slices: Slices | None = None,
) -> GateResult:
    """Run every check the gate has; never raises, and an error is never a pass.

    `y_true` and the predictions cover the clean holdout rows only; `more` says how many the
    holdout had and carries the cross-validation when it ran. `slices` asks for a regression
    (`Slices.task`; classification when None) and carries `data.slice_by`'s values of the same
    rows.
    """
    if cfg.mode == "disabled":
        return _disabled(y_true, challenger, champion, cfg, holdout_sha256)
    try:
        more = more or MoreEvidence()
        slices = slices or Slices()
        return _evaluate(y_true, classes, challenger, champion, cfg, holdout_sha256, more, slices)
    except Exception as exc:
        return _errored(exc, y_true, challenger, champion, cfg, holdout_sha256)


# --- evaluation paths: challenger failed, no champion, not comparable, paired ----------------


def _evaluate(
    y_true: Sequence[Any] | np.ndarray,
    classes: Sequence[Any] | None,
    challenger: ModelEvidence,
    champion: ModelEvidence | None,
    cfg: GateConfig,
    holdout_sha256: str,
    more: MoreEvidence,
    slices: Slices,
) -> GateResult:
    truth = np.asarray(y_true)
    if truth.ndim != 1 or (truth.size == 0 and not more.n_holdout):
        raise ValueError(
            f"the holdout must be a non-empty 1-d label array, got shape {truth.shape}"
        )
    rules = _RULES[task.named(slices.task)]
    truth, labels = rules.truth(truth, classes)
    ctx = _Context(truth, labels, challenger, champion, cfg, holdout_sha256, more, slices)
    problem = _scoring_problem(challenger, truth.size)
    if problem is not None:
        return ctx.challenger_failed(problem)
    if truth.size == 0:  # every holdout row trained one of the models: nothing to score on
        challenger_scores = {
            **challenger.logged_metrics,
            "per_class_f1": {c: challenger.logged_metrics.get(f"f1_{c}") for c in labels},
        }
    else:
        challenger_scores = ctx.score(challenger.predictions)
    if champion is None:
        return ctx.no_champion(challenger_scores)
    champ_problem = _scoring_problem(champion, truth.size)
    if champ_problem is not None:
        return ctx.not_comparable(challenger_scores, champion, champ_problem)
    if truth.size == 0:
        return ctx.no_clean_rows(champion)
    return ctx.paired(challenger_scores, champion)


@dataclass(frozen=True)
class _Context:
    truth: np.ndarray
    labels: list[Any]
    challenger: ModelEvidence
    champion: ModelEvidence | None
    cfg: GateConfig
    sha256: str
    more: MoreEvidence
    slices: Slices = field(default_factory=lambda: Slices())

    @property
    def rules(self) -> _ClassificationRules | _RegressionRules:
        return _RULES[task.named(self.slices.task)]

    @property
    def metrics(self) -> tuple[str, ...]:
        return task.named(self.slices.task).metrics

    def score(self, predictions: Any) -> dict[str, Any]:
        return self.rules.score(self, predictions)

    def thresholds(
        self, scores: Mapping[str, Any], baseline: Mapping[str, Any] | None
    ) -> tuple[Check, ...]:
        return self.rules.thresholds(self, scores, baseline)

    def allowed_loss(self, champion_value: float | None) -> float:
        """The margin in the primary metric's units."""
        return self.rules.allowed_loss(self, champion_value)

    def primary_check(self, decision: Decision, champion_value: float | None) -> Check:
        return self.rules.primary_check(self, decision, champion_value)

    @property
    def two_stage(self) -> bool:
        """Cross-validation follows an inconclusive holdout (`gate.evidence: cv`)."""
        return self.cfg.evidence == "cv"

    @property
    def stage_confidence(self) -> float:
        """The primary interval's confidence: each of two stages at half the level."""
        return stage_confidence(self.cfg.confidence, self.two_stage)

    def decide(self, holdout: Any, margin: float) -> Decision:
        """The primary verdict of the procedure as configured, and its power."""
        cfg, more = self.cfg, self.more
        drops = self.rules.oc_drops(margin)
        min_rows = self.rules.min_rows(self, margin)
        stage, projected = None, False
        if more.cv is not None:
            stage = (more.cv.interval.se, max(len(more.cv.deltas) - 1, 1))
        elif self.two_stage and more.n_data:
            se = projected_cv_se(holdout, more.n_data, cfg.cv_folds, cfg.cv_repeats)
            stage, projected = (se, cfg.cv_folds * cfg.cv_repeats - 1), True
        return decide(
            holdout,
            margin,
            cv=more.cv.interval if more.cv else None,
            cv_note=more.cv_note,
            min_rows=min_rows,
            drops=drops,
            cv_stage=stage,
            cv_projected=projected,
        )

    def no_clean_rows(self, champion: ModelEvidence) -> GateResult:
        """No holdout row is clean: the challenger's thresholds on its logged metrics, the
        primary verdict from cross-validation alone (inconclusive without it), and the checks
        that need no rows (signature, budgets)."""
        logged = self.challenger.logged_metrics
        champion_value = checks.float_or_none(champion.logged_metrics.get(self.cfg.primary_metric))
        margin = self.allowed_loss(champion_value)
        empty = honest_interval(0.0, np.zeros(0), discordant=0, n=0, margin=margin)
        decision = self.decide(empty, margin)
        results = (
            *self.thresholds(logged, champion.logged_metrics),
            self.primary_check(decision, champion_value),
            checks.signature_check(champion, self.challenger, self.cfg, comparable=True),
            *checks.budget_checks(self.challenger, champion, self.cfg),
        )
        rows = _logged_rows(logged, {}, results, self.metrics)
        note = f"no clean holdout row: {self.more.why_fewer}"
        return self.finish(results, rows, (), None, comparable=False, note=note, decision=decision)

    def challenger_failed(self, problem: str) -> GateResult:
        check = checks.info(
            "challenger.scored",
            False,
            f"challenger v{self.challenger.version} could not score the holdout: {problem}; "
            "the gate fails closed (fix the model or its input schema and re-run)",
        )
        champ_logged = self.champion.logged_metrics if self.champion else {}
        rows = _logged_rows(self.challenger.logged_metrics, champ_logged, (), self.metrics)
        note = "the challenger could not score the holdout; logged metrics shown for reference"
        return self.finish((check,), rows, (), None, comparable=False, note=note)

    def no_champion(self, challenger_scores: Mapping[str, Any]) -> GateResult:
        results = self.thresholds(challenger_scores, None)
        rows = _logged_rows(challenger_scores, {}, results, self.metrics)
        note = "no champion: only the absolute thresholds apply"
        tables = self.rules.unpaired_tables(self, challenger_scores, None)
        return self.finish(results, rows, summary=None, comparable=False, note=note, **tables)

    def not_comparable(
        self, challenger_scores: Mapping[str, Any], champion: ModelEvidence, problem: str
    ) -> GateResult:
        """The champion cannot score this holdout: logged metrics, paired checks not comparable."""
        logged = champion.logged_metrics
        signature = checks.signature_check(champion, self.challenger, self.cfg, comparable=False)
        # Only a recorded schema change excuses a champion that cannot score; anything else
        # (a corrupted artifact, a missing signature) fails closed even with allow_schema_change.
        schema_changed = bool(signature.candidate)
        why = f"champion v{champion.version} could not score this holdout"
        paired = (f"non_inferiority.{self.cfg.primary_metric}", *self.rules.paired_checks(self))
        results = (
            *self.thresholds(challenger_scores, logged),
            *(checks.not_comparable_check(n, why, self.cfg, schema_changed) for n in paired),
            signature,
            *checks.budget_checks(self.challenger, champion, self.cfg),
        )
        rows = _logged_rows(challenger_scores, logged, results, self.metrics)
        kind = "schema change" if schema_changed else "champion cannot score"
        note = (
            f"{kind}: {why} ({problem}); its logged metrics are shown for reference "
            "and are not comparable"
        )
        tables = self.rules.unpaired_tables(self, challenger_scores, logged)
        return self.finish(results, rows, summary=None, comparable=False, note=note, **tables)

    def paired(self, challenger_scores: Mapping[str, Any], champion: ModelEvidence) -> GateResult:
        """Both models scored the same rows: every check applies, the paired ones included."""
        return self.rules.paired(self, challenger_scores, champion)

    def class_rows(
        self,
        challenger_scores: Mapping[Any, float],
        champion_scores: Mapping[Any, float | None] | None,
    ) -> tuple[ClassRow, ...]:
        rows = []
        for label in self.labels:
            old = None if champion_scores is None else champion_scores.get(label)
            new = challenger_scores.get(label)
            delta = None if old is None or new is None else new - old
            support = int(np.count_nonzero(self.truth == label))
            rows.append(ClassRow(str(label), old, new, delta, support))
        return tuple(rows)

    def finish(
        self,
        results: tuple[Check, ...],
        rows: tuple[MetricRow, ...],
        per_class: tuple[ClassRow, ...],
        summary: McNemarSummary | None,
        *,
        comparable: bool,
        note: str | None,
        decision: Decision | None = None,
        per_slice: tuple[SliceRow, ...] = (),
    ) -> GateResult:
        failed = [c for c in results if not c.passed]
        if any(not c.inconclusive for c in failed):
            verdict = VERDICT_FAIL
        elif failed:
            verdict = VERDICT_INCONCLUSIVE
        else:
            verdict = VERDICT_PASS if self.champion is not None else VERDICT_NO_CHAMPION
        accepted = verdict != VERDICT_FAIL and (
            verdict != VERDICT_INCONCLUSIVE or self.cfg.on_inconclusive != "fail"
        )
        more = self.more
        n_holdout = more.n_holdout if more.n_holdout is not None else int(self.truth.size)
        return GateResult(
            verdict=verdict,
            mode=self.cfg.mode,
            passed=accepted or self.cfg.mode == "dry_run",
            checks=results,
            metrics=rows,
            per_class=per_class,
            mcnemar=summary,
            comparable=comparable,
            holdout=Holdout(self.sha256, n_holdout, int(self.truth.size), more.why_fewer),
            challenger=_ref(self.challenger),
            champion=None if self.champion is None else _ref(self.champion),
            config=self.cfg,
            note=note,
            decision=decision,
            cv=more.cv,
            task=self.slices.task,
            per_slice=per_slice,
            slice_column=self.slices.column if per_slice else None,
            data_change=more.data_change,
        )


# --- the rules of each task ----------------------------------------------------------------------


class _ClassificationRules:
    """What the gate does differently for a classifier: scores, thresholds in [0, 1], the margin
    as configured, per-class F1 and McNemar beside the primary verdict."""

    def truth(self, truth: np.ndarray, classes: Sequence[Any] | None) -> tuple[np.ndarray, list]:
        return truth, list(classes) if classes is not None else np.unique(truth).tolist()

    def score(self, ctx: _Context, predictions: Any) -> dict[str, Any]:
        return classification_metrics(ctx.truth, predictions, ctx.labels)

    def thresholds(
        self, ctx: _Context, scores: Mapping[str, Any], baseline: Mapping[str, Any] | None
    ) -> tuple[Check, ...]:
        return checks.threshold_checks(scores, baseline, ctx.cfg)

    def allowed_loss(self, ctx: _Context, champion_value: float | None) -> float:
        return ctx.cfg.margin

    def primary_check(
        self, ctx: _Context, decision: Decision, champion_value: float | None
    ) -> Check:
        return checks.non_inferiority_check(decision, ctx.cfg)

    def oc_drops(self, margin: float) -> Any:
        return OC_DROPS

    def min_rows(self, ctx: _Context, margin: float) -> int:
        """Rows the holdout needs for a verdict; two stages size them from the margin."""
        return min_holdout_rows(margin, ctx.stage_confidence) if ctx.two_stage else MIN_ROWS

    def paired_checks(self, ctx: _Context) -> tuple[str, ...]:
        """The checks besides the primary one that need both models' predictions."""
        return ("per_class_f1", "mcnemar")

    def unpaired_tables(
        self,
        ctx: _Context,
        challenger_scores: Mapping[str, Any],
        champion_logged: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        """The per-class table without paired predictions: the champion's logged F1s, if any."""
        champion_f1 = None
        if champion_logged is not None:
            champion_f1 = {
                label: checks.float_or_none(champion_logged.get(f"f1_{label}"))
                for label in ctx.labels
            }
        return {"per_class": ctx.class_rows(challenger_scores["per_class_f1"], champion_f1)}

    def paired(
        self, ctx: _Context, challenger_scores: Mapping[str, Any], champion: ModelEvidence
    ) -> GateResult:
        """Classification: the three verdicts on the primary score's change against the margin,
        per-class F1 with its sign tests, McNemar as a label."""
        cfg = ctx.cfg
        old, new = champion.predictions, ctx.challenger.predictions
        champion_scores = classification_metrics(ctx.truth, old, ctx.labels)
        deltas = paired_bootstrap_deltas(
            ctx.truth, old, new, ctx.labels, METRICS, cfg.n_bootstrap, cfg.seed
        )
        intervals = {m: percentile_interval(deltas[m], cfg.confidence) for m in METRICS}
        test = mcnemar(ctx.truth, old, new)
        label = checks.mcnemar_label(test.b, test.c, test.p_value, cfg.alpha)
        summary = McNemarSummary(test.b, test.c, test.p_value, cfg.alpha, label)
        decision = None
        if (metric := cfg.primary_metric) in deltas:
            point = challenger_scores[metric] - champion_scores[metric]
            holdout = honest_interval(
                point,
                deltas[metric],
                discordant=test.b + test.c,
                n=int(ctx.truth.size),
                margin=cfg.margin,
                confidence=ctx.stage_confidence,
            )
            intervals[metric] = (holdout.lo, holdout.hi)  # the interval the rule uses
            decision = ctx.decide(holdout, cfg.margin)
        non_inferiority = checks.non_inferiority_check(decision, cfg)
        results = (
            *checks.threshold_checks(challenger_scores, champion_scores, cfg),
            non_inferiority,
            checks.per_class_check(
                challenger_scores["per_class_f1"],
                champion_scores["per_class_f1"],
                {label: int(np.count_nonzero(ctx.truth == label)) for label in ctx.labels},
                {t.label: t for t in class_sign_tests(ctx.truth, old, new, ctx.labels)},
                self.cv_classes(ctx),
                cfg,
            ),
            checks.mcnemar_check(summary, non_inferiority),
            checks.signature_check(champion, ctx.challenger, cfg, comparable=True),
            *checks.budget_checks(ctx.challenger, champion, cfg),
        )
        rows = tuple(
            MetricRow(
                m,
                champion_scores[m],
                challenger_scores[m],
                challenger_scores[m] - champion_scores[m],
                *intervals[m],
                None,
            )
            for m in METRICS
        )
        rows = tuple(replace(row, passed=_row_passed(row.metric, results)) for row in rows)
        per_class = ctx.class_rows(
            challenger_scores["per_class_f1"], champion_scores["per_class_f1"]
        )
        return ctx.finish(
            results, rows, per_class, summary, comparable=True, note=None, decision=decision
        )

    def cv_classes(self, ctx: _Context) -> tuple[dict[Any, float], dict[Any, ClassDrop]] | None:
        """Per-class F1 drops (champion − challenger) and sign tests on cross-validation's
        out-of-fold rows, when it ran."""
        cv = ctx.more.cv
        if cv is None or cv.oof_champion is None or cv.truth is None:
            return None
        old = classification_metrics(cv.truth, cv.oof_champion, ctx.labels)["per_class_f1"]
        new = classification_metrics(cv.truth, cv.oof_challenger, ctx.labels)["per_class_f1"]
        tests = class_sign_tests(cv.truth, cv.oof_champion, cv.oof_challenger, ctx.labels)
        return {label: old[label] - new[label] for label in ctx.labels}, {t.label: t for t in tests}


class _RegressionRules:
    """What the gate does differently for a regressor: errors in their own direction, the margin
    a share of the champion's error when relative, the error per value of `data.slice_by`."""

    def truth(self, truth: np.ndarray, classes: Sequence[Any] | None) -> tuple[np.ndarray, list]:
        return truth.astype(float), []

    def score(self, ctx: _Context, predictions: Any) -> dict[str, Any]:
        return regression.regression_metrics(ctx.truth, predictions)

    def thresholds(
        self, ctx: _Context, scores: Mapping[str, Any], baseline: Mapping[str, Any] | None
    ) -> tuple[Check, ...]:
        return regression.threshold_checks(scores, baseline, ctx.cfg.thresholds)

    def allowed_loss(self, ctx: _Context, champion_value: float | None) -> float:
        cfg = ctx.cfg
        value = 0.0 if champion_value is None else champion_value
        return regression.allowed_loss(cfg.primary_metric, value, cfg.margin, cfg.margin_kind)

    def primary_check(
        self, ctx: _Context, decision: Decision, champion_value: float | None
    ) -> Check:
        cfg = ctx.cfg
        return regression.non_inferiority_check(
            decision, cfg.primary_metric, champion_value or 0.0, cfg.margin, cfg.margin_kind
        )

    def oc_drops(self, margin: float) -> Any:
        return regression.oc_losses(margin)

    def min_rows(self, ctx: _Context, margin: float) -> int:
        return MIN_ROWS

    def paired_checks(self, ctx: _Context) -> tuple[str, ...]:
        return (f"per_slice.{ctx.slices.column}",) if ctx.slices.column else ()

    def unpaired_tables(
        self,
        ctx: _Context,
        challenger_scores: Mapping[str, Any],
        champion_logged: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        """The challenger's error per slice (a champion's logged metrics have none)."""
        return {
            "per_class": (),
            "per_slice": self.slice_rows(ctx, ctx.challenger.predictions, None),
        }

    def slice_rows(
        self, ctx: _Context, challenger: Any, champion: Any | None
    ) -> tuple[SliceRow, ...]:
        s = ctx.slices
        if s.values is None or ctx.truth.size == 0:
            return ()
        rows = regression.slice_rows(
            ctx.truth, s.values, challenger, champion, ctx.cfg.primary_metric, s.order
        )
        return tuple(rows)

    def paired(
        self, ctx: _Context, challenger_scores: Mapping[str, Any], champion: ModelEvidence
    ) -> GateResult:
        """Regression: the three verdicts on the primary error's improvement against the margin
        (cross-validation deciding when the holdout cannot tell), each slice's error against
        `gate.max_slice_loss`; no per-class table, no McNemar."""
        cfg, metrics = ctx.cfg, regression.METRICS
        old, new = champion.predictions, ctx.challenger.predictions
        champion_scores = ctx.score(old)
        deltas = regression.paired_bootstrap_deltas(
            ctx.truth, old, new, metrics, cfg.n_bootstrap, cfg.seed
        )
        intervals = {m: percentile_interval(deltas[m], cfg.confidence) for m in metrics}
        primary = cfg.primary_metric
        holdout, _ = regression.improvement_interval(
            ctx.truth, old, new, primary, cfg.n_bootstrap, cfg.seed, ctx.stage_confidence
        )
        sign = -1.0 if regression.DIRECTIONS[primary] == "lower" else 1.0
        # The interval the rule uses, in the metric's own direction.
        intervals[primary] = tuple(sorted((sign * holdout.lo, sign * holdout.hi)))
        margin = ctx.allowed_loss(champion_scores[primary])
        decision = ctx.decide(holdout, margin)
        results = [
            *ctx.thresholds(challenger_scores, champion_scores),
            ctx.primary_check(decision, champion_scores[primary]),
        ]
        per_slice = self.slice_rows(ctx, new, old)
        if ctx.slices.column:
            results.append(
                regression.per_slice_check(
                    per_slice, ctx.slices.column, primary, cfg.max_slice_loss, cfg.margin_kind
                )
            )
        results += [
            checks.signature_check(champion, ctx.challenger, cfg, comparable=True),
            *checks.budget_checks(ctx.challenger, champion, cfg),
        ]
        rows = tuple(
            MetricRow(
                m,
                champion_scores[m],
                challenger_scores[m],
                challenger_scores[m] - champion_scores[m],
                *intervals[m],
                _row_passed(m, results),
            )
            for m in metrics
        )
        return ctx.finish(
            tuple(results),
            rows,
            (),
            None,
            comparable=True,
            note=None,
            decision=decision,
            per_slice=per_slice,
        )


_RULES = {task.CLASSIFICATION: _ClassificationRules(), task.REGRESSION: _RegressionRules()}


def _disabled(y_true: Any, challenger: Any, champion: Any, cfg: Any, sha256: str) -> GateResult:
    message = "gate.mode is disabled: no check ran (set gate.mode: enabled in params.yaml to gate)"
    check = checks.info("gate.disabled", True, message)
    return _bare_result(VERDICT_PASS, True, check, y_true, challenger, champion, cfg, sha256)


def _errored(
    exc: Exception, y_true: Any, challenger: Any, champion: Any, cfg: Any, sha256: str
) -> GateResult:
    """A failed result for an unexpected error; dry_run still does not block, but says fail."""
    message = f"the gate could not be evaluated ({type(exc).__name__}: {exc}); it fails closed"
    dry_run = getattr(cfg, "mode", None) == "dry_run"
    check = checks.info("gate.error", False, message)
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
    challenger_scores: Mapping[str, Any],
    champion_scores: Mapping[str, Any],
    results: Sequence[Check],
    metrics: Sequence[str],
) -> tuple[MetricRow, ...]:
    """Metric rows without intervals (values that were not computed on paired predictions)."""
    rows = []
    for m in metrics:
        new, old = (
            checks.float_or_none(challenger_scores.get(m)),
            checks.float_or_none(champion_scores.get(m)),
        )
        delta = None if new is None or old is None else new - old
        rows.append(MetricRow(m, old, new, delta, None, None, _row_passed(m, results)))
    return tuple(rows)


def _row_passed(metric: str, results: Sequence[Check]) -> bool | None:
    names = (f"threshold.{metric}", f"non_inferiority.{metric}")
    related = [c.passed for c in results if c.name in names]
    return all(related) if related else None


def _ref(evidence: Any) -> ModelRef:
    return ModelRef(str(getattr(evidence, "version", "?")), getattr(evidence, "run_id", None))
