/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy model: freeing, lookups, diagnostics, and the parsers of
 * single values (rates, bursts, prefixes, ranges, TCP flags, DSCP). The
 * YAML walk that calls them is in policy_yaml.c. The value parsers know
 * nothing about YAML so that run-time changes (sluicectl class set) read
 * values exactly as a policy file does.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ceiling.h"
#include "policy.h"
#include "tbucket.h"

/* Longest value text any of these parsers reads. */
#define SL_VALUE_MAX	128

/* p may be partly built (a refused load): every pointer is NULL or owned. */
void sl_policy_free(struct sl_policy *p)
{
	uint32_t i;

	if (p == NULL)
		return;
	for (i = 0; p->classes != NULL && i < p->n_classes; i++) {
		struct sl_match *m = &p->classes[i].match;

		free(m->src);
		free(m->dst);
		free(m->sport);
		free(m->dport);
		free(m->vlan);
		free(m->payload);
	}
	free(p->classes);
	free(p);
}

/* Linear: lookups are by the control plane, never per packet. */
const struct sl_class *sl_policy_class(const struct sl_policy *p,
				       const char *name)
{
	uint32_t i;

	if (p == NULL || name == NULL)
		return NULL;
	for (i = 0; i < p->n_classes; i++)
		if (strcmp(p->classes[i].name, name) == 0)
			return &p->classes[i];
	return NULL;
}

/* Any d, pos and message; beyond SL_DIAGS_MAX only counts. */
void sl_diags_add(struct sl_diags *d, struct sl_srcpos pos, const char *fmt,
		  ...)
{
	va_list ap;

	if (d->n >= SL_DIAGS_MAX) {
		d->dropped++;
		return;
	}
	d->diag[d->n].pos = pos;
	va_start(ap, fmt);
	vsnprintf(d->diag[d->n].msg, sizeof(d->diag[d->n].msg), fmt, ap);
	va_end(ap);
	d->n++;
}

/* Any diags, including an empty one (prints nothing). */
void sl_diags_print(const struct sl_diags *d, FILE *f)
{
	uint32_t i;

	for (i = 0; i < d->n; i++) {
		const struct sl_diag *g = &d->diag[i];

		if (g->pos.line == 0)
			fprintf(f, "%s: %s\n", d->file, g->msg);
		else
			fprintf(f, "%s:%" PRIu32 ":%" PRIu32 ": %s\n", d->file,
				g->pos.line, g->pos.col, g->msg);
	}
	if (d->dropped > 0)
		fprintf(f, "%s: %" PRIu32 " more errors not shown\n", d->file,
			d->dropped);
}

/* Names of the DSCPs that have one (RFC 2474, 2597, 3246, 5865, 8622). */
static const struct {
	const char *name;
	uint8_t dscp;
} sl_dscp_names[] = {
	{ "cs0", 0 }, { "cs1", 8 }, { "cs2", 16 }, { "cs3", 24 },
	{ "cs4", 32 }, { "cs5", 40 }, { "cs6", 48 }, { "cs7", 56 },
	{ "af11", 10 }, { "af12", 12 }, { "af13", 14 },
	{ "af21", 18 }, { "af22", 20 }, { "af23", 22 },
	{ "af31", 26 }, { "af32", 28 }, { "af33", 30 },
	{ "af41", 34 }, { "af42", 36 }, { "af43", 38 },
	{ "ef", 46 }, { "va", 44 }, { "le", 1 },
};

/* The numbers as strings, for DSCPs without a name. */
static const char *const sl_dscp_numbers[64] = {
	"0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
	"10", "11", "12", "13", "14", "15", "16", "17", "18", "19",
	"20", "21", "22", "23", "24", "25", "26", "27", "28", "29",
	"30", "31", "32", "33", "34", "35", "36", "37", "38", "39",
	"40", "41", "42", "43", "44", "45", "46", "47", "48", "49",
	"50", "51", "52", "53", "54", "55", "56", "57", "58", "59",
	"60", "61", "62", "63",
};

/*
 * Digits only, no sign, no spaces, no base prefix: what strtoull accepts
 * beyond that is never what a policy author meant. Returns 0, -EINVAL
 * (not a number) or -ERANGE (above max).
 */
