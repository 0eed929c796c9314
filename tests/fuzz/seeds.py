#!/usr/bin/env python3
"""Regenerates the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

Seeds come from three places:
  1. the byte vectors of the unit tests: every `const uint8_t name[] = { ... };` array (hex,
     decimal and character literals, and #define'd lists of them from the same file) and every
     string literal (adjacent literals joined) made only of hex digits and blanks;
  2. for the text targets (json, yaml, conf), the string literals of their unit tests and the
     example configs in etc/roam/;
  3. real packets built here field by field (IPv4/IPv6/UDP with correct checksums, IP-in-IP,
     rtnetlink messages as the kernel sends them) and scripts for the stateful targets.
File names are the first 16 hex digits of the content's SHA-1, so reruns are idempotent.
Usage: tests/fuzz/seeds.py [REPO_ROOT]   (default: the repository holding this script)
"""
import hashlib
import os
import re
import struct
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), "..", ".."))
UNIT = os.path.join(ROOT, "tests", "unit", "common")
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")

written = {}


def put(target, data):
    if not isinstance(data, (bytes, bytearray)) or len(data) == 0 or len(data) > 65536:
        return
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes(data))
    written.setdefault(target, set()).add(name)


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


# ---- C source scraping ------------------------------------------------------------------

ESC = {"n": 10, "t": 9, "r": 13, "0": 0, "\\": 92, "'": 39, '"': 34, "a": 7, "b": 8, "f": 12,
       "v": 11}


def c_unescape(s):
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        i += 1
        e = s[i]
        if e == "x":
            m = re.match(r"[0-9a-fA-F]+", s[i + 1:])
            out.append(int(m.group(0), 16) & 0xFF)
            i += 1 + len(m.group(0))
        elif e in "01234567":
            m = re.match(r"[0-7]{1,3}", s[i:])
            out.append(int(m.group(0), 8) & 0xFF)
            i += len(m.group(0))
        else:
            out.append(ESC.get(e, ord(e)))
            i += 1
    return bytes(out)


def strip_comments(src):
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    return re.sub(r"//[^\n]*", " ", src)


def string_groups(src):
    """Adjacent C string literals joined, as bytes."""
    src = strip_comments(src)
    groups = []
    for m in re.finditer(r'(?:"(?:[^"\\\n]|\\.)*"\s*)+', src):
        parts = re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(0))
        try:
            groups.append(b"".join(c_unescape(p) for p in parts))
        except (AttributeError, IndexError):
            pass
    return groups


def hex_strings(src):
    out = []
    for g in string_groups(src):
        t = re.sub(rb"\s", b"", g)
        if len(t) >= 16 and len(t) % 2 == 0 and re.fullmatch(rb"[0-9a-fA-F]+", t):
            out.append(bytes.fromhex(t.decode()))
    return out


def defines(src):
    d = {}
    src = strip_comments(src).replace("\\\n", " ")
    for m in re.finditer(r"^\s*#define\s+(\w+)\s+(.+)$", src, flags=re.M):
        d[m.group(1)] = m.group(2).strip()
    return d


def tokens_to_bytes(body, defs, depth=0):
    out = bytearray()
    for tok in [t.strip() for t in body.split(",")]:
        if not tok:
            continue
        if re.fullmatch(r"0[xX][0-9a-fA-F]+[uU]?", tok):
            out.append(int(tok.rstrip("uU"), 16) & 0xFF)
        elif re.fullmatch(r"\d+[uU]?", tok):
            out.append(int(tok.rstrip("uU")) & 0xFF)
        elif re.fullmatch(r"'(?:[^'\\]|\\.[0-9a-fA-F]*)'", tok):
            out += c_unescape(tok[1:-1])
        elif tok in defs and depth < 4:
            sub = tokens_to_bytes(defs[tok], defs, depth + 1)
            if sub is None:
                return None
            out += sub
        else:
            return None
    return bytes(out)


