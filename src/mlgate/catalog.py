"""What the registry holds, as data: model summaries, version rows, comparisons, the best version,
and the stage and alias changes behind `mlgate promote` and `mlgate alias`.

Every function takes a `Registry` and returns dataclasses (each with `to_json()`); rendering for
humans lives in tables.py. Listing N versions with their metrics costs O(N/100) round trips.

Why one module: every result here is a read of the same batched listing (rows, metrics,
aliases) or a change that returns the same row shapes; splitting them would split that listing.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .errors import NotFoundError, UsageError
from .registry import METRIC_TAG_PREFIX, STAGES, parse_stage, validate_alias
from .stats import METRICS
from .task import recognise

if TYPE_CHECKING:
    from .config import PromotionConfig
    from .registry import Registry, Version
    from .release import Release

__all__ = [
    "AliasChange",
    "Best",
    "Comparison",
    "MetricDelta",
    "ModelList",
    "ModelSummary",
    "ParamDiff",
    "StageChange",
    "VersionList",
    "VersionRow",
    "best",
    "change_stage",
    "compare",
    "delete_alias",
    "metric_direction",
    "metric_tags",
    "model_summaries",
    "set_alias",
    "version_rows",
]

# Direction by name: exact names first, then prefixes (f1_<class>), then suffixes (fit_seconds).
_HIGHER = {"accuracy", "balanced_accuracy", "auc", "roc_auc", "r2", "average_precision"}
_HIGHER_PREFIXES = ("accuracy_", "f1", "precision", "recall", "roc_auc", "auc_")
_LOWER = {"loss", "log_loss", "mse", "rmse", "mae", "mape", "brier_score", "max_error"}
_LOWER_SUFFIXES = ("_loss", "_error", "_seconds", "_latency", "_ms", "_bytes", "_size")


def metric_direction(name: str) -> str | None:
    """'higher' or 'lower' (which is better) for metrics mlgate knows, else None."""
    key = name.lower()
    if key in _HIGHER or key.startswith(_HIGHER_PREFIXES):
        return "higher"
    if key in _LOWER or key.endswith(_LOWER_SUFFIXES):
        return "lower"
    return None


class _Json:
    """`to_json()` for dataclasses whose fields are the JSON schema."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


def _iso(millis: int | None) -> str | None:
    if not millis:
        return None
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSummary(_Json):
    name: str
    description: str
    versions: int
    stages: dict[str, int]
    aliases: dict[str, str]


@dataclass(frozen=True)
class ModelList:
    models: list[ModelSummary]

    def to_json(self) -> dict[str, Any]:
        return {"models": [m.to_json() for m in self.models]}


def model_summaries(registry: Registry, name_like: str | None = None) -> ModelList:
    """Every registered model (or those matching a SQL LIKE pattern) with version counts per stage.

    Two paged searches whatever the number of models and versions.
    """
    models = registry.search_models(name_like)
    counts: dict[str, dict[str, int]] = {m.name: dict.fromkeys(STAGES, 0) for m in models}
    for version in registry.search_versions(name_like):
        if version.name in counts:
            stage = version.current_stage if version.current_stage in STAGES else "None"
            counts[version.name][stage] += 1
    return ModelList(
        [
            ModelSummary(
                name=m.name,
                description=m.description or "",
                versions=sum(counts[m.name].values()),
                stages=counts[m.name],
                aliases={a: str(v) for a, v in sorted((m.aliases or {}).items())},
            )
            for m in models
        ]
    )


@dataclass(frozen=True)
class VersionRow:
    version: str
    stage: str
    status: str | None
    run_id: str | None
    created: str | None
    aliases: list[str]
    metrics: dict[str, float]
    params: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        del out["params"]  # compare reports params; version listings stay small
        return out


@dataclass(frozen=True)
class VersionList:
    model: str
    total: int  # versions of the model, before --stage/--limit
    stage: str | None
    rows: list[VersionRow]

    def metric_names(self) -> list[str]:
        return _ordered({m for row in self.rows for m in row.metrics})

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "total": self.total,
            "stage": self.stage,
            "versions": [row.to_json() for row in self.rows],
        }


