#!/usr/bin/env bash
# Commit the model card that the release (or promote, rollback) job rendered onto the branch's
# tip. This job holds no registry secret and runs no code from the checkout: git only. The token
# reaches git through one command's environment (GIT_CONFIG_*), never the repository's config.
set -euo pipefail
if ! compgen -G "$CARD_DIR/*.md" > /dev/null; then
  echo "No model card to commit: the job before changed none."
  exit 0
fi
basic="$(printf 'x-access-token:%s' "$PUSH_TOKEN" | base64 -w0)"
unset PUSH_TOKEN
authed() {
  GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="http.$GITHUB_SERVER_URL/.extraheader" \
    GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $basic" git "$@"
}
git config user.name "github-actions[bot]"
git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
for attempt in 1 2 3; do
  authed fetch -q origin "$GITHUB_REF"
  git checkout -q --force --detach FETCH_HEAD
  mkdir -p model_cards
  cp "$CARD_DIR"/*.md model_cards/
  if [ -z "$(git status --porcelain -- model_cards)" ]; then
    echo "The model card on $GITHUB_REF_NAME already describes the champion."
    exit 0
  fi
  git add -- model_cards
  git commit -q -m "model card (from ${GITHUB_SHA:0:7})"
  if authed push -q origin "HEAD:$GITHUB_REF"; then
    exit 0
  fi
  echo "Push rejected (attempt $attempt): $GITHUB_REF_NAME moved; trying again on its new tip."
done
echo "::error::Could not push the model card to $GITHUB_REF_NAME after 3 attempts."
exit 1
