"""A GitHub repository made of real git repositories, and the events GitHub would send for it.

`Project` holds a bare `origin` (what GitHub hosts) and a developer's clone, both with a copy of
this repository's files (the workflows, src/, the lockfile, params.yaml, data/). Each event comes
with `checkout`: a fresh clone at the commit the job checks out (for a pull request, the test
merge commit GitHub makes at refs/pull/<N>/merge), which is the directory act runs in.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO

NULL_SHA = "0" * 40
REPOSITORY = "acme/obesity"
SERVER_URL = "https://github.com"
# Not copied into a project: tests, and nothing a workflow run reads.
_LEFT_OUT = ("tests/", ".ci/", "benchmarks/")


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


@dataclass
class Event:
    name: str
    payload: dict[str, Any]
    checkout: Path
    inputs: dict[str, str] = field(default_factory=dict)


@dataclass
class PullRequest:
    number: int
    head_ref: str
    state: str = "open"
    head_sha: str = ""
    base_sha: str = ""


class Project:
    """This repository's files in a bare origin plus a developer's clone (`dev`)."""

    def __init__(self, root: Path, model_params: dict[str, Any]) -> None:
        self.root = root
        self.origin = root / "origin.git"
        self.dev = root / "dev"
        self.pulls: dict[int, PullRequest] = {}
        self._checkouts = 0
        root.mkdir(parents=True, exist_ok=True)
        git(root, "init", "-q", "--bare", "-b", "main", str(self.origin))
        # GitHub serves any reachable commit by SHA; a local origin only when told to.
        git(self.origin, "config", "uploadpack.allowReachableSHA1InWant", "true")
        git(root, "clone", "-q", str(self.origin), str(self.dev))
        for key, value in (("user.name", "Ada"), ("user.email", "ada@example.org")):
            git(self.dev, "config", key, value)
        git(self.dev, "config", "commit.gpgsign", "false")
        git(self.dev, "symbolic-ref", "HEAD", "refs/heads/main")
        self.populate(model_params)
        self.commit("Initial project")
        self.git("push", "-q", "origin", "main")

    def populate(self, model_params: dict[str, Any]) -> None:
        """The first commit's files: this repository's, with the model's parameters set."""
        files = git(REPO, "ls-files", "--cached", "--others", "--exclude-standard").splitlines()
        for rel in files:
            source = REPO / rel
            if rel.startswith(_LEFT_OUT) or not source.is_file():
                continue
            (self.dev / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, self.dev / rel)
        self.edit_params(model={"params": dict(model_params)})

    # -- the developer's side ---------------------------------------------------------------

    def git(self, *args: str) -> str:
        return git(self.dev, *args)

    def rev(self, ref: str) -> str:
        return git(self.origin, "rev-parse", "--verify", f"{ref}^{{commit}}")

    def edit_params(self, **sections: dict[str, Any]) -> None:
        """Update params.yaml's sections (one level deep), as a developer editing it would."""
        path = self.dev / "params.yaml"
        raw = yaml.safe_load(path.read_text())
        for section, values in sections.items():
            raw[section].update(values)
        path.write_text(yaml.safe_dump(raw, sort_keys=False))

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")

    def pull_main(self) -> str:
        self.git("checkout", "-q", "main")
        self.git("pull", "-q", "--ff-only", "origin", "main")
        return self.git("rev-parse", "HEAD")

    def branch(self, name: str, message: str, **params: dict[str, Any]) -> str:
        """A branch from main's tip with params.yaml sections changed, pushed to origin."""
        self.pull_main()
        self.git("checkout", "-q", "-b", name)
        self.edit_params(**params)
        sha = self.commit(message)
        self.git("push", "-q", "origin", name)
        return sha

    def merge(self, branch: str, number: int) -> tuple[str, str]:
        """Merge a PR's branch into main (a merge commit) and push; returns (before, after)."""
        before = self.pull_main()
        self.git("merge", "-q", "--no-ff", branch, "-m", f"Merge pull request #{number}")
        self.git("push", "-q", "origin", "main")
        return before, self.git("rev-parse", "HEAD")

    def push_file(self, rel: str, text: str, message: str) -> tuple[str, str]:
        """Commit one file on main and push; returns (before, after)."""
        before = self.pull_main()
        (self.dev / rel).parent.mkdir(parents=True, exist_ok=True)
        (self.dev / rel).write_text(text)
        after = self.commit(message)
        self.git("push", "-q", "origin", "main")
        return before, after

    # -- what GitHub sends ------------------------------------------------------------------

    def checkout(self, ref: str, branch: str | None = None) -> Path:
        """A fresh clone of origin at `ref` (on `branch` if given): the directory act runs in."""
        self._checkouts += 1
        path = self.root / f"checkout-{self._checkouts}"
        git(self.root, "clone", "-q", "--no-checkout", str(self.origin), str(path))
        git(path, "fetch", "-q", "origin", ref)
        if branch:
            git(path, "checkout", "-q", "-B", branch, "FETCH_HEAD")
        else:
            git(path, "checkout", "-q", "--detach", "FETCH_HEAD")
        return path

    def _common(self, actor: str) -> dict[str, Any]:
        owner, name = REPOSITORY.split("/")
        repository = {
            "full_name": REPOSITORY,
            "name": name,
            "owner": {"login": owner},
            "default_branch": "main",
            "html_url": f"{SERVER_URL}/{REPOSITORY}",
        }
        return {"repository": repository, "sender": {"login": actor}}

    def pull_request(
        self, action: str, number: int, head: str | None = None, actor: str = "ada"
    ) -> Event:
        """A `pull_request` event for PR `number` from branch `head` into main. Unless it
        closes the PR, origin gets refs/pull/<N>/head and refs/pull/<N>/merge as GitHub makes
        them and the job checks out the merge commit; `closed` checks out the base."""
        pull = self.pulls.setdefault(number, PullRequest(number, head or f"pr-{number}"))
        if action == "closed":
            pull.state = "closed"
            checkout = self.checkout(pull.base_sha)
        else:
            pull.state = "open"
            pull.head_sha = self.rev(f"refs/heads/{pull.head_ref}")
            pull.base_sha = self.rev("refs/heads/main")
            merge = self._test_merge(number, pull.base_sha, pull.head_sha)
            checkout = self.checkout(merge)
        sides = {
            side: {"sha": sha, "ref": ref, "repo": {"full_name": REPOSITORY}}
            for side, sha, ref in (
                ("head", pull.head_sha, pull.head_ref),
                ("base", pull.base_sha, "main"),
            )
        }
        payload = {
            "action": action,
            "number": number,
            "pull_request": {
                "number": number,
                "state": pull.state,
                "html_url": f"{SERVER_URL}/{REPOSITORY}/pull/{number}",
                "user": {"login": actor},
                **sides,
            },
            **self._common(actor),
        }
        return Event("pull_request", payload, checkout)

    def _test_merge(self, number: int, base: str, head: str) -> str:
        git(self.origin, "update-ref", f"refs/pull/{number}/head", head)
        tree = git(self.origin, "merge-tree", "--write-tree", base, head).split()[0]
        message = f"Merge {head} into {base}"
        merge = git(self.origin, "commit-tree", tree, "-p", base, "-p", head, "-m", message)
        git(self.origin, "update-ref", f"refs/pull/{number}/merge", merge)
        return merge

    def push(self, before: str, after: str | None = None, actor: str = "ada") -> Event:
        """The `push` event to main from `before` to `after` (default: origin's main)."""
        after = after or self.rev("refs/heads/main")
        payload = {
            "ref": "refs/heads/main",
            "before": before,
            "after": after,
            "created": before == NULL_SHA,
            "forced": False,
            "head_commit": {"id": after},
            "pusher": {"name": actor},
            **self._common(actor),
        }
        return Event("push", payload, self.checkout(after, branch="main"))

    def dispatch(self, inputs: dict[str, str], actor: str = "ada") -> Event:
        """A `workflow_dispatch` on main's tip with `inputs`."""
        payload = {"inputs": inputs, "ref": "refs/heads/main", **self._common(actor)}
        after = self.rev("refs/heads/main")
        return Event("workflow_dispatch", payload, self.checkout(after, branch="main"), inputs)

    def workflow_run(
        self,
        pr: Event,
        run_id: int,
        conclusion: str,
        head_sha: str | None = None,
        path: str = ".github/workflows/pr.yml",
    ) -> Event:
        """The `workflow_run` (completed) event of run `run_id` of the workflow named `pr` in
        file `path` (pr.yml's by default) for event `pr`."""
        pull = pr.payload["pull_request"]
        payload = {
            "action": "completed",
            "workflow_run": {
                "id": run_id,
                "name": "pr",
                "event": "pull_request",
                "path": path,
                "status": "completed",
                "conclusion": conclusion,
                "head_sha": head_sha or pull["head"]["sha"],
                "head_branch": pull["head"]["ref"],
                "head_repository": {"full_name": REPOSITORY},
                "pull_requests": [{"number": pull["number"]}],
            },
            **self._common("ada"),
        }
        return Event("workflow_run", payload, self.checkout(self.rev("refs/heads/main"), "main"))
