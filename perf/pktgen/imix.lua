-- imix.lua: simple IMIX, 64, 570 and 1518-byte frames in the ratio 7:4:1
-- (average 353.83 bytes with FCS), UDP at 10GbE line rate, through a
-- gateway running sluice with perf/pktgen/policies/imix.yaml (class imix:
-- a 5 Gbit/s ceiling, the excess marked CS1 and forwarded). Nothing
-- should be lost; in sluice the class should pass 5 Gbit/s of frame bytes
-- and mark the rest, which shows bit metering over mixed frame sizes.
--
-- Cabling: load host port TX_PORT -> gateway outside port; gateway inside
-- port -> load host port RX_PORT. Start pktgen with -P (promiscuous).
--   pktgen -l 0-4 -n 4 -a PCI0 -a PCI1 -- -P -m "[1:2].0,[3:4].1" \
--          -f perf/pktgen/imix.lua
-- Written for Pktgen-DPDK 24.10.x (see perf/pktgen/README.md); on 23.x
-- pktgen.seq() reads its first argument as the port list, see the README.
--
-- The mix is pktgen's sequence mode: 12 packets sent in turn, so the
-- ratio is exact. Each has its own source address (10.66.0.1-12) and
-- source port, so the gateway's RSS spreads them over its workers.

-- Ports and addresses -------------------------------------------------
local TX_PORT = 0			-- cabled to the gateway's outside port
local RX_PORT = 1			-- cabled to the gateway's inside port
local SRC_MAC = nil			-- nil: TX_PORT's own MAC
local DST_MAC = nil			-- nil: RX_PORT's MAC (the gateway is a bump in the wire)
local SRC_NET = "10.66.0."		-- slot i sends from 10.66.0.(i + 1)
local DST_IP = "198.51.100.3"
local SPORT_BASE = 1024			-- slot i sends from port SPORT_BASE + i
local DPORT = 6000			-- policy class imix matches it

-- The mix: frame sizes with FCS, in sending order (7 x 64, 4 x 570, 1 x 1518).
local MIX = { 64, 570, 64, 64, 570, 64, 1518, 64, 570, 64, 64, 570 }

-- The class the mix meets (policies/imix.yaml) -------------------------
local POLICY_CEILING_BPS = 5e9		-- imix: ceiling 5Gbit, of frame bytes without FCS

-- Load -----------------------------------------------------------------
local RATE_PCT = 100			-- percent of the link
local LINK_GBPS = 10
local DURATION_S = tonumber(os.getenv("PKTGEN_DURATION_S") or "") or 30
local WARMUP_MS = 2000
local DRAIN_MS = 2000
local SCREEN_OFF = true

-- The shared helpers, beside this script (lib/sluice_pktgen.lua).
local HERE = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local lib = dofile(HERE .. "/lib/sluice_pktgen.lua")
local P = lib.ports(TX_PORT, RX_PORT)
local fmt_int = lib.fmt_int
local PORTS, port_mac = P.list, P.mac
local loss_pct, print_totals = P.loss_pct, P.print_totals

-- The mix's averages ----------------------------------------------------
local sum_fcs = 0
for _, size in ipairs(MIX) do
	sum_fcs = sum_fcs + size
end
local avg_fcs = sum_fcs / #MIX
local avg_nofcs = avg_fcs - 4		-- what sluice counts per frame
local expect_pps = LINK_GBPS * 1e9 / ((avg_fcs + 20) * 8) * RATE_PCT / 100
local frame_bps = expect_pps * avg_nofcs * 8

-- Setup ------------------------------------------------------------------
P.banner("imix")
if SCREEN_OFF then
	pktgen.screen("off")
end

local src_mac = SRC_MAC or port_mac(TX_PORT)
local dst_mac = DST_MAC or port_mac(RX_PORT)
local tx = tostring(TX_PORT)

pktgen.stop(PORTS)
pktgen.set_range(tx, "off")
for i, size in ipairs(MIX) do
	-- seq(index, ports, dst MAC, src MAC, dst IP, src IP/len, sport,
	--     dport, ipv4|ipv6, udp|tcp|icmp, vlan id, frame size with FCS)
	pktgen.seq(i - 1, tx, dst_mac, src_mac, DST_IP,
		   string.format("%s%d/24", SRC_NET, i), SPORT_BASE + i - 1, DPORT,
		   "ipv4", "udp", 1, size)
end
pktgen.set(tx, "seq_cnt", #MIX)		-- sequence mode, all 12 slots in turn
pktgen.set(tx, "count", 0)
pktgen.set(tx, "rate", RATE_PCT)

print(string.format("offering IMIX 7:4:1 of 64/570/1518, average %.2f bytes with FCS: %s pps, %.3f Gbit/s of frames without FCS, %d s",
		    avg_fcs, fmt_int(expect_pps), frame_bps / 1e9, DURATION_S))

-- Run: counters from zero --------------------------------------------------
local offered, received, all = P.measure(tx, WARMUP_MS, DURATION_S, DRAIN_MS, true)

-- Summary ----------------------------------------------------------------
local rx_frame_bps = received * avg_nofcs * 8
local pass_bps = math.min(rx_frame_bps, POLICY_CEILING_BPS)
print_totals(all)
print(string.format("window %d s: offered %s pps (expected %s, %+.3f%%), received %s pps = %.3f Gbit/s of frames without FCS",
		    DURATION_S, fmt_int(offered), fmt_int(expect_pps),
		    100 * (offered / expect_pps - 1), fmt_int(received), rx_frame_bps / 1e9))
print(string.format("sluice imix should pass %.3f Gbit/s (%s bytes/s) and mark %.3f Gbit/s; sluice bytes = packets x %.2f",
		    pass_bps / 1e9, fmt_int(pass_bps / 8), (rx_frame_bps - pass_bps) / 1e9,
		    avg_nofcs))
print(string.format("summary: offered %s pps, received %s pps, loss %.4f%% (%s of %s pkts over the whole run)",
		    fmt_int(offered), fmt_int(received), loss_pct(all), fmt_int(all.tx - all.rx),
		    fmt_int(all.tx)))
print("expect: sluice imix passed + marked = p" .. RX_PORT .. " rx, dropped 0; rate error = passed bytes x 8 / time / 5e9 - 1")
if SCREEN_OFF then
	pktgen.screen("on")
end
