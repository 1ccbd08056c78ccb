/*
 * oauth2.c - OAuth 2.0 at a token endpoint: the requests of each grant
 * and the judgement of the answers (oauth2.h).
 */
#include "config.h"

#include "oauth2.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "https.h"
#include "jsonlib.h"
#include "util.h"

/* "the token endpoint HOST" and the like, for messages. */
#define WHO_MAX (HTTPS_HOST_MAX + 32)

void
oauth2_tokens_clear(struct oauth2_tokens *t)
{
	str_wipe_free(&t->access_token);
	str_wipe_free(&t->refresh_token);
	t->expires_at = 0;
}

void
oauth2_device_clear(struct oauth2_device *d)
{
	str_wipe_free(&d->device_code);
	free(d->user_code);
	free(d->verification_uri);
	free(d->verification_uri_complete);
	memset(d, 0, sizeof *d);
}

/* The most fields a request has (the code exchange's). */
#define FIELDS_MAX 8

/* A request's form: fields added in order, client_id and client_secret
 * (RFC 6749 2.3.1, in the body) last. */
struct form {
	struct https_field f[FIELDS_MAX];
	size_t n;
};

/* What the server's `error` (RFC 6749 5.2, RFC 8628 3.5) means here. */
enum server_error {
	SERVER_NONE, /* no error member */
	SERVER_PENDING,
	SERVER_SLOW_DOWN,
	SERVER_OTHER,
};

#ifdef HAVE_JSON_C

static const struct {
	const char *code;
	enum error_kind kind;
	enum server_error what;
} server_errors[] = {
    {"invalid_grant", ERROR_NOPERM, SERVER_OTHER},
    {"access_denied", ERROR_NOPERM, SERVER_OTHER},
    {"invalid_client", ERROR_CONFIG, SERVER_OTHER},
    {"unauthorized_client", ERROR_CONFIG, SERVER_OTHER},
    {"invalid_scope", ERROR_CONFIG, SERVER_OTHER},
    {"invalid_request", ERROR_CONFIG, SERVER_OTHER},
    {"unsupported_grant_type", ERROR_CONFIG, SERVER_OTHER},
    {"temporarily_unavailable", ERROR_TEMPFAIL, SERVER_OTHER},
    {"server_error", ERROR_TEMPFAIL, SERVER_OTHER},
    {"expired_token", ERROR_TEMPFAIL, SERVER_OTHER},
    /* Only a device poll expects these (oauth2_device_poll). */
    {"authorization_pending", ERROR_PROTOCOL, SERVER_PENDING},
    {"slow_down", ERROR_PROTOCOL, SERVER_SLOW_DOWN},
};

/* s[0..len) as a message may quote it: printable ASCII (RFC 6749 5.2
 * allows no other byte in error or error_description), every other byte
 * '?', at most max bytes then "...". */
static char *
quote(char *out, size_t n, const char *s, size_t len, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < len && i < max && k + 4 < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (len > max || k < len)
		for (int i = 0; i < 3 && k + 1 < n; i++)
			out[k++] = '.';
	out[k] = '\0';
	return out;
}

/* A member of obj of type t, or NULL (absent, null, another type). */
static struct json_object *
member(struct json_object *obj, const char *key, enum json_type t)
{
	struct json_object *v = NULL;

	if (!jsonlib.json_object_object_get_ex(obj, key, &v) || !v ||
	    jsonlib.json_object_get_type(v) != t)
		return NULL;
	return v;
}

/* Whether obj has key with a value other than null. */
static bool
present(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	return jsonlib.json_object_object_get_ex(obj, key, &v) && v;
}

/* A string member's bytes and length (no NUL inside), or NULL. */
static const char *
text(struct json_object *obj, const char *key, size_t *len)
{
	struct json_object *v = member(obj, key, json_type_string);
	const char *s;
	int n;

	if (!v)
		return NULL;
	s = jsonlib.json_object_get_string(v);
	n = jsonlib.json_object_get_string_len(v);
	if (!s || n < 0 || strlen(s) != (size_t)n)
		return NULL;
	*len = (size_t)n;
	return s;
}

