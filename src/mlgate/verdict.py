"""The JSON verdict: the gate's `--json` file, and the record stored with the challenger's run.

`to_json` writes it; `save` stores it as the run's `mlgate/gate.json`; `load` reads back the part
later steps rely on (`GateSummary`: the model card shows it). The stored record and the PR's
`--json` file are one format, so what a card cites is what the PR showed. The stored record also
keeps both models' predictions on the holdout (`predictions`: labels and, per role, indexes into
them), so a champion move can write the card from this evidence instead of loading the models
again, when the holdout and the versions are the same.

`to_json` returns the verdict, `schema_version` 1 (full description in
docs/gate-json-schema.md). Keys are stable; a change that removes or renames one bumps
`schema_version`. Numbers are plain floats, and absent values are `null`:

    schema_version, verdict ("pass" | "fail" | "inconclusive" | "pass (no champion)"), passed,
    mode, task ("classification" | "regression"), comparable, note, challenger {version,
    run_id}, champion {version, run_id} | null, holdout {sha256, n_rows, n_clean, why_fewer},
    decision {verdict, decided_by, margin, holdout, cv, cv_note, detectable_drop, oc [...],
    settle} | null, policy {primary_metric, margin, margin_kind, thresholds, max_class_drop,
    max_slice_loss, alpha, confidence, n_bootstrap, seed, interval, allow_schema_change,
    max_size_ratio, max_latency_ratio, evidence, on_inconclusive, cv_folds, cv_repeats},
    metrics [{metric, champion, challenger, delta, ci_lo, ci_hi, passed}], per_class [{class,
    champion_f1, challenger_f1, delta, support}], per_slice {column, metric, rows [{value, rows,
    champion, challenger, delta}]} | null, checks [{name, candidate, baseline, threshold,
    direction, passed, inconclusive, message}],
    mcnemar {b, c, p_value, alpha, label} | null, links {label: url}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .gate import GateResult
    from .registry import Registry

__all__ = ["GATE_ARTIFACT", "SCHEMA_VERSION", "GateSummary", "load", "save", "to_json"]

GATE_ARTIFACT = "mlgate/gate.json"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class GateSummary:
    """The verdict a version's last gate recorded (its run's gate.json)."""

    verdict: str
    champion_version: str | None
    holdout_sha256: str | None
    checks: tuple[tuple[str, bool, str], ...]  # (name, passed, message)
    n_rows: int | None = None  # holdout rows
    n_clean: int | None = None  # of which neither model trained on (the rows compared)
    why_fewer: str | None = None
    detectable_drop: float | None = None  # δ95 of the primary metric
    oc: tuple[tuple[float, float], ...] = ()  # (true drop, P(block))
    challenger_version: str | None = None
    # version -> its predicted labels on the holdout the gate used (stored records only)
    predictions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # the split those rows came from (data.split_record; stored records only)
    split: Mapping[str, Any] | None = None

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> GateSummary:
        champion = payload.get("champion") or {}
        holdout = payload.get("holdout") or {}
        decision = payload.get("decision") or {}
        challenger = payload.get("challenger") or {}
        return cls(
            verdict=str(payload.get("verdict")),
            champion_version=champion.get("version"),
            holdout_sha256=(payload.get("holdout") or {}).get("sha256"),
            checks=tuple(
                (c["name"], bool(c["passed"]), c.get("message") or "")
                for c in payload.get("checks", [])
            ),
            n_rows=holdout.get("n_rows"),
            n_clean=holdout.get("n_clean"),
            why_fewer=holdout.get("why_fewer"),
            detectable_drop=decision.get("detectable_drop"),
            oc=tuple(
                (float(row["drop"]), float(row["p_block"]))
                for row in decision.get("oc") or ()
                if row.get("p_block") is not None
            ),
            challenger_version=challenger.get("version"),
            predictions=_decode(payload.get("predictions"), challenger, champion),
            split=payload.get("split") if isinstance(payload.get("split"), Mapping) else None,
        )

    def scored(self, version: str | None, holdout_sha256: str) -> tuple[str, ...] | None:
        """`version`'s predictions on the holdout with this hash, if this gate recorded them."""
        if version is None or self.holdout_sha256 != holdout_sha256:
            return None
        return self.predictions.get(str(version))


def save(
    registry: Registry,
    run_id: str,
    result: GateResult,
    predictions: Mapping[str, Sequence[Any] | None] | None = None,
    split: Mapping[str, Any] | None = None,
) -> None:
    """Store the full evidence with the run: the model card and `release` read it back.

    `predictions` maps "challenger" and "champion" to the labels each predicted on the holdout;
    `split` (data.split_record) says which rows those are, so a reader of the same data can
    rebuild the holdout without splitting again.
    """
    payload = to_json(result)
    encoded = _encode(predictions or {})
    if encoded:
        payload["predictions"] = encoded
        if split:
            payload["split"] = dict(split)
    registry.log_run_dict(run_id, payload, GATE_ARTIFACT)


def load(registry: Registry, run_id: str | None) -> GateSummary | None:
    """The recorded verdict of a run; None when it was never gated."""
    payload = registry.load_run_dict(run_id, GATE_ARTIFACT) if run_id else None
    return GateSummary.from_json(payload) if payload else None


