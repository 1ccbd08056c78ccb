/*
 * deadletter_test.c - appending to the dead letter mbox (deadletter.c):
 * exact mboxrd content whatever the read boundaries, appending, file
 * safety (mode, symbolic links, ownership), cutting the file back after
 * a failed read or write, and another user's file written by a child
 * that is killed at its time limit when the user holds the lock.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "deadletter.h"
#include "error.h"
#include "memstream.h"
#include "unit.h"
#include "util.h"

/* A string literal with its length. */
#define S(lit) lit, sizeof(lit) - 1

static char dir[64];

static char *
path_in_dir(const char *name)
{
	struct buf b;

	buf_init(&b, 4096);
	buf_printf(&b, "%s/%s", dir, name);
	return b.data;
}

/* The whole file (caller frees), its length in *len; NULL if unreadable. */
static char *
slurp(const char *path, size_t *len)
{
	struct buf b;
	char chunk[8192];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	*len = 0;
	if (fd < 0)
		return NULL;
	buf_init(&b, 64 * 1024 * 1024);
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		buf_append(&b, chunk, (size_t)n);
	close(fd);
	*len = b.len;
	return b.data ? b.data : xstrdup("");
}

static off_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* The length of the "From SENDER Www Mmm dd hh:mm:ss yyyy\n" line at p,
 * or 0 when it is not one. */
static size_t
from_line_len(const char *p, size_t len, const char *sender)
{
	size_t slen = strlen(sender);
	const char *d = p + 5 + slen + 1;

	if (len < 5 + slen + 1 + 25 || memcmp(p, "From ", 5) != 0 ||
	    memcmp(p + 5, sender, slen) != 0 || p[5 + slen] != ' ')
		return 0;
	if (d[3] != ' ' || d[7] != ' ' || d[10] != ' ' || d[13] != ':' ||
	    d[16] != ':' || d[19] != ' ' || d[24] != '\n')
		return 0;
	if (!strstr("SunMonTueWedThuFriSat", (char[4]){d[0], d[1], d[2], 0}))
		return 0;
	if (!strstr("JanFebMarAprMayJunJulAugSepOctNovDec",
	            (char[4]){d[4], d[5], d[6], 0}))
		return 0;
	return 5 + slen + 1 + 25;
}

/* Append in[0..n) read `chunk` bytes at a time to a fresh file; check
 * the From line and that the rest is want[0..wn). */
static void
check_content(const char *in, size_t n, const char *want, size_t wn,
              size_t chunk, int line)
{
	char *path = path_in_dir("content");
	struct memstream ms;
	struct message_stream m = memstream_of(&ms, in, n, chunk);
	struct error err;
	size_t len, fl;
	char *got;

	unlink(path);
	error_clear(&err);
	CHECK_INT(deadletter_append(path, "a@example.org", 0, &m, &err), 0);
	got = slurp(path, &len);
	CHECK(got != NULL);
	fl = got ? from_line_len(got, len, "a@example.org") : 0;
	if (fl == 0)
		fprintf(stderr, "line %d, chunk %zu: bad From line\n", line,
		        chunk);
	CHECK(fl > 0);
	if (got && fl) {
		bool same = len - fl == wn && memcmp(got + fl, want, wn) == 0;

		if (!same)
			fprintf(stderr, "line %d, chunk %zu: content differs\n",
			        line, chunk);
		CHECK_MEM(got + fl, len - fl, want, wn);
	}
	free(got);
	free(path);
}

/* Every read size from 1 byte to the whole message, and a large one. */
static void
check_all_chunks(const char *in, size_t n, const char *want, size_t wn,
                 int line)
{
	for (size_t c = 1; c <= n + 1; c++)
		check_content(in, n, want, wn, c, line);
	check_content(in, n, want, wn, 1 << 20, line);
}

#define CONTENT(in, want) check_all_chunks(S(in), S(want), __LINE__)

