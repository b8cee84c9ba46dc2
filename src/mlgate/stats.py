"""Classification metrics, the paired bootstrap and McNemar's exact test (numpy + scipy only).

The gate compares two models scored on the *same* holdout rows, so every comparison here is
paired: the bootstrap draws one set of row indices per resample and applies it to both models,
and McNemar's test looks only at the rows where exactly one of the two models is right. Pairing
removes the between-row variance both models share, which makes the interval on the difference
far narrower than two independent intervals would suggest.

Metric definitions match scikit-learn's `accuracy_score` and `precision/recall/f1_score` with
`labels=classes, average="macro", zero_division=0`: a class that is never predicted (or never
present) contributes 0 to the macro average instead of raising a warning. Predictions of labels
outside `classes` count as wrong for every class. The metrics are computed from confusion
counts, so the bootstrap can evaluate thousands of resamples with one matrix product.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .task import CLASSIFICATION

__all__ = [
    "METRICS",
    "McNemarResult",
    "bootstrap_ci",
    "classification_metrics",
    "confusion_matrix",
    "mcnemar",
    "mcnemar_exact",
    "paired_bootstrap_ci",
    "paired_bootstrap_class_f1",
    "paired_bootstrap_deltas",
    "per_class_scores",
    "percentile_interval",
]

#: Scalar metrics the bootstrap can resample (per-class F1 is reported by
#: `classification_metrics`, but intervals are computed for these only).
METRICS = CLASSIFICATION.metrics

# Bound the (chunk x n_rows) weight matrix of the bootstrap to ~32 MB of int64.
_MAX_CELLS_PER_CHUNK = 4_000_000


class McNemarResult(NamedTuple):
    """Discordant-pair counts and the exact two-sided p-value.

    `b`: rows the champion got right and the challenger got wrong;
    `c`: rows the champion got wrong and the challenger got right.
    """

    b: int
    c: int
    p_value: float


def classification_metrics(
    y_true: Sequence[Any] | np.ndarray,
    y_pred: Sequence[Any] | np.ndarray,
    classes: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """Accuracy and macro precision/recall/F1, plus F1 per class.

    Returns a flat dict (`accuracy`, `f1_macro`, `precision_macro`, `recall_macro` and one
    `f1_<class>` per class, the names MLflow runs log) and, under `per_class_f1`, a mapping
    `{class label: F1}` in the order of `classes`. `classes` defaults to the sorted union of
    the labels seen in `y_true` and `y_pred`, like scikit-learn.
    """
    labels = _resolve_classes(classes, y_true, y_pred)
    true_idx, (pred_idx,) = _encode(labels, y_true, y_pred)
    k = len(labels)
    true_counts = np.bincount(true_idx, minlength=k + 1)[:k].astype(float)
    pred_counts = np.bincount(pred_idx, minlength=k + 1)[:k].astype(float)
    hits = pred_idx == true_idx
    tp = np.bincount(true_idx[hits], minlength=k + 1)[:k].astype(float)
    scores = _scores(tp[None, :], true_counts[None, :], pred_counts[None, :])
    accuracy = float(hits.mean()) if hits.size else 0.0
    per_class = {label: float(f1) for label, f1 in zip(labels, scores["f1"][0], strict=True)}
    out: dict[str, Any] = {
        "accuracy": accuracy,
        "f1_macro": float(scores["f1"][0].mean()),
        "precision_macro": float(scores["precision"][0].mean()),
        "recall_macro": float(scores["recall"][0].mean()),
    }
    out.update({f"f1_{label}": value for label, value in per_class.items()})
    out["per_class_f1"] = per_class
    return out


def paired_bootstrap_deltas(
    y_true: Sequence[Any] | np.ndarray,
    pred_champion: Sequence[Any] | np.ndarray,
    pred_challenger: Sequence[Any] | np.ndarray,
    classes: Sequence[Any] | None = None,
    metrics: Sequence[str] = METRICS,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Bootstrap distribution of (challenger − champion) for each metric in `metrics`.

    Each resample draws `n` row indices with replacement and scores *both* models on those
    same rows. Rather than materialising the resampled arrays, a resample is a vector of row
    weights (how often each row was drawn); per-resample confusion counts are then one matrix
    product of the weights with per-row indicator columns. All metrics share the resamples,
    so the interval of one metric does not depend on which other metrics were asked for.
    """
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"cannot bootstrap {unknown}; supported metrics: {', '.join(METRICS)}")
    labels = _resolve_classes(classes, y_true, pred_champion, pred_challenger)
    counts, n = _bootstrap_counts(labels, y_true, pred_champion, pred_challenger, n_boot, seed)
    return _deltas_from_counts(counts, len(labels), n, metrics)


