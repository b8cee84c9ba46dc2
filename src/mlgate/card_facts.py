"""The facts a model card states, gathered from the registry and the holdout; publishing it.

`card.render` is pure; this module collects what it renders — registry facts, the version's scores
on the current holdout with bootstrap intervals, per-class and per-slice tables, the comparison
with the previous champion, the gate's checks and the alias history — and writes the result to
`model_cards/<model>.md`, the version's description and its run's artifacts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import card, data, regression, verdict
from .champion import champion_moves, history
from .errors import ConfigError, DataError, first_line
from .estimators import trusted_types
from .registry import BUILT_BY_TAG, load_model
from .stats import (
    METRICS,
    classification_metrics,
    confusion_matrix,
    paired_bootstrap_deltas,
    per_class_scores,
    percentile_interval,
)
from .task import CLASSIFICATION, REGRESSION, Task
from .task import named as task_named

if TYPE_CHECKING:
    from .config import Params
    from .registry import Registry, Version

__all__ = [
    "CARD_ARTIFACT",
    "CardWrite",
    "card_destination",
    "card_path",
    "gather_facts",
    "publish_card",
    "stored_evidence",
]

CARD_ARTIFACT = "model_card.md"


@dataclass(frozen=True)
class CardWrite:
    path: str | None  # None: not written to a file
    written: bool  # the file changed
    described: bool  # the version's description (and the run's artifact) changed


def card_path(params: Params, name: str) -> Path:
    """Where the champion's card of `name` lives: model_cards/<name>.md."""
    return Path(params.promotion.model_cards_dir) / f"{name}.md"


def card_destination(registry: Registry, params: Params, name: str, version: str) -> Path:
    """The champion's card path for the champion; model_cards/<name>-v<V>.md for any other
    version, so a card of a candidate never overwrites the champion's."""
    champion = registry.aliases(name).get(params.promotion.champion_alias) == version
    return card_path(params, name if champion else f"{name}-v{version}")


def publish_card(
    registry: Registry,
    params: Params,
    name: str,
    version: str,
    path: Path | None,
    *,
    data_path: str | None = None,
    model: Any = None,
) -> CardWrite:
    """Render the card; write it to `path`, its run's artifact and the version's description,
    each only when it differs from what is there. The description is written last: a run that
    fails before it leaves the old one, and the next run writes the artifact again. `model`: the
    version's loaded pyfunc model, when the caller has it already."""
    facts = gather_facts(registry, params, name, version, data_path=data_path, model=model)
    text = card.render(facts)
    written = card.save(text, path) if path is not None else False
    summary = card.description(text, facts.run_id)
    current = registry.get_version(name, version)
    described = (current.description or "") != summary
    if described:
        if current.run_id:
            registry.log_run_text(current.run_id, text, CARD_ARTIFACT)
        registry.set_version_description(name, version, summary)
    return CardWrite(str(path) if path is not None else None, written, described)


def gather_facts(
    registry: Registry,
    params: Params,
    name: str,
    version: str,
    *,
    data_path: str | None = None,
    model: Any = None,
) -> card.CardFacts:
    """Everything the card says about `version`: registry facts, and its scores on the holdout
    of the current data (the split `train` and the gate use)."""

    entry = registry.get_version(name, version)
    alias = params.promotion.champion_alias
    aliases = registry.aliases(name)
    moves = tuple(champion_moves(history(registry, name), alias))
    target = params.data.target
    task = task_named(params.data.schema.task)
    gate = verdict.load(registry, entry.run_id)
    holdout = data.holdout(params.data, data_path, known=gate.split if gate else None)
    dataset, split, classes = holdout.dataset, holdout.split, holdout.classes
    y = split.y_test.to_numpy()
    evidence = _Evidence(registry, name, split, gate, trusted_types(params.model.trusted_types))
    pred = evidence.predictions(entry.version, model)
    gate_cfg = params.gate
    boot = dict(
        n_boot=gate_cfg.n_bootstrap,
        confidence=gate_cfg.confidence,
        seed=gate_cfg.seed,
        classes=classes,
    )
    if not task.has_classes:
        return _regression_facts(params, entry, holdout, pred, data_path, moves, evidence, gate)
    scores = classification_metrics(y, pred, classes)
    never = np.full(len(y), _NEVER, dtype=object)  # scores 0: the deltas are the model's own
    own = _intervals(y, never, pred, boot)
    metrics = tuple(card.MetricInterval(m, float(scores[m]), *own[m]) for m in METRICS)
    matrix = confusion_matrix(y, pred, classes)
    slices = []
    for column in [params.data.schema.slice_by] if params.data.schema.slice_by else []:
        for value in sorted(split.X_test[column].astype(str).unique()):
            mask = (split.X_test[column].astype(str) == value).to_numpy()
            present = [c for c in classes if c in set(y[mask])]
            scores = classification_metrics(y[mask], pred[mask], present)
            slices.append(
                card.SliceStats(
                    column, value, int(mask.sum()), scores["accuracy"], scores["f1_macro"]
                )
            )
    counts = dataset.frame[target].value_counts()
    return card.CardFacts(
        **_common(registry, params, entry, holdout, data_path, moves, gate),
        class_balance=tuple((c, int(counts.get(c, 0))) for c in classes),
        metrics=metrics,
        per_class=_per_class(matrix, classes),
        slices=tuple(slices),
        confusion_labels=tuple(classes),
        confusion=tuple(tuple(int(n) for n in row) for row in matrix),
        comparison=_comparison(evidence, entry, aliases.get(alias), moves, pred, boot),
    )


