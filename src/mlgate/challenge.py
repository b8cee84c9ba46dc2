"""Run the gate against the registry: gather evidence, evaluate, record the verdict.

gate.py decides; this module feeds it. Both versions are loaded from the registry and scored by
the same code on the same holdout (the current data's test split), then the verdict is written
back as tags and, on a pass, as the `challenger` (and `pr-<N>`) aliases.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from . import data, estimators, github, report, verdict
from .config import GateConfig, Params
from .crossval import CrossValidation
from .errors import ArtifactError, ConfigError, NotFoundError, UsageError, first_line
from .fingerprint import of_worktree
from .gate import (
    VERDICT_FAIL,
    VERDICT_INCONCLUSIVE,
    GateResult,
    ModelEvidence,
    MoreEvidence,
    Slices,
    evaluate,
)
from .noninferiority import stage_confidence
from .policy import PolicyChange
from .registry import load_model
from .rows import (
    TRAINING_RECORD,
    CleanRows,
    DataChange,
    clean_rows,
    data_change,
    read_record,
    record_columns,
    row_hashes,
)
from .task import named as task_named
from .train import cross_validate

if TYPE_CHECKING:
    from .registry import Registry, Version

__all__ = [
    "GateRun",
    "binding_trust",
    "clean_holdout",
    "publish",
    "resolve_challenger",
    "resolve_champion",
    "run_gate",
]

# Interleaved single-threaded pairs (champion, challenger; the order alternates): both models
# meet the same moments of a shared runner, and a thread pool's start-up contention (measured:
# one HistGradientBoosting batch 14-144 ms with threads, 25 ms +-2 % single-threaded) is out.
_LATENCY_PAIRS = 7
# Cross-validation repeats partitions more the smaller the file (about _CV_ROWS scored rows in
# all: the corrected variance's 1/J term and the t's degrees of freedom both improve), at least
# gate.cv_repeats, at most _CV_MAX_REPEATS, and no more than fit _CV_BUDGET_S seconds.
_CV_MAX_REPEATS = 10
_CV_ROWS = 10_000
_CV_BUDGET_S = 60.0


@dataclass(frozen=True)
class GateRun:
    result: GateResult
    name: str
    challenger: str
    champion: str | None
    links: dict[str, str]
    aliases_set: tuple[str, ...]
    # When the change edits the rules that judge it: what changed, and its verdict under its own
    # gate settings (for information; `result` used the base's and is the binding one).
    policy: PolicyChange | None = None
    informational: GateResult | None = None


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


def binding_trust(params: Params, policy: PolicyChange | None) -> tuple[str, ...]:
    """The project's `model.trusted_types` a stored model is loaded with: the base's when the
    rules come from a base (`--policy-from`), so a change cannot trust a type for its own
    model; the tree's otherwise."""
    return policy.trusted_types if policy is not None else params.model.trusted_types


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
    registry: Registry, version: Version, X: Any, metrics: dict[str, float], trusted: tuple
) -> tuple[ModelEvidence, Any]:
    """The version's predictions on `X` and the loaded model (None when it could not score)."""
    base = dict(version=version.version, run_id=version.run_id, logged_metrics=metrics)
    try:
        loaded = load_model(registry, version.name, version.version, trusted)
    except ArtifactError as exc:  # evidence: the gate fails closed. A server down is exit 3.
        error = f"cannot load v{version.version}: {first_line(exc)}"
        return ModelEvidence(**base, error=error), None
    base.update(size_bytes=loaded.size_bytes, input_schema=loaded.input_schema)
    try:
        predictions = loaded.model.predict(X)
    except Exception as exc:
        return ModelEvidence(**base, error=f"cannot score the holdout: {first_line(exc)}"), None
    return ModelEvidence(**base, predictions=np.asarray(predictions)), loaded.model


def _timed(
    evidence: tuple[ModelEvidence, ...], models: tuple[Any, ...], X: Any
) -> tuple[ModelEvidence, ...]:
    """Each model's predict latency on the same batch: interleaved pairs, the median of each."""
    from threadpoolctl import threadpool_limits

    runs: list[list[float]] = [[] for _ in models]
    with threadpool_limits(1):
        for pair in range(_LATENCY_PAIRS):
            order = range(len(models)) if pair % 2 == 0 else reversed(range(len(models)))
            for i in order:
                started = time.perf_counter()
                models[i].predict(X)
                runs[i].append(time.perf_counter() - started)
    return tuple(
        replace(ev, latency_s=float(np.median(r)), latency_runs=tuple(r))
        for ev, r in zip(evidence, runs, strict=True)
    )


def _slices(params: Params, X: Any, mask: np.ndarray) -> Slices:
    """The task, and for regression the compared rows' values of `data.slice_by`."""
    schema = params.data.schema
    # A classifier is judged per class; data.slice_by is the regressor's breakdown.
    column = None if task_named(schema.task).has_classes else schema.slice_by
    if column is None:
        return Slices(schema.task)
    values = X[column].astype(str).to_numpy()[mask]
    return Slices(schema.task, column, values, schema.column(column).values)


