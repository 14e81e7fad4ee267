#!/usr/bin/env bash
# The whole test suite: set-up, formatting, lints, the crate boundaries, file sizes,
# and every test of every crate (host integration tests, guest unit tests, doc tests).
#
# Needs only rustup with the pinned toolchain (rust-toolchain.toml) and python3 with
# venv (one test drives the server with the official Python MCP client, installed
# from PyPI into target/py-venv). Everything else is added here or by the build:
# rustup installs nothing by itself where RUSTUP_AUTO_INSTALL=0, so the components
# are added explicitly, and the guest builder adds the wasm32-unknown-unknown target.
set -euo pipefail
cd "$(dirname "$0")/.."
toolchain="$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)"
rustup component add --toolchain "$toolchain" rustfmt clippy >/dev/null
rustup target add --toolchain "$toolchain" wasm32-unknown-unknown >/dev/null
# The independent log verifier (tests/go/verify, run by tests/all/tlog.rs) needs Go and
# golang.org/x/mod from Debian; install them when missing (the package lists are
# refreshed only when the first attempt fails).
if ! command -v go >/dev/null 2>&1 || [ ! -f /usr/share/gocode/src/golang.org/x/mod/sumdb/tlog/tlog.go ]; then
    go_packages=(golang-go golang-golang-x-mod-dev)
    as_root=()
    [ "$(id -u)" -eq 0 ] || as_root=(sudo)
    "${as_root[@]}" apt-get install -y --no-install-recommends "${go_packages[@]}" >/dev/null 2>&1 \
        || { "${as_root[@]}" apt-get update >/dev/null \
            && "${as_root[@]}" apt-get install -y --no-install-recommends "${go_packages[@]}" >/dev/null; }
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
./scripts/check-layout.sh
cargo test --workspace --locked --no-fail-fast
# Every fuzz target built and run for 20 s (docs/fuzzing.md), then the supply-chain
# gate: cargo deny and cargo audit on the vendored advisory database (docs/supply-chain.md).
./scripts/fuzz.sh 20
./supply-chain/check.sh
