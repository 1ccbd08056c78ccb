/*
 * queue.c - the spool directory (the contract is in queue.h).
 *
 * QUEUE FORMAT (also in mailpost(1), section QUEUE)
 *
 *     DIR/                  the queue: mode 0700, owned by the user
 *     DIR/tmp/              entries being written or being removed
 *     DIR/tmp/ID/           an entry being written (private to its writer)
 *     DIR/tmp/ID.removed-R/ an entry being removed
 *     DIR/ID/               a complete entry
 *     DIR/ID/message        the message exactly as it is sent: canonical
 *                           text with CRLF line endings, never modified
 *     DIR/ID/envelope       everything else about it (text, queuefile.h);
 *                           replaced as a whole (envelope.new, then rename)
 *                           after a failed attempt (with fewer recipients
 *                           after a partial delivery)
 *
 * ID is 16 lower-case hexadecimal digits: the time the message was queued
 * (seconds since the epoch, 8 digits) followed by 32 random bits, so that
 * ids sort by age.  Only names of that form directly under DIR are entries;
 * anything else there is ignored.
 *
 * Writing.  An entry is built in a new directory DIR/tmp/ID (mode 0700):
 * the message file is written (mode 0600, never through a symbolic link)
 * and fsync'ed, then the envelope file, then the entry directory is
 * fsync'ed, renamed to DIR/ID in one step, and DIR is fsync'ed.  Whenever
 * the writer is killed, the entry is either complete in DIR or absent
 * from it; a partial entry can only remain under tmp/.
 *
 * Damaged entries.  An entry that cannot be sent as it is, is damaged:
 * DIR/ID is not a directory (a symbolic link is never followed), its
 * envelope cannot be read, its message file is missing, is not a regular
 * file (a symbolic link, a directory...) or has another size than the
 * envelope says, or the entry or one of its files belongs to another
 * user.  Such an entry is not listed with the others and never sent;
 * queue_damaged names it with the reason, so that mailq and every flush
 * show it, until it is removed (queue_claim hands it out for that).
 *
 * Locking.  A process sending or removing an entry holds an exclusive
 * flock(2) lock on its message file.  Removal renames DIR/ID to
 * DIR/tmp/ID.removed-R while the lock is held, and deletes it after.
 *
 * Cleaning.  Each time the queue is opened, what is left under tmp/ by a
 * writer or remover that was killed is deleted, once it is more than an
 * hour old and its message file is not locked.
 *
 * The machine's spool (queue_open_shared).  The same layout, with
 * DIR/dead/ beside tmp/ (the dead-letter queue: the same entries, never
 * sent), all three root:GROUP 2770 and nothing for others.  Each entry
 * directory (0700) and its files (0600) belong to whoever queued it; that
 * owner is the entry's, so a file of anyone else's in it, root's too,
 * makes it damaged.  Root sees every entry, and gives what it writes in
 * one (a new envelope) to the entry's owner; any other process sees
 * only its own, and leaves the others' tmp/ leftovers to root.  An entry
 * moves into dead/ in one rename (queue_entry_bury); dead/ builds and
 * removes its entries under the spool's tmp/.
 */
#include "config.h"

#include "queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "privilege.h"
#include "queuefile.h"

/* Messages are copied in blocks of this size (never held whole). */
#define QUEUE_COPY_BUF (64 * 1024)

/* Ceiling on the stored last-error line (bytes). */
#define QUEUE_ERROR_LINE_MAX (ERROR_MSG_MAX - 1)

/* tmp/ leftovers older than this are a killed process's, not a slow one's. */
#define QUEUE_STALE_SECONDS 3600

/* How many fresh random ids to try when one is taken. */
#define QUEUE_ID_TRIES 32

/* How deep a removed entry is deleted: a real entry holds two files, a
 * damaged one may hold directories; deeper than this stays under tmp/. */
#define QUEUE_DELETE_DEPTH 4

struct queue {
	char *path; /* as given, without trailing slashes */
	int fd;     /* DIR */
	int tmp_fd; /* DIR/tmp (the spool's, for its dead-letter queue) */
	time_t (*clock)(void); /* NULL: time(2) */
	bool shared;           /* the machine's spool (queue_open_shared) */
	gid_t group;           /* its group, when shared */
};

static time_t
queue_now(const struct queue *q)
{
	return q->clock ? q->clock() : time(NULL);
}

/* Whether this process may see and touch the entries of `owner` (the
 * owner of an entry's directory).  In a user's own queue every entry is
 * looked at (another user's is damaged: it was not written for us).  In
 * the machine's spool, root sees every owner's entries and any other
 * process only its own: the others' are not there for it at all, so that
 * even their ids are not revealed. */
static bool
queue_sees(const struct queue *q, uid_t owner)
{
	return !q->shared || geteuid() == 0 || owner == geteuid();
}

struct queue_entry {
	struct queue *q;
	char id[QUEUE_ID_SIZE];
	int dir_fd;    /* DIR/ID (follows the directory when it is renamed) */
	int msg_fd;    /* DIR/ID/message, holding the lock */
	uint64_t size; /* of the message file */
	uint64_t pos;  /* read position of the message stream */
	bool removed;
	bool env_ok;  /* env was read (always, unless damaged) */
	char *damage; /* why it cannot be sent (QUEUE_DAMAGED), or NULL */
	struct queue_envelope env;
};

/* --- system calls that go on after a signal ------------------------------
 *
 * The caller catches signals without SA_RESTART (so that a wait on the
 * network ends); a queue operation must still finish, so every call that
 * can return EINTR is repeated. */

static int
open_at(int dirfd, const char *name, int flags, mode_t mode)
{
	int fd;

	do
		fd = openat(dirfd, name, flags | O_CLOEXEC, mode);
	while (fd < 0 && errno == EINTR);
	return fd;
}

/* A directory under dirfd, never through a symbolic link. */
static int
open_dir_at(int dirfd, const char *name)
{
	return open_at(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
}

static int
mkdir_at(int dirfd, const char *name, mode_t mode)
{
	int rc;

	do
		rc = mkdirat(dirfd, name, mode);
	while (rc < 0 && errno == EINTR);
	return rc;
}

static int
unlink_at(int dirfd, const char *name, int flags)
{
	int rc;

	do
		rc = unlinkat(dirfd, name, flags);
	while (rc < 0 && errno == EINTR);
	return rc;
}

static int
stat_at(int dirfd, const char *name, struct stat *st)
{
	int rc;

	do
		rc = fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW);
	while (rc < 0 && errno == EINTR);
	return rc;
}

/* rename(2) that never replaces an existing name (where the kernel can
 * promise that; elsewhere, renaming a directory onto a non-empty one
 * fails anyway, and entries are never empty). */
static int
rename_at(int from_fd, const char *from, int to_fd, const char *to)
{
	int rc;

#if defined(RENAME_NOREPLACE)
	do
		rc = renameat2(from_fd, from, to_fd, to, RENAME_NOREPLACE);
	while (rc < 0 && errno == EINTR);
	if (rc == 0 || (errno != EINVAL && errno != ENOSYS))
		return rc;
#endif
	do
		rc = renameat(from_fd, from, to_fd, to);
	while (rc < 0 && errno == EINTR);
	return rc;
}

/* rename(2) that replaces the target (for the envelope). */
static int
rename_over(int dirfd, const char *from, const char *to)
{
	int rc;

	do
		rc = renameat(dirfd, from, dirfd, to);
	while (rc < 0 && errno == EINTR);
	return rc;
}

