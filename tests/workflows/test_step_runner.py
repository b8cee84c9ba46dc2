"""The workflows' steps, executed for real by the local runner (tests/workflows/runner.py).

A bare origin and a developer's clone hold the project (params.yaml, data/, the training code,
pyproject.toml). Each job runs in a fresh clone made by its checkout step, with the event payload
and files Actions provides and the `mlgate` of this venv; artifacts and PR comments are folders.
A sqlite registry is the MLFLOW_TRACKING_URI secret (the "remote registry" path), except in the
test of the no-secret path, where the PR job builds its own champion from the PR's base commit.

The runner's own rules come first (fast), then the comment workflow's validation and a PR that
changes no training input (fast: no training), then the lifecycle (slow): first push to main, a
PR that passes, one that fails, one whose training fails, cleanup, merge, revert, and manual
promote and rollback.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from tests.conftest import FAST_MODEL, REPO
from tests.e2e.gitrepo import Clone, clone_of, make_origin
from tests.helpers import aliases, client_for, init_sqlite, stages
from tests.workflows.runner import (
    ACTIONS,
    GH_SHIM,
    NULL_SHA,
    Defaulting,
    Event,
    ExpressionError,
    JobRun,
    LocalGitHub,
    RunnerError,
    Scope,
    Strict,
    condition,
    evaluate,
    expression_end,
    interpolate,
    load_workflow,
    parse_expression,
    parse_file_command,
    path_filter_matches,
    strict_tree,
    triggers,
)

MODEL = "obesity_classifier"
CARD = f"model_cards/{MODEL}.md"
MARKER = "<!-- mlgate:gate-report -->"
IMPROVED = {**FAST_MODEL, "n_estimators": 60}
DEGRADED = {"n_estimators": 3, "max_depth": 3, "random_state": 42}
BOT = "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"


# --- the runner's rules --------------------------------------------------------------------------


def _scope(job_failed: bool = False) -> Scope:
    event = {"action": "synchronize", "pull_request": {"number": 7, "head": {"sha": "abc"}}}
    github = {"event": strict_tree(event, "github.event"), "event_name": "push", "ref": "x"}
    contexts = {
        "github": Strict("github", github),
        "secrets": Defaulting("", {"SET": "sqlite:///r.db"}),
        "inputs": Strict("inputs", {"action": "rollback", "version": ""}),
        "steps": Strict("steps", {"gate": {"outputs": {"exit_code": "1"}}, "later": None}),
        "runner": Strict("runner", {"temp": "/tmp/rt"}),
        "env": {"MODEL_NAME": "m"},
    }
    return Scope(contexts, job_failed=job_failed)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("github.event.pull_request.number", 7),
        ("github.event.action != 'closed'", True),
        ("github.event_name == 'PUSH'", True),  # strings compare ignoring case
        ("secrets.SET != ''", True),
        ("secrets.UNSET != ''", False),  # an unset secret reads as ''
        ("secrets.UNSET || format('sqlite:///{0}/r.db', runner.temp)", "sqlite:////tmp/rt/r.db"),
        ("secrets.SET || 'fallback'", "sqlite:///r.db"),
        ("format('{{0}} {0}', 'x')", "{0} x"),
        ("steps.gate.outputs.exit_code != '' && steps.gate.outputs.exit_code != '0'", True),
        ("steps.gate.outputs.missing != ''", False),  # null and '' both coerce to 0
        ("steps.later.outputs.exit_code", None),  # a step that has not run yet
        ("!cancelled() && (inputs.action == 'rollback')", True),
        ("inputs.version == '' && 1 == 1.0 && true != false", True),
        ("'it''s'", "it's"),
        ("env.MODEL_NAME", "m"),
    ],
)
def test_expressions(expression, expected):
    assert evaluate(expression, _scope()) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("contains(github.event.action, 'sync')", "unsupported function contains()"),
        ("vars.MODEL", "unsupported context 'vars'"),
        ("github.event.labels[0]", "unsupported syntax at '[0]'"),
        ("1 < 2", "unsupported syntax at '< 2'"),
        ("github.run_url", "github has no 'run_url'"),
        ("github.event.pull_request.merged", "github.event.pull_request has no 'merged'"),
        ("steps.gates.outputs.exit_code", "steps has no 'gates'"),
        ("runner.arch", "runner has no 'arch'"),
        ("format('{1}', 'x')", "format() has no argument {1}"),
        ("success(1)", "success() called with 1 arguments"),
    ],
)
def test_unsupported_expressions_fail_naming_the_expression(expression, message):
    with pytest.raises(ExpressionError) as caught:
        evaluate(expression, _scope())
    assert message in str(caught.value) and expression in str(caught.value)


def test_if_means_success_and_unless_a_status_function_is_used():
    ok, failed = _scope(), _scope(job_failed=True)
    assert condition("github.event.action != 'closed'", ok) is True
    assert condition("github.event.action != 'closed'", failed) is False
    assert condition("${{ !cancelled() && github.event_name == 'push' }}", failed) is True
    assert condition("failure()", failed) and not condition("failure()", ok)
    assert condition(True, ok) and not condition(True, failed)
    with pytest.raises(ExpressionError, match="mixes text and expressions"):
        condition("x ${{ true }}", ok)


def test_interpolation():
    text = "sqlite:///${{ runner.temp }}/r.db (#${{ github.event.pull_request.number }})"
    assert interpolate(text, _scope()) == "sqlite:////tmp/rt/r.db (#7)"
    assert interpolate("${{ secrets.SET != '' }}", _scope()) == "true"
    with pytest.raises(ExpressionError, match="an object cannot be used as a string"):
        interpolate("${{ github.event }}", _scope())


def test_file_commands(tmp_path: Path):
    out = tmp_path / "out"
    out.write_text("a=1\nreport<<EOF_1\nline one\nx=y\nEOF_1\n\nb=has=equals\na=2\n")
    assert parse_file_command(out) == {"a": "2", "report": "line one\nx=y", "b": "has=equals"}
    out.write_text("report<<EOF\nno end\n")
    with pytest.raises(RunnerError, match="no closing 'EOF' for 'report'"):
        parse_file_command(out)
    out.write_text("just text\n")
    with pytest.raises(RunnerError, match="invalid line"):
        parse_file_command(out)


def test_promote_path_filter_ignores_model_cards_and_docs():
    paths = triggers(load_workflow("promote.yml"))["push"]["paths"]
    for changed in ("src/mlgate/train.py", "params.yaml", "data/obesity.csv", "pyproject.toml"):
        assert path_filter_matches(paths, [changed]), changed
    for changed in (CARD, "README.md", "docs/operations.md", ".github/workflows/pr.yml"):
        assert not path_filter_matches(paths, [changed]), changed


def _expressions(value: object, bare: bool) -> list[str]:
    """The expressions in a YAML value; an `if:` (`bare`) may leave out the `${{ }}`."""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    found, start = [], text.find("${{")
    while start >= 0:
        end = expression_end(text, start + 3)
        found.append(text[start + 3 : end])
        start = text.find("${{", end)
    return found or ([text] if bare else [])


@pytest.mark.parametrize("name", ["pr.yml", "pr-comment.yml", "promote.yml"])
def test_every_step_of_the_workflows_is_runnable_here(name: str):
    """Every action has a local equivalent taking its inputs, and every expression parses."""
    expressions = []
    for job in load_workflow(name)["jobs"].values():
        expressions += _expressions(job.get("if", "true"), bare=True)
        expressions += [e for v in (job.get("env") or {}).values() for e in _expressions(v, False)]
        for step in job["steps"]:
            if "uses" in step:
                action = step["uses"].split("@")[0]
                assert action in ACTIONS, step["uses"]
                assert set(step.get("with") or {}) <= ACTIONS[action].inputs, step
            expressions += _expressions(step.get("if", "true"), bare=True)
            values = [v for key in ("env", "with") for v in (step.get(key) or {}).values()]
            expressions += [e for v in values for e in _expressions(v, bare=False)]
    assert len(expressions) > 10
    for expression in expressions:
        parse_expression(expression)


def _bare_repo(tmp_path: Path, *branches: str) -> Path:
    """A bare origin whose main holds one commit, plus a branch (one more file) per name."""
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    seed = clone_of(origin, tmp_path / "seed", "unused")
    (seed.path / "README.md").write_text("seed\n")
    seed.commit_all("seed")
    seed.git("push", "-q", "origin", "HEAD:main")
    for branch in branches:
        seed.git("checkout", "-q", "-b", branch, "main")
        (seed.path / f"{branch}.md").write_text(f"{branch}\n")
        seed.commit_all(f"Add {branch}.md")
        seed.git("push", "-q", "origin", branch)
    return origin


def test_gh_shim_answers_only_the_known_call(tmp_path: Path):
    github = LocalGitHub(tmp_path / "gh", _bare_repo(tmp_path))

    def gh(*args: str, token: str = "t") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(GH_SHIM), str(github.gh_state), *args],
            env={"PATH": "/usr/bin:/bin", "GH_TOKEN": token},
            capture_output=True,
            text=True,
        )

    missing = gh("api", f"repos/{github.repository}/pulls/5", "--jq", ".head.sha")
    assert (missing.returncode, missing.stderr) == (1, "gh: Not Found (HTTP 404)\n")
    other = gh("pr", "comment", "5", "--body", "hi")
    assert other.returncode == 2 and "no answer for `gh pr comment 5 --body hi`" in other.stderr
    assert gh("api", "user", token="").returncode == 4  # a step without GH_TOKEN
    assert github.gh_calls[-1] == ["api", "user"]


MECHANICS = """\
name: mechanics
on: {push: {branches: [main]}}
permissions: {}
defaults: {run: {shell: bash}}
env: {LEVEL: workflow, KEEP: workflow}
jobs:
  job:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    permissions: {contents: read}
    env: {LEVEL: job}
    steps:
      - uses: actions/checkout@0000000000000000000000000000000000000000
        with: {persist-credentials: false}
      - id: first
        run: |
          echo "LEVEL=from-github-env" >> "$GITHUB_ENV"
          { echo "text<<EOT"; echo two; echo lines; echo EOT; echo plain=1; } >> "$GITHUB_OUTPUT"
          echo "## hello" >> "$GITHUB_STEP_SUMMARY"
          test "$CI" = true && test "$GITHUB_ACTIONS" = true && test -s "$GITHUB_EVENT_PATH"
      - id: env
        env: {STEP: "${{ steps.first.outputs.plain }}"}
        run: |
          echo "seen=$LEVEL $KEEP $STEP $GITHUB_SHA $GITHUB_REF_NAME" >> "$GITHUB_OUTPUT"
          test "$(git rev-parse HEAD)" = "$GITHUB_SHA" && test "$PWD" = "$GITHUB_WORKSPACE"
      - id: tolerated
        continue-on-error: true
        run: exit 3
      - id: pipefail
        run: false | true
      - id: skipped
        run: echo never
      - id: on-failure
        if: failure()
        run: echo "::error title=t::it failed"
      - id: always
        if: ${{ always() && steps.first.outputs.plain == 1 }}
        run: echo ran
