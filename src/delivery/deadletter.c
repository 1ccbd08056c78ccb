/*
 * deadletter.c - appending an undeliverable message to an mbox file
 * (mboxrd), so that it is never lost (see deadletter.h).
 *
 * The message streams through fixed buffers: CRLF becomes LF (a CR at the
 * end of one block is held until the next block says whether an LF
 * follows), and a line that matches /^>*From / gets one more '>'.  Since
 * every '>' of the leading run is the same byte, adding the new one just
 * before "From " gives the same line as adding it at the start, so only
 * the (at most four) bytes of a partial "From" need holding across
 * blocks, never the '>' run, however long it is.
 *
 * The "From " line carries the date in asctime(3) form in UTC ("Sat Nov 28
 * 19:46:41 2026"): the same on every machine whatever its time zone or
 * locale, and mail readers only use it as a separator anyway.
 *
 * Copyright (C) 2026 the mailpost authors.  GPL-3.0-or-later.
 */
#include "config.h"

#include "deadletter.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fdwait.h"
#include "privilege.h"
#include "util.h"

/* Blocks read from the message and written to the file. */
#define DL_BLOCK 65536
/* The longest "From " line: the sender is an address (at most 256 bytes
 * with brackets, RFC 5321 4.5.3.1.3) plus the date; longer senders are
 * cut. */
#define DL_SENDER_MAX 256

/* Where the "From " matcher stands at the current byte. */
enum dl_state {
	DL_LINE_START, /* at the start of a line, or in its leading '>'s */
	DL_MATCHING,   /* `held` bytes of "From " seen after that */
	DL_MID_LINE,   /* anywhere else */
};

struct dl_writer {
	int fd;
	char out[DL_BLOCK];
	size_t out_len;
	enum dl_state state;
	size_t held;      /* DL_MATCHING: bytes of "From " matched (1..4) */
	bool pending_cr;  /* the last block ended with a CR */
	bool ended_in_lf; /* the last byte written was LF */
	int write_errno;  /* set when a write failed */
	time_t when;      /* the date of the "From " line */
};

static const char from_word[] = "From ";

/* --- output ---------------------------------------------------------- */

static int
flush_out(struct dl_writer *w)
{
	if (w->out_len == 0)
		return 0;
	if (fd_write_all(w->fd, w->out, w->out_len) < 0) {
		w->write_errno = errno;
		return -1;
	}
	w->out_len = 0;
	return 0;
}

static int
put(struct dl_writer *w, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	while (n > 0) {
		size_t room = sizeof w->out - w->out_len;
		size_t k = n < room ? n : room;

		memcpy(w->out + w->out_len, p, k);
		w->out_len += k;
		p += k;
		n -= k;
		if (w->out_len == sizeof w->out && flush_out(w) < 0)
			return -1;
	}
	w->ended_in_lf = p[-1] == '\n';
	return 0;
}

/* --- the mboxrd transformation --------------------------------------- */

/* A line ends: what was held of "From" was not followed by a space. */
static int
line_end(struct dl_writer *w)
{
	if (w->state == DL_MATCHING && put(w, from_word, w->held) < 0)
		return -1;
	w->state = DL_LINE_START;
	return put(w, "\n", 1);
}

/* One data byte (never the LF of a line end) at the start of a line or
 * while "From " may be matching. */
static int
start_byte(struct dl_writer *w, char c)
{
	if (w->state == DL_LINE_START) {
		if (c == '>')
			return put(w, &c, 1);
		if (c == from_word[0]) {
			w->state = DL_MATCHING;
			w->held = 1;
			return 0;
		}
	} else if (c == from_word[w->held]) {
		w->held++;
		if (w->held < sizeof from_word - 1)
			return 0;
		/* RFC 4155 mboxrd: one more '>' in front. */
		w->state = DL_MID_LINE;
		return put(w, ">From ", 6);
	} else if (put(w, from_word, w->held) < 0) {
		return -1;
	}
	w->state = DL_MID_LINE;
	return put(w, &c, 1);
}

/* The rest of a line from p: up to and including its LF (CRLF becomes
 * LF; a lone CR is data), or to the end of the block.  Returns the bytes
 * consumed, or -1. */