static int sl_parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
	for (i = 0; i < n; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');

		if (d > max || v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Any string; 0 and *out set for a known name or 0..63. */
int sl_dscp_parse(const char *s, uint8_t *out)
{
	uint64_t v;
	size_t i;

	if (s == NULL)
		return -EINVAL;
	for (i = 0; i < sizeof(sl_dscp_names) / sizeof(sl_dscp_names[0]); i++) {
		if (strcasecmp(s, sl_dscp_names[i].name) == 0) {
			*out = sl_dscp_names[i].dscp;
			return 0;
		}
	}
	if (sl_parse_uint(s, strlen(s), 63, &v) != 0)
		return -EINVAL;
	*out = (uint8_t)v;
	return 0;
}

/* Any dscp; NULL above 63. */
const char *sl_dscp_name(uint8_t dscp)
{
	size_t i;

	if (dscp > 63)
		return NULL;
	for (i = 0; i < sizeof(sl_dscp_names) / sizeof(sl_dscp_names[0]); i++)
		if (sl_dscp_names[i].dscp == dscp)
			return sl_dscp_names[i].name;
	return sl_dscp_numbers[dscp];
}

/* Copy s without surrounding blanks into buf; -EINVAL if it is too long. */
static int sl_trim_copy(const char *s, char *buf, size_t len, char *err,
			size_t errlen)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= len) {
		snprintf(err, errlen, "value is too long (%zu characters, max %zu)",
			 n, len - 1);
		return -EINVAL;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

/* Rate units: all are powers of ten, which makes exactness easy to test. */
static const struct {
	const char *name;
	enum sl_rate_unit unit;
	unsigned int exp10;
} sl_rate_units[] = {
	{ "pps", SL_UNIT_PACKETS, 0 },
	{ "kpps", SL_UNIT_PACKETS, 3 },
	{ "Mpps", SL_UNIT_PACKETS, 6 },
	{ "bit", SL_UNIT_BITS, 0 },
	{ "kbit", SL_UNIT_BITS, 3 },
	{ "Mbit", SL_UNIT_BITS, 6 },
	{ "Gbit", SL_UNIT_BITS, 9 },
};

#define SL_N_RATE_UNITS (sizeof(sl_rate_units) / sizeof(sl_rate_units[0]))
#define SL_RATE_UNITS_TEXT "pps, kpps, Mpps, bit, kbit, Mbit or Gbit"

/* The unit a mistyped rate unit was meant to be ("mbit", "Mbps"), or NULL. */
static const char *sl_rate_unit_hint(const char *u)
{
	char alt[16];
	size_t i, n = strlen(u);

	/* "bps" reads as bytes to some and bits to others: say which. */
	if (n >= 3 && n < sizeof(alt) && strcasecmp(u + n - 3, "bps") == 0) {
		memcpy(alt, u, n - 3);
		strcpy(alt + n - 3, "bit");
		u = alt;
	}
	for (i = 0; i < SL_N_RATE_UNITS; i++)
		if (strcasecmp(u, sl_rate_units[i].name) == 0)
			return sl_rate_units[i].name;
	return NULL;
}


/* A decimal number as written before its unit: "12.50 Mbit". */
struct sl_decimal {
	const char *ip;		/* integer digits */
	size_t ni;
	const char *fp;		/* fraction digits, trailing zeros dropped */
	size_t nf;
	const char *unit;	/* after the number and any spaces */
};

/* Accepts trimmed text; splits it into digits and unit. */
static void sl_decimal_split(const char *buf, struct sl_decimal *d)
{
	const char *p = buf;

	memset(d, 0, sizeof(*d));
	d->ip = p;
	while (isdigit((unsigned char)*p))
		p++;
	d->ni = (size_t)(p - d->ip);
	if (*p == '.') {
		d->fp = ++p;
		while (isdigit((unsigned char)*p))
			p++;
		d->nf = (size_t)(p - d->fp);
	}
	d->unit = p;
	while (*d->unit == ' ')
		d->unit++;
	/* Trailing zeros of the fraction do not change the value. */
	while (d->nf > 0 && d->fp[d->nf - 1] == '0')
		d->nf--;
}

/*
 * Accepts a split decimal with digits and a unit of 10^exp10 base
 * units; stores its value in base units. Returns 0, -EDOM when that is
 * not a whole number (more fraction digits than exp10: every unit is a
 * power of ten), or -ERANGE when it is above max.
 */
static int sl_decimal_scale(const struct sl_decimal *d, unsigned int exp10,
			    uint64_t max, uint64_t *out)
{
	uint64_t whole, frac = 0, scale = 1;
	unsigned int k;

	for (k = exp10; k > 0; k--)
		scale *= 10;
	if (d->nf > exp10)
		return -EDOM;
	if (sl_parse_uint(d->ip, d->ni, max, &whole) != 0 || whole > max / scale)
		return -ERANGE;
	if (d->nf > 0) {
		sl_parse_uint(d->fp, d->nf, UINT64_MAX, &frac);
		for (k = (unsigned int)d->nf; k < exp10; k++)
			frac *= 10;
	}
	*out = whole * scale + frac;
	return *out > max ? -ERANGE : 0;
}

/* Any string; see policy.h. */
int sl_rate_parse(const char *s, uint64_t *rate, enum sl_rate_unit *unit,
		  char *err, size_t errlen)
{
	char buf[SL_VALUE_MAX];
	struct sl_decimal d;
	const char *u;
	size_t i;
	int rc;

	if (sl_trim_copy(s, buf, sizeof(buf), err, errlen) != 0)
		return -EINVAL;
	sl_decimal_split(buf, &d);
	u = d.unit;
	if (d.ni == 0) {
		snprintf(err, errlen, "'%s' is not a rate (expected a number and a unit: %s)",
			 buf, SL_RATE_UNITS_TEXT);
		return -EINVAL;
	}
	if (*u == '\0') {
		snprintf(err, errlen, "%s has no unit (expected %s)", buf,
			 SL_RATE_UNITS_TEXT);
		return -EINVAL;
	}
	for (i = 0; i < SL_N_RATE_UNITS; i++)
		if (strcmp(u, sl_rate_units[i].name) == 0)
			break;
	if (i == SL_N_RATE_UNITS) {
		const char *hint = sl_rate_unit_hint(u);

		if (hint != NULL)
			snprintf(err, errlen, "unknown unit '%s' in %s (did you mean '%s'?)",
				 u, buf, hint);
		else
			snprintf(err, errlen, "unknown unit '%s' in %s (expected %s)",
				 u, buf, SL_RATE_UNITS_TEXT);
		return -EINVAL;
	}
	rc = sl_decimal_scale(&d, sl_rate_units[i].exp10, SL_TB_RATE_MAX, rate);
	if (rc == -EDOM) {
		snprintf(err, errlen, "%s is not a whole number of %s per second",
			 buf, sl_rate_units[i].unit == SL_UNIT_BITS ? "bits" : "packets");
		return -EINVAL;
	}
	if (rc == -ERANGE)
		goto too_big;
	*unit = sl_rate_units[i].unit;
	if (*rate == 0) {
		snprintf(err, errlen, "%s is zero (the smallest rate is 1%s)",
			 buf, *unit == SL_UNIT_BITS ? "bit" : "pps");
		return -EINVAL;
	}
	return 0;
too_big:
	snprintf(err, errlen, "%s is above the maximum (400Gbit or 400000Mpps)",
		 buf);
	return -EINVAL;
}

/* Byte units of bursts: binary, as buffer sizes are. */
static const struct {
	const char *name;
	uint64_t mult;
} sl_byte_units[] = {
	{ "B", 1 },
	{ "KB", 1024 }, { "KiB", 1024 },
	{ "MB", 1024 * 1024 }, { "MiB", 1024 * 1024 },
	{ "GB", 1024 * 1024 * 1024 }, { "GiB", 1024 * 1024 * 1024 },
};

#define SL_N_BYTE_UNITS (sizeof(sl_byte_units) / sizeof(sl_byte_units[0]))

/* Any string; see policy.h. */
int sl_burst_parse(const char *s, uint64_t *burst, enum sl_rate_unit *unit,
		   char *err, size_t errlen)
{
	char buf[SL_VALUE_MAX];
	const char *p, *u;
	uint64_t v;
	size_t n, i;
	int rc;

	if (sl_trim_copy(s, buf, sizeof(buf), err, errlen) != 0)
		return -EINVAL;
	p = buf;
	while (isdigit((unsigned char)*p))
		p++;
	n = (size_t)(p - buf);
	u = p;
	while (*u == ' ')
		u++;
	if (n == 0 || *p == '.') {
		snprintf(err, errlen, "'%s' is not a burst (expected a whole packet count, or bytes with B, KB, MB or GB)",
			 buf);
		return -EINVAL;
	}
	rc = sl_parse_uint(buf, n, UINT64_MAX, &v);
	if (*u == '\0') {
		if (rc != 0)
			goto too_big;
		*burst = v;
		*unit = SL_UNIT_PACKETS;
		return 0;
	}
	for (i = 0; i < SL_N_BYTE_UNITS; i++)
		if (strcmp(u, sl_byte_units[i].name) == 0)
			break;
	if (i == SL_N_BYTE_UNITS) {
		for (i = 0; i < SL_N_BYTE_UNITS; i++)
			if (strcasecmp(u, sl_byte_units[i].name) == 0)
				break;
		if (i < SL_N_BYTE_UNITS)
			snprintf(err, errlen, "unknown unit '%s' in %s (did you mean '%s'?)",
				 u, buf, sl_byte_units[i].name);
		else
			snprintf(err, errlen, "unknown unit '%s' in %s (expected no unit for packets, or B, KB, MB or GB)",
				 u, buf);
		return -EINVAL;
	}
	if (rc != 0 || v > UINT64_MAX / 8 / sl_byte_units[i].mult)
		goto too_big;
	*burst = v * sl_byte_units[i].mult;
	*unit = SL_UNIT_BITS;
	return 0;
too_big:
	snprintf(err, errlen, "%s is above the maximum (4GB)", buf);
	return -EINVAL;
}

/* Delay units: powers of ten of the nanosecond, as for rates. */
static const struct {
	const char *name;
	unsigned int exp10;
} sl_delay_units[] = {
	{ "ns", 0 }, { "us", 3 }, { "ms", 6 }, { "s", 9 },
};

#define SL_N_DELAY_UNITS (sizeof(sl_delay_units) / sizeof(sl_delay_units[0]))

/* Any string; see policy.h. */
int sl_delay_parse(const char *s, uint64_t *ns, char *err, size_t errlen)
{
	char buf[SL_VALUE_MAX];
	struct sl_decimal d;
	size_t i;
	int rc;

	if (sl_trim_copy(s, buf, sizeof(buf), err, errlen) != 0)
		return -EINVAL;
	sl_decimal_split(buf, &d);
	if (d.ni == 0) {
		snprintf(err, errlen, "'%s' is not a delay (expected a number and a unit: ns, us, ms or s)",
			 buf);
		return -EINVAL;
	}
	if (*d.unit == '\0') {
		snprintf(err, errlen, "%s has no unit (expected ns, us, ms or s)",
			 buf);
		return -EINVAL;
	}
	for (i = 0; i < SL_N_DELAY_UNITS; i++)
		if (strcasecmp(d.unit, sl_delay_units[i].name) == 0)
			break;
	if (i == SL_N_DELAY_UNITS) {
		snprintf(err, errlen, "unknown unit '%s' in %s (expected ns, us, ms or s)",
			 d.unit, buf);
		return -EINVAL;
	}
	rc = sl_decimal_scale(&d, sl_delay_units[i].exp10, SL_SHAPE_DELAY_MAX_NS, ns);
	if (rc == -EDOM) {
		snprintf(err, errlen, "%s is not a whole number of nanoseconds", buf);
		return -EINVAL;
	}
	if (rc == -ERANGE)
		goto too_long;
	if (*ns == 0) {
		snprintf(err, errlen, "%s is zero (a packet that may not wait is dropped: write exceed: drop)",
			 buf);
		return -EINVAL;
	}
	return 0;
too_long:
	snprintf(err, errlen, "%s is above the maximum 1s (the dataplane's shaping queue spans 1s)",
		 buf);
	return -EINVAL;
}

/* Any limit; the ranges sl_tb_profile_init accepts, plus one whole frame. */
int sl_limit_check(const struct sl_limit *l, char *err, size_t errlen)
{
	if (l->rate == 0 || l->rate > SL_TB_RATE_MAX) {
		snprintf(err, errlen, "rate %" PRIu64 "%s is out of range (1 to 400Gbit or 400000Mpps)",
			 l->rate, l->unit == SL_UNIT_BITS ? "bit" : "pps");
		return -EINVAL;
	}
	if (l->unit == SL_UNIT_PACKETS) {
		if (l->burst == 0) {
			snprintf(err, errlen, "burst 0 is zero (a burst of packets must be at least 1)");
			return -EINVAL;
		}
		if (l->burst > SL_TB_CAPACITY_MAX) {
			snprintf(err, errlen, "burst %" PRIu64 " is above the maximum %llu packets",
				 l->burst, SL_TB_CAPACITY_MAX);
			return -EINVAL;
		}
		return 0;
	}
	if (l->burst < SL_BURST_BYTES_MIN) {
		snprintf(err, errlen, "burst %" PRIu64 "B is smaller than one frame (%uB)",
			 l->burst, SL_BURST_BYTES_MIN);
		return -EINVAL;
	}
	if (l->burst > SL_TB_CAPACITY_MAX / 8) {
		snprintf(err, errlen, "burst %" PRIu64 "B is above the maximum 4GB (%lluB)",
			 l->burst, SL_TB_CAPACITY_MAX / 8);
		return -EINVAL;
	}
	return 0;
}

/*
 * Any ceiling; the ranges of a limit, and a burst the rate earns back
 * within SL_CEIL_SPAN_MAX ns (only a huge burst at a tiny rate fails).
 */
int sl_ceiling_check(const struct sl_ceiling *c, char *err, size_t errlen)
{
	struct sl_limit l = { .unit = c->unit, .rate = c->rate, .burst = c->burst };
	struct sl_ceil_profile p;
	uint64_t capacity = c->unit == SL_UNIT_BITS ? c->burst * 8 : c->burst;

	if (sl_limit_check(&l, err, errlen) != 0)
		return -EINVAL;
	if (sl_ceil_profile_init(&p, c->rate, capacity) != 0) {
		snprintf(err, errlen, "burst %" PRIu64 "%s takes more than 146 years to earn at %" PRIu64 "%s",
			 c->burst, c->unit == SL_UNIT_BITS ? "B" : "", c->rate,
			 c->unit == SL_UNIT_BITS ? "bit" : "pps");
		return -EINVAL;
	}
	return 0;
}

/* Zero the bits of addr beyond len; returns whether any were set. */
static bool sl_prefix_mask(uint8_t *addr, unsigned int bytes, unsigned int len)
{
	bool had = false;
	unsigned int i;

	for (i = 0; i < bytes; i++) {
		unsigned int keep = len >= 8 * (i + 1) ? 8 :
				    len > 8 * i ? len - 8 * i : 0;
		uint8_t mask = (uint8_t)(0xff00u >> keep);

		if (addr[i] & ~mask)
			had = true;
		addr[i] &= mask;
	}
	return had;
}

/* Any p with family 4 or 6. */
char *sl_prefix_format(const struct sl_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(p->family == 6 ? AF_INET6 : AF_INET, p->addr, a,
		      sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a, p->len);
	return buf;
}

/* Any string; see policy.h. */
int sl_prefix_parse(const char *s, struct sl_prefix *out, char *err,
		    size_t errlen)
{
	char buf[SL_VALUE_MAX], fixed[INET6_ADDRSTRLEN + 8];
	struct sl_prefix p = { 0 };
	char *slash;
	uint64_t len;
	unsigned int max;

	if (sl_trim_copy(s, buf, sizeof(buf), err, errlen) != 0)
		return -EINVAL;
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, p.addr) == 1) {
		p.family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, p.addr) == 1) {
		p.family = 6;
		max = 128;
	} else {
		if (slash != NULL)
			*slash = '/';
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address or prefix",
			 buf);
		return -EINVAL;
	}
	len = max;
	if (slash != NULL &&
	    sl_parse_uint(slash + 1, strlen(slash + 1), max, &len) != 0) {
		snprintf(err, errlen, "%s/%s: prefix length must be 0..%u for IPv%u",
			 buf, slash + 1, max, p.family);
		return -EINVAL;
	}
	p.len = (uint8_t)len;
	if (sl_prefix_mask(p.addr, max / 8, p.len)) {
		snprintf(err, errlen, "%s/%u has host bits set; did you mean %s?",
			 buf, p.len, sl_prefix_format(&p, fixed, sizeof(fixed)));
		return -EINVAL;
	}
	*out = p;
	return 0;
}

