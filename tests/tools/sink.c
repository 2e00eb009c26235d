/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-sink: the receiver of the namespace tests. Captures on an
 * interface for a while and counts what arrived, per source address and
 * DSCP, checking every IPv4 header checksum and every TCP/UDP checksum,
 * then prints one JSON object.
 *
 *   sluice-sink -i IFACE -t SECONDS [-f 'pcap filter'] [-w FILE.pcap]
 *
 * {"packets": N, "bytes": N, "bad_ip_checksum": N, "bad_l4_checksum": N,
 *  "sources": {"10.0.0.1": {"packets": N, "bytes": N, "first_s": x,
 *              "last_s": x, "max_gap_s": x, "max_gap_at_s": x,
 *              "dscp": {"0": N, "8": N}}}}
 *
 * first_s/last_s are capture times relative to the first packet seen, so
 * a test can measure a rate over a window it chooses. max_gap_s is the
 * longest time between two consecutive packets of a source, and
 * max_gap_at_s when that gap ended: what a failover cost the receiver.
 *
 * Frames that sluice-gen --stamp sent end with its send time; for those
 * the output has "delay": {"packets", "min_ns", "max_ns", "mean_ns"},
 * capture time less send time (both CLOCK_REALTIME, so on one host).
 * -w writes what was counted to a nanosecond pcap for closer analysis.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <pcap/pcap.h>

#include "pkt.h"

struct src_count {
	uint64_t packets, bytes;
	double first_s, last_s;
	double max_gap_s, max_gap_at_s;
	uint64_t dscp[64];
};

static json_t *sources;		/* address -> struct src_count (as a pointer) */
static struct src_count *srcs;
static char (*src_names)[64];
static size_t n_srcs, cap_srcs;
static uint64_t total, total_bytes, bad_ip, bad_l4;
static double t0 = -1;
static volatile sig_atomic_t stop;
static pcap_dumper_t *dump;

