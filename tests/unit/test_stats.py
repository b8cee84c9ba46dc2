"""stats.py against known answers and scikit-learn, and the bootstrap's coverage."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from mlgate import stats

CLASSES = ["Insufficient_Weight", "Normal_Weight", "Obesity_Type_I", "Overweight_Level_I"]


def _noisy(y: np.ndarray, labels: list, accuracy: float, rng: np.random.Generator) -> np.ndarray:
    return np.where(rng.random(y.size) < accuracy, y, rng.choice(labels, y.size))


# --- McNemar ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("b", "c", "expected"),
    [
        pytest.param(0, 10, 2 * 0.5**10, id="all-discordant-one-way"),
        pytest.param(10, 0, 2 * 0.5**10, id="symmetric-in-b-and-c"),
        pytest.param(5, 5, 1.0, id="balanced-is-one"),
        pytest.param(1, 9, 0.021484375, id="b1-c9"),
        pytest.param(0, 0, 1.0, id="no-discordant-pairs"),
        pytest.param(0, 1, 1.0, id="single-pair-capped-at-one"),
        pytest.param(3, 12, 0.03515625, id="b3-c12"),
    ],
)
def test_mcnemar_exact_matches_known_p_values(b: int, c: int, expected: float) -> None:
    assert stats.mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-12)


def test_mcnemar_exact_rejects_negative_counts() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        stats.mcnemar_exact(-1, 3)


def test_mcnemar_counts_discordant_rows() -> None:
    y_true = np.array(["a", "a", "b", "b", "c", "c"])
    champion = np.array(["a", "a", "b", "a", "a", "c"])  # wrong on rows 3, 4
    challenger = np.array(["a", "b", "b", "b", "c", "a"])  # wrong on rows 1, 5
    result = stats.mcnemar(y_true, champion, challenger)
    # b: champion right & challenger wrong (rows 1, 5); c: the reverse (rows 3, 4).
    assert (result.b, result.c) == (2, 2)
    assert result.p_value == 1.0


def test_mcnemar_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="same length"):
        stats.mcnemar([1, 2, 3], [1, 2], [1, 2, 3])


# --- metrics -------------------------------------------------------------------------------


def _sklearn_metrics(y_true, y_pred, labels) -> dict[str, float]:
    kwargs = {"labels": labels, "average": "macro", "zero_division": 0}
    return {
        "accuracy": accuracy_score(y_true, y_pred),
        "f1_macro": f1_score(y_true, y_pred, **kwargs),
        "precision_macro": precision_score(y_true, y_pred, **kwargs),
        "recall_macro": recall_score(y_true, y_pred, **kwargs),
    }


@pytest.mark.parametrize(
    ("labels", "extra_predicted", "accuracy"),
    [
        pytest.param(CLASSES, [], 0.8, id="string-labels"),
        pytest.param([0, 1, 2, 3, 4, 5, 6], [], 0.7, id="integer-labels"),
        pytest.param(CLASSES, ["Obesity_Type_III"], 0.6, id="predicts-label-outside-classes"),
        pytest.param(CLASSES, [], 0.0, id="never-right"),
        pytest.param(CLASSES, [], 1.0, id="always-right"),
    ],
)
def test_classification_metrics_match_sklearn(
    labels: list, extra_predicted: list, accuracy: float
) -> None:
    rng = np.random.default_rng(7)
    y_true = rng.choice(labels, 300)
    wrong = rng.choice(labels + extra_predicted, 300)
    y_pred = np.where(rng.random(300) < accuracy, y_true, wrong)
    if accuracy == 0.0:
        y_pred = np.roll(y_true, 1)
    ours = stats.classification_metrics(y_true, y_pred, labels)
    for name, expected in _sklearn_metrics(y_true, y_pred, labels).items():
        assert ours[name] == pytest.approx(expected, abs=1e-12), name
    per_class = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    for label, expected in zip(labels, per_class, strict=True):
        assert ours["per_class_f1"][label] == pytest.approx(expected, abs=1e-12)
        assert ours[f"f1_{label}"] == ours["per_class_f1"][label]


def test_class_never_predicted_nor_present_counts_as_zero_like_sklearn() -> None:
    y_true = ["a", "a", "b", "b"]
    y_pred = ["a", "b", "b", "b"]
    labels = ["a", "b", "c"]  # "c" is neither present nor predicted
    ours = stats.classification_metrics(y_true, y_pred, labels)
    assert ours["per_class_f1"]["c"] == 0.0
    assert ours["f1_macro"] == pytest.approx(_sklearn_metrics(y_true, y_pred, labels)["f1_macro"])


def test_classes_default_to_the_sorted_observed_labels() -> None:
    ours = stats.classification_metrics([2, 0, 1], [2, 0, 0])
    assert list(ours["per_class_f1"]) == [0, 1, 2]


def test_true_label_outside_classes_is_an_error() -> None:
    with pytest.raises(ValueError, match="not in classes: z"):
        stats.classification_metrics(["a", "z"], ["a", "a"], ["a", "b"])


# --- paired bootstrap --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def paired() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    y = rng.choice(CLASSES, 420)
    return y, _noisy(y, CLASSES, 0.8, rng), _noisy(y, CLASSES, 0.85, rng)


def test_identical_predictions_give_a_zero_interval(paired) -> None:
    y, champion, _ = paired
    assert stats.paired_bootstrap_ci(y, champion, champion.copy()) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("metric", stats.METRICS)
def test_point_estimate_is_the_full_holdout_difference(paired, metric: str) -> None:
    y, champion, challenger = paired
    point, lo, hi = stats.paired_bootstrap_ci(y, champion, challenger, metric, n_boot=200)
    expected = _sklearn_metrics(y, challenger, CLASSES)[metric]
    expected -= _sklearn_metrics(y, champion, CLASSES)[metric]
    assert point == pytest.approx(expected, abs=1e-12)
    assert lo <= point <= hi


def test_resamples_score_both_models_on_the_same_rows(paired) -> None:
    """Replays the documented draw (rng.integers per resample block) with scikit-learn."""
    y, champion, challenger = paired
    deltas = stats.paired_bootstrap_deltas(y, champion, challenger, CLASSES, n_boot=5, seed=11)
    rows = np.random.default_rng(11).integers(0, y.size, size=(5, y.size))
    for i, idx in enumerate(rows):
        new = _sklearn_metrics(y[idx], challenger[idx], CLASSES)
        old = _sklearn_metrics(y[idx], champion[idx], CLASSES)
        for metric in stats.METRICS:
            assert deltas[metric][i] == pytest.approx(new[metric] - old[metric], abs=1e-12)


def test_one_metric_alone_gets_the_same_interval_as_with_the_others(paired) -> None:
    y, champion, challenger = paired
    joint = stats.paired_bootstrap_deltas(y, champion, challenger, CLASSES, n_boot=300)
    alone = stats.paired_bootstrap_deltas(
        y, champion, challenger, CLASSES, ("recall_macro",), n_boot=300
    )
    np.testing.assert_array_equal(joint["recall_macro"], alone["recall_macro"])


def test_bootstrap_is_reproducible_for_a_seed_and_varies_across_seeds(paired) -> None:
    y, champion, challenger = paired
    first = stats.paired_bootstrap_ci(y, champion, challenger, seed=5, n_boot=500)
    assert stats.paired_bootstrap_ci(y, champion, challenger, seed=5, n_boot=500) == first
    assert stats.paired_bootstrap_ci(y, champion, challenger, seed=6, n_boot=500) != first


def test_chunking_does_not_change_the_draws(paired, monkeypatch: pytest.MonkeyPatch) -> None:
    y, champion, challenger = paired
    whole = stats.paired_bootstrap_deltas(y, champion, challenger, CLASSES, n_boot=50)
    monkeypatch.setattr(stats, "_MAX_CELLS_PER_CHUNK", y.size * 7)  # 7 resamples per chunk
    chunked = stats.paired_bootstrap_deltas(y, champion, challenger, CLASSES, n_boot=50)
    # Chunks draw in sequence from one generator, so the resamples are the same rows.
    np.testing.assert_allclose(chunked["f1_macro"], whole["f1_macro"], atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"metric": "auc"}, "supported metrics", id="unknown-metric"),
        pytest.param({"confidence": 1.5}, "confidence", id="bad-confidence"),
        pytest.param({"n_boot": 0}, "n_boot", id="no-resamples"),
    ],
)
def test_bootstrap_rejects_bad_arguments(paired, kwargs: dict, message: str) -> None:
    y, champion, challenger = paired
    with pytest.raises(ValueError, match=message):
        stats.paired_bootstrap_ci(y, champion, challenger, **kwargs)


def _simulated_pair(n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Balanced classes, errors spread evenly over the other classes.

    Cells of (champion right, challenger right): both .75, champion only .05, challenger only
    .08, neither .12. With balanced classes and evenly spread errors, every class's precision
    and recall equal the accuracy, so the true difference is 0.83 - 0.80 = 0.03 for accuracy
    and for macro F1 alike.
    """
    k = 3
    y = rng.integers(0, k, n)
    cell = rng.choice(4, n, p=[0.75, 0.05, 0.08, 0.12])
    champ_ok = (cell == 0) | (cell == 1)
    chall_ok = (cell == 0) | (cell == 2)

    def predict(ok: np.ndarray) -> np.ndarray:
        wrong = (y + rng.integers(1, k, n)) % k
        return np.where(ok, y, wrong)

    return y, predict(champ_ok), predict(chall_ok)


