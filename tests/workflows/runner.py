"""A small local GitHub Actions runner: executes a job of this project's workflows for real.

`run:` steps run in bash, in a clone of a local bare "origin", with what Actions provides: the
event payload (GITHUB_EVENT_PATH), GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_STEP_SUMMARY,
RUNNER_TEMP and the GITHUB_* variables. `uses:` steps are replaced by local equivalents of the
actions the workflows use (checkout fetches from the origin; artifacts are folders; the sticky
comment is a file), and the `gh` CLI by a shim that answers only the API calls the workflows make
(shims/gh.py). The `mlgate` on PATH is the one installed in the venv running the tests.

It is deliberately small: expressions support exactly the forms the workflows use, and anything
else (an unknown context, function, operator, action, input, step or job key) raises RunnerError
naming it, so a workflow edit this runner cannot execute faithfully fails here instead of being
misread. Not emulated: `concurrency`, `environment` protection rules, `permissions` and token
scopes, timeouts (beyond a per-step cap), matrices, services, containers, reusable workflows.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS_DIR = REPO / ".github" / "workflows"
VENV_BIN = Path(sys.executable).parent  # holds the `mlgate` under test (an editable install)
GH_SHIM = Path(__file__).with_name("shims") / "gh.py"
NULL_SHA = "0" * 40
SERVER_URL = "https://github.com"
_FIRST_RUN_ID = 7000

__all__ = [
    "ACTIONS",
    "NULL_SHA",
    "Event",
    "ExpressionError",
    "JobRun",
    "LocalGitHub",
    "RunnerError",
    "Scope",
    "StepRun",
    "condition",
    "evaluate",
    "interpolate",
    "load_workflow",
    "parse_expression",
    "parse_file_command",
    "path_filter_matches",
    "triggers",
]


class RunnerError(Exception):
    """The workflow uses something this runner does not execute faithfully."""


class ExpressionError(RunnerError):
    """An expression outside the small supported subset, or one that cannot be evaluated."""


class ActionFailed(Exception):
    """A `uses:` step failed the way the real action would: the step fails, not the runner."""


# --- expressions ---------------------------------------------------------------------------------
# GitHub's expression language, reduced to what the workflows use: the contexts github, secrets,
# inputs, steps, runner and env; literals; == != && || ! and parentheses; format() and the status
# functions. Semantics follow GitHub's documentation: && and || return an operand, == coerces
# mismatched types to numbers, strings compare ignoring case, a missing property is null.

CONTEXTS = frozenset({"github", "secrets", "inputs", "steps", "runner", "env"})
STATUS_FUNCTIONS = frozenset({"success", "failure", "cancelled", "always"})
_ARITY = {"format": None, **dict.fromkeys(STATUS_FUNCTIONS, 0)}  # None: one or more
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>\d+(?:\.\d+)?(?![\w.]))"
    r"|(?P<op>==|!=|&&|\|\||[!(),.])|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)


class Strict(dict):
    """A context or payload object built here: a missing key is an error, not null, since it
    means a typo in the workflow or a payload field this runner does not provide."""

    def __init__(self, label: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label = label


class Defaulting(dict):
    """A mapping with a value for every key (GitHub: an unset secret reads as '')."""

    def __init__(self, default: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default = default


def strict_tree(value: Any, label: str) -> Any:
    if isinstance(value, dict):
        return Strict(label, {k: strict_tree(v, f"{label}.{k}") for k, v in value.items()})
    if isinstance(value, list):
        return [strict_tree(v, f"{label}[]") for v in value]
    return value


class _Parser:
    """Recursive descent over `||` < `&&` < `== !=` < `!` < property access < primary."""

    _LEVELS = (("||",), ("&&",), ("==", "!="))

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while text[pos:].strip():
            match = _TOKEN.match(text, pos)
            if not match:
                raise self.fail(f"unsupported syntax at {text[pos:].strip()!r}")
            self.tokens.append((match.lastgroup, match[match.lastgroup]))
            pos = match.end()
        self.pos = 0

    def fail(self, message: str) -> ExpressionError:
        return ExpressionError(f"{message} in ${{{{ {self.text} }}}}")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise self.fail(f"expected {value or 'more'}, got {token[1] if token else 'the end'}")
        self.pos += 1
        return token

    def parse(self) -> tuple:
        node = self.binary(0)
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek()[1]!r}")
        return node

    def binary(self, level: int) -> tuple:
        if level == len(self._LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while (token := self.peek()) and token[0] == "op" and token[1] in self._LEVELS[level]:
            self.take()
            node = (token[1], node, self.binary(level + 1))
        return node

    def unary(self) -> tuple:
        if self.peek() == ("op", "!"):
            self.take()
            return ("!", self.unary())
        node = self.primary()
        while self.peek() == ("op", "."):
            self.take()
            kind, name = self.take()
            if kind != "name":
                raise self.fail(f"a property name must follow '.', got {name!r}")
            node = ("prop", node, name)
        return node

    def primary(self) -> tuple:
        kind, value = self.take()
        if kind == "string":
            return ("lit", value[1:-1].replace("''", "'"))
        if kind == "number":
            return ("lit", float(value) if "." in value else int(value))
        if (kind, value) == ("op", "("):
            node = self.binary(0)
            self.take(")")
            return node
        if kind != "name":
            raise self.fail(f"unexpected {value!r}")
        if value in ("true", "false", "null"):
            return ("lit", {"true": True, "false": False, "null": None}[value])
        if self.peek() == ("op", "("):
            return self.call(value)
        if value not in CONTEXTS:
            raise self.fail(f"unsupported context {value!r} (known: {', '.join(sorted(CONTEXTS))})")
        return ("ctx", value)

    def call(self, name: str) -> tuple:
        if name not in _ARITY:
            raise self.fail(f"unsupported function {name}() (known: {', '.join(sorted(_ARITY))})")
        self.take("(")
        args = []
        while self.peek() != ("op", ")"):
            if args:
                self.take(",")
            args.append(self.binary(0))
        self.take(")")
        arity = _ARITY[name]
        if (arity is None and not args) or (arity is not None and len(args) != arity):
            raise self.fail(f"{name}() called with {len(args)} arguments")
        return ("call", name, args)


def parse_expression(text: str) -> tuple:
    """The syntax tree of one expression (the text between `${{` and `}}`)."""
    return _Parser(text).parse()


def _uses_status_function(node: tuple) -> bool:
    if node[0] == "call":
        return node[1] in STATUS_FUNCTIONS or any(_uses_status_function(a) for a in node[2])
    return any(isinstance(child, tuple) and _uses_status_function(child) for child in node[1:])


@dataclass
class Scope:
    """What an expression sees: the contexts, and the job's status for the status functions."""

    contexts: dict[str, Any]
    job_failed: bool = False


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string" if isinstance(value, str) else "object"


