"""What a push to main, a rollback or a manual promotion does to the champion.

`release` compares the training-input fingerprint of the working tree with the one of the last
released commit (the alias history's; `--before` only when none is recorded). Git is the source of
truth (README, Architecture, "Git is the source of truth"):

- the tree is older than the last released commit (a stale re-run): nothing changes;
- unchanged inputs and a champion exist: nothing to release (a manual rollback is respected);
- otherwise a version with the tree's fingerprint is the candidate: the champion, a former
  champion, else (`promotion.build: pr`) the newest one that passes verification (registry.py's
  `verify_model`: one that fails is ignored and reported, never loaded). None left, or
  `promotion.build: release`: this process trains the commit's own;
- it is already the champion: nothing to do but finish any interrupted bookkeeping;
- it was champion before (a revert): restored without a gate, recorded as a rollback;
- it failed its gate at an earlier release: it stays rejected (a manual promotion overrides); a
  push that changes no training input only says so (exit 0);
- else it is gated now, by this process with the binding policy (never trusting verdict tags a
  PR job could have written), against the current champion, and promoted only on a pass.

Every path ends in `champion.make_champion` (re-read, alias, Production, history, candidate aliases
removed) and `publish_card`. Each step checks before it writes, so re-running after a crash
completes the release and re-running after success changes nothing.

`rollback` and `promote` are the manual champion moves (`mlgate rollback`, `mlgate promote ...
Production`). All three return a `Release`. Why one module: they share the move, the candidate
aliases to drop and the card written after it; champion.py holds the move itself and the history.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import data
from .card_facts import CardWrite, publish_card, stored_evidence
from .challenge import GateRun, binding_trust, run_gate
from .champion import (
    UNCHANGED,
    Move,
    Promotion,
    Who,
    champion_moves,
    history,
    make_champion,
    require_reason,
    rollback_target,
    was_champion,
)
from .errors import MlgateError, NotFoundError, UsageError
from .estimators import trusted_types
from .fingerprint import Fingerprint, of_revision, of_worktree
from .git import git, resolve
from .policy import PolicyChange
from .registry import BUILT_BY_TAG, load_model, verify_model
from .train import TrainResult, train

if TYPE_CHECKING:
    from .config import Params
    from .registry import Registry, Version

__all__ = [
    "ACTIONS",
    "REJECTED_TAG",
    "Release",
    "policy_commit",
    "promote",
    "release",
    "rollback",
]

ACTIONS = ("nothing", "promoted", "rolled_back", "already_champion", "rejected")
_NULL_SHA = re.compile(r"^0+$")  # GitHub's `before` for a branch's first push
_PR_ALIAS = re.compile(r"^pr-\d+$")
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
# Set on a candidate whose gate failed at release: it stays rejected for its inputs.
REJECTED_TAG = "mlgate.release.rejected"


@dataclass(frozen=True)
class Release:
    """What a champion move did: a push's release, a rollback or a manual promotion.

    One type for the three: they end in the same move (`champion.make_champion`) and card. A
    release also says what the commit's inputs were (`fingerprint` and the fields after it); a
    manual move says the version's stage before (`previous_stage`). `to_json` lists each
    field only for the moves that have it.
    """

    action: str  # one of ACTIONS
    name: str
    version: str | None  # the champion afterwards; with "rejected", the candidate
    previous: str | None  # the champion before
    promotion: Promotion | None
    card: CardWrite | None
    card_error: str | None
    message: str
    previous_stage: str | None = None  # rollback and promote: the version's stage before
    fingerprint: str | None = None  # release: the inputs' fingerprint
    inputs_changed: bool = False
    before: str | None = None  # the revision compared with (None: none, e.g. a first push)
    trained: bool = False
    training: TrainResult | None = None  # what this release trained and registered, if it did
    gate: GateRun | None = None  # the gate this release ran (None: a trusted one, a rollback)
    # release: the versions of these inputs it would not load, one line each (version and why)
    ignored: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the champion (or its bookkeeping) changed."""
        return self.promotion is not None and self.promotion.changed

    @property
    def warnings(self) -> list[str]:
        """What failed after the move was complete (it stands; the command still succeeds)."""
        found = list(self.promotion.warnings) if self.promotion else []
        return found + ([self.card_error] if self.card_error else [])

    def to_json(self) -> dict[str, Any]:
        promotion = self.promotion
        out: dict[str, Any] = {
            "action": self.action,
            "model": self.name,
            "version": self.version,
            "previous": self.previous,
            "changed": self.changed,
            "archived": promotion.archived if promotion else [],
            "move": promotion.move.to_json() if promotion and promotion.move else None,
            "card": self.card.path if self.card else None,
            "card_error": self.card_error,
            "message": self.message,
        }
        if self.previous_stage is not None:
            out["previous_stage"] = self.previous_stage
        if self.fingerprint is not None:
            out.update(
                inputs_changed=self.inputs_changed,
                fingerprint=self.fingerprint,
                before=self.before,
                trained=self.trained,
                ignored=list(self.ignored),
                gated=self.gate is not None,
                verdict=self.gate.result.verdict if self.gate else None,
            )
        return out