/* Delays of stamped frames (sluice-gen --stamp). */
static uint64_t stamped, delay_min = UINT64_MAX, delay_max, delay_sum;
#define STAMP_MAGIC	"sluiceTS"
#define STAMP_LEN	16

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t s)
{
	for (; len > 1; p += 2, len -= 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		s += (uint32_t)(p[0] << 8);
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* 1 if the TCP/UDP checksum (over the pseudo header) is right. */
static int l4_ok(const uint8_t *d, const struct sl_pkt_meta *m, uint32_t l4len)
{
	uint32_t s = 0;

	if (m->proto == 17 && m->family == SL_FAMILY_IPV4 &&
	    d[m->l4_off + 6] == 0 && d[m->l4_off + 7] == 0)
		return 1;	/* UDP over IPv4 without a checksum */
	if (m->family == SL_FAMILY_IPV4) {
		s = sum16(m->src, 4, s);
		s = sum16(m->dst, 4, s);
	} else {
		s = sum16(m->src, 16, s);
		s = sum16(m->dst, 16, s);
	}
	s += m->proto;
	s += l4len;
	s = sum16(d + m->l4_off, l4len, s);
	return fold(s) == 0xffff;
}

static struct src_count *src_get(const char *name)
{
	json_t *v = json_object_get(sources, name);

	if (v != NULL)
		return &srcs[json_integer_value(v)];
	if (n_srcs == cap_srcs) {
		cap_srcs = cap_srcs ? cap_srcs * 2 : 256;
		srcs = realloc(srcs, cap_srcs * sizeof(*srcs));
		src_names = realloc(src_names, cap_srcs * sizeof(*src_names));
		if (srcs == NULL || src_names == NULL) {
			fprintf(stderr, "sluice-sink: out of memory\n");
			exit(1);
		}
	}
	memset(&srcs[n_srcs], 0, sizeof(srcs[0]));
	snprintf(src_names[n_srcs], sizeof(src_names[0]), "%s", name);
	json_object_set_new(sources, name, json_integer((json_int_t)n_srcs));
	return &srcs[n_srcs++];
}

/* Accepts a capture header and the frame's 8-byte big-endian send time. */
static void on_stamp(const struct pcap_pkthdr *h, const u_char *be)
{
	uint64_t sent = 0, got, delay;

	for (int i = 0; i < 8; i++)
		sent = sent << 8 | be[i];
	got = (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec;
	delay = got > sent ? got - sent : 0;
	stamped++;
	delay_sum += delay;
	if (delay < delay_min)
		delay_min = delay;
	if (delay > delay_max)
		delay_max = delay;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *d)
{
	struct sl_pkt_meta m;
	struct src_count *sc;
	char name[64];
	double t = (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e9;
	(void)user;

	if (sl_pkt_parse(d, h->caplen, &m) != SL_MAL_NONE || m.family == SL_FAMILY_NONE)
		return;
	if (dump != NULL)
		pcap_dump((u_char *)dump, h, d);
	if (h->caplen == h->len && h->len >= STAMP_LEN &&
	    memcmp(d + h->len - STAMP_LEN, STAMP_MAGIC, 8) == 0)
		on_stamp(h, d + h->len - 8);
	if (t0 < 0)
		t0 = t;
	total++;
	total_bytes += h->len;
	inet_ntop(m.family == SL_FAMILY_IPV4 ? AF_INET : AF_INET6, m.src, name, sizeof(name));
	sc = src_get(name);
	if (sc->packets == 0)
		sc->first_s = t - t0;
	else if (t - t0 - sc->last_s > sc->max_gap_s) {
		sc->max_gap_s = t - t0 - sc->last_s;
		sc->max_gap_at_s = t - t0;
	}
	sc->last_s = t - t0;
	sc->packets++;
	sc->bytes += h->len;
	sc->dscp[m.dscp & 63]++;
	if (m.family == SL_FAMILY_IPV4 && fold(sum16(d + m.l3_off, (size_t)(d[m.l3_off] & 0xf) * 4, 0)) != 0xffff)
		bad_ip++;
	if ((m.flags & SL_PKT_F_L4) && !(m.flags & SL_PKT_F_FRAG) &&
	    (m.proto == 6 || m.proto == 17) && h->caplen == h->len) {
		uint32_t l4len = (uint32_t)(m.payload_off - m.l4_off) + m.payload_len;

		if (!l4_ok(d, &m, l4len))
			bad_l4++;
	}
}

int main(int argc, char **argv)
{
	const char *iface = NULL, *filter = "ip or ip6", *wfile = NULL;
	double secs = 5;
	char errbuf[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	struct timespec start, now;
	json_t *out, *js;
	pcap_t *p;
	int c;

	while ((c = getopt(argc, argv, "i:t:f:w:")) != -1) {
		switch (c) {
		case 'i': iface = optarg; break;
		case 't': secs = atof(optarg); break;
		case 'f': filter = optarg; break;
		case 'w': wfile = optarg; break;
		default:
			fprintf(stderr, "usage: sluice-sink -i IFACE -t SECONDS [-f FILTER] [-w FILE.pcap]\n");
			return 2;
		}
	}
	if (iface == NULL) {
		fprintf(stderr, "usage: sluice-sink -i IFACE -t SECONDS [-f FILTER] [-w FILE.pcap]\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	sources = json_object();
	p = pcap_create(iface, errbuf);
	if (p == NULL) {
		fprintf(stderr, "sluice-sink: %s\n", errbuf);
		return 1;
	}
	pcap_set_snaplen(p, 2048);
	pcap_set_immediate_mode(p, 1);
	pcap_set_buffer_size(p, 64 << 20);
	pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
	pcap_set_timeout(p, 100);
	if (pcap_activate(p) < 0) {
		fprintf(stderr, "sluice-sink: %s: %s\n", iface, pcap_geterr(p));
		return 1;
	}
	if (pcap_setdirection(p, PCAP_D_IN) < 0 ||
	    pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
	    pcap_setfilter(p, &prog) < 0) {
		fprintf(stderr, "sluice-sink: filter '%s': %s\n", filter, pcap_geterr(p));
		return 1;
	}
	if (wfile != NULL && (dump = pcap_dump_open(p, wfile)) == NULL) {
		fprintf(stderr, "sluice-sink: %s: %s\n", wfile, pcap_geterr(p));
		return 1;
	}
	pcap_setnonblock(p, 1, errbuf);
	/* Ready: tests wait for this line before they start sending. */
	fprintf(stderr, "sluice-sink: listening on %s\n", iface);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int n = pcap_dispatch(p, 4096, on_packet, NULL);

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (stop || (double)(now.tv_sec - start.tv_sec) +
			    (double)(now.tv_nsec - start.tv_nsec) / 1e9 >= secs)
			break;
		if (n == 0) {
			struct timespec ts = { 0, 200000 };

			nanosleep(&ts, NULL);
		}
	}
	while (pcap_dispatch(p, 4096, on_packet, NULL) > 0)
		;
	js = json_object();
	for (size_t i = 0; i < n_srcs; i++) {
		json_t *d = json_object();

		for (int v = 0; v < 64; v++)
			if (srcs[i].dscp[v]) {
				char k[8];

				snprintf(k, sizeof(k), "%d", v);
				json_object_set_new(d, k, json_integer((json_int_t)srcs[i].dscp[v]));
			}
		json_object_set_new(js, src_names[i], json_pack("{s:I,s:I,s:f,s:f,s:f,s:f,s:o}",
			"packets", (json_int_t)srcs[i].packets, "bytes", (json_int_t)srcs[i].bytes,
			"first_s", srcs[i].first_s, "last_s", srcs[i].last_s,
			"max_gap_s", srcs[i].max_gap_s, "max_gap_at_s", srcs[i].max_gap_at_s,
			"dscp", d));
	}
	out = json_pack("{s:I,s:I,s:I,s:I,s:o}", "packets", (json_int_t)total,
			"bytes", (json_int_t)total_bytes, "bad_ip_checksum", (json_int_t)bad_ip,
			"bad_l4_checksum", (json_int_t)bad_l4, "sources", js);
	if (stamped > 0)
		json_object_set_new(out, "delay", json_pack("{s:I,s:I,s:I,s:I}",
			"packets", (json_int_t)stamped, "min_ns", (json_int_t)delay_min,
			"max_ns", (json_int_t)delay_max,
			"mean_ns", (json_int_t)(delay_sum / stamped)));
	if (dump != NULL)
		pcap_dump_close(dump);
	json_dumpf(out, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
	fputc('\n', stdout);
	json_decref(out);
	pcap_close(p);
	return 0;
}