"""


def test_runner_mechanics(tmp_path: Path):
    """GITHUB_ENV, heredoc outputs, env precedence, pipefail, continue-on-error, if: statuses."""
    workflow = tmp_path / "mechanics.yml"
    workflow.write_text(MECHANICS)
    github = LocalGitHub(tmp_path / "gh", _bare_repo(tmp_path))
    event = github.push(NULL_SHA)
    run = github.run(workflow, "job", event)
    assert run.status == "failure", run.log()
    assert {s.id: (s.outcome, s.conclusion, s.exit_code) for s in run.steps} == {
        "__step0": ("success", "success", 0),
        "first": ("success", "success", 0),
        "env": ("success", "success", 0),
        "tolerated": ("failure", "success", 3),
        "pipefail": ("failure", "failure", 1),
        "skipped": ("skipped", "skipped", None),
        "on-failure": ("success", "success", 0),
        "always": ("success", "success", 0),
    }, run.log()
    assert run.step("first").outputs == {"text": "two\nlines", "plain": "1"}
    assert run.step("env").outputs == {"seen": f"from-github-env workflow 1 {event.sha} main"}
    assert run.summary == "## hello\n"
    assert [(a.title, a.message) for a in run.annotations("error")] == [("t", "it failed")]


# --- the comment workflow's checks, and a PR without training inputs (no training) ---------------


def _forged_run(github: LocalGitHub, event: Event, files: dict[str, str] | None) -> JobRun:
    """A finished `pr` run whose artifact holds `files`: anything a PR's code could write."""
    run_id = 9000 + len(github.runs)
    github.runs[run_id] = JobRun(
        "pr.yml", "pr", "gate", run_id, event, "success", *[github.root] * 2
    )
    if files is not None:
        folder = github.root / "artifacts" / str(run_id) / "mlgate-gate"
        folder.mkdir(parents=True)
        for name, text in files.items():
            (folder / name).write_text(text)
    return github.runs[run_id]


