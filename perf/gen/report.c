/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The report: JSON on stdout (for scripts), a human summary on stderr.
 *
 * JSON fields (perf/README.md documents the same):
 *   port            DPDK port id sent on
 *   sent            {packets, bytes}: handed to the PMD; bytes are frame
 *                   bytes without FCS
 *   tx_failed       packets the PMD refused after retries (freed, not sent)
 *   duration_s      seconds from the first tx to the end of the run
 *   rate            configured_pps: sum over groups, 0 when any group is
 *                   unpaced; achieved_pps = sent.packets / duration_s;
 *                   achieved_bps = sent.bytes * 8 / duration_s;
 *                   achieved_line_bps adds the 24 bytes of FCS, preamble
 *                   and inter-frame gap per frame (wire occupancy)
 *   flows           distinct 5-tuples over all groups
 *   late_bursts     times tx was more than SL_GEN_CATCHUP_BURSTS bursts
 *                   behind schedule
 *   late_packets    packets forgiven at those times (the schedule moved
 *                   later instead of sending them as one big burst)
 *   alloc_failed    bursts delayed because the mempool was empty
 *   interrupted     true when SIGINT/SIGTERM ended the run
 *   mode            "refcnt" (prebuilt mbufs) or "copy"
 *   tsc_hz          TSC frequency the pacing used, measured at start
 *                   against CLOCK_MONOTONIC_RAW
 *   tsc_hz_eal      what rte_get_tsc_hz() said (may be nominal)
 *   groups[]        per flow group: name, sent, tx_failed, alloc_failed,
 *                   duration_s (until its --count was done, else the
 *                   run's), rate over that duration, flows, late_bursts,
 *                   late_packets
 *   config          the resolved options: port, burst, duration_s (null =
 *                   none), copy, rx, groups[] (each group's options, with
 *                   the decoded payload as payload_hex and the effective
 *                   src_mac)
 *   rx              with --rx: {packets, bytes, non_ip, untracked,
 *                   sources[] of {src, packets, bytes}}
 * On a fatal error the only output on stdout is {"error": "message"}.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <jansson.h>
#include <rte_common.h>
#include <rte_cycles.h>

#include "gen.h"

/* FCS + preamble/SFD + inter-frame gap: what a frame costs on the wire. */
#define SL_GEN_L1_OVERHEAD	24

/* Prints {"error": msg} on stdout and the message on stderr. */
void sl_gen_report_error(const char *msg)
{
	json_t *o = json_pack("{s:s}", "error", msg);

	fprintf(stderr, "sluice-gen: %s\n", msg);
	if (o != NULL) {
		json_dumpf(o, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(o);
	}
	fflush(stdout);
}

/* Returns the text form of an address of @family. */
static json_t *addr_json(int family, const uint8_t *addr)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, buf, sizeof(buf));
	return json_string(buf);
}

/* Returns {first, last, count} of an address range. */
static json_t *range_json(const struct sl_gen_addr_range *r)
{
	/* An IPv6 range can hold more addresses than a JSON integer. */
	json_t *count = r->count > INT64_MAX ? json_real((double)r->count) :
					       json_integer((json_int_t)r->count);

	return json_pack("{s:o, s:o, s:o}",
			 "first", addr_json(r->family, r->first),
			 "last", addr_json(r->family, r->last),
			 "count", count);
}

/* Returns a MAC address as a string. */
static json_t *mac_json(const uint8_t *mac)
{
	char buf[RTE_ETHER_ADDR_FMT_SIZE];

	rte_ether_format_addr(buf, sizeof(buf), (const struct rte_ether_addr *)mac);
	return json_string(buf);
}

/* Returns @len bytes as a lowercase hex string. */
static json_t *hex_json(const uint8_t *p, uint32_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *buf = malloc(2 * (size_t)len + 1);
	json_t *o;
	uint32_t i;

	if (buf == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		buf[2 * i] = digits[p[i] >> 4];
		buf[2 * i + 1] = digits[p[i] & 0xf];
	}
	buf[2 * len] = '\0';
	o = json_string(buf);
	free(buf);
	return o;
}

