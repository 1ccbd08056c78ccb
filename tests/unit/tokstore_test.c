/*
 * tokstore_test.c - the token store in a temporary directory: the file's
 * round trip and its atomic replacement (no temporary file left, modes),
 * rotation, two runs writing at once, the access token's expiry margin
 * and identity, a cut, garbled or oversized file, a file or directory
 * that is a symbolic link, open to others or another user's, the system
 * account's written by root only, and the keyring through a fake
 * secret-tool on PATH that records its argv and its standard input.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "secret.h"
#include "tokstore.h"
#include "util.h"

#include "unit.h"

static char top[256], dir[300], bin[300], path_with_bin[400];

static struct tokstore_key
key(enum tokstore_where where)
{
	struct tokstore_key k = {
	    .account = "work",
	    .user = "me@example.org",
	    .token_endpoint = "https://127.0.0.1:1/token",
	    .client_id = "cid",
	    .scope = "s1 s2",
	    .where = where,
	    .dir = dir,
	};
	return k;
}

/* The whole of file path, or "" (a static buffer). */
static const char *
slurp(const char *path)
{
	static char text[64 * 1024];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? 0 : read(fd, text, sizeof text - 1);

	if (fd >= 0)
		close(fd);
	text[n > 0 ? n : 0] = '\0';
	return text;
}

static void
spill(const char *path, const char *text, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, text, n) != (ssize_t)n)
		perror(path);
	close(fd);
	chmod(path, 0600);
}

/* The entries of dir but . and .. */
static int
entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void
reset(void)
{
	char cmd[2048];

	snprintf(cmd, sizeof cmd,
	         "rm -rf '%s' '%s'/argv '%s'/stdin '%s'/stored '%s'/fail", dir,
	         bin, bin, bin, bin);
	if (system(cmd) != 0)
		perror("rm");
}

static void
test_login_command(void)
{
	char out[512], cwd[PATH_MAX], want[PATH_MAX + 64];

	tokstore_login_command(NULL, NULL, out, sizeof out);
	CHECK_STR(out, "mailpost --oauth2-login -A default");
	tokstore_login_command("/etc/mailpost.conf", "work", out, sizeof out);
	CHECK_STR(out, "mailpost -C /etc/mailpost.conf --oauth2-login -A work");
	tokstore_login_command("/a b/$x;`y`", "a&b", out, sizeof out);
	CHECK_STR(out, "mailpost -C '/a b/$x;`y`' --oauth2-login -A 'a&b'");
	/* A relative file from where it was given. */
	CHECK(getcwd(cwd, sizeof cwd) != NULL);
	tokstore_login_command("conf", "w", out, sizeof out);
	snprintf(want, sizeof want, "mailpost -C %s%sconf --oauth2-login -A w",
	         cwd, strcmp(cwd, "/") == 0 ? "" : "/");
	CHECK_STR(out, want);
	/* Cut, never overrun. */
	tokstore_login_command("/etc/x", "work", out, 10);
	CHECK_STR(out, "mailpost ");
}

/* An account that only names another shares its file: the same identity
 * under another name; a user of its own keeps apart. */
static void
test_other_account(void)
{
	struct tokstore_key work = key(TOKSTORE_FILE),
	                    dflt = key(TOKSTORE_FILE);
	struct tokstore_key other = key(TOKSTORE_FILE);
	enum tokstore_where where;
	struct secret s;
	struct error err;
	char *pw, *pd;

	reset();
	dflt.account = "default";
	other.account = "zz";
	other.user = "you@example.org";
	CHECK_INT(tokstore_put_refresh(&work, "R1", &where, &err), 0);
	pw = tokstore_path(&work, &err);
	pd = tokstore_path(&dflt, &err);
	CHECK_STR(pd, pw);
	CHECK_INT(tokstore_get_refresh(&dflt, &s, &err), 0);
	CHECK_STR(s.data, "R1");
	secret_free(&s);
	/* Written through either, one file. */
	CHECK_INT(tokstore_put_refresh(&dflt, "R2", &where, &err), 0);
	CHECK_INT(entries(), 1);
	CHECK_INT(tokstore_get_refresh(&work, &s, &err), 0);
	CHECK_STR(s.data, "R2");
	secret_free(&s);
	/* Another user: no login, a file of its own once logged in. */
	CHECK_INT(tokstore_get_refresh(&other, &s, &err), -1);
	CHECK_INT(err.kind, ERROR_NOPERM);
	CHECK_INT(tokstore_put_refresh(&other, "R3", &where, &err), 0);
	CHECK_INT(entries(), 2);
	free(pw);
	free(pd);
}

