"""Gate decision quality on the real UCI data: false blocks, detection, the OC curve, CV cost.

Real data has no "true" score, so the truth is made known by construction (GATE-STATISTICS §4):

1. **Pool.** Every configuration below is cross-validated on the whole data file (stratified
   5-fold, `--repeats` partitions): each row gets an out-of-fold prediction from a model that did
   not train on it, exactly what a 20 % holdout gives. The pool (all rows, partition 1) is the
   population: a configuration's *true* macro-F1 is its macro-F1 on the pool.
2. **Challengers** scored against the champion (params.yaml's model):
   - real, equally good families: seed-only retrains, ExtraTrees, HistGradientBoosting,
     RandomForest with criterion="entropy"; and a clearly worse one (max_depth=4);
   - constructed *equal* challengers at a chosen disagreement: pairs of rows are swapped — a row
     the champion gets wrong (true A, predicted B) is made right, and a row of class A it gets
     right is predicted B — so the confusion matrix, hence every metric, is exactly the
     champion's, while the two disagree on the chosen share of rows;
   - constructed *drops*: on top of the champion's predictions (or an equal challenger's), rows
     both got right are moved to a neighbouring BMI class one by one until the pool macro-F1 is
     exactly δ (to the first row past it) below the champion's.
3. **Holdouts.** Each replicate draws a stratified sample of n rows with replacement from the
   pool (so the pool is exactly the population) and judges it like the gate: the paired
   bootstrap of macro-F1 (`mlgate.stats`, `--n-boot` resamples), then
   - today's rule: pass iff the 2.5 % percentile of Δ ≥ −margin, anything else blocks;
   - the new rule (`mlgate.noninferiority`): the honest interval and three verdicts.
   The per-class rule (no class's F1 drops > 0.10) is counted separately: it applies to both.
4. **Cross-validation** (`mlgate.crossval`): the champion's and each family's configuration on
   the same folds, the Nadeau–Bengio corrected interval and its verdict; its wall time against
   the holdout-only gate's (predict both models on the holdout + `mlgate.gate.evaluate`).
5. **Clean rows** (`mlgate.rows`): how many of a new version's holdout rows the champion never
   trained on after a data refresh, a reshuffled split or another test_size, for the stratified
   shuffle split and for the repeatable hash split.

    .venv/bin/python benchmarks/bench_gate_power.py                   # default, ~3-5 min
    .venv/bin/python benchmarks/bench_gate_power.py --full            # the published run
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from mlgate import data as data_mod
from mlgate import noninferiority as ni
from mlgate import rows as rows_mod
from mlgate.config import Params, load_params
from mlgate.crossval import corrected_interval, fold_indices, paired_cv
from mlgate.gate import ModelEvidence, evaluate
from mlgate.stats import classification_metrics, mcnemar, paired_bootstrap_deltas
from mlgate.train import build_pipeline

REPO = Path(__file__).resolve().parents[1]
MARGINS = (0.02, 0.03, 0.04)
MAX_CLASS_DROP = 0.10
# The target's classes in the schema's order (ordinal: a neighbour is the next class), set from
# params.yaml in main().
CLASSES: list[str] = []
TARGET_FALSE_BLOCK = 0.05
TARGET_DETECTION = 0.95
TARGET_AT_MARGIN = 0.025
EQUAL_TOLERANCE = 0.005  # a true drop this small counts as "equally good"


# --- configurations ---------------------------------------------------------------------------


def _configs(params: Params, seeds: int) -> dict[str, Callable[[list[str]], Any]]:
    """name -> builder(columns) of an unfitted pipeline; the first is the champion."""
    base = dict(params.model.params)

    def rf(**changes: Any) -> Callable[[list[str]], Any]:
        hyper = {**base, **changes}
        model = dataclasses.replace(params.model, params=MappingProxyType(hyper))
        config = dataclasses.replace(params, model=model)
        # The schema decides the columns: `columns` is the caller's, for the same frame.
        return lambda columns: build_pipeline(config)

    def swap(estimator: Callable[[], Any]) -> Callable[[list[str]], Any]:
        def build(columns: list[str]) -> Any:
            pipe = build_pipeline(params)
            return pipe.set_params(model=estimator())

        return build

    from sklearn.ensemble import ExtraTreesClassifier, HistGradientBoostingClassifier

    configs: dict[str, Callable[[list[str]], Any]] = {"champion": rf()}
    for s in range(1, seeds + 1):
        configs[f"seed-only {s}"] = rf(random_state=1000 + s)
    configs["ExtraTrees"] = swap(
        lambda: ExtraTreesClassifier(n_estimators=100, max_depth=20, random_state=42)
    )
    configs["HistGradientBoosting"] = swap(lambda: HistGradientBoostingClassifier(random_state=42))
    configs["RF criterion=entropy"] = rf(criterion="entropy")
    configs["clearly worse: RF max_depth=4"] = rf(max_depth=4)
    return configs


@dataclass(frozen=True)
class Pool:
    y: np.ndarray
    classes: list[str]
    oof: dict[str, np.ndarray]  # partition 1's out-of-fold predictions per configuration
    fold_f1: dict[str, np.ndarray]  # macro-F1 per fold, all partitions
    test_train_ratio: float
    fit_seconds: dict[str, float]


def _fit_fold(build: Any, X: Any, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> Any:
    started = time.perf_counter()
    model = build(list(X.columns)).fit(X.iloc[train], y[train])
    return model.predict(X.iloc[test]), time.perf_counter() - started


def _pool(X: Any, y: np.ndarray, configs: dict[str, Any], repeats: int, jobs: int) -> Pool:
    from joblib import Parallel, delayed

    classes = [c for c in CLASSES if c in set(y)]
    folds = fold_indices(y, 5, repeats, seed=0)
    tasks = [(name, i) for name in configs for i in range(len(folds))]
    out = Parallel(n_jobs=jobs)(
        delayed(_fit_fold)(configs[name], X, y, *folds[i]) for name, i in tasks
    )
    oof = {name: np.empty(y.size, dtype=object) for name in configs}
    fold_f1 = {name: np.empty(len(folds)) for name in configs}
    seconds = dict.fromkeys(configs, 0.0)
    for (name, i), (pred, secs) in zip(tasks, out, strict=True):
        _, test = folds[i]
        if i < 5:
            oof[name][test] = pred
        fold_f1[name][i] = _f1(y[test], pred, classes)
        seconds[name] += secs / len(folds)
    ratio = np.mean([len(te) for _, te in folds]) / np.mean([len(tr) for tr, _ in folds])
    return Pool(y, classes, oof, fold_f1, float(ratio), seconds)


def _f1(y: np.ndarray, pred: np.ndarray, classes: list[str]) -> float:
    return float(classification_metrics(y, pred, classes)["f1_macro"])


# --- constructed challengers ------------------------------------------------------------------


def equal_challenger(
    y: np.ndarray, champ: np.ndarray, disagreement: float, rng: np.random.Generator
) -> np.ndarray:
    """Same confusion matrix as `champ`, disagreeing on `disagreement` of the rows."""
    new = champ.copy()
    pairs = round(disagreement * y.size / 2)
    wrong = np.flatnonzero(champ != y)
    if pairs > wrong.size:
        raise ValueError(f"the champion is wrong on {wrong.size} rows; {pairs} pairs asked")
    used: set[int] = set()
    for i in rng.permutation(wrong)[:pairs]:
        right = np.flatnonzero((champ == y) & (y == y[i]))
        right = [j for j in rng.permutation(right) if j not in used]
        j = right[0]
        used.add(int(j))
        new[j], new[i] = champ[i], y[i]
    return new


def drop_challenger(
    y: np.ndarray,
    champ: np.ndarray,
    base: np.ndarray,
    drop: float,
    classes: list[str],
    rng: np.random.Generator,
) -> np.ndarray:
    """`base` with rows both got right moved to a neighbouring class until F1 is `drop` lower."""
    new = base.copy()
    if drop <= 0:
        return new
    order = list(CLASSES)
    target = _f1(y, champ, classes) - drop
    for i in rng.permutation(np.flatnonzero((base == y) & (champ == y))):
        k = order.index(y[i])
        step = -1 if k == len(order) - 1 or (k > 0 and rng.random() < 0.5) else 1
        new[i] = order[k + step]
        if _f1(y, new, classes) <= target:
            return new
    raise ValueError(f"cannot construct a drop of {drop}")


# --- holdout replicates -----------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """Counts over replicates for one challenger at one holdout size; tuples are per margin."""

    today_pass: tuple[int, ...]
    new_pass: tuple[int, ...]
    new_fail: tuple[int, ...]
    per_class_block: int
    predicted_pass: tuple[float, ...]  # mean P(pass) at the true drop from the observed se
    n: int
    reps: int
    mean_se: float
    zero_discordant: int


def _holdout_cell(
    y: np.ndarray,
    champ: np.ndarray,
    chall: np.ndarray,
    classes: list[str],
    true_drop: float,
    n: int,
    reps: int,
    n_boot: int,
    seed: int,
) -> Cell:
    rng = np.random.default_rng(seed)
    by_class = {c: np.flatnonzero(y == c) for c in classes}
    share = {c: len(v) / y.size for c, v in by_class.items()}
    today = np.zeros(len(MARGINS), int)
    new_pass = np.zeros(len(MARGINS), int)
    new_fail = np.zeros(len(MARGINS), int)
    predicted = np.zeros(len(MARGINS))
    per_class, ses, zero = 0, [], 0
    for r in range(reps):
        idx = np.concatenate(
            [rng.choice(v, max(2, round(n * share[c]))) for c, v in by_class.items()]
        )
        yt, old, cand = y[idx], champ[idx], chall[idx]
        m_old = classification_metrics(yt, old, classes)
        m_new = classification_metrics(yt, cand, classes)
        point = m_new["f1_macro"] - m_old["f1_macro"]
        deltas = paired_bootstrap_deltas(
            yt, old, cand, classes, ("f1_macro",), n_boot, seed * 7919 + r
        )["f1_macro"]
        test = mcnemar(yt, old, cand)
        zero += test.b + test.c == 0
        lo_pct = float(np.quantile(deltas, 0.025))
        drops = [m_old["per_class_f1"][c] - m_new["per_class_f1"][c] for c in classes]
        per_class += max(drops) > MAX_CLASS_DROP + 1e-9
        for i, margin in enumerate(MARGINS):
            interval = ni.honest_interval(
                point, deltas, discordant=test.b + test.c, n=yt.size, margin=margin
            )
            if margin == 0.03:
                ses.append(interval.se)
            today[i] += lo_pct >= -margin - 1e-9
            verdict = ni.verdict(interval, margin)
            new_pass[i] += verdict == ni.PASS
            new_fail[i] += verdict == ni.FAIL
            oc = ni.operating_characteristic(interval.se, margin, drops=(true_drop,))[0]
            predicted[i] += oc.p_pass
    return Cell(
        tuple(int(v) for v in today),
        tuple(int(v) for v in new_pass),
        tuple(int(v) for v in new_fail),
        per_class,
        tuple(float(v / reps) for v in predicted),
        n,
        reps,
        float(np.mean(ses)),
        zero,
    )


# --- report helpers ---------------------------------------------------------------------------


def _pct(k: int, n: int) -> str:
    return f"{100 * k / n:5.1f}"


def _wilson_hi(k: int, n: int, z: float = 1.96) -> float:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return min(1.0, centre + half)


def _mc(p: float, n: int) -> float:
    """Two Monte-Carlo standard errors of a rate `p` measured on `n` replicates."""
    return 2 * math.sqrt(max(p * (1 - p), 1e-12) / n)


# --- the whole procedure with known truth ------------------------------------------------------
#
# `--procedure CASE`: each replicate builds a champion and a pull request the way a user would
# (data files and params), trains both artifacts, and judges them exactly as `mlgate gate` does:
# clean holdout rows, `mlgate.gate.evaluate` with the default gate settings, and on an
# inconclusive holdout the recipe cross-validation of `mlgate.challenge` (each version's
# configuration on its own labelled data file), then `evaluate` again. Only the registry is left
# out. The model is params.yaml's with fewer trees (`--trees`) and one thread, so that replicates
# are cheap; the gate settings are params.yaml's.

PROCEDURE_CASES = (
    "relabel-20",
    "relabel-5",
    "relabel-10",
    "relabel-15",
    "refresh",
    "reshuffled",
    "small-300",
    "small-600",
    "family",
)


@dataclass(frozen=True)
class Version:
    """What a replicate knows about one side: its params and its data file."""

    params: Params
    frame: Any  # the raw CSV rows (pandas)


def _with(base: Params, section: str, **values: Any) -> Params:
    if section == "model":
        hyper = {**base.model.params, **values.pop("params", {})}
        model = dataclasses.replace(base.model, params=MappingProxyType(hyper), **values)
        return dataclasses.replace(base, model=model)
    return dataclasses.replace(base, data=dataclasses.replace(base.data, **values))


def _relabel(frame: Any, params: Params, share: float, rng: np.random.Generator) -> Any:
    """`share` of the rows the champion trained on, moved to a neighbouring class."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        frame.to_csv(path, index=False)
        split = data_mod.holdout(params.data, path).split
    target = params.data.target
    features = [c for c in frame.columns if c != target]
    trained = np.isin(rows_mod.row_hashes(frame, features), rows_mod.row_hashes(split.X_train))
    picked = rng.choice(np.flatnonzero(trained), int(share * trained.sum()), replace=False)
    out = frame.copy()
    classes = list(params.data.schema.column(target).values)
    step = rng.choice([-1, 1], picked.size)
    out.loc[picked, target] = [
        classes[min(max(classes.index(v) + s, 0), len(classes) - 1)]
        if 0 < classes.index(v) + s < len(classes)
        else classes[classes.index(v) - s]
        for v, s in zip(out.loc[picked, target], step, strict=True)
    ]
    return out


