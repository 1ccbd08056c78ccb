/*
 * dnstest.c - tests/mailpost-dnstest, the resolver (dns.h) on its own,
 * for tests/82-dns.bats: one look-up against the test suite's DNS server
 * (tests/lib/dnsd.bash), its answer printed.
 *
 *   mailpost-dnstest [OPTION...] mx|addrs|srv|txt NAME
 *   mailpost-dnstest [OPTION...] tlsa HOST PORT
 *   mailpost-dnstest available   (exit 0 when libunbound loads, else the
 *                                 reason and 77: skip)
 *   options: --server "ADDR[@PORT] ...", --anchor FILE, --timeout MS,
 *            -v (the transcript's notes on stderr)
 *
 * Prints "status S", "security S", "canon NAME", "why_bogus TEXT" when
 * bogus, then one line a record ("mx PREF HOST", "addr FAMILY TEXT",
 * "tlsa U S M HEX", "srv PRIO WEIGHT PORT TARGET", "txt TEXT"; "." for
 * an empty host or target), or the error's kind and message on stderr;
 * exits with error_exit_code(kind), as mailpost.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"
#include "error.h"
#include "interrupt.h"
#include "transcript.h"
#include "util.h"

static int
usage(void)
{
	fputs("usage: mailpost-dnstest [--server S] [--anchor FILE] "
	      "[--timeout MS] [-v] mx|addrs|srv|txt NAME | tlsa HOST PORT | "
	      "available\n",
	      stderr);
	return 64;
}

static const char *
or_root(const char *name)
{
	return *name ? name : ".";
}

static void
print_answer(const struct dns_answer *a)
{
	printf("status %s\n", dns_status_name(a->status));
	printf("security %s\n", dns_security_name(a->security));
	printf("canon %s\n", a->canon);
	if (a->security == DNS_BOGUS)
		printf("why_bogus %s\n", a->why_bogus);
	for (size_t i = 0; i < a->n; i++) {
		if (a->mx)
			printf("mx %u %s\n", a->mx[i].pref,
			       or_root(a->mx[i].host));
		if (a->addr)
			printf("addr %s %s\n",
			       a->addr[i].family == AF_INET6 ? "inet6" : "inet",
			       a->addr[i].text);
		if (a->srv)
			printf("srv %u %u %u %s\n", a->srv[i].priority,
			       a->srv[i].weight, a->srv[i].port,
			       or_root(a->srv[i].target));
		if (a->txt) {
			char *shown = xstrdup(a->txt[i]);

			printf("txt %s\n", str_censor(shown, strlen(shown)));
			free(shown);
		}
		if (a->tlsa) {
			printf("tlsa %u %u %u ", a->tlsa[i].usage,
			       a->tlsa[i].selector, a->tlsa[i].mtype);
			for (size_t j = 0; j < a->tlsa[i].len; j++)
				printf("%02x", a->tlsa[i].data[j]);
			putchar('\n');
		}
	}
}

static int
look_up(struct dns *d, int argc, char **argv, struct dns_answer *a,
        struct error *err)
{
	const char *type = argv[0];

	if (strcmp(type, "tlsa") == 0 && argc == 3)
		return dns_tlsa(d, argv[1], atoi(argv[2]), a, err);
	if (argc != 2)
		return error_set(err, ERROR_USAGE, "wrong arguments");
	if (strcmp(type, "mx") == 0)
		return dns_mx(d, argv[1], a, err);
	if (strcmp(type, "addrs") == 0)
		return dns_addrs(d, argv[1], a, err);
	if (strcmp(type, "srv") == 0)
		return dns_srv(d, argv[1], a, err);
	if (strcmp(type, "txt") == 0)
		return dns_txt(d, argv[1], a, err);
	return error_set(err, ERROR_USAGE, "unknown type '%s'", type);
}

int
main(int argc, char **argv)
{
	struct dns_options o = {0};
	struct dns_answer a = {0};
	struct transcript *t = NULL;
	struct error err;
	struct dns *d = NULL;
	int i, rc;

	error_clear(&err);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-v") == 0) {
			t = transcript_new(stderr, TRANSCRIPT_DIALOGUE, NULL);
			continue;
		}
		if (i + 1 >= argc)
			return usage();
		if (strcmp(argv[i], "--server") == 0)
			o.servers = argv[++i];
		else if (strcmp(argv[i], "--anchor") == 0)
			o.trust_anchor = argv[++i];
		else if (strcmp(argv[i], "--timeout") == 0)
			o.timeout_ms = atoi(argv[++i]);
		else
			return usage();
	}
	if (i >= argc)
		return usage();
	o.transcript = t;
	interrupt_catch();
	if (strcmp(argv[i], "available") == 0) {
		if (dns_open(&d, &o, &err) < 0 &&
		    err.kind == ERROR_UNAVAILABLE) {
			fprintf(stderr, "%s\n", err.msg);
			return 77;
		}
		dns_free(d);
		return 0;
	}
	rc = dns_open(&d, &o, &err);
	if (rc == 0)
		rc = look_up(d, argc - i, argv + i, &a, &err);
	if (rc == 0)
		print_answer(&a);
	else
		fprintf(stderr, "%s: %s\n", error_kind_name(err.kind), err.msg);
	dns_answer_clear(&a);
	dns_free(d);
	transcript_free(t);
	return rc == 0 ? 0 : error_exit_code(err.kind);
}
