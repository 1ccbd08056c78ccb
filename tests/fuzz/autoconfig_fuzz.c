/*
 * autoconfig_fuzz - a provider's autoconfig document (autoconfig.c's
 * autoconfig_parse), which comes from whatever answers at
 * autoconfig.DOMAIN: the bytes are the body.  Checked: success keeps
 * at most AUTOCONFIG_SERVERS_MAX servers, each with a host name of
 * lower-case letters, digits, '-' and '.', a port in 1..65535, a
 * socketType that is TLS (never plain), a user name with no white
 * space, quote, backslash or control byte, and a censored display name;
 * failure gives a kind, a message as error_set leaves them, and an
 * empty document.
 */
#include "config.h"

#include "fuzz.h"

#include "autoconfig.h"

static void
server_ok(const struct autoconfig_server *s)
{
	size_t n = strlen(s->host);

	FUZZ_ASSERT(n > 0 && n <= AUTOCONFIG_HOST_MAX);
	FUZZ_ASSERT(strspn(s->host, "abcdefghijklmnopqrstuvwxyz0123456789-.") ==
	            n);
	FUZZ_ASSERT(s->host[0] != '.' && s->host[n - 1] != '.' &&
	            s->host[0] != '-');
	FUZZ_ASSERT(s->port >= 1 && s->port <= 65535);
	FUZZ_ASSERT(s->socket == AUTOCONFIG_SOCKET_SSL ||
	            s->socket == AUTOCONFIG_SOCKET_STARTTLS);
	for (const char *p = s->user; *p; p++)
		FUZZ_ASSERT((unsigned char)*p > ' ' && *p != 0x7f &&
		            *p != '"' && *p != '\\');
	FUZZ_ASSERT(strlen(s->user) <= AUTOCONFIG_TEXT_MAX);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct autoconfig_doc d;
	struct error err;
	/* A copy of exactly the body's size: a read past it is caught. */
	char *body = xmalloc(size ? size : 1);
	int rc;

	memcpy(body, data, size);
	error_clear(&err);
	rc = autoconfig_parse(body, size, "user.name@example.test", &d, &err);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc == 0) {
		FUZZ_ASSERT(d.n <= AUTOCONFIG_SERVERS_MAX);
		for (size_t i = 0; i < d.n; i++)
			server_ok(&d.servers[i]);
		FUZZ_ASSERT(fuzz_message_ok(d.name));
		FUZZ_ASSERT(strlen(d.name) <= AUTOCONFIG_NAME_MAX);
	} else {
		FUZZ_ASSERT(err.kind != ERROR_NONE && fuzz_message_ok(err.msg));
		FUZZ_ASSERT(d.n == 0 && d.plain == 0 && d.unusable == 0);
	}
	FUZZ_ASSERT(size <= AUTOCONFIG_BODY_MAX || rc == -1);
	free(body);
	return 0;
}
