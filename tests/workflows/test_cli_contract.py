"""Every `mlgate ...` command line in a workflow parses with the real CLI (nothing is invoked).

A renamed option or command would otherwise only show up as a red run on GitHub.
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS_DIR = REPO / ".github" / "workflows"

SHA = "0123456789abcdef0123456789abcdef01234567"
# Plausible values for the variables the scripts pass to mlgate; RUNNER_TEMP is a tmp folder.
PLACEHOLDERS = {
    "PR_NUMBER": "42",
    "VERSION": "3",
    "MODEL_NAME": "obesity_classifier",
    "REASON": "regression in production traffic",
    "BASE_SHA": SHA,
    "HEAD_SHA": SHA,
    "BEFORE_SHA": SHA,
    "GITHUB_SHA": SHA,
    "GITHUB_WORKSPACE": str(REPO),
    "card": "model_cards/obesity_classifier.md",
    "policy_from": SHA,
}
MIN_COMMANDS = 6  # the workflows call mlgate at least this often; guards against a vacuous pass

_VARIABLE = re.compile(r"\$\{(?P<braced>[A-Za-z_]\w*)[^}]*\}|\$(?P<bare>[A-Za-z_]\w*)")
_KEYWORDS = {"if", "then", "else", "elif", "do", "while", "until", "!", "time", "exec"}
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*=")


@dataclass(frozen=True)
class Command:
    where: str
    line: str

    def args(self, runner_temp: Path) -> list[str]:
        values = {**PLACEHOLDERS, "RUNNER_TEMP": str(runner_temp)}

        def substitute(match: re.Match[str]) -> str:
            name = match["braced"] or match["bare"]
            if name not in values:
                pytest.fail(f"{self.where}: add a placeholder for ${name} to PLACEHOLDERS")
            return values[name]

        words = shlex.split(_VARIABLE.sub(substitute, self.line))
        assert words[0] == "mlgate"
        return words[1:]


def _simple_commands(line: str) -> list[list[str]]:
    """Split one shell line into simple commands (at ; && || | and redirections)."""
    lexer = shlex.shlex(line, posix=False, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    commands, current = [], []
    for token in lexer:
        if token and set(token) <= set(";&|()<>"):
            commands.append(current)
            current = []
        else:
            current.append(token)
    commands.append(current)
    return [c for c in commands if c]


def extract_commands(script: str, where: str) -> list[Command]:
    joined = re.sub(r"\\\n[ \t]*", " ", script)  # line continuations
    found = []
    for number, line in enumerate(joined.splitlines(), start=1):
        if not re.search(r"\bmlgate\b", line):
            continue
        try:
            commands = _simple_commands(line)
        except ValueError as exc:  # unbalanced quotes: a heredoc body, or a broken line
            pytest.fail(f"{where} line {number}: cannot split {line.strip()!r}: {exc}")
        for words in commands:
            while words and (words[0] in _KEYWORDS or _ASSIGNMENT.match(words[0])):
                words = words[1:]
            if words and words[0] == "mlgate":
                text = " ".join(words)
                if "$(" in text or "`" in text:
                    pytest.fail(f"{where}: command substitution in {text!r} cannot be checked")
                found.append(Command(f"{where} line {number}", text))
    return found


def workflow_commands() -> list[Command]:
    commands = []
    for path in sorted(WORKFLOWS_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for job_id, job in (data.get("jobs") or {}).items():
            for index, step in enumerate(job.get("steps") or []):
                if "run" in step:
                    where = f"{path.name}:{job_id}:{step.get('name', index)}"
                    commands += extract_commands(step["run"], where)
    return commands


COMMANDS = workflow_commands()


def _remaining_args(ctx: click.Context) -> list[str]:
    # Click 8.2 renamed protected_args to _protected_args (the old name warns).
    protected = ctx.__dict__.get("_protected_args")
    if protected is None:
        protected = ctx.protected_args
    return [*protected, *ctx.args]


def parse(args: list[str]) -> click.Context:
    """Resolve and parse `mlgate ARGS` down to the leaf command without invoking anything."""
    from mlgate.cli import main

    ctx = main.make_context("mlgate", list(args))
    command: click.Command = main
    while isinstance(command, click.Group):
        rest = _remaining_args(ctx)
        if not rest:
            raise click.UsageError("no subcommand given", ctx)
        name, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None and name is not None
        ctx = sub.make_context(name, rest, parent=ctx)
        command = sub
    return ctx


@pytest.fixture
def runner_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """RUNNER_TEMP with the base worktree's params.yaml; the working directory is the repo."""
    (tmp_path / "base").mkdir()
    source = REPO / "params.yaml"
    if source.is_file():
        shutil.copy(source, tmp_path / "base" / "params.yaml")
    else:
        (tmp_path / "base" / "params.yaml").write_text("{}\n")
    monkeypatch.chdir(REPO)
    return tmp_path


def test_workflows_call_mlgate():
    found = "\n".join(f"  {c.where}: {c.line}" for c in COMMANDS)
    assert len(COMMANDS) >= MIN_COMMANDS, f"only {len(COMMANDS)} mlgate lines found:\n{found}"


@pytest.mark.parametrize("command", COMMANDS, ids=[c.where for c in COMMANDS])
def test_command_line_parses(command: Command, runner_temp: Path):
    args = command.args(runner_temp)
    try:
        parse(args)
    except click.ClickException as exc:
        pytest.fail(
            f"{command.where}: `mlgate {shlex.join(args)}` does not parse: {exc.format_message()}"
        )


@pytest.mark.parametrize(
    "args",
    [["no-such-command"], ["train", "--no-such-option"], ["alias"]],
    ids=["unknown-command", "unknown-option", "missing-argument"],
)
def test_parser_rejects_bad_lines(args: list[str], runner_temp: Path):
    with pytest.raises(click.ClickException):
        parse(args)


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ('mlgate train --pr-number "$PR_NUMBER"', ['mlgate train --pr-number "$PR_NUMBER"']),
        ("cd x && mlgate gate \\\n  --json r.json || status=$?", ["mlgate gate --json r.json"]),
        (
            'if [ -z "$V" ]; then mlgate rollback m --reason "$R"; fi',
            ['mlgate rollback m --reason "$R"'],
        ),
        ('echo "run mlgate later"  # mlgate gate', []),
    ],
    ids=["plain", "continuation-and-operators", "inside-if", "echo-and-comment"],
)
def test_extraction(script: str, expected: list[str]):
    assert [c.line for c in extract_commands(script, "t")] == expected
