-- sluice_pktgen.lua: what the scenario scripts of perf/pktgen/ share:
-- counters of a TX/RX port pair, a line a second while the load runs,
-- the totals, and the whole of a pcap flood scenario (flood_over_limit,
-- http_flood). A scenario loads it from beside itself:
--   local lib = dofile(HERE .. "/lib/sluice_pktgen.lua")
-- Written for Pktgen-DPDK 24.10.x (see perf/pktgen/README.md).

local M = {}

-- 1234567 -> "1,234,567"
function M.fmt_int(n)
	local s = string.format("%d", math.floor(n + 0.5))
	local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
	return (out:gsub("^(-?),", "%1"))
end

-- Frames a second at line rate: preamble + SFD 8 bytes, inter-frame gap 12.
function M.line_pps(size_fcs, gbps)
	return gbps * 1e9 / ((size_fcs + 20) * 8)
end

-- A TX/RX port pair: the scenario's load leaves on tx, comes back on rx.
function M.ports(tx, rx)
	local P = { tx = tx, rx = rx, list = string.format("%d,%d", tx, rx) }
	local fmt_int = M.fmt_int

	function P.stats(kind)
		return pktgen.portStats(P.list, kind)
	end

	function P.mac(port)
		return pktgen.pktStats(tostring(port))[port].mac_addr
	end

	-- Totals since the last clear: what tx sent, what rx received.
	function P.totals()
		local s = P.stats("port")
		return { tx = s[tx].opackets, rx = s[rx].ipackets,
			 txb = s[tx].obytes, rxb = s[rx].ibytes,
			 imissed = s[rx].imissed, nombuf = s[rx].rx_nombuf }
	end

	function P.loss_pct(t)
		return t.tx > 0 and 100 * (t.tx - t.rx) / t.tx or 0
	end

	function P.print_totals(t)
		print(string.format("whole run: p%d tx %s pkts %s bytes, p%d rx %s pkts %s bytes (imissed %s, rx_nombuf %s)",
				    tx, fmt_int(t.tx), fmt_int(t.txb), rx, fmt_int(t.rx),
				    fmt_int(t.rxb), fmt_int(t.imissed), fmt_int(t.nombuf)))
	end

	-- One line a second: what each port sent and received in that
	-- second; with mbits, also rx's wire rate.
	function P.run(seconds, mbits)
		print(string.format("%4s  %14s %14s  %14s %14s  %8s%s", "t(s)",
				    "p" .. tx .. " tx pps", "p" .. tx .. " rx pps",
				    "p" .. rx .. " tx pps", "p" .. rx .. " rx pps", "rx/tx",
				    mbits and string.format("  %10s", "rx Mbit/s*") or ""))
		for t = 1, seconds do
			pktgen.delay(1000)
			local r = P.stats("rate")
			local o, i = r[tx].opackets, r[rx].ipackets
			print(string.format("%4d  %14s %14s  %14s %14s  %7.2f%%%s", t,
					    fmt_int(o), fmt_int(r[tx].ipackets),
					    fmt_int(r[rx].opackets), fmt_int(i),
					    o > 0 and 100 * i / o or 0,
					    mbits and string.format("  %10s", fmt_int(r[rx].mbits_rx)) or ""))
		end
		if mbits then
			print("* pktgen's wire rate: frames plus 24 bytes each (FCS, preamble, gap)")
		end
	end

	-- From counters at zero: start port txs, wait warmup_ms (buckets
	-- settle), a line a second for seconds, stop, wait drain_ms (the
	-- gateway empties). Returns the window's offered and received pps
	-- and the whole run's totals.
	function P.measure(txs, warmup_ms, seconds, drain_ms, mbits)
		pktgen.clear(P.list)
		pktgen.start(txs)
		pktgen.delay(warmup_ms)
		local w0 = P.totals()
		P.run(seconds, mbits)
		local w1 = P.totals()
		pktgen.stop(txs)
		pktgen.delay(drain_ms)
		return (w1.tx - w0.tx) / seconds, (w1.rx - w0.rx) / seconds, P.totals()
	end

	-- The versions and the links, first thing a scenario prints.
	function P.banner(name)
		print(string.format("%s: Pktgen %s, %s", name, pktgen.info.Pktgen_Version,
				    pktgen.info.DPDK_Version))
		local links = pktgen.linkState(P.list)
		print(string.format("links: port %d %s, port %d %s", tx, links[tx], rx, links[rx]))
	end

	return P
