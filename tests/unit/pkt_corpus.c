/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Corpus builder (pkt_corpus.h). Each frame comes from its own random
 * stream (seed, index), so frame i is the same whatever n is. A frame is
 * built whole and well formed, then a third of them are broken by one
 * mutation; whether the mutation made it malformed, and why, is for
 * sl_pkt_parse() to say.
 */
#include <string.h>

#include "pkt_corpus.h"

/* splitmix64: a tiny generator with good mixing, fine for test data. */
struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Accepts n > 0; a number in [0, n). */
static uint32_t below(struct rng *r, uint32_t n)
{
	return (uint32_t)(rnd(r) % n);
}

/* True with probability pct / 100. */
static int chance(struct rng *r, uint32_t pct)
{
	return below(r, 100) < pct;
}

/* A frame being written; bytes past the end are dropped, never written. */
struct wr {
	uint8_t *b;
	uint32_t len;
};

static void w8(struct wr *w, uint32_t v)
{
	if (w->len < SL_CORPUS_FRAME_MAX)
		w->b[w->len++] = (uint8_t)v;
}

static void w16(struct wr *w, uint32_t v)
{
	w8(w, v >> 8);
	w8(w, v);
}

static void w32(struct wr *w, uint32_t v)
{
	w16(w, v >> 16);
	w16(w, v);
}

static void wbytes(struct wr *w, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		w8(w, p[i]);
}

static void wfill(struct wr *w, struct rng *r, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		w8(w, below(r, 256));
}

