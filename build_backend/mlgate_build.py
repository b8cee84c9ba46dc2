"""setuptools' build backend, plus one record: where this build of mlgate comes from.

Every wheel, sdist and editable install carries `mlgate/_source.txt`, `OWNER/REPO@<commit>`, so
that `mlgate --version` can name it and `mlgate init` can pin the GitHub Action of the very
commit that built the running mlgate. The record is taken, in order, from:
- MLGATE_SOURCE, when it is `OWNER/REPO@<40 hex>` (the action sets it from the action's own
  repository and ref: GitHub downloads an action without its .git);
- git, when the tree is a clone of a GitHub repository (HEAD and `origin`'s OWNER/REPO);
- the record already in the tree (a wheel built from an sdist keeps the sdist's).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403  (the rest of the backend's hooks, unchanged)

RECORD = Path("src") / "mlgate" / "_source.txt"
SOURCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+@[0-9a-f]{40}")
GITHUB_REMOTE = re.compile(
    r"github\.com[:/]+([A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+?)(?:\.git)?/?$"
)


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def source() -> str | None:
    """`OWNER/REPO@<commit>` of the tree being built, or None when nothing says."""
    given = os.environ.get("MLGATE_SOURCE", "")
    if SOURCE.fullmatch(given):
        return given
    if not Path(".git").exists():
        return None
    commit = _git("rev-parse", "HEAD")
    remote = GITHUB_REMOTE.search(_git("remote", "get-url", "origin"))
    if remote and re.fullmatch(r"[0-9a-f]{40}", commit):
        return f"{remote.group(1)}@{commit}"
    return None


def _record() -> None:
    found = source()
    if found:
        RECORD.write_text(found + "\n", encoding="utf-8")


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _record()
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_sdist(sdist_directory, config_settings=None):
    _record()
    return _setuptools.build_sdist(sdist_directory, config_settings)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    _record()
    return _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
