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
# mlgate's own action and the workflows `mlgate init` writes, which call it.
ACTION = REPO / "action.yml"
TEMPLATES = REPO / "src" / "mlgate" / "templates" / "workflows"
# ../shared/actions beside the clone, or where MLGATE_TEST_ACTIONS_DIR says (a worktree elsewhere).
ACTIONS_DIR = Path(os.environ.get("MLGATE_TEST_ACTIONS_DIR") or REPO.parent / "shared" / "actions")
STAND_INS = Path(__file__).resolve().parent / "stand_ins"
# Stand-ins for actions whose code would talk to GitHub's artifact storage.
STOOD_IN = {
    "actions/upload-artifact": STAND_INS / "upload-artifact",
    "actions/download-artifact": STAND_INS / "download-artifact",
}
# uv as the action installs it: pinned with its hashes; then the build backend, by hash.
UV_LOCK = REPO / "requirements-uv.lock"
# Workflows the act tests never run.
NOT_RUN = {"release.yml"}
BUILD_REQUIREMENTS = REPO / "action" / "build.txt"


class EngineError(RuntimeError):
    """The harness could not run act as asked (not a job failure: those are results)."""


def act_binary() -> str | None:
    local = Path(sys.executable).with_name("act")
    return str(local) if local.is_file() else shutil.which("act")


def pinned_actions() -> dict[str, Path]:
    """`owner/repo@sha` of every `uses:` in the workflows, mlgate's action and the workflows
    `mlgate init` writes -> the directory act runs it from (mlgate's own action is mapped by
    the test that pins it)."""
    found: dict[str, Path] = {}
    # release.yml publishes to PyPI and attests with GitHub's signing service: it is checked
    # statically (test_action_static.py), never run here, so its actions need no local copy.
    workflows = [p for p in WORKFLOWS.glob("*.yml") if p.name not in NOT_RUN]
    for path in sorted([*workflows, ACTION, *TEMPLATES.glob("*.yml")]):
        for uses in re.findall(r"^\s*(?:-\s+)?uses:\s*(\S+)", path.read_text(), re.MULTILINE):
            action, _, sha = uses.partition("@")
            if not sha or "/" not in action:  # ./ (this repository) or init's placeholder
                continue
            directory = STOOD_IN.get(action) or ACTIONS_DIR / f"{action.replace('/', '+')}@{sha}"
            found[uses] = directory
    return found


def missing_actions() -> list[str]:
    return [uses for uses, d in pinned_actions().items() if not (d / "action.yml").is_file()]


def workflow_python() -> str:
    """The `python-version` the action's setup-python step asks for by default, and every
    workflow's setup-python step (one value across them)."""
    versions = {str(yaml.safe_load(ACTION.read_text())["inputs"]["python-version"]["default"])}
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job in (yaml.safe_load(path.read_text()).get("jobs") or {}).values():
            for step in job.get("steps") or []:
                if "setup-python" in str(step.get("uses", "")):
                    versions.add(str(step["with"]["python-version"]))
                if step.get("uses") == "./" and "python-version" in (step.get("with") or {}):
                    versions.add(str(step["with"]["python-version"]))
    if len(versions) != 1:
        raise EngineError(f"the workflows ask setup-python for {sorted(versions)}: expected one")
    return versions.pop()


def prepare_tool_cache(cache: Path, lock: Path = REPO / "requirements.lock") -> Path:
    """act's RUNNER_TOOL_CACHE with this interpreter's Python, as setup-python lays it out
    (Python/<x.y.z>/x64 plus x64.complete), with what mlgate's action installs there on a
    runner's first job: uv and the build backend, the lockfile, all compiled to bytecode. Each
    job's install step then runs for real and finds them. Returns the Python directory."""
    version = platform.python_version()
    target = cache / "tool_cache" / "Python" / version / "x64"
    if not (target.parent / "x64.complete").exists():
        subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
        python = str(target / "bin" / "python")
        uv = str(target / "bin" / "uv")
        hashed = [uv, "pip", "install", "-q", "--python", python, "--require-hashes"]
        pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        for args in (
            [*pip, "--require-hashes", "--no-deps", "-r", str(UV_LOCK)],
            [*hashed, "--compile-bytecode", "-r", str(BUILD_REQUIREMENTS), "-r", str(lock)],
        ):
            done = subprocess.run(args, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise EngineError(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        (target.parent / "x64.complete").touch()
    return target
