/*
 * dnsrr_test.c - a record's data judged (dnsrr.c): names in wire form and
 * as text, host names, and each type's record, well-formed and hostile.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dnsrr.h"
#include "unit.h"

/* A record's bytes from a C literal with its length (NULs inside). */
#define RD(s) (const unsigned char *)(s), sizeof(s) - 1

static void
test_name(void)
{
	char out[DNS_NAME_MAX + 1];
	const char *why = NULL;
	size_t used = 0;

	CHECK_INT(dnsrr_name(RD("\x04Mail\x07"
	                        "Example\x04test\x00"),
	                     &used, out, &why),
	          0);
	CHECK_STR(out, "mail.example.test");
	CHECK_INT(used, 19);
	CHECK_INT(dnsrr_name(RD("\x00"), &used, out, &why), 0);
	CHECK_STR(out, "");
	CHECK_INT(used, 1);
	CHECK_INT(dnsrr_name(RD("\x04_25_\x04_tcp\x00"), &used, out, &why), 0);
	CHECK_STR(out, "_25_._tcp");

	/* No final root label: the name runs past the data. */
	CHECK_INT(dnsrr_name(RD("\x04mail"), &used, out, &why), -1);
	CHECK_STR(why, "a name runs past the record");
	CHECK_INT(dnsrr_name(RD("\x09mail"), &used, out, &why), -1);
	CHECK_INT(dnsrr_name(RD(""), &used, out, &why), -1);
	/* A compression pointer (0xc0) or an extended label type (0x40). */
	CHECK_INT(dnsrr_name(RD("\xc0\x0c"), &used, out, &why), -1);
	CHECK_STR(why, "a name has a compressed or unknown label");
	CHECK_INT(dnsrr_name(RD("\x41"
	                        "a\x00"),
	                     &used, out, &why),
	          -1);
	/* Bytes that would need escaping to be shown. */
	CHECK_INT(dnsrr_name(RD("\x03"
	                        "a.b\x00"),
	                     &used, out, &why),
	          -1);
	CHECK_INT(dnsrr_name(RD("\x03"
	                        "a b\x00"),
	                     &used, out, &why),
	          -1);
	CHECK_INT(dnsrr_name(RD("\x03"
	                        "a\nb\x00"),
	                     &used, out, &why),
	          -1);
	CHECK_INT(dnsrr_name(RD("\x03"
	                        "a\xc3\xa9\x00"),
	                     &used, out, &why),
	          -1);
	CHECK_INT(dnsrr_name(RD("\x03"
	                        "a\0b\x00"),
	                     &used, out, &why),
	          -1);
	CHECK_STR(why,
	          "a name has a byte other than a letter, digit, '-' or '_'");
}

/* A wire-form name of labels of these lengths into wire; its length. */
static size_t
wire_name(unsigned char *wire, const size_t *labels, size_t n)
{
	size_t at = 0;

	for (size_t l = 0; l < n; l++) {
		wire[at++] = (unsigned char)labels[l];
		memset(wire + at, (int)('a' + l), labels[l]);
		at += labels[l];
	}
	wire[at++] = 0;
	return at;
}

/* The longest name: DNS_NAME_MAX characters in presentation form. */
static void
test_name_length(void)
{
	static const size_t longest[] = {63, 63, 63, 61}; /* + 3 dots: 253 */
	static const size_t longer[] = {63, 63, 63, 62};
	unsigned char wire[300];
	char out[DNS_NAME_MAX + 1];
	const char *why = NULL;
	size_t used, n;

	n = wire_name(wire, longest, 4);
	CHECK_INT(dnsrr_name(wire, n, &used, out, &why), 0);
	CHECK_INT(strlen(out), DNS_NAME_MAX);
	CHECK_INT(used, n);
	n = wire_name(wire, longer, 4);
	CHECK_INT(dnsrr_name(wire, n, &used, out, &why), -1);
	CHECK_STR(why, "a name is too long");
}

