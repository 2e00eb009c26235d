/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of sluice-gen's EAL-free parts: option parsing, frame
 * templates (fields and checksums, checked against an independent
 * checksum), and pacing arithmetic. Table-driven.
 */
#include <arpa/inet.h>
#include <check.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "gen.h"

#define MAX_ARGS 24

/* Parses @args (NULL-terminated) as the options after "--" into @cfg. */
static int parse(const char *const *args, struct sl_gen_cfg *cfg)
{
	char *argv[MAX_ARGS + 2];
	int argc = 0;

	argv[argc++] = (char *)"--";
	while (*args != NULL && argc <= MAX_ARGS)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	sl_gen_cfg_init(cfg);
	return sl_gen_opts_parse(argc, argv, cfg);
}

/* Returns @cfg, static because a config is large (payload buffers). */
static struct sl_gen_cfg *new_cfg(void)
{
	static struct sl_gen_cfg cfg;

	return &cfg;
}

/* --rate: units and malformed values. */
static const struct {
	const char *in;
	int ret;
	double value;
	bool bits;
} rate_cases[] = {
	{ "20kpps", 0, 20000, false },
	{ "1.5Mpps", 0, 1.5e6, false },
	{ "10000", 0, 10000, false },
	{ "0", 0, 0, false },
	{ "250pps", 0, 250, false },
	{ "100Mbit", 0, 1e8, true },
	{ "1Gbit", 0, 1e9, true },
	{ "64kbit", 0, 64000, true },
	{ "5bit", 0, 5, true },
	{ "10kbps", -EINVAL, 0, false },
	{ "fast", -EINVAL, 0, false },
	{ "-1pps", -EINVAL, 0, false },
	{ "", -EINVAL, 0, false },
};

START_TEST(test_rate)
{
	struct sl_gen_rate r = { -1, false };
	int ret = sl_gen_parse_rate(rate_cases[_i].in, &r);

	ck_assert_msg(ret == rate_cases[_i].ret, "%s: ret %d",
		      rate_cases[_i].in, ret);
	if (ret == 0) {
		ck_assert_double_eq_tol(r.value, rate_cases[_i].value, 1e-6);
		ck_assert_int_eq(r.bits, rate_cases[_i].bits);
	}
}
END_TEST

/* --src: ranges, prefixes, families and their sizes. */
static const struct {
	const char *in;
	int ret;
	int family;
	const char *first;
	const char *last;
	uint64_t count;
} range_cases[] = {
	{ "10.0.0.1", 0, AF_INET, "10.0.0.1", "10.0.0.1", 1 },
	{ "10.0.0.1-10.0.0.50", 0, AF_INET, "10.0.0.1", "10.0.0.50", 50 },
	{ "10.0.0.7/24", 0, AF_INET, "10.0.0.0", "10.0.0.255", 256 },
	{ "0.0.0.0/0", 0, AF_INET, "0.0.0.0", "255.255.255.255", 1ull << 32 },
	{ "10.0.0.255-10.0.1.1", 0, AF_INET, "10.0.0.255", "10.0.1.1", 3 },
	{ "2001:db8::1-2001:db8::ff", 0, AF_INET6, "2001:db8::1", "2001:db8::ff", 255 },
	{ "2001:db8::/120", 0, AF_INET6, "2001:db8::", "2001:db8::ff", 256 },
	{ "::ffff:ffff:ffff:ffff-0:0:0:1::", 0, AF_INET6,
	  "::ffff:ffff:ffff:ffff", "0:0:0:1::", 2 },
	{ "2001:db8::/64", 0, AF_INET6, "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff", UINT64_MAX },
	{ "10.0.0.5-10.0.0.1", -EINVAL, 0, NULL, NULL, 0 },
	{ "10.0.0.1-2001:db8::1", -EINVAL, 0, NULL, NULL, 0 },
	{ "10.0.0.1/33", -EINVAL, 0, NULL, NULL, 0 },
	{ "10.0.0", -EINVAL, 0, NULL, NULL, 0 },
	{ "host.example", -EINVAL, 0, NULL, NULL, 0 },
};