def to_json(result: GateResult, links: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The JSON verdict (schema_version 1, see the module docstring)."""
    cfg = result.config
    ref = result.champion
    return {
        "schema_version": SCHEMA_VERSION,
        "verdict": result.verdict,
        "passed": result.passed,
        "mode": result.mode,
        "task": result.task,
        "comparable": result.comparable,
        "note": result.note,
        "challenger": _ref_json(result.challenger),
        "champion": _ref_json(ref),
        "holdout": {
            "sha256": result.holdout.sha256,
            "n_rows": result.holdout.n_rows,
            "n_clean": result.holdout.n_clean,
            "why_fewer": result.holdout.why_fewer,
        },
        "decision": _decision_json(result),
        "policy": {
            "primary_metric": cfg.primary_metric,
            "margin": cfg.margin,
            "margin_kind": cfg.margin_kind,
            "thresholds": {k: float(v) for k, v in cfg.thresholds.items()},
            "max_class_drop": cfg.max_class_drop,
            "max_slice_loss": cfg.max_slice_loss,
            "alpha": cfg.alpha,
            "confidence": cfg.confidence,
            "n_bootstrap": cfg.n_bootstrap,
            "seed": cfg.seed,
            "interval": "percentile",
            "evidence": cfg.evidence,
            "on_inconclusive": cfg.on_inconclusive,
            "cv_folds": cfg.cv_folds,
            "cv_repeats": cfg.cv_repeats,
            "allow_schema_change": cfg.allow_schema_change,
            "max_size_ratio": cfg.max_size_ratio,
            "max_latency_ratio": cfg.max_latency_ratio,
        },
        "metrics": [
            {
                "metric": row.metric,
                "champion": _num_json(row.champion),
                "challenger": _num_json(row.challenger),
                "delta": _num_json(row.delta),
                "ci_lo": _num_json(row.ci_lo),
                "ci_hi": _num_json(row.ci_hi),
                "passed": row.passed,
            }
            for row in result.metrics
        ],
        "per_class": [
            {
                "class": row.label,
                "champion_f1": _num_json(row.champion_f1),
                "challenger_f1": _num_json(row.challenger_f1),
                "delta": _num_json(row.delta),
                "support": row.support,
            }
            for row in result.per_class
        ],
        "per_slice": _slices_json(result),
        "checks": [
            {
                "name": c.name,
                "candidate": _num_json(c.candidate),
                "baseline": _num_json(c.baseline),
                "threshold": _num_json(c.threshold),
                "direction": c.direction,
                "passed": c.passed,
                "inconclusive": c.inconclusive,
                "message": c.message,
            }
            for c in result.checks
        ],
        "mcnemar": None
        if result.mcnemar is None
        else {
            "b": result.mcnemar.b,
            "c": result.mcnemar.c,
            "p_value": _num_json(result.mcnemar.p_value),
            "alpha": result.mcnemar.alpha,
            "label": result.mcnemar.label,
        },
        "links": dict(links or {}),
    }


def _slices_json(result: GateResult) -> dict[str, Any] | None:
    """Regression: the primary error metric per value of `data.slice_by` (null otherwise)."""
    if not result.per_slice:
        return None
    return {
        "column": result.slice_column,
        "metric": result.config.primary_metric,
        "rows": [
            {
                "value": row.value,
                "rows": row.rows,
                "champion": _num_json(row.champion),
                "challenger": _num_json(row.challenger),
                "delta": None if row.champion is None else _num_json(row.challenger - row.champion),
            }
            for row in result.per_slice
        ],
    }


def _interval_json(interval: Any) -> dict[str, Any] | None:
    if interval is None:
        return None
    return {
        "delta": _num_json(interval.point),
        "lo": _num_json(interval.lo),
        "hi": _num_json(interval.hi),
        "se": _num_json(interval.se),
        "n_rows": interval.n,
    }


def _decision_json(result: GateResult) -> dict[str, Any] | None:
    """The primary metric's verdict, its evidence and the power it implies (null: no pair)."""
    decision = result.decision
    if decision is None:
        return None
    blocks = result.config.on_inconclusive == "fail"
    d95, oc = decision.power(inconclusive_blocks=blocks)
    cv = result.cv
    return {
        "verdict": decision.verdict,
        "decided_by": decision.decided_by,
        "margin": decision.margin,
        "holdout": {**_interval_json(decision.holdout), "verdict": decision.holdout_verdict},
        "cv": None
        if decision.cv is None or cv is None
        else {
            **_interval_json(decision.cv),
            "verdict": decision.cv_verdict,
            "folds": cv.k,
            "repeats": cv.repeats,
            "seconds": _num_json(cv.seconds),
        },
        "cv_note": decision.cv_note,
        "detectable_drop": _num_json(d95),
        "oc": [
            {
                "drop": row.drop,
                "p_pass": _num_json(row.p_pass),
                "p_inconclusive": _num_json(row.p_inconclusive),
                "p_fail": _num_json(row.p_fail),
                "p_block": _num_json(row.p_block(blocks)),
            }
            for row in oc
        ],
        "settle": decision.settle(result.config.evidence == "cv"),
    }


def _encode(predictions: Mapping[str, Sequence[Any] | None]) -> dict[str, Any] | None:
    # Indexes into one label list: a tenth of the size of repeating each label.
    present = {role: [str(x) for x in p] for role, p in predictions.items() if p is not None}
    if not present:
        return None
    labels = sorted({x for p in present.values() for x in p})
    index = {label: i for i, label in enumerate(labels)}
    return {"labels": labels, **{role: [index[x] for x in p] for role, p in present.items()}}


def _decode(
    stored: Mapping[str, Any] | None, challenger: Mapping[str, Any], champion: Mapping[str, Any]
) -> dict[str, tuple[str, ...]]:
    if not stored:
        return {}
    labels = stored.get("labels") or []
    out = {}
    for role, ref in (("challenger", challenger), ("champion", champion)):
        if ref.get("version") is not None and isinstance(stored.get(role), list):
            out[str(ref["version"])] = tuple(labels[i] for i in stored[role])
    return out


def _ref_json(ref: Any) -> dict[str, Any] | None:
    return None if ref is None else {"version": ref.version, "run_id": ref.run_id}


def _num_json(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
