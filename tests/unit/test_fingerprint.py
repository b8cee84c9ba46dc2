import shutil
import subprocess
from pathlib import Path

from mlgate import fingerprint
from mlgate.config import load_params

REPO = Path(__file__).resolve().parents[2]


def _git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def _project(tmp_path) -> Path:
    root = tmp_path / "repo"
    (root / "src" / "mlgate").mkdir(parents=True)
    shutil.copy(REPO / "params.yaml", root)
    shutil.copytree(REPO / "data", root / "data")
    for path in fingerprint.TRAINING_CODE:
        shutil.copy(REPO / path, root / path)
    return root


def test_same_inputs_same_fingerprint_and_each_input_counts(tmp_path):
    root = _project(tmp_path)
    params = load_params(root / "params.yaml")
    base = fingerprint.of_worktree(params, root / params.data.path, root)
    assert fingerprint.of_worktree(params, root / params.data.path, root).value == base.value

    text = (root / "params.yaml").read_text()
    (root / "params.yaml").write_text(text.replace("margin: 0.03", "margin: 0.05"))
    gate_only = load_params(root / "params.yaml")
    assert gate_only.gate.margin == 0.05
    assert fingerprint.of_worktree(gate_only, root / params.data.path, root).value == base.value

    (root / "params.yaml").write_text(text.replace("n_estimators: 100", "n_estimators: 50"))
    changed = load_params(root / "params.yaml")
    assert fingerprint.of_worktree(changed, root / params.data.path, root).value != base.value

    (root / "params.yaml").write_text(text)
    with open(root / "src/mlgate/train.py", "a") as fh:
        fh.write("\n# a code change\n")
    assert fingerprint.of_worktree(params, root / params.data.path, root).value != base.value


def test_revision_fingerprint_equals_worktree(tmp_path):
    root = _project(tmp_path)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "init")
    params = load_params(root / "params.yaml")
    worktree = fingerprint.of_worktree(params, root / params.data.path, root)
    assert fingerprint.of_revision("HEAD", root=root).value == worktree.value
    (root / "data" / "obesity.csv").write_text((root / "data" / "obesity.csv").read_text()[:-200])
    _git(root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qam", "less data")
    assert fingerprint.of_revision("HEAD", root=root).value != worktree.value
    assert fingerprint.of_revision("HEAD~1", root=root).value == worktree.value
