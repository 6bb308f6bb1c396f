#!/usr/bin/env bash
# Runs every redy test. `.ci/run` calls exactly this.
#
#   bash test.sh
#
# 1. installs the third-party peers the interop tests need when missing (interop/setup.sh:
#    openssl, nginx, curl, ... from Debian packages);
# 2. checks formatting and clippy (-D warnings) with each crypto provider, and that the API
#    docs build without a warning;
# 3. runs the whole workspace's tests with the default provider (aws-lc-rs), then redy-certs
#    and redy-tls again with ring;
# 4. builds every cargo-fuzz target and runs each briefly (fuzz/smoke.sh), failing on a crash.
# REDY_REQUIRE_PEERS=1 makes an interop test whose peer is missing fail instead of skipping.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export REDY_REQUIRE_PEERS=1

step() { printf '\n==> %s\n' "$*"; }

step "interop peers"
bash interop/setup.sh

step "rustfmt"
cargo fmt --all -- --check

step "clippy (aws-lc-rs, the default)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "clippy (ring)"
cargo clippy --workspace --all-targets --locked --no-default-features --features ring -- -D warnings

step "rustdoc (broken or private links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "tests (aws-lc-rs, the default)"
cargo test --workspace --locked

step "tests of redy-certs and redy-tls (ring)"
cargo test -p redy-certs -p redy-tls --locked --no-default-features --features ring

step "fuzz smoke (every target, ${FUZZ_SECONDS:-20} s each)"
bash fuzz/smoke.sh

step "all tests passed"
