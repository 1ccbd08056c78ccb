/*
 * oauth2_fuzz - a token endpoint's answer (oauth2.c's
 * oauth2_parse_token_answer), which comes from whatever answers at the
 * endpoint's address: the first byte picks the HTTP status, the rest is
 * the body.  Checked: success gives an access token that is a b64token
 * of at most OAUTH2_TOKEN_MAX bytes (it goes on an SMTP line), a refresh
 * token of printable ASCII without space, and a lifetime in bounds;
 * failure gives a kind, a message as error_set leaves them, printable
 * ASCII where it quotes the server, and no token.
 */
#include "config.h"

#include "fuzz.h"

#include <time.h>

#include "https.h"
#include "oauth2.h"

/* The statuses a token endpoint answers with, and a few it should not. */
static const long statuses[] = {200, 400, 401, 500, 503, 302, 201, 404};

static void
token_ok(const char *t, bool b64)
{
	size_t n = strlen(t);
	size_t k = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
	                     "wxyz0123456789-._~+/");

	FUZZ_ASSERT(n > 0 && n <= OAUTH2_TOKEN_MAX);
	if (b64) {
		FUZZ_ASSERT(k > 0);
		FUZZ_ASSERT(strspn(t + k, "=") == n - k);
		return;
	}
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT(t[i] > 0x20 && t[i] < 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oauth2_tokens t;
	struct error err;
	long long now = (long long)time(NULL);
	char *body;
	long status;
	int rc;

	if (size < 1)
		return 0;
	status = statuses[data[0] % (sizeof statuses / sizeof *statuses)];
	/* A copy of exactly the body's size: a read past it is caught. */
	body = xmalloc(size - 1 ? size - 1 : 1);
	memcpy(body, data + 1, size - 1);
	error_clear(&err);
	rc = oauth2_parse_token_answer(status, body, size - 1, &t, &err);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc == 0) {
		FUZZ_ASSERT(status == 200);
		token_ok(t.access_token, true);
		if (t.refresh_token)
			token_ok(t.refresh_token, false);
		FUZZ_ASSERT(t.expires_at == 0 ||
		            (t.expires_at >= now &&
		             t.expires_at <= now + OAUTH2_EXPIRES_MAX + 5));
		oauth2_tokens_clear(&t);
	} else {
		FUZZ_ASSERT(err.kind != ERROR_NONE && fuzz_message_ok(err.msg));
		FUZZ_ASSERT(!t.access_token && !t.refresh_token);
		for (const char *p = err.msg; *p; p++)
			FUZZ_ASSERT((unsigned char)*p >= 0x20 &&
			            (unsigned char)*p < 0x7f);
	}
	FUZZ_ASSERT(size - 1 <= HTTPS_BODY_MAX || rc == -1);
	free(body);
	return 0;
}
