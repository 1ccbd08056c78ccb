/*
 * tlscache.h - TLS sessions kept between runs, so that the next run to the
 * same server resumes (RFC 8446 2.2, RFC 5077) instead of paying a full
 * handshake: a cron burst or a queue of many messages, one process each,
 * pays one.  This module knows files, not TLS: an entry is opaque data
 * (the library's session data, for tls.c) with the identity it was
 * verified for and the time it expires.  Another kind of entry that
 * wants the same guarantees (only ours, written whole, expiring) uses the
 * _kind functions with a magic line, a name prefix and an age of its own:
 * MTA-STS policies (delivery/mtasts.c, RFC 8461 5.1) are one.
 *
 * One file per server as a caller names it (tls.c: the account, the host,
 * the port and the TLS mode), "DIR/session-HEX", mode 0600 in a directory
 * of mode 0700, written whole (a temporary file renamed over the old one,
 * so concurrent runs never leave a mixed file: the last writer wins; the
 * temporary file of a run killed before its rename is removed by a later
 * store, TLSCACHE_TEMP_AGE).  The
 * identity digest inside binds the entry to everything the server was
 * verified with (the name checked and sent as SNI, the trust file, the
 * pin, the CRL, the client certificate): an entry whose digest differs is
 * not used, and the next full handshake replaces it.
 *
 * The contents are key material (the resumption secret: whoever holds it
 * can resume the session as us, and with TLS 1.2 read its traffic), so an
 * entry is never read from a file another user could have written (owner
 * other than us, any bit for group or others, a link, a directory others
 * may write), every buffer that held one is wiped, and nothing here
 * prints.  A bad file of any kind (foreign, truncated, expired, another
 * identity's) is a miss, never an error: the session is then a full
 * handshake, as without a cache.
 *
 * File format (all integers big-endian):
 *   "mailpost-tls-session 1\n"   TLSCACHE_MAGIC
 *   32 bytes                     the identity digest (SHA-256, tls.c's)
 *   8 bytes                      expiry, seconds since the Epoch
 *   4 bytes                      n, the length of the data
 *   n bytes                      the session data, as GnuTLS gave it
 */
#ifndef MAILPOST_TLSCACHE_H
#define MAILPOST_TLSCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define TLSCACHE_MAGIC "mailpost-tls-session 1\n"
#define TLSCACHE_ID_LEN 32
/* Session data with the server's chain: a few KiB; a chain of
 * TLS_CHAIN_MAX large certificates stays well under this. */
#define TLSCACHE_DATA_MAX (64 * 1024)
/* RFC 8446 4.6.1: a ticket's lifetime is at most 7 days, and clients
 * must not cache one longer, whatever the server says. */
#define TLSCACHE_AGE_MAX (7 * 24 * 60 * 60)
/* "session-" and 32 hex digits. */
#define TLSCACHE_NAME_MAX 48
/* A temporary file (".NAME.HEX") older than this, in seconds, was left by
 * a run killed between its write and its rename (which take
 * milliseconds): the next store removes it. */
#define TLSCACHE_TEMP_AGE 60
/* The names in the directory a store looks at for such files: it holds
 * one entry per server, and only mailpost writes in it. */
#define TLSCACHE_SCAN_MAX 1024

/* A kind of entry: its files start with `magic` (one line), its names
 * with `prefix` (temporary files are ".PREFIX..."), its expiry is at
 * most age_max seconds after a load (a later one: the file is refused),
 * its data at most data_max bytes; `other` says why an entry of another
 * identity is not used.  Sessions: tlscache_sessions. */
struct tlscache_kind {
	const char *magic;
	const char *prefix;
	int64_t age_max;
	size_t data_max;
	const char *other;
};

extern const struct tlscache_kind tlscache_sessions;

/* One entry read back: data[0..len-1] belongs to the caller, who wipes
 * and frees it with tlscache_entry_clear. */
struct tlscache_entry {
	unsigned char *data;
	size_t len;
	int64_t expires;
};

void tlscache_entry_clear(struct tlscache_entry *e);

/* The entry dir/name if it is usable now: written by us (our uid, no bit
 * for group or others, a regular file, not a link, in a directory no one
 * else may write), whole, for identity id and not expired at now.  0 with
 * *e filled, or -1 (a miss) with the reason in why[0..size-1] for -v
 * ("none kept" when there is no file). */
int tlscache_load(const char *dir, const char *name,
                  const unsigned char id[TLSCACHE_ID_LEN], int64_t now,
                  struct tlscache_entry *e, char *why, size_t size);

/* Keep data as the entry dir/name for identity id until expires,
 * creating dir (mode 0700, and its missing parents) first, and removing
 * our temporary files older than TLSCACHE_TEMP_AGE there.  0, or -1 with
 * ERROR_IOERR and the reason (the caller reports it as a notice: a cache
 * that cannot be written costs a full handshake next time, nothing
 * more). */
int tlscache_store(const char *dir, const char *name,
                   const unsigned char id[TLSCACHE_ID_LEN], int64_t expires,
                   const unsigned char *data, size_t len, struct error *err);

/* The same two for an entry of kind k (tlscache_load and tlscache_store
 * are these with tlscache_sessions). */
int tlscache_load_kind(const struct tlscache_kind *k, const char *dir,
                       const char *name,
                       const unsigned char id[TLSCACHE_ID_LEN], int64_t now,
                       struct tlscache_entry *e, char *why, size_t size);
int tlscache_store_kind(const struct tlscache_kind *k, const char *dir,
                        const char *name,
                        const unsigned char id[TLSCACHE_ID_LEN],
                        int64_t expires, const unsigned char *data, size_t len,
                        struct error *err);

/* Remove the entry dir/name (the server refused it): nothing is reported;
 * the next full handshake writes a new one. */
void tlscache_forget(const char *dir, const char *name);

#endif
