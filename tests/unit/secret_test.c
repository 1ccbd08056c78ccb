/*
 * secret_test.c - where passwords come from: each source, their order,
 * every passwordeval failure (and that its output never reaches a
 * message), passwordfd through a pipe, systemd credentials, ~/.netrc
 * parsing and permissions, a fake secret-tool first in PATH, the prompt's
 * absence without a terminal, and the process protections.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "error.h"
#include "secret.h"
#include "util.h"

#include "unit.h"

static char tmpdir[64];

static const char *
tmp_path(const char *name)
{
	static char path[256];

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	return path;
}

static const char *
write_file(const char *name, const char *text, mode_t mode)
{
	const char *path = tmp_path(name);
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, mode);
	return path;
}

/* A request that can only use what the test sets. */
static void
request(struct secret_request *r)
{
	memset(r, 0, sizeof *r);
	r->host = "smtp.example.org";
	r->user = "joe";
	r->timeout_ms = 5000;
}

/* Get the secret: "" and the error message in err when there is none. */
static int
get(const struct secret_request *r, struct secret *s, struct error *err)
{
	error_clear(err);
	return secret_get(r, s, err);
}

static void
check_secret(const struct secret_request *r, const char *want,
             enum secret_source source)
{
	struct secret s;
	struct error err;
	int rc = get(r, &s, &err);

	CHECK_INT(rc, 0);
	if (rc < 0) {
		fprintf(stderr, "  error: %s\n", err.msg);
		return;
	}
	CHECK_STR(s.data, want);
	CHECK_INT(s.len, strlen(want));
	CHECK_INT(s.source, source);
	secret_free(&s);
	CHECK(s.data == NULL);
	CHECK_INT(s.len, 0);
}

/* Expect failure whose message contains `want` and never `never`. */
static void
check_error(const struct secret_request *r, enum error_kind kind,
            const char *want, const char *never)
{
	struct secret s;
	struct error err;
	int rc = get(r, &s, &err);

	CHECK_INT(rc, -1);
	CHECK(s.data == NULL);
	CHECK_INT(err.kind, kind);
	if (!strstr(err.msg, want))
		fprintf(stderr, "  message: %s (want '%s')\n", err.msg, want);
	CHECK(strstr(err.msg, want) != NULL);
	if (never)
		CHECK(strstr(err.msg, never) == NULL);
	if (rc == 0)
		secret_free(&s);
}

static void
test_password(void)
{
	struct secret_request r;

	request(&r);
	r.password = "s3cr#t pass";
	check_secret(&r, "s3cr#t pass", SECRET_PASSWORD);
	r.password = "";
	check_error(&r, ERROR_CONFIG, "no password for joe at smtp.example.org",
	            NULL);
	r.user = NULL;
	check_error(&r, ERROR_CONFIG, "set password, passwordeval", NULL);
	secret_free(NULL);
}

static void
test_eval(void)
{
	static const struct {
		const char *cmd;
		const char *want;
	} good[] = {
	    {"printf 'hunter2\\nsecond line\\n'", "hunter2"},
	    {"printf 'crlf\\r\\n'", "crlf"},
	    {"printf 'no newline'", "no newline"},
	    {"printf ' blanks kept \\n'", " blanks kept "},
	    /* stdin is /dev/null: cat ends at once instead of waiting */
	    {"cat; echo after-cat", "after-cat"},
	    /* the rest of the output is read and dropped */
	    {"echo first; head -c 100000 /dev/zero", "first"},
	};
	struct secret_request r;

	request(&r);
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		r.passwordeval = good[i].cmd;
		check_secret(&r, good[i].want, SECRET_EVAL);
	}
}

/* The command reaches the shell through its environment, not its argv,
 * which every user may read (/proc/PID/cmdline), and leaves it before it
 * runs; a variable of the caller's of the same name chooses nothing. */
