/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy store (see store.h for the layout and the guarantees).
 *
 * All file access goes through descriptors of the store directory and
 * of history/, so what is fsync()ed is exactly the directory that a
 * rename changed. The store holds the only lock, so fixed temporary
 * names ("NAME.tmp") cannot collide; any left at open time are from a
 * write that a crash interrupted and never became visible.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "store.h"

#define CUR_NAME	"policy.yaml"
#define BAD_SUFFIX	".bad"
#define TMP_SUFFIX	".tmp"
#define HIST_DIR	"history"
#define LOCK_NAME	"lock"
#define MAGIC		"# sluice-store 1 "
#define HDR_MAX		4096	/* the header line, newline included */
#define NAME_MAX_LEN	64	/* a history file name */
#define FILE_MODE	0640
#define DIR_MODE	0750

struct sl_store {
	char *dir;
	int dir_fd;
	int hist_fd;
	int lock_fd;
	unsigned int keep;
	uint64_t next_version;	/* above every version seen on disk */
	struct sl_store_meta cur;	/* cur.version 0: none */
	char *cur_text;
	struct sl_store_meta *hist;	/* newest first, at most keep + 1 */
	unsigned int n_hist;
	sl_store_log_fn *log;
	void *log_arg;
};

/* Accepts a printf format; hands one line to the log callback, if any. */
__attribute__((format(printf, 3, 4)))
static void say(const struct sl_store *s, int prio, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!s->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->log(s->log_arg, prio, msg);
}

/* Accepts a negative errno and a printf format; fills err, returns rc. */
__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Accepts a version; writes its history file name into buf. */
static void hist_name(char *buf, size_t size, uint64_t version)
{
	snprintf(buf, size, "%06" PRIu64 ".yaml", version);
}

/* Accepts a directory entry name; returns its version, 0 if not N.yaml. */
static uint64_t hist_version(const char *name)
{
	uint64_t v = 0;
	const char *p;

	for (p = name; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == name || strcmp(p, ".yaml") != 0)
		return 0;
	return v;
}

/* Accepts a descriptor; writes all of the iovecs. Returns 0 or -errno. */
static int write_all(int fd, const struct iovec *iov, int n)
{
	for (int i = 0; i < n; i++) {
		const char *p = iov[i].iov_base;
		size_t left = iov[i].iov_len;

		while (left) {
			ssize_t w = write(fd, p, left);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -errno;
			p += w;
			left -= (size_t)w;
		}
	}
	return 0;
}

/*
 * Accepts a directory descriptor, a file name in it and its contents.
 * Writes NAME.tmp, fsyncs it, renames it over NAME and fsyncs the
 * directory. Returns 0; or -errno, with *renamed saying whether NAME
 * had already been replaced (then only the directory fsync failed).
 */
static int write_atomic(int dfd, const char *name, const struct iovec *iov,
			int n, bool *renamed)
{
	char tmp[NAME_MAX_LEN + sizeof(TMP_SUFFIX)];
	int fd, rc;

	*renamed = false;
	snprintf(tmp, sizeof(tmp), "%s%s", name, TMP_SUFFIX);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    FILE_MODE);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, iov, n);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(dfd, tmp, dfd, name) < 0)
		rc = -errno;
	if (rc < 0) {
		unlinkat(dfd, tmp, 0);
		return rc;
	}
	*renamed = true;
	if (fsync(dfd) < 0)
		return -errno;
	return 0;
}

/* Accepts metadata; returns its malloc()ed header line, or NULL. */
static char *hdr_encode(const struct sl_store_meta *m, size_t *hlen)
{
	char crc[9], *json, *hdr;
	json_t *o;
	int n;

	snprintf(crc, sizeof(crc), "%08" PRIx32, m->crc32);
	o = json_pack("{s:I,s:s,s:I,s:s,s:I,s:I}",
		      "version", (json_int_t)m->version, "source", m->source,
		      "length", (json_int_t)m->len, "crc32", crc,
		      "time", (json_int_t)m->time, "uid", (json_int_t)m->uid);
	if (!o)
		return NULL;
	json = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!json)
		return NULL;
	n = asprintf(&hdr, "%s%s\n", MAGIC, json);
	free(json);
	if (n < 0)
		return NULL;
	*hlen = (size_t)n;
	return hdr;
}