/* Any string; see policy.h. */
int sl_range_parse(const char *s, uint16_t max, struct sl_range *out,
		   char *err, size_t errlen)
{
	char buf[SL_VALUE_MAX];
	char *dash, *lo_s, *hi_s;
	uint64_t lo, hi;
	int rc;

	if (sl_trim_copy(s, buf, sizeof(buf), err, errlen) != 0)
		return -EINVAL;
	lo_s = hi_s = buf;
	dash = strchr(buf, '-');
	if (dash != NULL) {
		char *e = dash;

		while (e > buf && e[-1] == ' ')
			e--;
		*e = '\0';
		hi_s = dash + 1;
		while (*hi_s == ' ')
			hi_s++;
	}
	rc = sl_parse_uint(lo_s, strlen(lo_s), max, &lo);
	if (rc == 0)
		rc = sl_parse_uint(hi_s, strlen(hi_s), max, &hi);
	if (rc == -ERANGE) {
		snprintf(err, errlen, "%s%s%s is out of range (0..%u)", lo_s,
			 dash ? "-" : "", dash ? hi_s : "", max);
		return -EINVAL;
	}
	if (rc != 0) {
		const char *hint = strchr(s, ',') ?
				   "; write several as a list: [a, b]" : "";

		snprintf(err, errlen, "'%s' is not a number 0..%u or a range lo-hi%s",
			 s, max, hint);
		return -EINVAL;
	}
	if (lo > hi) {
		snprintf(err, errlen, "range %s-%s is reversed", lo_s, hi_s);
		return -EINVAL;
	}
	out->lo = (uint16_t)lo;
	out->hi = (uint16_t)hi;
	return 0;
}

