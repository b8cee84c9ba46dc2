"""Decision quality of the gate for regression, on the diabetes example's real data: how often it
blocks a challenger as good as the champion (false block), how often it catches a worse one
(detection), beside a point-estimate rule judging the same cases.

Each replicate splits examples/diabetes/data/diabetes.csv (442 rows) at random as params.yaml's
`test_size` says (0.2: an 89-row holdout), trains the champion with the example's model config
(random forest, 100 trees) through mlgate's own schema and pipeline code, and judges challengers
trained or built on the same rows:

- equal, retrained: the same config with another `random_state` (truth: no difference);
- equal, constructed: the champion's per-row errors multiplied by independent factors c_i with
  E[c²] = 1, so the true RMSE is the champion's on any population;
- worse, constructed: the same with E[c²] = ρ², a true RMSE ratio ρ of 1.05, 1.10, 1.20. The
  factors are sqrt(ρ² G), G ~ Gamma(κ, 1/κ), with κ chosen so that the per-row squared-error
  differences vary as much as between the champion and its real retrains (calibrated on the
  first replicates), i.e. the constructed challengers disagree with the champion as real ones do;
- worse, real: crippled configurations, whose expected RMSE ratio is estimated by the mean of
  their holdout ratios over all replicates (listed with the rates).

Every challenger is judged by the decision mlgate makes on the holdout, for each margin: the
gate's own interval of the RMSE's improvement (`regression.improvement_interval`: the wider of
the paired percentile bootstrap, 2000 resamples, and its normal interval) and its three verdicts
(`noninferiority.decide` against margin x the champion's RMSE). A block is a fail, or an
inconclusive verdict under `gate.on_inconclusive: fail` (the default); the report lists each
verdict's share. Beside it, the point rule "block when challenger RMSE > (1 + margin) x
champion RMSE". Cross-validation, which settles some inconclusive verdicts in the gate, is not
run here (it needs the configurations, and constructed challengers have none).
The per-slice check (`data.slice_by: sex`, `max_slice_loss` 0.10) is reported on its own.

    .venv/bin/python benchmarks/bench_gate_regression.py --replicates 200 --seed 0
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from mlgate import data, estimators, regression, schema
from mlgate.noninferiority import FAIL, PASS, decide

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "diabetes"
MARGINS = (0.05, 0.075, 0.10, 0.15)
SLICE_LOSS = 0.10
N_BOOT = 2000
CALIBRATION_REPLICATES = 20
# name -> hyper-parameters replacing the example's
FAMILIES: dict[str, dict[str, Any]] = {
    "max_depth=2": {"max_depth": 2},  # about as good on this nearly linear data, but different
    "min_samples_leaf=60": {"min_samples_leaf": 60},
    "n_estimators=3": {"n_estimators": 3},
    "max_depth=1": {"max_depth": 1},
}
# Constructed challengers disagree with the champion like a seed-only retrain ("seed-like") or
# like the different but about as good max_depth=2 forest ("model-like").
CONSTRUCTED = {"seed-like": (1.0, 1.05, 1.10, 1.20), "model-like": (1.0, 1.10, 1.20, 1.30)}


@dataclass(frozen=True)
class Judged:
    kind: str  # retrained | constructed ρ=... | family name
    replicate: int
    ratio: float  # holdout RMSE ratio challenger / champion
    se: float  # bootstrap SD of the RMSE difference / champion RMSE
    verdicts: tuple[str, ...]  # pass | fail | inconclusive, per margin
    point_blocks: tuple[bool, ...]
    slice_block: bool


def _load() -> tuple[Any, Any, dict[str, Any]]:
    params = yaml.safe_load((EXAMPLE / "params.yaml").read_text())
    parsed = schema.parse(params["data"])
    frame = data.read_csv(EXAMPLE / params["data"]["path"], parsed)
    data.validate(frame, parsed, "diabetes.csv")
    return parsed, frame, params


def _split(frame: Any, parsed: Any, test_size: float, seed: int) -> tuple[Any, ...]:
    from sklearn.model_selection import train_test_split

    X, y = frame.drop(columns=[parsed.target]), frame[parsed.target].to_numpy(float)
    return train_test_split(X, y, test_size=test_size, random_state=seed)


def _fit_predict(parsed: Any, model: dict[str, Any], hyper: dict[str, Any], data: tuple) -> Any:
    X_train, X_test, y_train, _ = data
    estimator = estimators.build(model["estimator"], {**model["params"], **hyper}, parsed.task)
    pipeline = estimators.build_pipeline(parsed, estimator, model.get("numeric", "auto"))
    return pipeline.fit(X_train, y_train).predict(X_test)


def _judge(kind: str, rep: int, y: Any, champ: Any, chall: Any, sexes: Any) -> Judged:
    base = regression.regression_metrics(y, champ)["rmse"]
    new = regression.regression_metrics(y, chall)["rmse"]
    gain, _ = regression.improvement_interval(y, champ, chall, "rmse", N_BOOT, rep)
    verdicts = tuple(decide(gain, m * base).verdict for m in MARGINS)
    point = tuple(new > (1 + m) * base + 1e-12 for m in MARGINS)
    rows = regression.slice_rows(y, sexes, chall, champ, "rmse")
    slice_block = not regression.per_slice_check(rows, "sex", "rmse", SLICE_LOSS).passed
    return Judged(kind, rep, new / base, gain.se / base, verdicts, point, slice_block)


def _replicate(args: tuple[int, int, dict[str, float]]) -> list[Judged]:
    rep, seed, kappas = args
    parsed, frame, params = _load()
    data = _split(frame, parsed, params["data"]["test_size"], seed * 100_000 + rep)
    y, sexes = data[3], data[1]["sex"].to_numpy()
    model = params["model"]
    champ = _fit_predict(parsed, model, {}, data)
    out = [_judge("retrained", rep, y, champ, _retrained(parsed, model, rep, data), sexes)]
    rng = np.random.default_rng([seed, rep])
    errors = champ - y
    for like, ratios in CONSTRUCTED.items():
        kappa = kappas[like]
        for ratio in ratios:
            factors = np.sqrt(ratio**2 * rng.gamma(kappa, 1 / kappa, y.size))
            kind = f"{like} ρ={ratio:.2f}"
            out.append(_judge(kind, rep, y, champ, y + errors * factors, sexes))
    for name, hyper in FAMILIES.items():
        out.append(_judge(name, rep, y, champ, _fit_predict(parsed, model, hyper, data), sexes))
    return out


def _retrained(parsed: Any, model: dict[str, Any], rep: int, data: tuple) -> Any:
    return _fit_predict(parsed, model, {"random_state": 1000 + rep}, data)


def _calibrate(seed: int, n: int) -> dict[str, float]:
    """κ such that constructed challengers' per-row squared-error differences vary as much as a
    real challenger's: Var(e²(G−1)) = E[e⁴]/κ, matched to Var(e_b² − e_a²)."""
    parsed, frame, params = _load()
    moments, spreads = [], {"seed-like": [], "model-like": []}
    for rep in range(n):
        data = _split(frame, parsed, params["data"]["test_size"], seed * 100_000 + rep)
        y = data[3]
        a = _fit_predict(parsed, params["model"], {}, data) - y
        b = _retrained(parsed, params["model"], rep, data) - y
        c = _fit_predict(parsed, params["model"], FAMILIES["max_depth=2"], data) - y
        moments.append(np.mean(a**4))
        spreads["seed-like"].append(np.var(b**2 - a**2))
        spreads["model-like"].append(np.var(c**2 - a**2))
    return {like: float(np.mean(moments) / np.mean(v)) for like, v in spreads.items()}


