#!/usr/bin/env bash
# The gate report, the PR number and the head commit, for the comment workflow's artifact. A gate
# that produced no report (a step before it failed, or it crashed) still gets one that says so.
set -euo pipefail
gate_exit="$1"
mkdir -p "$REPORT_DIR"
if [ ! -s "$REPORT_DIR/gate.md" ]; then
  rm -f "$REPORT_DIR/gate.json"
  run_url="$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"
  {
    echo "<!-- mlgate:gate-report -->" # the first line of every gate report
    echo "## mlgate gate: error"
    echo
    echo "No gate report was produced for ${HEAD_SHA:0:7} (gate exit code: $gate_exit)."
    echo "See the [workflow run]($run_url) for the failing step."
  } > "$REPORT_DIR/gate.md"
fi
printf '%s\n' "$PR_NUMBER" > "$REPORT_DIR/pr_number"
printf '%s\n' "$HEAD_SHA" > "$REPORT_DIR/head_sha"
