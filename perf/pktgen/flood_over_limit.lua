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

-- The shared helpers, beside this script (lib/sluice_pktgen.lua).
local HERE = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local lib = dofile(HERE .. "/lib/sluice_pktgen.lua")

lib.pcap_flood{
	name = "flood_over_limit", tx = TX_PORT, rx = RX_PORT,
	flood_pkts = PCAP_FLOOD_PKTS, legit_pkts = PCAP_LEGIT_PKTS, frame_size = FRAME_SIZE,
	rate_pps = POLICY_RATE_PPS, burst = POLICY_BURST,
	rate_pct = RATE_PCT, link_gbps = LINK_GBPS, duration_s = DURATION_S,
	warmup_ms = WARMUP_MS, drain_ms = DRAIN_MS, screen_off = SCREEN_OFF,
	flood_what = "SYN", legit_what = "client ACKs",
	flood_class = "syn-per-source", legit_class = "legit",
}
