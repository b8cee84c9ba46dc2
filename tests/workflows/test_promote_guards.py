"""promote.yml's guards in act: a repository without a registry, and a manual run off main.

No registry server is needed: both stop before mlgate talks to one. The GitHub API and git
hosting are the stand-ins of tests/workflows/engine.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FAST_MODEL
from tests.workflows.engine import Act
from tests.workflows.events import NULL_SHA, Project


@pytest.mark.slow
def test_without_a_registry_secret_promote_ends_green_with_a_notice(actions: Act, tmp_path: Path):
    project = Project(tmp_path / "gh", FAST_MODEL)
    tip = project.rev("refs/heads/main")
    run = actions.run_workflow(project.push(NULL_SHA), "promote.yml", "promote", secrets={})
    assert run.ok, run.tail(60)
    assert (
        "notice",
        "No MLFLOW_TRACKING_URI secret in the 'production' environment: nothing to promote"
        " (docs/github-setup.md, section 1).",
    ) in run.annotations
    assert run.steps["Release what main now says"] == "skipped"
    assert run.steps["Commit the model card"] == "skipped"
    assert project.rev("refs/heads/main") == tip


@pytest.mark.slow
def test_a_manual_run_off_main_is_refused(actions: Act, tmp_path: Path):
    project = Project(tmp_path / "gh", FAST_MODEL)
    event = project.dispatch({"action": "rollback", "version": "", "reason": "x"})
    event.payload["ref"] = "refs/heads/feature"
    run = actions.run_workflow(event, "promote.yml", "promote", secrets={})
    assert run.job_result == "failure"
    assert ("error", "promote runs on refs/heads/main only, not on refs/heads/feature.") in (
        run.annotations
    )