static void
test_file_round_trip(void)
{
	struct tokstore_key k = key(TOKSTORE_FILE);
	enum tokstore_where where = TOKSTORE_AUTO;
	struct secret s;
	struct stat st;
	struct error err;
	char *path;

	reset();
	/* No login yet: the command that logs in. */
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), -1);
	CHECK_INT(err.kind, ERROR_NOPERM);
	CHECK_STR(err.msg, "account 'work' has no OAuth2 login; log in: "
	                   "mailpost --oauth2-login -A work");
	k.config = "/etc/x.conf";
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), -1);
	CHECK(strstr(err.msg, "mailpost -C /etc/x.conf --oauth2-login -A "
	                      "work") != NULL);
	/* As a shell reads it, from any directory. */
	k.config = "/etc/my conf";
	k.account = "it's";
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), -1);
	CHECK(strstr(err.msg, "mailpost -C '/etc/my conf' --oauth2-login -A "
	                      "'it'\\''s'") != NULL);
	k.account = "work";
	k.config = NULL;

	CHECK_INT(tokstore_put_refresh(&k, "R1", &where, &err), 0);
	CHECK_INT(where, TOKSTORE_FILE);
	CHECK_STR(err.msg, "");
	path = tokstore_path(&k, &err);
	CHECK(path && strstr(path, "/work-") != NULL);
	CHECK_INT(lstat(dir, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0700);
	CHECK_INT(lstat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	CHECK_STR(slurp(path), "mailpost-oauth2 1\n"
	                       "endpoint https://127.0.0.1:1/token\n"
	                       "client cid\nuser me@example.org\n"
	                       "scope s1 s2\nrefresh file\n"
	                       "refresh_token R1\nend\n");
	/* Replaced whole: no temporary file stays beside it. */
	CHECK_INT(entries(), 1);
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), 0);
	CHECK_STR(s.data, "R1");
	secret_free(&s);

	/* The access token joins it; a rotated refresh token replaces the
	 * old one and keeps it. */
	CHECK_INT(tokstore_put_access(&k, "A1", 2000000000LL, &err), 0);
	CHECK_INT(tokstore_put_refresh(&k, "R2", &where, &err), 0);
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), 0);
	CHECK_STR(s.data, "R2");
	secret_free(&s);
	CHECK(strstr(slurp(path), "R1") == NULL);
	CHECK(strstr(slurp(path), "access_token A1\naccess_expires "
	                          "2000000000\nend\n") != NULL);
	CHECK_INT(entries(), 1);

	/* A killed run's temporary file is removed by the next store once
	 * older than TOKSTORE_TEMP_AGE; a younger one (another run's write
	 * in progress) and another file's are kept. */
	{
		char old[600], young[600], other[600];
		struct timespec t[2] = {{0, 0}, {0, 0}};

		snprintf(old, sizeof old, "%s.Ab12Cd", path);
		snprintf(young, sizeof young, "%s.Ef34Gh", path);
		snprintf(other, sizeof other,
		         "%s/other-0000000000000000.Ij56Kl", dir);
		spill(old, "refresh_token LEFT\n", 19);
		spill(young, "x", 1);
		spill(other, "x", 1);
		t[0].tv_sec = t[1].tv_sec = time(NULL) - TOKSTORE_TEMP_AGE - 5;
		utimensat(AT_FDCWD, old, t, 0);
		utimensat(AT_FDCWD, other, t, 0);
		CHECK_INT(tokstore_put_access(&k, "A2", 2000000000LL, &err), 0);
		CHECK_INT(access(old, F_OK), -1);
		CHECK_INT(access(young, F_OK), 0);
		CHECK_INT(access(other, F_OK), 0);
		unlink(young);
		unlink(other);
	}

	/* A token that is not printable ASCII is refused, the file kept. */
	CHECK_INT(tokstore_put_refresh(&k, "R\n3", &where, &err), -1);
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), 0);
	CHECK_STR(s.data, "R2");
	secret_free(&s);
	free(path);
}

