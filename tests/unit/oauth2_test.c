/*
 * oauth2_test.c - a token endpoint's answers judged (oauth2.h's
 * oauth2_parse_token_answer), one table row per answer: good ones (with
 * and without a rotated refresh token and a lifetime, expires_in as a
 * string), every error code of RFC 6749 5.2 and RFC 8628 3.5 with the
 * kind it maps to, missing and ill-typed members, numbers out of bounds,
 * tokens with control characters or other bytes an SMTP line must not
 * carry, a token one byte over the limit, answers that are not JSON or
 * not an object, trailing bytes, a depth bomb and 64 KiB + 1.  Every
 * message is one printable line that never holds a token.  Then the
 * device grant's answers (oauth2_parse_device_answer): Google's
 * verification_url, the interval's default and bounds, a verification
 * address that is not https://, a user code with control characters.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "https.h"
#include "oauth2.h"
#include "unit.h"
#include "util.h"

/* A token that must never show in a message. */
#define AT "ya29.a0AfB_byC-secret~token+/=="
#define RT "1//0gSECRET-refresh_token"

struct row {
	const char *name;
	long status;
	const char *body;
	enum error_kind kind; /* ERROR_NONE: success */
	const char *access;   /* on success */
	const char *refresh;  /* on success; NULL: none */
	long long expires_in; /* on success; -1: none */
	const char *msg;      /* on failure: a part of the message */
};

