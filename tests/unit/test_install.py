"""The install commands: the README's two lines install from the committed locks, and `.ci/run`
runs the README's test command verbatim."""

import re
from pathlib import Path

from mlgate import fingerprint

REPO = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    return block.group(1).strip().splitlines()


def test_readme_commands_install_the_locks_with_pinned_uv():
    train, test = _readme_commands()
    prefix = (
        "python3 -m venv .venv && .venv/bin/pip install --require-hashes -r requirements-uv.lock"
        " && .venv/bin/uv pip install"
    )
    for command, lock, then in (
        (train, "requirements.lock", ".venv/bin/mlgate train"),
        (test, "requirements-test.lock", ".venv/bin/python -m pytest"),
    ):
        assert command.startswith(prefix)
        # Bytecode compiled once at install: otherwise the first processes importing mlflow
        # (the suite runs hundreds) each compile what they import.
        assert f"--compile-bytecode --require-hashes -r {lock} && " in command
        assert "--no-deps --no-build-isolation -e . && " in command and command.endswith(then)
        assert (REPO / lock).is_file()


def test_ci_runs_the_readme_test_command_verbatim():
    lines = (REPO / ".ci" / "run").read_text().strip().splitlines()
    assert lines[-1] == _readme_commands()[1]


def test_test_lock_pins_the_model_packages_as_the_runtime_lock_does():
    runtime = fingerprint.locked_lines((REPO / "requirements.lock").read_text())
    test = fingerprint.locked_lines((REPO / "requirements-test.lock").read_text())
    assert runtime and test == runtime
