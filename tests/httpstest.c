/*
 * httpstest.c - tests/mailpost-httpstest, https.h on its own, for
 * tests/67-https-get.bats: a GET (or a POST of no form) as mtasts.c and
 * --configure make it, against tests/lib/httpsd.py, apart from DNS and
 * an account.
 *
 *   mailpost-httpstest [OPTION...] get URL
 *   mailpost-httpstest [OPTION...] post URL   (a POST of an empty form)
 *   mailpost-httpstest port                   (prints https_port())
 *   mailpost-httpstest available              (exit 0 when libcurl
 *                                              loads, else the reason
 *                                              and 77: skip)
 *   options: --trust FILE, --connect ADDR (connect_addr), --max BYTES
 *            (max_body), --timeout S
 *
 * Prints "status N", "length N", "type T" (the Content-Type, "" when
 * none), then the body as it came; or the
 * error's kind and message on stderr and exits with
 * error_exit_code(kind), as mailpost.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "https.h"

static int
usage(void)
{
	fputs("usage: mailpost-httpstest [--trust FILE] [--connect ADDR] "
	      "[--max BYTES] [--timeout S] get|post URL | port | "
	      "available\n",
	      stderr);
	return 64;
}

int
main(int argc, char **argv)
{
	struct https_request r = {0};
	struct https_response out;
	struct error err;
	int i = 1, rc;

	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		const char *v = argv[i + 1];

		if (strcmp(argv[i], "--trust") == 0)
			r.trust_file = v;
		else if (strcmp(argv[i], "--connect") == 0)
			r.connect_addr = v;
		else if (strcmp(argv[i], "--max") == 0)
			r.max_body = strtoul(v, NULL, 10);
		else if (strcmp(argv[i], "--timeout") == 0)
			r.timeout_s = atoi(v);
		else
			return usage();
	}
	error_clear(&err);
	if (argc - i == 1 && strcmp(argv[i], "available") == 0) {
		if (https_load(&err) == 0)
			return 0;
		printf("%s\n", err.msg);
		return 77;
	}
	if (argc - i == 1 && strcmp(argv[i], "port") == 0) {
		printf("%d\n", https_port());
		return 0;
	}
	if (argc - i != 2)
		return usage();
	r.url = argv[i + 1];
	if (strcmp(argv[i], "get") == 0)
		rc = https_get(&r, &out, &err);
	else if (strcmp(argv[i], "post") == 0)
		rc = https_post(&r, &out, &err);
	else
		return usage();
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", error_kind_name(err.kind), err.msg);
		return error_exit_code(err.kind);
	}
	printf("status %ld\nlength %zu\ntype %s\n", out.status, out.len,
	       out.content_type);
	fwrite(out.body, 1, out.len, stdout);
	https_response_clear(&out);
	return 0;
}
