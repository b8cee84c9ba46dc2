"""The `mlgate` command line: thin click commands and the one exception -> exit code mapping.

Each command parses its options, makes one library call and prints the result with `_emit`
(a table, or JSON with `--json`). Modules that import numpy or tabulate at load time (catalog,
tables, challenge, report, card_facts, release; mlflow, pandas and scipy load later still, where
they are used) are imported inside the commands that use them, so `mlgate --help` answers in a
fraction of a second; the rest are imported here.

Why one module: most lines are click declarations (14 commands and their options and help);
the bodies are a few lines each, and the shared options and the exit-code map sit with them.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import data, github
from .champion import History, Who, history
from .config import Params, default_params, load_params, resolve_tracking_uri
from .errors import (
    EXIT_GATE_FAILED,
    EXIT_INTERNAL,
    EXIT_REGISTRY,
    EXIT_USAGE,
    GateFailed,
    MlgateError,
    RegistryError,
    UsageError,
)
from .fingerprint import environment_warning, of_worktree
from .registry import Registry, connect, own_process, parse_stage
from .task import NAMES as TASK_NAMES
from .task import named as task_named

__all__ = ["main", "run"]

# The one exception -> exit code map, most specific first.
_EXIT_CODES: tuple[tuple[type[MlgateError], int], ...] = (
    (GateFailed, EXIT_GATE_FAILED),
    (RegistryError, EXIT_REGISTRY),
    (MlgateError, EXIT_USAGE),
)
_EXIT_INTERRUPTED = 130
_EXIT_PIPE_CLOSED = 141


class _Group(click.Group):
    """Turns every exception into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            _fail(ctx, None, _usage_message(exc), EXIT_USAGE)
        except BrokenPipeError:
            # `mlgate versions | head`: the reader left; stop quietly, as other tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(_EXIT_PIPE_CLOSED)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except GateFailed as exc:
            # The gate printed its evidence and the failed checks on stdout; stderr stays empty
            # (an error line would read as a broken setup, which a rejected model is not).
            ctx.exit(_exit_code(exc))
        except MlgateError as exc:
            _fail(ctx, exc, str(exc), _exit_code(exc))
        except KeyboardInterrupt:
            _fail(ctx, None, "interrupted", _EXIT_INTERRUPTED)
        except Exception as exc:
            _fail(ctx, exc, *_unexpected(exc))

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        # Errors in the group's own options (`mlgate --bogus`) come before `invoke`.
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            _fail(None, None, _usage_message(exc), EXIT_USAGE)


def _exit_code(exc: MlgateError) -> int:
    return next(code for kind, code in _EXIT_CODES if isinstance(exc, kind))


def _unexpected(exc: Exception) -> tuple[str, int]:
    """The message and exit code of an exception that no mlgate error explains. An I/O error or
    an MLflow exception that escaped the registry's translation is still the environment's
    (exit 3); anything else is a bug, and says so (exit 4), so it does not read as an outage."""
    mlflow_errors = sys.modules.get("mlflow.exceptions")  # loaded only if mlflow ran
    infrastructure = isinstance(exc, OSError) or (
        mlflow_errors is not None and isinstance(exc, mlflow_errors.MlflowException)
    )
    text = str(exc).strip()
    what = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if infrastructure:
        return f"{what}; check the tracking server, the network and the disk", EXIT_REGISTRY
    return f"internal error ({what}); please report it, with the output of --verbose", EXIT_INTERNAL


def _usage_message(exc: click.UsageError) -> str:
    # One line, like every other error: click's own form spans four. A script standing for one
    # subcommand (scripts/train.py) points at its own --help.
    script = exc.ctx.find_root().obj.get("script") if exc.ctx and exc.ctx.find_root().obj else None
    path = script or (exc.ctx.command_path if exc.ctx else "")
    where = f" (see '{path} --help')" if path else ""
    return f"{exc.format_message()}{where}"


