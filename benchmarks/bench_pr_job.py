"""Time the pull-request job as a user's CI runs it without a registry server: the four-command
sequence phase by phase, and `mlgate pr` doing the same job in one process, side by side.

Each repetition starts from a fresh copy of the project (params.yaml + data/) whose embedded
registry (`sqlite:///mlflow.db`, params.yaml's default) does not exist yet, and runs the real CLI:

  help        mlgate --help (start-up)
  base train  mlgate train                        (the base branch's model)
  promote     mlgate promote obesity_classifier 1 Production --reason base
  challenger  mlgate train                        (after a change to model.params)
  gate        mlgate gate --report reports/gate.md --json reports/gate.json

then, in another fresh copy made a git repository (base commit, a PR branch with the same change,
and GitHub's merge commit of it into the base checked out):

  mlgate pr   mlgate pr --pr-number 1             (job-local registry: base model, challenger, gate)

Prints the median wall time of each phase over the repetitions and its peak RSS, measured with
`/usr/bin/time -v` when it exists (Debian package `time`), else with os.wait4's rusage of the
child (the same ru_maxrss the kernel reports to `time`), and the ratio of `mlgate pr` to the
sequence (help excluded). Both JSON verdicts must name v2 as the challenger and v1 as the
champion, or the job did not do what it claims.

    .venv/bin/python benchmarks/bench_pr_job.py --repeats 3
"""

from __future__ import annotations

import argparse
import json
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
MODEL = "obesity_classifier"
GNU_TIME = Path("/usr/bin/time")
# The challenger's change: a different forest, as a PR tuning the model would make.
CHALLENGER_PARAMS = {"n_estimators": 150, "max_depth": 20, "random_state": 7}