def _truthy(value: Any) -> bool:
    if _kind(value) == "object":
        return True
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (None, False, 0, "")


def _number(value: Any) -> float:
    """GitHub's coercion when comparing mismatched types: null 0, booleans 1/0, '' 0, other
    strings parsed as a number (NaN if they are not one), objects NaN."""
    kind = _kind(value)
    if kind in ("null", "boolean", "number"):
        return float(value or 0)
    if kind == "string":
        text = value.strip()
        if not text:
            return 0.0
        if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
            return float(text)
    return math.nan


def _equal(a: Any, b: Any) -> bool:
    if _kind(a) != _kind(b):
        return _number(a) == _number(b)  # NaN equals nothing
    if isinstance(a, str):
        return a.casefold() == b.casefold()
    return a is b if _kind(a) == "object" else a == b


def to_string(value: Any, where: str = "") -> str:
    kind = _kind(value)
    if kind == "object":
        raise ExpressionError(f"{where}: an object cannot be used as a string (no toJSON() here)")
    if kind == "boolean":
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _format(template: str, args: list[Any], where: str) -> str:
    if re.search(r"[{}]", re.sub(r"\{\{|\}\}|\{\d+\}", "", template)):
        raise ExpressionError(f"{where}: format() template {template!r} has an unmatched brace")

    def replace(match: re.Match[str]) -> str:
        if match[1] is None:
            return match[0][0]  # {{ or }}
        if int(match[1]) >= len(args):
            raise ExpressionError(f"{where}: format() has no argument {{{match[1]}}}")
        return to_string(args[int(match[1])], where)

    return re.sub(r"\{\{|\}\}|\{(\d+)\}", replace, template)


def _property(value: Any, name: str, where: str) -> Any:
    if isinstance(value, Strict):
        if name not in value:
            known = ", ".join(sorted(value)) or "nothing"
            raise ExpressionError(f"{where}: {value.label} has no {name!r} (it has: {known})")
        return value[name]
    if isinstance(value, Defaulting):
        return value.get(name, value.default)
    if isinstance(value, dict):
        return value.get(name)
    if value is None:
        return None
    raise ExpressionError(f"{where}: property {name!r} of a {_kind(value)}")


def _eval(node: tuple, scope: Scope, where: str) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "ctx":
        if node[1] not in scope.contexts:
            raise ExpressionError(f"{where}: the {node[1]} context is not available here")
        return scope.contexts[node[1]]
    if kind == "prop":
        return _property(_eval(node[1], scope, where), node[2], where)
    if kind == "!":
        return not _truthy(_eval(node[1], scope, where))
    if kind in ("&&", "||"):
        left = _eval(node[1], scope, where)
        return _eval(node[2], scope, where) if _truthy(left) == (kind == "&&") else left
    if kind in ("==", "!="):
        same = _equal(_eval(node[1], scope, where), _eval(node[2], scope, where))
        return same if kind == "==" else not same
    name, args = node[1], [_eval(a, scope, where) for a in node[2]]
    if name == "format":
        return _format(to_string(args[0], where), args[1:], where)
    failed = scope.job_failed  # nothing is ever cancelled here
    return {"success": not failed, "failure": failed, "cancelled": False, "always": True}[name]


def evaluate(expression: str, scope: Scope) -> Any:
    """The value of one expression (the text between `${{` and `}}`)."""
    return _eval(parse_expression(expression), scope, f"${{{{ {expression.strip()} }}}}")


def expression_end(text: str, start: int) -> int:
    """Index of the `}}` closing an expression opened before `start`, outside string literals."""
    quoted = False
    for pos in range(start, len(text)):
        if text[pos] == "'":
            quoted = not quoted
        elif not quoted and text.startswith("}}", pos):
            return pos
    raise ExpressionError(f"unterminated expression in {text!r}")


def _single_expression(text: str) -> str | None:
    stripped = text.strip()
    if stripped.startswith("${{") and expression_end(stripped, 3) == len(stripped) - 2:
        return stripped[3:-2]
    return None


def interpolate(text: str, scope: Scope) -> str:
    """A string with every `${{ expression }}` replaced by its value."""
    out, pos = [], 0
    while (start := text.find("${{", pos)) >= 0:
        end = expression_end(text, start + 3)
        inner = text[start + 3 : end]
        out += [text[pos:start], to_string(evaluate(inner, scope), f"${{{{ {inner.strip()} }}}}")]
        pos = end + 2
    return "".join([*out, text[pos:]])


def _resolve(value: Any, scope: Scope) -> Any:
    """A YAML value: a lone expression keeps its type, other strings are interpolated."""
    if not isinstance(value, str):
        return value
    inner = _single_expression(value)
    return evaluate(inner, scope) if inner is not None else interpolate(value, scope)


def _resolve_string(value: Any, scope: Scope, where: str) -> str:
    return to_string(_resolve(value, scope), where)


