/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-gen command line: the options after "--", one table row each.
 * Pure C (no EAL) so that the unit tests can drive it.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include <rte_tcp.h>

#include "gen.h"

static char last_error[256];

/* Records a printf-style message for the caller to report. */
void sl_gen_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

/* Returns the message of the last sl_gen_error() call. */
const char *sl_gen_last_error(void)
{
	return last_error;
}

/* Parses an unsigned integer (any base strtoull takes) in [min, max]. */
static int parse_u64(const char *str, uint64_t min, uint64_t max,
		     uint64_t *out)
{
	unsigned long long v;
	char *end;

	while (isspace((unsigned char)*str))
		str++;
	if (*str == '-' || *str == '\0')
		goto bad;
	errno = 0;
	v = strtoull(str, &end, 0);
	if (errno != 0 || *end != '\0')
		goto bad;
	if (v < min || v > max) {
		sl_gen_error("%llu is out of range [%llu, %llu]", v,
			     (unsigned long long)min, (unsigned long long)max);
		return -ERANGE;
	}
	*out = v;
	return 0;
bad:
	sl_gen_error("'%s' is not a number", str);
	return -EINVAL;
}

/* Parses a finite number of seconds >= 0, with an optional "s" suffix. */
static int parse_seconds(const char *str, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(str, &end);
	if (end == str || errno != 0 || !isfinite(v) || v < 0)
		goto bad;
	if (*end == 's')
		end++;
	if (*end != '\0')
		goto bad;
	*out = v;
	return 0;
bad:
	sl_gen_error("'%s' is not a number of seconds", str);
	return -EINVAL;
}

/* Parses "R[unit]": pps, kpps, Mpps, Gpps or bit, kbit, Mbit, Gbit. */
int sl_gen_parse_rate(const char *str, struct sl_gen_rate *rate)
{
	static const struct {
		const char *unit;
		double mult;
		bool bits;
	} units[] = {
		{ "", 1, false },
		{ "pps", 1, false },
		{ "kpps", 1e3, false },
		{ "mpps", 1e6, false },
		{ "gpps", 1e9, false },
		{ "bit", 1, true },
		{ "kbit", 1e3, true },
		{ "mbit", 1e6, true },
		{ "gbit", 1e9, true },
	};
	char *end;
	double v;
	size_t i;

	errno = 0;
	v = strtod(str, &end);
	if (end == str || errno != 0 || !isfinite(v) || v < 0)
		goto bad;
	for (i = 0; i < RTE_DIM(units); i++) {
		if (strcasecmp(end, units[i].unit) == 0) {
			rate->value = v * units[i].mult;
			rate->bits = units[i].bits;
			return 0;
		}
	}
bad:
	sl_gen_error("'%s' is not a rate (e.g. 20kpps, 1.5Mpps, 100Mbit, 0)",
		     str);
	return -EINVAL;
}

/* Computes out = a - b over @len big-endian bytes; returns the borrow. */
static int addr_sub(const uint8_t *a, const uint8_t *b, unsigned int len,
		    uint8_t *out)
{
	int borrow = 0;
	int i;

	for (i = (int)len - 1; i >= 0; i--) {
		int d = a[i] - b[i] - borrow;

		borrow = d < 0;
		out[i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
	return borrow;
}

/* Computes out = base + n over @len big-endian bytes, wrapping. */
void sl_gen_addr_add(const uint8_t *base, unsigned int len, uint64_t n,
		     uint8_t *out)
{
	unsigned int carry = 0;
	int i;

	for (i = (int)len - 1; i >= 0; i--) {
		unsigned int s = base[i] + (unsigned int)(n & 0xff) + carry;

		out[i] = (uint8_t)s;
		carry = s >> 8;
		n >>= 8;
	}
}

/* Fills r->count from first and last, saturating at UINT64_MAX. */
static void range_count(struct sl_gen_addr_range *r, unsigned int len)
{
	uint8_t diff[16];
	uint64_t low = 0;
	unsigned int i;

	addr_sub(r->last, r->first, len, diff);
	for (i = 0; i + 8 < len; i++) {
		if (diff[i] != 0) {
			r->count = UINT64_MAX;
			return;
		}
	}
	for (; i < len; i++)
		low = low << 8 | diff[i];
	r->count = low == UINT64_MAX ? UINT64_MAX : low + 1;
}

/* Parses one IPv4 or IPv6 address; returns its family or -1. */
static int parse_addr(const char *str, uint8_t *out)
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, str, out) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, str, out) == 1)
		return AF_INET6;
	return -1;
}