/* Returns the options of one group; @frame gives the effective MACs. */
static json_t *spec_json(const struct sl_gen_spec *s, const uint8_t *frame)
{
	char buf[64];
	json_t *o;

	o = json_pack("{s:s, s:o, s:o, s:s, s:{s:i, s:i}, s:{s:i, s:i}}",
		      "name", s->name,
		      "src", range_json(&s->src),
		      "dst", addr_json(s->dst.family, s->dst.first),
		      "proto", sl_gen_proto_name(s->proto, buf, sizeof(buf)),
		      "sport", "first", s->sport.first, "last", s->sport.last,
		      "dport", "first", s->dport.first, "last", s->dport.last);
	if (o == NULL)
		return NULL;
	if (s->proto == IPPROTO_TCP)
		json_object_set_new(o, "tcp_flags",
				    json_string(sl_gen_tcp_flags_name(s->tcp_flags, buf, sizeof(buf))));
	json_object_set_new(o, "dscp", json_integer(s->dscp));
	json_object_set_new(o, "size", json_integer(s->size));
	json_object_set_new(o, "payload", s->payload_text ?
			    json_string(s->payload_text) : json_null());
	json_object_set_new(o, "payload_hex", hex_json(s->payload, s->payload_len));
	json_object_set_new(o, "payload_len", json_integer(s->payload_len));
	json_object_set_new(o, "flows", json_integer(s->flows));
	json_object_set_new(o, "rate", json_pack("{s:f, s:s, s:f}",
			    "value", s->rate.value,
			    "unit", s->rate.bits ? "bit/s" : "pps",
			    "pps", s->pps));
	json_object_set_new(o, "count", s->count ?
			    json_integer((json_int_t)s->count) : json_null());
	json_object_set_new(o, "vlan", s->vlan >= 0 ?
			    json_integer(s->vlan) : json_null());
	json_object_set_new(o, "src_mac", mac_json(frame + RTE_ETHER_ADDR_LEN));
	json_object_set_new(o, "dst_mac", mac_json(frame));
	json_object_set_new(o, "pattern",
			    json_string(s->pattern == SL_GEN_RANDOM ? "random" : "seq"));
	json_object_set_new(o, "on_s", json_real(s->on_s));
	json_object_set_new(o, "off_s", json_real(s->off_s));
	return o;
}

/* Returns {packets, bytes}. */
static json_t *sent_json(const struct sl_gen_stats *st)
{
	return json_pack("{s:I, s:I}", "packets", (json_int_t)st->packets,
			 "bytes", (json_int_t)st->bytes);
}

/* Returns achieved packets/s, or 0 for a zero-length run. */
static double per_s(uint64_t n, double secs)
{
	return secs > 0 ? (double)n / secs : 0;
}

/* Returns one entry of "groups": what that group sent. */
static json_t *stream_json(const struct sl_gen_stream *s, uint64_t hz)
{
	double secs = hz ? (double)s->elapsed_tsc / (double)hz : 0;

	return json_pack("{s:s, s:o, s:I, s:I, s:f, s:{s:f, s:f, s:f}, s:i, s:I, s:I}",
			 "name", s->spec->name,
			 "sent", sent_json(&s->stats),
			 "tx_failed", (json_int_t)s->stats.tx_failed,
			 "alloc_failed", (json_int_t)s->stats.alloc_failed,
			 "duration_s", secs,
			 "rate",
			 "configured_pps", s->spec->pps,
			 "achieved_pps", per_s(s->stats.packets, secs),
			 "achieved_bps", per_s(s->stats.bytes * 8, secs),
			 "flows", s->tmpl.nb_flows,
			 "late_bursts", (json_int_t)s->pacer.late_events,
			 "late_packets", (json_int_t)s->pacer.lag);
}

/* Returns the "config" object: run options and each group's. */
static json_t *config_json(const struct sl_gen_cfg *cfg,
			   const struct sl_gen_run *run)
{
	json_t *groups = json_array();
	unsigned int i;

	for (i = 0; i < cfg->nb_groups; i++)
		json_array_append_new(groups, spec_json(&cfg->group[i],
							run->stream[i].tmpl.frame));
	return json_pack("{s:i, s:i, s:o, s:b, s:b, s:b, s:o}",
			 "port", cfg->port,
			 "burst", cfg->burst,
			 "duration_s", cfg->duration_s > 0 ?
				json_real(cfg->duration_s) : json_null(),
			 "copy", cfg->copy,
			 "stamp", cfg->stamp,
			 "rx", cfg->rx,
			 "groups", groups);
}

/* Totals of all streams of @run. */
struct totals {
	struct sl_gen_stats st;
	uint64_t flows;
	uint64_t late_bursts;
	uint64_t late_packets;
	double configured_pps;	/* 0 when any group is unpaced */
};

/* Adds up the streams of @run into @t. */
static void sum_streams(const struct sl_gen_run *run, struct totals *t)
{
	bool unpaced = false;
	unsigned int i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < run->nb_streams; i++) {
		const struct sl_gen_stream *s = &run->stream[i];

		t->st.packets += s->stats.packets;
		t->st.bytes += s->stats.bytes;
		t->st.tx_failed += s->stats.tx_failed;
		t->st.alloc_failed += s->stats.alloc_failed;
		t->flows += s->tmpl.nb_flows;
		t->late_bursts += s->pacer.late_events;
		t->late_packets += s->pacer.lag;
		t->configured_pps += s->spec->pps;
		unpaced |= s->spec->pps == 0;
	}
	if (unpaced)
		t->configured_pps = 0;
}