START_TEST(test_addr_range)
{
	struct sl_gen_addr_range r;
	uint8_t first[16] = { 0 }, last[16] = { 0 };
	int ret = sl_gen_parse_addr_range(range_cases[_i].in, &r);

	ck_assert_msg(ret == range_cases[_i].ret, "%s: ret %d",
		      range_cases[_i].in, ret);
	if (ret != 0)
		return;
	ck_assert_int_eq(r.family, range_cases[_i].family);
	inet_pton(r.family, range_cases[_i].first, first);
	inet_pton(r.family, range_cases[_i].last, last);
	ck_assert_mem_eq(r.first, first, 16);
	ck_assert_mem_eq(r.last, last, 16);
	ck_assert_uint_eq(r.count, range_cases[_i].count);
}
END_TEST

/* --sport/--dport. */
static const struct {
	const char *in;
	int ret;
	uint16_t first, last;
} port_cases[] = {
	{ "80", 0, 80, 80 },
	{ "1024-65535", 0, 1024, 65535 },
	{ "0-0", 0, 0, 0 },
	{ "5000-4000", -EINVAL, 0, 0 },
	{ "65536", -EINVAL, 0, 0 },
	{ "http", -EINVAL, 0, 0 },
	{ "-5", -EINVAL, 0, 0 },
};

START_TEST(test_port_range)
{
	struct sl_gen_port_range r;
	int ret = sl_gen_parse_port_range(port_cases[_i].in, &r);

	ck_assert_msg(ret == port_cases[_i].ret, "%s: ret %d",
		      port_cases[_i].in, ret);
	if (ret == 0) {
		ck_assert_uint_eq(r.first, port_cases[_i].first);
		ck_assert_uint_eq(r.last, port_cases[_i].last);
	}
}
END_TEST

/* --payload escapes. */
static const struct {
	const char *in;
	int ret;
	const char *out;
	uint32_t len;
} payload_cases[] = {
	{ "POST /login HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n", 0,
	  "POST /login HTTP/1.1\r\nHost: x\r\n\r\n", 33 },
	{ "\\x41\\x4a\\x00z", 0, "AJ\0z", 4 },
	{ "a\\tb\\\\c\\0", 0, "a\tb\\c\0", 6 },
	{ "", 0, "", 0 },
	{ "\\q", -EINVAL, NULL, 0 },
	{ "\\x4", -EINVAL, NULL, 0 },
	{ "\\xzz", -EINVAL, NULL, 0 },
	{ "end\\", -EINVAL, NULL, 0 },
};

START_TEST(test_payload)
{
	uint8_t buf[64];
	uint32_t len = 0;
	int ret = sl_gen_parse_payload(payload_cases[_i].in, buf, sizeof(buf),
				       &len);

	ck_assert_msg(ret == payload_cases[_i].ret, "%s: ret %d",
		      payload_cases[_i].in, ret);
	if (ret == 0) {
		ck_assert_uint_eq(len, payload_cases[_i].len);
		ck_assert_mem_eq(buf, payload_cases[_i].out, len);
	}
}
END_TEST

/* --tcp-flags. */
static const struct {
	const char *in;
	int ret;
	uint8_t flags;
} flag_cases[] = {
	{ "syn", 0, 0x02 },
	{ "syn,ack", 0, 0x12 },
	{ "psh|ack", 0, 0x18 },
	{ "FIN+ack", 0, 0x11 },
	{ "none", 0, 0 },
	{ "0x29", 0, 0x29 },
	{ "syn,bogus", -EINVAL, 0 },
	{ "256", -EINVAL, 0 },
};

START_TEST(test_tcp_flags)
{
	uint8_t f = 0xff;
	int ret = sl_gen_parse_tcp_flags(flag_cases[_i].in, &f);

	ck_assert_msg(ret == flag_cases[_i].ret, "%s: ret %d",
		      flag_cases[_i].in, ret);
	if (ret == 0)
		ck_assert_uint_eq(f, flag_cases[_i].flags);
}
END_TEST