/* Turns first/prefix into the range the prefix covers. */
static int apply_prefix(struct sl_gen_addr_range *r, const char *plen_str)
{
	unsigned int len = r->family == AF_INET ? 4 : 16;
	uint64_t plen;
	unsigned int i;

	if (parse_u64(plen_str, 0, len * 8, &plen) < 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned int bits = plen >= (i + 1) * 8 ? 8 :
				    plen > i * 8 ? plen - i * 8 : 0;
		uint8_t mask = (uint8_t)(0xff00 >> bits);

		r->first[i] &= mask;
		r->last[i] = r->first[i] | (uint8_t)~mask;
	}
	return 0;
}

/* Parses "A", "A-B" or "A/len", all IPv4 or all IPv6, with A <= B. */
int sl_gen_parse_addr_range(const char *str, struct sl_gen_addr_range *r)
{
	char buf[2 * INET6_ADDRSTRLEN + 2];
	char sepc = 0;
	char *sep;
	int fam2;

	if (strlen(str) >= sizeof(buf))
		goto bad;
	strcpy(buf, str);
	memset(r, 0, sizeof(*r));
	sep = strpbrk(buf, "-/");
	if (sep != NULL) {
		sepc = *sep;
		*sep = '\0';
	}
	r->family = parse_addr(buf, r->first);
	if (r->family < 0)
		goto bad;
	memcpy(r->last, r->first, 16);
	if (sep != NULL && sepc == '/') {
		if (apply_prefix(r, sep + 1) < 0)
			goto bad;
	} else if (sep != NULL) {
		fam2 = parse_addr(sep + 1, r->last);
		if (fam2 != r->family)
			goto bad;
		if (memcmp(r->first, r->last, 16) > 0) {
			sl_gen_error("range '%s' ends before it starts", str);
			return -EINVAL;
		}
	}
	range_count(r, r->family == AF_INET ? 4 : 16);
	return 0;
bad:
	sl_gen_error("'%s' is not an address, A-B range or A/len prefix", str);
	return -EINVAL;
}

/* Parses "P" or "P-Q" with P <= Q. */
int sl_gen_parse_port_range(const char *str, struct sl_gen_port_range *r)
{
	char buf[32];
	uint64_t first, last;
	char *dash;

	if (strlen(str) >= sizeof(buf))
		goto bad;
	strcpy(buf, str);
	dash = strchr(buf, '-');
	if (dash != NULL)
		*dash = '\0';
	if (parse_u64(buf, 0, 65535, &first) < 0)
		goto bad;
	last = first;
	if (dash != NULL && parse_u64(dash + 1, 0, 65535, &last) < 0)
		goto bad;
	if (last < first)
		goto bad;
	r->first = (uint16_t)first;
	r->last = (uint16_t)last;
	return 0;
bad:
	sl_gen_error("'%s' is not a port or P-Q port range", str);
	return -EINVAL;
}

/* Returns the value of hex digit @c, or -1. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes a payload template with \r \n \t \0 \\ \xHH into @buf. */
int sl_gen_parse_payload(const char *str, uint8_t *buf, size_t size,
			 uint32_t *len)
{
	size_t n = 0;
	const char *p;
	int hi, lo;

	for (p = str; *p != '\0'; p++) {
		uint8_t c = (uint8_t)*p;

		if (c == '\\') {
			switch (*++p) {
			case 'r': c = '\r'; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case '0': c = '\0'; break;
			case '\\': c = '\\'; break;
			case 'x':
				hi = hexval(p[1]);
				lo = hi < 0 ? -1 : hexval(p[2]);
				if (lo < 0) {
					sl_gen_error("\\x needs two hex digits at offset %zu",
						     (size_t)(p - str));
					return -EINVAL;
				}
				c = (uint8_t)(hi << 4 | lo);
				p += 2;
				break;
			default:
				sl_gen_error("unknown escape '\\%c' at offset %zu (use \\r \\n \\t \\0 \\\\ \\xHH)",
					     *p ? *p : ' ', (size_t)(p - str));
				return -EINVAL;
			}
		}
		if (n == size) {
			sl_gen_error("longer than %zu bytes", size);
			return -E2BIG;
		}
		buf[n++] = c;
	}
	*len = (uint32_t)n;
	return 0;
}

