/*
 * util.h - small helpers with no better home: checked allocation, strings,
 * monotonic time, and censoring untrusted bytes before they are printed.
 */
#ifndef MAILPOST_UTIL_H
#define MAILPOST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Allocation that cannot return NULL: on failure it prints one line and
 * exits 71 (EX_OSERR).  Used for small, bounded allocations only; buffers
 * that grow with input use struct buf and report failure instead. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A copy of s with ASCII letters in upper case (protocol keywords). */
char *xstrdup_upper(const char *s);

/* Copy src into dst of size n, always NUL-terminated, truncating. */
void str_copy(char *dst, size_t n, const char *src);

/* Case-insensitive ASCII comparisons (locale-independent). */
bool str_ieq(const char *a, const char *b);
bool str_iprefix(const char *s, const char *prefix);

/* True when s has no byte >= 0x80 (no UTF-8 or other 8-bit text). */
bool str_is_ascii(const char *s);

/* True when s[0..len) holds a byte >= 0x80: the one 8-bit check, for
 * SMTPUTF8 and 8BITMIME (RFC 6531, RFC 6152) and for what needs RFC 2047
 * words. */
bool str_has_8bit(const char *s, size_t len);

/* Replace every byte that is not printable ASCII (and not a tab) by '?', in
 * place.  Network text goes through this before it reaches a terminal or
 * a log.  Returns s. */
char *str_censor(char *s, size_t len);

/* c as two upper-case hex digits at out[0] and out[1] (quoted-printable,
 * RFC 2045 6.7 (1), wants upper case; the others accept it). */
void hex_pair(char *out, unsigned char c);

/* v as n big-endian bytes at p[0..n) (n <= 8; the high bytes of v
 * beyond n are dropped), and back: the one byte order of our binary
 * formats and of lengths put in a digest. */
void be_put(unsigned char *p, uint64_t v, size_t n);
uint64_t be_get(const unsigned char *p, size_t n);

/* The value (0 to 15) of the hex digit c, either case, or -1 when c is
 * not one. */
int hex_digit(char c);

/* A timeout of ms milliseconds as seconds for a message: "60" when it is
 * whole, else one decimal ("0.5").  Written to out[0..n), returns out. */
char *str_seconds(char *out, size_t n, int ms);

/* n bytes for a person, in binary units with one decimal: "1 byte",
 * "148 bytes", "1.8 KiB", "34.2 MiB" (up to TiB).  Written to out[0..n),
 * returns out. */
char *str_bytes(char *out, size_t n, uint64_t bytes);

/* when as RFC 5322 3.3's date-time in out[0..n), with English names
 * whatever the locale: in UTC ("Mon, 7 Dec 2026 12:30:00 +0000") or in
 * local time with its offset ("Mon, 7 Dec 2026 13:30:00 +0100").  False,
 * with out "", when the clock cannot be read as a date. */
bool str_rfc5322_date(char *out, size_t n, time_t when, bool utc);

/* when as "2026-12-07 12:30:00 UTC" in out[0..n): true, or false with out
 * "" when it has no such form (a time gmtime cannot take, n too small).
 * What a caller shows for a time it does not know is its own choice. */
bool str_utc_time(char *out, size_t n, time_t when);

/* Milliseconds on the monotonic clock (for timeouts and the transcript). */
int64_t now_ms(void);

/* Microseconds on the monotonic clock (for timing steps on loopback, where
 * a whole exchange can take less than a millisecond). */
int64_t now_us(void);

/* read(2) of at most n bytes with EINTR retried: what read returns. */
ssize_t fd_read(int fd, void *p, size_t n);

/* Write all n bytes to fd (EINTR retried): 0, or -1 with errno set (EIO
 * for a write that wrote nothing). */
int fd_write_all(int fd, const void *p, size_t n);

/* The directory for temporary files: dir when set, else $TMPDIR, else
 * /tmp. */
const char *tmp_dir(const char *dir);

/* An unlinked temporary file in dir, close-on-exec: mkstemp makes it
 * 0600 and it is unlinked at once, so nothing is left behind whatever
 * happens to us and no one else can open it.  Returns the fd, or -1 with
 * errno set (ENAMETOOLONG when dir is too long for a path). */
int fd_temp(const char *dir);

/* mkdir -p path: every missing component from the first missing one on
 * is created with mode 0700 exactly (whatever the umask); those that exist
 * are left as they are, and one another process makes meanwhile is no
 * error.  0, or -1 with errno set and *failed (when not NULL) the length
 * of the prefix of path that could not be made. */