def _case(name: str, params: Params, frame: Any, r: int) -> tuple[Version, Version]:
    rng = np.random.default_rng(10_000 + r)
    if name.startswith("relabel-"):
        share = int(name.split("-")[1]) / 100
        return Version(params, frame), Version(params, _relabel(frame, params, share, rng))
    if name == "refresh":
        kept = frame.sample(frac=0.85, random_state=r).sort_index()
        return Version(params, kept), Version(params, frame)
    if name == "reshuffled":
        return (
            Version(_with(params, "data", random_state=1000 + r), frame),
            Version(_with(params, "data", random_state=2000 + r), frame),
        )
    if name.startswith("small-"):
        # A model of a few hundred rows scores under params.yaml's absolute floors (accuracy
        # 0.85) whoever trains it: only the comparison is judged here.
        gate = dataclasses.replace(params.gate, thresholds=MappingProxyType({}))
        base = dataclasses.replace(params, gate=gate)
        n = int(name.split("-")[1])
        sample = frame.sample(n=n, random_state=r).reset_index(drop=True)
        seeded = _with(base, "model", params={"random_state": 43 + r})
        return Version(base, sample), Version(seeded, sample)
    if name == "family":
        swapped = _with(params, "model", estimator="hist_gradient_boosting", params={})
        swapped = dataclasses.replace(
            swapped,
            model=dataclasses.replace(swapped.model, params=MappingProxyType({"random_state": 42})),
        )
        return Version(params, frame), Version(swapped, frame)
    raise SystemExit(f"unknown case {name!r}; cases: {', '.join(PROCEDURE_CASES)}")