def test_comment_job_posts_only_validated_reports(tmp_path: Path):
    """pr-comment.yml trusts nothing in the artifact: the PR number must be digits, the head
    SHA the run's, and the PR must still be at that commit (asked through the API)."""
    github = LocalGitHub(tmp_path / "gh", _bare_repo(tmp_path, "feature", "other"))
    five = github.pull_request("opened", 5, head="feature")
    github.pull_request("opened", 6, head="other")
    head = five.payload["pull_request"]["head"]["sha"]

    def comment(files: dict[str, str] | None) -> JobRun:
        event = github.workflow_run(_forged_run(github, five, files))
        return github.run("pr-comment.yml", "comment", event)

    report = {"gate.md": f"{MARKER}\n## report\n", "pr_number": "5\n", "head_sha": f"{head}\n"}
    bad_number = comment({**report, "pr_number": "5; curl evil.example\n"})
    assert bad_number.status == "failure"
    assert [a.message for a in bad_number.annotations("error")] == [
        "pr_number in the artifact is not a pull request number."
    ]
    bad_sha = comment({**report, "head_sha": "0" * 40 + "\n"})
    assert [a.message for a in bad_sha.annotations("error")] == [
        "head_sha in the artifact does not match the run's head commit."
    ]
    other_pr = comment({**report, "pr_number": "6\n"})  # a real PR, but not at this commit
    assert other_pr.status == "success" and other_pr.step("report").outputs == {"post": "false"}
    nothing = comment(None)  # a run that gated nothing uploads no artifact
    assert nothing.status == "success" and nothing.step("report").outputs == {"post": "false"}
    assert github.comments() == {}

    assert comment(report).status == "success"
    assert github.comments() == {"mlgate-gate-5.md": report["gate.md"]}
    assert comment({**report, "gate.md": MARKER + "\n" + "x" * 70_000}).status == "success"
    body = github.comments()["mlgate-gate-5.md"]
    assert len(body) < 60_100
    assert body.endswith("_Report truncated; the full report is in the run artifact._\n")
    assert [kind for _, kind in github.comment_events] == ["created", "updated"]


