#!/usr/bin/env bash
# Fuzzes the CAP parser (tryvoha_cap::parse, then write and re-parse) for a bounded time.
#
#   scripts/fuzz-cap.sh [SECONDS]    (default 60)
#
# cargo-fuzz needs nightly-only compiler flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain
# accept them. Crashes are saved under crates/cap/fuzz/artifacts/parse/, and the script exits
# non-zero when one is found.
set -euo pipefail

seconds="${1:-60}"
fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/crates/cap/fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

cd "$fuzz_dir"
# Seed the corpus with the small real messages (the large signed ones only slow libFuzzer down).
mkdir -p corpus/parse
for seed in ../tests/corpus/valid/*.xml ../tests/corpus/invalid/*.xml; do
    if [ "$(wc -c < "$seed")" -le 16384 ] && [ ! -e "corpus/parse/$(basename "$seed")" ]; then
        cp "$seed" corpus/parse/
    fi
done

RUSTC_BOOTSTRAP=1 cargo fuzz run parse -- -max_total_time="$seconds" -dict=cap.dict
