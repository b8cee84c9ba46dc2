"""A team's own repository, made by `mlgate init --action OWNER/REPO@SHA`, run in act.

The repository holds only a README, a CSV of its own (scikit-learn's wine data, which no other
test uses) and what `mlgate init` wrote: four short workflows that call mlgate's GitHub Action
pinned by commit. act runs that action from a copy of this repository's tree, mapped over the
pin with `--local-repository acme/mlgate@<sha>=DIR`, as it would run the published action.

- a pull request that changes the model's seed passes the `gate` check; one that cripples the
  model fails it (exit 1, a gate verdict in the log);
- the comment workflow posts the report as one sticky comment (GitHub API stand-in), and posting
  again updates it;
- pushing main releases the champion to a real `mlflow server`, a merge releases the PR's model,
  and a revert restores the champion before it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import MlflowServer
from tests.helpers import aliases
from tests.workflows.engine import Act, RunResult
from tests.workflows.events import REPO, Project, git

MODEL = "wine_model"
FAST = {"n_estimators": 30, "random_state": 42}
pytestmark = pytest.mark.slow


def wine_csv(path: Path) -> None:
    """scikit-learn's bundled wine data (178 rows, 13 measurements, 3 cultivars)."""
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame
    names = {0: "barolo", 1: "grignolino", 2: "barbera"}
    frame["cultivar"] = frame.pop("target").map(names)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


class InitRepository(Project):
    """A repository whose first commit is a README and its data; `init` comes in a second."""

    def populate(self, model_params: dict[str, Any]) -> None:
        (self.dev / "README.md").write_text("# Wine\n\nWhich cultivar a wine comes from.\n")
        wine_csv(self.dev / "data" / "wine.csv")


def mlgate_action(root: Path) -> tuple[str, Path]:
    """(acme/mlgate@<this tree's commit>, a copy of this repository's tree): what GitHub would
    download for the pinned action."""
    target = root / "mlgate-action"
    files = git(REPO, "ls-files", "--cached", "--others", "--exclude-standard").splitlines()
    for rel in files:
        source = REPO / rel
        if rel.startswith(("tests/", "benchmarks/", ".ci/")) or not source.is_file():
            continue
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / rel)
    return f"acme/mlgate@{git(REPO, 'rev-parse', 'HEAD')}", target


def mlgate_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("mlgate")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "GITHUB_"))}
    return subprocess.run(
        [str(script), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def wine(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("wine")
    pin, action_dir = mlgate_action(root)
    project = InitRepository(root / "wine", FAST)
    readme_commit = project.rev("refs/heads/main")
    done = mlgate_cli(
        project.dev,
        "init",
        "--data",
        "data/wine.csv",
        "--target",
        "cultivar",
        "--action",
        pin,
        "--model-name",
        MODEL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"The workflows call {pin} # v" in done.stdout
    project.edit_params(model={"params": dict(FAST)})
    project.commit("Gate the wine model with mlgate")
    project.git("push", "-q", "origin", "main")
    return SimpleNamespace(
        project=project, pin=pin, actions={pin: action_dir}, first_before=readme_commit
    )


def _run(actions: Act, wine: SimpleNamespace, event, workflow: str, job: str, **kw) -> RunResult:
    env = {"GITHUB_REPOSITORY": "acme/wine", **kw.pop("env", {})}
    return actions.run_workflow(event, workflow, job, actions=wine.actions, env=env, **kw)


def test_the_pr_check_passes_an_equal_model_and_the_comment_is_one_sticky_comment(
    actions: Act, wine: SimpleNamespace
) -> None:
    project = wine.project
    project.branch("reseed", "Another seed", model={"params": {**FAST, "random_state": 7}})
    event = project.pull_request("opened", 1, head="reseed")
    run = _run(actions, wine, event, "pr.yml", "gate")
    assert run.ok, run.tail(80)
    # The action installed mlgate from the pinned commit and says so.
    assert f"built from {wine.pin}" in run.log
    report = actions.artifact(run.run_id, "mlgate-gate") / "gate.md"
    assert report.read_text().startswith("<!-- mlgate:gate-report -->")

    head = event.payload["pull_request"]["head"]["sha"]
    actions.api.pulls[1] = head
    actions.api.check_run(head, "gate", "success")  # GitHub records the job's result
    for _ in range(2):  # a second post of the same run updates the one comment
        comment_event = project.workflow_run(event, run.run_id, "success")
        comment = _run(actions, wine, comment_event, "pr-comment.yml", "comment")
        assert comment.ok, comment.tail(80)
    posted = actions.api.comments_on(1)
    assert len(posted) == 1
    assert "the `gate` check passed" in posted[0].body
    assert "<!-- mlgate:gate-report -->" in posted[0].body


def test_the_pr_check_fails_a_crippled_model_with_the_verdict_in_the_log(
    actions: Act, wine: SimpleNamespace
) -> None:
    project = wine.project
    crippled = {"n_estimators": 1, "max_depth": 1, "random_state": 42}
    project.branch("cripple", "A stump", model={"params": crippled})
    run = _run(actions, wine, project.pull_request("opened", 2, head="cripple"), "pr.yml", "gate")
    assert not run.ok and run.returncode != 0
    assert "mlgate gate: FAIL" in run.log or "verdict: fail" in run.log.lower(), run.tail(80)
    assert ("error", "The gate failed (exit 1): see the report.") in run.annotations or (
        "The gate failed (exit 1)" in run.log
    ), run.tail(40)


def test_main_releases_the_champion_and_a_revert_restores_it(
    actions: Act, wine: SimpleNamespace, mlflow_server: MlflowServer
) -> None:
    project = wine.project
    secrets = {"MLFLOW_TRACKING_URI": mlflow_server.uri}
    uri = mlflow_server.uri

    first = _run(
        actions,
        wine,
        project.push(wine.first_before, project.rev("refs/heads/main")),
        "promote.yml",
        "promote",
        secrets=secrets,
    )
    assert first.ok, first.tail(80)
    champion = aliases(uri, MODEL)["champion"]

    project.branch("more-trees", "More trees", model={"params": {**FAST, "n_estimators": 60}})
    before, merged = project.merge("more-trees", 3)
    release = _run(
        actions, wine, project.push(before, merged), "promote.yml", "promote", secrets=secrets
    )
    assert release.ok, release.tail(80)
    released = aliases(uri, MODEL)["champion"]
    assert str(released) != str(champion)

    project.pull_main()
    project.git("revert", "-m", "1", "--no-edit", merged)
    project.git("push", "-q", "origin", "main")
    reverted = project.rev("refs/heads/main")
    restore = _run(
        actions, wine, project.push(merged, reverted), "promote.yml", "promote", secrets=secrets
    )
    assert restore.ok, restore.tail(80)
    assert str(aliases(uri, MODEL)["champion"]) == str(champion)
