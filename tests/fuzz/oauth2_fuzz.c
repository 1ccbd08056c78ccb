/*
 * oauth2_fuzz - a token endpoint's answer (oauth2.c's
 * oauth2_parse_token_answer), which comes from whatever answers at the
 * endpoint's address: the first byte picks the HTTP status (its low
 * bits) and whether it is a device authorization answer
 * (oauth2_parse_device_answer; its high bit), the rest is the body.
 * Checked: success gives an access token that is a b64token of at most
 * OAUTH2_TOKEN_MAX bytes (it goes on an SMTP line), a refresh token of
 * printable ASCII without space, and a lifetime in bounds; a device
 * answer's codes, https:// addresses and interval within theirs;
 * failure gives a kind, a message as error_set leaves them, printable
 * ASCII where it quotes the server, and nothing filled.
 */
#include "config.h"

#include "fuzz.h"

#include <strings.h>
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

static void
printable(const char *s, size_t max, bool space)
{
	size_t n = strlen(s);

	FUZZ_ASSERT(n > 0 && n <= max);
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT((unsigned char)s[i] >= (space ? 0x20 : 0x21) &&
		            (unsigned char)s[i] < 0x7f);
}

static void
failed(const struct error *err)
{
	FUZZ_ASSERT(err->kind != ERROR_NONE && fuzz_message_ok(err->msg));
	for (const char *p = err->msg; *p; p++)
		FUZZ_ASSERT((unsigned char)*p >= 0x20 &&
		            (unsigned char)*p < 0x7f);
}

static void
device(long status, const char *body, size_t len)
{
	struct oauth2_device d;
	struct error err;
	long long now = (long long)time(NULL);

	error_clear(&err);
	if (oauth2_parse_device_answer(status, body, len, &d, &err) < 0) {
		failed(&err);
		FUZZ_ASSERT(!d.device_code && !d.user_code &&
		            !d.verification_uri &&
		            !d.verification_uri_complete);
		return;
	}
	FUZZ_ASSERT(status == 200);
	printable(d.device_code, OAUTH2_TOKEN_MAX, false);
	printable(d.user_code, OAUTH2_USER_CODE_MAX, true);
	printable(d.verification_uri, OAUTH2_URI_MAX, false);
	FUZZ_ASSERT(strncasecmp(d.verification_uri, "https://", 8) == 0);
	if (d.verification_uri_complete) {
		printable(d.verification_uri_complete, OAUTH2_URI_MAX, false);
		FUZZ_ASSERT(strncasecmp(d.verification_uri_complete, "https://",
		                        8) == 0);
	}
	FUZZ_ASSERT(d.interval >= 1 && d.interval <= OAUTH2_INTERVAL_MAX);
	FUZZ_ASSERT(d.expires_at >= now &&
	            d.expires_at <= now + OAUTH2_EXPIRES_MAX + 5);
	oauth2_device_clear(&d);
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
	if (data[0] & 0x80) {
		device(status, body, size - 1);
		free(body);
		return 0;
	}
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
		failed(&err);
		FUZZ_ASSERT(!t.access_token && !t.refresh_token);
	}
	FUZZ_ASSERT(size - 1 <= HTTPS_BODY_MAX || rc == -1);
	free(body);
	return 0;
}