static long
mid_line(struct dl_writer *w, const char *p, size_t n)
{
	const char *lf = memchr(p, '\n', n);
	size_t seg = lf ? (size_t)(lf - p) : n;
	size_t data = seg;

	if (data > 0 && p[data - 1] == '\r') {
		data--;
		/* A CR that ends the block may be half of a CRLF. */
		if (!lf)
			w->pending_cr = true;
	}
	if (put(w, p, data) < 0)
		return -1;
	if (!lf)
		return (long)n;
	if (put(w, "\n", 1) < 0)
		return -1;
	w->state = DL_LINE_START;
	return (long)seg + 1;
}

static int
convert(struct dl_writer *w, const char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (w->pending_cr) {
			w->pending_cr = false;
			if (p[i] == '\n') {
				if (line_end(w) < 0)
					return -1;
				i++;
				continue;
			}
			/* A lone CR is kept as data. */
			if (w->state == DL_MID_LINE ? put(w, "\r", 1) < 0
			                            : start_byte(w, '\r') < 0)
				return -1;
			continue;
		}
		if (w->state == DL_MID_LINE) {
			long k = mid_line(w, p + i, n - i);

			if (k < 0)
				return -1;
			i += (size_t)k;
		} else if (p[i] == '\r') {
			w->pending_cr = true;
			i++;
		} else if (p[i] == '\n') {
			if (line_end(w) < 0)
				return -1;
			i++;
		} else {
			if (start_byte(w, p[i]) < 0)
				return -1;
			i++;
		}
	}
	return 0;
}

/* The end of the message: release what is held, end the last line, and
 * add the empty line that separates messages in an mbox. */
static int
finish(struct dl_writer *w)
{
	if (w->pending_cr) {
		w->pending_cr = false;
		if (w->state == DL_MID_LINE ? put(w, "\r", 1) < 0
		                            : start_byte(w, '\r') < 0)
			return -1;
	}
	if (w->state == DL_MATCHING && put(w, from_word, w->held) < 0)
		return -1;
	if (!w->ended_in_lf && put(w, "\n", 1) < 0)
		return -1;
	if (put(w, "\n", 1) < 0)
		return -1;
	return flush_out(w);
}

/* --- the separator line ---------------------------------------------- */

/* "From SENDER Sat Nov 28 19:46:41 2026\n" (asctime form, UTC).  Bytes of
 * the sender that would break the line (white space, controls) become
 * '_'; the null sender is MAILER-DAEMON. */
