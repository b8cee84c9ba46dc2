"""Decision quality of the gate: how often it blocks an equal challenger, how often it catches a
degraded one, beside a point-estimate rule judging the same cases.

Each replicate draws a fresh dataset of the UCI schema from the project's generator (2111 rows,
like the committed file), splits it as params.yaml does (stratified, test_size 0.2: ~423 holdout
rows), trains the champion with params.yaml's model config, and trains challengers on the same
training rows:

- equal: the same config with another `random_state`; the truth is "no difference";
- degraded: one of four families (crippled hyper-parameters, or 30 % of the training labels moved
  to a neighbouring BMI class), each checked on a large fresh sample (50,000 rows, another seed):
  only a challenger whose macro-F1 there is at least 3 points below its champion's counts as
  degraded; replicates are added until `--n-degraded` such challengers were judged.

Every challenger is judged by `mlgate.gate.evaluate` with params.yaml's gate section (bootstrap
seed varied per replicate), once per margin, and by the point-estimate rule "block when
challenger − champion < −margin" on the same holdout (the shape of MLflow's `MetricThreshold`; its
own `min_absolute_change` demands an *improvement* of the margin). The budgets (size, latency) are
left out: the question here is statistical, and timings on a shared machine are not. Fresh data
per replicate puts the holdout's sampling noise into the rates, which is the noise a gate faces.

    .venv/bin/python benchmarks/bench_gate_power.py --n-equal 50 --n-degraded 50 --seed 0
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from mlgate import data as data_mod
from mlgate.config import Params, load_params
from mlgate.gate import VERDICT_FAIL, ModelEvidence, evaluate
from mlgate.stats import classification_metrics
from mlgate.train import build_pipeline

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import generate_obesity  # noqa: E402 - the synthetic data's generator, a script beside mlgate

ROWS = 2111  # the size of the UCI file and of the committed dataset
TRUTH_ROWS = 50_000
MIN_DROP = 0.03  # a "real" degradation: 3 macro-F1 points on the large sample
NEAR_BOUNDARY = 0.04  # degraded challengers closest to MIN_DROP: the hardest to catch
MARGINS = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05)
TARGET_FALSE_BLOCK = 0.05
TARGET_DETECTION = 0.95
LABEL_NOISE = 0.30

# name -> hyper-parameters replacing params.yaml's (None: params.yaml's, with label noise).
FAMILIES: dict[str, dict[str, Any] | None] = {
    "max_depth=4": {"max_depth": 4},
    "min_samples_leaf=50": {"min_samples_leaf": 50},
    "n_estimators=10": {"n_estimators": 10},
    f"{LABEL_NOISE:.0%} labels -> neighbour class": None,
}


@dataclass(frozen=True)
class Trial:
    kind: str  # "equal" | "degraded"
    family: str
    replicate: int
    true_delta: float  # challenger − champion macro-F1 on the large sample
    holdout_delta: float  # the same on the holdout (what a point rule sees)
    gate_blocks: tuple[bool, ...]  # verdict "fail", per margin in MARGINS
    ni_blocks: tuple[bool, ...]  # non-inferiority check failed, per margin
    ci_width: float  # width of the primary metric's interval (the same for every margin)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-equal", type=int, default=50)
    parser.add_argument("--n-degraded", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--params", default=str(REPO / "params.yaml"))
    args = parser.parse_args(argv)
    if min(args.n_equal, args.n_degraded, args.jobs) < 1:
        parser.error("--n-equal, --n-degraded and --jobs must be at least 1")
    params = load_params(args.params)
    started = time.perf_counter()

    from joblib import Parallel, delayed

    run = Parallel(n_jobs=args.jobs)
    trials: list[Trial] = []
    replicate, excluded = 0, []
    # Equal challengers need one replicate each; degraded ones may need more when a challenger's
    # verified drop falls short of MIN_DROP (it is then excluded, not counted as a miss).
    while _count(trials, "degraded") < args.n_degraded or _count(trials, "equal") < args.n_equal:
        missing_deg = args.n_degraded - _count(trials, "degraded")
        missing_eq = args.n_equal - _count(trials, "equal")
        wave = max(missing_eq, math.ceil(max(missing_deg, 0) * (1.2 if trials else 1.0)))
        plan = [
            (r, r - replicate < missing_eq, missing_deg > 0)
            for r in range(replicate, replicate + wave)
        ]
        chunks = [plan[i :: args.jobs] for i in range(args.jobs)]
        replicate += wave
        results = run(delayed(_replicates)(params, args.seed, chunk) for chunk in chunks if chunk)
        for trial in sorted((t for chunk in results for t in chunk), key=lambda t: t.replicate):
            if trial.kind == "degraded" and -trial.true_delta < MIN_DROP:
                excluded.append(trial)
            elif _count(trials, trial.kind) < getattr(args, f"n_{trial.kind}"):
                trials.append(trial)
        if replicate > 20 * max(args.n_equal, args.n_degraded, 1):
            sys.exit("too many degraded challengers fall short of a 3-point drop; retune FAMILIES")
    elapsed = time.perf_counter() - started
    _print_report(params, args, trials, excluded, replicate, elapsed)
    return 0


def _count(trials: list[Trial], kind: str) -> int:
    return sum(t.kind == kind for t in trials)


# --- one replicate: fresh data, a champion, an equal and a degraded challenger --------------


def _replicates(params: Params, seed: int, plan: list[tuple[int, bool, bool]]) -> list[Trial]:
    """Run (replicate, equal?, degraded?) items in one worker: the large sample is drawn once."""
    frame = generate_obesity.generate(TRUTH_ROWS, seed=1_000_003 + seed)
    target = generate_obesity.TARGET
    truth = frame.drop(columns=[target]), frame[target].to_numpy()
    return [
        t
        for r, equal, degraded in plan
        for t in _replicate(params, seed, r, equal, degraded, truth)
    ]


def _replicate(
    params: Params, seed: int, r: int, equal: bool, degraded: bool, truth: tuple[Any, np.ndarray]
) -> list[Trial]:
    frame = generate_obesity.generate(ROWS, seed=seed * 100_000 + r)
    dataset = data_mod.Dataset(frame, "<generated>", "", len(frame), 0, params.data.schema)
    split = data_mod.split(dataset, params.data.test_size, params.data.random_state)
    X_truth, y_truth = truth
    classes = [c for c in generate_obesity.CLASSES if c in set(split.y_test)]
    y_test = split.y_test.to_numpy()
    base = dict(params.model.params)
    champion = _fit(params, base, split.X_train, split.y_train)
    champ_pred = champion.predict(split.X_test)
    champ_truth = _f1(y_truth, champion.predict(X_truth))
    champ_holdout = _f1(y_test, champ_pred)

    candidates = []
    if equal:
        candidates.append(("equal", "same config, new random_state", {"random_state": 10_000 + r}))
    if degraded:
        family = list(FAMILIES)[r % len(FAMILIES)]
        candidates.append(("degraded", family, FAMILIES[family]))
    trials = []
    for kind, family, changes in candidates:
        y_train = split.y_train
        if changes is None:  # label-noise family
            y_train = _neighbour_noise(split.y_train, LABEL_NOISE, seed=r)
            changes = {}
        seeded = {"random_state": 20_000 + r} if kind == "degraded" else {}
        hyper = {**base, **seeded, **changes}
        model = _fit(params, hyper, split.X_train, y_train)
        pred = model.predict(split.X_test)
        gate_blocks, ni_blocks, width = [], [], math.nan
        for margin in MARGINS:
            cfg = dataclasses.replace(params.gate, mode="enabled", margin=margin, seed=seed + r)
            result = evaluate(
                y_test,
                classes,
                ModelEvidence("2", predictions=pred),
                ModelEvidence("1", predictions=champ_pred),
                cfg,
                split.holdout_sha256,
            )
            gate_blocks.append(result.verdict == VERDICT_FAIL)
            ni = next(c for c in result.checks if c.name.startswith("non_inferiority."))
            ni_blocks.append(not ni.passed)
            row = next(m for m in result.metrics if m.metric == cfg.primary_metric)
            width = row.ci_hi - row.ci_lo
        trials.append(
            Trial(
                kind=kind,
                family=family,
                replicate=r,
                true_delta=_f1(y_truth, model.predict(X_truth)) - champ_truth,
                holdout_delta=_f1(y_test, pred) - champ_holdout,
                gate_blocks=tuple(gate_blocks),
                ni_blocks=tuple(ni_blocks),
                ci_width=width,
            )
        )
    return trials


def _fit(params: Params, hyper: dict[str, Any], X: Any, y: Any) -> Any:
    model = dataclasses.replace(params.model, params=MappingProxyType(hyper))
    pipeline = build_pipeline(dataclasses.replace(params, model=model))
    return pipeline.fit(X, y)


def _f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return classification_metrics(y_true, y_pred, list(generate_obesity.CLASSES))["f1_macro"]


def _neighbour_noise(y: Any, share: float, seed: int) -> Any:
    """`share` of the labels moved one BMI class up or down (the errors a labeller makes)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    classes = list(generate_obesity.CLASSES)
    codes = np.array([classes.index(v) for v in y])
    rows = rng.choice(len(codes), int(share * len(codes)), replace=False)
    step = np.where(rng.random(rows.size) < 0.5, -1, 1)
    moved = codes[rows] + step
    moved = np.where((moved < 0) | (moved >= len(classes)), codes[rows] - step, moved)
    codes[rows] = moved
    return pd.Series(np.take(classes, codes), index=y.index, name=y.name)


