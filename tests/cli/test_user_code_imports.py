"""Code in a checkout runs only where it is a reviewed training input, never by accident of
`sys.path`.

A project root holding files named like the libraries mlgate uses (`tabulate.py`, `yaml.py`,
`pandas.py`) and a package whose `__init__.py` is not the estimator's module: each writes a marker
when imported. Training with the project's own estimator class, gating it (which loads it back
through skops) and listing the history run the console script in that root, as a workflow does:
only the estimator's own module runs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from ..conftest import REPO

pytestmark = pytest.mark.slow

MLGATE = Path(sys.executable).with_name("mlgate")
SHADOWS = ("tabulate", "yaml", "pandas", "sklearn", "mlflow")


def _marker_module(marker: Path) -> str:
    return f"import pathlib\npathlib.Path({str(marker)!r}).write_text('imported')\n"


def test_only_the_estimators_own_module_runs(tmp_path: Path) -> None:
    root = tmp_path / "diabetes"
    shutil.copytree(REPO / "examples" / "diabetes", root)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    markers = tmp_path / "markers"
    markers.mkdir()
    for name in SHADOWS:
        (root / f"{name}.py").write_text(_marker_module(markers / name))
    package = root / "models"
    package.mkdir()
    (package / "__init__.py").write_text(_marker_module(markers / "models-package"))
    (package / "ridge.py").write_text(
        _marker_module(markers / "estimator-module")
        + textwrap.dedent(
            """
            from sklearn.linear_model import Ridge


            class ShrunkRidge(Ridge):
                def __init__(self, alpha=10.0):
                    super().__init__(alpha=alpha)
            """
        )
    )
    raw = yaml.safe_load((root / "params.yaml").read_text())
    own = "models.ridge.ShrunkRidge"
    raw["model"] = {**raw["model"], "estimator": own, "params": {}, "trusted_types": [own]}
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
    }

    def mlgate(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(MLGATE), *args], cwd=root, env=env, capture_output=True, text=True, timeout=600
        )

    trained = mlgate("train")
    assert sorted(p.name for p in markers.iterdir()) == ["estimator-module"]
    assert trained.returncode == 0, trained.stdout + trained.stderr
    gated = mlgate("gate")  # loads the model back: skops needs the class, from its file
    assert gated.returncode == 0, gated.stdout + gated.stderr
    assert "PASS (no champion)" in gated.stdout
    (markers / "estimator-module").unlink()
    history = mlgate("history", "diabetes_model")
    assert history.returncode == 0, history.stdout + history.stderr
    assert list(markers.iterdir()) == []  # history runs no project code at all