static void
test_eval_not_in_argv(void)
{
	struct secret_request r;
	struct secret s;
	struct error err;

	request(&r);
	r.passwordeval = "tr '\\000' ' ' </proc/$$/cmdline; echo";
	CHECK_INT(get(&r, &s, &err), 0);
	if (s.data) {
		CHECK(strstr(s.data, "cmdline") == NULL);
		CHECK(strstr(s.data, "sh -c") != NULL);
		secret_free(&s);
	}
	r.passwordeval = "echo x$(env | grep -c MAILPOST_PASSWORDEVAL)";
	check_secret(&r, "x0", SECRET_EVAL);
	setenv("MAILPOST_PASSWORDEVAL", "echo chosen-by-the-caller", 1);
	setenv("mailpost_command", "exported", 1);
	r.passwordeval = "echo configured";
	check_secret(&r, "configured", SECRET_EVAL);
	r.passwordeval = "echo x$(env | grep -c configured)";
	check_secret(&r, "x0", SECRET_EVAL);
	unsetenv("MAILPOST_PASSWORDEVAL");
	unsetenv("mailpost_command");
}

static void
test_eval_failures(void)
{
	struct secret_request r;
	int64_t start;

	request(&r);
	r.passwordeval = "echo leaked-output; exit 1";
	check_error(&r, ERROR_CONFIG,
	            "passwordeval command failed (exit "
	            "status 1)",
	            "leaked-output");
	r.passwordeval = "exit 3";
	check_error(&r, ERROR_CONFIG, "exit status 3", "leaked-output");
	r.passwordeval = "true";
	check_error(&r, ERROR_CONFIG, "printed nothing", NULL);
	r.passwordeval = "echo; echo leaked-output";
	check_error(&r, ERROR_CONFIG, "printed nothing", "leaked-output");
	r.passwordeval = "echo leaked-output; kill -9 $$";
	check_error(&r, ERROR_CONFIG, "killed by signal 9", "leaked-output");
	r.passwordeval = "head -c 9000 /dev/zero | tr '\\000' a";
	check_error(&r, ERROR_CONFIG, "longer than 8192 bytes", "aaaa");
	r.passwordeval = "printf 'a\\000b\\n'";
	check_error(&r, ERROR_CONFIG, "NUL byte", NULL);

	/* a timeout kills the command, whether or not it printed */
	r.timeout_ms = 300;
	start = now_ms();
	r.passwordeval = "sleep 10";
	check_error(&r, ERROR_CONFIG, "did not finish within 300 ms", NULL);
	r.passwordeval = "echo leaked-output; sleep 10";
	check_error(&r, ERROR_CONFIG, "did not finish", "leaked-output");
	r.passwordeval = "exec >&-; sleep 10";
	check_error(&r, ERROR_CONFIG, "did not finish", NULL);
	CHECK(now_ms() - start < 4000);
}

/* What the command says on its standard error is captured (never our
 * stderr), kept to a ceiling, shown once in the error, censored, with
 * the secret blanked out; on success it is dropped. */
