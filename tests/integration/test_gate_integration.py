"""A pull request's gate from scratch, through the CLI, on a real sqlite registry: a champion,
then an equal challenger (passes) and a degraded one (fails, and the report says why).

The gate policy is the repository's params.yaml, except the latency budget: predict timings on a
shared CI machine are noise, and the budget has its own unit tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mlgate.cli import main
from mlgate.report import MARKER

from ..conftest import FAST_MODEL, set_model_params

pytestmark = pytest.mark.slow

MODEL = "obesity_classifier"


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def _aliases(root: Path) -> dict[str, str]:
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{root / 'mlflow.db'}"
    model = MlflowClient(tracking_uri=uri, registry_uri=uri).get_registered_model(MODEL)
    return {alias: str(version) for alias, version in model.aliases.items()}


def test_gate_passes_an_equal_challenger_and_fails_a_degraded_one(fast_project: Path) -> None:
    params = fast_project / "params.yaml"
    raw = yaml.safe_load(params.read_text())
    raw["gate"]["max_latency_ratio"] = 1000.0
    params.write_text(yaml.safe_dump(raw, sort_keys=False))

    assert _run("train").exit_code == 0
    assert _run("promote", MODEL, "1", "Production", "--reason", "first").exit_code == 0

    # Same config, another random_state: a truly equal model.
    set_model_params(fast_project, **{**FAST_MODEL, "random_state": 7})
    assert _run("train").output.startswith(f"Registered {MODEL} v2 ")
    equal = _run("gate", "--pr-number", "12", "--report", "gate.md")
    assert equal.exit_code == 0, equal.output
    assert equal.stdout.startswith("mlgate gate: PASS\n")
    report = (fast_project / "gate.md").read_text()
    assert report.startswith(f"{MARKER}\n## ✅ mlgate: challenger v2 passed the gate\n")
    assert "**Failed checks**" not in report
    assert _aliases(fast_project) == {"champion": "1", "challenger": "2", "pr-12": "2"}

    # Crippled hyper-parameters: a real loss of macro-F1.
    set_model_params(fast_project, n_estimators=3, max_depth=3, random_state=42)
    assert _run("train").output.startswith(f"Registered {MODEL} v3 ")
    degraded = _run("gate", "--pr-number", "13", "--report", "gate.md")
    assert degraded.exit_code == 1, degraded.output
    assert degraded.stdout.startswith("mlgate gate: FAIL\n")
    assert "FAIL non_inferiority.f1_macro" in degraded.stdout
    report = (fast_project / "gate.md").read_text()
    assert report.startswith(f"{MARKER}\n## ❌ mlgate: challenger v3 failed the gate\n")
    failed = report.split("**Failed checks**\n\n")[1].split("\n\n")[0].splitlines()
    ni = next(line for line in failed if "`non_inferiority.f1_macro`" in line)
    # Both ends of the interval below the margin and below zero: a clear loss, not inconclusive.
    assert re.search(r"L -0\.\d+ < -0\.03 and U -0\.\d+ < 0: worse$", ni), ni
    assert _aliases(fast_project) == {"champion": "1", "challenger": "2", "pr-12": "2"}