_FITS: dict[Any, Any] = {}  # (file digest, training inputs) -> fitted pipeline, reused across


def _fitted(version: Version, holdout: Any) -> Any:
    import json

    key = (holdout.sha256, json.dumps(version.params.training_inputs(), sort_keys=True))
    if key not in _FITS:
        pipeline = build_pipeline(version.params)
        pipeline.fit(holdout.split.X_train, holdout.split.y_train)
        _FITS.clear()  # only the champion of the latest replicate is worth keeping
        _FITS[key] = pipeline
    return _FITS[key]


def _judge(champ: Version, pr: Version, tmp: Path, with_cv: bool) -> dict[str, Any]:
    """One replicate through mlgate's own gate path (challenge.run_gate without a registry)."""
    from types import SimpleNamespace

    from mlgate import challenge
    from mlgate.gate import VERDICT_INCONCLUSIVE, MoreEvidence

    paths = {}
    for role, version in (("champion", champ), ("pr", pr)):
        paths[role] = tmp / f"{role}.csv"
        version.frame.to_csv(paths[role], index=False)
    hc = data_mod.holdout(champ.params.data, paths["champion"])
    hp = data_mod.holdout(pr.params.data, paths["pr"])
    champion_model = _fitted(champ, hc)
    challenger_model = build_pipeline(pr.params).fit(hp.split.X_train, hp.split.y_train)
    target = pr.params.data.target
    columns = list(hc.split.X_train.columns)

    def record(version: Version, h: Any) -> dict[str, Any]:
        full = h.dataset.frame
        return rows_mod.training_record(
            h.split.X_train, version.params.training_inputs(), full[columns], full[target]
        )

    champion_record, challenger_record = record(champ, hc), record(pr, hp)
    X_test = hp.split.X_test
    clean = rows_mod.clean_rows(
        rows_mod.row_hashes(X_test, columns),
        rows_mod.read_record(champion_record),
        rows_mod.read_record(challenger_record),
    )
    evidence = []
    for version, model in (("1", champion_model), ("2", challenger_model)):
        predictions = np.asarray(model.predict(X_test))
        evidence.append(ModelEvidence(version=version, predictions=predictions, size_bytes=1))
    evidence = list(challenge._timed(tuple(evidence), (champion_model, challenger_model), X_test))
    champion_ev, challenger_ev = (
        dataclasses.replace(ev, predictions=ev.predictions[clean.mask]) for ev in evidence
    )
    y = hp.split.y_test.to_numpy()[clean.mask]
    change = rows_mod.data_change(
        champion_record, hp.dataset.frame, hp.dataset.frame[target].to_numpy()
    )
    more = MoreEvidence(
        n_holdout=clean.n_holdout,
        why_fewer=clean.reason(),
        n_data=len(hp.dataset.frame),
        data_change=change,
    )
    cfg = pr.params.gate

    def evaluate_with(more: MoreEvidence) -> Any:
        return evaluate(y, hp.classes, challenger_ev, champion_ev, cfg, hp.sha256, more)

    result = evaluate_with(more)
    cv_seconds = 0.0
    if result.verdict == VERDICT_INCONCLUSIVE and cfg.evidence == "cv" and with_cv:
        cv, note = challenge._cross_validate(
            pr.params, hp, SimpleNamespace(version="1"), champion_record, challenger_record, change
        )
        cv_seconds = cv.seconds if cv is not None else 0.0
        result = evaluate_with(dataclasses.replace(more, cv=cv, cv_note=note))
    truth_loss = _f1(y, champion_ev.predictions, hp.classes) - _f1(
        y, challenger_ev.predictions, hp.classes
    )
    states = {
        c.name: ("pass" if c.passed else "inconclusive" if c.inconclusive else "fail")
        for c in result.checks
    }
    return {
        "verdict": result.verdict,
        "blocked": not result.passed,
        "decided_by": result.decision.decided_by if result.decision else None,
        "n_clean": int(clean.n_clean),
        "clean_loss": float(truth_loss),
        "latency": states.get("budget.latency"),
        "latency_message": next(c.message for c in result.checks if c.name == "budget.latency"),
        "per_class": states.get("per_class_f1"),
        "primary": states.get(f"non_inferiority.{cfg.primary_metric}"),
        "disputed": change.disputed if change else None,
        "cv_repeats": result.cv.repeats if result.cv else None,
        "cv_delta": result.cv.interval.point if result.cv else None,
        "cv_lo": result.cv.interval.lo if result.cv else None,
        "cv_se": result.cv.interval.se if result.cv else None,
        "cv_seconds": cv_seconds,
    }


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _procedure(args: argparse.Namespace) -> int:
    import json
    import tempfile

    import pandas as pd

    params = load_params(args.params)
    fewer = {"n_estimators": args.trees, "n_jobs": 1}
    params = _with(params, "model", params=fewer)
    frame = pd.read_csv(args.data)
    out = Path(args.out) if args.out else None
    results = []
    if out and out.exists():
        results = json.loads(out.read_text())
    deadline = time.monotonic() + args.budget
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(len(results), args.replicates):
            if time.monotonic() > deadline:
                break
            champ, pr = _case(args.procedure, params, frame, r)
            started = time.perf_counter()
            row = _judge(champ, pr, Path(tmp), with_cv=args.procedure != "family")
            row["seconds"] = time.perf_counter() - started
            results.append(row)
            if out:
                out.write_text(json.dumps(results, indent=1))
            print(
                f"{args.procedure} #{r}: {row['verdict']:12s} blocked={row['blocked']!s:5s} "
                f"by={row['decided_by']} clean={row['n_clean']} loss={row['clean_loss']:+.4f} "
                f"latency={row['latency']} per_class={row['per_class']} "
                f"{row['seconds']:.1f}s",
                flush=True,
            )
    _summarise(args.procedure, results)
    return 0


