"""The pure parts of release and rollback: stepping back through the history,
and the numbers the model card reports (single-model bootstrap, per-class scores)."""

from __future__ import annotations

import numpy as np
import pytest

from mlgate.card_facts import _per_class
from mlgate.champion import Move, rollback_target, was_champion
from mlgate.errors import UsageError
from mlgate.stats import (
    bootstrap_ci,
    classification_metrics,
    confusion_matrix,
    paired_bootstrap_deltas,
)


def _moves(*steps: tuple[str | None, str, str]) -> list[Move]:
    return [
        Move(
            at=f"t{i}",
            alias="champion",
            from_version=old,
            to_version=new,
            kind=kind,
            actor="a",
            reason="r",
        )
        for i, (old, new, kind) in enumerate(steps)
    ]


@pytest.mark.parametrize(
    ("steps", "current", "target"),
    [
        pytest.param([(None, "1", "release")], "1", None, id="first-champion"),
        pytest.param([(None, "1", "release"), ("1", "2", "release")], "2", "1", id="one-back"),
        pytest.param(
            [
                (None, "1", "release"),
                ("1", "2", "release"),
                ("2", "3", "promote"),
                ("3", "2", "rollback"),
            ],
            "2",
            "1",
            id="rollbacks-step-further-back",
        ),
        pytest.param(
            [(None, "1", "release"), ("1", "2", "release"), ("2", "1", "rollback")],
            "1",
            None,
            id="after-a-revert-nothing-earlier",
        ),
        pytest.param(
            [
                (None, "1", "release"),
                ("1", "2", "release"),
                ("2", "1", "rollback"),
                ("1", "2", "rollback"),
            ],
            "2",
            "1",
            id="rollback-to-a-later-one-pushes-it",
        ),
        pytest.param(
            [(None, "1", "release"), ("1", "2", "release"), ("2", "1", "release")],
            "1",
            "2",
            id="re-released-version-moves-to-the-top",
        ),
        pytest.param([], None, None, id="no-history"),
    ],
)
def test_rollback_target_steps_back_in_time(
    steps: list, current: str | None, target: str | None
) -> None:
    assert rollback_target(_moves(*steps), current) == target


def test_rollback_target_refuses_an_unrecorded_holder() -> None:
    with pytest.raises(
        UsageError, match=r"points to v5 but the history's last holder is v2.*--to VERSION"
    ):
        rollback_target(_moves((None, "1", "release"), ("1", "2", "release")), "5")


def test_was_champion_ignores_other_aliases() -> None:
    moves = _moves((None, "1", "release"))
    other = Move(
        at="t",
        alias="staging",
        from_version=None,
        to_version="2",
        kind="promote",
        actor="a",
        reason="r",
    )
    assert was_champion(moves, "1") and not was_champion([*moves, other], "2")


def test_per_class_scores_match_scikit_learn() -> None:
    from sklearn.metrics import precision_recall_fscore_support

    rng = np.random.default_rng(3)
    classes = ["a", "b", "c", "d"]
    y = rng.choice(classes[:3], 200)  # "d" is never true: precision and recall are 0, not NaN
    pred = np.where(rng.random(200) < 0.7, y, rng.choice(classes, 200))
    stats = _per_class(confusion_matrix(y, pred, classes), classes)
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=classes, zero_division=0)
    assert [c.support for c in stats] == list(s)
    np.testing.assert_allclose([c.precision for c in stats], p)
    np.testing.assert_allclose([c.recall for c in stats], r)
    np.testing.assert_allclose([c.f1 for c in stats], f)


@pytest.mark.parametrize("metric", ["accuracy", "f1_macro", "precision_macro", "recall_macro"])
def test_bootstrap_ci_of_one_model(metric: str) -> None:
    rng = np.random.default_rng(7)
    y = rng.choice(list("abc"), 300)
    pred = np.where(rng.random(300) < 0.8, y, rng.choice(list("abc"), 300))
    point, lo, hi = bootstrap_ci(y, pred, metric, n_boot=500, seed=1)
    assert point == pytest.approx(classification_metrics(y, pred)[metric])
    assert lo < point < hi and hi - lo < 0.15
    # The same resamples as the paired bootstrap: the model's own metric on each of them.
    baseline = np.full(300, "never")
    samples = paired_bootstrap_deltas(y, baseline, pred, list("abc"), (metric,), 500, 1)[metric]
    assert (lo, hi) == pytest.approx(tuple(np.quantile(samples, [0.025, 0.975])))


def test_bootstrap_ci_of_a_perfect_model_is_a_point() -> None:
    y = np.array(list("abc") * 20)
    assert bootstrap_ci(y, y, "accuracy", n_boot=200) == (1.0, 1.0, 1.0)
