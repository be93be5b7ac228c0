#!/usr/bin/env python3
"""Helpers of scripts/interop-sip.sh, one subcommand each.

  layout N... -- M     disjoint free ports on 127.0.0.1: the first port of a run of N
                       consecutive free UDP ports for each N (even), then M single ports
                       free for UDP and TCP, all on one line
  bound PORT           succeeds when a UDP port on 127.0.0.1 is taken (a server is up)
  ng HOST:PORT CMD     sends an ng command (bencoded {command: CMD}) and prints the reply as JSON
  metric URL NAME      the sum of a Prometheus metric's samples
  sink FILE N DIGIT [EVENTS]
                       the RTP sink's counts: N sources, each with an end of DIGIT (and at
                       least EVENTS RFC 4733 packets: every packet of the digit arrived)
  recordings DIR N     N recordings, each with its metadata file, complete, one per call-id
  kamailio LOG N       N `$rtpstat` lines, each with packets counted
"""
import json
import os
import random
import re
import socket
import sys
import urllib.request


def free(port, tcp=True):
    kinds = [socket.SOCK_DGRAM] + ([socket.SOCK_STREAM] if tcp else [])
    try:
        for k in kinds:
            with socket.socket(socket.AF_INET, k) as s:
                s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False


def layout(runs, singles):
    taken = set()
    out = []
    for n in runs:
        for _ in range(500):
            base = random.randrange(20000, 60000 - n) & ~1
            span = range(base, base + n)
            if not taken.intersection(span) and all(free(p, tcp=False) for p in span):
                taken.update(span)
                out.append(base)
                break
        else:
            sys.exit(f"no free run of {n} ports")
    for _ in range(singles):
        for _ in range(500):
            p = random.randrange(20000, 60000)
            if p not in taken and free(p):
                taken.add(p)
                out.append(p)
                break
        else:
            sys.exit("no free port")
    print(" ".join(map(str, out)))


def bencode(v):
    if isinstance(v, str):
        return f"{len(v.encode())}:{v}".encode()
    if isinstance(v, dict):
        return b"d" + b"".join(bencode(k) + bencode(x) for k, x in sorted(v.items())) + b"e"
    raise TypeError(v)


def bdecode(b, i=0):
    c = b[i : i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1 : j]), j + 1
    if c in (b"l", b"d"):
        i += 1
        items = []
        while b[i : i + 1] != b"e":
            v, i = bdecode(b, i)
            items.append(v)
        if c == b"l":
            return items, i + 1
        return dict(zip(items[::2], items[1::2])), i + 1
    j = b.index(b":", i)
    n = int(b[i:j])
    return b[j + 1 : j + 1 + n].decode(errors="replace"), j + 1 + n


def ng(addr, command):
    host, port = addr.rsplit(":", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(b"c1 " + bencode({"command": command}), (host, int(port)))
        data = s.recv(65535)
    print(json.dumps(bdecode(data, data.index(b" ") + 1)[0]))


def metric(url, name):
    text = urllib.request.urlopen(url, timeout=2).read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and line[len(name) : len(name) + 1] in (" ", "{"):
            total += float(line.rsplit(" ", 1)[1])
    print(int(total))


def fail(msg):
    sys.exit(f"FAIL: {msg}")


def sink(path, n, digit, events_each=0):
    sources = json.load(open(path))
    with_digit = [
        s
        for s in sources.values()
        if s["event_ends"].get(digit, 0) > 0 and s["events"] >= events_each
    ]
    events = sum(s["events"] for s in sources.values())
    rtp = sum(s["rtp"] for s in sources.values())
    print(
        f"callee side: {len(sources)} relay legs, {rtp} RTP packets, {events} RFC 4733 packets,"
        f" {len(with_digit)} legs with an end of digit {digit}"
    )
    if len(sources) != n or len(with_digit) != n:
        fail(f"expected {n} legs, each ending digit {digit} with {events_each}+ RFC 4733 packets")


def recordings(d, n):
    files = sorted(os.listdir(d))
    wavs = [f for f in files if f.endswith(".wav")]
    metas = [f for f in files if f.endswith(".json")]
    calls = set()
    for m in metas:
        doc = json.load(open(os.path.join(d, m)))
        cid = doc["call_id"]
        calls.add(cid)
        if doc.get("metadata") != f"interop-call:{cid}":
            fail(f"{m}: metadata {doc.get('metadata')!r}")
        if not doc.get("stop") or not doc["sdp"].get("offer") or not doc["sdp"].get("answer"):
            fail(f"{m}: no stop time or SDP")
        for seg in doc["segments"]:
            if not seg["complete"]:
                fail(f"{m}: segment {seg['segment']} not complete")
            wav = seg["file"]
            size = os.path.getsize(wav)
            head = open(wav, "rb").read(44)
            riff = int.from_bytes(head[4:8], "little")
            data = int.from_bytes(head[40:44], "little")
            if head[:4] != b"RIFF" or riff != size - 8 or data != size - 44 or data == 0:
                fail(f"{wav}: header sizes {riff}/{data} for a file of {size} bytes")
    print(f"recordings: {len(wavs)} WAV files, {len(metas)} metadata files, {len(calls)} call-ids")
    if len(wavs) != n or len(metas) != n or len(calls) != n:
        fail(f"expected {n} of each")


def kamailio(log, n):
    stats = re.findall(r"RTPSTAT call=(\S+) stat=\[([^\]]*)\]", open(log, errors="replace").read())
    filled = [s for _, s in stats if re.search(r"RTP: \d+ bytes, [1-9]\d* packets", s)]
    print(f"kamailio: {len(stats)} $rtpstat lines, {len(filled)} with packets counted")
    if stats:
        print(f"  e.g. {stats[0][1]}")
    if len(filled) != n:
        fail(f"expected {n} filled $rtpstat lines")


cmd, args = sys.argv[1], sys.argv[2:]
{
    "layout": lambda: layout(
        [int(a) for a in args[: args.index("--")]], int(args[args.index("--") + 1])
    ),
    "bound": lambda: sys.exit(0 if not free(int(args[0]), tcp=False) else 1),
    "ng": lambda: ng(args[0], args[1]),
    "metric": lambda: metric(args[0], args[1]),
    "sink": lambda: sink(args[0], int(args[1]), args[2], int(args[3]) if len(args) > 3 else 0),
    "recordings": lambda: recordings(args[0], int(args[1])),
    "kamailio": lambda: kamailio(args[0], int(args[1])),
}[cmd]()