def _rate(hits: int, n: int) -> str:
    lo, hi = _wilson(hits, n)
    return f"{hits / n:6.1%} [{lo:.0%}–{hi:.0%}]" if n else "   n/a"


def _wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    kappas = _calibrate(args.seed, CALIBRATION_REPLICATES)
    work = [(rep, args.seed, kappas) for rep in range(args.replicates)]
    with ProcessPoolExecutor(args.jobs) as pool:
        judged = [j for batch in pool.map(_replicate, work) for j in batch]
    elapsed = time.perf_counter() - started
    _report(judged, kappas, args, elapsed)
    return 0


def _report(
    judged: list[Judged], kappas: dict[str, float], args: argparse.Namespace, elapsed: float
) -> None:
    import sklearn

    kinds = list(dict.fromkeys(j.kind for j in judged))
    n = args.replicates
    print(
        f"diabetes example, {n} random 80/20 splits (89-row holdouts), seed {args.seed}; "
        f"κ seed-like {kappas['seed-like']:.1f}, model-like {kappas['model-like']:.1f} "
        f"(calibrated on {CALIBRATION_REPLICATES} splits)"
    )
    print(
        f"Python {platform.python_version()}, scikit-learn {sklearn.__version__}, "
        f"--jobs {args.jobs}, load {os.getloadavg()[0]:.1f}"
    )
    print("\nSE of the RMSE difference (the gate's) / champion RMSE, median (10–90%):")
    for kind in kinds:
        se = np.array([j.se for j in judged if j.kind == kind])
        spread = f"{np.quantile(se, 0.1):.3f}–{np.quantile(se, 0.9):.3f}"
        print(f"  {kind:<22} {np.median(se):.3f} ({spread})")
    head = f"{'challenger':<22} {'mean ratio':>10} " + " ".join(
        f"{f'm={m:g}':>19}" for m in MARGINS
    )
    for title, hit in (
        ("block (fail or inconclusive; on_inconclusive: fail)", lambda v: v != PASS),
        ("fail", lambda v: v == FAIL),
        ("pass", lambda v: v == PASS),
    ):
        print(f"\n{title}, relative margin m, with 95% Wilson intervals")
        print(head)
        print("-" * len(head))
        for kind in kinds:
            rows = [j for j in judged if j.kind == kind]
            ratio = np.mean([j.ratio for j in rows])
            rates = [
                _rate(sum(hit(j.verdicts[i]) for j in rows), len(rows)) for i in range(len(MARGINS))
            ]
            print(f"{kind:<22} {ratio:>10.3f} " + " ".join(f"{r:>19}" for r in rates))
    print("\npoint rule: block when challenger RMSE > (1 + m) x champion RMSE")
    print(head)
    print("-" * len(head))
    for kind in kinds:
        rows = [j for j in judged if j.kind == kind]
        ratio = np.mean([j.ratio for j in rows])
        rates = [
            _rate(sum(j.point_blocks[i] for j in rows), len(rows)) for i in range(len(MARGINS))
        ]
        print(f"{kind:<22} {ratio:>10.3f} " + " ".join(f"{r:>19}" for r in rates))
    print(f"\nper-slice check alone (sex, max_slice_loss {SLICE_LOSS:g} relative, point values):")
    for kind in kinds:
        rows = [j for j in judged if j.kind == kind]
        print(f"  {kind:<22} {_rate(sum(j.slice_block for j in rows), len(rows))}")
    print(f"\nrun time {elapsed:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