def condition(value: Any, scope: Scope) -> bool:
    """An `if:`; `${{ }}` is optional, and without a status function it means
    `success() && (...)`."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    if not isinstance(value, str):
        raise RunnerError(f"if: {value!r} is neither a string nor a boolean")
    text = _single_expression(value)
    if text is None:
        if "${{" in value:
            raise ExpressionError(f"if: {value!r} mixes text and expressions (always true)")
        text = value
    node = parse_expression(text)
    if not _uses_status_function(node):
        node = ("&&", ("call", "success", []), node)
    return _truthy(_eval(node, scope, f"if: {text.strip()}"))


# --- file and workflow commands ------------------------------------------------------------------


def parse_file_command(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV: `key=value` lines and `key<<DELIMITER` blocks, as the runner
    reads them (the last value of a key wins)."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    found, index = {}, 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            key, value = line[:equals], line[equals + 1 :]
        elif heredoc > 0 and line[heredoc + 2 :]:
            key, delimiter = line[:heredoc], line[heredoc + 2 :]
            try:
                end = lines.index(delimiter, index)
            except ValueError:
                raise RunnerError(f"{path.name}: no closing {delimiter!r} for {key!r}") from None
            value, index = "\n".join(lines[index:end]), end + 1
        else:
            raise RunnerError(f"{path.name}: invalid line {line!r} (want key=value or key<<EOF)")
        if not key:
            raise RunnerError(f"{path.name}: no name in {line!r}")
        found[key] = value
    return found


@dataclass(frozen=True)
class Annotation:
    level: str  # error | warning | notice
    title: str
    message: str


_COMMAND = re.compile(r"^::(?P<cmd>[\w-]+)(?: (?P<props>[^:]*))?::(?P<msg>.*)$")
_IGNORED_COMMANDS = {"debug", "group", "endgroup", "add-mask"}


def _annotations(log: str, where: str) -> list[Annotation]:
    """The `::error::`, `::warning::` and `::notice::` lines of a step's output."""
    found = []
    for match in filter(None, map(_COMMAND.match, log.splitlines())):
        command = match["cmd"]
        if command in _IGNORED_COMMANDS:
            continue
        if command not in ("error", "warning", "notice"):
            raise RunnerError(f"{where}: the ::{command}:: command is disabled or not emulated")
        props = dict(p.split("=", 1) for p in (match["props"] or "").split(",") if "=" in p)
        found.append(Annotation(command, props.get("title", ""), match["msg"]))
    return found


# --- triggers ------------------------------------------------------------------------------------

_TRIGGER_FILTERS = {
    "pull_request": {"types"},
    "push": {"branches", "paths"},
    "workflow_run": {"workflows", "types"},
    "workflow_dispatch": {"inputs"},
}
_DEFAULT_TYPES = {
    "pull_request": ["opened", "synchronize", "reopened"],
    "workflow_run": ["requested", "in_progress", "completed"],
}


def _filter_regex(pattern: str) -> re.Pattern[str]:
    if pattern.startswith("!") or re.search(r"[\[\]+]", pattern):
        raise RunnerError(f"path filter {pattern!r}: only *, ** and ? are emulated")
    parts = re.split(r"(\*\*|\*|\?)", pattern)
    wild = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wild.get(part) or re.escape(part) for part in parts))


def path_filter_matches(patterns: list[str], paths: list[str]) -> bool:
    """Whether a changed path matches a `paths:` filter (GitHub's globs: * stops at /, ** not)."""
    regexes = [_filter_regex(p) for p in patterns]
    return any(r.fullmatch(path) for r in regexes for path in paths)


_WORKFLOW_KEYS = {
    True,
    "on",
    "name",
    "run-name",
    "permissions",
    "concurrency",
    "defaults",
    "env",
    "jobs",
}


def load_workflow(name: str | Path) -> dict[str, Any]:
    """A workflow of this repository by file name, or any workflow file by path."""
    path = name if isinstance(name, Path) else WORKFLOWS_DIR / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    unknown = set(data) - _WORKFLOW_KEYS
    if unknown:
        raise RunnerError(f"{name}: top-level keys {sorted(map(str, unknown))} are not emulated")
    return data


