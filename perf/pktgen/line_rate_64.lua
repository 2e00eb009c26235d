-- line_rate_64.lua: 64-byte UDP at 10GbE line rate (14.88 Mpps), many
-- flows, steady, through a gateway running sluice with a policy that
-- passes everything (perf/pktgen/policies/line_rate_64.yaml). Shows
-- whether the gateway forwards line rate: received should equal offered.
--
-- Cabling: load host port TX_PORT -> gateway outside port; gateway inside
-- port -> load host port RX_PORT. Start pktgen with -P (promiscuous).
--   pktgen -l 0-4 -n 4 -a PCI0 -a PCI1 -- -P -m "[1:2].0,[3:4].1" \
--          -f perf/pktgen/line_rate_64.lua
-- Written for Pktgen-DPDK 24.10.x (see perf/pktgen/README.md).
--
-- Flows: range mode. Each field steps on its own per packet: the source
-- address walks SRC_IP_MIN..SRC_IP_MAX, the source port
-- SPORT_MIN..SPORT_MAX, the destination port DPORT_MIN..DPORT_MAX.

-- Ports and addresses -------------------------------------------------
local TX_PORT = 0			-- cabled to the gateway's outside port
local RX_PORT = 1			-- cabled to the gateway's inside port
local SRC_MAC = nil			-- nil: TX_PORT's own MAC
local DST_MAC = nil			-- nil: RX_PORT's MAC (the gateway is a bump in the wire)
local SRC_IP_MIN = "10.99.0.0"		-- 1024 sources: 10.99.0.0/22
local SRC_IP_MAX = "10.99.3.255"
local DST_IP = "198.51.100.2"
local SPORT_MIN, SPORT_MAX = 1024, 65535
local DPORT_MIN, DPORT_MAX = 5000, 5099	-- policy class bench-udp matches these

-- Load -----------------------------------------------------------------
local FRAME_SIZE = 64			-- bytes with FCS, as pktgen counts them
local RATE_PCT = 100			-- percent of the link: 100 = 14.88 Mpps at 10GbE
local LINK_GBPS = 10			-- for the expected rate only
local DURATION_S = tonumber(os.getenv("PKTGEN_DURATION_S") or "") or 30
local WARMUP_MS = 2000			-- gateway flow tables fill, links settle
local DRAIN_MS = 2000			-- in-flight frames arrive, pktgen's 1 s stats catch up
local SCREEN_OFF = true			-- keep pktgen's screen from drawing over this output

-- The shared helpers, beside this script (lib/sluice_pktgen.lua).
local HERE = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local lib = dofile(HERE .. "/lib/sluice_pktgen.lua")
local P = lib.ports(TX_PORT, RX_PORT)
local fmt_int, line_pps = lib.fmt_int, lib.line_pps
local PORTS, port_mac = P.list, P.mac
local loss_pct, print_totals = P.loss_pct, P.print_totals

-- Setup ------------------------------------------------------------------
P.banner("line_rate_64")
if SCREEN_OFF then
	pktgen.screen("off")
end

local src_mac = SRC_MAC or port_mac(TX_PORT)
local dst_mac = DST_MAC or port_mac(RX_PORT)
local tx = tostring(TX_PORT)

pktgen.stop(PORTS)
pktgen.set(tx, "seq_cnt", 0)

-- The single packet: pktgen paces range mode by the single packet's size.
pktgen.set_type(tx, "ipv4")
pktgen.set_proto(tx, "udp")
pktgen.set(tx, "size", FRAME_SIZE)
pktgen.set_mac(tx, "dst", dst_mac)
pktgen.set_ipaddr(tx, "src", SRC_IP_MIN .. "/22")
pktgen.set_ipaddr(tx, "dst", DST_IP)
pktgen.set(tx, "sport", SPORT_MIN)
pktgen.set(tx, "dport", DPORT_MIN)

pktgen.range.ip_proto(tx, "udp")
pktgen.range.dst_mac(tx, "start", dst_mac)
pktgen.range.src_mac(tx, "start", src_mac)
pktgen.range.src_ip(tx, "start", SRC_IP_MIN)
pktgen.range.src_ip(tx, "min", SRC_IP_MIN)
pktgen.range.src_ip(tx, "max", SRC_IP_MAX)
pktgen.range.src_ip(tx, "inc", "0.0.0.1")
pktgen.range.dst_ip(tx, "start", DST_IP)
pktgen.range.dst_ip(tx, "min", DST_IP)
pktgen.range.dst_ip(tx, "max", DST_IP)
pktgen.range.dst_ip(tx, "inc", "0.0.0.0")
pktgen.range.src_port(tx, "start", SPORT_MIN)
pktgen.range.src_port(tx, "min", SPORT_MIN)
pktgen.range.src_port(tx, "max", SPORT_MAX)
pktgen.range.src_port(tx, "inc", 1)
pktgen.range.dst_port(tx, "start", DPORT_MIN)
pktgen.range.dst_port(tx, "min", DPORT_MIN)
pktgen.range.dst_port(tx, "max", DPORT_MAX)
pktgen.range.dst_port(tx, "inc", 1)
pktgen.range.pkt_size(tx, "start", FRAME_SIZE)
pktgen.range.pkt_size(tx, "min", FRAME_SIZE)
pktgen.range.pkt_size(tx, "max", FRAME_SIZE)
pktgen.range.pkt_size(tx, "inc", 0)
pktgen.set_range(tx, "on")

pktgen.set(tx, "count", 0)		-- until stopped
pktgen.set(tx, "rate", RATE_PCT)

local expect_pps = line_pps(FRAME_SIZE, LINK_GBPS) * RATE_PCT / 100
print(string.format("offering %d-byte UDP, %s pps (%d%% of %d GbE), %s..%s:%d-%d -> %s:%d-%d, %d s",
		    FRAME_SIZE, fmt_int(expect_pps), RATE_PCT, LINK_GBPS, SRC_IP_MIN,
		    SRC_IP_MAX, SPORT_MIN, SPORT_MAX, DST_IP, DPORT_MIN, DPORT_MAX,
		    DURATION_S))

-- Run: counters from zero, so that pktgen's totals cover the same packets
-- as the growth of sluice's counters between a snapshot taken before this
-- script and one taken after it (perf/pktgen/README.md).
local offered, received, all = P.measure(tx, WARMUP_MS, DURATION_S, DRAIN_MS, false)

-- Summary ----------------------------------------------------------------
print_totals(all)
print(string.format("window %d s: offered %s pps (expected %s, %+.3f%%), received %s pps",
		    DURATION_S, fmt_int(offered), fmt_int(expect_pps),
		    100 * (offered / expect_pps - 1), fmt_int(received)))
print(string.format("summary: offered %s pps, received %s pps, loss %.4f%% (%s of %s pkts over the whole run)",
		    fmt_int(offered), fmt_int(received), loss_pct(all), fmt_int(all.tx - all.rx),
		    fmt_int(all.tx)))
print("expect: sluice bench-udp passed grew by p" .. RX_PORT .. " rx; any loss shows as rx_missed_packets in /sluice/ports")
if SCREEN_OFF then
	pktgen.screen("on")
end
