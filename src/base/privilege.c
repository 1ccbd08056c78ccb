/*
 * privilege.c - the group of a setgid installation, held only as long as
 * it is needed (privilege.h).
 *
 * Threat model: the caller is any user of the machine.  It chooses our
 * argv, environment, descriptors, limits and signals, and can ptrace or
 * read /proc of its own processes unless they are not dumpable.  The
 * group must give it nothing: no file it names is opened with the group
 * (the group is out of the effective gid from the start), no child of
 * its choosing runs with it, and no core dump or ptrace reaches memory
 * that held the system configuration.
 */
#include "config.h"

#include "privilege.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "util.h"

enum state {
	NOT_SETGID = 0, /* never had a group: nothing to do */
	HELD,           /* the group is the saved gid */
	RAISED,         /* the group is the effective gid */
	DROPPED,        /* given up for good */
};

static enum state state = NOT_SETGID;
static gid_t group_gid;
static gid_t caller_gid;
static char *group_name;
static const char *build_group; /* privilege_start's, held or not */
static bool ever_raised; /* something was read with the group */

/* While the group is held, environ is the reduced copy and the caller's
 * own, as it came, is kept here for privilege_getenv; NULL: environ is
 * the caller's. */
static char **caller_env;
static char **reduced_env;

/* ------------------------------------------------------------------------
 * The environment of a process that holds the group.
 *
 * The caller writes our environment, and the libraries we link or load
 * read it with plain getenv(3), long after the group was dropped, in a
 * process that holds the system configuration's secrets (libgsasl,
 * libmagic and json-c are loaded when their feature runs, dynload.h: in
 * a run that read with the group, environ is reduced for good by then,
 * for their constructors too).  glibc's
 * AT_SECURE list (LD_*, GCONV_PATH, HOSTALIASES, LOCALDOMAIN, LOCPATH,
 * MALLOC_TRACE, NLSPATH, RES_OPTIONS, TMPDIR, TZDIR, ...) is removed
 * before main() and secure_getenv(3) ignores the rest, but only for the
 * code that asks for it.  What was read with getenv when this list was
 * made (Debian 12: nm -D for getenv against secure_getenv, then the
 * names in each library):
 *
 *   libgssglue (libgsasl's GSSAPI)  GSSAPI_MECH_CONF, getenv: the file
 *                     that names the mechanism .so files it dlopen()s
 *   Kerberos (the mechanism)  KRB5_CONFIG, KRB5CCNAME, KRB5_KTNAME,
 *                     KRB5_CLIENT_KTNAME, KRB5_TRACE (a file written),
 *                     KRB5RCACHE*, KRB5_KDC_PROFILE: secure_getenv in MIT
 *                     krb5 1.20, getenv in other mechanisms (Heimdal)
 *   libcom_err        COMERR_DEBUG, COMERR_DEBUG_FILE (a file written)
 *   libmagic          MAGIC, and HOME for ~/.magic.mgc and ~/.magic:
 *                     its database parser on the caller's file
 *   GnuTLS            GNUTLS_SYSTEM_PRIORITY_FILE, GNUTLS_DEBUG_LEVEL,
 *                     GNUTLS_CPUID_OVERRIDE, SSLKEYLOGFILE (the session
 *                     keys, written), GNUTLS_*_INIT: secure_getenv in
 *                     3.7, getenv in older ones
 *   p11-kit (GnuTLS's PKCS #11)  P11_KIT_*, XDG_CONFIG_HOME,
 *                     XDG_CACHE_HOME, XDG_RUNTIME_DIR, HOME: the user's
 *                     module configuration names .so files (ignored under
 *                     AT_SECURE by p11-kit itself)
 *   libffi (p11-kit)  LIBFFI_TMPDIR, HOME: where it writes executable
 *                     trampolines
 *   json-c (--json, OAuth2)  _JSON_C_STRERROR_ENABLE, getenv: how its
 *                     own error strings show errno (only its file
 *                     functions use them; mailpost calls none); it names
 *                     no file
 *   libcurl (OAuth2)  http_proxy, https_proxy, all_proxy, no_proxy and
 *                     their upper-case forms, getenv: a proxy, which
 *                     https.c also sets to none in a run that started
 *                     setgid; HOME for ~/.netrc, which https.c turns off
 *   libidn            CHARSET (a character set name)
 *   libunistring      LANG, LC_ALL, LC_CTYPE (a character set name)
 *   glibc, not on its AT_SECURE list  TZ (a file: ":/path"), LANG and
 *                     LC_* (a locale path), LANGUAGE, POSIXLY_CORRECT,
 *                     DATEMSK, MSGVERB
 *   nettle            NETTLE_FAT_OVERRIDE, NETTLE_FAT_VERBOSE: read by
 *                     its constructor before main(), out of this list's
 *                     reach (they choose between implementations of the
 *                     same functions)
 *
 * So a process that keeps the group passes on only what is below, which
 * names no file; everything else, including every variable above, is
 * gone from environ for the libraries and for any child.  mailpost's own
 * variables (HOME, XDG_CONFIG_HOME, XDG_STATE_HOME, MAILPOST_CONFIG,
 * CREDENTIALS_DIRECTORY, NETRC, a passwordenv variable, PATH for the
 * keyring tool) are read through privilege_getenv, from the caller's
 * environment as it came: each names the caller's own file, opened as
 * the caller after the drop.
 */