def _summarise(name: str, results: list[dict[str, Any]]) -> None:
    n = len(results)
    if not n:
        print(f"{name}: no replicate ran")
        return
    for label, key in (("passed", lambda r: not r["blocked"]), ("blocked", lambda r: r["blocked"])):
        k = sum(1 for r in results if key(r))
        lo, hi = _wilson(k, n)
        print(f"{name}: {label} {k}/{n} = {k / n:.1%} [{lo:.1%}, {hi:.1%}]")
    loss = np.mean([r["clean_loss"] for r in results])
    by = {v: sum(1 for r in results if r["verdict"] == v) for v in ("pass", "inconclusive", "fail")}
    latency = sum(1 for r in results if r["latency"] != "pass")
    print(
        f"{name}: mean loss on clean rows {loss:+.4f}; verdicts {by}; latency not passed "
        f"{latency}/{n}; mean {np.mean([r['seconds'] for r in results]):.1f} s a replicate"
    )


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_data = REPO / "data" / "obesity.csv"
    parser.add_argument("--data", default=str(default_data), help="the real UCI file")
    parser.add_argument("--params", default=str(REPO / "params.yaml"))
    parser.add_argument("--reps", type=int, default=100, help="holdouts per cell")
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--sizes", default="60,100,200,420")
    parser.add_argument("--seeds", type=int, default=2, help="seed-only retrains")
    parser.add_argument("--repeats", type=int, default=2, help="CV partitions (5 folds each)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--full", action="store_true", help="the published run: --reps 400, 5 seeds, 7 drops"
    )
    parser.add_argument(
        "--cli",
        type=int,
        default=0,
        metavar="N",
        help="only time `mlgate gate` N times with gate.evidence holdout and cv, then exit",
    )
    parser.add_argument(
        "--procedure",
        choices=PROCEDURE_CASES,
        help="only judge CASE through the whole procedure with known truth, then exit",
    )
    parser.add_argument("--replicates", type=int, default=40, help="--procedure replicates")
    parser.add_argument("--trees", type=int, default=40, help="--procedure: the model's trees")
    parser.add_argument("--budget", type=float, default=1800, help="--procedure: seconds")
    parser.add_argument("--out", help="--procedure: JSON of the replicates (resumed if it exists)")
    args = parser.parse_args(argv)
    if args.procedure:
        return _procedure(args)
    if args.full:
        args.reps, args.seeds = max(args.reps, 400), 5
    if args.cli:
        return _cli_timing(args)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    params = load_params(args.params)
    started = time.perf_counter()
    CLASSES[:] = params.data.schema.classes
    dataset = data_mod.load(args.data, params.data.schema)
    X = dataset.frame[dataset.features]
    y = dataset.frame[params.data.target].to_numpy()
    configs = _configs(params, args.seeds)
    pool = _pool(X, y, configs, args.repeats, args.jobs)
    classes = pool.classes
    champ = pool.oof["champion"]
    champ_f1 = _f1(y, champ, classes)
    rng = np.random.default_rng(args.seed)

    challengers: dict[str, tuple[np.ndarray, str]] = {}
    for name in configs:
        if name != "champion":
            challengers[name] = (pool.oof[name], "family")
    drops = (
        (0.0, 0.01, 0.02, 0.03, 0.05) if not args.full else (0, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05)
    )
    for p in (0.0, 0.05, 0.10):
        base = equal_challenger(y, champ, p, rng) if p else champ
        for d in drops:
            if p == 0 and d == 0:
                continue
            label = f"constructed: disagree {p:.0%}, drop {d * 100:g} pt"
            challengers[label] = (drop_challenger(y, champ, base, d, classes, rng), "constructed")

    from joblib import Parallel, delayed

    plan = [(name, n) for name in challengers for n in sizes]
    # Calibration at the margin needs more replicates than the rest.
    reps = {(name, n): args.reps * (4 if "drop 3 pt" in name else 1) for name, n in plan}
    cells = Parallel(n_jobs=args.jobs)(
        delayed(_holdout_cell)(
            y,
            champ,
            challengers[name][0],
            classes,
            champ_f1 - _f1(y, challengers[name][0], classes),
            n,
            reps[(name, n)],
            args.n_boot,
            args.seed * 1000 + i,
        )
        for i, (name, n) in enumerate(plan)
    )
    results = dict(zip(plan, cells, strict=True))
    holdout_seconds, cv_seconds, cv_result = _timings(params, dataset, configs)
    clean = _clean_rows(dataset, params)
    elapsed = time.perf_counter() - started
    _report(args, params, dataset, pool, challengers, results, sizes, elapsed)
    _report_cv(pool, holdout_seconds, cv_seconds, cv_result, results, sizes)
    _report_clean(clean)
    print(f"\nrun time {time.perf_counter() - started:.0f} s")
    return 0


