"""The `gh` CLI for workflow steps run by tests/workflows/runner.py, which puts it on PATH.

It answers only the API calls the workflows make, from the local GitHub state the runner keeps
(`gh-state.json`), and fails loudly on anything else, so a new `gh` call in a workflow needs a
deliberate answer here. Every call is logged (JSON lines) for the tests to inspect.

Usage (by the wrapper the runner writes): gh.py STATE_FILE ARGS...
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path


def _pull_head_sha(state: dict, args: list[str]) -> str | None:
    """`gh api repos/OWNER/REPO/pulls/N --jq .head.sha` (pr-comment.yml's freshness check)."""
    match = re.fullmatch(r"repos/([\w.-]+/[\w.-]+)/pulls/(\d+)", args[1])
    if match is None or match[1] != state["repository"]:
        return None
    pull = state["pulls"].get(match[2])
    return pull["head"]["sha"] if pull else None


def main(argv: list[str]) -> int:
    state_file, *args = argv
    state = json.loads(Path(state_file).read_text(encoding="utf-8"))
    with open(state["log"], "a", encoding="utf-8") as log:
        log.write(json.dumps(args) + "\n")
    if not (os.environ.get("GH_TOKEN") or os.environ.get("GITHUB_TOKEN")):
        print(
            "gh: To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN environment"
            " variable. Example:\n  env:\n    GH_TOKEN: ${{ github.token }}",
            file=sys.stderr,
        )
        return 4
    if len(args) == 4 and args[0] == "api" and args[2:] == ["--jq", ".head.sha"]:
        sha = _pull_head_sha(state, args)
        if sha is None:
            print("gh: Not Found (HTTP 404)", file=sys.stderr)
            return 1
        print(sha)
        return 0
    print(
        f"gh (local shim): no answer for `gh {' '.join(args)}`; add it to {__file__}",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
