#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every test of every crate
# (host integration tests, guest unit tests, doc tests).
# rustup installs the pinned toolchain and the wasm32 target from rust-toolchain.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup show active-toolchain >/dev/null
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked --no-fail-fast
