-- A recording stand-in for Pktgen-DPDK's `pktgen` Lua library, so that
-- the scenario scripts in perf/pktgen/ run under plain lua5.4:
--
--   lua5.4 perf/pktgen/tools/pktgen_standin.lua perf/pktgen/imix.lua
--
-- It fails (exit 1) on any pktgen.* or pktgen.range.* name that the real
-- library does not register, on a wrong argument count, on arguments the
-- real function would refuse or misread (luaL_checkinteger on 1.5, an
-- unknown "set" keyword, a malformed MAC or address), on reading a field
-- that the real result tables do not have, and when the script leaves a
-- port sending or never prints its "summary:" line.
--
-- What is real, and where it was read (app/lpktgenlib.c, the luaL_Reg
-- tables pktgenlib[] and pktgenlib_range[] and each function's
-- lua_gettop() switch):
--   * Pktgen 24.x: github.com/Tuetuopay/Pktgen-DPDK, commit 05cf4dd1
--     (a fork carrying upstream's 2024 app/lpktgenlib.c: pinfo, set_tcp_flags)
--   * Pktgen 23.x: github.com/jamestiotio/Pktgen-DPDK, commit 1f22a38d
--     (upstream's 2023 file)
-- Only functions present in both are modelled, and of those only the
-- ones the scenarios use (a script calling another real function, say
-- pktgen.latency, fails here until it is added); set_tcp_flags and
-- seq_tcp_flags (24.x only) are left out on purpose. The "port"/"rate"
-- kinds of portStats are pktgen_port_stats() in app/pktgen-cmds.c
-- (prev_stats: totals since the last clear; rate_stats: the last second).
--
-- Time is virtual: pktgen.delay() and pktgen.sleep() advance a clock at
-- once, and ports that are sending count packets at the rate the script
-- set (10GbE link, the frame size of the mode in use). The receive port
-- counts what its peer sent, times PKTGEN_STANDIN_PASS (default 1.0); a
-- pcap is taken to hold frames of PKTGEN_STANDIN_PCAP_SIZE bytes (64).

local script = arg[1]
if not script then
	io.stderr:write("usage: lua5.4 pktgen_standin.lua SCRIPT.lua\n")
	os.exit(2)
end

local LINK_BPS = 10e9
local PASS = tonumber(os.getenv("PKTGEN_STANDIN_PASS") or "") or 1.0
local PCAP_SIZE = tonumber(os.getenv("PKTGEN_STANDIN_PCAP_SIZE") or "") or 64
local NUM_SEQ_PKTS = 16		-- app/pktgen-constants.h
local NPORTS = 2
local calls = {}

-- Raised without a position; the recorder re-raises it at the script's line.
local function fail(fmt, ...)
	error(string.format(fmt, ...), 0)
end

-- Argument checks.
local function want_nargs(name, n, ...)
	local got = select("#", ...)
	for _, ok in ipairs(n) do
		if got == ok then
			return
		end
	end
	fail("pktgen.%s: %d argument(s), the real one takes %s",
	     name, got, table.concat(n, " or "))
end

local function want_string(name, i, v, allowed)
	if type(v) ~= "string" and type(v) ~= "number" then
		fail("pktgen.%s: argument %d must be a string, got %s", name, i, type(v))
	end
	if allowed then
		local s = tostring(v):lower()
		for _, a in ipairs(allowed) do
			if s == a:lower() then
				return s
			end
		end
		fail("pktgen.%s: argument %d is '%s', expected one of %s",
		     name, i, tostring(v), table.concat(allowed, ", "))
	end
	return tostring(v)
end

-- luaL_checkinteger: an integer, a float with an exact integer value, or a
-- string that converts to one.
local function want_int(name, i, v, lo, hi)
	local n = tonumber(v)
	if n == nil or math.tointeger(n) == nil then
		fail("pktgen.%s: argument %d must be an integer, got %s",
		     name, i, tostring(v))
	end
	n = math.tointeger(n)
	if (lo and n < lo) or (hi and n > hi) then
		fail("pktgen.%s: argument %d is %d, outside %s..%s", name, i, n,
		     tostring(lo or "-inf"), tostring(hi or "inf"))
	end
	return n
end

local function want_number(name, i, v)
	local n = tonumber(v)
	if n == nil then
		fail("pktgen.%s: argument %d must be a number, got %s", name, i, tostring(v))
	end
	return n
end

-- pktgen_get_portlist(): a string ("all", "0", "0-1", "0,1") or a number.
local function want_portlist(name, i, v)
	local ports = {}
	if type(v) == "number" then
		local p = math.tointeger(v)
		if p == nil or p < 0 or p >= NPORTS then
			fail("pktgen.%s: port %s does not exist", name, tostring(v))
		end
		ports[p] = true
		return ports
	end
	if type(v) ~= "string" then
		fail("pktgen.%s: argument %d must be a port list, got %s", name, i, type(v))
	end
	if v == "all" then
		for p = 0, NPORTS - 1 do
			ports[p] = true
		end
		return ports
	end
	for item in v:gmatch("[^,]+") do
		local a, b = item:match("^(%d+)%-(%d+)$")
		a = tonumber(a or item:match("^(%d+)$"))
		b = tonumber(b) or a
		if a == nil or b < a or b >= NPORTS then
			fail("pktgen.%s: '%s' is not a port list of ports 0..%d",
			     name, v, NPORTS - 1)
		end
		for p = a, b do
			ports[p] = true
		end
	end
	return ports
end

local function want_mac(name, i, v)
	local s = want_string(name, i, v)
	if not (s:match("^%x%x:%x%x:%x%x:%x%x:%x%x:%x%x$") or
		s:match("^%x%x%x%x:%x%x%x%x:%x%x%x%x$")) then
		fail("pktgen.%s: argument %d '%s' is not a MAC address", name, i, s)
	end
	return s
end

local function want_ipv4(name, i, v, prefix)
	local s = want_string(name, i, v)
	local a, b, c, d, len = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)/?(%d*)$")
	local ok = a ~= nil
	for _, o in ipairs({ a, b, c, d }) do
		ok = ok and tonumber(o) <= 255
	end
	if ok and prefix == "required" then
		ok = len ~= "" and tonumber(len) <= 32
	elseif ok and prefix == nil then
		ok = len == ""
	end
	if not ok then
		fail("pktgen.%s: argument %d '%s' is not an IPv4 address%s", name, i, s,
		     prefix == "required" and " with /prefix" or "")
	end
	return s
end

local STATES = { "on", "off", "enable", "disable", "start", "stop" }
local RANGE_WHAT = { "start", "min", "max", "inc" }

-- A table that errors on a field the real one does not carry.
local function strict(t, what)
	return setmetatable(t, { __index = function(_, k)
		error(string.format("%s has no field '%s' in the real Pktgen",
				    what, tostring(k)), 2)
	end })
end

-- Port model.
local ports = {}
for p = 0, NPORTS - 1 do
	ports[p] = {
		mac = string.format("02:00:00:00:00:%02x", p + 1),
		size = 64, rate = 100.0, sending = false, range = false, pcap = false,
		seq_cnt = 0, seq = {}, range_size = 64,
		tx = 0, rx = 0, txb = 0, rxb = 0, tx_pps = 0, rx_pps = 0,
		tx_mbits = 0, rx_mbits = 0,
	}
end
local now_ms = 0

-- Frame size with FCS the port sends, for the mode in use.
local function frame_size(pt)
	if pt.pcap then
		return PCAP_SIZE
	end
	if pt.seq_cnt > 0 then
		local sum = 0
		for i = 0, pt.seq_cnt - 1 do
			sum = sum + (pt.seq[i] or 64)
		end
		return sum / pt.seq_cnt
	end
	if pt.range then
		return pt.range_size
	end
	return pt.size
end

local function advance(ms)
	for p = 0, NPORTS - 1 do
		ports[p].tx_pps, ports[p].rx_pps = 0, 0
		ports[p].tx_mbits, ports[p].rx_mbits = 0, 0
	end
	for p = 0, NPORTS - 1 do
		local pt = ports[p]
		if pt.sending then
			local size = frame_size(pt)
			local pps = LINK_BPS * pt.rate / 100 / ((size + 20) * 8)
			local n = math.floor(pps * ms / 1000)
			local peer = ports[(p + 1) % NPORTS]
			pt.tx, pt.txb, pt.tx_pps = pt.tx + n, pt.txb + n * (size - 4), math.floor(pps)
			local r = math.floor(n * PASS)
			peer.rx, peer.rxb = peer.rx + r, peer.rxb + r * (size - 4)
			peer.rx_pps = math.floor(pps * PASS)
			-- iBitsTotal()/oBitsTotal(): bytes plus 24 bytes a frame, in bits
			pt.tx_mbits = math.floor(pps * (size + 20) * 8 / 1e6)
			peer.rx_mbits = math.floor(pps * PASS * (size + 20) * 8 / 1e6)
		end
	end
	now_ms = now_ms + ms
end

local function each(pl, fn)
	for p = 0, NPORTS - 1 do
		if pl[p] then
			fn(ports[p], p)
		end
	end
end

-- Per-port result table as the real functions build it: [pid] = {...}, n.
local function per_port(pl, what, build)
	local t, n = {}, 0
	each(pl, function(pt, p)
		t[p] = strict(build(pt, p), what .. "[" .. p .. "]")
		n = n + 1
	end)
	t.n = n
	return t
end

local SET_WHAT = { "count", "size", "rate", "burst", "txburst", "rxburst", "cycles",
	"sport", "dport", "ttl", "seq_cnt", "seqCnt", "prime", "dump" }

local api = {}

function api.set(...)
	want_nargs("set", { 3 }, ...)
	local pl, what, v = ...
	pl = want_portlist("set", 1, pl)
	what = want_string("set", 2, what, SET_WHAT)
	v = want_number("set", 3, v)
	each(pl, function(pt)
		if what == "size" then
			pt.size = want_int("set", 3, v, 64, 9216)
		elseif what == "rate" then
			if v <= 0 or v > 100 then
				fail("pktgen.set: rate %s is not a percentage 0..100", tostring(v))
			end
			pt.rate = v
		elseif what == "seq_cnt" or what == "seqcnt" then
			pt.seq_cnt = want_int("set", 3, v, 0, NUM_SEQ_PKTS)
			if pt.seq_cnt > 0 then
				pt.range, pt.pcap = false, false
			end
		end
	end)
end

function api.set_mac(...)
	want_nargs("set_mac", { 3 }, ...)
	local pl, which, mac = ...
	want_portlist("set_mac", 1, pl)
	want_string("set_mac", 2, which, { "src", "dst" })
	want_mac("set_mac", 3, mac)
end

function api.set_ipaddr(...)
	want_nargs("set_ipaddr", { 3 }, ...)
	local pl, which, ip = ...
	want_portlist("set_ipaddr", 1, pl)
	which = want_string("set_ipaddr", 2, which, { "src", "dst" })
	-- pktgen_set_ip_addr parses src with PG_IPADDR_NETWORK: "a.b.c.d/len".
	want_ipv4("set_ipaddr", 3, ip, which == "src" and "required" or nil)
end

function api.set_proto(...)
	want_nargs("set_proto", { 2 }, ...)
	local pl, proto = ...
	want_portlist("set_proto", 1, pl)
	want_string("set_proto", 2, proto, { "udp", "tcp", "icmp" })
end

function api.set_type(...)
	want_nargs("set_type", { 2 }, ...)
	local pl, t = ...
	want_portlist("set_type", 1, pl)
	want_string("set_type", 2, t, { "ipv4", "ipv6", "arp" })
end

function api.set_range(...)
	want_nargs("set_range", { 2 }, ...)
	local pl, state = ...
	pl = want_portlist("set_range", 1, pl)
	state = want_string("set_range", 2, state, STATES)
	each(pl, function(pt)
		pt.range = state == "on" or state == "enable" or state == "start"
		if pt.range then
			pt.pcap, pt.seq_cnt = false, 0
		end
	end)
end

function api.pcap(...)
	want_nargs("pcap", { 2 }, ...)
	local pl, state = ...
	pl = want_portlist("pcap", 1, pl)
	state = want_string("pcap", 2, state, STATES)
	each(pl, function(pt)
		pt.pcap = state == "on" or state == "enable" or state == "start"
		if pt.pcap then
			pt.range, pt.seq_cnt = false, 0
		end
	end)
end

function api.seq(...)
	want_nargs("seq", { 12, 13 }, ...)
	local a = { ... }
	local n = want_int("seq", 1, a[1], 0, NUM_SEQ_PKTS - 1)
	local pl = want_portlist("seq", 2, a[2])
	want_mac("seq", 3, a[3])
	want_mac("seq", 4, a[4])
	want_ipv4("seq", 5, a[5])
	want_ipv4("seq", 6, a[6], "required")
	want_int("seq", 7, a[7], 0, 65535)
	want_int("seq", 8, a[8], 0, 65535)
	want_string("seq", 9, a[9], { "ipv4", "ipv6" })
	want_string("seq", 10, a[10], { "udp", "tcp", "icmp" })
	want_int("seq", 11, a[11], 0, 4095)
	local size = want_int("seq", 12, a[12], 64, 9216)
	each(pl, function(pt)
		pt.seq[n] = size
	end)
end

local function simple(name, nargs, check)
	api[name] = function(...)
		want_nargs(name, nargs, ...)
		return check(...)
	end
end

simple("start", { 1 }, function(pl)
	each(want_portlist("start", 1, pl), function(pt) pt.sending = true end)
end)
simple("stop", { 1 }, function(pl)
	each(want_portlist("stop", 1, pl), function(pt) pt.sending = false end)
end)
simple("clear", { 1 }, function(pl)
	each(want_portlist("clear", 1, pl), function(pt)
		pt.tx, pt.rx, pt.txb, pt.rxb = 0, 0, 0, 0
	end)
end)
simple("clr", { 0 }, function()
	for p = 0, NPORTS - 1 do
		local pt = ports[p]
		pt.tx, pt.rx, pt.txb, pt.rxb = 0, 0, 0, 0
	end
end)
simple("delay", { 1 }, function(ms)
	advance(want_int("delay", 1, ms, 0))
end)
simple("sleep", { 1 }, function(s)
	advance(1000 * want_int("sleep", 1, s, 0))
end)
simple("pause", { 2 }, function(msg, ms)
	want_string("pause", 1, msg)
	advance(want_int("pause", 2, ms, 0))
end)
simple("screen", { 1 }, function(state)
	want_string("screen", 1, state, STATES)
end)
simple("page", { 1 }, function(page)
	want_string("page", 1, page)
end)
simple("portCount", { 0 }, function() return NPORTS end)
simple("totalPorts", { 0 }, function() return NPORTS end)

simple("linkState", { 1 }, function(pl)
	local t, n = {}, 0
	each(want_portlist("linkState", 1, pl), function(_, p)
		t[p] = "<UP-10000-FD>"
		n = n + 1
	end)
	t.n = n
	return t
end)

simple("isSending", { 1 }, function(pl)
	local t, n = {}, 0
	each(want_portlist("isSending", 1, pl), function(pt, p)
		t[p] = pt.sending and "y" or "n"
		n = n + 1
	end)
	t.n = n
	return t
end)

simple("portStats", { 2 }, function(pl, kind)
	pl = want_portlist("portStats", 1, pl)
	kind = want_string("portStats", 2, kind, { "port", "rate" })
	return per_port(pl, "portStats", function(pt)
		local r = {
			ipackets = kind == "rate" and pt.rx_pps or pt.rx,
			opackets = kind == "rate" and pt.tx_pps or pt.tx,
			ibytes = pt.rxb, obytes = pt.txb, ierrors = 0, oerrors = 0,
			rx_nombuf = 0, imissed = 0,
		}
		if kind == "rate" then
			r.pkts_rx, r.pkts_tx = r.ipackets, r.opackets
			r.mbits_rx, r.mbits_tx = pt.rx_mbits, pt.tx_mbits
		end
		return r
	end)
end)

simple("pktStats", { 1 }, function(pl)
	return per_port(want_portlist("pktStats", 1, pl), "pktStats", function(pt)
		return {
			arp_pkts = 0, echo_pkts = 0, ip_pkts = pt.rx, ipv6_pkts = 0,
			vlan_pkts = 0, dropped_pkts = 0, unknown_pkts = 0, tx_failed = 0,
			mac_addr = pt.mac,
			latency = strict({ rate_us = 0, entropy = 0, jitter_threshold = 0,
				jitter_count = 0, num_pkts = 0, num_skipped = 0, min_cycles = 0,
				avg_cycles = 0, max_cycles = 0, min_us = 0.0, avg_us = 0.0,
				max_us = 0.0 }, "pktStats[].latency"),
		}
	end)
end)

-- Range functions: pktgen.range.X(portlist, what, value).
local range = {}
local function range_fn(name, check)
	range[name] = function(...)
		want_nargs("range." .. name, { 3 }, ...)
		local pl, what, v = ...
		pl = want_portlist("range." .. name, 1, pl)
		what = want_string("range." .. name, 2, what, RANGE_WHAT)
		check("range." .. name, v, pl, what)
	end
end
range_fn("src_ip", function(n, v) want_ipv4(n, 3, v) end)
range_fn("dst_ip", function(n, v) want_ipv4(n, 3, v) end)
range_fn("src_port", function(n, v) want_int(n, 3, v, 0, 65535) end)
range_fn("dst_port", function(n, v) want_int(n, 3, v, 0, 65535) end)
range_fn("ttl", function(n, v) want_int(n, 3, v, 0, 255) end)
range_fn("src_mac", function(n, v) want_mac(n, 3, v) end)
range_fn("dst_mac", function(n, v) want_mac(n, 3, v) end)
range_fn("pkt_size", function(n, v, pl, what)
	local size = want_int(n, 3, v, what == "inc" and 0 or 64, 9216)
	if what == "start" then
		each(pl, function(pt) pt.range_size = size end)
	end
end)
range.ip_proto = function(...)
	want_nargs("range.ip_proto", { 2 }, ...)
	local pl, proto = ...
	want_portlist("range.ip_proto", 1, pl)
	want_string("range.ip_proto", 2, proto, { "udp", "tcp", "icmp" })
end

-- Record every call, then refuse names the real library does not have.
local function recorder(tbl, prefix)
	local out = {}
	for k, f in pairs(tbl) do
		out[k] = function(...)
			calls[#calls + 1] = { t = now_ms, name = prefix .. k, args = { ... } }
			local r = table.pack(pcall(f, ...))
			if not r[1] then
				error(r[2], 2)
			end
			return table.unpack(r, 2, r.n)
		end
	end
	return out
end

pktgen = recorder(api, "")
pktgen.range = setmetatable(recorder(range, "range."), { __index = function(_, k)
	error(string.format("pktgen.range.%s is not a function of Pktgen's range library",
			    tostring(k)), 2)
end })
pktgen.info = strict({
	Lua_Version = _VERSION, Lua_Release = _VERSION, Lua_Copyright = "", Lua_Authors = "",
	Pktgen_Version = "24.10.3 (stand-in)", Pktgen_Copyright = "", Pktgen_Authors = "",
	DPDK_Version = "DPDK 24.11.0 (stand-in)",
}, "pktgen.info")
setmetatable(pktgen, { __index = function(_, k)
	error(string.format("pktgen.%s is not a function of Pktgen's Lua library",
			    tostring(k)), 2)
end })

-- Capture output to check the summary.
local out = {}
local real_print = print
print = function(...)
	local parts = {}
	for i = 1, select("#", ...) do
		parts[#parts + 1] = tostring((select(i, ...)))
	end
	out[#out + 1] = table.concat(parts, "\t")
	real_print(...)
end

local ok, err = pcall(dofile, script)
if not ok then
	io.stderr:write("FAIL ", script, ": ", tostring(err), "\n")
	os.exit(1)
end

local problems = {}
local started = false
for _, c in ipairs(calls) do
	started = started or c.name == "start"
end
if not started then
	problems[#problems + 1] = "never called pktgen.start"
end
for p = 0, NPORTS - 1 do
	if ports[p].sending then
		problems[#problems + 1] = "port " .. p .. " is still sending at the end"
	end
end
local summary = false
for _, line in ipairs(out) do
	summary = summary or line:match("^summary:") ~= nil
end
if not summary then
	problems[#problems + 1] = "printed no 'summary:' line"
end
if #problems > 0 then
	io.stdout:flush()
	io.stderr:write("FAIL ", script, ": ", table.concat(problems, "; "), "\n")
	os.exit(1)
end
io.stdout:flush()
io.stderr:write(string.format("ok %s: %d pktgen calls, %.1f s of virtual time\n",
			      script, #calls, now_ms / 1000))