static const struct row rows[] = {
    /* RFC 6749 5.1 */
    {"refresh, not rotated", 200,
     "{\"access_token\":\"" AT "\",\"token_type\":\"Bearer\","
     "\"expires_in\":3599,\"scope\":\"https://mail.google.com/\"}",
     ERROR_NONE, AT, NULL, 3599, NULL},
    {"rotated", 200,
     "{\"access_token\":\"" AT "\",\"token_type\":\"bearer\","
     "\"expires_in\":3600,\"refresh_token\":\"" RT "\"}",
     ERROR_NONE, AT, RT, 3600, NULL},
    {"expires_in a string (seen in the wild)", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"BEARER\","
     "\"expires_in\":\"3600\"}",
     ERROR_NONE, "abc", NULL, 3600, NULL},
    {"no expires_in", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\"}", ERROR_NONE, "abc",
     NULL, -1, NULL},
    {"null refresh_token is none", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\","
     "\"refresh_token\":null}",
     ERROR_NONE, "abc", NULL, -1, NULL},
    {"white space around", 200,
     " \r\n{ \"access_token\" : \"abc\" , \"token_type\" : \"Bearer\" }\n",
     ERROR_NONE, "abc", NULL, -1, NULL},
    {"members it does not know", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\",\"id_token\":"
     "\"x.y.z\",\"ext\":{\"a\":[1,2,{\"b\":null}]}}",
     ERROR_NONE, "abc", NULL, -1, NULL},

    /* RFC 6749 5.2 and RFC 8628 3.5 */
    {"invalid_grant", 400,
     "{\"error\":\"invalid_grant\",\"error_description\":\"Token has "
     "been expired or revoked.\"}",
     ERROR_NOPERM, NULL, NULL, 0,
     "the token endpoint refused: invalid_grant (Token has been expired or "
     "revoked.)"},
    {"invalid_client", 401, "{\"error\":\"invalid_client\"}", ERROR_CONFIG,
     NULL, NULL, 0, "the token endpoint refused: invalid_client"},
    {"unauthorized_client", 400, "{\"error\":\"unauthorized_client\"}",
     ERROR_CONFIG, NULL, NULL, 0, "unauthorized_client"},
    {"invalid_scope", 400, "{\"error\":\"invalid_scope\"}", ERROR_CONFIG, NULL,
     NULL, 0, "invalid_scope"},
    {"invalid_request", 400, "{\"error\":\"invalid_request\"}", ERROR_CONFIG,
     NULL, NULL, 0, "invalid_request"},
    {"unsupported_grant_type", 400, "{\"error\":\"unsupported_grant_type\"}",
     ERROR_CONFIG, NULL, NULL, 0, "unsupported_grant_type"},
    {"temporarily_unavailable", 503, "{\"error\":\"temporarily_unavailable\"}",
     ERROR_TEMPFAIL, NULL, NULL, 0, "temporarily_unavailable"},
    {"server_error", 500, "{\"error\":\"server_error\"}", ERROR_TEMPFAIL, NULL,
     NULL, 0, "server_error"},
    {"access_denied", 400, "{\"error\":\"access_denied\"}", ERROR_NOPERM, NULL,
     NULL, 0, "access_denied"},
    {"expired_token", 400, "{\"error\":\"expired_token\"}", ERROR_TEMPFAIL,
     NULL, NULL, 0, "expired_token"},
    {"authorization_pending outside a device poll", 400,
     "{\"error\":\"authorization_pending\"}", ERROR_PROTOCOL, NULL, NULL, 0,
     "authorization_pending"},
    {"slow_down outside a device poll", 400, "{\"error\":\"slow_down\"}",
     ERROR_PROTOCOL, NULL, NULL, 0, "slow_down"},
    {"an error code it does not know", 400, "{\"error\":\"teapot\"}",
     ERROR_PROTOCOL, NULL, NULL, 0, "refused: teapot"},
    {"an error with a 200", 200,
     "{\"error\":\"invalid_grant\",\"access_token\":\"abc\","
     "\"token_type\":\"Bearer\"}",
     ERROR_NOPERM, NULL, NULL, 0, "invalid_grant"},
    {"error not a string", 400, "{\"error\":42}", ERROR_PROTOCOL, NULL, NULL, 0,
     "an error that is not a string"},
    {"description censored", 400,
     "{\"error\":\"invalid_grant\",\"error_description\":\"a\\u001b[31mb"
     "\\r\\nc\\u00e9\"}",
     ERROR_NOPERM, NULL, NULL, 0, "(a?[31mb?\?c?\?)"},
    {"error code censored", 400, "{\"error\":\"bad\\u0007code\\n\"}",
     ERROR_PROTOCOL, NULL, NULL, 0, "refused: bad?code?"},

    /* Statuses without an OAuth2 error */
    {"5xx, no JSON", 502, "<html>Bad gateway</html>", ERROR_TEMPFAIL, NULL,
     NULL, 0, "the token endpoint answered 502 without a JSON object"},
    {"5xx, JSON without error", 500, "{}", ERROR_TEMPFAIL, NULL, NULL, 0,
     "answered 500 without an OAuth2 error"},
    {"a redirect", 302, "", ERROR_PROTOCOL, NULL, NULL, 0,
     "answered 302, a redirect, which is not followed"},
    {"a redirect with a JSON token", 307,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\"}", ERROR_PROTOCOL,
     NULL, NULL, 0, "answered 307, a redirect"},
    {"404 with JSON", 404, "{\"message\":\"not found\"}", ERROR_PROTOCOL, NULL,
     NULL, 0, "answered 404 without an OAuth2 error"},
    {"201 is not 200", 201,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\"}", ERROR_PROTOCOL,
     NULL, NULL, 0, "answered 201"},

    /* Missing and ill-typed members */
    {"no access_token", 200, "{\"token_type\":\"Bearer\"}", ERROR_PROTOCOL,
     NULL, NULL, 0, "has no access_token string"},
    {"access_token a number", 200,
     "{\"access_token\":12,\"token_type\":\"Bearer\"}", ERROR_PROTOCOL, NULL,
     NULL, 0, "has no access_token string"},
    {"access_token null", 200,
     "{\"access_token\":null,\"token_type\":\"Bearer\"}", ERROR_PROTOCOL, NULL,
     NULL, 0, "has no access_token string"},
    {"access_token empty", 200,
     "{\"access_token\":\"\",\"token_type\":\"Bearer\"}", ERROR_PROTOCOL, NULL,
     NULL, 0, "has an unusable access_token"},
    {"no token_type", 200, "{\"access_token\":\"abc\"}", ERROR_PROTOCOL, NULL,
     NULL, 0, "has no token_type string"},
    {"token_type mac", 200, "{\"access_token\":\"abc\",\"token_type\":\"mac\"}",
     ERROR_PROTOCOL, NULL, NULL, 0, "gave a token of type \"mac\", not Bearer"},
    {"refresh_token a number", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\","
     "\"refresh_token\":7}",
     ERROR_PROTOCOL, NULL, NULL, 0, "has no refresh_token string"},
    {"expires_in an object", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\","
     "\"expires_in\":{}}",
     ERROR_PROTOCOL, NULL, NULL, 0, "has a bad expires_in"},
    {"expires_in a fraction", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\","
     "\"expires_in\":3599.5}",
     ERROR_PROTOCOL, NULL, NULL, 0, "has a bad expires_in"},
    {"expires_in negative", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\","
     "\"expires_in\":-1}",
     ERROR_PROTOCOL, NULL, NULL, 0, "has a bad expires_in"},
    {"expires_in huge", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\","
     "\"expires_in\":99999999999999999999999999}",
     ERROR_PROTOCOL, NULL, NULL, 0, "has a bad expires_in"},
    {"expires_in past the ceiling", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\","
     "\"expires_in\":316224001}",
     ERROR_PROTOCOL, NULL, NULL, 0, "has a bad expires_in"},
    {"expires_in a string not digits", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\","
     "\"expires_in\":\"1e9\"}",
     ERROR_PROTOCOL, NULL, NULL, 0, "has a bad expires_in"},
    {"expires_in a string of 19 digits", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\","
     "\"expires_in\":\"1000000000000000000\"}",
     ERROR_PROTOCOL, NULL, NULL, 0, "has a bad expires_in"},

    /* Tokens an SMTP line must not carry */
    {"CR LF in the access token", 200,
     "{\"access_token\":\"abc\\r\\nMAIL FROM:<x>\",\"token_type\":"
     "\"Bearer\"}",
     ERROR_PROTOCOL, NULL, NULL, 0, "has an unusable access_token"},
    {"NUL in the access token", 200,
     "{\"access_token\":\"ab\\u0000c\",\"token_type\":\"Bearer\"}",
     ERROR_PROTOCOL, NULL, NULL, 0, "has no access_token string"},
    {"space in the access token", 200,
     "{\"access_token\":\"ab c\",\"token_type\":\"Bearer\"}", ERROR_PROTOCOL,
     NULL, NULL, 0, "access_token"},
    {"= inside the access token", 200,
     "{\"access_token\":\"ab=c\",\"token_type\":\"Bearer\"}", ERROR_PROTOCOL,
     NULL, NULL, 0, "access_token"},
    {"UTF-8 in the access token", 200,
     "{\"access_token\":\"ab\\u00e9\",\"token_type\":\"Bearer\"}",
     ERROR_PROTOCOL, NULL, NULL, 0, "access_token"},
    {"a control character in the refresh token", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\","
     "\"refresh_token\":\"r\\u0001t\"}",
     ERROR_PROTOCOL, NULL, NULL, 0, "has an unusable refresh_token"},
    {"a space in the refresh token", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\","
     "\"refresh_token\":\"r t\"}",
     ERROR_PROTOCOL, NULL, NULL, 0, "refresh_token"},

    /* Not JSON, not an object, more than one */
    {"not JSON", 200, "access_token=abc&token_type=bearer", ERROR_PROTOCOL,
     NULL, NULL, 0, "answered 200 without a JSON object"},
    {"empty", 200, "", ERROR_PROTOCOL, NULL, NULL, 0, "without a JSON object"},
    {"cut short", 200, "{\"access_token\":\"abc\",\"token_", ERROR_PROTOCOL,
     NULL, NULL, 0, "without a JSON object"},
    {"an array", 200, "[{\"access_token\":\"abc\",\"token_type\":\"Bearer\"}]",
     ERROR_PROTOCOL, NULL, NULL, 0, "without a JSON object"},
    {"a string", 200, "\"abc\"", ERROR_PROTOCOL, NULL, NULL, 0,
     "without a JSON object"},
    {"two objects", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\"}{}", ERROR_PROTOCOL,
     NULL, NULL, 0, "without a JSON object"},
    {"trailing garbage", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\"} x", ERROR_PROTOCOL,
     NULL, NULL, 0, "without a JSON object"},
    {"single quotes (not strict JSON)", 200,
     "{'access_token':'abc','token_type':'Bearer'}", ERROR_PROTOCOL, NULL, NULL,
     0, "without a JSON object"},
    {"a trailing comma (not strict JSON)", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\",}", ERROR_PROTOCOL,
     NULL, NULL, 0, "without a JSON object"},
    {"not UTF-8", 400, "{\"error\":\"x\xff\"}", ERROR_PROTOCOL, NULL, NULL, 0,
     "without a JSON object"},
    {"within the depth", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\",\"x\":"
     "[[[[[[1]]]]]]}",
     ERROR_NONE, "abc", NULL, -1, NULL},
    {"deeper than OAUTH2_JSON_DEPTH", 200,
     "{\"access_token\":\"abc\",\"token_type\":\"Bearer\",\"x\":"
     "[[[[[[[[1]]]]]]]]}",
     ERROR_PROTOCOL, NULL, NULL, 0, "without a JSON object"},
};

