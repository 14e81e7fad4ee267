#!/usr/bin/env bash
# Checks the layout rules that no compiler checks:
# - the crate boundaries of docs/architecture.md: the ledger (what an auditor's
#   verifier builds) has no wasmtime; core and work have no tokio, axum or rmcp;
# - no Rust source file over 700 lines.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
forbid() {
    local crate="$1"; shift
    local tree
    tree="$(cargo tree --locked -p "$crate" -e normal --prefix none --format '{p}')"
    for dep in "$@"; do
        if grep -q "^$dep v" <<<"$tree"; then
            echo "layout: $crate depends on $dep (forbidden, see docs/architecture.md)" >&2
            status=1
        fi
    done
}
forbid andon-ledger wasmtime tokio axum rmcp
forbid andon-core tokio axum rmcp andon-ledger
forbid andon-work tokio axum rmcp
while read -r lines file; do
    if [ "$file" != total ] && [ "$lines" -gt 700 ]; then
        echo "layout: $file has $lines lines (over 700: split it)" >&2
        status=1
    fi
done < <(git ls-files -co --exclude-standard '*.rs' | xargs wc -l)
if [ "$status" -eq 0 ]; then
    echo "layout: crate boundaries and file sizes hold"
fi
exit "$status"
