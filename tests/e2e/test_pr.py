"""`mlgate pr` through the console script, in real git repositories shaped like GitHub's checkout.

GitHub checks a pull request out as a merge commit of the PR's head into the base branch
(`refs/pull/N/merge`); `merge_pr` builds the same commit with `git merge --no-ff`. The event file
(GITHUB_EVENT_PATH) is written as GitHub delivers it; nothing else of GitHub is involved.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ..conftest import FAST_MODEL, MlflowServer
from ..helpers import aliases
from .gitrepo import Clone, make_origin

pytestmark = pytest.mark.slow

# A forest this small scores far below params.yaml's 0.85 thresholds: the gate must fail it.
WEAK_MODEL = {"n_estimators": 1, "max_depth": 2, "random_state": 0}
BETTER_MODEL = {**FAST_MODEL, "n_estimators": 40}


def branch(clone: Clone, name: str, **model_params: object) -> str:
    """A PR branch off main; with model params, a commit changing them, else a README edit."""
    clone.git("checkout", "-q", "-b", name, "main")
    if model_params:
        clone.set_model_params(**model_params)
    else:
        readme = clone.path / "README.md"
        readme.write_text(readme.read_text() + "\nMore words.\n")
    return clone.commit_all(f"{name}: change")


def merge_pr(clone: Clone, base: str, head: str) -> str:
    """Check out GitHub's merge commit of `head` into `base` (first parent: base)."""
    clone.git("checkout", "-q", "--detach", base)
    clone.git("merge", "-q", "--no-ff", "--no-edit", head)
    return clone.head()


def event_file(tmp_path: Path, number: int, base: str, head: str) -> str:
    path = tmp_path / f"event-{number}.json"
    payload = {
        "action": "synchronize",
        "number": number,
        "pull_request": {"number": number, "base": {"sha": base}, "head": {"sha": head}},
    }
    path.write_text(json.dumps(payload))
    return str(path)


def run_pr(clone: Clone, tmp_path: Path, event: str, **env: str):
    outputs = tmp_path / "outputs"
    outputs.write_text("")
    done = clone.mlgate("pr", GITHUB_EVENT_PATH=event, GITHUB_OUTPUT=str(outputs), **env)
    return done, outputs.read_text()


@pytest.fixture
def repo(tmp_path: Path) -> Clone:
    """origin/main with the project (fast model); MLFLOW_TRACKING_URI unset: no registry."""
    _, clone = make_origin(tmp_path, "", FAST_MODEL)
    return clone


def test_no_training_input_changed_is_nothing_to_gate_even_with_a_stale_event_base(
    repo: Clone, tmp_path: Path
) -> None:
    stale = repo.head()
    # main moves on with a training-input change after the PR branched (and after the event's
    # base.sha was taken): diffing from the stale base would see it and gate.
    pr_head = branch(repo, "docs")
    repo.git("checkout", "-q", "main")
    repo.set_model_params(**BETTER_MODEL)
    new_main = repo.commit_all("main: tune")
    merge = merge_pr(repo, new_main, pr_head)

    done, outputs = run_pr(repo, tmp_path, event_file(tmp_path, 3, stale, pr_head))

    assert done.returncode == 0, done.stderr
    assert f"base {new_main[:12]} (the merge commit's first parent)" in done.stdout
    assert f"nothing to gate at {pr_head[:7]}" in done.stdout
    report = (repo.path / "reports" / "gate.md").read_text()
    assert report.startswith("<!-- mlgate:gate-report -->\n")
    assert f"## mlgate: nothing to gate at `{pr_head[:7]}`" in report
    assert not (repo.path / "reports" / "gate.json").exists()
    assert "gated<<" in outputs and f"\n{pr_head}\n" in outputs
    assert merge != pr_head