/* No secret of the table in a message. */
static void
check_clean(const struct error *err)
{
	CHECK(strstr(err->msg, "ya29") == NULL);
	CHECK(strstr(err->msg, "SECRET") == NULL);
	CHECK(!str_has_ctl(err->msg, strlen(err->msg)));
}

/* A row refused: -1, its kind, its words, a clean message. */
static void
check_refused(const char *name, int rc, const struct error *err,
              enum error_kind kind, const char *msg)
{
	if (rc != -1 || err->kind != kind || !strstr(err->msg, msg))
		fprintf(stderr, "%s: rc %d kind %s: %s\n", name, rc,
		        error_kind_name(err->kind), err->msg);
	CHECK_INT(rc, -1);
	CHECK_INT(err->kind, kind);
	CHECK(strstr(err->msg, msg) != NULL);
	check_clean(err);
}

static void
check_row(const struct row *r)
{
	struct oauth2_tokens t;
	struct error err;
	long long now = (long long)time(NULL);
	int rc;

	error_clear(&err);
	rc = oauth2_parse_token_answer(r->status, r->body, strlen(r->body), &t,
	                               &err);
	if (r->kind == ERROR_NONE) {
		if (rc != 0)
			fprintf(stderr, "%s: %s\n", r->name, err.msg);
		CHECK_INT(rc, 0);
		CHECK_STR(t.access_token, r->access);
		CHECK_STR(t.refresh_token, r->refresh);
		if (r->expires_in < 0)
			CHECK_INT(t.expires_at, 0);
		else
			CHECK(t.expires_at >= now + r->expires_in &&
			      t.expires_at <= now + r->expires_in + 5);
		oauth2_tokens_clear(&t);
		CHECK(t.access_token == NULL && t.refresh_token == NULL);
		return;
	}
	check_refused(r->name, rc, &err, r->kind, r->msg);
	CHECK(t.access_token == NULL && t.refresh_token == NULL);
}

