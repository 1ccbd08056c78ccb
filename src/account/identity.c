/*
 * identity.c - login name, host names, and the %U %H %C %M substitutions
 * (see identity.h).
 */
#include "config.h"

#include "identity.h"

#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"

#define HOST_MAX 256

const char *
identity_login(void)
{
	static char name[256];
	const struct passwd *pw = getpwuid(geteuid());
	const char *env = getenv("USER");

	if (pw && pw->pw_name && *pw->pw_name)
		str_copy(name, sizeof name, pw->pw_name);
	else
		str_copy(name, sizeof name, env && *env ? env : "nobody");
	return name;
}

void
identity_host(char *out, size_t n)
{
	if (gethostname(out, n) < 0 || out[0] == '\0')
		str_copy(out, n, "localhost");
	out[n - 1] = '\0';
}

/* The host name as the resolver knows it (/etc/hosts first, as
 * configured in nsswitch.conf). */
static void
canonical_host(char *out, size_t n)
{
	struct addrinfo hints = {.ai_flags = AI_CANONNAME,
	                         .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;

	identity_host(out, n);
	if (getaddrinfo(out, NULL, &hints, &res) == 0 && res &&
	    res->ai_canonname && *res->ai_canonname)
		str_copy(out, n, res->ai_canonname);
	if (res)
		freeaddrinfo(res);
}

/* The first line of the mail name file (Debian's /etc/mailname), else the
 * host name. */
static void
mail_name(const char *file, char *out, size_t n)
{
	FILE *f = fopen(file ? file : "/etc/mailname", "re");
	char line[HOST_MAX];

	out[0] = '\0';
	if (f) {
		if (fgets(line, sizeof line, f)) {
			line[strcspn(line, " \t\r\n")] = '\0';
			str_copy(out, n, line);
		}
		fclose(f);
	}
	if (!out[0])
		identity_host(out, n);
}

char *
identity_expand(const char *template, const char *mailname_file,
                struct error *err)
{
	struct buf b;
	char value[HOST_MAX];
	char *result;
	int rc = 0;

	if (!template)
		return NULL;
	if (!strchr(template, '%'))
		return xstrdup(template);
	buf_init(&b, 4096);
	for (const char *p = template; *p; p++) {
		const char *add = value;

		if (*p != '%') {
			rc |= buf_append(&b, p, 1);
			continue;
		}
		switch (p[1]) {
		case '%':
			add = "%";
			break;
		case 'U':
			add = identity_login();
			break;
		case 'H':
			identity_host(value, sizeof value);
			break;
		case 'C':
			canonical_host(value, sizeof value);
			break;
		case 'M':
			mail_name(mailname_file, value, sizeof value);
			break;
		default:
			buf_clear(&b);
			return error_set(err, ERROR_CONFIG,
			                 "unknown substitution %%%c in '%s' "
			                 "(known: %%U %%H %%C %%M %%%%)",
			                 p[1] ? p[1] : ' ', template),
			       NULL;
		}
		rc |= buf_append_str(&b, add);
		p++;
	}
	if (rc < 0) {
		buf_clear(&b);
		return error_set(err, ERROR_CONFIG,
		                 "'%s' expands to too long "
		                 "a value",
		                 template),
		       NULL;
	}
	result = xstrdup(buf_str(&b));
	buf_clear(&b);
	return result;
}
