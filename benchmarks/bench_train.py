"""Time `mlgate train` against the seed guide's training script, on the same data and model.

Each repetition gives every contender a fresh copy of the project (params.yaml + data/) and its own
sqlite registry, and runs it as a subprocess, so all of them pay the interpreter and the imports.
The registry either exists already, empty (`--registry existing`, the default: what every run pays
after a registry's first, and what CI pays against a tracking server), or is created by the run
(`--registry fresh`: all contenders also pay for creating its tables, 1.5–3 s here).
Contenders, interleaved (their order rotates per repetition):

- mlgate: `mlgate train` (the real CLI): fingerprint lookup, fit, metrics, confusion-matrix figure,
  metrics.json, model with signature + input example, skops serialization with explicit trusted
  types and explicit pip requirements, registration with tags, `Staging`.
- seed: the seed guide's approach: load the CSV, fit the same pipeline
  (`mlgate.train.build_pipeline` on the same split, so the model is identical),
  `mlflow.start_run`, log params and metrics,
  `mlflow.sklearn.log_model(model, "model", registered_model_name=...)` with MLflow's defaults,
  then `transition_model_version_stage(..., "Staging")`. MLflow 3.17 serializes sklearn models
  with skops by default and refuses a tree model unless `skops_trusted_types` names
  `sklearn.tree._tree.Tree`; that one argument is the only departure from the defaults.
- seed+pins (context): the seed script with `pip_requirements` given, as mlgate does: shows how
  much of the seed's time is MLflow's requirement inference.
- floor (context): import mlflow and scikit-learn, open the registry (creating its tables when
  fresh), exit: the part of every contender's time that no training code can remove.

Both mlgate and the seed must report the same accuracy, or the comparison means nothing.
It also times `mlgate --help` (the CLI's start-up).

    .venv/bin/python benchmarks/bench_train.py --repeats 5
    .venv/bin/python benchmarks/bench_train.py --repeats 5 --registry fresh
"""

from __future__ import annotations

import argparse
import json
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
TARGET_RATIO = 0.5
TARGET_HELP_SECONDS = 0.3

SEED_SCRIPT = '''\
"""The seed guide's train.py, with mlgate's pipeline so the model is the same."""
import json
import sys

import mlflow
import mlflow.sklearn
from mlflow.tracking import MlflowClient

from mlgate import data
from mlgate.config import load_params
from mlgate.train import build_pipeline, evaluate, pip_requirements

params = load_params("params.yaml")
holdout = data.holdout(params.data)
split, classes = holdout.split, holdout.classes
model = build_pipeline(params)
model.fit(split.X_train, split.y_train)
metrics = evaluate(split.y_test, model.predict(split.X_test), classes)

name = params.mlflow.registered_model_name
mlflow.set_experiment(params.mlflow.experiment_name)
extra = {"pip_requirements": pip_requirements()} if "--pins" in sys.argv else {}
with mlflow.start_run():
    mlflow.log_params({"model_type": params.model.estimator, **params.model.params})
    mlflow.log_metrics(metrics)
    # MLflow's defaults, except the one argument its skops serialization demands for trees.
    info = mlflow.sklearn.log_model(
        model, "model", registered_model_name=name,
        skops_trusted_types=["sklearn.tree._tree.Tree"], **extra,
    )
version = info.registered_model_version
if metrics["accuracy"] >= params.mlflow.staging_threshold:
    MlflowClient().transition_model_version_stage(name, str(version), "Staging")
print(json.dumps({"version": str(version), "accuracy": metrics["accuracy"]}))
'''

FLOOR_SCRIPT = """\
import mlflow
import sklearn.ensemble

mlflow.set_experiment("floor")  # opens the sqlite registry (creating its tables when fresh)
"""


def make_project(root: Path, registry: Path | None = None) -> Path:
    root.mkdir(parents=True)
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    shutil.copytree(REPO / "data", root / "data")
    if registry is not None:
        shutil.copy(registry, root / "mlflow.db")
    return root