/* Whole command lines that must be refused, and why. */
static const struct {
	const char *args[MAX_ARGS];
	const char *error;	/* a substring of the message */
} bad_cases[] = {
	{ { "--src", "10.0.0.1-10.0.0.2", "--sport", "1000", "--dport", "80",
	    "--flows", "3", NULL }, "exceeds the 2 distinct" },
	{ { "--src", "2001:db8::1", NULL }, "not both IPv4" },
	{ { "--src", "10.0.0.1", "--dst", "10.0.0.2", "--proto", "icmpv6", NULL },
	  "icmpv6 with IPv6" },
	{ { "--payload", "0123456789012345678901234567890123456789", "--size",
	    "64", NULL }, "need a 82-byte frame" },
	{ { "--on", "1", NULL }, "--on and --off" },
	{ { "--rate", "lots", NULL }, "--rate: 'lots' is not a rate" },
	{ { "--size", "59", NULL }, "--size: 59 is out of range" },
	{ { "--dst", "10.0.0.1-10.0.0.2", NULL }, "give one destination" },
	{ { "--frobnicate", NULL }, "unknown option" },
	{ { "--port", NULL }, "unknown option or missing argument" },
	{ { "stray", NULL }, "unexpected argument 'stray'" },
	{ { "--proto", "47", "--src", "10.0.0.1-10.0.0.4", "--flows", "5", NULL },
	  "exceeds the 4 distinct" },
	{ { "--stamp", "--proto", "icmp", NULL }, "only TCP and UDP frames carry a stamp" },
	{ { "--stamp", "--payload", "0123456789", "--size", "64", NULL },
	  "a stamp needs a 68-byte frame, more than --size 64" },
};

START_TEST(test_bad_cmdline)
{
	struct sl_gen_cfg *cfg = new_cfg();
	int ret = parse(bad_cases[_i].args, cfg);

	ck_assert_int_lt(ret, 0);
	ck_assert_msg(strstr(sl_gen_last_error(), bad_cases[_i].error) != NULL,
		      "got '%s', want '%s'", sl_gen_last_error(),
		      bad_cases[_i].error);
}
END_TEST

/* The example command line resolves as documented. */
START_TEST(test_example_cmdline)
{
	static const char *const args[] = {
		"--port", "0", "--src", "10.0.0.1-10.0.0.50", "--dst",
		"10.1.0.2", "--proto", "udp", "--sport", "1024-65535",
		"--dport", "5000", "--flows", "1000", "--rate", "20kpps",
		"--duration", "3", "--size", "128", "--dscp", "0",
		"--dst-mac", "02:00:00:00:00:02", NULL
	};
	struct sl_gen_cfg *cfg = new_cfg();
	struct sl_gen_spec *s = &cfg->group[0];

	ck_assert_int_eq(parse(args, cfg), 0);
	ck_assert_uint_eq(cfg->nb_groups, 1);
	ck_assert_double_eq(cfg->duration_s, 3);
	ck_assert_uint_eq(cfg->burst, SL_GEN_DEFAULT_BURST);
	ck_assert_uint_eq(s->src.count, 50);
	ck_assert_uint_eq(s->flows, 1000);
	ck_assert_uint_eq(s->size, 128);
	ck_assert_double_eq(s->pps, 20000);
	ck_assert_uint_eq(s->dst_mac.addr_bytes[5], 2);
	ck_assert(!s->src_mac_set);
}
END_TEST

/* --stamp: copy mode, and room for the stamp in the smallest UDP frame. */
START_TEST(test_stamp_cmdline)
{
	static const char *const args[] = { "--stamp", "--rate", "1kpps", NULL };
	struct sl_gen_cfg *cfg = new_cfg();

	ck_assert_int_eq(parse(args, cfg), 0);
	ck_assert(cfg->stamp);
	ck_assert(cfg->copy);
	ck_assert_uint_eq(cfg->group[0].size, 60);
}
END_TEST

