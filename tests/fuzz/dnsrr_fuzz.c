/*
 * dnsrr_fuzz - a DNS record's data as a resolver hands it over (dnsrr.c):
 * what any zone, signed or not, can put in an MX, A/AAAA, TLSA, SRV or
 * TXT record, and the canonical name's text.  Byte 0 picks the type, the
 * rest is the record's data.  Checked: each parser returns 0 or -1 with a
 * reason; what it accepts keeps dnsrr.h's promises (names within
 * DNS_NAME_MAX of lower-case letters, digits, '-', '_' and dots, a host
 * where a name becomes one, TLSA data within its ceiling and of the
 * digest's length, TXT within DNS_TXT_MAX and without NUL), and a name
 * read from wire form is accepted as text too.
 */
#include "config.h"

#include "fuzz.h"

#include "dnsrr.h"

static void
name_ok(const char *name)
{
	size_t n = strlen(name);

	FUZZ_ASSERT(n <= DNS_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT((name[i] >= 'a' && name[i] <= 'z') ||
		            (name[i] >= '0' && name[i] <= '9') ||
		            name[i] == '-' || name[i] == '_' || name[i] == '.');
}

static void
host_ok(const char *host)
{
	name_ok(host);
	FUZZ_ASSERT(!*host || dnsrr_is_host(host));
}

static void
judged(int rc, const char *why)
{
	FUZZ_ASSERT(rc == 0 || (rc == -1 && why && *why));
}

static void
wire_name(const uint8_t *d, size_t n)
{
	char out[DNS_NAME_MAX + 1], again[DNS_NAME_MAX + 1];
	const char *why = NULL;
	size_t used = 0;
	int rc = dnsrr_name(d, n, &used, out, &why);

	judged(rc, why);
	if (rc < 0)
		return;
	FUZZ_ASSERT(used >= 1 && used <= n);
	name_ok(out);
	FUZZ_ASSERT(dnsrr_text_name(out, again, &why) == 0);
	FUZZ_ASSERT(strcmp(out, again) == 0);
}

static void
text_name(const uint8_t *d, size_t n)
{
	char *s = fuzz_string(d, n);
	char out[DNS_NAME_MAX + 1];
	const char *why = NULL;
	int rc = dnsrr_text_name(s, out, &why);

	judged(rc, why);
	if (rc == 0)
		name_ok(out);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *d = data + 1;
	const char *why = NULL;
	size_t n;
	int rc;

	if (size < 1)
		return 0;
	n = size - 1;
	switch (data[0] % 8) {
	case 0: {
		struct dns_mx mx;

		rc = dnsrr_mx(d, n, &mx, &why);
		judged(rc, why);
		if (rc == 0)
			host_ok(mx.host);
		break;
	}
	case 1:
	case 2: {
		struct dns_addr a;

		rc = dnsrr_addr(data[0] % 8 == 1 ? DNSRR_A : DNSRR_AAAA, d, n,
		                &a, &why);
		judged(rc, why);
		if (rc == 0)
			FUZZ_ASSERT(strlen(a.text) < sizeof a.text);
		break;
	}
	case 3: {
		struct dns_tlsa t;

		rc = dnsrr_tlsa(d, n, &t, &why);
		judged(rc, why);
		if (rc == 0) {
			FUZZ_ASSERT(t.len >= 1 && t.len <= DNSRR_TLSA_DATA_MAX);
			FUZZ_ASSERT(t.len == n - 3);
			FUZZ_ASSERT(t.mtype != 1 || t.len == 32);
			FUZZ_ASSERT(t.mtype != 2 || t.len == 64);
			FUZZ_ASSERT(memcmp(t.data, d + 3, t.len) == 0);
			free(t.data);
		}
		break;
	}
	case 4: {
		struct dns_srv s;

		rc = dnsrr_srv(d, n, &s, &why);
		judged(rc, why);
		if (rc == 0) {
			host_ok(s.target);
			FUZZ_ASSERT(s.port <= 65535);
		}
		break;
	}
	case 5: {
		char *txt = NULL;

		rc = dnsrr_txt(d, n, &txt, &why);
		judged(rc, why);
		if (rc == 0) {
			FUZZ_ASSERT(strlen(txt) <= DNS_TXT_MAX);
			FUZZ_ASSERT(strlen(txt) < n);
			free(txt);
		}
		break;
	}
	case 6:
		wire_name(d, n);
		break;
	default:
		text_name(d, n);
		break;
	}
	return 0;
}
