"""The GitHub Actions context: who, which commit, which run; outputs and the step summary.

Outside Actions the same facts come from git and the local user, so a release made from a laptop
is recorded as faithfully as one made by a workflow.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .git import git, resolve

__all__ = [
    "actor",
    "commit",
    "context_tags",
    "event",
    "in_actions",
    "pr_number",
    "publish",
    "ref",
    "run_url",
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
    return os.environ.get("GITHUB_SHA") if in_actions() else resolve(".", "HEAD")


def ref() -> str | None:
    if in_actions():
        return os.environ.get("GITHUB_HEAD_REF") or os.environ.get("GITHUB_REF_NAME")
    return git(".", "rev-parse", "--abbrev-ref", "HEAD")


def run_url() -> str | None:
    server, repo, run = (
        os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None


_QUEUE_PR = re.compile(r"/pr-(\d+)-[0-9a-f]+$")  # gh-readonly-queue/<base>/pr-<N>-<sha>


def pr_number(payload: dict[str, Any] | None = None) -> str | None:
    """The pull request a run is for: a `pull_request` event's number, or the one a merge queue
    names in its branch (`merge_group.head_ref`); None for any other event. `payload` defaults
    to this run's event."""
    payload = event() if payload is None else payload
    number = (payload.get("pull_request") or {}).get("number")
    if number:
        return str(number)
    match = _QUEUE_PR.search((payload.get("merge_group") or {}).get("head_ref", ""))
    return match.group(1) if match else None


def context_tags(pr: str | None = None) -> dict[str, str]:
    """Tags that say where a version came from: commit, branch, PR and CI run when known."""
    facts = {
        "git_sha": commit(),
        "git_ref": ref(),
        "pr_number": pr or pr_number(),
        "ci_run_url": run_url(),
    }
    return {k: str(v) for k, v in facts.items() if v}


def publish(
    outputs: Mapping[str, Any],
    summary: Iterable[str] = (),
    files: Iterable[tuple[str | None, Callable[[], str]]] = (),
) -> None:
    """What a command leaves for the workflow, in one place for every command: the report files
    asked for (`files`: path or None, and the text's renderer, called only for a path), the step
    summary's paragraphs and the step outputs. Outside Actions only the files are written."""
    for path, render in files:
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(render(), encoding="utf-8")
    _append_summary(summary)
    _write_outputs(outputs)


def _output_text(value: Any) -> str:
    """An output as workflows compare it: `true`/`false` for a flag, empty for nothing."""
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _write_outputs(values: Mapping[str, Any]) -> None:
    """Append step outputs; a random delimiter keeps a value from forging another output."""
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        for key, value in values.items():
            delimiter = f"mlgate_{uuid.uuid4().hex}"
            fh.write(f"{key}<<{delimiter}\n{_output_text(value)}\n{delimiter}\n")


def _append_summary(paragraphs: Iterable[str]) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        for markdown in paragraphs:
            fh.write(markdown.rstrip("\n") + "\n")