def _project(root: Path, *, registry_secret: bool) -> tuple[LocalGitHub, Clone, str]:
    """The origin, whose main holds the project; a developer's clone; the GitHub side, with a
    sqlite registry as the MLFLOW_TRACKING_URI secret or with no secret at all."""
    uri = f"sqlite:///{root / 'registry.db'}"
    origin, dev = make_origin(root, uri, FAST_MODEL)
    # `pip install .` and setup-python's pip cache key need it, as in the real repository.
    shutil.copy(REPO / "pyproject.toml", dev.path / "pyproject.toml")
    dev.commit_all("Packaging")
    dev.git("push", "-q", "origin", "main")
    secrets = {}
    if registry_secret:
        # A remote registry keeps artifacts in its own store, not in some job's workspace.
        experiment = yaml.safe_load((dev.path / "params.yaml").read_text())["mlflow"]
        init_sqlite(uri)
        client_for(uri).create_experiment(
            experiment["experiment_name"], (root / "registry-artifacts").as_uri()
        )
        secrets = {"MLFLOW_TRACKING_URI": uri}
    return LocalGitHub(root / "github", origin, secrets=secrets), dev, uri


def test_pr_that_changes_no_training_input_passes_without_training(tmp_path: Path):
    github, dev, _ = _project(tmp_path, registry_secret=False)
    dev.git("checkout", "-q", "-b", "docs")
    (dev.path / "README.md").write_text("# obesity classifier\n\nMore words.\n")
    dev.commit_all("Docs")
    dev.git("push", "-q", "origin", "docs")
    run = github.run("pr.yml", "gate", github.pull_request("opened", 4, head="docs"))
    assert run.status == "success", run.log()
    assert run.step("changes").outputs == {"training": "false"}
    assert {s.outcome for s in run.steps[2:]} == {"skipped"}
    assert run.summary == "No training input changed in this pull request: nothing to gate.\n"
    comment = github.run("pr-comment.yml", "comment", github.workflow_run(run))
    assert comment.step("report").outputs == {"post": "false"} and github.comments() == {}


# --- the lifecycle on a "remote" registry --------------------------------------------------------


def _history(uri: str) -> list[dict]:
    tags = client_for(uri).get_registered_model(MODEL).tags
    return [json.loads(tags[k]) for k in sorted(tags) if k.startswith("mlgate.history.")]


def _last_move(uri: str, *keys: str) -> tuple:
    move = _history(uri)[-1]
    return tuple(move[k] for k in keys)


def _versions(uri: str) -> list[str]:
    return sorted(stages(uri, MODEL), key=int)


def _assert_card_commit(github: LocalGitHub, version: str, run_sha: str, parent: str = "") -> None:
    """The workflow's last step committed the card on top of main (`parent`, by default the
    commit the run was for) and pushed it; that push changes no training input, so it does not
    start promote.yml again."""
    subject, author, parents = github.git("log", "-1", "--format=%s%n%an <%ae>%n%P", "main").split(
        "\n"
    )
    assert subject == f"model card: {MODEL} v{version} (from {run_sha[:7]})"
    assert (author, parents) == (BOT, parent or run_sha)
    assert github.git("diff", "--name-only", "main~1", "main") == CARD
    card = github.git("show", f"main:{CARD}")
    assert card.startswith(f"---\nmodel_name: {MODEL}\nversion: '{version}'\nstage: Production\n")
    assert not github.triggered("promote.yml", github.push(parent or run_sha))


def _stage(method):
    """A lifecycle stage runs once per module; a stage that failed fails the tests after it."""

    @functools.wraps(method)
    def run_once(self):
        name = method.__name__
        if name not in self.done:
            try:
                self.done[name] = (True, method(self))
            except BaseException as exc:
                self.done[name] = (False, exc)
                raise
        ok, value = self.done[name]
        if not ok:
            pytest.fail(f"the {name!r} stage failed earlier: {str(value).splitlines()[:1]}")
        return value

    return run_once


