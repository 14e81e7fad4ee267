#!/usr/bin/env bash
# Refreshes the vendored RustSec advisory database snapshot (supply-chain/advisory-db)
# that the supply-chain gate (supply-chain/check.sh) reads offline.
#
#   scripts/update-advisory-db.sh [SOURCE]
#
# SOURCE is the advisory database's git repository: by default
# https://github.com/rustsec/advisory-db (needs network), or a local clone or bare
# mirror of it. Only its data is vendored (crates/, rust/ and the CC0 license), with
# supply-chain/advisory-db/SNAPSHOT naming the commit and its date. Commit the result
# with a message naming that date; the gate fails once the snapshot is older than
# deny.toml's maximum-db-staleness.
set -euo pipefail
cd "$(dirname "$0")/.."
source="${1:-https://github.com/rustsec/advisory-db}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -d "$source" ]; then
    git_dir="$(git -C "$source" rev-parse --absolute-git-dir 2>/dev/null || (cd "$source" && pwd))"
else
    git clone --quiet --bare --depth 1 "$source" "$work/advisory-db.git"
    git_dir="$work/advisory-db.git"
fi
commit="$(git --git-dir="$git_dir" rev-parse HEAD)"
commit_date="$(git --git-dir="$git_dir" show -s --format=%cI HEAD)"
out=supply-chain/advisory-db
rm -rf "$out"
mkdir -p "$out"
git --git-dir="$git_dir" archive "$commit" crates rust LICENSE.txt | tar -x -C "$out"
cat >"$out/SNAPSHOT" <<SNAPSHOT
# The RustSec advisory database, vendored by scripts/update-advisory-db.sh.
source = https://github.com/rustsec/advisory-db
commit = $commit
commit-date = $commit_date
vendored = $(date -u +%Y-%m-%d)
advisories = $(find "$out/crates" "$out/rust" -name '*.md' | wc -l)
SNAPSHOT
cat "$out/SNAPSHOT"