static void
test_text_name(void)
{
	char out[DNS_NAME_MAX + 1];
	const char *why = NULL;
	char longname[DNS_NAME_MAX + 3];

	CHECK_INT(dnsrr_text_name("Mail.Example.TEST.", out, &why), 0);
	CHECK_STR(out, "mail.example.test");
	CHECK_INT(dnsrr_text_name("_25._tcp.mx.example.test", out, &why), 0);
	CHECK_STR(out, "_25._tcp.mx.example.test");
	CHECK_INT(dnsrr_text_name(".", out, &why), 0);
	CHECK_STR(out, "");
	CHECK_INT(dnsrr_text_name("a..b", out, &why), -1);
	CHECK_STR(why, "a name has an empty label");
	CHECK_INT(dnsrr_text_name(".a", out, &why), -1);
	CHECK_INT(dnsrr_text_name("a..", out, &why), -1);
	CHECK_INT(dnsrr_text_name("a\\032b", out, &why), -1);
	CHECK_INT(dnsrr_text_name("a b", out, &why), -1);
	CHECK_INT(dnsrr_text_name("caf\xc3\xa9.test", out, &why), -1);
	memset(longname, 'a', 64);
	longname[64] = '\0';
	CHECK_INT(dnsrr_text_name(longname, out, &why), -1);
	CHECK_STR(why, "a name has a label longer than 63");
	/* "a.a.....a" of 253 characters, then one letter more. */
	for (int i = 0; i < DNS_NAME_MAX; i++)
		longname[i] = i % 2 ? '.' : 'a';
	longname[DNS_NAME_MAX] = '\0';
	CHECK_INT(dnsrr_text_name(longname, out, &why), 0);
	CHECK_INT(strlen(out), DNS_NAME_MAX);
	longname[DNS_NAME_MAX] = '.'; /* with its final dot: still 253 */
	longname[DNS_NAME_MAX + 1] = '\0';
	CHECK_INT(dnsrr_text_name(longname, out, &why), 0);
	longname[DNS_NAME_MAX] = 'b';
	CHECK_INT(dnsrr_text_name(longname, out, &why), -1);
	CHECK_STR(why, "a name is too long");
}

static void
test_is_host(void)
{
	CHECK(dnsrr_is_host("mx.example.test"));
	CHECK(dnsrr_is_host("xn--caf-dma.test"));
	CHECK(dnsrr_is_host("1.2.3.example"));
	CHECK(dnsrr_is_host("localhost"));
	CHECK(!dnsrr_is_host(""));
	CHECK(!dnsrr_is_host("bad_host.test"));
	CHECK(!dnsrr_is_host("-mx.test"));
	CHECK(!dnsrr_is_host("mx-.test"));
	CHECK(!dnsrr_is_host("mx..test"));
	CHECK(!dnsrr_is_host("mx.test."));
	CHECK(!dnsrr_is_host("Mx.test")); /* names come lower-case */
}

static void
test_mx(void)
{
	struct dns_mx mx;
	const char *why = NULL;

	CHECK_INT(dnsrr_mx(RD("\x00\x0a\x02mx\x04test\x00"), &mx, &why), 0);
	CHECK_INT(mx.pref, 10);
	CHECK_STR(mx.host, "mx.test");
	CHECK_INT(dnsrr_mx(RD("\xff\xff\x00"), &mx, &why), 0);
	CHECK_INT(mx.pref, 65535);
	CHECK_STR(mx.host, ""); /* the null MX */
	CHECK_INT(dnsrr_mx(RD("\x00\x0a"), &mx, &why), -1);
	CHECK_STR(why, "an MX record is too short");
	CHECK_INT(dnsrr_mx(RD("\x00\x0a\x02mx\x00\x01"), &mx, &why), -1);
	CHECK_STR(why, "the record has bytes after its name");
	CHECK_INT(dnsrr_mx(RD("\x00\x0a\x04mx_1\x00"), &mx, &why), -1);
	CHECK_STR(why, "an MX exchange is not a host name");
	CHECK_INT(dnsrr_mx(RD("\x00\x0a\x03-mx\x00"), &mx, &why), -1);
}

static void
test_addr(void)
{
	struct dns_addr a;
	const char *why = NULL;

	CHECK_INT(dnsrr_addr(DNSRR_A, RD("\x7f\x00\x00\x02"), &a, &why), 0);
	CHECK_INT(a.family, AF_INET);
	CHECK_STR(a.text, "127.0.0.2");
	CHECK_INT(dnsrr_addr(DNSRR_AAAA,
	                     RD("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"),
	                     &a, &why),
	          0);
	CHECK_INT(a.family, AF_INET6);
	CHECK_STR(a.text, "2001:db8::1");
	CHECK_INT(dnsrr_addr(DNSRR_A, RD("\x7f\x00\x00"), &a, &why), -1);
	CHECK_STR(why, "an address record has the wrong length");
	CHECK_INT(dnsrr_addr(DNSRR_AAAA, RD("\x7f\x00\x00\x01"), &a, &why), -1);
	CHECK_INT(dnsrr_addr(DNSRR_MX, RD("\x7f\x00\x00\x01"), &a, &why), -1);
}

