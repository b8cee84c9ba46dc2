#!/usr/bin/env bash
# Commit the model card that the promote job rendered (the `model-card` artifact) onto the
# branch's tip. This job holds no registry secret and runs no code from the checkout: git only.
# The credential reaches git through one command's environment (GIT_CONFIG_* or
# GIT_SSH_COMMAND), never the repository's config: the workflow token, or DEPLOY_KEY when main's
# protection refuses the token (docs/github-setup.md).
set -euo pipefail
shopt -s nullglob
rendered=("$CARD_DIR"/*.md)
if [ "${#rendered[@]}" != 1 ]; then
  echo "::error::The handed-over artifact holds ${#rendered[@]} cards; expected one."
  exit 1
fi
rendered="${rendered[0]}"
name="$(basename "$rendered" .md)"
if ! [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]]; then
  echo "::error::The handed-over card's name is not a model name."
  exit 1
fi
card="model_cards/$name.md"
version="$(sed -n "1,/^---\$/ s/^version: *['\"]\{0,1\}\([0-9]*\).*/\1/p" "$rendered" | head -n 1)"
if ! [[ "$version" =~ ^[1-9][0-9]*$ ]]; then
  echo "::error::The handed-over card names no version in its front matter."
  exit 1
fi
keydir="$(mktemp -d)"
trap 'rm -rf "$keydir"' EXIT
if [ -n "${DEPLOY_KEY:-}" ]; then
  printf '%s\n' "$DEPLOY_KEY" > "$keydir/key"
  chmod 600 "$keydir/key"
  echo "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl" \
    > "$keydir/known_hosts"
  remote="git@github.com:$GITHUB_REPOSITORY.git"
  ssh_cmd="ssh -i $keydir/key -o IdentitiesOnly=yes -o UserKnownHostsFile=$keydir/known_hosts -o StrictHostKeyChecking=yes"
  authed() { GIT_SSH_COMMAND="$ssh_cmd" git "$@"; }
else
  remote="origin"
  basic="$(printf 'x-access-token:%s' "$PUSH_TOKEN" | base64 -w0)"
  authed() {
    GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="http.$GITHUB_SERVER_URL/.extraheader" \
      GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $basic" git "$@"
  }
fi
unset PUSH_TOKEN DEPLOY_KEY
git config user.name "github-actions[bot]"
git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
for attempt in 1 2 3; do
  authed fetch -q "$remote" "$GITHUB_REF"
  tip="$(git rev-parse FETCH_HEAD)"
  if [ "$tip" != "$(git rev-parse HEAD)" ]; then
    echo "$GITHUB_REF_NAME is at ${tip:0:7}: committing the card there."
    git checkout -q --force --detach "$tip"
  fi
  mkdir -p model_cards
  cp "$rendered" "$card"
  if [ -z "$(git status --porcelain -- "$card")" ]; then
    echo "The model card on $GITHUB_REF_NAME already describes v$version."
    exit 0
  fi
  git add -- "$card"
  git commit -q -m "model card: $name v$version (from ${GITHUB_SHA:0:7})"
  if authed push -q "$remote" "HEAD:$GITHUB_REF"; then
    exit 0
  fi
  echo "Push rejected (attempt $attempt): $GITHUB_REF_NAME moved; committing the card on its new tip."
done
echo "::error::Could not push the model card to $GITHUB_REF_NAME after 3 attempts."
exit 1
