"""The release path cannot be talked into a worse champion, on real git and a real registry.

- A pull request that relaxes its own gate in params.yaml is judged by the base's rules: its gate
  fails, the release after its merge promotes nothing, and no later push re-judges it under the
  relaxed rules it brought; only a manual, recorded promotion overrides that.
- Verdict tags on a version (a PR job's credential can write them) are not trusted: the release
  gates the candidate itself.
- A release whose run was lost is made by the next run; re-running an older release changes
  nothing; a force push's `before` that the clone lacks still releases.

Every step runs the installed `mlgate` script in a clone, as promote.yml and pr.yml do.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ..conftest import FAST_MODEL
from .gitrepo import NULL_SHA, Clone, make_origin

pytestmark = pytest.mark.slow

MODEL = "obesity_classifier"
REJECTED = "mlgate.release.rejected"


def _client(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _champion(uri: str) -> str | None:
    aliases = _client(uri).get_registered_model(MODEL).aliases
    return str(aliases["champion"]) if "champion" in aliases else None


def _moves(uri: str) -> list[tuple[str, str | None, str]]:
    tags = _client(uri).get_registered_model(MODEL).tags
    moves = [json.loads(tags[k]) for k in sorted(tags) if k.startswith("mlgate.history.")]
    return [(m["kind"], m["from_version"], m["to_version"]) for m in moves]


def _run(clone: Clone, *args: str, code: int = 0, **env: str) -> str:
    done = clone.mlgate(*args, **env)
    assert done.returncode == code, done.stdout + done.stderr
    return done.stdout


def _relax_gate(clone: Clone) -> None:
    """A much weaker model and, in the same file, a gate that passes it (margin 1 also keeps
    McNemar's "significantly worse" from failing: it fails only with non-inferiority)."""
    clone.set_model_params(n_estimators=1, max_depth=2, random_state=42)
    path = clone.path / "params.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["gate"]["margin"] = 1.0
    raw["gate"]["thresholds"] = {"accuracy": 0.1, "f1_macro": 0.1}
    raw["gate"]["max_class_drop"] = 1.0
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


def test_a_pr_cannot_relax_its_own_gate(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'registry.db'}"
    _, main = make_origin(tmp_path, uri, FAST_MODEL)
    _run(main, "release", "--before", NULL_SHA)
    assert _champion(uri) == "1"

    # The PR job: train the head, gate it with the base's rules (`--policy-from` the base).
    main.git("checkout", "-q", "-b", "relax")
    _relax_gate(main)
    main.commit_all("Faster model; gate tuned to match")
    _run(main, "train", "--pr-number", "8")
    report = tmp_path / "gate.md"
    text = _run(
        main, "gate", "--pr-number", "8", "--policy-from", "main", "--report", str(report), code=1
    )
    assert "warning: Rules changed: this change modifies the rules that judge it:" in text
    assert "gate.margin 0.03 → 1" in text and "gate.max_class_drop 0.1 → 1" in text
    assert "gate.thresholds {accuracy: 0.85, f1_macro: 0.85} → {accuracy: 0.1, f1_macro: 0.1}" in (
        text
    )
    assert "Binding verdict: fail; under this change's own rules it would be: pass." in text
    assert "margin 0.03" in text  # the header names the binding rules, not the PR's
    lines = report.read_text().splitlines()
    assert lines[1].startswith("## ❌ mlgate: challenger v2 failed the gate")
    assert lines[3] == "> [!WARNING]" and lines[4].startswith("> **Rules changed:")
    aliases = _client(uri).get_registered_model(MODEL).aliases
    assert aliases == {"champion": 1}  # no pr-8, no challenger: it did not pass

    # Merged anyway (an admin, or a main without the required check): the release judges with
    # the rules of the merge's first parent and promotes nothing.
    main.git("checkout", "-q", "main")
    main.git("merge", "-q", "--no-ff", "relax", "-m", "Merge pull request #8 from relax")
    text = _run(main, "release", "--policy-from", "HEAD^1", code=1)
    assert "v2 failed its gate against v1" in text and "nothing promoted" in text
    assert _champion(uri) == "1"
    merge = main.head()
    assert (
        _client(uri)
        .get_model_version(MODEL, "2")
        .tags[REJECTED]
        .startswith(f"commit {merge[:12]}: ")
    )

    # A later docs-only push: the first parent now carries the relaxed rules, under which v2
    # would pass. It is not judged again: it stays rejected for these inputs, and the push,
    # which changes no training input, is a notice, not a failed run.
    (main.path / "README.md").write_text("# obesity classifier\n\nFaster now.\n")
    main.commit_all("Docs")
    text = _run(main, "release", "--policy-from", "HEAD^1")
    assert "mlgate gate:" not in text
    assert f"v2 stays rejected (commit {merge[:12]}: " in text
    assert "the champion stays v1: this push changes no training input" in text
    assert _champion(uri) == "1"
    assert _moves(uri) == [("release", None, "1")]

    # Only a manual promotion, recorded with its reason, overrides the rejection.
    _run(main, "promote", MODEL, "2", "Production", "--reason", "accepted the speed trade-off")
    assert _champion(uri) == "2"
    assert _moves(uri)[-1] == ("promote", "1", "2")


def test_verdict_tags_written_by_a_pr_job_are_not_trusted(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'registry.db'}"
    _, main = make_origin(tmp_path, uri, FAST_MODEL)
    _run(main, "release", "--before", NULL_SHA)

    # With the PR credential, a commit (later force-pushed away) registers a weak model and
    # writes the tags an earlier `release` trusted: a pass against today's champion.
    main.git("checkout", "-q", "-b", "sneaky")
    main.set_model_params(n_estimators=1, max_depth=2, random_state=42)
    main.commit_all("Weak model")
    _run(main, "train")
    _client(uri).set_model_version_tag(MODEL, "2", "mlgate.gate.verdict", "pass")
    _client(uri).set_model_version_tag(MODEL, "2", "mlgate.gate.champion_version", "1")
    main.git("checkout", "-q", "main")
    main.git("merge", "-q", "--no-ff", "sneaky", "-m", "Merge pull request #9 from sneaky")

    text = _run(main, "release", "--policy-from", "HEAD^1", code=1)
    assert "mlgate gate: FAIL" in text  # gated here, with this job's code
    assert "v2 failed its gate against v1" in text
    assert _champion(uri) == "1"


def test_lost_stale_and_force_pushed_releases(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'registry.db'}"
    _, main = make_origin(tmp_path, uri, FAST_MODEL)
    first = main.head()
    # A force push: GitHub's `before` is a commit this clone never had. It still releases.
    _run(main, "release", "--before", "1234567" * 5 + "12345")
    assert _champion(uri) == "1"

    # A merge whose release run was lost (cancelled, refused at the approval, server down)...
    main.set_model_params(**{**FAST_MODEL, "n_estimators": 40})
    main.commit_all("Merge pull request #3: 40 trees")
    tuned = main.head()
    # ...then a push that changes no training input: its `before` is the lost merge, yet the
    # merged model is released, because the comparison is with the last released commit.
    (main.path / "README.md").write_text("# obesity classifier\n\nTuned.\n")
    main.commit_all("Docs")
    text = _run(main, "release", "--before", tuned)
    assert "v2 is champion (was v1): promoted" in text
    assert _moves(uri) == [("release", None, "1"), ("release", "1", "2")]

    # Re-running the first commit's release (an old run, re-run by hand) rolls nothing back.
    main.git("checkout", "-q", "--force", "--detach", first)  # the card the release wrote goes
    text = _run(main, "release", "--before", NULL_SHA)
    assert f"{first[:12]} is older than the last released commit" in text
    assert "a stale run changes nothing (v2 stays champion)" in text
    assert _champion(uri) == "2" and len(_moves(uri)) == 2
    # So does re-running the release of the commit that was released last.
    main.git("checkout", "-q", "--force", "main")
    _run(main, "release", "--before", tuned)
    assert _champion(uri) == "2" and len(_moves(uri)) == 2


def _set_margin(clone: Clone, margin: float) -> None:
    """Only the gate: a relaxed margin (and the checks that would fail the weak model anyway)."""
    path = clone.path / "params.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["gate"]["margin"] = margin
    raw["gate"]["thresholds"] = {"accuracy": 0.1, "f1_macro": 0.1}
    raw["gate"]["max_class_drop"] = 1.0
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


def test_in_ci_a_push_is_judged_by_the_last_released_commits_rules(tmp_path: Path) -> None:
    """A rebase merge of two commits: the first relaxes the gate (margin 0.5), the second ships a
    weaker model (macro-F1 about 0.24 lower). `HEAD^1` is the first commit, whose rules would
    pass it; in CI without --policy-from, release takes the rules of the last released commit
    and the gate fails."""
    uri = f"sqlite:///{tmp_path / 'registry.db'}"
    _, main = make_origin(tmp_path, uri, FAST_MODEL)
    _run(main, "release", "--before", NULL_SHA, CI="true")
    released = main.head()
    _set_margin(main, 0.5)
    main.commit_all("Gate: margin 0.5")
    main.set_model_params(n_estimators=5, max_depth=5, random_state=42)
    main.commit_all("Smaller model")

    text = _run(main, "release", "--before", released, CI="true", code=1)
    assert "Rules changed: this change modifies the rules that judge it:" in text
    assert "gate.margin 0.03 → 0.5" in text
    assert "v2 failed its gate against v1" in text and _champion(uri) == "1"
    # Under HEAD^1's rules, which promote.yml used to pass, the same candidate passes.
    text = _run(main, "gate", "--challenger", "2", "--policy-from", "HEAD^1")
    assert "margin 0.5" in text


def test_in_ci_rules_from_no_ancestor_stop_the_release(tmp_path: Path) -> None:
    """The last released commit and `before` both off this commit's history (a force push that
    rewrote the released commit away): no rules anyone reviewed; exit 2, nothing changes."""
    uri = f"sqlite:///{tmp_path / 'registry.db'}"
    _, main = make_origin(tmp_path, uri, FAST_MODEL)
    main.set_model_params(**{**FAST_MODEL, "n_estimators": 40})
    main.commit_all("40 trees")
    _run(main, "release", "--before", "HEAD~1", CI="true")
    released = main.head()
    main.git("reset", "-q", "--hard", "HEAD~1")
    main.set_model_params(**{**FAST_MODEL, "n_estimators": 45})
    main.commit_all("45 trees, force-pushed over the released commit")

    done = main.mlgate("release", "--before", released, CI="true")
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = done.stderr.strip().splitlines()
    assert f"no trusted commit to take the rules from for {main.head()[:12]}" in line
    assert f"the last released commit {released[:12]}" in line and "--policy-from REV" in line
    assert _champion(uri) == "1" and _moves(uri) == [("release", None, "1")]
