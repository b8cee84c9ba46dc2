"""Build the scikit-learn pipeline from params, fit, evaluate, log to MLflow and register.

Training is idempotent: inputs whose fingerprint is already registered reuse that version.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import data, estimators
from .config import Params
from .errors import ConfigError, UsageError
from .fingerprint import Fingerprint, of_worktree, uncommitted_inputs
from .registry import METRIC_TAG_PREFIX
from .regression import regression_metrics
from .rows import TRAINING_RECORD, canonical_value, training_record
from .stats import classification_metrics, confusion_matrix
from .task import DEFAULT as DEFAULT_TASK
from .task import named as task_named

# Whether the version's tracked training inputs differed from its recorded commit ("true"/"false").
DIRTY_TAG = "mlgate.git_dirty"
NO_COMMIT = "not in a git repository: no commit is recorded for this version"

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from .crossval import CrossValidation
    from .registry import Registry

__all__ = [
    "TrainResult",
    "build_pipeline",
    "cross_validate",
    "estimator_name",
    "evaluate",
    "model_description",
    "pip_requirements",
    "train",
    "version_description",
]


@dataclass(frozen=True)
class TrainResult:
    version: str
    stage: str
    reused: bool
    run_id: str
    metrics: dict[str, float]
    fingerprint: str
    model_uri: str
    run_url: str | None = None
    messages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # about the new version's provenance

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def build_pipeline(params: Params, root: str | Path = ".") -> Pipeline:
    """The schema's preprocessing and `model.estimator` (checked against the task); `root` is
    where a class of the project's own imports from."""
    schema = params.data.schema
    estimator = estimators.build(
        params.model.estimator, params.model.params, schema.task, root, params.source
    )
    return estimators.build_pipeline(schema, estimator, params.model.numeric)


def cross_validate(
    champion_inputs: Mapping[str, Any],
    params: Params,
    dataset: data.Dataset,
    classes: list[str],
    challenger_inputs: Mapping[str, Any] | None = None,
    root: str | Path = ".",
    *,
    champion_labels: Any = None,
    scored: Any = None,
    confidence: float | None = None,
    max_repeats: int | None = None,
    budget_s: float | None = None,
) -> CrossValidation:
    """Paired k-fold cross-validation of the champion's recipe and the challenger's.

    `champion_inputs` / `challenger_inputs`: the `training_inputs()` each version recorded when
    it was trained (its estimator, hyper-parameters and numeric preprocessing); without the
    challenger's, `params`' model is the challenger's. Both are built by this code's
    `build_pipeline` on the current schema. Folds are over `dataset`'s rows (stratified by
    class for classification), `gate.cv_folds` x `gate.cv_repeats`, seeded by `gate.seed`.
    `champion_labels`: per row of `dataset`, the label the champion's own data file gives it
    (None where its file lacks the row): the champion's configuration trains on those rows and
    labels minus the fold, the challenger's on `dataset` minus the fold; without it both train
    on `dataset`. `scored`: bool per row, the rows both files agree on, the only ones scored.
    Scores are the gate's primary metric oriented so that higher is better (an error is
    negated: the interval is then the challenger's improvement). Raises ConfigError when a
    recorded configuration no longer builds.
    """
    import numpy as np

    from .crossval import paired_cv

    configs = {
        "champion": _with_model(params, champion_inputs, "champion"),
        "challenger": _with_model(params, challenger_inputs, "challenger")
        if challenger_inputs
        else params,
    }
    pipelines = {role: build_pipeline(cfg, root) for role, cfg in configs.items()}
    same_config = configs["champion"].model == configs["challenger"].model
    X = dataset.frame[dataset.features]  # ignored columns (ids) are no model input
    y = dataset.frame[params.data.target].to_numpy()
    metric = params.gate.primary_metric
    task = task_named(params.data.schema.task)
    own = None
    if champion_labels is not None:
        own = np.asarray(champion_labels, dtype=object)
        texts = np.asarray([canonical_value(v) for v in y], dtype=object)
        present = np.asarray([v is not None for v in own])
        # The champion's label as the challenger's column type, where both files agree on it.
        champion_y = np.where(present & (own == texts), y, own)
        if not task.has_classes:
            champion_y = np.where(present, champion_y, np.nan)
    last: dict[Any, Any] = {}

    def fit_predict(role: str, train_rows: Any, test_rows: Any) -> Any:
        from sklearn.base import clone

        rows, labels = train_rows, y[train_rows]
        if role == "champion" and own is not None:
            rows = train_rows[present[train_rows]]
            labels = champion_y[rows]
            if not task.has_classes:
                labels = labels.astype(float)
        # The same configuration on the same rows and labels is the same model: reuse its fit.
        key = (same_config or role, rows.tobytes(), tuple(labels.tolist()), test_rows.tobytes())
        if key not in last:
            last.clear()
            pipeline = clone(pipelines[role])
            pipeline.fit(X.iloc[rows], labels)
            last[key] = pipeline.predict(X.iloc[test_rows])
        return last[key]

    def score(truth: Any, predicted: Any) -> float:
        # Cross-validation compares scores that improve upwards: an error counts negatively.
        if task.has_classes:
            return float(classification_metrics(truth, predicted, classes)[metric])
        return task.gain(metric, float(regression_metrics(truth, predicted)[metric]))

    cfg = params.gate
    return paired_cv(
        y if task.has_classes else y.astype(float),
        fit_predict,
        score,
        k=cfg.cv_folds,
        repeats=cfg.cv_repeats,
        seed=cfg.seed,
        confidence=cfg.confidence if confidence is None else confidence,
        stratify=task.stratified,
        scored=scored,
        max_repeats=max_repeats,
        budget_s=budget_s,
    )