def environment(project: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLFLOW_"))}
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{project / 'mlflow.db'}"
    return env


def run(command: list[str], project: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=project, env=environment(project), capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def accuracy_of(contender: str, stdout: str) -> float | None:
    if contender == "floor":
        return None
    payload = json.loads(stdout.strip().splitlines()[-1] if contender != "mlgate" else stdout)
    if contender == "mlgate":
        return payload["metrics"]["accuracy"]
    return payload["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed repetitions per contender")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (page cache)")
    parser.add_argument("--help-runs", type=int, default=20, help="timed runs of `mlgate --help`")
    parser.add_argument(
        "--registry",
        choices=("existing", "fresh"),
        default="existing",
        help="an existing empty sqlite registry per run, or one each run creates",
    )
    args = parser.parse_args()

    import mlflow
    import sklearn

    mlgate = str(Path(sys.executable).with_name("mlgate"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-train-"))
    seed_py, floor_py = tmp / "seed_train.py", tmp / "floor.py"
    seed_py.write_text(SEED_SCRIPT)
    floor_py.write_text(FLOOR_SCRIPT)
    template = None
    if args.registry == "existing":
        # An empty registry with its tables, made once and copied into every project.
        run([sys.executable, str(floor_py)], make_project(tmp / "template"))
        template = tmp / "template" / "mlflow.db"
    commands = {
        "mlgate": [mlgate, "train", "--json"],
        "seed": [sys.executable, str(seed_py)],
        "seed+pins": [sys.executable, str(seed_py), "--pins"],
        "floor": [sys.executable, str(floor_py)],
    }
    names = list(commands)
    times: dict[str, list[float]] = {name: [] for name in names}
    accuracies: dict[str, set[float]] = {name: set() for name in names}
    try:
        for rep in range(-args.warmup, args.repeats):
            shift = rep % len(names)
            order = names[shift:] + names[:shift]
            line = []
            for name in order:
                project = make_project(tmp / f"r{rep}-{name.replace('+', '-')}", template)
                seconds, stdout = run(commands[name], project)
                shutil.rmtree(project)
                if (accuracy := accuracy_of(name, stdout)) is not None:
                    accuracies[name].add(accuracy)
                line.append(f"{name} {seconds:6.2f} s")
                if rep >= 0:
                    times[name].append(seconds)
            label = "warm-up" if rep < 0 else f"rep {rep + 1}"
            print(f"{label:>8}: " + "  ".join(line), flush=True)

        help_times = []
        for _ in range(args.help_runs):
            started = time.perf_counter()
            subprocess.run([mlgate, "--help"], check=True, stdout=subprocess.DEVNULL)
            help_times.append(time.perf_counter() - started)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    same = accuracies["mlgate"] == accuracies["seed"] == accuracies["seed+pins"]
    if not same or len(accuracies["mlgate"]) != 1:
        sys.exit(f"the contenders trained different models: accuracies {accuracies}")
    median = {name: statistics.median(values) for name, values in times.items()}
    ratio = median["mlgate"] / median["seed"]
    help_median = statistics.median(help_times)

    print(
        f"\nPython {platform.python_version()}, mlflow {mlflow.__version__}, scikit-learn"
        f" {sklearn.__version__}, {os.cpu_count()} cores; {args.repeats} interleaved repetitions,"
        f" fresh project + {args.registry} sqlite registry each;"
        f" same model (accuracy {accuracies['mlgate'].pop():.4f})"
    )
    print(f"\n{'contender':<10} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name in names:
        print(f"{name:<10} {median[name]:>9.2f} {min(times[name]):>7.2f} {max(times[name]):>7.2f}")
    # Paired by round: the same round's floor, so a noisy round moves both terms.
    above = {
        name: statistics.median(t - f for t, f in zip(times[name], times["floor"], strict=True))
        for name in ("mlgate", "seed")
    }
    print(
        f"\nratio mlgate/seed = {ratio:.2f} (target <= {TARGET_RATIO}: "
        f"{'met' if ratio <= TARGET_RATIO else 'NOT met'})"
    )
    print(
        f"above the floor (interpreter, imports, opening the registry; median of per-round"
        f" differences): mlgate {above['mlgate']:.2f} s, seed {above['seed']:.2f} s"
    )
    print(
        f"mlgate --help: median {help_median:.3f} s, max {max(help_times):.3f} s over"
        f" {args.help_runs} runs (target < {TARGET_HELP_SECONDS} s: "
        f"{'met' if help_median < TARGET_HELP_SECONDS else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
