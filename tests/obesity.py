"""The obesity example as tests use it: its schema from params.yaml, and the generator script."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@cache
def generator():
    """scripts/generate_obesity.py as a module (`generate`, `CLASSES`, `COLUMNS`, `TARGET`)."""
    spec = importlib.util.spec_from_file_location(
        "generate_obesity", REPO / "scripts" / "generate_obesity.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def params():
    from mlgate.config import load_params

    return load_params(REPO / "params.yaml")


def schema():
    return params().data.schema


def pipeline_for(params, X):
    """The pipeline `train` builds, for the columns of `X` only (a variant with another input
    schema: a column dropped or renamed)."""
    import dataclasses

    from mlgate import estimators

    declared = params.data.schema
    kept = tuple(c for c in declared.columns if c.name in X.columns or c.name == declared.target)
    renamed = [c for c in X.columns if c not in declared.names]
    kept += tuple(dataclasses.replace(declared.column("Age"), name=name) for name in renamed)
    variant = dataclasses.replace(declared, columns=kept, slice_by=None)
    model = estimators.build(params.model.estimator, params.model.params, declared.task)
    return estimators.build_pipeline(variant, model, params.model.numeric)
