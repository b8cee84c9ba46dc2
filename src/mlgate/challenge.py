"""Run the gate against the registry: gather evidence, evaluate, record the verdict.

gate.py decides; this module feeds it. Both versions are loaded from the registry and scored by
the same code on the same holdout (the current data's test split), then the verdict is written
back as tags and, on a pass, as the `challenger` (and `pr-<N>`) aliases.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import data, github, report, verdict
from .config import Params
from .errors import ArtifactError, NotFoundError, UsageError
from .fingerprint import of_worktree
from .gate import VERDICT_FAIL, GateResult, ModelEvidence, Slices, evaluate
from .registry import load_model

if TYPE_CHECKING:
    from .registry import Registry, Version

__all__ = ["GateRun", "publish", "resolve_challenger", "resolve_champion", "run_gate"]

_LATENCY_REPEATS = 3  # best of three: the machine is shared, the minimum is the honest figure


@dataclass(frozen=True)
class GateRun:
    result: GateResult
    name: str
    challenger: str
    champion: str | None
    links: dict[str, str]
    aliases_set: tuple[str, ...]


def resolve_challenger(
    registry: Registry, params: Params, ref: str | None, data_path: str
) -> Version:
    """`ref` when given; else the version trained from the working tree's inputs."""
    name = params.mlflow.registered_model_name
    if ref:
        return registry.resolve(name, ref)
    fingerprint = of_worktree(params, data_path)
    found = registry.find_by_fingerprint(name, fingerprint.value)
    if found is None:
        raise UsageError(
            f"no version of {name} was trained from the working tree's inputs"
            f" (fingerprint {fingerprint.value[:12]});"
            " run 'mlgate train' first or pass --challenger"
        )
    return found


def resolve_champion(registry: Registry, name: str, ref: str, default_alias: str) -> Version | None:
    """The champion; None only when the champion alias does not exist yet (a first model).

    Any other reference that does not resolve is an error: a typo must not turn the comparison
    into a thresholds-only gate.
    """
    try:
        return registry.resolve(name, ref)
    except NotFoundError:
        if ref != f"@{default_alias}":
            raise
        registry.get_model(name)  # an unknown model is still an error, with suggestions
        return None


def _evidence(
    registry: Registry, version: Version, X: Any, metrics: dict[str, float]
) -> ModelEvidence:
    base = dict(version=version.version, run_id=version.run_id, logged_metrics=metrics)
    try:
        loaded = load_model(registry, version.name, version.version)
    except ArtifactError as exc:  # evidence: the gate fails closed. A server down is exit 3.
        return ModelEvidence(**base, error=f"cannot load v{version.version}: {_first_line(exc)}")
    base.update(size_bytes=loaded.size_bytes, input_schema=loaded.input_schema)
    try:
        timings = []
        for _ in range(_LATENCY_REPEATS):
            started = time.perf_counter()
            predictions = loaded.model.predict(X)
            timings.append(time.perf_counter() - started)
    except Exception as exc:
        return ModelEvidence(**base, error=f"cannot score the holdout: {_first_line(exc)}")
    import numpy as np

    return ModelEvidence(**base, predictions=np.asarray(predictions), latency_s=min(timings))


def _slices(params: Params, X: Any) -> Slices:
    """The task, and for regression the holdout's `data.slice_by` column."""
    schema = params.data.schema
    column = schema.slice_by if schema.task == "regression" else None
    if column is None:
        return Slices(schema.task)
    values = X[column].astype(str).to_numpy()
    return Slices(schema.task, column, values, schema.column(column).values)


def run_gate(
    registry: Registry,
    params: Params,
    *,
    data_path: str,
    challenger_ref: str | None = None,
    champion_ref: str | None = None,
    pr_number: str | None = None,
) -> GateRun:
    name = params.mlflow.registered_model_name
    holdout = data.holdout(params.data, data_path)
    split = holdout.split
    challenger = resolve_challenger(registry, params, challenger_ref, data_path)
    alias = params.promotion.champion_alias
    champion = resolve_champion(registry, name, champion_ref or f"@{alias}", alias)

    run_ids = [v.run_id for v in (challenger, champion) if v is not None]
    logged = registry.run_metrics(run_ids)
    challenger_ev = _evidence(registry, challenger, split.X_test, logged.get(challenger.run_id, {}))
    champion_ev = (
        _evidence(registry, champion, split.X_test, logged.get(champion.run_id, {}))
        if champion
        else None
    )
    result = evaluate(
        split.y_test.to_numpy(),
        holdout.classes,
        challenger_ev,
        champion_ev,
        params.gate,
        holdout.sha256,
        _slices(params, split.X_test),
    )
    aliases = _record(registry, params, result, challenger, champion, pr_number)
    links = {}
    for version in (challenger, champion):
        if version is not None and (url := registry.version_url(name, version.version)):
            links[f"Model version {version.version}"] = url
    if url := registry.run_url(challenger.run_id):
        links["Challenger's MLflow run"] = url
    return GateRun(
        result=result,
        name=name,
        challenger=challenger.version,
        champion=champion.version if champion else None,
        links=links,
        aliases_set=aliases,
    )


def _record(
    registry: Registry,
    params: Params,
    result: GateResult,
    challenger: Version,
    champion: Version | None,
    pr_number: str | None,
) -> tuple[str, ...]:
    """Verdict tags always; the candidate aliases only on a real pass (never on a dry run's)."""
    name = params.mlflow.registered_model_name
    recorded = result.verdict if result.mode != "dry_run" else f"{result.verdict} (dry run)"
    tags = {"mlgate.gate.verdict": recorded}
    if result.verdict != VERDICT_FAIL:
        tags["mlgate.gate.holdout_sha256"] = result.holdout.sha256
        if champion is not None:
            # `release` trusts a pass only against the champion it was decided against.
            tags["mlgate.gate.champion_version"] = champion.version
    registry.set_version_tags(name, challenger.version, tags)
    if challenger.run_id:
        verdict.save(registry, challenger.run_id, result)
    if result.verdict == VERDICT_FAIL or result.mode != "enabled":
        return ()
    aliases = [params.promotion.challenger_alias]
    if pr_number:
        aliases.append(f"pr-{pr_number}")
    for alias in aliases:
        registry.set_alias(name, alias, challenger.version)
    return tuple(aliases)


def publish(run: GateRun, *, report_path: str | None = None, json_path: str | None = None) -> None:
    """Everything a gate leaves besides the terminal text: the markdown report (the PR comment)
    and the JSON verdict where asked, the step summary and the Actions outputs."""
    files = (
        (report_path, lambda: report.render_markdown(run.result, run.links)),
        (json_path, lambda: json.dumps(verdict.to_json(run.result, run.links), indent=2) + "\n"),
    )
    for path, render in files:
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(render(), encoding="utf-8")
    github.append_summary(report.render_step_summary(run.result, run.links))
    github.write_outputs(
        {
            "verdict": run.result.verdict,
            "passed": str(run.result.passed).lower(),
            "challenger_version": run.challenger,
            "champion_version": run.champion or "",
        }
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]
