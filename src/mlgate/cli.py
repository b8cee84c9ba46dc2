"""The `mlgate` command line: thin click commands and the one exception -> exit code mapping.

Imports of mlflow, scikit-learn and pandas happen inside commands, never at module level, so
`mlgate --help` answers in a fraction of a second.
"""

from __future__ import annotations

import json
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
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except MlgateError as exc:
            self._fail(ctx, exc, str(exc), exc.exit_code)
        except KeyboardInterrupt:
            self._fail(ctx, None, "interrupted", 130)
        except Exception as exc:  # noqa: BLE001 - the last line of defence, shown in one line
            message = f"unexpected {type(exc).__name__}: {exc}; re-run with --verbose and report it"
            self._fail(ctx, exc, message, EXIT_REGISTRY)

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
        import os
        import warnings

        # MLflow configures its loggers when imported (later, inside a command): set the level
        # it reads rather than the loggers themselves.
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
        warnings.filterwarnings("ignore")


# --- data and training ---------------------------------------------------------------------------


@main.group()
def data() -> None:
    """Create or check the dataset."""


@data.command("generate")
@click.option("--rows", default=2111, show_default=True, type=click.IntRange(50, 1_000_000))
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--out", default="data/obesity.csv", show_default=True, type=click.Path(dir_okay=False))
def data_generate(rows: int, seed: int, out: str) -> None:
    """Write a synthetic obesity dataset with the UCI schema (deterministic for a seed)."""
    from . import data as data_mod

    frame = data_mod.generate(rows=rows, seed=seed)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    click.echo(f"wrote {out}: {len(frame)} rows, sha256 {data_mod.file_sha256(out)[:12]}")


@data.command("check")
@params_option
@click.option("--data", "data_path", default=None, help="CSV to check [default: params' data.path].")
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
@click.option("--data", "data_path", default=None, help="Training CSV [default: params' data.path].")
@click.option("--model-dir", default=None, type=click.Path(file_okay=False),
              help="Also save the MLflow model to this folder.")  # fmt: skip
@click.option("--metrics", "metrics_path", default="metrics.json", show_default=True)
@click.option("--fig-cm", "figure_path", default="reports/confusion_matrix.png", show_default=True)
@click.option("--pr-number", default=None, help="Pull request number, recorded as a tag.")
@tracking_uri_option
@json_option
def train(params_path, data_path, model_dir, metrics_path, figure_path, pr_number, tracking_uri,
          as_json) -> None:  # fmt: skip
    """Train the model from params.yaml, log it to MLflow and register a version.

    Inputs already registered (same fingerprint) reuse that version: nothing new is registered.
    """
    from . import data as data_mod
    from . import github
    from .fingerprint import of_worktree
    from .train import train as run_training

    params = _params(params_path)
    data_path = data_path or params.data.path
    dataset = data_mod.load(data_path, params.data.target)
    fingerprint = of_worktree(params, data_path)
    registry = _registry(params, tracking_uri)
    result = run_training(
        params, registry, fingerprint, dataset,
        context_tags=github.context_tags(pr_number),
        metrics_path=Path(metrics_path), figure_path=Path(figure_path),
        model_dir=Path(model_dir) if model_dir else None,
    )  # fmt: skip
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
    click.echo("  " + "  ".join(f"{k} {result.metrics[k]:.4f}" for k in shown if k in result.metrics))
    click.echo(f"  run: {result.run_url or result.run_id}")


# --- gate ----------------------------------------------------------------------------------------


@main.command()
@params_option
@click.option("--data", "data_path", default=None, help="Dataset whose test split is the holdout.")
@click.option("--challenger", "challenger_ref", default=None,
              help="Version, @alias or stage [default: the version trained from this tree].")
@click.option("--champion", "champion_ref", default=None,
              help="Version, @alias or stage [default: @champion].")
@click.option("--pr-number", default=None, help="Pull request number: sets alias pr-<N> on a pass.")
@click.option("--report", "report_path", default=None, type=click.Path(dir_okay=False),
              help="Write the markdown report (the PR comment) here.")
@click.option("--json", "json_path", default=None, type=click.Path(dir_okay=False),
              help="Write the JSON verdict here.")
