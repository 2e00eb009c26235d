#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Checks a capture of sluice-gen's output against its JSON report.

Usage: gen_verify.py CAPTURE.pcap REPORT.json [--packets N] [--pps R]
                     [--tolerance F]

Every captured frame must belong to one of the report's flow groups
(config.groups) and carry exactly that group's fields: MACs, VLAN, IP
version, addresses within range, protocol, ports/ICMP id, TCP flags, DSCP,
frame size, payload template then zero padding, and valid IPv4, TCP, UDP,
ICMP and ICMPv6 checksums (recomputed by scapy). Frames of a group must
walk its flows in order (source address first, then sport, then dport)
and cover min(packets, flows) distinct 5-tuples. The number of frames must
equal sent.packets; with --packets and --pps, it and the rate measured
from capture timestamps must be within --tolerance (default 0.01).
Prints each check; exits 0 when all pass, 1 otherwise.
"""
import argparse
import ipaddress
import json
import sys

from scapy.all import (ICMP, IP, TCP, UDP, Dot1Q, Ether, ICMPv6EchoRequest,
                       IPv6, rdpcap)

TCP_FLAGS = {"fin": 0x01, "syn": 0x02, "rst": 0x04, "psh": 0x08,
             "ack": 0x10, "urg": 0x20, "ece": 0x40, "cwr": 0x80}
L4 = {"udp": UDP, "tcp": TCP, "icmp": ICMP, "icmpv6": ICMPv6EchoRequest}

failures = []


def check(ok, what):
    """Records and prints one check."""
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)
    return ok


def tcp_flags(name):
    if name == "none":
        return 0
    return sum(TCP_FLAGS[f] for f in name.split(","))


def cksum_ok(pkt, layer, field):
    """Whether scapy, recomputing @field of @layer, gets the same value."""
    orig = getattr(pkt[layer], field)
    again = pkt.copy()
    delattr(again[layer], field)
    again = Ether(bytes(again))
    return getattr(again[layer], field) == orig


def owner(pkt, groups):
    """Returns the index of the group a frame belongs to, or None."""
    ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
    if ip is None:
        return None
    src = ipaddress.ip_address(ip.src)
    proto = ip.proto if ip.version == 4 else ip.nh
    for i, g in enumerate(groups):
        first = ipaddress.ip_address(g["src"]["first"])
        last = ipaddress.ip_address(g["src"]["last"])
        if (src.version == first.version and first <= src <= last and
                proto == g["proto_num"] and ip.dst == str(ipaddress.ip_address(g["dst"]))):
            return i
    return None


def flow_tuple(g, k):
    """The (src, sport, dport) flow k of group g must have."""
    first = ipaddress.ip_address(g["src"]["first"])
    nsrc = g["src"]["count"]
    nsport = g["sport"]["last"] - g["sport"]["first"] + 1
    ndport = g["dport"]["last"] - g["dport"]["first"] + 1
    src = first + k % nsrc
    r = k // nsrc
    return (str(src), g["sport"]["first"] + r % nsport,
            g["dport"]["first"] + (r // nsport) % ndport)


def flow_of(pkt):
    """The (src, sport or ICMP id, dport or ICMP seq) of a frame."""
    ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
    l4 = ip.payload
    if TCP in pkt or UDP in pkt:
        return (ip.src, l4.sport, l4.dport)
    if ICMP in pkt or ICMPv6EchoRequest in pkt:
        return (ip.src, l4.id, l4.seq)
    return (ip.src,)


def content_errors(pkt, g):
    """Returns what is wrong in a frame of group g, flow order aside."""
    err = []
    raw = bytes(pkt)
    if len(raw) != g["size"]:
        err.append("size %d != %d" % (len(raw), g["size"]))
    if pkt[Ether].dst.lower() != g["dst_mac"].lower():
        err.append("dst mac %s" % pkt[Ether].dst)
    if pkt[Ether].src.lower() != g["src_mac"].lower():
        err.append("src mac %s" % pkt[Ether].src)
    if g["vlan"] is not None:
        if Dot1Q not in pkt or pkt[Dot1Q].vlan != g["vlan"]:
            err.append("no VLAN %d tag" % g["vlan"])
    elif Dot1Q in pkt:
        err.append("unexpected VLAN tag")
    if IP in pkt:
        ip = pkt[IP]
        if ip.tos >> 2 != g["dscp"]:
            err.append("dscp %d" % (ip.tos >> 2))
        if not cksum_ok(pkt, IP, "chksum"):
            err.append("bad IPv4 header checksum")
    else:
        ip = pkt[IPv6]
        if ip.tc >> 2 != g["dscp"]:
            err.append("dscp %d" % (ip.tc >> 2))
    proto = g["proto"]
    layer = L4.get(proto)
    if layer is None:
        payload = bytes(ip.payload)
    else:
        if layer not in pkt:
            return err + ["no %s header" % proto]
        l4 = pkt[layer]
        field = "cksum" if proto == "icmpv6" else "chksum"
        if proto == "tcp" and int(l4.flags) != tcp_flags(g["tcp_flags"]):
            err.append("tcp flags %s" % l4.flags)
        if not cksum_ok(pkt, layer, field):
            err.append("bad %s checksum" % proto)
        payload = bytes(l4.payload)
    tmpl = bytes.fromhex(g["payload_hex"])
    if not payload.startswith(tmpl):
        err.append("payload does not start with the template")
    elif payload[len(tmpl):].strip(b"\0"):
        err.append("padding is not zero")
    return err


def frame_errors(pkt, g, k, seen):
    """Returns what is wrong with frame number k of group g (empty: none).
    Identical frames get identical verdicts, so @seen caches them by bytes."""
    raw = bytes(pkt)
    if raw not in seen:
        seen[raw] = content_errors(pkt, g)
    err = list(seen[raw])
    want = flow_tuple(g, k % g["flows"])
    got = flow_of(pkt)
    if got != want[:len(got)]:
        err.append("flow %s, flow order wants %s" % (got, want[:len(got)]))
    return err


def verify_group(g, frames):
    """Checks all frames of one group."""
    bad = 0
    seen = {}
    for k, pkt in enumerate(frames):
        err = frame_errors(pkt, g, k, seen)
        if err and bad < 5:
            print("     frame %d of group %s: %s" % (k, g["name"], "; ".join(err)))
        bad += bool(err)
    check(bad == 0, "group %s: %d frames with the configured fields, flow order and valid checksums (%d bad)"
          % (g["name"], len(frames), bad))
    tuples = set(flow_of(p) for p in frames)
    want = min(len(frames), g["flows"])
    check(len(tuples) == want, "group %s: %d distinct flows (want %d)"
          % (g["name"], len(tuples), want))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("report")
    ap.add_argument("--packets", type=int)
    ap.add_argument("--pps", type=float)
    ap.add_argument("--tolerance", type=float, default=0.01)
    a = ap.parse_args()

    with open(a.report) as f:
        rep = json.load(f)
    groups = rep["config"]["groups"]
    for g in groups:
        g["proto_num"] = {"tcp": 6, "udp": 17, "icmp": 1,
                          "icmpv6": 58}.get(g["proto"]) or int(g["proto"])
    pkts = rdpcap(a.pcap)
    per_group = [[] for _ in groups]
    stray = 0
    for p in pkts:
        i = owner(p, groups)
        if i is None:
            stray += 1
        else:
            per_group[i].append(p)
    ours = sum(len(x) for x in per_group)
    check(stray == 0, "no stray frames in the capture (%d)" % stray)
    check(ours == rep["sent"]["packets"],
          "captured %d frames = sent.packets %d" % (ours, rep["sent"]["packets"]))
    check(rep["tx_failed"] == 0, "tx_failed is 0 (%d)" % rep["tx_failed"])
    for i, g in enumerate(groups):
        verify_group(g, per_group[i])
        gs = rep["groups"][i]["sent"]["packets"]
        check(gs == len(per_group[i]), "group %s: captured %d = sent %d"
              % (g["name"], len(per_group[i]), gs))
    tol = a.tolerance
    if a.packets is not None:
        check(abs(ours - a.packets) <= tol * a.packets,
              "%d packets within %.1f%% of %d" % (ours, tol * 100, a.packets))
    if a.pps is not None and ours > 1:
        span = float(pkts[-1].time - pkts[0].time)
        pps = (ours - 1) / span if span > 0 else 0
        check(abs(pps - a.pps) <= tol * a.pps,
              "capture rate %.1f pps within %.1f%% of %.0f (first to last frame %.4f s)"
              % (pps, tol * 100, a.pps, span))
        rp = rep["rate"]["achieved_pps"]
        check(abs(rp - a.pps) <= tol * a.pps,
              "reported achieved_pps %.1f within %.1f%% of %.0f" % (rp, tol * 100, a.pps))
    print("%s: %d checks failed" % (a.pcap, len(failures)) if failures
          else "%s: all checks passed" % a.pcap)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