static const struct {
	const char *name;
	uint8_t bit;
} tcp_flag_names[] = {
	{ "fin", RTE_TCP_FIN_FLAG },
	{ "syn", RTE_TCP_SYN_FLAG },
	{ "rst", RTE_TCP_RST_FLAG },
	{ "psh", RTE_TCP_PSH_FLAG },
	{ "ack", RTE_TCP_ACK_FLAG },
	{ "urg", RTE_TCP_URG_FLAG },
	{ "ece", RTE_TCP_ECE_FLAG },
	{ "cwr", RTE_TCP_CWR_FLAG },
};

/* Parses "syn", "syn,ack", "psh|ack", "none" or a number like 0x12. */
int sl_gen_parse_tcp_flags(const char *str, uint8_t *flags)
{
	char buf[64];
	char *tok, *save;
	uint64_t v;
	uint8_t f = 0;
	size_t i;

	if (isdigit((unsigned char)str[0])) {
		if (parse_u64(str, 0, 255, &v) < 0)
			goto bad;
		*flags = (uint8_t)v;
		return 0;
	}
	if (strlen(str) >= sizeof(buf))
		goto bad;
	strcpy(buf, str);
	for (tok = strtok_r(buf, ",|+", &save); tok != NULL;
	     tok = strtok_r(NULL, ",|+", &save)) {
		if (strcasecmp(tok, "none") == 0)
			continue;
		for (i = 0; i < RTE_DIM(tcp_flag_names); i++)
			if (strcasecmp(tok, tcp_flag_names[i].name) == 0)
				break;
		if (i == RTE_DIM(tcp_flag_names))
			goto bad;
		f |= tcp_flag_names[i].bit;
	}
	*flags = f;
	return 0;
bad:
	sl_gen_error("'%s' is not a list of TCP flags (fin,syn,rst,psh,ack,urg,ece,cwr) or a number",
		     str);
	return -EINVAL;
}

/* Formats TCP flags as "syn,ack" ("none" for 0) into @buf. */
const char *sl_gen_tcp_flags_name(uint8_t flags, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < RTE_DIM(tcp_flag_names); i++) {
		if (!(flags & tcp_flag_names[i].bit))
			continue;
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s",
			      n ? "," : "", tcp_flag_names[i].name);
	}
	if (n == 0)
		snprintf(buf, len, "none");
	return buf;
}

static const struct {
	const char *name;
	uint8_t proto;
} proto_names[] = {
	{ "tcp", IPPROTO_TCP },
	{ "udp", IPPROTO_UDP },
	{ "icmp", IPPROTO_ICMP },
	{ "icmpv6", IPPROTO_ICMPV6 },
};

/* Parses tcp, udp, icmp, icmpv6 or an IP protocol number. */
int sl_gen_parse_proto(const char *str, uint8_t *proto)
{
	uint64_t v;
	size_t i;

	for (i = 0; i < RTE_DIM(proto_names); i++) {
		if (strcasecmp(str, proto_names[i].name) == 0) {
			*proto = proto_names[i].proto;
			return 0;
		}
	}
	if (parse_u64(str, 0, 255, &v) < 0) {
		sl_gen_error("'%s' is not tcp, udp, icmp, icmpv6 or a protocol number",
			     str);
		return -EINVAL;
	}
	*proto = (uint8_t)v;
	return 0;
}

/* Formats an IP protocol as its name, or its number, into @buf. */
const char *sl_gen_proto_name(uint8_t proto, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < RTE_DIM(proto_names); i++)
		if (proto_names[i].proto == proto)
			return proto_names[i].name;
	snprintf(buf, len, "%u", proto);
	return buf;
}

/* Sets a flow group to the defaults the usage text promises. */
void sl_gen_spec_init(struct sl_gen_spec *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "g0");
	/* RFC 2544 benchmarking addresses, never routed. */
	sl_gen_parse_addr_range("198.18.0.1", &s->src);
	sl_gen_parse_addr_range("198.19.0.1", &s->dst);
	s->proto = IPPROTO_UDP;
	s->sport.first = 1024;
	s->sport.last = 65535;
	s->dport.first = s->dport.last = 5000;
	s->tcp_flags = RTE_TCP_SYN_FLAG;
	s->vlan = -1;
	memset(&s->dst_mac, 0xff, sizeof(s->dst_mac));
	s->pattern = SL_GEN_SEQ;
}