def run_gate(
    registry: Registry,
    params: Params,
    *,
    data_path: str,
    challenger_ref: str | None = None,
    champion_ref: str | None = None,
    pr_number: str | None = None,
    policy: PolicyChange | None = None,
    candidate_aliases: bool = True,
    trusted_types: tuple[str, ...] | None = None,
) -> GateRun:
    """Gate with `params.gate` (the binding rules: the caller took them from the base when it
    passes `policy`), record the verdict, and when `policy` says the change edited the gate
    settings, also evaluate under the change's own settings for the report.

    `candidate_aliases=False` records the verdict but sets no candidate alias on a pass: for a
    caller that moves the champion alias itself right after (release).

    Both models are loaded with the types of `binding_trust` trusted, or `trusted_types` when
    given (release, for a version it built itself from the merged tree)."""
    name = params.mlflow.registered_model_name
    holdout = data.holdout(params.data, data_path)
    split = holdout.split
    challenger = resolve_challenger(registry, params, challenger_ref, data_path)
    alias = params.promotion.champion_alias
    champion = resolve_champion(registry, name, champion_ref or f"@{alias}", alias)

    # Only rows neither version trained on are compared (rows.py); the rest are left out.
    champion_record = _training_record(registry, champion)
    clean = clean_holdout(registry, split, holdout.sha256, challenger, champion, champion_record)
    y = split.y_test.to_numpy()[clean.mask]
    run_ids = [v.run_id for v in (challenger, champion) if v is not None]
    logged = registry.run_metrics(run_ids)
    # Both score the whole holdout (a schema change shows on any row); only clean rows count.
    trusted = estimators.trusted_types(
        trusted_types if trusted_types is not None else binding_trust(params, policy)
    )
    challenger_ev, challenger_model = _evidence(
        registry, challenger, split.X_test, logged.get(challenger.run_id, {}), trusted
    )
    champion_ev, champion_model = (
        _evidence(registry, champion, split.X_test, logged.get(champion.run_id, {}), trusted)
        if champion
        else (None, None)
    )
    if champion_ev is not None and challenger_model is not None and champion_model is not None:
        champion_ev, challenger_ev = _timed(
            (champion_ev, challenger_ev), (champion_model, challenger_model), split.X_test
        )
    # The stored record keeps each model's labels on the whole holdout (hash-addressed): a later
    # champion move reuses them instead of loading the models again.
    predictions = {"challenger": challenger_ev.predictions}
    if champion_ev is not None:
        predictions["champion"] = champion_ev.predictions
    challenger_ev, champion_ev = (
        ev
        if ev is None or ev.predictions is None
        else replace(ev, predictions=ev.predictions[clean.mask])
        for ev in (challenger_ev, champion_ev)
    )
    dataset = holdout.dataset
    target = dataset.frame[params.data.target].to_numpy()
    change = data_change(champion_record, dataset.frame, target) if champion_record else None
    more = MoreEvidence(
        n_holdout=clean.n_holdout,
        why_fewer=clean.reason(),
        n_data=len(dataset.frame),
        data_change=change,
    )
    slices = _slices(params, split.X_test, clean.mask)

    def judge(gate: GateConfig, more: MoreEvidence) -> GateResult:
        return evaluate(
            y, holdout.classes, challenger_ev, champion_ev, gate, holdout.sha256, more, slices
        )

    result = judge(params.gate, more)
    if result.verdict == VERDICT_INCONCLUSIVE and params.gate.evidence == "cv" and champion:
        records = (champion_record, _training_record(registry, challenger))
        cv, note = _cross_validate(params, holdout, champion, *records, change)
        more = replace(more, cv=cv, cv_note=note)
        result = judge(params.gate, more)
    informational = None
    if policy is not None and policy.gate_settings_changed:
        # The same evidence under the change's own settings: for the report, never recorded.
        informational = judge(policy.new_gate, more)
    split_record = data.split_record(params.data, holdout)
    _record(registry, params, result, challenger, champion, predictions, split_record)
    if candidate_aliases:
        aliases = _set_candidate_aliases(registry, params, result, challenger, pr_number)
    else:
        aliases = ()
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
        policy=policy if policy is not None and policy.changed else None,
        informational=informational,
    )


def _record(
    registry: Registry,
    params: Params,
    result: GateResult,
    challenger: Version,
    champion: Version | None,
    predictions: dict[str, Any] | None = None,
    split_record: dict[str, Any] | None = None,
) -> None:
    """The verdict tags on the challenger and the evidence with its run."""
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
        verdict.save(registry, challenger.run_id, result, predictions, split_record)


def _set_candidate_aliases(
    registry: Registry,
    params: Params,
    result: GateResult,
    challenger: Version,
    pr_number: str | None,
) -> tuple[str, ...]:
    """The candidate aliases, only on a real pass (never on a dry run's)."""
    # An inconclusive verdict earns them only under on_inconclusive: pass; under warn it does
    # not block, but nothing advertises the version as having passed.
    accepted = result.verdict != VERDICT_INCONCLUSIVE or params.gate.on_inconclusive == "pass"
    if not result.passed or not accepted or result.mode != "enabled":
        return ()
    aliases = [params.promotion.challenger_alias]
    if pr_number:
        aliases.append(f"pr-{pr_number}")
    for alias in aliases:
        registry.set_alias(params.mlflow.registered_model_name, alias, challenger.version)
    return tuple(aliases)


