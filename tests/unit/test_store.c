/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy store tests: texts round-trip byte for byte through a reopen,
 * versions only go up (across reopens, rollbacks and lost files),
 * history is pruned to keep, the rollback target skips re-applies (even
 * of a different text with the same checksum), damaged and missing
 * files are recovered from history, leftover temporaries are ignored,
 * a second user of the directory is refused, and a writer SIGKILLed at
 * random moments never leaves a torn or out-of-order store.
 *
 * Each test works in a fresh directory under $TMPDIR (default /tmp, so
 * a real file system, not the build's). The crash test names its seed;
 * SL_TEST_SEED=N repeats a run, SL_TEST_KILLS=N changes the count.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "store.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define ERRLEN 512

/* What the store logged, one "PRIO msg" line each. */
struct logbuf {
	char text[16384];
	size_t len;
	unsigned int warnings;	/* LOG_WARNING or worse */
	unsigned int notices;
};

static void log_cb(void *arg, int prio, const char *msg)
{
	struct logbuf *l = arg;
	int n;

	if (prio <= LOG_WARNING)
		l->warnings++;
	else
		l->notices++;
	n = snprintf(l->text + l->len, sizeof(l->text) - l->len, "%d %s\n",
		     prio, msg);
	if (n > 0)
		l->len += (size_t)n < sizeof(l->text) - l->len ?
			  (size_t)n : sizeof(l->text) - l->len - 1;
	if (getenv("SL_TEST_VERBOSE"))
		fprintf(stderr, "store log: %d %s\n", prio, msg);
}

static char dir[256];

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

/* A fresh, empty store directory (not created: open creates it). */
static void setup(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char base[200];

	umask(022);
	snprintf(base, sizeof(base), "%s/sl-store-XXXXXX", tmp);
	ck_assert_ptr_nonnull(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/lib", base);
}

static void teardown(void)
{
	char *slash = strrchr(dir, '/');

	*slash = '\0';
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Accepts a file name under dir; returns its path (static buffer). */
static const char *path(const char *fmt, ...)
{
	static char buf[2][512];
	static int which;
	char name[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	which ^= 1;
	snprintf(buf[which], sizeof(buf[which]), "%s/%s", dir, name);
	return buf[which];
}

static bool exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

static struct sl_store *open_ok(unsigned int keep, struct logbuf *l)
{
	char err[ERRLEN] = "";
	struct sl_store *s;

	if (l)
		memset(l, 0, sizeof(*l));
	s = sl_store_open(dir, keep, l ? log_cb : NULL, l, err, sizeof(err));
	ck_assert_msg(s != NULL, "open %s: %s", dir, err);
	return s;
}

static uint64_t commit(struct sl_store *s, const char *text)
{
	char err[ERRLEN] = "";
	uint64_t v = 0;
	int rc;

	rc = sl_store_commit(s, text, strlen(text), "t.yaml", 1000, &v, err,
			     sizeof(err));
	ck_assert_msg(rc == 0, "commit: %d %s", rc, err);
	return v;
}

static void assert_current(struct sl_store *s, uint64_t v, const char *text,
			   size_t len)
{
	struct sl_store_meta m;
	const char *t;
	size_t l;

	t = sl_store_current(s, &l, &m);
	ck_assert_uint_eq(sl_store_version(s), v);
	ck_assert_uint_eq(m.version, v);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(l, len);
	ck_assert_uint_eq(m.len, len);
	ck_assert_msg(memcmp(t, text, len) == 0, "current text differs");
	ck_assert_int_eq(t[len], '\0');
	ck_assert_uint_eq(m.crc32, (uint32_t)crc32_z(0, (const Bytef *)text, len));
}

static char *slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "%s: %s", p, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void spit(const char *p, const char *buf, size_t len)
{
	FILE *f = fopen(p, "wb");

	ck_assert_msg(f != NULL, "%s: %s", p, strerror(errno));
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* ------------------------------------------------------------------ */

#define T(s) s, sizeof(s) - 1

/* crc: the standard CRC-32 of the text where it is well known, or 1. */
static const struct {
	const char *what;
	const char *text;
	size_t len;
	uint32_t crc;
} texts[] = {
	{ "empty", T(""), 0 },
	{ "check string", T("123456789"), 0xcbf43926 },
	{ "policy", T("version: 1\nclasses: []\ndefault: pass\n"), 1 },
	{ "no final newline", T("version: 1\ndefault: drop"), 1 },
	{ "NUL and CR bytes", T("a\0b\r\n\0"), 1 },
	{ "a header inside", T("# sluice-store 1 {\"version\":99}\nx: 1\n"), 1 },
	{ "UTF-8", T("# caf\xc3\xa9 \xe2\x82\xac\nversion: 1\n"), 1 },
};

/* Commit, read back, reopen, read back, and look at the file itself. */
START_TEST(test_round_trip)
{
	const char *text = texts[_i].text;
	size_t len = texts[_i].len, flen;
	struct sl_store_meta m;
	struct sl_store *s;
	struct logbuf l;
	char *file, *nl;
	uint64_t v;
	int rc;

	s = open_ok(0, &l);
	ck_assert_uint_eq(sl_store_version(s), 0);
	ck_assert_ptr_null(sl_store_current(s, NULL, &m));
	ck_assert_uint_eq(m.version, 0);
	ck_assert_uint_eq(sl_store_history(s, &m, 1), 0);
	rc = sl_store_commit(s, text, len, "edge.yaml", 4242, &v, NULL, 0);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(v, 1);
	assert_current(s, 1, text, len);
	sl_store_close(s);

	s = open_ok(0, &l);
	ck_assert_uint_eq(l.warnings + l.notices, 0);
	assert_current(s, 1, text, len);
	sl_store_current(s, NULL, &m);
	ck_assert_str_eq(m.source, "edge.yaml");
	ck_assert_uint_eq(m.uid, 4242);
	ck_assert_uint_le(m.time, (uint64_t)time(NULL));
	ck_assert_uint_ge(m.time, (uint64_t)time(NULL) - 60);
	if (texts[_i].crc != 1)	/* the standard CRC-32, not any crc32 */
		ck_assert_uint_eq(m.crc32, texts[_i].crc);
	sl_store_close(s);

	/* One header line, then the text exactly. */
	file = slurp(path("policy.yaml"), &flen);
	nl = memchr(file, '\n', flen);
	ck_assert_ptr_nonnull(nl);
	ck_assert_msg(strncmp(file, "# sluice-store 1 {\"version\":1,", 30) == 0,
		      "header: %.*s", (int)(nl - file), file);
	ck_assert_uint_eq(flen - (size_t)(nl + 1 - file), len);
	ck_assert(memcmp(nl + 1, text, len) == 0);
	free(file);
	ck_assert(exists(path("history/000001.yaml")));
	ck_assert(exists(path("lock")));
}
END_TEST

/* The directory is made 0750, history/ inside it; a missing parent is an error. */
START_TEST(test_creates_dir)
{
	char err[ERRLEN] = "", sub[600];
	struct sl_store *s;
	struct stat st;

	s = open_ok(0, NULL);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0750);
	ck_assert_int_eq(stat(path("history"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	sl_store_close(s);

	snprintf(sub, sizeof(sub), "%s/no/such", dir);
	ck_assert_ptr_null(sl_store_open(sub, 0, NULL, NULL, err, sizeof(err)));
	ck_assert_msg(strstr(err, "/no/such: cannot create: No such file") != NULL,
		      "%s", err);
}
END_TEST

/* Numbers go up by one per commit, and never repeat after a reopen. */
START_TEST(test_versions_monotonic)
{
	struct sl_store_meta h[8];
	struct sl_store *s;
	char text[32];

	s = open_ok(3, NULL);
	for (int i = 1; i <= 5; i++) {
		snprintf(text, sizeof(text), "v: %d\n", i);
		ck_assert_uint_eq(commit(s, text), (uint64_t)i);
	}
	sl_store_close(s);

	for (int round = 0; round < 3; round++) {
		s = open_ok(3, NULL);
		ck_assert_uint_eq(sl_store_version(s), 5 + round);
		ck_assert_uint_eq(commit(s, "v: 1\n"), 6 + round);
		sl_store_close(s);
	}
	/* An old text committed again is a new version. */
	s = open_ok(3, NULL);
	ck_assert_uint_eq(sl_store_history(s, h, N(h)), 3);
	ck_assert_uint_eq(h[0].version, 8);
	ck_assert_uint_eq(h[2].version, 6);
	sl_store_close(s);
}
END_TEST

/* Numbers stay above anything seen, even files that are lost or damaged. */
START_TEST(test_versions_never_reused)
{
	struct sl_store *s;
	struct logbuf l;

	s = open_ok(0, NULL);
	commit(s, "a: 1\n");
	commit(s, "a: 2\n");
	commit(s, "a: 3\n");
	sl_store_close(s);

	/* Current gone and its history copy damaged: version 2 is
	 * recovered, and 3 is not handed out again. */
	ck_assert_int_eq(unlink(path("policy.yaml")), 0);
	spit(path("history/000003.yaml"), "garbage", 7);
	s = open_ok(0, &l);
	assert_current(s, 2, "a: 2\n", 5);
	ck_assert_msg(strstr(l.text, "000003.yaml: no \"# sluice-store 1\" header line; kept as 000003.yaml.bad"),
		      "%s", l.text);
	ck_assert_msg(strstr(l.text, "policy.yaml: missing; recovered version 2"), "%s", l.text);
	ck_assert_uint_eq(commit(s, "a: 4\n"), 4);
	sl_store_close(s);
}
END_TEST

static const struct {
	unsigned int keep;
	unsigned int commits;
} prune_cases[] = {
	{ 1, 5 }, { 2, 2 }, { 4, 10 }, { 16, 40 }, { 16, 3 },
};

static unsigned int count_history_files(void)
{
	struct dirent *de;
	unsigned int n = 0;
	DIR *d = opendir(path("history"));

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* History holds the last keep versions, on disk and in the listing. */
START_TEST(test_history_pruning)
{
	unsigned int keep = prune_cases[_i].keep, n = prune_cases[_i].commits;
	unsigned int want = n < keep ? n : keep;
	char text[32], err[ERRLEN], *t;
	struct sl_store_meta h[64];
	struct sl_store *s;
	size_t len;

	s = open_ok(keep, NULL);
	for (unsigned int i = 1; i <= n; i++) {
		snprintf(text, sizeof(text), "n: %u\n", i);
		commit(s, text);
	}
	for (int reopen = 0; reopen < 2; reopen++) {
		ck_assert_uint_eq(sl_store_history(s, h, N(h)), want);
		ck_assert_uint_eq(count_history_files(), want);
		for (unsigned int i = 0; i < want; i++) {
			ck_assert_uint_eq(h[i].version, n - i);
			ck_assert_int_eq(sl_store_get(s, n - i, &t, &len, NULL,
						       err, sizeof(err)), 0);
			snprintf(text, sizeof(text), "n: %u\n", n - i);
			ck_assert_str_eq(t, text);
			free(t);
		}
		if (n > keep) {
			ck_assert_int_eq(sl_store_get(s, n - keep, &t, &len,
						      NULL, err, sizeof(err)), -ENOENT);
			ck_assert_msg(strstr(err, "not in history") != NULL, "%s", err);
		}
		sl_store_close(s);
		s = open_ok(keep, NULL);
	}
	/* A smaller keep at open prunes at once. */
	sl_store_close(s);
	s = open_ok(1, NULL);
	ck_assert_uint_eq(sl_store_history(s, h, N(h)), 1);
	ck_assert_uint_eq(count_history_files(), 1);
	ck_assert_uint_eq(h[0].version, n);
	sl_store_close(s);
}
END_TEST

/*
 * Rollback targets. Each letter is a commit of that text; '=' commits a
 * text that differs from 'A' but has its length and crc32. want: the
 * version sl_store_previous() names, 0 for -ENOENT.
 */
static const struct {
	const char *commits;
	unsigned int keep;
	uint64_t want;
} rollback_cases[] = {
	{ "A", 16, 0 },
	{ "AB", 16, 1 },
	{ "ABA", 16, 2 },	/* rolled back: rollback again returns to B */
	{ "ABAB", 16, 3 },
	{ "AA", 16, 0 },	/* re-applied: nothing differs */
	{ "ABB", 16, 1 },
	{ "ABBB", 16, 1 },
	{ "ABC", 16, 2 },
	{ "ABB", 2, 0 },	/* A pruned */
	{ "ABBB", 3, 0 },
	{ "A=", 16, 1 },	/* same checksum, different text */
	{ "=A", 16, 1 },
	{ "A=A", 16, 2 },
};

/*
 * Accepts n >= 5 bytes; writes to b a different text with the same
 * length and crc32. CRC is affine, so the crc change of a set of bit
 * flips is the XOR of the single flips' changes; among 40 flips some
 * set's changes cancel (Gaussian elimination over GF(2)).
 */
static void crc_twin(const char *a, char *b, size_t n)
{
	uint32_t base = (uint32_t)crc32_z(0, (const Bytef *)a, n), vec[40];
	uint64_t combo[40], found = 0;
	int piv[32];

	memset(piv, -1, sizeof(piv));
	memcpy(b, a, n);
	for (int i = 0; i < 40 && !found; i++) {
		b[i / 8] ^= (char)(1 << (i % 8));
		vec[i] = (uint32_t)crc32_z(0, (const Bytef *)b, n) ^ base;
		b[i / 8] ^= (char)(1 << (i % 8));
		combo[i] = 1ULL << i;
		while (vec[i]) {
			int bit = 31 - __builtin_clz(vec[i]);

			if (piv[bit] < 0) {
				piv[bit] = i;
				break;
			}
			vec[i] ^= vec[piv[bit]];
			combo[i] ^= combo[piv[bit]];
		}
		if (!vec[i])
			found = combo[i];
	}
	ck_assert(found);
	for (int i = 0; i < 40; i++)
		if (found & (1ULL << i))
			b[i / 8] ^= (char)(1 << (i % 8));
}

START_TEST(test_rollback_target)
{
	const char *c = rollback_cases[_i].commits;
	char a[] = "version: 1\ndefault: pass\n", twin[sizeof(a)];
	struct sl_store *s;
	uint64_t v = 99;
	int rc;

	crc_twin(a, twin, sizeof(a) - 1);
	ck_assert(memcmp(a, twin, sizeof(a) - 1) != 0);
	ck_assert_uint_eq(crc32_z(0, (const Bytef *)a, sizeof(a) - 1),
			  crc32_z(0, (const Bytef *)twin, sizeof(a) - 1));

	s = open_ok(rollback_cases[_i].keep, NULL);
	ck_assert_int_eq(sl_store_previous(s, &v), -ENOENT);
	for (; *c; c++) {
		const char *t = *c == 'A' ? a : *c == '=' ? twin :
				*c == 'B' ? "version: 1\ndefault: drop\n" :
				"version: 1\n";

		ck_assert_int_eq(sl_store_commit(s, t, sizeof(a) - 1 -
			(*c == 'C' ? 14 : 0), "r", 0, NULL, NULL, 0), 0);
	}
	rc = sl_store_previous(s, &v);
	if (rollback_cases[_i].want) {
		ck_assert_msg(rc == 0, "%s: %d", rollback_cases[_i].commits, rc);
		ck_assert_uint_eq(v, rollback_cases[_i].want);
	} else {
		ck_assert_msg(rc == -ENOENT, "%s: %d, version %" PRIu64,
			      rollback_cases[_i].commits, rc, v);
	}
	sl_store_close(s);
}
END_TEST

/* Damage done to policy.yaml after versions 1 (A) and 2 (B). */
enum damage {
	FLIP_TEXT, TRUNCATE, APPEND, BAD_HEADER, BAD_JSON, EMPTY, REMOVE,
	DIRECTORY, SWAP_VERSION,
};

static const struct {
	const char *what;
	enum damage damage;
	const char *why;	/* in the log line */
} damage_cases[] = {
	{ "a text byte flipped", FLIP_TEXT, "checksum mismatch" },
	{ "last byte cut", TRUNCATE, "torn or truncated" },
	{ "a byte appended", APPEND, "torn or truncated" },
	{ "header overwritten", BAD_HEADER, "header line" },
	{ "header JSON broken", BAD_JSON, "header is not JSON" },
	{ "empty", EMPTY, "header line" },
	{ "removed", REMOVE, "missing" },
	{ "a directory", DIRECTORY, "not a regular file" },
	{ "another version's file", SWAP_VERSION, NULL },
};

static void damage(enum damage d)
{
	const char *p = path("policy.yaml");
	size_t len;
	char *f = slurp(p, &len), *brace;

	switch (d) {
	case FLIP_TEXT:
		f[len - 2] ^= 1;
		spit(p, f, len);
		break;
	case TRUNCATE:
		spit(p, f, len - 1);
		break;
	case APPEND:
		f[len] = '\n';
		spit(p, f, len + 1);
		break;
	case BAD_HEADER:
		f[2] = 'S';
		spit(p, f, len);
		break;
	case BAD_JSON:
		brace = strchr(f, '{');
		*brace = '[';
		spit(p, f, len);
		break;
	case EMPTY:
		spit(p, "", 0);
		break;
	case REMOVE:
		ck_assert_int_eq(unlink(p), 0);
		break;
	case DIRECTORY:
		ck_assert_int_eq(unlink(p), 0);
		ck_assert_int_eq(mkdir(p, 0700), 0);
		break;
	case SWAP_VERSION:
		/* Intact, but an old one: nothing to detect, and it is current. */
		free(f);
		f = slurp(path("history/000001.yaml"), &len);
		spit(p, f, len);
		break;
	}
	free(f);
}

/* A damaged or missing policy.yaml: the newest intact history entry wins. */
START_TEST(test_recover_current)
{
	const char *why = damage_cases[_i].why;
	struct sl_store *s;
	struct logbuf l;
	char want[300];

	s = open_ok(0, NULL);
	commit(s, "version: 1\n# A\n");
	commit(s, "version: 1\n# B\n");
	sl_store_close(s);
	damage(damage_cases[_i].damage);

	s = open_ok(0, &l);
	if (!why) {
		assert_current(s, 1, "version: 1\n# A\n", 15);
		ck_assert_uint_eq(l.warnings, 0);
		ck_assert_uint_eq(commit(s, "x: 1\n"), 3);
		sl_store_close(s);
		return;
	}
	assert_current(s, 2, "version: 1\n# B\n", 15);
	ck_assert_uint_eq(l.warnings, damage_cases[_i].damage == REMOVE ? 1 : 2);
	ck_assert_msg(strstr(l.text, why) != NULL, "want '%s' in:\n%s", why, l.text);
	snprintf(want, sizeof(want), "%s/policy.yaml: ", dir);
	ck_assert_msg(strstr(l.text, want) != NULL, "%s", l.text);
	ck_assert_msg(strstr(l.text, "recovered version 2 (from \"t.yaml\", uid 1000) from history/000002.yaml"),
		      "%s", l.text);
	ck_assert(exists(path("policy.yaml.bad")) ==
		  (damage_cases[_i].damage != REMOVE));
	sl_store_close(s);

	/* policy.yaml was rewritten: the next open has nothing to say. */
	s = open_ok(0, &l);
	ck_assert_msg(l.warnings + l.notices == 0, "%s", l.text);
	assert_current(s, 2, "version: 1\n# B\n", 15);
	ck_assert_uint_eq(commit(s, "x: 1\n"), 3);
	sl_store_close(s);
}
END_TEST

/* Both copies of the newest version damaged: the one before it is current. */
START_TEST(test_recover_older)
{
	struct sl_store_meta h[4];
	struct sl_store *s;
	struct logbuf l;

	s = open_ok(0, NULL);
	commit(s, "version: 1\n# A\n");
	commit(s, "version: 1\n# B\n");
	sl_store_close(s);
	damage(FLIP_TEXT);
	spit(path("history/000002.yaml"), "# sluice-store 1 {}\n", 20);

	s = open_ok(0, &l);
	assert_current(s, 1, "version: 1\n# A\n", 15);
	ck_assert_msg(strstr(l.text, "000002.yaml: header: ") != NULL, "%s", l.text);
	ck_assert(exists(path("history/000002.yaml.bad")));
	ck_assert_uint_eq(sl_store_history(s, h, N(h)), 1);
	ck_assert_uint_eq(h[0].version, 1);
	ck_assert_uint_eq(commit(s, "x: 1\n"), 3);
	sl_store_close(s);
}
END_TEST

/* No intact copy left: open refuses rather than start without the policy. */
START_TEST(test_recover_impossible)
{
	char err[ERRLEN] = "";
	struct sl_store *s;

	s = open_ok(1, NULL);
	commit(s, "version: 1\n# A\n");
	sl_store_close(s);
	damage(TRUNCATE);
	spit(path("history/000001.yaml"), "x", 1);

	s = sl_store_open(dir, 1, NULL, NULL, err, sizeof(err));
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, "/policy.yaml: 14 bytes of text where the header says 15 (torn or truncated), and no intact copy is left in ") != NULL,
		      "%s", err);
	/* Nothing was moved: the operator sees the files as they were. */
	ck_assert(exists(path("policy.yaml")));
	ck_assert(!exists(path("policy.yaml.bad")));
}
END_TEST

/*
 * Temporaries of an interrupted write are removed and never read, even
 * a complete one (a crash just before its rename): the commit never
 * happened.
 */
START_TEST(test_leftover_tmp)
{
	struct sl_store *s;
	struct logbuf l;
	size_t len;
	char *v2;

	s = open_ok(0, NULL);
	commit(s, "version: 1\n# A\n");
	commit(s, "version: 1\n# B\n");
	sl_store_close(s);
	/* A complete version 2 file posing as an uncommitted version 3. */
	v2 = slurp(path("policy.yaml"), &len);
	spit(path("policy.yaml.tmp"), v2, len);
	spit(path("history/000003.yaml.tmp"), v2, len / 2);
	free(v2);
	spit(path("policy.yaml"), "", 0);
	ck_assert_int_eq(rename(path("history/000002.yaml"), path("policy.yaml")), 0);

	s = open_ok(0, &l);
	assert_current(s, 2, "version: 1\n# B\n", 15);
	ck_assert(!exists(path("policy.yaml.tmp")));
	ck_assert(!exists(path("history/000003.yaml.tmp")));
	ck_assert_msg(strstr(l.text, "/policy.yaml.tmp: removed, left by an interrupted write") != NULL,
		      "%s", l.text);
	ck_assert_msg(strstr(l.text, "/history/000003.yaml.tmp: removed") != NULL, "%s", l.text);
	/* The history copy was missing (moved above): put back from current. */
	ck_assert_msg(strstr(l.text, "000002.yaml: missing, copied from policy.yaml") != NULL,
		      "%s", l.text);
	ck_assert(exists(path("history/000002.yaml")));
	ck_assert_uint_eq(l.warnings, 0);
	ck_assert_uint_eq(commit(s, "x: 1\n"), 3);
	sl_store_close(s);
}
END_TEST

/* One process per directory: a second open fails and names the holder. */
START_TEST(test_locked)
{
	char err[ERRLEN] = "", want[128];
	struct sl_store *s, *s2;
	int sync[2];
	pid_t pid;
	char c;

	s = open_ok(0, NULL);
	snprintf(want, sizeof(want), "in use by another process (pid %d); is another sluiced running?",
		 (int)getpid());
	s2 = sl_store_open(dir, 0, NULL, NULL, err, sizeof(err));
	ck_assert_ptr_null(s2);
	ck_assert_msg(strstr(err, dir) == err && strstr(err, want), "%s", err);
	sl_store_close(s);

	/* Held by another process, released when it dies. */
	ck_assert_int_eq(pipe(sync), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		s = sl_store_open(dir, 0, NULL, NULL, NULL, 0);
		if (write(sync[1], s ? "y" : "n", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(sync[0], &c, 1), 1);
	ck_assert_int_eq(c, 'y');
	snprintf(want, sizeof(want), "(pid %d)", (int)pid);
	ck_assert_ptr_null(sl_store_open(dir, 0, NULL, NULL, err, sizeof(err)));
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(sync[0]);
	close(sync[1]);
	sl_store_close(open_ok(0, NULL));
}
END_TEST

/* Refused commits change nothing, on disk or in numbering. */
START_TEST(test_commit_refused)
{
	static const char bad_utf8[] = "caf\xc3(";
	char err[ERRLEN], long_src[SL_STORE_SOURCE_MAX + 1];
	struct sl_store *s;
	uint64_t v = 0;
	size_t flen;
	char *before, *after;

	memset(long_src, 'x', sizeof(long_src) - 1);
	long_src[sizeof(long_src) - 1] = '\0';
	s = open_ok(0, NULL);
	commit(s, "version: 1\n");
	before = slurp(path("policy.yaml"), &flen);

	ck_assert_int_eq(sl_store_commit(s, "x", 1, long_src, 0, &v, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "source name: 256 bytes, at most 255") != NULL, "%s", err);
	long_src[SL_STORE_SOURCE_MAX - 1] = '\0';
	ck_assert_int_eq(sl_store_commit(s, "x", 1, long_src, 0, &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v, 2);
	ck_assert_int_eq(sl_store_commit(s, "x", 1, bad_utf8, 0, &v, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "source name: not UTF-8");
	ck_assert_int_eq(sl_store_commit(s, "x", 1, "a\nb", 0, &v, err, sizeof(err)), -EINVAL);
	/* Length is checked before the text is read. */
	ck_assert_int_eq(sl_store_commit(s, "x", SL_STORE_TEXT_MAX + 1, "s", 0, &v, err, sizeof(err)), -E2BIG);
	ck_assert_msg(strstr(err, "more than the 16777216 a store keeps") != NULL, "%s", err);

	/* The temporary cannot be created: commit fails, nothing changes. */
	ck_assert_int_eq(mkdir(path("policy.yaml.tmp"), 0700), 0);
	ck_assert_int_eq(sl_store_commit(s, "y", 1, "s", 0, &v, err, sizeof(err)), -EISDIR);
	ck_assert_msg(strstr(err, "/policy.yaml: Is a directory") != NULL, "%s", err);
	ck_assert_uint_eq(v, 2);
	assert_current(s, 2, "x", 1);
	ck_assert_int_eq(rmdir(path("policy.yaml.tmp")), 0);
	ck_assert_uint_eq(commit(s, "y"), 3);	/* no gap */
	sl_store_close(s);

	s = open_ok(0, NULL);
	assert_current(s, 3, "y", 1);
	sl_store_close(s);
	after = slurp(path("history/000001.yaml"), &flen);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

/* The history copy fails after the commit point: logged, repaired at open. */
START_TEST(test_history_copy_fails)
{
	struct sl_store_meta h[4];
	struct sl_store *s;
	struct logbuf l;

	s = open_ok(0, &l);
	commit(s, "version: 1\n");
	ck_assert_int_eq(mkdir(path("history/000002.yaml.tmp"), 0700), 0);
	ck_assert_uint_eq(commit(s, "version: 1\n# 2\n"), 2);
	ck_assert_msg(strstr(l.text, "000002.yaml: cannot write the history copy: Is a directory") != NULL,
		      "%s", l.text);
	ck_assert_uint_eq(sl_store_history(s, h, N(h)), 1);
	sl_store_close(s);
	ck_assert_int_eq(rmdir(path("history/000002.yaml.tmp")), 0);

	s = open_ok(0, &l);
	assert_current(s, 2, "version: 1\n# 2\n", 15);
	ck_assert_uint_eq(sl_store_history(s, h, N(h)), 2);
	ck_assert_uint_eq(h[0].version, 2);
	ck_assert(exists(path("history/000002.yaml")));
	sl_store_close(s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* kill -9 in the middle of an apply */

/* splitmix64 */
static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : dflt;
}

/*
 * Version v's text, from v alone, so the parent knows what every
 * version must hold: up to 128 KiB, so writes take a while.
 */
static char *text_for(uint64_t v, size_t *len)
{
	uint64_t r = v * 0x2545f4914f6cdd1dULL;
	size_t n = (size_t)(mix(&r) % (128 << 10));
	char *t = malloc(n + 1);
	int head;

	head = snprintf(t, n + 1, "version: %" PRIu64 "\n", v);
	for (size_t i = (size_t)head < n ? (size_t)head : n; i < n; i++)
		t[i] = (char)(' ' + mix(&r) % 95);
	t[n] = '\0';
	*len = n;
	return t;
}

/*
 * The child: reports 0 once the store is open, then commits versions
 * forever, reporting each one that returned.
 */
static void __attribute__((noreturn)) writer(int report, unsigned int keep)
{
	char err[ERRLEN];
	struct sl_store *s;
	uint64_t v = 0, got;
	size_t len;
	char *t;

	s = sl_store_open(dir, keep, NULL, NULL, err, sizeof(err));
	if (!s || write(report, &v, sizeof(v)) != sizeof(v))
		_exit(2);
	for (;;) {
		v = sl_store_version(s) + 1;
		t = text_for(v, &len);
		if (sl_store_commit(s, t, len, "crash", 0, &got, err, sizeof(err)) < 0 ||
		    got != v)
			_exit(3);
		free(t);
		if (write(report, &v, sizeof(v)) != sizeof(v))
			_exit(4);
	}
}

/* Accepts the store after a kill; asserts it is whole. Returns its version. */
static uint64_t check_consistent(struct sl_store *s, unsigned int keep,
				 uint64_t last, uint64_t seed, int iter)
{
	struct sl_store_meta m, h[8];
	uint64_t v = sl_store_version(s);
	char err[ERRLEN], *t, *want;
	size_t len, wlen;
	unsigned int n;
	const char *cur;

	ck_assert_msg(v == last || v == last + 1,
		      "seed %" PRIu64 " kill %d: version %" PRIu64 " after %" PRIu64 " was reported",
		      seed, iter, v, last);
	if (!v)
		return 0;
	cur = sl_store_current(s, &len, &m);
	want = text_for(v, &wlen);
	ck_assert_msg(len == wlen && memcmp(cur, want, len) == 0,
		      "seed %" PRIu64 " kill %d: version %" PRIu64 " text is not its own",
		      seed, iter, v);
	ck_assert_uint_eq(m.crc32, (uint32_t)crc32_z(0, (const Bytef *)cur, len));
	free(want);
	n = sl_store_history(s, h, N(h));
	ck_assert_uint_eq(n, v < keep ? v : keep);
	for (unsigned int i = 0; i < n; i++) {
		ck_assert_uint_eq(h[i].version, v - i);
		ck_assert_int_eq(sl_store_get(s, h[i].version, &t, &len, NULL,
					      err, sizeof(err)), 0);
		want = text_for(h[i].version, &wlen);
		ck_assert_msg(len == wlen && memcmp(t, want, len) == 0,
			      "seed %" PRIu64 " kill %d: history %" PRIu64 " is not its own",
			      seed, iter, h[i].version);
		free(want);
		free(t);
	}
	return v;
}

START_TEST(test_kill9)
{
	uint64_t seed = env_u64("SL_TEST_SEED", (uint64_t)time(NULL));
	unsigned int kills = (unsigned int)env_u64("SL_TEST_KILLS", 200);
	unsigned int keep = 4, tmp_left = 0, hist_fixed = 0, ahead = 0;
	uint64_t rng = seed, last = 0, v, got, commits_seen = 0;
	struct timespec t0, t1;
	struct sl_store *s;
	struct logbuf l;
	long max_us;
	int status;

	/* Size the kill window from what a commit costs here. */
	s = open_ok(keep, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (v = 1; v <= 8; v++) {
		size_t len;
		char *t = text_for(v, &len);

		ck_assert_int_eq(sl_store_commit(s, t, len, "crash", 0, &got, NULL, 0), 0);
		free(t);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sl_store_close(s);
	last = 8;
	max_us = ((t1.tv_sec - t0.tv_sec) * 1000000L +
		  (t1.tv_nsec - t0.tv_nsec) / 1000) / 8 * 3 + 200;
	printf("kill9: seed %" PRIu64 " (SL_TEST_SEED=%" PRIu64 " repeats it), %u kills within %ld us\n",
	       seed, seed, kills, max_us);

	for (unsigned int i = 0; i < kills; i++) {
		int report[2];
		pid_t pid;

		ck_assert_int_eq(pipe(report), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			close(report[0]);
			writer(report[1], keep);
		}
		close(report[1]);
		/*
		 * Most kills are timed from when the writer has the store
		 * open, so they land in commits; one in eight from the fork,
		 * so some land in open's recovery.
		 */
		if (mix(&rng) % 8) {
			ck_assert_int_eq(read(report[0], &got, sizeof(got)), sizeof(got));
			ck_assert_uint_eq(got, 0);
		}
		usleep((useconds_t)(mix(&rng) % (uint64_t)max_us));
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
			      "seed %" PRIu64 " kill %u: the writer failed on its own (status %#x)",
			      seed, i, status);
		while (read(report[0], &got, sizeof(got)) == sizeof(got)) {
			if (!got)
				continue;	/* "open", not read above */
			ck_assert_uint_eq(got, last + 1);
			last = got;
			commits_seen++;
		}
		close(report[0]);

		s = open_ok(keep, &l);
		ck_assert_msg(l.warnings == 0, "seed %" PRIu64 " kill %u: %s", seed, i, l.text);
		tmp_left += strstr(l.text, "interrupted write") != NULL;
		hist_fixed += strstr(l.text, "copied from") != NULL;
		v = check_consistent(s, keep, last, seed, (int)i);
		ahead += v == last + 1;
		last = v;
		sl_store_close(s);
	}
	printf("kill9: %" PRIu64 " commits reported; after the kills: %u temporaries removed, %u history copies restored, %u commits done but not reported\n",
	       commits_seen, tmp_left, hist_fixed, ahead);
	/* The kills must land inside writes, or this test tests nothing. */
	ck_assert_msg(tmp_left > 0, "seed %" PRIu64 ": no kill interrupted a write", seed);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

	tc = tcase_create("basics");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_round_trip, 0, N(texts));
	tcase_add_test(tc, test_creates_dir);
	tcase_add_test(tc, test_versions_monotonic);
	tcase_add_test(tc, test_versions_never_reused);
	tcase_add_loop_test(tc, test_history_pruning, 0, N(prune_cases));
	tcase_add_loop_test(tc, test_rollback_target, 0, N(rollback_cases));
	tcase_add_test(tc, test_locked);
	tcase_add_test(tc, test_commit_refused);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("recovery");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_recover_current, 0, N(damage_cases));
	tcase_add_test(tc, test_recover_older);
	tcase_add_test(tc, test_recover_impossible);
	tcase_add_test(tc, test_leftover_tmp);
	tcase_add_test(tc, test_history_copy_fails);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("crash");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_kill9);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
