"""Time the README's test install with and without `uv pip install --compile-bytecode`, and what
each venv then costs the first processes that import mlflow.

Two fresh virtual environments (`python3 -m venv`, not timed) get `requirements-test.lock` and
`-e .` from the same warm uv cache, one with `--compile-bytecode`. Then, in each, one after the
other and in this order:

- `mlgate history` against a new sqlite registry: a registry command's start-up (it imports
  mlflow and its SQLAlchemy store), run three times: the first pays for compiling whatever has no
  bytecode yet, the later ones show what a second process pays.
- `pytest --collect-only -q tests/unit`: the suite's start-up, importing every unit test module
  (mlflow, scikit-learn, pandas and mlgate), once.

This is a representative subset, not the whole suite: the machine is shared. Run from the
repository root:

    .venv/bin/python benchmarks/bench_bytecode.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or "uv"


def _timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 2, 3, 5):  # history of a missing model: exit 2
        sys.exit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def _install(folder: Path, compile_bytecode: bool) -> tuple[Path, float]:
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    python = folder / "bin" / "python"
    flags = ["--compile-bytecode"] if compile_bytecode else []
    start = time.perf_counter()
    for args in (
        [*flags, "--require-hashes", "-r", "requirements-test.lock"],
        ["--no-deps", "-e", "."],
    ):
        subprocess.run(
            [UV, "pip", "install", "-q", "--python", str(python), *args],
            cwd=ROOT,
            check=True,
        )
    return folder / "bin", time.perf_counter() - start


def main() -> None:
    rows = {}
    with tempfile.TemporaryDirectory(prefix="mlgate-bytecode-") as tmp:
        work = Path(tmp)
        for label, compiled in (("without", False), ("with", True)):
            bin_dir, install = _install(work / label, compiled)
            uri = f"sqlite:///{work / label}.db"
            history = [bin_dir / "mlgate", "history", "nosuch", "--tracking-uri", uri]
            runs = [_timed([str(a) for a in history], work) for _ in range(3)]
            collect = [str(bin_dir / "python"), "-m", "pytest", "--collect-only", "-q"]
            suite = _timed([*collect, "-p", "no:cacheprovider", "tests/unit"], ROOT)
            rows[label] = (install, *runs, suite)
            print(f"{label:>8}: " + "  ".join(f"{v:6.2f}" for v in rows[label]), flush=True)
    print("columns: install, mlgate history 1st/2nd/3rd, pytest --collect-only tests/unit (s)")
    without, with_ = rows["without"], rows["with"]
    first_processes = sum(without[1:2]) + without[4], sum(with_[1:2]) + with_[4]
    print(
        f"install: {with_[0] / without[0]:.2f}x; first mlgate history: "
        f"{without[1] / with_[1]:.2f}x faster compiled; suite collection: "
        f"{without[4] / with_[4]:.2f}x faster compiled; install + first two processes: "
        f"{(without[0] + first_processes[0]) / (with_[0] + first_processes[1]):.2f}x"
    )


if __name__ == "__main__":
    main()