/* --group: naming, inheritance, per-group options; bit rates to pps. */
START_TEST(test_groups)
{
	static const char *const args[] = {
		"--group", "attack", "--src", "10.0.0.0/28", "--dst",
		"10.1.0.2", "--rate", "1024kbit", "--size", "128",
		"--duration", "2", "--group", "legit", "--src", "10.9.0.1",
		"--rate", "100pps", "--proto", "tcp", NULL
	};
	struct sl_gen_cfg *cfg = new_cfg();
	struct sl_gen_spec *a = &cfg->group[0], *l = &cfg->group[1];
	uint8_t dst[4];

	ck_assert_int_eq(parse(args, cfg), 0);
	ck_assert_uint_eq(cfg->nb_groups, 2);
	ck_assert_str_eq(a->name, "attack");
	ck_assert_str_eq(l->name, "legit");
	ck_assert_uint_eq(a->flows, 16);	/* one per source */
	ck_assert_double_eq_tol(a->pps, 1000, 1e-9);	/* 1024000 / 1024 */
	ck_assert_uint_eq(l->flows, 1);
	ck_assert_uint_eq(l->proto, IPPROTO_TCP);
	ck_assert_uint_eq(a->proto, IPPROTO_UDP);
	ck_assert_uint_eq(l->size, 128);	/* inherited */
	inet_pton(AF_INET, "10.1.0.2", dst);
	ck_assert_mem_eq(l->dst.first, dst, 4);	/* inherited */
	ck_assert_double_eq(l->pps, 100);
}
END_TEST

/* Group options before the first --group set up that group, once. */
START_TEST(test_groups_common_first)
{
	static const char *const args[] = {
		"--dst-mac", "02:00:00:00:00:02", "--size", "100",
		"--group", "heavy", "--src", "10.77.0.1-10.77.0.5",
		"--rate", "5kpps", "--group", "light", "--src",
		"10.78.0.1-10.78.0.5", "--rate", "1kpps", NULL
	};
	struct sl_gen_cfg *cfg = new_cfg();
	struct sl_gen_spec *h = &cfg->group[0], *l = &cfg->group[1];

	ck_assert_int_eq(parse(args, cfg), 0);
	ck_assert_uint_eq(cfg->nb_groups, 2);	/* no unnamed default group */
	ck_assert_str_eq(h->name, "heavy");
	ck_assert_str_eq(l->name, "light");
	ck_assert_uint_eq(h->dst_mac.addr_bytes[5], 2);
	ck_assert_uint_eq(l->dst_mac.addr_bytes[5], 2);	/* inherited */
	ck_assert_uint_eq(l->size, 100);
	ck_assert_double_eq(h->pps, 5000);
	ck_assert_double_eq(l->pps, 1000);
}
END_TEST

/* Sums @len bytes as big-endian 16-bit words: an independent checksum. */
static uint32_t ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

/* Folds @sum to 16 bits: 0xffff when the data carries a valid checksum. */
static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Frame templates: each row is a group; every flow's frame is checked. */
static const struct {
	const char *args[MAX_ARGS];
	int family;
	uint8_t proto;
	uint32_t size;
	int vlan;
	uint32_t payload_off;	/* from the frame start; 0 = no payload */
	const char *payload;
} frame_cases[] = {
	{ { "--src", "10.0.0.1-10.0.0.3", "--dst", "10.1.0.2", "--sport",
	    "1000-1001", "--dport", "53-54", "--flows", "12", "--size", "128",
	    "--dscp", "46", NULL }, AF_INET, IPPROTO_UDP, 128, -1, 0, NULL },
	{ { "--src", "10.0.0.250-10.0.1.4", "--dst", "10.1.0.2", "--proto",
	    "tcp", "--tcp-flags", "psh,ack", "--sport", "40000-40001",
	    "--dport", "80", "--flows", "14", "--payload",
	    "POST /login HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n", "--vlan", "100",
	    NULL }, AF_INET, IPPROTO_TCP, 18 + 20 + 20 + 33, 100, 58,
	  "POST /login HTTP/1.1\r\nHost: x\r\n\r\n" },
	{ { "--src", "10.0.0.1-10.0.0.2", "--dst", "10.1.0.2", "--proto",
	    "icmp", "--sport", "7-9", "--flows", "6", "--size", "99",
	    "--payload", "ping", NULL }, AF_INET, IPPROTO_ICMP, 99, -1, 42,
	  "ping" },
	{ { "--src", "2001:db8::fffe-2001:db8::1:1", "--dst", "2001:db8:1::2",
	    "--sport", "1-3", "--flows", "12", "--size", "1514", "--payload",
	    "\\xde\\xad\\xbe\\xef\\x01", NULL }, AF_INET6, IPPROTO_UDP, 1514,
	  -1, 62, "\xde\xad\xbe\xef\x01" },
	{ { "--src", "2001:db8::1-2001:db8::4", "--dst", "2001:db8:1::2",
	    "--proto", "tcp", "--flows", "9", "--dscp", "10", NULL },
	  AF_INET6, IPPROTO_TCP, 74, -1, 0, NULL },
	{ { "--src", "2001:db8::1", "--dst", "2001:db8:1::2", "--proto",
	    "icmpv6", "--sport", "100-104", "--flows", "5", NULL }, AF_INET6, IPPROTO_ICMPV6, 62, -1, 0, NULL },
	{ { "--src", "10.0.0.1-10.0.0.4", "--dst", "10.1.0.2", "--proto",
	    "47", "--payload", "gre?", NULL }, AF_INET, 47, 60, -1, 34,
	  "gre?" },
};

