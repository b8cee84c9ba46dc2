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


@pytest.mark.parametrize(
    ("raised", "code", "line"),
    [
        pytest.param(
            KeyError("Gender"),
            4,
            "internal error (KeyError: 'Gender'); please report it, with the output of --verbose",
            id="a-bug-is-internal",
        ),
        pytest.param(
            ConnectionResetError("connection reset by peer"),
            3,
            "ConnectionResetError: connection reset by peer; check the tracking server, the"
            " network and the disk",
            id="untranslated-io-is-infrastructure",
        ),
    ],
)
def test_an_exception_mlgate_does_not_explain_has_its_own_exit_code(
    tmp_path, monkeypatch, raised, code, line
):
    # The fault is put into the library under a real command: no input makes mlgate fail this way.
    import mlgate.schema_inference

    def fails(*args, **kwargs):
        raise raised

    monkeypatch.setattr(mlgate.schema_inference, "infer", fails)
    (tmp_path / "d.csv").write_text("a,y\n1,x\n2,z\n")
    args = ["data", "infer-schema", "--data", str(tmp_path / "d.csv"), "--target", "y"]
    result = CliRunner().invoke(main, args)
    assert (result.exit_code, result.stderr) == (code, f"mlgate: error: {line}\n")
    verbose = CliRunner().invoke(main, ["--verbose", *args])
    assert verbose.exit_code == code and "Traceback" in verbose.stderr


def test_help_documents_every_exit_code():
    text = " ".join(CliRunner().invoke(main, ["--help"]).output.split())
    assert "Exit codes: 0 ok, 1 gate failed, 2 usage/config/data error, 3" in text
    assert "4 internal error (a bug in mlgate: please report it)" in text