def _fail(ctx: click.Context | None, exc: BaseException | None, message: str, code: int) -> Any:
    if exc is not None and ctx is not None and ctx.find_root().params.get("verbose"):
        traceback.print_exception(exc)
    click.echo(f"mlgate: error: {message.splitlines()[0] if message else 'failed'}", err=True)
    raise click.exceptions.Exit(code)


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
data_option = click.option(
    "--data", "data_path", default=None, help="Dataset CSV [default: params' data.path]."
)
actor_option = click.option(
    "--actor",
    default=None,
    help="Who moves the champion, for the history [default: GITHUB_ACTOR, else git's user.name].",
)
stage_filter_option = click.option(
    "--stage",
    default=None,
    metavar="STAGE",
    help="Only versions in this stage: None, Staging, Production or Archived (any case).",
)

policy_from_option = click.option(
    "--policy-from",
    "policy_from",
    default=None,
    metavar="REV",
    help="Judge with params.yaml's gate: and promotion: sections at this git revision (a PR's"
    " base, a merge's first parent), not the tree's; a change to them, to mlgate's code or to"
    " the workflows is flagged in the report [default: the tree's own].",
)


class _PrNumber(click.ParamType):
    """Digits only, at least 1: the number names the `pr-<N>` alias and tags, so a bad one is a
    usage error before anything is written. Passed on as text, as the event's number is."""

    name = "N"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        text = str(value)
        if not (text.isascii() and text.isdigit() and int(text) >= 1):
            self.fail(f"{text!r} is not a pull request number; pass a positive integer such as 12")
        return str(int(text))


def pr_number_option(text: str) -> Callable:
    """`--pr-number` (and the original guide's `--pr_number`); commands differ in help only."""
    return click.option(
        "--pr-number", "--pr_number", "pr_number", default=None, type=_PrNumber(), help=text
    )


def reason_option(**kwargs: Any) -> Callable:
    """`--reason`: every champion move records why; commands differ in default and help."""
    return click.option("--reason", **kwargs)


def _params(params_path: str, required: bool = True) -> Params:
    """params.yaml when it exists; built-in defaults for registry commands run elsewhere."""
    if not required and params_path == "params.yaml" and not Path(params_path).exists():
        return default_params()
    return load_params(params_path)


def _binding(params: Params, policy_from: str | None, params_path: str) -> tuple[Params, Any]:
    """The params to judge with, and what the tree changed in the rules (None: not asked)."""
    if policy_from is None:
        return params, None
    from . import policy

    return policy.binding(params, policy_from, ".", params_path)


def _registry(params: Params, tracking_uri: str | None, read_only: bool = False) -> Registry:
    """`read_only`: for the commands that only read (a tracking server is then read without
    importing mlflow, see rest.py)."""
    return connect(resolve_tracking_uri(params, tracking_uri), read_only=read_only)


def _who(actor: str | None) -> Who:
    return Who(actor=actor or github.actor(), commit=github.commit(), run_url=github.run_url())


def _emit(result: Any, render: Callable[[Any], str], as_json: bool) -> None:
    """Print a library result: `render(result)` for people, its `to_json()` with --json."""
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, sort_keys=True, default=str))
    else:
        click.echo(render(result))


def _card_state(written: Any) -> str:
    return "written" if written.written else "unchanged"


def _emit_move(result: Any, as_json: bool, head: str | None = None, extra: dict | None = None):
    """A release, rollback or promotion: the gate it ran, Actions outputs and summary, the move,
    its warnings; GateFailed when the gate rejected the candidate."""
    from . import report, tables

    for line in getattr(result, "ignored", ()):
        click.echo(f"warning: {line}", err=True)
    if result.training is not None and not as_json:  # as `train` prints it: what it registered
        click.echo(tables.render_train(result.training, result.name))
    summary = [f"**mlgate {result.action.replace('_', ' ')}**: {result.message}"]
    if result.gate is not None and not as_json:
        click.echo(report.render_run(result.gate))
        gate = result.gate
        summary.insert(0, report.render_step_summary(gate.result, gate.links, report.warning(gate)))
    champion = result.version if result.action != "rejected" else result.previous
    outputs = {"changed": result.changed, "champion_version": champion, "action": result.action}
    github.publish(outputs, summary)
    if as_json:
        click.echo(
            json.dumps({**(extra or {}), **result.to_json()}, indent=2, sort_keys=True, default=str)
        )
    else:
        click.echo(tables.render_move(result, head))
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
    if result.action == "rejected":
        raise GateFailed(result.message)


