/*
 * socks.c - one SOCKS5 CONNECT, the client's bytes and judgements (see
 * socks.h; RFC 1928).
 */
#include "config.h"

#include "socks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#define SOCKS_VERSION 0x05
#define SOCKS_CMD_CONNECT 0x01
#define SOCKS_METHOD_NONE 0x00    /* RFC 1928 3: no authentication */
#define SOCKS_METHOD_REFUSED 0xff /* no acceptable methods */
#define SOCKS_ATYP_IPV4 0x01
#define SOCKS_ATYP_NAME 0x03
#define SOCKS_ATYP_IPV6 0x04
/* "[2001:db8::1]" */
#define SOCKS_LITERAL_MAX (INET6_ADDRSTRLEN + 2)

size_t
socks_greeting(unsigned char *out)
{
	out[0] = SOCKS_VERSION;
	out[1] = 1; /* one method offered */
	out[2] = SOCKS_METHOD_NONE;
	return SOCKS_GREETING_LEN;
}

/* A first octet that is not 5: the peer is no SOCKS5 proxy at all (an
 * HTTP proxy answers "HTTP/1.1 ...", a SOCKS4 one 0 or 4). */
static int
bad_version(unsigned v, struct error *err)
{
	return error_set(err, ERROR_PROTOCOL,
	                 "malformed proxy reply: version %u, not 5 (is it "
	                 "a SOCKS5 proxy?)",
	                 v);
}

int
socks_check_method(const unsigned char *in, struct error *err)
{
	if (in[0] != SOCKS_VERSION)
		return bad_version(in[0], err);
	if (in[1] == SOCKS_METHOD_NONE)
		return 0;
	if (in[1] == SOCKS_METHOD_REFUSED)
		return error_set(err, ERROR_NOPERM,
		                 "proxy refused: it requires authentication, "
		                 "and mailpost (like msmtp) offers none; use "
		                 "a proxy that accepts this client without "
		                 "a password");
	return error_set(err, ERROR_PROTOCOL,
	                 "malformed proxy reply: it chose method %u, which "
	                 "was not offered" SOCKS_CHECK_PROXY,
	                 in[1]);
}

/* An address literal's bytes (ATYP 1 or 4), else 0: a name.  Brackets
 * (RFC 5321 4.1.3's form, "[192.0.2.1]") are taken off first. */
static int
literal(const char *host, unsigned char *addr, size_t *len)
{
	char s[SOCKS_LITERAL_MAX + 1];
	size_t n = strlen(host);

	if (n > SOCKS_LITERAL_MAX)
		return 0;
	if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
		memcpy(s, host + 1, n - 2);
		s[n - 2] = '\0';
	} else {
		memcpy(s, host, n + 1);
	}
	if (inet_pton(AF_INET, s, addr) == 1) {
		*len = 4;
		return SOCKS_ATYP_IPV4;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*len = 16;
		return SOCKS_ATYP_IPV6;
	}
	return 0;
}

int
socks_request(const char *host, int port, unsigned char *out, size_t *len,
              struct error *err)
{
	size_t n = strlen(host);
	unsigned char addr[16];
	size_t alen = 0;
	int atyp = literal(host, addr, &alen);
	size_t i = 4;