static void
test_access_expiry(void)
{
	struct tokstore_key k = key(TOKSTORE_FILE), other = k;
	long long now = (long long)time(NULL), exp = -1;
	struct secret s;
	struct error err;
	struct tokstore_status st;

	reset();
	CHECK_INT(tokstore_get_access(&k, 0, &s, &exp, &err), 0);
	CHECK(s.data == NULL);
	CHECK_INT(tokstore_put_access(&k, "A1", now + 100, &err), 0);
	/* 100 s left: enough for a margin of 60, not of 120. */
	CHECK_INT(tokstore_get_access(&k, 60, &s, &exp, &err), 0);
	CHECK_STR(s.data, "A1");
	CHECK_INT(exp, now + 100);
	secret_free(&s);
	CHECK_INT(tokstore_get_access(&k, 120, &s, &exp, &err), 0);
	CHECK(s.data == NULL);
	/* Another scope, user, client or endpoint: not given. */
	other.scope = "s1";
	CHECK_INT(tokstore_get_access(&other, 0, &s, &exp, &err), 0);
	CHECK(s.data == NULL);
	other = k;
	other.client_id = "cid2";
	other.account = "work"; /* same account, another client */
	CHECK_INT(tokstore_get_access(&other, 0, &s, &exp, &err), 0);
	CHECK(s.data == NULL);
	/* Dropped after a refusal. */
	CHECK_INT(tokstore_status(&k, &st, &err), 0);
	CHECK(st.has_access);
	CHECK_INT(st.access_expires_at, now + 100);
	CHECK_INT(st.refresh, TOKSTORE_AUTO);
	CHECK_INT(tokstore_drop_access(&k, &err), 0);
	CHECK_INT(tokstore_get_access(&k, 0, &s, &exp, &err), 0);
	CHECK(s.data == NULL);
	CHECK_INT(tokstore_status(&k, &st, &err), 0);
	CHECK(!st.has_access);
	/* A new login for another scope drops the access token of the old
	 * one. */
	{
		enum tokstore_where where;

		CHECK_INT(tokstore_put_access(&k, "A3", now + 1000, &err), 0);
		other = k;
		other.scope = "s3";
		CHECK_INT(tokstore_put_refresh(&other, "R", &where, &err), 0);
		CHECK_INT(tokstore_get_access(&k, 0, &s, &exp, &err), 0);
		CHECK(s.data == NULL);
		CHECK_INT(tokstore_status(&other, &st, &err), 0);
		CHECK(!st.has_access);
		CHECK_INT(st.refresh, TOKSTORE_FILE);
	}
	/* An expiry of 0 (none given) is never cached as valid. */
	CHECK_INT(tokstore_put_access(&k, "A2", 0, &err), 0);
	CHECK_INT(tokstore_get_access(&k, 0, &s, &exp, &err), 0);
	CHECK(s.data == NULL);
}

/* The file for another identity of the same account (a collision of
 * names, or a file copied over): its refresh token is never used. */
static void
test_identity_mismatch(void)
{
	struct tokstore_key k = key(TOKSTORE_FILE), other = k;
	enum tokstore_where where;
	struct secret s;
	struct error err;
	char *path, *opath;

	reset();
	CHECK_INT(tokstore_put_refresh(&k, "R1", &where, &err), 0);
	other.user = "you@example.org";
	path = tokstore_path(&k, &err);
	opath = tokstore_path(&other, &err);
	CHECK(strcmp(path, opath) != 0);
	/* Put the file where the other identity's would be. */
	CHECK_INT(rename(path, opath), 0);
	CHECK_INT(tokstore_get_refresh(&other, &s, &err), -1);
	CHECK_INT(err.kind, ERROR_NOPERM);
	CHECK(strstr(err.msg, "the stored one is for another") != NULL);
	CHECK(s.data == NULL);
	/* Its own login replaces it. */
	CHECK_INT(tokstore_put_refresh(&other, "R9", &where, &err), 0);
	CHECK_INT(tokstore_get_refresh(&other, &s, &err), 0);
	CHECK_STR(s.data, "R9");
	secret_free(&s);
	free(path);
	free(opath);
}