static void set16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Internet checksum of n bytes (n even). */
static uint16_t csum(const uint8_t *p, uint32_t n)
{
	uint32_t s = 0;

	for (uint32_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* ---- Field pools ---- */

static void addr4(struct rng *r, uint8_t a[4])
{
	static const uint8_t nets[][3] = {
		{ 192, 0, 2 }, { 198, 51, 100 }, { 203, 0, 113 },
		{ 10, 1, 2 }, { 10, 200, 0 },
	};
	uint32_t k = below(r, 10);

	if (k < 5) {
		memcpy(a, nets[k], 3);
		a[3] = (uint8_t)below(r, 8);	/* few hosts: keys repeat */
	} else if (k < 8) {
		a[0] = 10;
		a[1] = (uint8_t)below(r, 256);
		a[2] = (uint8_t)below(r, 256);
		a[3] = (uint8_t)below(r, 256);
	} else {
		uint32_t v = (uint32_t)rnd(r);

		memcpy(a, &v, 4);
	}
}

static void addr6(struct rng *r, uint8_t a[16])
{
	static const uint8_t nets[][6] = {
		{ 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0a },
		{ 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0b },
		{ 0xfd, 0x00, 0x00, 0x00, 0x00, 0x01 },
	};
	uint32_t k = below(r, 10);

	memset(a, 0, 16);
	if (k < 6) {
		memcpy(a, nets[k % 3], 6);
		a[15] = (uint8_t)below(r, 8);
	} else if (k < 8) {
		memcpy(a, nets[0], 4);
		for (int i = 4; i < 16; i++)
			a[i] = (uint8_t)below(r, 256);
	} else {
		for (int i = 0; i < 16; i++)
			a[i] = (uint8_t)below(r, 256);
	}
}

static uint32_t port(struct rng *r)
{
	static const uint16_t pool[] = {
		53, 80, 443, 22, 123, 8080, 0, 65535, 1024, 5353,
	};

	if (chance(r, 60))
		return pool[below(r, sizeof(pool) / sizeof(pool[0]))];
	return below(r, 65536);
}

static uint32_t tcp_flags(struct rng *r)
{
	static const uint8_t pool[] = { 0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14 };

	if (chance(r, 85))
		return pool[below(r, sizeof(pool))];
	return below(r, 256);
}

static uint32_t dscp(struct rng *r)
{
	static const uint8_t pool[] = { 0, 0, 0, 46, 10, 34, 8, 48 };

	if (chance(r, 80))
		return pool[below(r, sizeof(pool))];
	return below(r, 64);
}

/* ---- Layers ---- */

/* What a mutation needs to know of the frame it breaks. */
struct shape {
	uint32_t l3;		/* IP header offset; 0 for non-IP */
	int family;		/* 4, 6 or 0 */
	uint32_t l4;		/* L4 header offset; 0 if none parsed */
	int proto;
	uint32_t opt;		/* IPv4 options offset, 0 if none */
	uint32_t ext;		/* first IPv6 extension header, 0 if none */
};

static void eth(struct wr *w, struct rng *r, uint32_t type)
{
	w8(w, 0x02);
	wfill(w, r, 5);
	w8(w, 0x02);
	wfill(w, r, 5);
	w16(w, type);
}

/* Random well-formed IPv4 options filling n bytes (n a multiple of 4). */
static void ip4_opts(struct wr *w, struct rng *r, uint32_t n)
{
	uint32_t i = 0;

	while (i < n) {
		uint32_t room = n - i, k = below(r, 5);

		if (k == 0 || room < 4) {		/* NOP */
			w8(w, 1);
			i++;
		} else if (k == 1) {			/* EOL, then padding */
			w8(w, 0);
			wfill(w, r, room - 1);
			i = n;
		} else if (k == 2 || room < 7) {	/* router alert */
			w8(w, 148);
			w8(w, 4);
			w16(w, 0);
			i += 4;
		} else {				/* record route */
			uint32_t len = 3 + 4 * (1 + below(r, (room - 3) / 4));

			w8(w, 7);
			w8(w, len);
			w8(w, 4);
			wfill(w, r, len - 3);
			i += len;
		}
	}
}

static void l4(struct wr *w, struct rng *r, struct shape *s, int family)
{
	uint32_t doff;

	s->l4 = w->len;
	switch (s->proto) {
	case 6:
		doff = chance(r, 70) ? 5 : 5 + below(r, 11);
		w16(w, port(r));
		w16(w, port(r));
		w32(w, (uint32_t)rnd(r));
		w32(w, (uint32_t)rnd(r));
		w8(w, doff << 4);
		w8(w, tcp_flags(r));
		w16(w, 65535);
		w32(w, 0);
		for (uint32_t i = 0; i < (doff - 5) * 4; i++)
			w8(w, 1);
		break;
	case 17:
		w16(w, port(r));
		w16(w, port(r));
		w32(w, 0);		/* length set once the datagram is done */
		break;
	case 1:
	case 58:
		if ((s->proto == 1) == (family == 4)) {
			w8(w, below(r, 4) ? 8 : below(r, 256));
			w8(w, 0);
			w16(w, 0);
			break;
		}
		/* ICMP in IPv6 or ICMPv6 in IPv4 is opaque. */
		/* fall through */
	default:
		s->l4 = 0;
		break;
	}
	wfill(w, r, chance(r, 50) ? below(r, 24) : below(r, 400));
}

static int other_proto(struct rng *r)
{
	static const uint8_t pool[] = { 47, 50, 132, 59, 89, 58, 1, 255 };

	return pool[below(r, sizeof(pool))];
}

static int l4_proto(struct rng *r)
{
	uint32_t k = below(r, 100);

	if (k < 40)
		return 6;
	if (k < 75)
		return 17;
	if (k < 87)
		return -1;	/* ICMP of the family */
	return other_proto(r);
}

static void ipv4(struct wr *w, struct rng *r, struct shape *s)
{
	uint32_t optlen = chance(r, 15) ? 4 * (1 + below(r, 10)) : 0;
	uint32_t frag = chance(r, 50) ? 0x4000 : 0;
	uint8_t a[4];
	uint8_t *ip;

	s->family = 4;
	s->l3 = w->len;
	s->proto = l4_proto(r);
	if (s->proto < 0)
		s->proto = 1;
	if (chance(r, 10)) {
		uint32_t k = below(r, 3);

		if (k == 0)
			frag = 0x2000;				/* first */
		else if (k == 1)
			frag = 0x2000 | (1 + below(r, 0x1fff));	/* middle */
		else
			frag = 1 + below(r, 0x1fff);		/* last */
	}
	w8(w, 0x40 | (5 + optlen / 4));
	w8(w, dscp(r) << 2 | below(r, 4));
	w16(w, 0);			/* total length, below */
	w16(w, below(r, 65536));
	w16(w, frag);
	w8(w, 64);
	w8(w, s->proto);
	w16(w, 0);			/* checksum, below */
	addr4(r, a);
	wbytes(w, a, 4);
	addr4(r, a);
	wbytes(w, a, 4);
	if (optlen) {
		s->opt = w->len;
		ip4_opts(w, r, optlen);
	}
	if (frag & 0x1fff) {
		s->l4 = 0;
		wfill(w, r, 8 * below(r, 40));
	} else {
		l4(w, r, s, 4);
	}
	if (w->len <= SL_CORPUS_FRAME_MAX) {
		ip = w->b + s->l3;
		set16(ip + 2, w->len - s->l3);
		set16(ip + 10, csum(ip, 20 + optlen));
	}
}

/* One extension header of type nh followed by next. */
static void ip6_ext(struct wr *w, struct rng *r, uint32_t nh, uint32_t next,
		    int later_frag)
{
	uint32_t n;

	w8(w, next);
	if (nh == 44) {
		w8(w, 0);
		w16(w, later_frag ? (1 + below(r, 0x1fff)) << 3 | below(r, 2) :
			(chance(r, 50) ? 1 : 0));
		w32(w, (uint32_t)rnd(r));
	} else if (nh == 51) {
		n = below(r, 5);
		w8(w, n);
		wfill(w, r, (n + 2) * 4 - 2);
	} else {
		n = chance(r, 70) ? 0 : below(r, 4);
		w8(w, n);
		wfill(w, r, (n + 1) * 8 - 2);
	}
}

static void ipv6(struct wr *w, struct rng *r, struct shape *s)
{
	static const uint8_t exts[] = { 0, 43, 60, 51, 44 };
	uint32_t n_ext = 0, chain[10], tc = dscp(r) << 2 | below(r, 4);
	int later = 0;
	uint8_t a[16];

	s->family = 6;
	s->l3 = w->len;
	s->proto = l4_proto(r);
	if (s->proto < 0)
		s->proto = 58;
	if (chance(r, 30)) {
		n_ext = chance(r, 90) ? 1 + below(r, 4) : 5 + below(r, 5);
		for (uint32_t i = 0; i < n_ext; i++)
			chain[i] = exts[below(r, sizeof(exts))];
		later = chance(r, 40);
	}
	w8(w, 0x60 | tc >> 4);
	w8(w, (tc & 0x0f) << 4 | below(r, 16));
	w16(w, below(r, 65536));
	w16(w, 0);			/* payload length, below */
	w8(w, n_ext ? chain[0] : (uint32_t)s->proto);
	w8(w, 64);
	addr6(r, a);
	wbytes(w, a, 16);
	addr6(r, a);
	wbytes(w, a, 16);
	if (n_ext)
		s->ext = w->len;
	for (uint32_t i = 0; i < n_ext; i++) {
		uint32_t next = i + 1 < n_ext ? chain[i + 1] : (uint32_t)s->proto;

		ip6_ext(w, r, chain[i], next, later);
		if (chain[i] == 44 && later) {
			/* Nothing after a later fragment is parsed. */
			s->proto = (int)next;
			wfill(w, r, 8 * below(r, 20));
			goto done;
		}
	}
	l4(w, r, s, 6);
done:
	if (w->len <= SL_CORPUS_FRAME_MAX)
		set16(w->b + s->l3 + 4, w->len - s->l3 - 40);
}

/* Ethernet, tags, then IPv4, IPv6 or something else. */
static void frame(struct wr *w, struct rng *r, struct shape *s)
{
	static const uint16_t tpids[] = { 0x8100, 0x88a8, 0x9100 };
	static const uint16_t others[] = { 0x0806, 0x88cc, 0x8847, 0x0026 };
	uint32_t tags = 0, k = below(r, 100), type;

	if (chance(r, 30))
		tags = chance(r, 90) ? 1 + below(r, 2) : 3;
	if (k < 45)
		type = 0x0800;
	else if (k < 90)
		type = 0x86dd;
	else
		type = others[below(r, 4)];
	eth(w, r, tags ? tpids[below(r, 3)] : type);
	for (uint32_t i = 0; i < tags; i++) {
		w16(w, below(r, 65536));
		w16(w, i + 1 < tags ? tpids[below(r, 3)] : type);
	}
	if (type == 0x0800) {
		ipv4(w, r, s);
	} else if (type == 0x86dd) {
		ipv6(w, r, s);
	} else {
		wfill(w, r, 28 + below(r, 60));
	}
	/* Ethernet pads short frames; the parser must not count that in. */
	if (chance(r, 30))
		while (w->len < 60)
			w8(w, 0);
	if (s->l4 && s->proto == 17 && w->len <= SL_CORPUS_FRAME_MAX)
		set16(w->b + s->l4 + 4, w->len - s->l4);
}

/* ---- Mutations ---- */

/* Overwrite the byte at off with v, if the frame has it. */
static void poke(struct wr *w, uint32_t off, uint32_t v)
{
	if (off < w->len)
		w->b[off] = (uint8_t)v;
}

/* Shorten the frame to len; never lengthen it over unwritten bytes. */
static void cut(struct wr *w, uint32_t len)
{
	if (len < w->len)
		w->len = len;
}

static void mutate(struct wr *w, struct rng *r, const struct shape *s)
{
	uint32_t k = below(r, 11);

	switch (k) {
	case 0:
	case 1:
	case 2:		/* cut short anywhere */
		cut(w, w->len ? below(r, w->len) : 0);
		return;
	case 3:		/* cut inside the headers */
		cut(w, below(r, (s->l4 ? s->l4 : s->l3) + 24));
		return;
	case 4:		/* IP version */
		if (s->l3)
			poke(w, s->l3, below(r, 16) << 4 | (w->b[s->l3] & 0x0f));
		return;
	case 5:		/* IHL, or IPv6 payload length high byte */
		if (s->family == 4)
			poke(w, s->l3, 0x40 | below(r, 16));
		else if (s->family == 6)
			poke(w, s->l3 + 4, below(r, 8));
		return;
	case 6:		/* total or payload length low byte */
		if (s->l3)
			poke(w, s->l3 + (s->family == 4 ? 3 : 5), below(r, 256));
		return;
	case 7:		/* TCP data offset */
		if (s->l4 && s->proto == 6)
			poke(w, s->l4 + 12, below(r, 16) << 4);
		return;
	case 8:		/* an IPv4 option length or an extension length */
		if (s->opt)
			poke(w, s->opt + below(r, 4), below(r, 256));
		else if (s->ext)
			poke(w, s->ext + 1, below(r, 256));
		return;
	case 9:		/* make the frame end inside the L4 header */
		if (s->l4)
			cut(w, s->l4 + below(r, 20));
		return;
	default:	/* any byte of the first 80 */
		if (w->len)
			poke(w, below(r, w->len < 80 ? w->len : 80),
			     below(r, 256));
		return;
	}
}

void sl_corpus_build(struct sl_corpus_frame *out, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++) {
		struct rng r = { seed * UINT64_C(0x100000001b3) + i };
		struct wr w = { out[i].data, 0 };
		struct shape s;

		memset(&s, 0, sizeof(s));
		rnd(&r);
		frame(&w, &r, &s);
		if (chance(&r, 33))
			mutate(&w, &r, &s);
		out[i].len = w.len;
	}
}