# --- the group ---------------------------------------------------------------------------------


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from .provenance import version_line

        click.echo(version_line())
        ctx.exit()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and the commit this mlgate was built from.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and MLflow's own logging.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Gate, promote and roll back MLflow models from CI.

    Exit codes: 0 ok, 1 gate failed, 2 usage/config/data error, 3 registry/infrastructure error,
    4 internal error (a bug in mlgate: please report it).
    """
    ctx.ensure_object(dict)
    # The working directory is not put on sys.path: a `yaml.py` or `tabulate.py` in a checkout
    # would run in place of the library. A `model.estimator` module of the project is loaded
    # from its file alone (estimators.import_module).
    if not verbose:
        # MLflow configures its loggers when imported (later, inside a command): set the level
        # it reads rather than the loggers themselves.
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
        # ...and the logger itself, for a process that imported mlflow already (tests, notebooks).
        logging.getLogger("mlflow").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore")


# --- data and training ---------------------------------------------------------------------------


@main.group("data")
def data_group() -> None:
    """Create or check the dataset."""


@data_group.command("check")
@params_option
@data_option
def data_check(params_path: str, data_path: str | None) -> None:
    """Validate the dataset against params.yaml's data.schema; print the class balance
    (classification) or the target's range (regression)."""
    params = _params(params_path)
    schema = params.data.schema
    dataset = data.load(data_path or params.data.path, schema)
    target = dataset.frame[schema.target]
    click.echo(
        f"{dataset.path}: ok, {len(dataset.frame)} rows"
        f" ({dataset.duplicates_dropped} duplicate rows dropped), sha256 {dataset.sha256[:12]}"
    )
    if not task_named(schema.task).has_classes:
        values = target.astype(float)
        click.echo(
            f"  {schema.target}: min {values.min():g}, mean {values.mean():g}, max {values.max():g}"
        )
        return
    counts = target.astype(str).value_counts()
    for label in (c for c in schema.classes if c in counts):
        click.echo(f"  {label:<22} {counts[label]:>5}")


@data_group.command("infer-schema")
@click.option(
    "--data", "data_path", required=True, type=click.Path(dir_okay=False), help="The CSV."
)
@click.option("--target", required=True, help="The column to predict.")
@click.option(
    "--task",
    type=click.Choice(TASK_NAMES),
    default=None,
    help="[default: classification for text or few integer labels, else regression]",
)
@click.option(
    "--write",
    "write_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="Also put the block into this params.yaml, keeping its comments and other keys.",
)
def data_infer_schema(data_path: str, target: str, task: str | None, write_path: str | None):
    """Draft params.yaml's data: block from a CSV and print it: types, observed categories,
    observed ranges widened by 10 % of their width (docs/tutorial.md, "Your own model")."""
    from . import schema
    from .schema_inference import infer

    inferred = infer(data.read_csv(data_path), target, task, data_path)
    click.echo(schema.render(inferred, data_path), nl=False)
    if write_path:
        schema.write(inferred, write_path, data_path)
        click.echo(f"wrote the data: block into {write_path}", err=True)