# --- release ----------------------------------------------------------------------------------


def release(
    registry: Registry,
    params: Params,
    *,
    who: Who,
    before: str | None = "HEAD~1",
    reason: str | None = None,
    root: str | Path = ".",
    params_path: str = "params.yaml",
    data_path: str | None = None,
    context_tags: dict[str, str] | None = None,
    card_file: Path | None = None,
    policy: PolicyChange | None = None,
) -> Release:
    """Make the version trained from the tree's inputs the champion, when they changed.

    The inputs are compared with those of the last released commit (the alias history's), and
    with `before` only when no release of this repository is recorded. `params` carries the
    binding policy (see `policy.binding`); `policy` says what the change did to it.
    """
    name = params.mlflow.registered_model_name
    alias = params.promotion.champion_alias
    data_path = data_path or params.data.path
    new = of_worktree(params, data_path, root)
    champion = _champion(registry, name, alias)
    moves = _moves(registry, name)
    head = resolve(root, "HEAD")
    released = _last_released(moves, alias, root)
    base = released or before
    facts: dict[str, Any] = dict(name=name, fingerprint=new.value, before=base)
    if released and head and released != head and _is_ancestor(root, head, released):
        # A re-run of an older push, or a run that waited while a newer one released: moving
        # the champion now would roll production back to an older commit's model.
        return _nothing(
            champion,
            f"{head[:12]} is older than the last released commit {released[:12]}:"
            f" a stale run changes nothing ({_champion_label(champion)} stays champion)",
            facts,
        )
    old = _before(base, params_path, root)
    changed = old is None or old.value != new.value
    facts["inputs_changed"] = changed
    if not changed and champion is not None and released != head:
        return _nothing(
            champion,
            f"training inputs unchanged since {_short(base)}: nothing to release"
            f" (v{champion} stays champion)",
            facts,
        )
    candidates = registry.versions_by_fingerprint(name, new.value)
    holds = champion is not None and any(v.version == champion for v in candidates)
    if released is not None and released == head and not holds:
        # This commit was released and the champion moved since (a manual move): a re-run must
        # not undo that.
        return _nothing(
            champion,
            f"{head[:12]} was released already and @{alias} moved since: nothing changes"
            f" ({_champion_label(champion)} stays champion)",
            facts,
        )
    trust = binding_trust(params, policy)
    target, ignored = _reusable(registry, params, candidates, champion, moves, trust)
    facts["ignored"] = ignored
    facts["trained"] = target is None
    if target is None:
        facts["training"] = _train(registry, params, new, data_path, context_tags or {})
        target = registry.get_version(name, facts["training"].version)
        trust = params.model.trusted_types  # built here, from the merged tree's own rules
    reason = reason or _commit_subject(root) or f"release of inputs {new.value[:12]}"
    # Decided before looking at the alias, so a re-run after a crash records the right kind.
    kind = "rollback" if was_champion(moves, target.version, alias) else "release"
    gate = None
    if target.version == champion:
        action = "already_champion"
    elif kind == "rollback":
        action = "rolled_back"
    elif target.tags.get(REJECTED_TAG) and not _push_changed(
        before, base, old, new, params_path, root
    ):
        # Rejected by an earlier run, which failed for it; a push that changes no training input
        # (docs, a workflow) has nothing new to say about it.
        return _nothing(
            champion,
            f"v{target.version} stays rejected ({target.tags[REJECTED_TAG]}); the champion stays"
            f" {_champion_label(champion)}: this push changes no training input",
            facts,
        )
    else:
        action = "promoted"
        refused = _refused(
            registry, params, target, champion, head, data_path, policy, trust, facts
        )
        if isinstance(refused, Release):
            return refused
        gate = refused
        champion = gate.champion  # the holder the gate compared with is the one we replace
    promotion = make_champion(
        registry,
        name,
        target.version,
        cfg=params.promotion,
        who=who,
        reason=reason,
        kind=kind,
        expected_champion=champion,
        drop_aliases=_candidate_aliases(registry, name, target.version, params),
    )
    written, error = _card(registry, params, name, target.version, card_file, data_path)
    verb = {"promoted": "promoted", "rolled_back": "restored (rollback)"}.get(action)
    message = (
        f"v{target.version} is champion (was {_champion_label(champion)}): {verb}"
        if verb
        else f"v{target.version} is already champion"
    )
    return Release(
        action=action,
        version=target.version,
        previous=champion,
        gate=gate,
        promotion=promotion,
        card=written,
        card_error=error,
        message=message,
        **facts,
    )