static void
test_content(void)
{
	/* mboxrd escaping: only at line starts, only before "From ". */
	CONTENT("From: a@x\r\nSubject: t\r\n\r\nFrom here\r\n>From there\r\n"
	        ">>From x\r\nFrom\r\nFromage\r\n From y\r\nx From z\r\n"
	        ">From\r\n>>Fromx\r\n>Fro\r\n",
	        "From: a@x\nSubject: t\n\n>From here\n>>From there\n"
	        ">>>From x\nFrom\nFromage\n From y\nx From z\n>From\n"
	        ">>Fromx\n>Fro\n\n");
	/* CRLF and LF both end lines; a lone CR is data. */
	CONTENT("a\r\nb\nc\rd\r\n\r\n", "a\nb\nc\rd\n\n\n");
	/* No final newline: one is added, then the separator. */
	CONTENT("a\r\nb", "a\nb\n\n");
	CONTENT("x\r\nFrom", "x\nFrom\n\n");
	CONTENT("x\r\nFrom ", "x\n>From \n\n");
	CONTENT("x\r\n>>Fr", "x\n>>Fr\n\n");
	CONTENT("a\r", "a\r\n\n");
	/* Already ending in an empty line: the separator is still added. */
	CONTENT("a\r\n\r\n", "a\n\n\n");
	CONTENT("", "\n");
	CONTENT("From \r\nFrom \r\n", ">From \n>From \n\n");
	CONTENT("\r\r\n", "\r\n\n");
}

/* A message of a few MiB whose "From " lines fall across every kind of
 * block boundary, compared with a line-by-line reference. */
static void
test_large(void)
{
	struct buf in, want;
	const char *line;
	size_t chunks[] = {65536, 65535, 4093, 7};

	buf_init(&in, 16 * 1024 * 1024);
	buf_init(&want, 16 * 1024 * 1024);
	for (size_t i = 0; in.len < 3 * 1024 * 1024; i++) {
		size_t gt = i % 4;
		size_t pad = (i * 7919) % 200;

		for (size_t k = 0; k < gt; k++) {
			buf_append_char(&in, '>');
			buf_append_char(&want, '>');
		}
		line = i % 3 ? "From somebody" : "Fromage";
		if (i % 3)
			buf_append_char(&want, '>');
		buf_append_str(&in, line);
		buf_append_str(&want, line);
		for (size_t k = 0; k < pad; k++) {
			buf_append_char(&in, 'x');
			buf_append_char(&want, 'x');
		}
		buf_append_str(&in, "\r\n");
		buf_append_str(&want, "\n");
	}
	buf_append_str(&want, "\n");
	for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++)
		check_content(in.data, in.len, want.data, want.len, chunks[i],
		              __LINE__);
	buf_clear(&in);
	buf_clear(&want);
}

/* A stream already read (by the send that failed) is saved whole: it is
 * rewound first. */
static void
test_rewound(void)
{
	char *path = path_in_dir("rewound");
	struct memstream ms;
	struct message_stream m = memstream_of(&ms, S("body\r\n"), 64);
	struct error err;
	size_t len, fl;
	char *got;

	unlink(path);
	ms.pos = ms.len;
	CHECK_INT(deadletter_append(path, "a@x", 0, &m, &err), 0);
	got = slurp(path, &len);
	fl = got ? from_line_len(got, len, "a@x") : 0;
	CHECK(fl > 0);
	if (got && fl)
		CHECK_MEM(got + fl, len - fl, "body\n\n", 6);
	free(got);
	free(path);
}

static void
test_append_twice(void)
{
	char *path = path_in_dir("twice");
	struct memstream ms;
	struct message_stream m;
	struct error err;
	struct stat st;
	size_t len, fl1, fl2;
	char *got;

	unlink(path);
	m = memstream_of(&ms, S("one\r\n"), 3);
	CHECK_INT(deadletter_append(path, "a@x", 0, &m, &err), 0);
	m = memstream_of(&ms, S("From two\r\ntwo"), 5);
	/* Dated by the caller's clock (1000000000: a Sunday in 2001). */
	CHECK_INT(deadletter_append(path, "", 1000000000, &m, &err), 0);
	got = slurp(path, &len);
	fl1 = from_line_len(got, len, "a@x");
	CHECK(fl1 > 0);
	CHECK(len > fl1 + 5 && memcmp(got + fl1, "one\n\n", 5) == 0);
	fl2 = from_line_len(got + fl1 + 5, len - fl1 - 5, "MAILER-DAEMON");
	CHECK(fl2 > 0);
	CHECK_MEM(got + fl1 + 5, fl2,
	          "From MAILER-DAEMON Sun Sep  9 01:46:40 2001\n", 44);
	CHECK_MEM(got + fl1 + 5 + fl2, len - fl1 - 5 - fl2,
	          ">From two\ntwo\n\n", 15);
	free(got);

	/* Created 0600 whatever the umask lets through. */
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	CHECK(S_ISREG(st.st_mode));
	free(path);
}

