"""The release path in act, with a registry server: a real `mlflow server` on 127.0.0.1 is the
MLFLOW_TRACKING_URI secret, a bare repository is `origin`.

main's first release, a PR gated against the champion (its `pr-N` alias, its comment), the merge
(promoted, the PR's alias removed when it closes), the revert (restored), a docs-only push
(nothing), two merges that reach main before the first run commits its card, and the manual
promote and rollback. Each stage runs once per module and builds on the ones it calls.

The `production` environment's required reviewers cannot be simulated here: act runs the
`promote` job as if it had been approved. Artifacts and the GitHub API are the stand-ins of
tests/workflows/engine.py and github_api.py.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from tests.conftest import FAST_MODEL, MlflowServer
from tests.helpers import aliases, client_for, stages
from tests.workflows.engine import Act, RunResult
from tests.workflows.events import NULL_SHA, Project

MODEL = "obesity_classifier"
CARD = f"model_cards/{MODEL}.md"
BOT = "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"


def _stage(method):
    """A stage runs once per module; a stage that failed fails the tests that need it."""

    @functools.wraps(method)
    def run_once(self):
        name = method.__name__
        if name not in self.done:
            try:
                self.done[name] = (True, method(self))
            except BaseException as error:
                self.done[name] = (False, error)
                raise
        ok, value = self.done[name]
        if not ok:
            pytest.fail(f"the {name!r} stage failed earlier: {str(value).splitlines()[:1]}")
        return value

    return run_once


class Lifecycle:
    def __init__(self, root: Path, actions: Act, server: MlflowServer) -> None:
        self.actions = actions
        self.uri = server.uri
        self.project = Project(root / "gh", FAST_MODEL)
        self.done: dict[str, tuple[bool, object]] = {}

    @property
    def secrets(self) -> dict[str, str]:
        return {"MLFLOW_TRACKING_URI": self.uri}

    def promote(self, event) -> RunResult:
        """promote.yml's `card` job, after the `promote` job it needs (one act run, as GitHub
        runs them: the card goes from one to the other through the artifact stand-in)."""
        run = self.actions.run_workflow(event, "promote.yml", "card", secrets=self.secrets)
        assert run.ok, run.tail(80)
        return run

    def main_log(self, count: int) -> list[tuple[str, str]]:
        """(subject, author) of origin's last `count` commits on main, newest first."""
        self.project.git("fetch", "-q", "origin")
        out = self.project.git("log", "-n", str(count), "--format=%s|%an <%ae>", "origin/main")
        return [tuple(line.split("|")) for line in out.splitlines()]

    def card_on_main(self) -> dict:
        self.project.git("fetch", "-q", "origin")
        card = self.project.git("show", f"origin/main:{CARD}")
        return yaml.safe_load(card.split("---", 2)[1])

    @_stage
    def first_release(self) -> SimpleNamespace:
        initial = self.project.rev("refs/heads/main")
        return SimpleNamespace(sha=initial, run=self.promote(self.project.push(NULL_SHA)))

    @_stage
    def gated_pr(self) -> SimpleNamespace:
        self.first_release()
        self.project.branch(
            "more-trees", "Tune the forest", model={"params": {**FAST_MODEL, "n_estimators": 60}}
        )
        event = self.project.pull_request("opened", 7, head="more-trees")
        gate = self.actions.run_workflow(event, "pr.yml", "gate", secrets=self.secrets)
        gated_aliases = aliases(self.uri, MODEL)
        # GitHub runs pr-comment.yml when the `pr` run completes.
        self.actions.api.reset()
        head = event.payload["pull_request"]["head"]["sha"]
        self.actions.api.pulls[7] = head
        # The job's check run, as GitHub records it on the head commit.
        self.actions.api.check_run(head, "gate", "success" if gate.ok else "failure")
        done = self.project.workflow_run(event, gate.run_id, "success" if gate.ok else "failure")
        comment = self.actions.run_workflow(done, "pr-comment.yml", "comment")
        comments = [c.body for c in self.actions.api.comments_on(7)]
        return SimpleNamespace(
            event=event, gate=gate, aliases=gated_aliases, comment=comment, comments=comments
        )

    @_stage
    def merged(self) -> SimpleNamespace:
        pr = self.gated_pr()
        before, merge = self.project.merge("more-trees", 7)
        # GitHub sends `closed` and the push together; the cleanup job runs the base's mlgate.
        closed = self.project.pull_request("closed", 7)
        cleanup = self.actions.run_workflow(closed, "pr.yml", "cleanup", secrets=self.secrets)
        after_cleanup = aliases(self.uri, MODEL)
        run = self.promote(self.project.push(before, merge))
        return SimpleNamespace(
            pr=pr, merge=merge, cleanup=cleanup, after_cleanup=after_cleanup, run=run
        )

    @_stage
    def reverted(self) -> SimpleNamespace:
        merge = self.merged().merge
        before = self.project.pull_main()
        self.project.git("revert", "--no-edit", "-m", "1", merge)
        revert = self.project.git("rev-parse", "HEAD")
        self.project.git("push", "-q", "origin", "main")
        return SimpleNamespace(revert=revert, run=self.promote(self.project.push(before, revert)))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """This module's own registry server: the workflows' model name is fixed."""
    server = MlflowServer(tmp_path_factory.mktemp("lifecycle-server"))
    try:
        server.start(timeout=300)  # a loaded CI machine can take minutes to import the server
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def life(tmp_path_factory: pytest.TempPathFactory, act_engine: Act, server) -> Lifecycle:
    return Lifecycle(tmp_path_factory.mktemp("lifecycle"), act_engine, server)


