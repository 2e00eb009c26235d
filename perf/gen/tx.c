/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tx loop: one busy-polling loop on the main lcore that asks each
 * stream's pacer how many packets are due, builds them and hands them to
 * the port in bursts. Packets come either from one prebuilt mbuf per flow
 * whose refcount is raised per send (no copy, no allocation), or from a
 * fresh mbuf with the template copied in (any number of flows).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_random.h>

#include "gen.h"
#include "tsc.h"

/* rte_eth_tx_burst() calls per burst before the rest counts as failed. */
#define SL_GEN_TX_RETRIES	64

/* How long to measure the TSC against the kernel's clock. */
#define SL_GEN_CALIBRATE_US	200000

volatile int sl_gen_quit;

/*
 * Returns the TSC frequency measured against the kernel's clock: the
 * EAL's may be nominal (see common/tsc.h).
 */
uint64_t sl_gen_tsc_hz(void)
{
	return sl_tsc_hz_measure(SL_GEN_CALIBRATE_US);
}

/* Builds one mbuf per flow of @s from @pool, for refcounted sends. */
int sl_gen_prebuild(struct sl_gen_stream *s, struct rte_mempool *pool)
{
	uint32_t i, n = s->tmpl.nb_flows;
	struct rte_mbuf **m;

	m = calloc(n, sizeof(*m));
	if (m == NULL)
		goto fail;
	if (rte_pktmbuf_alloc_bulk(pool, m, n) != 0)
		goto free_array;
	for (i = 0; i < n; i++)
		sl_gen_tmpl_write(&s->tmpl, i,
				  (uint8_t *)rte_pktmbuf_append(m[i], s->tmpl.size));
	s->prebuilt = m;
	return 0;
free_array:
	free(m);
fail:
	sl_gen_error("group %s: no mbufs for %u prebuilt flows", s->spec->name,
		     n);
	return -ENOMEM;
}

/* Drops our reference to the prebuilt mbufs; the port must be stopped. */
void sl_gen_prebuilt_free(struct sl_gen_stream *s)
{
	if (s->prebuilt == NULL)
		return;
	rte_pktmbuf_free_bulk(s->prebuilt, s->tmpl.nb_flows);
	free(s->prebuilt);
	s->prebuilt = NULL;
}

/* Returns the index of the flow @s sends next. */
static inline uint32_t next_flow(struct sl_gen_stream *s)
{
	uint32_t f;

	if (s->spec->pattern == SL_GEN_RANDOM)
		return (uint32_t)rte_rand_max(s->tmpl.nb_flows);
	f = s->next_flow;
	s->next_flow = f + 1 == s->tmpl.nb_flows ? 0 : f + 1;
	return f;
}

