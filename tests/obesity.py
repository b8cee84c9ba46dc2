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