def history(uri: str) -> list[dict]:
    tags = client_for(uri).get_registered_model(MODEL).tags
    return [json.loads(tags[k]) for k in sorted(tags) if k.startswith("mlgate.history.")]


def versions(uri: str) -> list[str]:
    return sorted(stages(uri, MODEL), key=int)


def assert_card_commit(life: Lifecycle, version: str, run_sha: str, parent: str) -> None:
    """main's tip is the bot's card commit for `version`, on top of `parent`."""
    life.project.git("fetch", "-q", "origin")
    tip = life.project.git("log", "-1", "--format=%s%n%an <%ae>%n%P", "origin/main")
    subject, author, parents = tip.split("\n")
    assert subject == f"model card: {MODEL} v{version} (from {run_sha[:7]})"
    assert (author, parents) == (BOT, parent)
    assert life.project.git("diff", "--name-only", "origin/main~1", "origin/main") == CARD
    card = life.card_on_main()
    assert (card["version"], card["stage"]) == (version, "Production")


@pytest.mark.slow
@pytest.mark.server
def test_first_push_to_main_releases_v1_and_commits_its_card(life: Lifecycle):
    first = life.first_release()
    assert first.run.outputs["release"] == {
        "changed": "true",
        "champion_version": "1",
        "action": "promoted",
    }
    assert "**mlgate promoted**: v1 is champion" in first.run.summary
    assert aliases(life.uri, MODEL) == {"champion": "1"}
    assert stages(life.uri, MODEL) == {"1": "Production"}
    assert_card_commit(life, "1", first.sha, parent=first.sha)


@pytest.mark.slow
@pytest.mark.server
def test_pr_is_gated_against_the_champion_under_its_alias_and_gets_a_comment(life: Lifecycle):
    pr = life.gated_pr()
    assert pr.gate.ok, pr.gate.tail()
    assert pr.gate.outputs["gate"]["registry"] == "remote"
    assert "job-local" not in pr.gate.summary
    assert (pr.gate.outputs["gate"]["exit_code"], pr.gate.outputs["gate"]["verdict"]) == (
        "0",
        "pass",
    )
    assert pr.aliases == {"champion": "1", "challenger": "2", "pr-7": "2"}
    assert pr.comment.ok, pr.comment.tail()
    [body] = pr.comments
    # The verdict line is the head commit's `gate` check run; the job's report follows under it.
    head = pr.event.payload["pull_request"]["head"]["sha"]
    assert body.startswith(f"**mlgate on {head[:7]}: ✅ the `gate` check passed.**")
    assert "\n\n<!-- mlgate:gate-report -->\n" in body
    assert pr.gate.summary.splitlines()[0] in body


@pytest.mark.slow
@pytest.mark.server
def test_merge_promotes_the_candidate_closing_removes_its_alias_and_the_card_is_pushed(
    life: Lifecycle,
):
    merged = life.merged()
    assert merged.cleanup.ok, merged.cleanup.tail()
    assert "pr-7" not in merged.after_cleanup
    assert merged.run.outputs["release"] == {
        "changed": "true",
        "champion_version": "2",
        "action": "promoted",
    }
    assert versions(life.uri) == ["1", "2"]  # the PR's candidate, not retrained
    assert aliases(life.uri, MODEL)["champion"] == "2"
    assert history(life.uri)[-1]["commit"] == merged.merge
    assert_card_commit(life, "2", merged.merge, parent=merged.merge)