def _with_model(params: Params, inputs: Mapping[str, Any], whose: str) -> Params:
    """`params` with the model a version recorded in its training inputs (`model.estimator`,
    or `model.type` in records written before the estimator could be any import path)."""
    from types import MappingProxyType

    model = inputs.get("model") or {}
    spec = model.get("estimator") or model.get("type")
    if not isinstance(spec, str) or not spec:
        raise ConfigError(
            f"the {whose}'s training record names no estimator (model: {model!r});"
            " retrain it with `mlgate train` to record one"
        )
    numeric = str(model.get("numeric") or "auto")
    hyper = MappingProxyType(dict(model.get("params") or {}))
    chosen = replace(params.model, estimator=spec, params=hyper, numeric=numeric)
    return replace(params, model=chosen)


def evaluate(y_true: Any, y_pred: Any, classes: list[str], task: str = DEFAULT_TASK) -> dict:
    """The metrics every version logs: classification's overall scores and one F1 per class
    (`f1_<class>`), or regression's RMSE, MAE and R².

    The gate computes its metrics with the same functions, so logged and gated numbers agree.
    """
    if task_named(task).has_classes:
        metrics = classification_metrics(y_true, y_pred, classes)
    else:
        metrics = regression_metrics(y_true, y_pred)
    return {k: round(float(v), 6) for k, v in metrics.items() if k != "per_class_f1"}


def _roc_auc(pipeline: Any, X: Any, y: Any, classes: list[str]) -> dict[str, float]:
    """Binary classification with probabilities: ROC AUC, the second class of the schema's
    target values counting as positive."""
    if len(classes) != 2 or not hasattr(pipeline, "predict_proba"):
        return {}
    from sklearn.metrics import roc_auc_score

    try:
        column = list(pipeline.classes_).index(classes[1])
        scores = pipeline.predict_proba(X)[:, column]
    except (AttributeError, ValueError):  # an estimator whose probabilities are unavailable
        return {}
    return {"roc_auc": round(float(roc_auc_score(y == classes[1], scores)), 6)}


def pip_requirements() -> list[str]:
    """Pinned to what is installed: MLflow's own inference imports the model in a subprocess to
    find them, 2.5–15 s depending on the machine (docs/performance.md)."""
    from importlib import metadata

    return [
        f"{dist}=={metadata.version(dist)}"
        for dist in ("mlflow", "scikit-learn", "skops", "pandas", "numpy", "scipy")
    ]