def triggers(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    on = data.get(True, data.get("on"))  # YAML 1.1 reads the bare key `on` as True
    if isinstance(on, str):
        on = [on]
    if isinstance(on, list):
        return {event: {} for event in on}
    return {event: spec or {} for event, spec in (on or {}).items()}


# --- runs ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """What GitHub hands a run: the event, its payload, and the commit and ref it runs at."""

    name: str  # GITHUB_EVENT_NAME
    payload: dict[str, Any]
    sha: str  # GITHUB_SHA
    ref: str  # GITHUB_REF
    actor: str
    head_ref: str = ""  # GITHUB_HEAD_REF (pull requests)
    base_ref: str = ""  # GITHUB_BASE_REF (pull requests)

    @property
    def ref_name(self) -> str:
        return re.sub(r"^refs/(heads|tags|pull)/", "", self.ref)


@dataclass
class StepRun:
    index: int
    id: str
    name: str
    outcome: str  # success | failure | skipped
    conclusion: str  # the same, except that continue-on-error turns a failure into success
    exit_code: int | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    log: str = ""  # stdout and stderr
    summary: str = ""
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class JobRun:
    workflow: str  # file name
    workflow_name: str  # its `name:`, which workflow_run triggers match
    job: str
    run_id: int
    event: Event
    status: str  # success | failure | skipped
    workspace: Path
    temp: Path
    steps: list[StepRun] = field(default_factory=list)

    def step(self, key: str) -> StepRun:
        """A step by id or name."""
        for step in self.steps:
            if key in (step.id, step.name):
                return step
        raise KeyError(
            f"{self.workflow}:{self.job}: no step {key!r} in {[s.name for s in self.steps]}"
        )

    @property
    def summary(self) -> str:
        return "".join(s.summary for s in self.steps)

    def annotations(self, level: str | None = None) -> list[Annotation]:
        return [a for s in self.steps for a in s.annotations if level in (None, a.level)]

    def log(self) -> str:
        """Every step's outcome and output, for assertion messages."""
        parts = [f"{self.workflow}:{self.job} run {self.run_id} ({self.event.name}): {self.status}"]
        for s in self.steps:
            parts.append(f"--- {s.name} [{s.outcome}, exit {s.exit_code}] outputs={s.outputs}")
            parts += [s.log.rstrip()[-6000:]] if s.log.strip() else []
        return "\n".join(parts)


class LocalGitHub:
    """The GitHub side: a repository (a bare origin), its secrets, pull requests, runs,
    artifacts and comments, kept under `root`."""

    def __init__(
        self,
        root: Path,
        origin: Path,
        *,
        secrets: dict[str, str] | None = None,
        repository: str = "octo-org/obesity-model",
    ) -> None:
        self.root, self.origin, self.repository = root, origin, repository
        self.secrets = dict(secrets or {})
        self.pulls: dict[int, dict[str, Any]] = {}
        self.runs: dict[int, JobRun] = {}
        self.comment_events: list[tuple[str, str]] = []  # (file name, created | updated)
        self.comments_dir = root / "comments"
        self.gh_state = root / "gh-state.json"
        for folder in ("artifacts", "comments", "runs"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        # GitHub serves any reachable commit by SHA; a local origin only when told to.
        self.git("config", "uploadpack.allowReachableSHA1InWant", "true")
        self._save_state()

    def git(self, *args: str) -> str:
        """git in the origin."""
        return _git(self.origin, *args)

    def rev(self, ref: str) -> str:
        return self.git("rev-parse", "--verify", f"{ref}^{{commit}}")

    def comments(self) -> dict[str, str]:
        return {p.name: p.read_text(encoding="utf-8") for p in sorted(self.comments_dir.iterdir())}

    @property
    def gh_calls(self) -> list[list[str]]:
        """The argument lists the `gh` shim was called with, oldest first."""
        log = self.root / "gh-calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def _save_state(self) -> None:
        """What the `gh` shim answers from."""
        pulls = {
            str(n): {"state": p["state"], "head": {"sha": p.get("head_sha"), "ref": p["head_ref"]}}
            for n, p in self.pulls.items()
        }
        state = {
            "repository": self.repository,
            "pulls": pulls,
            "log": str(self.root / "gh-calls.jsonl"),
        }
        self.gh_state.write_text(json.dumps(state, indent=2))

    def _common(self, actor: str) -> dict[str, Any]:
        owner, name = self.repository.split("/")
        repository = {
            "full_name": self.repository,
            "name": name,
            "owner": {"login": owner},
            "default_branch": "main",
            "html_url": f"{SERVER_URL}/{self.repository}",
        }
        return {"repository": repository, "sender": {"login": actor}}

    # -- events -------------------------------------------------------------------------------

    def pull_request(
        self,
        action: str,
        number: int,
        *,
        head: str | None = None,
        title: str = "",
        actor: str = "ada",
        merged: bool = False,
    ) -> Event:
        """A `pull_request` event for the PR from branch `head` into main. Unless it closes the
        PR, the origin gets refs/pull/<N>/head and refs/pull/<N>/merge (the head merged into
        main's tip) as GitHub makes them; the run checks out the merge commit."""
        if number not in self.pulls:
            if head is None:
                raise RunnerError(f"pull request #{number} is new: give its head branch")
            self.pulls[number] = {"head_ref": head, "base_ref": "main", "title": title or head}
        pull = self.pulls[number]
        pull["state"] = "closed" if action == "closed" else "open"
        if action != "closed":
            pull["head_sha"] = self.rev(f"refs/heads/{pull['head_ref']}")
            pull["base_sha"] = self.rev(f"refs/heads/{pull['base_ref']}")
            pull["merge_sha"] = self._test_merge(number, pull["base_sha"], pull["head_sha"])
        self._save_state()
        head, base = (
            {
                "sha": pull[f"{side}_sha"],
                "ref": pull[f"{side}_ref"],
                "repo": {"full_name": self.repository},
            }
            for side in ("head", "base")
        )
        payload = {
            "action": action,
            "number": number,
            "pull_request": {
                "number": number,
                "title": pull["title"],
                "state": pull["state"],
                "merged": merged,
                "html_url": f"{SERVER_URL}/{self.repository}/pull/{number}",
                "head": head,
                "base": base,
                "user": {"login": actor},
            },
            **self._common(actor),
        }
        return Event(
            "pull_request",
            payload,
            pull["merge_sha"],
            f"refs/pull/{number}/merge",
            actor,
            head_ref=pull["head_ref"],
            base_ref=pull["base_ref"],
        )

    def _test_merge(self, number: int, base: str, head: str) -> str:
        self.git("update-ref", f"refs/pull/{number}/head", head)
        tree = subprocess.run(
            ["git", "merge-tree", "--write-tree", base, head],
            cwd=self.origin,
            capture_output=True,
            text=True,
            check=False,
        )
        if tree.returncode != 0:
            raise RunnerError(f"pull request #{number} does not merge cleanly:\n{tree.stdout}")
        merge = self.git(
            "commit-tree",
            tree.stdout.split()[0],
            "-p",
            base,
            "-p",
            head,
            "-m",
            f"Merge {head} into {base}",
        )
        self.git("update-ref", f"refs/pull/{number}/merge", merge)
        return merge

    def push(self, before: str, *, actor: str = "ada") -> Event:
        """A `push` event for what the origin's main now holds; `before` is the previous tip
        (NULL_SHA for the branch's first push)."""
        after = self.rev("refs/heads/main")
        payload = {
            "ref": "refs/heads/main",
            "before": before,
            "after": after,
            "created": before == NULL_SHA,
            "deleted": False,
            "forced": False,
            "head_commit": {"id": after, "message": self.git("log", "-1", "--format=%B", after)},
            "pusher": {"name": actor},
            **self._common(actor),
        }
        return Event("push", payload, after, "refs/heads/main", actor)

    def dispatch(
        self, workflow: str | Path, inputs: dict[str, str], *, actor: str = "ada"
    ) -> Event:
        """A `workflow_dispatch` event on main, its inputs checked against the workflow's."""
        spec = (triggers(load_workflow(workflow)).get("workflow_dispatch") or {}).get("inputs", {})
        unknown = set(inputs) - set(spec)
        if unknown:
            raise RunnerError(f"{workflow}: no inputs named {sorted(unknown)}")
        values = {}
        for name, item in spec.items():
            value = to_string(inputs.get(name, item.get("default", "")))
            if item.get("required") and not value:
                raise RunnerError(f"{workflow}: input {name!r} is required")
            if item.get("type") == "choice" and value not in item["options"]:
                raise RunnerError(f"{workflow}: {name!r} must be one of {item['options']}")
            values[name] = value
        path = f".github/workflows/{Path(workflow).name}"
        payload = {
            "inputs": values,
            "ref": "refs/heads/main",
            "workflow": path,
            **self._common(actor),
        }
        return Event(
            "workflow_dispatch", payload, self.rev("refs/heads/main"), "refs/heads/main", actor
        )

    def workflow_run(self, run: JobRun) -> Event:
        """The `workflow_run` (completed) event of a finished pull-request run."""
        pr = run.event.payload["pull_request"]
        payload = {
            "action": "completed",
            "workflow_run": {
                "id": run.run_id,
                "name": run.workflow_name,
                "event": run.event.name,
                "path": f".github/workflows/{run.workflow}",
                "status": "completed",
                "conclusion": run.status,
                "head_sha": pr["head"]["sha"],
                "head_branch": pr["head"]["ref"],
                "head_repository": {"full_name": self.repository},
                "pull_requests": [{"number": pr["number"], "head": pr["head"], "base": pr["base"]}],
            },
            **self._common(run.event.actor),
        }
        return Event(
            "workflow_run", payload, self.rev("refs/heads/main"), "refs/heads/main", run.event.actor
        )

    def triggered(self, workflow: str | Path, event: Event) -> bool:
        """Whether `event` starts `workflow`, after its types, branches and paths filters."""
        on = triggers(load_workflow(workflow))
        if event.name not in on:
            return False
        spec = on[event.name]
        unsupported = set(spec) - _TRIGGER_FILTERS.get(event.name, set())
        if event.name not in _TRIGGER_FILTERS or unsupported:
            raise RunnerError(f"{workflow}: on.{event.name} {sorted(unsupported)} is not emulated")
        types = spec.get("types", _DEFAULT_TYPES.get(event.name))
        if types is not None and event.payload["action"] not in types:
            return False
        if event.name == "workflow_run":
            return event.payload["workflow_run"]["name"] in spec["workflows"]
        if event.name != "push":
            return True
        branch = event.ref.removeprefix("refs/heads/")
        if not any(fnmatchcase(branch, b) for b in spec.get("branches", ["*"])):
            return False
        if "paths" not in spec:
            return True
        before, after = event.payload["before"], event.payload["after"]
        if before == NULL_SHA:  # a new branch: every file counts as changed
            changed = self.git("ls-tree", "-r", "--name-only", after)
        else:
            changed = self.git("diff", "--name-only", before, after)
        return path_filter_matches(spec["paths"], changed.splitlines())

    # -- running a job ------------------------------------------------------------------------

    def run(self, workflow: str | Path, job: str, event: Event) -> JobRun:
        """Run one job of `workflow` (a file name here, or a path) for `event`, as a fresh
        runner would."""
        if not self.triggered(workflow, event):
            raise RunnerError(f"{workflow} is not triggered by this {event.name} event")
        data = load_workflow(workflow)
        if job not in data["jobs"]:
            raise RunnerError(f"{workflow} has no job {job!r}")
        run_id = _FIRST_RUN_ID + len(self.runs) + 1
        while run_id in self.runs:
            run_id += 1
        run = _Job(self, Path(workflow).name, data, job, event, run_id).execute()
        self.runs[run_id] = run
        return run


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RunnerError(f"git {' '.join(args)} failed in {cwd}:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


_JOB_KEYS = {
    "name",
    "if",
    "runs-on",
    "timeout-minutes",
    "permissions",
    "env",
    "steps",
    "environment",
    "concurrency",
    "defaults",
}
_STEP_KEYS = {
    "name",
    "id",
    "if",
    "uses",
    "with",
    "run",
    "env",
    "shell",
    "working-directory",
    "continue-on-error",
    "timeout-minutes",
}
_NOT_INHERITED = ("GITHUB_", "RUNNER_", "MLFLOW_", "GH_", "ACTIONS_")
_NO_NETWORK = "http://127.0.0.1:9"  # a closed port: an HTTP(S) client fails at once

# `pip install .` would need the network; the venv running the tests is pre-installed with
# mlgate (editable), so the step checks that instead.
INSTALL_STEPS = {
    "python -m pip install .": (
        'test -f pyproject.toml || { echo "pip install .: no pyproject.toml" >&2; exit 1; }\n'
        'python -c \'import mlgate; print("mlgate", mlgate.__version__, "(pre-installed venv)")\'\n'
        "command -v mlgate\n"
    ),
}


class _Job:
    """One job run: its folders, contexts and environment, and its steps in order."""

    def __init__(
        self,
        github: LocalGitHub,
        workflow: str,
        data: dict[str, Any],
        job_id: str,
        event: Event,
        run_id: int,
    ) -> None:
        spec = data["jobs"][job_id]
        where = f"{workflow}:{job_id}"
        if set(spec) - _JOB_KEYS:
            raise RunnerError(f"{where}: job keys {sorted(set(spec) - _JOB_KEYS)} are not emulated")
        if not str(spec.get("runs-on", "")).startswith("ubuntu-"):
            raise RunnerError(f"{where}: only ubuntu runners are emulated")
        self.github, self.workflow, self.data, self.spec = github, workflow, data, spec
        self.job_id, self.event, self.run_id, self.where = job_id, event, run_id, where
        base = github.root / "runs" / str(run_id)
        self.workspace = base / "work" / github.repository.split("/")[1]
        self.temp, self.files, self.bin = base / "temp", base / "files", base / "bin"
        for folder in (self.workspace, self.temp, self.files, self.bin):
            folder.mkdir(parents=True)
        self.event_path = base / "event.json"
        self.event_path.write_text(json.dumps(event.payload, indent=2))
        self.gitconfig = base / "gitconfig"
        self.gitconfig.write_text("")
        self.timeout = 60 * int(spec.get("timeout-minutes", 360))
        self.token = f"ghs_local{run_id}"
        self.job_env: dict[str, str] = {}
        self.file_env: dict[str, str] = {}  # GITHUB_ENV of the steps so far
        self.added_path: list[str] = []  # GITHUB_PATH of the steps so far
        self.results: dict[str, Strict | None] = {s["id"]: None for s in spec["steps"] if "id" in s}
        self.failed = False
        shim = shlex.join([sys.executable, str(GH_SHIM), str(github.gh_state)])
        (self.bin / "gh").write_text(f'#!/bin/sh\nexec {shim} "$@"\n')
        (self.bin / "gh").chmod(0o755)

    # -- contexts and environment -----------------------------------------------------------

    def scope(self, env: dict[str, str] | None) -> Scope:
        """The contexts of a step; with `env=None`, of the job's `if:` (github and inputs)."""
        e, repo = self.event, self.github.repository
        github = Strict(
            "github",
            {
                "event": strict_tree(e.payload, "github.event"),
                "event_name": e.name,
                "sha": e.sha,
                "ref": e.ref,
                "ref_name": e.ref_name,
                "head_ref": e.head_ref,
                "base_ref": e.base_ref,
                "actor": e.actor,
                "repository": repo,
                "repository_owner": repo.split("/")[0],
                "server_url": SERVER_URL,
                "run_id": str(self.run_id),
                "run_attempt": "1",
                "workflow": self.data.get("name", self.workflow),
                "job": self.job_id,
                "workspace": str(self.workspace),
                "token": self.token,
            },
        )
        declared = (triggers(self.data).get("workflow_dispatch") or {}).get("inputs") or {}
        given = e.payload.get("inputs", {}) if e.name == "workflow_dispatch" else {}
        # Outside workflow_dispatch the inputs context is empty: every input reads as null.
        contexts = {
            "github": github,
            "inputs": Strict("inputs", {n: given.get(n) for n in declared}),
        }
        if env is not None:
            contexts["secrets"] = Defaulting("", self.github.secrets, GITHUB_TOKEN=self.token)
            contexts["runner"] = Strict("runner", {"temp": str(self.temp), "os": "Linux"})
            contexts["env"] = dict(env)
            # Steps not run yet read as null; an id that no step declares is a typo.
            contexts["steps"] = Strict("steps", self.results)
        return Scope(contexts, job_failed=self.failed)

    def environment(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED) and k != "CI"
        }
        e, repo = self.event, self.github.repository
        env.update(
            {
                "CI": "true",
                "GITHUB_ACTIONS": "true",
                "GITHUB_WORKSPACE": str(self.workspace),
                "GITHUB_EVENT_PATH": str(self.event_path),
                "GITHUB_EVENT_NAME": e.name,
                "GITHUB_SHA": e.sha,
                "GITHUB_REF": e.ref,
                "GITHUB_REF_NAME": e.ref_name,
                "GITHUB_REF_TYPE": "branch",
                "GITHUB_HEAD_REF": e.head_ref,
                "GITHUB_BASE_REF": e.base_ref,
                "GITHUB_ACTOR": e.actor,
                "GITHUB_REPOSITORY": repo,
                "GITHUB_REPOSITORY_OWNER": repo.split("/")[0],
                "GITHUB_SERVER_URL": SERVER_URL,
                "GITHUB_RUN_ID": str(self.run_id),
                "GITHUB_RUN_ATTEMPT": "1",
                "GITHUB_WORKFLOW": self.data.get("name", self.workflow),
                "GITHUB_JOB": self.job_id,
                "RUNNER_TEMP": str(self.temp),
                "RUNNER_OS": "Linux",
                "HTTP_PROXY": _NO_NETWORK,
                "HTTPS_PROXY": _NO_NETWORK,
                "http_proxy": _NO_NETWORK,
                "https_proxy": _NO_NETWORK,
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
                # A fresh runner has no git identity: a commit without `git config user.*` fails.
                "GIT_CONFIG_GLOBAL": str(self.gitconfig),
                "GIT_CONFIG_NOSYSTEM": "1",
            }
        )
        return env

    # -- the job ------------------------------------------------------------------------------

    def execute(self) -> JobRun:
        data, spec = self.data, self.spec
        run = JobRun(
            self.workflow,
            data.get("name", self.workflow),
            self.job_id,
            self.run_id,
            self.event,
            "success",
            self.workspace,
            self.temp,
        )
        if "if" in spec and not condition(spec["if"], self.scope(None)):
            run.status = "skipped"
            return run
        # Workflow env, then job env; GITHUB_ENV overrides both, and a step's env all three.
        for level in (data.get("env") or {}, spec.get("env") or {}):
            scope = self.scope(self.job_env)
            self.job_env.update({k: _resolve_string(v, scope, k) for k, v in level.items()})
        defaults = {
            **(data.get("defaults") or {}).get("run", {}),
            **(spec.get("defaults") or {}).get("run", {}),
        }
        for index, step in enumerate(spec["steps"]):
            result = self.step(index, step, defaults)
            run.steps.append(result)
            self.results[result.id] = Strict(
                f"steps.{result.id}",
                outputs=result.outputs,
                outcome=result.outcome,
                conclusion=result.conclusion,
            )
            self.failed = self.failed or result.conclusion == "failure"
        run.status = "failure" if self.failed else "success"
        return run

    def step(self, index: int, step: dict[str, Any], defaults: dict[str, Any]) -> StepRun:
        where = f"{self.where} step {index}"
        if set(step) - _STEP_KEYS or ("run" in step) == ("uses" in step):
            raise RunnerError(f"{where}: needs run or uses, and keys among {sorted(_STEP_KEYS)}")
        step_id = step.get("id") or f"__step{index}"
        name = step.get("name") or f"Run {step.get('uses') or step['run'].splitlines()[0]}"
        context_env = {**self.job_env, **self.file_env}
        scope = self.scope(context_env)
        if not condition(step.get("if", "success()"), scope):
            return StepRun(index, step_id, name, "skipped", "skipped")
        names = ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")
        files = {key: self.files / f"{key.lower()}_{index}" for key in names}
        for path in files.values():
            path.write_text("")
        env = {**self.environment(), **context_env, **{k: str(p) for k, p in files.items()}}
        env.update({k: _resolve_string(v, scope, k) for k, v in (step.get("env") or {}).items()})
        env["GITHUB_ACTION"] = step_id
        path = [str(self.bin), *self.added_path, str(VENV_BIN), os.environ.get("PATH", "")]
        env["PATH"] = os.pathsep.join(path)
        if "run" in step:
            exit_code, log, outputs = *self.run_script(index, step, defaults, env, scope), {}
        else:
            exit_code, log, outputs = self.use_action(step, scope)
        outputs.update(parse_file_command(files["GITHUB_OUTPUT"]))
        self.file_env.update(parse_file_command(files["GITHUB_ENV"]))
        added = [line for line in files["GITHUB_PATH"].read_text().splitlines() if line.strip()]
        self.added_path[:0] = reversed(added)
        outcome = "success" if exit_code == 0 else "failure"
        tolerated = _truthy(_resolve(step.get("continue-on-error", False), scope))
        conclusion = "failure" if outcome == "failure" and not tolerated else "success"
        summary = files["GITHUB_STEP_SUMMARY"].read_text()
        return StepRun(
            index,
            step_id,
            name,
            outcome,
            conclusion,
            exit_code,
            outputs,
            log,
            summary,
            _annotations(log, where),
        )

    def run_script(
        self,
        index: int,
        step: dict[str, Any],
        defaults: dict[str, Any],
        env: dict[str, str],
        scope: Scope,
    ) -> tuple[int, str]:
        script = step["run"]
        if script.strip() in INSTALL_STEPS:
            script = INSTALL_STEPS[script.strip()]
        elif re.search(r"\bpip3?\b.*\binstall\b", script):
            raise RunnerError(f"{self.where}: {script.strip()!r} would install from the network")
        shell = step.get("shell", defaults.get("shell"))
        if shell not in ("bash", None):
            raise RunnerError(f"{self.where}: shell {shell!r} is not emulated")
        path = self.files / f"step_{index}.sh"
        path.write_text(script)
        # GitHub's commands for `shell: bash` and for no shell at all (bash being installed).
        flags = ["--noprofile", "--norc", "-eo", "pipefail"] if shell == "bash" else ["-e"]
        workdir = step.get("working-directory", defaults.get("working-directory"))
        cwd = self.workspace / interpolate(workdir, scope) if workdir else self.workspace
        if not cwd.is_dir():
            return 1, f"working directory {cwd} does not exist\n"
        timeout = min(self.timeout, 60 * int(step.get("timeout-minutes", 360)))
        done = subprocess.run(
            ["bash", *flags, str(path)],
            cwd=cwd,
            env=env,
            text=True,
            timeout=timeout,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        return done.returncode, done.stdout

    def use_action(self, step: dict[str, Any], scope: Scope) -> tuple[int, str, dict[str, str]]:
        action, _, ref = step["uses"].partition("@")
        handler = ACTIONS.get(action)
        if handler is None or not ref:
            raise RunnerError(f"{self.where}: no local equivalent of {step['uses']!r}")
        given = step.get("with") or {}
        if set(given) - handler.inputs:
            raise RunnerError(
                f"{action}: inputs {sorted(set(given) - handler.inputs)} not emulated"
            )
        inputs = {k: _resolve_string(v, scope, f"{action} with.{k}") for k, v in given.items()}
        try:
            outputs, log = handler(self, inputs)
        except ActionFailed as exc:
            return 1, f"::error::{exc}\n", {}
        return 0, log, outputs


# --- actions -------------------------------------------------------------------------------------


def _action(*inputs: str):
    """Register the inputs an action's local equivalent understands; others are an error."""

    def register(function):
        function.inputs = frozenset(inputs)
        return function

    return register


@_action("ref", "fetch-depth", "persist-credentials", "ssh-key")
def _checkout(job: _Job, inputs: dict[str, str]) -> tuple[dict[str, str], str]:
    """actions/checkout: fetch from the origin into the empty workspace and check out the
    event's commit (a PR's merge ref, the pushed or dispatched branch), or `ref:`. The origin
    is a local path: credentials (persist-credentials, ssh-key) play no part."""
    if inputs.get("ssh-key"):
        raise RunnerError("actions/checkout: ssh-key is not emulated")
    ws = job.workspace
    if any(ws.iterdir()):
        raise RunnerError("actions/checkout: a second checkout into the workspace is not emulated")
    ref, sha = (inputs["ref"], None) if inputs.get("ref") else (job.event.ref, job.event.sha)
    if re.fullmatch(r"[0-9a-f]{40}", ref):
        sha, refspec, checkout = ref, ref, ["--detach", ref]
    elif ref.startswith("refs/heads/"):
        branch = ref.removeprefix("refs/heads/")
        refspec = f"+{sha or ref}:refs/remotes/origin/{branch}"
        checkout = ["-B", branch, f"refs/remotes/origin/{branch}"]
    elif ref.startswith("refs/pull/"):
        target = "refs/remotes/pull/" + ref.removeprefix("refs/pull/")
        refspec, checkout = f"+{sha or ref}:{target}", ["--detach", target]
    else:
        raise RunnerError(f"actions/checkout: ref {ref!r} is not emulated (a SHA or a full ref)")
    depth = int(inputs.get("fetch-depth", "1"))
    commands = [["init", "-q"], ["remote", "add", "origin", job.github.origin.as_uri()]]
    if depth == 0:  # all branches and tags, then the ref itself
        every = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]
        commands.append(["fetch", "-q", "--prune", "origin", *every])
        commands.append(["fetch", "-q", "origin", refspec])
    else:
        commands.append(["fetch", "-q", "--no-tags", f"--depth={depth}", "origin", refspec])
    commands.append(["checkout", "-q", "--force", *checkout])
    log = []
    for args in commands:
        done = subprocess.run(["git", *args], cwd=ws, capture_output=True, text=True, check=False)
        log.append(f"git {' '.join(args)}\n{done.stdout}{done.stderr}")
        if done.returncode != 0:
            raise ActionFailed(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    head = _git(ws, "rev-parse", "HEAD")
    if sha and head != sha:
        raise ActionFailed(f"checked out {head}, expected {sha}")
    return {"ref": ref, "commit": head}, "".join(log)


@_action("python-version", "cache", "cache-dependency-path")
def _setup_python(job: _Job, inputs: dict[str, str]) -> tuple[dict[str, str], str]:
    """actions/setup-python: the venv's Python is used; a cache needs its dependency file."""
    if inputs.get("cache"):
        pattern = inputs.get("cache-dependency-path") or "**/requirements.txt"
        if not list(job.workspace.glob(pattern)):
            raise ActionFailed(
                f"No file in {job.workspace} matched to [{pattern}], make sure"
                " you have checked out the target repository"
            )
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    log = f"Python {running} from {VENV_BIN} (the venv running the tests)\n"
    wanted = inputs.get("python-version", "")
    if wanted and not running.startswith(wanted):
        log += f"::warning title=setup-python::the workflow wants {wanted}, this is {running}\n"
    return {"python-version": running, "python-path": sys.executable, "cache-hit": "false"}, log


@_action("name", "path", "if-no-files-found", "retention-days")
def _upload_artifact(job: _Job, inputs: dict[str, str]) -> tuple[dict[str, str], str]:
    """actions/upload-artifact: copy the files to artifacts/<run id>/<name>/. As the action
    does, the least common ancestor of the search paths is the artifact's root, missing paths
    are skipped, and hidden files are left out."""
    name = inputs.get("name") or "artifact"
    patterns = [p.strip() for p in inputs["path"].splitlines() if p.strip()]
    if any(p.startswith("!") or p.startswith("~") for p in patterns):
        raise RunnerError("actions/upload-artifact: ! and ~ paths are not emulated")
    search, found = [], []
    for pattern in patterns:
        literal = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
        if literal == pattern:
            search.append(job.workspace / pattern)
            matches = [job.workspace / pattern]
        else:
            search.append(job.workspace / literal.rpartition("/")[0])
            matches = list(job.workspace.glob(pattern))
        for match in matches:
            found += (
                [match] if match.is_file() else sorted(p for p in match.rglob("*") if p.is_file())
            )
    root = Path(os.path.commonpath(search))
    if len(search) == 1 and not root.is_dir():
        root = root.parent  # a single file: its folder
    found = [
        p
        for p in dict.fromkeys(found)
        if not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]
    if not found:
        mode = inputs.get("if-no-files-found", "warn")
        message = f"No files were found with the provided path: {' '.join(patterns)}."
        if mode == "error":
            raise ActionFailed(message)
        return {}, f"::warning::{message}\n" if mode == "warn" else ""
    target = job.github.root / "artifacts" / str(job.run_id) / name
    if target.exists():
        raise ActionFailed(f"an artifact named {name!r} already exists in this run")
    for path in found:
        (target / path.relative_to(root)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target / path.relative_to(root))
    listing = "".join(f"  {p.relative_to(root)}\n" for p in found)
    return {"artifact-id": f"{job.run_id}-{name}"}, f"Uploaded {name}:\n{listing}"


@_action("name", "pattern", "merge-multiple", "path", "run-id", "github-token")
def _download_artifact(job: _Job, inputs: dict[str, str]) -> tuple[dict[str, str], str]:
    """actions/download-artifact: copy artifacts of this run, or of `run-id`, into `path`."""
    run_id = inputs.get("run-id") or str(job.run_id)
    if inputs.get("run-id") and not inputs.get("github-token"):
        raise ActionFailed("a github-token is needed to download another run's artifacts")
    store = job.github.root / "artifacts" / run_id
    available = sorted(p.name for p in store.iterdir()) if store.is_dir() else []
    if inputs.get("name"):
        if inputs["name"] not in available:
            raise ActionFailed(f"Artifact not found for name: {inputs['name']}")
        chosen, into_path = [inputs["name"]], True
    else:  # a pattern that matches nothing is not an error
        chosen = [a for a in available if fnmatchcase(a, inputs.get("pattern") or "*")]
        into_path = inputs.get("merge-multiple", "false") == "true"
    path = job.workspace / (inputs.get("path") or ".")  # an absolute path replaces the workspace
    for name in chosen:
        shutil.copytree(store / name, path if into_path else path / name, dirs_exist_ok=True)
    return {"download-path": str(path)}, f"Downloaded {chosen} of run {run_id} to {path}\n"


@_action("header", "number", "path", "message", "GITHUB_TOKEN")
def _sticky_comment(job: _Job, inputs: dict[str, str]) -> tuple[dict[str, str], str]:
    """marocchino/sticky-pull-request-comment: one comment per header and pull request, kept as
    comments/<header>-<number>.md; posting again replaces it."""
    number = inputs.get("number") or str(
        job.event.payload.get("pull_request", {}).get("number", "")
    )
    if not re.fullmatch(r"[1-9]\d*", number) or int(number) not in job.github.pulls:
        raise ActionFailed(f"no pull request {number!r} in {job.github.repository} (HTTP 404)")
    if inputs.get("path"):
        source = job.workspace / inputs["path"]
        if not source.is_file():
            raise ActionFailed(f"{source}: no such file")
        body = source.read_text(encoding="utf-8")
    elif inputs.get("message"):
        body = inputs["message"]
    else:
        raise ActionFailed("either message or path input is required")
    target = job.github.comments_dir / f"{inputs.get('header', '')}-{number}.md"
    kind = "updated" if target.exists() else "created"
    target.write_text(body, encoding="utf-8")
    job.github.comment_events.append((target.name, kind))
    return {}, f"comment {kind}: {target.name}\n"


@_action("path", "key", "restore-keys")
def _cache(job: _Job, inputs: dict[str, str]) -> tuple[dict[str, str], str]:
    """actions/cache: always a miss; nothing is kept between local runs."""
    return {"cache-hit": "false"}, f"Cache not found for input keys: {inputs.get('key', '')}\n"


ACTIONS = {
    "actions/checkout": _checkout,
    "actions/setup-python": _setup_python,
    "actions/upload-artifact": _upload_artifact,
    "actions/download-artifact": _download_artifact,
    "marocchino/sticky-pull-request-comment": _sticky_comment,
    "actions/cache": _cache,
}