class Lifecycle:
    """main's first release, PRs, merge, revert: each stage builds on the ones it calls."""

    def __init__(self, root: Path) -> None:
        self.github, self.dev, self.uri = _project(root, registry_secret=True)
        self.done: dict[str, tuple[bool, object]] = {}

    def pull(self) -> str:
        self.dev.git("checkout", "-q", "main")
        self.dev.git("pull", "-q", "--ff-only", "origin", "main")
        return self.dev.head()

    def branch(self, name: str, message: str, model: dict | None = None, **sections: dict) -> None:
        """A PR branch from main with new model params, or other params.yaml sections changed."""
        self.pull()
        self.dev.git("checkout", "-q", "-b", name)
        if model is not None:
            self.dev.set_model_params(**model)
        path = self.dev.path / "params.yaml"
        raw = yaml.safe_load(path.read_text())
        for section, values in sections.items():
            raw[section].update(values)
        path.write_text(yaml.safe_dump(raw, sort_keys=False))
        self.dev.commit_all(message)
        self.dev.git("push", "-q", "origin", name)

    def run(self, workflow: str, job: str, event: Event) -> JobRun:
        return self.github.run(workflow, job, event)

    def gate_and_comment(self, event: Event) -> SimpleNamespace:
        gate = self.run("pr.yml", "gate", event)
        comment = self.run("pr-comment.yml", "comment", self.github.workflow_run(gate))
        return SimpleNamespace(event=event, gate=gate, comment=comment)

    def promote(self, event: Event) -> JobRun:
        run = self.run("promote.yml", "promote", event)
        assert run.status == "success", run.log()
        return run

    @_stage
    def first_release(self) -> SimpleNamespace:
        event = self.github.push(NULL_SHA)  # main's first push: no previous commit
        return SimpleNamespace(event=event, run=self.promote(event))

    @_stage
    def improving_pr(self) -> SimpleNamespace:
        self.first_release()
        self.branch("tune-forest", "Tune the forest: 60 trees", IMPROVED)
        first = self.gate_and_comment(self.github.pull_request("opened", 7, head="tune-forest"))
        assert first.gate.status == first.comment.status == "success", first.gate.log()
        posted, gated_aliases = self.github.comments(), aliases(self.uri, MODEL)
        # A docs commit on the PR: the PR still changes training inputs, so it is gated again.
        (self.dev.path / "README.md").write_text("# obesity classifier\n\nNow 60 trees.\n")
        self.dev.commit_all("Docs: mention the tuning")
        self.dev.git("push", "-q", "origin", "tune-forest")
        second = self.gate_and_comment(self.github.pull_request("synchronize", 7))
        # The first run's comment job, late: the PR has moved on since, so it must not post.
        late = self.run("pr-comment.yml", "comment", self.github.workflow_run(first.gate))
        rerun = self.run("pr-comment.yml", "comment", self.github.workflow_run(second.gate))
        return SimpleNamespace(
            first=first, posted=posted, aliases=gated_aliases, second=second, late=late, rerun=rerun
        )

    @_stage
    def degrading_pr(self) -> SimpleNamespace:
        self.first_release()
        self.branch("shrink-forest", "Shrink the forest: 3 trees of depth 3", DEGRADED)
        return self.gate_and_comment(
            self.github.pull_request("synchronize", 8, head="shrink-forest")
        )

    @_stage
    def broken_pr(self) -> SimpleNamespace:
        self.branch("bigger-holdout", "Hold out more rows", data={"test_size": 5})
        return self.gate_and_comment(self.github.pull_request("opened", 9, head="bigger-holdout"))

    @_stage
    def merged(self) -> SimpleNamespace:
        self.improving_pr()
        before = self.pull()
        self.dev.git("merge", "-q", "--no-ff", "tune-forest", "-m", "Merge pull request #7")
        merge = self.dev.head()
        self.dev.git("push", "-q", "origin", "main")
        # GitHub sends `closed` (merged) and the push at once; here the cleanup job runs first.
        closed = self.github.pull_request("closed", 7, merged=True)
        gate = self.run("pr.yml", "gate", closed)
        before_cleanup = aliases(self.uri, MODEL)
        cleanup = self.run("pr.yml", "cleanup", closed)
        after_cleanup = aliases(self.uri, MODEL)
        run = self.promote(self.github.push(before))
        return SimpleNamespace(
            merge=merge,
            closed=closed,
            gate=gate,
            cleanup=cleanup,
            run=run,
            before_cleanup=before_cleanup,
            after_cleanup=after_cleanup,
        )

    @_stage
    def reverted(self) -> SimpleNamespace:
        merge = self.merged().merge
        before = self.pull()
        self.dev.git("revert", "--no-edit", "-m", "1", merge)
        self.dev.git("push", "-q", "origin", "main")
        revert = self.dev.head()
        return SimpleNamespace(
            revert=revert, run=self.promote(self.github.push(before, actor="grace"))
        )


@pytest.fixture(scope="module")
def life(tmp_path_factory: pytest.TempPathFactory) -> Lifecycle:
    return Lifecycle(tmp_path_factory.mktemp("lifecycle"))


