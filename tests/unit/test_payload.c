/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * payload match classes (common/payload.c and the engine's payload step).
 *
 * (1) Hyperscan against PCRE2: every test pattern compiled into one
 *     database as a ruleset compiles it, scanned over HTTP requests, TLS
 *     ClientHellos and random bytes; each (pattern, payload) pair must
 *     match in both or in neither.
 * (2) The loader: bad patterns refused at the value with Hyperscan's
 *     reason, exact line:column and message.
 * (3) The engine: fall-through cases by hand; random policies of payload
 *     and plain classes against sl_classify_reference_payload() with
 *     PCRE2 as its regex engine; payload + limit end to end (50 HTTP
 *     clients held to 5 pps per /24, ClientHellos of one SNI held to a
 *     rate); scratch for non-EAL threads and across a policy swap; no
 *     scan where no payload class can win.
 * (4) `sluicectl replay` of a capture with POST /login and ClientHellos.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <pcap/pcap.h>
#include <pcre2.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "classify.h"
#include "eal_helper.h"
#include "engine.h"
#include "payload.h"
#include "pkt.h"

#ifndef SL_SLUICECTL
#define SL_SLUICECTL "build/control/sluicectl"
#endif

#define N(a)		(sizeof(a) / sizeof((a)[0]))
#define NS		1000000000ULL
#define MS		1000000ULL
#define FRAME_MAX	2048
#define PAYLOAD_MAX	1500
#define NONE		SL_CLASS_NONE

/* Fails without Check's per-assert bookkeeping, for loops over packets. */
#define CHECK(cond, ...)				\
	do {						\
		if (!(cond))				\
			ck_abort_msg(__VA_ARGS__);	\
	} while (0)

/* ---- Patterns and payloads ------------------------------------------ */

/*
 * The SNI extension (type 0) of a ClientHello naming exactly
 * example.com: type, extension length, list length, name type 0, name
 * length 11, the name.
 */
#define SNI_EXAMPLE	"^\\x16\\x03[\\x00-\\x04].{2}\\x01.*\\x00\\x00.{4}\\x00\\x00\\x0bexample\\.com"

/* Anchors, classes, alternation, (?i), \b, quantifiers, binary bytes. */
static const char *const patterns[] = {
	"^POST /login\\b",
	"^(GET|POST|PUT|DELETE) /api/v[0-9]+/",
	"(?i)^post /login",
	"(?i)host: *example\\.com\\r\\n",
	"\\r\\n\\r\\n$",
	"HTTP/1\\.[01]$",
	"HTTP/1\\.1\\r\\n$",
	"^\\x16\\x03[\\x00-\\x04].{2}\\x01",
	SNI_EXAMPLE,
	"(?i)\\x00\\x00.{4}\\x00.{2}(www\\.)?EXAMPLE\\.org",
	"\\blogin\\b",
	"login\\B",
	"\\Bogin",
	"[^\\x00-\\x7f]{4}",
	"[\\x80-\\xff][\\x00-\\x1f]",
	"a{3,5}b",
	"(ab|cd){2,}e",
	"User-Agent: [^\\r\\n]*curl",
	"^.{10}POST",
	"\\d{3} [A-Z]+\\r\\n",
	"[[:alpha:]]+=[[:digit:]]+&",
	"password=[^&\\r\\n]{8,}",
	"\\.\\./",
	"(?i)%2e%2e%2f",
	"\\x00",
	"^\\x17\\x03\\x03",
	"(?m)^Host:",
	"(?s)a.b",
	"(?i:x)Y",
	"x\\z",
	"OK\\Z",
	"[a-f0-9]{16}",
	"^[^\\r\\n]{0,20}\\r\\n",
	"\\w+@\\w+\\.com",
	"\\s{2,}",
	"(?x) P O S T \\s /",
	"(foo|foobar)baz",
	"^(?:GET|HEAD) / HTTP",
	"\\xff\\xfe?\\xfd",
	"[\\x00-\\x08\\x0e-\\x1f]{3,}",
};

#define N_PATTERNS	N(patterns)

/* One payload: bytes and their count (NUL bytes allowed). */
struct blob {
	uint8_t b[PAYLOAD_MAX];
	uint32_t len;
};

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A TLS 1.3 ClientHello record naming sni; returns its length. */
static uint32_t tls_hello(const char *sni, uint8_t *b)
{
	uint32_t n = 0, rec, hs, ext, sl = (uint32_t)strlen(sni);

	b[n++] = 0x16;				/* handshake record */
	b[n++] = 0x03;
	b[n++] = 0x01;
	rec = n;
	n += 2;
	b[n++] = 0x01;				/* ClientHello */
	hs = n;
	n += 3;
	b[n++] = 0x03;
	b[n++] = 0x03;
	for (uint32_t i = 0; i < 32; i++)	/* random */
		b[n++] = (uint8_t)(i * 37 + sl);
	b[n++] = 0;				/* session id */
	put16(b + n, 4);			/* cipher suites */
	n += 2;
	b[n++] = 0x13;
	b[n++] = 0x01;
	b[n++] = 0x13;
	b[n++] = 0x02;
	b[n++] = 1;				/* compression: null */
	b[n++] = 0;
	ext = n;
	n += 2;
	b[n++] = 0;				/* server_name */
	b[n++] = 0;
	put16(b + n, sl + 5);
	put16(b + n + 2, sl + 3);
	b[n + 4] = 0;				/* host_name */
	put16(b + n + 5, sl);
	n += 7;
	memcpy(b + n, sni, sl);
	n += sl;
	b[n++] = 0x00;				/* supported_versions: 1.3 */
	b[n++] = 0x2b;
	put16(b + n, 3);
	n += 2;
	b[n++] = 2;
	b[n++] = 0x03;
	b[n++] = 0x04;
	put16(b + ext, n - ext - 2);
	b[hs] = 0;
	put16(b + hs + 1, n - hs - 3);
	put16(b + rec, n - rec - 2);
	return n;
}

static const char *const http_texts[] = {
	"POST /login HTTP/1.1\r\nHost: example.com\r\nContent-Length: 31\r\n\r\nuser=bob&password=12345678&x=1",
	"POST /login?next=/ HTTP/1.1\r\nHost: Example.COM\r\n\r\n",
	"POST /loginx HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"POST /logout HTTP/1.1\r\n\r\n",
	"post /LOGIN HTTP/1.0\r\n\r\n",
	" POST /login HTTP/1.1\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/7.88.1\r\n\r\n",
	"GET /../../etc/passwd HTTP/1.1\r\n\r\n",
	"GET /%2E%2e%2F%2e%2e%2fetc HTTP/1.1\r\n\r\n",
	"PUT /api/v2/items HTTP/1.1\r\nHost: api\r\n\r\n",
	"DELETE /api/vx/items HTTP/1.1\r\n\r\n",
	"HEAD / HTTP/1.1\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nOK\n",
	"HTTP/1.1 404 NOTFOUND\r\n",
	"HTTP/1.1",
	"HTTP/1.0\n",
	"xxxxxxxxxxPOST / HTTP/1.1\r\n",
	"mail bob@example.com now",
	"aaab abab cdcde aaaaaab",
	"xY XY xy Xy",
	"a\nb a\rb",
	"login",
	"xlogin_",
	"logins",
	"0123456789abcdef0123",
	"      spaces",
	"POST\t/x",
	"foobarbaz foobaz",
};

/* Byte strings tokens of random payloads are drawn from. */
static const char *const tokens[] = {
	"POST", "GET", "PUT", " /login", " /api/v1/", " / HTTP", "\r\n", "\n",
	"\r\n\r\n", "Host: example.com", "host:example.com", "HTTP/1.1",
	"HTTP/1.0", "login", "a", "b", "ab", "cd", "e", "aaa", "\x16\x03\x01",
	"\x17\x03\x03", "\xff", "\xfe", "\xfd", "\x80", "\x81\x01", "password=",
	"12345678", "&", "=", "x1", "%2e", "%2E", "../", "curl",
	"User-Agent: ", "x", "Y", "X", "y", "OK", "foo", "bar", "baz", "@",
	".com", " ", "  ", "\t", "\v", "\f", "deadbeef01234567", "123 ABC\r\n",
	"example.org", "EXAMPLE.ORG", "www.", "\x01\x02\x03", "ogin", "_",
};

/* xorshift64*: the same sequence from the same seed. */
struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

static uint32_t rndn(struct rng *r, uint32_t n)
{
	return (uint32_t)(rnd(r) % n);
}

static bool chance(struct rng *r, uint32_t percent)
{
	return rndn(r, 100) < percent;
}

static void blob_add(struct blob *b, const void *p, uint32_t n)
{
	if (b->len + n > PAYLOAD_MAX)
		n = PAYLOAD_MAX - b->len;
	memcpy(b->b + b->len, p, n);
	b->len += n;
}

/* A payload of tokens and random bytes, or of random bytes only. */
static void rnd_blob(struct rng *r, struct blob *b)
{
	uint32_t k, n;

	b->len = 0;
	if (chance(r, 15)) {
		n = 1 + rndn(r, 400);
		for (uint32_t i = 0; i < n; i++)
			b->b[b->len++] = (uint8_t)rnd(r);
		return;
	}
	k = 1 + rndn(r, 20);
	for (uint32_t i = 0; i < k; i++) {
		if (chance(r, 70)) {
			const char *t = tokens[rndn(r, N(tokens))];

			blob_add(b, t, (uint32_t)strlen(t));
		} else {
			uint8_t x[4];

			n = 1 + rndn(r, 4);
			for (uint32_t j = 0; j < n; j++)
				x[j] = (uint8_t)rnd(r);
			blob_add(b, x, n);
		}
	}
}

/* The fixed payloads then n_rnd random ones; returns how many. */
static uint32_t corpus_make(struct blob *v, uint32_t n_rnd, uint64_t seed)
{
	static const char *const snis[] = {
		"example.com", "www.example.com", "example.org", "www.example.org",
		"Example.ORG", "other.net", "example.co",
	};
	struct rng r = { .s = seed };
	uint32_t n = 0;

	for (uint32_t i = 0; i < N(http_texts); i++, n++) {
		v[n].len = 0;
		blob_add(&v[n], http_texts[i], (uint32_t)strlen(http_texts[i]));
	}
	for (uint32_t i = 0; i < N(snis); i++, n++)
		v[n].len = tls_hello(snis[i], v[n].b);
	/* TLS application data, a NUL, a lone byte. */
	memcpy(v[n].b, "\x17\x03\x03\x00\x10" "0123456789abcdef", 21);
	v[n++].len = 21;
	v[n].b[0] = 0;
	v[n++].len = 1;
	v[n].b[0] = 'x';
	v[n++].len = 1;
	for (uint32_t i = 0; i < n_rnd; i++, n++)
		rnd_blob(&r, &v[n]);
	return n;
}

/* ---- PCRE2: the other regex engine ------------------------------------ */

/*
 * What the loader's Hyperscan flags mean in PCRE2: DOTALL; no
 * MULTILINE, so ^ is the start and $ the end or before a final newline.
 */
static pcre2_code *pcre_compile(const char *re)
{
	PCRE2_SIZE off;
	int code;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
				      PCRE2_DOTALL, &code, &off, NULL);

	ck_assert_msg(c != NULL, "PCRE2 refuses %s at %zu (%d)", re, (size_t)off,
		      code);
	return c;
}