static void
test_eval_stderr(void)
{
	struct secret_request r;
	struct secret s;
	struct error err;

	request(&r);
	r.passwordeval = "echo 'gpg: decryption failed: No secret key' >&2; "
	                 "exit 2";
	check_error(&r, ERROR_CONFIG,
	            "passwordeval command failed (exit status 2); no "
	            "password; it said: gpg: decryption failed: No secret key",
	            NULL);
	r.passwordeval = "printf 'one\\ntwo\\n\\n' >&2; exit 1";
	check_error(&r, ERROR_CONFIG, "; it said: one | two", "two |");
	r.passwordeval = "printf 'a\\033[31mb\\n' >&2; exit 1";
	check_error(&r, ERROR_CONFIG, "it said: a?[31mb", NULL);
	r.passwordeval = "echo leaked-output; echo 'no: leaked-output!' >&2; "
	                 "exit 1";
	check_error(&r, ERROR_CONFIG, "it said: no: *************!",
	            "leaked-output");
	/* far more than a pipe holds: read and dropped, so the command is
	 * never stuck writing, and the message stays one bounded line */
	r.passwordeval = "head -c 200000 /dev/zero | tr '\\000' e >&2; exit 1";
	check_error(&r, ERROR_CONFIG,
	            "exit status 1); no password; it said: "
	            "eeeeeeeeee",
	            NULL);
	error_clear(&err);
	CHECK_INT(secret_get(&r, &s, &err), -1);
	CHECK(strlen(err.msg) < 100 + 400);
	/* the ceiling cuts a copy of the secret: its start is no less a
	 * leak than the whole */
	r.passwordeval = "echo pwsecretvalue; head -c 390 /dev/zero | "
	                 "tr '\\000' e >&2; echo pwsecretvalue >&2; exit 1";
	check_error(&r, ERROR_CONFIG, "eeee**********", "pwsec");
	/* a first line ending in CRLF: the copies lack the CR */
	r.passwordeval = "printf 'pwsecretvalue\\r\\n'; "
	                 "echo 'x pwsecretvalue y' >&2; exit 1";
	check_error(&r, ERROR_CONFIG, "it said: x ************* y", "pwsec");
	r.passwordeval = "echo chatter >&2; echo pw; echo more chatter >&2";
	check_secret(&r, "pw", SECRET_EVAL);
	/* output closed, then more on stderr than a pipe holds: it is read
	 * while we wait for the command to exit, so it exits (and in time) */
	r.timeout_ms = 3000;
	r.passwordeval = "echo pw; exec >&-; "
	                 "head -c 300000 /dev/zero | tr '\\000' e >&2";
	check_secret(&r, "pw", SECRET_EVAL);
	r.timeout_ms = 5000;
	/* a timeout shows what was said before it */
	r.timeout_ms = 300;
	r.passwordeval = "echo waiting for the agent >&2; sleep 10";
	check_error(&r, ERROR_CONFIG,
	            "did not finish within 300 ms and was killed (see "
	            "passwordeval_timeout); it said: waiting for the agent",
	            NULL);
}

