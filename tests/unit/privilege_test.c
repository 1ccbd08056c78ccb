/*
 * privilege_test.c - the environment a process that keeps the group of a
 * setgid installation passes on (privilege_env_reduce).  The set*gid
 * calls themselves need a setgid program: tests/78-privileged.bats.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "privilege.h"
#include "unit.h"

#define SAFE_PATH "PATH=" PRIVILEGE_SAFE_PATH

/* The reduced environment of in (NULL-terminated) as one string, entries
 * joined by '|', for one comparison that shows the whole result. */
static const char *
reduced(char *const *in)
{
	static char out[2048];
	char **env = privilege_env_reduce(in);
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; env[i]; i++) {
		size_t n = strlen(env[i]);

		if (used + n + 2 > sizeof out)
			break;
		if (i)
			out[used++] = '|';
		memcpy(out + used, env[i], n + 1);
		used += n;
	}
	free(env);
	return out;
}

/* Nothing in: the safe PATH alone, a child still finds sh. */
static void
test_empty(void)
{
	char *none[] = {NULL};

	CHECK_STR(reduced(none), SAFE_PATH);
	CHECK_STR(reduced(NULL), SAFE_PATH);
}

/* What the libraries would read to load a module, a database or a
 * configuration of the caller's, and mailpost's own path variables, all
 * gone; the language, the time zone and the login name kept, in order. */
static void
test_hostile(void)
{
	char *env[] = {
	    "GSSAPI_MECH_CONF=/home/u/mech.conf",
	    "LANG=de_DE.UTF-8",
	    "MAGIC=/home/u/magic",
	    "KRB5_CONFIG=/home/u/krb5.conf",
	    "KRB5CCNAME=FILE:/home/u/cc",
	    "KRB5_KTNAME=/home/u/keytab",
	    "KRB5_TRACE=/home/u/trace",
	    "GNUTLS_SYSTEM_PRIORITY_FILE=/home/u/prio",
	    "GNUTLS_DEBUG_LEVEL=99",
	    "SSLKEYLOGFILE=/home/u/keys",
	    "SSL_CERT_FILE=/home/u/ca.pem",
	    "P11_KIT_SERVER_ADDRESS=unix:path=/home/u/sock",
	    "COMERR_DEBUG_FILE=/home/u/log",
	    "LIBFFI_TMPDIR=/home/u",
	    "CHARSET=/home/u/charset",
	    "TZ=Europe/Paris",
	    "HOME=/home/u",
	    "XDG_CONFIG_HOME=/home/u/.config",
	    "MAILPOST_CONFIG=/home/u/mp.conf",
	    "CREDENTIALS_DIRECTORY=/home/u/creds",
	    "LD_PRELOAD=/home/u/evil.so",
	    "GCONV_PATH=/home/u/gconv",
	    "LOCPATH=/home/u/locale",
	    "NLSPATH=/home/u/%N",
	    "LANGUAGE=de",
	    "PATH=/home/u/bin:/usr/bin",
	    "USER=u",
	    "LOGNAME=u",
	    "LC_TIME=de_DE.UTF-8",
	    "TERM=xterm",
	    NULL,
	};

	CHECK_STR(reduced(env),
	          SAFE_PATH "|LANG=de_DE.UTF-8|TZ=Europe/Paris|USER=u|"
	                    "LOGNAME=u|LC_TIME=de_DE.UTF-8");
}

/* A kept name whose value names a file is dropped: a locale or a zone
 * file of the caller's would be read and parsed. */
static void
test_values(void)
{
	static const struct {
		const char *entry;
		bool kept;
	} cases[] = {
	    {"TZ=UTC", true},
	    {"TZ=:UTC", true},
	    {"TZ=Europe/Paris", true},
	    {"TZ=:America/Argentina/Buenos_Aires", true},
	    {"TZ=CET-1CEST,M3.5.0,M10.5.0/3", true},
	    {"TZ=", true},
	    {"TZ=/home/u/zone", false},
	    {"TZ=:/home/u/zone", false},
	    {"TZ=:/etc/localtime", false},
	    {"TZ=../../home/u/zone", false},
	    {"TZ=:Europe/../../../home/u/zone", false},
	    {"LANG=C.UTF-8", true},
	    {"LANG=", true},
	    {"LANG=/home/u/locale", false},
	    {"LC_ALL=./de_DE", false},
	    {"LC_CTYPE=../../home/u/x", false},
	    {"LC_MESSAGES=de_DE@euro", true},
	    {"USER=/not/a/path/but/a/name", true},
	    /* Names that only start like a kept one, or no '=' at all. */
	    {"LANGX=C", false},
	    {"LC_ALLX=C", false},
	    {"TZ", false},
	    {"USE=u", false},
	    {"=UTC", false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *env[] = {(char *)cases[i].entry, NULL};
		char want[256];

		if (cases[i].kept)
			snprintf(want, sizeof want, "%s|%s", SAFE_PATH,
			         cases[i].entry);
		else
			snprintf(want, sizeof want, "%s", SAFE_PATH);
		CHECK_STR(reduced(env), want);
	}
}

/* getenv sees the first of a name twice; another reader may take the
 * second: the first decides, the second never passes. */
static void
test_duplicates(void)
{
	char *bad_first[] = {"TZ=/home/u/zone", "TZ=UTC", NULL};
	char *good_first[] = {"LANG=C", "LANG=/home/u/locale", "LANG=C.UTF-8",
	                      NULL};
	char *paths[] = {"PATH=/home/u/bin", "PATH=/usr/bin", NULL};

	CHECK_STR(reduced(bad_first), SAFE_PATH);
	CHECK_STR(reduced(good_first), SAFE_PATH "|LANG=C");
	CHECK_STR(reduced(paths), SAFE_PATH);
}

/* Every variable, however many the caller passes, fits the array. */
static void
test_many(void)
{
	enum { N = 5000 };
	static char storage[N][24];
	static char *env[N + 1];
	char **out;
	size_t n = 0;

	for (size_t i = 0; i < N; i++) {
		static const char *const names[] = {"LANG", "LC_ALL", "TZ",
		                                    "USER", "X"};

		snprintf(storage[i], sizeof storage[i], "%s=%zu", names[i % 5],
		         i);
		env[i] = storage[i];
	}
	env[N] = NULL;
	out = privilege_env_reduce(env);
	while (out[n])
		n++;
	CHECK_INT(n, 5); /* PATH, LANG, LC_ALL, TZ, USER: the first each */
	CHECK_STR(out[1], "LANG=0");
	CHECK_STR(out[4], "USER=3");
	free(out);
}

int
main(void)
{
	test_empty();
	test_hostile();
	test_values();
	test_duplicates();
	test_many();
	return unit_done();
}
