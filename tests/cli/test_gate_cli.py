"""`mlgate gate` through the CLI on a real sqlite registry: every verdict and exit code, what it
records in the registry (aliases, tags) and what it writes (report, JSON, GitHub outputs).

The registry is built once per module (five real versions) and copied into each test's project,
so tests can move aliases and break artifacts without seeing each other's changes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mlgate.cli import main
from mlgate.report import MARKER

from ..conftest import FAST_MODEL, REPO, copy_project_inputs, free_port, set_model_params
from ..helpers import copy_project_registry

pytestmark = pytest.mark.slow

MODEL = "obesity_classifier"
EQUAL = {**FAST_MODEL, "random_state": 7}  # same config, another seed: truly equal
DEGRADED = {"n_estimators": 3, "max_depth": 3, "random_state": 42}
# Registry built by `template`: version -> what it is.
CHAMPION, EQUAL_V, DEGRADED_V, WITHOUT_FAVC, NEEDS_BMI = "1", "2", "3", "4", "5"
GITHUB_ENV = ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_EVENT_PATH")
SCHEMA_DOC = REPO / "docs" / "gate-json-schema.md"


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose registry holds v1 (FAST_MODEL, the champion to be), v2 (EQUAL), v3
    (DEGRADED), v4 (trained without the FAVC column) and v5 (needs an extra BMI column)."""
    root = tmp_path_factory.mktemp("gate-registry") / "project"
    root.mkdir()
    copy_project_inputs(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        for key in GITHUB_ENV:
            mp.delenv(key, raising=False)
        for model_params in (FAST_MODEL, EQUAL, DEGRADED):
            set_model_params(root, **model_params)
            result = CliRunner().invoke(main, ["train"], catch_exceptions=False)
            assert result.exit_code == 0, result.output
        set_model_params(root, **FAST_MODEL)
        assert _register_variant(root, lambda X: X.drop(columns=["FAVC"])) == WITHOUT_FAVC
        assert _register_variant(root, lambda X: X.assign(BMI=X.Weight / X.Height**2)) == NEEDS_BMI
    # The tests' policy, written out so they do not depend on the repository's defaults; the
    # latency budget is opened wide because timings on a shared CI machine are noise (the
    # budget checks have their unit tests).
    _set_gate(root, mode="enabled", margin=0.03, allow_schema_change=False, max_latency_ratio=1000)
    set_model_params(root, **EQUAL)  # the working tree is v2's
    return root


def _register_variant(root: Path, reshape) -> str:
    """A version whose input schema differs, logged with the real `mlflow.sklearn.log_model`."""
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature

    from mlgate import data
    from mlgate.config import load_params
    from mlgate.estimators import REVIEWED_TYPES
    from mlgate.rows import TRAINING_RECORD, training_record
    from mlgate.train import evaluate, pip_requirements

    from ..obesity import pipeline_for

    SKOPS_TRUSTED_TYPES = list(REVIEWED_TYPES)
    params = load_params(root / "params.yaml")
    holdout = data.holdout(params.data, root / params.data.path)
    split = holdout.split
    X_train, X_test = reshape(split.X_train), reshape(split.X_test)
    pipeline = pipeline_for(params, X_train).fit(X_train, split.y_train)
    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
    mlflow.set_experiment(params.mlflow.experiment_name)
    with mlflow.start_run():
        mlflow.log_metrics(evaluate(split.y_test, pipeline.predict(X_test), holdout.classes))
        # What `mlgate train` records: the training rows (on this version's own columns).
        mlflow.log_dict(training_record(X_train, params.training_inputs()), TRAINING_RECORD)
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=infer_signature(X_test.head(5), pipeline.predict(X_test.head(5))),
            serialization_format="skops",
            skops_trusted_types=SKOPS_TRUSTED_TYPES,
            pip_requirements=pip_requirements(),
            registered_model_name=MODEL,
        )
    return str(info.registered_model_version)


@pytest.fixture
def gated(project: Path, template: Path) -> Path:
    """`project` (the working directory, env cleared) holding a private copy of the registry."""
    return copy_project_registry(template, project)


# --- helpers ---------------------------------------------------------------------------------


def _gate(*args: str):
    return CliRunner().invoke(main, ["gate", *args])


