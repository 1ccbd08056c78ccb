/*
 * dnsrr.h - the data of one DNS record, as a resolver hands it over (the
 * RDATA in wire form, RFC 1035 3.3, names uncompressed), judged and
 * turned into dns.h's structs.  Pure code: no resolver, no I/O; the
 * libFuzzer target tests/fuzz/dnsrr_fuzz.c feeds it anything.  dns.h,
 * the resolver's contract, includes it for these structs.
 *
 * The bytes are the network's even after DNSSEC validation (a signed
 * zone can hold anything).  Every length is checked against the data's,
 * the data must be used up exactly, names are at most DNS_NAME_MAX in
 * presentation form, made of letters, digits, hyphens and underscores
 * (anything else, which would need escaping to be shown, is refused),
 * and a name that becomes a host is a host name (dnsrr_is_host).
 * Each parser returns 0, or -1 with *why a short static text ("the
 * exchange is not a host name") for the transcript.
 */
#ifndef MAILPOST_DNSRR_H
#define MAILPOST_DNSRR_H

#include <stdbool.h>
#include <stddef.h>

#define DNS_NAME_MAX                                                           \
	253 /* RFC 1035 2.3.4, presentation form without the final dot */
/* One TXT record's strings joined: RFC 8461's and RFC 6186's records are
 * short; a longer one is dropped. */
#define DNS_TXT_MAX 4096

/* host "": the null MX "." (RFC 7505) */
struct dns_mx {
	unsigned pref;
	char host[DNS_NAME_MAX + 1];
};
/* AF_INET or AF_INET6, and the address as numeric text */
struct dns_addr {
	int family;
	char text[46];
};
struct dns_tlsa {
	unsigned char usage, selector, mtype;
	unsigned char *data;
	size_t len;
};
/* target "": "." (RFC 2782: the service is not offered) */
struct dns_srv {
	unsigned priority, weight, port;
	char target[DNS_NAME_MAX + 1];
};

/* RR types (RFC 1035 3.2.2, RFC 3596, RFC 2782, RFC 6698). */
#define DNSRR_A 1
#define DNSRR_MX 15
#define DNSRR_TXT 16
#define DNSRR_AAAA 28
#define DNSRR_SRV 33
#define DNSRR_TLSA 52
#define DNSRR_DNSKEY 48

/* The association data of one TLSA record: a full certificate (matching
 * type 0) is a few KiB; a record larger than this is not one. */
#define DNSRR_TLSA_DATA_MAX 8192

/* A wire-form name at p (len bytes available) into out as lower-case
 * text without the final dot ("" for the root); *used: its length in
 * wire form.  Refused: a compression pointer or an extended label type
 * (a resolver hands names uncompressed), a label past the data, a name
 * longer than DNS_NAME_MAX, a byte outside [A-Za-z0-9_-]. */
int dnsrr_name(const unsigned char *p, size_t len, size_t *used,
               char out[DNS_NAME_MAX + 1], const char **why);

/* A name in presentation form ("Mail.Example.test." or without the
 * final dot) into out, lower-case, without the final dot; the same
 * rules as dnsrr_name.  For the canonical name a resolver gives as text. */
int dnsrr_text_name(const char *in, char out[DNS_NAME_MAX + 1],
                    const char **why);

/* True when name (lower-case, no final dot, not empty) is a host name
 * (RFC 952, RFC 1123 2.1): labels of letters, digits and hyphens, none
 * starting or ending with a hyphen. */
bool dnsrr_is_host(const char *name);

/* MX (RFC 1035 3.3.9): preference and exchange; the exchange "." (the
 * null MX of RFC 7505) gives host "", any other must be a host name. */
int dnsrr_mx(const unsigned char *rd, size_t len, struct dns_mx *out,
             const char **why);
/* A (4 bytes) or AAAA (16 bytes), by type. */
int dnsrr_addr(int type, const unsigned char *rd, size_t len,
               struct dns_addr *out, const char **why);
/* TLSA (RFC 6698 2.1): data copied into out->data (xmalloc'd, the
 * caller frees); SHA2-256 (1) and SHA2-512 (2) need 32 and 64 bytes;
 * data at most DNSRR_TLSA_DATA_MAX, never empty. */
int dnsrr_tlsa(const unsigned char *rd, size_t len, struct dns_tlsa *out,
               const char **why);
/* SRV (RFC 2782): target "." gives "", any other must be a host name. */
int dnsrr_srv(const unsigned char *rd, size_t len, struct dns_srv *out,
              const char **why);
/* TXT (RFC 1035 3.3.14): the strings joined into *out (xmalloc'd,
 * NUL-terminated); refused with a NUL byte in it or longer than
 * DNS_TXT_MAX. */
int dnsrr_txt(const unsigned char *rd, size_t len, char **out,
              const char **why);

#endif