/* A whole number member, as JSON's number or a string of digits (both
 * are seen), in [lo, hi]: 1, 0 when absent, -1 when there but not such a
 * number. */
static int
number(struct json_object *obj, const char *key, long long lo, long long hi,
       long long *out)
{
	struct json_object *v = NULL;
	long long n = 0;
	const char *s;
	size_t len;

	if (!jsonlib.json_object_object_get_ex(obj, key, &v) || !v)
		return 0;
	switch (jsonlib.json_object_get_type(v)) {
	case json_type_int:
		n = (long long)jsonlib.json_object_get_int64(v);
		break;
	case json_type_string:
		s = text(obj, key, &len);
		/* 18 digits cannot overflow; the bound is far below. */
		if (!s || len == 0 || len > 18 ||
		    strspn(s, "0123456789") != len)
			return -1;
		n = strtoll(s, NULL, 10);
		break;
	default:
		return -1;
	}
	if (n < lo || n > hi)
		return -1;
	*out = n;
	return 1;
}

/* RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
 * "+" / "/" ) *"=". */
static bool
b64token(const char *s, size_t len)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
	                     "wxyz0123456789-._~+/");

	if (n == 0)
		return false;
	while (n < len && s[n] == '=')
		n++;
	return n == len;
}

/* Printable ASCII without space (RFC 6749 A.17's VSCHAR less the space a
 * stored line would not keep). */
static bool
visible(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return len > 0;
}

/* A string member that must pass check and fit max: a copy in *out (NULL
 * when absent and optional); -1 with ERROR_PROTOCOL otherwise. */
static int
take_string(struct json_object *obj, const char *key, bool required,
            bool (*check)(const char *, size_t), size_t max, char **out,
            const char *who, struct error *err)
{
	size_t len = 0;
	const char *s = text(obj, key, &len);

	*out = NULL;
	if (!s && !required && !present(obj, key))
		return 0;
	if (!s)
		return error_set(err, ERROR_PROTOCOL,
		                 "the answer of %s has no %s string", who, key);
	if (len > max || !check(s, len))
		return error_set(err, ERROR_PROTOCOL,
		                 "the answer of %s has an unusable %s "
		                 "(bad characters, or longer than %zu bytes)",
		                 who, key, max);
	*out = xstrndup(s, len);
	return 0;
}

/* expires_in (RFC 6749 5.1, RFC 8628 3.2) as a time: 0 when absent and
 * optional. */
static int
take_expiry(struct json_object *obj, bool required, long long *out,
            const char *who, struct error *err)
{
	long long n = 0;
	int rc = number(obj, "expires_in", 0, OAUTH2_EXPIRES_MAX, &n);

	*out = 0;
	if (rc < 0 || (rc == 0 && required))
		return error_set(err, ERROR_PROTOCOL,
		                 "the answer of %s has %s expires_in (a number "
		                 "of seconds up to %lld)",
		                 who, rc < 0 ? "a bad" : "no",
		                 OAUTH2_EXPIRES_MAX);
	if (rc > 0)
		*out = (long long)time(NULL) + n;
	return 0;
}

/* RFC 6749 5.1: a successful token answer. */
static int
tokens_from(struct json_object *obj, void *dst, const char *who,
            struct error *err)
{
	struct oauth2_tokens *t = dst;
	size_t len = 0;
	const char *type = text(obj, "token_type", &len);
	char shown[64];

	/* The token type is required; only Bearer (RFC 6750) goes on AUTH. */
	if (!type)
		return error_set(err, ERROR_PROTOCOL,
		                 "the answer of %s has no token_type string",
		                 who);
	if (!str_ieq(type, "bearer"))
		return error_set(err, ERROR_PROTOCOL,
		                 "%s gave a token of type \"%s\", not Bearer",
		                 who,
		                 quote(shown, sizeof shown, type, len, 32));
	if (take_string(obj, "access_token", true, b64token, OAUTH2_TOKEN_MAX,
	                &t->access_token, who, err) < 0 ||
	    take_string(obj, "refresh_token", false, visible, OAUTH2_TOKEN_MAX,
	                &t->refresh_token, who, err) < 0 ||
	    take_expiry(obj, false, &t->expires_at, who, err) < 0) {
		oauth2_tokens_clear(t);
		return -1;
	}
	return 0;
}

