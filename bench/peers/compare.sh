#!/usr/bin/env bash
# Tandem against SimPy 4 on the same M/M/500+M model, one core each, whole processes timed
# (start-up included), alternated round by round; prints each round, the medians and the
# ratio of calls per second.
#
#   bench/peers/compare.sh [ROUNDS]      (default 3; needs `pip install simpy` and a
#                                         release build: cargo build --release --bin tandem)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
tandem=target/release/tandem
[ -x "$tandem" ] || { echo "build first: cargo build --release --bin tandem" >&2; exit 2; }
python3 -c 'import simpy' 2>/dev/null || { echo "install SimPy: pip install simpy" >&2; exit 2; }
calls=1000000
out=$(mktemp)
trap 'rm -f "$out"' EXIT
python3 - "$tandem" "$calls" "$rounds" "$out" <<'PY'
import json, statistics, subprocess, sys, time
tandem, calls, rounds, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
pin = ["taskset", "-c", "0"]

def timed(cmd, stdout):
    started = time.monotonic()
    subprocess.run(pin + cmd, check=True, stdout=stdout)
    return time.monotonic() - started

t_rates, s_rates = [], []
for i in range(1, rounds + 1):
    with open(out, "w") as f:
        wall = timed([tandem, "sim", "--scenario", "bench/peers/mmnm-500.toml",
                      "--threads", "1", "--json"], f)
    offered = json.load(open(out))["offered"]
    t_rates.append(offered / wall)
    s_wall = timed(["python3", "bench/peers/simpy_mmnm.py", str(calls), str(i)],
                   subprocess.DEVNULL)
    s_rates.append(calls / s_wall)
    print(f"round {i}: tandem {wall:.3f} s for {offered:.0f} calls, "
          f"simpy {s_wall:.1f} s for {calls} calls")
t, s = statistics.median(t_rates), statistics.median(s_rates)
print(f"median: tandem {t:,.0f} calls/s, simpy {s:,.0f} calls/s, ratio {t / s:.0f}x")
PY