def publish(run: GateRun, *, report_path: str | None = None, json_path: str | None = None) -> None:
    """Everything a gate leaves besides the terminal text: the markdown report (the PR comment)
    and the JSON verdict where asked, the step summary and the Actions outputs."""
    github.publish(
        {
            "verdict": run.result.verdict,
            "passed": run.result.passed,
            "challenger_version": run.challenger,
            "champion_version": run.champion,
        },
        summary=[report.render_step_summary(run.result, run.links, report.warning(run))],
        files=[
            (
                report_path,
                lambda: report.render_markdown(run.result, run.links, report.warning(run)),
            ),
            (
                json_path,
                lambda: json.dumps(verdict.to_json(run.result, run.links), indent=2) + "\n",
            ),
        ],
    )


def _training_record(registry: Registry, version: Version | None) -> dict[str, Any] | None:
    """What `version` recorded about its training (rows.training_record); None if nothing."""
    if version is None or not version.run_id:
        return None
    return registry.load_run_dict(version.run_id, TRAINING_RECORD)


def clean_holdout(
    registry: Registry,
    split: data.Split,
    sha256: str,
    challenger: Version,
    champion: Version | None,
    champion_record: dict[str, Any] | None = None,
) -> CleanRows:
    """The holdout rows neither version trained on (the gate's and the model card's rule).

    A version trained before mlgate kept training records is judged by its holdout: the same
    holdout (same data and split) means it never saw these rows; another means nothing can be
    shown clean, and every row is left out rather than risk scoring it on rows it learned.
    """
    if champion is not None and champion_record is None:
        champion_record = _training_record(registry, champion)
    challenger_record = _training_record(registry, challenger)
    holdouts: list[np.ndarray] = []
    trained: list[np.ndarray | None] = []
    for version, record in ((champion, champion_record), (challenger, challenger_record)):
        columns = record_columns(record) if record else None
        available = columns is not None and set(columns) <= set(split.X_test.columns)
        holdouts.append(row_hashes(split.X_test, columns if available else None))
        try:
            ok = version is not None and record is not None and (available or columns is None)
            trained.append(read_record(record) if ok else None)
        except ValueError:  # unreadable: as if the version had recorded nothing
            trained.append(None)
    clean = clean_rows(holdouts[0], trained[0], trained[1], holdouts[1])
    unrecorded = champion is not None and trained[0] is None
    if unrecorded and champion.tags.get("mlgate.holdout_sha256") != sha256:
        why = (
            f"champion v{champion.version} has no training-row record that fits this data "
            "(trained before mlgate kept them, registered by another tool, or on columns this "
            "data lacks) and was tested on another holdout: no row can be shown clean (retrain "
            "it with `mlgate train`)"
        )
        none = np.zeros(len(split.X_test), dtype=bool)
        return CleanRows(none, len(none), len(none), 0, note=why)
    return clean


def _cross_validate(
    params: Params,
    holdout: data.Holdout,
    champion: Version,
    record: dict[str, Any] | None,
    challenger_record: dict[str, Any] | None,
    change: DataChange | None = None,
) -> tuple[CrossValidation | None, str | None]:
    """Cross-validate the champion's recipe (its recorded configuration on its recorded data)
    against the challenger's (its record, else the working tree's, on this data file); or None
    and why not.

    Small files get more repeated partitions (the corrected variance's 1/J term shrinks with
    them), as many as fit `_CV_BUDGET_S`."""
    inputs = (record or {}).get("inputs")
    if not inputs:
        return None, (
            f"cross-validation needs the configuration champion v{champion.version} was trained "
            "with, and it recorded none (retrain it with this mlgate to record it)"
        )
    mine = (challenger_record or {}).get("inputs")
    cfg = params.gate
    n_rows = len(holdout.dataset.frame)
    more_repeats = min(_CV_MAX_REPEATS, max(cfg.cv_repeats, -(-_CV_ROWS // max(n_rows, 1))))
    options: dict[str, Any] = dict(
        confidence=stage_confidence(cfg.confidence, cfg.evidence == "cv"),
        max_repeats=more_repeats,
        budget_s=_CV_BUDGET_S,
    )
    if change is not None:
        options.update(champion_labels=change.labels, scored=change.agreed)
    try:
        cv = cross_validate(inputs, params, holdout.dataset, holdout.classes, mine, **options)
    except (ConfigError, ValueError) as exc:
        return None, f"cannot cross-validate: {first_line(exc)}"
    if change is None:
        return cv, (
            f"champion v{champion.version} recorded no labelled data file: its configuration "
            "was retrained on this file (a change of data alone cannot show here)"
        )
    return cv, None