#ifdef __linux__
/* Is pid a live process (not gone, not a zombie waiting for init)? */
static bool
alive(long pid)
{
	char path[64], stat[512], *paren;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(stat, 1, sizeof stat - 1, f);
	fclose(f);
	stat[n] = '\0';
	paren = strrchr(stat, ')');
	return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

/* Failures: the two process ids in pidfile not both gone soon. */
static int
both_gone(const char *pidfile)
{
	long pids[2] = {0, 0};
	int failed = 0;
	FILE *f = fopen(pidfile, "r");

	failed += !f || fscanf(f, "%ld %ld", &pids[0], &pids[1]) != 2;
	if (f)
		fclose(f);
	/* SIGKILL is delivered at once, but the dying take a moment. */
	for (int i = 0; i < 200 && (alive(pids[0]) || alive(pids[1])); i++)
		usleep(5000);
	failed += pids[0] <= 0 || alive(pids[0]);
	failed += pids[1] <= 0 || alive(pids[1]);
	return failed;
}

/* In a session of its own, as under cron or PHP (no terminal): the
 * command and what it started in the background are killed on timeout,
 * and mailpost returns within about the timeout; likewise when the
 * command fails at once.  Returns the number of failures, as the exit
 * status of a child. */
static int
group_case(void)
{
	struct secret_request r;
	char cmd[1024], pidfile[256];
	int64_t start;
	int failed = 0, failed_before = unit_failed;

	request(&r);
	r.timeout_ms = 300;
	/* One background sleep dies of SIGTERM; the other ignores it
	 * (inherited from the shell's trap) and needs the SIGKILL. */
	snprintf(pidfile, sizeof pidfile, "%s", tmp_path("bg.pids"));
	snprintf(cmd, sizeof cmd,
	         "sleep 60 & echo $! >%s; trap '' TERM; sleep 60 & "
	         "echo $! >>%s; wait",
	         pidfile, pidfile);
	r.passwordeval = cmd;
	start = now_ms();
	check_error(&r, ERROR_CONFIG, "did not finish within 300 ms", NULL);
	failed += now_ms() - start > 2000;
	failed += both_gone(pidfile);
	/* A command that fails at once, leaving in the background two
	 * processes whose output goes elsewhere (nothing waits for them),
	 * one of them deaf to SIGTERM.  It exits at once, so the limit is
	 * generous: 300 ms failed this case on a loaded machine before the
	 * shell had started both. */
	r.timeout_ms = 5000;
	snprintf(cmd, sizeof cmd,
	         "sleep 60 >/dev/null 2>&1 & echo $! >%s; "
	         "(trap '' TERM; exec sleep 60) >/dev/null 2>&1 & "
	         "echo $! >>%s; exit 1",
	         pidfile, pidfile);
	check_error(&r, ERROR_CONFIG, "failed (exit status 1)", NULL);
	failed += both_gone(pidfile);
	return failed + unit_failed - failed_before;
}

static void
test_eval_group(void)
{
	int st = 0;
	pid_t pid = fork();

	if (pid == 0) {
		setsid();
		_exit(group_case() > 0);
	}
	CHECK(pid > 0);
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
#endif

/* The child's environment lacks the passwordenv variable, and reading it
 * removes it from ours. */
static void
test_env(void)
{
	struct secret_request r;

	request(&r);
	setenv("MAILPOST_TEST_PW", "env-secret", 1);
	r.passwordenv = "MAILPOST_TEST_PW";
	r.passwordeval = "printf '%s\\n' \"${MAILPOST_TEST_PW:-absent}\"";
	check_secret(&r, "absent", SECRET_EVAL);
	CHECK_STR(getenv("MAILPOST_TEST_PW"), "env-secret");
	r.passwordeval = NULL;
	check_secret(&r, "env-secret", SECRET_ENV);
	CHECK(getenv("MAILPOST_TEST_PW") == NULL);
	check_error(&r, ERROR_CONFIG,
	            "passwordenv names MAILPOST_TEST_PW, which is not set",
	            NULL);
}

static void
test_fd(void)
{
	struct secret_request r;
	int fds[2];

	request(&r);
	CHECK_INT(pipe(fds), 0);
	CHECK_INT(write(fds[1], "fd-secret\r\nmore\n", 16), 16);
	close(fds[1]);
	r.passwordfd = fds[0];
	check_secret(&r, "fd-secret", SECRET_FD);
	/* closed once read, so that no child inherits it */
	CHECK(fcntl(fds[0], F_GETFD) < 0);

	r.passwordfd = 99;
	check_error(&r, ERROR_CONFIG,
	            "passwordfd 99 is not an open "
	            "descriptor",
	            NULL);

	CHECK_INT(pipe(fds), 0);
	close(fds[1]);
	r.passwordfd = fds[0];
	check_error(&r, ERROR_CONFIG, "empty first line", NULL);

	/* a writer that never writes */
	CHECK_INT(pipe(fds), 0);
	r.passwordfd = fds[0];
	r.timeout_ms = 200;
	check_error(&r, ERROR_CONFIG, "nothing to read within 200 ms", NULL);
	close(fds[1]);
}

static void
test_cred(void)
{
	struct secret_request r;
	char dir[128];

	request(&r);
	snprintf(dir, sizeof dir, "%s/creds", tmpdir);
	mkdir(dir, 0700);
	write_file("creds/" SECRET_CRED_DEFAULT, "default-cred\n", 0400);
	write_file("creds/smtp", "named-cred", 0400);

	/* without the directory, a named credential is an error and the
	 * default one is silently absent */
	unsetenv("CREDENTIALS_DIRECTORY");
	r.passwordcred = "smtp";
	check_error(&r, ERROR_CONFIG, "CREDENTIALS_DIRECTORY is not set", NULL);
	r.passwordcred = NULL;
	check_error(&r, ERROR_CONFIG, "no password", NULL);

	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	check_secret(&r, "default-cred", SECRET_CRED);
	r.passwordcred = "smtp";
	check_secret(&r, "named-cred", SECRET_CRED);
	r.passwordcred = "missing";
	check_error(&r, ERROR_CONFIG, "cannot read credential", NULL);
	unsetenv("CREDENTIALS_DIRECTORY");
}

static const char netrc_text[] =
    "# a comment line\n"
    "machine ftp.example.org login joe password ftp-pw\n"
    "macdef init\n"
    "machine smtp.example.org login joe password macro-pw\n"
    "\n"
    "machine SMTP.example.org\n"
    "\tlogin other password other-pw\n"
    "machine smtp.example.org login joe password \"q \\\"uoted\\\\\" "
    "account x port 25\n"
    "machine nologin.example.org password any-user-pw\n"
    "default login joe password default-pw\n"
    "machine after.example.org login joe password after-pw\n";

static void
test_netrc(void)
{
	static const struct {
		const char *host;
		const char *user;
		const char *want; /* NULL: nothing found */
	} cases[] = {
	    {"smtp.example.org", "joe", "q \"uoted\\"},
	    {"smtp.example.org", "other", "other-pw"},
	    {"Smtp.Example.Org", "other", "other-pw"},
	    {"ftp.example.org", "joe", "ftp-pw"},
	    {"nologin.example.org", "anyone", "any-user-pw"},
	    {"unknown.example.org", "joe", "default-pw"},
	    {"after.example.org", "joe", "default-pw"},
	    {"unknown.example.org", "nobody", NULL},
	};
	const char *path = write_file("netrc", netrc_text, 0600);
	struct secret_request r;

	request(&r);
	setenv("NETRC", path, 1);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r.host = cases[i].host;
		r.user = cases[i].user;
		if (cases[i].want)
			check_secret(&r, cases[i].want, SECRET_NETRC);
		else
			check_error(&r, ERROR_CONFIG, "no password", NULL);
	}

	/* $HOME/.netrc when $NETRC is unset */
	unsetenv("NETRC");
	setenv("HOME", tmpdir, 1);
	write_file(".netrc", "machine h login u password home-pw", 0600);
	r.host = "h";
	r.user = "u";
	check_secret(&r, "home-pw", SECRET_NETRC);

	/* a password others can read is refused, loudly */
	chmod(tmp_path(".netrc"), 0644);
	check_error(&r, ERROR_CONFIG, "accessible by others; run 'chmod 600",
	            "home-pw");
	/* ... but not when it has no entry for us */
	r.host = "elsewhere";
	check_error(&r, ERROR_CONFIG, "no password", NULL);
	unlink(tmp_path(".netrc"));
}

static void
fake_tool(const char *body)
{
	char text[1024];

	snprintf(text, sizeof text, "#!/bin/sh\n%s\n", body);
	write_file("bin/secret-tool", text, 0700);
}

static void
test_keyring(void)
{
	char bin[128], path[512];
	const char *old = getenv("PATH");
	struct secret_request r;

	request(&r);
	r.keyring = true;
	snprintf(bin, sizeof bin, "%s/bin", tmpdir);
	mkdir(bin, 0700);
	snprintf(path, sizeof path, "%s:%s", bin, old ? old : "/usr/bin:/bin");
	setenv("PATH", path, 1);

	fake_tool("[ \"$*\" = 'lookup host smtp.example.org service smtp "
	          "user joe' ] || exit 1\nprintf keyring-pw");
	check_secret(&r, "keyring-pw", SECRET_KEYRING);
	/* no entry (exit 1), or a hung tool: nothing, not an error */
	r.user = "ann";
	check_error(&r, ERROR_CONFIG, "no password for ann", NULL);
	fake_tool("sleep 10");
	r.timeout_ms = 200;
	check_error(&r, ERROR_CONFIG, "no password", NULL);
	/* not allowed, or not installed */
	fake_tool("printf keyring-pw");
	r.keyring = false;
	check_error(&r, ERROR_CONFIG, "no password", NULL);
	r.keyring = true;
	unlink(tmp_path("bin/secret-tool"));
	setenv("PATH", bin, 1);
	check_error(&r, ERROR_CONFIG, "no password", NULL);
	setenv("PATH", old ? old : "/usr/bin:/bin", 1);
}

/* Explicit sources come first, in the documented order. */
static void
test_precedence(void)
{
	struct secret_request r;
	char dir[128];
	int fds[2];

	request(&r);
	snprintf(dir, sizeof dir, "%s/creds", tmpdir);
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	setenv("NETRC", write_file("netrc", netrc_text, 0600), 1);
	setenv("MAILPOST_TEST_PW", "env-pw", 1);

	r.password = "pw";
	r.passwordeval = "echo eval-pw";
	check_secret(&r, "pw", SECRET_PASSWORD);
	r.password = NULL;
	check_secret(&r, "eval-pw", SECRET_EVAL);
	r.passwordeval = NULL;
	CHECK_INT(pipe(fds), 0);
	CHECK_INT(write(fds[1], "fd-pw\n", 6), 6);
	close(fds[1]);
	r.passwordfd = fds[0];
	r.passwordcred = "smtp";
	check_secret(&r, "fd-pw", SECRET_FD);
	r.passwordfd = 0;
	r.passwordenv = "MAILPOST_TEST_PW";
	check_secret(&r, "named-cred", SECRET_CRED);
	r.passwordcred = NULL;
	check_secret(&r, "env-pw", SECRET_ENV);
	r.passwordenv = NULL;
	check_secret(&r, "default-cred", SECRET_CRED);
	unsetenv("CREDENTIALS_DIRECTORY");
	check_secret(&r, "q \"uoted\\", SECRET_NETRC);
	unsetenv("NETRC");
}

/* Without a controlling terminal there is no prompt. */
static void
test_no_terminal(void)
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		struct secret_request r;
		struct secret s;
		struct error err;

		setsid();
		request(&r);
		r.prompt = true;
		_exit(secret_get(&r, &s, &err) == -1 &&
		              strstr(err.msg, "no terminal") != NULL
		          ? 0
		          : 1);
	}
	CHECK(pid > 0);
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void
test_names(void)
{
	CHECK_STR(secret_source_name(SECRET_EVAL), "passwordeval");
	CHECK_STR(secret_source_name(SECRET_PROMPT), "prompt");
	CHECK_STR(secret_source_name((enum secret_source)99), "unknown");
}