/* Checks the IP header of @f: version, length, DSCP, checksum, source. */
static void check_ip(const uint8_t *f, uint32_t l3, int i,
		     const struct sl_gen_spec *s)
{
	uint8_t want[16];
	uint32_t size = s->size;

	sl_gen_addr_add(s->src.first, s->src.family == AF_INET ? 4 : 16,
			(uint64_t)i % s->src.count, want);
	if (s->src.family == AF_INET) {
		ck_assert_uint_eq(f[l3] >> 4, 4);
		ck_assert_uint_eq(f[l3 + 1], s->dscp << 2);
		ck_assert_uint_eq(f[l3 + 2] << 8 | f[l3 + 3], size - l3);
		ck_assert_uint_eq(f[l3 + 9], s->proto);
		ck_assert_uint_eq(fold(ref_sum(f + l3, 20, 0)), 0xffff);
		ck_assert_mem_eq(f + l3 + 12, want, 4);
		ck_assert_mem_eq(f + l3 + 16, s->dst.first, 4);
	} else {
		ck_assert_uint_eq(f[l3] >> 4, 6);
		ck_assert_uint_eq((f[l3] & 0xf) << 4 | f[l3 + 1] >> 4,
				  s->dscp << 2);
		ck_assert_uint_eq(f[l3 + 4] << 8 | f[l3 + 5], size - l3 - 40);
		ck_assert_uint_eq(f[l3 + 6], s->proto);
		ck_assert_mem_eq(f + l3 + 8, want, 16);
		ck_assert_mem_eq(f + l3 + 24, s->dst.first, 16);
	}
}

/* Checks the L4 checksum of @f, pseudo-header included where due. */
static void check_l4_cksum(const uint8_t *f, uint32_t l3, uint32_t l4,
			   const struct sl_gen_spec *s)
{
	uint32_t len = s->size - l4, sum = 0;

	if (s->src.family == AF_INET && s->proto != IPPROTO_ICMP)
		sum = ref_sum(f + l3 + 12, 8, 0) + s->proto + len;
	else if (s->src.family == AF_INET6)
		sum = ref_sum(f + l3 + 8, 32, 0) + s->proto + len;
	ck_assert_uint_eq(fold(ref_sum(f + l4, len, sum)), 0xffff);
}

/* Returns the two 16-bit "port" fields of flow @i as one number. */
static uint32_t ports_of(const uint8_t *f, uint32_t l4, uint8_t proto)
{
	uint32_t off = proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6 ?
		       l4 + 4 : l4;

	return (uint32_t)f[off] << 24 | f[off + 1] << 16 | f[off + 2] << 8 |
	       f[off + 3];
}

