#!/usr/bin/env bash
# Fuzz smoke test: replay every target's seed corpus, then fuzz each for a bounded time.
# Usage: scripts/fuzz-smoke.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-30}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

export RUSTC_BOOTSTRAP=1
targets=$(cd fuzz && cargo fuzz list)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for t in $targets; do
    seeds="fuzz/corpus/$t"
    if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
        echo "fuzz target $t has no seed corpus in $seeds" >&2
        exit 1
    fi
    echo "--- $t: replay $(ls "$seeds" | wc -l) seeds"
    (cd fuzz && cargo fuzz run -s none "$t" "corpus/$t" -- -runs=0)
    echo "--- $t: fuzz for ${secs}s"
    mkdir -p "$work/$t"
    # New inputs go to a scratch directory; the committed corpus is only read.
    (cd fuzz && cargo fuzz run -s none "$t" "$work/$t" "corpus/$t" -- -max_total_time="$secs")
done
echo "fuzz smoke: all targets passed"