/* Sets the whole run to its defaults: one default group on port 0. */
void sl_gen_cfg_init(struct sl_gen_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->burst = SL_GEN_DEFAULT_BURST;
	cfg->rx_wait_s = 0.5;
	cfg->nb_groups = 1;
	sl_gen_spec_init(&cfg->group[0]);
}

/* Handlers: each parses one option into @cfg or the current group @s. */

static int opt_port(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		    const char *arg)
{
	uint64_t v;

	(void)s;
	if (parse_u64(arg, 0, RTE_MAX_ETHPORTS - 1, &v) < 0)
		return -EINVAL;
	cfg->port = (uint16_t)v;
	return 0;
}

static int opt_src(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		   const char *arg)
{
	(void)cfg;
	return sl_gen_parse_addr_range(arg, &s->src);
}

static int opt_dst(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		   const char *arg)
{
	(void)cfg;
	if (sl_gen_parse_addr_range(arg, &s->dst) < 0)
		return -EINVAL;
	if (s->dst.count != 1) {
		sl_gen_error("'%s' is a range; give one destination address",
			     arg);
		return -EINVAL;
	}
	return 0;
}

static int opt_proto(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		     const char *arg)
{
	(void)cfg;
	return sl_gen_parse_proto(arg, &s->proto);
}

static int opt_sport(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		     const char *arg)
{
	(void)cfg;
	return sl_gen_parse_port_range(arg, &s->sport);
}

static int opt_dport(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		     const char *arg)
{
	(void)cfg;
	return sl_gen_parse_port_range(arg, &s->dport);
}

static int opt_tcp_flags(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
			 const char *arg)
{
	(void)cfg;
	return sl_gen_parse_tcp_flags(arg, &s->tcp_flags);
}

static int opt_dscp(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		    const char *arg)
{
	uint64_t v;

	(void)cfg;
	if (parse_u64(arg, 0, 63, &v) < 0)
		return -EINVAL;
	s->dscp = (uint8_t)v;
	return 0;
}

static int opt_size(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		    const char *arg)
{
	uint64_t v;

	(void)cfg;
	if (parse_u64(arg, SL_GEN_MIN_SIZE, SL_GEN_MAX_SIZE, &v) < 0)
		return -EINVAL;
	s->size = (uint32_t)v;
	s->size_set = true;
	return 0;
}

static int opt_payload(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		       const char *arg)
{
	(void)cfg;
	s->payload_text = arg;
	return sl_gen_parse_payload(arg, s->payload, sizeof(s->payload),
				    &s->payload_len);
}

static int opt_flows(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		     const char *arg)
{
	uint64_t v;

	(void)cfg;
	if (parse_u64(arg, 1, SL_GEN_MAX_FLOWS, &v) < 0)
		return -EINVAL;
	s->flows = (uint32_t)v;
	return 0;
}

static int opt_rate(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		    const char *arg)
{
	(void)cfg;
	return sl_gen_parse_rate(arg, &s->rate);
}

static int opt_duration(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
			const char *arg)
{
	(void)s;
	return parse_seconds(arg, &cfg->duration_s);
}

static int opt_count(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		     const char *arg)
{
	(void)cfg;
	return parse_u64(arg, 0, INT64_MAX, &s->count);	/* JSON integers are signed */
}

static int opt_burst(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		     const char *arg)
{
	uint64_t v;

	(void)s;
	if (parse_u64(arg, 1, SL_GEN_MAX_BURST, &v) < 0)
		return -EINVAL;
	cfg->burst = (uint16_t)v;
	return 0;
}

static int opt_vlan(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		    const char *arg)
{
	uint64_t v;

	(void)cfg;
	if (parse_u64(arg, 0, 4095, &v) < 0)
		return -EINVAL;
	s->vlan = (int)v;
	return 0;
}

static int opt_src_mac(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		       const char *arg)
{
	(void)cfg;
	if (rte_ether_unformat_addr(arg, &s->src_mac) < 0) {
		sl_gen_error("'%s' is not a MAC address", arg);
		return -EINVAL;
	}
	s->src_mac_set = true;
	return 0;
}