@pytest.mark.slow
def test_first_push_to_main_releases_v1_and_commits_its_card(life: Lifecycle):
    first = life.first_release()
    run, sha = first.run, first.event.sha
    assert run.step("release").outputs == {
        "changed": "true",
        "champion_version": "1",
        "action": "promoted",
    }
    assert run.step("Install mlgate").outcome == "success"
    assert [s.outcome for s in run.steps[-3:]] == ["skipped", "skipped", "success"]  # by-hand steps
    assert "**mlgate promoted**: v1 is champion (was no champion): promoted" in run.summary
    assert aliases(life.uri, MODEL) == {"champion": "1"}
    assert stages(life.uri, MODEL) == {"1": "Production"}
    assert _last_move(life.uri, "kind", "to_version", "actor", "commit") == (
        "release",
        "1",
        "ada",
        sha,
    )
    _assert_card_commit(life.github, "1", sha)


@pytest.mark.slow
def test_pr_that_improves_passes_and_gets_one_sticky_comment(life: Lifecycle):
    pr = life.improving_pr()
    gate, event = pr.first.gate, pr.first.event
    head = event.payload["pull_request"]["head"]["sha"]
    assert gate.step("changes").outputs == {"training": "true"}
    assert gate.step("registry").outputs == {"kind": "remote"}
    assert gate.step("Train the base commit's model as champion (embedded registry)").outcome == (
        "skipped"
    )
    assert gate.step("gate").outputs["exit_code"] == "0"
    assert gate.step("Fail the check when the gate failed").outcome == "skipped"
    assert "mlgate: challenger v2 passed the gate" in gate.summary
    # The artifact's root is reports/, the paths' common folder, as upload-artifact makes it.
    artifact = life.github.root / "artifacts" / str(gate.run_id) / "mlgate-gate"
    files = {p.name: p.read_text() for p in artifact.iterdir()}
    assert sorted(files) == ["gate.json", "gate.md", "head_sha", "pr_number"]
    assert (files["pr_number"], files["head_sha"]) == ("7\n", f"{head}\n")
    assert json.loads(files["gate.json"])["verdict"] == "pass"
    # Registered with where it came from; on the pass, its PR alias and @challenger.
    assert pr.aliases == {"champion": "1", "challenger": "2", "pr-7": "2"}
    tags = client_for(life.uri).get_model_version(MODEL, "2").tags
    assert (tags["pr_number"], tags["git_sha"], tags["git_ref"]) == ("7", event.sha, "tune-forest")
    run_url = f"https://github.com/{life.github.repository}/actions/runs/{gate.run_id}"
    assert tags["ci_run_url"] == run_url

    # One comment, the report itself, saying pass.
    assert pr.first.comment.step("report").outputs == {"number": "7", "post": "true"}
    assert pr.posted == {"mlgate-gate-7.md": files["gate.md"]}
    body = pr.posted["mlgate-gate-7.md"]
    assert body.splitlines()[:2] == [MARKER, "## ✅ mlgate: challenger v2 passed the gate"]

    # After the docs commit: gated again, the version reused, and the comment updated.
    second = pr.second.gate
    assert "Reused obesity_classifier v2" in second.step("Train and register the challenger").log
    assert second.step("gate").outputs["exit_code"] == "0"
    assert pr.second.comment.step("report").outputs == {"number": "7", "post": "true"}
    # The first run's late comment job: the PR is at a newer commit, so nothing is posted.
    new_head = pr.second.event.payload["pull_request"]["head"]["sha"]
    late = pr.late
    assert late.status == "success" and late.step("report").outputs == {"post": "false"}
    assert late.step("Post or update the sticky comment").outcome == "skipped"
    assert [a.message for a in late.annotations()] == [
        f"PR #7 is at {new_head[:7]}, this report is for {head[:7]}: not posted."
    ]
    call = ["api", f"repos/{life.github.repository}/pulls/7", "--jq", ".head.sha"]
    assert life.github.gh_calls.count(call) == 4
    # Re-running the newer run's comment job updates the same comment: still one.
    assert pr.rerun.status == "success"
    assert life.github.comment_events == [
        ("mlgate-gate-7.md", "created"),
        ("mlgate-gate-7.md", "updated"),
        ("mlgate-gate-7.md", "updated"),
    ]
    comments = life.github.comments()
    assert list(comments) == ["mlgate-gate-7.md"]
    assert comments["mlgate-gate-7.md"].startswith(MARKER)