static void
test_sender(void)
{
	char *path = path_in_dir("sender");
	struct memstream ms;
	struct message_stream m;
	struct error err;
	size_t len;
	char *got;

	unlink(path);
	m = memstream_of(&ms, S("x\r\n"), 100);
	CHECK_INT(deadletter_append(path, "\"a b\"@x\r\n", 0, &m, &err), 0);
	got = slurp(path, &len);
	CHECK(from_line_len(got, len, "\"a_b\"@x__") > 0);
	free(got);
	free(path);
}

static void
test_refused(void)
{
	char *target = path_in_dir("target");
	char *link = path_in_dir("link");
	char *other = path_in_dir("other");
	struct memstream ms;
	struct message_stream m;
	struct error err;
	int fd;

	/* A symbolic link, dangling or not, is never followed. */
	unlink(target);
	CHECK_INT(symlink(target, link), 0);
	m = memstream_of(&ms, S("x\r\n"), 100);
	CHECK_INT(deadletter_append(link, "a@x", 0, &m, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "symbolic link") != NULL);
	CHECK(strstr(err.msg, link) != NULL);
	CHECK_INT(file_size(target), -1);
	fd = open(target, O_WRONLY | O_CREAT, 0600);
	close(fd);
	CHECK_INT(deadletter_append(link, "a@x", 0, &m, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK_INT(file_size(target), 0);

	/* Not a regular file. */
	CHECK_INT(deadletter_append("/dev/null", "a@x", 0, &m, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "not a regular file") != NULL);
	CHECK_INT(deadletter_append(dir, "a@x", 0, &m, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);

	/* Someone else's file (needs root to make one). */
	if (geteuid() == 0) {
		fd = open(other, O_WRONLY | O_CREAT, 0666);
		CHECK(fd >= 0);
		CHECK_INT(fchown(fd, 65534, 65534), 0);
		close(fd);
		CHECK_INT(deadletter_append(other, "a@x", 0, &m, &err), -1);
		CHECK_INT(err.kind, ERROR_CONFIG);
		CHECK(strstr(err.msg, "another user") != NULL);
		CHECK_INT(file_size(other), 0);
	}

	/* A directory that does not exist. */
	CHECK_INT(deadletter_append("/nonexistent/dir/dead.letter", "a@x", 0,
	                            &m, &err),
	          -1);
	CHECK_INT(err.kind, ERROR_IOERR);
	CHECK(strstr(err.msg, "cannot save the message to "
	                      "/nonexistent/dir/dead.letter: ") != NULL);
	free(target);
	free(link);
	free(other);
}

static char *
big_message(size_t size)
{
	char *p = xmalloc(size);

	for (size_t i = 0; i < size; i++)
		p[i] = i % 80 == 78 ? '\r' : i % 80 == 79 ? '\n' : 'a';
	return p;
}

/* A read that fails half way: the file is back at its old length. */
static void
test_read_failure(void)
{
	char *path = path_in_dir("readfail");
	size_t size = 400 * 1024;
	char *msg = big_message(size);
	struct memstream ms;
	struct message_stream m;
	struct error err;
	off_t old;

	unlink(path);
	m = memstream_of(&ms, S("first\r\n"), 100);
	CHECK_INT(deadletter_append(path, "a@x", 0, &m, &err), 0);
	old = file_size(path);
	CHECK(old > 0);
	m = memstream_of(&ms, msg, size, 65536);
	ms.fail_at = 300 * 1024; /* several blocks already written */
	CHECK_INT(deadletter_append(path, "a@x", 0, &m, &err), -1);
	CHECK_INT(err.kind, ERROR_IOERR);
	CHECK(strstr(err.msg, "cannot save the message to ") != NULL);
	CHECK(strstr(err.msg, MEMSTREAM_ERROR) != NULL);
	CHECK_INT(file_size(path), old);
	/* The file still works afterwards. */
	m = memstream_of(&ms, S("second\r\n"), 100);
	CHECK_INT(deadletter_append(path, "a@x", 0, &m, &err), 0);
	CHECK(file_size(path) > old);
	free(msg);
	free(path);
}

/* The file size limit is hit half way (in a child, with SIGXFSZ
 * ignored so that write fails with EFBIG): the file is cut back. */
static void
test_write_failure(void)
{
	char *path = path_in_dir("fsize");
	size_t size = 400 * 1024;
	struct memstream ms;
	struct message_stream m;
	struct error err;
	int status = -1;
	off_t old;
	pid_t pid;

	unlink(path);
	m = memstream_of(&ms, S("first\r\n"), 100);
	CHECK_INT(deadletter_append(path, "a@x", 0, &m, &err), 0);
	old = file_size(path);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = {.rlim_cur = (rlim_t)old + 150 * 1024,
		                    .rlim_max = (rlim_t)old + 150 * 1024};
		char *msg = big_message(size);
		int bad = 0;

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(10);
		m = memstream_of(&ms, msg, size, 65536);
		if (deadletter_append(path, "a@x", 0, &m, &err) != -1)
			bad |= 1;
		if (err.kind != ERROR_IOERR)
			bad |= 2;
		if (!strstr(err.msg, strerror(EFBIG)) ||
		    !strstr(err.msg, "cannot save the message to "))
			bad |= 4;
		if (file_size(path) != old)
			bad |= 8;
		_exit(bad);
	}
	CHECK(pid > 0);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0);
	CHECK_INT(file_size(path), old);
	free(path);
}

static void
test_default_path(void)
{
	const char *saved = getenv("HOME");
	char *keep = saved ? xstrdup(saved) : NULL;
	struct passwd *pw = getpwuid(getuid());
	struct error err;
	char *p;

	setenv("HOME", "/home/someone", 1);
	p = deadletter_default_path(&err);
	CHECK_STR(p, "/home/someone/dead.letter");
	free(p);
	setenv("HOME", "/", 1);
	p = deadletter_default_path(&err);
	CHECK_STR(p, "/dead.letter");
	free(p);
	unsetenv("HOME");
	p = deadletter_default_path(&err);
	if (pw && pw->pw_dir && *pw->pw_dir) {
		struct buf want;

		buf_init(&want, 4096);
		buf_printf(&want, "%s%sdead.letter", pw->pw_dir,
		           strcmp(pw->pw_dir, "/") ? "/" : "");
		CHECK_STR(p, buf_str(&want));
		buf_clear(&want);
	}
	free(p);
	if (keep)
		setenv("HOME", keep, 1);
	free(keep);
}

static void
remove_dir(void)
{
	const char *names[] = {"content", "twice", "sender",   "target",
	                       "link",    "other", "readfail", "fsize",
	                       "rewound"};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char *p = path_in_dir(names[i]);

		unlink(p);
		free(p);
	}
	rmdir(dir);
}

