#!/usr/bin/python3
"""Write the pcaps that flood_over_limit.lua and http_flood.lua replay.

Pktgen's Lua API cannot put a payload into a packet (userPattern keeps
15 characters, repeated from the first byte of the frame) nor mix two
kinds of traffic on one port, so these two scenarios replay a pcap
(pktgen -s P:FILE): one pass of the file holds one packet from each
attacking source with a legitimate packet after every --legit-every of
them. Pktgen loops over the file at the rate the script sets; the
proportions are what the file says, the order is the mempool's.

  mkpcap.py synflood -o syn.pcap     # SYNs from 10.77.0.0/16, ACKs from 192.0.2.0/28
  mkpcap.py http -o http.pcap        # GET /login from 10.88.0.0/20, GET /index from 192.0.2.0/28

Every frame of a file has the same length (pktgen paces a pcap by its
largest frame). Scapy (Debian's python3-scapy) builds one template per
kind of packet; each packet is the template with its source address and
port written in and both checksums recomputed, which is 20 times faster
than building each of 65536 packets with scapy (2 s against 30 s here). A JSON summary goes to stdout;
flood_over_limit.lua and http_flood.lua need its "flood" and "legit"
counts when they differ from their defaults.
"""

import argparse
import ipaddress
import json
import struct
import sys

from scapy.all import IP, TCP, Ether, Raw

PCAP_MAGIC = 0xA1B2C3D4         # microsecond timestamps
LINKTYPE_ETHERNET = 1
MIN_FRAME = 60                  # without FCS


def csum(data):
    """Internet checksum of bytes."""
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def template(args, flags, payload):
    """One Ethernet/IPv4/TCP frame as a bytearray, padded to >= 60 bytes."""
    pkt = (Ether(src=args.src_mac, dst=args.dst_mac) /
           IP(src="0.0.0.0", dst=args.target, ttl=64, id=0, flags="DF") /
           TCP(sport=1024, dport=args.dport, flags=flags,
               seq=1, ack=1 if "A" in flags else 0, window=65535))
    if payload:
        pkt = pkt / Raw(load=payload)
    frame = bytearray(bytes(pkt))
    if len(frame) < MIN_FRAME:
        frame += bytes(MIN_FRAME - len(frame))
    return frame


def stamp(frame, src, sport):
    """Write source address and port into a copy of frame, fix checksums."""
    f = bytearray(frame)
    ihl = (f[14] & 0x0F) * 4
    l3, l4 = 14, 14 + ihl
    total = struct.unpack_from("!H", f, l3 + 2)[0]
    f[l3 + 12:l3 + 16] = src.packed
    struct.pack_into("!H", f, l3 + 10, 0)
    struct.pack_into("!H", f, l3 + 10, csum(bytes(f[l3:l4])))
    struct.pack_into("!H", f, l4, sport)
    struct.pack_into("!H", f, l4 + 16, 0)
    seg = bytes(f[l4:l3 + total])
    pseudo = f[l3 + 12:l3 + 20] + struct.pack("!BBH", 0, 6, len(seg))
    struct.pack_into("!H", f, l4 + 16, csum(bytes(pseudo) + seg))
    return bytes(f)


def addresses(cidr, count, hosts=False):
    """The first count addresses of cidr (all when count is 0); hosts:
    without the network and broadcast addresses, as a client would be."""
    net = ipaddress.ip_network(cidr, strict=False)
    if net.version != 4:
        sys.exit("mkpcap: %s: only IPv4 is supported" % cidr)
    pool = list(net.hosts()) if hosts else None
    avail = len(pool) if hosts else net.num_addresses
    n = avail if count == 0 else count
    if n > avail:
        sys.exit("mkpcap: %s holds %d addresses, %d asked for" % (cidr, avail, n))
    if hosts:
        return pool[:n]
    base = int(net.network_address)
    return [ipaddress.IPv4Address(base + i) for i in range(n)]


def request(path, host, length):
    """An HTTP/1.1 GET padded (in the User-Agent) to length bytes."""
    head = "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: pktgen" % (path, host)
    tail = "\r\nAccept: */*\r\n\r\n"
    pad = length - len(head) - len(tail)
    if pad < 0:
        sys.exit("mkpcap: --request-len %d is shorter than the request for %s"
                 % (length, path))
    return (head + "-" * pad + tail).encode()