/* The PATH a child gets, as the system passwordeval's (secret.c). */
#define SAFE_PATH "PATH=" PRIVILEGE_SAFE_PATH

/* A value that names no file: glibc and libunistring would open a locale
 * given as a path, and nothing else needs a slash in these. */
static bool
no_path(const char *v)
{
	return !strchr(v, '/');
}

/* TZ as a zone name ("Europe/Paris", ":UTC") or a POSIX rule
 * ("CET-1CEST,M3.5.0,M10.5.0/3"); not a file of the caller's (":/path",
 * "/path", "../"), which glibc would read and parse. */
static bool
tz_ok(const char *v)
{
	if (*v == ':')
		v++;
	return *v != '/' && !strstr(v, "..");
}

static bool
any_value(const char *v)
{
	(void)v;
	return true;
}

struct env_rule {
	const char *name;
	bool (*ok)(const char *value);
};

static const struct env_rule env_kept[] = {
    /* The caller's language and character set (libunistring's and
     * libidn's conversions of an address typed in UTF-8). */
    {"LANG", no_path},
    {"LC_ALL", no_path},
    {"LC_CTYPE", no_path},
    {"LC_MESSAGES", no_path},
    {"LC_COLLATE", no_path},
    {"LC_NUMERIC", no_path},
    {"LC_MONETARY", no_path},
    {"LC_TIME", no_path},
    {"LC_ADDRESS", no_path},
    {"LC_IDENTIFICATION", no_path},
    {"LC_MEASUREMENT", no_path},
    {"LC_NAME", no_path},
    {"LC_PAPER", no_path},
    {"LC_TELEPHONE", no_path},
    /* The caller's time zone: the Date field and the log's time. */
    {"TZ", tz_ok},
    /* Names, not files: identity.c's fallback for the login name. */
    {"USER", any_value},
    {"LOGNAME", any_value},
};

#define ENV_KEPT_COUNT (sizeof env_kept / sizeof env_kept[0])

/* The rule for entry's name ("NAME=value"), or NULL. */
static const struct env_rule *
env_rule_of(const char *entry)
{
	const char *eq = strchr(entry, '=');

	if (!eq)
		return NULL;
	for (size_t i = 0; i < ENV_KEPT_COUNT; i++)
		if (strlen(env_kept[i].name) == (size_t)(eq - entry) &&
		    memcmp(env_kept[i].name, entry, (size_t)(eq - entry)) == 0)
			return &env_kept[i];
	return NULL;
}

char **
privilege_env_reduce(char *const *env)
{
	/* PATH, each kept name once, the terminating NULL. */
	char **out = xcalloc(ENV_KEPT_COUNT + 2, sizeof *out);
	bool seen[ENV_KEPT_COUNT] = {false};
	size_t n = 0;

	out[n++] = (char *)SAFE_PATH;
	for (size_t i = 0; env && env[i]; i++) {
		const struct env_rule *r = env_rule_of(env[i]);
		size_t k;

		if (!r)
			continue;
		k = (size_t)(r - env_kept);
		/* The first is what getenv sees; a second of the same
		 * name (execve allows it) is what another reader might. */
		if (seen[k])
			continue;
		seen[k] = true;
		if (r->ok(env[i] + strlen(r->name) + 1))
			out[n++] = env[i];
	}
	out[n] = NULL;
	return out;
}

extern char **environ;

/* environ reduced for a process that keeps the group. */
static void
reduce_environment(void)
{
	caller_env = environ;
	reduced_env = privilege_env_reduce(caller_env);
	environ = reduced_env;
}

/* Nothing was read with the group: the run is the caller's own business
 * (-C, a user's configuration, --version), and a user's passwordeval or
 * keyring tool needs the caller's whole environment. */