static bool
user_code_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return len > 0;
}

/* A verification URI is shown to the user to open: https only. */
static bool
uri_ok(const char *s, size_t len)
{
	return visible(s, len) && str_iprefix(s, "https://");
}

/* RFC 8628 3.2: a device authorization answer. */
static int
device_from(struct json_object *obj, void *dst, const char *who,
            struct error *err)
{
	struct oauth2_device *d = dst;
	const char *uri_key = !present(obj, "verification_uri") &&
	                              present(obj, "verification_url")
	                          ? "verification_url" /* Google's name */
	                          : "verification_uri";
	long long interval = 0;
	int rc;

	if (take_string(obj, "device_code", true, visible, OAUTH2_TOKEN_MAX,
	                &d->device_code, who, err) < 0 ||
	    take_string(obj, "user_code", true, user_code_ok,
	                OAUTH2_USER_CODE_MAX, &d->user_code, who, err) < 0 ||
	    take_string(obj, uri_key, true, uri_ok, OAUTH2_URI_MAX,
	                &d->verification_uri, who, err) < 0 ||
	    take_string(obj, "verification_uri_complete", false, uri_ok,
	                OAUTH2_URI_MAX, &d->verification_uri_complete, who,
	                err) < 0 ||
	    take_expiry(obj, true, &d->expires_at, who, err) < 0)
		goto bad;
	rc = number(obj, "interval", 0, OAUTH2_INTERVAL_MAX, &interval);
	if (rc < 0) {
		error_set(err, ERROR_PROTOCOL,
		          "the answer of %s has a bad interval (a number of "
		          "seconds up to %d)",
		          who, OAUTH2_INTERVAL_MAX);
		goto bad;
	}
	d->interval = interval > 0 ? (int)interval : OAUTH2_INTERVAL_DEFAULT;
	return 0;
bad:
	oauth2_device_clear(d);
	return -1;
}

/* The answer's JSON object, or NULL: not JSON, more than one value,
 * deeper than OAUTH2_JSON_DEPTH, not UTF-8, not an object. */
static struct json_object *
parse_object(const char *body, size_t len)
{
	struct json_tokener *tok =
	    jsonlib.json_tokener_new_ex(OAUTH2_JSON_DEPTH);
	struct json_object *obj;

	if (!tok)
		return NULL;
	jsonlib.json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	                                        JSON_TOKENER_VALIDATE_UTF8);
	obj = jsonlib.json_tokener_parse_ex(tok, body, (int)len);
	if (obj &&
	    (jsonlib.json_tokener_get_error(tok) != json_tokener_success ||
	     jsonlib.json_tokener_get_parse_end(tok) != len ||
	     jsonlib.json_object_get_type(obj) != json_type_object)) {
		jsonlib.json_object_put(obj);
		obj = NULL;
	}
	jsonlib.json_tokener_free(tok);
	return obj;
}

/* The fields of a request whose values are secrets (RFC 6749 2.3.1,
 * 4.1.3, 6; RFC 7636 4.5; RFC 8628 3.4). */
static const char *const secret_fields[] = {
    "client_secret", "refresh_token", "device_code", "code", "code_verifier"};

static bool
is_secret_field(const char *name)
{
	for (size_t i = 0; i < sizeof secret_fields / sizeof *secret_fields;
	     i++)
		if (strcmp(name, secret_fields[i]) == 0)
			return true;
	return false;
}

/* The length of the secret of sent that s[0..len) begins with (the
 * longest, should one begin another), or 0. */
static size_t
secret_at(const char *s, size_t len, const struct form *sent)
{
	size_t best = 0;

	for (size_t i = 0; sent && i < sent->n; i++) {
		size_t n = strlen(sent->f[i].value);

		if (n > best && n <= len && is_secret_field(sent->f[i].name) &&
		    memcmp(s, sent->f[i].value, n) == 0)
			best = n;
	}
	return best;
}