static const char *const sl_tcp_flag_names[8] = {
	"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr",
};

/*
 * One comma-separated list of flag names (s, not NUL-terminated, n
 * bytes), "!name" allowed when neg is not NULL. Sets *set and *neg to the
 * named bits.
 */
static int sl_tcp_flag_list(const char *s, size_t n, uint8_t *set,
			    uint8_t *neg, char *err, size_t errlen)
{
	const char *end = s + n;

	*set = 0;
	if (neg != NULL)
		*neg = 0;
	for (;;) {
		const char *tok = s, *te;
		bool not = false;
		unsigned int b;

		while (s < end && *s != ',')
			s++;
		te = s;
		while (tok < te && *tok == ' ')
			tok++;
		while (te > tok && te[-1] == ' ')
			te--;
		if (neg != NULL && tok < te && *tok == '!') {
			not = true;
			tok++;
		}
		for (b = 0; b < 8; b++)
			if ((size_t)(te - tok) == strlen(sl_tcp_flag_names[b]) &&
			    strncasecmp(tok, sl_tcp_flag_names[b], te - tok) == 0)
				break;
		if (te == tok) {
			snprintf(err, errlen, "empty flag name");
			return -EINVAL;
		}
		if (b == 8) {
			snprintf(err, errlen, "unknown flag '%.*s' (expected fin, syn, rst, psh, ack, urg, ece or cwr%s)",
				 (int)(te - tok), tok,
				 neg != NULL ? ", each optionally negated with !" : "");
			return -EINVAL;
		}
		if (not)
			*neg |= (uint8_t)(1u << b);
		else
			*set |= (uint8_t)(1u << b);
		if (s == end)
			return 0;
		s++;
	}
}