def _client():
    from mlflow.tracking import MlflowClient

    # Explicit: mlflow.set_tracking_uri (called by the CLI) would beat the environment.
    uri = os.environ["MLFLOW_TRACKING_URI"]
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _set_champion(version: str) -> None:
    _client().set_registered_model_alias(MODEL, "champion", version)


def _aliases() -> dict[str, str]:
    return {a: str(v) for a, v in _client().get_registered_model(MODEL).aliases.items()}


def _gate_tags(version: str) -> dict[str, str]:
    tags = _client().get_model_version(MODEL, version).tags
    return {k: v for k, v in tags.items() if k.startswith("mlgate.gate.")}


def _set_gate(root: Path, **gate: object) -> None:
    path = root / "params.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["gate"].update(gate)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


def _outputs(path: Path) -> dict[str, str]:
    """Parse GITHUB_OUTPUT's `key<<DELIMITER` blocks."""
    found = re.findall(r"^(\w+)<<(\S+)\n(.*?)\n\2$", path.read_text(), re.M | re.S)
    return {key: value for key, _, value in found}


# --- verdicts ---------------------------------------------------------------------------------


def test_equal_challenger_passes_and_is_recorded(gated: Path) -> None:
    _set_champion(CHAMPION)
    train = CliRunner().invoke(main, ["train"])  # the working tree's version: reused, v2
    assert train.output.startswith(f"Reused {MODEL} v{EQUAL_V} "), train.output

    result = _gate("--pr-number", "7", "--report", "out/gate.md", "--json", "out/gate.json")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("mlgate gate: PASS\n")
    assert f"Challenger v{EQUAL_V} vs champion v{CHAMPION} on holdout" in result.stdout
    assert "PASS non_inferiority.f1_macro" in result.stdout
    assert result.stdout.endswith(f"aliases set on v{EQUAL_V}: @challenger, @pr-7\n")
    assert _aliases() == {"champion": CHAMPION, "challenger": EQUAL_V, "pr-7": EQUAL_V}
    verdict = json.loads((gated / "out" / "gate.json").read_text())
    assert _gate_tags(EQUAL_V) == {
        "mlgate.gate.verdict": "pass",
        "mlgate.gate.champion_version": CHAMPION,
        "mlgate.gate.holdout_sha256": verdict["holdout"]["sha256"],
    }
    report = (gated / "out" / "gate.md").read_text()
    assert report.startswith(f"{MARKER}\n## ✅ mlgate: challenger v{EQUAL_V} passed the gate\n")


def test_json_verdict_has_the_documented_keys(gated: Path) -> None:
    _set_champion(CHAMPION)
    result = _gate("--challenger", EQUAL_V, "--json", "gate.json")
    assert result.exit_code == 0, result.output
    document = json.loads((gated / "gate.json").read_text())
    assert list(document) == [
        "schema_version",
        "verdict",
        "passed",
        "mode",
        "task",
        "comparable",
        "note",
        "challenger",
        "champion",
        "holdout",
        "decision",
        "policy",
        "metrics",
        "per_class",
        "per_slice",
        "checks",
        "mcnemar",
        "links",
    ]
    assert document["schema_version"] == 1
    assert (document["verdict"], document["passed"], document["mode"]) == ("pass", True, "enabled")
    assert (document["task"], document["per_slice"]) == ("classification", None)
    assert document["challenger"]["version"] == EQUAL_V
    assert document["champion"]["version"] == CHAMPION
    assert re.fullmatch(r"[0-9a-f]{64}", document["holdout"]["sha256"])
    assert document["holdout"]["n_rows"] == sum(row["support"] for row in document["per_class"])
    assert document["holdout"]["n_clean"] == document["holdout"]["n_rows"]  # the same split
    assert document["decision"]["verdict"] == "pass"
    assert 0 < document["decision"]["detectable_drop"] < 0.05
    assert document["policy"]["margin"] == 0.03
    assert [c["name"] for c in document["checks"]] == [
        "threshold.accuracy",
        "threshold.f1_macro",
        "non_inferiority.f1_macro",
        "per_class_f1",
        "mcnemar",
        "signature",
        "budget.size",
        "budget.latency",
    ]
    doc = SCHEMA_DOC.read_text(encoding="utf-8")
    nested = [document["policy"], document["metrics"][0], document["per_class"][0]]
    nested += [document["checks"][0], document["mcnemar"], document["holdout"]]
    nested += [document["decision"], document["decision"]["holdout"], document["decision"]["oc"][0]]
    undocumented = {k for part in [document, *nested] for k in part if f"`{k}`" not in doc}
    assert not undocumented