def _refused(
    registry: Registry,
    params: Params,
    target: Version,
    champion: str | None,
    head: str | None,
    data_path: str,
    policy: PolicyChange | None,
    trust: tuple[str, ...],
    facts: dict[str, Any],
) -> Release | GateRun:
    """The candidate's gate at release, or the Release that says it is rejected.

    Always gated here, with this job's code and the binding policy: the verdict tags on the
    version were written with a PR job's credential and could be forged. A candidate that failed
    here once stays rejected for its inputs (a later push does not re-judge it under new rules);
    only a manual promotion, recorded in the history, overrides that.
    """
    name = params.mlflow.registered_model_name
    earlier = target.tags.get(REJECTED_TAG)
    if earlier:
        message = (
            f"v{target.version} failed its gate at release ({earlier}) and stays"
            " rejected for these training inputs: nothing promoted (change the inputs, or"
            f" override by hand: mlgate promote {name} {target.version} Production"
            " --reason TEXT)"
        )
        return _rejected(target.version, champion, None, message, facts)
    # No candidate alias: the champion alias moves next, and a rejected one gets none.
    gate = run_gate(
        registry,
        params,
        data_path=data_path,
        challenger_ref=target.version,
        policy=policy,
        candidate_aliases=False,
        trusted_types=trust,
    )
    if gate.result.passed:
        return gate
    failed = ", ".join(c.name for c in gate.result.failed_checks) or gate.result.verdict
    where = f"commit {head[:12]}" if head else "an unknown commit"
    registry.set_version_tags(name, target.version, {REJECTED_TAG: f"{where}: {failed}"})
    against = _champion_label(gate.champion)
    message = f"v{target.version} failed its gate against {against} ({failed}): nothing promoted"
    return _rejected(target.version, champion, gate, message, facts)