/* An internationalized user is an identity like any other. */
static void
test_utf8_user(void)
{
	struct tokstore_key k = key(TOKSTORE_FILE);
	enum tokstore_where where;
	struct secret s;
	struct error err;

	reset();
	k.user = "j\303\274rgen@b\303\274cher.example";
	CHECK_INT(tokstore_put_refresh(&k, "R1", &where, &err), 0);
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), 0);
	CHECK_STR(s.data, "R1");
	secret_free(&s);
	/* A token is printable ASCII: not UTF-8, not a control. */
	CHECK_INT(tokstore_put_access(&k, "A\303\274", 2000000000LL, &err), -1);
	CHECK_INT(err.kind, ERROR_PROTOCOL);
	CHECK_INT(tokstore_put_access(&k, "A\tB", 2000000000LL, &err), -1);
	CHECK_INT(tokstore_put_access(&k, "", 2000000000LL, &err), -1);
}

static void
test_damaged(void)
{
	static const char good[] =
	    "mailpost-oauth2 1\nendpoint https://127.0.0.1:1/token\n"
	    "client cid\nuser me@example.org\nscope s1 s2\nrefresh file\n"
	    "refresh_token R1\naccess_token A1\naccess_expires 2000000000\n"
	    "end\n";
	static const struct {
		const char *what, *text;
	} bad[] = {
	    {"cut before end",
	     "mailpost-oauth2 1\nendpoint https://127.0.0.1:1/"
	     "token\nclient cid\nuser me@example.org\nscope "
	     "s1 s2\nrefresh file\nrefresh_token R1\n"},
	    {"cut inside a line", "mailpost-oauth2 1\nendpoint https://127.0."},
	    {"garbage", "\x01\x02garbage\xff\n"},
	    {"another version", "mailpost-oauth2 2\nend\n"},
	    {"unknown key", "mailpost-oauth2 1\nendpoint https://127.0.0.1:1/"
	                    "token\nclient cid\nuser me@example.org\nscope s1 "
	                    "s2\nrefresh file\nrefresh_token R1\nx y\nend\n"},
	    {"file without its token",
	     "mailpost-oauth2 1\nendpoint https://127.0.0.1:1/token\nclient "
	     "cid\nuser me@example.org\nscope s1 s2\nrefresh file\nend\n"},
	    {"text after end", "mailpost-oauth2 1\nendpoint https://127.0.0.1:"
	                       "1/token\nclient cid\nuser me@example.org\n"
	                       "scope s1 s2\nrefresh none\nend\nmore\n"},
	    {"empty", ""},
	};
	struct tokstore_key k = key(TOKSTORE_FILE);
	long long exp;
	struct secret s;
	struct error err;
	char *path, *big;
	enum tokstore_where where;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		reset();
		CHECK_INT(tokstore_put_refresh(&k, "R0", &where, &err), 0);
		path = tokstore_path(&k, &err);
		spill(path, bad[i].text, strlen(bad[i].text));
		if (tokstore_get_refresh(&k, &s, &err) != -1 ||
		    err.kind != ERROR_NOPERM ||
		    !strstr(err.msg, "is damaged") ||
		    !strstr(err.msg, "--oauth2-login -A work"))
			unit_report(0, __FILE__, __LINE__, bad[i].what);
		CHECK_INT(tokstore_get_access(&k, 0, &s, &exp, &err), 0);
		CHECK(s.data == NULL);
		/* A new login rewrites it. */
		CHECK_INT(tokstore_put_refresh(&k, "R5", &where, &err), 0);
		CHECK_INT(tokstore_get_refresh(&k, &s, &err), 0);
		secret_free(&s);
		free(path);
	}
	/* The good text is read (the test's own check), and one byte over
	 * the ceiling is not. */
	reset();
	CHECK_INT(tokstore_put_refresh(&k, "R0", &where, &err), 0);
	path = tokstore_path(&k, &err);
	spill(path, good, strlen(good));
	CHECK_INT(tokstore_get_access(&k, 0, &s, &exp, &err), 0);
	CHECK_STR(s.data, "A1");
	secret_free(&s);
	big = xmalloc(TOKSTORE_FILE_MAX + 1);
	memset(big, 'x', TOKSTORE_FILE_MAX + 1);
	memcpy(big, good, strlen(good) - 4);
	memcpy(big + TOKSTORE_FILE_MAX + 1 - 4, "end\n", 4);
	spill(path, big, TOKSTORE_FILE_MAX + 1);
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), -1);
	CHECK(strstr(err.msg, "is damaged") != NULL);
	free(big);
	free(path);
}

