"""The facts a model card states, gathered from the registry and the holdout; publishing it.

`card.render` is pure; this module collects what it renders — registry facts, the version's scores
on the current holdout with bootstrap intervals, per-class and per-Gender tables, the comparison
with the previous champion, the gate's checks and the alias history — and writes the result to
`model_cards/<model>.md`, the version's description and its run's artifacts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import card as card_mod
from . import data as data_mod
from .champion import champion_moves, history

if TYPE_CHECKING:
    from .config import Params
    from .registry import Registry, Version

__all__ = ["CARD_ARTIFACT", "CardWrite", "card_path", "gather_facts", "publish_card"]

CARD_ARTIFACT = "model_card.md"
_SLICE_COLUMNS = ("Gender",)


@dataclass(frozen=True)
class CardWrite:
    path: str | None  # None: not written to a file
    written: bool  # the file changed
    described: bool  # the version's description (and the run's artifact) changed


def card_path(params: Params, name: str) -> Path:
    return Path(params.promotion.model_cards_dir) / f"{name}.md"


def publish_card(
    registry: Registry,
    params: Params,
    name: str,
    version: str,
    path: Path | None,
    *,
    data_path: str | None = None,
    model: Any = None,
) -> CardWrite:
    """Render the card; write it to `path`, the version's description and its run's artifact,
    each only when it differs from what is there. `model`: the version's loaded pyfunc model,
    when the caller has it already."""
    facts = gather_facts(registry, params, name, version, data_path=data_path, model=model)
    text = card_mod.render(facts)
    written = card_mod.save(text, path) if path is not None else False
    summary = card_mod.description(text, facts.run_id)
    current = registry.get_version(name, version)
    described = (current.description or "") != summary
    if described:
        registry.set_version_description(name, version, summary)
        if current.run_id:
            registry.log_run_text(current.run_id, text, CARD_ARTIFACT)
    return CardWrite(str(path) if path is not None else None, written, described)


def gather_facts(
    registry: Registry,
    params: Params,
    name: str,
    version: str,
    *,
    data_path: str | None = None,
    model: Any = None,
) -> card_mod.CardFacts:
    """Everything the card says about `version`: registry facts, and its scores on the holdout
    of the current data (the split `train` and the gate use)."""
    import numpy as np

    from .challenge import GATE_ARTIFACT
    from .registry import load_model
    from .stats import METRICS, bootstrap_ci, classification_metrics

    v = registry.get_version(name, version)
    alias = params.promotion.champion_alias
    aliases = registry.aliases(name)
    moves = tuple(champion_moves(history(registry, name), alias))
    target = params.data.target
    dataset = data_mod.load(data_path or params.data.path, target)
    split = data_mod.split(dataset, target, params.data.test_size, params.data.random_state)
    classes = [c for c in data_mod.CLASSES if c in set(dataset.frame[target])]
    y = split.y_test.to_numpy()
    model = model if model is not None else load_model(registry, name, v.version).model
    pred = np.asarray(model.predict(split.X_test))
    g = params.gate
    boot = dict(n_boot=g.n_bootstrap, confidence=g.confidence, seed=g.seed, classes=classes)
    metrics = tuple(card_mod.MetricInterval(m, *bootstrap_ci(y, pred, m, **boot)) for m in METRICS)
    matrix = _confusion(y, pred, classes)
    slices = []
    for column in _SLICE_COLUMNS:
        for value in sorted(split.X_test[column].astype(str).unique()):
            mask = (split.X_test[column].astype(str) == value).to_numpy()
            present = [c for c in classes if c in set(y[mask])]
            scores = classification_metrics(y[mask], pred[mask], present)
            slices.append(
                card_mod.SliceStats(
                    column, value, int(mask.sum()), scores["accuracy"], scores["f1_macro"]
                )
            )
    run = registry.runs([v.run_id]).get(v.run_id) if v.run_id else None
    run_params = dict(run.data.params) if run else {}
    gate = registry.load_run_dict(v.run_id, GATE_ARTIFACT) if v.run_id else None
    counts = dataset.frame[target].value_counts()
    hyper = tuple(
        sorted((k[len("model.") :], val) for k, val in run_params.items() if k.startswith("model."))
    )
    return card_mod.CardFacts(
        name=name,
        version=v.version,
        run_id=v.run_id,
        stage=v.current_stage,
        aliases=tuple(sorted(a for a, holder in aliases.items() if holder == v.version)),
        model_type=v.tags.get("model_type") or run_params.get("model_type", "unknown"),
        hyperparameters=hyper,
        fingerprint=v.tags.get("mlgate.fingerprint"),
        commit=v.tags.get("git_sha"),
        git_ref=v.tags.get("git_ref"),
        pr_number=v.tags.get("pr_number"),
        training_date=v.tags.get("training_date"),
        ci_run_url=v.tags.get("ci_run_url"),
        target=target,
        data_path=str(data_path or params.data.path),
        data_sha256=dataset.sha256,
        training_data_sha256=v.tags.get("mlgate.data_sha256"),
        dataset_rows=len(dataset.frame),
        n_features=len(dataset.features),
        class_balance=tuple((c, int(counts.get(c, 0))) for c in classes),
        holdout_rows=len(y),
        holdout_sha256=split.holdout_sha256,
        confidence=g.confidence,
        n_bootstrap=g.n_bootstrap,
        metrics=metrics,
        per_class=_per_class(matrix, classes),
        slices=tuple(slices),
        confusion_labels=tuple(classes),
        confusion=tuple(tuple(int(n) for n in row) for row in matrix),
        comparison=_comparison(registry, name, v, aliases.get(alias), moves, split, pred, boot),
        gate=_gate_summary(gate),
        history=moves,
        champion_alias=alias,
    )


def _confusion(y: Any, pred: Any, classes: list[str]) -> Any:
    import numpy as np

    index = {c: i for i, c in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes)), dtype=int)
    for truth, guess in zip(y.tolist(), pred.tolist(), strict=True):
        if guess in index:
            matrix[index[truth], index[guess]] += 1
    return matrix


def _per_class(matrix: Any, classes: list[str]) -> tuple[card_mod.ClassStats, ...]:
    out = []
    for i, label in enumerate(classes):
        tp, support, predicted = matrix[i, i], matrix[i].sum(), matrix[:, i].sum()
        out.append(
            card_mod.ClassStats(
                label,
                int(support),
                _ratio(tp, predicted),
                _ratio(tp, support),
                _ratio(2 * tp, support + predicted),
            )
        )
    return tuple(out)


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else 0.0


def _comparison(
    registry: Registry,
    name: str,
    v: Version,
    champion: str | None,
    moves: tuple,
    split: Any,
    pred: Any,
    boot: dict[str, Any],
) -> card_mod.Comparison | None:
    """This version against the champion it replaced (or, if it is not champion, the champion)."""
    import numpy as np

    from .registry import load_model
    from .stats import METRICS, classification_metrics, paired_bootstrap_ci

    if champion == v.version:
        arrival = next((m for m in reversed(moves) if m.to_version == v.version), None)
        other, role = (arrival.from_version if arrival else None), "previous champion"
    else:
        other, role = champion, "current champion"
    if not other:
        return None
    other_v = registry.get_version(name, other)
    y = split.y_test.to_numpy()
    classes = boot["classes"]
    this_scores = classification_metrics(y, pred, classes)
    try:
        other_pred = np.asarray(load_model(registry, name, other).model.predict(split.X_test))
    except Exception as exc:  # a version that cannot score this data is a finding, not an error
        logged = (
            registry.run_metrics([other_v.run_id]).get(other_v.run_id, {}) if other_v.run_id else {}
        )
        rows = tuple(
            card_mod.ComparisonRow(m, logged.get(m), this_scores[m], None, None, None)
            for m in METRICS
        )
        note = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        return card_mod.Comparison(other, role, False, rows, note)
    other_scores = classification_metrics(y, other_pred, classes)
    rows = []
    for m in METRICS:
        delta, lo, hi = paired_bootstrap_ci(
            y, other_pred, pred, m, boot["n_boot"], boot["confidence"], boot["seed"], classes
        )
        rows.append(card_mod.ComparisonRow(m, other_scores[m], this_scores[m], delta, lo, hi))
    return card_mod.Comparison(other, role, True, tuple(rows))


def _gate_summary(payload: dict[str, Any] | None) -> card_mod.GateSummary | None:
    if not payload:
        return None
    champion = payload.get("champion") or {}
    return card_mod.GateSummary(
        verdict=str(payload.get("verdict")),
        champion_version=champion.get("version"),
        holdout_sha256=(payload.get("holdout") or {}).get("sha256"),
        checks=tuple(
            (c["name"], bool(c["passed"]), c.get("message") or "")
            for c in payload.get("checks", [])
        ),
    )


def _v(version: str | None) -> str:
    return f"v{version}" if version else "no champion"
