#!/usr/bin/env python3
"""The benchmark report: perf/run.sh's results turned into one JSON
file, a Markdown page and PNG plots (gnuplot).

    perf/report.py DIR

DIR holds json/NAME.json (what each bench script wrote), status.json
(what perf/run.sh ran, how each ended, the machine) and gets
report.json, report.md and plots/*.png. Every section is optional: a
bench that failed or was skipped is listed as such, the rest stands.
"""
import json
import math
import os
import shutil
import subprocess
import sys

# The goals docs/performance.md reports against (issue 6).
GOAL_MPPS = 14.88		# a 10 GbE port's 64-byte line rate, one core...
GOAL_GHZ = 3.0			# ...of this clock
GOAL_ERROR_PCT = 1.0		# rate error


def load(d, name):
    """The JSON a bench wrote, or None."""
    p = os.path.join(d, "json", name + ".json")
    try:
        with open(p) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def num(v, digits=2):
    """A table cell: numbers rounded, None empty."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if v != 0 and abs(v) < 10 ** -digits:
            return f"{v:.2g}"
        return f"{v:,.{digits}f}"
    return str(v)


def table(rows, cols):
    """Markdown table of rows (dicts) by cols: (header, key or function, digits)."""
    out = ["| " + " | ".join(c[0] for c in cols) + " |",
           "|" + "|".join("---" if i == 0 else "---:" for i in range(len(cols))) + "|"]
    for r in rows:
        cells = []
        for _, key, digits in cols:
            v = key(r) if callable(key) else r.get(key)
            cells.append(num(v, digits))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def row_of(bench, config):
    """The row of bench's table named config, or None."""
    for r in (bench or {}).get("table", []):
        if r.get("config") == config:
            return r
    return None


