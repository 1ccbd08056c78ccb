/*
 * util.c - small helpers (see util.h).
 */
#include "config.h"

#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/* getrandom(2) where the C library has it, arc4random_buf(3) on the BSDs,
 * else /dev/urandom. */
#if defined(__GLIBC__) &&                                                      \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))
#include <sys/random.h>
#define HAVE_GETRANDOM_FN 1
#elif defined(__OpenBSD__) || defined(__FreeBSD__) || defined(__NetBSD__) ||   \
    defined(__APPLE__)
#define HAVE_ARC4RANDOM_FN 1
#endif

static void
out_of_memory(void)
{
	fputs("mailpost: out of memory\n", stderr);
	exit(EX_OSERR);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		out_of_memory();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		out_of_memory();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		out_of_memory();
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xstrdup_upper(const char *s)
{
	char *p = xstrdup(s);

	for (char *c = p; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
	return p;
}

void
str_copy(char *dst, size_t n, const char *src)
{
	size_t len;

	if (n == 0)
		return;
	len = strlen(src);
	if (len >= n)
		len = n - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

bool
str_ieq(const char *a, const char *b)
{
	while (*a && lower((unsigned char)*a) == lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

bool
str_is_ascii(const char *s)
{
	return !str_has_8bit(s, strlen(s));
}

bool
str_has_8bit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

bool
str_iprefix(const char *s, const char *prefix)
{
	while (*prefix) {
		if (lower((unsigned char)*s) != lower((unsigned char)*prefix))
			return false;
		s++;
		prefix++;
	}
	return true;
}

char *
str_censor(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c >= 0x7f)
			s[i] = '?';
	}
	return s;
}

size_t
utf8_seq_len(const unsigned char *p, size_t avail)
{
	struct utf8_check u = {0};

	for (size_t i = 0; i < avail && i < 4; i++) {
		if (!utf8_check_byte(&u, p[i]))
			return 0;
		if (u.need == 0)
			return i + 1;
	}
	return 0; /* cut short */
}

bool
utf8_check_byte(struct utf8_check *u, unsigned char c)
{
	if (u->need > 0) {
		if (c < u->lo || c > u->hi)
			u->bad = true;
		u->lo = 0x80;
		u->hi = 0xbf;
		u->need--;
		return !u->bad;
	}
	if (c < 0x80)
		return !u->bad;
	/* The second byte's range excludes overlongs (E0, F0), surrogates
	 * (ED) and values past U+10FFFF (F4). */
	u->lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
	u->hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		u->need = 1;
	else if (c >= 0xe0 && c <= 0xef)
		u->need = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		u->need = 3;
	else
		u->bad = true;
	return !u->bad;
}

bool
utf8_check_done(const struct utf8_check *u)
{
	return !u->bad && u->need == 0;
}

bool
utf8_is_c1(const unsigned char *p, size_t n)
{
	return n == 2 && p[0] == 0xc2 && p[1] < 0xa0;
}

bool
utf8_is_bidi_control(const unsigned char *p, size_t n)
{
	unsigned cp;

	if (n == 2)
		return p[0] == 0xd8 && p[1] == 0x9c; /* U+061C ALM */
	if (n != 3 || p[0] != 0xe2)
		return false;
	cp = ((unsigned)(p[1] & 0x3f) << 6) | (p[2] & 0x3f); /* U+2000 + cp */
	return cp == 0x0e || cp == 0x0f ||                   /* LRM, RLM */
	       (cp >= 0x2a && cp <= 0x2e) || /* LRE RLE PDF LRO RLO */
	       (cp >= 0x66 && cp <= 0x69);   /* LRI RLI FSI PDI */
}

/* Shown as it is: well-formed, and neither a C1 control nor one that
 * reorders the text around it. */
static bool
utf8_shown(const unsigned char *p, size_t n)
{
	return n > 1 && !utf8_is_c1(p, n) && !utf8_is_bidi_control(p, n);
}

char *
str_censor_utf8(char *s, size_t len)
{
	unsigned char *p = (unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_seq_len(p + i, len - i);

		if (n == 0 || (n > 1 && !utf8_shown(p + i, n)) ||
		    (n == 1 &&
		     ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f))) {
			p[i++] = '?';
			continue;
		}
		i += n;
	}
	return s;
}

char *
str_show(char *out, size_t n, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, k = 0;

	if (n == 0)
		return out;
	while (i < len && i < max) {
		size_t seq = utf8_seq_len(p + i, len - i);
		bool shown = seq > 1 ? utf8_shown(p + i, seq)
		                     : seq == 1 && p[i] >= 0x20 && p[i] != 0x7f;
		size_t need = shown ? seq : 4;

		if (k + need + 1 > n)
			break;
		if (shown)
			memcpy(out + k, p + i, seq);
		else
			snprintf(out + k, 5, "\\x%02x", p[i]);
		k += need;
		i += shown ? seq : 1;
	}
	if (i < len && k + 4 <= n) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
	return out;
}

char *
str_escape(char *out, size_t n, const char *p, size_t len)
{
	static const char named[] = "\r\n\t\\";
	static const char letter[] = "rnt\\";
	size_t k = 0;

	if (n == 0)
		return out;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		const char *hit = c ? strchr(named, c) : NULL;
		char piece[5];

		if (c == 0)
			memcpy(piece, "\\0", 3);
		else if (hit)
			snprintf(piece, sizeof piece, "\\%c",
			         letter[hit - named]);
		else if (c < 0x20 || c >= 0x7f)
			snprintf(piece, sizeof piece, "\\x%02x", c);
		else
			snprintf(piece, sizeof piece, "%c", c);
		/* Room is kept for "..." and the terminator at every step. */
		if (k + strlen(piece) + 4 > n) {
			if (k + 4 <= n) {
				memcpy(out + k, "...", 3);
				k += 3;
			}
			break;
		}
		memcpy(out + k, piece, strlen(piece));
		k += strlen(piece);
	}
	out[k] = '\0';
	return out;
}

bool
str_has_ctl(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

void
hex_pair(char *out, unsigned char c)
{
	static const char digits[] = "0123456789ABCDEF";

	out[0] = digits[c >> 4];
	out[1] = digits[c & 15];
}

void
be_put(unsigned char *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
}

uint64_t
be_get(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *
str_seconds(char *out, size_t n, int ms)
{
	if (ms % 1000 == 0)
		snprintf(out, n, "%d", ms / 1000);
	else
		snprintf(out, n, "%.1f", ms / 1000.0);
	return out;
}

char *
str_bytes(char *out, size_t n, uint64_t bytes)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(out, n, "%" PRIu64 " byte%s", bytes,
		         bytes == 1 ? "" : "s");
		return out;
	}
	v /= 1024.0;
	while (v >= 1024.0 && u + 1 < sizeof units / sizeof *units) {
		v /= 1024.0;
		u++;
	}
	snprintf(out, n, "%.1f %s", v, units[u]);
	return out;
}

bool
str_rfc5322_date(char *out, size_t n, time_t when, bool utc)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed",
	                                   "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
	                                     "May", "Jun", "Jul", "Aug",
	                                     "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	long off;
	int len;

	if (n == 0)
		return false;
	out[0] = '\0';
	if (!(utc ? gmtime_r(&when, &tm) : localtime_r(&when, &tm)))
		return false;
	off = utc ? 0 : tm.tm_gmtoff / 60;
	len = snprintf(out, n, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
	               days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	               tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	               off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
	if (len < 0 || (size_t)len >= n) {
		out[0] = '\0';
		return false;
	}
	return true;
}

bool
str_utc_time(char *out, size_t n, time_t when)
{
	struct tm tm;

	if (n == 0)
		return false;
	out[0] = '\0';
	if (!gmtime_r(&when, &tm) ||
	    strftime(out, n, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
		out[0] = '\0';
		return false;
	}
	return true;
}

#if !defined(HAVE_ARC4RANDOM_FN)
static int
read_urandom(unsigned char *p, size_t n)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t r = 0;
	int saved;

	if (fd < 0)
		return -1;
	while (got < n) {
		r = read(fd, p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	saved = r == 0 && got < n ? EIO : errno; /* end of file: EIO */
	close(fd);
	errno = saved;
	return got == n ? 0 : -1;
}
#endif

int
random_bytes(void *p, size_t n)
{
#if defined(HAVE_GETRANDOM_FN)
	unsigned char *c = p;
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(c + got, n - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got == n ? 0 : read_urandom(c, n);
#elif defined(HAVE_ARC4RANDOM_FN)
	arc4random_buf(p, n);
	return 0;
#else
	return read_urandom(p, n);
#endif
}

void
random_unique(void *p, size_t n)
{
	static uint64_t counter;
	unsigned char *c = p;
	struct timespec ts;
	uint64_t x;

	if (random_bytes(p, n) == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	x = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^
	    (uint64_t)getpid() << 32 ^ ++counter * 0x9e3779b97f4a7c15u;
	/* xorshift64: every byte depends on all of the seed. */
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		c[i] = (unsigned char)(x >> 24);
	}
}

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

ssize_t
fd_read(int fd, void *p, size_t n)
{
	ssize_t got;

	do
		got = read(fd, p, n);
	while (got < 0 && errno == EINTR);
	return got;
}

int
fd_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

void
wipe(void *p, size_t n)
{
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, n);
#else
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
#endif
}

void
str_wipe_free(char **s)
{
	if (*s) {
		wipe(*s, strlen(*s));
		free(*s);
	}
	*s = NULL;
}

void
strlist_init(struct strlist *l)
{
	l->v = NULL;
	l->n = 0;
	l->cap = 0;
}

void
strlist_add_n(struct strlist *l, const char *s, size_t n)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = xstrndup(s, n);
}

void
strlist_add(struct strlist *l, const char *s)
{
	strlist_add_n(l, s, strlen(s));
}

bool
strlist_contains(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

void
strlist_clear(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	strlist_init(l);
}

const char *
tmp_dir(const char *dir)
{
	/* secure_getenv: a setgid run takes no directory from its caller's
	 * environment (glibc removes TMPDIR from it anyway). */
	const char *env = secure_getenv("TMPDIR");

	if (dir && *dir)
		return dir;
	if (env && *env)
		return env;
	return "/tmp";
}

/* mkdir with mode 0700 exactly: the umask may cut mkdir's mode. */
static int
make_private_dir(const char *path)
{
	int fd, rc;

	do
		rc = mkdir(path, 0700);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return errno == EEXIST ? 0 : -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fchmod(fd, 0700);
	close(fd);
	return rc;
}

int
dir_make_private(const char *path, size_t *failed)
{
	char *copy = xstrdup(path);
	bool missing = false;
	struct stat st;
	int rc = 0, saved;

	for (char *p = copy + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		if (p[-1] == '/') { /* "//" */
			if (c == '\0')
				break;
			continue;
		}
		*p = '\0';
		if (!missing && stat(copy, &st) < 0 && errno == ENOENT)
			missing = true;
		if (missing && make_private_dir(copy) < 0) {
			if (failed)
				*failed = (size_t)(p - copy);
			rc = -1;
			break;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	saved = errno;
	free(copy);
	errno = saved;
	return rc;
}

void
dir_sweep_temps(int dirfd, bool (*ours)(const char *name, const void *arg),
                const void *arg, int age_s, size_t max_names)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	time_t old = time(NULL) - age_s;
	struct dirent *de;
	struct stat st;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	for (size_t n = 0; n < max_names && (de = readdir(d)); n++) {
		const char *name = de->d_name;

		if (ours(name, arg) &&
		    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		    st.st_mtime < old) {
			fd = openat(dirfd, name,
			            O_WRONLY | O_NOFOLLOW | O_CLOEXEC |
			                O_NONBLOCK);
			if (fd >= 0) {
				(void)ftruncate(fd, 0);
				close(fd);
			}
			unlinkat(dirfd, name, 0);
		}
	}
	closedir(d);
}

int
fd_temp(const char *dir)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof path, "%s/mailpost.XXXXXX", dir);
	int fd;

	if (n < 0 || (size_t)n >= sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	unlink(path);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}
