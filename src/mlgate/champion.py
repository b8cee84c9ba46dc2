"""Moving the champion: the alias, the Production stage, and the alias history.

MLflow has no compare-and-swap for aliases, so a move re-reads `@champion` right before and right
after writing it, and aborts if it is not what the caller decided against (workflows also
serialise promotions with a concurrency group). The alias is the truth and the stage follows it:
a process that finds it lost a race puts Production back on the winner before it gives up, so two
concurrent moves end with one champion that is also the one Production version.

Every move is appended to the history: one registered-model tag per move, keyed by time and a
random suffix (`mlgate.history.<time_ns>.<hex>`), so concurrent writers never overwrite each
other's entries. The value is the move as JSON: at, alias, from_version, to_version, kind,
actor, reason, commit, run_url.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .config import PromotionConfig
from .errors import ConflictError, RegistryError, UsageError

if TYPE_CHECKING:
    from .registry import Registry

__all__ = [
    "HISTORY_PREFIX",
    "KINDS",
    "UNCHANGED",
    "History",
    "Move",
    "Promotion",
    "Who",
    "champion_moves",
    "history",
    "make_champion",
    "record_move",
    "require_reason",
    "rollback_target",
    "was_champion",
]

HISTORY_PREFIX = "mlgate.history."
# "external": a move found in the registry that mlgate did not make (recorded when found).
KINDS = ("release", "rollback", "promote", "external")
_CALLER_KINDS = ("release", "rollback", "promote")
# Sentinel for `expected_champion`: "don't check" (explicit overrides decide against nothing).
UNCHANGED: Any = object()


@dataclass(frozen=True)
class Who:
    """Who asked for a move, and from where."""

    actor: str
    commit: str | None = None
    run_url: str | None = None


@dataclass(frozen=True)
class Move:
    at: str
    alias: str
    from_version: str | None
    to_version: str | None
    kind: str  # one of KINDS
    actor: str
    reason: str
    commit: str | None = None
    run_url: str | None = None
    key: str = field(default="", compare=False)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "key"}


@dataclass(frozen=True)
class Promotion:
    name: str
    version: str
    previous: str | None
    archived: list[str]
    changed: bool
    move: Move | None
    dropped_aliases: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # bookkeeping that failed after the move was complete


@dataclass(frozen=True)
class History:
    """A model's recorded alias moves, oldest first (what `mlgate history` shows)."""

    model: str
    moves: list[Move]

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "moves": [m.to_json() for m in self.moves]}


def require_reason(reason: str) -> None:
    """Every champion move says why: the history and the model card show it."""
    if not reason.strip():
        raise UsageError("a reason is required for every champion move (pass --reason TEXT)")


def history(registry: Registry, name: str) -> list[Move]:
    """Every recorded alias move of `name`, oldest first (one registry call)."""
    tags = registry.get_model(name).tags
    moves = []
    for key in sorted(k for k in tags if k.startswith(HISTORY_PREFIX)):
        try:
            moves.append(Move(**json.loads(tags[key]), key=key))
        except (TypeError, ValueError):
            continue  # a hand-edited or foreign tag is not history
    return moves


def champion_moves(moves: Sequence[Move], alias: str = "champion") -> list[Move]:
    return [m for m in moves if m.alias == alias]


def record_move(registry: Registry, name: str, move: Move) -> Move:
    """Append one entry; the key sorts by time and cannot collide with a concurrent writer's."""
    key = f"{HISTORY_PREFIX}{time.time_ns():020d}.{secrets.token_hex(3)}"
    registry.set_model_tag(
        name,
        key,
        json.dumps(move.to_json(), sort_keys=True),
        what=f"recording the move of @{move.alias}",
    )
    return Move(**move.to_json(), key=key)


def was_champion(moves: Sequence[Move], version: str, alias: str = "champion") -> bool:
    """Whether `version` held `alias` at some point (what makes a release a rollback)."""
    return any(m.to_version == str(version) for m in champion_moves(moves, alias))


def rollback_target(
    moves: Sequence[Move], current: str | None, alias: str = "champion"
) -> str | None:
    """The holder before the current one, stepping back in time: rollbacks undo, they don't stack.

    The history is replayed as a stack: a promotion or release pushes its version; a rollback
    pops back to its version (or pushes it when it was not on the stack). So after v1 -> v2 -> v3,
    two rollbacks give v2 then v1, and a rollback after a revert does not re-apply the reverted
    version. None when there is nothing earlier. UsageError when `current` is not the last
    recorded holder (an unrecorded move: the caller must name the version).
    """
    stack: list[str] = []
    for move in champion_moves(moves, alias):
        to = move.to_version
        if to is None:
            continue
        if move.kind == "rollback" and to in stack:
            del stack[stack.index(to) + 1 :]
        else:
            stack = [v for v in stack if v != to] + [to]
    if current is None or not stack:
        return None
    if stack[-1] != current:
        raise UsageError(
            f"@{alias} points to v{current} but the history's last holder is v{stack[-1]}"
            " (a move was not recorded); pass --to VERSION to choose the version explicitly"
        )
    return stack[-2] if len(stack) > 1 else None


