"""Paired cross-validation of two training configurations, with an honest variance.

Both configurations are trained on the same folds and scored on the same out-of-fold rows, so
every fold yields one paired difference d_j = score(challenger) − score(champion). The folds'
training sets overlap (each row trains k − 1 of the k models), which makes the plain variance
of the d_j far too small. The corrected resampled t of Nadeau & Bengio (*Inference for the
Generalization Error*, Machine Learning 52, 2003) inflates it by the test/train size ratio:

    Var(mean d) = (1/J + n_test/n_train) · S²,   J = k · repeats fold differences,

with a Student t on J − 1 degrees of freedom (Bouckaert & Frank, PAKDD 2004, recommend repeated
k-fold with this correction). The result is an `Interval` like the holdout's, so the same verdict
zones apply.

Pure given its callables: `fit_predict(config, train_idx, test_idx)` returns the predictions of a
model of `config` trained on `train_idx` for the rows `test_idx`; `score(y_true, y_pred)` returns
the primary metric (higher is better). Nothing here imports a learner or MLflow.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .noninferiority import Interval

__all__ = ["CrossValidation", "fold_indices", "paired_cv"]

FitPredict = Callable[[str, np.ndarray, np.ndarray], Any]
Score = Callable[[np.ndarray, np.ndarray], float]


@dataclass(frozen=True)
class CrossValidation:
    """Per-fold scores of both configurations and the corrected interval of their difference."""

    champion: tuple[float, ...]
    challenger: tuple[float, ...]
    k: int
    repeats: int
    n_rows: int
    interval: Interval
    seconds: float  # wall time of the fits and predictions
    # Out-of-fold predictions of the first partition: every row once, by a model that did not
    # train on it (per-class comparisons use them).
    oof_champion: np.ndarray | None = None
    oof_challenger: np.ndarray | None = None
    truth: np.ndarray | None = None  # the labels those predictions are for

    @property
    def deltas(self) -> np.ndarray:
        return np.asarray(self.challenger) - np.asarray(self.champion)


def fold_indices(
    y: Sequence[Any] | np.ndarray, k: int, repeats: int, seed: int, stratify: bool = True
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs of `repeats` k-fold partitions (seeds seed..), stratified by
    label unless `stratify` is false (a numeric target has no classes to keep shares of)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    labels = np.asarray(y)
    if k < 2:
        raise ValueError(f"k must be at least 2, got {k}")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    if stratify:
        _, counts = np.unique(labels, return_counts=True)
        if counts.min() < k:
            raise ValueError(
                f"the smallest class has {counts.min()} rows, fewer than k={k} folds; lower k"
            )
    elif labels.size < k:
        raise ValueError(f"{labels.size} rows are fewer than k={k} folds; lower k")
    kind = StratifiedKFold if stratify else KFold
    placeholder = np.zeros(labels.size)
    folds = []
    for r in range(repeats):
        splitter = kind(n_splits=k, shuffle=True, random_state=seed + r)
        folds.extend(splitter.split(placeholder, labels))
    return folds


def paired_cv(
    y: Sequence[Any] | np.ndarray,
    fit_predict: FitPredict,
    score: Score,
    *,
    k: int = 5,
    repeats: int = 2,
    seed: int = 0,
    confidence: float = 0.95,
    stratify: bool = True,
    scored: np.ndarray | None = None,
    max_repeats: int | None = None,
    budget_s: float | None = None,
) -> CrossValidation:
    """Train "champion" and "challenger" on the same folds; the corrected-t interval of Δ.

    `scored`: bool per row, the rows a fold's models are scored on (default: all); the others
    are still held out of training in their fold. `max_repeats`: run more partitions than
    `repeats` while the next one fits in `budget_s` seconds (at least `repeats` always run).
    """
    labels = np.asarray(y)
    mask = np.ones(labels.size, dtype=bool) if scored is None else np.asarray(scored, bool)
    if mask.shape != labels.shape:
        raise ValueError(f"scored has {mask.size} entries for {labels.size} rows")
    most = max(repeats, max_repeats or repeats)
    folds = fold_indices(labels, k, most, seed, stratify)
    started = time.perf_counter()
    champ, chall, sizes = [], [], []
    oof = {role: np.empty(labels.size, dtype=labels.dtype) for role in ("champion", "challenger")}
    done = 0
    for r in range(most):
        elapsed = time.perf_counter() - started
        if r >= repeats and (budget_s is None or elapsed + elapsed / r > budget_s):
            break
        for train_idx, test_idx in folds[r * k : (r + 1) * k]:
            keep = test_idx[mask[test_idx]]
            for role, scores in (("champion", champ), ("challenger", chall)):
                predicted = np.asarray(fit_predict(role, train_idx, test_idx))
                if keep.size:
                    scores.append(float(score(labels[keep], predicted[mask[test_idx]])))
                if r == 0:
                    oof[role][test_idx] = predicted
            if keep.size:
                sizes.append((keep.size, train_idx.size))
        done = r + 1
    seconds = time.perf_counter() - started
    deltas = np.asarray(chall) - np.asarray(champ)
    n_test = float(np.mean([a for a, _ in sizes])) if sizes else 0.0
    n_train = float(np.mean([b for _, b in sizes])) if sizes else 1.0
    n_scored = int(mask.sum())
    interval = corrected_interval(deltas, n_test / n_train, confidence, n_scored)
    return CrossValidation(
        tuple(champ),
        tuple(chall),
        k,
        done,
        n_scored,
        interval,
        seconds,
        oof["champion"][mask],
        oof["challenger"][mask],
        labels[mask],
    )


def corrected_interval(
    deltas: np.ndarray, test_train_ratio: float, confidence: float, n_rows: int
) -> Interval:
    """Nadeau–Bengio corrected resampled t interval of the mean fold difference."""
    deltas = np.asarray(deltas, dtype=float)
    j = deltas.size
    point = float(deltas.mean()) if j else 0.0
    if j < 2:
        return Interval(point, -math.inf, math.inf, math.inf, confidence, n_rows)
    variance = (1.0 / j + test_train_ratio) * float(deltas.var(ddof=1))
    # All folds agree exactly: the floor of one row's worth of difference per fold's test set.
    se = max(math.sqrt(variance), 1.0 / max(n_rows, 1))
    from scipy.stats import t as student_t  # ~0.8 s to import: only when cross-validating

    q = float(student_t.ppf(0.5 + confidence / 2, j - 1))
    # `Interval.z` recomputes the normal quantile; the t quantile is folded into the bounds.
    return Interval(point, point - q * se, point + q * se, se, confidence, n_rows)