def _timings(params: Params, dataset: Any, configs: dict[str, Any]) -> tuple[float, float, Any]:
    """Holdout-only gate (predict both + evaluate) vs the CV it adds (both configs, 5x2)."""
    target = params.data.target
    split = data_mod.split(dataset, params.data.test_size, params.data.random_state)
    columns = list(split.X_train.columns)
    champion = configs["champion"](columns).fit(split.X_train, split.y_train)
    challenger = configs["RF criterion=entropy"](columns).fit(split.X_train, split.y_train)
    classes = [c for c in CLASSES if c in set(split.y_test)]
    started = time.perf_counter()
    old = champion.predict(split.X_test)
    new = challenger.predict(split.X_test)
    evaluate(
        split.y_test.to_numpy(),
        classes,
        ModelEvidence("2", predictions=new),
        ModelEvidence("1", predictions=old),
        params.gate,
        split.holdout_sha256,
    )
    holdout_seconds = time.perf_counter() - started
    X = dataset.frame[dataset.features]
    y = dataset.frame[target].to_numpy()
    builders = {"champion": configs["champion"], "challenger": configs["RF criterion=entropy"]}

    def fit_predict(role: str, train: np.ndarray, test: np.ndarray) -> Any:
        model = builders[role](columns).fit(X.iloc[train], y[train])
        return model.predict(X.iloc[test])

    started = time.perf_counter()
    result = paired_cv(y, fit_predict, lambda t, p: _f1(t, p, classes), k=5, repeats=2)
    return holdout_seconds, time.perf_counter() - started, result