@main.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--data", "data_path", default=None, help="A CSV in the repository to describe.")
@click.option("--target", default=None, help="Its column to predict (with --data).")
@click.option(
    "--task",
    type=click.Choice(TASK_NAMES),
    default=None,
    help="[default: inferred from the target]",
)
@click.option("--model-name", default=None, help="Registered model [default: <folder>_model].")
@click.option(
    "--action",
    default=None,
    metavar="OWNER/REPO@SHA",
    help="mlgate's GitHub Action to pin, by full commit SHA [default: the repository and commit"
    " this mlgate was built from, as mlgate --version prints].",
)
@click.option("--force", is_flag=True, help="Overwrite files that exist and differ.")
def init_command(directory, data_path, target, task, model_name, action, force) -> None:
    """Put mlgate into the git repository at DIRECTORY: params.yaml (its data schema inferred
    with --data and --target), four short GitHub workflows that call mlgate's action pinned by
    commit (--action), model_cards/ and .gitignore lines; then print the three next steps.

    Never overwrites a file that differs without --force (then nothing is written at all).
    """
    from . import scaffold

    planned = scaffold.plan(
        directory, data=data_path, target=target, task=task, model_name=model_name, action=action
    )
    for item in scaffold.apply(planned, force=force):
        click.echo(f"{item.action:>9}  {item.path}")
    click.echo(f"\nThe workflows call {planned.action.uses}.")
    click.echo("\nNext steps:")
    for number, step in enumerate(scaffold.next_steps(planned), start=1):
        click.echo(f"  {number}. {step}")


@main.command("train")
@params_option
@data_option
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
@pr_number_option("Pull request number (a tag).")
@tracking_uri_option
@json_option
def train_command(
    params_path, data_path, model_dir, metrics_path, figure_path, pr_number, tracking_uri, as_json
) -> None:
    """Train the model from params.yaml, log it to MLflow and register a version.

    Inputs already registered (same fingerprint) reuse that version: nothing new is registered.
    """
    from . import tables, train

    params = _params(params_path)
    data_path = data_path or params.data.path
    fingerprint = of_worktree(params, data_path)
    if warning := environment_warning(fingerprint):
        click.echo(f"warning: {warning}", err=True)
    # The data and the estimator are checked before the registry is opened: a bad input leaves
    # nothing behind, not even an empty registry file.
    holdout = data.holdout(params.data, data_path)
    train.build_pipeline(params)
    result = train.train(
        params,
        _registry(params, tracking_uri),
        holdout,
        fingerprint=fingerprint,
        context_tags=github.context_tags(pr_number),
        committed_only="a CI run (CI=true)" if os.environ.get("CI") == "true" else None,
        metrics_path=Path(metrics_path),
        figure_path=Path(figure_path),
        model_dir=Path(model_dir) if model_dir else None,
    )
    github.publish({"version": result.version, "reused": result.reused})
    name = params.mlflow.registered_model_name
    _emit(result, lambda r: tables.render_train(r, name), as_json)
    if not as_json:
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)


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
@pr_number_option("Pull request number: sets alias pr-<N> on a pass.")
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
@policy_from_option
@tracking_uri_option
def gate(
    params_path,
    data_path,
    challenger_ref,
    champion_ref,
    pr_number,
    report_path,
    json_path,
    policy_from,
    tracking_uri,
) -> None:
    """Compare the challenger with the champion on the same holdout; exit 1 if the gate fails.

    Every check is printed with its numbers before the exit code says fail.
    """
    from . import challenge, report

    params, change = _binding(_params(params_path), policy_from, params_path)
    gated = challenge.run_gate(
        _registry(params, tracking_uri),
        params,
        data_path=data_path or params.data.path,
        challenger_ref=challenger_ref,
        champion_ref=champion_ref,
        pr_number=pr_number or github.pr_number(),
        policy=change,
    )
    challenge.publish(gated, report_path=report_path, json_path=json_path)
    click.echo(report.render_run(gated))
    if not gated.result.passed:
        raise GateFailed(f"v{gated.challenger} failed the gate (verdict {gated.result.verdict})")


