"""A version planted with the PR credential never runs its code in any command that loads models.

Someone holding the credential a PR job uses can register versions and write their artifacts. They
register a copy of the champion whose MLmodel names its own `loader_module` and ships a `code:`
folder, tagged with the fingerprint main's tree will have after a harmless merge, and wait for the
release. The loader module writes a marker file when imported: that file must never appear.

`mlgate release` ignores the planted version (one line naming it and why), trains the merged
commit's own version in its process and releases it; `gate`, `card` and `promote` refuse it with
one line and load nothing of it. A version whose MLmodel trusts a type for itself is refused too,
and `promotion.build: release` promotes only versions the release job built. Every command runs
the installed `mlgate` script in a real clone against a real sqlite registry.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from mlgate.config import load_params
from mlgate.fingerprint import of_worktree

from ..conftest import FAST_MODEL
from .gitrepo import NULL_SHA, Clone, make_origin

pytestmark = pytest.mark.slow

MODEL = "obesity_classifier"


def _client(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _plant(uri: str, source_version: str, fingerprint: str, marker: Path, work: Path) -> str:
    """Register a copy of `source_version` that loads through code of its own; its version."""
    client = _client(uri)
    folder = work / "planted"
    stored = client.get_model_version_download_uri(MODEL, source_version)
    shutil.copytree(stored.removeprefix("file://"), folder)
    meta = yaml.safe_load((folder / "MLmodel").read_text())
    meta["flavors"]["python_function"]["loader_module"] = "planted_loader"
    meta["flavors"]["python_function"]["code"] = "code"
    (folder / "MLmodel").write_text(yaml.safe_dump(meta))
    (folder / "code").mkdir()
    (folder / "code" / "planted_loader.py").write_text(
        "import os, pathlib\n"
        f"pathlib.Path({str(marker)!r}).write_text(os.environ.get('MLFLOW_TRACKING_URI', ''))\n"
        "def _load_pyfunc(path):\n"
        "    raise RuntimeError('planted')\n"
    )
    experiment = client.get_experiment_by_name("planted") or client.get_experiment(
        client.create_experiment("planted", artifact_location=str(work / "planted-artifacts"))
    )
    run = client.create_run(experiment.experiment_id)
    client.log_artifacts(run.info.run_id, str(folder), "model")
    client.set_terminated(run.info.run_id)
    version = client.create_model_version(
        MODEL,
        f"runs:/{run.info.run_id}/model",
        run_id=run.info.run_id,
        tags={"mlgate.fingerprint": fingerprint, "mlgate.gate.verdict": "pass"},
    )
    return str(version.version)


def _run(clone: Clone, *args: str) -> tuple[int, str, str]:
    done = clone.mlgate(*args)
    return done.returncode, done.stdout, done.stderr


def test_a_planted_version_never_runs_and_a_harmless_merge_still_releases(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'registry.db'}"
    marker = tmp_path / "planted-code-ran"
    _, main = make_origin(tmp_path, uri, FAST_MODEL)
    code, out, err = _run(main, "release", "--before", NULL_SHA)
    assert code == 0, out + err

    # A harmless change on a branch; the attacker computes the fingerprint main will have after
    # its merge and plants a version with it before the merge happens.
    main.git("checkout", "-q", "-b", "harmless")
    main.set_model_params(**{**FAST_MODEL, "n_estimators": 31})
    main.commit_all("One more tree")
    params = load_params(main.path / "params.yaml")
    fingerprint = of_worktree(params, str(main.path / params.data.path), main.path).value
    planted = _plant(uri, "1", fingerprint, marker, tmp_path)
    assert planted == "2"

    # Every command a user or a workflow points at that version refuses it with one line.
    for args in (
        ("gate", "--challenger", planted),
        ("card", MODEL, "--version", planted),
        ("promote", MODEL, planted, "Production", "--reason", "looks fine"),
    ):
        code, out, err = _run(main, *args)
        assert not marker.exists(), args
        assert code != 0, (args, out, err)
        assert f"{MODEL} v{planted} is not trusted and was not loaded: its MLmodel names" in (
            out + err
        ), (args, out, err)
        assert "loader_module 'planted_loader' (only mlflow.sklearn is loaded)" in out + err
    assert str(_client(uri).get_registered_model(MODEL).aliases["champion"]) == "1"

    main.git("checkout", "-q", "main")
    main.git("merge", "-q", "--no-ff", "harmless", "-m", "Merge pull request #3 from harmless")
    code, out, err = _run(main, "release", "--policy-from", "HEAD^1")

    assert not marker.exists()
    assert code == 0, out + err
    assert err.splitlines()[0].startswith(
        f"warning: {MODEL} v{planted} is not trusted and was not loaded: its MLmodel names"
        " loader_module 'planted_loader'"
    )
    assert err.splitlines()[0].endswith("; ignored")
    assert "v3 is champion (was v1): promoted" in out
    assert f"promote {MODEL} {planted}" not in out + err  # never offered as the way out
    client = _client(uri)
    assert str(client.get_registered_model(MODEL).aliases["champion"]) == "3"
    built = client.get_model_version(MODEL, "3").tags
    assert built["mlgate.fingerprint"] == fingerprint and built["mlgate.built_by"] == "release"
    assert "mlgate.release.rejected" not in client.get_model_version(MODEL, planted).tags
    card = (main.path / "model_cards" / f"{MODEL}.md").read_text()
    assert "| Built by | the release job" in card

    # A later push re-runs nothing of it either.
    (main.path / "README.md").write_text("# obesity classifier\n\nNow with one more tree.\n")
    main.commit_all("Docs")
    code, out, err = _run(main, "release", "--policy-from", "HEAD^1")
    assert code == 0, out + err
    assert not marker.exists()


def test_types_a_version_trusts_itself_are_not_trusted(tmp_path: Path) -> None:
    """The MLmodel lists a type among its own `skops_trusted_types` (MLflow's loader would trust
    it): mlgate reads trusted types only from the policy, and refuses the version."""
    import operator

    import mlflow
    import mlflow.sklearn
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    uri = f"sqlite:///{tmp_path / 'registry.db'}"
    _, main = make_origin(tmp_path, uri, FAST_MODEL)
    X = np.random.default_rng(0).random((20, 2))
    pipeline = make_pipeline(FunctionTransformer(operator.neg), LogisticRegression())
    pipeline.fit(X, (X[:, 0] > 0.5).astype(int))
    import skops.io

    own = sorted(skops.io.get_untrusted_types(data=skops.io.dumps(pipeline)))
    assert own  # a function reference: outside skops' defaults and mlgate's reviewed list
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    # the experiment of this registry: a test before it in this process may have left another
    # registry's experiment active
    mlflow.set_experiment("planted")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            pipeline, name="model", serialization_format="skops", skops_trusted_types=own
        )
    mlflow.register_model(info.model_uri, MODEL)

    code, out, err = _run(main, "card", MODEL, "--version", "1")

    assert code == 3, out + err
    assert err.strip() == (
        f"mlgate: error: {MODEL} v1 is not trusted and was not loaded:"
        f" it holds type {', '.join(own)}, which the binding policy does not trust"
        " (model.trusted_types)"
    )


def test_build_release_promotes_only_what_the_release_job_built(tmp_path: Path) -> None:
    """`promotion.build: release`: a PR's verified version with the tree's fingerprint is not
    reused; the release trains its own, and the card says the release job built it."""
    uri = f"sqlite:///{tmp_path / 'registry.db'}"
    _, main = make_origin(tmp_path, uri, FAST_MODEL)
    raw = yaml.safe_load((main.path / "params.yaml").read_text())
    raw["promotion"]["build"] = "release"
    (main.path / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    main.commit_all("Build every release in the release job")
    code, out, err = _run(main, "release", "--before", NULL_SHA)
    assert code == 0, out + err

    main.git("checkout", "-q", "-b", "more-trees")
    main.set_model_params(**{**FAST_MODEL, "n_estimators": 31})
    main.commit_all("One more tree")
    code, out, err = _run(main, "train", "--pr-number", "4")  # the PR job's version: v2
    assert code == 0 and out.startswith(f"Registered {MODEL} v2"), out + err
    main.git("checkout", "-q", "main")
    main.git("merge", "-q", "--no-ff", "more-trees", "-m", "Merge pull request #4 from more-trees")
    code, out, err = _run(main, "release", "--policy-from", "HEAD^1")

    assert code == 0, out + err
    assert "v3 is champion (was v1): promoted" in out
    client = _client(uri)
    assert client.get_model_version(MODEL, "3").tags["mlgate.built_by"] == "release"
    assert "mlgate.built_by" not in client.get_model_version(MODEL, "2").tags
    card = (main.path / "model_cards" / f"{MODEL}.md").read_text()
    assert "| Built by | the release job (`mlgate release`" in card
