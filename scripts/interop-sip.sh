#!/usr/bin/env bash
# SIP interoperability: calls through Kamailio (its rtpengine module speaking ng) between two
# SIPp user agents, with `tandem serve` as the media relay.
#
# 1. One node: 50 calls (PCMA, 1.5 s of speech and one RFC 4733 digit each). Passes when
#    every call completes, the callee side (an RTP sink that echoes what it gets) received
#    all ten RFC 4733 packets of the digit (the first comes on a new SSRC) on every call's
#    relay leg, Kamailio logged a filled
#    `$rtpstat` for every call, tandem wrote one complete recording with its metadata file
#    (carrying the ng `metadata` Kamailio sent) per call, and no call is left in `list`.
# 2. Two nodes in one rtpengine set (weights 2 and 1): 120 calls; once both nodes carry
#    calls, the second gets SIGTERM. Passes when every call completes, both nodes carried
#    calls, every offer after the SIGTERM went to the first node, the drained node exited
#    with status 0 leaving complete recordings, and the first node's calls all got their
#    digit and recording.
#
# Every port is chosen free at run time; every process is stopped by its PID. INTEROP_KEEP=1
# keeps the logs and recordings (their directory is printed). Installs
# kamailio and sip-tester from Debian's packages when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL=0

need=()
command -v kamailio >/dev/null 2>&1 || need+=(kamailio)
command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq "${need[@]}"
fi