@main.command("pr")
@params_option
@click.option(
    "--base",
    default=None,
    metavar="SHA",
    help="The base commit [default: the merge"
    " commit's first parent, or the merge queue's base_sha].",
)
@click.option(
    "--head",
    default=None,
    metavar="SHA",
    help="The PR's head commit the report names"
    " [default: the merge commit's second parent, or the event's head].",
)
@pr_number_option("Pull request number [default: the event's].")
@click.option(
    "--report",
    "report_path",
    default="reports/gate.md",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Write the markdown report (the PR comment) here.",
)
@click.option(
    "--json",
    "json_path",
    default="reports/gate.json",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Write the JSON verdict here.",
)
@click.option(
    "--policy-from",
    "policy_from",
    default=None,
    metavar="REV",
    help="Judge with params.yaml's gate: and promotion: sections at this revision"
    " [default: the base; the PR's own rules apply from the next PR on].",
)
@tracking_uri_option
def pr_command(
    params_path, base, head, pr_number, report_path, json_path, policy_from, tracking_uri
) -> None:
    """The whole pull-request check: train, register and gate the PR's model; exit 1 on a fail.

    When no training input differs from the base, nothing is trained (exit 0) and the report
    says "nothing to gate". Without a configured registry (--tracking-uri, MLFLOW_TRACKING_URI or
    a server URI in params.yaml) the base commit's model is trained into a job-local one and made
    champion. Run from the repository's top level.
    """
    from . import pr

    params = _params(params_path)
    result = pr.check(
        params,
        params_path=params_path,
        tracking_uri=tracking_uri,
        base=base,
        head=head,
        pr=pr_number,
        policy_from=policy_from,
    )
    pr.publish(result, report_path=report_path, json_path=json_path)
    click.echo(pr.render_text(result))
    if not result.passed:
        raise GateFailed(f"v{result.gate.challenger} failed the gate ({result.headline})")


# --- registry commands ---------------------------------------------------------------------------
# VERSION arguments take a number, an @alias or a stage name (its newest version), everywhere.


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

    registry = _registry(_params(params_path, required=False), tracking_uri, read_only=True)
    models = catalog.model_summaries(registry, name_like)
    _emit(models, lambda m: tables.render_models(m.models, registry.uri), as_json)


@main.command()
@click.argument("model")
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    metavar="NAME",
    help="Add a column for this logged metric (repeatable).",
)
@stage_filter_option
@click.option("--limit", default=None, type=click.IntRange(min=1), help="Show the newest N only.")
@params_option
@tracking_uri_option
@json_option
def versions(model, metrics, stage, limit, params_path, tracking_uri, as_json) -> None:
    """List MODEL's versions, newest first: stage, accuracy, macro F1 and aliases."""
    from . import catalog, tables

    registry = _registry(_params(params_path, required=False), tracking_uri, read_only=True)
    listing = catalog.version_rows(registry, model, stage=stage, limit=limit, metrics=metrics)
    _emit(listing, lambda r: tables.render_versions(r, metrics), as_json)


@main.command()
@click.argument("model")
@click.argument("version")
@click.argument("stage")
@reason_option(
    default="manual promotion",
    show_default=True,
    help="Why, for the alias history and the model card (Production only).",
)
@actor_option
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
    if parse_stage(stage) == "Production":
        return _promote_champion(registry, params, model, version, reason, actor, as_json)
    change = catalog.change_stage(registry, model, version, stage, params.promotion)
    _emit(change, tables.render_stage_change, as_json)


