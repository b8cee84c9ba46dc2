"""The GitHub Actions context: who, which commit, which run; outputs and the step summary.

Outside Actions the same facts come from git and the local user, so a release made from a laptop
is recorded as faithfully as one made by a workflow.
"""

from __future__ import annotations

import getpass
import json
import os
import uuid
from typing import Any

from .git import git

__all__ = [
    "actor",
    "append_summary",
    "commit",
    "context_tags",
    "event",
    "in_actions",
    "pr_number",
    "ref",
    "run_url",
    "write_outputs",
]


def in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def in_ci() -> bool:
    """A CI run (`CI=true`, which GitHub Actions and most CI services set), or Actions itself."""
    return os.environ.get("CI", "").lower() == "true" or in_actions()


def event() -> dict[str, Any]:
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path or not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def actor() -> str:
    return (
        os.environ.get("GITHUB_ACTOR")
        or git(".", "config", "user.name")
        or os.environ.get("USER")
        or getpass.getuser()
    )


def commit() -> str | None:
    return os.environ.get("GITHUB_SHA") if in_actions() else git(".", "rev-parse", "HEAD")


def ref() -> str | None:
    if in_actions():
        return os.environ.get("GITHUB_HEAD_REF") or os.environ.get("GITHUB_REF_NAME")
    return git(".", "rev-parse", "--abbrev-ref", "HEAD")


def run_url() -> str | None:
    server, repo, run = (
        os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None


def pr_number() -> str | None:
    number = (event().get("pull_request") or {}).get("number")
    return str(number) if number else None


def context_tags(pr: str | None = None) -> dict[str, str]:
    """Tags that say where a version came from: commit, branch, PR and CI run when known."""
    facts = {
        "git_sha": commit(),
        "git_ref": ref(),
        "pr_number": pr or pr_number(),
        "ci_run_url": run_url(),
    }
    return {k: str(v) for k, v in facts.items() if v}


def write_outputs(values: dict[str, Any]) -> None:
    """Append step outputs; a random delimiter keeps a value from forging another output."""
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        for key, value in values.items():
            delimiter = f"mlgate_{uuid.uuid4().hex}"
            fh.write(f"{key}<<{delimiter}\n{'' if value is None else value}\n{delimiter}\n")


def append_summary(markdown: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(markdown.rstrip("\n") + "\n")
