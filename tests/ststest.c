/*
 * ststest.c - tests/mailpost-ststest, MTA-STS discovery (mtasts.h) on
 * its own, for tests/85-mta-sts.bats: the TXT record and the policy
 * through the resolver and https.c, the cache, and the verdict for MX
 * hosts, apart from a delivery.
 *
 *   mailpost-ststest [OPTION...] DOMAIN [MX...]
 *   options: --dns-server SERVERS (dns_options.servers), --anchor FILE
 *            (the trust anchor), --trust FILE (the policy host's CAs),
 *            --cache DIR (none without), --timeout S, --now SECONDS
 *            (the clock, for the cache's expiry)
 *
 * Prints "found yes|no", "how ..." (mtasts_result.how), and with a
 * policy "id", "mode", "max_age" and one "mx PATTERN" a line; then one
 * line per MX: "MX opportunistic|verify|skip|try-verify: WHY".  Exits 0,
 * or with error_exit_code of a resolver that cannot be opened.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "error.h"
#include "mtasts.h"

static int
usage(void)
{
	fputs("usage: mailpost-ststest [--dns-server S] [--anchor FILE] "
	      "[--trust FILE] [--cache DIR] [--timeout S] [--now SECONDS] "
	      "DOMAIN [MX...]\n",
	      stderr);
	return 64;
}

int
main(int argc, char **argv)
{
	static const char *const modes[] = {"none", "testing", "enforce"};
	static const char *const verdicts[] = {"opportunistic", "verify",
	                                       "skip", "try-verify"};
	struct dns_options d = {0};
	struct mtasts_options o = {0};
	struct mtasts_result r;
	struct error err;
	char why[300];
	int i = 1;

	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		const char *v = argv[i + 1];

		if (strcmp(argv[i], "--dns-server") == 0)
			d.servers = v;
		else if (strcmp(argv[i], "--anchor") == 0)
			d.trust_anchor = v;
		else if (strcmp(argv[i], "--trust") == 0)
			o.trust_file = v;
		else if (strcmp(argv[i], "--cache") == 0)
			o.cache_dir = v;
		else if (strcmp(argv[i], "--timeout") == 0)
			o.timeout_s = atoi(v);
		else if (strcmp(argv[i], "--now") == 0)
			o.now = strtoll(v, NULL, 10);
		else
			return usage();
	}
	if (i >= argc)
		return usage();
	error_clear(&err);
	if (dns_open(&o.dns, &d, &err) < 0) {
		fprintf(stderr, "%s: %s\n", error_kind_name(err.kind), err.msg);
		return error_exit_code(err.kind);
	}
	mtasts_discover(&o, argv[i], &r);
	printf("found %s\nhow %s\n", r.found ? "yes" : "no", r.how);
	if (r.found) {
		printf("id %s\nmode %s\nmax_age %ld\n", r.id,
		       modes[r.policy.mode], r.policy.max_age);
		for (size_t k = 0; k < r.policy.nmx; k++)
			printf("mx %s\n", r.policy.mx[k]);
	}
	for (i++; i < argc; i++) {
		enum mtasts_verdict v = mtasts_hop(&r, argv[i], why, sizeof why);

		printf("%s %s: %s\n", argv[i], verdicts[v], why);
	}
	dns_free(o.dns);
	return 0;
}