def _promote_champion(registry, params, model, version, reason, actor, as_json) -> None:
    """`promote MODEL VERSION Production`: a champion move, shown as the stage change it is."""
    from . import card_facts, catalog, release, tables

    moved = release.promote(
        registry,
        params,
        model,
        version,
        who=_who(actor),
        reason=reason,
        card_file=card_facts.card_path(params, model),
    )
    cfg = params.promotion
    change = catalog.StageChange.of_champion_move(moved, cfg.use_stages, cfg.champion_alias)
    head = None if as_json else tables.render_stage_change(change)
    _emit_move(moved, as_json, head=head, extra=change.to_json())


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
@reason_option(
    default=None,
    help="Why, for the alias history and the model card (the champion alias only)"
    " [default: alias command].",
)
@actor_option
@params_option
@tracking_uri_option
@json_option
def alias_command(
    model, alias_name, version, delete, if_exists, reason, actor, params_path, tracking_uri, as_json
) -> None:
    """Point ALIAS of MODEL at VERSION (printing the previous holder), or remove it with
    --delete.

    The champion alias moves as `promote MODEL VERSION Production` moves it: alias, Production
    stage, alias history and model card together, with the reason "alias command" unless
    --reason is given. It can't be deleted: roll back or promote another version instead.
    """
    from . import catalog, tables

    if delete == (version is not None):
        raise UsageError(
            "give either a VERSION to point the alias at or --delete, not both or neither"
        )
    if if_exists and not delete:
        raise UsageError("--if-exists only applies with --delete")
    params = _params(params_path, required=False)
    champion = params.promotion.champion_alias
    is_champion = catalog.validate_alias(alias_name) == champion
    if reason is not None and not (is_champion and not delete):
        raise UsageError(
            f"--reason applies only when setting @{champion}: other aliases keep no history"
        )
    registry = _registry(params, tracking_uri)
    if is_champion and not delete:
        if not as_json:
            click.echo(
                f"@{champion} is the champion alias: moving it as 'mlgate promote {model}"
                f" {version} Production' does (stage, alias history, model card)."
            )
        reason = reason or "alias command"
        return _promote_champion(registry, params, model, version, reason, actor, as_json)
    if delete:
        change = catalog.delete_alias(
            registry, model, alias_name, champion_alias=champion, if_exists=if_exists
        )
    else:
        change = catalog.set_alias(registry, model, alias_name, version, champion_alias=champion)
    _emit(change, tables.render_alias, as_json)


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

    registry = _registry(_params(params_path, required=False), tracking_uri, read_only=True)
    _emit(catalog.compare(registry, model, version_a, version_b), tables.render_compare, as_json)


@main.command()
@click.argument("model")
@click.option(
    "--metric",
    default=None,
    help="The metric to rank by [default: accuracy; rmse for a regression].",
)
@click.option(
    "--lower-is-better/--higher-is-better",
    "lower_is_better",
    default=None,
    help="Direction of --metric [default: known for built-in metrics, else higher].",
)
@stage_filter_option
@params_option
@tracking_uri_option
@json_option
def best(model, metric, lower_is_better, stage, params_path, tracking_uri, as_json) -> None:
    """Show MODEL's best version by a metric, with its stage and aliases (ties: the latest run)."""
    from . import catalog, tables

    registry = _registry(_params(params_path, required=False), tracking_uri, read_only=True)
    result = catalog.best(registry, model, metric, lower_is_better=lower_is_better, stage=stage)
    _emit(result, tables.render_best, as_json)


# --- release commands ----------------------------------------------------------------------------
# Champion moves: each re-reads @champion before writing, records who/when/why/commit in the alias
# history and rewrites the model card. Who and which commit come from GitHub Actions when present.


@main.command("release")
@params_option
@click.option(
    "--before",
    default="HEAD~1",
    show_default=True,
    metavar="SHA",
    help="The commit to compare with when the alias history records no released commit of this"
    " repository. All zeros, a full SHA this clone lacks (a force push), or a commit without"
    " params.yaml count as changed inputs.",
)
@data_option
@reason_option(default=None, help="Why, for the history [default: the commit's subject].")
@actor_option
@policy_from_option
@tracking_uri_option
@json_option
def release_command(
    params_path, before, data_path, reason, actor, policy_from, tracking_uri, as_json
) -> None:
    """Release what this commit's training inputs say (what a push to main runs).

    Compares the inputs' fingerprint with the last released commit's (recorded in the alias
    history; --before when none is); a commit older than that changes nothing (a stale run).
    Unchanged: nothing happens. Changed: the version trained from these inputs becomes champion
    and Production: restored without a gate if it was champion before (a revert), after a gate
    run here otherwise (trained first if no version has these inputs); a candidate that failed
    that gate once stays rejected. Run from the repository's top level. Exit 1 when the gate
    fails, 3 when @champion moved meanwhile.

    In CI (CI=true) without --policy-from, the rules (gate:, promotion:) are the last released
    commit's when it is an ancestor of HEAD, else --before's when that is one, else exit 2:
    never those of a commit inside the push.
    """
    from . import card_facts, release

    params = _params(params_path)
    registry = _registry(params, tracking_uri)
    if policy_from is None and github.in_ci():
        # In CI the rules never come from the push itself (release.policy_commit).
        policy_from = release.policy_commit(registry, params, before)
    params, change = _binding(params, policy_from, params_path)
    if change is not None and change.changed and not as_json:
        click.echo(f"warning: {change.describe()}")
    result = release.release(
        registry,
        params,
        policy=change,
        who=_who(actor),
        before=before,
        reason=reason,
        params_path=params_path,
        data_path=data_path,
        context_tags=github.context_tags(),
        card_file=card_facts.card_path(params, params.mlflow.registered_model_name),
    )
    _emit_move(result, as_json)


