/*
 * tokstore.c - OAuth2 tokens kept between runs (see tokstore.h).
 *
 * The file, one per identity, named ACCOUNT-DIGEST: the account's name
 * with every byte but letters, digits, '.', '_' and '-' turned to '_'
 * (at most 64 of them), then 16 hex digits of a 64-bit FNV-1a digest of
 * the token endpoint, the client id and the user (each followed by a NUL
 * byte).  The digest only spreads identities over names; what decides is
 * the identity the file records, compared in full.  An account with no
 * file of its own name takes another account's file of the same identity
 * (other_account_file), so one login serves "account default : work" and
 * work alike.  Text, one "KEY VALUE"
 * line each, in this order, LF-terminated:
 *
 *     mailpost-oauth2 1              format and version
 *     endpoint https://...           the identity: token endpoint,
 *     client CLIENT_ID               client id,
 *     user USER                      and user
 *     scope SCOPE                    the scope asked for (may be empty)
 *     refresh keyring|file|none      where the refresh token is
 *     refresh_token TOKEN            only with "refresh file"
 *     access_token TOKEN             the cached access token, optional,
 *     access_expires UNIX_SECONDS    always with its expiry
 *     end                            so that a cut file is seen as one
 *
 * Tokens are printable ASCII (RFC 6749 A.12, A.17: VSCHAR) and at most
 * SECRET_MAX bytes; the whole file at most TOKSTORE_FILE_MAX.  A file
 * that breaks any of this is "damaged": no access token is read from
 * it, and the refresh token it may hold is refused with the command that
 * logs in again (which rewrites it).  A temporary file FILE.XXXXXX left
 * by a run killed before its rename is removed by a later store, once
 * older than TOKSTORE_TEMP_AGE.
 */
#include "config.h"

#include "tokstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fdwait.h"
#include "privilege.h"
#include "util.h"

#define FORMAT_LINE "mailpost-oauth2 1"
/* Characters of the account's name kept in the file name. */
#define NAME_KEEP 64

/* What a file holds, as read or to be written.  Strings are owned and
 * wiped (tokens) by rec_clear. */
struct rec {
	char *endpoint, *client, *user, *scope;
	enum tokstore_where refresh; /* AUTO: none */
	char *refresh_token;
	char *access_token;
	long long access_expires;
};

static void
rec_clear(struct rec *r)
{
	str_wipe_free(&r->endpoint);
	str_wipe_free(&r->client);
	str_wipe_free(&r->user);
	str_wipe_free(&r->scope);
	str_wipe_free(&r->refresh_token);
	str_wipe_free(&r->access_token);
	memset(r, 0, sizeof *r);
}

static const char *
name_of(const struct tokstore_key *k)
{
	return k->account ? k->account : "default";
}

static bool
same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* The record is for k's identity (the refresh token's). */
static bool
rec_is_for(const struct rec *r, const struct tokstore_key *k)
{
	return same(r->endpoint, k->token_endpoint) &&
	       same(r->client, k->client_id) && same(r->user, k->user);
}

/* s appended to b as one word of a POSIX shell: as it is when it holds
 * only bytes no shell treats specially, else in single quotes (a quote
 * itself as '\''). */
static void
shell_word(struct buf *b, const char *s)
{
	static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                            "abcdefghijklmnopqrstuvwxyz"
	                            "0123456789_@%+=:,./-";

	if (*s && s[strspn(s, plain)] == '\0') {
		buf_append_str(b, s);
		return;
	}
	buf_append_char(b, '\'');
	for (; *s; s++)
		if (*s == '\'')
			buf_append_str(b, "'\\''");
		else
			buf_append_char(b, *s);
	buf_append_char(b, '\'');
}

void
tokstore_login_command(const char *config, const char *account, char *out,
                       size_t n)
{
	char cwd[PATH_MAX];
	struct buf b, file;

	buf_init(&b, 4 * PATH_MAX);
	buf_init(&file, 2 * PATH_MAX);
	buf_append_str(&b, "mailpost ");
	if (config) {
		/* A message may be read in another directory (cron's mail,
		 * a log): the file named from /. */
		if (config[0] != '/' && getcwd(cwd, sizeof cwd))
			buf_printf(&file, "%s%s", cwd,
			           strcmp(cwd, "/") == 0 ? "" : "/");
		buf_append_str(&file, config);
		buf_append_str(&b, "-C ");
		shell_word(&b, buf_str(&file));
		buf_append_char(&b, ' ');
	}
	buf_append_str(&b, "--oauth2-login -A ");
	shell_word(&b, account ? account : "default");
	str_copy(out, n, buf_str(&b));
	buf_clear(&file);
	buf_clear(&b);
}