/* An answer whose token is n bytes. */
static char *
token_answer(size_t n)
{
	const char *head = "{\"access_token\":\"";
	const char *tail = "\",\"token_type\":\"Bearer\"}";
	size_t h = strlen(head), t = strlen(tail);
	char *s = xmalloc(h + n + t + 1);

	memcpy(s, head, h);
	memset(s + h, 'A', n);
	memcpy(s + h + n, tail, t + 1);
	return s;
}

/* OAUTH2_TOKEN_MAX bytes are a token; one more is not. */
static void
test_token_max(void)
{
	struct oauth2_tokens t;
	struct error err;
	char *s = token_answer(OAUTH2_TOKEN_MAX);

	CHECK_INT(oauth2_parse_token_answer(200, s, strlen(s), &t, &err), 0);
	CHECK_INT(strlen(t.access_token), OAUTH2_TOKEN_MAX);
	oauth2_tokens_clear(&t);
	free(s);
	s = token_answer(OAUTH2_TOKEN_MAX + 1);
	CHECK_INT(oauth2_parse_token_answer(200, s, strlen(s), &t, &err), -1);
	CHECK_INT(err.kind, ERROR_PROTOCOL);
	CHECK(strstr(err.msg, "longer than 8192 bytes") != NULL);
	CHECK(strstr(err.msg, "AAAA") == NULL);
	free(s);
}

/* HTTPS_BODY_MAX bytes are read; one more is refused unread, even when
 * the rest is valid JSON (https.c never hands over more). */
static void
test_body_max(void)
{
	struct oauth2_tokens t;
	struct error err;
	const char *head =
	    "{\"access_token\":\"abc\",\"token_type\":\"Bearer\","
	    "\"pad\":\"";
	size_t h = strlen(head);
	char *s = xmalloc(HTTPS_BODY_MAX + 2);

	memcpy(s, head, h);
	memset(s + h, 'x', HTTPS_BODY_MAX - h - 2);
	memcpy(s + HTTPS_BODY_MAX - 2, "\"}", 3);
	CHECK_INT(oauth2_parse_token_answer(200, s, HTTPS_BODY_MAX, &t, &err),
	          0);
	oauth2_tokens_clear(&t);
	memcpy(s + HTTPS_BODY_MAX - 2, "x\"}", 4);
	CHECK_INT(
	    oauth2_parse_token_answer(200, s, HTTPS_BODY_MAX + 1, &t, &err),
	    -1);
	CHECK_INT(err.kind, ERROR_PROTOCOL);
	CHECK(strstr(err.msg, "larger than 65536 bytes") != NULL);
	free(s);
}

