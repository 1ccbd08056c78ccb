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
#include <strings.h>
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

/* The canonical host name, looked up once per process: it does not change
 * while a message is sent, and each lookup may ask the resolver. */
static const char *
cached_canonical(void)
{
	static char name[HOST_MAX];
	static bool known;

	if (!known) {
		canonical_host(name, sizeof name);
		known = true;
	}
	return name;
}

/* a[0..alen) and b[0..blen) name the same host: ASCII case ignored, and
 * a trailing dot on either (RFC 1034 3.1: "vm." is "vm" written as an
 * absolute name). */
static bool
same_name(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen > 1 && a[alen - 1] == '.')
		alen--;
	if (blen > 1 && b[blen - 1] == '.')
		blen--;
	return alen > 0 && alen == blen && strncasecmp(a, b, alen) == 0;
}

static size_t
first_label(const char *name)
{
	return strcspn(name, ".");
}

bool
identity_is_local_domain(const char *domain, const char *host)
{
	char own[HOST_MAX];
	const char *canon;
	size_t dlen;
	bool mine = host == NULL;

	if (!domain || !*domain)
		return false;
	dlen = strlen(domain);
	if (same_name(domain, dlen, "localhost", 9) ||
	    same_name(domain, dlen, "localhost.localdomain", 21))
		return true;
	if (mine) {
		if (gethostname(own, sizeof own) < 0)
			own[0] = '\0';
		own[sizeof own - 1] = '\0';
		host = own;
	}
	if (!*host)
		return false;
	if (same_name(domain, dlen, host, strlen(host)) ||
	    same_name(domain, dlen, host, first_label(host)))
		return true;
	/* The canonical name (often the FQDN of a short host name) only for
	 * a domain that starts like this machine's name. */
	if (!mine ||
	    !same_name(domain, first_label(domain), host, first_label(host)))
		return false;
	canon = cached_canonical();
	return same_name(domain, dlen, canon, strlen(canon));
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