def paired_bootstrap_class_f1(
    y_true: Sequence[Any] | np.ndarray,
    pred_champion: Sequence[Any] | np.ndarray,
    pred_challenger: Sequence[Any] | np.ndarray,
    classes: Sequence[Any],
    n_boot: int = 2000,
    seed: int = 0,
) -> np.ndarray:
    """(n_boot, len(classes)) bootstrap of each class's F1 difference (challenger − champion).

    The same resamples as `paired_bootstrap_deltas` with the same seed.
    """
    labels = _resolve_classes(classes)
    counts, _ = _bootstrap_counts(labels, y_true, pred_champion, pred_challenger, n_boot, seed)
    k = len(labels)
    true_counts = counts[:, :k].astype(float)
    f1 = []
    for block in (1, 3):
        pred_counts = counts[:, block * k : (block + 1) * k].astype(float)
        tp = counts[:, (block + 1) * k : (block + 2) * k].astype(float)
        f1.append(_scores(tp, true_counts, pred_counts)["f1"])
    return f1[1] - f1[0]


def _bootstrap_counts(
    labels: list[Any],
    y_true: Sequence[Any] | np.ndarray,
    pred_champion: Sequence[Any] | np.ndarray,
    pred_challenger: Sequence[Any] | np.ndarray,
    n_boot: int,
    seed: int,
) -> tuple[np.ndarray, int]:
    """Per-resample confusion counts in `_design_matrix`'s columns, and the row count."""
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    true_idx, (champ_idx, chall_idx) = _encode(labels, y_true, pred_champion, pred_challenger)
    n = true_idx.size
    if n == 0:
        raise ValueError("cannot bootstrap an empty holdout")
    design = _design_matrix(true_idx, champ_idx, chall_idx, len(labels))
    return resampled_sums(design, n_boot, seed), n