START_TEST(test_frames)
{
	static const struct rte_ether_addr mac = {
		{ 0x02, 0, 0, 0, 0, 0x01 }
	};
	struct sl_gen_cfg *cfg = new_cfg();
	struct sl_gen_spec *s = &cfg->group[0];
	uint32_t l3, l4, prev_ports = 0;
	struct sl_gen_tmpl t;
	uint8_t *f;
	uint32_t i, j;

	ck_assert_msg(parse(frame_cases[_i].args, cfg) == 0, "%s",
		      sl_gen_last_error());
	ck_assert_uint_eq(s->size, frame_cases[_i].size);
	ck_assert_int_eq(sl_gen_tmpl_build(s, &mac, &t), 0);
	f = malloc(t.size * t.nb_flows);
	ck_assert_ptr_nonnull(f);
	l3 = frame_cases[_i].vlan >= 0 ? 18 : 14;
	l4 = l3 + (frame_cases[_i].family == AF_INET ? 20 : 40);
	for (i = 0; i < t.nb_flows; i++) {
		uint8_t *p = f + i * t.size;

		sl_gen_tmpl_write(&t, i, p);
		ck_assert_mem_eq(p + 6, mac.addr_bytes, 6);
		if (frame_cases[_i].vlan >= 0) {
			ck_assert_uint_eq(p[12] << 8 | p[13], 0x8100);
			ck_assert_uint_eq((p[14] << 8 | p[15]) & 0xfff,
					  frame_cases[_i].vlan);
		}
		ck_assert_uint_eq(p[l3 - 2] << 8 | p[l3 - 1],
				  frame_cases[_i].family == AF_INET ? 0x0800 : 0x86dd);
		check_ip(p, l3, i, s);
		if (t.l4_cksum_off)
			check_l4_cksum(p, l3, l4, s);
		if (frame_cases[_i].payload)
			ck_assert_mem_eq(p + frame_cases[_i].payload_off,
					 frame_cases[_i].payload,
					 strlen(frame_cases[_i].payload));
		/* Ports advance only after a full cycle of sources. */
		if (t.ports_off && i % s->src.count == 0 && i > 0)
			ck_assert_uint_ne(ports_of(p, l4, s->proto), prev_ports);
		if (t.ports_off && i % s->src.count != 0)
			ck_assert_uint_eq(ports_of(p, l4, s->proto), prev_ports);
		if (t.ports_off)
			prev_ports = ports_of(p, l4, s->proto);
	}
	/* Every flow is a distinct 5-tuple (source and ports differ). */
	for (i = 0; i < t.nb_flows; i++)
		for (j = i + 1; j < t.nb_flows; j++)
			ck_assert_msg(memcmp(f + i * t.size + t.src_off,
					     f + j * t.size + t.src_off, t.addr_len) != 0 ||
				      (t.ports_off &&
				       ports_of(f + i * t.size, l4, s->proto) !=
				       ports_of(f + j * t.size, l4, s->proto)),
				      "flows %u and %u are the same", i, j);
	free(f);
	sl_gen_tmpl_free(&t);
}
END_TEST

/* One call of sl_gen_pacer_take() and what it must return. */
struct pace_step {
	double at_s;
	uint32_t max;
	uint32_t want;
};

/* Pacing: a schedule and successive takes; hz is 1 GHz. */
static const struct {
	const char *what;
	double pps;
	double on_s, off_s;
	uint64_t count;
	uint32_t cap;
	struct pace_step step[8];
	uint64_t late_events;
	uint64_t lag;
} pace_cases[] = {
	{ "steady 1000 pps", 1000, 0, 0, 0, 1000,
	  { { 0, 10000, 0 }, { 0.0000001, 10000, 1 }, { 0.5, 10000, 499 },
	    { 1.0, 10000, 500 }, { 1.0, 10000, 0 }, { 1.0005, 10000, 1 } },
	  0, 0 },
	{ "bursts of at most max", 1000, 0, 0, 0, 1000,
	  { { 0.1, 32, 32 }, { 0.1, 32, 32 }, { 0.1, 64, 36 },
	    { 0.1, 64, 0 } }, 0, 0 },
	{ "late: catch up at most cap", 1000, 0, 0, 0, 128,
	  { { 1.0, 10000, 128 }, { 1.0, 10000, 0 }, { 1.01, 10000, 10 } },
	  1, 872 },
	{ "count stops the stream", 1000, 0, 0, 100, 1000,
	  { { 0.05, 10000, 50 }, { 5.0, 10000, 50 }, { 9.0, 10000, 0 } },
	  0, 0 },
	{ "on/off: silent while off", 1000, 1, 1, 0, 100000,
	  { { 1.0, 100000, 1000 }, { 1.9, 100000, 0 }, { 2.5, 100000, 500 },
	    { 3.5, 100000, 500 }, { 4.25, 100000, 250 } }, 0, 0 },
	{ "unpaced: always max", 0, 0, 0, 70, 128,
	  { { 0, 32, 32 }, { 0, 32, 32 }, { 0, 32, 6 }, { 1, 32, 0 } },
	  0, 0 },
	{ "unpaced on/off", 0, 0.5, 0.5, 0, 128,
	  { { 0.1, 32, 32 }, { 0.7, 32, 0 }, { 1.2, 32, 32 } }, 0, 0 },
};