def _confusion_png(y_true: Any, y_pred: Any, classes: list[str], path: Path) -> None:
    """Draw the holdout's confusion matrix with Pillow (matplotlib would add ~1 s of imports)."""
    from PIL import Image, ImageDraw, ImageFont

    counts = confusion_matrix(y_true, y_pred, classes)
    shares = counts / counts.sum(axis=1, keepdims=True).clip(min=1)
    cell, left, top, n = 84, 190, 96, len(classes)
    image = Image.new("RGB", (left + n * cell + 20, top + n * cell + 44), "white")
    draw = ImageDraw.Draw(image)
    font, small = ImageFont.load_default(15), ImageFont.load_default(12)
    draw.text((left, 12), "Confusion matrix (holdout): rows true, columns predicted", "black", font)
    for j, label in enumerate(classes):
        x = left + j * cell + cell // 2
        for k, word in enumerate(_short(label).split()):
            draw.text((x, top - 40 + 15 * k), word, "black", small, anchor="mm")
    for i, label in enumerate(classes):
        y = top + i * cell
        draw.text((left - 10, y + cell // 2), label, "black", small, anchor="rm")
        for j in range(n):
            shade = int(255 - 200 * shares[i, j])
            x = left + j * cell
            draw.rectangle([x, y, x + cell - 2, y + cell - 2], fill=(shade, shade, 255))
            ink = "white" if shares[i, j] > 0.5 else "black"
            draw.text((x + cell // 2, y + cell // 2), str(counts[i, j]), ink, font, anchor="mm")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def _short(label: str) -> str:
    """Column headers: one word a line, so 'Level_II' -> 'Level II'."""
    return label.replace("_", " ")


def train(
    params: Params,
    registry: Registry,
    holdout: data.Holdout,
    *,
    fingerprint: Fingerprint | None = None,
    root: str | Path = ".",
    context_tags: dict[str, str] | None = None,
    metrics_path: Path | None = None,
    figure_path: Path | None = None,
    model_dir: Path | None = None,
    reuse: bool = True,
    committed_only: str | None = None,
) -> TrainResult:
    """Train and register a version, or reuse the one already registered for these inputs.

    `holdout` is `data.holdout(params.data, path)`; `fingerprint` defaults to the one of the
    files under `root` (what `release` and the gate look the version up by). `reuse=False`
    always trains: `release` builds its own when it trusts none of the registered ones.

    The version records whether its tracked training inputs differed from the commit it names
    (`mlgate.git_dirty`); `committed_only` (who asks: the release, a CI run) refuses such a build
    before anything is trained or registered.
    """
    name = params.mlflow.registered_model_name
    dataset, split, classes = holdout.dataset, holdout.split, holdout.classes
    if fingerprint is None:
        fingerprint = of_worktree(params, dataset.path, root)
    dirty = uncommitted_inputs(params, root)
    if dirty and committed_only:
        raise UsageError(
            f"the training inputs {', '.join(dirty)} differ from the commit: {committed_only}"
            " trains only committed inputs; commit them (or restore them) and re-run"
        )
    existing = registry.find_by_fingerprint(name, fingerprint.value) if reuse else None
    if existing is not None:
        metrics = registry.run_metrics([existing.run_id]).get(existing.run_id, {})
        if metrics_path:
            _write_json(metrics_path, metrics)
        return TrainResult(
            version=existing.version,
            stage=existing.current_stage,
            reused=True,
            run_id=existing.run_id,
            metrics=metrics,
            fingerprint=fingerprint.value,
            model_uri=f"models:/{name}/{existing.version}",
            run_url=registry.run_url(existing.run_id),
            messages=[f"training inputs unchanged: reusing {name} v{existing.version}"],
        )

    task = params.data.schema.task
    pipeline = build_pipeline(params, root)
    started = time.perf_counter()
    pipeline.fit(split.X_train, split.y_train)
    fit_seconds = time.perf_counter() - started
    # Before anything is logged: a model skops would refuse to load is never registered.
    trusted = estimators.checked_trusted_types(pipeline, params.model.trusted_types, params.source)
    predictions = pipeline.predict(split.X_test)
    metrics = evaluate(split.y_test, predictions, classes, task)
    if task_named(task).has_classes:
        metrics |= _roc_auc(pipeline, split.X_test, split.y_test, classes)
    staged_by = task_named(task).staging_metric
    validation = (
        "passed" if metrics[staged_by] >= params.mlflow.staging_threshold else "needs_review"
    )

    if metrics_path:
        _write_json(metrics_path, metrics)
    artifacts: dict[str, Any] = {
        "metrics.json": metrics,
        # What this version trained on: the gate keeps these rows out of every comparison with
        # it, and cross-validation rebuilds its recipe (configuration and labelled data file).
        TRAINING_RECORD: training_record(
            split.X_train,
            params.training_inputs(),
            dataset.frame[list(split.X_train.columns)],
            dataset.frame[params.data.target].to_numpy(),
        ),
    }
    if task_named(task).has_classes:
        figure_path = figure_path or Path("reports/confusion_matrix.png")
        _confusion_png(split.y_test, predictions, classes, figure_path)
        artifacts["figure"] = figure_path

    logged_metrics = {**metrics, "fit_seconds": round(fit_seconds, 3)}
    tags = {
        **dict(params.mlflow.tags),
        **(context_tags or {}),
        "validation_status": validation,
        "model_type": params.model.estimator,
        "training_date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "n_features": str(split.X_train.shape[1]),
        "dataset_size": str(len(dataset.frame)),
        "mlgate.fingerprint": fingerprint.value,
        **({} if dirty is None else {DIRTY_TAG: str(bool(dirty)).lower()}),
        "mlgate.data_sha256": fingerprint.data_sha256,
        "mlgate.holdout_sha256": split.holdout_sha256,
        **{f"{METRIC_TAG_PREFIX}{k}": repr(v) for k, v in logged_metrics.items()},
    }
    logged = registry.log_and_register(
        name=name,
        experiment=params.mlflow.experiment_name,
        pipeline=pipeline,
        input_example=split.X_test.head(5),
        params={"model_type": params.model.estimator, **_flat_params(params)},
        metrics=logged_metrics,
        artifacts=artifacts,
        tags=tags,
        skops_trusted_types=trusted,
        pip_requirements=pip_requirements(),
        model_dir=model_dir,
        model_description=model_description(params, list(split.X_train.columns), classes),
        version_description=version_description(params, len(dataset.frame), context_tags or {}),
    )
    stage = "None"
    messages = []
    if validation == "passed" and params.promotion.use_stages:
        registry.transition(name, logged.version, "Staging")
        stage = "Staging"
    elif validation != "passed":
        messages.append(
            f"{staged_by} {metrics[staged_by]:.4f} < staging_threshold"
            f" {params.mlflow.staging_threshold}: left in stage None,"
            " validation_status=needs_review"
        )
    return TrainResult(
        version=logged.version,
        stage=stage,
        reused=False,
        run_id=logged.run_id,
        metrics=metrics,
        fingerprint=fingerprint.value,
        model_uri=f"models:/{name}/{logged.version}",
        run_url=registry.run_url(logged.run_id),
        messages=messages,
        warnings=[NO_COMMIT] if dirty is None and "git_sha" not in tags else [],
    )


def estimator_name(spec: str, task: str = DEFAULT_TASK) -> str:
    """'random_forest' -> 'RandomForest': the class an alias or import path names, without
    'Classifier' or 'Regressor'."""
    path = estimators.ALIASES[task].get(spec, spec)
    return path.rpartition(".")[2].removesuffix("Classifier").removesuffix("Regressor")


def model_description(params: Params, columns: list[str], classes: list[str]) -> str:
    """The registered model's description: a title line (what `mlgate list` shows), then what it
    predicts from what."""
    task = params.data.schema.task
    title = f"{estimator_name(params.model.estimator, task)} {params.mlflow.registered_model_name}"
    what = f"{len(classes)} classes: {', '.join(classes)}" if classes else "a number"
    return (
        f"{title.replace('_', ' ')}\n\n"
        f"Predicts {params.data.target} ({what})"
        f" from {len(columns)} features ({', '.join(columns)}),"
        f" trained on {params.data.path} with the settings in params.yaml."
    )


def version_description(params: Params, rows: int, context_tags: dict[str, str]) -> str:
    """One line per version: model type, its parameters, data size, commit and PR when known."""
    settings = " ".join(f"{k}={v}" for k, v in params.model.params.items())
    name = estimator_name(params.model.estimator, params.data.schema.task)
    parts = [f"{name} {settings}".strip(), f"{rows} rows"]
    if "git_sha" in context_tags:
        parts.append(f"commit {context_tags['git_sha'][:12]}")
    if "pr_number" in context_tags:
        parts.append(f"PR #{context_tags['pr_number']}")
    return " · ".join(parts)


def _flat_params(params: Params) -> dict[str, Any]:
    return {
        **{f"model.{k}": v for k, v in params.model.params.items()},
        "data.test_size": params.data.test_size,
        "data.random_state": params.data.random_state,
        "data.target": params.data.target,
        "data.task": params.data.schema.task,
    }


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
