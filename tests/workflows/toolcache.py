"""Where act finds what a job needs on this machine, offline: the pinned actions' code (and the
stand-ins mapped over the artifact actions) and a tool cache in which setup-python finds this
interpreter's Python with the lockfile already installed.

`prepare_tool_cache` lays the Python out as setup-python expects it, so each job's own install
step runs for real and finds the packages there.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
# ../shared/actions beside the clone, or where MLGATE_TEST_ACTIONS_DIR says (a worktree elsewhere).
ACTIONS_DIR = Path(os.environ.get("MLGATE_TEST_ACTIONS_DIR") or REPO.parent / "shared" / "actions")
STAND_INS = Path(__file__).resolve().parent / "stand_ins"
# Stand-ins for actions whose code would talk to GitHub's artifact storage.
STOOD_IN = {
    "actions/upload-artifact": STAND_INS / "upload-artifact",
    "actions/download-artifact": STAND_INS / "download-artifact",
}
# uv as the workflows' install step installs it: pinned with its hashes.
UV_LOCK = REPO / "requirements-uv.lock"


class EngineError(RuntimeError):
    """The harness could not run act as asked (not a job failure: those are results)."""


def act_binary() -> str | None:
    local = Path(sys.executable).with_name("act")
    return str(local) if local.is_file() else shutil.which("act")


def pinned_actions() -> dict[str, Path]:
    """`owner/repo@sha` of every `uses:` in the workflows -> the directory act runs it from."""
    found: dict[str, Path] = {}
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for uses in re.findall(r"^\s*(?:-\s+)?uses:\s*(\S+)", path.read_text(), re.MULTILINE):
            action, _, sha = uses.partition("@")
            directory = STOOD_IN.get(action) or ACTIONS_DIR / f"{action.replace('/', '+')}@{sha}"
            found[uses] = directory
    return found


def missing_actions() -> list[str]:
    return [uses for uses, d in pinned_actions().items() if not (d / "action.yml").is_file()]


def workflow_python() -> str:
    """The `python-version` every setup-python step asks for (one value across the workflows)."""
    versions = set()
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job in (yaml.safe_load(path.read_text()).get("jobs") or {}).values():
            for step in job.get("steps") or []:
                if "setup-python" in str(step.get("uses", "")):
                    versions.add(str(step["with"]["python-version"]))
    if len(versions) != 1:
        raise EngineError(f"the workflows ask setup-python for {sorted(versions)}: expected one")
    return versions.pop()


def prepare_tool_cache(cache: Path, lock: Path = REPO / "requirements.lock") -> Path:
    """act's RUNNER_TOOL_CACHE with this interpreter's Python, as setup-python lays it out
    (Python/<x.y.z>/x64 plus x64.complete), and the lockfile installed the way the workflows
    install it. Returns the Python directory."""
    version = platform.python_version()
    target = cache / "tool_cache" / "Python" / version / "x64"
    if not (target.parent / "x64.complete").exists():
        subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
        python = str(target / "bin" / "python")
        uv = str(target / "bin" / "uv")
        lock_install = [uv, "pip", "install", "-q", "--python", python, "--require-hashes"]
        for args in (
            [python, "-m", "pip", "install", "-q", "--require-hashes", "-r", str(UV_LOCK)],
            [*lock_install, "-r", str(lock)],
        ):
            done = subprocess.run(args, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise EngineError(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        (target.parent / "x64.complete").touch()
    return target
