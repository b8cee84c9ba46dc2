"""Static checks of the code itself: ruff decides the layout, lint is clean, modules stay small."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "mlgate"
RUFF = Path(sys.executable).with_name("ruff")
# A module longer than this says at its top why it is not split ...
MAX_LINES = 450
# ... in a reason of at least this many words ...
MIN_REASON_WORDS = 12
# ... and none is longer than this, whatever its reason.
HARD_MAX_LINES = 1000


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    if not RUFF.exists():
        pytest.fail(f"{RUFF} not found: install the test extra (requirements-test.lock)")
    return subprocess.run([str(RUFF), *args], cwd=REPO, capture_output=True, text=True, check=False)


def test_ruff_format_decides_the_layout():
    done = _ruff("format", "--check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_check_is_clean():
    done = _ruff("check", "--output-format", "concise", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_formatter_escapes():
    marker = re.compile(r"#\s*fmt:\s*(skip|off)")
    escaped = [
        f"{path.relative_to(REPO)}:{number}"
        for folder in ("src", "tests", "benchmarks", "scripts")
        for path in sorted((REPO / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if marker.search(line) and path != Path(__file__)
    ]
    assert escaped == []


def _length_problem(text: str) -> str | None:
    """Why a module's length is not acceptable, or None: a module over MAX_LINES says in its
    docstring why it is one module, in a reason of its own (not the bare phrase); no module
    passes HARD_MAX_LINES, whatever it says; and a short module does not carry a stale reason."""
    lines = len(text.splitlines())
    docstring = text.split('"""', 2)[1] if text.startswith('"""') else ""
    _, phrase, rest = docstring.partition("Why one module:")
    reason = re.split(r"(?<=\.)\s", rest.strip(), maxsplit=1)[0] if phrase else ""
    if lines > HARD_MAX_LINES:
        return f"{lines} lines (> {HARD_MAX_LINES}): split it; no reason covers this length"
    if lines <= MAX_LINES:
        return "says 'Why one module:' but is short: drop the stale reason" if phrase else None
    if not phrase:
        return f"{lines} lines (> {MAX_LINES}): split it, or say why it is one module at its top"
    if len(reason.split()) < MIN_REASON_WORDS:
        return f"{lines} lines (> {MAX_LINES}): 'Why one module:' needs a reason, not {reason!r}"
    return None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param('"""Short."""\n', None, id="short"),
        pytest.param('"""Long."""\n' + "x = 1\n" * MAX_LINES, "split it", id="long-no-reason"),
        pytest.param(
            '"""Long.\n\nWhy one module: it is.\n"""\n' + "x = 1\n" * MAX_LINES,
            "needs a reason",
            id="bare-phrase",
        ),
        pytest.param(
            '"""Long.\n\nWhy one module: its three renderings share the sections and must agree'
            ' line for line.\n"""\n' + "x = 1\n" * MAX_LINES,
            None,
            id="reasoned",
        ),
        pytest.param(
            '"""Long.\n\nWhy one module: its three renderings share the sections and must agree'
            ' line for line.\n"""\n' + "x = 1\n" * HARD_MAX_LINES,
            "no reason covers",
            id="over-the-hard-limit",
        ),
        pytest.param(
            '"""Short.\n\nWhy one module: its three renderings share the sections and must agree'
            ' line for line.\n"""\n',
            "stale",
            id="stale-reason",
        ),
    ],
)
def test_the_length_rule_itself(text: str, problem: str | None):
    found = _length_problem(text)
    assert (found is None) if problem is None else (problem in (found or ""))


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_long_modules_say_why(path: Path):
    problem = _length_problem(path.read_text(encoding="utf-8"))
    assert problem is None, f"{path.relative_to(REPO)}: {problem}"


# The test harness (fixtures, stand-ins, runners: every file under tests/ that is not a test
# module) is read by whoever debugs a failing test; past this it is split by what it does.
HARNESS_MAX_LINES = 400


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (REPO / "tests").rglob("*.py") if not p.name.startswith("test_")),
    ids=lambda p: str(p.relative_to(REPO / "tests")),
)
def test_harness_files_stay_short(path: Path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= HARNESS_MAX_LINES, f"{path.relative_to(REPO)}: {lines} lines: split it"


def test_comments_cite_documents_the_repository_holds():
    # The design notes the package was written from are not in the repository; the README's
    # Architecture section is where a comment sends the reader.
    cited = [
        f"{path.relative_to(REPO)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "DESIGN" in line
    ]
    assert cited == []


@pytest.mark.parametrize(
    ("rule", "pattern", "home"),
    [
        ("resolving a git revision", r"rev-parse.*--verify", "git.py"),
        (
            "the PR number of an event",
            r"\.get\(\"pull_request\"\).*\)\.get\(\"number\"\)",
            "github.py",
        ),
        ("Actions outputs", r"environ.*\"GITHUB_OUTPUT\"", "github.py"),
        ("the step summary", r"environ.*\"GITHUB_STEP_SUMMARY\"", "github.py"),
        ("escaping a markdown cell", r"replace\(\"\|\"", "markdown.py"),
    ],
)
def test_each_rule_has_one_home(rule: str, pattern: str, home: str):
    found = sorted(
        path.name
        for path in PACKAGE.glob("*.py")
        if re.search(pattern, path.read_text(encoding="utf-8"))
    )
    assert found == [home], f"{rule} is written in {found}: call {home}'s function instead"


def _task_names_in(path: Path) -> list[int]:
    """Lines where code (not a docstring) spells a task's name: where it decides by the name."""
    import ast

    from mlgate.task import NAMES

    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in NAMES and id(node) not in docstrings
    ]


def test_few_modules_decide_by_the_task_s_name():
    # Each task is declared once (task.py); the rest asks its fields (stratified, has_classes,
    # metrics, ...), so a third task or a changed rule is one edit, not thirteen.
    deciding = {
        path.name: lines for path in sorted(PACKAGE.glob("*.py")) if (lines := _task_names_in(path))
    }
    assert "task.py" in deciding
    assert len(deciding) <= 3, f"modules that spell a task's name (file: lines): {deciding}"


def test_the_task_name_counter_sees_a_decision_by_name(tmp_path: Path):
    module = tmp_path / "m.py"
    module.write_text('"""Says regression."""\n\ndef f(t):\n    return t == "regression"\n')
    assert _task_names_in(module) == [4]