/* Accepts a header's JSON; fills m. Returns 0 or -EBADMSG with why. */
static int hdr_decode(const char *json, size_t n, struct sl_store_meta *m,
		      char *why, size_t whylen)
{
	json_int_t version, length, t, uid;
	const char *source, *crc;
	json_error_t jerr;
	json_t *o;
	int rc = -EBADMSG;

	o = json_loadb(json, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return fail(why, whylen, -EBADMSG, "header is not JSON: %s",
			    jerr.text);
	if (json_unpack_ex(o, &jerr, 0, "{s:I,s:s,s:I,s:s,s:I,s:I}",
			   "version", &version, "source", &source,
			   "length", &length, "crc32", &crc,
			   "time", &t, "uid", &uid) < 0) {
		fail(why, whylen, rc, "header: %s", jerr.text);
		goto out_decref;
	}
	if (version < 1 || length < 0 || length > SL_STORE_TEXT_MAX || t < 0 ||
	    uid < 0 || uid > UINT32_MAX ||
	    strlen(source) >= SL_STORE_SOURCE_MAX || strlen(crc) != 8 ||
	    strspn(crc, "0123456789abcdef") != 8) {
		fail(why, whylen, rc, "header: a field is out of range");
		goto out_decref;
	}
	m->version = (uint64_t)version;
	m->crc32 = (uint32_t)strtoul(crc, NULL, 16);
	m->len = (size_t)length;
	m->time = (uint64_t)t;
	m->uid = (uint32_t)uid;
	snprintf(m->source, sizeof(m->source), "%s", source);
	rc = 0;
out_decref:
	json_decref(o);
	return rc;
}

/*
 * Accepts a whole generation file. Fills m and points *text into buf.
 * Returns 0, or -EBADMSG with why; m->version is set whenever the
 * header could be read, so a damaged file's number is still never reused.
 */
static int gen_parse(const char *buf, size_t size, struct sl_store_meta *m,
		     const char **text, char *why, size_t whylen)
{
	size_t mlen = strlen(MAGIC), hlen;
	const char *nl;
	int rc;

	nl = memchr(buf, '\n', size < HDR_MAX ? size : HDR_MAX);
	if (size < mlen || memcmp(buf, MAGIC, mlen) != 0 || !nl)
		return fail(why, whylen, -EBADMSG,
			    "no \"%.*s\" header line", (int)mlen - 1, MAGIC);
	rc = hdr_decode(buf + mlen, (size_t)(nl - buf) - mlen, m, why, whylen);
	if (rc < 0)
		return rc;
	hlen = (size_t)(nl - buf) + 1;
	if (size - hlen != m->len)
		return fail(why, whylen, -EBADMSG,
			    "%zu bytes of text where the header says %zu (torn or truncated)",
			    size - hlen, m->len);
	if ((uint32_t)crc32_z(0, (const Bytef *)nl + 1, m->len) != m->crc32)
		return fail(why, whylen, -EBADMSG,
			    "checksum mismatch: the text was changed or damaged");
	*text = nl + 1;
	return 0;
}

/* Accepts a descriptor; reads the whole file into a malloc()ed buffer. */
static int read_whole(int fd, char **buf, size_t *size)
{
	struct stat st;
	size_t got = 0;
	char *b;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADMSG;
	if ((uint64_t)st.st_size > SL_STORE_TEXT_MAX + HDR_MAX)
		return -EFBIG;
	b = malloc((size_t)st.st_size + 1);
	if (!b)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, b + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int rc = r < 0 ? -errno : -EBADMSG;

			free(b);
			return rc;
		}
		got += (size_t)r;
	}
	*buf = b;
	*size = got;
	return 0;
}

/*
 * Accepts a directory descriptor and a generation file name in it.
 * Reads and verifies it; *text is malloc()ed and NUL-terminated.
 * Returns 0, -ENOENT, -EBADMSG (damaged, m->version set if known) or
 * another -errno; why says what is wrong.
 */