static int opt_dst_mac(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		       const char *arg)
{
	(void)cfg;
	if (rte_ether_unformat_addr(arg, &s->dst_mac) < 0) {
		sl_gen_error("'%s' is not a MAC address", arg);
		return -EINVAL;
	}
	return 0;
}

static int opt_pattern(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		       const char *arg)
{
	(void)cfg;
	if (strcmp(arg, "seq") == 0) {
		s->pattern = SL_GEN_SEQ;
	} else if (strcmp(arg, "random") == 0) {
		s->pattern = SL_GEN_RANDOM;
	} else {
		sl_gen_error("'%s' is not seq or random", arg);
		return -EINVAL;
	}
	return 0;
}

static int opt_on(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		  const char *arg)
{
	(void)cfg;
	return parse_seconds(arg, &s->on_s);
}

static int opt_off(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		   const char *arg)
{
	(void)cfg;
	return parse_seconds(arg, &s->off_s);
}

static int opt_copy(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		    const char *arg)
{
	(void)s;
	(void)arg;
	cfg->copy = true;
	return 0;
}

static int opt_stamp(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		     const char *arg)
{
	(void)s;
	(void)arg;
	cfg->stamp = true;
	cfg->copy = true;	/* each packet carries its own time */
	return 0;
}

static int opt_rx(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		  const char *arg)
{
	(void)s;
	(void)arg;
	cfg->rx = true;
	return 0;
}

static int opt_rx_wait(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		       const char *arg)
{
	(void)s;
	return parse_seconds(arg, &cfg->rx_wait_s);
}

static int opt_json(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		    const char *arg)
{
	/* JSON on stdout is the only report format; kept for scripts. */
	(void)cfg;
	(void)s;
	(void)arg;
	return 0;
}

static int opt_quiet(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		     const char *arg)
{
	(void)s;
	(void)arg;
	cfg->quiet = true;
	return 0;
}

/* One row per option: the handler, the usage text and its scope. */
struct sl_gen_opt {
	const char *name;
	const char *arg;	/* NULL: a flag without argument */
	bool group;		/* applies to the current flow group */
	int (*parse)(struct sl_gen_cfg *cfg, struct sl_gen_spec *s,
		     const char *arg);
	const char *help;
};

static const struct sl_gen_opt opts[] = {
	{ "port", "N", false, opt_port, "DPDK port to send on (default 0)" },
	{ "src", "A[-B]", true, opt_src, "source IPv4/IPv6 address, A-B range or A/len; flows cycle sources (default 198.18.0.1)" },
	{ "dst", "A", true, opt_dst, "destination address (default 198.19.0.1)" },
	{ "proto", "P", true, opt_proto, "tcp|udp|icmp|icmpv6|NUMBER (default udp)" },
	{ "sport", "P[-Q]", true, opt_sport, "source ports; ICMP echo identifier (default 1024-65535)" },
	{ "dport", "P[-Q]", true, opt_dport, "destination ports; ICMP echo sequence (default 5000)" },
	{ "tcp-flags", "F", true, opt_tcp_flags, "syn|ack|syn,ack|psh,ack|...|none|NUMBER (default syn)" },
	{ "dscp", "N", true, opt_dscp, "DSCP 0-63 (default 0)" },
	{ "size", "BYTES", true, opt_size, "frame size without FCS, 60-9000 (default: smallest that holds headers and payload, at least 60)" },
	{ "payload", "TEMPLATE", true, opt_payload, "bytes at the start of the L4 payload; escapes \\r \\n \\t \\0 \\\\ \\xHH; zero padded" },
	{ "flows", "N", true, opt_flows, "distinct 5-tuples: source address varies first, then sport, then dport (default: one per source, at most 65536)" },
	{ "rate", "R", true, opt_rate, "pps|kpps|Mpps or bit|kbit|Mbit|Gbit of frame bytes; 0 = as fast as possible (default 0)" },
	{ "count", "N", true, opt_count, "stop the group after N packets (default: no limit)" },
	{ "vlan", "ID", true, opt_vlan, "add an 802.1Q tag with this VLAN ID" },
	{ "src-mac", "MAC", true, opt_src_mac, "source MAC (default: the port's)" },
	{ "dst-mac", "MAC", true, opt_dst_mac, "destination MAC (default ff:ff:ff:ff:ff:ff)" },
	{ "pattern", "seq|random", true, opt_pattern, "flow order (default seq)" },
	{ "on", "S", true, opt_on, "bursty load: send for S seconds, ..." },
	{ "off", "S", true, opt_off, "... then stay silent for S seconds, repeat" },
	{ "group", "NAME", true, NULL, "start a new flow group, a copy of the current one, named NAME (the first --group names the first group, which the options before it set up)" },
	{ "duration", "S", false, opt_duration, "stop after S seconds (default: when every --count is reached, or on SIGINT/SIGTERM)" },
	{ "burst", "N", false, opt_burst, "tx burst size, 1-512 (default 32)" },
	{ "copy", NULL, false, opt_copy, "copy the template into a fresh mbuf per packet instead of sending refcounted prebuilt mbufs (automatic above 16384 flows)" },
	{ "stamp", NULL, false, opt_stamp, "end every TCP/UDP frame with the magic 'sluiceTS' and its CLOCK_REALTIME send time in ns (big-endian), checksum fixed; implies --copy" },
	{ "rx", NULL, false, opt_rx, "also count what arrives on the port, per source address" },
	{ "rx-wait", "S", false, opt_rx_wait, "with --rx, keep counting S seconds after tx ends (default 0.5)" },
	{ "json", NULL, false, opt_json, "JSON report on stdout (always on)" },
	{ "quiet", NULL, false, opt_quiet, "no human summary on stderr" },
	{ "help", NULL, false, NULL, "this text" },
};

