#!/usr/bin/env python3
"""A minimal IP-in-IP tunnel endpoint (RFC 2003) for end-to-end tests: plays the care-of address
side of a Mobile IPv4 tunnel (what fad's decapsulation will do) in a network namespace.

- Downstream: reads IP-in-IP datagrams on a raw IPv4 socket of protocol 4, checks the outer
  header (protocol 4, destination = --local, source = --peer), strips it and writes the inner
  datagram into a TUN device, from which the kernel delivers it locally.
- Upstream (reverse tunnel, RFC 3024): reads the packets the kernel routes into the TUN device
  and sends each one IP-in-IP to --peer (the kernel builds the outer header, protocol 4, source
  --local by routing).

Counters (JSON) are written to --stats on SIGTERM/SIGINT and at least every 200 ms while busy
(every second when idle).

usage: ipip-endpoint.py --tun NAME --local ADDR --peer ADDR --stats FILE"""
import argparse
import fcntl
import json
import time
import os
import select
import signal
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tun", required=True)
    ap.add_argument("--local", required=True)
    ap.add_argument("--peer", required=True)
    ap.add_argument("--stats", required=True)
    a = ap.parse_args()
    local = socket.inet_aton(a.local)
    peer = socket.inet_aton(a.peer)

    tun = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", a.tun.encode(), IFF_TUN | IFF_NO_PI))
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 4)

    st = {"rx": 0, "rx_bytes": 0, "rx_bad": 0, "rx_wrong_peer": 0, "tx": 0, "tx_errors": 0,
          "outer_ttl_min": 256, "outer_ttl_max": -1}
    done = [False]
    last = [time.monotonic()]

    def dump():
        tmp = a.stats + ".tmp"
        with open(tmp, "w") as f:
            json.dump(st, f)
        os.replace(tmp, a.stats)

    def stop(*_):
        done[0] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    dump()
    while not done[0]:
        try:
            r, _, _ = select.select([raw, tun], [], [], 1.0)
        except InterruptedError:
            continue
        if raw in r:
            pkt = raw.recv(65535)
            if len(pkt) < 20 or pkt[0] >> 4 != 4:
                st["rx_bad"] += 1
                continue
            ihl = (pkt[0] & 15) * 4
            tot = struct.unpack("!H", pkt[2:4])[0]
            if pkt[9] != 4 or pkt[16:20] != local or ihl < 20 or len(pkt) < ihl + 20:
                st["rx_bad"] += 1
                continue
            if pkt[12:16] != peer:
                st["rx_wrong_peer"] += 1
                continue
            inner = pkt[ihl:max(tot, ihl)]
            if len(inner) < 20 or inner[0] >> 4 != 4:
                st["rx_bad"] += 1
                continue
            st["rx"] += 1
            st["rx_bytes"] += len(pkt)
            st["outer_ttl_min"] = min(st["outer_ttl_min"], pkt[8])
            st["outer_ttl_max"] = max(st["outer_ttl_max"], pkt[8])
            try:
                os.write(tun, inner)
            except OSError:
                st["rx_bad"] += 1
        if tun in r:
            pkt = os.read(tun, 65535)
            if len(pkt) < 20 or pkt[0] >> 4 != 4:
                continue  # IPv6 noise of the TUN device
            try:
                raw.sendto(pkt, (a.peer, 0))
                st["tx"] += 1
            except OSError:
                st["tx_errors"] += 1
        now = time.monotonic()
        if not r or now - last[0] >= 0.2:  # readers see counters at most 200 ms old
            dump()
            last[0] = now
    dump()
    return 0


if __name__ == "__main__":
    sys.exit(main())
