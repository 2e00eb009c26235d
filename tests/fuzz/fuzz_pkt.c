/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the packet parser: every input is a frame. The
 * parse must hold the invariants of pkt_invariants.h, must not depend
 * on what the meta held before, and a DSCP rewrite of an IP packet must
 * change only the DSCP bits (and keep a valid IPv4 checksum valid).
 * Build and run with tests/fuzz/build.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"
#include "pkt_invariants.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why, size_t size)
{
	fprintf(stderr, "fuzz_pkt: %s (frame of %zu bytes)\n", why, size);
	abort();
}

/* Sum of the IPv4 header as the receiver checks it: 0 when valid. */
static uint16_t ip4_csum(const uint8_t *ip, uint32_t ihl)
{
	uint32_t s = 0, i;

	for (i = 0; i < ihl; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Rewrite the DSCP of a copy and check what changed. */
static void check_set_dscp(const uint8_t *data, size_t size,
			   const struct sl_pkt_meta *m)
{
	uint8_t dscp = size ? data[size - 1] & 63 : 0;
	uint8_t *b = malloc(size ? size : 1);
	const uint8_t *ip = data + m->l3_off;
	uint32_t ihl = (ip[0] & 0x0f) * 4u, i;
	int valid = 0;
	struct sl_pkt_meta again;

	if (!b)
		abort();
	memcpy(b, data, size);
	/* Only an IPv4 header whose IHL fits can carry a valid checksum. */
	if (m->family == SL_FAMILY_IPV4 && ihl >= 20 && m->l3_off + ihl <= size)
		valid = ip4_csum(ip, ihl) == 0;
	if (sl_pkt_set_dscp(b, m, dscp))
		fail("set_dscp refused an IP packet", size);
	for (i = 0; i < size; i++) {
		uint32_t o = i - m->l3_off;

		if (i >= m->l3_off && (o == 1 || (o == 0 && m->family == 6) ||
		    ((o == 10 || o == 11) && m->family == 4)))
			continue;
		if (b[i] != data[i])
			fail("set_dscp changed a byte it does not own", size);
	}
	if (m->family == SL_FAMILY_IPV4 && (b[m->l3_off + 1] & 3) !=
	    (ip[1] & 3))
		fail("set_dscp changed ECN", size);
	if (valid && ip4_csum(b + m->l3_off, ihl) != 0)
		fail("set_dscp broke a valid IPv4 checksum", size);
	sl_pkt_parse(b, (uint32_t)size, &again);
	if (again.dscp != dscp)
		fail("reparse after set_dscp reads another DSCP", size);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_pkt_meta m, m2;
	enum sl_malformed r;
	const char *why;

	if (size > 65535)
		return 0;	/* the parser clamps; keep the invariants simple */
	r = sl_pkt_parse(data, (uint32_t)size, &m);
	why = sl_pkt_invariant_violation(data, (uint32_t)size, r, &m);
	if (why)
		fail(why, size);
	memset(&m2, 0xa5, sizeof(m2));
	if (sl_pkt_parse(data, (uint32_t)size, &m2) != r ||
	    memcmp(&m, &m2, sizeof(m)))
		fail("parse depends on what the meta held before", size);
	if (m.family != SL_FAMILY_NONE)
		check_set_dscp(data, size, &m);
	return 0;
}