def make_champion(
    registry: Registry,
    name: str,
    version: str,
    *,
    cfg: PromotionConfig,
    who: Who,
    reason: str,
    kind: str,
    expected_champion: Any = UNCHANGED,
    drop_aliases: tuple[str, ...] = (),
) -> Promotion:
    """Make `version` the champion: alias, Production stage (previous archived), history.

    `expected_champion` is the holder the caller decided against (None: no champion); if the
    alias moved since, ConflictError is raised before anything changes.
    Order of writes: alias, stage, history, then `drop_aliases`. Each step checks before it
    writes, so re-running after a crash completes the move: when `version` already holds the
    alias, the stage is fixed if needed and a missing history entry is recorded, and nothing
    else is written (a plain re-run is a no-op).
    """
    require_reason(reason)
    if kind not in _CALLER_KINDS:
        raise UsageError(f"kind must be one of {', '.join(_CALLER_KINDS)}, got {kind!r}")
    version = str(version)
    target = registry.get_version(name, version)  # unknown version -> exit 2, before any write
    if target.status not in ("READY", "", None):
        raise UsageError(f"{name} v{version} is {target.status}, not READY; wait or pick another")
    alias = cfg.champion_alias
    current = registry.aliases(name).get(alias)
    if expected_champion is not UNCHANGED and current not in (expected_champion, version):
        raise ConflictError(
            f"@{alias} of {name} moved to v{current} (expected"
            f" {'v' + expected_champion if expected_champion else 'no champion'}) while this ran;"
            " re-run to decide against the new champion"
        )
    if current != version:
        _swap_alias(registry, name, alias, current, version)
    archived = _to_production(registry, name, target) if cfg.use_stages else []
    holder = registry.aliases(name).get(alias)
    if holder != version:
        # Someone moved the alias after our write: theirs is the later move, so it stands, and
        # Production must follow it even if our stage change landed after theirs.
        if cfg.use_stages and holder is not None:
            registry.transition(name, holder, "Production", archive_existing=True)
        raise ConflictError(
            f"@{alias} of {name} was moved to v{holder} by a concurrent promotion; v{holder}"
            f" stays champion and Production. Re-run to decide against it"
        )
    move = _record_if_missing(registry, name, alias, current, version, who, reason, kind)
    if move is not None:
        registry.set_version_tags(
            name, version, {"mlgate.champion_since": move.at, "mlgate.promoted_by": who.actor}
        )
    dropped, warnings = [], []
    holders = registry.aliases(name) if drop_aliases else {}
    for extra in drop_aliases:
        if holders.get(extra) == version:
            # The champion has moved and the move is recorded: a candidate alias that cannot be
            # removed (deleting an alias needs MANAGE on a basic-auth server) is reported, and
            # must not turn a completed promotion into a failed command.
            try:
                registry.delete_alias(name, extra)
            except RegistryError as exc:
                warnings.append(f"@{extra} still points at v{version}: {exc}")
            else:
                dropped.append(extra)
    return Promotion(
        name=name,
        version=version,
        previous=current,
        archived=archived,
        changed=move is not None or bool(archived) or bool(dropped),
        move=move,
        dropped_aliases=tuple(dropped),
        warnings=tuple(warnings),
    )


def _swap_alias(
    registry: Registry, name: str, alias: str, current: str | None, version: str
) -> None:
    # Re-read right before the write: the narrowest window MLflow allows without compare-and-swap.
    latest = registry.aliases(name).get(alias)
    if latest != current:
        raise ConflictError(
            f"@{alias} of {name} moved to v{latest} during this promotion; re-run to retry"
        )
    registry.set_alias(name, alias, version)


def _record_if_missing(
    registry: Registry,
    name: str,
    alias: str,
    current: str | None,
    version: str,
    who: Who,
    reason: str,
    kind: str,
) -> Move | None:
    """Record the move unless the history already ends with it (a re-run after a crash)."""
    moves = champion_moves(history(registry, name), alias)
    last = moves[-1] if moves else None
    if current == version:
        if last is not None and last.to_version == version:
            return None
        # The alias moved without an entry: a run that died after the alias write, or a hand
        # edit. Record it now, saying so, rather than leave a gap a rollback would trip over.
        current = last.to_version if last else None
        reason = f"{reason} (recorded on re-run: @{alias} already pointed to v{version})"
    elif current is not None and last is not None and last.from_version == current:
        # Another promoter moved the alias away from `current` after we read it and recorded
        # that move; our write came after theirs, so ours starts where theirs ended.
        current = last.to_version
    elif current is not None and (last is None or last.to_version != current):
        # The alias reached `current` without an entry: a hand edit (the MLflow UI) or a
        # concurrent promoter's abandoned write. Account for it before our own move, so that
        # every entry starts where the previous one ended.
        record_move(
            registry,
            name,
            Move(
                at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                alias=alias,
                from_version=last.to_version if last else None,
                to_version=current,
                kind="external",
                actor="unknown",
                reason=f"@{alias} was moved outside mlgate's history;"
                f" found by {who.actor}'s {kind}",
            ),
        )
    return record_move(
        registry,
        name,
        Move(
            at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            alias=alias,
            from_version=current,
            to_version=version,
            kind=kind,
            actor=who.actor,
            reason=reason,
            commit=who.commit,
            run_url=who.run_url,
        ),
    )


def _to_production(registry: Registry, name: str, target: Any) -> list[str]:
    """Move `target` to Production, archiving the others in the same server-side transaction."""
    versions = registry.versions(name)
    others = [
        v.version
        for v in versions
        if v.current_stage == "Production" and v.version != target.version
    ]
    stage = next(
        (v.current_stage for v in versions if v.version == target.version), target.current_stage
    )
    if stage != "Production" or others:
        registry.transition(name, target.version, "Production", archive_existing=True)
    return sorted(others, key=int)
