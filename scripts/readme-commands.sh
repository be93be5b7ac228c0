#!/usr/bin/env bash
# Runs every command in README.md's ```sh blocks as written, so the README cannot promise
# what the program does not do. `tandem` comes from the README's own install command
# (`cargo install --path tools`, given a scratch --root and the workspace's target dir so
# nothing outside the checkout changes); `cargo …` commands run from the repository root,
# the others in a scratch directory holding a copy of examples/, where their output files
# land. Each command gets at most COMMAND_TIMEOUT seconds (default 120); `cargo …` commands,
# which may compile first (a release build with whole-program LTO takes minutes on two
# cores), get BUILD_TIMEOUT (default 1800).
#
# Commands are skipped only when they need more than a minute or a running daemon; each is
# listed in SKIP below with the reason. A README command that is neither run successfully
# nor listed fails this script.
#
# Usage: scripts/readme-commands.sh [README]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
readme=${1:-README.md}
command_timeout=${COMMAND_TIMEOUT:-120}
build_timeout=${BUILD_TIMEOUT:-1800}

# Command (a shell pattern: `*` matches anything) → why it is not run here.
declare -A SKIP=(
    ["cargo test --workspace"]="more than a minute; .ci/run runs it as its own step"
    ["cargo bench *"]="more than a minute (criterion benches)"
    ["cargo run --release --bin tandem -- bench"]="more than a minute (the full capacity harness)"
    ["cargo run --release --bin tandem -- bench --calls *"]="more than a minute (three relays, two levels, three rounds)"
    ["cargo run --release --bin tandem -- bench --shards *"]="more than a minute (two relays at five levels)"
    ["cargo run --release --bin tandem -- bench --setup"]="its verdict compares two relays' speed: a timed result, not a CI check (tools/tests/cli_bench.rs runs the set-up benchmark)"
    ["scripts/bench-gate.sh*"]="more than a minute (callgrind); .ci/run runs it as its own step"
    ["cargo install cargo-fuzz"]="more than a minute (builds cargo-fuzz)"
    ["cd fuzz"]="belongs to the hour-long fuzz campaign below"
    ["RUSTC_BOOTSTRAP=1 cargo fuzz run *"]="an hour-long fuzz campaign (.ci/run runs scripts/fuzz-smoke.sh)"
    ["tandem serve *"]="a daemon: runs until stopped (tools/tests/serve_*.rs and scripts/interop-sip.sh start it)"
    ["curl http://127.0.0.1:9103/metrics"]="needs a running tandem serve"
    ["kill -TERM *"]="needs a running tandem serve"
    ["tandem load --ng *"]="needs a running ng daemon (tandem serve or rtpengine)"
    ["tandem load --relay-ports *"]="needs a running relay holding the listed ports"
    ["tandem capacity"]="more than a minute where the machine sustains the load (it raises the level until the target breaks)"
    ["tandem capacity --relay *"]="more than a minute (it raises the level until the target breaks)"
    ["tandem soak *"]="a 30-minute benchmark (load/src/soak has its unit tests; docs/load-lab.md shows a short run)"
)

work=$(mktemp -d)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/run" "$work/install"
cp -r examples "$work/run/"
export PATH="$work/install/bin:$PATH"

# The commands: the lines of ```sh blocks, continuation lines joined, comments dropped.
mapfile -t commands < <(awk '
    /^```sh[[:space:]]*$/ { inblock = 1; next }
    /^```/ { inblock = 0; next }
    inblock {
        line = $0
        if (cont != "") { sub(/^[[:space:]]+/, "", line); line = cont " " line; cont = "" }
        if (line ~ /\\[[:space:]]*$/) { sub(/\\[[:space:]]*$/, "", line); cont = line; next }
        sub(/[[:space:]]+#[[:space:]].*$/, "", line)
        sub(/[[:space:]]+$/, "", line)
        if (line != "") print line
    }' "$readme")

ran=0 skipped=0 failed=()
for cmd in "${commands[@]}"; do
    reason=""
    for pattern in "${!SKIP[@]}"; do
        # shellcheck disable=SC2053 # the key is a pattern on purpose
        if [[ "$cmd" == $pattern ]]; then reason=${SKIP[$pattern]}; break; fi
    done
    if [ -n "$reason" ]; then
        printf 'skip  %s\n      (%s)\n' "$cmd" "$reason"
        skipped=$((skipped + 1))
        continue
    fi
    run=$cmd dir="$work/run" limit=$command_timeout
    case "$cmd" in
        "cargo install --path tools")
            run="cargo install --locked --path tools --root '$work/install' --target-dir '$root/target'"
            dir=$root limit=$build_timeout ;;
        cargo\ *) dir=$root limit=$build_timeout ;;
        tandem\ *)
            if ! command -v tandem >/dev/null 2>&1; then
                echo "tandem is not on the PATH: the README's install command must come first" >&2
                exit 1
            fi ;;
    esac
    printf 'run   %s\n' "$cmd"
    start=$(date +%s)
    if (cd "$dir" && timeout "$limit" bash -c "$run") >"$work/out" 2>&1; then
        printf '      ok in %ss\n' $(($(date +%s) - start))
        ran=$((ran + 1))
    else
        status=$?
        printf '      FAILED (exit %s) after %ss; last lines:\n' "$status" $(($(date +%s) - start))
        tail -n 15 "$work/out" | sed 's/^/      | /'
        failed+=("$cmd")
    fi
done

printf '\n%s commands run, %s skipped, %s failed\n' "$ran" "$skipped" "${#failed[@]}"
for f in "${failed[@]}"; do printf '  failed: %s\n' "$f"; done
[ "${#failed[@]}" -eq 0 ]