static void
test_refused(void)
{
	struct tokstore_key k = key(TOKSTORE_FILE);
	enum tokstore_where where;
	struct secret s;
	struct error err;
	char *path, want[700], elsewhere[400];

	reset();
	CHECK_INT(tokstore_put_refresh(&k, "R1", &where, &err), 0);
	path = tokstore_path(&k, &err);

	/* The file readable by others. */
	chmod(path, 0644);
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	snprintf(want, sizeof want,
	         "%s may be read by others; run 'chmod "
	         "600 %s'",
	         path, path);
	CHECK_STR(err.msg, want);
	CHECK_INT(tokstore_put_access(&k, "A", 2000000000LL, &err), -1);
	chmod(path, 0620);
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), -1);
	CHECK(strstr(err.msg, "may be changed or entered by others") != NULL);
	chmod(path, 0600);

	/* The directory open to others. */
	chmod(dir, 0755);
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), -1);
	snprintf(want, sizeof want,
	         "%s may be read by others; run 'chmod "
	         "700 %s'",
	         dir, dir);
	CHECK_STR(err.msg, want);
	chmod(dir, 0700);

	/* The file a symbolic link (to a file that would do). */
	snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere", top);
	CHECK_INT(rename(path, elsewhere), 0);
	CHECK_INT(symlink(elsewhere, path), 0);
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "is a symbolic link") != NULL);
	CHECK(strstr(err.msg, "rm ") != NULL);
	CHECK_INT(tokstore_put_refresh(&k, "R2", &where, &err), -1);
	/* The link was not followed: the file it points to is unchanged. */
	CHECK(strstr(slurp(elsewhere), "refresh_token R1") != NULL);
	unlink(path);

	/* The directory a symbolic link. */
	reset();
	snprintf(elsewhere, sizeof elsewhere, "%s/realdir", top);
	mkdir(elsewhere, 0700);
	CHECK_INT(symlink(elsewhere, dir), 0);
	CHECK_INT(tokstore_put_refresh(&k, "R1", &where, &err), -1);
	CHECK(strstr(err.msg, "is a symbolic link") != NULL);
	unlink(dir);
	rmdir(elsewhere);

	/* Another user's file: only root can make one. */
	if (geteuid() == 0) {
		reset();
		CHECK_INT(tokstore_put_refresh(&k, "R1", &where, &err), 0);
		CHECK_INT(chown(path, 1, 1), 0);
		CHECK_INT(tokstore_get_refresh(&k, &s, &err), -1);
		CHECK(strstr(err.msg, "is owned by another user (uid 1)") !=
		      NULL);
	}
	free(path);
}

/* A fake secret-tool: its words to argv (one a line), its standard input
 * to stdin; store keeps the input, lookup prints it, clear removes it;
 * a file "fail" makes every call exit 1. */
static void
fake_secret_tool(void)
{
	char path[400], text[1200];

	snprintf(path, sizeof path, "%s/secret-tool", bin);
	snprintf(
	    text, sizeof text,
	    "#!/bin/sh\n"
	    "d='%s'\n"
	    "printf '%%s\\n' \"$@\" >>\"$d/argv\"\n"
	    "cat >\"$d/last\"; cat \"$d/last\" >>\"$d/stdin\"\n"
	    "[ -e \"$d/fail\" ] && { echo 'keyring locked' >&2; exit 1; }\n"
	    "case $1 in\n"
	    "store) cp \"$d/last\" \"$d/stored\" ;;\n"
	    "lookup) [ -e \"$d/stored\" ] && cat \"$d/stored\" || exit 1 ;;\n"
	    "clear) rm -f \"$d/stored\" ;;\n"
	    "esac\n",
	    bin);
	spill(path, text, strlen(text));
	chmod(path, 0700);
}

