-- http_flood.lua: an HTTP request flood, "GET /login" in TCP PSH/ACK
-- segments from 4096 sources, far above a payload class limited per
-- source, with clients asking for /index beside it, through a gateway
-- running sluice with perf/pktgen/policies/http_flood.yaml (login-flood:
-- payload '^GET /login\b', 20 pps per source, burst 40, exceed drop).
-- What passes should be the class's configured rate times the number of
-- sources, plus all of the clients' requests; this script prints both and
-- the rate error.
--
-- The requests are a pcap: Pktgen's Lua API has no call that writes a
-- payload (userPattern fills 16 bytes from the start of the frame), so
-- perf/pktgen/mkpcap.py writes one request from each of 10.88.0.0/20 to
-- 198.51.100.10:80 and a client request from 192.0.2.0/28 after every 64
-- of them, all 150-byte frames. Make it on any host with python3-scapy,
-- then start pktgen with it on TX_PORT:
--   perf/pktgen/mkpcap.py http -o http.pcap \
--       --src-mac <TX port MAC> --dst-mac <RX port MAC>
--   pktgen -l 0-4 -n 4 -a PCI0 -a PCI1 -- -P -m "[1:2].0,[3:4].1" \
--          -s 0:http.pcap -f perf/pktgen/http_flood.lua
-- Written for Pktgen-DPDK 24.10.x (see perf/pktgen/README.md).

-- Ports ----------------------------------------------------------------
local TX_PORT = 0			-- cabled to the gateway's outside port, -s TX_PORT:http.pcap
local RX_PORT = 1			-- cabled to the gateway's inside port

-- What one pass of the pcap holds ("flood" and "legit" in mkpcap.py's
-- summary) and its frame size with FCS ("size_with_fcs").
local PCAP_FLOOD_PKTS = 4096		-- one request per source: the number of sources
local PCAP_LEGIT_PKTS = 64		-- client requests for /index
local FRAME_SIZE = 154

-- The class the flood meets (policies/http_flood.yaml) ---------------
local POLICY_RATE_PPS = 20		-- login-flood: limit rate, per source
local POLICY_BURST = 40			-- and its burst

-- Load -----------------------------------------------------------------
local RATE_PCT = 100			-- percent of the link: 7.18 Mpps of 154-byte frames
local LINK_GBPS = 10
local DURATION_S = tonumber(os.getenv("PKTGEN_DURATION_S") or "") or 30
local WARMUP_MS = 3000			-- > burst / (offered - rate) per source: buckets empty
local DRAIN_MS = 2000
local SCREEN_OFF = true

-- The shared helpers, beside this script (lib/sluice_pktgen.lua).
local HERE = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local lib = dofile(HERE .. "/lib/sluice_pktgen.lua")

lib.pcap_flood{
	name = "http_flood", tx = TX_PORT, rx = RX_PORT,
	flood_pkts = PCAP_FLOOD_PKTS, legit_pkts = PCAP_LEGIT_PKTS, frame_size = FRAME_SIZE,
	rate_pps = POLICY_RATE_PPS, burst = POLICY_BURST,
	rate_pct = RATE_PCT, link_gbps = LINK_GBPS, duration_s = DURATION_S,
	warmup_ms = WARMUP_MS, drain_ms = DRAIN_MS, screen_off = SCREEN_OFF,
	flood_what = "requests", legit_what = "client requests",
	flood_class = "login-flood", legit_class = "web",
}