/* "mailpost [-C FILE] --oauth2-login -A NAME", for messages. */
static void
login_hint(const struct tokstore_key *k, char *out, size_t n)
{
	tokstore_login_command(k->config, name_of(k), out, n);
}

/* ------------------------------------------------------------------------
 * Where: the directory and the file.
 */

static uint64_t
fnv1a(uint64_t h, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	do {
		h ^= *p;
		h *= UINT64_C(1099511628211);
	} while (*p++);
	return h;
}

static char *
dir_of(const struct tokstore_key *k, struct error *err)
{
	if (k->dir)
		return xstrdup(k->dir);
	if (k->system)
		return xstrdup(TOKSTORE_SYSTEM_DIR);
	return conf_state_dir("oauth2", err);
}

/* The file's name in its directory. */
static void
file_name(const struct tokstore_key *k, char *out, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);
	char name[NAME_KEEP + 1];
	size_t i = 0;

	h = fnv1a(h, k->token_endpoint);
	h = fnv1a(h, k->client_id);
	h = fnv1a(h, k->user);
	for (const char *c = name_of(k); *c && i < NAME_KEEP; c++, i++) {
		bool keep = (*c >= 'a' && *c <= 'z') ||
		            (*c >= 'A' && *c <= 'Z') ||
		            (*c >= '0' && *c <= '9') || strchr("._-", *c);

		name[i] = keep ? *c : '_';
	}
	name[i] = '\0';
	/* A name of dots alone would be "." or "..". */
	if (name[0] == '.')
		name[0] = '_';
	snprintf(out, n, "%s-%016llx", name, (unsigned long long)h);
}

/* dir/name, or NULL past PATH_MAX. */
static char *
join_path(const char *dir, const char *name)
{
	struct buf b;

	buf_init(&b, PATH_MAX);
	if (buf_printf(&b, "%s/%s", dir, name) < 0)
		return NULL;
	return b.data;
}

static char *other_account_file(const struct tokstore_key *k, const char *dir,
                                const char *name);

char *
tokstore_path(const struct tokstore_key *k, struct error *err)
{
	char *dir = dir_of(k, err), name[NAME_KEEP + 32], *other;

	if (!dir)
		return NULL;
	file_name(k, name, sizeof name);
	/* The system account's directory is read only with the group, and
	 * its account names are root's to choose. */
	other = k->system ? NULL : other_account_file(k, dir, name);
	if (other) {
		free(dir);
		return other;
	}
	other = join_path(dir, name);
	free(dir);
	if (!other)
		error_set(err, ERROR_CONFIG,
		          "the token file's name is too long");
	return other;
}

/* The modes of the directory and the files: the caller's alone, or the
 * group's too for the system account. */
static mode_t
file_mode(const struct tokstore_key *k)
{
	return k->system ? 0660 : 0600;
}

/* The group of a setgid installation: held, or (for root, who never
 * holds it) looked up by the name the program was built for. */
static gid_t
system_gid(void)
{
	const char *name = privilege_build_group();
	struct group *g;

	if (privilege_held() || !name)
		return privilege_gid();
	g = getgrnam(name);
	return g ? g->gr_gid : privilege_gid();
}

/* st (of path, a directory when dir) may hold tokens: not a symbolic
 * link, the caller's (for the system account: root's with the group,
 * since a file of another user's is that user's to read), and no access
 * for others (for the user's: for the group either). */
static int
check_owner_mode(const struct tokstore_key *k, const char *path,
                 const struct stat *st, bool dir, struct error *err)
{
	mode_t forbidden = k->system ? 007 : 077;
	const char *what = dir ? "directory" : "file";

	if (S_ISLNK(st->st_mode))
		return error_set(err, ERROR_CONFIG,
		                 "%s is a symbolic link, which mailpost does "
		                 "not follow for OAuth2 tokens; remove it (rm "
		                 "%s) and log in again",
		                 path, path);
	if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
		return error_set(err, ERROR_CONFIG,
		                 "%s is not a %s; move it away and log in "
		                 "again",
		                 path, what);
	if (k->system) {
		const char *group =
		    privilege_build_group() ? privilege_build_group() : "GROUP";

		if (st->st_gid != system_gid() || st->st_uid != 0)
			return error_set(
			    err, ERROR_CONFIG,
			    "%s is not root's with the system group; "
			    "as root: chown root:%s %s",
			    path, group, path);
	} else if (st->st_uid != geteuid()) {
		return error_set(err, ERROR_CONFIG,
		                 "%s is owned by another user (uid %lu); "
		                 "remove it (rm -r %s) and log in again",
		                 path, (unsigned long)st->st_uid, path);
	}
	if (st->st_mode & forbidden)
		return error_set(
		    err, ERROR_CONFIG,
		    "%s may be %s by others; run 'chmod %s %s'", path,
		    st->st_mode & (forbidden & 0444) ? "read"
		                                     : "changed or entered",
		    dir ? (k->system ? "2770" : "700")
		        : (k->system ? "660" : "600"),
		    path);
	return 0;
}

