/*
 * dnsrr.c - one DNS record's data judged and turned into dns.h's structs
 * (see dnsrr.h).  Every read is checked against the data's length first.
 */
#include "config.h"

#include "dnsrr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

#define LABEL_MAX 63 /* RFC 1035 2.3.4 */

static bool
name_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static char
lower(unsigned char c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

int
dnsrr_name(const unsigned char *p, size_t len, size_t *used,
           char out[DNS_NAME_MAX + 1], const char **why)
{
	size_t at = 0, n = 0;

	out[0] = '\0';
	for (;;) {
		size_t label;

		if (at >= len)
			return *why = "a name runs past the record", -1;
		label = p[at++];
		if (label == 0)
			break;
		if (label > LABEL_MAX)
			return *why =
			           "a name has a compressed or unknown label",
			       -1;
		if (label > len - at)
			return *why = "a name runs past the record", -1;
		/* The dot before it, then the label. */
		if (n + (n > 0) + label > DNS_NAME_MAX)
			return *why = "a name is too long", -1;
		if (n > 0)
			out[n++] = '.';
		for (size_t i = 0; i < label; i++) {
			if (!name_byte(p[at + i]))
				return *why = "a name has a byte other than a "
				              "letter, digit, '-' or '_'",
				       -1;
			out[n++] = lower(p[at + i]);
		}
		at += label;
	}
	out[n] = '\0';
	*used = at;
	return 0;
}

int
dnsrr_text_name(const char *in, char out[DNS_NAME_MAX + 1], const char **why)
{
	size_t n = strlen(in), label = 0;

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n > DNS_NAME_MAX)
		return *why = "a name is too long", -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '.') {
			if (label == 0)
				return *why = "a name has an empty label", -1;
			label = 0;
		} else if (!name_byte(c)) {
			return *why = "a name has a byte other than a letter, "
			              "digit, '-' or '_'",
			       -1;
		} else if (++label > LABEL_MAX) {
			return *why = "a name has a label longer than 63", -1;
		}
		out[i] = c == '.' ? '.' : lower(c);
	}
	if (n > 0 && label == 0)
		return *why = "a name has an empty label", -1;
	out[n] = '\0';
	return 0;
}

bool
dnsrr_is_host(const char *name)
{
	const char *label = name;

	if (!*name)
		return false;
	for (const char *p = name;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || *label == '-' || p[-1] == '-')
				return false;
			if (*p == '\0')
				return true;
			label = p + 1;
		} else if (!((*p >= 'a' && *p <= 'z') ||
		             (*p >= '0' && *p <= '9') || *p == '-')) {
			return false;
		}
	}
}

/* A name that ends the record exactly and is a host name or the root
 * ("" then). */
static int
host_at_end(const unsigned char *p, size_t len, char out[DNS_NAME_MAX + 1],
            const char *what, const char **why)
{
	size_t used;

	if (dnsrr_name(p, len, &used, out, why) < 0)
		return -1;
	if (used != len)
		return *why = "the record has bytes after its name", -1;
	if (*out && !dnsrr_is_host(out)) {
		*why = what;
		return -1;
	}
	return 0;
}

int
dnsrr_mx(const unsigned char *rd, size_t len, struct dns_mx *out,
         const char **why)
{
	if (len < 3)
		return *why = "an MX record is too short", -1;
	out->pref = (unsigned)be_get(rd, 2);
	return host_at_end(rd + 2, len - 2, out->host,
	                   "an MX exchange is not a host name", why);
}

int
dnsrr_addr(int type, const unsigned char *rd, size_t len, struct dns_addr *out,
           const char **why)
{
	int family = type == DNSRR_AAAA ? AF_INET6 : AF_INET;
	size_t want = family == AF_INET6 ? 16 : 4;

	if ((type != DNSRR_A && type != DNSRR_AAAA) || len != want)
		return *why = "an address record has the wrong length", -1;
	if (!inet_ntop(family, rd, out->text, sizeof out->text))
		return *why = "an address cannot be shown", -1;
	out->family = family;
	return 0;
}

int
dnsrr_tlsa(const unsigned char *rd, size_t len, struct dns_tlsa *out,
           const char **why)
{
	size_t n;

	if (len < 4)
		return *why = "a TLSA record is too short", -1;
	n = len - 3;
	if (n > DNSRR_TLSA_DATA_MAX)
		return *why = "a TLSA record's data is too long", -1;
	/* RFC 6698 2.1.3: the digest's length is the hash's. */
	if ((rd[2] == 1 && n != 32) || (rd[2] == 2 && n != 64))
		return *why = "a TLSA digest has the wrong length", -1;
	out->usage = rd[0];
	out->selector = rd[1];
	out->mtype = rd[2];
	out->data = xmalloc(n);
	memcpy(out->data, rd + 3, n);
	out->len = n;
	return 0;
}

int
dnsrr_srv(const unsigned char *rd, size_t len, struct dns_srv *out,
          const char **why)
{
	if (len < 7)
		return *why = "a SRV record is too short", -1;
	out->priority = (unsigned)be_get(rd, 2);
	out->weight = (unsigned)be_get(rd + 2, 2);
	out->port = (unsigned)be_get(rd + 4, 2);
	return host_at_end(rd + 6, len - 6, out->target,
	                   "a SRV target is not a host name", why);
}

int
dnsrr_txt(const unsigned char *rd, size_t len, char **out, const char **why)
{
	size_t at = 0, total = 0;
	char *s;

	if (len == 0)
		return *why = "a TXT record is empty", -1;
	/* First pass: the strings fit the record, the sum fits the ceiling. */
	while (at < len) {
		size_t n = rd[at++];

		if (n > len - at)
			return *why = "a TXT string runs past the record", -1;
		if (memchr(rd + at, '\0', n))
			return *why = "a TXT record has a NUL byte", -1;
		total += n;
		at += n;
	}
	if (total > DNS_TXT_MAX)
		return *why = "a TXT record is too long", -1;
	s = xmalloc(total + 1);
	total = 0;
	for (at = 0; at < len; at += 1 + rd[at]) {
		memcpy(s + total, rd + at + 1, rd[at]);
		total += rd[at];
	}
	s[total] = '\0';
	*out = s;
	return 0;
}