START_TEST(test_pacer)
{
	const uint64_t hz = 1000000000;
	struct sl_gen_pacer p;
	unsigned int k;

	sl_gen_pacer_init(&p, pace_cases[_i].pps, hz, pace_cases[_i].on_s,
			  pace_cases[_i].off_s, pace_cases[_i].count,
			  pace_cases[_i].cap);
	for (k = 0; k < 8 && pace_cases[_i].step[k].max; k++) {
		const struct pace_step *st = &pace_cases[_i].step[k];
		uint32_t got = sl_gen_pacer_take(&p, (uint64_t)(st->at_s * hz),
						 st->max);

		ck_assert_msg(got == st->want, "%s: step %u at %.4f s: got %u, want %u",
			      pace_cases[_i].what, k, st->at_s, got, st->want);
	}
	ck_assert_uint_eq(p.late_events, pace_cases[_i].late_events);
	ck_assert_uint_eq(p.lag, pace_cases[_i].lag);
}
END_TEST

/* The schedule holds exactly rate x duration packets at the end. */
static const struct {
	double pps, secs;
	uint64_t hz;
	uint64_t want;
} total_cases[] = {
	{ 10000, 2, 2100000000, 20000 },
	{ 1000, 3, 3000000000, 3000 },
	{ 333, 1, 1999999999, 333 },
	{ 1.5e6, 0.1, 2400000000, 150000 },
	/* end * pps / hz rounds to 1000.0000000000001 in doubles */
	{ 10000, 0.1, 2000000000, 1000 },
};

START_TEST(test_pacer_total)
{
	struct sl_gen_pacer p;
	uint64_t t, sent = 0, end;

	sl_gen_pacer_init(&p, total_cases[_i].pps, total_cases[_i].hz, 0, 0,
			  0, 1u << 30);
	end = (uint64_t)(total_cases[_i].secs * (double)total_cases[_i].hz);
	/* Irregular polling, as a busy loop on a shared core would do. */
	for (t = 0; t < end; t += 12345 + t % 777)
		sent += sl_gen_pacer_take(&p, t, 32);
	while ((t = sl_gen_pacer_take(&p, end, 32)) != 0)
		sent += t;
	ck_assert_uint_eq(sent, total_cases[_i].want);
}
END_TEST

/* --count with a rate lasts count / rate, not until the last packet. */
START_TEST(test_pacer_finished)
{
	const uint64_t hz = 1000000000;
	struct sl_gen_pacer p;

	sl_gen_pacer_init(&p, 1000, hz, 0, 0, 1000, 1u << 20);
	ck_assert_uint_eq(sl_gen_pacer_take(&p, hz - 1, 2000), 1000);
	ck_assert(!sl_gen_pacer_finished(&p, hz - 1));
	ck_assert(!sl_gen_pacer_finished(&p, hz));
	ck_assert(sl_gen_pacer_finished(&p, hz + 1000));
}
END_TEST

static Suite *gen_suite(void)
{
	Suite *s = suite_create("gen");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_rate, 0, RTE_DIM(rate_cases));
	tcase_add_loop_test(tc, test_addr_range, 0, RTE_DIM(range_cases));
	tcase_add_loop_test(tc, test_port_range, 0, RTE_DIM(port_cases));
	tcase_add_loop_test(tc, test_payload, 0, RTE_DIM(payload_cases));
	tcase_add_loop_test(tc, test_tcp_flags, 0, RTE_DIM(flag_cases));
	tcase_add_loop_test(tc, test_bad_cmdline, 0, RTE_DIM(bad_cases));
	tcase_add_test(tc, test_example_cmdline);
	tcase_add_test(tc, test_stamp_cmdline);
	tcase_add_test(tc, test_groups);
	tcase_add_test(tc, test_groups_common_first);
	tcase_add_loop_test(tc, test_frames, 0, RTE_DIM(frame_cases));
	tcase_add_loop_test(tc, test_pacer, 0, RTE_DIM(pace_cases));
	tcase_add_loop_test(tc, test_pacer_total, 0, RTE_DIM(total_cases));
	tcase_add_test(tc, test_pacer_finished);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(gen_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
