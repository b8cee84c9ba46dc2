"""The model card (Mitchell et al., 2019): `CardFacts` -> markdown, and saving it.

`render` is pure and deterministic: the same facts give the same bytes (snapshot-tested), and the
facts hold no clock of their own, only dates that are part of the record (training date,
promotion dates). `card_facts.gather_facts` collects the facts from the registry and the holdout.
The card is YAML front matter (what tools read: name, version, metrics) followed by sections for
people: details, intended use, data, metrics with 95% intervals, per-class and per-slice tables,
the confusion matrix, the comparison with the previous champion and the gate's checks, caveats,
and the promotion history.

Why one module: the card is one document; its sections share the number formats and the
front matter's metric names, and the snapshot test reads it whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .champion import Move
from .config import CardConfig
from .markdown import cell, inline
from .task import DEFAULT as DEFAULT_TASK
from .task import named as task_named
from .verdict import GateSummary

__all__ = [
    "DESCRIPTION_LIMIT",
    "CardFacts",
    "ClassStats",
    "Comparison",
    "ComparisonRow",
    "GateSummary",
    "MetricInterval",
    "SliceStats",
    "description",
    "history_rows",
    "render",
    "save",
]

# MLflow's SQL stores keep a version's description in a VARCHAR(5000).
DESCRIPTION_LIMIT = 5000
_HISTORY_SHOWN = 20
_NONE = "—"


@dataclass(frozen=True)
class MetricInterval:
    metric: str
    value: float
    lo: float
    hi: float


@dataclass(frozen=True)
class ClassStats:
    label: str
    support: int
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class SliceStats:
    """Scores on the holdout rows where `column` == `value`."""

    column: str
    value: str
    rows: int
    accuracy: float
    f1_macro: float


@dataclass(frozen=True)
class ErrorSliceStats:
    """A regression's errors on the holdout rows where `column` == `value`."""

    column: str
    value: str
    rows: int
    rmse: float
    mae: float


@dataclass(frozen=True)
class ComparisonRow:
    metric: str
    other: float | None
    this: float | None
    delta: float | None
    ci_lo: float | None
    ci_hi: float | None


@dataclass(frozen=True)
class Comparison:
    """This version against another one (the previous champion), on the same holdout."""

    version: str
    role: str  # "previous champion" | "current champion"
    comparable: bool  # False: the other cannot score this data; rows hold logged metrics
    rows: tuple[ComparisonRow, ...]
    note: str | None = None


@dataclass(frozen=True)
class CardFacts:
    name: str
    version: str
    run_id: str | None
    stage: str
    aliases: tuple[str, ...]
    model_type: str
    hyperparameters: tuple[tuple[str, str], ...]
    fingerprint: str | None
    commit: str | None
    git_ref: str | None
    pr_number: str | None
    training_date: str | None
    ci_run_url: str | None
    # data
    target: str
    data_path: str
    data_sha256: str  # the file the metrics below were computed on
    training_data_sha256: str | None  # the version's tag; differs when the data changed since
    dataset_rows: int
    n_features: int
    class_balance: tuple[tuple[str, int], ...]
    holdout_rows: int
    holdout_sha256: str
    # metrics
    confidence: float
    n_bootstrap: int
    metrics: tuple[MetricInterval, ...]
    per_class: tuple[ClassStats, ...]
    slices: tuple[SliceStats, ...]
    confusion_labels: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]  # rows: true class, columns: predicted
    comparison: Comparison | None
    gate: GateSummary | None
    history: tuple[Move, ...]  # the champion alias's moves, oldest first
    champion_alias: str = "champion"
    text: CardConfig = field(default_factory=CardConfig)  # params.yaml's card: section
    task: str = DEFAULT_TASK
    error_slices: tuple[ErrorSliceStats, ...] = ()  # regression's per-slice table
    target_range: tuple[float, float, float] | None = None  # regression: min, mean, max
    built_by_release: bool = False  # trained by `mlgate release` in the release job itself


