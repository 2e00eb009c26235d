#!/usr/bin/env bash
# Rate accuracy from 1 kpps to 10 Mpps: what a class lets through against
# what it is configured to, with the dataplane's own engine run offline
# (`sluicectl replay`, the capture's timestamps as the clock), so that
# rates no port of this machine can carry are exact to the nanosecond.
#
#   perf/bench_rate.sh [--quick] [--json FILE] [--build DIR]
#
# Each case is one class, `limit: { key: flow, rate: R, burst: B }`,
# exceed drop, and one flow offered at twice R for D seconds, its packets
# evenly spaced, with exponential gaps (Poisson arrivals, a fixed seed),
# or evenly spaced but stamped by a clock read once a microsecond (the
# dataplane reads its clock once per rx burst: a burst's packets share
# a time). D is 40,000 of the limit's packets long, so every case replays
# 80,000 packets and passes about 40,000. B is 0.5 ms of the rate (at
# least 10 packets' worth), spent by D/4; the passed rate is counted over
# [D/4, D) from the forwarded packets' timestamps, and the error is
# (passed rate / R - 1) in percent. Packet rates use 64-byte frames, bit
# rates 1500-byte frames (bits of the frame without FCS, as sluice meters
# them). The live path's accuracy at lower rates is bench_kernel.sh's.
#
# Builds nothing (DIR/control/sluicectl). Needs no root.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=$ROOT/build
JSON=
QUICK=0

usage() {
	sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--json) JSON=$2; shift ;;
	--build) BUILD=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench_rate.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
CTL=$BUILD/control/sluicectl
JSON=${JSON:-$BUILD/perf/bench_rate.json}
[ -x "$CTL" ] || { echo "bench_rate.sh: $CTL not built (meson compile -C $BUILD)" >&2; exit 1; }
mkdir -p "$(dirname "$JSON")"

T=$(mktemp -d /tmp/bench_rate.XXXXXX)
trap 'rm -rf "$T"' EXIT

python3 - "$CTL" "$T" "$JSON" "$QUICK" <<'EOF'
import json, random, statistics, struct, subprocess, sys, time
ctl, tdir, out, quick = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"

PASSED = 40000			# packets a case lets through, about
POLL_NS = 1000			# a poll loop's clock: one reading a microsecond
ARRIVALS = ("even", "poisson", "polled")
if quick:
    cases = [("pps", r, a) for r in (1e3, 1e5, 1e7) for a in ARRIVALS]
    cases += [("bit", 1e9, "even")]
else:
    cases = [("pps", r, a) for r in (1e3, 1e4, 1e5, 1e6, 1e7) for a in ARRIVALS]
    cases += [("bit", r, "even") for r in (1e7, 1e9, 1e10)]

def csum(b):
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def frame(size):
    """Ethernet + IPv4 + UDP 10.0.0.1:4000 -> 10.1.0.2:5000, size bytes."""
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    ip_len = size - 14
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, 0, 0x4000, 64, 17, 0,
                               bytes([10, 0, 0, 1]), bytes([10, 1, 0, 2])))
    ip[10:12] = struct.pack("!H", csum(bytes(ip)))
    udp = struct.pack("!HHHH", 4000, 5000, ip_len - 20, 0)
    return eth + bytes(ip) + udp + bytes(ip_len - 28)

def unit_text(kind, r):
    """The rate as the policy spells it."""
    if kind == "pps":
        return f"{r:.0f}pps"
    return f"{r / 1e6:.0f}Mbit"

def pretty(kind, r):
    """The rate as a reader wants it: 1 kpps, 10 Mpps, 1 Gbit."""
    units = ("pps", "kpps", "Mpps", "Gpps") if kind == "pps" else ("bit", "kbit", "Mbit", "Gbit")
    k = 0
    while r >= 1000 and k < 3:
        r, k = r / 1000, k + 1
    return f"{r:.6g} {units[k]}"