static void
test_request_init(void)
{
	struct account a;
	struct secret_request r;

	account_defaults(&a);
	a.host = "h";
	a.user = "u";
	a.passwordfd = 7;
	a.passwordeval_timeout = 9;
	secret_request_init(&r, &a);
	CHECK_STR(r.host, "h");
	CHECK_STR(r.user, "u");
	CHECK_INT(r.passwordfd, 7);
	CHECK_INT(r.timeout_ms, 9000);
	CHECK(r.prompt && r.keyring);
}

/* In a child, so the rest of the tests keep their defaults. */
static void
test_protect(void)
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		struct rlimit rl;
		struct error err;
		int ok = secret_protect_process(&err) == 0;

		ok = ok && getrlimit(RLIMIT_CORE, &rl) == 0 &&
		     rl.rlim_cur == 0 && rl.rlim_max == 0;
#ifdef __linux__
		ok = ok && prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0;
#endif
		_exit(ok ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void
cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

/* The source a request names first, as secret_get tries them; empty
 * strings name nothing; netrc, the keyring and the prompt are never
 * "configured". */
static void
test_configured(void)
{
	struct secret_request r = {.host = "h", .user = "u"};

	CHECK_INT(secret_configured(&r), SECRET_NONE);
	r.passwordenv = "";
	r.passwordcred = "";
	r.passwordeval = "";
	r.password = "";
	CHECK_INT(secret_configured(&r), SECRET_NONE);
	r.passwordenv = "MAILPOST_PW";
	CHECK_INT(secret_configured(&r), SECRET_ENV);
	r.passwordcred = "cred";
	CHECK_INT(secret_configured(&r), SECRET_CRED);
	r.passwordfd = 3;
	CHECK_INT(secret_configured(&r), SECRET_FD);
	r.passwordeval = "echo x";
	CHECK_INT(secret_configured(&r), SECRET_EVAL);
	r.password = "x";
	CHECK_INT(secret_configured(&r), SECRET_PASSWORD);
}

int
main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/secret_test.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	unsetenv("NETRC");
	unsetenv("CREDENTIALS_DIRECTORY");
	setenv("HOME", tmpdir, 1);
	test_password();
	test_eval();
	test_eval_not_in_argv();
	test_eval_failures();
	test_eval_stderr();
#ifdef __linux__
	test_eval_group();
#endif
	test_env();
	test_fd();
	test_cred();
	test_netrc();
	test_keyring();
	test_precedence();
	test_configured();
	test_no_terminal();
	test_names();
	test_request_init();
	test_protect();
	cleanup();
	return unit_done();
}
