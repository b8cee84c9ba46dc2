"""The registry commands (list, versions, promote, alias, compare, best) through the CLI.

Every test runs twice: on an embedded sqlite registry and on the session's real `mlflow server`
over HTTP. Outputs are asserted exactly; models get a fixed-length name unique to the test so the
tables' widths are the same on both backends.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlgate.cli import main

from ..conftest import REPO, MlflowServer, free_port
from ..helpers import Spec, aliases, init_sqlite, populate, stages

PLACEHOLDER = "clf_XXXXXXXX"  # expected outputs name the model this; the test's name replaces it


def _specs() -> list[Spec]:
    """v1 Archived, v2 Production @champion, v3 Staging @challenger @pr-7 (the only one with
    custom_score)."""
    return [
        Spec(
            {"accuracy": 0.91, "f1_macro": 0.905, "fit_seconds": 1.2},
            {"model.n_estimators": 50, "model.max_depth": 10},
            "Archived",
        ),
        Spec(
            {"accuracy": 0.94, "f1_macro": 0.938, "fit_seconds": 2.0},
            {"model.n_estimators": 100, "model.max_depth": 10},
            "Production",
            ("champion",),
        ),
        Spec(
            {"accuracy": 0.95, "f1_macro": 0.947, "fit_seconds": 2.9, "custom_score": 12.5},
            {"model.n_estimators": 200, "model.max_depth": 10},
            "Staging",
            ("challenger", "pr-7"),
        ),
    ]


@pytest.fixture
def name(model_name: str) -> str:
    return "clf_" + hashlib.sha1(model_name.encode()).hexdigest()[:8]


@pytest.fixture
def model(registry_uri: str, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The three-version model on the parametrized registry; cwd without a params.yaml."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry_uri)
    init_sqlite(registry_uri)
    populate(registry_uri, name, _specs(), description="Obesity level classifier")
    return name


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def ok(name: str, *args: str) -> str:
    code, out, err = cli(*args)
    assert (code, err) == (0, ""), err
    return out.replace(name, PLACEHOLDER)


def fails(name: str, *args: str) -> tuple[int, str]:
    code, out, err = cli(*args)
    assert out == ""
    assert "Traceback" not in err
    return code, err.replace(name, PLACEHOLDER)


def dedent(text: str) -> str:
    return "\n".join(line.strip() for line in text.strip().splitlines()) + "\n"


# --- list -----------------------------------------------------------------------------------------


def test_list(model: str, registry_uri: str) -> None:
    populate(registry_uri, model + "_b", [Spec({"accuracy": 0.8})])
    assert ok(model, "list", "--name", f"{model}%") == dedent("""
        +----------------+--------------------------+------------+--------+-----------+--------------+------------+
        | Name           | Description              |   Versions |   None |   Staging |   Production |   Archived |
        +================+==========================+============+========+===========+==============+============+
        | clf_XXXXXXXX   | Obesity level classifier |          3 |      0 |         1 |            1 |          1 |
        +----------------+--------------------------+------------+--------+-----------+--------------+------------+
        | clf_XXXXXXXX_b |                          |          1 |      1 |         0 |            0 |          0 |
        +----------------+--------------------------+------------+--------+-----------+--------------+------------+
    """)  # noqa: E501 (the table as printed)
    payload = json.loads(ok(model, "list", "--name", f"{model}%", "--json"))
    assert payload["models"][0] == {
        "name": PLACEHOLDER,
        "description": "Obesity level classifier",
        "versions": 3,
        "stages": {"None": 0, "Staging": 1, "Production": 1, "Archived": 1},
        "aliases": {"challenger": "3", "champion": "2", "pr-7": "3"},
    }
    assert (
        ok(model, "list", "--name", "no_such_model%")
        == f"No registered models at {registry_uri}.\n"
    )


# --- versions -------------------------------------------------------------------------------------


def test_versions(model: str) -> None:
    assert ok(model, "versions", model) == dedent("""
        +-----------+------------+------------+--------+--------------------+
        |   Version | Stage      |   Accuracy |     F1 | Aliases            |
        +===========+============+============+========+====================+
        |         3 | Staging    |     0.9500 | 0.9470 | @challenger, @pr-7 |
        +-----------+------------+------------+--------+--------------------+
        |         2 | Production |     0.9400 | 0.9380 | @champion          |
        +-----------+------------+------------+--------+--------------------+
        |         1 | Archived   |     0.9100 | 0.9050 |                    |
        +-----------+------------+------------+--------+--------------------+
    """)


def test_versions_filters_and_extra_metrics(model: str) -> None:
    out = ok(
        model,
        "versions",
        model,
        "--metric",
        "custom_score",
        "--metric",
        "fit_seconds",
        "--limit",
        "2",
    )
    assert out == dedent("""
        +-----------+------------+------------+--------+----------------+---------------+--------------------+
        |   Version | Stage      |   Accuracy |     F1 |   custom_score |   fit_seconds | Aliases            |
        +===========+============+============+========+================+===============+====================+
        |         3 | Staging    |     0.9500 | 0.9470 |        12.5000 |        2.9000 | @challenger, @pr-7 |
        +-----------+------------+------------+--------+----------------+---------------+--------------------+
        |         2 | Production |     0.9400 | 0.9380 |              - |        2.0000 | @champion          |
        +-----------+------------+------------+--------+----------------+---------------+--------------------+
    """)  # noqa: E501 (the table as printed)
    assert ok(model, "versions", model, "--stage", "ARCHIVED") == dedent("""
        +-----------+----------+------------+--------+-----------+
        |   Version | Stage    |   Accuracy |     F1 | Aliases   |
        +===========+==========+============+========+===========+
        |         1 | Archived |     0.9100 | 0.9050 |           |
        +-----------+----------+------------+--------+-----------+
    """)
    assert ok(model, "versions", model, "--stage", "none") == (
        f"{PLACEHOLDER} has no versions in stage None (3 in other stages).\n"
    )


def test_versions_json(model: str) -> None:
    payload = json.loads(ok(model, "versions", model, "--limit", "1", "--json"))
    (row,) = payload.pop("versions")
    assert payload == {"model": PLACEHOLDER, "total": 3, "stage": None}
    assert set(row) == {"version", "stage", "status", "run_id", "created", "aliases", "metrics"}
    assert (row["version"], row["stage"], row["status"]) == ("3", "Staging", "READY")
    assert row["aliases"] == ["challenger", "pr-7"]
    assert row["metrics"] == {
        "accuracy": 0.95,
        "custom_score": 12.5,
        "f1_macro": 0.947,
        "fit_seconds": 2.9,
    }
    assert len(row["run_id"]) == 32 and row["created"].endswith("Z")


# --- promote --------------------------------------------------------------------------------------


def test_promote_to_production_archives_every_other_production_version(
    model: str, registry_uri: str
) -> None:
    populate(registry_uri, model, [Spec({"accuracy": 0.9}, stage="Production")])  # v4: 2 in Prod
    code, out, err = cli(
        "promote", model, "3", "production", "--actor", "tester", "--reason", "better accuracy"
    )
    assert code == 0
    assert out.replace(model, PLACEHOLDER) == dedent("""
        Promoted clf_XXXXXXXX v3 to Production; archived v2, v4.
        +-----------+------------+------------+
        |   Version | Before     | After      |
        +===========+============+============+
        |         3 | Staging    | Production |
        +-----------+------------+------------+
        |         2 | Production | Archived   |
        +-----------+------------+------------+
        |         4 | Production | Archived   |
        +-----------+------------+------------+
        removed aliases: @challenger, @pr-7
        recorded: promote by tester: better accuracy
    """).replace("\nremoved", "\n  removed").replace("\nrecorded", "\n  recorded")
    # These versions have no MLmodel to describe: the card is skipped, the promotion stands.
    assert err.startswith("warning: model card not written")
    assert stages(registry_uri, model) == {
        "1": "Archived",
        "2": "Archived",
        "3": "Production",
        "4": "Archived",
    }
    assert aliases(registry_uri, model) == {"champion": "3"}


def test_promote_by_alias_to_staging_and_json(model: str, registry_uri: str) -> None:
    payload = json.loads(ok(model, "promote", model, "@pr-7", "Archived", "--json"))
    assert payload == {
        "model": PLACEHOLDER,
        "version": "3",
        "stage": "Archived",
        "previous_stage": "Staging",
        "archived": [],
        "alias": None,
        "previous_holder": None,
    }
    assert stages(registry_uri, model) == {"1": "Archived", "2": "Production", "3": "Archived"}
    assert ok(model, "promote", model, "3", "staging") == dedent("""
        Promoted clf_XXXXXXXX v3 to Staging.
        +-----------+----------+---------+
        |   Version | Before   | After   |
        +===========+==========+=========+
        |         3 | Archived | Staging |
        +-----------+----------+---------+
    """)
    assert ok(model, "promote", model, "1", "none") == dedent("""
        Promoted clf_XXXXXXXX v1 to None.
        +-----------+----------+---------+
        |   Version | Before   | After   |
        +===========+==========+=========+
        |         1 | Archived | None    |
        +-----------+----------+---------+
    """)
    # A stage names its newest version: "Staging" is v3.
    code, out, _ = cli("promote", model, "staging", "Production", "--actor", "tester")
    assert code == 0
    assert out.startswith(f"Promoted {model} v3 to Production; archived v2.\n")
    assert stages(registry_uri, model) == {"1": "None", "2": "Archived", "3": "Production"}


def test_promote_without_stages_moves_the_champion_alias(model: str, registry_uri: str) -> None:
    Path("params.yaml").write_text("promotion:\n  use_stages: false\n")
    code, out, _ = cli("promote", model, "3", "Production", "--actor", "tester", "--reason", "why")
    assert code == 0
    assert out.replace(model, PLACEHOLDER) == (
        "Moved @champion of clf_XXXXXXXX to v3 (was v2).\n"
        "  removed aliases: @challenger, @pr-7\n"
        "  recorded: promote by tester: why\n"
    )
    assert aliases(registry_uri, model) == {"champion": "3"}
    assert stages(registry_uri, model) == {"1": "Archived", "2": "Production", "3": "Staging"}
    code, err = fails(model, "promote", model, "3", "Archived")
    assert code == 2
    assert err == (
        "mlgate: error: promotion.use_stages is false: stage Archived is not used; promote to"
        " Production (moves @champion) or set an alias with 'mlgate alias'\n"
    )


# --- alias ----------------------------------------------------------------------------------------


def test_alias_set_move_and_delete(model: str, registry_uri: str) -> None:
    assert (
        ok(model, "alias", model, "pr-9", "1") == "Set @pr-9 of clf_XXXXXXXX to v1 (was unset).\n"
    )
    assert ok(model, "alias", model, "challenger", "@champion") == (
        "Set @challenger of clf_XXXXXXXX to v2 (was v3).\n"
    )
    assert ok(model, "alias", model, "@challenger", "2") == (
        "@challenger of clf_XXXXXXXX already points to v2; nothing changed.\n"
    )
    assert json.loads(ok(model, "alias", model, "pr-7", "--delete", "--json")) == {
        "model": PLACEHOLDER,
        "alias": "pr-7",
        "version": None,
        "previous": "3",
        "action": "deleted",
    }
    assert aliases(registry_uri, model) == {"champion": "2", "challenger": "2", "pr-9": "1"}


def test_alias_champion_is_the_recorded_promotion(model: str, registry_uri: str) -> None:
    """The guide's `alias M champion V`: the same move as `promote M V Production`."""
    code, out, err = cli("alias", model, "champion", "3", "--actor", "tester")
    assert code == 0
    assert out.replace(model, PLACEHOLDER) == dedent("""
        @champion is the champion alias: moving it as 'mlgate promote clf_XXXXXXXX 3 Production'
        Promoted clf_XXXXXXXX v3 to Production; archived v2.
        +-----------+------------+------------+
        |   Version | Before     | After      |
        +===========+============+============+
        |         3 | Staging    | Production |
        +-----------+------------+------------+
        |         2 | Production | Archived   |
        +-----------+------------+------------+
        removed aliases: @challenger, @pr-7
        recorded: promote by tester: alias command
    """).replace("\nremoved", "\n  removed").replace("\nrecorded", "\n  recorded").replace(
        "Production'\n", "Production' does (stage, alias history, model card).\n"
    )
    assert err.startswith("warning: model card not written")  # these versions have no MLmodel
    assert aliases(registry_uri, model) == {"champion": "3"}
    assert stages(registry_uri, model) == {"1": "Archived", "2": "Archived", "3": "Production"}
    code, out, _ = cli("alias", model, "@champion", "2", "--reason", "v3 drifted", "--json")
    assert code == 0
    assert json.loads(out)["version"] == "2"
    moves = json.loads(ok(model, "history", model, "--json"))["moves"]
    # (The seeded champion, set outside mlgate, is recorded first as an external move.)
    assert [(m["to_version"], m["kind"], m["reason"]) for m in moves[1:]] == [
        ("3", "promote", "alias command"),
        ("2", "promote", "v3 drifted"),
    ]
    # --reason belongs to the champion's history: another alias has none.
    code, err = fails(model, "alias", model, "challenger", "1", "--reason", "why")
    assert (code, err) == (
        2,
        "mlgate: error: --reason applies only when setting @champion: other aliases keep no"
        " history\n",
    )


