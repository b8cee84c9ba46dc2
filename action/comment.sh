#!/usr/bin/env bash
# Check the gate report a `pr` run left, and compose the comment. The artifact was written by the
# pull request's job, so every field is validated before use and the body is plain markdown; the
# verdict line comes from GitHub (the head commit's `gate` check run), not from the artifact.
set -euo pipefail
if [ "$RUN_EVENT" != pull_request ] || [ "$RUN_PATH" != .github/workflows/pr.yml ]; then
  echo "::error::the triggering run is not .github/workflows/pr.yml for a pull request ($RUN_PATH, $RUN_EVENT): nothing posted."
  exit 1
fi
if [ ! -f "$REPORT_DIR/gate.md" ]; then
  echo "The run has no gate report (PR closed, or no training input changed)."
  echo "post=false" >> "$GITHUB_OUTPUT"
  exit 0
fi
number="$(cat "$REPORT_DIR/pr_number")"
sha="$(cat "$REPORT_DIR/head_sha")"
if ! [[ "$number" =~ ^[1-9][0-9]{0,9}$ ]]; then
  echo "::error::pr_number in the artifact is not a pull request number."
  exit 1
fi
if [ "$sha" != "$RUN_HEAD_SHA" ]; then
  echo "::error::head_sha in the artifact does not match the run's head commit."
  exit 1
fi
current="$(curl -fsS --retry 3 -H "Authorization: Bearer $GH_TOKEN" \
  -H "Accept: application/vnd.github+json" \
  "$GITHUB_API_URL/repos/$GITHUB_REPOSITORY/pulls/$number" | jq -r .head.sha)"
if [ "$current" != "$RUN_HEAD_SHA" ]; then
  echo "::notice::PR #$number is at ${current:0:7}, this report is for ${RUN_HEAD_SHA:0:7}: not posted."
  echo "post=false" >> "$GITHUB_OUTPUT"
  exit 0
fi
conclusion="$(curl -fsS --retry 3 -H "Authorization: Bearer $GH_TOKEN" \
  -H "Accept: application/vnd.github+json" \
  "$GITHUB_API_URL/repos/$GITHUB_REPOSITORY/commits/$RUN_HEAD_SHA/check-runs?check_name=gate&filter=latest" \
  | jq -r '[.check_runs[] | select(.name == "gate")] | max_by(.id) | .conclusion // "none"')"
case "$conclusion" in
  success) verdict="✅ the \`gate\` check passed" ;;
  failure) verdict="❌ the \`gate\` check failed" ;;
  none) verdict="⚠️ no \`gate\` check run found on this commit" ;;
  *) verdict="⚠️ the \`gate\` check ended: $conclusion" ;;
esac
{
  echo "**mlgate on ${RUN_HEAD_SHA:0:7}: $verdict.** The report below comes from the pull request's job."
  echo
  head -c 60000 "$REPORT_DIR/gate.md"
  if [ "$(wc -c < "$REPORT_DIR/gate.md")" -gt 60000 ]; then
    printf '\n\n_Report truncated; the full report is in the run artifact._\n'
  fi
} > "$REPORT_DIR/comment.md"
echo "number=$number" >> "$GITHUB_OUTPUT"
echo "post=true" >> "$GITHUB_OUTPUT"