def render(facts: CardFacts) -> str:
    """The whole card as markdown (front matter first)."""
    sections = [
        _front_matter(facts),
        _title(facts),
        _details(facts),
        _intended_use(facts),
        _data(facts),
        _metrics(facts),
        _comparison(facts),
        _caveats(facts),
        _history(facts),
    ]
    return "\n".join(line for section in sections for line in section).rstrip("\n") + "\n"


def description(text: str, run_id: str | None, limit: int = DESCRIPTION_LIMIT) -> str:
    """The card cut to fit a version's description: whole sections while they fit, then a
    pointer to the full card (the run's `model_card.md` artifact) with the full card's digest, so
    a change past the cut changes the description too (a re-publish compares descriptions)."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    tail = f"\n*Full model card ({digest}): artifact `model_card.md` of run `{run_id}`.*\n"
    kept = ""
    for part in text.split("\n## "):
        piece = part if not kept else f"\n## {part}"
        if len(kept) + len(piece) + len(tail) > limit:
            break
        kept += piece
    return (kept.rstrip("\n") + "\n" + tail)[:limit]


def save(text: str, path: str | Path) -> bool:
    """Write the card; returns False (and leaves the file alone) when it already says this."""
    path = Path(path)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def history_rows(moves: Sequence[Move]) -> list[list[str]]:
    """When, who, from -> to, kind, why, commit: for the card and `mlgate history`."""
    return [
        [
            m.at,
            m.actor,
            f"{_version_or_none(m.from_version)} → {_version_or_none(m.to_version)}",
            m.kind,
            m.reason,
            (m.commit or _NONE)[:12],
        ]
        for m in moves
    ]


# --- sections ---------------------------------------------------------------------------------


def _front_matter(facts: CardFacts) -> list[str]:
    meta = {
        "model_name": facts.name,
        "version": facts.version,
        "stage": facts.stage,
        "aliases": list(facts.aliases),
        "model_type": facts.model_type,
        "fingerprint": facts.fingerprint,
        "commit": facts.commit,
        "data_sha256": facts.data_sha256,
        "metrics": {
            m.metric: {"value": _r(m.value), f"ci{_pct(facts.confidence)}": [_r(m.lo), _r(m.hi)]}
            for m in facts.metrics
        },
    }
    body = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=None)
    return ["---", body.rstrip("\n"), "---", ""]


def _title(facts: CardFacts) -> list[str]:
    lines = [f"# Model card: {facts.name} v{facts.version}", ""]
    role = (
        f"the {facts.champion_alias}"
        if facts.champion_alias in facts.aliases
        else f"in stage {facts.stage}"
    )
    kind = task_named(facts.task).learner
    described = facts.text.summary.format(
        model_type=facts.model_type,
        kind=kind,
        target=facts.target,
        n_classes=len(facts.confusion_labels),
    )
    summary = f"{described}; v{facts.version} is {role}."
    last = _arrival(facts)
    if last is not None:
        summary += f" It became champion on {last.at} ({last.kind}: {inline(last.reason)})."
    return [*lines, summary, ""]


def _details(facts: CardFacts) -> list[str]:
    hyper = ", ".join(f"`{k}={v}`" for k, v in facts.hyperparameters) or "library defaults"
    aliases = ", ".join(f"@{a}" for a in facts.aliases) or "none"
    rows = [
        ("Version", f"{facts.version} (stage {facts.stage}; aliases {aliases})"),
        ("MLflow run", _code(facts.run_id)),
        ("Fingerprint", _code(facts.fingerprint)),
        ("Commit", _code(facts.commit) + (f" on `{facts.git_ref}`" if facts.git_ref else "")),
        ("Pull request", f"#{facts.pr_number}" if facts.pr_number else _NONE),
        ("Trained", facts.training_date or _NONE),
        ("CI run", facts.ci_run_url or _NONE),
        ("Built by", _builder(facts)),
        (
            "Type",
            f"{facts.model_type}"
            " (scikit-learn pipeline: one-hot categoricals, numeric passthrough)",
        ),
        ("Hyperparameters", hyper),
        ("Serialization", "skops (no pickle), with an input signature"),
        # What MLflow's scoring server enforces is the signature, not the schema's domain.
        (
            "Input checks",
            "training and the gate: every row against `data.schema` (types, categories, ranges,"
            " required); the served model (`mlflow models serve`): column names and types only,"
            " from the signature (HTTP 400); a category or number outside the schema is predicted"
            " on, not refused: validate requests before calling it (docs/deployment.md,"
            ' "Serving the champion")',
        ),
    ]
    return [
        "## Model details",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {cell(v)} |" for k, v in rows),
        "",
    ]


def _builder(facts: CardFacts) -> str:
    """Whether the artifact was built by the release job: otherwise a job with weaker
    credentials (a pull request's) or a workstation built it, and it was verified, not rebuilt
    (`promotion.build: release` rebuilds every release)."""
    if facts.built_by_release:
        return "the release job (`mlgate release`, trained from the released commit)"
    return (
        "not the release job: `mlgate train` (a pull request's job or a workstation);"
        " verified as a skops scikit-learn model before it was loaded"
    )


def _intended_use(facts: CardFacts) -> list[str]:
    return ["## Intended use", "", *(f"- {line}" for line in facts.text.intended_use), ""]


def _source(facts: CardFacts) -> str:
    """params.yaml's words about the data, for the file they describe (`card.data_sha256`); a
    different file is said to be one, in `card.data_source_other`'s words."""
    text = facts.text
    if text.data_sha256 and facts.data_sha256 != text.data_sha256:
        words = text.data_source_other
    else:
        words = text.data_source
    return f", {words}" if words else "."


def _data(facts: CardFacts) -> list[str]:
    total = sum(n for _, n in facts.class_balance) or 1
    lines = [
        "## Training and evaluation data",
        "",
        f"- **Source:** `{facts.data_path}`{_source(facts)}",
        f"- **sha256:** `{facts.data_sha256}`",
        f"- **Size:** {facts.dataset_rows} rows after dropping exact duplicates, {facts.n_features}"
        f" features, target `{facts.target}`.",
        f"- **Holdout:** {facts.holdout_rows} rows ({_split_kind(facts)} split),"
        f" sha256 `{facts.holdout_sha256}`;"
        " the rest trained the model.",
    ]
    if facts.training_data_sha256 and facts.training_data_sha256 != facts.data_sha256:
        lines.append(
            "- **Note:** this version was trained on data with"
            f" sha256 `{facts.training_data_sha256}`;"
            " the metrics below use the file above, whose holdout may include rows it trained on."
        )
    if facts.target_range is not None:
        low, mean, high = facts.target_range
        lines.append(f"- **Target:** `{facts.target}` from {low:g} to {high:g}, mean {mean:.4g}.")
        return [*lines, ""]
    lines += ["", "| Class | Rows | Share |", "|---|---:|---:|"]
    lines += [f"| {label} | {n} | {n / total:.1%} |" for label, n in facts.class_balance]
    return [*lines, ""]


def _split_kind(facts: CardFacts) -> str:
    return "stratified" if task_named(facts.task).stratified else "random"


def _metrics(facts: CardFacts) -> list[str]:
    pct = _pct(facts.confidence)
    lines = [
        "## Metrics",
        "",
        f"On the holdout; {pct}% intervals are percentile bootstraps over its rows"
        f" ({facts.n_bootstrap} resamples).",
        "",
        f"| Metric | Value | {pct}% CI |",
        "|---|---:|---:|",
        *(f"| {m.metric} | {m.value:.4f} | [{m.lo:.4f}, {m.hi:.4f}] |" for m in facts.metrics),
        "",
    ]
    if not task_named(facts.task).has_classes:
        return lines + _error_slices(facts)
    lines += [
        "### Per class",
        "",
        "| Class | Support | Precision | Recall | F1 |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {c.label} | {c.support} | {c.precision:.4f} | {c.recall:.4f} | {c.f1:.4f} |"
            for c in facts.per_class
        ),
        "",
    ]
    for column in dict.fromkeys(s.column for s in facts.slices):
        lines += [
            f"### Per {column}",
            "",
            "Macro F1 averages the classes present in each group; a class with a handful of rows"
            " in a group moves it a lot.",
            "",
            f"| {column} | Rows | Accuracy | Macro F1 |",
            "|---|---:|---:|---:|",
            *(
                f"| {s.value} | {s.rows} | {s.accuracy:.4f} | {s.f1_macro:.4f} |"
                for s in facts.slices
                if s.column == column
            ),
            "",
        ]
    return lines + _confusion(facts)