def write_pcap(path, f, times_ns):
    hdr = struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 65535, 1)	# ns timestamps
    rec = struct.pack("<II", len(f), len(f)) + f
    with open(path, "wb") as o:
        o.write(hdr)
        o.write(b"".join(struct.pack("<II", t // 1000000000, t % 1000000000) + rec
                         for t in times_ns))

def read_times(path):
    b = open(path, "rb").read()
    magic = struct.unpack_from("<I", b)[0]
    scale = 1 if magic == 0xa1b23c4d else 1000
    ts, off = [], 24
    while off < len(b):
        s, frac, incl, _ = struct.unpack_from("<IIII", b, off)
        ts.append(s * 1000000000 + frac * scale)
        off += 16 + incl
    return ts

rows, runs = [], {}
base = 1_000_000_000 * 1_700_000_000		# a plausible epoch, in ns
for kind, rate, arrival in cases:
    size = 64 if kind == "pps" else 1500
    pps = rate if kind == "pps" else rate / (size * 8)	# the limit in packets/s
    dur_ns = int(PASSED / pps * 1e9)
    burst_pk = max(10, pps * 0.0005)
    burst = f"{burst_pk:.0f}" if kind == "pps" else f"{burst_pk * size:.0f}B"
    name = f"{pretty(kind, rate)} {arrival}"
    pol = f"{tdir}/p.yaml"
    open(pol, "w").write("version: 1\ndefault: pass\nclasses:\n  - name: limited\n"
                         "    match: { proto: udp, dport: 5000 }\n"
                         f"    limit: {{ key: flow, rate: {unit_text(kind, rate)}, burst: {burst} }}\n"
                         "    exceed: drop\n")
    n = int(2 * PASSED)
    gap = dur_ns / n
    rnd = random.Random(1)
    t, times = 0.0, []
    for _ in range(n):
        if arrival == "polled":		# stamped at the next clock reading
            times.append(base + -(-int(t) // POLL_NS) * POLL_NS)
        else:
            times.append(base + int(t))
        t += gap if arrival != "poisson" else rnd.expovariate(1 / gap)
    dur_ns = int(t)
    write_pcap(f"{tdir}/in.pcap", frame(size), times)
    t0 = time.monotonic()
    r = subprocess.run([ctl, "--json", "replay", "--policy", pol, f"{tdir}/in.pcap", f"{tdir}/out.pcap"],
                       capture_output=True, text=True)
    replay_s = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit(f"bench_rate.sh: sluicectl replay failed for {name}: {r.stderr.strip()}")
    rep = json.loads(r.stdout)
    fwd = read_times(f"{tdir}/out.pcap")
    lo, hi = base + dur_ns // 4, base + dur_ns
    win = sum(1 for x in fwd if lo <= x < hi)
    passed_pps = win / ((hi - lo) / 1e9)
    passed = passed_pps if kind == "pps" else passed_pps * size * 8
    err = round((passed / rate - 1) * 100, 6)	# beyond that, float noise
    row = {"config": name, "kind": kind, "arrival": arrival, "rate": rate,
           "offered": n / (dur_ns / 1e9) * (1 if kind == "pps" else size * 8),
           "passed": passed, "error_pct": err, "frame_bytes": size,
           "packets": n, "forwarded": len(fwd), "window_packets": win,
           "duration_s": dur_ns / 1e9, "replay_s": replay_s}
    rows.append(row)
    runs[name] = {"replay": rep.get("replay"), "policy": open(pol).read()}
    print(f"  {name}: {err:+.4f}%", file=sys.stderr)

load = open("/proc/loadavg").read().split()[:3]
print("\nrate accuracy (sluicectl replay: the dataplane's engine, capture time as the clock)")
print(f"{'config':<18} {'limit':>12} {'offered':>12} {'passed':>12} {'error %':>9} {'window pkts':>11}")
human = pretty
for r in rows:
    print(f"{r['config']:<18} {human(r['kind'], r['rate']):>12} {human(r['kind'], r['offered']):>12} "
          f"{human(r['kind'], r['passed']):>12} {r['error_pct']:+9.4f} {r['window_packets']:11d}")
worst = max(abs(r["error_pct"]) for r in rows)
print(f"largest error: {worst:.4f}% (goal: under 1%)")
json.dump({"bench": "rate", "loadavg": [float(x) for x in load], "table": rows,
           "max_abs_error_pct": worst, "runs": runs}, open(out, "w"), indent=1)
print(f"results: {out}")
EOF