def _regression_facts(
    params: Params,
    entry: Version,
    holdout: data.Holdout,
    pred: Any,
    data_path: str | None,
    moves: tuple,
    evidence: _Evidence,
    gate: Any,
) -> card.CardFacts:
    """A regression's card: RMSE, MAE and R² with intervals, errors per slice, the target's
    range instead of a class balance, no confusion matrix."""
    cfg, split = params.gate, holdout.split
    y = split.y_test.to_numpy(float)
    pred = np.asarray(pred, dtype=float)
    boot = dict(n_boot=cfg.n_bootstrap, confidence=cfg.confidence, seed=cfg.seed)
    metrics = tuple(
        card.MetricInterval(m, *regression.bootstrap_ci(y, pred, m, **boot))
        for m in regression.METRICS
    )
    column = params.data.schema.slice_by
    slices = []
    if column:
        rmse = regression.slice_rows(y, split.X_test[column], pred, None, "rmse")
        mae = regression.slice_rows(y, split.X_test[column], pred, None, "mae")
        slices = [
            card.ErrorSliceStats(column, a.value, a.rows, a.challenger, b.challenger)
            for a, b in zip(rmse, mae, strict=True)
        ]
    target = holdout.dataset.frame[params.data.target].astype(float)
    alias = params.promotion.champion_alias
    champion = evidence.registry.aliases(evidence.name).get(alias)
    return card.CardFacts(
        **_common(evidence.registry, params, entry, holdout, data_path, moves, gate),
        class_balance=(),
        metrics=metrics,
        per_class=(),
        slices=(),
        confusion_labels=(),
        confusion=(),
        comparison=_comparison(
            evidence, entry, champion, moves, pred, {**boot, "classes": None}, REGRESSION
        ),
        error_slices=tuple(slices),
        target_range=(float(target.min()), float(target.mean()), float(target.max())),
    )


def _common(
    registry: Registry,
    params: Params,
    entry: Version,
    holdout: data.Holdout,
    data_path: str | None,
    moves: tuple,
    gate: Any,
) -> dict[str, Any]:
    """The card's facts that do not depend on the task."""
    name = entry.name
    alias = params.promotion.champion_alias
    aliases = registry.aliases(name)
    run = registry.runs([entry.run_id]).get(entry.run_id) if entry.run_id else None
    run_params = dict(run.data.params) if run else {}
    hyper = tuple(
        sorted((k[len("model.") :], val) for k, val in run_params.items() if k.startswith("model."))
    )
    dataset, split = holdout.dataset, holdout.split
    return dict(
        name=name,
        version=entry.version,
        run_id=entry.run_id,
        stage=entry.current_stage,
        aliases=tuple(sorted(a for a, holder in aliases.items() if holder == entry.version)),
        model_type=entry.tags.get("model_type") or run_params.get("model_type", "unknown"),
        hyperparameters=hyper,
        fingerprint=entry.tags.get("mlgate.fingerprint"),
        commit=entry.tags.get("git_sha"),
        git_ref=entry.tags.get("git_ref"),
        pr_number=entry.tags.get("pr_number"),
        training_date=entry.tags.get("training_date"),
        ci_run_url=entry.tags.get("ci_run_url"),
        built_by_release=entry.tags.get(BUILT_BY_TAG) == "release",
        target=params.data.target,
        data_path=str(data_path or params.data.path),
        data_sha256=dataset.sha256,
        training_data_sha256=entry.tags.get("mlgate.data_sha256"),
        dataset_rows=len(dataset.frame),
        n_features=len(dataset.features),
        holdout_rows=len(split.y_test),
        holdout_sha256=split.holdout_sha256,
        confidence=params.gate.confidence,
        n_bootstrap=params.gate.n_bootstrap,
        gate=gate,
        history=moves,
        champion_alias=alias,
        text=params.card,
        task=params.data.schema.task,
    )


def _per_class(matrix: Any, classes: list[str]) -> tuple[card.ClassStats, ...]:
    return tuple(
        card.ClassStats(label, *scores)
        for label, scores in zip(classes, per_class_scores(matrix), strict=True)
    )