def _reusable(
    registry: Registry,
    params: Params,
    candidates: list[Version],
    champion: str | None,
    moves: list[Move],
    trust: tuple[str, ...],
) -> tuple[Version | None, tuple[str, ...]]:
    """The version of these inputs the release may use, and a line for each one it ignored.

    The champion is used as it is (a re-run finishing its bookkeeping); a former champion is
    restored when it still passes verification (a revert). Otherwise, under `promotion.build:
    pr`, the newest version that passes verification: a PR job's credential could have
    registered any of them, so one whose stored model is not the form mlgate loads is ignored,
    never loaded and never judged. None: this release trains its own.
    """
    alias = params.promotion.champion_alias
    for version in candidates:
        if version.version == champion:
            return version, ()
    former = [v for v in candidates if was_champion(moves, v.version, alias)]
    rest = [] if params.promotion.build == "release" else candidates
    ignored: list[str] = []
    for version in [*former, *(v for v in rest if v not in former)]:
        why = verify_model(registry, version.name, version.version, trusted_types(trust))
        if why is None:
            return version, tuple(ignored)
        ignored.append(f"{why}; ignored")
    return None, tuple(ignored)


def policy_commit(
    registry: Registry, params: Params, before: str | None, root: str | Path = "."
) -> str | None:
    """The commit whose `gate:` and `promotion:` judge a release when none is named (CI).

    Rules the push itself brought never judge it: the last released commit (the alias history's)
    when it is an ancestor of HEAD, else `before` (the push's) when that is one. Never HEAD^1:
    in a rebase merge, a multi-commit push or a merge-queue batch that is a commit of the push
    (commit 1 relaxes the margin, commit 2 ships the weaker model). None only for a first
    release (nothing recorded, no champion, no `before`): there is nothing to protect yet, and
    the tree's own rules apply. A stale re-run (HEAD older than the last released commit) gets
    the released commit's, and changes nothing anyway. Anything else is a UsageError (exit 2).
    """
    name = params.mlflow.registered_model_name
    alias = params.promotion.champion_alias
    named = before and not (_NULL_SHA.match(before) or _FULL_SHA.match(before))
    if named and resolve(root, before) is None:
        return None  # a typo: `release` reports the unknown revision before it gates
    head = resolve(root, "HEAD")
    if head is None:
        raise UsageError("release: no commit checked out; run it in a clone of the repository")
    released = _last_released(_moves(registry, name), alias, root)
    # An ancestor of HEAD: the rules HEAD was reviewed against. A descendant (a stale re-run of
    # an older push): `release` changes nothing for it, and the released rules are the ones
    # that stand.
    if released and (_is_ancestor(root, released, head) or _is_ancestor(root, head, released)):
        return released
    known = None
    if before and not _NULL_SHA.match(before):
        known = resolve(root, before)
    if known and _is_ancestor(root, known, head):
        return known
    if released is None and known is None and _champion(registry, name, alias) is None:
        return None
    last = f"the last released commit {released[:12]}" if released else "no released commit"
    raise UsageError(
        f"release: no trusted commit to take the rules from for {head[:12]}: {last} and"
        f" --before {_short(before) if before else 'none'} are not ancestors of it (a force push,"
        " or history this clone lacks); check out with fetch-depth: 0, or name a reviewed commit"
        " with --policy-from REV"
    )


def _rejected(
    version: str, champion: str | None, gate: GateRun | None, message: str, facts: dict[str, Any]
) -> Release:
    return Release(
        action="rejected",
        version=version,
        previous=champion,
        gate=gate,
        promotion=None,
        card=None,
        card_error=None,
        message=message,
        **facts,
    )


def _nothing(champion: str | None, message: str, facts: dict[str, Any]) -> Release:
    return Release(
        action="nothing",
        version=champion,
        previous=champion,
        gate=None,
        promotion=None,
        card=None,
        card_error=None,
        message=message,
        **facts,
    )


def _moves(registry: Registry, name: str) -> list[Move]:
    try:
        return history(registry, name)
    except NotFoundError:
        return []  # no model yet: the first release registers it


