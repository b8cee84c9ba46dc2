"""Real git repositories for lifecycle tests: a bare origin and clones holding the project.

A clone holds what the fingerprint hashes (params.yaml, the dataset, src/mlgate/train.py,
src/mlgate/data.py and requirements.lock) plus a README, and runs the installed `mlgate` console
script with the clone as its working directory, as the workflows do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from mlgate.fingerprint import TRAINING_CODE

from ..conftest import REPO, set_model_params

MLGATE = Path(sys.executable).with_name("mlgate")
TRAINING_FILES = (*TRAINING_CODE, "requirements.lock")  # what the fingerprint hashes
NULL_SHA = "0" * 40


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done.stdout.strip()


class Clone:
    """A working copy of the origin, with its own identity and the registry URI for mlgate."""

    def __init__(self, path: Path, tracking_uri: str, actor: str = "Ada Lovelace") -> None:
        self.path = path
        self.tracking_uri = tracking_uri
        self.git("config", "user.name", actor)
        self.git("config", "user.email", "ada@example.org")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        return _run(["git", *args], self.path)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def commit_all(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.head()

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
        env.update(MLFLOW_TRACKING_URI=self.tracking_uri, MLFLOW_LOGGING_LEVEL="ERROR", **extra)
        return env

    def mlgate(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run the console script here; the caller checks the exit code."""
        return subprocess.run(
            [str(MLGATE), *args],
            cwd=self.path,
            env=self.env(**env),
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )

    def start(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(MLGATE), *args],
            cwd=self.path,
            env=self.env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def set_model_params(self, **params: object) -> None:
        set_model_params(self.path, **params)


def make_origin(
    tmp_path: Path, tracking_uri: str, model_params: dict[str, object], name: str | None = None
) -> tuple[Path, Clone]:
    """A bare origin whose main holds one commit with the project; returns it and a clone."""
    origin = tmp_path / "origin.git"
    _run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], tmp_path)
    clone = clone_of(origin, tmp_path / "work", tracking_uri)
    clone.git("symbolic-ref", "HEAD", "refs/heads/main")
    root = clone.path
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    shutil.copytree(REPO / "data", root / "data")
    for rel in TRAINING_FILES:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / rel, root / rel)
    (root / "README.md").write_text("# obesity classifier\n")
    # Local MLflow artifacts and reports are not part of the project.
    (root / ".gitignore").write_text("mlruns/\nmlartifacts/\nreports/\nmetrics.json\n")
    clone.set_model_params(**model_params)
    if name:
        import yaml

        raw = yaml.safe_load((root / "params.yaml").read_text())
        raw["mlflow"]["registered_model_name"] = name
        (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    clone.commit_all("Initial project")
    clone.git("push", "-q", "origin", "main")
    return origin, clone


def clone_of(origin: Path, path: Path, tracking_uri: str, actor: str = "Ada Lovelace") -> Clone:
    _run(["git", "clone", "-q", str(origin), str(path)], origin.parent)
    return Clone(path, tracking_uri, actor)