static int
fsync_fd(int fd)
{
	int rc;

	do
		rc = fsync(fd);
	while (rc < 0 && errno == EINTR);
	return rc;
}

static int
lock_fd(int fd, int op)
{
	int rc;

	do
		rc = flock(fd, op);
	while (rc < 0 && errno == EINTR);
	return rc;
}

/* close(2), not repeated on EINTR (the descriptor is gone either way). */
static void
close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* A directory stream on dirfd that leaves dirfd open. */
static DIR *
open_dir_stream(int dirfd)
{
	int fd = open_at(dirfd, ".", O_RDONLY | O_DIRECTORY, 0);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

static bool
is_dot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* --- ids ----------------------------------------------------------------- */

/* Ids need to be unique, not secret, and a collision is detected anyway
 * (mkdir and rename never replace). */
static uint32_t
random_u32(void)
{
	unsigned char b[4];

	random_unique(b, sizeof b);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

static void
make_id(char id[QUEUE_ID_SIZE], time_t created)
{
	snprintf(id, QUEUE_ID_SIZE, "%08" PRIx32 "%08" PRIx32,
	         (uint32_t)created, random_u32());
}

/* --- the last error ------------------------------------------------------ */

/* The last-error line as stored: control characters replaced by '?' (it
 * is printed by mailq), at most QUEUE_ERROR_LINE_MAX bytes, cut before a
 * UTF-8 continuation byte.  NULL stays NULL. */
static char *
error_line_copy(const char *s)
{
	size_t len;
	char *c;

	if (!s)
		return NULL;
	len = strlen(s);
	if (len > QUEUE_ERROR_LINE_MAX) {
		len = QUEUE_ERROR_LINE_MAX;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	c = xstrndup(s, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)c[i];

		if (b < 0x20 || b == 0x7f)
			c[i] = '?';
	}
	return c;
}

/* --- the envelope file on disk (its text: queuefile.c) ------------------- */

/* Who must own the files of an entry.  In a user's queue, the user: a
 * file of another's was not written by mailpost for us.  In the machine's
 * spool, the owner of the entry's directory (whoever called queue_add):
 * a file of anyone else's, root's included, was put there by no writer
 * of the entry, and root must not send or show it as the owner's. */
struct owner_rule {
	bool shared;
	uid_t uid;
};

static int
check_owner(const struct stat *st, const char *id, const char *what,
            const struct owner_rule *rule, struct error *err)
{
	if (st->st_uid == rule->uid)
		return 0;
	if (rule->shared)
		return error_set(err, ERROR_DATA,
		                 "queue entry %s: %s belongs to uid %lu, the "
		                 "entry to uid %lu",
		                 id, what, (unsigned long)st->st_uid,
		                 (unsigned long)rule->uid);
	return error_set(err, ERROR_DATA,
	                 "queue entry %s: %s belongs to uid %lu, not to you "
	                 "(uid %lu)",
	                 id, what, (unsigned long)st->st_uid,
	                 (unsigned long)rule->uid);
}

/* Read DIR/ID/envelope (entry_fd is DIR/ID) into e. */
static int
envelope_load(int entry_fd, const char *id, const struct owner_rule *rule,
              struct queue_envelope *e, struct error *err)
{
	struct queue_envelope tmp;
	struct stat st;
	char *s;
	size_t len = 0, cap;
	int fd, rc;

	fd = open_at(entry_fd, "envelope", O_RDONLY | O_NOFOLLOW | O_NONBLOCK,
	             0);
	if (fd < 0)
		return error_set_errno(
		    err, ERROR_IOERR, errno,
		    "queue entry %s: cannot open its envelope", id);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > QUEUE_ENVELOPE_MAX) {
		close(fd);
		return error_set(
		    err, ERROR_DATA,
		    "queue entry %s: its envelope is not a regular "
		    "file of at most %d bytes",
		    id, QUEUE_ENVELOPE_MAX);
	}
	if (check_owner(&st, id, "its envelope", rule, err) < 0) {
		close(fd);
		return -1;
	}
	/* The file is never written in place (it is replaced by rename), so
	 * its size is known; one byte more detects a file that grew. */
	cap = (size_t)st.st_size + 1;
	s = xmalloc(cap);
	while (len < cap) {
		ssize_t r = fd_read(fd, s + len, cap - len);

		if (r < 0) {
			error_set_errno(
			    err, ERROR_IOERR, errno,
			    "queue entry %s: cannot read its envelope", id);
			close(fd);
			free(s);
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (len == cap) {
		free(s);
		return error_set(
		    err, ERROR_DATA,
		    "queue entry %s: its envelope changed while it "
		    "was read",
		    id);
	}
	queue_envelope_init(&tmp);
	rc = queuefile_parse_in_place(s, len, id, &tmp, err);
	free(s);
	if (rc < 0) {
		queue_envelope_clear(&tmp);
		return -1;
	}
	queue_envelope_clear(e);
	*e = tmp;
	e->owner = rule->uid;
	return 0;
}

/* Write the file `name` in dirfd (which must not exist) with t, fsync'ed,
 * owned by `owner`: root updating another user's entry in the spool
 * gives the file to the entry's owner, as every file of an entry must
 * be.  -1 with errno. */
static int
write_file(int dirfd, const char *name, const char *data, size_t len,
           uid_t owner)
{
	int fd, saved;

	fd = open_at(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
	             0600);
	if (fd < 0)
		return -1;
	if ((owner != geteuid() && fchown(fd, owner, (gid_t)-1) < 0) ||
	    fchmod(fd, 0600) < 0 || fd_write_all(fd, data, len) < 0 ||
	    fsync_fd(fd) < 0) {
		saved = errno;
		close(fd);
		unlink_at(dirfd, name, 0);
		errno = saved;
		return -1;
	}
	if (close(fd) < 0 && errno != EINTR) {
		saved = errno;
		unlink_at(dirfd, name, 0);
		errno = saved;
		return -1;
	}
	return 0;
}

/* Replace entry_fd/envelope by the text of e in one step, durably.
 * -1 with errno. */
static int
envelope_replace(int entry_fd, const struct queue_envelope *e)
{
	struct buf b;
	struct error ignored;
	int saved;

	if (queuefile_format(e, &b, &ignored) < 0) {
		errno = EFBIG;
		return -1;
	}
	/* A leftover of a process killed while it replaced the envelope. */
	if (unlink_at(entry_fd, "envelope.new", 0) < 0 && errno != ENOENT)
		goto fail;
	if (write_file(entry_fd, "envelope.new", buf_str(&b), b.len, e->owner) <
	    0)
		goto fail;
	if (rename_over(entry_fd, "envelope.new", "envelope") < 0) {
		saved = errno;
		unlink_at(entry_fd, "envelope.new", 0);
		errno = saved;
		goto fail;
	}
	buf_clear(&b);
	return fsync_fd(entry_fd);
fail:
	saved = errno;
	buf_clear(&b);
	errno = saved;
	return -1;
}

/* --- removing what is under tmp/ ------------------------------------------ */

/* Delete what a directory holds, never through a link (a symbolic link
 * is removed, not followed), subdirectories down to `depth` levels. */
static void
delete_contents(int dirfd, int depth)
{
	DIR *d = open_dir_stream(dirfd);
	struct dirent *de;
	struct stat st;
	int fd;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (is_dot(de->d_name) || stat_at(dirfd, de->d_name, &st) < 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			unlink_at(dirfd, de->d_name, 0);
			continue;
		}
		if (depth <= 0)
			continue;
		fd = open_dir_at(dirfd, de->d_name);
		if (fd < 0)
			continue;
		delete_contents(fd, depth - 1);
		close(fd);
		unlink_at(dirfd, de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

static void
delete_files(int dirfd)
{
	delete_contents(dirfd, QUEUE_DELETE_DEPTH);
}

/* The newest modification time of a directory and of its files. */
static time_t
newest_mtime(int dirfd)
{
	DIR *d = open_dir_stream(dirfd);
	struct dirent *de;
	struct stat st;
	time_t newest = 0;

	if (fstat(dirfd, &st) == 0)
		newest = st.st_mtime;
	if (!d)
		return newest;
	while ((de = readdir(d))) {
		if (!is_dot(de->d_name) &&
		    stat_at(dirfd, de->d_name, &st) == 0 &&
		    st.st_mtime > newest)
			newest = st.st_mtime;
	}
	closedir(d);
	return newest;
}

/* An entry directory under tmp/ left by a writer or remover that was
 * killed: deleted when nothing in it changed for QUEUE_STALE_SECONDS and
 * nobody holds the lock on its message (a live writer or remover does,
 * however slow it is). */
static void
clean_tmp_entry(int tmp_fd, const char *name, time_t cutoff)
{
	int fd = open_dir_at(tmp_fd, name);
	int msg;

	if (fd < 0)
		return;
	msg = open_at(fd, "message", O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
	if ((msg < 0 || lock_fd(msg, LOCK_EX | LOCK_NB) == 0) &&
	    newest_mtime(fd) < cutoff) {
		delete_files(fd);
		unlink_at(tmp_fd, name, AT_REMOVEDIR);
	}
	close_fd(msg);
	close(fd);
}

static void
clean_tmp(struct queue *q)
{
	time_t cutoff = queue_now(q) - QUEUE_STALE_SECONDS;
	DIR *d = open_dir_stream(q->tmp_fd);
	struct dirent *de;
	struct stat st;

	if (!d)
		return;
	while ((de = readdir(d))) {
		/* Another user's leftovers in the spool are root's to clean. */
		if (is_dot(de->d_name) ||
		    stat_at(q->tmp_fd, de->d_name, &st) < 0 ||
		    st.st_mtime >= cutoff || !queue_sees(q, st.st_uid))
			continue;
		if (S_ISREG(st.st_mode))
			unlink_at(q->tmp_fd, de->d_name, 0);
		else if (S_ISDIR(st.st_mode))
			clean_tmp_entry(q->tmp_fd, de->d_name, cutoff);
	}
	closedir(d);
}

/* Move DIR/ID out of the queue, to tmp/ID.removed-R, in one step, so
 * that it is no longer listed nor claimable; the files are deleted after
 * through entry_fd (which follows the directory), or, when entry_fd is -1
 * (a damaged entry that is no directory), the name itself.  The caller
 * holds the lock (a damaged entry may have none to hold).  -1 with errno when
 * the rename failed (nothing changed); otherwise 0, with *sync_errno set when
 * the rename could not be made durable (after a crash the entry could come
 * back). */
static int
retire(struct queue *q, const char *id, int entry_fd, int *sync_errno)
{
	char name[QUEUE_ID_LEN + 32];
	int tries = 0, rc;

	do {
		snprintf(name, sizeof name, "%s.removed-%08" PRIx32, id,
		         random_u32());
		rc = rename_at(q->fd, id, q->tmp_fd, name);
	} while (rc < 0 && (errno == EEXIST || errno == ENOTEMPTY) &&
	         ++tries < QUEUE_ID_TRIES);
	if (rc < 0)
		return -1;
	*sync_errno = fsync_fd(q->fd) < 0 ? errno : 0;
	if (entry_fd < 0) {
		unlink_at(q->tmp_fd, name, 0);
		return 0;
	}
	delete_files(entry_fd);
	unlink_at(q->tmp_fd, name, AT_REMOVEDIR);
	return 0;
}

/* --- opening ------------------------------------------------------------- */

char *
queue_default_dir(struct error *err)
{
	return conf_state_dir("queue", err);
}

/* What kind of error an errno from creating or opening the queue is. */
static enum error_kind
dir_error_kind(int e)
{
	switch (e) {
	case EACCES:
	case EPERM:
	case EROFS:
	case ENOTDIR:
	case ELOOP:
	case ENAMETOOLONG:
		return ERROR_CONFIG;
	default:
		return ERROR_IOERR;
	}
}

/* mkdir -p path: the components from the first missing one on are
 * created, mode 0700; those that exist are left as they are. */
static int
make_dirs(const char *path, struct error *err)
{
	size_t failed = strlen(path);

	if (dir_make_private(path, &failed) == 0)
		return 0;
	return error_set_errno(err, dir_error_kind(errno), errno,
	                       "cannot create the queue directory %.*s",
	                       (int)failed, path);
}

/* Refuse a queue directory (or its tmp/) that another user could change. */
static int
check_dir(int fd, const char *path, const char *what, struct error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot check the queue directory %s%s",
		                       path, what);
	if (st.st_uid != geteuid())
		return error_set(err, ERROR_CONFIG,
		                 "the queue directory %s%s belongs to uid %lu, "
		                 "not to you (uid %lu): set queue_dir to a "
		                 "directory of your own",
		                 path, what, (unsigned long)st.st_uid,
		                 (unsigned long)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return error_set(err, ERROR_CONFIG,
		                 "the queue directory %s%s is writable by "
		                 "others: run chmod 700 %s%s",
		                 path, what, path, what);
	return 0;
}

/* The directory path itself, never through a symbolic link (unchecked). */
static int
open_top_dir(const char *path, struct error *err)
{
	int fd =
	    open_at(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
	struct stat st;

	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR) &&
	    lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		error_set(err, ERROR_CONFIG,
		          "the queue directory %s is a symbolic link: set "
		          "queue_dir to the directory it points to",
		          path);
		return -1;
	}
	if (fd < 0) {
		error_set_errno(err, dir_error_kind(errno), errno,
		                "cannot open the queue directory %s", path);
		return -1;
	}
	return fd;
}

static int
open_queue_dir(const char *path, struct error *err)
{
	int fd = open_top_dir(path, err);

	if (fd >= 0 && check_dir(fd, path, "", err) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* What to add to "cannot open DIR" when the cause is the kind of file
 * found there (a link, a file), and only then: under a tiny ulimit -n the
 * reason is the limit, not the directory. */
static const char *
not_dir_hint(int e)
{
	return e == ELOOP || e == ENOTDIR ? " (it must be a directory)" : "";
}

static int
open_tmp_dir(struct queue *q, struct error *err)
{
	bool created = mkdir_at(q->fd, "tmp", 0700) == 0;

	if (!created && errno != EEXIST)
		return error_set_errno(err, dir_error_kind(errno), errno,
		                       "cannot create %s/tmp", q->path);
	q->tmp_fd = open_dir_at(q->fd, "tmp");
	if (q->tmp_fd < 0)
		return error_set_errno(err, dir_error_kind(errno), errno,
		                       "cannot open %s/tmp%s", q->path,
		                       not_dir_hint(errno));
	if (created)
		fchmod(q->tmp_fd, 0700); /* the umask cut mkdir's mode */
	return check_dir(q->tmp_fd, q->path, "/tmp", err);
}

int
queue_open(struct queue **out, const char *dir, struct error *err)
{
	return queue_open_clock(out, dir, NULL, err);
}

/* A queue not opened yet, for dir (NULL with err when the name is empty). */
static struct queue *
queue_new(const char *dir, time_t (*clock)(void), struct error *err)
{
	struct queue *q;
	size_t len;

	if (!dir || !*dir) {
		error_set(err, ERROR_CONFIG,
		          "the queue directory name is empty");
		return NULL;
	}
	q = xcalloc(1, sizeof *q);
	q->fd = q->tmp_fd = -1;
	q->clock = clock;
	q->path = xstrdup(dir);
	/* "dir/" would follow a symbolic link named dir. */
	len = strlen(q->path);
	while (len > 1 && q->path[len - 1] == '/')
		q->path[--len] = '\0';
	return q;
}

int
queue_open_clock(struct queue **out, const char *dir, time_t (*clock)(void),
                 struct error *err)
{
	struct queue *q;

	*out = NULL;
	q = queue_new(dir, clock, err);
	if (!q)
		return -1;
	if (make_dirs(q->path, err) < 0)
		goto fail;
	q->fd = open_queue_dir(q->path, err);
	if (q->fd < 0 || open_tmp_dir(q, err) < 0)
		goto fail;
	clean_tmp(q);
	*out = q;
	return 0;
fail:
	queue_close(q);
	return -1;
}

/* --- the machine's spool ----------------------------------------------------
 *
 * One directory for every user of the machine (mailpost(1), QUEUE and
 * SECURITY): root:GROUP 2770, with tmp/ and dead/ alike.  Only root and
 * the group reach it, the group only through the spool helper, which acts
 * for its caller with the caller's uid; each entry directory is 0700 its
 * writer's, so root reads every entry and no other writer any but its
 * own.  What makes a directory safe here is therefore not "mine" (as for
 * a user's queue) but "root's and the group's alone". */

static int
check_spool_dir(int fd, const char *path, const char *what, gid_t group,
                struct error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot check the spool %s%s", path,
		                       what);
	if (st.st_uid != 0 || st.st_gid != group)
		return error_set(err, ERROR_CONFIG,
		                 "the spool %s%s belongs to uid %lu and gid "
		                 "%lu, not to root and the group of the system "
		                 "sendmail: run chown root:%lu %s%s",
		                 path, what, (unsigned long)st.st_uid,
		                 (unsigned long)st.st_gid, (unsigned long)group,
		                 path, what);
	if (st.st_mode & S_IRWXO)
		return error_set(err, ERROR_CONFIG,
		                 "the spool %s%s is open to others: run chmod "
		                 "2770 %s%s",
		                 path, what, path, what);
	return 0;
}

/* A directory of the spool made root:GROUP 2770 (mkdir's mode is cut by
 * the umask and gives no setgid bit: set after, before anyone else can
 * have used it, since it is 0700 root's until then).  -1 with errno. */
static int
make_spool_dir(int at_fd, const char *name, gid_t group)
{
	int fd, saved;

	if (mkdir_at(at_fd, name, 0700) < 0)
		return -1;
	fd = open_dir_at(at_fd, name);
	if (fd < 0)
		return -1;
	if (fchown(fd, 0, group) < 0 || fchmod(fd, 02770) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Root's own tmp/ of the queue the spool was before it was shared
 * (0700 root:root) becomes the spool's: only root can have made a
 * directory root owns, so nobody else's choice is undone. */
static void
repair_spool_dir(int fd, gid_t group)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || st.st_uid != 0 || st.st_gid == group)
		return;
	if (fchown(fd, 0, group) == 0)
		fchmod(fd, 02770);
}

/* DIR/name (tmp or dead), made when it is missing and this process is
 * root (mta-install and the package make them; root's first run after an
 * upgrade from a spool without them may have to). */
static int
open_spool_sub(int dir_fd, const char *path, const char *name, gid_t group,
               struct error *err)
{
	char what[16];
	int fd = -1;

	snprintf(what, sizeof what, "/%s", name);
	if (geteuid() == 0)
		fd = make_spool_dir(dir_fd, name, group);
	if (fd < 0)
		fd = open_dir_at(dir_fd, name);
	if (fd < 0 && errno == ENOENT)
		return error_set(err, ERROR_CONFIG,
		                 "the spool %s has no %s/: as root, run "
		                 "mailpost -q once (or make install-mta again)",
		                 path, name);
	if (fd < 0)
		return error_set_errno(err, dir_error_kind(errno), errno,
		                       "cannot open the spool %s%s%s", path,
		                       what, not_dir_hint(errno));
	if (geteuid() == 0)
		repair_spool_dir(fd, group);
	if (check_spool_dir(fd, path, what, group, err) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The spool itself; root makes it when it is missing (not its parents). */
static int
open_spool(const char *path, gid_t group, struct error *err)
{
	struct stat st;
	int fd = -1;

	if (geteuid() == 0)
		fd = make_spool_dir(AT_FDCWD, path, group);
	else if (lstat(path, &st) < 0 && errno == ENOENT)
		return error_set(err, ERROR_CONFIG,
		                 "the spool %s does not exist: as root, run "
		                 "make install-mta (or reinstall mailpost-mta)",
		                 path);
	if (fd < 0)
		fd = open_top_dir(path, err);
	if (fd >= 0 && check_spool_dir(fd, path, "", group, err) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The spool (with its tmp/) in q; root makes dead/ too, so that a dead
 * letter never finds it missing. */
static int
spool_open(struct queue *q, gid_t group, struct error *err)
{
	int dead;

	q->shared = true;
	q->group = group;
	q->fd = open_spool(q->path, group, err);
	if (q->fd < 0)
		return -1;
	q->tmp_fd = open_spool_sub(q->fd, q->path, "tmp", group, err);
	if (q->tmp_fd < 0)
		return -1;
	if (geteuid() == 0) {
		dead = open_spool_sub(q->fd, q->path, "dead", group, err);
		if (dead < 0)
			return -1;
		close(dead);
	}
	return 0;
}

int
queue_open_shared(struct queue **out, const char *dir, gid_t group,
                  struct error *err)
{
	return queue_open_shared_clock(out, dir, group, NULL, err);
}

int
queue_open_shared_clock(struct queue **out, const char *dir, gid_t group,
                        time_t (*clock)(void), struct error *err)
{
	struct queue *q;

	*out = NULL;
	/* Root's flush would find a relative name under its working
	 * directory (a cron job's is root's home), the spool helper under
	 * /, the timer elsewhere again: mail queued where none flushes. */
	if (dir && *dir && *dir != '/')
		return error_set(err, ERROR_CONFIG,
		                 "the spool %s is not an absolute path: set "
		                 "queue_dir to one, such as %s",
		                 dir, MTA_SPOOL_DIR);
	q = queue_new(dir, clock, err);
	if (!q)
		return -1;
	if (spool_open(q, group, err) < 0) {
		queue_close(q);
		return -1;
	}
	clean_tmp(q);
	*out = q;
	return 0;
}

int
queue_open_shared_dead(struct queue **out, const char *dir, gid_t group,
                       struct error *err)
{
	struct queue *spool, *q;
	int fd;

	*out = NULL;
	if (queue_open_shared(&spool, dir, group, err) < 0)
		return -1;
	fd = open_spool_sub(spool->fd, spool->path, "dead", group, err);
	if (fd < 0) {
		queue_close(spool);
		return -1;
	}
	/* DIR/dead with DIR/tmp: entries are built and removed there, and
	 * one moves between the spool and dead/ in one rename. */
	q = xcalloc(1, sizeof *q);
	q->path = xmalloc(strlen(spool->path) + sizeof "/dead");
	snprintf(q->path, strlen(spool->path) + sizeof "/dead", "%s/dead",
	         spool->path);
	q->fd = fd;
	q->tmp_fd = spool->tmp_fd;
	spool->tmp_fd = -1;
	q->shared = true;
	q->group = group;
	queue_close(spool);
	*out = q;
	return 0;
}

int
queue_open_as(struct queue **out, const char *dir, const gid_t *spool_group,
              time_t (*clock)(void), struct error *err)
{
	if (spool_group)
		return queue_open_shared_clock(out, dir, *spool_group, clock,
		                               err);
	return queue_open_clock(out, dir, clock, err);
}

const char *
queue_owner_name(uid_t uid, char *buf, size_t n)
{
	struct passwd *pw = getpwuid(uid);

	if (pw && pw->pw_name && *pw->pw_name)
		str_copy(buf, n, pw->pw_name);
	else
		snprintf(buf, n, "%lu", (unsigned long)uid);
	return str_censor(buf, strlen(buf));
}

bool
queue_is_shared(const struct queue *q)
{
	return q->shared;
}

void
queue_close(struct queue *q)
{
	if (!q)
		return;
	close_fd(q->tmp_fd);
	close_fd(q->fd);
	free(q->path);
	free(q);
}

const char *
queue_dir(const struct queue *q)
{
	return q->path;
}

/* --- adding -------------------------------------------------------------- */

/* An entry being written. */
struct pending {
	char tmp_name[QUEUE_ID_SIZE]; /* its directory under tmp/ */
	int dir_fd;
	int msg_fd; /* written, and locked from its creation on */
	uid_t owner; /* whose entry: its directory and files are given to it */
	bool published;
};

/* A directory or file of the entry, made by this process, given to the
 * entry's owner when that is someone else (root writing in the spool
 * for another user).  -1 with errno. */
static int
pending_give(const struct pending *p, int fd)
{
	if (p->owner == geteuid())
		return 0;
	return fchown(fd, p->owner, (gid_t)-1);
}

/* Make tmp/ID for a new id (one not in use in tmp/ nor in DIR). */
static int
pending_create(struct queue *q, time_t created, struct pending *p,
               char id[QUEUE_ID_SIZE])
{
	struct stat st;

	for (int tries = 0; tries < QUEUE_ID_TRIES; tries++) {
		make_id(id, created);
		if (stat_at(q->fd, id, &st) == 0)
			continue;
		if (mkdir_at(q->tmp_fd, id, 0700) < 0) {
			if (errno == EEXIST)
				continue;
			return -1;
		}
		str_copy(p->tmp_name, sizeof p->tmp_name, id);
		p->dir_fd = open_dir_at(q->tmp_fd, id);
		if (p->dir_fd < 0 || fchmod(p->dir_fd, 0700) < 0 ||
		    pending_give(p, p->dir_fd) < 0)
			return -1;
		return 0;
	}
	errno = EEXIST;
	return -1;
}

/* Copy m to the message file.  -1 with err set (or errno, err untouched,
 * for a write error: *write_failed). */
static int
copy_message(struct message_stream *m, int fd, uint64_t *total,
             bool *write_failed, struct error *err)
{
	char *buf = xmalloc(QUEUE_COPY_BUF);
	int rc = -1;

	*total = 0;
	*write_failed = false;
	error_clear(err);
	for (;;) {
		ssize_t got = m->read(m->ctx, buf, QUEUE_COPY_BUF, err);

		if (got < 0) {
			if (err->kind == ERROR_NONE)
				error_set(err, ERROR_IOERR, "read error");
			break;
		}
		if ((size_t)got > QUEUE_COPY_BUF) {
			error_set(err, ERROR_SOFTWARE,
			          "the message stream overran its buffer");
			break;
		}
		if (got == 0) {
			rc = 0;
			break;
		}
		if (fd_write_all(fd, buf, (size_t)got) < 0) {
			*write_failed = true;
			break;
		}
		*total += (uint64_t)got;
	}
	free(buf);
	return rc;
}

/* The message file, written, fsync'ed and locked. */
static int
pending_message(struct pending *p, struct message_stream *m, const char *qpath,
                struct error *err)
{
	uint64_t total;
	bool write_failed;

	p->msg_fd = open_at(p->dir_fd, "message",
	                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
	if (p->msg_fd < 0 || fchmod(p->msg_fd, 0600) < 0 ||
	    pending_give(p, p->msg_fd) < 0 || lock_fd(p->msg_fd, LOCK_EX) < 0)
		goto sys_fail;
	if (copy_message(m, p->msg_fd, &total, &write_failed, err) < 0) {
		if (write_failed)
			goto sys_fail;
		error_prefix(err, "cannot queue the message: ");
		return -1;
	}
	/* The stream promised m->size bytes: anything else means the spool
	 * file changed under us, or a caller did not rewind the stream. */
	if (total != m->size)
		return error_set(err, ERROR_IOERR,
		                 "cannot queue the message: read %llu bytes, "
		                 "expected %llu",
		                 (unsigned long long)total,
		                 (unsigned long long)m->size);
	if (fsync_fd(p->msg_fd) < 0)
		goto sys_fail;
	return 0;
sys_fail:
	return error_set_errno(err, ERROR_IOERR, errno,
	                       "cannot queue the message in %s", qpath);
}

/* Rename tmp/NAME to DIR/ID.  Should DIR/ID appear meanwhile (the same
 * second and the same 32 random bits), a new id is taken and written into
 * the envelope first.  -1 with errno. */
static int
pending_publish(struct queue *q, struct pending *p, struct queue_envelope *e)
{
	for (int tries = 0; tries < QUEUE_ID_TRIES; tries++) {
		if (rename_at(q->tmp_fd, p->tmp_name, q->fd, e->id) == 0) {
			p->published = true;
			return 0;
		}
		if (errno != EEXIST && errno != ENOTEMPTY)
			return -1;
		make_id(e->id, e->created);
		if (envelope_replace(p->dir_fd, e) < 0)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/* Remove what was written, whatever stage it reached. */
static void
pending_discard(struct queue *q, struct pending *p, const char *id)
{
	if (p->published) {
		/* The rename happened but could not be made durable: take it
		 * back out under the lock we still hold, so that no flush
		 * sends what the caller is told was not queued. */
		int sync_errno;

		if (retire(q, id, p->dir_fd, &sync_errno) < 0) {
			delete_files(p->dir_fd);
			unlink_at(q->fd, id, AT_REMOVEDIR);
		}
	} else if (p->dir_fd >= 0) {
		delete_files(p->dir_fd);
		unlink_at(q->tmp_fd, p->tmp_name, AT_REMOVEDIR);
	} else if (p->tmp_name[0]) {
		unlink_at(q->tmp_fd, p->tmp_name, AT_REMOVEDIR);
	}
	close_fd(p->msg_fd);
	close_fd(p->dir_fd);
}

/* Check env before anything is written: what could not be read back must
 * not be stored. */
static int
add_check(const struct queue_envelope *qe, struct error *err)
{
	const struct envelope *env = &qe->env;

	if (!env->sender)
		return error_set(err, ERROR_SOFTWARE,
		                 "cannot queue a message without a sender");
	if (env->nrcpts == 0)
		return error_set(err, ERROR_DATA,
		                 "cannot queue a message without recipients");
	for (size_t i = 0; i < env->nrcpts; i++) {
		if (env->rcpts[i].addr[0] == '\0')
			return error_set(err, ERROR_DATA,
			                 "cannot queue a message with an empty "
			                 "recipient");
	}
	if (envelope_dsn_invalid(env))
		return error_set(err, ERROR_DATA,
		                 "cannot queue a message with a DSN %s value "
		                 "RFC 3461 does not allow",
		                 envelope_dsn_invalid(env));
	if (env->priority < QUEUE_PRIORITY_MIN ||
	    env->priority > QUEUE_PRIORITY_MAX || env->port < 0 ||
	    env->port > 65535)
		return error_set(
		    err, ERROR_SOFTWARE,
		    "cannot queue the message: priority %d or port "
		    "%d out of range",
		    env->priority, env->port);
	return 0;
}

int
queue_add(struct queue *q, const struct queue_envelope *env,
          struct message_stream *m, char id[QUEUE_ID_SIZE], struct error *err)
{
	struct pending p = {.dir_fd = -1, .msg_fd = -1};
	struct queue_envelope e;
	struct error ignored;
	struct buf b;
	int rc;

	if (add_check(env, err) < 0 ||
	    (m->rewind && m->rewind(m->ctx, err) < 0))
		return -1;
	/* A shallow copy: its strings are env's, except last_error. */
	e = *env;
	e.last_error = error_line_copy(env->last_error);
	if (e.created <= 0)
		e.created = queue_now(q);
	e.size = m->size;
	e.has_8bit = m->has_8bit;
	e.has_nul = m->has_nul;
	/* The rest of another user's entry that root's flush queues is
	 * still that user's (its dead letter, its mailq, its removal). */
	e.owner = q->shared && geteuid() == 0 ? env->owner : geteuid();
	p.owner = e.owner;
	if (pending_create(q, e.created, &p, e.id) < 0) {
		error_set_errno(err, ERROR_IOERR, errno,
		                "cannot queue the message in %s", q->path);
		goto fail;
	}
	if (pending_message(&p, m, q->path, err) < 0)
		goto fail;
	if (queuefile_format(&e, &b, &ignored) < 0) {
		error_set(err, ERROR_DATA,
		          "cannot queue the message: its envelope would pass "
		          "%d bytes",
		          QUEUE_ENVELOPE_MAX);
		goto fail;
	}
	rc = write_file(p.dir_fd, "envelope", buf_str(&b), b.len, e.owner);
	buf_clear(&b);
	if (rc < 0 || fsync_fd(p.dir_fd) < 0 ||
	    pending_publish(q, &p, &e) < 0 || fsync_fd(q->fd) < 0) {
		error_set_errno(err, ERROR_IOERR, errno,
		                "cannot queue the message in %s", q->path);
		goto fail;
	}
	/* Durable: unlock (by closing) and report. */
	close(p.msg_fd);
	close(p.dir_fd);
	free(e.last_error);
	str_copy(id, QUEUE_ID_SIZE, e.id);
	return 0;
fail:
	pending_discard(q, &p, e.id);
	free(e.last_error);
	return -1;
}

/* --- listing ------------------------------------------------------------- */

static int
envelope_order(const void *a, const void *b)
{
	const struct queue_envelope *x = a, *y = b;

	if (x->env.priority != y->env.priority)
		return x->env.priority > y->env.priority ? -1 : 1;
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Why entry id cannot be sent, in one line without the "queue entry ID: "
 * its errors start with (the listing and --queue-show name the entry). */
static const char *
damage_reason(const struct error *why, const char *id)
{
	const char *p = why->msg;
	size_t n = strlen("queue entry ");

	if (strncmp(p, "queue entry ", n) == 0 &&
	    strncmp(p + n, id, QUEUE_ID_LEN) == 0 &&
	    strncmp(p + n + QUEUE_ID_LEN, ": ", 2) == 0)
		return p + n + QUEUE_ID_LEN + 2;
	return p;
}

/* DIR/ID could not be opened as a directory (open_errno). */
static int
entry_unopenable(struct queue *q, const char *id, int open_errno,
                 struct error *err)
{
	struct stat st;

	if ((open_errno == ELOOP || open_errno == ENOTDIR) &&
	    stat_at(q->fd, id, &st) == 0 && !S_ISDIR(st.st_mode))
		return error_set(
		    err, ERROR_DATA,
		    "queue entry %s: it is %s, not a directory", id,
		    S_ISLNK(st.st_mode) ? "a symbolic link" : "a file");
	return error_set_errno(err, ERROR_IOERR, open_errno,
	                       "queue entry %s: cannot open it", id);
}

/* The message file as it is: through msg_fd when it is open, else by
 * name (never following a link). */
static int
message_stat(int dir_fd, int msg_fd, const char *id, struct stat *st,
             struct error *err)
{
	int rc =
	    msg_fd >= 0 ? fstat(msg_fd, st) : stat_at(dir_fd, "message", st);

	if (rc == 0)
		return 0;
	if (errno == ENOENT)
		return error_set(err, ERROR_DATA,
		                 "queue entry %s: its message file is missing",
		                 id);
	return error_set_errno(err, ERROR_IOERR, errno,
	                       "queue entry %s: cannot check its message file",
	                       id);
}

/* A message file that is all it should be may still be unreadable
 * (mode 000): found out by opening it, as a flush would. */
static int
message_readable(int dir_fd, const char *id, struct error *err)
{
	int fd =
	    open_at(dir_fd, "message", O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);

	if (fd < 0)
		return error_set_errno(
		    err, ERROR_IOERR, errno,
		    "queue entry %s: cannot open its message file", id);
	close(fd);
	return 0;
}

/* Can entry id (its directory dir_fd, its message file msg_fd or -1) be
 * sent as it is?  0, with its envelope in e; else -1 and why in err (e
 * holds the envelope when that much could be read: e->id is set). */
static int
entry_inspect(const struct queue *q, int dir_fd, int msg_fd, const char *id,
              struct queue_envelope *e, struct error *err)
{
	struct owner_rule rule = {q->shared, geteuid()};
	struct stat st;

	if (fstat(dir_fd, &st) < 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "queue entry %s: cannot check it", id);
	/* In the spool the directory says whose the entry is. */
	if (q->shared)
		rule.uid = st.st_uid;
	if (check_owner(&st, id, "its directory", &rule, err) < 0 ||
	    envelope_load(dir_fd, id, &rule, e, err) < 0 ||
	    message_stat(dir_fd, msg_fd, id, &st, err) < 0)
		return -1;
	if (S_ISLNK(st.st_mode))
		return error_set(err, ERROR_DATA,
		                 "queue entry %s: its message file is a "
		                 "symbolic link",
		                 id);
	if (!S_ISREG(st.st_mode))
		return error_set(err, ERROR_DATA,
		                 "queue entry %s: its message file is not a "
		                 "regular file",
		                 id);
	if (check_owner(&st, id, "its message file", &rule, err) < 0)
		return -1;
	if ((uint64_t)st.st_size != e->size)
		return error_set(err, ERROR_DATA,
		                 "queue entry %s: its message file has %llu "
		                 "bytes, its envelope says %llu",
		                 id, (unsigned long long)st.st_size,
		                 (unsigned long long)e->size);
	return msg_fd >= 0 ? 0 : message_readable(dir_fd, id, err);
}

/* Whether DIR/ID (whatever it is: an entry, a symbolic link, a file)
 * is this process's to see (queue_sees); one that vanished is nobody's
 * and is left to the caller's open to find out. */
static bool
entry_visible(const struct queue *q, const char *id)
{
	struct stat st;

	if (!q->shared || stat_at(q->fd, id, &st) < 0)
		return true;
	return queue_sees(q, st.st_uid);
}

/* The same for an entry directory already open. */
static bool
fd_visible(const struct queue *q, int fd)
{
	struct stat st;

	if (!q->shared || fstat(fd, &st) < 0)
		return true;
	return queue_sees(q, st.st_uid);
}

/* Call fn for each directory entry of DIR named like an id, with the
 * directory's fd, or with -1 and the errno when it cannot be opened as a
 * directory (a vanished entry is no entry). */
static int
scan_entries(struct queue *q,
             void (*fn)(struct queue *q, const char *id, int fd, int open_errno,
                        void *ctx),
             void *ctx, struct error *err)
{
	struct dirent *de;
	DIR *d = open_dir_stream(q->fd);

	if (!d)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot read the queue directory %s",
		                       q->path);
	while ((de = readdir(d))) {
		int fd;

		if (!queue_id_valid(de->d_name) ||
		    !entry_visible(q, de->d_name))
			continue;
		fd = open_dir_at(q->fd, de->d_name);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd >= 0 && !fd_visible(q, fd)) {
			close(fd); /* replaced by another's meanwhile */
			continue;
		}
		fn(q, de->d_name, fd, fd < 0 ? errno : 0, ctx);
		close_fd(fd);
	}
	closedir(d);
	return 0;
}

struct listing {
	struct queue_envelope *v;
	size_t len, cap;
};

static void
list_one(struct queue *q, const char *id, int fd, int open_errno, void *ctx)
{
	struct listing *l = ctx;
	struct error ignored;

	(void)open_errno;
	if (fd < 0)
		return;
	if (l->len == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	queue_envelope_init(&l->v[l->len]);
	/* Being removed, or damaged: not listed (queue_damaged says). */
	if (entry_inspect(q, fd, -1, id, &l->v[l->len], &ignored) == 0)
		l->len++;
	else
		queue_envelope_clear(&l->v[l->len]);
}

int
queue_list(struct queue *q, struct queue_envelope **out, size_t *n,
           struct error *err)
{
	struct listing l = {0};

	*out = NULL;
	*n = 0;
	if (scan_entries(q, list_one, &l, err) < 0) {
		queue_list_free(l.v, l.len);
		return -1;
	}
	if (l.len > 1)
		qsort(l.v, l.len, sizeof *l.v, envelope_order);
	*out = l.v;
	*n = l.len;
	return 0;
}

/* Still the live entry DIR/ID (not one renamed away while read)? */
static bool
still_live(struct queue *q, const char *id, int fd)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 &&
	       fstatat(q->fd, id, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void
damaged_one(struct queue *q, const char *id, int fd, int open_errno, void *ctx)
{
	char line[QUEUE_ID_SIZE + ERROR_MSG_MAX + 2];
	struct queue_envelope e;
	struct error why;
	bool damaged;

	error_clear(&why);
	queue_envelope_init(&e);
	if (fd < 0)
		damaged = entry_unopenable(q, id, open_errno, &why) < 0;
	else /* one being removed meanwhile is not damaged */
		damaged = entry_inspect(q, fd, -1, id, &e, &why) < 0 &&
		          still_live(q, id, fd);
	if (damaged) {
		snprintf(line, sizeof line, "%s: %s", id,
		         damage_reason(&why, id));
		strlist_add(ctx, line);
	}
	queue_envelope_clear(&e);
}

int
queue_damaged(struct queue *q, struct strlist *out, struct error *err)
{
	return scan_entries(q, damaged_one, out, err);
}

void
queue_list_free(struct queue_envelope *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		queue_envelope_clear(&v[i]);
	free(v);
}

/* --- claiming -------------------------------------------------------------
 *
 * Why two flushes never send one entry twice.
 *
 * A flush sends an entry only while it holds the flock(2) lock on the
 * entry's message file, and removes the entry (rename out of DIR) before
 * it lets the lock go.  Suppose flushes A and B both want entry ID.
 *
 * - If B tries to lock while A holds the lock, B gets EWOULDBLOCK: busy.
 * - If B locks after A released it, A has either removed the entry or not.
 *   If A removed it, the rename of DIR/ID happened before A's unlock, hence
 *   before B's lock; B may still have opened the message file before that
 *   rename (its open needs no lock), so B holds a lock on a file that is
 *   no longer in the queue.  Its files may even still be there (A was
 *   killed between the rename and the deletion, and its lock went with
 *   it).  That is why, once the lock is held, B looks up DIR/ID/message
 *   again and compares device and inode with the file it locked: the name
 *   is gone (or is another file), so B reports QUEUE_GONE.
 *   The inode number cannot have been given to another file meanwhile,
 *   because B's descriptor keeps the old inode alive.
 *   If A did not remove it (the attempt failed), B may send it: correct,
 *   since it was not delivered.  B reads the envelope only now, so it sees
 *   A's new attempt count and next-attempt time; the caller judges whether
 *   the entry is due from this envelope, not from an older listing.
 *
 * The lock belongs to the open file description: a second claim through
 * another queue_open (even in the same process) is refused, and a child
 * forked while an entry is claimed shares its lock (the descriptors are
 * close-on-exec, so a program it executes does not).  A process killed
 * after delivering but before removing leaves the entry in place, and it
 * is sent again by the next flush: a duplicate, never a loss. */

/* Open DIR/ID: QUEUE_CLAIMED (so far), QUEUE_GONE, or QUEUE_DAMAGED with
 * why in err when it is there but no directory. */
static int
claim_open(struct queue *q, const char *id, struct queue_entry *e,
           struct error *err)
{
	/* Another user's entry in the spool is, to this process, none. */
	if (!entry_visible(q, id))
		return QUEUE_GONE;
	e->dir_fd = open_dir_at(q->fd, id);
	if (e->dir_fd >= 0)
		return fd_visible(q, e->dir_fd) ? QUEUE_CLAIMED : QUEUE_GONE;
	if (errno == ENOENT)
		return QUEUE_GONE;
	entry_unopenable(q, id, errno, err);
	return QUEUE_DAMAGED;
}

/* Open and lock the message file: QUEUE_CLAIMED, QUEUE_BUSY, QUEUE_GONE or
 * -1.  A message file that is not a regular file, or cannot be opened, is
 * left closed (e->msg_fd -1) for entry_inspect to judge, as long as the
 * entry is still the live one. */
static int
claim_lock(struct queue *q, const char *id, struct queue_entry *e,
           struct error *err)
{
	char path[QUEUE_ID_SIZE + sizeof "/message"];
	struct stat st, live;

	e->msg_fd = open_at(e->dir_fd, "message",
	                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
	if (e->msg_fd >= 0 && fstat(e->msg_fd, &st) < 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot open queue entry %s", id);
	/* In the spool, a process other than root never reads a message
	 * file that is not its own: the spool helper holds the group,
	 * which may read what is no entry's (a file of the group's that
	 * root linked in by hand).  entry_inspect names it. */
	if (e->msg_fd >= 0 &&
	    (!S_ISREG(st.st_mode) ||
	     (q->shared && geteuid() != 0 && st.st_uid != geteuid()))) {
		close(e->msg_fd);
		e->msg_fd = -1;
	}
	if (e->msg_fd < 0)
		return still_live(q, id, e->dir_fd) ? QUEUE_CLAIMED
		                                    : QUEUE_GONE;
	if (lock_fd(e->msg_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return QUEUE_BUSY;
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot lock queue entry %s", id);
	}
	/* Still in the queue, now that it is ours?  (See above.) */
	snprintf(path, sizeof path, "%s/message", id);
	if (stat_at(q->fd, path, &live) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return QUEUE_GONE;
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot check queue entry %s", id);
	}
	if (live.st_dev != st.st_dev || live.st_ino != st.st_ino)
		return QUEUE_GONE;
	e->size = (uint64_t)st.st_size;
	return QUEUE_CLAIMED;
}

/* The entry is open (and locked when it has a message file to lock):
 * QUEUE_CLAIMED when it can be sent, else QUEUE_DAMAGED with why. */
static int
claim_inspect(struct queue_entry *e, struct error *err)
{
	if (entry_inspect(e->q, e->dir_fd, e->msg_fd, e->id, &e->env, err) < 0)
		return QUEUE_DAMAGED;
	if (e->msg_fd < 0) { /* it could not be opened a moment ago */
		error_set(err, ERROR_DATA,
		          "queue entry %s: its message file changed while it "
		          "was checked",
		          e->id);
		return QUEUE_DAMAGED;
	}
	return QUEUE_CLAIMED;
}

int
queue_claim(struct queue *q, const char *id, struct queue_entry **out,
            struct error *err)
{
	struct queue_entry *e;
	int rc;

	*out = NULL;
	if (!queue_id_valid(id))
		return error_set(err, ERROR_USAGE, "%s is not a queue id", id);
	e = xcalloc(1, sizeof *e);
	e->q = q;
	e->dir_fd = e->msg_fd = -1;
	str_copy(e->id, sizeof e->id, id);
	queue_envelope_init(&e->env);
	rc = claim_open(q, id, e, err);
	if (rc == QUEUE_CLAIMED)
		rc = claim_lock(q, id, e, err);
	if (rc == QUEUE_CLAIMED)
		rc = claim_inspect(e, err);
	if (rc != QUEUE_CLAIMED && rc != QUEUE_DAMAGED) {
		queue_entry_release(e);
		return rc;
	}
	e->env_ok = e->env.id[0] != '\0';
	if (rc == QUEUE_DAMAGED)
		e->damage = xstrdup(damage_reason(err, id));
	*out = e;
	return rc;
}

const char *
queue_entry_id(const struct queue_entry *e)
{
	return e->id;
}

struct queue_envelope *
queue_entry_envelope(struct queue_entry *e)
{
	return e->env_ok ? &e->env : NULL;
}

const char *
queue_entry_damage(const struct queue_entry *e)
{
	return e->damage;
}

static ssize_t
entry_read(void *ctx, char *buf, size_t n, struct error *err)
{
	struct queue_entry *e = ctx;
	ssize_t r;

	/* Never more than the size announced (SIZE=), even if the file grew. */
	if (n > e->size - e->pos)
		n = (size_t)(e->size - e->pos);
	if (n == 0)
		return 0;
	do
		r = pread(e->msg_fd, buf, n, (off_t)e->pos);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot read queued message %s", e->id);
	if (r == 0)
		return error_set(err, ERROR_IOERR,
		                 "queued message %s is shorter than its %llu "
		                 "bytes",
		                 e->id, (unsigned long long)e->size);
	e->pos += (uint64_t)r;
	return r;
}

static int
entry_rewind(void *ctx, struct error *err)
{
	struct queue_entry *e = ctx;

	(void)err;
	e->pos = 0;
	return 0;
}

struct message_stream
queue_entry_message(struct queue_entry *e)
{
	struct message_stream m = {
	    .read = entry_read,
	    .rewind = entry_rewind,
	    .ctx = e,
	    .size = e->size,
	    .has_8bit = e->env.has_8bit,
	    .has_nul = e->env.has_nul,
	};

	e->pos = 0;
	return m;
}

/* queue_entry_failed, and with `states` (ENVELOPE_BIT) not 0 the
 * recipients narrowed to those in one of them. */
static int
entry_failed(struct queue_entry *e, unsigned states, const char *error_line,
             time_t when, time_t next_attempt, struct error *err)
{
	struct queue_envelope n;

	if (e->removed || e->damage)
		return error_set(err, ERROR_SOFTWARE,
		                 "queue entry %s was removed or is damaged",
		                 e->id);
	/* A shallow copy with the new values (a recipient list of its own
	 * when narrowed); e->env changes only once the new envelope is in
	 * place, in one step (envelope_replace). */
	n = e->env;
	if (states) {
		envelope_init(&n.env);
		envelope_copy_states(&n.env, &e->env.env, states);
	}
	if (n.attempts < UINT_MAX)
		n.attempts++;
	n.last_attempt = when;
	n.next_attempt = next_attempt > 0 ? next_attempt : 0;
	n.last_error = error_line_copy(error_line);
	if (envelope_replace(e->dir_fd, &n) < 0) {
		int saved = errno;

		free(n.last_error);
		if (states)
			envelope_clear(&n.env);
		return error_set_errno(err, ERROR_IOERR, saved,
		                       "cannot update queue entry %s", e->id);
	}
	free(e->env.last_error);
	if (states)
		envelope_clear(&e->env.env);
	e->env = n;
	return 0;
}

int
queue_entry_failed(struct queue_entry *e, const char *error_line, time_t when,
                   time_t next_attempt, struct error *err)
{
	return entry_failed(e, 0, error_line, when, next_attempt, err);
}

int
queue_entry_narrow(struct queue_entry *e, unsigned states,
                   const char *error_line, time_t when, time_t next_attempt,
                   struct error *err)
{
	size_t n = 0;

	for (size_t i = 0; i < e->env.env.nrcpts; i++)
		if (states & ENVELOPE_BIT(e->env.env.rcpts[i].state))
			n++;
	/* An entry without recipients is no entry: the caller removes it. */
	if (n == 0)
		return error_set(err, ERROR_SOFTWARE,
		                 "queue entry %s: no recipient to keep", e->id);
	return entry_failed(e, states, error_line, when, next_attempt, err);
}

bool
queue_entry_removed(const struct queue_entry *e)
{
	return e->removed;
}

int
queue_entry_remove(struct queue_entry *e, struct error *err)
{
	int sync_errno;

	if (e->removed)
		return 0;
	if (retire(e->q, e->id, e->dir_fd, &sync_errno) < 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot remove queue entry %s", e->id);
	e->removed = true;
	if (sync_errno)
		return error_set_errno(
		    err, ERROR_IOERR, sync_errno,
		    "queue entry %s was removed, but a crash "
		    "now could bring it back",
		    e->id);
	return 0;
}

int
queue_entry_bury(struct queue_entry *e, struct queue *dead, unsigned states,
                 const char *why, time_t when, struct error *err)
{
	int sync_errno;

	if (!e->q->shared || !dead->shared)
		return error_set(err, ERROR_SOFTWARE,
		                 "queue entry %s: only the spool has a "
		                 "dead-letter queue",
		                 e->id);
	/* Why, first: once in dead/ it is never tried again. */
	if (entry_failed(e, states, why, when, 0, err) < 0)
		return -1;
	if (rename_at(e->q->fd, e->id, dead->fd, e->id) < 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot move queue entry %s into %s",
		                       e->id, dead->path);
	e->removed = true;
	sync_errno = fsync_fd(dead->fd) < 0 ? errno : 0;
	if (fsync_fd(e->q->fd) < 0 && !sync_errno)
		sync_errno = errno;
	if (sync_errno)
		return error_set_errno(err, ERROR_IOERR, sync_errno,
		                       "queue entry %s was moved into %s, but "
		                       "a crash now could bring it back",
		                       e->id, dead->path);
	return 0;
}

void
queue_entry_release(struct queue_entry *e)
{
	if (!e)
		return;
	close_fd(e->msg_fd); /* ends the lock */
	close_fd(e->dir_fd);
	queue_envelope_clear(&e->env);
	free(e->damage);
	free(e);
}