/* A depth bomb: 100000 '[' do not reach the end of a stack. */
static void
test_depth_bomb(void)
{
	struct oauth2_tokens t;
	struct error err;
	size_t n = HTTPS_BODY_MAX;
	char *s = xmalloc(n);

	memset(s, '[', n);
	CHECK_INT(oauth2_parse_token_answer(200, s, n, &t, &err), -1);
	CHECK_INT(err.kind, ERROR_PROTOCOL);
	memset(s, '{', 1);
	for (size_t i = 1; i + 6 < n; i += 6)
		memcpy(s + i, "\"a\":{", 5), s[i + 5] = ' ';
	CHECK_INT(oauth2_parse_token_answer(200, s, n, &t, &err), -1);
	CHECK_INT(err.kind, ERROR_PROTOCOL);
	free(s);
}

/* A description longer than OAUTH2_DESCRIPTION_MAX is cut, marked. */
static void
test_description_cap(void)
{
	struct oauth2_tokens t;
	struct error err;
	char body[1024];
	char want[OAUTH2_DESCRIPTION_MAX + 8];

	memset(want, 'd', OAUTH2_DESCRIPTION_MAX);
	memcpy(want + OAUTH2_DESCRIPTION_MAX, "...)", 5);
	size_t n;

	n = (size_t)snprintf(body, sizeof body, "%s",
	                     "{\"error\":\"invalid_grant\","
	                     "\"error_description\":\"");
	memset(body + n, 'd', 600);
	memcpy(body + n + 600, "\"}", 3);
	CHECK_INT(oauth2_parse_token_answer(400, body, strlen(body), &t, &err),
	          -1);
	CHECK(strstr(err.msg, want) != NULL);
	CHECK(strstr(err.msg, "dddd...)") == err.msg + strlen(err.msg) - 8);
}

/* RFC 8628 3.2 */
struct device_row {
	const char *name;
	long status;
	const char *body;
	enum error_kind kind; /* ERROR_NONE: success */
	const char *user_code, *uri, *complete;
	int interval;
	const char *msg; /* on failure: a part of the message */
};

#define DEV_HEAD "{\"device_code\":\"GmRh-mHc\",\"user_code\":\"WDJB-MJHT\","
#define DEV_URI "\"verification_uri\":\"https://example.com/device\","

