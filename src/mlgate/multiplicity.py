"""Per-class evidence of a drop, corrected for looking at every class (numpy + scipy only).

A gate that checks seven classes at the one-sided 2.5 % level each finds a "drop" somewhere far
more often than 2.5 % of the time when nothing changed; and with few rows per class an F1
drop of 0.1 is one or two rows. So a class's drop counts only when an exact sign test on the
rows where the two models differ *for that class* shows it, after Holm's step-down correction
across all classes (Holm, *Scandinavian Journal of Statistics* 6, 1979: the family-wise error
stays below the level whatever the dependence between the classes' tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

__all__ = ["ClassDrop", "class_sign_tests", "holm"]


class ClassDrop(NamedTuple):
    """One class's exact sign test on the rows where the two models differ *for that class*.

    A row counts for class c when its truth is c (a hit or a miss of c) or a model predicted c
    (a false alarm of c). `worse`: rows the champion handles right for c and the challenger
    wrong; `better`: the reverse. `p_value`: one-sided exact binomial P(X >= worse | worse +
    better, 1/2), the evidence that the challenger is worse on c; `adjusted`: Holm's adjustment
    of it across every class (so that one of seven classes failing by chance stays rare).
    """

    label: Any
    worse: int
    better: int
    p_value: float
    adjusted: float


def class_sign_tests(
    y_true: Sequence[Any] | np.ndarray,
    pred_champion: Sequence[Any] | np.ndarray,
    pred_challenger: Sequence[Any] | np.ndarray,
    classes: Sequence[Any],
) -> list[ClassDrop]:
    """Per-class exact sign tests, Holm-adjusted across `classes` (Holm, *Scand. J. Stat.* 6,
    1979: step-down, the family-wise error stays below the level whatever the dependence).

    An F1 drop within row noise is no evidence: four discordant rows all one way have a
    one-sided p of 0.0625, and among seven classes one such pattern is common under no
    difference at all.
    """
    truth = np.asarray(y_true)
    old, new = np.asarray(pred_champion), np.asarray(pred_challenger)
    raw = []
    for label in classes:
        is_c = truth == label
        # For class c a row is handled right when a c row is predicted c, or a non-c row is not.
        old_ok = np.where(is_c, old == label, old != label)
        new_ok = np.where(is_c, new == label, new != label)
        worse = int(np.count_nonzero(old_ok & ~new_ok))
        better = int(np.count_nonzero(new_ok & ~old_ok))
        raw.append((label, worse, better, _sign_p(worse, better)))
    adjusted = holm([p for *_, p in raw])
    return [ClassDrop(*row, a) for row, a in zip(raw, adjusted, strict=True)]


def _sign_p(worse: int, better: int) -> float:
    """One-sided exact P(X >= worse) for X ~ Binomial(worse + better, 1/2)."""
    n = worse + better
    if n == 0 or worse == 0:
        return 1.0
    from scipy.stats import binom

    return float(min(1.0, binom.sf(worse - 1, n, 0.5)))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (reject where adjusted <= level)."""
    p = np.asarray(p_values, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()
