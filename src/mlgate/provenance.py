"""Where the running mlgate was built from: `OWNER/REPO@<commit>`, the record that the build
backend (build_backend/mlgate_build.py) writes into every wheel, sdist and editable install.

`mlgate --version` prints it, and `mlgate init` pins the GitHub Action of that commit by default.
"""

from __future__ import annotations

import re
from importlib import resources

__all__ = ["ACTION_REF", "built_from", "version_line"]

# OWNER/REPO@<full commit SHA>: the only form a workflow may pin an action by.
ACTION_REF = re.compile(r"([A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+)@([0-9a-f]{40})")


def built_from() -> str | None:
    """The recorded `OWNER/REPO@<commit>`, or None for a build that recorded none (a tree
    that is not a GitHub clone, built without MLGATE_SOURCE)."""
    try:
        text = resources.files("mlgate").joinpath("_source.txt").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None
    text = text.strip()
    return text if ACTION_REF.fullmatch(text) else None


def version_line() -> str:
    from . import __version__

    source = built_from()
    where = f"built from {source}" if source else "no source commit recorded in this build"
    return f"mlgate {__version__} ({where})"