def _error_slices(facts: CardFacts) -> list[str]:
    lines: list[str] = []
    for column in dict.fromkeys(s.column for s in facts.error_slices):
        lines += [
            f"### Per {column}",
            "",
            f"| {column} | Rows | RMSE | MAE |",
            "|---|---:|---:|---:|",
            *(
                f"| {s.value} | {s.rows} | {s.rmse:.4f} | {s.mae:.4f} |"
                for s in facts.error_slices
                if s.column == column
            ),
            "",
        ]
    return lines


def _confusion(facts: CardFacts) -> list[str]:
    labels = facts.confusion_labels
    head = "| true \\ predicted | " + " | ".join(str(i + 1) for i in range(len(labels))) + " |"
    lines = [
        "### Confusion matrix",
        "",
        "Rows are the true class, columns the predicted one (numbered as the rows).",
        "",
        head,
        "|---|" + "---:|" * len(labels),
    ]
    for i, (label, row) in enumerate(zip(labels, facts.confusion, strict=True)):
        cells = " | ".join(f"**{n}**" if i == j else str(n) for j, n in enumerate(row))
        lines.append(f"| {i + 1}. {label} | {cells} |")
    return [*lines, ""]


def _comparison(facts: CardFacts) -> list[str]:
    c = facts.comparison
    if c is None:
        lines = [
            "## Comparison with the previous champion",
            "",
            "None: this is the first champion.",
            "",
        ]
    else:
        lines = [f"## Comparison with v{c.version} ({c.role})", ""]
        if c.comparable:
            rows_note = f" {inline(c.note)}." if c.note else ""
            lines += [
                "Both scored on the rows of the holdout above that neither trained on; the"
                " interval is the paired bootstrap of the difference"
                f" (v{facts.version} − v{c.version}).{rows_note}",
                "",
                f"| Metric | v{c.version} | v{facts.version} | Δ"
                f" | {_pct(facts.confidence)}% CI of Δ |",
                "|---|---:|---:|---:|---:|",
            ]
            for r in c.rows:
                ci = f"[{r.ci_lo:+.4f}, {r.ci_hi:+.4f}]" if r.ci_lo is not None else _NONE
                lines.append(
                    f"| {r.metric} | {_f(r.other)} | {_f(r.this)} | {_signed(r.delta)} | {ci} |"
                )
        else:
            lines += [
                f"Not comparable on this holdout: {c.note or 'the other version cannot score it'}."
                " Logged metrics, each on its own holdout:",
                "",
                f"| Metric | v{c.version} (logged) | v{facts.version} |",
                "|---|---:|---:|",
                *(f"| {r.metric} | {_f(r.other)} | {_f(r.this)} |" for r in c.rows),
            ]
        lines.append("")
    return lines + _gate(facts)


