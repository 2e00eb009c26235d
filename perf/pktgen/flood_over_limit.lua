-- flood_over_limit.lua: a SYN flood from a /16 (65536 sources) far above
-- a class limit keyed per source, with an established client flow beside
-- it, through a gateway running sluice with
-- perf/pktgen/policies/flood_over_limit.yaml (syn-per-source: 50 pps per
-- source, burst 100, exceed drop). What passes should be the class's
-- configured rate times the number of sources, plus all of the client's
-- packets; this script prints both and the rate error.
--
-- The traffic is a pcap (pktgen's Lua API cannot mix two flows on one
-- port): one SYN from each of 10.77.0.0/16 to 198.51.100.10:80, and an ACK
-- from a client in 192.0.2.0/28 after every 1024 of them. Make it on any
-- host with python3-scapy, then start pktgen with it on TX_PORT:
--   perf/pktgen/mkpcap.py synflood -o syn.pcap \
--       --src-mac <TX port MAC> --dst-mac <RX port MAC>
--   pktgen -l 0-4 -n 4 -a PCI0 -a PCI1 -- -P -m "[1:2].0,[3:4].1" \
--          -s 0:syn.pcap -f perf/pktgen/flood_over_limit.lua
-- Written for Pktgen-DPDK 24.10.x (see perf/pktgen/README.md).

-- Ports ----------------------------------------------------------------
local TX_PORT = 0			-- cabled to the gateway's outside port, -s TX_PORT:syn.pcap
local RX_PORT = 1			-- cabled to the gateway's inside port

-- What one pass of the pcap holds ("flood" and "legit" in mkpcap.py's
-- summary) and its frame size with FCS ("size_with_fcs").
local PCAP_FLOOD_PKTS = 65536		-- one SYN per source: the number of sources
local PCAP_LEGIT_PKTS = 64		-- client ACKs
local FRAME_SIZE = 64

-- The class the flood meets (policies/flood_over_limit.yaml) ----------
local POLICY_RATE_PPS = 50		-- syn-per-source: limit rate, per source
local POLICY_BURST = 100		-- and its burst

-- Load -----------------------------------------------------------------
local RATE_PCT = 100			-- percent of the link: 14.88 Mpps of 64-byte frames
local LINK_GBPS = 10
local DURATION_S = tonumber(os.getenv("PKTGEN_DURATION_S") or "") or 30
local WARMUP_MS = 3000			-- > burst / (offered - rate) per source: buckets empty
local DRAIN_MS = 2000
local SCREEN_OFF = true

-- Helpers (each scenario script stands alone) --------------------------
local PORTS = string.format("%d,%d", TX_PORT, RX_PORT)

local function fmt_int(n)
	local s = string.format("%d", math.floor(n + 0.5))
	local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
	return (out:gsub("^(-?),", "%1"))
end

local function line_pps(size_fcs, gbps)
	return gbps * 1e9 / ((size_fcs + 20) * 8)
end

local function stats(kind)
	return pktgen.portStats(PORTS, kind)
end

local function totals()
	local s = stats("port")
	return { tx = s[TX_PORT].opackets, rx = s[RX_PORT].ipackets,
		 txb = s[TX_PORT].obytes, rxb = s[RX_PORT].ibytes,
		 imissed = s[RX_PORT].imissed, nombuf = s[RX_PORT].rx_nombuf }
end

local function print_totals(t)
	print(string.format("whole run: p%d tx %s pkts %s bytes, p%d rx %s pkts %s bytes (imissed %s, rx_nombuf %s)",
			    TX_PORT, fmt_int(t.tx), fmt_int(t.txb), RX_PORT, fmt_int(t.rx),
			    fmt_int(t.rxb), fmt_int(t.imissed), fmt_int(t.nombuf)))
end

local function run(seconds)
	print(string.format("%4s  %14s %14s  %14s %14s  %8s", "t(s)",
			    "p" .. TX_PORT .. " tx pps", "p" .. TX_PORT .. " rx pps",
			    "p" .. RX_PORT .. " tx pps", "p" .. RX_PORT .. " rx pps", "rx/tx"))
	for t = 1, seconds do
		pktgen.delay(1000)
		local r = stats("rate")
		local tx, rx = r[TX_PORT].opackets, r[RX_PORT].ipackets
		print(string.format("%4d  %14s %14s  %14s %14s  %7.2f%%", t,
				    fmt_int(tx), fmt_int(r[TX_PORT].ipackets),
				    fmt_int(r[RX_PORT].opackets), fmt_int(rx),
				    tx > 0 and 100 * rx / tx or 0))
	end