static bool pcre_match(const pcre2_code *c, pcre2_match_data *md,
		       const uint8_t *s, uint32_t len)
{
	int rc = pcre2_match(c, (PCRE2_SPTR)s, len, 0, 0, md, NULL);

	CHECK(rc >= 0 || rc == PCRE2_ERROR_NOMATCH, "pcre2_match: %d", rc);
	return rc >= 0;
}

/* sl_classify_reference_payload()'s regex engine: PCRE2 per class. */
struct oracle {
	pcre2_code **code;	/* per class; NULL without payload */
	uint32_t n;
	pcre2_match_data *md;
};

static void oracle_make(struct oracle *o, const struct sl_policy *p)
{
	o->n = p->n_classes;
	o->code = calloc(p->n_classes + 1, sizeof(*o->code));
	ck_assert_ptr_nonnull(o->code);
	for (uint32_t i = 0; i < p->n_classes; i++)
		if (p->classes[i].match.fields & SL_M_PAYLOAD)
			o->code[i] = pcre_compile(p->classes[i].match.payload);
	o->md = pcre2_match_data_create(1, NULL);
	ck_assert_ptr_nonnull(o->md);
}

static void oracle_free(struct oracle *o)
{
	for (uint32_t i = 0; i < o->n; i++)
		pcre2_code_free(o->code[i]);
	free(o->code);
	pcre2_match_data_free(o->md);
}

static bool oracle_holds(void *arg, uint32_t cls, const uint8_t *pl,
			 uint32_t len)
{
	struct oracle *o = arg;

	return pcre_match(o->code[cls], o->md, pl, len);
}

/* ---- (1) Hyperscan against PCRE2 ---------------------------------- */

/* A policy of one TCP class per pattern, in memory. */
static struct sl_policy *pattern_policy(void)
{
	struct sl_policy *p = calloc(1, sizeof(*p));

	ck_assert_ptr_nonnull(p);
	p->version = SL_POLICY_VERSION;
	p->n_classes = N_PATTERNS;
	p->classes = calloc(N_PATTERNS, sizeof(*p->classes));
	ck_assert_ptr_nonnull(p->classes);
	for (uint32_t i = 0; i < N_PATTERNS; i++) {
		struct sl_class *c = &p->classes[i];

		snprintf(c->name, sizeof(c->name), "p%u", i);
		c->match.fields = SL_M_PROTO | SL_M_PAYLOAD;
		c->match.proto = 6;
		c->match.payload = strdup(patterns[i]);
		ck_assert_ptr_nonnull(c->match.payload);
	}
	return p;
}

/* Which patterns a scan reported, and how often each. */
struct hits {
	uint32_t n[N_PATTERNS];
};

static int hit_count(uint32_t cls, void *ctx)
{
	struct hits *h = ctx;

	CHECK(cls < N_PATTERNS, "id %u out of range", cls);
	h->n[cls]++;
	return 0;
}

#define RANDOM_PAYLOADS	3000

START_TEST(test_hs_vs_pcre)
{
	static struct blob corpus[N(http_texts) + 16 + RANDOM_PAYLOADS];
	uint64_t seed = 0x5eed0001, pairs = 0, matches = 0, diffs = 0;
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	pcre2_code *pc[N_PATTERNS];
	struct sl_policy *p = pattern_policy();
	struct sl_payload_db *db;
	char err[256];
	uint32_t n;

	ck_assert_ptr_nonnull(md);
	for (uint32_t i = 0; i < N_PATTERNS; i++) {
		ck_assert_msg(sl_payload_check(patterns[i], err, sizeof(err)) == 0,
			      "Hyperscan refuses %s: %s", patterns[i], err);
		pc[i] = pcre_compile(patterns[i]);
	}
	db = sl_payload_db_build(p, 1, err, sizeof(err));
	ck_assert_msg(db != NULL, "database: %s", err);
	ck_assert_uint_eq(sl_payload_db_patterns(db), N_PATTERNS);
	ck_assert_int_eq(sl_payload_db_scratch(db, 0), 0);
	n = corpus_make(corpus, RANDOM_PAYLOADS, seed);
	for (uint32_t k = 0; k < n; k++) {
		struct hits h = { { 0 } };

		CHECK(sl_payload_scan(db, 0, corpus[k].b, corpus[k].len,
				      hit_count, &h) == 0, "scan failed");
		for (uint32_t i = 0; i < N_PATTERNS; i++) {
			bool want = pcre_match(pc[i], md, corpus[k].b,
					       corpus[k].len);

			pairs++;
			matches += want;
			CHECK(h.n[i] <= 1, "pattern %u reported %u times",
			      i, h.n[i]);
			if ((h.n[i] != 0) == want)
				continue;
			if (diffs++ < 10) {
				fprintf(stderr, "pattern %s, payload %u (%u bytes): Hyperscan %s, PCRE2 %s:",
					patterns[i], k, corpus[k].len,
					h.n[i] ? "matches" : "does not match",
					want ? "matches" : "does not match");
				for (uint32_t j = 0; j < corpus[k].len && j < 64; j++)
					fprintf(stderr, " %02x", corpus[k].b[j]);
				fprintf(stderr, "\n");
			}
		}
	}
	printf("hs_vs_pcre: %u patterns x %u payloads = %" PRIu64 " pairs, %" PRIu64 " matches, %" PRIu64 " differences\n",
	       (unsigned int)N_PATTERNS, n, pairs, matches, diffs);
	ck_assert_msg(diffs == 0, "%" PRIu64 " differences", diffs);
	/* Not vacuous: both answers are common, and every pattern matches some. */
	ck_assert_uint_gt(matches * 50, pairs);
	ck_assert_uint_lt(matches * 2, pairs);
	for (uint32_t i = 0; i < N_PATTERNS; i++) {
		bool some = false;

		for (uint32_t k = 0; k < n && !some; k++)
			some = pcre_match(pc[i], md, corpus[k].b, corpus[k].len);
		ck_assert_msg(some, "pattern %s matches no payload", patterns[i]);
		pcre2_code_free(pc[i]);
	}
	pcre2_match_data_free(md);
	sl_payload_db_free(db);
	sl_policy_free(p);
}
END_TEST

