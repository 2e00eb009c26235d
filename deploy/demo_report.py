#!/usr/bin/python3
"""The lab demo's table: per class, what the generator offered, what the
policy allows over that time, what sluice-dp did, and what reached the
inside host.

    demo_report.py [--since STATS0.json] POLICY.yaml GEN.json COUNTS.json SINK.json

COUNTS is the dataplane's final report, or `sluicectl -j stats` (the
same shape); with --since, the counts are those of COUNTS less those of
STATS0 (what happened between two `sluicectl -j stats`: the XDP path's
part of the demo). Generator groups are named after the classes they
exercise.
"""
import ipaddress
import json
import sys

import yaml

RATE_UNITS = {"pps": 1, "kpps": 1e3, "mpps": 1e6,
              "bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9}
BYTE_UNITS = {"b": 1, "kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3}


def parse_rate(s):
    s = str(s).lower()
    for u in sorted(RATE_UNITS, key=len, reverse=True):
        if s.endswith(u):
            return float(s[: -len(u)]) * RATE_UNITS[u], u.endswith("bit")
    return float(s), False


def parse_burst(s):
    s = str(s).lower()
    for u in sorted(BYTE_UNITS, key=len, reverse=True):
        if s.endswith(u) and s[: -len(u)].replace(".", "").isdigit():
            return float(s[: -len(u)]) * BYTE_UNITS[u]
    return float(s)


def keys_in(group, key):
    """How many bucket keys the group's flows fall into."""
    src = group["src"]
    first, last = ipaddress.ip_address(src["first"]), ipaddress.ip_address(src["last"])
    if key == "flow":
        return group["flows"]
    if key in ("none", "dst") or key.startswith("dst/"):
        return 1
    if key == "src":
        return src["count"]
    bits = int(key.split("/")[1])
    plen = min(bits, first.max_prefixlen)
    net = lambda a: ipaddress.ip_network(f"{a}/{plen}", strict=False)
    return int(net(last).network_address) // (1 << (first.max_prefixlen - plen)) - \
        int(net(first).network_address) // (1 << (first.max_prefixlen - plen)) + 1


def minus(now, then):
    """now less then, for every count of the stats shape."""
    if isinstance(now, dict):
        return {k: minus(v, then.get(k) if isinstance(then, dict) else None)
                for k, v in now.items()}
    if isinstance(now, list) and now and isinstance(now[0], dict) and "name" in now[0]:
        old = {c["name"]: c for c in (then or [])}
        return [minus(c, old.get(c["name"], {})) for c in now]
    if isinstance(now, int) and not isinstance(now, bool) and isinstance(then, int):
        return now - then
    return now


def main():
    args = sys.argv[1:]
    since = None
    if args[0] == "--since":
        since = json.load(open(args[1]))
        args = args[2:]
    policy = yaml.safe_load(open(args[0]))
    gen, dp, sink = (json.load(open(f)) for f in args[1:4])
    if since is not None:
        dp = minus(dp, since)
    classes = {c["name"]: c for c in policy.get("classes", [])}
    dp_classes = {c["name"]: c for c in dp["classes"]}
    cfg = {g["name"]: g for g in gen["config"]["groups"]}

    head = ("class", "key", "offered", "allowed", "passed", "dropped",
            "marked", "monitored", "delivered")
    rows = []
    for g in gen["groups"]:
        name, c = g["name"], classes.get(g["name"])
        offered, secs = g["sent"]["packets"], g["duration_s"]
        size = cfg[name]["size"]
        first = ipaddress.ip_address(cfg[name]["src"]["first"])
        last = ipaddress.ip_address(cfg[name]["src"]["last"])
        addrs = ((ipaddress.ip_address(a), v) for a, v in sink["sources"].items())
        delivered = sum(v["packets"] for a, v in addrs
                        if a.version == first.version and first <= a <= last)
        if c is None or "limit" not in c:
            allowed, key = offered, "-"
            d = dp["default"]["packets"]
            counts = (d.get("passed", 0), d.get("dropped", 0), 0, 0)
            name = f"{name} (default)" if c is None else name
        else:
            lim = c["limit"]
            key = lim.get("key", "src")
            rate, bits = parse_rate(lim["rate"])
            burst = parse_burst(lim["burst"])
            if bits:   # bytes per key over the run, in frames of this size
                per_key = (rate / 8 * secs + burst) / size
            else:
                per_key = rate * secs + burst
            allowed = min(offered, int(keys_in(cfg[name], key) * per_key))
            p = dp_classes[name]["packets"]
            counts = (p["passed"], p["dropped"], p["marked"], p["monitored"])
        rows.append((name, key, offered, allowed, *counts, delivered))

    path = "XDP path" if since is not None else "sluice-dp"
    print(f"sluice lab demo, {path}: {gen['sent']['packets']} packets offered over "
          f"{gen['duration_s']:.1f} s; counts in packets\n")
    w = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    fmt = "  ".join("{:<%d}" % w[0] if i == 0 else "{:>%d}" % w[i] for i in range(len(head)))
    print(fmt.format(*head))
    for r in rows:
        print(fmt.format(*r))
    bad = sink["bad_ip_checksum"] + sink["bad_l4_checksum"]
    print(f"\nallowed: what the class's buckets admit over the run (rate x time + burst per key)."
          f"\ndelivered: counted at the inside host; checksum errors: {bad}."
          f"\ndefault also counts the hosts' own traffic (ICMP, ND)."
          f"\nlost before sluice-dp saw them (rx ring full, CPU busy): "
          f"{sum(p.get('rx_missed', 0) for p in dp.get('ports', []))}."
          f"\nmalformed: {dp['malformed']['packets']}, non-IP: {dp['non_ip']['packets']}.")


if __name__ == "__main__":
    main()
