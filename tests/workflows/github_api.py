"""GitHub's REST and GraphQL API and its git hosting, stood in for on 127.0.0.1.

`FakeGitHubAPI` is an HTTP server on this machine that answers the calls the workflows make (a
pull request's head, the sticky comment action's queries and mutations) and records every
request; the jobs reach it through GITHUB_API_URL/GITHUB_GRAPHQL_URL. The same server is
GITHUB_SERVER_URL and serves a bare `origin` over git's smart HTTP protocol with
`git http-backend`, for a checkout of another commit (`ref:`), which act hands to the real
checkout action. GitHub itself is not reachable from the tests: this is the one stand-in for it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


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

    Tests set `pulls[number] = head_sha` and the check runs of a commit (`check_run`); comments
    live in `comments`; every API request is in `calls`. Anything else answers 404, as GitHub
    does for a resource it does not have.
    """

    def __init__(self) -> None:
        self.repositories: dict[str, Path] = {}  # "owner/name" -> bare repository
        self.pulls: dict[int, str] = {}
        self.check_runs: dict[str, list[dict[str, Any]]] = {}  # head sha -> check runs
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
            self.check_runs.clear()
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

    def check_run(self, sha: str, name: str, conclusion: str) -> None:
        """A completed check run `name` on commit `sha`, as a job of a workflow run reports it."""
        with self._lock:
            runs = self.check_runs.setdefault(sha, [])
            number = 1 + sum(len(r) for r in self.check_runs.values())
            runs.append(
                {"id": number, "name": name, "status": "completed", "conclusion": conclusion}
            )

    def comments_on(self, number: int) -> list[Comment]:
        return [c for c in self.comments if c.number == number]

    def _route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if pull := re.fullmatch(r"/repos/[^/]+/[^/]+/pulls/(\d+)", path):
            number = int(pull.group(1))
            if method == "GET" and number in self.pulls:
                return 200, {"number": number, "head": {"sha": self.pulls[number]}}
        runs = re.fullmatch(r"/repos/[^/]+/[^/]+/commits/([0-9a-f]{40})/check-runs", path)
        if runs and method == "GET":
            found = self.check_runs.get(runs.group(1), [])
            return 200, {"total_count": len(found), "check_runs": found}
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
