"""Time loading a registered version: verified then read by skops (`registry.load_model`) against
MLflow's own loader (`mlflow.pyfunc.load_model` on the downloaded model, what mlgate did before
it verified a model first).

One sqlite registry in a temporary folder holds the project's model (params.yaml's estimator on
the obesity data, trained by `mlgate.train`). Each repetition loads it both ways in one process,
alternating which goes first, and scores the holdout with the result (both must predict the same
labels). Prints the medians and the paired ratio new / old.

    .venv/bin/python benchmarks/bench_load_model.py --repeats 7
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    import mlflow.artifacts
    import mlflow.pyfunc
    import numpy as np

    from mlgate import data
    from mlgate.config import load_params
    from mlgate.estimators import trusted_types
    from mlgate.registry import connect, load_model
    from mlgate.train import train

    params = load_params(REPO / "params.yaml")
    holdout = data.holdout(params.data, str(REPO / params.data.path))
    name = params.mlflow.registered_model_name
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        registry = connect(f"sqlite:///{tmp}/mlflow.db")
        registry.ensure_experiment(params.mlflow.experiment_name, f"{tmp}/artifacts")
        version = train(params, registry, holdout, root=REPO, figure_path=Path(tmp) / "cm.png")
        trusted = trusted_types(params.model.trusted_types, REPO)
        X = holdout.split.X_test

        def new() -> np.ndarray:
            return np.asarray(load_model(registry, name, version.version, trusted).model.predict(X))

        def old() -> np.ndarray:
            with tempfile.TemporaryDirectory(prefix="bench-old-") as where:
                local = mlflow.artifacts.download_artifacts(
                    f"models:/{name}/{version.version}", dst_path=where
                )
                return np.asarray(mlflow.pyfunc.load_model(local).predict(X))

        assert (new() == old()).all()  # warm both paths once; they predict the same labels
        times: dict[str, list[float]] = {"new": [], "old": []}
        for i in range(args.repeats):
            for label, run in (("new", new), ("old", old))[:: 1 if i % 2 == 0 else -1]:
                started = time.perf_counter()
                run()
                times[label].append(time.perf_counter() - started)
    ratios = [n / o for n, o in zip(times["new"], times["old"], strict=True)]
    print(f"python {sys.version.split()[0]}, {args.repeats} repeats, model {name} v1")
    for label, title in (("old", "mlflow.pyfunc.load_model"), ("new", "verified skops load")):
        print(f"  {title:26s} median {statistics.median(times[label]) * 1000:7.1f} ms")
    print(f"  ratio new/old (paired)     median {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
