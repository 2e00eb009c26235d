#!/usr/bin/python3
"""Poll a sluice-dp telemetry command and check its counters never go
back: telemetry_watch.py PREFIX COMMAND SECONDS [INTERVAL].

Every *_packets and *_bytes value under every key must be >= its last
value. Prints the number of samples; exits 1 at the first decrease."""
import json
import socket
import sys
import time

prefix, cmd, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
interval = float(sys.argv[4]) if len(sys.argv) > 4 else 0.05
path = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(path)
json.loads(s.recv(16384))          # the greeting
last, samples, end = {}, 0, time.monotonic() + secs


def flatten(d, pre=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from flatten(v, pre + k + "/")
        elif isinstance(v, int):
            yield pre + k, v


while time.monotonic() < end:
    s.send(cmd.encode())
    reply = json.loads(s.recv(1 << 20))
    for k, v in flatten(reply):
        if k in last and v < last[k]:
            print(f"{k} went back from {last[k]} to {v} after {samples} samples")
            sys.exit(1)
        last[k] = v
    samples += 1
    time.sleep(interval)
print(samples)
