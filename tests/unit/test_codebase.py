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
# A module longer than this says at its top why it is not split.
MAX_LINES = 450


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


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_long_modules_say_why(path: Path):
    text = path.read_text(encoding="utf-8")
    if len(text.splitlines()) <= MAX_LINES:
        return
    docstring = text.split('"""', 2)[1] if text.startswith('"""') else ""
    assert "Why one module" in docstring, (
        f"{path.name} has {len(text.splitlines())} lines (> {MAX_LINES}): split it, or say at its"
        " top why it is one module ('Why one module: ...')"
    )