@main.command()
@click.argument("model")
@click.option(
    "--to",
    "to_version",
    default=None,
    metavar="VERSION",
    help="An earlier champion to restore [default: the one before the current holder].",
)
@reason_option(required=True, help="Why, for the history and the model card.")
@actor_option
@params_option
@tracking_uri_option
@json_option
def rollback(model, to_version, reason, actor, params_path, tracking_uri, as_json) -> None:
    """Put MODEL's champion back: the holder before the current one, or --to VERSION.

    Steps back through the alias history (after v1 -> v2 -> v3, rollbacks give v2, then v1);
    no gate runs, as the version was champion before. Production follows, the move is
    recorded and the model card rewritten. Re-running with --to is a no-op.
    """
    from . import card_facts, release

    params = _params(params_path, required=False)
    result = release.rollback(
        _registry(params, tracking_uri),
        params,
        model,
        who=_who(actor),
        reason=reason,
        to=to_version,
        card_file=card_facts.card_path(params, model),
    )
    _emit_move(result, as_json)


@main.command("history")
@click.argument("model")
@params_option
@tracking_uri_option
@json_option
def history_command(model, params_path, tracking_uri, as_json) -> None:
    """List MODEL's alias moves, oldest first: when, who, from -> to, kind, why, commit."""
    from . import tables

    registry = _registry(_params(params_path, required=False), tracking_uri, read_only=True)
    _emit(History(model, history(registry, model)), tables.render_history, as_json)


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
@data_option
@params_option
@tracking_uri_option
def card_command(model, version_ref, out, data_path, params_path, tracking_uri) -> None:
    """Render MODEL's model card: details, data, metrics with 95% CIs, per-class and per-slice
    (data.slice_by) tables, comparison with the previous champion, gate checks, caveats, promotion
    history.

    Also sets it as the version's description and logs it as the run's `model_card.md`.
    """
    from . import card, card_facts

    params = _params(params_path, required=False)
    registry = _registry(params, tracking_uri)
    ref = version_ref or f"@{params.promotion.champion_alias}"
    version = registry.resolve(model, ref).version
    if out == "-":
        facts = card_facts.gather_facts(registry, params, model, version, data_path=data_path)
        click.echo(card.render(facts), nl=False)
        return
    path = out or str(card_facts.card_destination(registry, params, model, version))
    written = card_facts.publish_card(
        registry, params, model, version, Path(path), data_path=data_path
    )
    click.echo(f"{model} v{version}: model card {path} ({_card_state(written)})")


def run(args: list[str] | None = None, **extra: Any) -> None:
    """The `mlgate` console script: `main`, then an exit without the interpreter's last sweep.

    At exit Python's cyclic garbage collector walks every object still alive: after mlflow,
    pandas and SQLAlchemy are imported that is ~0.9 s on 2 cores, a fifth of a champion move
    (docs/performance.md). Nothing mlgate leaves behind needs it: its files are closed, its
    registry writes committed, and atexit handlers and `weakref.finalize` callbacks still run.
    The first registry connection may also pause the collector while mlflow loads
    (`registry.own_process`). `main` in a test or a notebook keeps the collector as it is.
    """
    own_process()
    try:
        main(args, **extra)
    finally:
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    run()
