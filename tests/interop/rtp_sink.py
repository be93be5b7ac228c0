#!/usr/bin/env python3
"""The callee's media in the SIP interoperability test.

Listens on one UDP port (the port every callee answers with), sends each datagram back to
where it came from (so the relay carries media both ways), and counts what arrives per
source address: every relay leg towards a callee has a port of its own, so a source is one
call. RTP payload type 101 is the callee's telephone-event (RFC 4733): for those it counts
the packets and the end-of-event packets per event code. On SIGTERM it writes the counts as
JSON to the file named by its second argument and exits.

Usage: rtp_sink.py PORT OUT.json
"""
import json
import select
import signal
import socket
import sys

port, out = int(sys.argv[1]), sys.argv[2]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", port))
sock.setblocking(False)
sources = {}
running = True


def stop(_sig, _frame):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
while running:
    ready, _, _ = select.select([sock], [], [], 0.2)
    while ready:
        try:
            data, addr = sock.recvfrom(2048)
        except BlockingIOError:
            break
        s = sources.setdefault(
            f"{addr[0]}:{addr[1]}", {"packets": 0, "rtp": 0, "events": 0, "event_ends": {}}
        )
        s["packets"] += 1
        if len(data) >= 12 and data[0] >> 6 == 2:
            s["rtp"] += 1
            if data[1] & 0x7F == 101 and len(data) >= 16:
                s["events"] += 1
                if data[13] & 0x80:
                    code = str(data[12])
                    s["event_ends"][code] = s["event_ends"].get(code, 0) + 1
        try:
            sock.sendto(data, addr)
        except OSError:
            pass
with open(out, "w") as f:
    json.dump(sources, f)
