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
import json, resource, statistics, subprocess, sys, time
tandem, calls, rounds, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
pin = ["taskset", "-c", "0"]

def timed(cmd, stdout):
    """Wall seconds and CPU seconds (user + system) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run(pin + cmd, check=True, stdout=stdout)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu

rates = {"tandem": ([], []), "simpy": ([], [])}
for i in range(1, rounds + 1):
    with open(out, "w") as f:
        wall, cpu = timed([tandem, "sim", "--scenario", "bench/peers/mmnm-500.toml",
                           "--threads", "1", "--json"], f)
    offered = json.load(open(out))["offered"]
    rates["tandem"][0].append(offered / wall)
    rates["tandem"][1].append(offered / cpu)
    s_wall, s_cpu = timed(["python3", "bench/peers/simpy_mmnm.py", str(calls), str(i)],
                          subprocess.DEVNULL)
    rates["simpy"][0].append(calls / s_wall)
    rates["simpy"][1].append(calls / s_cpu)
    print(f"round {i}: tandem {wall:.3f} s wall, {cpu:.3f} s CPU for {offered:.0f} calls; "
          f"simpy {s_wall:.1f} s wall, {s_cpu:.1f} s CPU for {calls} calls")
for k, label in [(0, "wall"), (1, "CPU")]:
    t = statistics.median(rates["tandem"][k])
    s = statistics.median(rates["simpy"][k])
    print(f"median by {label} time: tandem {t:,.0f} calls/s, simpy {s:,.0f} calls/s, "
          f"ratio {t / s:.0f}x")
PY