@pytest.mark.slow
def test_pr_that_degrades_fails_the_check_and_the_comment_says_why(life: Lifecycle):
    pr = life.degrading_pr()
    gate = pr.gate
    assert gate.status == "failure", gate.log()
    assert [s.name for s in gate.steps if s.conclusion == "failure"] == [gate.steps[-1].name]
    assert gate.steps[-1].name == "Fail the check when the gate failed"
    assert gate.steps[-1].exit_code == 1
    assert gate.step("gate").outcome == "success" and gate.step("gate").outputs["exit_code"] == "1"
    assert gate.step("Upload the report").outcome == "success"
    assert [(a.title, a.message) for a in gate.annotations("error")] == [
        ("mlgate gate", "The challenger did not pass the gate (see the report).")
    ]
    artifact = life.github.root / "artifacts" / str(gate.run_id) / "mlgate-gate"
    report = json.loads((artifact / "gate.json").read_text())
    assert report["verdict"] == "fail"
    failing = [c["name"] for c in report["checks"] if not c["passed"]]
    assert failing

    assert pr.comment.status == "success", pr.comment.log()
    assert pr.comment.step("report").outputs == {"number": "8", "post": "true"}
    body = life.github.comments()["mlgate-gate-8.md"]
    assert body.splitlines()[:2] == [MARKER, "## ❌ mlgate: challenger v3 failed the gate"]
    why = body.split("**Failed checks**", 1)[1].split("|", 1)[0]
    assert [f"- ✗ `{name}`" in why for name in failing] == [True] * len(failing), why
    # A failed candidate gets no PR alias and moves nothing.
    assert aliases(life.uri, MODEL) == {"champion": "1", "challenger": "2", "pr-7": "2"}
    assert client_for(life.uri).get_model_version(MODEL, "3").tags["mlgate.gate.verdict"] == "fail"


@pytest.mark.slow
def test_pr_whose_training_fails_still_gets_a_comment(life: Lifecycle):
    pr = life.broken_pr()
    gate = pr.gate
    train = gate.step("Train and register the challenger")
    assert gate.status == "failure" and train.exit_code == 2, gate.log()
    assert "data.test_size must be between 0.05 and 0.5, got 5.0" in train.log
    assert gate.step("gate").outcome == "skipped"
    assert gate.step("Upload the report").outcome == "success"
    assert gate.step("Fail the check when the gate failed").outcome == "skipped"  # failed already
    assert pr.comment.status == "success", pr.comment.log()
    body = life.github.comments()["mlgate-gate-9.md"]
    head = pr.event.payload["pull_request"]["head"]["sha"]
    run_url = f"https://github.com/{life.github.repository}/actions/runs/{gate.run_id}"
    assert body.split("\n") == [
        MARKER,
        "## mlgate gate: error",
        "",
        f"No gate report was produced for {head[:7]} (gate exit code: not run).",
        f"See the [workflow run]({run_url}) for the failing step.",
        "",
    ]


@pytest.mark.slow
def test_closing_a_pr_removes_its_alias(life: Lifecycle):
    merged = life.merged()
    assert merged.gate.status == "skipped"  # `gate` does not run on `closed`
    assert merged.cleanup.status == "success", merged.cleanup.log()
    base = merged.closed.payload["pull_request"]["base"]["sha"]
    assert merged.cleanup.step("Check out the base commit").outputs["commit"] == base
    assert merged.before_cleanup["pr-7"] == "2"
    assert merged.after_cleanup == {"champion": "1", "challenger": "2"}
    # The comment job of that run finds no report and posts nothing.
    events = list(life.github.comment_events)
    comment = life.run("pr-comment.yml", "comment", life.github.workflow_run(merged.cleanup))
    assert comment.status == "success" and comment.step("report").outputs == {"post": "false"}
    assert life.github.comment_events == events
    # A PR closed without a pass has no alias: removing it is a no-op, not an error.
    life.degrading_pr()
    closed = life.run("pr.yml", "cleanup", life.github.pull_request("closed", 8))
    assert closed.status == "success", closed.log()


@pytest.mark.slow
def test_merge_moves_the_champion_and_commits_the_card(life: Lifecycle):
    merged = life.merged()
    release = merged.run.step("release")
    assert release.outputs == {"changed": "true", "champion_version": "2", "action": "promoted"}
    assert "mlgate gate:" not in release.log  # the PR's pass against v1 still holds
    assert aliases(life.uri, MODEL) == {"champion": "2"}  # the candidate aliases went with it
    assert [stages(life.uri, MODEL)[v] for v in ("1", "2")] == ["Archived", "Production"]
    assert _versions(life.uri) == ["1", "2", "3"]  # nothing retrained
    assert _last_move(life.uri, "kind", "from_version", "to_version", "commit") == (
        "release",
        "1",
        "2",
        merged.merge,
    )
    _assert_card_commit(life.github, "2", merged.merge)


@pytest.mark.slow
def test_reverting_the_merge_restores_the_previous_champion(life: Lifecycle):
    reverted = life.reverted()
    release = reverted.run.step("release")
    assert release.outputs == {"changed": "true", "champion_version": "1", "action": "rolled_back"}
    assert aliases(life.uri, MODEL) == {"champion": "1"}
    assert [stages(life.uri, MODEL)[v] for v in ("1", "2")] == ["Production", "Archived"]
    assert _versions(life.uri) == ["1", "2", "3"]  # no new version
    assert _last_move(life.uri, "kind", "from_version", "to_version", "actor", "commit") == (
        "rollback",
        "2",
        "1",
        "grace",
        reverted.revert,
    )
    _assert_card_commit(life.github, "1", reverted.revert)


