"""The `mlgate` command line: thin click commands and the one exception -> exit code mapping.

Imports of mlflow, scikit-learn and pandas happen inside commands, never at module level, so
`mlgate --help` answers in a fraction of a second.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import EXIT_REGISTRY, EXIT_USAGE, MlgateError

__all__ = ["main"]


class _Group(click.Group):
    """Maps every exception to one line on stderr and its documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            # One line, like every other error: click's own form spans four.
            path = (ctx.obj or {}).get("script") or (exc.ctx.command_path if exc.ctx else "")
            where = f" (see '{path} --help')" if path else ""
            self._fail(ctx, None, f"{exc.format_message()}{where}", EXIT_USAGE)
        except BrokenPipeError:
            # `mlgate versions | head`: the reader left; stop quietly, as other tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(141)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except MlgateError as exc:
            self._fail(ctx, exc, str(exc), exc.exit_code)
        except KeyboardInterrupt:
            self._fail(ctx, None, "interrupted", 130)
        except Exception as exc:
            message = f"unexpected {type(exc).__name__}: {exc}; re-run with --verbose and report it"
            self._fail(ctx, exc, message, EXIT_REGISTRY)

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        # Errors in the group's own options (`mlgate --bogus`) come before `invoke`.
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            click.echo(f"mlgate: error: {exc.format_message()}{where}", err=True)
            sys.exit(EXIT_USAGE)

    @staticmethod
    def _fail(ctx: click.Context, exc: BaseException | None, message: str, code: int) -> None:
        if exc is not None and ctx.find_root().params.get("verbose"):
            traceback.print_exception(exc)
        click.echo(f"mlgate: error: {message.splitlines()[0] if message else 'failed'}", err=True)
        ctx.exit(code)


# --- shared options (defined once) -------------------------------------------------------------

