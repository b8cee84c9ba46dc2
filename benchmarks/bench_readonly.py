"""Start-up and wall time of the read-only registry commands against a tracking server: the
standard-library REST client (rest.py, what they use now) against MlflowClient (the path they
took before, still the path of every command that writes).

Starts its own `mlflow server --workers 1` on 127.0.0.1 with a tmp sqlite backend and registers
N versions as bench_registry.py does (a model whose versions carry their metrics as tags, and the
same runs registered without them, so `best` and `compare` also search runs). Then each command
runs as a fresh `python -c` process, both ways alternately, `--repeats` times:

- rest: `mlgate.cli.run()`, exactly what the `mlgate` console script runs;
- mlflow: the same, with rest.py declared unusable, so the command connects through MlflowClient.

Both must print the same; the script checks that. Medians and their ratio are printed.

    .venv/bin/python benchmarks/bench_readonly.py --versions 50 --repeats 3
    .venv/bin/python benchmarks/bench_readonly.py --tracking-uri http://127.0.0.1:5000
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_registry import FOREIGN, MODEL, populate, start_server

RUN = "import sys; from mlgate.cli import run; sys.argv = ['mlgate', *sys.argv[1:]]; "
PATHS = {
    "rest": RUN + "run()",
    "mlflow": RUN + "from mlgate import rest; rest.usable = lambda uri: False; run()",
}
COMMANDS = (
    ("list",),
    ("versions", MODEL),
    ("history", MODEL),
    ("compare", FOREIGN, "1", "2"),
    ("best", FOREIGN),
)


def timed(code: str, args: tuple[str, ...], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"mlgate {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--tracking-uri",
        default=None,
        help="A running server instead of a new one (its models are registered if absent).",
    )
    args = parser.parse_args()
    from mlflow.tracking import MlflowClient

    with tempfile.TemporaryDirectory(prefix="mlgate-readonly-") as tmp:
        proc, uri = (None, args.tracking_uri) if args.tracking_uri else start_server(Path(tmp))
        try:
            client = MlflowClient(tracking_uri=uri, registry_uri=uri)
            if not client.search_registered_models(f"name = '{MODEL}'"):
                populate(client, args.versions)
            versions = len(client.search_model_versions(f"name = '{MODEL}'"))
            env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
            print(f"{'command':<28} {'rest (s)':>9} {'mlflow (s)':>10} {'ratio':>6}")
            for command in COMMANDS:
                times: dict[str, list[float]] = {p: [] for p in PATHS}
                outputs: dict[str, set[str]] = {p: set() for p in PATHS}
                for i in range(args.repeats):
                    order = list(PATHS) if i % 2 == 0 else list(reversed(PATHS))
                    for path in order:
                        elapsed, out = timed(PATHS[path], command, env)
                        times[path].append(elapsed)
                        outputs[path].add(out)
                if outputs["rest"] != outputs["mlflow"]:
                    sys.exit(f"mlgate {' '.join(command)}: the two paths print different tables")
                rest, mlflow = (statistics.median(times[p]) for p in PATHS)
                label = "mlgate " + " ".join(a.replace(FOREIGN, "M") for a in command)
                label = label.replace(MODEL, "M")
                print(f"{label:<28} {rest:9.2f} {mlflow:10.2f} {mlflow / rest:5.1f}x", flush=True)
        finally:
            if proc is not None:
                os.killpg(proc.pid, signal.SIGKILL)
    print(f"{versions} versions, {args.repeats} runs each; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
