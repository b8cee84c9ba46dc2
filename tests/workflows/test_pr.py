"""pr.yml's `gate` job in act without a registry secret (a fork PR, a fresh copy of the template):
`mlgate pr` trains the base commit's model as champion in a job-local sqlite registry, then trains
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
    gate = result.outputs["gate"]
    assert (gate["gated"], gate["registry"], gate["exit_code"]) == ("true", "job-local", "1")
    assert (gate["head_sha"], gate["champion_version"]) == (head, "1")
    assert result.steps["Upload the report"] == "success"
    assert result.steps["Fail the check when the gate failed"] == "failure"
    assert "exit status 1" in result.log
    assert "failed the gate" in result.summary
    assert "job-local registry" in result.summary and "by this pull request's own code" in (
        result.summary
    )

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
def test_pr_that_changes_no_training_input_passes_and_reports_nothing_to_gate(
    tmp_path: Path, actions: Act
):
    project = Project(tmp_path / "gh", FAST_MODEL)
    project.pull_main()
    project.git("checkout", "-q", "-b", "docs")
    (project.dev / "README.md").write_text("# obesity classifier\n\nMore words.\n")
    project.commit("Docs")
    project.git("push", "-q", "origin", "docs")
    event = project.pull_request("opened", 3, head="docs")
    head = event.payload["pull_request"]["head"]["sha"]
    result = actions.run_workflow(event, "pr.yml", "gate")

    assert result.ok, result.tail()
    assert result.outputs["gate"]["gated"] == "false"
    assert f"nothing to gate at `{head[:7]}`" in result.summary
    assert result.steps["Upload the report"] == "success"
    # The report replaces an older verdict in the PR's sticky comment; there is no JSON verdict.
    report = actions.artifact(result.run_id, "mlgate-gate")
    assert sorted(p.name for p in report.iterdir()) == ["gate.md", "head_sha", "pr_number"]
    assert f"nothing to gate at `{head[:7]}`" in (report / "gate.md").read_text()
    assert (report / "head_sha").read_text() == f"{head}\n"


@pytest.mark.slow
def test_a_pr_that_relaxes_its_own_gate_is_judged_by_the_base_rules(tmp_path: Path, actions: Act):
    """params.yaml holds the gate's rules; the check uses the base's (the merge commit's first
    parent), and the report says what the PR changed and what its own rules would conclude."""
    project = Project(tmp_path / "gh", FAST_MODEL)
    project.branch(
        "relax",
        "Faster model; gate tuned to match",
        model={"params": {"n_estimators": 1, "max_depth": 2, "random_state": 42}},
        gate={
            "margin": 1.0,
            "thresholds": {"accuracy": 0.1, "f1_macro": 0.1},
            "max_class_drop": 1.0,
        },
    )
    result = actions.run_workflow(project.pull_request("opened", 9, head="relax"), "pr.yml", "gate")

    assert result.job_result == "failure", result.tail()
    assert result.outputs["gate"]["exit_code"] == "1"
    lines = (actions.artifact(result.run_id, "mlgate-gate") / "gate.md").read_text().splitlines()
    assert lines[1].startswith("## ❌ mlgate: challenger v2 failed the gate")
    assert lines[3] == "> [!WARNING]"
    assert "gate.margin 0.03 → 1" in lines[4] and "Binding verdict: fail" in lines[4]
    assert "under this change's own rules it would be: pass" in lines[4]