/* The directory of a file's path (a copy). */
static char *
dir_part(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');

	if (slash && slash != dir)
		*slash = '\0';
	return dir;
}

/* The directory of path checked (and for the user's, made 0700 when
 * missing and `make`). */
static int
check_dir(const struct tokstore_key *k, const char *path, bool make,
          struct error *err)
{
	char *dir = dir_part(path);
	struct stat st;
	int rc;

	if (lstat(dir, &st) < 0 && errno == ENOENT && make && !k->system) {
		if (dir_make_private(dir, NULL) < 0) {
			rc = error_set_errno(err, ERROR_CONFIG, errno,
			                     "cannot make %s", dir);
			free(dir);
			return rc;
		}
	}
	if (lstat(dir, &st) < 0) {
		if (errno == ENOENT && !make) {
			free(dir);
			return 1;
		}
		rc = error_set_errno(
		    err, ERROR_CONFIG, errno, "cannot use %s%s", dir,
		    k->system ? " (make install or the package makes it)" : "");
		free(dir);
		return rc;
	}
	rc = check_owner_mode(k, dir, &st, true, err);
	free(dir);
	return rc;
}

/* The lock tokstore_lock holds: its directory, descriptor and depth. */
static struct {
	char *dir;
	int fd;
	int depth;
} held = {NULL, -1, 0};

/* The store's lock (flock(2) on the directory, checked by check_dir),
 * held across a read-modify-write of a file: without it, a run caching
 * its access token while another rotates the refresh token would write
 * the old refresh token back over the new one.  Waited for at most
 * TOKSTORE_LOCK_WAIT seconds; the descriptor in *fd (unlock_dir lets
 * go), -1 when tokstore_lock holds it already. */
static int
lock_dir(const struct tokstore_key *k, const char *path, int *fd,
         struct error *err)
{
	char *dir = dir_part(path);
	int64_t deadline = now_ms() + (int64_t)TOKSTORE_LOCK_WAIT * 1000;
	int rc = 0;

	*fd = -1;
	/* Held by tokstore_lock already; or the system account's in a
	 * caller's run, which writes nothing there (save_rec). */
	if ((held.depth > 0 && strcmp(held.dir, dir) == 0) ||
	    (k->system && geteuid() != 0)) {
		free(dir);
		return 0;
	}
	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0)
		rc = error_set_errno(err, ERROR_CONFIG, errno,
		                     "cannot open %s to lock it", dir);
	while (rc == 0 && flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			rc = error_set_errno(err, ERROR_IOERR, errno,
			                     "cannot lock %s", dir);
		else if (now_ms() >= deadline)
			rc = error_set(
			    err, ERROR_TEMPFAIL,
			    "another run has held the lock on account '%s''s "
			    "OAuth2 tokens (%s) for %d s; try again later",
			    name_of(k), dir, TOKSTORE_LOCK_WAIT);
		else
			(void)fd_wait(-1, 0, now_ms() + 50);
	}
	if (rc < 0 && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	free(dir);
	return rc;
}

static void
unlock_dir(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* ------------------------------------------------------------------------
 * Reading.
 */

/* A value of the file: at most SECRET_MAX bytes, no control character
 * (an identity may hold UTF-8: an internationalized user). */
static bool
value_ok(const char *v, size_t n)
{
	if (n > SECRET_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return false;
	return true;
}

/* A token: 1*VSCHAR (RFC 6749 A.12, A.17), printable ASCII and space,
 * at most SECRET_MAX bytes. */
static bool
token_ok(const char *t)
{
	size_t n = t ? strlen(t) : 0;

	if (n == 0 || n > SECRET_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] < 0x20 || (unsigned char)t[i] > 0x7e)
			return false;
	return true;
}

static bool
parse_where(const char *v, enum tokstore_where *w)
{
	if (strcmp(v, "keyring") == 0)
		*w = TOKSTORE_KEYRING;
	else if (strcmp(v, "file") == 0)
		*w = TOKSTORE_FILE;
	else if (strcmp(v, "none") == 0)
		*w = TOKSTORE_AUTO;
	else
		return false;
	return true;
}

static bool
parse_seconds(const char *v, long long *out)
{
	long long n = 0;

	if (!*v)
		return false;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || n > (LLONG_MAX - 9) / 10)
			return false;
		n = n * 10 + (*v - '0');
	}
	*out = n;
	return true;
}

/* The keys in their order, each once; the optional ones may be left
 * out. */