def test_alias_delete_if_exists(model: str) -> None:
    code, err = fails(model, "alias", model, "pr-3", "--delete")
    assert code == 2
    assert err == (
        "mlgate: error: clf_XXXXXXXX has no alias @pr-3 (aliases: @challenger, @champion, @pr-7);"
        " pass --if-exists to accept that\n"
    )
    assert ok(model, "alias", model, "pr-3", "--delete", "--if-exists") == (
        "clf_XXXXXXXX has no alias @pr-3; nothing to delete.\n"
    )
    # The PR-closed workflow runs before anything may have been registered.
    assert ok(model, "alias", model + "_none", "pr-3", "--delete", "--if-exists") == (
        "clf_XXXXXXXX_none has no alias @pr-3; nothing to delete.\n"
    )


# --- compare --------------------------------------------------------------------------------------


def test_compare(model: str) -> None:
    assert ok(model, "compare", model, "1", "@challenger") == dedent("""
        clf_XXXXXXXX: v1 vs v3 (Difference = v3 − v1; → v3 better, ← v1 better)
        +-------------+--------+--------+--------------+
        | Metric      |     v1 |     v3 | Difference   |
        +=============+========+========+==============+
        | accuracy    | 0.9100 | 0.9500 | +0.0400 →    |
        +-------------+--------+--------+--------------+
        | f1_macro    | 0.9050 | 0.9470 | +0.0420 →    |
        +-------------+--------+--------+--------------+
        | fit_seconds | 1.2000 | 2.9000 | +1.7000 ←    |
        +-------------+--------+--------+--------------+
        Only v3 logged: custom_score
        Params that differ:
        +--------------------+------+------+
        | Param              | v1   | v3   |
        +====================+======+======+
        | model.n_estimators | 50   | 200  |
        +--------------------+------+------+
    """)