int dir_make_private(const char *path, size_t *failed);

/* Remove from the directory dirfd the temporary files of runs killed
 * between their write and their rename: each name ours(name, arg)
 * accepts that is a regular file (not a link) of our effective uid and
 * was last written more than age_s seconds ago (a younger one may be
 * another run's write in progress), emptied first (it may hold a
 * secret, and another link to it may stay), then unlinked.  At most
 * max_names names are looked at; nothing is reported (no one reads a
 * temporary file).  dirfd is the caller's still. */
void dir_sweep_temps(int dirfd, bool (*ours)(const char *name, const void *arg),
                     const void *arg, int age_s, size_t max_names);

/* n random bytes from the kernel (getrandom(2), else /dev/urandom), for
 * what must not be guessed (a Message-ID): 0, or -1 with errno set when
 * neither gives them. */
int random_bytes(void *p, size_t n);

/* n bytes that must be unique, not secret (a MIME boundary, a queue id):
 * random_bytes(), else the clock, the process id and a counter stirred,
 * which still differ from call to call; never fails. */
void random_unique(void *p, size_t n);

/* Wipe memory that held a secret, in a way the compiler keeps. */
void wipe(void *p, size_t n);

/* *s, a string that may hold a secret, wiped to its NUL and freed; *s
 * is NULL after (and may be NULL before). */
void str_wipe_free(char **s);

/* RFC 3629 4: the length (1 to 4) of the well-formed UTF-8 sequence at
 * p[0..avail), or 0 for an ill-formed or cut one (overlong forms,
 * surrogates, beyond U+10FFFF).  An ASCII byte is 1. */
size_t utf8_seq_len(const unsigned char *p, size_t avail);

/* RFC 3629 4: a well-formedness check of UTF-8 fed one byte at a time, so
 * that blocks may split a sequence.  Start from {0}. */
struct utf8_check {
	int need;             /* continuation bytes still expected */
	unsigned char lo, hi; /* the range the next one must be in */
	bool bad;             /* something ill-formed was fed (sticky) */
};

/* Feed the byte c; false once anything fed so far is ill-formed
 * (overlong forms, surrogates, beyond U+10FFFF, a stray continuation). */
bool utf8_check_byte(struct utf8_check *u, unsigned char c);

/* True when all that was fed is well-formed and ends at a whole
 * character (no sequence cut at the end). */
bool utf8_check_done(const struct utf8_check *u);

/* Whether the sequence of n bytes at p is a C1 control (U+0080..U+009F),
 * which terminals may obey like the C0 ones. */
bool utf8_is_c1(const unsigned char *p, size_t n);

/* Whether the sequence of n bytes at p is a bidirectional formatting
 * character (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069):
 * shown, it reorders the text around it, so that a name from the
 * network can be made to read as another (CVE-2021-42574). */
bool utf8_is_bidi_control(const unsigned char *p, size_t n);

/* Replace, in place, every byte of s[0..len) that is not printable
 * ASCII, tab or part of a well-formed UTF-8 sequence (C1 controls and
 * bidirectional formatting characters excluded) by '?': text a person
 * wrote, made safe for a terminal without turning their letters into
 * question marks. */
char *str_censor_utf8(char *s, size_t len);

/* s as it can be shown in a message: printable ASCII and well-formed
 * UTF-8 as they are, every other byte (controls, DEL, C1, bidirectional
 * formatting, ill-formed UTF-8) as "\xHH"; at most max bytes of s, then "...".
 * Written to out[0..n), always terminated (cut when n is too small). */
char *str_show(char *out, size_t n, const char *s, size_t max);

/* Bytes p[0..len) as a C string literal's inside would write them: CR,
 * LF, tab and NUL as \r \n \t \0, a backslash as \\, other bytes
 * outside printable ASCII as \xHH.  Written to out[0..n), always
 * terminated; cut (with "...") when n is too small. */
char *str_escape(char *out, size_t n, const char *p, size_t len);

/* True when s[0..len) holds a byte < 0x20 or 0x7f (tab counts as well). */
bool str_has_ctl(const char *s, size_t len);

/* A growable list of owned strings. */
struct strlist {
	char **v;
	size_t n;
	size_t cap;
};
void strlist_init(struct strlist *l);
void strlist_add(struct strlist *l, const char *s); /* copies s */
void strlist_add_n(struct strlist *l, const char *s, size_t n);
bool strlist_contains(const struct strlist *l, const char *s);
void strlist_clear(struct strlist *l);

#endif