static const struct {
	const char *key;
	bool optional;
} order[] = {
    {"endpoint", false},    {"client", false},        {"user", false},
    {"scope", false},       {"refresh", false},       {"refresh_token", true},
    {"access_token", true}, {"access_expires", true},
};

/* One "KEY VALUE" line (NUL-terminated, without its LF) into r at or
 * after *at in order[].  False: damaged. */
static bool
parse_line(char *line, size_t len, struct rec *r, size_t *at)
{
	char *sp = memchr(line, ' ', len);
	const char *v = sp ? sp + 1 : "";
	size_t vlen = sp ? len - (size_t)(sp + 1 - line) : 0;
	char **dst[] = {&r->endpoint,     &r->client, &r->user,
	                &r->scope,        NULL,       &r->refresh_token,
	                &r->access_token, NULL};
	size_t i = *at;

	if (sp)
		*sp = '\0';
	while (i < sizeof order / sizeof *order &&
	       strcmp(order[i].key, line) != 0 && order[i].optional)
		i++;
	if (i == sizeof order / sizeof *order ||
	    strcmp(order[i].key, line) != 0 || !value_ok(v, vlen))
		return false;
	*at = i + 1;
	if (dst[i]) {
		*dst[i] = xstrndup(v, vlen);
		return true;
	}
	if (strcmp(line, "refresh") == 0)
		return parse_where(v, &r->refresh);
	return parse_seconds(v, &r->access_expires);
}

/* The text of a file into r.  False: damaged. */
static bool
parse_rec(char *text, size_t len, struct rec *r)
{
	size_t at = 0;
	bool first = true, ended = false;

	while (len > 0 && !ended) {
		char *nl = memchr(text, '\n', len);
		size_t n;

		if (!nl)
			return false; /* cut */
		n = (size_t)(nl - text);
		*nl = '\0';
		if (first) {
			if (strcmp(text, FORMAT_LINE) != 0)
				return false;
			first = false;
		} else if (strcmp(text, "end") == 0) {
			ended = true;
		} else if (!parse_line(text, n, r, &at)) {
			return false;
		}
		text += n + 1;
		len -= n + 1;
	}
	if (!ended || len != 0 || at < 5)
		return false;
	if ((r->refresh == TOKSTORE_FILE) != (r->refresh_token != NULL))
		return false;
	return (r->access_token != NULL) == (r->access_expires != 0);
}

enum loaded { LOAD_NONE, LOAD_OK, LOAD_DAMAGED };

/* Read path into r: LOAD_NONE when it does not exist, LOAD_DAMAGED when
 * it is not what tokstore writes, or -1 with err for a file that is
 * refused or cannot be read. */
static int
load(const struct tokstore_key *k, const char *path, struct rec *r,
     struct error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
	                        O_NOCTTY);
	struct stat st;
	struct buf b;
	int rc;

	memset(r, 0, sizeof *r);
	if (fd < 0 && errno == ENOENT)
		return LOAD_NONE;
	if (fd < 0 && errno == ELOOP && lstat(path, &st) == 0)
		return check_owner_mode(k, path, &st, false, err);
	if (fd < 0)
		return error_set_errno(err, ERROR_CONFIG, errno,
		                       "cannot read %s", path);
	if (fstat(fd, &st) < 0 ||
	    check_owner_mode(k, path, &st, false, err) < 0) {
		if (!err->msg[0])
			error_set_errno(err, ERROR_CONFIG, errno,
			                "cannot read %s", path);
		close(fd);
		return -1;
	}
	buf_init(&b, TOKSTORE_FILE_MAX);
	rc = buf_read_fd(&b, fd);
	close(fd);
	if (rc < 0 && errno != EMSGSIZE) {
		rc = error_set_errno(err, ERROR_CONFIG, errno, "cannot read %s",
		                     path);
		buf_clear_secret(&b);
		return rc;
	}
	rc = rc == 0 && b.data && parse_rec(b.data, b.len, r) ? LOAD_OK
	                                                      : LOAD_DAMAGED;
	buf_clear_secret(&b);
	if (rc == LOAD_DAMAGED)
		rec_clear(r);
	return rc;
}

/* ------------------------------------------------------------------------
 * Writing.
 */

static int
rec_format(const struct rec *r, struct buf *b)
{
	static const char *const where[] = {
	    [TOKSTORE_AUTO] = "none",
	    [TOKSTORE_KEYRING] = "keyring",
	    [TOKSTORE_FILE] = "file",
	};
	int rc = buf_printf(b,
	                    FORMAT_LINE "\nendpoint %s\nclient %s\nuser "
	                                "%s\nscope %s\nrefresh %s\n",
	                    r->endpoint ? r->endpoint : "",
	                    r->client ? r->client : "", r->user ? r->user : "",
	                    r->scope ? r->scope : "", where[r->refresh]);

	if (rc == 0 && r->refresh == TOKSTORE_FILE)
		rc = buf_printf(b, "refresh_token %s\n", r->refresh_token);
	if (rc == 0 && r->access_token)
		rc = buf_printf(b, "access_token %s\naccess_expires %lld\n",
		                r->access_token, r->access_expires);
	if (rc == 0)
		rc = buf_printf(b, "end\n");
	return rc;
}