def test_compare_equal_metrics_and_json(model: str, registry_uri: str) -> None:
    v2 = _specs()[1]
    populate(registry_uri, model, [Spec(v2.metrics, v2.params)])  # v4: v2's run again, no stage
    assert ok(model, "compare", model, "Production", "4") == dedent("""
        clf_XXXXXXXX: v2 vs v4 (Difference = v4 − v2; → v4 better, ← v2 better)
        +-------------+--------+--------+--------------+
        | Metric      |     v2 |     v4 | Difference   |
        +=============+========+========+==============+
        | accuracy    | 0.9400 | 0.9400 | =            |
        +-------------+--------+--------+--------------+
        | f1_macro    | 0.9380 | 0.9380 | =            |
        +-------------+--------+--------+--------------+
        | fit_seconds | 2.0000 | 2.0000 | =            |
        +-------------+--------+--------+--------------+
        Params: identical.
    """)
    payload = json.loads(ok(model, "compare", model, "2", "3", "--json"))
    assert payload["metrics"][0] == {
        "name": "accuracy",
        "a": 0.94,
        "b": 0.95,
        "difference": pytest.approx(0.01),
        "direction": "higher",
        "better": "3",
    }
    assert payload["params"] == [{"name": "model.n_estimators", "a": "100", "b": "200"}]
    assert (payload["a"]["version"], payload["b"]["version"]) == ("2", "3")
    assert (payload["only_a"], payload["only_b"]) == ([], ["custom_score"])