static int gen_read(int dfd, const char *name, struct sl_store_meta *m,
		    char **text, char *why, size_t whylen)
{
	const char *t = NULL;
	char *buf = NULL;
	size_t size = 0;
	int fd, rc;

	memset(m, 0, sizeof(*m));
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return fail(why, whylen, -errno, "%s", strerror(errno));
	rc = read_whole(fd, &buf, &size);
	close(fd);
	if (rc == -EFBIG)
		return fail(why, whylen, -EBADMSG, "larger than any policy");
	if (rc < 0)
		return fail(why, whylen, rc, "%s", rc == -EBADMSG ?
			    "not a regular file, or shrank while read" :
			    strerror(-rc));
	rc = gen_parse(buf, size, m, &t, why, whylen);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	memmove(buf, t, m->len);
	buf[m->len] = '\0';
	*text = buf;
	return 0;
}

/* Accepts a generation; writes it as NAME in dfd. Returns 0 or -errno. */
static int gen_write(int dfd, const char *name, const struct sl_store_meta *m,
		     const char *text, bool *renamed)
{
	struct iovec iov[2];
	size_t hlen;
	char *hdr;
	int rc;

	*renamed = false;
	hdr = hdr_encode(m, &hlen);
	if (!hdr)
		return -ENOMEM;
	iov[0] = (struct iovec){ .iov_base = hdr, .iov_len = hlen };
	iov[1] = (struct iovec){ .iov_base = (void *)text, .iov_len = m->len };
	rc = write_atomic(dfd, name, iov, 2, renamed);
	free(hdr);
	return rc;
}

/* Accepts a version; returns its index in s->hist, or -1. */
static int hist_find(const struct sl_store *s, uint64_t version)
{
	for (unsigned int i = 0; i < s->n_hist; i++)
		if (s->hist[i].version == version)
			return (int)i;
	return -1;
}

/* Accepts metadata not yet in s->hist; inserts it in order (room: keep + 1). */
static void hist_insert(struct sl_store *s, const struct sl_store_meta *m)
{
	unsigned int i = 0;

	while (i < s->n_hist && s->hist[i].version > m->version)
		i++;
	memmove(&s->hist[i + 1], &s->hist[i],
		(s->n_hist - i) * sizeof(s->hist[0]));
	s->hist[i] = *m;
	s->n_hist++;
}

/* Accepts an open store; removes the oldest entries beyond keep. */
static void hist_prune(struct sl_store *s)
{
	char name[NAME_MAX_LEN];

	while (s->n_hist > s->keep) {
		const struct sl_store_meta *old = &s->hist[s->n_hist - 1];

		hist_name(name, sizeof(name), old->version);
		if (unlinkat(s->hist_fd, name, 0) < 0 && errno != ENOENT)
			say(s, LOG_WARNING, "%s/%s/%s: cannot prune: %s",
			    s->dir, HIST_DIR, name, strerror(errno));
		s->n_hist--;
	}
}

/*
 * Accepts a generation that is (now) current; writes its history copy
 * and prunes. Failures are logged: the commit already happened.
 */
static void hist_add(struct sl_store *s, const struct sl_store_meta *m,
		     const char *text)
{
	char name[NAME_MAX_LEN];
	bool renamed;
	int rc;

	if (hist_find(s, m->version) >= 0)
		return;
	hist_name(name, sizeof(name), m->version);
	rc = gen_write(s->hist_fd, name, m, text, &renamed);
	if (rc < 0 && !renamed) {
		say(s, LOG_WARNING, "%s/%s/%s: cannot write the history copy: %s",
		    s->dir, HIST_DIR, name, strerror(-rc));
		return;
	}
	if (rc < 0)
		say(s, LOG_WARNING, "%s/%s: fsync: %s", s->dir, HIST_DIR,
		    strerror(-rc));
	hist_insert(s, m);
	hist_prune(s);
}