params_option = click.option(
    "--params",
    "params_path",
    default="params.yaml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The project's configuration file.",
)
tracking_uri_option = click.option(
    "--tracking-uri",
    envvar="MLFLOW_TRACKING_URI",
    default=None,
    help="MLflow tracking/registry URI [env: MLFLOW_TRACKING_URI; default: params.yaml's].",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def _params(params_path: str, required: bool = True):
    """params.yaml when it exists; built-in defaults for registry commands run elsewhere."""
    from .config import default_params, load_params

    if not required and params_path == "params.yaml" and not Path(params_path).exists():
        return default_params()
    return load_params(params_path)


def _registry(params, tracking_uri: str | None):
    from .config import resolve_tracking_uri
    from .registry import connect

    return connect(resolve_tracking_uri(params, tracking_uri))


def _echo_json(payload: Any) -> None:
    click.echo(json.dumps(payload, indent=2, sort_keys=True, default=str))


# --- the group ---------------------------------------------------------------------------------


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlgate")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and MLflow's own logging.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Gate, promote and roll back MLflow models from CI.

    Exit codes: 0 ok, 1 gate failed, 2 usage/config/data error, 3 registry/infrastructure error.
    """
    ctx.ensure_object(dict)
    if not verbose:
        import logging
        import warnings

        # MLflow configures its loggers when imported (later, inside a command): set the level
        # it reads rather than the loggers themselves.
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
        # ...and the logger itself, for a process that imported mlflow already (tests, notebooks).
        logging.getLogger("mlflow").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore")


# --- data and training ---------------------------------------------------------------------------


@main.group()
def data() -> None:
    """Create or check the dataset."""


@data.command("generate")
@click.option("--rows", default=2111, show_default=True, type=click.IntRange(50, 1_000_000))
@click.option("--seed", default=42, show_default=True, type=int)
@click.option(
    "--out", default="data/obesity.csv", show_default=True, type=click.Path(dir_okay=False)
)
def data_generate(rows: int, seed: int, out: str) -> None:
    """Write a synthetic obesity dataset with the UCI schema (deterministic for a seed)."""
    from . import data as data_mod

    frame = data_mod.generate(rows=rows, seed=seed)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    click.echo(f"wrote {out}: {len(frame)} rows, sha256 {data_mod.file_sha256(out)[:12]}")


@data.command("check")
@params_option
@click.option(
    "--data", "data_path", default=None, help="CSV to check [default: params' data.path]."
)
def data_check(params_path: str, data_path: str | None) -> None:
    """Validate the dataset against the UCI schema and print its class balance."""
    from . import data as data_mod

    params = _params(params_path)
    dataset = data_mod.load(data_path or params.data.path, params.data.target)
    counts = dataset.frame[params.data.target].value_counts()
    click.echo(
        f"{dataset.path}: ok, {len(dataset.frame)} rows"
        f" ({dataset.duplicates_dropped} duplicate rows dropped), sha256 {dataset.sha256[:12]}"
    )
    for label in data_mod.CLASSES:
        if label in counts:
            click.echo(f"  {label:<22} {counts[label]:>5}")


@main.command()
@params_option
@click.option(
    "--data", "data_path", default=None, help="Training CSV [default: params' data.path]."
)
@click.option(
    "--model-dir",
    "--model_dir",
    "model_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Also save the MLflow model to this folder.",
)
@click.option("--metrics", "metrics_path", default="metrics.json", show_default=True)
@click.option(
    "--fig-cm",
    "--fig_cm",
    "figure_path",
    default="reports/confusion_matrix.png",
    show_default=True,
)
@click.option(
    "--pr-number", "--pr_number", "pr_number", default=None, help="Pull request number (a tag)."
)
@tracking_uri_option
@json_option
def train(
    params_path, data_path, model_dir, metrics_path, figure_path, pr_number, tracking_uri, as_json
) -> None:
    """Train the model from params.yaml, log it to MLflow and register a version.

    Inputs already registered (same fingerprint) reuse that version: nothing new is registered.
    """
    from . import data as data_mod
    from . import github
    from .errors import ConfigError
    from .fingerprint import installed_mismatches, mismatch_message, of_worktree
    from .train import train as run_training

    params = _params(params_path)
    data_path = data_path or params.data.path
    dataset = data_mod.load(data_path, params.data.target)
    fingerprint = of_worktree(params, data_path)
    mismatches = installed_mismatches(fingerprint.packages)
    if mismatches and os.environ.get("CI", "").lower() == "true":
        # In CI a version registered under this fingerprint would claim an environment it lacks.
        raise ConfigError(mismatch_message(mismatches))
    if mismatches:
        click.echo(f"warning: {mismatch_message(mismatches)}", err=True)
    registry = _registry(params, tracking_uri)
    result = run_training(
        params,
        registry,
        fingerprint,
        dataset,
        context_tags=github.context_tags(pr_number),
        metrics_path=Path(metrics_path),
        figure_path=Path(figure_path),
        model_dir=Path(model_dir) if model_dir else None,
    )
    github.write_outputs({"version": result.version, "reused": str(result.reused).lower()})
    if as_json:
        _echo_json(result.__dict__)
        return
    name = params.mlflow.registered_model_name
    verb = "Reused" if result.reused else "Registered"
    click.echo(f"{verb} {name} v{result.version} (stage: {result.stage})")
    for message in result.messages:
        click.echo(f"  {message}")
    shown = ("accuracy", "f1_macro", "precision_macro", "recall_macro")
    click.echo(
        "  " + "  ".join(f"{k} {result.metrics[k]:.4f}" for k in shown if k in result.metrics)
    )
    click.echo(f"  run: {result.run_url or result.run_id}")


# --- gate ----------------------------------------------------------------------------------------


@main.command()
@params_option
@click.option("--data", "data_path", default=None, help="Dataset whose test split is the holdout.")
@click.option(
    "--challenger",
    "challenger_ref",
    default=None,
    help="Version, @alias or stage [default: the version trained from this tree].",
)
@click.option(
    "--champion",
    "champion_ref",
    default=None,
    help="Version, @alias or stage [default: @champion].",
)
@click.option("--pr-number", default=None, help="Pull request number: sets alias pr-<N> on a pass.")
@click.option(
    "--report",
    "report_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="Write the markdown report (the PR comment) here.",
)
@click.option(
    "--json",
    "json_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="Write the JSON verdict here.",
)
@tracking_uri_option
def gate(
    params_path,
    data_path,
    challenger_ref,
    champion_ref,
    pr_number,
    report_path,
    json_path,
    tracking_uri,
) -> None:
    """Compare the challenger with the champion on the same holdout; exit 1 if the gate fails.

    Every check is printed with its numbers before the exit code says fail.
    """
    from . import github, report
    from .challenge import run_gate

    params = _params(params_path)
    registry = _registry(params, tracking_uri)
    pr_number = pr_number or github.pr_number()
    run = run_gate(
        registry,
        params,
        data_path=data_path or params.data.path,
        challenger_ref=challenger_ref,
        champion_ref=champion_ref,
        pr_number=pr_number,
    )
    result = run.result
    for path, text in (
        (report_path, report.render_markdown(result, run.links) if report_path else None),
        (
            json_path,
            json.dumps(report.to_json(result, run.links), indent=2) + "\n" if json_path else None,
        ),
    ):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text, encoding="utf-8")
    github.append_summary(report.render_step_summary(result, run.links))
    github.write_outputs(
        {
            "verdict": result.verdict,
            "passed": str(result.passed).lower(),
            "challenger_version": run.challenger,
            "champion_version": run.champion or "",
        }
    )
    click.echo(report.render_text(result))
    if run.aliases_set:
        click.echo(
            f"aliases set on v{run.challenger}: {', '.join('@' + a for a in run.aliases_set)}"
        )
    if not result.passed:
        click.get_current_context().exit(1)


# --- registry commands ---------------------------------------------------------------------------
# VERSION arguments take a number, an @alias or a stage name (its newest version), everywhere.

_stage_filter = click.option(
    "--stage",
    default=None,
    metavar="STAGE",
    help="Only versions in this stage: None, Staging, Production or Archived (any case).",
)


@main.command("list")
@click.option(
    "--name",
    "name_like",
    default=None,
    metavar="PATTERN",
    help="Only models whose name matches this SQL LIKE pattern ('%' matches anything).",
)
@params_option
@tracking_uri_option
@json_option
def list_models(name_like, params_path, tracking_uri, as_json) -> None:
    """List every registered model: description, number of versions, versions per stage."""
    from . import catalog, tables

    registry = _registry(_params(params_path, required=False), tracking_uri)
    models = catalog.model_summaries(registry, name_like)
    if as_json:
        _echo_json({"models": [m.to_json() for m in models]})
    else:
        click.echo(tables.render_models(models, registry.uri))


@main.command()
@click.argument("model")
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    metavar="NAME",
    help="Add a column for this logged metric (repeatable).",
)
@_stage_filter
@click.option("--limit", default=None, type=click.IntRange(min=1), help="Show the newest N only.")
@params_option
@tracking_uri_option
@json_option
def versions(model, metrics, stage, limit, params_path, tracking_uri, as_json) -> None:
    """List MODEL's versions, newest first: stage, accuracy, macro F1 and aliases."""
    from . import catalog, tables

    registry = _registry(_params(params_path, required=False), tracking_uri)
    listing = catalog.version_rows(registry, model, stage=stage, limit=limit, metrics=metrics)
    if as_json:
        _echo_json(listing.to_json())
    else:
        click.echo(tables.render_versions(listing, metrics))


@main.command()
@click.argument("model")
@click.argument("version")
@click.argument("stage")
@click.option(
    "--reason",
    default="manual promotion",
    show_default=True,
    help="Why, for the alias history and the model card (Production only).",
)
@click.option(
    "--actor",
    default=None,
    help="Who, for the history [default: GITHUB_ACTOR, else git's user.name].",
)
@params_option
@tracking_uri_option
@json_option
def promote(model, version, stage, reason, actor, params_path, tracking_uri, as_json) -> None:
    """Move VERSION of MODEL to STAGE (None, Staging, Production or Archived; any case).

    Production leaves exactly one Production version: the others are archived in the same
    transaction. With `promotion.use_stages: false`, Production moves the champion alias instead.
    Production makes VERSION the champion: the move is recorded in the alias history and the
    model card is rewritten, as `release` and `rollback` do.
    """
    from . import catalog, tables

    params = _params(params_path, required=False)
    registry = _registry(params, tracking_uri)
    if catalog.parse_stage(stage) == "Production":
        _promote_champion(registry, params, model, version, reason, actor, as_json)
        return
    change = catalog.change_stage(
        registry,
        model,
        version,
        stage,
        use_stages=params.promotion.use_stages,
        champion_alias=params.promotion.champion_alias,
    )
    if as_json:
        _echo_json(change.to_json())
    else:
        click.echo(tables.render_stage_change(change))


@main.command("alias")
@click.argument("model")
@click.argument("alias_name", metavar="ALIAS")
@click.argument("version", required=False)
@click.option("--delete", is_flag=True, help="Remove ALIAS instead of setting it.")
@click.option(
    "--if-exists",
    is_flag=True,
    help="With --delete: succeed (exit 0) when there is no such alias or model.",
)
@params_option
@tracking_uri_option
@json_option
def alias_command(
    model, alias_name, version, delete, if_exists, params_path, tracking_uri, as_json
) -> None:
    """Point ALIAS of MODEL at VERSION (printing the previous holder), or remove it with --delete."""
    from . import catalog, tables
    from .errors import UsageError

    if delete == (version is not None):
        raise UsageError(
            "give either a VERSION to point the alias at or --delete, not both or neither"
        )
    if if_exists and not delete:
        raise UsageError("--if-exists only applies with --delete")
    registry = _registry(_params(params_path, required=False), tracking_uri)
    if delete:
        change = catalog.delete_alias(registry, model, alias_name, if_exists=if_exists)
    else:
        change = catalog.set_alias(registry, model, alias_name, version)
    if as_json:
        _echo_json(change.to_json())
    else:
        click.echo(tables.render_alias(change))


@main.command()
@click.argument("model")
@click.argument("version_a", metavar="V1")
@click.argument("version_b", metavar="V2")
@params_option
@tracking_uri_option
@json_option
def compare(model, version_a, version_b, params_path, tracking_uri, as_json) -> None:
    """Compare two versions: every metric both runs logged (V2 − V1, arrow at the better one)
    and the params that differ."""
    from . import catalog, tables

    registry = _registry(_params(params_path, required=False), tracking_uri)
    result = catalog.compare(registry, model, version_a, version_b)
    if as_json:
        _echo_json(result.to_json())
    else:
        click.echo(tables.render_compare(result))


@main.command()
@click.argument("model")
@click.option("--metric", default="accuracy", show_default=True, help="The metric to rank by.")
@click.option(
    "--lower-is-better/--higher-is-better",
    "lower_is_better",
    default=None,
    help="Direction of --metric [default: known for built-in metrics, else higher].",
)
@_stage_filter
@params_option
@tracking_uri_option
@json_option
def best(model, metric, lower_is_better, stage, params_path, tracking_uri, as_json) -> None:
    """Show MODEL's best version by a metric, with its stage and aliases (ties: the latest run)."""
    from . import catalog, tables

    registry = _registry(_params(params_path, required=False), tracking_uri)
    result = catalog.best(registry, model, metric, lower_is_better=lower_is_better, stage=stage)
    if as_json:
        _echo_json(result.to_json())
    else:
        click.echo(tables.render_best(result))


# --- release commands ----------------------------------------------------------------------------
# Champion moves: each re-reads @champion before writing, records who/when/why/commit in the alias
# history and rewrites the model card. Who and which commit come from GitHub Actions when present.

_actor_option = click.option(
    "--actor",
    default=None,
    help="Who moves the champion, for the history [default: GITHUB_ACTOR, else git's user.name].",
)


def _who(actor: str | None):
    from . import github
    from .promote import Who

    return Who(actor=actor or github.actor(), commit=github.commit(), run_url=github.run_url())


def _promote_champion(registry, params, model, version, reason, actor, as_json) -> None:
    """`promote MODEL VERSION Production`: a champion move, shown as the stage change it is."""
    from . import catalog, tables
    from . import release as release_mod

    moved = release_mod.promote(
        registry,
        params,
        model,
        version,
        who=_who(actor),
        reason=reason,
        card_file=release_mod.card_path(params, model),
    )
    promotion = moved.promotion
    if params.promotion.use_stages:
        change = catalog.StageChange(
            model, moved.version, "Production", moved.previous_stage, promotion.archived
        )
    else:
        change = catalog.StageChange(
            model,
            moved.version,
            None,
            moved.previous_stage,
            [],
            params.promotion.champion_alias,
            moved.previous,
        )
    head = None if as_json else tables.render_stage_change(change)
    _report_move(moved, as_json, head=head, extra=change.to_json())


def _report_move(result, as_json: bool, head: str | None = None, extra: dict | None = None) -> None:
    """Print a release/rollback/promotion and set the Actions outputs."""
    from . import github

    github.write_outputs(
        {
            "changed": str(result.changed).lower(),
            "champion_version": result.version
            if result.action != "rejected"
            else result.previous or "",
            "action": result.action,
        }
    )
    github.append_summary(f"**mlgate {result.action.replace('_', ' ')}**: {result.message}")
    if as_json:
        _echo_json({**(extra or {}), **result.to_json()})
        return
    click.echo(head or f"{result.name}: {result.message}")
    promotion = result.promotion
    if promotion is not None:
        if promotion.archived and head is None:
            click.echo(f"  archived: {', '.join('v' + v for v in promotion.archived)}")
        if promotion.dropped_aliases:
            click.echo(
                f"  removed aliases: {', '.join('@' + a for a in promotion.dropped_aliases)}"
            )
        for warning in promotion.warnings:
            click.echo(f"warning: {warning}", err=True)
        if promotion.move is not None:
            click.echo(
                f"  recorded: {promotion.move.kind} by {promotion.move.actor}: {promotion.move.reason}"
            )
    if result.card is not None:
        state = "written" if result.card.written else "unchanged"
        click.echo(f"  model card: {result.card.path} ({state})")
    if result.card_error:
        click.echo(f"warning: {result.card_error}", err=True)


@main.command()
@params_option
@click.option(
    "--before",
    default="HEAD~1",
    show_default=True,
    metavar="SHA",
    help="The previous commit (in Actions: github.event.before). All zeros, or a commit"
    " without params.yaml, count as changed inputs.",
)
@click.option("--data", "data_path", default=None, help="Dataset [default: params' data.path].")
@click.option(
    "--reason", default=None, help="Why, for the history [default: the commit's subject]."
)
@_actor_option
@tracking_uri_option
@json_option
def release(params_path, before, data_path, reason, actor, tracking_uri, as_json) -> None:
    """Release what this commit's training inputs say (what a push to main runs).

    Compares the inputs' fingerprint with --before's. Unchanged: nothing happens. Changed: the
    version trained from these inputs becomes champion and Production: restored without a gate
    if it was champion before (a revert), after its gate otherwise (trained and gated now if no
    version has these inputs, gated again if the champion changed since its gate). Run from the
    repository's top level. Exit 1 when the gate fails, 3 when @champion moved meanwhile.
    """
    from . import github, report
    from . import release as release_mod

    params = _params(params_path)
    registry = _registry(params, tracking_uri)
    result = release_mod.release(
        registry,
        params,
        who=_who(actor),
        before=before,
        reason=reason,
        params_path=params_path,
        data_path=data_path,
        context_tags=github.context_tags(),
        card_file=release_mod.card_path(params, params.mlflow.registered_model_name),
    )
    if result.gate is not None and not as_json:
        click.echo(report.render_text(result.gate.result))
        github.append_summary(report.render_step_summary(result.gate.result, result.gate.links))
    _report_move(result, as_json)
    if result.action == "rejected":
        click.get_current_context().exit(1)


@main.command()
@click.argument("model")
@click.option(
    "--to",
    "to_version",
    default=None,
    metavar="VERSION",
    help="An earlier champion to restore [default: the one before the current holder].",
)
@click.option("--reason", required=True, help="Why, for the history and the model card.")
@_actor_option
@params_option
@tracking_uri_option
@json_option
def rollback(model, to_version, reason, actor, params_path, tracking_uri, as_json) -> None:
    """Put MODEL's champion back: the holder before the current one, or --to VERSION.

    Steps back through the alias history (after v1 -> v2 -> v3, rollbacks give v2, then v1);
    no gate runs, as the version was champion before. Production follows, the move is
    recorded and the model card rewritten. Re-running with --to is a no-op.
    """
    from . import release as release_mod

    params = _params(params_path, required=False)
    registry = _registry(params, tracking_uri)
    result = release_mod.rollback(
        registry,
        params,
        model,
        who=_who(actor),
        reason=reason,
        to=to_version,
        card_file=release_mod.card_path(params, model),
    )
    _report_move(result, as_json)


@main.command()
@click.argument("model")
@params_option
@tracking_uri_option
@json_option
def history(model, params_path, tracking_uri, as_json) -> None:
    """List MODEL's alias moves, oldest first: when, who, from -> to, kind, why, commit."""
    from tabulate import tabulate

    from . import card
    from .promote import history as read_history

    registry = _registry(_params(params_path, required=False), tracking_uri)
    moves = read_history(registry, model)
    if as_json:
        _echo_json({"model": model, "moves": [m.to_json() for m in moves]})
    elif not moves:
        click.echo(f"{model} has no recorded alias moves.")
    else:
        headers = ["When (UTC)", "Who", "Move", "Kind", "Why", "Commit"]
        rows = [
            [f"@{m.alias} {row[2]}" if i == 2 else c for i, c in enumerate(row)]
            for m, row in zip(moves, card.history_rows(moves), strict=True)
        ]
        click.echo(tabulate(rows, headers, tablefmt="simple", disable_numparse=True))


@main.command("card")
@click.argument("model")
@click.option(
    "--version",
    "version_ref",
    default=None,
    metavar="VERSION",
    help="Version number, @alias or stage [default: @champion].",
)
@click.option(
    "--out",
    default=None,
    metavar="PATH",
    help="Where to write it [default: model_cards/<model>.md for the champion,"
    " model_cards/<model>-v<V>.md otherwise]. '-' prints it and changes nothing.",
)
@click.option("--data", "data_path", default=None, help="Dataset [default: params' data.path].")
@params_option
@tracking_uri_option
def card_command(model, version_ref, out, data_path, params_path, tracking_uri) -> None:
    """Render MODEL's model card: details, data, metrics with 95% CIs, per-class and per-Gender
    tables, comparison with the previous champion, gate checks, caveats, promotion history.

    Also sets it as the version's description and logs it as the run's `model_card.md`.
    """
    from . import card, card_facts

    params = _params(params_path, required=False)
    registry = _registry(params, tracking_uri)
    alias = params.promotion.champion_alias
    version = registry.resolve(model, version_ref or f"@{alias}").version
    if out == "-":
        facts = card_facts.gather_facts(registry, params, model, version, data_path=data_path)
        click.echo(card.render(facts), nl=False)
        return
    if out is None:
        champion = registry.aliases(model).get(alias) == version
        out = str(card_facts.card_path(params, model if champion else f"{model}-v{version}"))
    written = card_facts.publish_card(
        registry, params, model, version, Path(out), data_path=data_path
    )
    state = "written" if written.written else "unchanged"
    click.echo(f"{model} v{version}: model card {out} ({state})")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