def _last_released(moves: list[Move], alias: str, root: str | Path) -> str | None:
    """The commit of the last recorded champion move, when this clone has it.

    Compared with this rather than with the push's `before`: a run that was cancelled, refused at
    the approval or failed released nothing, and the next run must release what it should have.
    """
    for move in reversed(champion_moves(moves, alias)):
        if move.commit:
            return resolve(root, move.commit)
    return None


def _is_ancestor(root: str | Path, older: str, newer: str) -> bool:
    # `git merge-base --is-ancestor` answers with its exit status alone; print the merge base
    # instead, which equals `older` exactly when it is an ancestor of `newer`.
    return git(root, "merge-base", older, newer) == older


def _push_changed(
    before: str | None,
    base: str | None,
    at_base: Fingerprint | None,
    new: Fingerprint,
    params_path: str,
    root: str | Path,
) -> bool:
    """Whether this push (`before`..HEAD) changed the training inputs; unknown counts as yes."""
    pushed = at_base if before == base else _before(before, params_path, root)
    return pushed is None or pushed.value != new.value


def _short(rev: str | None) -> str:
    return rev[:12] if rev and _FULL_SHA.match(rev) else str(rev)


def _before(before: str | None, params_path: str, root: str | Path) -> Fingerprint | None:
    """The previous tree's fingerprint; None when there is none to compare with.

    A full SHA this clone does not have (a force push's `before`) also gives None: the release
    then goes by the tree's own inputs, which is safe (an unreleased candidate is gated).
    """
    if not before or _NULL_SHA.match(before):
        return None
    missing = resolve(root, before) is None
    if _FULL_SHA.match(before) and missing:
        return None
    # A shallow clone also lacks HEAD^: that is missing history, not a first commit.
    first_commit = (
        before in ("HEAD~1", "HEAD^")
        and resolve(root, "HEAD^") is None
        and resolve(root, "HEAD") is not None
        and git(root, "rev-parse", "--is-shallow-repository") == "false"
    )
    if first_commit:
        return None  # nothing before the repository's first commit
    path = Path(params_path)
    if path.is_absolute():  # git show wants it relative to the repository's top level
        try:
            path = path.resolve().relative_to(Path(root).resolve())
        except ValueError:
            raise UsageError(
                f"{params_path} is outside {Path(root).resolve()}; run release from the"
                " repository's top level with its params.yaml"
            ) from None
    return of_revision(before, path.as_posix(), root)


def _champion(registry: Registry, name: str, alias: str) -> str | None:
    try:
        return registry.aliases(name).get(alias)
    except NotFoundError:
        return None  # no model yet: the first release registers it


def _train(
    registry: Registry,
    params: Params,
    fingerprint: Fingerprint,
    data_path: str,
    context_tags: dict[str, str],
) -> TrainResult:
    with tempfile.TemporaryDirectory(prefix="mlgate-release-") as tmp:
        result = train(
            params,
            registry,
            data.holdout(params.data, data_path),
            fingerprint=fingerprint,
            context_tags={**context_tags, BUILT_BY_TAG: "release"},
            figure_path=Path(tmp) / "confusion_matrix.png",
            reuse=False,
            committed_only="a release",
        )
    return result


def _candidate_aliases(
    registry: Registry, name: str, version: str, params: Params
) -> tuple[str, ...]:
    """The candidate aliases (`challenger`, `pr-<N>`) the new champion holds: they go."""
    challenger = params.promotion.challenger_alias
    return tuple(
        a
        for a, v in sorted(registry.aliases(name).items())
        if v == version and (a == challenger or _PR_ALIAS.match(a))
    )


def _commit_subject(root: str | Path) -> str | None:
    return git(root, "log", "-1", "--format=%s")


# --- rollback and manual promotion ---------------------------------------------------------------