static const struct device_row device_rows[] = {
    {"RFC 8628 3.2's example", 200,
     DEV_HEAD DEV_URI "\"verification_uri_complete\":"
                      "\"https://example.com/device?user_code=WDJB-MJHT\","
                      "\"expires_in\":1800,\"interval\":5}",
     ERROR_NONE, "WDJB-MJHT", "https://example.com/device",
     "https://example.com/device?user_code=WDJB-MJHT", 5, NULL},
    {"Google's verification_url, no interval", 200,
     DEV_HEAD "\"verification_url\":\"https://www.google.com/device\","
              "\"expires_in\":\"1800\"}",
     ERROR_NONE, "WDJB-MJHT", "https://www.google.com/device", NULL, 5, NULL},
    {"interval 0 is the default", 200,
     DEV_HEAD DEV_URI "\"expires_in\":600,\"interval\":0}", ERROR_NONE,
     "WDJB-MJHT", "https://example.com/device", NULL, 5, NULL},
    {"interval as a string", 200,
     DEV_HEAD DEV_URI "\"expires_in\":600,\"interval\":\"7\"}", ERROR_NONE,
     "WDJB-MJHT", "https://example.com/device", NULL, 7, NULL},
    {"interval over the ceiling", 200,
     DEV_HEAD DEV_URI "\"expires_in\":600,\"interval\":3601}", ERROR_PROTOCOL,
     NULL, NULL, NULL, 0, "has a bad interval"},
    {"interval negative", 200,
     DEV_HEAD DEV_URI "\"expires_in\":600,\"interval\":-5}", ERROR_PROTOCOL,
     NULL, NULL, NULL, 0, "has a bad interval"},
    {"no expires_in", 200, DEV_HEAD DEV_URI "\"interval\":5}", ERROR_PROTOCOL,
     NULL, NULL, NULL, 0, "has no expires_in"},
    {"no device_code", 200,
     "{\"user_code\":\"WDJB-MJHT\"," DEV_URI "\"expires_in\":600}",
     ERROR_PROTOCOL, NULL, NULL, NULL, 0, "has no device_code string"},
    {"no user_code", 200,
     "{\"device_code\":\"d\"," DEV_URI "\"expires_in\":600}", ERROR_PROTOCOL,
     NULL, NULL, NULL, 0, "has no user_code string"},
    {"no verification address", 200, DEV_HEAD "\"expires_in\":600}",
     ERROR_PROTOCOL, NULL, NULL, NULL, 0, "has no verification_uri string"},
    {"a verification address over http", 200,
     DEV_HEAD "\"verification_uri\":\"http://example.com/device\","
              "\"expires_in\":600}",
     ERROR_PROTOCOL, NULL, NULL, NULL, 0, "has an unusable verification_uri"},
    {"a verification address with a newline", 200,
     DEV_HEAD "\"verification_uri\":\"https://e.com/\\nX\","
              "\"expires_in\":600}",
     ERROR_PROTOCOL, NULL, NULL, NULL, 0, "verification_uri"},
    {"a complete address over http", 200,
     DEV_HEAD DEV_URI "\"verification_uri_complete\":\"javascript:x\","
                      "\"expires_in\":600}",
     ERROR_PROTOCOL, NULL, NULL, NULL, 0, "verification_uri_complete"},
    {"an escape in the user code", 200,
     "{\"device_code\":\"d\",\"user_code\":\"\\u001b[2J\"," DEV_URI
     "\"expires_in\":600}",
     ERROR_PROTOCOL, NULL, NULL, NULL, 0, "has an unusable user_code"},
    {"a device code with a space", 200,
     "{\"device_code\":\"a b\",\"user_code\":\"C\"," DEV_URI
     "\"expires_in\":600}",
     ERROR_PROTOCOL, NULL, NULL, NULL, 0, "has an unusable device_code"},
    {"Google's refusal of the Gmail scope", 400,
     "{\"error\":\"invalid_scope\"}", ERROR_CONFIG, NULL, NULL, NULL, 0,
     "the device endpoint refused: invalid_scope"},
    {"invalid_client", 401, "{\"error\":\"invalid_client\"}", ERROR_CONFIG,
     NULL, NULL, NULL, 0, "invalid_client"},
    {"not JSON", 200, "user_code=x", ERROR_PROTOCOL, NULL, NULL, NULL, 0,
     "the device endpoint answered 200 without a JSON object"},
};

static void
check_device_row(const struct device_row *r)
{
	struct oauth2_device d;
	struct error err;
	long long now = (long long)time(NULL);
	int rc;

	error_clear(&err);
	rc = oauth2_parse_device_answer(r->status, r->body, strlen(r->body), &d,
	                                &err);
	if (r->kind == ERROR_NONE) {
		if (rc != 0)
			fprintf(stderr, "%s: %s\n", r->name, err.msg);
		CHECK_INT(rc, 0);
		CHECK_STR(d.device_code, "GmRh-mHc");
		CHECK_STR(d.user_code, r->user_code);
		CHECK_STR(d.verification_uri, r->uri);
		CHECK_STR(d.verification_uri_complete, r->complete);
		CHECK_INT(d.interval, r->interval);
		CHECK(d.expires_at > now && d.expires_at <= now + 1805);
		oauth2_device_clear(&d);
		CHECK(d.device_code == NULL && d.user_code == NULL);
		return;
	}
	check_refused(r->name, rc, &err, r->kind, r->msg);
	CHECK(d.device_code == NULL && d.user_code == NULL &&
	      d.verification_uri == NULL &&
	      d.verification_uri_complete == NULL);
}

int
main(void)
{
#ifndef HAVE_JSON_C
	puts("SKIP: built without json-c");
	return 77;
#endif
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
		check_row(&rows[i]);
	test_token_max();
	test_body_max();
	test_depth_bomb();
	test_description_cap();
	for (size_t i = 0; i < sizeof device_rows / sizeof *device_rows; i++)
		check_device_row(&device_rows[i]);
	return unit_done();
}