/* Accepts a directory descriptor; removes the *.tmp files in it. */
static int sweep_tmp(struct sl_store *s, int dfd, const char *where)
{
	struct dirent *de;
	size_t n, sl = strlen(TMP_SUFFIX);
	int fd;
	DIR *d;

	fd = dup(dfd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	rewinddir(d);	/* the offset is shared with dfd: start over */
	while ((de = readdir(d))) {
		n = strlen(de->d_name);
		if (n <= sl || strcmp(de->d_name + n - sl, TMP_SUFFIX) != 0)
			continue;
		if (unlinkat(dfd, de->d_name, 0) == 0)
			say(s, LOG_NOTICE, "%s/%s: removed, left by an interrupted write",
			    where, de->d_name);
		else
			say(s, LOG_WARNING, "%s/%s: cannot remove: %s", where,
			    de->d_name, strerror(errno));
	}
	closedir(d);
	return 0;
}

/* Accepts a file name in dfd; renames it to NAME.bad, logging why. */
static void set_aside(struct sl_store *s, int dfd, const char *where,
		      const char *name, const char *why)
{
	char bad[NAME_MAX_LEN + sizeof(BAD_SUFFIX)];

	snprintf(bad, sizeof(bad), "%s%s", name, BAD_SUFFIX);
	if (renameat(dfd, name, dfd, bad) == 0) {
		fsync(dfd);
		say(s, LOG_WARNING, "%s/%s: %s; kept as %s", where, name, why, bad);
	} else {
		say(s, LOG_WARNING, "%s/%s: %s; cannot rename it to %s: %s",
		    where, name, why, bad, strerror(errno));
	}
}

/* Accepts a version seen on disk; keeps next_version above it. */
static void saw_version(struct sl_store *s, uint64_t v)
{
	if (v >= s->next_version)
		s->next_version = v + 1;
}

/*
 * Accepts a store with hist_fd open; loads and verifies every history
 * entry (newest keep + 1 kept in memory, the rest pruned below).
 */
static int scan_history(struct sl_store *s, char *err, size_t errlen)
{
	char where[PATH_MAX], why[256], *text;
	struct sl_store_meta m;
	struct dirent *de;
	unsigned int cap = 0, n = 0;
	struct sl_store_meta *all = NULL, *grown;
	uint64_t v;
	int fd, rc = 0;
	DIR *d;

	snprintf(where, sizeof(where), "%s/%s", s->dir, HIST_DIR);
	fd = dup(s->hist_fd);
	if (fd < 0 || !(d = fdopendir(fd))) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		return fail(err, errlen, rc, "%s: %s", where, strerror(-rc));
	}
	rewinddir(d);	/* the offset is shared with hist_fd: start over */
	while ((de = readdir(d))) {
		v = hist_version(de->d_name);
		if (!v)
			continue;
		saw_version(s, v);
		rc = gen_read(s->hist_fd, de->d_name, &m, &text, why, sizeof(why));
		if (rc == 0 && m.version != v) {
			free(text);
			snprintf(why, sizeof(why), "holds version %" PRIu64, m.version);
			rc = -EBADMSG;
		}
		saw_version(s, m.version);
		if (rc == -EBADMSG) {
			set_aside(s, s->hist_fd, where, de->d_name, why);
			continue;
		}
		if (rc < 0) {
			say(s, LOG_WARNING, "%s/%s: skipped: %s", where, de->d_name, why);
			continue;
		}
		free(text);
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			grown = realloc(all, cap * sizeof(*all));
			if (!grown) {
				rc = fail(err, errlen, -ENOMEM, "out of memory");
				goto out_free;
			}
			all = grown;
		}
		all[n++] = m;
	}
	rc = 0;
	/* Entries beyond keep (keep was lowered since) are pruned now. */
	for (unsigned int i = 0; i < n; i++) {
		hist_insert(s, &all[i]);
		hist_prune(s);
	}
out_free:
	free(all);
	closedir(d);
	return rc;
}


/*
 * Accepts a store with its history loaded and why policy.yaml cannot be
 * used (damaged: it exists and is kept as policy.yaml.bad). Makes the
 * newest intact history entry current again.
 */