static void
restore_environment(void)
{
	if (!caller_env || ever_raised)
		return;
	environ = caller_env;
	free(reduced_env);
	caller_env = reduced_env = NULL;
}

/* The caller's variable, as it came. */
static const char *
caller_getenv(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; caller_env[i]; i++)
		if (strncmp(caller_env[i], name, n) == 0 &&
		    caller_env[i][n] == '=')
			return caller_env[i] + n + 1;
	return NULL;
}

int
privilege_protect_process(struct error *err)
{
	struct rlimit none = {0, 0};

#ifdef __linux__
	/* Also stops other processes of the caller from ptrace-reading us
	 * and from reading /proc/PID/mem and environ.  A change of gid puts
	 * the flag back to the kernel's suid_dumpable: called after each. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return error_set_errno(err, ERROR_OSERR, errno,
		                       "cannot turn off core dumps");
#endif
	if (setrlimit(RLIMIT_CORE, &none) < 0)
		return error_set_errno(err, ERROR_OSERR, errno,
		                       "cannot turn off core dumps");
	return 0;
}

static int
set_gids(gid_t r, gid_t e, gid_t s, struct error *err)
{
	if (setresgid(r, e, s) < 0)
		return error_set_errno(err, ERROR_OSERR, errno,
		                       "cannot change the group id");
	return privilege_protect_process(err);
}

/* The group named at configure time, looked up once it is no longer the
 * effective gid (NSS modules run as the caller). */
static bool
is_our_group(const char *group, gid_t gid)
{
	struct group *gr;

	if (!group || !*group)
		return false;
	gr = getgrnam(group);
	return gr && gr->gr_gid == gid;
}

int
privilege_start(const char *group, struct error *err)
{
	gid_t r, e, s;

	build_group = group && *group ? group : NULL;
	if (getresgid(&r, &e, &s) < 0)
		return error_set_errno(err, ERROR_OSERR, errno,
		                       "cannot read the group ids");
	if (r == e && r == s)
		return 0;
	/* From here on the process is setgid: protected before anything
	 * else happens, and the group out of the effective gid at once. */
	if (privilege_protect_process(err) < 0 || set_gids(r, r, e, err) < 0)
		return -1;
	state = HELD;
	caller_gid = r;
	group_gid = e;
	/* Before the group lookup: the NSS modules it loads stay. */
	reduce_environment();
	/* Root, or a group this build was not made for: nothing is read
	 * with it, and the drop gives the caller's environment back. */
	if (getuid() == 0 || !is_our_group(group, e))
		return privilege_drop(err);
	group_name = xstrdup(group);
	return 0;
}

bool
privilege_held(void)
{
	return state == HELD || state == RAISED;
}

bool
privilege_was_setgid(void)
{
	return state != NOT_SETGID;
}

const char *
privilege_group(void)
{
	return privilege_held() ? group_name : NULL;
}

gid_t
privilege_gid(void)
{
	return privilege_held() ? group_gid : getegid();
}

int
privilege_raise(struct error *err)
{
	if (state != HELD)
		return error_set(err, ERROR_SOFTWARE,
		                 "internal error: the group is not held");
	if (set_gids(caller_gid, group_gid, group_gid, err) < 0)
		return -1;
	state = RAISED;
	ever_raised = true;
	return 0;
}

int
privilege_lower(struct error *err)
{
	if (state != RAISED)
		return 0;
	if (set_gids(caller_gid, caller_gid, group_gid, err) < 0)
		return -1;
	state = HELD;
	return 0;
}

int
privilege_child_take_group(void)
{
	if (state != RAISED)
		return -1;
	return setresgid(group_gid, group_gid, group_gid);
}

int
privilege_drop(struct error *err)
{
	gid_t r, e, s;

	if (!privilege_held())
		return 0;
	if (set_gids(caller_gid, caller_gid, caller_gid, err) < 0)
		return -1;
	/* Irrevocable only if the saved gid went too: check what the
	 * kernel holds rather than trust the call. */
	if (getresgid(&r, &e, &s) < 0 || r != caller_gid || e != caller_gid ||
	    s != caller_gid)
		return error_set(err, ERROR_OSERR,
		                 "cannot give up the group %s",
		                 group_name ? group_name : "of the program");
	state = DROPPED;
	free(group_name);
	group_name = NULL;
	restore_environment();
	return 0;
}

const char *
privilege_getenv(const char *name)
{
	if (state == RAISED)
		return NULL;
	return caller_env ? caller_getenv(name) : getenv(name);
}

const char *
privilege_build_group(void)
{
	return build_group;
}