def stored_evidence(
    registry: Registry, params: Params, name: str, version: str, data_path: str | None = None
) -> bool:
    """Whether `version`'s last gate recorded its predictions on today's holdout: then its card
    needs no model load (and the model demonstrably loaded and scored these rows)."""
    entry = registry.get_version(name, version)
    gate = verdict.load(registry, entry.run_id)
    if gate is None:
        return False
    try:
        sha = data.holdout(params.data, data_path, known=gate.split).sha256
    except (ConfigError, DataError):
        # No dataset or schema here (a registry command run outside a project): no evidence.
        return False
    return gate.scored(entry.version, sha) is not None


class _Evidence:
    """A version's predictions on the holdout: the gate's stored ones when they were made on
    these rows by this version, else the model's, loaded from the registry."""

    def __init__(
        self, registry: Registry, name: str, split: Any, gate: Any, trusted: tuple[str, ...]
    ) -> None:
        self.registry, self.name, self.split, self.gate = registry, name, split, gate
        self.trusted = trusted

    def stored(self, version: str | None) -> Any:
        found = self.gate.scored(version, self.split.holdout_sha256) if self.gate else None
        return None if found is None else np.asarray(found, dtype=object)

    def predictions(self, version: str, model: Any = None) -> Any:
        if model is None:
            stored = self.stored(version)
            if stored is not None:
                return stored
            model = load_model(self.registry, self.name, version, self.trusted).model
        return np.asarray(model.predict(self.split.X_test))


def _comparison(
    evidence: _Evidence,
    entry: Version,
    champion: str | None,
    moves: tuple,
    pred: Any,
    boot: dict[str, Any],
    task: Task = CLASSIFICATION,
) -> card.Comparison | None:
    """This version against the champion it replaced (or, if it is not champion, the champion),
    on the task's metrics."""

    if champion == entry.version:
        arrival = next((m for m in reversed(moves) if m.to_version == entry.version), None)
        other, role = (arrival.from_version if arrival else None), "previous champion"
    else:
        other, role = champion, "current champion"
    if not other:
        return None
    registry, name, split = evidence.registry, evidence.name, evidence.split
    other_v = registry.get_version(name, other)
    y = split.y_test.to_numpy()
    names, score = _scorer(task, boot["classes"])
    this_scores = score(y, pred)
    try:
        other_pred = evidence.predictions(other)
    except Exception as exc:  # a version that cannot score this data is a finding, not an error
        logged = (
            registry.run_metrics([other_v.run_id]).get(other_v.run_id, {}) if other_v.run_id else {}
        )
        rows = tuple(
            card.ComparisonRow(m, logged.get(m), this_scores[m], None, None, None) for m in names
        )
        note = first_line(exc, limit=200)
        return card.Comparison(other, role, False, rows, note)
    from .challenge import clean_holdout

    # The gate's rule: compare only on holdout rows neither version trained on.
    clean = clean_holdout(registry, split, split.holdout_sha256, entry, other_v)
    if clean.n_clean == 0:
        return card.Comparison(other, role, False, (), clean.reason())
    keep = clean.mask
    y, pred, other_pred = y[keep], np.asarray(pred)[keep], np.asarray(other_pred)[keep]
    this_scores, other_scores = score(y, pred), score(y, other_pred)
    if not task.has_classes:
        samples = regression.paired_bootstrap_deltas(
            y, other_pred, pred, names, boot["n_boot"], boot["seed"]
        )
        intervals = {m: percentile_interval(samples[m], boot["confidence"]) for m in names}
    else:
        intervals = _intervals(y, other_pred, pred, boot)
    rows = [
        card.ComparisonRow(
            m,
            other_scores[m],
            this_scores[m],
            float(this_scores[m]) - float(other_scores[m]),
            *intervals[m],
        )
        for m in names
    ]
    return card.Comparison(other, role, True, tuple(rows), clean.reason())


# A label no model predicts: encoded outside the classes, so it is never right.
_NEVER = object()


def _intervals(y: Any, base: Any, pred: Any, boot: dict[str, Any]) -> dict[str, tuple]:
    """Percentile intervals of (pred − base) for every metric, from one set of resamples (all
    metrics share them, so each interval is what a call per metric would give)."""
    samples = paired_bootstrap_deltas(
        y, base, pred, boot["classes"], METRICS, boot["n_boot"], boot["seed"]
    )
    return {m: percentile_interval(samples[m], boot["confidence"]) for m in METRICS}


def _scorer(task: Task, classes: Any) -> tuple[tuple[str, ...], Any]:
    """The metrics a comparison reports and the function that computes them for the task."""
    if task.has_classes:
        return task.metrics, lambda y, p: classification_metrics(y, p, classes)
    return task.metrics, lambda y, p: regression.regression_metrics(
        np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    )
