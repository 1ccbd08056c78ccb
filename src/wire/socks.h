/*
 * socks.h - the client side of one SOCKS version 5 CONNECT (RFC 1928): the
 * bytes to send and the judgement of the bytes received.  Pure code, no
 * I/O: conn.c moves the bytes and keeps the time.
 *
 * The exchange, as msmtp does it: we offer the one method "no
 * authentication" (RFC 1928 3; msmtp has no proxy credentials either),
 * then ask the proxy to CONNECT to the server by name (ATYP 3), so that
 * the proxy resolves it and no DNS query for the server leaves this
 * machine.  An address literal goes as ATYP 1 or 4.  Every field of the
 * replies is checked; nothing the proxy says is trusted beyond that.
 *
 * Errors (the message says what the proxy did, without the "cannot
 * connect" context the caller adds):
 *   a malformed reply (wrong version, a method or a reply code that does
 *   not exist, a reserved octet that is not 0, an unknown address type,
 *   an empty domain name)                              ERROR_PROTOCOL
 *   the proxy wants authentication, or its rules refuse the connection
 *                                                      ERROR_NOPERM
 *   a general failure, network or host unreachable, connection refused
 *   by the server, TTL expired: the proxy's reason     ERROR_TEMPFAIL
 *   the proxy does not support CONNECT or the address type
 *                                                      ERROR_UNAVAILABLE
 *   a host name longer than a SOCKS5 request can carry ERROR_CONFIG
 */
#ifndef MAILPOST_SOCKS_H
#define MAILPOST_SOCKS_H

#include <stddef.h>

#include "error.h"

/* The next step after a reply no SOCKS5 proxy would send. */
#define SOCKS_CHECK_PROXY                                                      \
	"; check that proxy_host and proxy_port name a SOCKS5 proxy"

/* The default proxy port (RFC 1928 2, and msmtp's default). */
#define SOCKS_PORT 1080

/* RFC 1928 4: the name's length is one octet. */
#define SOCKS_NAME_MAX 255
/* VER CMD RSV ATYP, then LEN NAME (or an address), then the port. */
#define SOCKS_REQUEST_MAX (4 + 1 + SOCKS_NAME_MAX + 2)
/* Our greeting: VER NMETHODS METHOD. */
#define SOCKS_GREETING_LEN 3
/* The proxy's choice of method: VER METHOD. */
#define SOCKS_METHOD_LEN 2
/* The start of a reply to the request: VER REP (what decides). */
#define SOCKS_STATUS_LEN 2
/* Then RSV ATYP and the address's first octet (for ATYP 3, its length). */
#define SOCKS_ADDR_HEAD_LEN 3

/* Our greeting; returns SOCKS_GREETING_LEN. */
size_t socks_greeting(unsigned char *out);

/* Judge the proxy's answer to the greeting. */
int socks_check_method(const unsigned char *in, struct error *err);

/* The CONNECT request for host (a name in ASCII, already an A-label, or
 * an IPv4 or IPv6 address literal, with or without brackets) and port,
 * into out (SOCKS_REQUEST_MAX bytes); its length in *len. */
int socks_request(const char *host, int port, unsigned char *out, size_t *len,
                  struct error *err);

/* Judge VER and REP of the reply: 0 when the proxy connected.  A failure
 * is decided by these two octets alone, since a proxy closes the
 * connection right after a failure reply (RFC 1928 6) and some send no
 * more. */
int socks_check_status(const unsigned char *in, struct error *err);

/* After a success: judge RSV, ATYP and the first octet of BND.ADDR, and
 * say how many bytes of the reply are still to come (the rest of the
 * address and the port), which the caller reads and drops: after them,
 * every byte is the server's. */
int socks_check_bound(const unsigned char *in, size_t *rest, struct error *err);

#endif