# --- best -----------------------------------------------------------------------------------------


def test_best(model: str) -> None:
    assert ok(model, "best", model, "--metric", "accuracy") == dedent("""
        Best clf_XXXXXXXX version by accuracy (higher is better): v3 (0.9500)
        +-----------+---------+------------+--------------------+
        |   Version | Stage   |   accuracy | Aliases            |
        +===========+=========+============+====================+
        |         3 | Staging |     0.9500 | @challenger, @pr-7 |
        +-----------+---------+------------+--------------------+
        Out of 3 versions.
    """)
    assert ok(model, "best", model, "--metric", "fit_seconds", "--stage", "archived") == dedent("""
        Best clf_XXXXXXXX version by fit_seconds (lower is better): v1 (1.2000)
        +-----------+----------+---------------+-----------+
        |   Version | Stage    |   fit_seconds | Aliases   |
        +===========+==========+===============+===========+
        |         1 | Archived |        1.2000 |           |
        +-----------+----------+---------------+-----------+
        Out of 1 version in stage Archived.
    """)


def test_best_direction_flags_and_json(model: str, registry_uri: str) -> None:
    populate(registry_uri, model, [Spec({"custom_score": 3.0})])  # v4
    high = json.loads(ok(model, "best", model, "--metric", "custom_score", "--json"))
    assert (high["direction"], high["value"], high["version"]["version"]) == ("higher", 12.5, "3")
    assert set(high) == {"model", "metric", "direction", "value", "version", "considered", "stage"}
    low = json.loads(
        ok(model, "best", model, "--metric", "custom_score", "--lower-is-better", "--json")
    )
    assert (low["direction"], low["value"], low["version"]["version"]) == ("lower", 3.0, "4")
    flipped = json.loads(
        ok(model, "best", model, "--metric", "accuracy", "--lower-is-better", "--json")
    )
    assert flipped["version"]["version"] == "1"