def _cli_timing(args: argparse.Namespace) -> int:
    """Wall time of the whole `mlgate gate` command, holdout-only vs with cross-validation.

    A temporary project (params.yaml + the data file, a fresh sqlite registry): v1 trained and
    made champion, then v2 the same model on a reshuffled split (`data.random_state` 7), so only
    ~20 % of the holdout is clean and the holdout is inconclusive: the case in which
    `gate.evidence: cv` runs its 2 x 5 x `cv_repeats` fits. The two settings alternate, `--cli`
    rounds each, after one untimed warm-up; the verdicts are printed with the times.
    """
    import json
    import shutil
    import subprocess
    import tempfile

    import yaml

    mlgate = str(Path(sys.executable).with_name("mlgate"))
    with tempfile.TemporaryDirectory(prefix="mlgate-bench-") as tmp:
        root = Path(tmp)
        shutil.copy(args.params, root / "params.yaml")
        (root / "data").mkdir()
        shutil.copy(args.data, root / "data" / "obesity.csv")
        env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}"}
        for key in ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
            env.pop(key, None)

        def run(*command: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [mlgate, *command], cwd=root, env=env, capture_output=True, text=True
            )

        def edit(section: str, **values: Any) -> None:
            raw = yaml.safe_load((root / "params.yaml").read_text())
            raw[section].update(values)
            (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))

        edit("data", path="data/obesity.csv")
        assert run("train").returncode == 0
        promoted = run("promote", "obesity_classifier", "1", "Production", "--reason", "baseline")
        assert promoted.returncode == 0, promoted.stderr
        edit("data", random_state=7)
        assert run("train").returncode == 0
        times: dict[str, list[float]] = {"holdout": [], "cv": []}
        verdicts: dict[str, str] = {}
        for round_ in range(args.cli + 1):
            for evidence in ("holdout", "cv"):
                edit("gate", evidence=evidence)
                started = time.perf_counter()
                done = run("gate", "--json", "gate.json")
                elapsed = time.perf_counter() - started
                document = json.loads((root / "gate.json").read_text())
                verdicts[evidence] = (
                    f"{document['verdict']} (clean rows {document['holdout']['n_clean']}/"
                    f"{document['holdout']['n_rows']}, exit {done.returncode})"
                )
                if round_:
                    times[evidence].append(elapsed)
    median = {k: float(np.median(v)) for k, v in times.items()}
    print(f"`mlgate gate` wall time, {args.cli} rounds after a warm-up (reshuffled split):")
    for evidence, values in times.items():
        print(
            f"  gate.evidence: {evidence:<8} median {median[evidence]:.1f} s "
            f"(min {min(values):.1f}, max {max(values):.1f}): {verdicts[evidence]}"
        )
    print(f"  ratio cv / holdout: {median['cv'] / median['holdout']:.2f} (target <= 3)")
    return 0