def _gate(facts: CardFacts) -> list[str]:
    gate = facts.gate
    lines = ["### Gate", ""]
    arrival = _arrival(facts)
    if arrival is not None and arrival.kind == "rollback":
        lines += ["Restored by a rollback, without a new gate (it was champion before).", ""]
    if gate is None:
        return [*lines, "No gate verdict is recorded for this version.", ""]
    against = f"against v{gate.champion_version}" if gate.champion_version else "with no champion"
    holdout = f" on holdout `{gate.holdout_sha256[:12]}`" if gate.holdout_sha256 else ""
    passed = sum(1 for _, ok, _ in gate.checks if ok)
    lines += [
        f"Last verdict: **{gate.verdict}** {against}{holdout}"
        f" ({passed}/{len(gate.checks)} checks passed).",
        "",
        "| Check | Result | Detail |",
        "|---|:---:|---|",
        *(f"| {name} | {'✓' if ok else '✗'} | {cell(msg)} |" for name, ok, msg in gate.checks),
    ]
    if gate.n_clean is not None and gate.n_rows is not None:
        rows = f"Compared on {gate.n_clean} of {gate.n_rows} holdout rows"
        rows += f" ({inline(gate.why_fewer)})." if gate.why_fewer else " (all clean)."
        lines += ["", rows]
    if gate.detectable_drop is not None:
        chances = ", ".join(f"{p * 100:.0f} % at {d * 100:g} points" for d, p in gate.oc)
        blocked = (
            f"a true drop of {gate.detectable_drop:.4f} or more is blocked"
            if gate.detectable_drop > 0  # else the spread is wider than the margin
            else "even a challenger as good as the champion is blocked"
        )
        lines += ["", f"Power: {blocked} with 95 % probability; P(block): {chances}."]
    return [*lines, ""]