def version_rows(
    registry: Registry,
    name: str,
    *,
    stage: str | None = None,
    limit: int | None = None,
    metrics: tuple[str, ...] = (),
) -> VersionList:
    """The versions of `name`, newest first, with their run's metrics and their aliases.

    `metrics` names metrics the caller will show: one that no listed version logged is an error.
    """
    stage = parse_stage(stage) if stage else None
    aliases = registry.aliases(name)  # also: an unknown model fails here, with suggestions
    versions = registry.versions(name)
    selected = [v for v in versions if stage is None or v.current_stage == stage]
    if limit is not None:
        selected = selected[:limit]
    rows = _rows(registry, selected, aliases)
    listing = VersionList(model=name, total=len(versions), stage=stage, rows=rows)
    for metric in metrics:
        _require_metric(metric, listing)
    return listing


def _rows(
    registry: Registry,
    versions: list[Version],
    aliases: dict[str, str],
    *,
    with_params: bool = False,
) -> list[VersionRow]:
    """Rows with metrics; runs are fetched (batched) only where the version's tags lack them."""
    need_runs = [v for v in versions if v.run_id and (with_params or not metric_tags(v.tags))]
    runs = registry.runs([v.run_id for v in need_runs])
    return [_row(v, runs.get(v.run_id or ""), aliases) for v in versions]


def metric_tags(tags: dict[str, str]) -> dict[str, float]:
    """The metrics `train` copied into the version's tags (`mlgate.metric.<name>`)."""
    out = {}
    for key, value in tags.items():
        if key.startswith(METRIC_TAG_PREFIX):
            try:
                out[key[len(METRIC_TAG_PREFIX) :]] = float(value)
            except ValueError:
                continue
    return out


def _row(v: Version, run: Any, aliases: dict[str, str]) -> VersionRow:
    metrics = dict(run.data.metrics) if run else metric_tags(v.tags)
    return VersionRow(
        version=v.version,
        stage=v.current_stage,
        status=v.status,
        run_id=v.run_id,
        created=_iso(v.creation_timestamp),
        aliases=sorted(a for a, held in aliases.items() if str(held) == v.version),
        metrics=dict(sorted(metrics.items())),
        params=dict(run.data.params) if run else {},
    )


def _require_metric(metric: str, listing: VersionList) -> None:
    if metric not in listing.metric_names():
        raise _unknown_metric(metric, listing.model, listing.metric_names())


def _unknown_metric(metric: str, model: str, known: list[str]) -> NotFoundError:
    close = difflib.get_close_matches(metric, known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    logged = f"; logged metrics: {', '.join(known)}" if known else "; its runs logged no metrics"
    return NotFoundError(f"metric {metric!r} is not logged by any version of {model}{hint}{logged}")


def _ordered(names: set[str]) -> list[str]:
    """Built-in metrics first (in their usual order), then the rest alphabetically."""
    return [m for m in METRICS if m in names] + sorted(names - set(METRICS))


@dataclass(frozen=True)
class MetricDelta(_Json):
    name: str
    a: float
    b: float
    difference: float  # b - a
    direction: str | None  # higher | lower | None (unknown: no "better")
    better: str | None  # the better version, None when equal or the direction is unknown


@dataclass(frozen=True)
class ParamDiff(_Json):
    name: str
    a: str | None
    b: str | None


@dataclass(frozen=True)
class Comparison:
    model: str
    a: VersionRow
    b: VersionRow
    metrics: list[MetricDelta]
    params: list[ParamDiff]
    only_a: list[str]  # metrics only the first version logged
    only_b: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "a": self.a.to_json(),
            "b": self.b.to_json(),
            "metrics": [m.to_json() for m in self.metrics],
            "params": [p.to_json() for p in self.params],
            "only_a": self.only_a,
            "only_b": self.only_b,
        }