/* A scan stops when the callback says so; a slot without scratch fails. */
START_TEST(test_scan_api)
{
	struct sl_policy *p = pattern_policy();
	const uint8_t pl[] = "POST /login HTTP/1.1\r\nHost: example.com\r\n\r\n";
	struct hits h = { { 0 } };
	struct sl_payload_db *db;
	char err[256];
	uint32_t total = 0;

	db = sl_payload_db_build(p, 3, err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_int_eq(sl_payload_scan(db, 1, pl, sizeof(pl) - 1, hit_count, &h),
			 -ENOENT);
	ck_assert_int_eq(sl_payload_scan(db, 3, pl, sizeof(pl) - 1, hit_count, &h),
			 -ENOENT);
	ck_assert_int_eq(sl_payload_db_scratch(db, 3), -EINVAL);
	ck_assert_int_eq(sl_payload_db_scratch(db, 1), 0);
	ck_assert_int_eq(sl_payload_db_scratch(db, 1), 0);	/* already there */
	ck_assert_uint_gt(sl_payload_db_scratch_size(db), 0);
	ck_assert_int_eq(sl_payload_scan(db, 1, pl, sizeof(pl) - 1, hit_count, &h), 0);
	for (uint32_t i = 0; i < N_PATTERNS; i++)
		total += h.n[i];
	ck_assert_uint_ge(total, 5);
	ck_assert_uint_eq(h.n[0], 1);		/* ^POST /login\b */
	sl_payload_db_free(db);
	/* No payload class: no database. */
	p->classes[0].match.fields &= ~SL_M_PAYLOAD;
	p->n_classes = 1;
	errno = 0;
	ck_assert_ptr_null(sl_payload_db_build(p, 1, err, sizeof(err)));
	ck_assert_int_eq(errno, ENOENT);
	p->n_classes = N_PATTERNS;	/* so that every pattern is freed */
	sl_policy_free(p);
}
END_TEST

/* ---- (2) The loader ------------------------------------------------- */

#define H "version: 1\nclasses:\n  - name: a\n    match:\n"

struct refuse_case {
	const char *what;
	const char *yaml;
	uint32_t line, col;
	const char *msg;	/* the whole message */
};

static const struct refuse_case refuse_cases[] = {
	{ "unclosed group", H "      proto: tcp\n      payload: '^POST (/login'\n",
	  6, 16, "payload: Missing close parenthesis for group started at index 6." },
	{ "back-reference", H "      proto: tcp\n      payload: '(a)\\1'\n",
	  6, 16, "payload: Back-references are unsupported." },
	{ "lookbehind", H "      proto: udp\n      payload: '(?<=a)b'\n",
	  6, 16, "payload: Zero-width assertions are not supported." },
	{ "range out of order", H "      proto: tcp\n      payload: 'GET [z-a]'\n",
	  6, 16, "payload: Range out of order in character class at index 7." },
	{ "bad repeat", H "      proto: tcp\n      payload: \"a{2,1}\"\n",
	  6, 16, "payload: Invalid repeat at index 1." },
	{ "possessive", H "      proto: tcp\n      payload: a++b\n",
	  6, 16, "payload: Possessive quantifiers are not supported." },
	{ "matches empty", H "      proto: tcp\n      payload: '(?i)a*'\n",
	  6, 16, "payload: Pattern matches empty buffer (a pattern must match at least one byte)" },
	{ "bad inline flag", H "      proto: tcp\n      payload: '(?i'\n",
	  6, 16, "payload: Unrecognised character after (? at index 0." },
	{ "trailing backslash", H "      proto: tcp\n      payload: 'abc\\'\n",
	  6, 16, "payload: Unescaped \\ at end of input, index 3." },
	{ "flow mapping", H "      { proto: tcp, dport: 80, payload: 'x)' }\n",
	  5, 41, "payload: Unmatched parentheses at index 1." },
	{ "a list", H "      proto: tcp\n      payload: [a, b]\n",
	  6, 16, "payload: expected a scalar, got a sequence" },
	{ "empty", H "      proto: tcp\n      payload:\n",
	  6, 15, "payload: missing value" },
	{ "proto icmp", H "      proto: icmp\n      payload: abc\n",
	  6, 7, "payload: requires proto tcp or udp (6 or 17)" },
	{ "no proto", H "      payload: abc\n",
	  5, 7, "payload: requires proto tcp or udp (6 or 17)" },
	{ "proto any", H "      proto: any\n      payload: abc\n",
	  6, 7, "payload: requires proto tcp or udp (6 or 17)" },
};

START_TEST(test_refuse)
{
	const struct refuse_case *c = &refuse_cases[_i];
	struct sl_policy *p = NULL;
	struct sl_diags d;
	int rc;

	rc = sl_policy_load_buf("p.yaml", c->yaml, strlen(c->yaml), &p, &d);
	ck_assert_msg(rc == -EINVAL, "%s: rc %d", c->what, rc);
	ck_assert_ptr_null(p);
	ck_assert_msg(d.n >= 1, "%s: no diagnostic", c->what);
	ck_assert_msg(d.diag[0].pos.line == c->line && d.diag[0].pos.col == c->col,
		      "%s: at %u:%u, expected %u:%u (%s)", c->what,
		      d.diag[0].pos.line, d.diag[0].pos.col, c->line, c->col,
		      d.diag[0].msg);
	ck_assert_str_eq(d.diag[0].msg, c->msg);
}
END_TEST

/* What the loader keeps: the pattern text as YAML gives it. */
START_TEST(test_accept)
{
	static const char yaml[] =
		"version: 1\n"
		"classes:\n"
		"  - name: login\n"
		"    match: { proto: tcp, dport: 80, payload: '^POST /login\\b' }\n"
		"  - name: dns\n"
		"    match:\n"
		"      proto: udp\n"
		"      payload: \"(?i)\\\\x07example\\\\x03com\\\\x00\"\n"
		"  - name: plain\n"
		"    match: { proto: 6 }\n";
	struct sl_policy *p;
	struct sl_diags d;

	ck_assert_int_eq(sl_policy_load_buf("p.yaml", yaml, strlen(yaml), &p, &d), 0);
	ck_assert_uint_eq(p->n_classes, 3);
	ck_assert_uint_eq(p->classes[0].match.fields & SL_M_PAYLOAD, SL_M_PAYLOAD);
	ck_assert_str_eq(p->classes[0].match.payload, "^POST /login\\b");
	ck_assert_str_eq(p->classes[1].match.payload, "(?i)\\x07example\\x03com\\x00");
	ck_assert_uint_eq(p->classes[2].match.fields & SL_M_PAYLOAD, 0);
	ck_assert_ptr_null(p->classes[2].match.payload);
	sl_policy_free(p);
}
END_TEST

/* ---- Frames ------------------------------------------------------------ */

struct fspec {
	uint8_t family;		/* 4 or 6 */
	uint8_t proto;		/* 6, 17, 1 */
	bool later_frag;	/* IPv4 only: a non-first fragment */
	const char *src;
	uint16_t dport;
	const uint8_t *pl;
	uint32_t pl_len;
};

/* An Ethernet frame of s into f (FRAME_MAX); returns its length. */
static uint32_t frame_make(const struct fspec *s, uint8_t *f)
{
	uint32_t l3 = 14, l4, l4len, n;

	memset(f, 0, 14 + 40 + 20);
	f[12] = s->family == 6 ? 0x86 : 0x08;
	f[13] = s->family == 6 ? 0xdd : 0x00;
	l4 = l3 + (s->family == 6 ? 40 : 20);
	l4len = s->later_frag ? 0 : s->proto == 6 ? 20 : s->proto == 17 ? 8 : 4;
	n = l4 + l4len + s->pl_len;
	CHECK(n <= FRAME_MAX, "frame too long");
	if (s->family == 6) {
		f[l3] = 0x60;
		put16(f + l3 + 4, n - l4);
		f[l3 + 6] = s->proto;
		f[l3 + 7] = 64;
		CHECK(inet_pton(AF_INET6, s->src, f + l3 + 8) == 1, "src %s", s->src);
		inet_pton(AF_INET6, "2001:db8:1::10", f + l3 + 24);
	} else {
		f[l3] = 0x45;
		put16(f + l3 + 2, n - l3);
		if (s->later_frag)
			put16(f + l3 + 6, 100);		/* offset 800 bytes */
		f[l3 + 8] = 64;
		f[l3 + 9] = s->proto;
		CHECK(inet_pton(AF_INET, s->src, f + l3 + 12) == 1, "src %s", s->src);
		inet_pton(AF_INET, "198.51.100.10", f + l3 + 16);
	}
	if (!s->later_frag && (s->proto == 6 || s->proto == 17)) {
		put16(f + l4, 40000);
		put16(f + l4 + 2, s->dport);
		if (s->proto == 6) {
			f[l4 + 12] = 0x50;
			f[l4 + 13] = 0x18;		/* PSH, ACK */
		} else {
			put16(f + l4 + 4, 8 + s->pl_len);
		}
	} else if (!s->later_frag) {
		f[l4] = 8;				/* echo request */
	}
	memcpy(f + l4 + l4len, s->pl, s->pl_len);
	return n;
}

/* ---- Engine helpers ---------------------------------------------------- */

static struct sl_slots slots;
static unsigned int eng_seq;

static struct sl_policy *load(const char *yaml)
{
	struct sl_policy *p;
	struct sl_diags d;

	if (sl_policy_load_buf("test.yaml", yaml, strlen(yaml), &p, &d) < 0) {
		sl_diags_print(&d, stderr);
		ck_abort_msg("policy refused:\n%s", yaml);
	}
	return p;
}

static struct sl_ruleset *build(const char *yaml, const struct sl_ruleset *prev)
{
	struct sl_ruleset *rs;
	char err[256];

	rs = sl_ruleset_build(load(yaml), 1, prev, &slots, SOCKET_ID_ANY, err,
			      sizeof(err));
	ck_assert_msg(rs != NULL, "ruleset: %s", err);
	return rs;
}

static struct sl_engine *engine(void)
{
	struct sl_engine *e;
	char name[32];

	snprintf(name, sizeof(name), "test_pl_%u", eng_seq++);
	e = sl_engine_create(name, 4096, SOCKET_ID_ANY);
	ck_assert_msg(e != NULL, "engine: %s", rte_strerror(rte_errno));
	return e;
}

/* Packets passed per class (n_classes) and by default (last), summed. */
static void passed(const struct sl_engine *e, const struct sl_ruleset *rs,
		   uint64_t *out)
{
	for (uint32_t i = 0; i < rs->n_classes; i++)
		out[i] = sl_engine_class_counters(e, rs, i)->packets[SL_OUT_PASSED];
	out[rs->n_classes] = e->st.deflt.packets[SL_OUT_PASSED];
}

/* The class one packet lands in, by the counters it moves; NONE: default. */
static uint32_t class_of(struct sl_engine *e, const struct sl_ruleset *rs,
			 uint8_t *f, uint32_t len)
{
	uint64_t *before = calloc(2 * (rs->n_classes + 1), sizeof(*before));
	uint64_t *after = before + rs->n_classes + 1;
	struct sl_pkt p = { .data = f, .len = len, .wire_len = len };
	uint8_t v;
	uint32_t got = UINT32_MAX - 1;

	ck_assert_ptr_nonnull(before);
	passed(e, rs, before);
	sl_engine_run(e, rs, &p, 1, 1, &v);
	passed(e, rs, after);
	for (uint32_t i = 0; i <= rs->n_classes; i++)
		if (after[i] != before[i])
			got = i == rs->n_classes ? NONE : i;
	free(before);
	ck_assert_uint_eq(v, SL_VERDICT_FORWARD);
	return got;
}

/* ---- (3) Engine: fall-through -------------------------------------------- */

static const char fall_policy[] =
	"version: 1\n"
	"default: pass\n"
	"classes:\n"
	"  - name: login\n"
	"    match: { proto: tcp, dport: 80, payload: '^POST /login\\b' }\n"
	"  - name: dns-example\n"
	"    match: { proto: udp, dport: 53, payload: '(?i)\\x07example\\x03com\\x00' }\n"
	"  - name: tls-example\n"
	"    match: { proto: tcp, dport: 443, payload: '" SNI_EXAMPLE "' }\n"
	"  - name: web\n"
	"    match: { proto: tcp, dport: [80, 443] }\n"
	"  - name: secret\n"
	"    match: { proto: tcp, payload: 'secret' }\n"
	"  - name: udp-any\n"
	"    match: { proto: udp, src: 10.9.0.0/16 }\n";

enum pl_kind { PL_TEXT, PL_TLS, PL_DNS };

struct fall_case {
	const char *what;
	uint8_t family, proto;
	bool later_frag;
	const char *src;
	uint16_t dport;
	uint8_t kind;
	const char *text;	/* PL_TEXT: the payload; PL_TLS: the SNI; PL_DNS: the name */
	const char *want;	/* class name, NULL: default */
};

static const struct fall_case fall_cases[] = {
	{ "POST /login", 4, 6, false, "10.0.0.1", 80, PL_TEXT,
	  "POST /login HTTP/1.1\r\n\r\n", "login" },
	{ "POST /login v6", 6, 6, false, "2001:db8::1", 80, PL_TEXT,
	  "POST /login?a=b HTTP/1.1\r\n\r\n", "login" },
	{ "POST /loginx falls through", 4, 6, false, "10.0.0.1", 80, PL_TEXT,
	  "POST /loginx HTTP/1.1\r\n\r\n", "web" },
	{ "GET falls through", 4, 6, false, "10.0.0.1", 80, PL_TEXT,
	  "GET / HTTP/1.1\r\n\r\n", "web" },
	{ "no payload falls through", 4, 6, false, "10.0.0.1", 80, PL_TEXT, "", "web" },
	{ "POST /login, other port", 4, 6, false, "10.0.0.1", 8080, PL_TEXT,
	  "POST /login HTTP/1.1\r\n\r\n", NULL },
	{ "secret on 80: web comes first", 4, 6, false, "10.0.0.1", 80, PL_TEXT,
	  "GET /secret HTTP/1.1\r\n\r\n", "web" },
	{ "secret elsewhere", 4, 6, false, "10.0.0.1", 8080, PL_TEXT,
	  "GET /secret HTTP/1.1\r\n\r\n", "secret" },
	{ "POST /login and secret on 80", 4, 6, false, "10.0.0.1", 80, PL_TEXT,
	  "POST /login?secret HTTP/1.1\r\n\r\n", "login" },
	{ "ClientHello example.com", 4, 6, false, "10.0.0.1", 443, PL_TLS,
	  "example.com", "tls-example" },
	{ "ClientHello www.example.com", 4, 6, false, "10.0.0.1", 443, PL_TLS,
	  "www.example.com", "web" },
	{ "ClientHello other", 6, 6, false, "2001:db8::1", 443, PL_TLS,
	  "other.net", "web" },
	{ "ClientHello example.com on 80", 4, 6, false, "10.0.0.1", 80, PL_TLS,
	  "example.com", "web" },
	{ "DNS example.com", 4, 17, false, "10.0.0.1", 53, PL_DNS, "EXAMPLE", "dns-example" },
	{ "DNS other", 4, 17, false, "10.0.0.1", 53, PL_DNS, "exampl", NULL },
	{ "DNS other from 10.9", 4, 17, false, "10.9.1.1", 53, PL_DNS, "other", "udp-any" },
	{ "DNS example.com from 10.9", 4, 17, false, "10.9.1.1", 53, PL_DNS, "example",
	  "dns-example" },
	{ "later fragment: no payload match", 4, 6, true, "10.0.0.1", 0, PL_TEXT,
	  "secret", NULL },
	{ "later UDP fragment from 10.9", 4, 17, true, "10.9.0.1", 0, PL_TEXT,
	  "\x07" "example\x03" "com", "udp-any" },
	{ "ICMP with secret", 4, 1, false, "10.0.0.1", 0, PL_TEXT, "secret", NULL },
};

/* Accepts a case; its payload into b. */
static void fall_payload(const struct fall_case *c, struct blob *b)
{
	uint32_t n;

	b->len = 0;
	if (c->kind == PL_TLS) {
		b->len = tls_hello(c->text, b->b);
		return;
	}
	if (c->kind == PL_TEXT) {
		blob_add(b, c->text, (uint32_t)strlen(c->text));
		return;
	}
	/* A DNS query for <text>.com, type A. */
	blob_add(b, "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
	n = (uint32_t)strlen(c->text);
	b->b[b->len++] = (uint8_t)n;
	blob_add(b, c->text, n);
	blob_add(b, "\x03" "com\x00\x00\x01\x00\x01", 9);
}

static uint32_t class_index(const struct sl_ruleset *rs, const char *name)
{
	if (name == NULL)
		return NONE;
	for (uint32_t i = 0; i < rs->n_classes; i++)
		if (strcmp(rs->policy->classes[i].name, name) == 0)
			return i;
	ck_abort_msg("no class %s", name);
	return NONE;
}

START_TEST(test_fall_through)
{
	const struct fall_case *c = &fall_cases[_i];
	struct sl_ruleset *rs;
	struct sl_engine *e;
	struct oracle o;
	struct sl_pkt_meta m;
	struct blob b;
	uint8_t f[FRAME_MAX];
	uint32_t len, got, ref, want;
	struct fspec s;

	test_eal_init();
	memset(&slots, 0, sizeof(slots));
	rs = build(fall_policy, NULL);
	e = engine();
	oracle_make(&o, rs->policy);
	fall_payload(c, &b);
	s = (struct fspec){ c->family, c->proto, c->later_frag, c->src, c->dport,
			    b.b, b.len };
	len = frame_make(&s, f);
	ck_assert_int_eq(sl_pkt_parse(f, len, &m), SL_MAL_NONE);
	want = class_index(rs, c->want);
	got = class_of(e, rs, f, len);
	ref = sl_classify_reference_payload(rs->policy, &m, f, oracle_holds, &o);
	ck_assert_msg(got == want, "%s: engine says class %d, expected %d", c->what,
		      (int)got, (int)want);
	ck_assert_msg(ref == want, "%s: reference says class %d, expected %d",
		      c->what, (int)ref, (int)want);
	ck_assert_uint_eq(e->st.payload_errors, 0);
	oracle_free(&o);
	sl_engine_free(e);
	sl_ruleset_free(rs);
}
END_TEST

/*
 * A later payload class wins when an earlier one's pattern does not
 * match; one whose pattern matches but whose L3/L4 fields do not hold
 * never does.
 */
START_TEST(test_chain)
{
	static const char policy[] =
		"version: 1\n"
		"classes:\n"
		"  - { name: p1, match: { proto: tcp, dport: 80, payload: X } }\n"
		"  - { name: p2, match: { proto: tcp, dport: 81, payload: Y } }\n"
		"  - { name: p3, match: { proto: tcp, dport: 80-81, payload: Z } }\n"
		"  - { name: p4, match: { proto: tcp, payload: X } }\n"
		"  - { name: plain, match: { proto: tcp, dport: 81 } }\n"
		"  - { name: p5, match: { proto: tcp, payload: W } }\n";
	static const struct {
		uint16_t dport;
		const char *pl;
		const char *want;
	} cases[] = {
		{ 81, "XZ", "p3" }, { 81, "ZX", "p3" }, { 81, "X", "p4" },
		{ 81, "YX", "p2" }, { 81, "W", "plain" }, { 81, "", "plain" },
		{ 80, "W", "p5" }, { 80, "ZYX", "p1" }, { 80, "ZY", "p3" },
		{ 82, "ZYX", "p4" }, { 82, "ZY", NULL }, { 82, "WX", "p4" },
	};
	struct sl_ruleset *rs;
	struct sl_engine *e;
	struct oracle o;
	uint8_t f[FRAME_MAX];

	test_eal_init();
	memset(&slots, 0, sizeof(slots));
	rs = build(policy, NULL);
	e = engine();
	oracle_make(&o, rs->policy);
	for (uint32_t i = 0; i < N(cases); i++) {
		struct fspec s = { 4, 6, false, "10.0.0.1", cases[i].dport,
				   (const uint8_t *)cases[i].pl,
				   (uint32_t)strlen(cases[i].pl) };
		uint32_t len = frame_make(&s, f), want = class_index(rs, cases[i].want);
		struct sl_pkt_meta m;

		sl_pkt_parse(f, len, &m);
		ck_assert_msg(class_of(e, rs, f, len) == want, "dport %u '%s': engine",
			      cases[i].dport, cases[i].pl);
		ck_assert_msg(sl_classify_reference_payload(rs->policy, &m, f,
				oracle_holds, &o) == want, "dport %u '%s': reference",
			      cases[i].dport, cases[i].pl);
	}
	oracle_free(&o);
	sl_engine_free(e);
	sl_ruleset_free(rs);
}
END_TEST

/* ---- (3) Engine: random policies against the reference ----------------- */

#define RND_POLICIES	150
#define RND_PKTS	400

/* A random policy of plain and payload classes, as YAML, into buf. */
static void rnd_policy(struct rng *r, char *buf, size_t size)
{
	static const char *const srcs[] = {
		"10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32", "192.0.2.0/24",
	};
	static const uint16_t ports[] = { 80, 443, 53, 8080 };
	uint32_t n = 1 + rndn(r, 12);
	size_t o;

	o = (size_t)snprintf(buf, size, "version: 1\ndefault: pass\nclasses:\n");
	for (uint32_t i = 0; i < n; i++) {
		static const uint32_t plain_protos[] = { 1, 6, 6, 6, 6, 17, 17, 17, 17, 0 };
		bool pl = chance(r, 55), has_src;
		uint32_t proto = pl ? (chance(r, 60) ? 6 : 17) :
				 plain_protos[rndn(r, N(plain_protos))];

		has_src = chance(r, 30);
		o += (size_t)snprintf(buf + o, size - o, "  - name: c%u\n    match:%s\n", i,
				      proto == 0 && !pl && !has_src ? " {}" : "");
		if (proto != 0)
			o += (size_t)snprintf(buf + o, size - o, "      proto: %u\n", proto);
		/* Plain classes mostly narrow: else few packets reach payload ones. */
		if ((proto == 6 || proto == 17) && chance(r, pl ? 50 : 80)) {
			uint32_t a = rndn(r, N(ports)), b = rndn(r, N(ports));

			o += (size_t)snprintf(buf + o, size - o, "      dport: [%u, %u]\n",
					      ports[a], ports[b]);
		}
		if (has_src)
			o += (size_t)snprintf(buf + o, size - o, "      src: %s\n",
					      srcs[rndn(r, N(srcs))]);
		if (pl)
			o += (size_t)snprintf(buf + o, size - o, "      payload: '%s'\n",
					      patterns[rndn(r, N_PATTERNS)]);
		ck_assert_uint_lt(o, size);
	}
}

/* A random packet for a random policy: its frame into f; returns the length. */
static uint32_t rnd_frame(struct rng *r, const struct blob *corpus, uint32_t nc,
			  uint32_t n_fixed, uint8_t *f)
{
	static const char *const src4[] = { "10.1.2.3", "10.200.0.1", "192.0.2.9" };
	static const char *const src6[] = { "2001:db8::5", "2001:db9::5" };
	static const uint16_t ports[] = { 80, 443, 53, 8080, 9999 };
	struct fspec s = { 0 };
	/* Half from the fixed payloads: most patterns were written for them. */
	const struct blob *b = &corpus[rndn(r, chance(r, 50) ? n_fixed : nc)];

	s.family = chance(r, 80) ? 4 : 6;
	s.src = s.family == 4 ? src4[rndn(r, N(src4))] : src6[rndn(r, N(src6))];
	s.proto = chance(r, 50) ? 6 : chance(r, 90) ? 17 : 1;
	s.later_frag = s.family == 4 && chance(r, 8);
	s.dport = ports[rndn(r, N(ports))];
	s.pl = b->b;
	s.pl_len = chance(r, 8) ? 0 : b->len;
	return frame_make(&s, f);
}

START_TEST(test_random)
{
	static struct blob corpus[N(http_texts) + 16 + 600];
	static uint8_t frames[SL_ENGINE_BURST_MAX][FRAME_MAX];
	uint64_t seed = 0x5eed0002, pkts = 0, in_payload = 0, diffs = 0;
	uint64_t scanned = 0, defaulted = 0;
	struct rng r = { .s = seed };
	struct sl_engine *e;
	char yaml[4096];
	uint32_t nc;

	test_eal_init();
	e = engine();
	nc = corpus_make(corpus, 600, seed);
	for (uint32_t pol = 0; pol < RND_POLICIES; pol++) {
		struct sl_ruleset *rs;
		struct oracle o;
		uint64_t scans0 = e->st.payload_scanned;

		rnd_policy(&r, yaml, sizeof(yaml));
		memset(&slots, 0, sizeof(slots));
		rs = build(yaml, NULL);
		oracle_make(&o, rs->policy);
		for (uint32_t done = 0; done < RND_PKTS;) {
			uint32_t k = 1 + rndn(&r, SL_ENGINE_BURST_MAX);
			struct sl_pkt p[SL_ENGINE_BURST_MAX];
			uint64_t before[16], after[16], want[16] = { 0 };
			uint8_t v[SL_ENGINE_BURST_MAX];

			for (uint32_t j = 0; j < k; j++) {
				struct sl_pkt_meta m;
				uint32_t len = rnd_frame(&r, corpus, nc, nc - 600,
							 frames[j]);
				uint32_t c;

				p[j] = (struct sl_pkt){ frames[j], len, len };
				sl_pkt_parse(frames[j], len, &m);
				c = sl_classify_reference_payload(rs->policy, &m,
						frames[j], oracle_holds, &o);
				want[c == NONE ? rs->n_classes : c]++;
				in_payload += c != NONE && (rs->policy->classes[c].match.fields &
							    SL_M_PAYLOAD);
				defaulted += c == NONE;
			}
			passed(e, rs, before);
			sl_engine_run(e, rs, p, (uint16_t)k, 1, v);
			passed(e, rs, after);
			for (uint32_t i = 0; i <= rs->n_classes; i++) {
				if (after[i] - before[i] == want[i])
					continue;
				if (diffs++ < 5)
					fprintf(stderr, "policy %u, class %u: engine %" PRIu64 ", reference %" PRIu64 "\n%s",
						pol, i, after[i] - before[i], want[i], yaml);
			}
			pkts += k;
			done += k;
		}
		scanned += e->st.payload_scanned - scans0;
		oracle_free(&o);
		sl_ruleset_free(rs);
	}
	printf("random: %u policies, %" PRIu64 " packets: %" PRIu64 " in payload classes, %" PRIu64 " default, %" PRIu64 " scanned, %" PRIu64 " differences\n",
	       RND_POLICIES, pkts, in_payload, defaulted, scanned, diffs);
	ck_assert_msg(diffs == 0, "%" PRIu64 " differences (seed %" PRIx64 ")",
		      diffs, seed);
	ck_assert_uint_eq(e->st.payload_errors, 0);
	ck_assert_uint_gt(in_payload * 40, pkts);
	ck_assert_uint_lt(scanned, pkts);
	sl_engine_free(e);
}
END_TEST

/* Packets no payload class can win are not scanned. */
START_TEST(test_scan_only_when_needed)
{
	static const char policy[] =
		"version: 1\n"
		"classes:\n"
		"  - { name: web, match: { proto: tcp, dport: 80 } }\n"
		"  - { name: login, match: { proto: tcp, payload: '^POST /login' } }\n"
		"  - { name: dns, match: { proto: udp, dport: 53 } }\n";
	static const struct {
		uint8_t proto;
		uint16_t dport;
		const char *pl;
		uint64_t scans;		/* after this packet */
		const char *want;
	} cases[] = {
		{ 6, 80, "POST /login", 0, "web" },	/* web comes first */
		{ 17, 53, "POST /login", 0, "dns" },	/* login is TCP only */
		{ 6, 81, "", 0, NULL },			/* nothing to scan */
		{ 6, 81, "POST /login", 1, "login" },
		{ 6, 81, "GET /", 2, NULL },
	};
	struct sl_ruleset *rs;
	struct sl_engine *e;
	uint8_t f[FRAME_MAX];

	test_eal_init();
	memset(&slots, 0, sizeof(slots));
	rs = build(policy, NULL);
	e = engine();
	for (uint32_t i = 0; i < N(cases); i++) {
		struct fspec s = { 4, cases[i].proto, false, "10.0.0.1",
				   cases[i].dport, (const uint8_t *)cases[i].pl,
				   (uint32_t)strlen(cases[i].pl) };
		uint32_t len = frame_make(&s, f);

		ck_assert_uint_eq(class_of(e, rs, f, len),
				  class_index(rs, cases[i].want));
		ck_assert_msg(e->st.payload_scanned == cases[i].scans,
			      "case %u: %" PRIu64 " scans, expected %" PRIu64, i,
			      e->st.payload_scanned, cases[i].scans);
	}
	sl_engine_free(e);
	sl_ruleset_free(rs);
	/* Without payload classes, no second classifier and no database. */
	rs = build("version: 1\nclasses:\n  - { name: a, match: { proto: tcp } }\n",
		   NULL);
	ck_assert_ptr_null(rs->cls_payload);
	ck_assert_ptr_null(rs->payload);
	sl_ruleset_free(rs);
}
END_TEST

/* ---- (3) Engine: payload + limit ------------------------------------------ */

/* One timed packet of a stream run through the engine. */
struct tpkt {
	uint64_t t;
	uint8_t group;		/* what the test counts it under */
	uint32_t len;
	uint8_t f[600];
};

static int tpkt_cmp(const void *a, const void *b)
{
	const struct tpkt *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

/*
 * Accepts packets sorted by time; runs them in bursts of equal times
 * and counts forwarded ones per group.
 */
static void run_timed(struct sl_engine *e, const struct sl_ruleset *rs,
		      struct tpkt *v, uint32_t n, uint64_t *fwd)
{
	for (uint32_t i = 0; i < n;) {
		struct sl_pkt p[SL_ENGINE_BURST_MAX];
		uint8_t verdict[SL_ENGINE_BURST_MAX];
		uint32_t k = 0;

		while (i + k < n && k < SL_ENGINE_BURST_MAX && v[i + k].t == v[i].t) {
			p[k] = (struct sl_pkt){ v[i + k].f, v[i + k].len, v[i + k].len };
			k++;
		}
		sl_engine_run(e, rs, p, (uint16_t)k, v[i].t, verdict);
		for (uint32_t j = 0; j < k; j++)
			fwd[v[i + j].group] += verdict[j] == SL_VERDICT_FORWARD;
		i += k;
	}
}

enum { G_POST_A, G_POST_B, G_GET, G_HELLO_EX, G_HELLO_OTHER, G__COUNT };

static const char *const group_names[G__COUNT] = {
	"POST /login from 10.1.1/24", "POST /login from 10.1.2/24", "GET",
	"ClientHello example.com", "ClientHello other.net",
};

#define LIMIT_POLICY \
	"version: 1\n" \
	"default: pass\n" \
	"classes:\n" \
	"  - name: login\n" \
	"    match: { proto: tcp, dport: 80, payload: '^POST /login\\b' }\n" \
	"    limit: { key: src/24, rate: 5pps, burst: 5 }\n" \
	"    exceed: drop\n" \
	"  - name: tls-example\n" \
	"    match: { proto: tcp, dport: 443, payload: '" SNI_EXAMPLE "' }\n" \
	"    limit: { key: none, rate: 20pps, burst: 20 }\n" \
	"    exceed: drop\n" \
	"  - name: web\n" \
	"    match: { proto: tcp, dport: [80, 443] }\n"

#define LIMIT_SECONDS	10
#define CLIENTS		50	/* 25 in each /24 */
#define HELLO_PPS	100

/*
 * 50 clients, 25 in each of two /24s, each send POST /login and GET at
 * 2 per second; ClientHellos for example.com and other.net at 100 per
 * second each; all for LIMIT_SECONDS. Returns the count in *n.
 */
static struct tpkt *limit_traffic(uint32_t *n)
{
	uint32_t per_client = 2 * LIMIT_SECONDS, k = 0;
	uint32_t total = CLIENTS * per_client * 2 + 2 * HELLO_PPS * LIMIT_SECONDS;
	struct tpkt *v = calloc(total, sizeof(*v));
	uint8_t hello_ex[512], hello_other[512];
	uint32_t lex = tls_hello("example.com", hello_ex);
	uint32_t lother = tls_hello("other.net", hello_other);
	static const char post[] = "POST /login HTTP/1.1\r\nHost: example.com\r\n\r\nuser=a&password=b";
	static const char get[] = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";

	ck_assert_ptr_nonnull(v);
	for (uint32_t c = 0; c < CLIENTS; c++) {
		char src[32];

		snprintf(src, sizeof(src), "10.1.%u.%u", 1 + c / 25, 1 + c % 25);
		for (uint32_t i = 0; i < per_client; i++) {
			/* Client c sends at c ms past each half second. */
			uint64_t t = (uint64_t)i * 500 * MS + c * MS;
			struct fspec sp = { 4, 6, false, src, 80,
					    (const uint8_t *)post, sizeof(post) - 1 };
			struct fspec sg = { 4, 6, false, src, 80,
					    (const uint8_t *)get, sizeof(get) - 1 };

			v[k].t = t;
			v[k].group = c < 25 ? G_POST_A : G_POST_B;
			v[k].len = frame_make(&sp, v[k].f);
			k++;
			v[k].t = t + 250 * MS;
			v[k].group = G_GET;
			v[k].len = frame_make(&sg, v[k].f);
			k++;
		}
	}
	for (uint32_t i = 0; i < HELLO_PPS * LIMIT_SECONDS; i++) {
		struct fspec se = { 4, 6, false, "10.2.0.1", 443, hello_ex, lex };
		struct fspec so = { 6, 6, false, "2001:db8::2", 443, hello_other, lother };

		v[k].t = (uint64_t)i * (NS / HELLO_PPS) + 3 * MS;
		v[k].group = G_HELLO_EX;
		v[k].len = frame_make(&se, v[k].f);
		k++;
		v[k].t = (uint64_t)i * (NS / HELLO_PPS) + 7 * MS;
		v[k].group = G_HELLO_OTHER;
		v[k].len = frame_make(&so, v[k].f);
		k++;
	}
	ck_assert_uint_eq(k, total);
	qsort(v, k, sizeof(*v), tpkt_cmp);
	*n = k;
	return v;
}

/*
 * What a token bucket of rate r/s and burst b lets through of packets
 * offered far above the rate from time 0 to last_ns: b, plus one per
 * 1/r seconds. A /24 sends 25 packets 1 ms apart every half second
 * (2.5 tokens' worth of time) and hellos come every 10 ms (a fifth of
 * a token), so no token is lost to a full bucket and none waits past
 * the last packet for long: the count is exact to one.
 */
static uint64_t bucket_allows(uint64_t rate, uint64_t burst, uint64_t last_ns)
{
	return burst + rate * last_ns / NS;
}

START_TEST(test_limit)
{
	uint64_t fwd[G__COUNT] = { 0 }, sent[G__COUNT] = { 0 }, last[G__COUNT] = { 0 };
	struct sl_ruleset *rs;
	struct sl_engine *e;
	struct tpkt *v;
	uint64_t allow;
	uint32_t n;

	test_eal_init();
	memset(&slots, 0, sizeof(slots));
	rs = build(LIMIT_POLICY, NULL);
	e = engine();
	v = limit_traffic(&n);
	for (uint32_t i = 0; i < n; i++) {
		sent[v[i].group]++;
		last[v[i].group] = v[i].t;
	}
	run_timed(e, rs, v, n, fwd);
	for (int g = 0; g < G__COUNT; g++)
		printf("limit: %-28s sent %5" PRIu64 ", forwarded %5" PRIu64 "\n",
		       group_names[g], sent[g], fwd[g]);
	for (int g = G_POST_A; g <= G_HELLO_EX; g++) {
		if (g == G_GET)
			continue;
		allow = g == G_HELLO_EX ? bucket_allows(20, 20, last[g]) :
			bucket_allows(5, 5, last[g]);
		ck_assert_msg(fwd[g] + 1 >= allow && fwd[g] <= allow + 1,
			      "%s: forwarded %" PRIu64 ", the limit allows %" PRIu64,
			      group_names[g], fwd[g], allow);
	}
	ck_assert_uint_eq(fwd[G_GET], sent[G_GET]);
	ck_assert_uint_eq(fwd[G_HELLO_OTHER], sent[G_HELLO_OTHER]);
	/* The counters agree: GETs and other hellos are web's. */
	ck_assert_uint_eq(sl_engine_class_counters(e, rs, 0)->packets[SL_OUT_PASSED],
			  fwd[G_POST_A] + fwd[G_POST_B]);
	ck_assert_uint_eq(sl_engine_class_counters(e, rs, 0)->packets[SL_OUT_DROPPED],
			  sent[G_POST_A] + sent[G_POST_B] - fwd[G_POST_A] - fwd[G_POST_B]);
	ck_assert_uint_eq(sl_engine_class_counters(e, rs, 1)->packets[SL_OUT_PASSED],
			  fwd[G_HELLO_EX]);
	ck_assert_uint_eq(sl_engine_class_counters(e, rs, 2)->packets[SL_OUT_PASSED],
			  sent[G_GET] + sent[G_HELLO_OTHER]);
	ck_assert_uint_eq(e->st.payload_errors, 0);
	free(v);
	sl_engine_free(e);
	sl_ruleset_free(rs);
}
END_TEST

/* ---- (3) Scratch: non-EAL threads, policy swaps ---------------------------- */

struct thread_run {
	struct sl_engine *e;
	const struct sl_ruleset *rs;
	uint8_t *f;
	uint32_t len;
	uint32_t cls;
};

static void *thread_main(void *arg)
{
	struct thread_run *t = arg;

	t->cls = class_of(t->e, t->rs, t->f, t->len);
	return NULL;
}

/* Runs one packet through e under rs from a new thread that is no lcore. */
static uint32_t class_of_thread(struct sl_engine *e, const struct sl_ruleset *rs,
				uint8_t *f, uint32_t len)
{
	struct thread_run t = { e, rs, f, len, UINT32_MAX - 1 };
	pthread_t th;

	ck_assert_int_eq(pthread_create(&th, NULL, thread_main, &t), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	return t.cls;
}

START_TEST(test_scratch)
{
	static const char small[] =
		"version: 1\n"
		"classes:\n"
		"  - { name: login, match: { proto: tcp, payload: '^POST /login\\b' } }\n"
		"  - { name: other, match: { proto: tcp } }\n";
	static const char post[] = "POST /login HTTP/1.1\r\n\r\n";
	static const char get[] = "GET /login HTTP/1.1\r\n\r\n";
	struct fspec sp = { 4, 6, false, "10.0.0.1", 80, (const uint8_t *)post,
			    sizeof(post) - 1 };
	struct fspec sg = { 4, 6, false, "10.0.0.1", 80, (const uint8_t *)get,
			    sizeof(get) - 1 };
	uint8_t fp[FRAME_MAX], fg[FRAME_MAX];
	uint32_t lp = frame_make(&sp, fp), lg = frame_make(&sg, fg);
	struct sl_ruleset *rs1, *rs2;
	struct sl_engine *e;
	size_t o, sz1, sz2;
	char *big;

	test_eal_init();
	memset(&slots, 0, sizeof(slots));
	rs1 = build(small, NULL);
	e = engine();
	ck_assert_uint_eq(class_of(e, rs1, fp, lp), 0);
	ck_assert_uint_eq(class_of_thread(e, rs1, fp, lp), 0);
	ck_assert_uint_eq(class_of_thread(e, rs1, fg, lg), 1);
	/* A much bigger database: its own scratch comes with it. */
	big = malloc(1 << 16);
	ck_assert_ptr_nonnull(big);
	o = (size_t)snprintf(big, 1 << 16, "version: 1\nclasses:\n");
	for (uint32_t i = 0; i < 200; i++)
		o += (size_t)snprintf(big + o, (1 << 16) - o,
				      "  - { name: b%u, match: { proto: tcp, payload: '(?i)x%u[a-z]{2,%u}y.*z%u$' } }\n",
				      i, i, 3 + i % 20, i);
	snprintf(big + o, (1 << 16) - o, "%s", small + strlen("version: 1\nclasses:\n"));
	rs2 = build(big, rs1);
	free(big);
	sz1 = sl_payload_db_scratch_size(rs1->payload);
	sz2 = sl_payload_db_scratch_size(rs2->payload);
	printf("scratch: %zu bytes for 1 pattern, %zu for 201\n", sz1, sz2);
	ck_assert_uint_eq(class_of(e, rs2, fp, lp), 200);
	ck_assert_uint_eq(class_of_thread(e, rs2, fp, lp), 200);
	ck_assert_uint_eq(class_of_thread(e, rs2, fg, lg), 201);
	/* The old ruleset still works while a swap is in flight. */
	ck_assert_uint_eq(class_of(e, rs1, fp, lp), 0);
	ck_assert_uint_eq(e->st.payload_errors, 0);
	ck_assert_uint_eq(e->st.payload_scanned, 7);
	sl_ruleset_free(rs1);
	sl_ruleset_free(rs2);
	sl_engine_free(e);
}
END_TEST

/* A pattern that compiles alone always builds; a hand-made class without one does not. */
START_TEST(test_build_refuses)
{
	struct sl_policy *p = load("version: 1\nclasses:\n"
				   "  - { name: a, match: { proto: tcp, payload: x } }\n");
	struct sl_ruleset *rs;
	char err[256] = "";

	test_eal_init();
	memset(&slots, 0, sizeof(slots));
	free(p->classes[0].match.payload);
	p->classes[0].match.payload = NULL;
	rs = sl_ruleset_build(p, 1, NULL, &slots, SOCKET_ID_ANY, err, sizeof(err));
	ck_assert_ptr_null(rs);
	ck_assert_str_eq(err, "class a: payload field without a pattern");
	ck_assert_uint_eq(slots.n_used, 0);
	p = load("version: 1\nclasses:\n  - { name: a, match: { proto: tcp, payload: x } }\n");
	free(p->classes[0].match.payload);
	p->classes[0].match.payload = strdup("(x");
	rs = sl_ruleset_build(p, 1, NULL, &slots, SOCKET_ID_ANY, err, sizeof(err));
	ck_assert_ptr_null(rs);
	ck_assert_str_eq(err, "class a: payload: Missing close parenthesis for group started at index 0.");
}
END_TEST

/* ---- (4) sluicectl replay ---------------------------------------------- */

static const char *sluicectl_path(void)
{
	const char *env = getenv("SLUICECTL");

	if (env != NULL && *env != '\0')
		return env;
	if (access(SL_SLUICECTL, X_OK) == 0)
		return SL_SLUICECTL;
	return "build/control/sluicectl";
}

/* Runs `sluicectl -j replay --policy P IN` with stdout to out; exit status. */
static int replay_run(const char *policy, const char *in, const char *out)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (freopen(out, "w", stdout) == NULL)
			_exit(126);
		execl(sluicectl_path(), sluicectl_path(), "-j", "replay",
		      "--policy", policy, in, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static uint64_t class_packets(json_t *j, const char *cls, const char *outcome)
{
	json_t *classes = json_object_get(j, "classes"), *c;
	size_t i;

	json_array_foreach(classes, i, c) {
		if (strcmp(json_string_value(json_object_get(c, "name")), cls) == 0)
			return (uint64_t)json_integer_value(json_object_get(
				json_object_get(c, "packets"), outcome));
	}
	ck_abort_msg("no class %s in the replay report", cls);
	return 0;
}

START_TEST(test_replay)
{
	char dir[] = "/tmp/sl-payload-XXXXXX", policy[64], in[64], out[64];
	uint64_t fwd[G__COUNT] = { 0 }, sent[G__COUNT] = { 0 };
	const uint64_t t0 = 1700000000ULL * NS;
	pcap_t *dead;
	pcap_dumper_t *d;
	struct tpkt *v;
	json_error_t je;
	json_t *j;
	FILE *f;
	uint32_t n;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(policy, sizeof(policy), "%s/policy.yaml", dir);
	snprintf(in, sizeof(in), "%s/in.pcap", dir);
	snprintf(out, sizeof(out), "%s/out.json", dir);
	f = fopen(policy, "w");
	ck_assert_ptr_nonnull(f);
	fputs(LIMIT_POLICY, f);
	fclose(f);
	v = limit_traffic(&n);
	dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
						    PCAP_TSTAMP_PRECISION_NANO);
	d = pcap_dump_open(dead, in);
	ck_assert_ptr_nonnull(d);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t t = t0 + v[i].t;
		struct pcap_pkthdr h = {
			.ts = { .tv_sec = (time_t)(t / NS),
				.tv_usec = (suseconds_t)(t % NS) },
			.caplen = v[i].len, .len = v[i].len,
		};

		pcap_dump((u_char *)d, &h, v[i].f);
		sent[v[i].group]++;
	}
	pcap_dump_close(d);
	pcap_close(dead);
	ck_assert_int_eq(replay_run(policy, in, out), 0);
	j = json_load_file(out, 0, &je);
	ck_assert_msg(j != NULL, "replay output: %s", je.text);
	/* The engine in this process gives the same verdicts. */
	{
		struct sl_ruleset *rs;
		struct sl_engine *e;

		test_eal_init();
		memset(&slots, 0, sizeof(slots));
		rs = build(LIMIT_POLICY, NULL);
		e = engine();
		run_timed(e, rs, v, n, fwd);
		sl_engine_free(e);
		sl_ruleset_free(rs);
	}
	ck_assert_uint_eq(class_packets(j, "login", "passed"), fwd[G_POST_A] + fwd[G_POST_B]);
	ck_assert_uint_eq(class_packets(j, "login", "dropped"),
			  sent[G_POST_A] + sent[G_POST_B] - fwd[G_POST_A] - fwd[G_POST_B]);
	ck_assert_uint_eq(class_packets(j, "tls-example", "passed"), fwd[G_HELLO_EX]);
	ck_assert_uint_eq(class_packets(j, "tls-example", "dropped"),
			  sent[G_HELLO_EX] - fwd[G_HELLO_EX]);
	ck_assert_uint_eq(class_packets(j, "web", "passed"),
			  sent[G_GET] + sent[G_HELLO_OTHER]);
	ck_assert_uint_lt(fwd[G_POST_A], sent[G_POST_A] / 2);
	printf("replay: login passed %" PRIu64 " of %" PRIu64 ", tls-example passed %" PRIu64 " of %" PRIu64 "\n",
	       class_packets(j, "login", "passed"), sent[G_POST_A] + sent[G_POST_B],
	       class_packets(j, "tls-example", "passed"), sent[G_HELLO_EX]);
	json_decref(j);
	free(v);
	unlink(policy);
	unlink(in);
	unlink(out);
	rmdir(dir);
}
END_TEST

static Suite *payload_suite(void)
{
	Suite *s = suite_create("payload");
	TCase *tc;

	tc = tcase_create("hyperscan");
	tcase_add_test(tc, test_hs_vs_pcre);
	tcase_add_test(tc, test_scan_api);
	suite_add_tcase(s, tc);

	tc = tcase_create("loader");
	tcase_add_loop_test(tc, test_refuse, 0, N(refuse_cases));
	tcase_add_test(tc, test_accept);
	suite_add_tcase(s, tc);

	tc = tcase_create("engine");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_fall_through, 0, N(fall_cases));
	tcase_add_test(tc, test_chain);
	tcase_add_test(tc, test_random);
	tcase_add_test(tc, test_scan_only_when_needed);
	tcase_add_test(tc, test_limit);
	tcase_add_test(tc, test_scratch);
	tcase_add_test(tc, test_build_refuses);
	tcase_add_test(tc, test_replay);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(payload_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