cargo build -q --bin tandem
here=$PWD
work=$(mktemp -d)
pids=()
cleanup() {
    local status=$?
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "$status" != 0 ]; then
        for f in "$work"/*.log; do
            [ -f "$f" ] || continue
            echo "--- $(basename "$f") (last 25 lines)"
            tail -25 "$f"
        done
    fi
    if [ -n "${INTEROP_KEEP:-}" ]; then
        echo "logs and recordings kept in $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

ck() { python3 "$here/tests/interop/check.py" "$@"; }
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
# Drops a PID from the ones stopped on exit (it has been waited for).
forget() {
    local keep=() p
    for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    pids=("${keep[@]}")
}
# Stops a process by PID and returns its exit status.
stop() {
    kill -TERM "$1" 2>/dev/null || true
    local rc=0
    wait "$1" || rc=$?
    forget "$1"
    return "$rc"
}

# Media ranges (tandem a, tandem b, the caller, the callee), then single ports: all disjoint.
read -r base_a base_b uac_media uas_media sip_port uas_port sink_port ng_a metrics_a ng_b \
    metrics_b uac_port1 uac_port2 <<<"$(ck layout 1000 1000 1000 4 -- 9)"

# A tandem node (a or b): its ng and metrics ports, media range and recording directory.
start_tandem() {
    local name=$1 ng=$2 metrics=$3 base=$4
    mkdir -p "$work/rec-$name"
    target/debug/tandem serve --listen-ng "127.0.0.1:$ng" --listen-metrics "127.0.0.1:$metrics" \
        --interface 127.0.0.1 --port-min "$base" --port-max $((base + 999)) --num-threads 1 \
        --recording-dir "$work/rec-$name" >"$work/tandem-$name.log" 2>&1 &
    pids+=($!)
    eval "pid_$name=$!"
    for _ in $(seq 50); do
        ck ng "127.0.0.1:$ng" ping 2>/dev/null | grep -q pong && return 0
        sleep 0.1
    done
    fail "tandem $name did not answer ping"
}

start_kamailio() {
    sed -e "s/SIP_PORT/$sip_port/" -e "s/UAS_PORT/$uas_port/" -e "s|RTPENGINE_SOCK|$1|" \
        tests/interop/kamailio.cfg >"$work/kamailio.cfg"
    kamailio -f "$work/kamailio.cfg" -DD -E -Y "$work" >"$work/kamailio.log" 2>&1 &
    pid_kamailio=$!
    pids+=($!)
    for _ in $(seq 50); do
        ck bound "$sip_port" && return 0
        kill -0 "$pid_kamailio" 2>/dev/null || break
        sleep 0.1
    done
    fail "kamailio did not start"
}

start_sink() {
    python3 tests/interop/rtp_sink.py "$sink_port" "$work/sink-$1.json" &
    pid_sink=$!
    pids+=($!)
}

# The callee: answers every call with the sink's port; its own media port is unused.
ln -s /usr/share/sip-tester "$work/pcap"
(cd "$work" && exec sipp -sf "$here/tests/interop/uas.xml" -i 127.0.0.1 -p "$uas_port" \
    -mp "$uas_media" -key sink_port "$sink_port" -nostdin -trace_err \
    -error_file "$work/uas-errors.log" >/dev/null 2>&1) &
pids+=($!)

# The caller in the background (its PID in pid_uac): SIP port, number of calls, rate per
# second. At most 120 calls: SIPp gives call n the media port base + 4(n-1), inside the run.
start_calls() {
    (cd "$work" && exec timeout 120 sipp -sf "$here/tests/interop/uac.xml" -i 127.0.0.1 \
        -p "$1" -mp "$uac_media" -m "$2" -r "$3" -l 60 -timeout 90s -nostdin \
        -trace_err -error_file "$work/uac-errors.log" "127.0.0.1:$sip_port" >/dev/null 2>&1) &
    pid_uac=$!
    pids+=($!)
}
# Waits for the caller; fails unless every call completed.
wait_calls() {
    local rc=0
    wait "$pid_uac" || rc=$?
    forget "$pid_uac"
    [ "$rc" = 0 ] || fail "sipp: not every call completed (exit $rc)"
}

offers() { grep -c "OFFER call=.* node=.*:$1\$" "$work/kamailio.log" || true; }

echo "== one node: 50 calls"
t0=$SECONDS
start_tandem a "$ng_a" "$metrics_a" "$base_a"
start_kamailio "udp:127.0.0.1:$ng_a"
start_sink one
start_calls "$uac_port1" 50 10
wait_calls
sleep 0.5
stop "$pid_sink" || true
ck sink "$work/sink-one.json" 50 1 10
ck kamailio "$work/kamailio.log" 50
left=$(ck ng "127.0.0.1:$ng_a" list)
echo "list after the calls: $left"
python3 -c 'import json,sys; sys.exit(len(json.loads(sys.argv[1]).get("calls", [None])) != 0)' "$left" ||
    fail "calls left in tandem: $left"
created=$(ck metric "http://127.0.0.1:$metrics_a/metrics" tandem_calls_created_total)
[ "$created" = 50 ] || fail "tandem created $created calls, not 50"
stop "$pid_kamailio" || true
stop "$pid_a" || fail "tandem a exited with status $?"
ck recordings "$work/rec-a" 50
echo "one node: passed in $((SECONDS - t0)) s"

echo "== two nodes in one rtpengine set (weights 2 and 1): 120 calls, the second node stopped midway"
t0=$SECONDS
rm -rf "$work/rec-a"
start_tandem a "$ng_a" "$metrics_a" "$base_a"
start_tandem b "$ng_b" "$metrics_b" "$base_b"
start_kamailio "udp:127.0.0.1:$ng_a=2 udp:127.0.0.1:$ng_b=1"
start_sink two
start_calls "$uac_port2" 120 10
for _ in $(seq 200); do
    [ "$(offers "$ng_a")" -ge 20 ] && [ "$(offers "$ng_b")" -ge 10 ] && break
    sleep 0.1
done
before_a=$(offers "$ng_a")
before_b=$(offers "$ng_b")
[ "$before_a" -gt 0 ] && [ "$before_b" -gt 0 ] || fail "both nodes should carry calls: $before_a and $before_b"
kill -TERM "$pid_b"
sleep 0.5
mark=$(wc -l <"$work/kamailio.log")
wait_calls
rc=0
wait "$pid_b" || rc=$?
forget "$pid_b"
[ "$rc" = 0 ] || fail "the drained node exited with status $rc"
after=$(tail -n +"$((mark + 1))" "$work/kamailio.log" | grep -c "OFFER call=" || true)
after_b=$(tail -n +"$((mark + 1))" "$work/kamailio.log" | grep -c "OFFER call=.* node=.*:$ng_b\$" || true)
total_a=$(offers "$ng_a")
total_b=$(offers "$ng_b")
echo "offers: node a $total_a, node b $total_b (b stopped after $before_b; $after offers after, $after_b of them to b)"
[ $((total_a + total_b)) = 120 ] || fail "expected 120 offers, got $((total_a + total_b))"
[ "$after" -ge 10 ] && [ "$after_b" = 0 ] || fail "offers after the SIGTERM should all go to node a"
sleep 0.5
stop "$pid_sink" || true
# The sink's legs by node: each node has its own media port range.
python3 - "$work/sink-two.json" "$base_a" "$base_b" "$total_a" <<'EOF'
import json, sys
sources = json.load(open(sys.argv[1]))
base_a, base_b, calls_a = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def node(src):
    port = int(src.rsplit(":", 1)[1])
    return "a" if base_a <= port < base_a + 1000 else "b" if base_b <= port < base_b + 1000 else "?"
legs = {"a": [], "b": [], "?": []}
for src, s in sources.items():
    legs[node(src)].append(s.get("event_ends", {}).get("1", 0) > 0)
print(f"callee side: node a {len(legs['a'])} legs ({sum(legs['a'])} with the digit), "
      f"node b {len(legs['b'])} legs ({sum(legs['b'])} with the digit)")
ok = len(legs["a"]) == calls_a and all(legs["a"]) and sum(legs["b"]) > 0 and not legs["?"]
sys.exit(0 if ok else "FAIL: every call of node a must bring the digit to the callee")
EOF
left=$(ck ng "127.0.0.1:$ng_a" list)
python3 -c 'import json,sys; sys.exit(len(json.loads(sys.argv[1]).get("calls", [None])) != 0)' "$left" ||
    fail "calls left in tandem a: $left"
stop "$pid_kamailio" || true
stop "$pid_a" || fail "tandem a exited with status $?"
ck recordings "$work/rec-a" "$total_a"
nb=$(find "$work/rec-b" -name '*.json' | wc -l)
[ "$nb" -gt 0 ] || fail "the drained node left no recordings"
ck recordings "$work/rec-b" "$nb"
echo "two nodes: passed in $((SECONDS - t0)) s"
echo "interop: SIP calls through Kamailio and tandem serve (one node, then a set of two with one drained)"