/* s[0..len) with every secret the request sent replaced by "[hidden]",
 * into out (n bytes; cut, past which quote cuts it again): a server may
 * echo what it refuses ("invalid refresh token 1//0g..."), and its words
 * reach the caller of a setgid run, the log and --json. *outlen: the
 * length as the copy had it, so that a cut still shows "...". */
static const char *
hide_secrets(char *out, size_t n, const char *s, size_t len,
             const struct form *sent, size_t *outlen)
{
	static const char hidden[] = "[hidden]";
	size_t k = 0, total = 0;

	for (size_t i = 0; i < len;) {
		size_t m = secret_at(s + i, len - i, sent);
		const char *piece = m ? hidden : s + i;
		size_t plen = m ? sizeof hidden - 1 : 1;

		for (size_t j = 0; j < plen && k + 1 < n; j++)
			out[k++] = piece[j];
		total += plen;
		i += m ? m : 1;
	}
	out[k] = '\0';
	*outlen = total;
	return out;
}

/* The server's error in words: its kind by the table, its code and
 * description quoted, any secret of the request (sent) hidden. */
static int
refused(struct json_object *obj, const char *code, size_t len, const char *who,
        const struct form *sent, enum server_error *what, struct error *err)
{
	char shown[OAUTH2_ERROR_CODE_MAX + 4];
	char desc[OAUTH2_DESCRIPTION_MAX + 4];
	char clean[OAUTH2_DESCRIPTION_MAX + 16];
	size_t dlen = 0, clen;
	const char *d = text(obj, "error_description", &dlen);
	enum error_kind kind = ERROR_PROTOCOL;

	*what = SERVER_OTHER;
	for (size_t i = 0; i < sizeof server_errors / sizeof *server_errors;
	     i++)
		if (strlen(server_errors[i].code) == len &&
		    memcmp(server_errors[i].code, code, len) == 0) {
			kind = server_errors[i].kind;
			*what = server_errors[i].what;
		}
	hide_secrets(clean, sizeof clean, code, len, sent, &clen);
	quote(shown, sizeof shown, clean, clen, OAUTH2_ERROR_CODE_MAX);
	if (d && dlen > 0) {
		hide_secrets(clean, sizeof clean, d, dlen, sent, &clen);
		return error_set(err, kind, "%s refused: %s (%s)", who, shown,
		                 quote(desc, sizeof desc, clean, clen,
		                       OAUTH2_DESCRIPTION_MAX));
	}
	return error_set(err, kind, "%s refused: %s", who, shown);
}

/* The members of an answer that hold secrets. */
static const char *const secret_members[] = {
    "access_token", "refresh_token", "device_code", "id_token",
    /* and what may echo a secret of the request */
    "error", "error_description"};

/* Wipe the secrets' bytes in json-c's copy before it is freed: json-c
 * frees without wiping, and our copies are wiped when cleared. */
static void
forget_secrets(struct json_object *obj)
{
	for (size_t i = 0; i < sizeof secret_members / sizeof *secret_members;
	     i++) {
		struct json_object *v =
		    member(obj, secret_members[i], json_type_string);
		const char *s = v ? jsonlib.json_object_get_string(v) : NULL;
		int len = v ? jsonlib.json_object_get_string_len(v) : 0;

		/* json-c's own buffer, which it hands out const. */
		if (s && len > 0)
			wipe((char *)s, (size_t)len);
	}
}

/* Judge an answer to the request sent (NULL: not known): 0 with dst
 * filled by success (a 200 without error); -1 with err, and *what saying
 * which error the server gave. */
static int
judge(long status, const char *body, size_t len,
      int (*success)(struct json_object *, void *, const char *,
                     struct error *),
      void *dst, const char *who, const struct form *sent,
      enum server_error *what, struct error *err)
{
	struct json_object *obj;
	const char *code;
	size_t clen = 0;
	int rc;