/* Another user's dead letter (deadletter_append_as): the user must be
 * known and have a home; what the child reports comes back whole.  The
 * happy path and planted links are in tests/81-spool.bats (a user with a
 * home of its own). */
static void
test_append_as(void)
{
	struct memstream ms;
	struct message_stream m = memstream_of(&ms, S("x\r\n"), 100);
	struct passwd *pw;
	struct error err;
	char *path = NULL;

	if (geteuid() != 0) {
		fprintf(stderr, "skipped: deadletter_append_as (needs root)\n");
		return;
	}
	/* No such user: nothing runs. */
	CHECK_INT(
	    deadletter_append_as(3999999999u, 0, "a@x", 0, &m, &path, &err),
	    -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "uid 3999999999 is in no password") != NULL);
	CHECK(path == NULL);
	/* nobody's home (/nonexistent on Debian) cannot take it: the
	 * child's error, as the user saw it. */
	pw = getpwnam("nobody");
	if (!pw || access(pw->pw_dir, F_OK) == 0) {
		fprintf(stderr, "skipped: nobody has a home here\n");
		return;
	}
	CHECK_INT(
	    deadletter_append_as(pw->pw_uid, 0, "a@x", 0, &m, &path, &err), -1);
	CHECK_INT(err.kind, ERROR_IOERR);
	CHECK(path && strstr(err.msg, path) != NULL);
	CHECK(strstr(err.msg, "No such file or directory") != NULL);
	free(path);
}

/* A user of this test's own, with a home in a fresh directory (made as
 * tests/81-spool.bats makes its users: useradd, then userdel). */
struct test_user {
	char name[32];
	char top[64];   /* the home's parent, 0755 */
	char home[96];  /* top/home, 0700, the user's */
	char file[128]; /* home/dead.letter */
	uid_t uid;
	gid_t gid;
};