/* Any string; see policy.h. */
int sl_tcp_flags_parse(const char *s, uint8_t *flags, uint8_t *mask,
		       char *err, size_t errlen)
{
	char buf[SL_VALUE_MAX];
	uint8_t set, neg, m;
	char *slash;

	if (sl_trim_copy(s, buf, sizeof(buf), err, errlen) != 0)
		return -EINVAL;
	if (buf[0] == '\0') {
		snprintf(err, errlen, "no flags given");
		return -EINVAL;
	}
	slash = strchr(buf, '/');
	if (slash != NULL) {
		/* nftables style: VALUES/MASK, (flags & MASK) == VALUES. */
		set = 0;
		if (slash > buf && strspn(buf, " ") < (size_t)(slash - buf) &&
		    sl_tcp_flag_list(buf, (size_t)(slash - buf), &set, NULL,
				     err, errlen) != 0)
			return -EINVAL;
		if (sl_tcp_flag_list(slash + 1, strlen(slash + 1), &m, NULL,
				     err, errlen) != 0)
			return -EINVAL;
		if (set & ~m) {
			snprintf(err, errlen, "%s: a flag before '/' is not in the mask after it",
				 buf);
			return -EINVAL;
		}
		*flags = set;
		*mask = m;
		return 0;
	}
	if (sl_tcp_flag_list(buf, strlen(buf), &set, &neg, err, errlen) != 0)
		return -EINVAL;
	if (set & neg) {
		snprintf(err, errlen, "%s: a flag is both required and negated", buf);
		return -EINVAL;
	}
	/* "syn" alone means a connection opening: SYN without ACK. */
	if (set == SL_TCP_SYN && neg == 0 && strchr(buf, ',') == NULL) {
		*flags = SL_TCP_SYN;
		*mask = SL_TCP_SYN | SL_TCP_ACK;
		return 0;
	}
	*flags = set;
	*mask = set | neg;
	return 0;
}
