"""The real UCI dataset (kept in ../shared, never in this repository)."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from mlgate.cli import main

UCI = Path(__file__).resolve().parents[3] / "shared" / "data" / "uci_obesity.csv"


@pytest.mark.slow
@pytest.mark.skipif(not UCI.exists(), reason="../shared/data/uci_obesity.csv is absent")
def test_default_random_forest_reaches_090_on_uci(project):
    result = CliRunner().invoke(main, ["train", "--data", str(UCI), "--json"])
    assert result.exit_code == 0, result.output
    import json

    payload = json.loads(result.output)
    assert payload["metrics"]["accuracy"] >= 0.90
    assert payload["version"] == "1"