def compare(registry: Registry, name: str, ref_a: str, ref_b: str) -> Comparison:
    """Metrics both versions' runs logged (b − a, and which is better) and the params that
    differ."""
    va, vb = registry.resolve(name, ref_a), registry.resolve(name, ref_b)
    a, b = _rows(registry, [va, vb], registry.aliases(name), with_params=True)
    deltas = []
    for metric in _ordered(set(a.metrics) & set(b.metrics)):
        x, y = a.metrics[metric], b.metrics[metric]
        direction = metric_direction(metric)
        better = None
        if direction and x != y:
            b_wins = (y > x) == (direction == "higher")
            better = b.version if b_wins else a.version
        # rounded: metrics are logged with 6 decimals, float noise would leak into --json
        deltas.append(MetricDelta(metric, x, y, round(y - x, 12), direction, better))
    params = [
        ParamDiff(p, a.params.get(p), b.params.get(p))
        for p in sorted(set(a.params) | set(b.params))
        if a.params.get(p) != b.params.get(p)
    ]
    return Comparison(
        model=name,
        a=a,
        b=b,
        metrics=deltas,
        params=params,
        only_a=_ordered(set(a.metrics) - set(b.metrics)),
        only_b=_ordered(set(b.metrics) - set(a.metrics)),
    )


@dataclass(frozen=True)
class Best:
    model: str
    metric: str
    direction: str
    value: float
    row: VersionRow
    considered: int  # versions looked at (those in `stage` when given)
    stage: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "metric": self.metric,
            "direction": self.direction,
            "value": self.value,
            "version": self.row.to_json(),
            "considered": self.considered,
            "stage": self.stage,
        }


def best(
    registry: Registry,
    name: str,
    metric: str | None = None,
    *,
    lower_is_better: bool | None = None,
    stage: str | None = None,
) -> Best:
    """The version with the best value of `metric`; ties go to the latest run, then the newest
    version. Versions that did not log the metric (or logged NaN) are not ranked.

    The direction is the metric's known one (accuracy: higher, *_seconds: lower), higher for
    metrics mlgate doesn't know, and `lower_is_better` overrides both. Versions registered by
    `train` are ranked from their metric tags; the server ranks the other versions' runs, so the
    client reads at most ceil(N/100) runs, not N. Without `metric`: accuracy, or RMSE for a
    model whose versions logged it and no accuracy (a regression).
    """
    if metric is None:
        logged = {m for v in registry.versions(name) for m in metric_tags(v.tags)}
        metric = recognise(logged).ranked_by
    if "`" in metric:
        raise UsageError(f"metric name {metric!r} contains a backtick; metric names can't")
    stage = parse_stage(stage) if stage else None
    aliases = registry.aliases(name)
    versions = [v for v in registry.versions(name) if stage is None or v.current_stage == stage]
    if not versions:
        where = f" in stage {stage}" if stage else ""
        raise NotFoundError(f"{name} has no versions{where}; nothing to rank")
    if lower_is_better is None:
        direction = metric_direction(metric) or "higher"
    else:
        direction = "lower" if lower_is_better else "higher"
    newest: dict[str, Version] = {}
    for v in versions:  # newest first: the first version seen of a run is its newest
        if v.run_id:
            newest.setdefault(v.run_id, v)
    # Versions registered by `train` carry their metrics in tags: ranked here, no run is read.
    # The others' runs are ranked by the server, one run per chunk of 100.
    tagged = {rid: metric_tags(v.tags) for rid, v in newest.items() if metric_tags(v.tags)}
    untagged = [rid for rid in newest if rid not in tagged]
    winners = registry.best_runs(untagged, metric, lower_is_better=direction == "lower")
    candidates = [  # (value, tie-break time, version, run or None)
        (metrics[metric], newest[rid].creation_timestamp or 0, newest[rid], None)
        for rid, metrics in tagged.items()
        if metric in metrics
    ] + [
        (r.data.metrics[metric], r.info.start_time or 0, newest[r.info.run_id], r)
        for r in winners
        if metric in r.data.metrics
    ]
    scored = [c for c in candidates if not math.isnan(c[0])]
    if not scored:
        if candidates:
            raise NotFoundError(
                f"every value of {metric!r} logged by {name} is NaN; nothing to rank"
            )
        known = {m for metrics in tagged.values() for m in metrics}
        # The error path may read every untagged run: the server ranked one per chunk only.
        known |= {m for run in registry.runs(untagged).values() for m in run.data.metrics}
        raise _unknown_metric(metric, name, _ordered(known))
    sign = 1 if direction == "higher" else -1
    value, _, version, run = max(scored, key=lambda c: (sign * c[0], c[1], int(c[2].version)))
    row = _row(version, run, aliases)
    return Best(name, metric, direction, value, row, len(versions), stage)


