#!/usr/bin/env bash
# The supply-chain gate of the test command: `cargo deny` (advisories, bans,
# licenses, sources; deny.toml) and `cargo audit`, on the main workspace and on the
# fuzz workspace, against the vendored RustSec advisory database snapshot
# (supply-chain/advisory-db, dated in its SNAPSHOT file; docs/supply-chain.md).
#
# Both tools are installed into target/tools when missing (ANDON_TOOLS overrides).
# Nothing is fetched from GitHub: the snapshot becomes, under target/advisory-db,
# the git checkout cargo-deny expects, with the snapshot's own commit date (so its
# staleness check measures the snapshot's real age), and cargo audit reads it with
# --no-fetch. Yanked crates are checked against the local crates.io index cache.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${ANDON_TOOLS:-$PWD/target/tools}"
export PATH="$tools/bin:$PATH"

install() {
    local name="$1" version="$2"
    shift 2
    if ! "$name" --version 2>/dev/null | grep -q " $version\$"; then
        echo "installing $name $version into $tools" >&2
        # Built for a gate that runs for seconds: no LTO and parallel codegen
        # (cargo-deny's own release profile asks for fat LTO and one codegen unit,
        # which makes its build several times longer).
        CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
            cargo install "$name" --version "$version" --locked --root "$tools" --quiet "$@"
    fi
}
install cargo-deny 0.20.2
# Without binary scanning (`cargo audit bin`), which the gate does not use.
install cargo-audit 0.22.2 --no-default-features

snapshot=supply-chain/advisory-db
commit_date="$(sed -n 's/^commit-date = //p' "$snapshot/SNAPSHOT")"
# cargo-deny keeps each database in <db-path>/<last url segment>-<xxhash64 of the url>;
# this is the directory of deny.toml's db-urls entry.
db=target/advisory-db/advisory-db-3157b0e258782691
if ! cmp -s "$snapshot/SNAPSHOT" "$db/SNAPSHOT" 2>/dev/null; then
    rm -rf "$db"
    mkdir -p "$db"
    cp -R "$snapshot/crates" "$snapshot/rust" "$snapshot/SNAPSHOT" "$db/"
    git -C "$db" init --quiet
    git -C "$db" add -A
    GIT_AUTHOR_DATE="$commit_date" GIT_COMMITTER_DATE="$commit_date" \
        git -C "$db" -c user.name=andon -c user.email=andon@invalid -c commit.gpgsign=false \
        commit --quiet -m "RustSec advisory-db snapshot $(sed -n 's/^commit = //p' "$snapshot/SNAPSHOT")"
    # cargo-deny dates a checkout by the newer of HEAD's commit date and the HEAD
    # file's mtime: make both the snapshot's date.
    touch -d "$commit_date" "$db/.git/HEAD"
fi
echo "advisory database: $snapshot, commit date $commit_date"

# The advisories deny.toml excuses (each with its reason there) are excused for
# cargo audit too: one list.
ignore=()
for id in $(grep -o 'id = "RUSTSEC-[0-9]*-[0-9]*"' deny.toml | grep -o 'RUSTSEC-[0-9-]*'); do
    ignore+=(--ignore "$id")
done
for manifest in Cargo.toml fuzz/Cargo.toml; do
    echo "== $manifest" >&2
    # Duplicate versions are listed in deny.toml's comment, not in every run's
    # output; a license of the allow list that one of the two graphs lacks is fine.
    # The fuzz graph lacks the main graph's excused advisories: not a finding there.
    only_main=()
    [ "$manifest" = Cargo.toml ] || only_main=(--allow advisory-not-detected)
    cargo deny --offline --manifest-path "$manifest" check --hide-inclusion-graph \
        --allow duplicate --allow license-not-encountered "${only_main[@]}" advisories bans licenses sources
    cargo audit --no-fetch --db "$db" --file "$(dirname "$manifest")/Cargo.lock" --deny warnings "${ignore[@]}"
done
