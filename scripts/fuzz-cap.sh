#!/usr/bin/env bash
# Fuzzes the CAP parser (tryvoha_cap::parse, then write and re-parse) for a bounded time.
#
#   scripts/fuzz-cap.sh [SECONDS]    (default 60)
#
# The CAP target of scripts/fuzz.sh, which installs cargo-fuzz if missing, seeds the corpus with
# the small messages of crates/cap/tests/corpus, and exits non-zero when a crash is found (saved
# under crates/cap/fuzz/artifacts/parse/).
set -euo pipefail

exec "$(dirname "${BASH_SOURCE[0]}")/fuzz.sh" "${1:-60}" cap:parse
