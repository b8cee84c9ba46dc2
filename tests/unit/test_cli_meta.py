"""Meta-tests: the CLI stays cheap to start and every command documents itself."""

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from mlgate.cli import main


def test_cli_import_does_not_load_heavy_libraries():
    code = (
        "import sys, mlgate.cli; "
        "heavy = ('mlflow', 'sklearn', 'pandas', 'scipy', 'matplotlib'); "
        "heavy = sorted(m for m in heavy if m in sys.modules); "
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def _commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


@pytest.mark.parametrize("path", [" ".join(p) for p, _ in _commands(main)])
def test_every_command_has_help(path):
    result = CliRunner().invoke(main, [*path.split(), "--help"])
    assert result.exit_code == 0
    command = dict((" ".join(p), c) for p, c in _commands(main))[path]
    assert command.help and len(command.help.strip()) > 20


def test_version_and_usage_errors():
    from mlgate import __version__

    assert CliRunner().invoke(main, ["--version"]).output.startswith(f"mlgate {__version__} (")
    result = CliRunner().invoke(main, ["no-such-command"])
    assert result.exit_code == 2