# --- report ------------------------------------------------------------------------------------


def _rate(hits: int, n: int) -> str:
    lo, hi = _wilson(hits, n)
    return f"{hits / n:6.1%} [{lo:.0%}, {hi:.0%}]"


def _wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval: honest at 0 or n hits, where the normal interval collapses."""
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _print_report(
    params: Params,
    args: argparse.Namespace,
    trials: list[Trial],
    excluded: list[Trial],
    replicates: int,
    elapsed: float,
) -> None:
    import sklearn

    equal = [t for t in trials if t.kind == "equal"]
    degraded = [t for t in trials if t.kind == "degraded"]
    cfg = params.gate
    print(
        f"bench_gate_power: {len(equal)} equal + {len(degraded)} degraded challengers, "
        f"{replicates} replicates of {ROWS} generated rows"
        f" (holdout {math.ceil(ROWS * params.data.test_size)} rows), seed {args.seed}"
    )
    print(
        f"gate: primary {cfg.primary_metric}, {cfg.n_bootstrap} bootstrap resamples, "
        f"{cfg.confidence:g} CI, thresholds {dict(cfg.thresholds)}, max_class_drop "
        f"{cfg.max_class_drop:g}; budgets not measured"
    )
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"scikit-learn {sklearn.__version__}, {args.jobs} jobs"
    )
    print(f"\ntrue macro-F1 delta on {TRUTH_ROWS:,} fresh rows (challenger − champion):")
    groups = [("equal", equal)] + [
        (f"degraded: {name}", [t for t in degraded if t.family == name]) for name in FAMILIES
    ]
    for name, group in groups:
        if group:
            deltas = np.array([t.true_delta for t in group])
            print(
                f"  {name:<42} n={len(group):>3}  mean {deltas.mean():+.4f}  "
                f"min {deltas.min():+.4f}  max {deltas.max():+.4f}"
            )
    if excluded:
        print(
            f"  excluded (drop < {MIN_DROP:g} on the large sample, not counted): {len(excluded)} "
            f"({', '.join(sorted({t.family for t in excluded}))})"
        )

    print("\nrates with 95% Wilson intervals; a block is a verdict of 'fail'")
    head = (
        f"{'margin':>6} | {'mlgate false-block':>20} | {'mlgate detection':>20} | "
        f"{'point-rule false-block':>22} | {'point-rule detection':>20} | targets"
    )
    print(head)
    print("-" * len(head))
    meets = []
    for i, margin in enumerate(MARGINS):
        fb = sum(t.gate_blocks[i] for t in equal)
        det = sum(t.gate_blocks[i] for t in degraded)
        pfb = sum(t.holdout_delta < -margin for t in equal)
        pdet = sum(t.holdout_delta < -margin for t in degraded)
        ok = fb / len(equal) <= TARGET_FALSE_BLOCK and det / len(degraded) >= TARGET_DETECTION
        if ok:
            meets.append(margin)
        print(
            f"{margin:>6.2f} | {_rate(fb, len(equal)):>20} | {_rate(det, len(degraded)):>20} | "
            f"{_rate(pfb, len(equal)):>22} | {_rate(pdet, len(degraded)):>20} | "
            f"{'met' if ok else '-'}"
        )
    near = [t for t in degraded if -t.true_delta < NEAR_BOUNDARY]
    print(
        f"\nper margin: mlgate detection by family ({', '.join(FAMILIES)}); detection of the "
        f"{len(near)} degraded challengers with a true drop under {NEAR_BOUNDARY:g} by mlgate "
        f"and by the point rule; the non-inferiority check alone"
    )
    for i, margin in enumerate(MARGINS):
        cells = []
        for name in FAMILIES:
            group = [t for t in degraded if t.family == name]
            if group:
                cells.append(f"{sum(t.gate_blocks[i] for t in group)}/{len(group)}")
        near_gate = sum(t.gate_blocks[i] for t in near)
        near_point = sum(t.holdout_delta < -margin for t in near)
        ni_fb = sum(t.ni_blocks[i] for t in equal)
        ni_det = sum(t.ni_blocks[i] for t in degraded)
        print(
            f"  {margin:.2f}: families {' '.join(cells)} | near boundary mlgate "
            f"{near_gate}/{len(near)}, point rule {near_point}/{len(near)} | non-inferiority "
            f"blocks {ni_fb}/{len(equal)} equal, {ni_det}/{len(degraded)} degraded"
        )
    widths = np.array([t.ci_width for t in equal])
    print(
        f"\nwidth of the {cfg.confidence:g} interval of delta {cfg.primary_metric} (equal "
        f"challengers): median {np.median(widths):.4f} (half-width ±{np.median(widths) / 2:.4f})"
    )
    improve = sum(t.holdout_delta < 0.01 for t in equal)
    print(
        f"MLflow's min_absolute_change=0.01 as MLflow defines it (challenger >= champion + 0.01) "
        f"blocks {improve}/{len(equal)} equal challengers."
    )
    if meets:
        print(
            f"margins meeting false-block <= {TARGET_FALSE_BLOCK:.0%} and detection >= "
            f"{TARGET_DETECTION:.0%}: {', '.join(f'{m:g}' for m in meets)}"
        )
    else:
        print("no margin meets both targets")
    print(f"\nrun time {elapsed:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