/* Prints the rows of the option table whose scope is @group. */
static void usage_rows(FILE *f, bool group)
{
	char lhs[40];
	size_t i;

	for (i = 0; i < RTE_DIM(opts); i++) {
		if (opts[i].group != group)
			continue;
		snprintf(lhs, sizeof(lhs), "--%s%s%s", opts[i].name,
			 opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
		fprintf(f, "  %-22s %s\n", lhs, opts[i].help);
	}
}

/* Prints the usage text, generated from the option table, to @f. */
void sl_gen_usage(FILE *f)
{
	fprintf(f, "Usage: sluice-gen [EAL options] -- [options]\n\n");
	fprintf(f, "Sends flows at a paced rate on a DPDK port and prints what it sent as JSON.\n\n");
	fprintf(f, "Run options:\n");
	usage_rows(f, false);
	fprintf(f, "\nFlow group options (apply to the current group):\n");
	usage_rows(f, true);
	fprintf(f, "\nExample:\n  sluice-gen -l 0 --no-pci --vdev net_af_packet0,iface=veth0 -- \\\n");
	fprintf(f, "    --src 10.0.0.1-10.0.0.50 --dst 10.1.0.2 --proto udp --dport 5000 \\\n");
	fprintf(f, "    --flows 1000 --rate 20kpps --duration 3 --size 128\n");
}

/* Starts group @name: a copy of the current one, unless @fresh. */
static int start_group(struct sl_gen_cfg *cfg, const char *name, bool fresh)
{
	struct sl_gen_spec *s;

	/*
	 * The first --group names the first group, which options before it
	 * have set up: common settings (MACs, sizes) go first, once.
	 */
	if (!fresh) {
		if (cfg->nb_groups == SL_GEN_MAX_GROUPS) {
			sl_gen_error("at most %d groups", SL_GEN_MAX_GROUPS);
			return -E2BIG;
		}
		cfg->group[cfg->nb_groups] = cfg->group[cfg->nb_groups - 1];
		cfg->nb_groups++;
	}
	s = &cfg->group[cfg->nb_groups - 1];
	if (name[0] == '\0' || strlen(name) >= sizeof(s->name)) {
		sl_gen_error("group name must be 1-%zu characters",
			     sizeof(s->name) - 1);
		return -EINVAL;
	}
	strcpy(s->name, name);
	return 0;
}

/* Handles option @o with @arg; prefixes any error with the option. */
static int apply_opt(struct sl_gen_cfg *cfg, const struct sl_gen_opt *o,
		     const char *arg, bool *fresh)
{
	char msg[sizeof(last_error)];
	int ret;

	if (o->parse == NULL)
		ret = start_group(cfg, arg, *fresh);
	else
		ret = o->parse(cfg, &cfg->group[cfg->nb_groups - 1], arg);
	if (ret < 0) {
		snprintf(msg, sizeof(msg), "%s", last_error);
		sl_gen_error("--%s: %s", o->name, msg);
		return ret;
	}
	if (o->parse == NULL)
		*fresh = false;
	return 0;
}

/* With --stamp: TCP or UDP, and 16 bytes of padding after the payload. */
static int stamp_check(const struct sl_gen_cfg *cfg, const struct sl_gen_spec *s)
{
	uint32_t need = sl_gen_hdr_len(s) + s->payload_len + SL_GEN_STAMP_LEN;

	if (!cfg->stamp)
		return 0;
	if (s->proto != IPPROTO_TCP && s->proto != IPPROTO_UDP) {
		sl_gen_error("--stamp: group %s: only TCP and UDP frames carry a stamp",
			     s->name);
		return -EINVAL;
	}
	if (s->size < need) {
		sl_gen_error("--stamp: group %s: a stamp needs a %u-byte frame, more than --size %u",
			     s->name, need, s->size);
		return -EINVAL;
	}
	return 0;
}

/*
 * Parses the options after "--" (argv[0] is skipped, as getopt does) into
 * @cfg, which sl_gen_cfg_init() set up. Returns 0, 1 for --help, or a
 * negative errno with sl_gen_last_error() saying why.
 */
int sl_gen_opts_parse(int argc, char **argv, struct sl_gen_cfg *cfg)
{
	struct option lopts[RTE_DIM(opts) + 1];
	bool fresh = true;
	unsigned int i;
	int c, ret;

	memset(lopts, 0, sizeof(lopts));
	for (i = 0; i < RTE_DIM(opts); i++) {
		lopts[i].name = opts[i].name;
		lopts[i].has_arg = opts[i].arg ? required_argument : no_argument;
		lopts[i].val = 256 + (int)i;
	}
	optind = 0;	/* glibc: full reset, argv may differ from last time */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", lopts, NULL)) != -1) {
		if (c == 'h' || (c >= 256 && strcmp(opts[c - 256].name, "help") == 0))
			return 1;
		if (c < 256) {
			sl_gen_error("unknown option or missing argument: '%s'",
				     argv[optind - 1]);
			return -EINVAL;
		}
		ret = apply_opt(cfg, &opts[c - 256], optarg, &fresh);
		if (ret < 0)
			return ret;
	}
	if (optind < argc) {
		sl_gen_error("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	for (i = 0; i < cfg->nb_groups; i++) {
		ret = sl_gen_spec_finalize(&cfg->group[i]);
		if (ret < 0)
			return ret;
		ret = stamp_check(cfg, &cfg->group[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Checks one group for consistency and resolves size, flows and pps. */
int sl_gen_spec_finalize(struct sl_gen_spec *s)
{
	uint32_t need = sl_gen_hdr_len(s) + s->payload_len;
	uint64_t max_flows;

	if (s->src.family != s->dst.family) {
		sl_gen_error("group %s: --src and --dst are not both IPv4 or both IPv6",
			     s->name);
		return -EINVAL;
	}
	if ((s->proto == IPPROTO_ICMP && s->src.family == AF_INET6) ||
	    (s->proto == IPPROTO_ICMPV6 && s->src.family == AF_INET)) {
		sl_gen_error("group %s: use --proto icmp with IPv4 and icmpv6 with IPv6",
			     s->name);
		return -EINVAL;
	}
	if (need > SL_GEN_MAX_SIZE || (s->size_set && s->size < need)) {
		sl_gen_error("group %s: headers and payload need a %u-byte frame, more than --size %u",
			     s->name, need, s->size_set ? s->size : SL_GEN_MAX_SIZE);
		return -EINVAL;
	}
	if (!s->size_set)
		s->size = RTE_MAX(need, (uint32_t)SL_GEN_MIN_SIZE);
	max_flows = sl_gen_max_flows(s);
	if (s->flows == 0)
		s->flows = (uint32_t)RTE_MIN(s->src.count,
					     (uint64_t)SL_GEN_DEFAULT_FLOWS_MAX);
	if (s->flows > max_flows) {
		sl_gen_error("group %s: --flows %u exceeds the %llu distinct 5-tuples the source and port ranges give",
			     s->name, s->flows, (unsigned long long)max_flows);
		return -EINVAL;
	}
	if ((s->on_s > 0) != (s->off_s > 0)) {
		sl_gen_error("group %s: --on and --off go together, both > 0",
			     s->name);
		return -EINVAL;
	}
	s->pps = s->rate.bits ? s->rate.value / (s->size * 8.0) :
				s->rate.value;
	return 0;
}