def make_project(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    shutil.copytree(REPO / "data", root / "data")
    return root


def environment() -> dict[str, str]:
    # No MLFLOW_TRACKING_URI: params.yaml's embedded registry, as in a PR without secrets.
    return {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLFLOW_"))}


def measure(
    command: list[str], cwd: Path, ok_codes: tuple[int, ...] = (0,)
) -> tuple[float, float, int]:
    """(seconds, peak RSS in MiB, exit code) of one command."""
    env = environment()
    if GNU_TIME.exists():
        with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
            started = time.perf_counter()
            done = subprocess.run(
                [str(GNU_TIME), "-v", "-o", report.name, *command],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
            )
            seconds = time.perf_counter() - started
            match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report.read())
        code, stderr = done.returncode, done.stderr
        peak_kib = int(match.group(1)) if match else 0
    else:
        started = time.perf_counter()
        proc = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        stderr = proc.stderr.read() if proc.stderr else ""
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        peak_kib = usage.ru_maxrss  # KiB on Linux
    if code not in ok_codes:
        sys.exit(f"{' '.join(command)} exited {code}:\n{stderr[-3000:]}")
    return seconds, peak_kib / 1024, code


def set_model_params(project: Path, model_params: dict[str, object]) -> None:
    import yaml

    path = project / "params.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["model"]["params"] = model_params
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


def promote_commands(mlgate: str) -> list[list[str]]:
    """`promote --reason` when the CLI has it (it moves @champion too); else stage + alias."""
    help_text = subprocess.run([mlgate, "promote", "--help"], capture_output=True, text=True).stdout
    if "--reason" in help_text:
        return [[mlgate, "promote", MODEL, "1", "Production", "--reason", "base"]]
    return [
        [mlgate, "promote", MODEL, "1", "Production"],
        [mlgate, "alias", MODEL, "champion", "1"],
    ]


def one_job(mlgate: str, project: Path, promote: list[list[str]]) -> dict[str, tuple[float, float]]:
    phases: dict[str, tuple[float, float]] = {}
    phases["help"] = measure([mlgate, "--help"], project)[:2]
    phases["base train"] = measure([mlgate, "train"], project)[:2]
    runs = [measure(command, project) for command in promote]
    phases["promote"] = (sum(r[0] for r in runs), max(r[1] for r in runs))
    set_model_params(project, CHALLENGER_PARAMS)
    phases["challenger"] = measure([mlgate, "train"], project)[:2]
    gate = [mlgate, "gate", "--report", "reports/gate.md", "--json", "reports/gate.json"]
    seconds, peak, _ = measure(gate, project, ok_codes=(0, 1))
    phases["gate"] = (seconds, peak)
    verdict = json.loads((project / "reports" / "gate.json").read_text())
    challenger, champion = verdict["challenger"], verdict["champion"] or {}
    if challenger["version"] != "2" or champion.get("version") != "1":
        sys.exit(f"the gate compared {challenger} with {champion}, not v2 with v1")
    print(f"    verdict: {verdict['verdict']}", flush=True)
    return phases


def git_project(root: Path) -> Path:
    """The project as a repository: base on main, the change on a branch, the merge checked out."""
    make_project(root)

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.name", "bench")
    git("config", "user.email", "bench@example.org")
    (root / ".gitignore").write_text("reports/\n")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    git("checkout", "-q", "-b", "tune")
    set_model_params(root, CHALLENGER_PARAMS)
    git("commit", "-q", "-am", "tune the forest")
    git("checkout", "-q", "--detach", "main")
    git("merge", "-q", "--no-ff", "--no-edit", "tune")
    return root


def one_pr_command(mlgate: str, project: Path) -> tuple[float, float]:
    seconds, peak, _ = measure([mlgate, "pr", "--pr-number", "1"], project, ok_codes=(0, 1))
    verdict = json.loads((project / "reports" / "gate.json").read_text())
    challenger, champion = verdict["challenger"], verdict["champion"] or {}
    if challenger["version"] != "2" or champion.get("version") != "1":
        sys.exit(f"mlgate pr compared {challenger} with {champion}, not v2 with v1")
    print(f"    mlgate pr verdict: {verdict['verdict']}", flush=True)
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="whole jobs to time (median)")
    args = parser.parse_args()

    import mlflow
    import sklearn

    mlgate = str(Path(sys.executable).with_name("mlgate"))
    promote = promote_commands(mlgate)
    tmp = Path(tempfile.mkdtemp(prefix="bench-pr-job-"))
    jobs = []
    try:
        for rep in range(args.repeats):
            project = make_project(tmp / f"job{rep}")
            jobs.append(one_job(mlgate, project, promote))
            shutil.rmtree(project)
            project = git_project(tmp / f"pr{rep}")
            jobs[-1]["mlgate pr"] = one_pr_command(mlgate, project)
            shutil.rmtree(project)
            line = "  ".join(f"{name} {s:.2f} s" for name, (s, _) in jobs[-1].items())
            print(f"  job {rep + 1}: {line}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rss_tool = "/usr/bin/time -v" if GNU_TIME.exists() else "os.wait4 rusage"
    print(
        f"\nPython {platform.python_version()}, mlflow {mlflow.__version__}, scikit-learn"
        f" {sklearn.__version__}, {os.cpu_count()} cores; {args.repeats} jobs, embedded sqlite"
        f" registry; peak RSS by {rss_tool}"
    )
    print("promote phase: " + " && ".join(" ".join(["mlgate", *c[1:]]) for c in promote))
    print(f"\n| {'phase':<11} | {'seconds':>7} | {'peak MiB':>8} |")
    print(f"|{'-' * 13}|{'-' * 8}:|{'-' * 9}:|")
    sequence = ("base train", "promote", "challenger", "gate")
    totals = [sum(job[name][0] for name in sequence) for job in jobs]
    for name in ("help", *sequence):
        seconds = statistics.median(job[name][0] for job in jobs)
        peak = max(job[name][1] for job in jobs)
        print(f"| {name:<11} | {seconds:>7.2f} | {peak:>8.0f} |")
    peak_all = max(job[name][1] for job in jobs for name in sequence)
    print(f"| {'sequence':<11} | {statistics.median(totals):>7.2f} | {peak_all:>8.0f} |")
    pr_seconds = [job["mlgate pr"][0] for job in jobs]
    pr_peak = max(job["mlgate pr"][1] for job in jobs)
    print(f"| {'mlgate pr':<11} | {statistics.median(pr_seconds):>7.2f} | {pr_peak:>8.0f} |")
    ratios = [p / t for p, t in zip(pr_seconds, totals, strict=True)]
    print(
        f"\nmlgate pr / four-command sequence: {statistics.median(ratios):.2f}x"
        f" (per job: {', '.join(f'{r:.2f}' for r in ratios)})"
    )


if __name__ == "__main__":
    main()
