"""pr.yml's `gate` job in act without a registry secret (a fork PR, a fresh copy of the template):
the job trains the base commit's model as champion in a job-local sqlite registry, then trains
and gates the head. Artifact storage is the stand-in (tests/workflows/stand_ins)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FAST_MODEL
from tests.workflows.engine import Act
from tests.workflows.events import Project

DEGRADED = {"n_estimators": 3, "max_depth": 3, "random_state": 42}


@pytest.mark.slow
def test_failing_gate_fails_the_check_with_exit_1_and_still_uploads_the_report(
    tmp_path: Path, actions: Act
):
    project = Project(tmp_path / "gh", FAST_MODEL)
    project.branch("shrink", "Shrink the forest", model={"params": DEGRADED})
    event = project.pull_request("opened", 8, head="shrink")
    head = event.payload["pull_request"]["head"]["sha"]

    result = actions.run_workflow(event, "pr.yml", "gate")

    assert result.returncode != 0 and result.job_result == "failure", result.tail()
    assert result.outputs["changes"] == {"training": "true"}
    assert result.outputs["registry"] == {"kind": "embedded"}
    assert result.steps["Train the base commit's model as champion (embedded registry)"] == (
        "success"
    )
    assert result.outputs["gate"]["exit_code"] == "1"
    assert result.steps["Upload the report"] == "success"
    assert result.steps["Fail the check when the gate failed"] == "failure"
    assert "exit status 1" in result.log
    assert "failed the gate" in result.summary

    report = actions.artifact(result.run_id, "mlgate-gate")
    assert sorted(p.name for p in report.iterdir()) == [
        "gate.json",
        "gate.md",
        "head_sha",
        "pr_number",
    ]
    assert (report / "pr_number").read_text() == "8\n"
    assert (report / "head_sha").read_text() == f"{head}\n"
    assert (report / "gate.md").read_text().startswith("<!-- mlgate:gate-report -->")
    verdict = json.loads((report / "gate.json").read_text())
    assert verdict["passed"] is False, verdict


@pytest.mark.slow
def test_pr_that_changes_no_training_input_passes_without_installing_or_training(
    tmp_path: Path, actions: Act
):
    project = Project(tmp_path / "gh", FAST_MODEL)
    project.pull_main()
    project.git("checkout", "-q", "-b", "docs")
    (project.dev / "README.md").write_text("# obesity classifier\n\nMore words.\n")
    project.commit("Docs")
    project.git("push", "-q", "origin", "docs")
    result = actions.run_workflow(project.pull_request("opened", 3, head="docs"), "pr.yml", "gate")

    assert result.ok, result.tail()
    assert result.outputs["changes"] == {"training": "false"}
    assert "nothing to gate" in result.summary
    assert result.steps["Install mlgate"] == result.steps["Upload the report"] == "skipped"
    assert not actions.artifact(result.run_id, "mlgate-gate").exists()
