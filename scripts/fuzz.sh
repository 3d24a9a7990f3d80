#!/usr/bin/env bash
# Fuzzes every parser of untrusted input, one target after another, for a bounded time each:
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [CRATE:TARGET ...]    (default 30 s, every target)
#
#   cap:parse           CAP XML (tryvoha_cap::parse, then write and re-parse)
#   http:json_body      every JSON request body, and a declaration's idempotency form
#   http:query          every query string, the values handlers read from it, header values
#   history:dataset     the air-raid history CSV (`tryvoha import history`)
#   geo:shelter_file    shelter files, GeoJSON or CSV (`tryvoha shelters import`)
#   geo:boundaries      boundary GeoJSON, as areas for the locator and as texts for serving
#
# Each fuzz crate (crates/*/fuzz) is a workspace of its own, built into its own target/ with
# nightly-only flags that RUSTC_BOOTSTRAP=1 lets the stable toolchain accept; builds run one at
# a time. The corpus grows in crates/*/fuzz/corpus/TARGET/ (seeded from the crate's seeds/),
# crashes land in crates/*/fuzz/artifacts/TARGET/. Every target runs even after one fails; the
# script exits non-zero when any found a crash, a timeout or an allocation over the limits.
set -euo pipefail

seconds="${1:-30}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
targets=(cap:parse http:json_body http:query history:dataset geo:shelter_file geo:boundaries)
if [ $# -gt 1 ]; then
    targets=("${@:2}")
fi

# One input may take at most this long (a hang is a finding, not a long run), a single
# allocation at most this much: inputs are a few KiB, so anything near it grows without bound.
libfuzzer_limits=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1)

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# The CAP crate's seeds are its test corpus, small messages only (the large signed ones only
# slow libFuzzer down); every other crate keeps its seeds in fuzz/seeds/TARGET/.
seed_corpus() {
    local crate="$1" target="$2"
    mkdir -p "corpus/$target"
    local seeds=("seeds/$target"/*)
    if [ "$crate" = cap ]; then
        seeds=(../tests/corpus/valid/*.xml ../tests/corpus/invalid/*.xml)
    fi
    for seed in "${seeds[@]}"; do
        if [ -f "$seed" ] && [ "$(wc -c < "$seed")" -le 16384 ] && [ ! -e "corpus/$target/$(basename "$seed")" ]; then
            cp "$seed" "corpus/$target/"
        fi
    done
}

# "crate:target seconds runs outcome", one line per target, printed at the end.
summary=()
failed=0
for entry in "${targets[@]}"; do
    crate="${entry%%:*}"
    target="${entry#*:}"
    fuzz_dir="$root/crates/$crate/fuzz"
    if [ ! -f "$fuzz_dir/fuzz_targets/$target.rs" ]; then
        echo "fuzz.sh: no target $entry (expected $fuzz_dir/fuzz_targets/$target.rs)" >&2
        exit 2
    fi
    cd "$fuzz_dir"
    seed_corpus "$crate" "$target"
    dictionary=()
    if [ -f "$crate.dict" ]; then
        dictionary=(-dict="$crate.dict")
    fi
    log="$fuzz_dir/artifacts/$target.log"
    mkdir -p "artifacts/$target"
    echo "== $entry: ${seconds}s" >&2
    RUSTC_BOOTSTRAP=1 cargo fuzz build "$target"
    started=$(date +%s)
    status=0
    RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" -- \
        -max_total_time="$seconds" "${libfuzzer_limits[@]}" "${dictionary[@]}" 2>&1 | tee "$log" >&2 ||
        status=$?
    elapsed=$(($(date +%s) - started))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ "$status" -eq 0 ]; then
        outcome="no crash"
    else
        failed=1
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        outcome="FAILED (exit $status): ${artifact:-no artifact written, see $log}"
    fi
    summary+=("$entry ${elapsed}s ${runs:-?} runs: $outcome")
done

echo "== fuzz.sh: ${seconds}s per target, $(date -u +%Y-%m-%dT%H:%MZ), nproc $(nproc)"
printf '%s\n' "${summary[@]}"
exit "$failed"