static void
test_tlsa(void)
{
	unsigned char rd[3 + DNSRR_TLSA_DATA_MAX + 1];
	struct dns_tlsa t;
	const char *why = NULL;

	memset(rd, 0xab, sizeof rd);
	rd[0] = 3, rd[1] = 1, rd[2] = 1;
	CHECK_INT(dnsrr_tlsa(rd, 3 + 32, &t, &why), 0);
	CHECK_INT(t.usage, 3);
	CHECK_INT(t.selector, 1);
	CHECK_INT(t.mtype, 1);
	CHECK_INT(t.len, 32);
	CHECK_MEM(t.data, t.len, rd + 3, 32);
	free(t.data);
	CHECK_INT(dnsrr_tlsa(rd, 3 + 31, &t, &why), -1);
	CHECK_STR(why, "a TLSA digest has the wrong length");
	rd[2] = 2;
	CHECK_INT(dnsrr_tlsa(rd, 3 + 32, &t, &why), -1);
	CHECK_INT(dnsrr_tlsa(rd, 3 + 64, &t, &why), 0);
	free(t.data);
	/* A full certificate (0), or an unknown type, at most the ceiling. */
	rd[2] = 0;
	CHECK_INT(dnsrr_tlsa(rd, 3 + DNSRR_TLSA_DATA_MAX, &t, &why), 0);
	CHECK_INT(t.len, DNSRR_TLSA_DATA_MAX);
	free(t.data);
	CHECK_INT(dnsrr_tlsa(rd, sizeof rd, &t, &why), -1);
	CHECK_STR(why, "a TLSA record's data is too long");
	rd[2] = 255;
	CHECK_INT(dnsrr_tlsa(rd, 4, &t, &why), 0);
	CHECK_INT(t.mtype, 255);
	free(t.data);
	CHECK_INT(dnsrr_tlsa(rd, 3, &t, &why), -1);
	CHECK_STR(why, "a TLSA record is too short");
}

static void
test_srv(void)
{
	struct dns_srv s;
	const char *why = NULL;

	CHECK_INT(dnsrr_srv(RD("\x00\x01\x00\x02\x01\xd1\x04mail\x04test\x00"),
	                    &s, &why),
	          0);
	CHECK_INT(s.priority, 1);
	CHECK_INT(s.weight, 2);
	CHECK_INT(s.port, 465);
	CHECK_STR(s.target, "mail.test");
	CHECK_INT(dnsrr_srv(RD("\0\0\0\0\0\0\x00"), &s, &why), 0);
	CHECK_STR(s.target, "");
	CHECK_INT(dnsrr_srv(RD("\0\0\0\0\0\0"), &s, &why), -1);
	CHECK_STR(why, "a SRV record is too short");
	CHECK_INT(dnsrr_srv(RD("\0\0\0\0\0\x19\x04_bad\x00"), &s, &why), -1);
	CHECK_STR(why, "a SRV target is not a host name");
}

static void
test_txt(void)
{
	unsigned char big[(DNS_TXT_MAX / 255 + 2) * 256];
	size_t at = 0, total = 0;
	const char *why = NULL;
	char *txt = NULL;

	CHECK_INT(dnsrr_txt(RD("\x0dv=STSv1; id=1\x05 more"), &txt, &why), 0);
	CHECK_STR(txt, "v=STSv1; id=1 more");
	free(txt);
	CHECK_INT(dnsrr_txt(RD("\x00"), &txt, &why), 0);
	CHECK_STR(txt, "");
	free(txt);
	CHECK_INT(dnsrr_txt(RD(""), &txt, &why), -1);
	CHECK_STR(why, "a TXT record is empty");
	CHECK_INT(dnsrr_txt(RD("\x05"
	                       "abc"),
	                    &txt, &why),
	          -1);
	CHECK_STR(why, "a TXT string runs past the record");
	CHECK_INT(dnsrr_txt(RD("\x03"
	                       "a\0b"),
	                    &txt, &why),
	          -1);
	CHECK_STR(why, "a TXT record has a NUL byte");
	/* Strings of 255 up to DNS_TXT_MAX in all, then one byte more. */
	while (total + 255 <= DNS_TXT_MAX) {
		big[at++] = 255;
		memset(big + at, 'x', 255);
		at += 255;
		total += 255;
	}
	big[at++] = (unsigned char)(DNS_TXT_MAX - total);
	memset(big + at, 'y', DNS_TXT_MAX - total);
	at += DNS_TXT_MAX - total;
	CHECK_INT(dnsrr_txt(big, at, &txt, &why), 0);
	CHECK_INT(strlen(txt), DNS_TXT_MAX);
	free(txt);
	big[at++] = 1;
	big[at++] = 'z';
	CHECK_INT(dnsrr_txt(big, at, &txt, &why), -1);
	CHECK_STR(why, "a TXT record is too long");
}

int
main(void)
{
	test_name();
	test_name_length();
	test_text_name();
	test_is_host();
	test_mx();
	test_addr();
	test_tlsa();
	test_srv();
	test_txt();
	return unit_done();
}
