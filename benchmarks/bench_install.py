"""Time installing mlgate with pip (`pip install .`, versions resolved from pyproject.toml) against
the locked install the README, `.ci/run` and the workflows use (uv 0.13.9 installed with pip, then
`uv pip install --require-hashes -r requirements.lock` and `uv pip install --no-deps .`).

Every contender gets a fresh virtual environment in a temporary folder, made by
`python3 -m venv` (not timed), and runs in the same process, one after the other:

- pip: `pip install .` with pip's own cache as it is on this machine (its usual state on a
  developer's laptop; CI machines start without one).
- uv cold: the locked install with an empty uv cache (a fresh CI machine), including
  `pip install uv==0.13.9`.
- uv warm: the same again, with the cache the cold run filled (a second run on the machine).

Both must end with the same versions of the packages that shape the model, or the comparison
means nothing; the script prints them. Run from the repository root:

    .venv/bin/python benchmarks/bench_install.py
    .venv/bin/python benchmarks/bench_install.py --lock requirements-test.lock
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UV = "uv==0.13.9"
SHOWN = ("mlflow", "scikit-learn", "numpy", "scipy", "pandas")


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def _venv(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    return folder / "bin"


def _versions(bin_dir: Path) -> str:
    code = (
        "from importlib import metadata as m;"
        f"print(' '.join(f'{{d}}=={{m.version(d)}}' for d in {SHOWN!r}))"
    )
    return subprocess.run(
        [str(bin_dir / "python"), "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def pip_install(work: Path, env: dict[str, str]) -> tuple[float, str]:
    bin_dir = _venv(work / "pip")
    started = time.perf_counter()
    _run([str(bin_dir / "pip"), "install", "-q", "."], env)
    return time.perf_counter() - started, _versions(bin_dir)


def locked_install(work: Path, name: str, lock: str, env: dict[str, str]) -> tuple[float, str]:
    bin_dir = _venv(work / name)
    python = str(bin_dir / "python")
    started = time.perf_counter()
    _run([str(bin_dir / "pip"), "install", "-q", UV], env)
    _run(
        [
            str(bin_dir / "uv"),
            "pip",
            "install",
            "-q",
            "--python",
            python,
            "--require-hashes",
            "-r",
            lock,
        ],
        env,
    )
    _run([str(bin_dir / "uv"), "pip", "install", "-q", "--python", python, "--no-deps", "."], env)
    return time.perf_counter() - started, _versions(bin_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", default="requirements.lock")
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, lock {args.lock}")
    with tempfile.TemporaryDirectory(prefix="bench-install-") as tmp:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_CACHE_DIR")}
        env["UV_CACHE_DIR"] = str(work / "uv-cache")
        results = {
            "pip install .": pip_install(work, env),
            "uv, cold cache": locked_install(work, "uv-cold", args.lock, env),
            "uv, warm cache": locked_install(work, "uv-warm", args.lock, env),
        }
        shutil.rmtree(work / "uv-cache", ignore_errors=True)
    pip_seconds = results["pip install ."][0]
    print(f"{'contender':<16} {'seconds':>8} {'pip / it':>9}  versions")
    for name, (seconds, versions) in results.items():
        print(f"{name:<16} {seconds:>8.1f} {pip_seconds / seconds:>8.1f}x  {versions}")


if __name__ == "__main__":
    main()