def _caveats(facts: CardFacts) -> list[str]:
    lines = [
        "## Caveats and ethical considerations",
        "",
        *(f"- {line}" for line in facts.text.caveats),
        f"- **Holdout only.** Metrics come from one {_split_kind(facts)} split of one file; the"
        " intervals cover resampling of those rows, not a shift in the population.",
    ]
    if facts.comparison is not None and not facts.comparison.comparable:
        lines.append(
            f"- **Schema change.** v{facts.comparison.version} cannot score this data, so the"
            " comparison uses metrics logged on different holdouts."
        )
    return [*lines, ""]


def _history(facts: CardFacts) -> list[str]:
    moves = list(facts.history)[-_HISTORY_SHOWN:]
    lines = ["## Promotion history", ""]
    if not moves:
        return [*lines, "No champion moves are recorded.", ""]
    omitted = len(facts.history) - len(moves)
    if omitted:
        lines += [
            f"The {len(moves)} latest of {len(facts.history)} moves (`mlgate history` lists all).",
            "",
        ]
    lines += ["| When (UTC) | Who | Move | Kind | Why | Commit |", "|---|---|---|---|---|---|"]
    for row in history_rows(moves):
        row[5] = _code(row[5]) if row[5] != _NONE else _NONE
        lines.append("| " + " | ".join(cell(c) for c in row) + " |")
    return [*lines, ""]


# --- helpers ------------------------------------------------------------------------------------


def _arrival(facts: CardFacts) -> Move | None:
    """The move that made this version champion, when it is the champion."""
    if facts.champion_alias not in facts.aliases:
        return None
    return next((m for m in reversed(facts.history) if m.to_version == facts.version), None)


def _version_or_none(version: str | None) -> str:
    return f"v{version}" if version else "none"


def _r(value: float) -> float:
    return round(float(value), 4)


def _pct(confidence: float) -> str:
    return f"{confidence * 100:g}"


def _f(value: float | None) -> str:
    return _NONE if value is None else f"{value:.4f}"


def _signed(value: float | None) -> str:
    return _NONE if value is None else f"{value:+.4f}"


def _code(value: str | None) -> str:
    return f"`{value}`" if value else _NONE
