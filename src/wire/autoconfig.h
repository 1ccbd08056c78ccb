/*
 * autoconfig.h - a provider's autoconfig document (Thunderbird's
 * config-v1.1.xml format, as served at autoconfig.DOMAIN and
 * DOMAIN/.well-known/autoconfig/) read into the SMTP servers it names,
 * for --configure (cmd/configure.c).
 *
 * The document comes from the network and is hostile: at most
 * AUTOCONFIG_BODY_MAX bytes, nesting at most AUTOCONFIG_DEPTH_MAX
 * elements deep, each value at most AUTOCONFIG_TEXT_MAX bytes, no DOCTYPE
 * at all (so no entity of the document's own can expand: the "billion
 * laughs"), and every value checked before it is kept.  Only the
 * outgoingServer elements of type "smtp" under
 * clientConfig/emailProvider are read; everything else is skipped.
 *
 * libexpat parses it: this is the only module that uses it, and it is
 * not linked but loaded (dynload.h) when a document is first parsed, so a
 * run that never reads one never maps it.  Built without libexpat
 * (configure --without-libexpat), autoconfig_parse says what to install.
 */
#ifndef MAILPOST_AUTOCONFIG_H
#define MAILPOST_AUTOCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* A provider's document is a few KiB (Thunderbird's ISPDB's largest are
 * under 10): more is not one. */
#define AUTOCONFIG_BODY_MAX (64 * 1024)
/* clientConfig/emailProvider/outgoingServer/hostname is 4 deep; the
 * format's deepest (documentation/descr) 4 too. */
#define AUTOCONFIG_DEPTH_MAX 16
/* The text of one value that is kept (a username, a host name: RFC 1035
 * 2.3.4 allows 253 bytes), after the placeholders are replaced. */
#define AUTOCONFIG_TEXT_MAX 255
/* SMTP servers kept of one document; providers name one or two. */
#define AUTOCONFIG_SERVERS_MAX 8
/* A host name, RFC 1035 2.3.4, without the final dot. */
#define AUTOCONFIG_HOST_MAX 253
/* The provider's display name, as shown. */
#define AUTOCONFIG_NAME_MAX 64

/* socketType. */
enum autoconfig_socket {
	AUTOCONFIG_SOCKET_SSL = 1,  /* TLS from the first byte (RFC 8314) */
	AUTOCONFIG_SOCKET_STARTTLS, /* RFC 3207 */
	AUTOCONFIG_SOCKET_PLAIN,    /* no TLS: never recommended */
};

/* An authentication element's value, as the format names them (the
 * older names "plain" and "secure" are the first two). */
enum autoconfig_auth {
	AUTOCONFIG_AUTH_NONE_GIVEN = 0, /* no element mailpost knows */
	AUTOCONFIG_AUTH_CLEARTEXT,      /* password-cleartext, plain */
	AUTOCONFIG_AUTH_ENCRYPTED,      /* password-encrypted, secure */
	AUTOCONFIG_AUTH_OAUTH2,         /* OAuth2 */
	AUTOCONFIG_AUTH_CLIENT_CERT,    /* TLS-client-cert */
	AUTOCONFIG_AUTH_GSSAPI,         /* GSSAPI */
	AUTOCONFIG_AUTH_NTLM,           /* NTLM */
	AUTOCONFIG_AUTH_NONE,           /* none, client-IP-address */
};

/* One usable outgoingServer of type smtp. */
struct autoconfig_server {
	char host[AUTOCONFIG_HOST_MAX + 1]; /* a host name (letters, digits,
	                                     * '-', '.'), lower case, no
	                                     * final dot */
	int port;                           /* 1..65535 */
	enum autoconfig_socket socket;
	/* The first authentication element mailpost knows, in document
	 * order (as Thunderbird takes them), and its text as written. */
	enum autoconfig_auth auth;
	char auth_text[32];
	/* username with the placeholders replaced: printable ASCII or
	 * UTF-8, no space, quote or backslash; "" when none was given. */
	char user[AUTOCONFIG_TEXT_MAX + 1];
};

struct autoconfig_doc {
	/* emailProvider's displayName (the first), censored; "" when none. */
	char name[AUTOCONFIG_NAME_MAX + 1];
	struct autoconfig_server servers[AUTOCONFIG_SERVERS_MAX];
	size_t n; /* in document order */
	/* outgoingServer elements of type smtp left out: socketType plain
	 * (never recommended), and those with a value that is missing or
	 * unusable (a host name that is not one, a port out of range, an
	 * unknown placeholder, a socketType not known), or past
	 * AUTOCONFIG_SERVERS_MAX. */
	size_t plain;
	size_t unusable;
	char why_unusable[128]; /* the first one's reason, or "" */
};

/* Read the document body[0..len) for the address (local@domain, which
 * the placeholders %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN%
 * stand for) into *out.  0 when it is a well-formed autoconfig document
 * (its root element clientConfig), whatever number of servers it gives
 * (out->n may be 0: the caller says what was left out).  -1 with:
 *   ERROR_PROTOCOL     not well-formed XML (expat's reason and the line),
 *                      a DOCTYPE, nested too deep, larger than
 *                      AUTOCONFIG_BODY_MAX, another root element;
 *   ERROR_UNAVAILABLE  libexpat cannot be loaded, or this build has none
 *                      (the message says what to install).
 * out is then empty. */
int autoconfig_parse(const char *body, size_t len, const char *address,
                     struct autoconfig_doc *out, struct error *err);

/* Load libexpat now (once): 0, or -1 with ERROR_UNAVAILABLE, for a
 * caller that says what is missing before it fetches anything. */
int autoconfig_load(struct error *err);

/* The format's name of a socketType ("SSL", "STARTTLS", "plain"). */
const char *autoconfig_socket_name(enum autoconfig_socket s);

#endif