@pytest.mark.parametrize("metric", ["accuracy", "f1_macro"])
def test_percentile_interval_covers_the_true_difference(metric: str) -> None:
    rng = np.random.default_rng(2024)
    covered = 0
    trials = 200
    for trial in range(trials):
        y, champion, challenger = _simulated_pair(420, rng)
        _, lo, hi = stats.paired_bootstrap_ci(
            y, champion, challenger, metric, n_boot=1000, seed=trial, classes=[0, 1, 2]
        )
        covered += lo <= 0.03 <= hi
    assert 0.88 <= covered / trials <= 0.99


def test_holm_adjusts_step_down_and_keeps_order() -> None:
    from mlgate.multiplicity import holm

    # m = 4: sorted 0.01, 0.02, 0.03, 0.5 -> 0.04, 0.06, 0.06 (monotone), 0.5
    assert holm([0.03, 0.01, 0.5, 0.02]) == pytest.approx([0.06, 0.04, 0.5, 0.06])
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])


def test_class_sign_tests_count_rows_that_differ_for_each_class() -> None:
    from scipy.stats import binomtest

    from mlgate.multiplicity import class_sign_tests

    y = np.array(["a"] * 10 + ["b"] * 10)
    old = y.copy()
    new = y.copy()
    new[:4] = "b"  # 4 a-rows missed by the challenger: worse for a (recall) and b (false alarm)
    tests = {t.label: t for t in class_sign_tests(y, old, new, ["a", "b"])}
    assert (tests["a"].worse, tests["a"].better) == (4, 0)
    assert (tests["b"].worse, tests["b"].better) == (4, 0)
    p = binomtest(4, 4, 0.5, alternative="greater").pvalue
    assert tests["a"].p_value == pytest.approx(p)  # 0.0625
    assert tests["a"].adjusted == pytest.approx(min(1.0, 2 * p))