/* Prints the whole report as JSON on stdout. */
static void print_json(const struct sl_gen_cfg *cfg,
		       const struct sl_gen_run *run, const struct totals *t,
		       double secs)
{
	json_t *root, *groups = json_array();
	unsigned int i;

	for (i = 0; i < run->nb_streams; i++)
		json_array_append_new(groups, stream_json(&run->stream[i], run->hz));
	root = json_pack("{s:i, s:o, s:I, s:f, s:{s:f, s:f, s:f, s:f}, s:I, s:I, s:I, s:I, s:b, s:s, s:I, s:I, s:o, s:o}",
			 "port", cfg->port,
			 "sent", sent_json(&t->st),
			 "tx_failed", (json_int_t)t->st.tx_failed,
			 "duration_s", secs,
			 "rate",
			 "configured_pps", t->configured_pps,
			 "achieved_pps", per_s(t->st.packets, secs),
			 "achieved_bps", per_s(t->st.bytes * 8, secs),
			 "achieved_line_bps",
			 per_s((t->st.bytes + t->st.packets * SL_GEN_L1_OVERHEAD) * 8, secs),
			 "flows", (json_int_t)t->flows,
			 "late_bursts", (json_int_t)t->late_bursts,
			 "late_packets", (json_int_t)t->late_packets,
			 "alloc_failed", (json_int_t)t->st.alloc_failed,
			 "interrupted", run->interrupted,
			 "mode", run->stream[0].prebuilt ? "refcnt" : "copy",
			 "tsc_hz", (json_int_t)run->hz,
			 "tsc_hz_eal", (json_int_t)rte_get_tsc_hz(),
			 "groups", groups,
			 "config", config_json(cfg, run));
	if (root == NULL) {
		sl_gen_report_error("cannot build the JSON report");
		return;
	}
	if (run->rx != NULL)
		json_object_set_new(root, "rx", sl_gen_rx_json(run->rx));
	json_dumpf(root, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(root);
}

/* Formats @v with a k/M/G prefix and @unit into @buf. */
static const char *si(double v, const char *unit, char *buf, size_t len)
{
	static const char pfx[] = { ' ', 'k', 'M', 'G', 'T' };
	unsigned int i = 0;

	while (v >= 1000 && i + 1 < sizeof(pfx)) {
		v /= 1000;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%.0f %s", v, unit);
	else
		snprintf(buf, len, "%.2f %c%s", v, pfx[i], unit);
	return buf;
}

/* Prints a short human summary on stderr. */
static void print_summary(const struct sl_gen_run *run,
			  const struct totals *t, double secs)
{
	char a[32], b[32], c[32], d[32];
	unsigned int i;

	fprintf(stderr, "sluice-gen: port %u: %" PRIu64 " packets, %s in %.3f s: %s, %s (configured %s)%s\n",
		run->port, t->st.packets, si((double)t->st.bytes, "B", a, sizeof(a)),
		secs, si(per_s(t->st.packets, secs), "pps", b, sizeof(b)),
		si(per_s(t->st.bytes * 8, secs), "bit/s", c, sizeof(c)),
		t->configured_pps > 0 ? si(t->configured_pps, "pps", d, sizeof(d)) : "max",
		run->interrupted ? ", interrupted" : "");
	fprintf(stderr, "  %" PRIu64 " flows, tx failed %" PRIu64 ", late bursts %" PRIu64 " (%" PRIu64 " packets forgiven), mode %s\n",
		t->flows, t->st.tx_failed, t->late_bursts, t->late_packets,
		run->stream[0].prebuilt ? "refcnt" : "copy");
	for (i = 0; run->nb_streams > 1 && i < run->nb_streams; i++) {
		const struct sl_gen_stream *s = &run->stream[i];

		double gs = (double)s->elapsed_tsc / (double)run->hz;

		fprintf(stderr, "  group %-12s %" PRIu64 " packets in %.3f s: %s, %u flows\n",
			s->spec->name, s->stats.packets, gs,
			si(per_s(s->stats.packets, gs), "pps", a, sizeof(a)),
			s->tmpl.nb_flows);
	}
}

/* Reports @run: JSON on stdout, and the summary unless --quiet. */
void sl_gen_report(const struct sl_gen_cfg *cfg, const struct sl_gen_run *run)
{
	double secs = run->hz ? (double)run->elapsed_tsc / (double)run->hz : 0;
	struct totals t;

	sum_streams(run, &t);
	print_json(cfg, run, &t, secs);
	if (!cfg->quiet)
		print_summary(run, &t, secs);
}