def resampled_sums(design: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """The column sums of `design` over `n_boot` bootstrap resamples of its rows, one row per
    resample: each resample's row weights (how often each row was drawn) times the design, in
    chunks of at most `_MAX_CELLS_PER_CHUNK` weights."""
    n = design.shape[0]
    rng = np.random.default_rng(seed)
    chunk = max(1, _MAX_CELLS_PER_CHUNK // n)
    parts: list[np.ndarray] = []
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        rows = rng.integers(0, n, size=(size, n))
        offsets = (np.arange(size) * n)[:, None]
        weights = np.bincount((rows + offsets).ravel(), minlength=size * n).reshape(size, n)
        parts.append(weights @ design)
    return np.concatenate(parts, axis=0)


def paired_bootstrap_ci(
    y_true: Sequence[Any] | np.ndarray,
    pred_champion: Sequence[Any] | np.ndarray,
    pred_challenger: Sequence[Any] | np.ndarray,
    metric: str = "f1_macro",
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    classes: Sequence[Any] | None = None,
) -> tuple[float, float, float]:
    """(point, lower, upper) for challenger − champion on `metric`.

    The point estimate is the difference on the full holdout; the interval is the *percentile*
    bootstrap interval: the (1 − confidence)/2 and (1 + confidence)/2 quantiles of the paired
    resampled differences. Percentile intervals need no variance estimate and are
    transformation-respecting; with a few hundred rows their coverage on macro metrics is close
    to nominal (see the coverage test), which is what a gate threshold needs.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    labels = _resolve_classes(classes, y_true, pred_champion, pred_challenger)
    point = _metric_value(y_true, pred_challenger, labels, metric) - _metric_value(
        y_true, pred_champion, labels, metric
    )
    deltas = paired_bootstrap_deltas(
        y_true, pred_champion, pred_challenger, labels, (metric,), n_boot, seed
    )[metric]
    lo, hi = percentile_interval(deltas, confidence)
    return point, lo, hi


def bootstrap_ci(
    y_true: Sequence[Any] | np.ndarray,
    y_pred: Sequence[Any] | np.ndarray,
    metric: str = "f1_macro",
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    classes: Sequence[Any] | None = None,
) -> tuple[float, float, float]:
    """(point, lower, upper) of one model's `metric`: a percentile bootstrap over the rows.

    The paired machinery with a baseline that is never right (it predicts no known class) scores
    0 on every metric, so the paired difference is the model's own metric on each resample. The
    same `seed` draws the same resamples as `paired_bootstrap_ci`.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    labels = _resolve_classes(classes, y_true, y_pred)
    never = np.full(np.asarray(y_true).shape[0], _NEVER, dtype=object)
    point = _metric_value(y_true, y_pred, labels, metric)
    samples = paired_bootstrap_deltas(y_true, never, y_pred, labels, (metric,), n_boot, seed)[
        metric
    ]
    lo, hi = percentile_interval(samples, confidence)
    return point, lo, hi


# A label no model predicts: `_encode` maps it outside the classes, so it is always wrong.
_NEVER = object()


def percentile_interval(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    """The central `confidence` interval of `samples` (linear interpolation between order stats)."""
    tail = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(samples, [tail, 1.0 - tail])
    return float(lo), float(hi)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts `b` and `c`.

    Under "both models are equally accurate" each discordant row is a fair coin flip, so
    `b ~ Binomial(b + c, 1/2)`. The exact test is used instead of the chi-square approximation
    because a holdout of a few hundred rows often has fewer than 25 discordant pairs.
    """
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be non-negative, got b={b}, c={c}")
    if b + c == 0:
        return 1.0
    from scipy.stats import binomtest  # ~0.8 s to import: only the gate's McNemar needs it

    return float(min(1.0, binomtest(int(b), int(b + c), 0.5, alternative="two-sided").pvalue))


def mcnemar(
    y_true: Sequence[Any] | np.ndarray,
    pred_champion: Sequence[Any] | np.ndarray,
    pred_challenger: Sequence[Any] | np.ndarray,
) -> McNemarResult:
    """McNemar's exact test on paired predictions (see `McNemarResult` for b and c)."""
    truth, old, new = np.asarray(y_true), np.asarray(pred_champion), np.asarray(pred_challenger)
    if not truth.shape == old.shape == new.shape:
        raise ValueError(
            f"y_true, pred_champion and pred_challenger must have the same length, got "
            f"{truth.size}, {old.size} and {new.size}"
        )
    champ_ok, chall_ok = old == truth, new == truth
    b = int(np.count_nonzero(champ_ok & ~chall_ok))
    c = int(np.count_nonzero(~champ_ok & chall_ok))
    return McNemarResult(b, c, mcnemar_exact(b, c))


def _resolve_classes(
    classes: Sequence[Any] | None, *arrays: Sequence[Any] | np.ndarray
) -> list[Any]:
    """`classes` as given (checked for duplicates), or the sorted union of observed labels."""
    if classes is not None:
        labels = list(classes)
        if len(set(labels)) != len(labels):
            raise ValueError(f"classes must be unique, got {labels}")
        return labels
    seen = np.concatenate([np.asarray(a) for a in arrays])
    return np.unique(seen).tolist()


def _encode(
    labels: list[Any], y_true: Sequence[Any] | np.ndarray, *preds: Sequence[Any] | np.ndarray
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Map labels to 0..k-1; predicted labels outside `labels` become k (always wrong)."""
    truth = np.asarray(y_true)
    lookup = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    true_idx = np.array([lookup.get(v, -1) for v in truth.tolist()], dtype=np.int64)
    if (true_idx < 0).any():
        missing = sorted({str(v) for v, i in zip(truth.tolist(), true_idx, strict=True) if i < 0})
        raise ValueError(f"y_true has labels that are not in classes: {', '.join(missing)}")
    encoded = []
    for pred in preds:
        arr = np.asarray(pred)
        if arr.shape != truth.shape:
            raise ValueError(
                f"predictions have {arr.shape[0] if arr.ndim else 0} rows, y_true has "
                f"{truth.shape[0]}"
            )
        encoded.append(np.array([lookup.get(v, k) for v in arr.tolist()], dtype=np.int64))
    return true_idx, encoded


def _design_matrix(
    true_idx: np.ndarray, champ_idx: np.ndarray, chall_idx: np.ndarray, k: int
) -> np.ndarray:
    """Per-row indicator columns whose weighted sums are the confusion counts of a resample.

    Column blocks of width k: [true class | champion predicted | champion hit |
    challenger predicted | challenger hit].
    """
    n = true_idx.size
    rows = np.arange(n)
    design = np.zeros((n, 5 * k), dtype=np.int64)
    design[rows, true_idx] = 1
    for block, pred in ((1, champ_idx), (3, chall_idx)):
        known = pred < k
        design[rows[known], block * k + pred[known]] = 1
        hit = pred == true_idx
        design[rows[hit], (block + 1) * k + true_idx[hit]] = 1
    return design


def _deltas_from_counts(
    counts: np.ndarray, k: int, n: int, metrics: Sequence[str]
) -> dict[str, np.ndarray]:
    true_counts = counts[:, :k].astype(float)
    values = []
    for block in (1, 3):
        pred_counts = counts[:, block * k : (block + 1) * k].astype(float)
        tp = counts[:, (block + 1) * k : (block + 2) * k].astype(float)
        scores = _scores(tp, true_counts, pred_counts)
        values.append(
            {
                "accuracy": tp.sum(axis=1) / n,
                "f1_macro": scores["f1"].mean(axis=1),
                "precision_macro": scores["precision"].mean(axis=1),
                "recall_macro": scores["recall"].mean(axis=1),
            }
        )
    champion, challenger = values
    return {m: challenger[m] - champion[m] for m in metrics}


def _scores(tp: np.ndarray, true_counts: np.ndarray, pred_counts: np.ndarray) -> dict[str, Any]:
    """Per-class precision, recall and F1 with zero_division=0, row-wise over resamples."""
    return {
        "precision": _safe_ratio(tp, pred_counts),
        "recall": _safe_ratio(tp, true_counts),
        # 2tp / (2tp + fp + fn), and 2tp + fp + fn == predicted + true counts.
        "f1": _safe_ratio(2.0 * tp, pred_counts + true_counts),
    }


def _safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros_like(num, dtype=float)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _metric_value(
    y_true: Sequence[Any] | np.ndarray,
    y_pred: Sequence[Any] | np.ndarray,
    labels: list[Any],
    metric: str,
) -> float:
    if metric not in METRICS:
        raise ValueError(f"cannot bootstrap {metric!r}; supported metrics: {', '.join(METRICS)}")
    return float(classification_metrics(y_true, y_pred, labels)[metric])


def confusion_matrix(y_true: Any, y_pred: Any, classes: Sequence[Any]) -> np.ndarray:
    """Counts with rows true and columns predicted, in `classes` order; predictions of labels
    outside `classes` are left out, as in scikit-learn's `confusion_matrix(labels=classes)`."""
    index = {c: i for i, c in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes)), dtype=int)
    for truth, guess in zip(np.asarray(y_true).tolist(), np.asarray(y_pred).tolist(), strict=True):
        if truth in index and guess in index:
            matrix[index[truth], index[guess]] += 1
    return matrix


def per_class_scores(matrix: np.ndarray) -> list[tuple[int, float, float, float]]:
    """(support, precision, recall, F1) of each class of a confusion matrix (0 where undefined)."""

    def ratio(num: float, den: float) -> float:
        return float(num / den) if den else 0.0

    out = []
    for i in range(len(matrix)):
        tp, support, predicted = matrix[i, i], matrix[i].sum(), matrix[:, i].sum()
        out.append(
            (
                int(support),
                ratio(tp, predicted),
                ratio(tp, support),
                ratio(2 * tp, support + predicted),
            )
        )
    return out
