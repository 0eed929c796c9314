#!/usr/bin/env python3
"""A stand-in daemon for end-to-end tests: listens on a roam control socket
(docs/protocols/control.md: one JSON request per line, one JSON reply per line), answers
every request with {"ok":true,...} ("status" with a small object) and appends each request
line to a log file, so a test can check what netlab (or anything else) sent.

usage: ctl-recorder.py SOCKET LOGFILE"""
import json
import os
import socket
import sys
import threading


def serve(conn, log):
    buf = b""
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                try:
                    req = json.loads(line)
                except ValueError:
                    conn.sendall(b'{"ok":false,"error":"bad JSON"}\n')
                    continue
                with open(log, "ab") as f:
                    f.write(line + b"\n")
                if req.get("cmd") == "status":
                    reply = {"ok": True, "result": {"daemon": "ctl-recorder"}}
                else:
                    reply = {"ok": True, "result": None}
                conn.sendall(json.dumps(reply).encode() + b"\n")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, log = sys.argv[1], sys.argv[2]
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, log), daemon=True).start()


if __name__ == "__main__":
    main()