def test_degraded_challenger_fails_with_exit_1_naming_the_check(gated: Path) -> None:
    _set_champion(CHAMPION)
    result = _gate("--challenger", DEGRADED_V, "--pr-number", "7", "--report", "gate.md")

    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("mlgate gate: FAIL\n")
    assert "FAIL non_inferiority.f1_macro" in result.stdout
    assert "< -0.03 and U" in result.stdout and ": worse" in result.stdout
    assert "aliases set" not in result.stdout
    report = (gated / "gate.md").read_text()
    assert f"## ❌ mlgate: challenger v{DEGRADED_V} failed the gate" in report
    failed = report.split("**Failed checks**")[1].split("\n\n")[1]
    assert "- ✗ `non_inferiority.f1_macro`: holdout: delta f1_macro -" in failed
    # Nothing that promotes: no candidate aliases, the verdict recorded as a fail.
    assert _aliases() == {"champion": CHAMPION}
    assert _gate_tags(DEGRADED_V)["mlgate.gate.verdict"] == "fail"


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"pull_request": {"number": 7}}, id="pull_request"),
        pytest.param(
            {"merge_group": {"head_ref": "refs/heads/gh-readonly-queue/main/pr-7-" + "ab12" * 10}},
            id="merge_queue",
        ),
    ],
)
def test_first_model_passes_without_a_champion(gated: Path, monkeypatch, payload) -> None:
    # The PR number comes from the GitHub event this time: a PR's, or the merge queue's branch.
    event = gated / "event.json"
    event.write_text(json.dumps(payload))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))

    result = _gate("--challenger", EQUAL_V)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("mlgate gate: PASS (no champion)\n")
    assert "note: no champion: only the absolute thresholds apply" in result.stdout
    assert _aliases() == {"challenger": EQUAL_V, "pr-7": EQUAL_V}
    tags = _gate_tags(EQUAL_V)
    assert tags["mlgate.gate.verdict"] == "pass (no champion)"
    assert "mlgate.gate.champion_version" not in tags


def test_dry_run_reports_the_failure_but_exits_0_without_aliases(gated: Path) -> None:
    _set_champion(CHAMPION)
    _set_gate(gated, mode="dry_run")
    result = _gate("--challenger", DEGRADED_V, "--pr-number", "7", "--report", "gate.md")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("mlgate gate: FAIL (dry run: does not block)\n")
    assert "FAIL non_inferiority.f1_macro" in result.stdout
    assert "**Dry run** (`gate.mode: dry_run`)" in (gated / "gate.md").read_text()
    assert _aliases() == {"champion": CHAMPION}
    assert _gate_tags(DEGRADED_V)["mlgate.gate.verdict"] == "fail (dry run)"


def test_disabled_gate_checks_nothing_and_exits_0(gated: Path) -> None:
    _set_champion(CHAMPION)
    _set_gate(gated, mode="disabled")
    result = _gate("--challenger", DEGRADED_V)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("mlgate gate: PASS (gate disabled, nothing checked)\n")
    assert "PASS gate.disabled" in result.stdout
    assert _aliases() == {"champion": CHAMPION}


# The champion v4 was trained without FAVC: it still scores (MLflow drops the extra column), so
# the models are compared and only the signature breaks. v5 needs a BMI column the data lacks:
# it cannot score, and the comparison falls back to logged metrics, marked not comparable.
SCHEMA_CASES = {
    "column-added": (WITHOUT_FAVC, "FAIL signature", "added 'FAVC'", True),
    "column-missing": (NEEDS_BMI, "FAIL non_inferiority.f1_macro", "note: schema change:", False),
}


