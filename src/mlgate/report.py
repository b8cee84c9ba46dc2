"""Render a `GateResult` as the PR comment, the step summary, terminal text and JSON.

Pure and deterministic: the same result renders to the same bytes (snapshot-tested), so the
sticky PR comment only changes when the evidence does.

The markdown starts with `MARKER` on its own line so the comment workflow can find and update
its one comment. The verdict, the failed checks and the metric table come first; the long
parts (every check with its numbers, the per-class table and chart) are folded in `<details>`.

The JSON verdict (and the record stored with the run) is verdict.py's.

Why one module: the comment, the step summary and the terminal text are three renderings of the
same sections (headline, the rules-changed warning, metrics, checks, per-class table), and they
must agree line for line; split apart, one would drift from the others.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .gate import VERDICT_FAIL, VERDICT_INCONCLUSIVE, VERDICT_NO_CHAMPION, Check, GateResult
from .markdown import cell
from .task import named as task_named

if TYPE_CHECKING:
    from .challenge import GateRun

__all__ = [
    "MARKER",
    "render_markdown",
    "render_run",
    "render_step_summary",
    "render_text",
    "warning",
    "warning_block",
]

MARKER = "<!-- mlgate:gate-report -->"

_OK, _NO, _NONE, _UNSURE = "✓", "✗", "—", "?"


def render_markdown(
    result: GateResult, links: Mapping[str, str] | None = None, warning: str | None = None
) -> str:
    """The sticky PR comment: `MARKER` on the first line, then the report.

    `links` maps a label to a URL (e.g. {"MLflow run": ..., "Model version 4": ...}); they are
    rendered in the given order under the headline. `warning` (see `warning()`) comes right
    under the headline, before anything else.
    """
    return f"{MARKER}\n{render_step_summary(result, links, warning)}"


def render_step_summary(
    result: GateResult, links: Mapping[str, str] | None = None, warning: str | None = None
) -> str:
    """The report without the comment marker (for $GITHUB_STEP_SUMMARY)."""
    return "\n".join(_sections(result, links or {}, warning)) + "\n"


def warning(run: GateRun) -> str | None:
    """The line a change that edits its own rules gets: what changed, the binding verdict (the
    base's rules) and, for information, the verdict under the change's own gate settings."""
    if run.policy is None:
        return None
    text = f"Rules changed: {run.policy.describe()}. Binding verdict: {run.result.verdict}"
    if run.informational is not None:
        text += f"; under this change's own rules it would be: {run.informational.verdict}"
    return text + "."


def warning_block(text: str) -> str:
    """`warning()`'s line as a GitHub alert, the most prominent thing a comment can show."""
    return f"> [!WARNING]\n> **{cell(text)}**"


def render_text(result: GateResult) -> str:
    """Plain text for the terminal: the verdict, the metrics and every check with its numbers.

    The CLI prints this before it exits, so a failing job's log shows why without the comment.
    """
    lines = [f"mlgate gate: {_verdict_text(result)}", _subject(result, tick="")]
    if result.holdout.why_fewer and result.champion is not None:
        lines.append(f"clean rows: {result.holdout.why_fewer}")
    if result.note:
        lines.append(f"note: {result.note}")
    if (data := _data_text(result)) is not None:
        lines.append(f"data: {data}")
    if result.metrics:
        ci = f"{result.config.confidence * 100:g}% CI of delta"
        champion = _version(result.champion, "champion")
        challenger = _version(result.challenger, "challenger")
        table = [("metric", champion, challenger, "delta", ci)]
        for row in result.metrics:
            interval = f"[{row.ci_lo:+.4f}, {row.ci_hi:+.4f}]" if row.ci_lo is not None else "-"
            table.append(
                (
                    row.metric,
                    _fixed(row.champion, "-"),
                    _fixed(row.challenger, "-"),
                    _signed(row.delta, "-"),
                    interval,
                )
            )
        lines += ["", *_columns(table)]
    if result.mcnemar is not None:
        m = result.mcnemar
        lines.append(
            f"McNemar exact test of accuracy on the discordant rows: {m.label} "
            f"(b={m.b}, c={m.c}, p={m.p_value:.4g})"
        )
    if (power := _power_text(result)) is not None:
        lines.append(f"power: {power}")
    if result.decision is not None and (
        settle := result.decision.settle(result.config.evidence == "cv")
    ):
        lines.append(f"what would settle it: {settle}")
    lines += ["", f"checks ({_tally(result.checks)}):"]
    for c in result.checks:
        numbers = ""
        if c.candidate is not None or c.threshold is not None:
            bound = _bound(c, "-", (">=", "<="))
            numbers = f" (candidate {_num(c.candidate, '-')}, threshold {bound})"
        state = "PASS" if c.passed else ("INCONCLUSIVE" if c.inconclusive else "FAIL")
        lines.append(f"  {state} {c.name}{numbers}: {c.message}")
    return "\n".join(lines) + "\n"


# --- markdown sections ----------------------------------------------------------------------


def _sections(
    result: GateResult, links: Mapping[str, str], warning: str | None = None
) -> Iterator[str]:
    yield _headline(result)
    if warning:
        yield ""
        yield warning_block(warning)
    yield ""
    yield _subject(result)
    if links:
        yield ""
        yield " · ".join(f"[{cell(label)}]({url})" for label, url in links.items())
    if result.dry_run:
        yield ""
        yield "> **Dry run** (`gate.mode: dry_run`): this verdict is reported, it does not block."
    if result.holdout.why_fewer and result.champion is not None:
        yield ""
        why = cell(result.holdout.why_fewer)
        yield f"> Compared only on rows neither model trained on: {why}."
    if result.note:
        yield ""
        yield f"> ⚠️ {cell(result.note)}"
    if (data := _data_text(result)) is not None:
        yield ""
        yield f"> Data: {cell(data)}."
    failed = [c for c in result.failed_checks if not c.inconclusive]
    if failed:
        yield ""
        yield "**Failed checks**"
        yield ""
        yield from (f"- {_NO} `{c.name}`: {cell(c.message)}" for c in failed)
    unsure = [c for c in result.failed_checks if c.inconclusive]
    if unsure:
        yield ""
        yield "**Inconclusive: the evidence cannot tell a loss of the margin from no loss**"
        yield ""
        yield from (f"- {_UNSURE} `{c.name}`: {cell(c.message)}" for c in unsure)
        if result.decision is not None and (
            settle := result.decision.settle(result.config.evidence == "cv")
        ):
            yield ""
            yield f"What would settle it: {cell(settle)}."
    if result.metrics:
        yield ""
        yield from _metric_table(result)
    if result.mcnemar is not None:
        m = result.mcnemar
        yield ""
        yield (
            f"**McNemar exact test of accuracy on the {m.b + m.c} discordant rows** (rows exactly "
            f"one model gets right): {m.label} (b = {m.b} champion-only correct, c = {m.c} "
            f"challenger-only correct, p = {m.p_value:.4g}, α = {m.alpha:g}; informational)"
        )
    if (power := _power_text(result)) is not None:
        yield ""
        yield f"**Power:** {power}"
        yield ""
        yield from _details("Operating characteristic", _oc_table(result))
    yield ""
    yield from _details(f"All checks ({_tally(result.checks)})", _check_table(result.checks))
    if result.per_slice:
        yield ""
        yield from _details(f"Per {result.slice_column}", _slice_table(result))
    if result.per_class:
        yield ""
        yield from _details("Per-class F1", _class_table(result))
        yield ""
        yield from _details("Per-class F1 chart", _chart(result))
    yield ""
    yield f"<sub>{_footer(result)}</sub>"


def _verdict_text(result: GateResult) -> str:
    if result.mode == "disabled":
        return "PASS (gate disabled, nothing checked)"
    head, _, rest = result.verdict.partition(" ")
    text = f"{head.upper()} {rest}".rstrip()
    if result.verdict == VERDICT_INCONCLUSIVE and not result.dry_run:
        effect = "blocks" if result.config.on_inconclusive == "fail" else "does not block"
        return f"{text} (gate.on_inconclusive: {result.config.on_inconclusive}: {effect})"
    return f"{text} (dry run: does not block)" if result.dry_run else text


def _headline(result: GateResult) -> str:
    who = f"challenger v{result.challenger.version}"
    if result.mode == "disabled":
        return f"## ✅ mlgate: gate disabled, {who} was not checked"
    failed = result.verdict == VERDICT_FAIL
    label = " (dry run)" if result.dry_run else ""
    if result.verdict == VERDICT_INCONCLUSIVE:
        policy = result.config.on_inconclusive
        effect = "blocks" if policy == "fail" else "does not block"
        return (
            f"## ⚠️ mlgate{label}: the gate is inconclusive for {who} "
            f"(`gate.on_inconclusive: {policy}`: {effect}){_relabels(result)}"
        )
    emoji = "❌" if failed else "✅"
    if result.dry_run:
        outcome = "would fail" if failed else "would pass"
    else:
        outcome = "failed" if failed else "passed"
    extra = " (no champion)" if result.verdict == VERDICT_NO_CHAMPION else ""
    return f"## {emoji} mlgate{label}: {who} {outcome} the gate{extra}{_relabels(result)}"


def _relabels(result: GateResult) -> str:
    """The headline's note of a change that relabels rows the champion's data file has."""
    change = result.data_change
    if change is None or not change.disputed:
        return ""
    rows = "row" if change.disputed == 1 else "rows"
    return f" · ⚠️ this change relabels {change.disputed} {rows} of the champion's data"


def _data_text(result: GateResult) -> str | None:
    """The data file against the champion's, row by row; None when nothing was recorded."""
    change = result.data_change
    if change is None or result.champion is None:
        return None
    if not (change.disputed or change.added or change.removed):
        return f"the same {change.recorded} rows and labels as the champion's data file"
    return (
        f"against the champion's data file ({change.recorded} rows): {change.disputed} rows "
        f"relabelled (disputed: cross-validation does not score them), {change.added} added, "
        f"{change.removed} removed"
    )


def _subject(result: GateResult, tick: str = "`") -> str:
    challenger = _version(result.challenger, "challenger")
    champion = _version(result.champion, "champion") if result.champion else "no champion"
    cfg = result.config
    holdout = result.holdout
    rows = f"{holdout.n_rows} rows"
    if holdout.n_clean is not None and holdout.n_clean != holdout.n_rows:
        rows += f", {holdout.n_clean} clean"
    relative = " of the champion's error" if cfg.margin_kind == "relative" else ""
    return (
        f"{challenger.capitalize()} vs {champion} on holdout {tick}{holdout.sha256[:12]}{tick} "
        f"({rows}) · primary metric {tick}{cfg.primary_metric}{tick}, "
        f"margin {cfg.margin:g}{relative} (the largest loss a pass may hide) · "
        f"mode {tick}{result.mode}{tick}"
    )


def _metric_table(result: GateResult) -> Iterator[str]:
    champ = _version(result.champion, "Champion")
    if result.champion is not None and not result.comparable:
        champ += " (logged)"
    chall = _version(result.challenger, "Challenger")
    cfg = result.config
    level = (1 - cfg.confidence) / 2 * 100
    ci = f"{cfg.confidence * 100:g}% CI of Δ (one-sided {level:g}% each side)"
    yield f"| Metric | {champ} | {chall} | Δ | {ci} | Rule it feeds |"
    yield "|---|---:|---:|---:|:---:|:---:|"
    for row in result.metrics:
        name = f"`{row.metric}`"
        if row.metric == result.config.primary_metric:
            name += " (primary)"
        if row.ci_lo is not None and row.ci_hi is not None:
            interval = f"[{row.ci_lo:+.4f}, {row.ci_hi:+.4f}]"
        else:
            interval = "not comparable" if result.champion is not None else _NONE
        cells = (
            name,
            _fixed(row.champion),
            _fixed(row.challenger),
            _signed(row.delta),
            interval,
            _rules(row.metric, result.checks),
        )
        yield "| " + " | ".join(cells) + " |"


def _rules(metric: str, checks: tuple[Check, ...]) -> str:
    """Which rules a metric row feeds, with each rule's outcome ("✓ threshold")."""
    names = {f"threshold.{metric}": "threshold", f"non_inferiority.{metric}": "non-inferiority"}
    cells = [f"{_check_mark(c)} {names[c.name]}" for c in checks if c.name in names]
    return " · ".join(cells) if cells else f"{_NONE} (reported)"


def _check_mark(check: Check) -> str:
    return _OK if check.passed else (_UNSURE if check.inconclusive else _NO)


def _power_text(result: GateResult) -> str | None:
    """δ95 and P(block) at the OC drops, from the standard error this gate observed."""
    decision = result.decision
    if decision is None:
        return None
    blocks = result.config.on_inconclusive == "fail"
    d95, oc = decision.power(inconclusive_blocks=blocks)
    source = decision.cv if decision.decided_by == "cv" and decision.cv else decision.holdout
    where = "cross-validated rows" if source is decision.cv else "clean holdout rows"
    if d95 == float("inf"):
        return f"none: too few {where} to estimate a spread"
    if decision.cv_stage is not None:
        how = "projected from the holdout" if decision.cv_projected else "measured"
        where += (
            f"; the whole procedure: the holdout, then cross-validation when it cannot tell "
            f"(its standard error {decision.cv_stage[0]:.4f} {how}, t on {decision.cv_stage[1]} "
            "degrees of freedom)"
        )
    chances = " / ".join(f"{row.p_block(blocks) * 100:.0f} %" for row in oc)
    if task_named(result.task).unit_scores:
        what = "a true drop"
        at = f"{' / '.join(f'{row.drop * 100:g}' for row in oc)} points"
    else:  # losses in the error's units, not points of a score
        what = f"a true {result.config.primary_metric} loss"
        at = f"losses of {' / '.join(f'{row.drop:.4g}' for row in oc)}"
    spread = f"standard error {source.se:.4f} on {source.n} {where}"
    if d95 <= 0:  # the spread is wider than the margin: even an equal challenger is blocked
        return (
            f"this gate blocks even a challenger as good as the champion with 95 % probability"
            f" ({spread}): too noisy to pass within the margin; more rows would; P(block) at"
            f" {at}: {chances}"
        )
    return (
        f"this gate blocks {what} of {d95:.4f} or more with 95 % probability ({spread});"
        f" P(block) at {at}: {chances}"
    )


def _oc_table(result: GateResult) -> list[str]:
    blocks = result.config.on_inconclusive == "fail"
    _, oc = result.decision.power(inconclusive_blocks=blocks)
    points = task_named(result.task).unit_scores
    head = "True drop" if points else f"True {result.config.primary_metric} loss"
    lines = [
        f"| {head} | P(pass) | P(inconclusive) | P(fail) | P(block) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for row in oc:
        cells = (
            f"{row.drop:.3f}" if points else f"{row.drop:.4g}",
            *(f"{p * 100:.1f} %" for p in (row.p_pass, row.p_inconclusive, row.p_fail)),
            f"{row.p_block(blocks) * 100:.1f} %",
        )
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _check_table(checks: tuple[Check, ...]) -> list[str]:
    lines = [
        "| | Check | Candidate | Baseline | Threshold | Message |",
        "|:---:|---|---:|---:|---:|---|",
    ]
    for c in checks:
        cells = (
            _check_mark(c),
            f"`{c.name}`",
            _num(c.candidate),
            _num(c.baseline),
            _bound(c),
            cell(c.message),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _class_table(result: GateResult) -> list[str]:
    champ = _version(result.champion, "Champion") + " F1"
    chall = _version(result.challenger, "Challenger") + " F1"
    lines = [f"| Class | {champ} | {chall} | Δ | Support |", "|---|---:|---:|---:|---:|"]
    for row in result.per_class:
        cells = (
            cell(row.label),
            _fixed(row.champion_f1),
            _fixed(row.challenger_f1),
            _signed(row.delta),
            str(row.support),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _slice_table(result: GateResult) -> list[str]:
    metric = result.config.primary_metric
    champ = f"{_version(result.champion, 'Champion')} {metric}"
    chall = f"{_version(result.challenger, 'Challenger')} {metric}"
    lines = [
        f"| {result.slice_column} | {champ} | {chall} | Δ | Rows |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in result.per_slice:
        delta = None if row.champion is None else row.challenger - row.champion
        cells = (
            cell(row.value),
            _fixed(row.champion),
            _fixed(row.challenger),
            _signed(delta),
            str(row.rows),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _chart(result: GateResult) -> list[str]:
    """Mermaid xychart of per-class F1: the champion as bars, the challenger as a line.

    xychart-beta stacks several bar series on top of each other (mermaid-js/mermaid#7392), so
    a second bar series would hide the first; a line over bars keeps both visible.
    """
    rows = result.per_class
    classes = ", ".join(f'"{_quote(row.label)}"' for row in rows)
    lines = [
        "```mermaid",
        "xychart-beta",
        '    title "Per-class F1"',
        f"    x-axis [{classes}]",
        '    y-axis "F1" 0 --> 1',
    ]
    legend = []
    champion = [row.champion_f1 for row in rows]
    if result.champion is not None and all(v is not None for v in champion):
        name = _quote(_version(result.champion, "champion"))
        lines.append(f'    bar "{name}" [{_series(champion)}]')
        legend.append(f"bars: {name}")
    name = _quote(_version(result.challenger, "challenger"))
    lines.append(f'    line "{name}" [{_series([row.challenger_f1 for row in rows])}]')
    legend.append(f"line: {name}")
    return [*lines, "```", "", " · ".join(legend)]


def _details(summary: str, body: list[str]) -> list[str]:
    # Blank lines around the body let GitHub render markdown inside the HTML block.
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>"]


def _footer(result: GateResult) -> str:
    cfg = result.config
    if result.comparable and not task_named(result.task).has_classes:
        return (
            f"Paired bootstrap: {cfg.n_bootstrap} resamples of the clean holdout rows, percentile "
            f"interval, seed {cfg.seed}; the primary metric's interval is never narrower than "
            f"the normal one of the bootstrap's spread. Holdout sha256 "
            f"`{result.holdout.sha256}`."
        )
    if result.comparable:
        return (
            f"Paired bootstrap: {cfg.n_bootstrap} resamples of the clean holdout rows, percentile "
            f"interval, seed {cfg.seed}; the primary metric's interval is never narrower than "
            f"the spread a loss of the margin implies. Holdout sha256 `{result.holdout.sha256}`."
        )
    return f"Holdout sha256 `{result.holdout.sha256}`."


# --- formatting -----------------------------------------------------------------------------


def _tally(checks: tuple[Check, ...]) -> str:
    failed = sum(not c.passed for c in checks)
    return f"{len(checks) - failed} passed, {failed} failed"


def _version(ref: Any, role: str) -> str:
    return f"{role} v{ref.version}" if ref is not None else role


def _fixed(value: float | None, missing: str = _NONE) -> str:
    return missing if value is None else f"{value:.4f}"


def _signed(value: float | None, missing: str = _NONE) -> str:
    return missing if value is None else f"{value:+.4f}"


def _bound(check: Check, missing: str = _NONE, signs: tuple[str, str] = ("≥", "≤")) -> str:
    """The threshold with its direction: "≥ 0.85" reads as the rule it is."""
    bound = _num(check.threshold, missing)
    if check.threshold is not None and check.direction in ("higher", "lower"):
        bound = f"{signs[0] if check.direction == 'higher' else signs[1]} {bound}"
    return bound


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    """Left-aligned first column, right-aligned others, two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def _num(value: float | None, missing: str = _NONE) -> str:
    """Check numbers span p-values to byte counts: 4 significant digits, or whole thousands."""
    if value is None:
        return missing
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _series(values: list[float | None]) -> str:
    return ", ".join(f"{(v or 0.0):.3f}" for v in values)


def _quote(text: str) -> str:
    return text.replace('"', "'")


def render_run(run: GateRun) -> str:
    """`mlgate gate`'s terminal output: the verdict text and the aliases a pass set."""
    text = render_text(run.result)
    if (line := warning(run)) is not None:
        text = f"warning: {line}\n{text}"
    if run.aliases_set:
        aliases = ", ".join("@" + a for a in run.aliases_set)
        text += f"\naliases set on v{run.challenger}: {aliases}"
    return text
