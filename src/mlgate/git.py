"""The one way mlgate asks git something: a command's output, or None when git says no."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Literal, overload

__all__ = ["git", "resolve"]


@overload
def git(root: str | Path, *args: str, binary: Literal[False] = False) -> str | None: ...
@overload
def git(root: str | Path, *args: str, binary: Literal[True]) -> bytes | None: ...


def git(root: str | Path, *args: str, binary: bool = False) -> str | bytes | None:
    """`git -C root ARGS`: stdout (text stripped, None when empty) on success, else None.

    A missing git, a timeout and a non-zero exit all read as "no answer": callers decide what
    that means (no actor name, no previous commit, no file at that revision).
    """
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=not binary,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout if binary else (done.stdout.strip() or None)


def resolve(root: str | Path, rev: str) -> str | None:
    """The full SHA of the commit `rev` names (a SHA, branch, tag, `HEAD~1`, ...) in the
    repository at `root`; None when it names none here (a typo, or history this clone lacks).
    Callers word the error: what a missing revision means differs by where it came from."""
    return git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