	*what = SERVER_NONE;
	if (jsonlib_open(err) < 0)
		return -1;
	if (len > HTTPS_BODY_MAX)
		return error_set(err, ERROR_PROTOCOL,
		                 "the answer of %s is larger than %d bytes",
		                 who, HTTPS_BODY_MAX);
	/* https.h follows no redirect: the endpoint moved, or is wrong. */
	if (status >= 300 && status < 400)
		return error_set(err, ERROR_PROTOCOL,
		                 "%s answered %ld, a redirect, which is not "
		                 "followed; check the endpoint's address",
		                 who, status);
	obj = parse_object(body, len);
	if (!obj)
		return error_set(err,
		                 status >= 500 && status < 600 ? ERROR_TEMPFAIL
		                                               : ERROR_PROTOCOL,
		                 "%s answered %ld without a JSON object", who,
		                 status);
	code = text(obj, "error", &clen);
	if (code)
		rc = refused(obj, code, clen, who, sent, what, err);
	else if (present(obj, "error"))
		rc = error_set(err, ERROR_PROTOCOL,
		               "%s answered %ld with an error that is not a "
		               "string",
		               who, status);
	else if (status == 200)
		rc = success(obj, dst, who, err);
	else
		rc = error_set(err,
		               status >= 500 && status < 600 ? ERROR_TEMPFAIL
		                                             : ERROR_PROTOCOL,
		               "%s answered %ld without an OAuth2 error", who,
		               status);
	forget_secrets(obj);
	jsonlib.json_object_put(obj);
	return rc;
}

/* A token endpoint's answer into *t. */
static int
judge_tokens(long status, const char *body, size_t len, struct oauth2_tokens *t,
             const char *who, const struct form *sent, enum server_error *what,
             struct error *err)
{
	memset(t, 0, sizeof *t);
	return judge(status, body, len, tokens_from, t, who, sent, what, err);
}

/* A device endpoint's answer into *d. */
static int
judge_device(long status, const char *body, size_t len, struct oauth2_device *d,
             const char *who, const struct form *sent, struct error *err)
{
	enum server_error what;

	memset(d, 0, sizeof *d);
	return judge(status, body, len, device_from, d, who, sent, &what, err);
}

#else /* built without json-c: no answer can be read */

static int
judge_tokens(long status, const char *body, size_t len, struct oauth2_tokens *t,
             const char *who, const struct form *sent, enum server_error *what,
             struct error *err)
{
	(void)status;
	(void)body;
	(void)len;
	(void)who;
	(void)sent;
	memset(t, 0, sizeof *t);
	*what = SERVER_NONE;
	return jsonlib_open(err);
}

static int
judge_device(long status, const char *body, size_t len, struct oauth2_device *d,
             const char *who, const struct form *sent, struct error *err)
{
	(void)status;
	(void)body;
	(void)len;
	(void)who;
	(void)sent;
	memset(d, 0, sizeof *d);
	return jsonlib_open(err);
}

#endif

int
oauth2_parse_token_answer(long status, const char *body, size_t len,
                          struct oauth2_tokens *out, struct error *err)
{
	enum server_error what;

	return judge_tokens(status, body, len, out, "the token endpoint", NULL,
	                    &what, err);
}

int
oauth2_parse_device_answer(long status, const char *body, size_t len,
                           struct oauth2_device *out, struct error *err)
{
	return judge_device(status, body, len, out, "the device endpoint", NULL,
	                    err);
}

static void
add(struct form *form, const char *name, const char *value)
{
	if (value && form->n < FIELDS_MAX)
		form->f[form->n++] = (struct https_field){name, value};
}

static void
add_client(struct form *form, const struct oauth2_client *c)
{
	add(form, "client_id", c->client_id);
	add(form, "client_secret", c->client_secret);
}

/* POST form to url (the endpoint called what, "token endpoint"); *who
 * names it for messages.  Both libraries are loaded first, so that a
 * missing one is said before anything is sent. */
static int
post(const struct oauth2_client *c, const char *url, const char *what,
     const struct form *form, struct https_response *resp, char *who,
     struct error *err)
{
	char host[HTTPS_HOST_MAX];
	struct https_request r = {
	    .url = url,
	    .fields = form->f,
	    .nfields = form->n,
	    .trust_file = c->trust_file,
	    .proxy = c->proxy,
	    .timeout_s = c->timeout_s,
	    .private_names = c->private_names,
	};