/* name is one of base's temporary files: base, '.', and mkostemp's six
 * letters and digits. */
static bool
is_temp_of(const char *name, const void *arg)
{
	const char *base = arg;
	size_t n = strlen(base);

	if (strncmp(name, base, n) != 0 || name[n] != '.' ||
	    strlen(name + n + 1) != 6)
		return false;
	for (const char *c = name + n + 1; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9')))
			return false;
	return true;
}

/* Remove the temporary files of path that runs killed before their
 * rename left beside it, once older than TOKSTORE_TEMP_AGE
 * (dir_sweep_temps; a refresh token left in one is the caller's, in the
 * caller's 0700 directory, until then). */
static void
sweep_temps(const char *dir, const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (dfd < 0)
		return;
	dir_sweep_temps(dfd, is_temp_of, base, TOKSTORE_TEMP_AGE,
	                TOKSTORE_SCAN_MAX);
	close(dfd);
}

/* path replaced by r: a temporary file beside it, written whole,
 * fsynced, renamed over it, the directory fsynced; the temporary files
 * of killed runs removed (sweep_temps). */
static int
store(const struct tokstore_key *k, const char *path, const struct rec *r,
      struct error *err)
{
	size_t n = strlen(path);
	char *tmp = xmalloc(n + 8), *dir = xstrdup(path), *slash;
	struct buf b;
	int fd, dfd, rc = -1;

	snprintf(tmp, n + 8, "%s.XXXXXX", path);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	buf_init(&b, TOKSTORE_FILE_MAX);
	if (rec_format(r, &b) < 0) {
		error_set(err, ERROR_CONFIG,
		          "the tokens for account '%s' do not fit in %d bytes",
		          name_of(k), TOKSTORE_FILE_MAX);
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		error_set_errno(err, ERROR_IOERR, errno, "cannot write in %s",
		                dir);
		goto out;
	}
	if (fchmod(fd, file_mode(k)) < 0 ||
	    fd_write_all(fd, b.data, b.len) < 0 || fsync(fd) < 0) {
		error_set_errno(err, ERROR_IOERR, errno, "cannot write %s",
		                tmp);
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		error_set_errno(err, ERROR_IOERR, errno, "cannot write %s",
		                path);
		unlink(tmp);
		goto out;
	}
	/* The rename itself lasts only once the directory is on disk. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		error_set_errno(err, ERROR_IOERR, errno, "cannot sync %s", dir);
		if (dfd >= 0)
			close(dfd);
		goto out;
	}
	close(dfd);
	sweep_temps(dir, path);
	rc = 0;
out:
	buf_clear_secret(&b);
	free(tmp);
	free(dir);
	return rc;
}

/* ------------------------------------------------------------------------
 * The group of a setgid installation, around every file operation of the
 * system account.
 */

static bool
raise_for(const struct tokstore_key *k, struct error *err)
{
	if (!k->system || !privilege_held())
		return true;
	return privilege_raise(err) == 0;
}

static void
lower_for(const struct tokstore_key *k)
{
	struct error ignored;

	if (k->system && privilege_held())
		(void)privilege_lower(&ignored);
}

/* The file's record, read with the group when it is the system
 * account's; the path in *path (the caller frees it).  lock: the
 * store's lock taken first (lock_dir) when the directory is there, its
 * descriptor in *lock (-1 otherwise; the caller unlocks). */
static int
open_rec(const struct tokstore_key *k, bool make_dir, char **path,
         struct rec *r, int *lock, struct error *err)
{
	int rc;

	memset(r, 0, sizeof *r);
	if (lock)
		*lock = -1;
	*path = tokstore_path(k, err);
	if (!*path)
		return -1;
	if (!raise_for(k, err))
		return -1;
	rc = check_dir(k, *path, make_dir, err);
	if (rc == 0 && lock)
		rc = lock_dir(k, *path, lock, err);
	if (rc == 1)
		rc = LOAD_NONE;
	else if (rc == 0)
		rc = load(k, *path, r, err);
	lower_for(k);
	return rc;
}

/* Another account's file for k's identity, when dir has none of k's own
 * name: an account that only names another ("account default : work")
 * has the same token endpoint, client and user, and shares that one's
 * login instead of asking for a second.  The first such file in byte
 * order, for a stable choice; NULL when there is none. */
static char *
other_account_file(const struct tokstore_key *k, const char *dir,
                   const char *name)
{
	const char *digest = strrchr(name, '-');
	size_t dlen = digest ? strlen(digest) : 0;
	char *best = NULL, *path;
	struct dirent *e;
	struct error ignored;
	struct stat st;
	struct rec r = {0};
	DIR *d;

	path = join_path(dir, name);
	if (!path || !digest || lstat(path, &st) == 0 || errno != ENOENT) {
		free(path);
		return NULL;
	}
	free(path);
	d = opendir(dir);
	if (!d)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len <= dlen ||
		    strcmp(e->d_name + len - dlen, digest) != 0 ||
		    (best && strcmp(e->d_name, best) >= 0))
			continue;
		path = join_path(dir, e->d_name);
		error_clear(&ignored);
		if (path && load(k, path, &r, &ignored) == LOAD_OK &&
		    rec_is_for(&r, k)) {
			free(best);
			best = xstrdup(e->d_name);
		}
		rec_clear(&r);
		free(path);
	}
	closedir(d);
	path = best ? join_path(dir, best) : NULL;
	free(best);
	return path;
}

