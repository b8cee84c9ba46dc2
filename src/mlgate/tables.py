"""Human-readable renderings of the registry commands' results: catalog.py's listings, a
training run, a champion move and the alias history (tabulate's grid and simple formats).

Each function takes a result and returns a str; the CLI prints it. `--json` bypasses this module.
The gate's report has its own module (report.py): it is also the PR comment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabulate import tabulate

from .card import history_rows
from .registry import STAGES
from .stats import METRICS
from .task import recognise

if TYPE_CHECKING:
    from .catalog import AliasChange, Best, Comparison, ModelSummary, StageChange, VersionList
    from .champion import History
    from .release import Release
    from .train import TrainResult

__all__ = [
    "render_alias",
    "render_best",
    "render_compare",
    "render_history",
    "render_models",
    "render_move",
    "render_stage_change",
    "render_train",
    "render_versions",
]

_FLOAT = ".4f"
_DESCRIPTION_WIDTH = 50
# Metric columns of `mlgate versions`, before any --metric extras.
_VERSION_METRICS = (("Accuracy", "accuracy"), ("F1", "f1_macro"))
_ERROR_METRICS = (("RMSE", "rmse"), ("MAE", "mae"), ("R²", "r2"))  # a regression's versions


def _grid(rows: list[list[object]], headers: list[str], text_columns: list[int]) -> str:
    # Columns of free text are never parsed as numbers ("+0.01" must keep its sign, "1e3" its form).
    return tabulate(
        rows,
        headers=headers,
        tablefmt="grid",
        floatfmt=_FLOAT,
        missingval="-",
        numalign="right",
        disable_numparse=text_columns,
    )


def _aliases(names: list[str]) -> str:
    return ", ".join(f"@{a}" for a in names)


def _short(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= _DESCRIPTION_WIDTH else line[: _DESCRIPTION_WIDTH - 1] + "…"


def render_models(models: list[ModelSummary], where: str = "") -> str:
    if not models:
        return f"No registered models{f' at {where}' if where else ''}."
    stages = list(STAGES)
    rows = [
        [m.name, _short(m.description), m.versions, *(m.stages[s] for s in stages)] for m in models
    ]
    return _grid(rows, ["Name", "Description", "Versions", *stages], [0, 1])


def render_versions(listing: VersionList, extra_metrics: tuple[str, ...] = ()) -> str:
    if not listing.rows:
        where = f" in stage {listing.stage}" if listing.stage else ""
        others = f" ({listing.total} in other stages)" if listing.stage and listing.total else ""
        return f"{listing.model} has no versions{where}{others}."
    logged = {m for r in listing.rows for m in r.metrics}
    columns = list(_VERSION_METRICS if recognise(logged).has_classes else _ERROR_METRICS)
    shown = {key for _, key in columns}
    columns += [(m, m) for m in dict.fromkeys(extra_metrics) if m not in shown]
    headers = ["Version", "Stage", *(label for label, _ in columns), "Aliases"]
    rows = [
        [int(r.version), r.stage, *(r.metrics.get(key) for _, key in columns), _aliases(r.aliases)]
        for r in listing.rows
    ]
    return _grid(rows, headers, [1, len(headers) - 1])


def _difference(delta: float, better: str | None, b: str) -> str:
    if delta == 0:
        return "="
    arrow = "" if better is None else (" →" if better == b else " ←")
    return f"{delta:+.4f}{arrow}"


def render_compare(result: Comparison) -> str:
    a, b = result.a.version, result.b.version
    lines = [
        f"{result.model}: v{a} vs v{b} (Difference = v{b} − v{a}; → v{b} better, ← v{a} better)"
    ]
    if result.metrics:
        rows = [[m.name, m.a, m.b, _difference(m.difference, m.better, b)] for m in result.metrics]
        lines.append(_grid(rows, ["Metric", f"v{a}", f"v{b}", "Difference"], [0, 3]))
    else:
        lines.append("No metric was logged by both versions.")
    for version, names in ((a, result.only_a), (b, result.only_b)):
        if names:
            lines.append(f"Only v{version} logged: {', '.join(names)}")
    if result.params:
        lines.append("Params that differ:")
        rows = [[p.name, p.a, p.b] for p in result.params]
        lines.append(_grid(rows, ["Param", f"v{a}", f"v{b}"], [0, 1, 2]))
    else:
        lines.append("Params: identical.")
    return "\n".join(lines)


def render_best(result: Best) -> str:
    row = result.row
    head = (
        f"Best {result.model} version by {result.metric} ({result.direction} is better):"
        f" v{row.version} ({result.value:.4f})"
    )
    table = _grid(
        [[int(row.version), row.stage, result.value, _aliases(row.aliases)]],
        ["Version", "Stage", result.metric, "Aliases"],
        [1, 3],
    )
    plural = "s" if result.considered != 1 else ""
    where = f" in stage {result.stage}" if result.stage else ""
    tail = f"Out of {result.considered} version{plural}{where}."
    return "\n".join([head, table, tail])


def render_stage_change(change: StageChange) -> str:
    name, version = change.model, change.version
    if change.stage is None:
        was = f"v{change.previous_holder}" if change.previous_holder else "unset"
        if change.previous_holder == version:
            return f"@{change.alias} of {name} already points to v{version}; nothing changed."
        return f"Moved @{change.alias} of {name} to v{version} (was {was})."
    archived = ", ".join(f"v{v}" for v in change.archived)
    head = f"Promoted {name} v{version} to {change.stage}"
    head += f"; archived {archived}." if archived else "."
    rows = [[int(version), change.previous_stage, change.stage]]
    rows += [[int(v), "Production", "Archived"] for v in change.archived]
    return "\n".join([head, _grid(rows, ["Version", "Before", "After"], [1, 2])])


def render_alias(change: AliasChange) -> str:
    ref = f"@{change.alias} of {change.model}"
    was = f"v{change.previous}" if change.previous else "unset"
    if change.action == "set":
        return f"Set {ref} to v{change.version} (was {was})."
    if change.action == "unchanged":
        return f"{ref} already points to v{change.version}; nothing changed."
    if change.action == "deleted":
        return f"Deleted {ref} (was v{change.previous})."
    return f"{change.model} has no alias @{change.alias}; nothing to delete."


# Regression's metrics, shown where classification's are absent (regression.METRICS).
_ERRORS = ("rmse", "mae", "r2")


def render_train(result: TrainResult, name: str) -> str:
    verb = "Reused" if result.reused else "Registered"
    lines = [f"{verb} {name} v{result.version} (stage: {result.stage})"]
    lines += [f"  {message}" for message in result.messages]
    lines.append(
        "  "
        + "  ".join(
            f"{k} {result.metrics[k]:.4f}" for k in (*METRICS, *_ERRORS) if k in result.metrics
        )
    )
    lines.append(f"  run: {result.run_url or result.run_id}")
    return "\n".join(lines)


def render_history(history: History) -> str:
    if not history.moves:
        return f"{history.model} has no recorded alias moves."
    headers = ["When (UTC)", "Who", "Move", "Kind", "Why", "Commit"]
    rows = history_rows(history.moves)
    for move, row in zip(history.moves, rows, strict=True):
        row[2] = f"@{move.alias} {row[2]}"
    return tabulate(rows, headers, tablefmt="simple", disable_numparse=True)


def render_move(result: Release, head: str | None = None) -> str:
    """A release, rollback or promotion; `head` replaces the first line (a stage change's table,
    which also lists the archived versions). Warnings are the caller's to print on stderr."""
    lines = [head or f"{result.name}: {result.message}"]
    promotion = result.promotion
    if promotion is not None:
        if promotion.archived and head is None:
            lines.append(f"  archived: {', '.join('v' + v for v in promotion.archived)}")
        if promotion.dropped_aliases:
            dropped = ", ".join("@" + a for a in promotion.dropped_aliases)
            lines.append(f"  removed aliases: {dropped}")
        if promotion.move is not None:
            move = promotion.move
            lines.append(f"  recorded: {move.kind} by {move.actor}: {move.reason}")
    if result.card is not None:
        state = "written" if result.card.written else "unchanged"
        lines.append(f"  model card: {result.card.path} ({state})")
    return "\n".join(lines)