	memset(resp, 0, sizeof *resp);
	snprintf(who, WHO_MAX, "the %s %s", what,
	         https_url_host(url, host, sizeof host));
	if (!url || !*url)
		return error_set(err, ERROR_CONFIG, "no OAuth2 %s is set",
		                 what);
	if (!c->client_id || !*c->client_id)
		return error_set(err, ERROR_CONFIG,
		                 "no OAuth2 client id is set for %s", who);
	if (https_load(err) < 0 || jsonlib_open(err) < 0)
		return -1;
	return https_post(&r, resp, err);
}

/* One grant at the token endpoint: its answer judged into *out. */
static int
grant(const struct oauth2_client *c, const struct form *form,
      struct oauth2_tokens *out, enum server_error *what, struct error *err)
{
	struct https_response resp;
	char who[WHO_MAX];
	int rc;

	memset(out, 0, sizeof *out);
	*what = SERVER_NONE;
	if (post(c, c->token_endpoint, "token endpoint", form, &resp, who,
	         err) < 0)
		return -1;
	rc = judge_tokens(resp.status, resp.body, resp.len, out, who, form,
	                  what, err);
	https_response_clear(&resp);
	return rc;
}

int
oauth2_refresh(const struct oauth2_client *c, const char *refresh_token,
               struct oauth2_tokens *out, struct error *err)
{
	struct form form = {.n = 0};
	enum server_error what;

	add(&form, "grant_type", "refresh_token");
	add(&form, "refresh_token", refresh_token);
	/* RFC 6749 6: the scope, if sent, must be the one granted. */
	add(&form, "scope", c->scope);
	add_client(&form, c);
	return grant(c, &form, out, &what, err);
}

int
oauth2_device_start(const struct oauth2_client *c, struct oauth2_device *out,
                    struct error *err)
{
	struct form form = {.n = 0};
	struct https_response resp;
	char who[WHO_MAX];
	int rc;

	memset(out, 0, sizeof *out);
	if (!c->device_endpoint || !*c->device_endpoint)
		return error_set(
		    err, ERROR_CONFIG,
		    "this provider has no device authorization "
		    "endpoint (RFC 8628); log in with the browser");
	add(&form, "scope", c->scope);
	add_client(&form, c);
	if (post(c, c->device_endpoint, "device endpoint", &form, &resp, who,
	         err) < 0)
		return -1;
	rc = judge_device(resp.status, resp.body, resp.len, out, who, &form,
	                  err);
	https_response_clear(&resp);
	return rc;
}

int
oauth2_device_poll(const struct oauth2_client *c, const struct oauth2_device *d,
                   enum oauth2_poll *state, struct oauth2_tokens *out,
                   struct error *err)
{
	struct form form = {.n = 0};
	enum server_error what;
	struct error why;

	add(&form, "grant_type",
	    "urn:ietf:params:oauth:grant-type:device_code");
	add(&form, "device_code", d->device_code);
	add_client(&form, c);
	*state = OAUTH2_POLL_DONE;
	error_clear(&why);
	if (grant(c, &form, out, &what, &why) == 0)
		return 0;
	/* RFC 8628 3.5: not yet, and not so often. */
	if (what == SERVER_PENDING || what == SERVER_SLOW_DOWN) {
		*state = what == SERVER_PENDING ? OAUTH2_POLL_PENDING
		                                : OAUTH2_POLL_SLOW_DOWN;
		return 0;
	}
	*err = why;
	return -1;
}

int
oauth2_code_exchange(const struct oauth2_client *c, const char *code,
                     const char *redirect_uri, const char *code_verifier,
                     struct oauth2_tokens *out, struct error *err)
{
	struct form form = {.n = 0};
	enum server_error what;

	add(&form, "grant_type", "authorization_code");
	add(&form, "code", code);
	add(&form, "redirect_uri", redirect_uri);
	add(&form, "code_verifier", code_verifier);
	add_client(&form, c);
	return grant(c, &form, out, &what, err);
}