end

-- A pcap replayed on c.tx (-s TX:file.pcap) holding, per pass,
-- c.flood_pkts packets each from a source of its own, metered per source
-- at c.rate_pps (burst c.burst), and c.legit_pkts of a flow that must
-- pass whole. Prints a line a second, then what passed against what the
-- class allows and the rate error. c: name, tx, rx, flood_pkts,
-- legit_pkts, frame_size (with FCS), rate_pps, burst, rate_pct,
-- link_gbps, duration_s, warmup_ms, drain_ms, screen_off, flood_what
-- ("SYN"), legit_what ("client ACKs"), flood_class, legit_class.
function M.pcap_flood(c)
	local fmt_int = M.fmt_int
	local P = M.ports(c.tx, c.rx)
	local txs = tostring(c.tx)

	P.banner(c.name)
	print(string.format("port %d replays the pcap given with -s %d:FILE; without one it sends pktgen's single packet instead",
			    c.tx, c.tx))
	if c.screen_off then
		pktgen.screen("off")
	end
	pktgen.stop(P.list)
	pktgen.set_range(txs, "off")
	pktgen.set(txs, "seq_cnt", 0)
	pktgen.pcap(txs, "on")
	pktgen.set(txs, "count", 0)
	pktgen.set(txs, "rate", c.rate_pct)

	local per_pass = c.flood_pkts + c.legit_pkts
	local legit_share = c.legit_pkts / per_pass
	local expect_pps = M.line_pps(c.frame_size, c.link_gbps) * c.rate_pct / 100
	local per_source = expect_pps / per_pass
	print(string.format("offering %s pps: %d flooding sources at %.1f %s/s each (limit %d/s, burst %d), %s %s pps, %d s",
			    fmt_int(expect_pps), c.flood_pkts, per_source, c.flood_what,
			    c.rate_pps, c.burst, c.legit_what, fmt_int(expect_pps * legit_share),
			    c.duration_s))
	if per_source <= c.rate_pps then
		print("note: each source offers no more than its limit: nothing will be dropped")
	end

	-- The warm-up empties every source's burst.
	local offered, received, all = P.measure(txs, c.warmup_ms, c.duration_s, c.drain_ms)

	-- In the window every bucket is empty: the flood passes at sources x
	-- rate (or its offered rate when lower), the legit packets pass whole.
	local legit = offered * legit_share
	local flood_offered = offered - legit
	local flood_limit = math.min(flood_offered, c.flood_pkts * c.rate_pps)
	local flood_passed = received - legit
	P.print_totals(all)
	print(string.format("window %d s: offered %s pps (flood %s, %s %s), received %s pps",
			    c.duration_s, fmt_int(offered), fmt_int(flood_offered), c.legit_what,
			    fmt_int(legit), fmt_int(received)))
	print(string.format("flood passed %s pps against %s allowed (%d sources x %d pps): rate error %+.3f%%",
			    fmt_int(flood_passed), fmt_int(flood_limit), c.flood_pkts,
			    c.rate_pps, flood_limit > 0 and 100 * (flood_passed / flood_limit - 1) or 0))
	local whole_legit = all.tx * legit_share
	print(string.format("whole run: flood sent %s, %s sent %s; received %s, so the gateway dropped %s (%.2f%% of the flood)",
			    fmt_int(all.tx - whole_legit), c.legit_what, fmt_int(whole_legit),
			    fmt_int(all.rx), fmt_int(all.tx - all.rx),
			    all.tx > whole_legit and 100 * (all.tx - all.rx) / (all.tx - whole_legit) or 0))
	print(string.format("summary: offered %s pps, received %s pps, loss %.2f%% (policy drops; expected %.2f%%)",
			    fmt_int(offered), fmt_int(received),
			    offered > 0 and 100 * (1 - received / offered) or 0,
			    offered > 0 and 100 * (flood_offered - flood_limit) / offered or 0))
	print(string.format("expect: sluice %s passed + dropped = flood sent, dropped = p%d tx - p%d rx; %s passed = %s sent, dropped 0",
			    c.flood_class, c.tx, c.rx, c.legit_class, c.legit_what))
	if c.screen_off then
		pktgen.screen("on")
	end
end

return M
