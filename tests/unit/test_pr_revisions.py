"""pr.revisions: every way the PR check finds its base and head, on a real git repository.

The history: `main` at A, then B; the PR's branch from A with one commit F; M is GitHub's merge
commit of F into B (`refs/pull/N/merge`, first parent B, second F).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlgate.errors import UsageError
from mlgate.pr import revisions


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _commit(root: Path, name: str) -> str:
    (root / f"{name}.txt").write_text(name)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", name)
    return _git(root, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | Path]:
    root = tmp_path_factory.mktemp("pr-revisions")
    _git(root, "init", "-q", "-b", "main")
    for key, value in (("user.name", "Ada"), ("user.email", "ada@example.org")):
        _git(root, "config", key, value)
    _git(root, "config", "commit.gpgsign", "false")
    a = _commit(root, "a")
    _git(root, "checkout", "-q", "-b", "feature")
    f = _commit(root, "f")
    _git(root, "checkout", "-q", "main")
    b = _commit(root, "b")
    _git(root, "merge", "-q", "--no-ff", "-m", "merge", "feature")
    m = _git(root, "rev-parse", "HEAD")
    return {"root": root, "a": a, "b": b, "f": f, "m": m}


def _at(history: dict, rev: str) -> Path:
    _git(history["root"], "checkout", "-q", "--detach", history[rev])
    return history["root"]


def test_a_merge_commit_names_both_sides(history):
    # The event's base.sha is A, an older tip of main: the merge commit's first parent wins.
    event = {"pull_request": {"base": {"sha": history["a"]}, "head": {"sha": "ignored"}}}
    rev = revisions(_at(history, "m"), event=event)
    assert (rev.base, rev.head, rev.tree) == (history["b"], history["f"], history["m"])
    assert rev.base_from == "the merge commit's first parent"


def test_explicit_base_and_head_win(history):
    rev = revisions(_at(history, "m"), base="main~2", head="feature", event={})
    assert (rev.base, rev.head, rev.base_from) == (history["a"], history["f"], "--base")


def test_an_explicit_base_on_a_merge_commit_describes_the_tree_itself(history):
    # Given a base, the merge commit's second parent is no longer known to be the PR's head.
    rev = revisions(_at(history, "m"), base=history["b"], event={})
    assert (rev.base, rev.head) == (history["b"], history["m"])


def test_a_merge_queue_names_its_own_base_and_head(history):
    queue = {"merge_group": {"base_sha": history["a"], "head_sha": history["f"]}}
    rev = revisions(_at(history, "m"), event=queue)
    assert (rev.base, rev.head) == (history["a"], history["f"])
    assert rev.base_from == "the merge queue's base_sha"


def test_a_branch_checkout_uses_the_merge_base_with_the_event_base(history):
    # Not a merge commit (the head checked out directly): the base is where the PR branched.
    event = {"pull_request": {"base": {"sha": history["b"]}, "head": {"sha": history["f"]}}}
    rev = revisions(_at(history, "f"), event=event)
    assert (rev.base, rev.head, rev.tree) == (history["a"], history["f"], history["f"])
    assert rev.base_from == "merge-base with the PR's base"


def test_without_a_head_in_the_event_the_tree_is_the_head(history):
    event = {"pull_request": {"base": {"sha": history["a"]}}}
    rev = revisions(_at(history, "f"), event=event)
    assert (rev.base, rev.head) == (history["a"], history["f"])


def test_no_merge_commit_and_no_event_is_a_usage_error(history):
    with pytest.raises(UsageError, match=r"cannot tell the PR's base: HEAD \(.*pass --base SHA"):
        revisions(_at(history, "f"), event={})


@pytest.mark.parametrize("where", ["base", "head"])
def test_an_unknown_revision_names_itself_and_the_fix(history, where):
    with pytest.raises(UsageError, match=r"git revision 'no-such-rev' not found in .*fetch-depth"):
        revisions(_at(history, "m"), event={}, **{where: "no-such-rev"})
