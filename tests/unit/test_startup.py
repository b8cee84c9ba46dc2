"""What a command pays before and after its work: imports, the garbage collector, the exit.

Each check runs in a fresh interpreter, as the `mlgate` console script does.
"""

import subprocess
import sys
from pathlib import Path


def _python(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_a_champion_move_imports_neither_scikit_learn_nor_scipy_stats():
    # What `promote`, `release` and `rollback` import to move an alias and write the card from the
    # gate's stored evidence; scipy.stats (~0.5 s) and scikit-learn load only to compute.
    code = (
        "import sys, mlgate.cli, mlgate.card, mlgate.card_facts, mlgate.catalog,"
        " mlgate.release, mlgate.tables; "
        "print(*sorted(m for m in ('scipy.stats', 'sklearn') if m in sys.modules))"
    )
    assert _python(code) == []


def test_the_console_script_s_first_connection_pauses_the_collector_and_freezes(tmp_path: Path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code = (
        "import gc; from mlgate import registry; registry.own_process(); "
        f"registry.connect({uri!r}); frozen = gc.get_freeze_count(); "
        f"registry.connect({uri!r}); "
        "print(gc.isenabled(), frozen > 100_000, gc.get_freeze_count() == frozen)"
    )
    # On again afterwards; mlflow's modules and store out of its sight; once per process.
    assert _python(code) == ["True", "True", "True"]


def test_a_connection_from_a_test_or_a_notebook_leaves_the_collector_alone(tmp_path: Path):
    code = (
        "import gc; from mlgate.registry import connect; "
        f"connect('sqlite:///{tmp_path / 'mlflow.db'}'); "
        "print(gc.isenabled(), gc.get_freeze_count())"
    )
    assert _python(code) == ["True", "0"]


def test_the_console_script_exits_without_the_last_sweep_and_keeps_the_exit_code():
    # atexit runs its handlers last-registered first: this one runs after everything mlgate did.
    code = (
        "import atexit, gc, sys; "
        "atexit.register(lambda: print('frozen' if gc.get_freeze_count() else 'swept')); "
        "from mlgate.cli import run; sys.argv = ['mlgate', '--version']; run()"
    )
    assert _python(code)[-1] == "frozen"
    script = Path(sys.executable).with_name("mlgate")
    usage = subprocess.run([str(script), "no-such-command"], capture_output=True, text=True)
    assert usage.returncode == 2
    assert "No such command" in usage.stderr