end

-- Setup ------------------------------------------------------------------
print(string.format("flood_over_limit: Pktgen %s, %s", pktgen.info.Pktgen_Version,
		    pktgen.info.DPDK_Version))
local links = pktgen.linkState(PORTS)
print(string.format("links: port %d %s, port %d %s", TX_PORT, links[TX_PORT],
		    RX_PORT, links[RX_PORT]))
print(string.format("port %d replays the pcap given with -s %d:FILE; without one it sends pktgen's single packet instead",
		    TX_PORT, TX_PORT))
if SCREEN_OFF then
	pktgen.screen("off")
end

local tx = tostring(TX_PORT)
pktgen.stop(PORTS)
pktgen.set_range(tx, "off")
pktgen.set(tx, "seq_cnt", 0)
pktgen.pcap(tx, "on")
pktgen.set(tx, "count", 0)
pktgen.set(tx, "rate", RATE_PCT)

local per_pass = PCAP_FLOOD_PKTS + PCAP_LEGIT_PKTS
local legit_share = PCAP_LEGIT_PKTS / per_pass
local expect_pps = line_pps(FRAME_SIZE, LINK_GBPS) * RATE_PCT / 100
local per_source = expect_pps / per_pass
print(string.format("offering %s pps: %d flooding sources at %.1f SYN/s each (limit %d/s, burst %d), client ACKs %s pps, %d s",
		    fmt_int(expect_pps), PCAP_FLOOD_PKTS, per_source, POLICY_RATE_PPS,
		    POLICY_BURST, fmt_int(expect_pps * legit_share), DURATION_S))
if per_source <= POLICY_RATE_PPS then
	print("note: each source offers no more than its limit: nothing will be dropped")
end

-- Run: counters from zero; the warm-up empties every source's burst ------
pktgen.clear(PORTS)
pktgen.start(tx)
pktgen.delay(WARMUP_MS)
local w0 = totals()
run(DURATION_S)
local w1 = totals()
pktgen.stop(tx)
pktgen.delay(DRAIN_MS)
local all = totals()

-- Summary ----------------------------------------------------------------
-- In the window every bucket is empty: the flood passes at sources x rate
-- (or its offered rate when lower), the clients' packets pass whole.
local offered = (w1.tx - w0.tx) / DURATION_S
local received = (w1.rx - w0.rx) / DURATION_S
local legit = offered * legit_share
local flood_offered = offered - legit
local flood_limit = math.min(flood_offered, PCAP_FLOOD_PKTS * POLICY_RATE_PPS)
local flood_passed = received - legit
print_totals(all)
print(string.format("window %d s: offered %s pps (flood %s, client %s), received %s pps",
		    DURATION_S, fmt_int(offered), fmt_int(flood_offered), fmt_int(legit),
		    fmt_int(received)))
print(string.format("flood passed %s pps against %s allowed (%d sources x %d pps): rate error %+.3f%%",
		    fmt_int(flood_passed), fmt_int(flood_limit), PCAP_FLOOD_PKTS,
		    POLICY_RATE_PPS, flood_limit > 0 and 100 * (flood_passed / flood_limit - 1) or 0))
local whole_legit = all.tx * legit_share
print(string.format("whole run: flood sent %s, client sent %s; received %s, so the gateway dropped %s (%.2f%% of the flood)",
		    fmt_int(all.tx - whole_legit), fmt_int(whole_legit), fmt_int(all.rx),
		    fmt_int(all.tx - all.rx),
		    all.tx > whole_legit and 100 * (all.tx - all.rx) / (all.tx - whole_legit) or 0))
print(string.format("summary: offered %s pps, received %s pps, loss %.2f%% (policy drops; expected %.2f%%)",
		    fmt_int(offered), fmt_int(received),
		    offered > 0 and 100 * (1 - received / offered) or 0,
		    offered > 0 and 100 * (flood_offered - flood_limit) / offered or 0))
print("expect: sluice syn-per-source passed + dropped = flood sent, dropped = p" .. TX_PORT ..
      " tx - p" .. RX_PORT .. " rx; legit passed = client sent, dropped 0")
if SCREEN_OFF then
	pktgen.screen("on")
end