static int
from_line(struct dl_writer *w, const char *sender, time_t when)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed",
	                                "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr",
	                                   "May", "Jun", "Jul", "Aug",
	                                   "Sep", "Oct", "Nov", "Dec"};
	char who[DL_SENDER_MAX + 1];
	char line[DL_SENDER_MAX + 64];
	time_t now = when > 0 ? when : time(NULL);
	struct tm tm;
	int n;

	if (!sender || !*sender)
		sender = "MAILER-DAEMON";
	str_copy(who, sizeof who, sender);
	for (char *p = who; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			*p = '_';
	if (!gmtime_r(&now, &tm))
		memset(&tm, 0, sizeof tm);
	n = snprintf(line, sizeof line, "From %s %s %s %2d %02d:%02d:%02d %d\n",
	             who, days[(unsigned)tm.tm_wday % 7],
	             months[(unsigned)tm.tm_mon % 12], tm.tm_mday, tm.tm_hour,
	             tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
	if (n < 0 || (size_t)n >= sizeof line)
		n = (int)strlen(line);
	return put(w, line, (size_t)n);
}

/* --- the file ---------------------------------------------------------- */

/* Open for appending, never through a symbolic link, and check that the
 * file is ours and a regular file (fstat on what was opened: no race). */
static int
open_mbox(const char *path, struct error *err)
{
	struct stat st;
	int fd;

	fd = open(path,
	          O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	              O_NOCTTY | O_NONBLOCK,
	          0600);
	if (fd < 0 && errno == ELOOP)
		return error_set(err, ERROR_CONFIG,
		                 "cannot save the message to %s: it is a "
		                 "symbolic link",
		                 path);
	/* A directory, or a FIFO with no reader (O_NONBLOCK). */
	if (fd < 0 && (errno == EISDIR || errno == ENXIO))
		return error_set(err, ERROR_CONFIG,
		                 "cannot save the message to %s: not a regular "
		                 "file",
		                 path);
	if (fd < 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot save the message to %s", path);
	if (fstat(fd, &st) < 0) {
		error_set_errno(err, ERROR_IOERR, errno,
		                "cannot save the message to %s", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		error_set(err, ERROR_CONFIG,
		          "cannot save the message to %s: %s", path,
		          S_ISREG(st.st_mode)
		              ? "the file belongs to another user"
		              : "not a regular file");
		close(fd);
		return -1;
	}
	return fd;
}

static int
lock_mbox(int fd)
{
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* Everything after the lock: the separator, the message, fsync. */
static int
append_locked(struct dl_writer *w, const char *path, const char *sender,
              struct message_stream *m, char *in, struct error *err)
{
	if (from_line(w, sender, w->when) < 0)
		goto write_failed;
	for (;;) {
		ssize_t n = m->read(m->ctx, in, DL_BLOCK, err);

		if (n < 0) {
			error_prefix(err,
			             "cannot save the message to %s: ", path);
			return -1;
		}
		if (n == 0)
			break;
		if (convert(w, in, (size_t)n) < 0)
			goto write_failed;
	}
	if (finish(w) < 0)
		goto write_failed;
	if (fsync(w->fd) < 0) {
		w->write_errno = errno;
		goto write_failed;
	}
	return 0;

write_failed:
	return error_set_errno(err, ERROR_IOERR, w->write_errno,
	                       "cannot save the message to %s", path);
}

int
deadletter_append(const char *path, const char *sender, time_t when,
                  struct message_stream *m, struct error *err)
{
	struct dl_writer *w;
	struct stat st;
	char *in;
	int fd, rc;

	if (m->rewind && m->rewind(m->ctx, err) < 0)
		return -1;
	fd = open_mbox(path, err);
	if (fd < 0)
		return -1;
	/* The size is taken under the lock: another writer may have
	 * appended while we waited. */
	if (lock_mbox(fd) < 0 || fstat(fd, &st) < 0) {
		error_set_errno(err, ERROR_IOERR, errno,
		                "cannot save the message to %s", path);
		close(fd);
		return -1;
	}
	w = xcalloc(1, sizeof *w);
	w->fd = fd;
	w->state = DL_LINE_START;
	w->ended_in_lf = true;
	w->when = when;
	in = xmalloc(DL_BLOCK);
	rc = append_locked(w, path, sender, m, in, err);
	if (rc < 0) {
		/* No partial message is left behind; the error is already
		 * the one to report. */
		if (ftruncate(fd, st.st_size) == 0)
			(void)fsync(fd);
	}
	free(in);
	free(w);
	/* Closing also releases the lock.  After a successful fsync the
	 * data is on disk whatever close says. */
	close(fd);
	return rc;
}

/* --- the default path ------------------------------------------------ */

char *
deadletter_default_path(struct error *err)
{
	const char *home = privilege_getenv("HOME");
	struct buf b;

	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());

		home = pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : NULL;
	}
	if (!home) {
		error_set(err, ERROR_CONFIG,
		          "cannot find the dead letter file: HOME is not set "
		          "and the password database has no home directory");
		return NULL;
	}
	buf_init(&b, 4096);
	if (buf_printf(&b, "%s%sdead.letter", home,
	               home[strlen(home) - 1] == '/' ? "" : "/") < 0) {
		error_set(err, ERROR_CONFIG,
		          "cannot find the dead letter file: the home "
		          "directory name is too long");
		return NULL;
	}
	return b.data;
}

/* --- another user's dead letter (root's flush of the machine's spool) --- */

/* Who the child becomes: copied from the password database before the
 * fork. */
struct dl_user {
	uid_t uid;
	gid_t gid;
	gid_t groups[DEADLETTER_GROUPS_MAX];
	int ngroups;
	char *path; /* HOME/dead.letter */
};

static int
user_lookup(uid_t uid, struct dl_user *u, struct error *err)
{
	struct passwd *pw = getpwuid(uid);
	struct buf b;

	if (!pw)
		return error_set(err, ERROR_CONFIG,
		                 "uid %lu is in no password database entry",
		                 (unsigned long)uid);
	if (!pw->pw_dir || pw->pw_dir[0] != '/')
		return error_set(err, ERROR_CONFIG, "user %s has no home",
		                 pw->pw_name);
	u->uid = uid;
	u->gid = pw->pw_gid;
	u->ngroups = DEADLETTER_GROUPS_MAX;
	if (getgrouplist(pw->pw_name, pw->pw_gid, u->groups, &u->ngroups) < 0)
		return error_set(err, ERROR_CONFIG,
		                 "user %s is in more than %d groups",
		                 pw->pw_name, DEADLETTER_GROUPS_MAX);
	buf_init(&b, 4096);
	if (buf_printf(&b, "%s%sdead.letter", pw->pw_dir,
	               pw->pw_dir[strlen(pw->pw_dir) - 1] == '/' ? "" : "/") <
	    0)
		return error_set(err, ERROR_CONFIG,
		                 "the home of user %s has too long a name",
		                 pw->pw_name);
	u->path = b.data;
	return 0;
}

/* In the child: become the user for good (groups, gid, uid, in that
 * order: each needs the privilege the next one gives up), unable to be
 * traced by it (the memory is root's process's copy), then append. */
static void
child_append(const struct dl_user *u, const char *sender, time_t when,
             struct message_stream *m, int report_fd)
{
	struct error err;
	char line[1 + ERROR_MSG_MAX];
	int rc = -1;

	error_clear(&err);
	if (setgroups((size_t)u->ngroups, u->groups) < 0 ||
	    setresgid(u->gid, u->gid, u->gid) < 0 ||
	    setresuid(u->uid, u->uid, u->uid) < 0 || geteuid() != u->uid)
		error_set_errno(&err, ERROR_OSERR, errno,
		                "cannot become uid %lu", (unsigned long)u->uid);
	else if (privilege_protect_process(&err) == 0 && chdir("/") == 0)
		rc = deadletter_append(u->path, sender, when, m, &err);
	if (rc < 0) {
		line[0] = (char)err.kind;
		str_copy(line + 1, sizeof line - 1, err.msg);
		(void)fd_write_all(report_fd, line, 1 + strlen(line + 1));
	}
	_exit(rc < 0 ? 1 : 0);
}

/* The child's report: nothing (success), or its error; a child that
 * takes longer than `seconds` (a lock the user holds, a slow file
 * system) is killed. */
static int
child_result(pid_t pid, int seconds, int fd, const char *path,
             struct error *err)
{
	int64_t deadline = now_ms() + (int64_t)seconds * 1000;
	char line[1 + ERROR_MSG_MAX];
	ssize_t n = 0;
	int status, ready = fd_wait(fd, POLLIN, deadline);

	if (ready > 0)
		n = fd_read(fd, line, sizeof line - 1);
	if (ready <= 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ready <= 0)
		return error_set(
		    err, ERROR_TEMPFAIL,
		    "cannot save the message to %s: not done in %d "
		    "seconds",
		    path, seconds);
	if (n > 1) {
		line[n] = '\0';
		return error_set(err, (enum error_kind)line[0], "%s", line + 1);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return error_set(err, ERROR_OSERR,
		                 "cannot save the message to %s: the process "
		                 "saving it failed",
		                 path);
	return 0;
}

int
deadletter_append_as(uid_t uid, int seconds, const char *sender, time_t when,
                     struct message_stream *m, char **path, struct error *err)
{
	struct dl_user u = {0};
	int pipe_fd[2], rc;
	pid_t pid;

	*path = NULL;
	if (user_lookup(uid, &u, err) < 0) {
		free(u.path);
		return -1;
	}
	*path = u.path;
	if (pipe2(pipe_fd, O_CLOEXEC) < 0)
		return error_set_errno(err, ERROR_OSERR, errno,
		                       "cannot save the message to %s", u.path);
	pid = fork();
	if (pid == 0) {
		close(pipe_fd[0]);
		child_append(&u, sender, when, m, pipe_fd[1]);
	}
	close(pipe_fd[1]);
	if (pid < 0)
		rc = error_set_errno(err, ERROR_OSERR, errno,
		                     "cannot save the message to %s", u.path);
	else
		rc = child_result(
		    pid, seconds > 0 ? seconds : DEADLETTER_CHILD_SECONDS,
		    pipe_fd[0], u.path, err);
	close(pipe_fd[0]);
	return rc;
}