@pytest.mark.slow
@pytest.mark.server
def test_revert_restores_the_previous_champion_and_the_card_is_pushed(life: Lifecycle):
    reverted = life.reverted()
    assert reverted.run.outputs["release"] == {
        "changed": "true",
        "champion_version": "1",
        "action": "rolled_back",
    }
    assert versions(life.uri) == ["1", "2"]
    assert aliases(life.uri, MODEL)["champion"] == "1"
    assert_card_commit(life, "1", reverted.revert, parent=reverted.revert)


@pytest.mark.slow
@pytest.mark.server
def test_docs_only_push_changes_nothing(life: Lifecycle):
    life.reverted()
    moves = len(history(life.uri))
    before, after = life.project.push_file("docs/usage.md", "# Usage\n", "Docs: usage")
    run = life.promote(life.project.push(before, after))
    assert run.outputs["release"]["changed"] == "false"
    assert len(history(life.uri)) == moves and versions(life.uri) == ["1", "2"]
    assert life.project.rev("refs/heads/main") == after  # no card commit
    assert "already describes the champion" in run.log


@pytest.mark.slow
@pytest.mark.server
def test_two_merges_before_the_first_run_are_each_released_in_order(life: Lifecycle):
    """Both pushes reach main before the first run starts; the runs queue (one concurrency
    group) and each releases its own push: none is skipped as "not main's tip". Each card is
    committed on main's tip as it is then, the newer one last."""
    life.first_release()
    project = life.project
    moves = len(history(life.uri))
    params = {**FAST_MODEL, "n_estimators": 50}
    project.branch("fifty-trees", "50 trees", model={"params": params})
    project.branch("seed-7", "Another seed", model={"params": {**params, "random_state": 7}})
    first_before, first = project.merge("fifty-trees", 11)
    second_before, second = project.merge("seed-7", 12)
    run_1 = life.promote(project.push(first_before, first))
    v_first = run_1.outputs["release"]["champion_version"]
    assert run_1.outputs["release"]["action"] == "promoted"
    run_2 = life.promote(project.push(second_before, second))
    v_second = run_2.outputs["release"]["champion_version"]
    assert run_2.outputs["release"]["action"] == "promoted" and v_second != v_first
    assert aliases(life.uri, MODEL)["champion"] == v_second
    assert [m["commit"] for m in history(life.uri)[moves:]] == [first, second]
    assert life.main_log(3) == [
        (f"model card: {MODEL} v{v_second} (from {second[:7]})", BOT),
        (f"model card: {MODEL} v{v_first} (from {first[:7]})", BOT),
        ("Merge pull request #12", "Ada <ada@example.org>"),
    ]
    card = life.card_on_main()
    assert (card["version"], card["stage"]) == (v_second, "Production")


@pytest.mark.slow
@pytest.mark.server
def test_manual_promote_and_rollback(life: Lifecycle):
    """workflow_dispatch; the `production` environment's approval is not simulated (see top)."""
    life.reverted()
    champion = aliases(life.uri, MODEL)["champion"]
    event = life.project.dispatch({"action": "promote", "version": "2", "reason": "re-validated"})
    run = life.promote(event)
    assert run.steps["Release what main now says"] == "skipped"
    assert aliases(life.uri, MODEL)["champion"] == "2"
    move = history(life.uri)[-1]
    assert (move["kind"], move["to_version"], move["reason"]) == ("promote", "2", "re-validated")
    assert life.card_on_main()["version"] == "2"

    event = life.project.dispatch({"action": "rollback", "version": "", "reason": "latency"})
    run = life.promote(event)
    assert aliases(life.uri, MODEL)["champion"] == champion
    move = history(life.uri)[-1]
    assert (move["kind"], move["from_version"], move["to_version"]) == ("rollback", "2", champion)
    assert life.card_on_main()["version"] == champion

    # A promotion without a version stops before touching the registry or main.
    tip = life.project.rev("refs/heads/main")
    event = life.project.dispatch({"action": "promote", "version": "", "reason": "oops"})
    bad = life.actions.run_workflow(event, "promote.yml", "promote", secrets=life.secrets)
    assert bad.job_result == "failure", bad.tail()
    assert bad.steps["Promote a version by hand"] == "failure", (bad.steps, bad.tail())
    assert "exit status 2" in bad.log
    # act can lose a failing step's last output (engine.run_step_script): the annotation, when
    # act kept it, is this one; test_promote_guards checks that the step's script prints it.
    assert bad.annotations in ([], [("error", "Promote needs a version number, got ''.")])
    assert bad.steps["Hand the card over"] == "skipped"
    assert aliases(life.uri, MODEL)["champion"] == champion
    assert life.project.rev("refs/heads/main") == tip