static bool
user_make(struct test_user *u)
{
	char cmd[256];
	struct passwd *pw;

	snprintf(u->name, sizeof u->name, "mpdl%ld", (long)getpid());
	str_copy(u->top, sizeof u->top, "/tmp/deadletter_user.XXXXXX");
	if (!mkdtemp(u->top) || chmod(u->top, 0755) < 0)
		return false;
	snprintf(u->home, sizeof u->home, "%s/home", u->top);
	snprintf(u->file, sizeof u->file, "%s/dead.letter", u->home);
	snprintf(cmd, sizeof cmd,
	         "useradd -M -U -d '%s' -s /bin/sh '%s' 2>/dev/null", u->home,
	         u->name);
	if (system(cmd) != 0) {
		rmdir(u->top);
		return false;
	}
	pw = getpwnam(u->name);
	if (!pw) {
		CHECK(!"the new user is in the password database");
		return false;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	CHECK_INT(mkdir(u->home, 0700), 0);
	CHECK_INT(chown(u->home, u->uid, u->gid), 0);
	return true;
}

static void
user_remove(struct test_user *u)
{
	char cmd[128];

	unlink(u->file);
	rmdir(u->home);
	rmdir(u->top);
	snprintf(cmd, sizeof cmd, "userdel '%s' 2>/dev/null", u->name);
	CHECK_INT(system(cmd), 0);
}

/* A child that became the user holds an flock on its dead.letter until
 * the pipe `release` is closed; a byte on `ready` says it holds it.  Its
 * pid. */
static pid_t
hold_lock(const struct test_user *u, const int ready[2], const int release[2])
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char c;
		int fd;

		close(ready[0]);
		close(release[1]);
		if (setgroups(0, NULL) < 0 ||
		    setresgid(u->gid, u->gid, u->gid) < 0 ||
		    setresuid(u->uid, u->uid, u->uid) < 0)
			_exit(10);
		fd = open(u->file, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
		if (fd < 0 || flock(fd, LOCK_EX) < 0)
			_exit(11);
		if (write(ready[1], "l", 1) != 1)
			_exit(12);
		while (read(release[0], &c, 1) > 0)
			;
		_exit(0);
	}
	return pid;
}

/* The user holds a lock on its own dead.letter: the child that writes it
 * as the user waits for the lock, is killed at the caller's limit (1 s
 * here; 30 s when none is given), and has written nothing. */
static void
test_append_as_held_lock(void)
{
	struct memstream ms;
	struct message_stream m = memstream_of(&ms, S("x\r\n"), 100);
	struct test_user u;
	struct error err;
	char *path = NULL, c = 0;
	int ready[2], release[2], status = -1, fd;
	int64_t start, took;
	pid_t holder;

	if (geteuid() != 0) {
		fprintf(stderr, "skipped: a held dead letter (needs root)\n");
		return;
	}
	if (!user_make(&u)) {
		fprintf(stderr,
		        "skipped: a held dead letter (needs useradd)\n");
		return;
	}
	CHECK_INT(pipe(ready), 0);
	CHECK_INT(pipe(release), 0);
	holder = hold_lock(&u, ready, release);
	CHECK(holder > 0);
	close(ready[1]);
	close(release[0]);
	CHECK_INT(read(ready[0], &c, 1), 1); /* the user holds the lock */
	start = now_ms();
	CHECK_INT(deadletter_append_as(u.uid, 1, "a@x", 0, &m, &path, &err),
	          -1);
	took = now_ms() - start;
	CHECK_INT(err.kind, ERROR_TEMPFAIL);
	CHECK_STR(path, u.file);
	CHECK(strstr(err.msg, "not done in 1 seconds") != NULL);
	CHECK(took >= 900 && took < 3000);
	/* The lock is let go: a child still alive would now write. */
	close(release[1]);
	CHECK_INT(waitpid(holder, &status, 0), holder);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	usleep(200 * 1000);
	CHECK_INT(file_size(u.file), 0);
	fd = open(u.file, O_RDONLY);
	CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0);
	if (fd >= 0)
		close(fd);
	close(ready[0]);
	free(path);
	user_remove(&u);
}

int
main(void)
{
	str_copy(dir, sizeof dir, "/tmp/deadletter_test.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	umask(0);
	test_content();
	test_large();
	test_append_twice();
	test_rewound();
	test_sender();
	test_refused();
	test_read_failure();
	test_write_failure();
	test_default_path();
	test_append_as();
	test_append_as_held_lock();
	remove_dir();
	return unit_done();
}
