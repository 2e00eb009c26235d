#!/usr/bin/python3
"""A minimal client of the control protocol (docs/protocol.md) for the
integration tests: 4-byte big-endian length, then one JSON object.

  sluiced_client.py call SOCKET CMD [ARGS-JSON] [--expect EXPR] [--quiet]
      one request; prints the reply (one line of JSON). With --expect,
      EXPR is a Python expression over the reply `r` (a dict): exits 1
      and says why when it is false. @FILE as ARGS-JSON's "text" value
      (written "text": "@FILE") reads the policy text from FILE.
  sluiced_client.py abuse SOCKET KIND
      oversize | zero | garbage | badversion | stall | clients N
      exits 0 when the server behaved as docs/protocol.md says.
  sluiced_client.py applies SOCKET FILE... --count N
      applies the files in turn as fast as it can, printing each
      version; for the kill -9 test (errors from a killed server end it).
"""
import json
import os
import socket
import struct
import sys
import time


def connect(path, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def send_frame(s, payload):
    s.sendall(struct.pack(">I", len(payload)) + payload)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def recv_frame(s):
    (n,) = struct.unpack(">I", recv_exact(s, 4))
    return json.loads(recv_exact(s, n))


_next_id = [1]


def call(s, cmd, args=None):
    req = {"v": 1, "id": _next_id[0], "cmd": cmd}
    _next_id[0] += 1
    if args is not None:
        req["args"] = args
    send_frame(s, json.dumps(req).encode())
    return recv_frame(s)


def expand(args):
    """Replace "@FILE" values of "text" with the file's contents."""
    if isinstance(args, dict) and isinstance(args.get("text"), str) \
            and args["text"].startswith("@"):
        with open(args["text"][1:], encoding="utf-8") as f:
            args["text"] = f.read()
    return args


def fail(msg):
    print("sluiced_client: " + msg, file=sys.stderr)
    sys.exit(1)


def cmd_call(argv):
    expect = None
    quiet = False
    rest = []
    i = 0
    while i < len(argv):
        if argv[i] == "--expect":
            expect = argv[i + 1]
            i += 2
            continue
        if argv[i] == "--quiet":
            quiet = True
        else:
            rest.append(argv[i])
        i += 1
    path, cmd = rest[0], rest[1]
    args = expand(json.loads(rest[2])) if len(rest) > 2 else None
    s = connect(path)
    r = call(s, cmd, args)
    s.close()
    if not quiet:
        print(json.dumps(r))
    if expect is not None:
        try:
            ok = eval("(" + expect + "\n)", {}, {"r": r})
        except Exception as e:  # a missing key is a failed expectation
            ok = False
            expect += " (%s: %s)" % (type(e).__name__, e)
        if not ok:
            fail("%s: expected %s, got %s" % (cmd, expect, json.dumps(r)[:2000]))


def reply_or_close(s):
    """The reply, or None once the server closed the connection."""
    try:
        return recv_frame(s)
    except (EOFError, ConnectionResetError):
        return None


def closed(s, within=5.0):
    s.settimeout(within)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def abuse(path, kind, extra):
    s = connect(path)
    if kind == "oversize":
        # A header announcing 16 MiB + 1: E2BIG, then closed.
        s.sendall(struct.pack(">I", 16 * 1024 * 1024 + 1))
        r = reply_or_close(s)
        if not r or r.get("ok") or r["error"]["code"] != "E2BIG":
            fail("oversize: expected an E2BIG reply, got %r" % (r,))
        if not closed(s):
            fail("oversize: connection still open")
    elif kind == "zero":
        s.sendall(struct.pack(">I", 0))
        r = reply_or_close(s)
        if not r or r["error"]["code"] != "EINVAL" or not closed(s):
            fail("zero: expected EINVAL and a close, got %r" % (r,))
    elif kind == "garbage":
        # Not JSON: EINVAL, and the connection stays usable.
        send_frame(s, b"\x00\xffthis is not json{{{")
        r = recv_frame(s)
        if r.get("ok") or r["error"]["code"] != "EINVAL":
            fail("garbage: expected EINVAL, got %r" % (r,))
        send_frame(s, b"[1, 2, 3]")
        r = recv_frame(s)
        if r["error"]["code"] != "EINVAL":
            fail("garbage: a JSON array: expected EINVAL, got %r" % (r,))
        send_frame(s, json.dumps({"v": 1, "id": 1, "cmd": "no.such"}).encode())
        r = recv_frame(s)
        if r["error"]["code"] != "EINVAL" or "unknown command" not in r["error"]["message"]:
            fail("garbage: unknown command: got %r" % (r,))
        send_frame(s, json.dumps({"v": 1, "id": 2, "cmd": "status",
                                  "args": {"bogus": 1}}).encode())
        r = recv_frame(s)
        if r["error"]["code"] != "EINVAL":
            fail("garbage: unknown argument: got %r" % (r,))
        deep = "[" * 40 + "]" * 40
        send_frame(s, ('{"v":1,"id":3,"cmd":"status","args":{"x":%s}}' % deep).encode())
        r = recv_frame(s)
        if r["error"]["code"] != "EINVAL":
            fail("garbage: deep nesting: got %r" % (r,))
        r = call(s, "status")
        if not r.get("ok"):
            fail("garbage: status after garbage failed: %r" % (r,))
    elif kind == "badversion":
        send_frame(s, json.dumps({"v": 2, "id": 5, "cmd": "status"}).encode())
        r = recv_frame(s)
        if r["error"]["code"] != "EPROTO" or r["id"] != 5:
            fail("badversion: expected EPROTO for id 5, got %r" % (r,))
    elif kind == "stall":
        # Half a message, then nothing: closed after the read timeout.
        t0 = time.monotonic()
        s.sendall(struct.pack(">I", 100) + b'{"v":1,')
        r = reply_or_close(s)
        dt = time.monotonic() - t0
        if r is not None and r["error"]["code"] != "ETIMEDOUT":
            fail("stall: expected ETIMEDOUT, got %r" % (r,))
        if not closed(s, 1.0):
            fail("stall: connection still open")
        if dt < 1.5 or dt > 4.0:
            fail("stall: closed after %.1f s, expected about 2 s" % dt)
    elif kind == "clients":
        n = int(extra[0])
        held = [s] + [connect(path) for _ in range(n - 1)]
        # Make sure the server accepted the first ones before the last.
        for c in held:
            if not call(c, "status").get("ok"):
                fail("clients: a status failed")
        last = connect(path)
        r = reply_or_close(last)
        if r is None or r["error"]["code"] != "EBUSY":
            fail("clients: client %d: expected EBUSY, got %r" % (n + 1, r))
        held[0].close()
        time.sleep(0.2)
        again = connect(path)
        if not call(again, "status").get("ok"):
            fail("clients: no room after one left")
        again.close()
        for c in held[1:]:
            c.close()
    elif kind == "refused":
        # A peer the server must refuse (run as another uid): EPERM.
        r = reply_or_close(s)
        if r is None or r["error"]["code"] != "EPERM":
            fail("refused: expected EPERM, got %r" % (r,))
    else:
        fail("unknown abuse " + kind)
    s.close()


def applies(path, files, count):
    texts = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            texts.append((os.path.basename(f), fh.read()))
    s = connect(path)
    for i in range(count):
        name, text = texts[i % len(texts)]
        r = call(s, "policy.apply", {"text": text, "name": name})
        if not r.get("ok"):
            fail("apply %d: %r" % (i, r))
        print(r["result"]["version"], name, flush=True)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    what, argv = sys.argv[1], sys.argv[2:]
    if what == "call":
        cmd_call(argv)
    elif what == "abuse":
        abuse(argv[0], argv[1], argv[2:])
    elif what == "applies":
        n = argv.index("--count")
        applies(argv[0], argv[1:n], int(argv[n + 1]))
    else:
        fail("unknown mode " + what)


if __name__ == "__main__":
    main()
