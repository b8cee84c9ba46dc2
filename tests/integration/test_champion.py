"""champion.make_champion on a real sqlite registry: conflicts, a lost race, a re-run after a
crash."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlgate.champion import Who, history, make_champion
from mlgate.config import PromotionConfig
from mlgate.errors import ConflictError
from mlgate.registry import Registry, connect

from ..helpers import Spec, aliases, client_for, populate, stages

MODEL = "m"
WHO = Who("ada", commit="c0ffee")


@pytest.fixture(scope="module")
def three_versions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("promote") / "registry.db"
    populate(f"sqlite:///{path}", MODEL, [Spec(), Spec(), Spec()])
    return path


@pytest.fixture
def uri(three_versions: Path, tmp_path: Path) -> str:
    shutil.copy(three_versions, tmp_path / "registry.db")
    return f"sqlite:///{tmp_path / 'registry.db'}"


def _promote(registry: Registry, version: str, **kw):
    kw.setdefault("cfg", PromotionConfig())
    return make_champion(registry, MODEL, version, who=WHO, reason="why", kind="release", **kw)


def _model_tags(uri: str) -> dict[str, str]:
    return dict(client_for(uri).get_registered_model(MODEL).tags)


def test_moves_alias_stage_and_history_once(uri: str) -> None:
    registry = connect(uri)
    first = _promote(registry, "1", expected_champion=None)
    second = _promote(registry, "2", expected_champion="1")
    assert (first.previous, second.previous, second.archived) == (None, "1", ["1"])
    assert aliases(uri, MODEL) == {"champion": "2"}
    assert stages(uri, MODEL) == {"1": "Archived", "2": "Production", "3": "None"}
    again = _promote(registry, "2", expected_champion="2")
    assert (again.changed, again.move) == (False, None)
    moves = history(registry, MODEL)
    assert [(m.from_version, m.to_version, m.commit) for m in moves] == [
        (None, "1", "c0ffee"),
        ("1", "2", "c0ffee"),
    ]


def test_a_stale_decision_is_refused_before_any_write(uri: str) -> None:
    registry = connect(uri)
    _promote(registry, "1")
    before = (aliases(uri, MODEL), stages(uri, MODEL), _model_tags(uri))
    with pytest.raises(ConflictError, match=r"@champion of m moved to v1 \(expected no champion\)"):
        _promote(registry, "2", expected_champion=None)
    assert (aliases(uri, MODEL), stages(uri, MODEL), _model_tags(uri)) == before


class _Racer(Registry):
    """Another process moves @champion to v3 (and Production) right after our alias write."""

    def set_alias(self, name: str, alias: str, version: str) -> None:
        super().set_alias(name, alias, version)
        if version != "3":
            super().set_alias(name, alias, "3")
            self.transition(name, "3", "Production", archive_existing=True)


def test_losing_a_race_leaves_the_winner_champion_and_production(uri: str) -> None:
    registry = connect(uri)
    _promote(registry, "1")
    racer = _Racer(registry.client, uri)
    with pytest.raises(ConflictError, match="moved to v3 by a concurrent promotion"):
        _promote(racer, "2", expected_champion="1")
    assert aliases(uri, MODEL) == {"champion": "3"}
    assert [v for v, s in stages(uri, MODEL).items() if s == "Production"] == ["3"]
    assert [m.to_version for m in history(registry, MODEL)] == ["1"]  # the loser recorded nothing


class _Overtaken(Registry):
    """Another promoter's whole move to v3 (alias, stage, history) lands between our re-read of
    the alias and our write of it."""

    def set_alias(self, name: str, alias: str, version: str) -> None:
        if version != "3":
            _promote(connect(self.uri), "3")
        super().set_alias(name, alias, version)


def test_a_move_that_overtakes_a_recorded_one_starts_where_it_ended(uri: str) -> None:
    registry = connect(uri)
    _promote(registry, "1")
    done = _promote(_Overtaken(registry.client, uri), "2", expected_champion="1")
    assert aliases(uri, MODEL) == {"champion": "2"}
    # The alias went 1 -> 3 -> 2 and the history says so: no made-up move back to v1.
    moves = [(m.from_version, m.to_version, m.kind) for m in history(registry, MODEL)]
    assert moves == [(None, "1", "release"), ("1", "3", "release"), ("3", "2", "release")]
    assert (done.move.from_version, done.move.to_version) == ("3", "2")


def test_rerun_after_a_crash_completes_the_move(uri: str) -> None:
    registry = connect(uri)
    _promote(registry, "1")
    registry.set_alias(MODEL, "champion", "2")  # the alias was written, then the process died
    done = _promote(registry, "2", expected_champion="1")
    assert done.archived == ["1"] and done.move is not None
    assert (done.move.from_version, done.move.to_version) == ("1", "2")
    assert "recorded on re-run" in done.move.reason
    assert stages(uri, MODEL)["2"] == "Production"
    assert _promote(registry, "2").changed is False


def test_without_stages_only_the_alias_moves(uri: str) -> None:
    registry = connect(uri)
    cfg = PromotionConfig(use_stages=False)
    _promote(registry, "1", cfg=cfg)
    _promote(registry, "2", cfg=cfg, drop_aliases=("challenger",))
    assert aliases(uri, MODEL) == {"champion": "2"}
    assert set(stages(uri, MODEL).values()) == {"None"}
