#!/usr/bin/env bash
# The benchmark suite's plumbing, not its speed (speed is perf/'s to
# report, never a test's to assert):
#  1. perf/report.py decides each goal from the figures it is given:
#     fixtures just inside and just outside each goal give yes and no;
#     a bench missing from the run leaves its goal out, not "met"; TSC
#     cycles are scaled to core cycles by the measured clock ratio.
#  2. perf/run.sh --quick, for the benches that fit in a test's time
#     (rate accuracy, apply time, the XDP path), writes report.json,
#     report.md and a PNG per plot; the engine's rate error is under 1%
#     from 1 kpps to 10 Mpps; a 10,000-class policy applies and is
#     pushed whole to a forwarding dataplane; --report-only renders the
#     same report again.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${SLUICE_BUILD:-$ROOT/build}
T=$(mktemp -d /tmp/test_perf_suite.XXXXXX)
trap 'rm -rf "$T"' EXIT

log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }
fail() { log "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skipped: needs root"; exit 77; }
command -v gnuplot >/dev/null || fail "gnuplot missing (deploy/setup.sh installs gnuplot-nox)"

# fixture DIR SLUICE_CPP QOS_METER_CPP RATE_ERROR_PCT: a run's worth of JSON.
fixture() {
	mkdir -p "$1/json"
	python3 - "$@" <<'EOF'
import json, sys
d, cpp, qm, err = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
def w(name, obj):
    json.dump(obj, open(f"{d}/json/{name}.json", "w"))
w("worker", {"table": [{"config": c, "mpps_cpu": 2100 / v, "cpu_cycles_per_packet": v,
                        "cpu_ratio_io": v / 17, "cpu_ratio_macswap": v / 19}
                       for c, v in (("io", 17.0), ("macswap", 19.0), ("sluice", cpp))]})
w("qos_meter", {"table": [{"config": "qos_meter", "mpps_cpu": 2100 / qm, "cpu_cycles_per_packet": qm,
                           "ratio_qos_meter": 1.0},
                          {"config": "sluice", "mpps_cpu": 2100 / cpp, "cpu_cycles_per_packet": cpp,
                           "ratio_qos_meter": cpp / qm}]})
w("rate", {"table": [{"config": "1 kpps even", "kind": "pps", "arrival": "even", "rate": 1e3,
                      "offered": 2e3, "passed": 1e3 * (1 + err / 100), "error_pct": err, "frame_bytes": 64},
                     {"config": "10 Mpps even", "kind": "pps", "arrival": "even", "rate": 1e7,
                      "offered": 2e7, "passed": 1e7, "error_pct": 0.0, "frame_bytes": 64}]})
json.dump({"mode": "quick", "benches": [{"name": n, "status": "ok", "seconds": 1, "command": "x"}
                                        for n in ("worker", "qos_meter", "rate", "kernel")],
           "machine": {"cpu": "fixture", "l2_bytes": 1 << 20}}, open(f"{d}/status.json", "w"))
EOF
	python3 "$ROOT/perf/report.py" "$1" >/dev/null || fail "report.py failed on fixture $1"
}

# goal DIR KEY: yes/no/absent for goals[KEY].met in DIR/report.json.
goal() {
	python3 -c 'import json, sys
g = json.load(open(sys.argv[1]))["goals"].get(sys.argv[2])
print("absent" if g is None else ("yes" if g["met"] else "no"))' "$1/report.json" "$2"
}

log "1. goals from fixtures"
# 3 GHz / 14.88 Mpps = 201.6 cycles a packet.
fixture "$T/in" 201.0 202.0 0.99
fixture "$T/out" 202.0 201.0 1.01
for k in line_rate qos_meter rate_error; do
	[ "$(goal "$T/in" $k)" = yes ] || fail "goal $k not met by figures inside it: $(goal "$T/in" $k)"
	[ "$(goal "$T/out" $k)" = no ] || fail "goal $k met by figures outside it: $(goal "$T/out" $k)"
done
grep -q '^| rate error under 1% | .* | no |$' "$T/out/report.md" || fail "report.md lacks the failed rate goal row"
# TSC cycles become core cycles at the measured clock ratio: 150 TSC
# cycles on a core 1.5x the TSC's clock are 225, over the 201.6 budget.
fixture "$T/clock" 150.0 202.0 0.5
python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
s["machine"]["core_per_tsc"] = 1.5
json.dump(s, open(sys.argv[1], "w"))' "$T/clock/status.json"
python3 "$ROOT/perf/report.py" "$T/clock" >/dev/null
[ "$(goal "$T/clock" line_rate)" = no ] || fail "the core clock ratio was not applied to the line-rate goal"
rm "$T/in/json/qos_meter.json"
python3 "$ROOT/perf/report.py" "$T/in" >/dev/null
[ "$(goal "$T/in" qos_meter)" = absent ] || fail "a missing qos_meter run still decided its goal"
for p in peers rate_error; do
	[ "$(head -c 8 "$T/out/plots/$p.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
		fail "plots/$p.png is not a PNG"
done

log "2. perf/run.sh --quick --only rate,apply,xdp"
bash "$ROOT/perf/run.sh" --quick --only rate,apply,xdp --build "$BUILD" --out "$T/run" >"$T/run.log" 2>&1 ||
	{ tail -30 "$T/run.log"; fail "perf/run.sh failed"; }
tail -3 "$T/run.log"
for f in report.md report.json plots/rate_error.png plots/apply.png plots/xdp.png json/rate.json json/apply.json json/xdp.json; do
	[ -s "$T/run/$f" ] || fail "perf/run.sh left no $f"
done
python3 - "$T/run/report.json" <<'EOF' || fail "report.json does not hold what the run measured"
import json, sys
r = json.load(open(sys.argv[1]))
rate = r["benches"]["rate"]["table"]
assert {x["rate"] for x in rate} >= {1e3, 1e5, 1e7}, "rates missing"
worst = max(abs(x["error_pct"]) for x in rate)
assert worst < 1.0, f"rate error {worst}% over 1%"
assert r["goals"]["rate_error"]["met"], "rate goal not met"
a = {x["classes"]: x for x in r["benches"]["apply"]["table"]}
assert 10000 in a and a[10000]["apply_ms"] > 0, "no 10,000-class apply"
assert all(x["status"] == "ok" for x in r["status"]["benches"]), r["status"]["benches"]
print(f"rate error at most {worst:.4f}%; 10,000 classes applied in {a[10000]['apply_ms']:.0f} ms")
EOF
# A run renders again to the same goals and machine (run.env keeps what
# the run measured, the core clock among it).
cp "$T/run/report.json" "$T/first.json"
bash "$ROOT/perf/run.sh" --report-only --build "$BUILD" --out "$T/run" >"$T/again.log" 2>&1 ||
	{ tail -5 "$T/again.log"; fail "perf/run.sh --report-only failed"; }
python3 - "$T/first.json" "$T/run/report.json" <<'EOF' || fail "--report-only changed what the run measured"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["goals"] == b["goals"], (a["goals"], b["goals"])
m = ("core_per_tsc", "loadavg_start", "loadavg_end")
assert [a["status"]["machine"][k] for k in m] == [b["status"]["machine"][k] for k in m]
assert a["status"]["started"] == b["status"]["started"]
EOF
log "PASS"