class Plotter:
    """gnuplot, one PNG per plot; without gnuplot the report has no plots."""

    def __init__(self, d):
        self.dir = os.path.join(d, "plots")
        self.gnuplot = shutil.which("gnuplot")
        self.made = []
        os.makedirs(self.dir, exist_ok=True)

    def plot(self, name, script, data):
        """Run script with data blocks ($NAME << EOD) defined; returns the PNG's path or None."""
        if not self.gnuplot:
            return None
        png = os.path.join(self.dir, name + ".png")
        blocks = []
        for k, rows in data.items():
            blocks.append(f"${k} << EOD")
            blocks += [" ".join(str(x) for x in r) for r in rows]
            blocks.append("EOD")
        text = "\n".join(blocks) + "\n" + \
            "set terminal pngcairo size 900,540 font 'sans,11' noenhanced\n" + \
            f"set output '{png}'\nset grid\nset key top left\n" + script
        r = subprocess.run([self.gnuplot], input=text, capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(png):
            print(f"report.py: gnuplot failed for {name}: {r.stderr.strip()}", file=sys.stderr)
            return None
        self.made.append(png)
        return png


def q(s):
    """A gnuplot string literal; in a data block, one column."""
    return '"' + str(s).replace('"', "'") + '"'


def machine_section(status):
    m = status.get("machine", {})
    lines = ["## Machine", ""]
    for k, label in (("cpu", "CPU"), ("cores", "cores"), ("tsc_mhz", "TSC MHz"),
                     ("core_mhz", "core MHz (dependent adds against the TSC, sluice-core-clock)"),
                     ("l2_bytes", "L2 per core"), ("l3_bytes", "L3 (as the OS reports it)"),
                     ("memory_gib", "memory GiB"), ("kernel", "kernel"), ("dpdk", "DPDK"),
                     ("hugepages", "hugepages"), ("loadavg_start", "load average at start"),
                     ("loadavg_end", "load average at end")):
        v = m.get(k)
        if v is None:
            continue
        if k.endswith("_bytes"):
            v = f"{v / 1024 / 1024:g} MiB"
        elif isinstance(v, list):
            v = " ".join(str(x) for x in v)
        lines.append(f"- {label}: {v}")
    lines += [f"- mode: {status.get('mode')}, started {status.get('started')}, "
              f"{status.get('elapsed_s', 0) / 60:.1f} min, commit {status.get('commit')}", ""]
    return lines


def status_section(status):
    lines = ["## What ran", "", "| bench | status | seconds | command |", "|---|---|---:|---|"]
    for b in status.get("benches", []):
        lines.append(f"| {b['name']} | {b['status']} | {b.get('seconds', 0):.0f} | `{b.get('command', '')}` |")
    return lines + [""]


def goals_section(r, status):
    """The three goals, each with the figure that decides it."""
    lines = ["## Goals", "", "| goal | measured | met |", "|---|---|---|"]
    g = {}
    w = r.get("worker")
    s = row_of(w, "sluice")
    if s:
        # TSC cycles tick at a fixed rate; the goal is in cycles of a
        # 3 GHz core: scale by the core's clock against the TSC's.
        tsc_cpp = s["cpu_cycles_per_packet"]
        k = (status.get("machine") or {}).get("core_per_tsc")
        cpp = tsc_cpp * k if k else tsc_cpp
        at_goal = GOAL_GHZ * 1e3 / cpp
        how = (f"{tsc_cpp:.0f} TSC cycles x {k:.2f} (core clock / TSC) = {cpp:.0f} core cycles/packet"
               if k else f"{cpp:.0f} cycles/packet (TSC; the core's clock was not measured)")
        g["line_rate"] = {"tsc_cycles_per_packet": tsc_cpp, "core_per_tsc": k,
                          "core_cycles_per_packet": cpp, "mpps_at_3ghz": at_goal, "met": at_goal >= GOAL_MPPS}
        lines.append(f"| {GOAL_MPPS} Mpps of 64-byte frames with L3/L4 policing on one {GOAL_GHZ:g} GHz core "
                     f"(at most {GOAL_GHZ * 1e3 / GOAL_MPPS:.0f} core cycles/packet) | {how}: "
                     f"{at_goal:.2f} Mpps at {GOAL_GHZ:g} GHz | {'yes' if at_goal >= GOAL_MPPS else 'no'} |")
    qm = r.get("qos_meter")
    a, b = row_of(qm, "sluice"), row_of(qm, "qos_meter")
    if a and b:
        ratio = a["cpu_cycles_per_packet"] / b["cpu_cycles_per_packet"]
        g["qos_meter"] = {"ratio": ratio, "met": ratio <= 1.0}
        lines.append(f"| at least as fast as DPDK's qos_meter on the same ports | sluice "
                     f"{a['cpu_cycles_per_packet']:.0f}, qos_meter {b['cpu_cycles_per_packet']:.0f} "
                     f"cycles/packet: {ratio:.2f}x | {'yes' if ratio <= 1.0 else 'no'} |")
    errs = []
    rate = r.get("rate")
    if rate:
        errs.append(("replay, 1 kpps-10 Mpps", max(abs(x["error_pct"]) for x in rate["table"])))
    k = r.get("kernel")
    if k:
        live = [abs(x["error_pct"]) for x in k.get("table", [])
                if x.get("error_pct") is not None and str(x.get("config", "")).startswith("sluice")]
        if live:
            errs.append(("live on the veth lab", max(live)))
    if errs:
        worst = max(e for _, e in errs)
        g["rate_error"] = {"max_abs_error_pct": worst, "met": worst < GOAL_ERROR_PCT,
                           "parts": dict(errs)}
        lines.append(f"| rate error under {GOAL_ERROR_PCT:g}% | largest "
                     + ", ".join(f"{n}: {e:.3f}%" for n, e in errs)
                     + f" | {'yes' if worst < GOAL_ERROR_PCT else 'no'} |")
    if not g:
        lines = ["## Goals", "", "(none of the benches that decide them ran)"]
    return lines + [""], g


def peers_section(r, pl):
    """Every sluice figure next to its peer's, measured in the same run."""
    lines = ["## Peers, same run, same ports", ""]
    w, qm = r.get("worker"), r.get("qos_meter")
    rows = []
    if w:
        lines += ["Worker loop on two net_null ports (`bench_worker.sh`): TSC cycles per packet of the "
                  "forwarding thread's CPU time; ratios to testpmd's io and macswap forwarding.", "",
                  table(w["table"], [("config", "config", 2), ("Mpps/core", "mpps_cpu", 2),
                                     ("cycles/pkt", "cpu_cycles_per_packet", 1),
                                     ("x io", "cpu_ratio_io", 2), ("x macswap", "cpu_ratio_macswap", 2)]), ""]
        rows += [("testpmd " + x["config"] if x["config"] in ("io", "macswap") else x["config"],
                  x["cpu_cycles_per_packet"]) for x in w["table"]
                 if x["config"] in ("io", "macswap", "sluice", "sluice-drops", "sluice-shape")]
    if qm:
        lines += ["DPDK's qos_meter sample (srTCM per flow, built from dpdk-doc's sources) on the same "
                  "ports and lcore (`bench_qos_meter.sh`):", "",
                  table(qm["table"], [("config", "config", 2), ("Mpps/core", "mpps_cpu", 2),
                                      ("cycles/pkt", "cpu_cycles_per_packet", 1),
                                      ("x qos_meter", "ratio_qos_meter", 2)]), ""]
        rows.insert(2 if w else 0, ("qos_meter (same frames)", row_of(qm, "qos_meter")["cpu_cycles_per_packet"]))
    if len(lines) == 2:
        return []
    if rows:
        png = pl.plot("peers", "set style fill solid 0.6\nset boxwidth 0.6\nset ylabel 'TSC cycles per packet'\n"
                      "set title 'sluice and its DPDK peers (lower is better)'\nunset key\nset yrange [0:*]\n"
                      "set xtics rotate by -20\n"
                      "plot $d using 0:2:xtic(1) with boxes, '' using 0:2:(sprintf('%.0f',$2)) with labels offset 0,1",
                      {"d": [(q(n), v) for n, v in rows]})
        if png:
            lines += ["![peers](plots/peers.png)", ""]
    return lines


def cache_marks(status, xmax_bytes_per_unit):
    """gnuplot arrows at the cache sizes, in units of the x axis."""
    m = status.get("machine", {})
    out = []
    for k, label in (("l2_bytes", "L2"), ("l3_bytes", "L3")):
        v = m.get(k)
        if not v or not xmax_bytes_per_unit:
            continue
        x = v / xmax_bytes_per_unit
        out.append(f"set arrow from {x},graph 0 to {x},graph 1 nohead dt 2 lc rgb 'red'\n"
                   f"set label {q(label + ' (' + format(v / 1048576, 'g') + ' MiB)')} at {x},graph 0.95 right offset -0.5,0 tc rgb 'red'\n")
    return "".join(out)


def scale_section(r, status, pl):
    s = r.get("scale")
    if not s:
        return []
    lines = ["## Scaling", ""]
    cls = [x for x in s["table"] if x.get("scan") == "classes"]
    flows = [x for x in s["table"] if x.get("scan") == "flows"]
    if cls:
        lines += ["Classes (`bench_scale.sh`): L3/L4 policing, every packet matching its own class.", "",
                  table(cls, [("classes", "classes", 0), ("flows", "flows", 0),
                              ("cycles/pkt", "cpu_cycles_per_packet", 1), ("Mpps/core", "mpps_cpu", 2),
                              ("policy build s", "policy_build_s", 3)]), ""]
        if pl.plot("scaling_classes", "set logscale x\nset xlabel 'classes'\nset ylabel 'TSC cycles per packet'\n"
                   "set yrange [0:*]\nset title 'cycles per packet by class count'\n"
                   "plot $d using 1:2 with linespoints lw 2 pt 7 title 'sluice'",
                   {"d": [(x["classes"], x["cpu_cycles_per_packet"]) for x in cls]}):
            lines += ["![classes](plots/scaling_classes.png)", ""]
    if flows:
        lines += ["Active flows (`bench_scale.sh`): every flow its own flow-table key; memory from the "
                  "flow table's allocation (all slots), per slot and per flow held. The dashed lines in the "
                  "plot are where flows x bytes per slot reaches each cache's size.", "",
                  table(flows, [("flows", "flows", 0), ("table slots", "table", 0),
                                ("cycles/pkt", "cpu_cycles_per_packet", 1), ("Mpps/core", "mpps_cpu", 2),
                                ("engine cycles/pkt", "engine_cycles_per_packet", 1),
                                ("table MiB", lambda x: (x.get("flow_table_bytes") or 0) / 1048576 or None, 1),
                                ("bytes/slot", "bytes_per_slot", 1), ("bytes/flow", "bytes_per_flow", 1)]), ""]
        # The x axis is flows; the table's working set is flows x bytes per slot.
        per = next((x.get("bytes_per_slot") for x in flows if x.get("bytes_per_slot")), None)
        marks = cache_marks(status, per)
        if pl.plot("scaling_flows", "set logscale x\nset xlabel 'active flows (flow-table keys)'\n"
                   "set ylabel 'TSC cycles per packet'\nset yrange [0:*]\nset key bottom right\n"
                   "set title 'cycles per packet by active flows; dashed: where the keys outgrow the cache'\n"
                   + marks + "plot $d using 1:2 with linespoints lw 2 pt 7 title 'sluice (worker loop, engine, frame writes)', "
                   "$d using 1:3 with linespoints lw 2 pt 5 title 'engine alone (sluice - stamp)'",
                   {"d": [(x["flows"], x["cpu_cycles_per_packet"],
                           x.get("engine_cycles_per_packet", float("nan"))) for x in flows]}):
            lines += ["![flows](plots/scaling_flows.png)", ""]
    return lines


def rate_section(r, pl):
    b = r.get("rate")
    if not b:
        return []
    lines = ["## Rate accuracy (replay)", "",
             "`bench_rate.sh`: one class, one flow offered at twice the limit, the dataplane's engine run by "
             "`sluicectl replay` with the capture's timestamps as the clock; passed rate over the last three "
             "quarters of the run.", "",
             table(b["table"], [("case", "config", 0), ("offered", "offered", 0), ("limit", "rate", 0),
                                ("passed", "passed", 1), ("error %", "error_pct", 4)]), ""]
    pts = {}
    for x in b["table"]:
        name = x["arrival"] if x["kind"] == "pps" else f"{x['arrival']}, bit rate, {x['frame_bytes']} B frames"
        pts.setdefault(name.replace(" ", "_").replace(",", ""), []).append((x["rate"] if x["kind"] == "pps" else x["rate"] / (x["frame_bytes"] * 8),
                                                 x["error_pct"]))
    if pl.plot("rate_error", "set logscale x\nset xlabel 'limit (packets per second)'\nset ylabel 'error %'\n"
               f"set yrange [-{GOAL_ERROR_PCT * 1.2}:{GOAL_ERROR_PCT * 1.2}]\n"
               f"set title 'rate error by limit (goal: within {GOAL_ERROR_PCT:g}%)'\n"
               "set key outside bottom center horizontal\n"
               + "plot " + ", ".join(f"${k} using 1:2 with linespoints lw 2 pt 7 title {q(k.replace('_', ' '))}" for k in pts)
               + f", {GOAL_ERROR_PCT} with lines dt 2 lc rgb 'red' title 'goal', -{GOAL_ERROR_PCT} with lines dt 2 lc rgb 'red' notitle",
               pts):
        lines += ["![rate error](plots/rate_error.png)", ""]
    return lines


def apply_section(r, pl):
    b = r.get("apply")
    if not b:
        return []
    lines = ["## Policy apply time", "",
             "`bench_apply.sh`: `sluicectl policy apply` through sluiced to a forwarding sluice-dp; "
             "wall: the command; apply: sluiced's request-to-acknowledgement; dry run: parse and validate.", "",
             table(b["table"], [("classes", "classes", 0), ("policy KiB", lambda x: x["policy_bytes"] / 1024, 1),
                                ("wall ms", "wall_ms", 1), ("apply ms", "apply_ms", 1),
                                ("dry run ms", "dry_run_ms", 1)]), ""]
    if pl.plot("apply", "set logscale x\nset logscale y\nset xlabel 'classes'\nset ylabel 'ms'\n"
               "set title 'policy apply time by class count'\n"
               "plot $d using 1:2 with linespoints lw 2 pt 7 title 'sluicectl policy apply (wall)', "
               "$d using 1:3 with linespoints lw 2 pt 5 title 'sluiced to dataplane ack', "
               "$d using 1:4 with linespoints lw 2 pt 9 title 'dry run (parse, validate)'",
               {"d": [(x["classes"], x["wall_ms"], x["apply_ms"], max(x["dry_run_ms"], 0.01)) for x in b["table"]]}):
        lines += ["![apply](plots/apply.png)", ""]
    return lines


def latency_section(r, pl):
    b = r.get("latency")
    if not b:
        return []
    cols = [("config", "config", 0), ("p50 ns", "p50_ns", 0), ("p99 ns", "p99_ns", 0),
            ("p99.9 ns", "p999_ns", 0), ("max ns", "max_ns", 0), ("p50 added ns", "added_p50_ns", 0),
            ("p99 added ns", "added_p99_ns", 0)]
    lines = ["## Latency added by the dataplane", "",
             "`bench_latency.sh`: TSC stamped as each burst is received, read as it is handed to tx; "
             "`stamp` is the worker loop writing frames without the engine, so sluice minus stamp is what the "
             "engine adds.", "",
             table(b["table"], cols), ""]
    if pl.plot("latency", "set style data histograms\nset style histogram clustered gap 1\n"
               "set style fill solid 0.6\nset ylabel 'ns, rx to tx (log scale)'\nset logscale y\nset yrange [10:*]\n"
               "set title 'per-packet latency, rx burst to tx burst'\n"
               "plot $d using 2:xtic(1) title 'p50', '' using 3 title 'p99', '' using 4 title 'p99.9'",
               {"d": [(q(x["config"]), x["p50_ns"], x["p99_ns"], x["p999_ns"]) for x in b["table"]]}):
        lines += ["![latency](plots/latency.png)", ""]
    return lines


def payload_section(r, pl):
    b = r.get("payload")
    if not b:
        return []
    lines = ["## Payload classes by pattern count", "",
             "`bench_payload.sh`: Hyperscan patterns scanned per packet (scan: none matches; match: one does).", "",
             table(b["table"], [("config", "config", 0), ("patterns", "patterns", 0),
                                ("payload bytes", "payload_bytes", 0),
                                ("cycles/pkt", "cycles_per_packet", 1), ("Mpps/core", "mpps_cpu", 2),
                                ("added", "added", 1), ("build s", "policy_build_s", 2)]), ""]
    series = {}
    for x in b["table"]:
        if x.get("payload") in ("scan", "match") and x.get("patterns"):
            series.setdefault(f"{x['payload']}_{x['payload_bytes']}", []).append((x["patterns"], x["cycles_per_packet"]))
    if series and pl.plot("payload", "set logscale x\nset xlabel 'patterns'\nset ylabel 'TSC cycles per packet'\n"
                          "set yrange [0:*]\nset title 'payload classes: cycles per packet by pattern count'\n"
                          + "plot " + ", ".join(f"${k} using 1:2 with linespoints lw 2 title {q(k.replace('_', ', ') + ' B')}"
                                                for k in series), series):
        lines += ["![payload](plots/payload.png)", ""]
    return lines


def kernel_section(r):
    b = r.get("kernel")
    if not b or not b.get("table"):
        return []
    peer = b.get("peer", "tc-police")
    rk = next((k for k in b["table"][0] if k.startswith("ratio_")), None)
    why = "" if peer == "tc-police" else \
        (f" This kernel has no tc police (CONFIG_NET_ACT_POLICE), so the peer is `{peer}`: an nftables "
         "`limit` rule on the same interface's netdev ingress hook, the same rates and bursts.")
    rows = [dict(x, what=(f"rate {x['limit_pps']} pps" if x["quantity"] == "rate" else "capacity")) for x in b["table"]]
    return ["## Kernel path: tc police on the veth lab", "",
            "`bench_kernel.sh`: sluice-dp (net_af_packet ports on the gateway's veths) against the kernel "
            "forwarding between the same veths (a bridge) with its policer, the same lab and generator. Rate: one "
            "source offered twice the limit, the passed rate at the receiver after the first burst; capacity: "
            "unpaced 60-byte frames, what reaches the receiver." + why, "",
            table(rows, [("what", "what", 0), ("config", "config", 0), ("offered pps", "offered_pps", 0),
                         ("passed pps", "passed_pps", 1), ("error %", "error_pct", 3), ("loss %", lambda x: None if x.get("loss_pct") is None else round(max(0.0, x["loss_pct"]), 2), 2),
                         ("softirq ns/pkt", "softirq_ns_per_pkt", 0),
                         (f"x {peer}", rk, 3)]), ""]


def xdp_section(r, pl):
    b = r.get("xdp")
    if not b or not b.get("runs"):
        return []
    rows = [{"config": x["label"], "classes": x["classes"], "mode": x["mode"],
             "sluice_ns": x["sluice"]["median_ns"], "plain_ns": x["plain"]["median_ns"],
             "mpps": x["sluice"]["mpps"], "ratio": x["ratio"], "valid": x["valid"]} for x in b["runs"]]
    lines = ["## XDP path", "",
             "`bench_xdp.sh`: sluice's XDP program against a plain XDP program that counts and passes, "
             "both under BPF_PROG_TEST_RUN on one pinned CPU (ns per packet, median of rounds).", "",
             table(rows, [("config", "config", 0), ("classes", "classes", 0), ("mode", "mode", 0),
                          ("sluice ns", "sluice_ns", 1), ("plain ns", "plain_ns", 1),
                          ("sluice Mpps", "mpps", 2), ("x plain", "ratio", 1)]), ""]
    sweep = sorted((x for x in rows if x["config"] == "width" and x["classes"] >= 1),
                   key=lambda x: x["classes"])
    if len(sweep) > 1 and pl.plot("xdp", "set xlabel 'classes'\nset ylabel 'ns per packet'\nset yrange [0:*]\n"
                                  "set logscale x\nset title 'XDP path: ns per packet by class count'\n"
                                  "plot $d using 1:2 with linespoints lw 2 pt 7 title 'sluice XDP', "
                                  "$d using 1:3 with linespoints lw 2 pt 5 title 'plain XDP (count, pass)'",
                                  {"d": [(x["classes"], x["sluice_ns"], x["plain_ns"]) for x in sweep]}):
        lines += ["![xdp](plots/xdp.png)", ""]
    return lines


def generic_section(title, b, text):
    """A bench whose table is shown as it is."""
    if not b or not b.get("table"):
        return []
    keys = []
    for x in b["table"]:
        for k, v in x.items():
            if k not in keys and (isinstance(v, (int, float, str)) or v is None):
                keys.append(k)
    return [f"## {title}", "", text, "", table(b["table"], [(k, k, 2) for k in keys]), ""]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: perf/report.py DIR")
    d = sys.argv[1]
    with open(os.path.join(d, "status.json")) as f:
        status = json.load(f)
    names = [b["name"] for b in status.get("benches", [])]
    r = {n: load(d, n) for n in names}
    r = {n: v for n, v in r.items() if v is not None}
    pl = Plotter(d)
    md = ["# sluice benchmark report", "",
          f"`perf/run.sh --{status.get('mode')}`; medians of repetitions interleaved across configurations; "
          "cycles are TSC cycles of the measured thread's own CPU time unless a section says otherwise.", ""]
    goal_lines, goals = goals_section(r, status)
    md += goal_lines
    md += machine_section(status)
    md += peers_section(r, pl)
    md += scale_section(r, status, pl)
    md += latency_section(r, pl)
    md += payload_section(r, pl)
    md += rate_section(r, pl)
    md += apply_section(r, pl)
    md += kernel_section(r)
    md += xdp_section(r, pl)
    md += status_section(status)
    if not pl.gnuplot:
        md += ["(gnuplot not found: no plots; `apt-get install gnuplot-nox`)", ""]
    with open(os.path.join(d, "report.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(d, "report.json"), "w") as f:
        json.dump({"status": status, "goals": goals, "benches": r,
                   "plots": [os.path.relpath(p, d) for p in pl.made]}, f, indent=1)
    print(f"report: {os.path.join(d, 'report.md')}, {os.path.join(d, 'report.json')}, "
          f"{len(pl.made)} plot(s) in {pl.dir}")


if __name__ == "__main__":
    main()