# --- errors: exit 2, one line, nothing changed ----------------------------------------------------

CHAMPION_DELETED = (
    "@champion of clf_XXXXXXXX moves only with a recorded reason and is never deleted: use"
    " 'mlgate alias clf_XXXXXXXX champion VERSION --reason ...' or 'mlgate rollback clf_XXXXXXXX"
    " --reason ...'"
)
CHAMPION_STAYS = (
    "clf_XXXXXXXX v2 holds @champion: it can't move to Archived; promote another version to"
    " Production ('mlgate promote clf_XXXXXXXX VERSION Production --reason ...') or roll back"
    " first ('mlgate rollback clf_XXXXXXXX --reason ...')"
)

ERRORS = {
    "unknown-version": (
        ["promote", "{m}", "7", "Production"],
        "clf_XXXXXXXX has no version 7; see 'mlgate versions clf_XXXXXXXX'",
    ),
    "unknown-alias": (
        ["compare", "{m}", "@nope", "1"],
        "clf_XXXXXXXX has no alias @nope (aliases: @challenger, @champion, @pr-7)",
    ),
    "bad-version": (
        ["alias", "{m}", "challenger", "latest-one"],
        "version 'latest-one' is not a number, an @alias or a stage"
        " (None/Staging/Production/Archived)",
    ),
    "unknown-metric": (
        ["versions", "{m}", "--metric", "f1"],
        "metric 'f1' is not logged by any version of clf_XXXXXXXX;"
        " logged metrics: accuracy, f1_macro, custom_score, fit_seconds",
    ),
    "unknown-metric-best": (
        ["best", "{m}", "--metric", "acuracy"],
        "metric 'acuracy' is not logged by any version of clf_XXXXXXXX (did you mean accuracy?);"
        " logged metrics: accuracy, f1_macro, custom_score, fit_seconds",
    ),
    "invalid-stage": (
        ["promote", "{m}", "1", "prod"],
        "stage 'prod' is not one of None, Staging, Production, Archived (did you mean Production?)",
    ),
    "empty-stage": (
        ["best", "{m}", "--stage", "Production", "--metric", "custom_score"],
        "metric 'custom_score' is not logged by any version of clf_XXXXXXXX;"
        " logged metrics: accuracy, f1_macro, fit_seconds",
    ),
    "reserved-alias": (
        ["alias", "{m}", "v2", "1"],
        "alias 'v2' is reserved by MLflow (@latest and @v<N> name versions);"
        " pick another name, e.g. candidate or pr-12",
    ),
    "latest-alias": (
        ["alias", "{m}", "Latest", "1"],
        "alias 'Latest' is reserved by MLflow (@latest and @v<N> name versions);"
        " pick another name, e.g. candidate or pr-12",
    ),
    "invalid-alias": (
        ["alias", "{m}", "pr 7", "1"],
        "alias 'pr 7' is not valid: use 1-255 letters, digits, '_' or '-' (e.g. pr-12)",
    ),
    "alias-needs-version": (
        ["alias", "{m}", "champion"],
        "give either a VERSION to point the alias at or --delete, not both or neither",
    ),
    # The champion moves only through a recorded move (history, stage, card), never away.
    "alias-deletes-champion": (
        ["alias", "{m}", "champion", "--delete"],
        CHAMPION_DELETED,
    ),
    "alias-deletes-champion-if-exists": (
        ["alias", "{m}", "champion", "--delete", "--if-exists"],
        CHAMPION_DELETED,
    ),
    "champion-out-of-production": (
        ["promote", "{m}", "@champion", "Archived"],
        CHAMPION_STAYS,
    ),
    "champion-to-staging": (
        ["promote", "{m}", "2", "staging"],
        CHAMPION_STAYS.replace("Archived", "Staging"),
    ),
    "pr-number-negative": (
        ["train", "--pr-number", "-3"],
        "Invalid value for '--pr-number' / '--pr_number': '-3' is not a pull request number;"
        " pass a positive integer such as 12 (see 'main train --help')",
    ),
    "pr-number-not-a-number": (
        ["gate", "--pr-number", "abc"],
        "Invalid value for '--pr-number' / '--pr_number': 'abc' is not a pull request number;"
        " pass a positive integer such as 12 (see 'main gate --help')",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_exit_2_with_one_line_and_change_nothing(
    model: str, registry_uri: str, case: str
) -> None:
    args, message = ERRORS[case]
    before = (stages(registry_uri, model), aliases(registry_uri, model), history(model))
    code, err = fails(model, *(a.format(m=model) for a in args))
    assert (code, err) == (2, f"mlgate: error: {message}\n")
    assert (stages(registry_uri, model), aliases(registry_uri, model), history(model)) == before


def history(model: str) -> str:
    return ok(model, "history", model, "--json")


def test_unknown_model_suggests_close_names(model: str, registry_uri: str) -> None:
    code, err = fails(model, "versions", model + "x")
    # The shared HTTP server holds other tests' models: ours is the closest, others may follow.
    expected = "mlgate: error: model 'clf_XXXXXXXXx' is not registered (did you mean clf_XXXXXXXX"
    assert code == 2
    if registry_uri.startswith("sqlite"):
        assert err == expected + "?)\n"
    else:
        assert err.startswith(expected)


def test_verbose_shows_the_traceback(model: str) -> None:
    code, _, err = cli("--verbose", "versions", model + "x")
    assert code == 2
    assert err.startswith("Traceback (most recent call last):\n")
    assert err.splitlines()[-1].startswith(f"mlgate: error: model '{model}x' is not registered")


# --- infrastructure: exit 3 naming the URI --------------------------------------------------------


def test_unreachable_server_exits_3(name: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    uri = f"http://127.0.0.1:{free_port()}"
    for args in (["list"], ["versions", name], ["promote", name, "1", "Production"]):
        code, err = fails(name, *args, "--tracking-uri", uri)
        assert (code, err) == (
            3,
            f"mlgate: error: tracking server {uri} is unreachable (ConnectionError);"
            " start it or fix --tracking-uri, MLFLOW_TRACKING_URI"
            " or params.yaml mlflow.tracking_uri\n",
        )


class _Refusing(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(401)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_refusing_server_exits_3(name: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    server = http.server.HTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    uri = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        code, err = fails(name, "best", name, "--tracking-uri", uri)
    finally:
        server.shutdown()
    assert (code, err) == (
        3,
        f"mlgate: error: tracking server {uri} refused the request (HTTP 401);"
        " set MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD\n",
    )


# --- the seed's entry point -----------------------------------------------------------------------


def test_manage_registry_script_is_the_cli(model: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "manage_registry.py"),
            "versions",
            model,
            "--limit",
            "1",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.replace(model, PLACEHOLDER) == ok(model, "versions", model, "--limit", "1")


def test_guide_alias_command_moves_the_champion(model: str, registry_uri: str) -> None:
    """The original guide's `python scripts/manage_registry.py alias M champion V` works."""
    script = str(REPO / "scripts" / "manage_registry.py")
    result = subprocess.run(
        [sys.executable, script, "alias", model, "champion", "3", "--actor", "tester"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"Promoted {model} v3 to Production; archived v2." in result.stdout
    assert "recorded: promote by tester: alias command" in result.stdout
    assert aliases(registry_uri, model) == {"champion": "3"}


def test_read_only_commands_read_a_server_without_mlflow(model: str, registry_uri: str) -> None:
    """`list`, `versions`, `history`, `compare` and `best` against a tracking server use the
    standard library's HTTP client (rest.py): importing mlflow was most of their start-up. The
    tables they print are the ones asserted above, on both backends."""
    if not registry_uri.startswith("http"):
        pytest.skip("sqlite is read through mlflow's store")
    commands = [
        ["list"],
        ["versions", model],
        ["history", model],
        ["compare", model, "1", "3"],
        ["best", model],
    ]
    code = (
        "import sys; from mlgate.cli import main\n"
        f"for args in {commands!r}:\n"
        "    main(args, standalone_mode=False)\n"
        "print('IMPORTED', sorted(m for m in ('mlflow', 'requests') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "IMPORTED []"
    assert f"Best {model} version by accuracy" in done.stdout


def test_read_only_commands_send_the_tracking_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The REST client reads MLFLOW_TRACKING_USERNAME/PASSWORD as MlflowClient does: on a server
    running MLflow's basic-auth app (docs/deployment.md), the right password lists, a wrong one
    is exit 3 naming the variables."""
    from ..helpers import client_for

    server = MlflowServer(tmp_path / "auth-server", auth="admin-password-for-tests")
    (tmp_path / "auth-server").mkdir()
    try:
        server.start(timeout=300)
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", server.uri)
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "admin-password-for-tests")
        client_for(server.uri).create_registered_model("authed", description="behind basic auth")
        code, out, err = cli("list")
        assert (code, err) == (0, ""), err
        assert "| authed " in out and "behind basic auth" in out
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "wrong")
        code, out, err = cli("versions", "authed")
        assert code == 3, out + err
        assert "MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD" in err
    finally:
        server.stop()