# --- changing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageChange(_Json):
    model: str
    version: str
    stage: str | None  # None when only the champion alias moved (promotion.use_stages: false)
    previous_stage: str
    archived: list[str]
    alias: str | None = None
    previous_holder: str | None = None

    @classmethod
    def of_champion_move(cls, moved: Release, use_stages: bool, alias: str) -> StageChange:
        """`promote MODEL VERSION Production` is a champion move, shown as a stage change."""
        if use_stages:
            archived = moved.promotion.archived if moved.promotion else []
            return cls(moved.name, moved.version, "Production", moved.previous_stage, archived)
        return cls(moved.name, moved.version, None, moved.previous_stage, [], alias, moved.previous)


def change_stage(
    registry: Registry,
    name: str,
    ref: str,
    stage: str,
    cfg: PromotionConfig,
) -> StageChange:
    """Move a version to a stage other than Production; the archived versions are listed.

    Production is a champion move (`release.promote`: alias, stage and history together). With
    `promotion.use_stages` false, stages are not used at all. The champion alias's version stays
    in Production until another version's promotion or a rollback moves the alias. Everything is
    validated before the one write.
    """
    stage = parse_stage(stage)
    target = registry.resolve(name, ref)
    if not cfg.use_stages:
        raise UsageError(
            f"promotion.use_stages is false: stage {stage} is not used; promote to Production"
            f" (moves @{cfg.champion_alias}) or set an alias with 'mlgate alias'"
        )
    champion = registry.aliases(name).get(cfg.champion_alias)
    if champion == target.version:
        # The champion outside Production would leave nothing in Production and a champion no
        # deployment serves, with no history entry saying why.
        raise UsageError(
            f"{name} v{target.version} holds @{cfg.champion_alias}: it can't move to {stage};"
            f" promote another version to Production ('mlgate promote {name} VERSION Production"
            f" --reason ...') or roll back first ('mlgate rollback {name} --reason ...')"
        )
    archived = registry.transition_exclusive(name, target.version, stage)
    return StageChange(name, target.version, stage, target.current_stage, archived)


@dataclass(frozen=True)
class AliasChange(_Json):
    model: str
    alias: str
    version: str | None  # the holder afterwards (None: deleted or absent)
    previous: str | None  # the holder before
    action: str  # set | unchanged | deleted | absent


def set_alias(
    registry: Registry, name: str, alias: str, ref: str, *, champion_alias: str
) -> AliasChange:
    """Point a candidate alias at a version; the champion alias is refused (`_refuse_champion`)."""
    alias = validate_alias(alias)
    _refuse_champion(name, alias, champion_alias)
    target = registry.resolve(name, ref)
    previous = registry.aliases(name).get(alias)
    if previous == target.version:
        return AliasChange(name, alias, target.version, previous, "unchanged")
    registry.set_alias(name, alias, target.version)
    return AliasChange(name, alias, target.version, previous, "set")


def delete_alias(
    registry: Registry, name: str, alias: str, *, champion_alias: str, if_exists: bool = False
) -> AliasChange:
    """Remove an alias; a missing alias (or model) is an error unless `if_exists`. The champion
    alias is refused, as in `set_alias`."""
    alias = validate_alias(alias)
    _refuse_champion(name, alias, champion_alias)
    try:
        aliases = registry.aliases(name)
    except NotFoundError:
        if if_exists:
            return AliasChange(name, alias, None, None, "absent")
        raise
    previous = aliases.get(alias)
    if previous is None:
        if if_exists:
            return AliasChange(name, alias, None, None, "absent")
        known = ", ".join(f"@{a}" for a in sorted(aliases)) or "none"
        raise NotFoundError(
            f"{name} has no alias @{alias} (aliases: {known}); pass --if-exists to accept that"
        )
    registry.delete_alias(name, alias)
    return AliasChange(name, alias, None, previous, "deleted")


def _refuse_champion(name: str, alias: str, champion_alias: str) -> None:
    """The champion alias moves only through a recorded move (promote to Production, release,
    rollback): set by hand it would skip the history, the stage, the card and the gate, and
    `rollback` could no longer trust the history."""
    if alias == champion_alias:
        raise UsageError(
            f"@{alias} of {name} moves only with a recorded reason and is never deleted: use"
            f" 'mlgate alias {name} {alias} VERSION --reason ...' or 'mlgate rollback {name}"
            " --reason ...'"
        )
