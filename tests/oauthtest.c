/*
 * oauthtest.c - tests/mailpost-oauthtest, the wire layer of OAuth2
 * (oauth2.h over https.h) on its own, for tests/67-oauth2-wire.bats:
 * what only that layer shows (a certificate refused, a timeout, an
 * answer cut at its ceiling, a redirect not followed, http:// refused),
 * apart from an account, a token store and a login.
 *
 *   mailpost-oauthtest [OPTION...] refresh TOKEN_URL REFRESH_TOKEN
 *   mailpost-oauthtest [OPTION...] device DEVICE_URL TOKEN_URL
 *   mailpost-oauthtest [OPTION...] code TOKEN_URL CODE REDIRECT VERIFIER
 *   mailpost-oauthtest available   (exit 0 when libcurl and json-c load,
 *                                   else the reason and 77: skip)
 *   options: --client-id ID (default mailpost-test), --client-secret S,
 *            --scope S, --trust FILE, --proxy URL, --timeout S,
 *            --catch-signals yes (SIGTERM, SIGINT, SIGHUP caught as
 *            during a send, interrupt.h), --private-names yes (as for
 *            the system configuration's account)
 *
 * device asks for a device code and polls once.  Prints what it got, one
 * "name value" a line (tokens too: the test's own), or the error's kind
 * and message on stderr; exits with error_exit_code(kind), as mailpost.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "https.h"
#include "interrupt.h"
#include "jsonlib.h"
#include "oauth2.h"

static int
usage(void)
{
	fputs("usage: mailpost-oauthtest [--client-id ID] [--client-secret S] "
	      "[--scope S] [--trust FILE] [--proxy URL] [--timeout S] "
	      "[--catch-signals yes] [--private-names yes] "
	      "refresh TOKEN_URL RT | device DEVICE_URL TOKEN_URL | code "
	      "TOKEN_URL CODE REDIRECT VERIFIER\n",
	      stderr);
	return 64;
}

static void
print_tokens(const struct oauth2_tokens *t)
{
	printf("access_token %s\n", t->access_token);
	printf("refresh_token %s\n",
	       t->refresh_token ? t->refresh_token : "(none)");
	if (t->expires_at)
		printf("expires_in %lld\n",
		       t->expires_at - (long long)time(NULL));
	else
		printf("expires_in (none)\n");
}

static int
device(const struct oauth2_client *c, struct oauth2_tokens *t,
       struct error *err)
{
	static const char *const states[] = {"done", "pending", "slow_down"};
	struct oauth2_device d;
	enum oauth2_poll state;

	if (oauth2_device_start(c, &d, err) < 0)
		return -1;
	printf("user_code %s\nverification_uri %s\n", d.user_code,
	       d.verification_uri);
	printf("verification_uri_complete %s\ninterval %d\n",
	       d.verification_uri_complete ? d.verification_uri_complete
	                                   : "(none)",
	       d.interval);
	if (oauth2_device_poll(c, &d, &state, t, err) < 0) {
		oauth2_device_clear(&d);
		return -1;
	}
	printf("poll %s\n", states[state]);
	oauth2_device_clear(&d);
	return state == OAUTH2_POLL_DONE ? 1 : 0;
}

int
main(int argc, char **argv)
{
	struct oauth2_client c = {.client_id = "mailpost-test"};
	struct oauth2_tokens t = {0};
	struct error err;
	int i = 1, rc = -1;

	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		const char *v = argv[i + 1];

		if (strcmp(argv[i], "--client-id") == 0)
			c.client_id = v;
		else if (strcmp(argv[i], "--client-secret") == 0)
			c.client_secret = v;
		else if (strcmp(argv[i], "--scope") == 0)
			c.scope = v;
		else if (strcmp(argv[i], "--trust") == 0)
			c.trust_file = v;
		else if (strcmp(argv[i], "--proxy") == 0)
			c.proxy = v;
		else if (strcmp(argv[i], "--timeout") == 0)
			c.timeout_s = atoi(v);
		else if (strcmp(argv[i], "--catch-signals") == 0)
			interrupt_catch();
		else if (strcmp(argv[i], "--private-names") == 0)
			c.private_names = true;
		else
			return usage();
	}
	error_clear(&err);
	if (argc - i == 1 && strcmp(argv[i], "available") == 0) {
		if (https_load(&err) == 0 && jsonlib_open(&err) == 0)
			return 0;
		printf("%s\n", err.msg);
		return 77;
	}
	if (argc - i == 3 && strcmp(argv[i], "refresh") == 0) {
		c.token_endpoint = argv[i + 1];
		rc = oauth2_refresh(&c, argv[i + 2], &t, &err);
		rc = rc == 0 ? 1 : rc;
	} else if (argc - i == 3 && strcmp(argv[i], "device") == 0) {
		c.device_endpoint = argv[i + 1];
		c.token_endpoint = argv[i + 2];
		rc = device(&c, &t, &err);
	} else if (argc - i == 5 && strcmp(argv[i], "code") == 0) {
		c.token_endpoint = argv[i + 1];
		rc = oauth2_code_exchange(&c, argv[i + 2], argv[i + 3],
		                          argv[i + 4], &t, &err);
		rc = rc == 0 ? 1 : rc;
	} else {
		return usage();
	}
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", error_kind_name(err.kind), err.msg);
		return error_exit_code(err.kind);
	}
	if (rc > 0)
		print_tokens(&t);
	oauth2_tokens_clear(&t);
	return 0;
}