static void
test_keyring(void)
{
	struct tokstore_key k = key(TOKSTORE_AUTO);
	enum tokstore_where where = TOKSTORE_FILE;
	char fail[400], stored[400], *path;
	struct tokstore_status st;
	struct secret s;
	struct error err;

	reset();
	mkdir(bin, 0700);
	fake_secret_tool();
	snprintf(fail, sizeof fail, "%s/fail", bin);
	snprintf(stored, sizeof stored, "%s/stored", bin);
	setenv("PATH", path_with_bin, 1);
	CHECK_INT(tokstore_put_refresh(&k, "SECRET-REFRESH", &where, &err), 0);
	CHECK_INT(where, TOKSTORE_KEYRING);
	CHECK_STR(err.msg, "");
	/* The token went on standard input, never in argv. */
	CHECK_STR(slurp(stored), "SECRET-REFRESH");
	{
		char argv_file[400];

		snprintf(argv_file, sizeof argv_file, "%s/argv", bin);
		CHECK_STR(
		    slurp(argv_file),
		    "store\n--label=mailpost OAuth2 refresh token "
		    "(account work)\nservice\nmailpost-oauth2\nuser\n"
		    "me@example.org\nendpoint\nhttps://127.0.0.1:1/token\n"
		    "client\ncid\n");
	}
	/* The file says where it is, and holds no token. */
	path = tokstore_path(&k, &err);
	CHECK(strstr(slurp(path), "refresh keyring\n") != NULL);
	CHECK(strstr(slurp(path), "SECRET-REFRESH") == NULL);
	CHECK_INT(tokstore_status(&k, &st, &err), 0);
	CHECK_INT(st.refresh, TOKSTORE_KEYRING);
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), 0);
	CHECK_STR(s.data, "SECRET-REFRESH");
	secret_free(&s);

	/* The entry gone from the keyring: log in again. */
	unlink(stored);
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), -1);
	CHECK_INT(err.kind, ERROR_NOPERM);
	CHECK(strstr(err.msg, "--oauth2-login -A work") != NULL);

	/* A failing keyring under auto: the file, and why (for -v). */
	spill(fail, "x", 1);
	CHECK_INT(tokstore_put_refresh(&k, "R-FILE", &where, &err), 0);
	CHECK_INT(where, TOKSTORE_FILE);
	CHECK_INT(err.kind, ERROR_NONE);
	CHECK(strstr(err.msg, "not the keyring: secret-tool store failed "
	                      "(exit status 1)") != NULL);
	CHECK(strstr(err.msg, "R-FILE") == NULL);
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), 0);
	CHECK_STR(s.data, "R-FILE");
	secret_free(&s);

	/* ... but an error under oauth2_store keyring. */
	k.where = TOKSTORE_KEYRING;
	CHECK_INT(tokstore_put_refresh(&k, "R-K", &where, &err), -1);
	CHECK(strstr(err.msg, "oauth2_store keyring") != NULL);
	CHECK(strstr(err.msg, "keyring locked") != NULL);
	CHECK(strstr(err.msg, "R-K") == NULL);
	/* The file kept the token it had. */
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), 0);
	CHECK_STR(s.data, "R-FILE");
	secret_free(&s);
	unlink(fail);

	/* Back to the keyring: the file's copy is gone. */
	CHECK_INT(tokstore_put_refresh(&k, "R-K2", &where, &err), 0);
	CHECK_INT(where, TOKSTORE_KEYRING);
	CHECK(strstr(slurp(path), "R-FILE") == NULL);

	/* No secret-tool at all under auto: the file. */
	k.where = TOKSTORE_AUTO;
	setenv("PATH", "/nonexistent", 1);
	CHECK_INT(tokstore_put_refresh(&k, "R-NOTOOL", &where, &err), 0);
	CHECK_INT(where, TOKSTORE_FILE);
	CHECK(strstr(err.msg, "secret-tool is not installed") != NULL);
	/* oauth2_store file never runs it. */
	setenv("PATH", path_with_bin, 1);
	unlink(stored);
	k.where = TOKSTORE_FILE;
	CHECK_INT(tokstore_put_refresh(&k, "R-F", &where, &err), 0);
	CHECK_INT(where, TOKSTORE_FILE);
	CHECK_STR(slurp(stored), "");
	free(path);
}

/* The system account's store (k.system): root:GROUP, files 0660.  A
 * caller's run holds the group but is the caller: simulated by root with
 * the effective uid of nobody and the group (root's, here) kept.  It
 * reads the files, writes none (the file would be the caller's), and a
 * file not root's is refused. */
