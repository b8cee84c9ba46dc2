"""pr-comment.yml's `comment` job in act, on `workflow_run` events of finished `pr` runs.

The reports here are written straight into the artifact stand-in, as a `pr` run's upload would
have left them: the artifact is what PR code controls, so these tests play the PR author,
honest or not. The sticky comment action is the real one (its pinned dist/), talking to the
GitHub API stand-in on 127.0.0.1, which keeps the comments and records the requests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FAST_MODEL
from tests.workflows.engine import Act
from tests.workflows.events import Event, Project

HEADER = "<!-- Sticky Pull Request Commentmlgate-gate -->"


@pytest.fixture
def pr(tmp_path: Path, actions: Act) -> tuple[Project, Event]:
    project = Project(tmp_path / "gh", FAST_MODEL)
    project.branch("more-trees", "More trees", model={"params": {**FAST_MODEL, "n_estimators": 40}})
    event = project.pull_request("opened", 7, head="more-trees")
    actions.api.pulls[7] = event.payload["pull_request"]["head"]["sha"]
    return project, event


def report(actions: Act, number: str, head_sha: str, body: str) -> int:
    """The artifact a `pr` run uploads, under a new run id; returns the id."""
    run_id = actions.new_run_id()
    folder = actions.artifact(run_id, "mlgate-gate")
    folder.mkdir(parents=True)
    (folder / "gate.md").write_text(f"<!-- mlgate:gate-report -->\n{body}\n")
    (folder / "pr_number").write_text(f"{number}\n")
    (folder / "head_sha").write_text(f"{head_sha}\n")
    return run_id


def comment(actions: Act, project: Project, pr: Event, run_id: int, **kw: str):
    event = project.workflow_run(pr, run_id, "failure", **kw)
    return actions.run_workflow(event, "pr-comment.yml", "comment")


def writes(result) -> list[str]:
    return [
        f"{c.method} {c.path}"
        + (f" {c.body['query'].split('(')[0].split()[-1]}" if c.path == "/graphql" else "")
        for c in result.api_calls
        if c.method != "GET" and not (c.path == "/graphql" and "viewer" in c.body["query"])
    ]


@pytest.mark.slow
def test_one_sticky_comment_created_then_updated(actions: Act, pr):
    project, event = pr
    head = event.payload["pull_request"]["head"]["sha"]

    first = comment(actions, project, event, report(actions, "7", head, "## ❌ first report"))
    assert first.ok, first.tail()
    [posted] = actions.api.comments_on(7)
    assert "## ❌ first report" in posted.body and HEADER in posted.body
    assert writes(first) == ["POST /repos/acme/obesity/issues/7/comments"]
    # Every request carries the job's token (github.token), nothing else.
    assert {c.authorization.split()[-1] for c in first.api_calls} == {"ghs_test-token"}

    second = comment(actions, project, event, report(actions, "7", head, "## ✅ second report"))
    assert second.ok, second.tail()
    [updated] = actions.api.comments_on(7)
    assert updated.id == posted.id and "## ✅ second report" in updated.body
    assert "first report" not in updated.body
    assert writes(second) == ["POST /graphql mutation"]


@pytest.mark.slow
def test_forged_or_stale_reports_are_not_posted(actions: Act, pr):
    project, event = pr
    head = event.payload["pull_request"]["head"]["sha"]

    # A PR number that is not one: refused before any API call.
    forged = comment(actions, project, event, report(actions, "7 --jq .", head, "forged"))
    assert forged.returncode != 0 and forged.job_result == "failure"
    assert "pr_number in the artifact is not a pull request number" in forged.log
    assert forged.api_calls == []

    # A head SHA that is not the run's: refused.
    other = "1" * 40
    swapped = comment(actions, project, event, report(actions, "7", other, "swapped"))
    assert swapped.job_result == "failure"
    assert "head_sha in the artifact does not match the run's head commit" in swapped.log

    # Another PR's number (that PR is at another commit): the API says so, nothing is posted.
    actions.api.pulls[8] = "2" * 40
    elsewhere = comment(actions, project, event, report(actions, "8", head, "elsewhere"))
    assert elsewhere.ok, elsewhere.tail()
    assert elsewhere.outputs["report"]["post"] == "false"
    assert [c.path for c in elsewhere.api_calls] == ["/repos/acme/obesity/pulls/8"]

    # A number no pull request has: the API answers 404 and the job fails.
    missing = comment(actions, project, event, report(actions, "9", head, "nowhere"))
    assert missing.job_result == "failure"

    # A run without a report (nothing gated): nothing to post, not an error.
    silent = comment(actions, project, event, actions.new_run_id())
    assert silent.ok and silent.outputs["report"]["post"] == "false"

    assert actions.api.comments == []


@pytest.mark.slow
def test_the_verdict_line_is_the_check_result_not_the_artifact(actions: Act, pr):
    """The artifact is the PR code's: a "passed" headline over a failed `gate` check does not
    make the comment say passed. The first line is the head commit's `gate` check run, read
    from the API (the stand-in); the body follows."""
    project, event = pr
    head = event.payload["pull_request"]["head"]["sha"]
    actions.api.check_run(head, "gate", "failure")
    forged = report(actions, "7", head, "## ✅ mlgate: challenger v2 passed the gate")
    # The run's own conclusion in the event says success: not what the line is taken from.
    done = project.workflow_run(event, forged, "success")
    run = actions.run_workflow(done, "pr-comment.yml", "comment")
    assert run.ok, run.tail()
    [posted] = actions.api.comments_on(7)
    verdict = f"**mlgate on {head[:7]}: ❌ the `gate` check failed.**"
    assert verdict in posted.body
    assert posted.body.index(verdict) < posted.body.index("## ✅ mlgate: challenger v2 passed")
    read = f"/repos/acme/obesity/commits/{head}/check-runs?check_name=gate"
    assert any(c.path.startswith(read) for c in run.api_calls)


@pytest.mark.slow
def test_a_run_of_another_workflow_named_pr_gets_no_comment(actions: Act, pr):
    """A pull request can add a workflow named `pr` (workflow_run matches names) whose job
    passes and uploads a passing report: it is not pr.yml, so nothing is posted, and no
    "passed" line appears over the real, failed `gate` check."""
    project, event = pr
    head = event.payload["pull_request"]["head"]["sha"]
    actions.api.check_run(head, "gate", "failure")
    forged = report(actions, "7", head, "## ✅ mlgate: challenger v2 passed the gate")
    planted = project.workflow_run(event, forged, "success", path=".github/workflows/also-pr.yml")
    run = actions.run_workflow(planted, "pr-comment.yml", "comment")
    assert run.returncode == 0, run.tail()
    assert actions.api.comments == [] and run.api_calls == []
    assert not any("passed" in c.body for c in actions.api.comments_on(7))