def rollback(
    registry: Registry,
    params: Params,
    name: str,
    *,
    who: Who,
    reason: str,
    to: str | None = None,
    card_file: Path | None = None,
    data_path: str | None = None,
) -> Release:
    """Champion back to the previous holder in the history, or to `to` (an earlier champion)."""
    require_reason(reason)
    alias = params.promotion.champion_alias
    moves = history(registry, name)  # unknown model -> exit 2
    current = registry.aliases(name).get(alias)
    if to is None:
        if not champion_moves(moves, alias):
            raise NotFoundError(
                f"{name} has no recorded @{alias} moves: nothing to roll back to"
                f" (promote a version with 'mlgate promote {name} VERSION Production')"
            )
        if current is None:
            raise NotFoundError(
                f"{name} has no @{alias} (its version was deleted, or the alias removed):"
                f" pass --to VERSION to restore an earlier champion ('mlgate history {name}')"
            )
        found = rollback_target(moves, current, alias)
        if found is None:
            raise NotFoundError(
                f"{name} v{current} is the earliest champion in the history:"
                " nothing to roll back to"
                " ('mlgate history' lists the moves; pass --to VERSION for a later one)"
            )
        target = registry.get_version(name, found)
    else:
        target = registry.resolve(name, to)
        if target.version != current and not was_champion(moves, target.version, alias):
            raise UsageError(
                f"{name} v{target.version} was never champion, so there is nothing to roll back"
                f" to; promote it instead: mlgate promote {name} {target.version} Production"
                " --reason TEXT"
            )
    return _move(
        registry, params, name, target, who, reason, "rollback", current, card_file, data_path
    )


def promote(
    registry: Registry,
    params: Params,
    name: str,
    ref: str,
    *,
    who: Who,
    reason: str,
    card_file: Path | None = None,
    data_path: str | None = None,
) -> Release:
    """A manual promotion to champion (and Production): an explicit override, recorded as such."""
    require_reason(reason)
    target = registry.resolve(name, ref)
    current = _champion(registry, name, params.promotion.champion_alias)
    return _move(
        registry, params, name, target, who, reason, "promote", current, card_file, data_path
    )


def _move(
    registry: Registry,
    params: Params,
    name: str,
    target: Version,
    who: Who,
    reason: str,
    kind: str,
    current: str | None,
    card_file: Path | None,
    data_path: str | None,
) -> Release:
    version = target.version
    model = None
    if current != version and not stored_evidence(registry, params, name, version, data_path):
        # A manual move skips the gate, not the check that the model can serve: a version whose
        # artifacts are missing or corrupt is refused (exit 3) before anything changes. The card
        # then scores the holdout with the model loaded here. A version whose gate stored its
        # predictions on this holdout has shown that already: its card reuses that evidence.
        trusted = trusted_types(params.model.trusted_types)
        model = load_model(registry, name, version, trusted).model
    promotion = make_champion(
        registry,
        name,
        version,
        cfg=params.promotion,
        who=who,
        reason=reason,
        kind=kind,
        expected_champion=current if kind == "rollback" else UNCHANGED,
        drop_aliases=_candidate_aliases(registry, name, version, params),
    )
    written, error = _card(registry, params, name, version, card_file, data_path, model)
    if current == version:
        action, message = "already_champion", f"v{version} is already champion"
    else:
        action = "rolled_back" if kind == "rollback" else "promoted"
        message = f"v{version} is champion (was {_champion_label(current)})"
    return Release(
        action=action,
        name=name,
        version=version,
        previous=current,
        promotion=promotion,
        card=written,
        card_error=error,
        message=message,
        previous_stage=target.current_stage,
    )


def _card(
    registry: Registry,
    params: Params,
    name: str,
    version: str,
    path: Path | None,
    data_path: str | None,
    model: Any = None,
) -> tuple[CardWrite | None, str | None]:
    """The card after a move; a failure is reported, not raised: the move itself is done."""
    if path is None:
        return None, None
    try:
        return publish_card(
            registry, params, name, version, path, data_path=data_path, model=model
        ), None
    except MlgateError as exc:
        return None, f"model card not written ({exc}); re-run the command to write it"


def _champion_label(version: str | None) -> str:
    return f"v{version}" if version else "no champion"