static int recover_current(struct sl_store *s, const char *why, bool damaged,
			   char *err, size_t errlen)
{
	char name[NAME_MAX_LEN], hwhy[256], *text = NULL;
	struct sl_store_meta m;
	bool renamed;
	int rc;

	while (s->n_hist) {
		hist_name(name, sizeof(name), s->hist[0].version);
		rc = gen_read(s->hist_fd, name, &m, &text, hwhy, sizeof(hwhy));
		if (rc == 0)
			break;
		/* Verified a moment ago: damaged since, or unreadable now. */
		say(s, LOG_WARNING, "%s/%s/%s: %s", s->dir, HIST_DIR, name, hwhy);
		memmove(&s->hist[0], &s->hist[1],
			--s->n_hist * sizeof(s->hist[0]));
	}
	if (!s->n_hist)
		return fail(err, errlen, -EBADMSG,
			    "%s/%s: %s, and no intact copy is left in %s/%s/",
			    s->dir, CUR_NAME, why, s->dir, HIST_DIR);
	if (damaged)
		set_aside(s, s->dir_fd, s->dir, CUR_NAME, why);
	rc = gen_write(s->dir_fd, CUR_NAME, &m, text, &renamed);
	if (rc < 0 && !renamed) {
		free(text);
		return fail(err, errlen, rc, "%s/%s: cannot restore it: %s",
			    s->dir, CUR_NAME, strerror(-rc));
	}
	s->cur = m;
	s->cur_text = text;
	say(s, LOG_WARNING,
	    "%s/%s: %s; recovered version %" PRIu64 " (from \"%s\", uid %" PRIu32 ") from %s/%s",
	    s->dir, CUR_NAME, why, m.version, m.source, m.uid, HIST_DIR, name);
	return 0;
}

/* Accepts a store with its history loaded; loads or recovers policy.yaml. */
static int load_current(struct sl_store *s, char *err, size_t errlen)
{
	struct sl_store_meta m;
	char why[256], *text;
	int rc;

	rc = gen_read(s->dir_fd, CUR_NAME, &m, &text, why, sizeof(why));
	saw_version(s, m.version);
	if (rc == -ENOENT && !s->n_hist)
		return 0;	/* a new store */
	if (rc == -ENOENT)
		return recover_current(s, "missing", false, err, errlen);
	if (rc < 0)
		return recover_current(s, why, true, err, errlen);
	s->cur = m;
	s->cur_text = text;
	if (hist_find(s, m.version) < 0) {
		/* A crash between the commit and its history copy. */
		say(s, LOG_NOTICE, "%s/%s/%06" PRIu64 ".yaml: missing, copied from %s",
		    s->dir, HIST_DIR, m.version, CUR_NAME);
		hist_add(s, &m, text);
	}
	return 0;
}

/* Accepts a path just created; fsyncs its parent so the entry lasts. */
static void sync_parent(const char *path)
{
	char *copy = strdup(path), *slash;
	int fd;

	if (!copy)
		return;
	slash = strrchr(copy, '/');
	if (!slash)
		strcpy(copy, ".");
	else if (slash == copy)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

/* Accepts a store with dir_fd open; takes the lock or says who holds it. */
static int take_lock(struct sl_store *s, char *err, size_t errlen)
{
	char pid[24];
	ssize_t n;
	int len;

	s->lock_fd = openat(s->dir_fd, LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC,
			    FILE_MODE);
	if (s->lock_fd < 0)
		return fail(err, errlen, -errno, "%s/%s: %s", s->dir, LOCK_NAME,
			    strerror(errno));
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return fail(err, errlen, -errno, "%s/%s: flock: %s",
				    s->dir, LOCK_NAME, strerror(errno));
		n = pread(s->lock_fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strspn(pid, "0123456789")] = '\0';
		return fail(err, errlen, -EBUSY,
			    "%s: in use by another process (pid %s); is another sluiced running?",
			    s->dir, pid[0] ? pid : "unknown");
	}
	/* Only for the message above: the lock itself is what counts. */
	len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(s->lock_fd, 0) < 0 ||
	    pwrite(s->lock_fd, pid, (size_t)len, 0) != len)
		say(s, LOG_WARNING, "%s/%s: cannot record the pid: %s", s->dir,
		    LOCK_NAME, strerror(errno));
	return 0;
}

/* Accepts a store with dir_fd open; opens (creating) history/. */
static int open_history(struct sl_store *s, char *err, size_t errlen)
{
	if (mkdirat(s->dir_fd, HIST_DIR, DIR_MODE) == 0)
		fsync(s->dir_fd);
	else if (errno != EEXIST)
		return fail(err, errlen, -errno, "%s/%s: cannot create: %s",
			    s->dir, HIST_DIR, strerror(errno));
	s->hist_fd = openat(s->dir_fd, HIST_DIR,
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->hist_fd < 0)
		return fail(err, errlen, -errno, "%s/%s: %s", s->dir, HIST_DIR,
			    strerror(errno));
	return 0;
}