/* The system account's files are written by root alone: one written by
 * a caller's run, which holds the group but is the caller, would be the
 * caller's own, theirs to read and to chmod, refresh token and all. */
static int
save_rec(const struct tokstore_key *k, const char *path, const struct rec *r,
         struct error *err)
{
	int rc;

	if (k->system && geteuid() != 0)
		return error_set(err, ERROR_TEMPFAIL,
		                 "the system configuration's OAuth2 tokens are "
		                 "written only by root (a file this run wrote "
		                 "would be its caller's); root's queue run "
		                 "renews them");

	if (!raise_for(k, err))
		return -1;
	rc = store(k, path, r, err);
	lower_for(k);
	return rc;
}

/* r made k's: the identity set, what was for another one dropped. */
static void
rec_adopt(struct rec *r, const struct tokstore_key *k)
{
	if (!rec_is_for(r, k)) {
		rec_clear(r);
		r->refresh = TOKSTORE_AUTO;
	}
	/* An access token asked for another scope is not this one's. */
	if (!same(r->scope, k->scope)) {
		str_wipe_free(&r->access_token);
		r->access_expires = 0;
	}
	str_wipe_free(&r->endpoint);
	str_wipe_free(&r->client);
	str_wipe_free(&r->user);
	str_wipe_free(&r->scope);
	r->endpoint = xstrdup(k->token_endpoint ? k->token_endpoint : "");
	r->client = xstrdup(k->client_id ? k->client_id : "");
	r->user = xstrdup(k->user ? k->user : "");
	r->scope = xstrdup(k->scope ? k->scope : "");
}

/* ------------------------------------------------------------------------
 * The keyring.
 */

/* secret-tool VERB ... service mailpost-oauth2 user U endpoint E client
 * C: the words after "secret-tool", in args (room for 12). */
static void
keyring_args(const struct tokstore_key *k, const char *verb, const char *label,
             const char *args[12])
{
	size_t n = 0;

	args[n++] = verb;
	if (label)
		args[n++] = label;
	args[n++] = "service";
	args[n++] = TOKSTORE_SERVICE;
	args[n++] = "user";
	args[n++] = k->user ? k->user : "";
	args[n++] = "endpoint";
	args[n++] = k->token_endpoint ? k->token_endpoint : "";
	args[n++] = "client";
	args[n++] = k->client_id ? k->client_id : "";
	args[n] = NULL;
}

static int
keyring_store(const struct tokstore_key *k, const char *token,
              struct error *err)
{
	const char *args[12];
	char label[256];

	snprintf(label, sizeof label,
	         "--label=mailpost OAuth2 refresh token (account %s)",
	         name_of(k));
	keyring_args(k, "store", label, args);
	return secret_tool(args, token, NULL, TOKSTORE_KEYRING_TIMEOUT, err);
}

static void
keyring_clear(const struct tokstore_key *k)
{
	const char *args[12];
	struct error ignored;

	keyring_args(k, "clear", NULL, args);
	error_clear(&ignored);
	(void)secret_tool(args, NULL, NULL, TOKSTORE_KEYRING_TIMEOUT, &ignored);
}

/* ------------------------------------------------------------------------
 * The API.
 */

bool
tokstore_is_system(const struct account *a)
{
	/* A caller's run with the group (account.hidden), or root's, which
	 * never holds the group but reads the same file: the login, the
	 * sends and root's queue run all meet in one directory. */
	return a->hidden || (getuid() == 0 && privilege_build_group() &&
	                     a->file && conf_is_system_file(a->file));
}