def test_a_better_challenger_passes_against_the_base_model_in_a_job_local_registry(
    repo: Clone, tmp_path: Path
) -> None:
    base = repo.head()
    pr_head = branch(repo, "tune", **BETTER_MODEL)
    merge_pr(repo, base, pr_head)

    done, outputs = run_pr(repo, tmp_path, event_file(tmp_path, 4, base, pr_head))

    assert done.returncode == 0, done.stdout + done.stderr
    assert "training inputs changed: params.yaml" in done.stdout
    gate = json.loads((repo.path / "reports" / "gate.json").read_text())
    assert gate["verdict"] == "pass"
    assert (gate["challenger"]["version"], gate["champion"]["version"]) == ("2", "1")
    assert gate["pr"]["registry"] == "job-local"
    assert (gate["pr"]["head_sha"], gate["pr"]["base_sha"]) == (pr_head, base)
    report = (repo.path / "reports" / "gate.md").read_text()
    assert f"Gate of head `{pr_head[:7]}` (base `{base[:7]}`" in report
    assert "job-local registry" in report and "trained from its params.yaml and data by" in report
    assert "this pull request's own code and packages (the PR does not change the" in report
    # The registry lived in a temporary folder: nothing left in the checkout.
    assert not any((repo.path / p).exists() for p in ("mlflow.db", "mlruns", "mlartifacts"))
    assert "verdict<<" in outputs and "\npass\n" in outputs


def test_a_weak_challenger_fails_with_exit_1_and_the_report_written(
    repo: Clone, tmp_path: Path
) -> None:
    base = repo.head()
    pr_head = branch(repo, "weak", **WEAK_MODEL)
    merge_pr(repo, base, pr_head)

    done, _ = run_pr(repo, tmp_path, event_file(tmp_path, 5, base, pr_head))

    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr == ""
    assert "mlgate gate: FAIL" in done.stdout
    gate = json.loads((repo.path / "reports" / "gate.json").read_text())
    assert gate["verdict"] == "fail" and gate["champion"]["version"] == "1"
    report = (repo.path / "reports" / "gate.md").read_text()
    assert "❌ mlgate: challenger v2 failed the gate" in report
    assert f"Gate of head `{pr_head[:7]}`" in report


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """A real registry server of this module's own, stopped even when it fails to start."""
    server = MlflowServer(tmp_path_factory.mktemp("pr-server"))
    try:
        server.start(timeout=300)  # a loaded CI machine can take minutes to import the server
        yield server
    finally:
        server.stop()


def test_with_a_registry_server_the_challenger_gets_the_pr_alias(
    tmp_path: Path, server: MlflowServer, model_name: str
) -> None:
    _, clone = make_origin(tmp_path, server.uri, FAST_MODEL, name=model_name)
    base = clone.head()
    pr_head = branch(clone, "tune", **BETTER_MODEL)
    merge_pr(clone, base, pr_head)

    done, outputs = run_pr(clone, tmp_path, event_file(tmp_path, 12, base, pr_head))

    assert done.returncode == 0, done.stdout + done.stderr
    gate = json.loads((clone.path / "reports" / "gate.json").read_text())
    assert gate["pr"]["registry"] == "remote" and gate["pr"]["base_version"] is None
    assert aliases(server.uri, model_name)["pr-12"] == gate["challenger"]["version"]
    assert "job-local" not in (clone.path / "reports" / "gate.md").read_text()
    assert "\nremote\n" in outputs


def test_a_merge_queue_event_is_judged_from_its_base_sha(repo: Clone, tmp_path: Path) -> None:
    main = repo.head()
    pr_head = branch(repo, "docs")
    queued = merge_pr(repo, main, pr_head)  # the queue's commit for PR 21
    event = tmp_path / "merge_group.json"
    event.write_text(
        json.dumps(
            {
                "action": "checks_requested",
                "merge_group": {
                    "base_sha": main,
                    "head_sha": queued,
                    "head_ref": f"refs/heads/gh-readonly-queue/main/pr-21-{main}",
                },
            }
        )
    )

    done, outputs = run_pr(repo, tmp_path, str(event))

    assert done.returncode == 0, done.stderr
    assert f"base {main[:12]} (the merge queue's base_sha), head {queued[:12]}" in done.stdout
    assert f"nothing to gate at {queued[:7]}" in done.stdout
    assert f"\n{queued}\n" in outputs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "cannot tell the PR's base: HEAD ("),
        (("--base", "no-such-branch"), "git revision 'no-such-branch' not found in"),
    ],
    ids=["no-merge-commit-no-event", "unknown-base"],
)
def test_without_a_base_it_exits_2_naming_the_fix(
    repo: Clone, args: tuple[str, ...], message: str
) -> None:
    done = repo.mlgate("pr", *args)

    assert done.returncode == 2
    assert done.stderr.startswith(f"mlgate: error: {message}")
    assert len(done.stderr.splitlines()) == 1
    assert not (repo.path / "reports").exists()


