#!/usr/bin/env bash
# Builds every fuzz target and runs each for a short time on its corpus; fails on any crash.
#
#   bash fuzz/smoke.sh            # 20 s per target
#   FUZZ_SECONDS=600 bash fuzz/smoke.sh
#   FUZZ_SEED=0 bash fuzz/smoke.sh    # a random libFuzzer seed instead of the fixed one
#
# The fixed seed makes the run in test.sh the same on every fresh machine (the corpus starts from
# the committed seeds), so CI does not fail on a crash that a lucky draw found first; exploring is
# for the long runs, whose finds become regression tests.
# cargo-fuzz needs a nightly compiler: the machine's nightly toolchain when there is one, else the
# stable one with RUSTC_BOOTSTRAP=1. cargo-fuzz itself is installed from crates.io when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
seconds=${FUZZ_SECONDS:-20}
seed=${FUZZ_SEED:-1}

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
if rustup run nightly rustc --version >/dev/null 2>&1; then
    fuzz=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi

"${fuzz[@]}" build -O
for target in $("${fuzz[@]}" list); do
    mkdir -p "corpus/$target"
    echo "== $target ($seconds s)"
    # Committed seeds (real transcripts, fuzz/seeds/make.py) join the growing corpus.
    seeds=()
    [ -d "seeds/$target" ] && seeds=("seeds/$target")
    "${fuzz[@]}" run -O "$target" "corpus/$target" "${seeds[@]}" -- -max_total_time="$seconds" -seed="$seed" -rss_limit_mb=2048 2>&1 |
        grep -E "^Done|panicked|SUMMARY|ERROR" || true
    # A crash leaves an artifact (the status is hidden by grep above).
    if compgen -G "artifacts/$target/crash-*" >/dev/null || compgen -G "artifacts/$target/oom-*" >/dev/null; then
        echo "fuzz target $target crashed: see fuzz/artifacts/$target/" >&2
        exit 1
    fi
done
echo "fuzz smoke: all targets ran without a crash"