def kinds(args):
    """(flood template, legit template, default flood CIDR) for the mode."""
    if args.mode == "synflood":
        return template(args, "S", b""), template(args, "A", b""), "10.77.0.0/16"
    attack = request(args.path, args.host, args.request_len)
    legit = request(args.legit_path, args.host, args.request_len)
    return template(args, "PA", attack), template(args, "PA", legit), "10.88.0.0/20"


def frames(args):
    """Yield (kind, frame) for one pass of the file, loops times over."""
    flood_t, legit_t, default_src = kinds(args)
    flood_src = addresses(args.flood_src or default_src, args.sources)
    legit_src = addresses(args.legit_src, 0, hosts=True)
    nlegit = 0
    for _ in range(args.loops):
        for i, src in enumerate(flood_src):
            yield "flood", stamp(flood_t, src, 1024 + i % 64000)
            if args.legit_every and (i + 1) % args.legit_every == 0:
                src = legit_src[nlegit % len(legit_src)]
                yield "legit", stamp(legit_t, src, 40000 + nlegit % 20000)
                nlegit += 1


def write(args):
    """Write the pcap; returns the summary."""
    count = {"flood": 0, "legit": 0}
    gap = 1.0 / args.pps
    length = None
    with open(args.out, "wb") as out:
        out.write(struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, 65535,
                              LINKTYPE_ETHERNET))
        for n, (kind, f) in enumerate(frames(args)):
            t = n * gap
            sec = int(t)
            out.write(struct.pack("<IIII", sec, int((t - sec) * 1e6),
                                  len(f), len(f)))
            out.write(f)
            count[kind] += 1
            length = len(f) if length is None else max(length, len(f))
    return {"file": args.out, "mode": args.mode,
            "packets": count["flood"] + count["legit"],
            "flood": count["flood"], "legit": count["legit"],
            "loops": args.loops, "frame_len": length,
            "size_with_fcs": length + 4}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", choices=["synflood", "http"])
    p.add_argument("-o", "--out", required=True, help="pcap file to write")
    p.add_argument("--src-mac", default="02:00:00:00:00:01",
                   help="source MAC (the load host's port 0)")
    p.add_argument("--dst-mac", default="02:00:00:00:00:02",
                   help="destination MAC (the load host's port 1)")
    p.add_argument("--target", default="198.51.100.10",
                   help="destination address (inside the gateway)")
    p.add_argument("--dport", type=int, default=80)
    p.add_argument("--flood-src", default=None,
                   help="attacking sources (synflood: 10.77.0.0/16, http: 10.88.0.0/20)")
    p.add_argument("--sources", type=int, default=0,
                   help="use the first N addresses of --flood-src (0: all)")
    p.add_argument("--legit-src", default="192.0.2.0/28",
                   help="legitimate clients, taken in turn")
    p.add_argument("--legit-every", type=int, default=None,
                   help="one legitimate packet after every N attacking ones "
                        "(synflood: 1024, http: 64; 0: none)")
    p.add_argument("--path", default="/login", help="http: attacked path")
    p.add_argument("--legit-path", default="/index",
                   help="http: path the legitimate clients ask for")
    p.add_argument("--host", default="www.example.com", help="http: Host header")
    p.add_argument("--request-len", type=int, default=96,
                   help="http: bytes of every request (the same for all)")
    p.add_argument("--loops", type=int, default=1,
                   help="passes written to the file (pktgen loops by itself; "
                        "more passes make sluicectl replay meter something)")
    p.add_argument("--pps", type=float, default=14880952.0,
                   help="timestamps spaced for this rate (pktgen ignores "
                        "them; sluicectl replay uses them as its clock)")
    args = p.parse_args()
    if args.legit_every is None:
        args.legit_every = 1024 if args.mode == "synflood" else 64
    if args.loops < 1 or args.pps <= 0 or args.legit_every < 0:
        p.error("--loops and --pps must be positive, --legit-every not negative")
    json.dump(write(args), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