void
tokstore_key_init(struct tokstore_key *k, const struct account *a,
                  const struct oauth2_settings *s)
{
	memset(k, 0, sizeof *k);
	k->account = a->name;
	k->user = a->user;
	k->token_endpoint = s->token_endpoint;
	k->client_id = s->client_id;
	k->scope = s->scope;
	k->system = tokstore_is_system(a);
	switch (a->oauth2_store) {
	case CONF_OAUTH2_STORE_KEYRING:
		k->where = TOKSTORE_KEYRING;
		break;
	case CONF_OAUTH2_STORE_FILE:
		k->where = TOKSTORE_FILE;
		break;
	case CONF_OAUTH2_STORE_AUTO:
		k->where = TOKSTORE_AUTO;
		break;
	}
	/* The system account's keyring would be the caller's. */
	if (k->system)
		k->where = TOKSTORE_FILE;
}

static int
no_login(const struct tokstore_key *k, const char *why, struct error *err)
{
	char hint[512];

	login_hint(k, hint, sizeof hint);
	return error_set(err, ERROR_NOPERM,
	                 "account '%s' has no OAuth2 login%s; log in: %s",
	                 name_of(k), why, hint);
}

int
tokstore_get_refresh(const struct tokstore_key *k, struct secret *out,
                     struct error *err)
{
	char *path = NULL, hint[512];
	const char *args[12];
	struct rec r;
	int rc;

	memset(out, 0, sizeof *out);
	rc = open_rec(k, false, &path, &r, NULL, err);
	if (rc < 0)
		goto done;
	if (rc == LOAD_DAMAGED) {
		login_hint(k, hint, sizeof hint);
		rc = error_set(err, ERROR_NOPERM,
		               "%s is damaged (not what mailpost writes); log "
		               "in again: %s",
		               path, hint);
	} else if (rc == LOAD_NONE || r.refresh == TOKSTORE_AUTO) {
		rc = no_login(k, "", err);
	} else if (!rec_is_for(&r, k)) {
		rc = no_login(k,
		              " for this user, client id and token endpoint "
		              "(the stored one is for another)",
		              err);
	} else if (r.refresh == TOKSTORE_FILE) {
		secret_from(out, r.refresh_token, SECRET_TOKEN_FILE);
		rc = 0;
	} else {
		keyring_args(k, "lookup", NULL, args);
		rc =
		    secret_tool(args, NULL, out, TOKSTORE_KEYRING_TIMEOUT, err);
		if (rc == 0 && out->len == 0) {
			secret_free(out);
			rc = no_login(k, " in the keyring (its entry is gone)",
			              err);
		} else if (rc < 0 && err->kind != ERROR_TEMPFAIL) {
			char why[ERROR_MSG_MAX];

			snprintf(why, sizeof why, " the keyring gives (%.900s)",
			         err->msg);
			rc = no_login(k, why, err);
		}
	}
done:
	rec_clear(&r);
	free(path);
	return rc < 0 ? -1 : 0;
}

/* Before token (the `what` token) is stored: it is one the file can
 * hold, and the record as open_rec reads it under the store's lock (the
 * directory made when missing); -1 with *path freed and unlocked. */
static int
open_for(const struct tokstore_key *k, const char *what, const char *token,
         char **path, struct rec *r, int *lock, struct error *err)
{
	int rc;

	memset(r, 0, sizeof *r);
	*path = NULL;
	*lock = -1;
	if (!token_ok(token))
		return error_set(err, ERROR_PROTOCOL,
		                 "the %s token is not printable ASCII of at "
		                 "most %d bytes",
		                 what, SECRET_MAX);
	rc = open_rec(k, true, path, r, lock, err);
	if (rc < 0) {
		unlock_dir(lock);
		free(*path);
		*path = NULL;
	}
	return rc;
}

int
tokstore_put_refresh(const struct tokstore_key *k, const char *token,
                     enum tokstore_where *where_out, struct error *err)
{
	char *path = NULL, why[ERROR_MSG_MAX] = "";
	enum tokstore_where was;
	struct rec r;
	int rc, lock;

