#!/usr/bin/python3
"""A client of sluice's control protocol (docs/protocol.md) for tests.

    ctlclient.py SOCKET CMD [ARGS-JSON]      one request; prints the reply
    ctlclient.py SOCKET policy.load @FILE    args {"text": FILE's text, "name": FILE}

Exit status: 0 if the reply says ok, 1 if it carries an error, 2 if the
exchange itself failed."""
import json
import socket
import struct
import sys


def call(path, cmd, args=None, timeout=10.0, req_id=1):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    msg = {"v": 1, "id": req_id, "cmd": cmd}
    if args is not None:
        msg["args"] = args
    body = json.dumps(msg).encode()
    s.sendall(struct.pack(">I", len(body)) + body)
    hdr = b""
    while len(hdr) < 4:
        chunk = s.recv(4 - len(hdr))
        if not chunk:
            raise ConnectionError("closed before a reply")
        hdr += chunk
    (n,) = struct.unpack(">I", hdr)
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed in the middle of a reply")
        data += chunk
    s.close()
    return json.loads(data)


def main():
    path, cmd = sys.argv[1], sys.argv[2]
    args = None
    if len(sys.argv) > 3:
        a = sys.argv[3]
        if a.startswith("@"):
            args = {"text": open(a[1:]).read(), "name": a[1:]}
        else:
            args = json.loads(a)
    try:
        reply = call(path, cmd, args)
    except (OSError, ValueError) as e:
        print(f"ctlclient: {e}", file=sys.stderr)
        sys.exit(2)
    print(json.dumps(reply))
    sys.exit(0 if reply.get("ok") else 1)


if __name__ == "__main__":
    main()