static void
test_system(void)
{
	struct tokstore_key k = key(TOKSTORE_FILE);
	enum tokstore_where where;
	struct secret s;
	struct error err;
	char *path;

	if (geteuid() != 0)
		return;
	reset();
	k.system = true;
	CHECK_INT(mkdir(dir, 0770), 0);
	CHECK_INT(chmod(top, 0710), 0);
	CHECK_INT(tokstore_put_refresh(&k, "R1", &where, &err), 0);
	CHECK_INT(tokstore_put_access(&k, "A1", 2000000000LL, &err), 0);
	path = tokstore_path(&k, &err);

	CHECK_INT(seteuid(65534), 0);
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), 0);
	CHECK_STR(s.data, "R1");
	secret_free(&s);
	CHECK_INT(tokstore_put_refresh(&k, "R2", &where, &err), -1);
	CHECK_INT(err.kind, ERROR_TEMPFAIL);
	CHECK(strstr(err.msg, "written only by root") != NULL);
	CHECK_INT(tokstore_put_access(&k, "A2", 2000000000LL, &err), -1);
	CHECK_INT(tokstore_drop_access(&k, &err), -1);
	CHECK_INT(seteuid(0), 0);
	/* Nothing of the caller's in the directory, the file as it was. */
	CHECK_INT(entries(), 1);
	CHECK(strstr(slurp(path), "refresh_token R1\naccess_token A1\n") !=
	      NULL);

	/* A file of another user's, the group's and 0660 as it should be. */
	CHECK_INT(chown(path, 65534, 0), 0);
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "is not root's with the system group") != NULL);
	CHECK_INT(chmod(top, 0700), 0);
	free(path);
}

/* Two runs at once.  One holds the store's lock (as bearer.c does
 * across a refresh) and rotates the refresh token: its own writes do
 * not wait for its lock.  The other caches an access token meanwhile:
 * it waits, and then keeps what the first wrote instead of writing the
 * old refresh token back over the new one. */
static void
test_concurrent_writes(void)
{
	struct tokstore_key k = key(TOKSTORE_FILE);
	enum tokstore_where where;
	struct secret s;
	struct error err;
	long long exp;
	int go[2], status = -1;
	char c = 0;
	pid_t pid;

	reset();
	CHECK_INT(tokstore_put_refresh(&k, "R1", &where, &err), 0);
	CHECK(pipe(go) == 0);
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		if (tokstore_put_access(&k, "A1", 2000000000LL, &err) < 0) {
			fprintf(stderr, "put_access: %s\n", err.msg);
			_exit(1);
		}
		_exit(0);
	}
	close(go[0]);
	CHECK_INT(tokstore_lock(&k, &err), 0);
	CHECK_INT(tokstore_lock(&k, &err), 0); /* nested */
	CHECK(write(go[1], &c, 1) == 1);
	close(go[1]);
	usleep(300 * 1000);
	CHECK_INT(waitpid(pid, &status, WNOHANG), 0);
	CHECK_INT(tokstore_put_refresh(&k, "R2", &where, &err), 0);
	tokstore_unlock();
	usleep(200 * 1000);
	CHECK_INT(waitpid(pid, &status, WNOHANG), 0);
	tokstore_unlock();
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK_INT(status, 0);
	CHECK_INT(tokstore_get_refresh(&k, &s, &err), 0);
	CHECK_STR(s.data ? s.data : "(none)", "R2");
	secret_free(&s);
	CHECK_INT(tokstore_get_access(&k, 0, &s, &exp, &err), 0);
	CHECK_STR(s.data ? s.data : "(none)", "A1");
	secret_free(&s);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(top, sizeof top, "%s/tokstore_test.XXXXXX",
	         t && *t ? t : "/tmp");
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dir, sizeof dir, "%s/oauth2", top);
	snprintf(bin, sizeof bin, "%s/bin", top);
	snprintf(path_with_bin, sizeof path_with_bin, "%s:/usr/bin:/bin", bin);
	test_login_command();
	test_other_account();
	test_file_round_trip();
	test_access_expiry();
	test_identity_mismatch();
	test_utf8_user();
	test_damaged();
	test_refused();
	test_system();
	test_keyring();
	test_concurrent_writes();
	{
		char cmd[400];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
		setenv("PATH", "/usr/bin:/bin", 1);
		if (system(cmd) != 0)
			perror("rm");
	}
	return unit_done();
}
