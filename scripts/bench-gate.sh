#!/usr/bin/env bash
# The benchmark regression gate: instruction counts under callgrind vs committed baselines.
#
#   scripts/bench-gate.sh              check; fails if any benchmark is >3% above baseline
#   scripts/bench-gate.sh rebaseline   measure and rewrite bench/gate/baselines.toml
#                                      (commit it with a note saying why it got slower)
#   scripts/bench-gate.sh record NAME… measure only the named workloads (a new one) and
#                                      record their baselines, leaving the others as they are
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
    echo "installing valgrind"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq valgrind
    else
        sudo apt-get update -qq && sudo apt-get install -y -qq valgrind
    fi
fi

cargo build --release -p tandem-gate
gate=target/release/tandem-gate
case "${1:-check}" in
    check) "$gate" check --baselines bench/gate/baselines.toml ;;
    rebaseline) "$gate" rebaseline --baselines bench/gate/baselines.toml ;;
    record)
        shift
        [ $# -gt 0 ] || { echo "usage: $0 record WORKLOAD…" >&2; exit 2; }
        only=()
        for name in "$@"; do only+=(--only "$name"); done
        "$gate" rebaseline --baselines bench/gate/baselines.toml "${only[@]}" ;;
    *) echo "usage: $0 [check|rebaseline|record WORKLOAD…]" >&2; exit 2 ;;
esac