@pytest.mark.slow
def test_manual_promote_and_rollback(life: Lifecycle):
    life.reverted()
    github, who = life.github, ("actor", "reason")
    inputs = {"action": "promote", "version": "2", "reason": "tuning re-validated"}
    event = github.dispatch("promote.yml", inputs, actor="release-manager")
    # main moves while the job runs (a docs commit): the card commit is rebased onto it.
    life.pull()
    (life.dev.path / "README.md").write_text("# obesity classifier\n\nSee model_cards/.\n")
    docs = life.dev.commit_all("Docs: point at the model card")
    life.dev.git("push", "-q", "origin", "main")
    assert not github.triggered("promote.yml", github.push(event.sha))
    run = life.promote(event)
    assert [run.step(s).outcome for s in ("release", "Roll back by hand")] == ["skipped"] * 2
    log = run.step("Commit the model card").log
    assert "Push rejected (attempt 1); rebasing onto the new main." in log
    assert aliases(life.uri, MODEL) == {"champion": "2"}
    assert _last_move(life.uri, "kind", "from_version", "to_version", *who) == (
        "promote",
        "1",
        "2",
        "release-manager",
        "tuning re-validated",
    )
    _assert_card_commit(github, "2", event.sha, parent=docs)

    inputs = {"action": "rollback", "reason": "latency regression"}  # version empty: the previous
    event = github.dispatch("promote.yml", inputs, actor="release-manager")
    run = life.promote(event)
    assert run.step("Promote a version by hand").outcome == "skipped"
    assert aliases(life.uri, MODEL) == {"champion": "1"}
    assert stages(life.uri, MODEL)["1"] == "Production"
    assert _last_move(life.uri, "kind", "from_version", "to_version", *who) == (
        "rollback",
        "2",
        "1",
        "release-manager",
        "latency regression",
    )
    _assert_card_commit(github, "1", event.sha)

    # A promotion without a version stops before touching the registry or main.
    tip = github.rev("main")
    event = github.dispatch("promote.yml", {"action": "promote", "reason": "oops"})
    bad = life.run("promote.yml", "promote", event)
    assert bad.status == "failure" and bad.step("Promote a version by hand").exit_code == 2
    assert [a.message for a in bad.annotations("error")] == [
        "Promote needs a version number, got ''."
    ]
    assert bad.step("Commit the model card").outcome == "skipped"
    assert aliases(life.uri, MODEL) == {"champion": "1"} and github.rev("main") == tip
    assert len(_history(life.uri)) == 5


# --- without a registry secret -------------------------------------------------------------------


@pytest.mark.slow
def test_without_a_registry_secret_the_pr_job_builds_its_own_champion(tmp_path: Path):
    github, dev, uri = _project(tmp_path, registry_secret=False)
    base = dev.head()
    dev.git("checkout", "-q", "-b", "tune-forest")
    dev.set_model_params(**IMPROVED)
    dev.commit_all("Tune the forest: 60 trees")
    dev.git("push", "-q", "origin", "tune-forest")
    run = github.run("pr.yml", "gate", github.pull_request("synchronize", 3, head="tune-forest"))
    assert run.status == "success", run.log()
    assert run.step("registry").outputs == {"kind": "embedded"}
    assert "No registry secret: comparing with the base commit's model" in run.summary
    base_step = run.step("Train the base commit's model as champion (embedded registry)")
    assert "Registered obesity_classifier v1" in base_step.log
    assert "Registered obesity_classifier v2" in run.step("Train and register the challenger").log
    assert run.step("gate").outputs["exit_code"] == "0"
    report = (github.root / "artifacts" / str(run.run_id) / "mlgate-gate" / "gate.md").read_text()
    assert report.splitlines()[:2] == [MARKER, "## ✅ mlgate: challenger v2 passed the gate"]
    assert "Challenger v2 vs champion v1" in report
    # The job-local registry: v1 from the base commit is champion, v2 passed against it.
    local = f"sqlite:///{run.temp / 'mlgate-registry.db'}"
    assert aliases(local, MODEL) == {"champion": "1", "challenger": "2", "pr-3": "2"}
    assert _history(local)[-1]["reason"] == f"base of PR #3 ({base})"
    assert not Path(uri.removeprefix("sqlite:///")).exists()  # nothing registered elsewhere

    # Closing the PR: no registry to clean up; nothing is checked out or run.
    cleanup = github.run("pr.yml", "cleanup", github.pull_request("closed", 3))
    assert cleanup.status == "success", cleanup.log()
    assert [s.outcome for s in cleanup.steps] == ["success"] + ["skipped"] * 4

    # promote.yml refuses to run without the production registry.
    event = github.dispatch("promote.yml", {"version": "1", "reason": "x"})
    promote = github.run("promote.yml", "promote", event)
    assert promote.status == "failure" and promote.step("Check the registry secret").exit_code == 2
    assert {s.outcome for s in promote.steps[4:]} == {"skipped"}