def _clean_rows(dataset: Any, params: Params) -> list[tuple[str, str, int, int]]:
    """(scenario, split kind, clean rows, holdout rows) for v2 judged against v1."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    frame, target = dataset.frame, params.data.target
    features = dataset.features
    hashes = rows_mod.row_hashes(frame, features)
    size, state = params.data.test_size, params.data.random_state
    keep = np.random.default_rng(1).random(len(frame)) < 0.85
    scenarios = {
        "rows appended (v1 had 85 %)": (keep, size, state, size, state),
        "random_state 42 -> 7": (None, size, state, size, 7),
        "test_size 0.20 -> 0.25": (None, size, state, 0.25, state),
    }
    out = []
    for label, (subset, size1, state1, size2, state2) in scenarios.items():
        rows1 = np.flatnonzero(subset) if subset is not None else np.arange(len(frame))
        rows2 = np.arange(len(frame))
        for kind in ("stratified shuffle", "hash"):
            if kind == "hash":
                train1 = rows1[~rows_mod.hash_split(hashes[rows1], size1, state1)]
                test2 = rows2[rows_mod.hash_split(hashes[rows2], size2, state2)]
            else:
                y1 = pd.Series(frame[target].to_numpy()[rows1])
                train1, _ = train_test_split(
                    rows1, test_size=size1, random_state=state1, stratify=y1
                )
                _, test2 = train_test_split(
                    rows2, test_size=size2, random_state=state2, stratify=frame[target]
                )
            clean = rows_mod.clean_rows(hashes[test2], hashes[train1])
            out.append((label, kind, clean.n_clean, clean.n_holdout))
    return out


def _report(
    args: argparse.Namespace,
    params: Params,
    dataset: Any,
    pool: Pool,
    challengers: dict[str, tuple[np.ndarray, str]],
    results: dict[tuple[str, int], Cell],
    sizes: tuple[int, ...],
    elapsed: float,
) -> None:
    import sklearn

    y, champ, classes = pool.y, pool.oof["champion"], pool.classes
    champ_f1 = _f1(y, champ, classes)
    print(
        f"bench_gate_power: {dataset.path} ({y.size} rows after dropping duplicates), "
        f"champion = params.yaml's {params.model.estimator} {dict(params.model.params)}; "
        f"pool macro-F1 {champ_f1:.4f} (out-of-fold, 5 folds)"
    )
    print(
        f"{args.reps} holdouts per cell ({4 * args.reps} at a 3-point drop), {args.n_boot} "
        f"bootstrap resamples, sizes {sizes}, seed {args.seed}; {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, scikit-learn {sklearn.__version__}, {args.jobs} jobs, "
        f"{elapsed:.0f} s"
    )
    margin_i = MARGINS.index(0.03)

    print("\n== challengers: true Δ macro-F1 on the pool, disagreement with the champion")
    for name, (pred, _) in challengers.items():
        delta = _f1(y, pred, classes) - champ_f1
        print(f"  {name:<44} Δ {delta:+.4f}  disagree {np.mean(pred != champ):6.1%}")

    def row(name: str, n: int, i: int) -> str:
        c = results[(name, n)]
        inconclusive = c.reps - c.new_pass[i] - c.new_fail[i]
        return (
            f"{n:>4} | today blocks {_pct(c.reps - c.today_pass[i], c.reps)} | new: pass "
            f"{_pct(c.new_pass[i], c.reps)}  inconcl {_pct(inconclusive, c.reps)}  fail "
            f"{_pct(c.new_fail[i], c.reps)} | predicted pass {100 * c.predicted_pass[i]:5.1f} | "
            f"per-class rule blocks {_pct(c.per_class_block, c.reps)} | se {c.mean_se:.4f}"
        )

    print(
        f"\n== challengers no more than {EQUAL_TOLERANCE:g} below the champion, margin 0.03 "
        "(%; today blocks = not a pass)"
    )
    for name in _equal_or_better(challengers, y, champ_f1, classes):
        print(f"  {name}")
        for n in sizes:
            print(f"    {row(name, n, margin_i)}")

    print("\n== OC curve at margin 0.03: P(pass) today vs new, by true drop and holdout size (%)")
    for p in ("0%", "5%", "10%"):
        names = [n for n in challengers if n.startswith(f"constructed: disagree {p},")]
        if p == "0%":
            names = ["seed-only 1", *names]
        print(f"  disagreement {p} (drop 0 = {'seed-only retrain' if p == '0%' else 'equal'})")
        for n in sizes:
            cells = []
            for name in names:
                c = results[(name, n)]
                drop = name.rpartition("drop ")[2] if "drop" in name else "0 pt"
                cells.append(
                    f"{drop}: {_pct(c.today_pass[margin_i], c.reps).strip()}/"
                    f"{_pct(c.new_pass[margin_i], c.reps).strip()}"
                )
            print(f"    n={n:>3}  " + "  ".join(cells))

    print("\n== pass rate at a true drop equal to the margin (target <= 2.5 % + MC error)")
    for margin in MARGINS:
        points = round(margin * 100)
        for p in ("0%", "5%", "10%"):
            name = f"constructed: disagree {p}, drop {points} pt"
            if name not in challengers:
                continue
            i = MARGINS.index(margin)
            parts = []
            for n in sizes:
                c = results[(name, n)]
                parts.append(
                    f"n={n}: today {_pct(c.today_pass[i], c.reps).strip()} new "
                    f"{_pct(c.new_pass[i], c.reps).strip()} (±{100 * _mc(0.025, c.reps):.1f})"
                )
            print(f"  margin {margin:g}, disagree {p}: " + "; ".join(parts))

    print("\n== detection (not a pass) of true drops >= 3 points, margin 0.03 (%)")
    for name, (pred, _) in challengers.items():
        drop = champ_f1 - _f1(y, pred, classes)
        if drop >= 0.03 - 1e-9:
            parts = []
            for n in sizes:
                c = results[(name, n)]
                parts.append(
                    f"n={n}: today {_pct(c.reps - c.today_pass[margin_i], c.reps).strip()} new "
                    f"{_pct(c.reps - c.new_pass[margin_i], c.reps).strip()} (fail "
                    f"{_pct(c.new_fail[margin_i], c.reps).strip()})"
                )
            print(f"  {name} (true drop {drop:.4f}): " + "; ".join(parts))

    print("\n== goals at margin 0.03, holdouts >= 100 rows")
    _goals(challengers, results, sizes, margin_i, y, champ_f1, classes)


def _goals(
    challengers: dict[str, tuple[np.ndarray, str]],
    results: dict[tuple[str, int], Cell],
    sizes: tuple[int, ...],
    i: int,
    y: np.ndarray,
    champ_f1: float,
    classes: list[str],
) -> None:
    big = [n for n in sizes if n >= 100]
    equal = _equal_or_better(challengers, y, champ_f1, classes)
    for rule in ("today", "new: fail only", "new: fail or inconclusive"):
        worst_fb, worst_det, worst_margin = 0.0, 1.0, 0.0
        for name in equal:
            for n in big:
                c = results[(name, n)]
                if rule == "today":
                    blocks = c.reps - c.today_pass[i]
                elif rule == "new: fail only":
                    blocks = c.new_fail[i]
                else:
                    blocks = c.reps - c.new_pass[i]
                worst_fb = max(worst_fb, blocks / c.reps)
        for name, (pred, _) in challengers.items():
            drop = champ_f1 - _f1(y, pred, classes)
            for n in big:
                c = results[(name, n)]
                passes = c.today_pass[i] if rule == "today" else c.new_pass[i]
                if drop >= 0.03 - 1e-9:
                    if rule == "new: fail only":
                        detected = c.new_fail[i] / c.reps
                    else:
                        detected = 1 - passes / c.reps
                    worst_det = min(worst_det, detected)
                if name.endswith("drop 3 pt"):
                    worst_margin = max(worst_margin, passes / c.reps)
        print(
            f"  {rule:<26} worst false-block {100 * worst_fb:5.1f} % (target <= "
            f"{100 * TARGET_FALSE_BLOCK:.0f}) | worst detection {100 * worst_det:5.1f} % (>= "
            f"{100 * TARGET_DETECTION:.0f}) | worst pass at drop = margin "
            f"{100 * worst_margin:4.1f} % (<= 2.5 + MC)"
        )


def _equal_or_better(
    challengers: dict[str, tuple[np.ndarray, str]],
    y: np.ndarray,
    champ_f1: float,
    classes: list[str],
) -> list[str]:
    """Challengers whose true macro-F1 is at most half a point below the champion's: any
    block of these is a false block (a real family more than that below is not "equal")."""
    return [
        name
        for name, (pred, _) in challengers.items()
        if _f1(y, pred, classes) - champ_f1 >= -EQUAL_TOLERANCE
    ]


def _report_cv(
    pool: Pool,
    holdout_seconds: float,
    cv_seconds: float,
    cv_result: Any,
    results: dict[tuple[str, int], Cell],
    sizes: tuple[int, ...],
) -> None:
    print("\n== paired 5-fold CV x partitions, Nadeau-Bengio corrected t (whole file)")
    champ = pool.fold_f1["champion"]
    i = MARGINS.index(0.03)
    combined = []
    for name, scores in pool.fold_f1.items():
        if name == "champion":
            continue
        deltas = scores - champ
        interval = corrected_interval(deltas, pool.test_train_ratio, 0.95, pool.y.size)
        naive = deltas.std(ddof=1) / math.sqrt(deltas.size)
        print(
            f"  {name:<32} Δ {interval.point:+.4f}  95% [{interval.lo:+.4f}, {interval.hi:+.4f}]  "
            f"se {interval.se:.4f} (naive {naive:.4f})  verdict@0.03 {ni.verdict(interval, 0.03)}"
        )
        # evidence: cv decides only when the holdout is inconclusive.
        cv_verdict = ni.verdict(interval, 0.03)
        cells = []
        for n in sizes:
            c = results[(name, n)]
            inconclusive = c.reps - c.new_pass[i] - c.new_fail[i]
            passed = c.new_pass[i] + (inconclusive if cv_verdict == ni.PASS else 0)
            failed = c.new_fail[i] + (inconclusive if cv_verdict == ni.FAIL else 0)
            rest = c.reps - passed - failed
            cells.append(
                f"n={n}: pass {_pct(passed, c.reps).strip()} inconcl "
                f"{_pct(rest, c.reps).strip()} fail {_pct(failed, c.reps).strip()}"
            )
        combined.append(f"  {name:<32} " + "; ".join(cells))
    print("  holdout then CV when the holdout is inconclusive (%, margin 0.03):")
    print("\n".join(combined))
    fits = sum(pool.fit_seconds.values()) / len(pool.fit_seconds)
    print(
        f"  mean fit+predict per fold {fits:.2f} s; CV of two configs (5x2 = 20 fits) "
        f"{cv_seconds:.1f} s vs holdout-only gate work (predict both + evaluate) "
        f"{holdout_seconds:.2f} s: x{cv_seconds / holdout_seconds:.1f} of that part; "
        f"CV verdict for RF entropy: {ni.verdict(cv_result.interval, 0.03)}"
    )


def _report_clean(clean: list[tuple[str, str, int, int]]) -> None:
    print("\n== clean rows of v2's holdout against v1's training rows")
    for label, kind, n_clean, n_holdout in clean:
        print(f"  {label:<30} {kind:<19} {n_clean:>4} / {n_holdout} clean")


if __name__ == "__main__":
    sys.exit(main())