	error_clear(err);
	*where_out = TOKSTORE_FILE;
	rc = open_for(k, "refresh", token, &path, &r, &lock, err);
	if (rc < 0)
		return -1;
	was = rc == LOAD_OK && rec_is_for(&r, k) ? r.refresh : TOKSTORE_AUTO;
	rec_adopt(&r, k);
	if (k->where != TOKSTORE_FILE && !k->system) {
		if (keyring_store(k, token, err) == 0) {
			*where_out = TOKSTORE_KEYRING;
		} else if (k->where == TOKSTORE_KEYRING) {
			char msg[ERROR_MSG_MAX];

			snprintf(msg, sizeof msg, "%s", err->msg);
			error_set(err, err->kind,
			          "cannot keep account '%s''s refresh token in "
			          "the keyring (oauth2_store keyring): %s",
			          name_of(k), msg);
			rec_clear(&r);
			unlock_dir(&lock);
			free(path);
			return -1;
		} else {
			snprintf(why, sizeof why,
			         "refresh token of account '%s' kept in %s, "
			         "not the keyring: %.700s",
			         name_of(k), path, err->msg);
			error_clear(err);
		}
	}
	str_wipe_free(&r.refresh_token);
	r.refresh = *where_out;
	if (*where_out == TOKSTORE_FILE)
		r.refresh_token = xstrdup(token);
	rc = save_rec(k, path, &r, err);
	if (rc == 0 && was == TOKSTORE_KEYRING && *where_out == TOKSTORE_FILE)
		keyring_clear(k);
	if (rc == 0 && why[0])
		error_set(err, ERROR_NONE, "%s", why);
	rec_clear(&r);
	unlock_dir(&lock);
	free(path);
	return rc;
}

int
tokstore_get_access(const struct tokstore_key *k, int margin_s,
                    struct secret *out, long long *expires_at,
                    struct error *err)
{
	char *path = NULL;
	struct rec r;
	int rc;

	memset(out, 0, sizeof *out);
	*expires_at = 0;
	rc = open_rec(k, false, &path, &r, NULL, err);
	free(path);
	if (rc < 0)
		return -1;
	if (rc == LOAD_OK && r.access_token && rec_is_for(&r, k) &&
	    same(r.scope, k->scope) &&
	    r.access_expires > (long long)time(NULL) + margin_s) {
		secret_from(out, r.access_token, SECRET_TOKEN_FILE);
		*expires_at = r.access_expires;
	}
	rec_clear(&r);
	return 0;
}

int
tokstore_put_access(const struct tokstore_key *k, const char *token,
                    long long expires_at, struct error *err)
{
	char *path = NULL;
	struct rec r;
	int rc, lock;

	if (open_for(k, "access", token, &path, &r, &lock, err) < 0)
		return -1;
	rec_adopt(&r, k);
	str_wipe_free(&r.access_token);
	r.access_token = expires_at > 0 ? xstrdup(token) : NULL;
	r.access_expires = expires_at > 0 ? expires_at : 0;
	rc = save_rec(k, path, &r, err);
	rec_clear(&r);
	unlock_dir(&lock);
	free(path);
	return rc;
}

int
tokstore_drop_access(const struct tokstore_key *k, struct error *err)
{
	char *path = NULL;
	struct rec r;
	int rc, lock;

	rc = open_rec(k, false, &path, &r, &lock, err);
	if (rc == LOAD_OK && r.access_token) {
		str_wipe_free(&r.access_token);
		r.access_expires = 0;
		rc = save_rec(k, path, &r, err);
	} else if (rc >= 0) {
		rc = 0;
	}
	rec_clear(&r);
	unlock_dir(&lock);
	free(path);
	return rc;
}

int
tokstore_status(const struct tokstore_key *k, struct tokstore_status *st,
                struct error *err)
{
	char *path = NULL;
	struct rec r;
	int rc;

	memset(st, 0, sizeof *st);
	rc = open_rec(k, false, &path, &r, NULL, err);
	if (path)
		str_copy(st->path, sizeof st->path, path);
	free(path);
	if (rc < 0)
		return -1;
	if (rc == LOAD_OK && rec_is_for(&r, k)) {
		st->refresh = r.refresh;
		st->has_access =
		    r.access_token != NULL && same(r.scope, k->scope);
		st->access_expires_at = st->has_access ? r.access_expires : 0;
	}
	rec_clear(&r);
	return 0;
}

int
tokstore_lock(const struct tokstore_key *k, struct error *err)
{
	char *path;
	int rc, fd = -1;

	if (held.depth > 0) {
		held.depth++;
		return 0;
	}
	path = tokstore_path(k, err);
	if (!path)
		return -1;
	if (!raise_for(k, err)) {
		free(path);
		return -1;
	}
	rc = check_dir(k, path, false, err);
	if (rc == 0)
		rc = lock_dir(k, path, &fd, err);
	lower_for(k);
	if (rc >= 0) {
		held.dir = dir_part(path);
		held.fd = fd;
		held.depth = 1;
	}
	free(path);
	return rc < 0 ? -1 : 0;
}

void
tokstore_unlock(void)
{
	if (held.depth == 0 || --held.depth > 0)
		return;
	if (held.fd >= 0)
		close(held.fd); /* and the flock with it */
	held.fd = -1;
	free(held.dir);
	held.dir = NULL;
}