@tracking_uri_option
def gate(params_path, data_path, challenger_ref, champion_ref, pr_number, report_path, json_path,
         tracking_uri) -> None:  # fmt: skip
    """Compare the challenger with the champion on the same holdout; exit 1 if the gate fails.

    Every check is printed with its numbers before the exit code says fail.
    """
    from . import github, report
    from .challenge import run_gate

    params = _params(params_path)
    registry = _registry(params, tracking_uri)
    pr_number = pr_number or github.pr_number()
    run = run_gate(
        registry, params, data_path=data_path or params.data.path,
        challenger_ref=challenger_ref, champion_ref=champion_ref, pr_number=pr_number,
    )  # fmt: skip
    result = run.result
    for path, text in (
        (report_path, report.render_markdown(result, run.links) if report_path else None),
        (json_path, json.dumps(report.to_json(result, run.links), indent=2) + "\n" if json_path else None),
    ):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text, encoding="utf-8")
    github.append_summary(report.render_step_summary(result, run.links))
    github.write_outputs({
        "verdict": result.verdict,
        "passed": str(result.passed).lower(),
        "challenger_version": run.challenger,
        "champion_version": run.champion or "",
    })  # fmt: skip
    click.echo(report.render_text(result))
    if run.aliases_set:
        click.echo(f"aliases set on v{run.challenger}: {', '.join('@' + a for a in run.aliases_set)}")
    if not result.passed:
        click.get_current_context().exit(1)


# --- registry commands ---------------------------------------------------------------------------
# VERSION arguments take a number, an @alias or a stage name (its newest version), everywhere.

_stage_filter = click.option(
    "--stage", default=None, metavar="STAGE",
    help="Only versions in this stage: None, Staging, Production or Archived (any case).",
)  # fmt: skip


@main.command("list")
@click.option("--name", "name_like", default=None, metavar="PATTERN",
              help="Only models whose name matches this SQL LIKE pattern ('%' matches anything).")  # fmt: skip
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
@click.option("--metric", "metrics", multiple=True, metavar="NAME",
              help="Add a column for this logged metric (repeatable).")  # fmt: skip
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
@params_option
@tracking_uri_option
@json_option
def promote(model, version, stage, params_path, tracking_uri, as_json) -> None:
    """Move VERSION of MODEL to STAGE (None, Staging, Production or Archived; any case).

    Production leaves exactly one Production version: the others are archived in the same
    transaction. With `promotion.use_stages: false`, Production moves the champion alias instead.
    """
    from . import catalog, tables

    params = _params(params_path, required=False)
    registry = _registry(params, tracking_uri)
    change = catalog.change_stage(
        registry, model, version, stage,
        use_stages=params.promotion.use_stages, champion_alias=params.promotion.champion_alias,
    )  # fmt: skip
    if as_json:
        _echo_json(change.to_json())
    else:
        click.echo(tables.render_stage_change(change))


@main.command("alias")
@click.argument("model")
@click.argument("alias_name", metavar="ALIAS")
@click.argument("version", required=False)
@click.option("--delete", is_flag=True, help="Remove ALIAS instead of setting it.")
@click.option("--if-exists", is_flag=True,
              help="With --delete: succeed (exit 0) when there is no such alias or model.")  # fmt: skip
@params_option
@tracking_uri_option
@json_option
def alias_command(model, alias_name, version, delete, if_exists, params_path, tracking_uri,
                  as_json) -> None:  # fmt: skip
    """Point ALIAS of MODEL at VERSION (printing the previous holder), or remove it with --delete."""
    from . import catalog, tables
    from .errors import UsageError

    if delete == (version is not None):
        raise UsageError("give either a VERSION to point the alias at or --delete, not both or neither")
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
@click.option("--lower-is-better/--higher-is-better", "lower_is_better", default=None,
              help="Direction of --metric [default: known for built-in metrics, else higher].")  # fmt: skip
@_stage_filter
@params_option
@tracking_uri_option
@json_option
def best(model, metric, lower_is_better, stage, params_path, tracking_uri, as_json) -> None:
    """Show MODEL's best version by a metric, with its stage and aliases (ties: the newest)."""
    from . import catalog, tables

    registry = _registry(_params(params_path, required=False), tracking_uri)
    result = catalog.best(registry, model, metric, lower_is_better=lower_is_better, stage=stage)
    if as_json:
        _echo_json(result.to_json())
    else:
        click.echo(tables.render_best(result))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
