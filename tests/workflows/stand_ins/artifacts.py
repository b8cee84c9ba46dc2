"""Artifact storage for the act tests, standing in for GitHub's (which cannot run here).

`upload` and `download` follow actions/upload-artifact v4+ and download-artifact v4+ where the
workflows depend on them: a file's place in the artifact is its path below the least common
ancestor of the search paths; `if-no-files-found: error` fails; a name is uploaded once per run;
`pattern` selects artifacts and finding none is not an error, a missing `name` is; `run-id`
(with a token) reads another run's artifacts; `merge-multiple` puts every file in `path` itself.
Storage: $MLGATE_TEST_ARTIFACTS/<run id>/<artifact name>/.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import shutil
import sys
from pathlib import Path


def fail(message: str) -> None:
    print(f"::error::{message}")
    sys.exit(1)


def store() -> Path:
    root = os.environ.get("MLGATE_TEST_ARTIFACTS")
    if not root:
        fail("MLGATE_TEST_ARTIFACTS is not set: the act tests pass it with --env.")
    return Path(root)


def upload() -> None:
    name = os.environ["INPUT_NAME"]
    lines = [s.strip() for s in os.environ["INPUT_PATH"].splitlines() if s.strip()]
    includes = [s for s in lines if not s.startswith("!")]
    excludes = [s[1:] for s in lines if s.startswith("!")]
    workspace = Path(os.environ["GITHUB_WORKSPACE"])
    files: set[Path] = set()
    for pattern in includes:
        for hit in glob.glob(str(workspace / pattern), recursive=True):
            path = Path(hit)
            found = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
            files.update(found)
    files = {
        f for f in files if not any(fnmatch.fnmatch(str(f), str(workspace / x)) for x in excludes)
    }
    if not files:
        message = (
            f"No files were found with the provided path: {' '.join(lines)}."
            " No artifacts will be uploaded."
        )
        if os.environ["INPUT_IF_NO_FILES_FOUND"] == "error":
            fail(message)
        print(message)
        return
    roots = [workspace / Path(p.split("*", 1)[0]) for p in includes]
    base = Path(os.path.commonpath([r if r.is_dir() else r.parent for r in roots]))
    target = store() / os.environ["GITHUB_RUN_ID"] / name
    if target.exists():
        if os.environ.get("INPUT_OVERWRITE") != "true":
            fail(f"An artifact named {name!r} already exists in this workflow run.")
        shutil.rmtree(target)
    for file in sorted(files):
        dest = target / file.relative_to(base)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, dest)
    print(f"Artifact {name} uploaded: {len(files)} file(s).")


def download() -> None:
    name, pattern = os.environ["INPUT_NAME"], os.environ["INPUT_PATTERN"]
    run_id = os.environ["INPUT_RUN_ID"] or os.environ["GITHUB_RUN_ID"]
    path = Path(os.environ["INPUT_PATH"] or os.environ["GITHUB_WORKSPACE"])
    run = store() / run_id
    names = sorted(p.name for p in run.iterdir()) if run.is_dir() else []
    if name:
        if name not in names:
            fail(f"Unable to download artifact(s): Artifact not found for name: {name}")
        chosen, single = [name], True
    else:
        chosen, single = [n for n in names if fnmatch.fnmatchcase(n, pattern or "*")], False
        if not chosen:
            print(f"No artifacts found matching pattern {pattern!r} in run {run_id}.")
            return
    merge = os.environ["INPUT_MERGE_MULTIPLE"] == "true"
    for artifact in chosen:
        dest = path if single or merge else path / artifact
        shutil.copytree(run / artifact, dest, dirs_exist_ok=True)
        print(f"Artifact {artifact} downloaded to {dest}.")


if __name__ == "__main__":
    {"upload": upload, "download": download}[sys.argv[1]]()
