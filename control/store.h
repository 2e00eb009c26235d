/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluiced's policy store: the applied policy and a bounded history of
 * the ones before it, in a directory (by default /var/lib/sluice).
 *
 *   policy.yaml           the current generation
 *   history/NNNNNN.yaml   the last `keep` generations, current included
 *   lock                  flock()ed by the one process using the store
 *
 * A generation is one file: a header line, a YAML comment holding its
 * metadata as JSON, then the policy text exactly as submitted:
 *
 *   # sluice-store 1 {"version":42,"source":"edge.yaml","length":812,
 *                     "crc32":"1c291ca3","time":1764201600,"uid":0}
 *   version: 1
 *   ...
 *
 * (the header is one line). Text and metadata live and die together, so
 * a crash cannot leave them disagreeing; the file is still a valid YAML
 * document with the text's meaning (`sluicectl policy check` works on
 * it, its line numbers one more), and `tail -n +2` gives the text back.
 * The crc32 is zlib's (the one in gzip and Python's zlib.crc32): an
 * integrity check against torn or damaged files, not a signature.
 *
 * Every file is written as a temporary in the same directory, fsync()ed,
 * rename()d over the old one, and the directory fsync()ed. A commit is
 * done when policy.yaml is renamed; the history copy follows, and a
 * restart re-adds it if a crash came in between. See
 * docs/decisions/0003-policy-store.md.
 *
 * Not thread-safe: one thread owns a store.
 */
#ifndef SLUICE_STORE_H
#define SLUICE_STORE_H

#include <stddef.h>
#include <stdint.h>

#define SL_STORE_DIR_DEFAULT	"/var/lib/sluice"
#define SL_STORE_KEEP_DEFAULT	16	/* history entries, current included */
#define SL_STORE_KEEP_MAX	100000
#define SL_STORE_TEXT_MAX	(16u << 20)	/* the control protocol's message bound */
#define SL_STORE_SOURCE_MAX	256	/* bytes of the source name, with the NUL */

/* What the store records about one applied version. */
struct sl_store_meta {
	uint64_t version;	/* 1, 2, ...; 0: no policy */
	uint64_t time;		/* applied, seconds since the epoch */
	uint32_t uid;		/* who applied it */
	uint32_t crc32;		/* zlib crc32 of the text */
	size_t len;		/* bytes of text */
	char source[SL_STORE_SOURCE_MAX];	/* e.g. the file name; UTF-8 */
};

/*
 * Where the store reports what recovery did (a leftover temporary
 * removed, a damaged file set aside, a version recovered from history)
 * and problems it worked around. prio is a syslog priority (LOG_*);
 * msg is one line naming the file.
 */
typedef void sl_store_log_fn(void *arg, int prio, const char *msg);

struct sl_store;

/*
 * Accepts the store's directory (NULL: SL_STORE_DIR_DEFAULT), how many
 * versions to keep (0: SL_STORE_KEEP_DEFAULT) and an optional log
 * callback. Creates the directory (0750) if missing, locks it against a
 * second process, removes temporaries of an interrupted write, verifies
 * every generation and recovers: a missing or damaged policy.yaml is
 * replaced by the newest intact history entry (the damaged one is kept
 * as policy.yaml.bad), damaged history entries are renamed *.bad.
 * Returns NULL with a message in err if the directory cannot be used,
 * is locked, or holds a policy of which no intact copy is left.
 */
struct sl_store *sl_store_open(const char *dir, unsigned int keep,
			       sl_store_log_fn *log, void *log_arg,
			       char *err, size_t errlen);

/* Accepts a store or NULL; unlocks and frees it. */
void sl_store_close(struct sl_store *s);

/* Accepts an open store; returns the current version, 0 when none. */
uint64_t sl_store_version(const struct sl_store *s);

/*
 * Accepts len bytes of policy text (any bytes, at most
 * SL_STORE_TEXT_MAX), where it came from (UTF-8, shorter than
 * SL_STORE_SOURCE_MAX; NULL for none) and the uid applying it. Makes it
 * the current version under a new number, one above any version this
 * store has held, and sets *version_out. Returns 0, or -errno with a
 * message in err and nothing changed. The commit point is the rename
 * of policy.yaml: what fails after it (the directory fsync, the history
 * copy) is logged, not returned, since the new version is already what
 * a restart would find; the next open repairs a missing history copy.
 */
int sl_store_commit(struct sl_store *s, const char *text, size_t len,
		    const char *source, uint32_t uid, uint64_t *version_out,
		    char *err, size_t errlen);

/*
 * Accepts an open store. Returns the current text (NUL-terminated, len
 * bytes; valid until the next commit or close) and fills meta, or NULL
 * with meta->version 0 when no policy was ever committed.
 */
const char *sl_store_current(const struct sl_store *s, size_t *len,
			     struct sl_store_meta *meta);

/*
 * Accepts room for max entries. Fills out with the versions in history,
 * newest first, and returns how many. The current version is the first
 * unless its history copy failed (logged at commit, repaired at open).
 */
unsigned int sl_store_history(const struct sl_store *s,
			      struct sl_store_meta *out, unsigned int max);

/*
 * Accepts a version. Reads and verifies its text: *text is malloc()ed,
 * NUL-terminated, len bytes, the caller frees it; meta may be NULL.
 * Returns 0, -ENOENT if it is not (or no longer) in history, -EBADMSG if
 * its file is damaged, or another -errno; err says which.
 */
int sl_store_get(struct sl_store *s, uint64_t version, char **text,
		 size_t *len, struct sl_store_meta *meta,
		 char *err, size_t errlen);

/*
 * Accepts an open store. The rollback target: the newest version older
 * than the current one whose text differs from the current text, so a
 * policy applied twice in a row is not a target and rolling back twice
 * returns to where one started. Sets *version and returns 0, or returns
 * -ENOENT if history holds none. Rolling back is committing that text
 * as a new version.
 */
int sl_store_previous(struct sl_store *s, uint64_t *version);

#endif /* SLUICE_STORE_H */
