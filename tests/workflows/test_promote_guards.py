"""promote.yml's guards in act: a repository without a registry, and a manual run off main.

No registry server is needed: both stop before mlgate talks to one. The GitHub API and git
hosting are the stand-ins of tests/workflows/github_api.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FAST_MODEL
from tests.workflows.engine import Act, run_step_script
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
    assert run.steps["Hand the card over"] == "skipped"
    assert project.rev("refs/heads/main") == tip


@pytest.mark.slow
def test_a_manual_run_off_main_is_refused(actions: Act, tmp_path: Path):
    project = Project(tmp_path / "gh", FAST_MODEL)
    event = project.dispatch({"action": "rollback", "version": "", "reason": "x"})
    event.payload["ref"] = "refs/heads/feature"
    run = actions.run_workflow(event, "promote.yml", "promote", secrets={})
    assert run.job_result == "failure"
    assert run.steps["Refuse a run off main"] == "failure" and "exit status 2" in run.log
    assert run.steps["Check out"] == "skipped"
    # act can lose a failing step's last output (engine.run_step_script); when it kept the
    # annotation, it is this one. test_a_refusing_step_prints_its_annotation checks the script.
    refused = ("error", "promote runs on refs/heads/main only, not on refs/heads/feature.")
    assert run.annotations in ([], [refused])


@pytest.mark.parametrize(
    ("step", "env", "annotation"),
    [
        (
            "Refuse a run off main",
            {"REF": "refs/heads/feature"},
            "::error::promote runs on refs/heads/main only, not on refs/heads/feature.",
        ),
        (
            "Promote a version by hand",
            {"VERSION": "", "REASON": "oops"},
            "::error::Promote needs a version number, got ''.",
        ),
        (
            "Promote a version by hand",
            {"VERSION": "2; rm -rf /", "REASON": "oops"},
            "::error::Promote needs a version number, got '2; rm -rf /'.",
        ),
        (
            "Roll back by hand",
            {"VERSION": "v2", "REASON": "latency"},
            "::error::The version must be a number, got 'v2'.",
        ),
    ],
    ids=["off-main", "promote-no-version", "promote-not-a-number", "rollback-not-a-number"],
)
def test_a_refusing_step_prints_its_annotation_and_exits_2(
    tmp_path: Path, step: str, env: dict[str, str], annotation: str
):
    """The refusals stop before mlgate runs: the annotation is all the step prints."""
    done = run_step_script("promote.yml", "promote", step, env, tmp_path)
    assert (done.returncode, done.stdout.splitlines()) == (2, [annotation]), done.stderr
