"""registry.py and catalog.py against real registries (sqlite and a real `mlflow server`):
round trips that grow with N/100, exclusive Production, ranking rules, alias validation."""

from __future__ import annotations

import math
import tempfile

import pytest

from mlgate import catalog, registry
from mlgate.errors import NotFoundError, UsageError

from ..helpers import Spec, client_for, experiment_id, init_sqlite, populate, stages


class CountingClient:
    """A real MlflowClient that counts the calls made through it."""

    def __init__(self, uri: str) -> None:
        self._client = client_for(uri)
        self.calls: list[str] = []

    def __getattr__(self, name: str):
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def counted(*args, **kwargs):
            self.calls.append(name)
            return attr(*args, **kwargs)

        return counted


@pytest.fixture
def uri(registry_uri: str) -> str:
    return init_sqlite(registry_uri)


@pytest.fixture
def counted(uri: str) -> tuple[registry.Registry, CountingClient]:
    client = CountingClient(uri)
    return registry.Registry(client, uri), client


def test_listing_and_ranking_cost_n_over_chunk_calls(counted, model_name, uri, monkeypatch):
    # 12 versions in chunks of 5 run ids: 3 search_runs, whatever the metrics logged.
    monkeypatch.setattr(registry, "_RUN_CHUNK", 5)
    specs = [Spec({"accuracy": 0.5 + i / 100, "f1_macro": 0.5}) for i in range(12)]
    populate(uri, model_name, specs)
    reg, client = counted

    listing = catalog.version_rows(reg, model_name)
    assert [r.version for r in listing.rows] == [str(v) for v in range(12, 0, -1)]
    assert listing.rows[0].metrics == {"accuracy": 0.61, "f1_macro": 0.5}
    assert sorted(client.calls) == sorted(
        ["get_registered_model", "search_model_versions", "search_experiments"]
        + ["search_runs"] * 3
    )

    client.calls.clear()
    best = catalog.best(reg, model_name, "accuracy")
    assert (best.row.version, best.value, best.considered) == ("12", 0.61, 12)
    assert client.calls.count("search_runs") == 3 and len(client.calls) == 6


def test_reading_a_run_artifact_leaves_no_download_behind(uri, tmp_path, monkeypatch):
    client = client_for(uri)
    run_id = client.create_run(experiment_id(client)).info.run_id
    reg = registry.Registry(client, uri)
    reg.log_run_dict(run_id, {"verdict": "pass"}, "mlgate/gate.json")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(downloads))

    assert reg.load_run_dict(run_id, "mlgate/gate.json") == {"verdict": "pass"}
    assert reg.load_run_dict(run_id, "mlgate/missing.json") is None
    assert list(downloads.iterdir()) == []  # every champion move reads a few: none may pile up


def test_transition_exclusive_leaves_one_production(uri, model_name):
    specs = [Spec(stage="Production"), Spec(stage="Production"), Spec(stage="Staging")]
    populate(uri, model_name, specs)
    reg = registry.connect(uri)
    assert reg.transition_exclusive(model_name, "3", "Production") == ["1", "2"]
    assert stages(uri, model_name) == {"1": "Archived", "2": "Archived", "3": "Production"}
    assert reg.transition_exclusive(model_name, "3", "Production") == []
    assert reg.transition_exclusive(model_name, "1", "Staging") == []
    assert stages(uri, model_name)["1"] == "Staging"


def test_best_skips_missing_and_nan_and_breaks_ties_by_latest_run(uri, model_name):
    populate(
        uri,
        model_name,
        [
            Spec({"accuracy": 0.9, "loss": 0.3}),
            Spec({"accuracy": 0.9, "loss": math.nan}),  # ties v1 on accuracy; later run
            Spec({"loss": 0.1}),  # no accuracy
            Spec({"accuracy": math.nan, "loss": 0.2}),
        ],
    )
    reg = registry.connect(uri)
    assert catalog.best(reg, model_name, "accuracy").row.version == "2"
    assert catalog.best(reg, model_name, "accuracy", lower_is_better=True).row.version == "2"
    lowest = catalog.best(reg, model_name, "loss")
    assert (lowest.direction, lowest.row.version, lowest.value) == ("lower", "3", 0.1)
    with pytest.raises(
        NotFoundError, match=r"'acc' is not logged .* logged metrics: accuracy, loss"
    ):
        catalog.best(reg, model_name, "acc")


def test_model_summaries_filter_by_name_and_count_stages(uri, model_name):
    populate(uri, model_name, [Spec(stage="Production"), Spec(), Spec()])
    populate(uri, model_name + "_other", [Spec(stage="Archived")])
    reg = registry.connect(uri)
    found = catalog.model_summaries(reg, model_name + "%").models
    assert [(m.name, m.versions, m.stages) for m in found] == [
        (model_name, 3, {"None": 2, "Staging": 0, "Production": 1, "Archived": 0}),
        (model_name + "_other", 1, {"None": 0, "Staging": 0, "Production": 0, "Archived": 1}),
    ]


# --- pure rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "direction"),
    [
        ("accuracy", "higher"),
        ("f1_macro", "higher"),
        ("f1_Obesity_Type_I", "higher"),
        ("precision_macro", "higher"),
        ("roc_auc", "higher"),
        ("fit_seconds", "lower"),
        ("log_loss", "lower"),
        ("rmse", "lower"),
        ("predict_latency", "lower"),
        ("custom_score", None),
    ],
)
def test_metric_direction(metric, direction):
    assert catalog.metric_direction(metric) == direction


@pytest.mark.parametrize(
    ("text", "stage"), [("production", "Production"), (" STAGING ", "Staging"), ("none", "None")]
)
def test_parse_stage(text, stage):
    assert registry.parse_stage(text) == stage


@pytest.mark.parametrize(
    ("alias", "accepted"),
    [
        ("champion", "champion"),
        ("@pr-12", "pr-12"),
        ("a_b-9", "a_b-9"),
        ("V10", None),
        ("latest", None),
        ("LATEST", None),
        ("", None),
        ("pr 1", None),
        ("x" * 256, None),
        ("v1x", "v1x"),
    ],
)
def test_validate_alias(alias, accepted):
    if accepted is None:
        with pytest.raises(UsageError, match="alias"):
            registry.validate_alias(alias)
    else:
        assert registry.validate_alias(alias) == accepted