/* Accepts a buffer; its ones' complement sum as 16-bit big-endian words. */
static uint32_t sum16(const uint8_t *p, uint32_t len)
{
	uint32_t s = 0;

	for (; len > 1; p += 2, len -= 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	return s;
}

/*
 * Accepts a frame of template @t whose stamp bytes are zero; writes the
 * stamp for @ns and adds it to the L4 checksum, which already covers
 * those bytes as zeros (RFC 1624: sums are byte-order independent, so a
 * stamp at an odd offset from the L4 header adds its sum byte-swapped).
 */
static void stamp_write(const struct sl_gen_tmpl *t, uint8_t proto,
			uint8_t *frame, uint64_t ns)
{
	uint32_t off = t->size - SL_GEN_STAMP_LEN, s;
	rte_be64_t be = rte_cpu_to_be_64(ns);
	uint16_t c;

	memcpy(frame + off, SL_GEN_STAMP_MAGIC, 8);
	memcpy(frame + off + 8, &be, 8);
	s = sum16(frame + off, SL_GEN_STAMP_LEN);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	if ((off - t->l4_off) & 1)
		s = ((s << 8) | (s >> 8)) & 0xffff;
	c = (uint16_t)(frame[t->l4_cksum_off] << 8 | frame[t->l4_cksum_off + 1]);
	s += (uint16_t)~c;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	c = (uint16_t)~s;
	if (c == 0 && proto == IPPROTO_UDP)
		c = 0xffff;	/* UDP sends a computed 0 as 0xffff */
	frame[t->l4_cksum_off] = (uint8_t)(c >> 8);
	frame[t->l4_cksum_off + 1] = (uint8_t)c;
}

/* Accepts nothing; CLOCK_REALTIME in ns, what pcap timestamps use. */
static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Fills @pkts with @n packets of @s; returns how many it could build. */
static uint16_t fill(struct sl_gen_run *run, struct sl_gen_stream *s,
		     struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *m;
	uint64_t now = run->stamp ? realtime_ns() : 0;
	uint16_t i;

	if (s->prebuilt != NULL) {
		for (i = 0; i < n; i++) {
			m = s->prebuilt[next_flow(s)];
			rte_mbuf_refcnt_update(m, 1);
			pkts[i] = m;
		}
		return n;
	}
	if (rte_pktmbuf_alloc_bulk(run->pool, pkts, n) != 0) {
		s->stats.alloc_failed++;
		return 0;
	}
	for (i = 0; i < n; i++) {
		m = pkts[i];
		sl_gen_tmpl_write(&s->tmpl, next_flow(s),
				  rte_pktmbuf_mtod(m, uint8_t *));
		if (run->stamp)
			stamp_write(&s->tmpl, s->spec->proto,
				    rte_pktmbuf_mtod(m, uint8_t *), now);
		m->data_len = (uint16_t)s->tmpl.size;
		m->pkt_len = s->tmpl.size;
	}
	return n;
}

/* Sends @n packets, retrying a full queue; frees and returns the rest. */
static uint16_t tx_all(uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	unsigned int tries = 0;
	uint16_t sent = 0;

	for (;;) {
		sent += rte_eth_tx_burst(port, 0, pkts + sent, n - sent);
		if (sent == n || ++tries > SL_GEN_TX_RETRIES)
			break;
		rte_pause();
	}
	if (sent < n)
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	return sent;
}

/* Sends what is due of @s at @elapsed; returns how many it tried. */
static uint16_t stream_tick(struct sl_gen_run *run, struct sl_gen_stream *s,
			    uint64_t elapsed)
{
	struct rte_mbuf *pkts[SL_GEN_MAX_BURST];
	uint16_t n, built, sent;

	n = (uint16_t)sl_gen_pacer_take(&s->pacer, elapsed, run->burst);
	if (n == 0)
		return 0;
	built = fill(run, s, pkts, n);
	if (built < n)
		sl_gen_pacer_untake(&s->pacer, n - built);
	if (built == 0)
		return 0;
	sent = tx_all(run->port, pkts, built);
	s->stats.packets += sent;
	s->stats.bytes += (uint64_t)sent * s->tmpl.size;
	s->stats.tx_failed += built - sent;
	return built;
}

/* Keeps counting arrivals for rx_wait_tsc after tx has ended. */
static void rx_linger(struct sl_gen_run *run)
{
	uint64_t end = rte_rdtsc() + run->rx_wait_tsc;

	while (rte_rdtsc() < end && !sl_gen_quit)
		sl_gen_rx_poll(run->rx);
}

/*
 * Runs every stream of @run until the duration ends, every stream has
 * sent its --count, or sl_gen_quit is set; fills run->elapsed_tsc.
 */
void sl_gen_tx_run(struct sl_gen_run *run)
{
	uint64_t start, elapsed;
	bool final = false;
	bool busy, done;
	unsigned int i;

	start = rte_rdtsc();
	for (;;) {
		elapsed = rte_rdtsc() - start;
		if (run->duration_tsc && elapsed >= run->duration_tsc) {
			/* Send what was due before the end, then stop. */
			elapsed = run->duration_tsc;
			final = true;
		}
		busy = false;
		done = true;
		for (i = 0; i < run->nb_streams; i++) {
			struct sl_gen_stream *s = &run->stream[i];

			/* An unpaced stream is always due: not at the end. */
			if (final && s->pacer.pkts_per_tsc == 0)
				continue;
			if (stream_tick(run, s, elapsed))
				busy = true;
			if (!sl_gen_pacer_finished(&s->pacer, elapsed))
				done = false;
			else if (s->elapsed_tsc == 0)
				s->elapsed_tsc = elapsed;
		}
		if (run->rx != NULL)
			sl_gen_rx_poll(run->rx);
		if (sl_gen_quit) {
			run->interrupted = true;
			break;
		}
		if (!busy && (final || done))
			break;
		if (!busy)
			rte_pause();
	}
	run->elapsed_tsc = final ? run->duration_tsc : rte_rdtsc() - start;
	for (i = 0; i < run->nb_streams; i++)
		if (run->stream[i].elapsed_tsc == 0)
			run->stream[i].elapsed_tsc = run->elapsed_tsc;
	if (run->rx != NULL)
		rx_linger(run);
}
