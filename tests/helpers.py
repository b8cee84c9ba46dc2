"""Populate a real registry quickly: runs with metrics and params, and versions pointing at them.

Each run's `model` artifact is a tiny real MLflow model (a most-frequent-class classifier fitted
on the project's data, saved once per process), so every version loads and predicts: a champion
move refuses a version whose model cannot load. The registry state is real and costs
milliseconds per version.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXPERIMENT = "mlgate-tests"
_SCHEMA: list[Path] = []  # the template database, made on first use
_MODEL: list[Path] = []  # the tiny saved model, made on first use


@dataclass
class Spec:
    """One version to register: its run's metrics and params, then its stage, aliases and tags."""

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    stage: str | None = None
    aliases: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)


def init_sqlite(uri: str) -> str:
    """Give a not-yet-created sqlite registry MLflow's schema by copying a template made once
    per process: MLflow's own migrations take seconds for every new database file."""
    path = Path(uri[len("sqlite:///") :]) if uri.startswith("sqlite:///") else None
    if path is None or path.exists():
        return uri
    if not _SCHEMA:
        folder = Path(tempfile.mkdtemp(prefix="mlgate-schema-"))
        atexit.register(shutil.rmtree, folder, True)
        client = client_for(f"sqlite:///{folder / 'registry.db'}")
        client.search_experiments()
        client.search_registered_models()
        _SCHEMA.append(folder / "registry.db")
    shutil.copy(_SCHEMA[0], path)
    return uri


def copy_project_registry(template: Path, project: Path, extra: tuple[str, ...] = ()) -> Path:
    """Copy a project's registry (params.yaml, mlflow.db, mlruns/ and `extra` folders) from
    `template` into `project`, so each test mutates its own copy of a registry built once.

    MLflow stores absolute artifact locations in the database: they are rewritten to the copy.
    """
    import sqlite3

    shutil.copy(template / "params.yaml", project / "params.yaml")
    for folder in ("mlruns", *extra):
        shutil.copytree(template / folder, project / folder)
    shutil.copy(template / "mlflow.db", project / "mlflow.db")
    with sqlite3.connect(project / "mlflow.db") as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
            for column in db.execute(f'PRAGMA table_info("{table}")').fetchall():
                if "CHAR" in column[2].upper() or "TEXT" in column[2].upper():
                    db.execute(
                        f'UPDATE "{table}" SET "{column[1]}" = replace("{column[1]}", ?, ?)'
                        f' WHERE instr("{column[1]}", ?) > 0',
                        (str(template), str(project), str(template)),
                    )
    return project


def client_for(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment_id(client, name: str = EXPERIMENT) -> str:
    found = client.get_experiment_by_name(name)
    if found:
        return found.experiment_id
    uri = client.tracking_uri
    # A sqlite registry's runs keep their artifacts beside it, never in the working folder.
    location = (
        (Path(uri[len("sqlite:///") :]).parent / "artifacts").as_uri()
        if uri.startswith("sqlite:///")
        else None
    )
    return client.create_experiment(name, artifact_location=location)


def tiny_model() -> Path:
    """An MLflow model folder: a DummyClassifier (skops, no pickle) fitted on the project's data."""
    if not _MODEL:
        import mlflow.sklearn
        import pandas as pd
        from sklearn.dummy import DummyClassifier

        frame = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "obesity.csv")
        X, y = frame.drop(columns=["NObeyesdad"]), frame["NObeyesdad"]
        folder = Path(tempfile.mkdtemp(prefix="mlgate-tiny-model-"))
        atexit.register(shutil.rmtree, folder, True)
        mlflow.sklearn.save_model(
            DummyClassifier(strategy="most_frequent").fit(X, y),
            folder / "model",
            serialization_format="skops",
            pip_requirements=["scikit-learn"],
        )
        _MODEL.append(folder / "model")
    return _MODEL[0]


def populate(uri: str, model: str, specs: list[Spec], description: str = "") -> list[str]:
    """Register one version of `model` per spec (created if missing); returns the version
    numbers."""
    from mlflow.entities import Metric, Param
    from mlflow.exceptions import MlflowException

    client = client_for(uri)
    try:
        client.create_registered_model(model, description=description or None)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    exp = experiment_id(client)
    versions = []
    for spec in specs:
        run = client.create_run(exp)
        run_id = run.info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric(k, float(v), 0, 0) for k, v in spec.metrics.items()],
            params=[Param(k, str(v)) for k, v in spec.params.items()],
        )
        client.log_artifacts(run_id, str(tiny_model()), "model")
        client.set_terminated(run_id)
        mv = client.create_model_version(
            model,
            source=f"runs:/{run_id}/model",
            run_id=run_id,
            tags=spec.tags or None,
            await_creation_for=0,  # sqlite and the REST store create versions READY
        )
        version = str(mv.version)
        versions.append(version)
        if spec.stage and spec.stage != "None":
            client.transition_model_version_stage(model, version, spec.stage)
        for alias in spec.aliases:
            client.set_registered_model_alias(model, alias, version)
    return versions


def stages(uri: str, model: str) -> dict[str, str]:
    """version -> stage, read straight from MLflow (to check what a command changed)."""
    client = client_for(uri)
    return {
        str(v.version): v.current_stage for v in client.search_model_versions(f"name = '{model}'")
    }


def aliases(uri: str, model: str) -> dict[str, str]:
    return {a: str(v) for a, v in client_for(uri).get_registered_model(model).aliases.items()}