struct sl_store *sl_store_open(const char *dir, unsigned int keep,
			       sl_store_log_fn *log, void *log_arg,
			       char *err, size_t errlen)
{
	char where[PATH_MAX];
	struct sl_store *s;
	int rc;

	if (!dir)
		dir = SL_STORE_DIR_DEFAULT;
	if (!keep)
		keep = SL_STORE_KEEP_DEFAULT;
	if (keep > SL_STORE_KEEP_MAX) {
		fail(err, errlen, -EINVAL, "store: keep %u is more than %u",
		     keep, SL_STORE_KEEP_MAX);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto out_nomem;
	s->dir_fd = s->hist_fd = s->lock_fd = -1;
	s->keep = keep;
	s->next_version = 1;
	s->log = log;
	s->log_arg = log_arg;
	s->dir = strdup(dir);
	s->hist = calloc(keep + 1, sizeof(*s->hist));
	if (!s->dir || !s->hist)
		goto out_close;
	if (mkdir(dir, DIR_MODE) == 0) {
		sync_parent(dir);
	} else if (errno != EEXIST) {
		fail(err, errlen, -errno, "%s: cannot create: %s", dir,
		     strerror(errno));
		goto out_close_quiet;
	}
	s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dir_fd < 0) {
		fail(err, errlen, -errno, "%s: %s", dir, strerror(errno));
		goto out_close_quiet;
	}
	if (take_lock(s, err, errlen) < 0 || open_history(s, err, errlen) < 0)
		goto out_close_quiet;
	snprintf(where, sizeof(where), "%s/%s", s->dir, HIST_DIR);
	rc = sweep_tmp(s, s->dir_fd, s->dir);
	if (rc == 0)
		rc = sweep_tmp(s, s->hist_fd, where);
	if (rc < 0) {
		fail(err, errlen, rc, "%s: cannot list: %s", dir, strerror(-rc));
		goto out_close_quiet;
	}
	if (scan_history(s, err, errlen) < 0 || load_current(s, err, errlen) < 0)
		goto out_close_quiet;
	return s;

out_close:
	sl_store_close(s);
out_nomem:
	fail(err, errlen, -ENOMEM, "store: out of memory");
	return NULL;
out_close_quiet:
	sl_store_close(s);
	return NULL;
}

void sl_store_close(struct sl_store *s)
{
	if (!s)
		return;
	if (s->hist_fd >= 0)
		close(s->hist_fd);
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);	/* releases the flock */
	free(s->cur_text);
	free(s->hist);
	free(s->dir);
	free(s);
}

uint64_t sl_store_version(const struct sl_store *s)
{
	return s->cur.version;
}

/* Accepts a source name or NULL; copies it into m if it is acceptable. */
static int check_source(const char *source, struct sl_store_meta *m,
			char *err, size_t errlen)
{
	size_t n;
	json_t *j;

	if (!source)
		source = "";
	n = strlen(source);
	if (n >= SL_STORE_SOURCE_MAX)
		return fail(err, errlen, -EINVAL,
			    "source name: %zu bytes, at most %d are kept",
			    n, SL_STORE_SOURCE_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)source[i] < 0x20 || source[i] == 0x7f)
			return fail(err, errlen, -EINVAL,
				    "source name: control characters are not allowed");
	j = json_stringn(source, n);	/* NULL when not UTF-8 */
	if (!j)
		return fail(err, errlen, -EINVAL, "source name: not UTF-8");
	json_decref(j);
	memcpy(m->source, source, n + 1);
	return 0;
}