def byte_arrays(src):
    defs = defines(src)
    clean = strip_comments(src)
    out = {}
    for m in re.finditer(r"const\s+uint8_t\s+(\w+)\s*\[\s*\w*\s*\]\s*=\s*\{(.*?)\}\s*;",
                         clean, flags=re.S):
        b = tokens_to_bytes(m.group(2), defs)
        if b:
            out[m.group(1)] = b
    return out


def vectors(fname):
    path = os.path.join(UNIT, fname)
    if not os.path.exists(path):
        return {}
    src = read(path)
    v = byte_arrays(src)
    for i, b in enumerate(hex_strings(src)):
        v["hex%d" % i] = b
    return v


# ---- checksums and packet builders ---------------------------------------------------------

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(src, dst, proto, payload, ttl=64, ident=0x1234, df=True):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000 if df else 0,
                    ttl, proto, 0, bytes(src), bytes(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def udp4(src, dst, sport, dport, payload):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ph = bytes(src) + bytes(dst) + struct.pack("!BBH", 0, 17, len(u))
    c = csum(ph + u) or 0xFFFF
    return ip4(src, dst, 17, u[:6] + struct.pack("!H", c) + u[8:])


def ip6(src, dst, nxt, payload, hlim=64, flow=0):
    return struct.pack("!IHBB16s16s", (6 << 28) | flow, len(payload), nxt, hlim, src, dst) + payload


def udp6(src, dst, sport, dport, payload, ext=b"", first=17):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ph = src + dst + struct.pack("!IxxxB", len(u), 17)
    c = csum(ph + u) or 0xFFFF
    u = u[:6] + struct.pack("!H", c) + u[8:]
    return ip6(src, dst, first if ext else 17, ext + u)


def a4(s):
    return bytes(int(x) for x in s.split("."))


def a6(last):
    return bytes.fromhex("20010db8000000000000000000000000")[:15] + bytes([last])


# ---- per target -----------------------------------------------------------------------------

def seed_codecs():
    for b in vectors("test_hlr_codec.c").values():
        put("fuzz_hlr", b)
    for b in vectors("test_radius.c").values():
        put("fuzz_radius", b)
    l2tp = vectors("test_l2tp_codec.c")
    for b in l2tp.values():
        put("fuzz_l2tp", b)
    for b in vectors("test_l2tp_handoff.c").values():
        put("fuzz_l2tp_um", b)
    mip = vectors("test_mip4_codec.c")
    for b in mip.values():
        put("fuzz_mip4", b)
        put("fuzz_mip4_adv", b)
    ppp = dict(vectors("test_ppp_codec.c"))
    ppp.update(vectors("test_ppp_link.c"))
    for name, b in ppp.items():
        put("fuzz_ppp_codec", b)
        if b[:1] == b"\x7e" or b[-1:] == b"\x7e":
            for mode in (0x00, 0x05, 0x23):
                put("fuzz_ppp_hdlc", bytes([mode, 0x11]) + b)
    for b in vectors("test_ip.c").values():
        put("fuzz_ip", b)
    return l2tp


def fcs16(data):
    fcs = 0xFFFF
    for byte in data:
        fcs ^= byte
        for _ in range(8):
            fcs = (fcs >> 1) ^ 0x8408 if fcs & 1 else fcs >> 1
    return fcs ^ 0xFFFF


def hdlc(proto, info, accm=0xFFFFFFFF):
    raw = b"\xff\x03" + struct.pack("!H", proto) + info
    raw += struct.pack("<H", fcs16(raw))
    out = bytearray(b"\x7e")
    for c in raw:
        if c in (0x7E, 0x7D) or (c < 0x20 and accm & (1 << c)):
            out += bytes([0x7D, c ^ 0x20])
        else:
            out.append(c)
    out.append(0x7E)
    return bytes(out)


def seed_ppp():
    lcp_req = bytes.fromhex("01010014 010405dc 0206 00000000 0506 11223344 0304c023".replace(" ", ""))
    lcp_req = lcp_req[:2] + struct.pack("!H", len(lcp_req)) + lcp_req[4:]
    ipcp_req = bytes.fromhex("0101000a 0306 0a400001".replace(" ", ""))
    chap = bytes.fromhex("012a0018 10") + bytes(range(16)) + b"lns"
    chap = chap[:2] + struct.pack("!H", len(chap)) + chap[4:]
    for info, proto in ((lcp_req, 0xC021), (ipcp_req, 0x8021), (chap, 0xC223),
                        (bytes.fromhex("450000140000400040010000c0a80001c0a80002"), 0x0021)):
        put("fuzz_ppp_codec", info)
        put("fuzz_ppp_codec", b"\xff\x03" + struct.pack("!H", proto) + info)
        frames = hdlc(proto, info)
        put("fuzz_ppp_hdlc", b"\x00\x00" + frames)
        put("fuzz_ppp_hdlc", b"\x03\x5a" + frames + hdlc(proto, info, 0) + b"\x7e\x7e")
    # ppp_link scripts: configuration byte, then steps (0 = deliver, 7 = timers, 8 = HDLC).
    for conf in (0x00, 0x01, 0x02, 0x03, 0x0a, 0x13, 0x3b, 0x46, 0x82):
        put("fuzz_ppp_link", bytes([conf]) + b"\x00" * 120)
        put("fuzz_ppp_link", bytes([conf]) + (b"\x00" * 6 + b"\x07\x0b\xb8") * 12)
        put("fuzz_ppp_link", bytes([conf]) + (b"\x08\x06" + b"\x00" * 3) * 30 + b"\x09\x06")
        put("fuzz_ppp_link", bytes([conf]) + b"\x00" * 60 + b"\x09\x06\x09\x07" +
            b"\x07\xff\xff" * 4 + b"\x09\x00" + b"\x00" * 20)


def seed_l2tp_ctrl(l2tp):
    # Raw datagrams as op 0 records, then synthesised traffic.
    for b in l2tp.values():
        if len(b) < 256:
            put("fuzz_l2tp_ctrl", bytes([8, 5, 0, len(b)]) + b)
    put("fuzz_l2tp_ctrl", bytes([8, 5]) + b"\x03\x03\x03\x01\x00\x00\x00\x02\x01\x04\x00\xff" +
        b"\x04\x03\xe8" * 8)
    put("fuzz_l2tp_ctrl", bytes([4, 2]) + b"\x01\x02\x00\x00\x01\x00\x00\x00\x01\x01\x00\x00" +
        b"\x06\x04\x00\xfa\x03\x03\x03\x03\x03\x04\xff\xff" * 3)
    put("fuzz_l2tp_ctrl", bytes([16, 5]) + b"\x05\x10" + b"\x03" * 20 + b"\x02\x05" +
        b"\x04\x13\x88" * 10)


def seed_ip():
    s, d = a4("192.0.2.1"), a4("192.0.2.2")
    l2tp = bytes.fromhex("c80200140000000000000000800800000000000b")  # HELLO-ish control msg
    pkts = [
        udp4(s, d, 1701, 1701, l2tp),
        udp4(s, d, 434, 434, bytes.fromhex("0100012c") + bytes(20)),
        ip4(a4("198.51.100.1"), a4("198.51.100.2"), 4,
            udp4(a4("10.64.0.2"), a4("203.0.113.9"), 40000, 53, b"\x12\x34" + bytes(10))),
        udp6(a6(1), a6(2), 5000, 6000, b"roam"),
        udp6(a6(1), a6(2), 5000, 6000, b"ext", ext=bytes([17, 0, 1, 4, 0, 0, 0, 0]), first=0),
        ip6(a6(3), a6(4), 41, udp6(a6(1), a6(2), 1, 2, b"inner")),
        ip6(a6(3), a6(4), 60, bytes([41, 0, 1, 4, 0, 0, 0, 0]) + udp6(a6(5), a6(6), 7, 8, b"x")),
    ]
    for p in pkts:
        put("fuzz_ip", p)


def rta(t, payload):
    ln = 4 + len(payload)
    return struct.pack("=HH", ln, t) + payload + b"\0" * ((4 - ln % 4) % 4)


def nlmsg(t, body, seq=1):
    return struct.pack("=IHHII", 16 + len(body), t, 0, seq, 0) + body


def seed_netlink():
    RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR = 16, 17, 20, 21
    IFLA_IFNAME, IFLA_MTU = 3, 4
    IFA_ADDRESS, IFA_LOCAL, IFA_LABEL, IFA_FLAGS = 1, 2, 3, 8
    ifi = struct.pack("=BxHiII", 0, 1, 2, 0x11043, 0xFFFFFFFF)  # up, running, lower up
    link = nlmsg(RTM_NEWLINK, ifi + rta(IFLA_IFNAME, b"eth0\0") + rta(IFLA_MTU,
                                                                      struct.pack("=I", 1500)))
    dellink = nlmsg(RTM_DELLINK, ifi + rta(IFLA_IFNAME, b"roam-tun0\0"))
    ifa4 = struct.pack("=BBBBi", 2, 24, 0x80, 0, 2)
    addr4 = nlmsg(RTM_NEWADDR, ifa4 + rta(IFA_ADDRESS, a4("192.0.2.7")) +
                  rta(IFA_LOCAL, a4("192.0.2.7")) + rta(IFA_LABEL, b"eth0\0") +
                  rta(IFA_FLAGS, struct.pack("=I", 0x80)))
    ifa6 = struct.pack("=BBBBi", 10, 64, 0x40, 0, 3)
    addr6 = nlmsg(RTM_DELADDR, ifa6 + rta(IFA_ADDRESS, a6(9)))
    for m in (link, dellink, addr4, addr6):
        put("fuzz_netlink", m)
    put("fuzz_netlink", link + addr4 + addr6)


def seed_text():
    for g in string_groups(read(os.path.join(UNIT, "test_json.c"))):
        if len(g) >= 2:
            put("fuzz_json", g)
    for fname, targets in (("test_yaml.c", ("fuzz_yaml",)), ("test_conf.c", ("fuzz_conf", "fuzz_yaml"))):
        path = os.path.join(UNIT, fname)
        if not os.path.exists(path):
            continue
        for g in string_groups(read(path)):
            if len(g) >= 4 and (b":" in g or b"-" in g):
                for t in targets:
                    put(t, g)
    etc = os.path.join(ROOT, "etc", "roam")
    if os.path.isdir(etc):
        for f in sorted(os.listdir(etc)):
            if f.endswith(".yaml"):
                with open(os.path.join(etc, f), "rb") as fh:
                    b = fh.read()
                put("fuzz_yaml", b)
                put("fuzz_conf", b)
    put("fuzz_conf", b"name: lns1\nport: 1701\ntimeout: 2s\nbufsize: 1MiB\nmode: fast\n"
        b"addr: 192.0.2.1\naddr4: 192.0.2.2\npool: 10.64.0.0/16\nlisten: '[::1]:434'\n"
        b"spi: hex:00112233\npassword: s3cret\ntunnel: {hello: 30s, retries: 3, enabled: yes}\n"
        b"peers:\n  - name: fa1\n    addr: 192.0.2.9\n    key: 000102030405060708090a0b0c0d0e0f\n"
        b"    weight: 2\ndns: [192.0.2.53, '2001:db8::53']\ntags: [a, b, c]\n")
    put("fuzz_json", b'{"cmd":"show","args":{"peer":"192.0.2.1","n":[1,-2.5e3,true,null]},'
        b'"s":"caf\\u00e9 \\ud83d\\ude00\\n"}')


def main():
    l2tp = seed_codecs()
    seed_ppp()
    seed_l2tp_ctrl(l2tp)
    seed_ip()
    seed_netlink()
    seed_text()
    for t in sorted(written):
        print("%-16s %3d seeds" % (t, len(written[t])))


if __name__ == "__main__":
    main()