def test_a_pr_that_relaxes_its_own_gate_fails_under_the_base_rules_and_says_so(
    repo: Clone, tmp_path: Path
) -> None:
    """params.yaml holds the rules that judge it: a PR that weakens the model and, in the same
    file, the gate is judged by the base's rules; its own would have passed it."""
    base = repo.head()
    repo.git("checkout", "-q", "-b", "relax", "main")
    repo.set_model_params(**WEAK_MODEL)
    raw = yaml.safe_load((repo.path / "params.yaml").read_text())
    raw["gate"].update(margin=1.0, thresholds={"accuracy": 0.1, "f1_macro": 0.1})
    raw["gate"]["max_class_drop"] = 1.0
    (repo.path / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    pr_head = repo.commit_all("Faster model; gate tuned to match")
    merge_pr(repo, base, pr_head)

    done, outputs = run_pr(repo, tmp_path, event_file(tmp_path, 9, base, pr_head))

    assert done.returncode == 1, done.stdout + done.stderr
    assert "warning: Rules changed: this change modifies the rules that judge it:" in done.stdout
    assert "gate.margin 0.03 → 1" in done.stdout and "Binding verdict: fail" in done.stdout
    assert "mlgate gate: FAIL" in done.stdout
    lines = (repo.path / "reports" / "gate.md").read_text().splitlines()
    assert lines[1].startswith("## ❌ mlgate: challenger v2 failed the gate")
    # The warning comes right under the headline, before anything else.
    assert lines[3] == "> [!WARNING]"
    assert f"uses the rules of {base[:12]} (params.yaml at {base[:12]})" in lines[4]
    assert "under this change's own rules it would be: pass" in lines[4]
    gate = json.loads((repo.path / "reports" / "gate.json").read_text())
    assert gate["verdict"] == "fail" and gate["policy"]["margin"] == 0.03
    changed = {s["key"]: (s["base"], s["new"]) for s in gate["pr"]["policy_change"]["settings"]}
    assert changed["gate.margin"] == (0.03, 1.0)
    assert "\nfail\n" in outputs


def test_policy_from_an_unknown_revision_exits_2_and_writes_nothing(repo: Clone) -> None:
    base = repo.head()
    pr_head = branch(repo, "docs")
    merge_pr(repo, base, pr_head)

    done = repo.mlgate("pr", "--policy-from", "no-such-rev")

    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("mlgate: error: --policy-from 'no-such-rev': no such commit in")
    assert len(done.stderr.splitlines()) == 1
    assert not (repo.path / "reports").exists()


def test_a_pr_that_renames_the_champion_alias_is_still_compared_with_the_base_model(
    repo: Clone, tmp_path: Path
) -> None:
    """Without a registry the base model is made champion under the base's alias, the one the
    binding rules look up: the PR's own `promotion.champion_alias` does not leave the gate with
    only the absolute thresholds."""
    base = repo.head()
    repo.git("checkout", "-q", "-b", "rename", "main")
    repo.set_model_params(**BETTER_MODEL)
    raw = yaml.safe_load((repo.path / "params.yaml").read_text())
    raw["promotion"]["champion_alias"] = "best"
    (repo.path / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    pr_head = repo.commit_all("Rename the champion alias")
    merge_pr(repo, base, pr_head)

    done, _ = run_pr(repo, tmp_path, event_file(tmp_path, 10, base, pr_head))

    assert done.returncode == 0, done.stdout + done.stderr
    gate = json.loads((repo.path / "reports" / "gate.json").read_text())
    assert (gate["challenger"]["version"], gate["champion"]["version"]) == ("2", "1")
    assert "promotion.champion_alias champion → best" in done.stdout


def test_a_parameter_value_the_estimator_refuses_exits_2_before_anything_is_trained(
    repo: Clone, tmp_path: Path
) -> None:
    base = repo.head()
    pr_head = branch(repo, "typo", **{**FAST_MODEL, "max_depth": "thirty"})
    merge_pr(repo, base, pr_head)

    done, outputs = run_pr(repo, tmp_path, event_file(tmp_path, 12, base, pr_head))

    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == (
        "mlgate: error: params.yaml: model.params: The 'max_depth' parameter of"
        " RandomForestClassifier must be an int in the range [1, inf) or None. Got 'thirty'"
        " instead; fix the value (see the RandomForestClassifier documentation)\n"
    )
    assert outputs == ""
    assert not any(
        (repo.path / p).exists() for p in ("reports", "mlflow.db", "mlruns", "mlartifacts")
    )