int sl_store_commit(struct sl_store *s, const char *text, size_t len,
		    const char *source, uint32_t uid, uint64_t *version_out,
		    char *err, size_t errlen)
{
	struct sl_store_meta m;
	bool renamed;
	char *copy;
	int rc;

	memset(&m, 0, sizeof(m));
	if (len > SL_STORE_TEXT_MAX)
		return fail(err, errlen, -E2BIG,
			    "policy text: %zu bytes, more than the %u a store keeps",
			    len, SL_STORE_TEXT_MAX);
	if (!text && len)
		return fail(err, errlen, -EINVAL, "policy text: NULL");
	rc = check_source(source, &m, err, errlen);
	if (rc < 0)
		return rc;
	copy = malloc(len + 1);
	if (!copy)
		return fail(err, errlen, -ENOMEM, "store: out of memory");
	if (len)
		memcpy(copy, text, len);
	copy[len] = '\0';
	m.version = s->next_version;
	m.time = (uint64_t)time(NULL);
	m.uid = uid;
	m.len = len;
	m.crc32 = (uint32_t)crc32_z(0, (const Bytef *)copy, len);

	rc = gen_write(s->dir_fd, CUR_NAME, &m, copy, &renamed);
	if (rc < 0 && !renamed) {
		free(copy);
		return fail(err, errlen, rc, "%s/%s: %s", s->dir, CUR_NAME,
			    strerror(-rc));
	}
	/* Committed: policy.yaml is the new version from here on. */
	if (rc < 0)
		say(s, LOG_ERR, "%s: fsync: %s; version %" PRIu64 " is applied but may not survive a power loss",
		    s->dir, strerror(-rc), m.version);
	s->next_version++;
	free(s->cur_text);
	s->cur = m;
	s->cur_text = copy;
	hist_add(s, &m, copy);
	if (version_out)
		*version_out = m.version;
	return 0;
}

const char *sl_store_current(const struct sl_store *s, size_t *len,
			     struct sl_store_meta *meta)
{
	if (meta)
		*meta = s->cur;
	if (len)
		*len = s->cur.len;
	return s->cur.version ? s->cur_text : NULL;
}

unsigned int sl_store_history(const struct sl_store *s,
			      struct sl_store_meta *out, unsigned int max)
{
	unsigned int n = s->n_hist < max ? s->n_hist : max;

	memcpy(out, s->hist, n * sizeof(*out));
	return n;
}

int sl_store_get(struct sl_store *s, uint64_t version, char **text,
		 size_t *len, struct sl_store_meta *meta,
		 char *err, size_t errlen)
{
	char name[NAME_MAX_LEN], why[256], *t;
	struct sl_store_meta m;
	int rc;

	if (version && version == s->cur.version) {
		t = malloc(s->cur.len + 1);
		if (!t)
			return fail(err, errlen, -ENOMEM, "store: out of memory");
		memcpy(t, s->cur_text, s->cur.len + 1);
		m = s->cur;
		goto out_found;
	}
	if (!version || hist_find(s, version) < 0)
		return fail(err, errlen, -ENOENT,
			    "version %" PRIu64 " is not in history (it keeps the last %u)",
			    version, s->keep);
	hist_name(name, sizeof(name), version);
	rc = gen_read(s->hist_fd, name, &m, &t, why, sizeof(why));
	if (rc == 0 && m.version != version) {
		free(t);
		rc = -EBADMSG;
		snprintf(why, sizeof(why), "holds version %" PRIu64, m.version);
	}
	if (rc < 0)
		return fail(err, errlen, rc == -ENOENT ? -EIO : rc,
			    "%s/%s/%s: %s", s->dir, HIST_DIR, name, why);
out_found:
	*text = t;
	if (len)
		*len = m.len;
	if (meta)
		*meta = m;
	return 0;
}

/* Accepts a history entry; says whether its text differs from the current. */
static bool differs_from_current(struct sl_store *s,
				 const struct sl_store_meta *h)
{
	char err[PATH_MAX + 300], *text;
	size_t len;
	bool same;

	if (h->len != s->cur.len || h->crc32 != s->cur.crc32)
		return true;
	/* Same length and checksum: almost surely the same text; make sure. */
	if (sl_store_get(s, h->version, &text, &len, NULL, err, sizeof(err)) < 0) {
		say(s, LOG_WARNING, "%s", err);
		return false;
	}
	same = memcmp(text, s->cur_text, len) == 0;
	free(text);
	return !same;
}

int sl_store_previous(struct sl_store *s, uint64_t *version)
{
	for (unsigned int i = 0; i < s->n_hist; i++) {
		if (s->hist[i].version < s->cur.version &&
		    differs_from_current(s, &s->hist[i])) {
			*version = s->hist[i].version;
			return 0;
		}
	}
	return -ENOENT;
}