@pytest.mark.parametrize("allow", [False, True], ids=["refused", "allowed"])
@pytest.mark.parametrize(
    ("champion", "failed", "evidence", "comparable"), SCHEMA_CASES.values(), ids=SCHEMA_CASES
)
def test_schema_change_fails_unless_allowed(
    gated: Path, champion: str, failed: str, evidence: str, comparable: bool, allow: bool
) -> None:
    _set_champion(champion)
    _set_gate(gated, allow_schema_change=allow)
    result = _gate("--challenger", EQUAL_V, "--json", "gate.json")

    assert evidence in result.stdout
    assert json.loads((gated / "gate.json").read_text())["comparable"] is comparable
    if allow:
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("mlgate gate: PASS\n")
        assert "accepted because gate.allow_schema_change is true" in result.stdout
    else:
        assert result.exit_code == 1, result.output
        assert failed in result.stdout
        assert "set gate.allow_schema_change: true to accept" in result.stdout


@pytest.mark.parametrize("allow", [False, True], ids=["refused", "allow-schema-change"])
def test_corrupted_champion_artifact_fails_closed(gated: Path, allow: bool) -> None:
    _set_champion(CHAMPION)
    _set_gate(gated, allow_schema_change=allow)
    location = Path(
        _client().get_model_version_download_uri(MODEL, CHAMPION).removeprefix("file://")
    )
    assert gated in location.parents  # this test's copy, not the shared registry
    (location / "model.skops").unlink()

    result = _gate("--challenger", EQUAL_V, "--pr-number", "7")

    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("mlgate gate: FAIL\n")
    assert f"note: champion cannot score: champion v{CHAMPION} could not score" in result.stdout
    assert "no recorded schema change explains it; the gate fails closed" in result.stdout
    assert _aliases() == {"champion": CHAMPION}


# --- GitHub Actions ---------------------------------------------------------------------------


def test_github_outputs_and_step_summary(gated: Path, monkeypatch) -> None:
    _set_champion(CHAMPION)
    outputs, summary = gated / "github_output", gated / "step_summary.md"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    result = _gate("--challenger", DEGRADED_V, "--report", "gate.md")

    assert result.exit_code == 1, result.output
    assert _outputs(outputs) == {
        "verdict": "fail",
        "passed": "false",
        "challenger_version": DEGRADED_V,
        "champion_version": CHAMPION,
    }
    # The step summary is the PR comment without its sticky marker.
    assert f"{MARKER}\n{summary.read_text()}" == (gated / "gate.md").read_text()


# --- usage and infrastructure errors ---------------------------------------------------------


def _untrained_tree(root: Path) -> None:
    set_model_params(root, **{**EQUAL, "n_estimators": 31})


BAD_USAGE = {
    "no-version-for-the-tree": (
        (),
        _untrained_tree,
        f"no version of {MODEL} was trained from the working tree's inputs (fingerprint ",
        "run 'mlgate train' first or pass --challenger",
    ),
    "unknown-champion": (
        ("--challenger", EQUAL_V, "--champion", "99"),
        None,
        f"{MODEL} has no version 99",
        f"see 'mlgate versions {MODEL}'",
    ),
    "unknown-challenger-alias": (
        ("--challenger", "@nope"),
        None,
        f"{MODEL} has no alias @nope (aliases: @champion)",
        "",
    ),
}


@pytest.mark.parametrize(("args", "setup", "message", "fix"), BAD_USAGE.values(), ids=BAD_USAGE)
def test_usage_errors_exit_2_with_one_line(gated: Path, args, setup, message, fix) -> None:
    _set_champion(CHAMPION)
    if setup:
        setup(gated)
    result = _gate(*args)
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"mlgate: error: {message}")
    assert line.endswith(fix)
    assert _aliases() == {"champion": CHAMPION}


def test_unreachable_tracking_server_exits_3(project: Path, monkeypatch) -> None:
    uri = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    result = _gate()
    assert result.exit_code == 3
    assert result.stderr.strip() == (
        f"mlgate: error: tracking server {uri} is unreachable (ConnectionError);"
        " start it or fix --tracking-uri, MLFLOW_TRACKING_URI or params.yaml mlflow.tracking_uri"
    )


def test_scripts_gate_wrapper_runs_the_cli() -> None:
    script = REPO / "scripts" / "gate.py"
    result = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: python scripts/gate.py ")
    assert "Compare the challenger with the champion on the same holdout" in result.stdout
