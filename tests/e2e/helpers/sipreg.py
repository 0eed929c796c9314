#!/usr/bin/env python3
"""A small SIP REGISTER client for tests/e2e/sip-nat.sh (the mobile's side of the NAT
continuity extension, docs/protocols/sip-mobility.md 4, until mnd's SIP agent does it).

  sipreg.py --server 10.61.254.2 --bind 10.61.2.10 --user mn --password pw --domain roam.test \
            [--prev 10.61.1.10 ...] [--expires 600] [--no-auth] [--remove-contact IP]
  sipreg.py --server ... --bind ... --raw FILE      send FILE's bytes as they are (bad input)

Answers the 401 with RFC 2617 MD5 qop=auth.  Prints the final response as one JSON object
{"code", "reason", "headers": {lower-case name: [values]}} and exits 0; exit 2 when nothing
came back within --timeout (UDP: retransmitted at 0.5 s, 1 s, 2 s like RFC 3261 Timer E)."""
import argparse
import hashlib
import json
import os
import random
import re
import socket
import sys
import time


def parse(resp):
    head = resp.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    lines = head.split("\r\n")
    m = re.match(r"SIP/2\.0 (\d{3}) ?(.*)", lines[0])
    if not m:
        return None
    hdrs = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    return {"code": int(m.group(1)), "reason": m.group(2), "headers": hdrs}


def exchange(sock, server, data, timeout):
    """Sends data, retransmits, returns the first final response (parsed) or None."""
    end = time.time() + timeout
    interval = 0.5
    sock.sendto(data, server)
    nxt = time.time() + interval
    while time.time() < end:
        sock.settimeout(max(0.01, min(nxt, end) - time.time()))
        try:
            resp, _ = sock.recvfrom(65536)
        except socket.timeout:
            if time.time() >= nxt:
                sock.sendto(data, server)
                interval = min(interval * 2, 4)
                nxt = time.time() + interval
            continue
        p = parse(resp)
        if p and p["code"] >= 200:
            return p
    return None


def digest(user, realm, pw, nonce, uri, nc, cnonce):
    h = lambda s: hashlib.md5(s.encode()).hexdigest()
    ha1 = h(f"{user}:{realm}:{pw}")
    ha2 = h(f"REGISTER:{uri}")
    return h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--bind", required=True)
    ap.add_argument("--user", default="mn")
    ap.add_argument("--auth-user", help="user name in the credentials (default --user)")
    ap.add_argument("--password", default="")
    ap.add_argument("--domain", default="roam.test")
    ap.add_argument("--contact-ip", help="default: --bind")
    ap.add_argument("--prev", action="append", default=[], help="old address (repeatable)")
    ap.add_argument("--require", default=None, help="option tag (default with --prev: x-roam-nat-continuity)")
    ap.add_argument("--expires", type=int, default=600)
    ap.add_argument("--remove-contact", action="append", default=[], help="also remove this contact IP")
    ap.add_argument("--no-auth", action="store_true", help="do not answer a 401")
    ap.add_argument("--raw", help="send this file as it is")
    ap.add_argument("--timeout", type=float, default=4.0)
    ap.add_argument("--lport", type=int, default=5060, help="local port (the UA's; 0: any)")
    a = ap.parse_args()

    host, _, port = a.server.partition(":")
    server = (host, int(port or 5060))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((a.bind, a.lport))
    lport = sock.getsockname()[1]

    if a.raw:
        with open(a.raw, "rb") as f:
            data = f.read()
        p = exchange(sock, server, data, a.timeout)
        if p is None:
            print(json.dumps({"code": 0, "reason": "no response"}))
            return 2
        print(json.dumps(p))
        return 0

    contact_ip = a.contact_ip or a.bind
    callid = f"sipreg-{a.user}-{contact_ip}@{a.domain}"
    cseq = int(time.time() * 100) % 2000000000
    uri = f"sip:{a.domain}"
    auth = ""
    require = a.require if a.require is not None else ("x-roam-nat-continuity" if a.prev else "")
    for attempt in range(3):
        branch = "z9hG4bK%016x" % random.getrandbits(64)
        lines = [
            f"REGISTER {uri} SIP/2.0",
            f"Via: SIP/2.0/UDP {a.bind}:{lport};branch={branch};rport",
            "Max-Forwards: 70",
            f"From: <sip:{a.user}@{a.domain}>;tag={random.getrandbits(32):08x}",
            f"To: <sip:{a.user}@{a.domain}>",
            f"Call-ID: {callid}",
            f"CSeq: {cseq} REGISTER",
            f"Contact: <sip:{a.user}@{contact_ip}:{lport}>;expires={a.expires}",
        ]
        for ip in a.remove_contact:
            lines.append(f"Contact: <sip:{a.user}@{ip}:5060>;expires=0")
        if require:
            lines.append(f"Require: {require}")
        if a.prev:
            lines.append("X-Roam-Previous-Contact: " + ", ".join(f"<sip:{a.user}@{p}>" for p in a.prev))
        if auth:
            lines.append(auth)
        lines += ["User-Agent: roam-sipreg", "Content-Length: 0", "", ""]
        p = exchange(sock, server, "\r\n".join(lines).encode(), a.timeout)
        if p is None:
            print(json.dumps({"code": 0, "reason": "no response"}))
            return 2
        if p["code"] != 401 or a.no_auth or attempt == 2:
            print(json.dumps(p))
            return 0
        ch = next((c for c in p["headers"].get("www-authenticate", []) if "MD5" in c.upper()), None)
        if not ch:
            print(json.dumps(p))
            return 0
        realm = re.search(r'realm="([^"]*)"', ch).group(1)
        nonce = re.search(r'nonce="([^"]*)"', ch).group(1)
        cnonce = "%08x" % random.getrandbits(32)
        user = a.auth_user or a.user
        resp = digest(user, realm, a.password, nonce, uri, "00000001", cnonce)
        auth = (f'Authorization: Digest username="{user}", realm="{realm}", nonce="{nonce}", '
                f'uri="{uri}", response="{resp}", algorithm=MD5, qop=auth, nc=00000001, '
                f'cnonce="{cnonce}"')
        cseq += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
