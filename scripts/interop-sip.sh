#!/usr/bin/env bash
# SIP interoperability: a real call through Kamailio (its rtpengine module speaking ng to
# `tandem serve`) between two SIPp user agents. The caller plays 8 s of G.711 A-law and an
# RFC 4733 digit from SIPp's bundled pcaps (g711a.pcap holds 236 RTP packets); the callee
# echoes RTP. Passes when the call completes, Kamailio created and deleted it in tandem, and
# tandem relayed the media both ways: at least 440 datagrams in and out, i.e. 2 × 236 less
# the few echoes still in flight when the BYE deletes the call (its Prometheus counters).
# Installs kamailio and sip-tester from Debian's packages when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v kamailio >/dev/null 2>&1 || need+=(kamailio)
command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq "${need[@]}"
fi

cargo build -q --bin tandem
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

ng_port=22300
metrics=127.0.0.1:22301
target/debug/tandem serve --listen-ng "127.0.0.1:$ng_port" --listen-metrics "$metrics" \
    --port-min 46000 --port-max 46099 --recording-dir "$work/rec" >"$work/tandem.log" 2>&1 &
pids+=($!)
sed "s/NG_PORT/$ng_port/" tests/interop/kamailio.cfg >"$work/kamailio.cfg"
kamailio -f "$work/kamailio.cfg" -DD -E -Y "$work" >"$work/kamailio.log" 2>&1 &
pids+=($!)
ln -s /usr/share/sip-tester "$work/pcap"
(cd "$work" && exec sipp -sn uas -i 127.0.0.1 -p 5080 -mp 6000 -rtp_echo -bg -trace_err >/dev/null 2>&1) || true
sleep 2
uas_pid=$(pgrep -f "sipp -sn uas -i 127.0.0.1 -p 5080" || true)
[ -n "$uas_pid" ] && pids+=("$uas_pid")

status=0
(cd "$work" && timeout 60 sipp -sn uac_pcap -i 127.0.0.1 -p 5060 -mp 7000 -m 1 -timeout 40s \
    -trace_err 127.0.0.1:5070 >"$work/uac.log" 2>&1) || status=$?

sleep 1.5 # the last echoes drain; datagram and call counters are read on each scrape
in=$(curl -s "http://$metrics/metrics" | awk '/^tandem_shard_datagrams_in_total/ {s += $2} END {print s+0}')
out=$(curl -s "http://$metrics/metrics" | awk '/^tandem_shard_datagrams_out_total/ {s += $2} END {print s+0}')
created=$(curl -s "http://$metrics/metrics" | awk '/^tandem_calls_created_total/ {print $2}')
# Deletions are counted by reason (delete, timeout, shutdown, other): the sum is the total.
deleted=$(curl -s "http://$metrics/metrics" | awk '/^tandem_calls_deleted_total/ {s += $2} END {print s+0}')
echo "sipp uac exit $status; tandem: calls created $created, deleted $deleted; datagrams in $in, out $out"
if [ "$status" != 0 ] || [ "${created:-0}" != 1 ] || [ "${deleted:-0}" != 1 ] || [ "$in" -lt 440 ] || [ "$out" -lt 440 ]; then
    echo "--- tandem log"; tail -30 "$work/tandem.log"
    echo "--- kamailio log"; tail -30 "$work/kamailio.log"
    echo "--- sipp uac errors"; cat "$work"/*_errors.log 2>/dev/null | tail -30
    exit 1
fi
echo "interop: a SIP call through Kamailio and tandem serve, media relayed both ways"