# The origin's answer to the first push while installed: another push lands on main first (the
# racing commit), and this one is refused, as GitHub refuses a push that is no longer a
# fast-forward. The update runs outside the push's object quarantine, which forbids ref updates.
RACE_HOOK = """#!/bin/sh
[ -e "$GIT_DIR/raced" ] && exit 0
touch "$GIT_DIR/raced"
env -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY -u GIT_ALTERNATE_OBJECT_DIRECTORIES \\
  git update-ref refs/heads/main {race} {merge}
echo "main moved while this push was on its way" >&2
exit 1
"""


@pytest.mark.slow
@pytest.mark.server
def test_a_card_push_that_loses_a_race_is_rendered_again_on_the_new_tip(life: Lifecycle):
    """main moves between the card job's fetch and its push (a docs merge, which starts no
    release): the push is refused, and the job commits the card the `promote` job handed over
    on the new tip and pushes that; it never rebases the commit it made before."""
    life.first_release()
    project = life.project
    project.branch(
        "more-trees-45", "45 trees", model={"params": {**FAST_MODEL, "n_estimators": 45}}
    )
    before, merge = project.merge("more-trees-45", 14)
    project.git("checkout", "-q", "-b", "racing-docs", merge)
    (project.dev / "README.md").write_text("# obesity classifier\n\nDocs merged meanwhile.\n")
    race = project.commit("Docs merged while the release ran")
    project.git("push", "-q", "origin", "racing-docs")
    hook = project.origin / "hooks" / "pre-receive"
    hook.write_text(RACE_HOOK.format(race=race, merge=merge))
    hook.chmod(0o755)
    try:
        run = life.promote(project.push(before, merge))
    finally:
        hook.unlink()

    assert "Push rejected (attempt 1): main moved" in run.log, run.tail(80)
    assert f"main is at {race[:7]}: committing the card there." in run.log
    version = run.outputs["release"]["champion_version"]
    assert run.outputs["release"]["action"] == "promoted"
    assert_card_commit(life, version, merge, parent=race)
    assert "Docs merged meanwhile." in project.git("show", "origin/main:README.md")


@pytest.mark.slow
@pytest.mark.server
def test_a_docs_push_before_a_merges_run_does_not_lose_its_release(life: Lifecycle):
    """Merge A (params) and, before A's run starts, a docs-only push B (which starts no run:
    no training input changed). A's run releases A and commits its card on B."""
    life.first_release()
    project = life.project
    project.branch("trees-35", "35 trees", model={"params": {**FAST_MODEL, "n_estimators": 35}})
    before, merge = project.merge("trees-35", 15)
    _, docs = project.push_file("docs/faq.md", "# FAQ\n", "Docs: FAQ")
    run = life.promote(project.push(before, merge))
    version = run.outputs["release"]["champion_version"]
    assert run.outputs["release"]["action"] == "promoted", run.tail(80)
    assert aliases(life.uri, MODEL)["champion"] == version
    assert history(life.uri)[-1]["commit"] == merge
    assert_card_commit(life, version, merge, parent=docs)


@pytest.mark.slow
@pytest.mark.server
def test_a_push_of_two_commits_is_judged_by_the_released_commits_rules(life: Lifecycle):
    """One push (a rebase merge) of two commits: the first relaxes the gate (margin 0.5), the
    second ships a weaker model (macro-F1 about 0.24 lower). HEAD^1 is the first commit, under
    whose rules it would pass; the release judges with the last released commit's rules, and
    fails."""
    life.first_release()
    project = life.project
    champion = aliases(life.uri, MODEL)["champion"]
    before = project.pull_main()
    project.edit_params(
        gate={
            "margin": 0.5,
            "thresholds": {"accuracy": 0.1, "f1_macro": 0.1},
            "max_class_drop": 1.0,
        }
    )
    project.commit("Gate: margin 0.5")
    project.edit_params(model={"params": {"n_estimators": 5, "max_depth": 5, "random_state": 42}})
    weak = project.commit("Smaller model")
    project.git("push", "-q", "origin", "main")
    run = life.actions.run_workflow(
        project.push(before, weak), "promote.yml", "card", secrets=life.secrets
    )
    assert run.job_result == "failure", run.tail(80)
    assert run.steps["Release what main now says"] == "failure"
    assert "gate.margin 0.03 → 0.5" in run.log  # the push's change, flagged, not applied
    # (tests/e2e/test_release_safety.py shows that HEAD^1's rules, which promote.yml passed
    # before, let the same candidate through.)
    assert aliases(life.uri, MODEL)["champion"] == champion
    assert project.rev("refs/heads/main") == weak  # no card commit