	if (port < 1 || port > 65535)
		return error_set(err, ERROR_CONFIG, "invalid port %d", port);
	/* Brackets promise an address: never hand the proxy a name then. */
	if (!atyp && host[0] == '[')
		return error_set(err, ERROR_CONFIG,
		                 "%s is in brackets but is not an IPv4 or IPv6 "
		                 "address; write the address, or the name "
		                 "without brackets",
		                 host);
	for (size_t k = 0; !atyp && k < n; k++)
		if ((unsigned char)host[k] <= ' ' ||
		    (unsigned char)host[k] >= 0x7f)
			return error_set(
			    err, ERROR_CONFIG,
			    "the host name for the proxy is not in "
			    "ASCII (A-labels) or holds a control "
			    "character");
	if (!atyp && (n == 0 || n > SOCKS_NAME_MAX))
		return error_set(err, ERROR_CONFIG,
		                 "the host name is %zu bytes long; a SOCKS5 "
		                 "request carries 1 to %d",
		                 n, SOCKS_NAME_MAX);
	out[0] = SOCKS_VERSION;
	out[1] = SOCKS_CMD_CONNECT;
	out[2] = 0; /* RSV */
	if (atyp) {
		out[3] = (unsigned char)atyp;
		memcpy(out + i, addr, alen);
		i += alen;
	} else {
		/* The name goes as it is: the proxy resolves it. */
		out[3] = SOCKS_ATYP_NAME;
		out[i++] = (unsigned char)n;
		memcpy(out + i, host, n);
		i += n;
	}
	out[i++] = (unsigned char)(port >> 8);
	out[i++] = (unsigned char)(port & 0xff);
	*len = i;
	return 0;
}

/* RFC 1928 6: the reply codes, how lasting each failure is, and what to
 * do about it.  Tor answers 2 for an exit policy, and its exits refuse
 * port 25; 8 to a name means a proxy that cannot resolve names, and
 * resolving the server here instead is what the proxy is for to avoid. */
static const struct {
	const char *text;
	enum error_kind kind;
	const char *next;
} replies[] = {
    [1] = {"general SOCKS server failure", ERROR_TEMPFAIL, "try again later"},
    [2] = {"connection not allowed by ruleset", ERROR_NOPERM,
           "the proxy's rules forbid this server or port (Tor's exits "
           "refuse port 25: use port 465 or 587)"},
    [3] = {"network unreachable", ERROR_TEMPFAIL, "try again later"},
    [4] = {"host unreachable", ERROR_TEMPFAIL,
           "check 'host', or try again later"},
    [5] = {"connection refused", ERROR_TEMPFAIL,
           "check 'host' and 'port', or try again later"},
    [6] = {"TTL expired", ERROR_TEMPFAIL, "try again later"},
    [7] = {"command not supported", ERROR_UNAVAILABLE,
           "use a proxy that supports CONNECT"},
    [8] = {"address type not supported", ERROR_UNAVAILABLE,
           "use a proxy that resolves host names (SOCKS5 with names, "
           "as Tor)"},
};

int
socks_check_status(const unsigned char *in, struct error *err)
{
	unsigned rep = in[1];

	if (in[0] != SOCKS_VERSION)
		return bad_version(in[0], err);
	if (rep == 0)
		return 0;
	if (rep >= sizeof replies / sizeof replies[0])
		return error_set(err, ERROR_PROTOCOL,
		                 "malformed proxy reply: reply code %u does "
		                 "not exist" SOCKS_CHECK_PROXY,
		                 rep);
	return error_set(err, replies[rep].kind, "proxy refused: %s; %s",
	                 replies[rep].text, replies[rep].next);
}

int
socks_check_bound(const unsigned char *in, size_t *rest, struct error *err)
{
	if (in[0] != 0)
		return error_set(err, ERROR_PROTOCOL,
		                 "malformed proxy reply: reserved octet %u, "
		                 "not 0" SOCKS_CHECK_PROXY,
		                 in[0]);
	/* The first octet of the address is already read; then the port. */
	switch (in[1]) {
	case SOCKS_ATYP_IPV4:
		*rest = 4 - 1 + 2;
		return 0;
	case SOCKS_ATYP_IPV6:
		*rest = 16 - 1 + 2;
		return 0;
	case SOCKS_ATYP_NAME:
		if (in[2] == 0)
			return error_set(err, ERROR_PROTOCOL,
			                 "malformed proxy reply: an empty "
			                 "bound host name" SOCKS_CHECK_PROXY);
		*rest = (size_t)in[2] + 2;
		return 0;
	default:
		return error_set(err, ERROR_PROTOCOL,
		                 "malformed proxy reply: address type %u "
		                 "does not exist" SOCKS_CHECK_PROXY,
		                 in[1]);
	}
}
