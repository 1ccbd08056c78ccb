/*
 * jsonout.c - a message's result as one line of JSON, through json-c
 * (jsonout.h).
 */
#include "config.h"

#include "jsonout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jsonlib.h"
#include "util.h"

#ifdef HAVE_JSON_C
/* json-c is loaded here, when --json is parsed: a run that cannot write
 * its result stops before it sends anything. */
int
jsonout_check(struct error *err)
{
	return jsonlib_open(err);
}

/* U+FFFD REPLACEMENT CHARACTER, for a byte that is not UTF-8. */
static const char replacement[] = "\xef\xbf\xbd";

/* s with every ill-formed UTF-8 byte replaced (RFC 3629 4: JSON text is
 * UTF-8, RFC 8259 8.1), as a json-c string; NULL stays null. */
static struct json_object *
string(const char *s)
{
	size_t len, used = 0;
	char *clean;
	struct json_object *o;

	if (!s)
		return NULL;
	len = strlen(s);
	clean = xmalloc(len * 3 + 1);
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq_len((const unsigned char *)s + i, len - i);

		if (n == 0) {
			memcpy(clean + used, replacement, 3);
			used += 3;
			i++;
			continue;
		}
		memcpy(clean + used, s + i, n);
		used += n;
		i += n;
	}
	o = jsonlib.json_object_new_string_len(clean, (int)used);
	free(clean);
	return o;
}

/* A string, or null when "" or NULL. */
static struct json_object *
text_or_null(const char *s)
{
	return s && *s ? string(s) : NULL;
}

static struct json_object *
integer_or_null(int v)
{
	return v ? jsonlib.json_object_new_int(v) : NULL;
}

/* Milliseconds with 3 decimals (microseconds), as written; -1: null. */
static struct json_object *
millis(double v)
{
	char text[32];

	if (v < 0)
		return NULL;
	snprintf(text, sizeof text, "%.3f", v);
	return jsonlib.json_object_new_double_s(v, text);
}

static void
put(struct json_object *obj, const char *key, struct json_object *v)
{
	jsonlib.json_object_object_add(obj, key, v);
}

static struct json_object *
server(const struct jsonresult *r)
{
	struct json_object *o = jsonlib.json_object_new_object();
	struct json_object *proxy = NULL;

	if (r->proxy_host) {
		proxy = jsonlib.json_object_new_object();
		put(proxy, "host", string(r->proxy_host));
		put(proxy, "port", jsonlib.json_object_new_int(r->proxy_port));
	}
	put(o, "host",
	    r->several_servers ? NULL : string(r->host ? r->host : ""));
	put(o, "port",
	    r->several_servers ? NULL : jsonlib.json_object_new_int(r->port));
	put(o, "protocol", jsonlib.json_object_new_string(r->protocol));
	put(o, "socket", text_or_null(r->socket));
	put(o, "proxy", proxy);
	return o;
}

static struct json_object *
tls(const struct jsonresult *r)
{
	const struct tls_info *t = r->tls_info;
	struct json_object *o = jsonlib.json_object_new_object();

	put(o, "enabled", jsonlib.json_object_new_boolean(r->tls));
	put(o, "mode", jsonlib.json_object_new_string(r->tls_mode));
	put(o, "established",
	    jsonlib.json_object_new_boolean(t && t->completed));
	put(o, "version", t ? text_or_null(t->version) : NULL);
	/* GnuTLS names the suite only once the handshake is complete. */
	put(o, "cipher", t && t->completed ? text_or_null(t->suite) : NULL);
	/* A session kept by an earlier run (tls_session_cache). */
	put(o, "resumed",
	    t && t->completed ? jsonlib.json_object_new_boolean(t->resumed)
	                      : NULL);
	put(o, "verified",
	    t && t->verify_ran ? jsonlib.json_object_new_boolean(t->verified)
	                       : NULL);
	put(o, "verification",
	    t && t->verify_ran ? text_or_null(t->verdict) : NULL);
	/* The verdict was the MX host's TLSA records' (RFC 7672). */
	put(o, "dane",
	    t && t->verify_ran ? jsonlib.json_object_new_boolean(t->dane)
	                       : NULL);
	/* The server's own certificate: the first of the chain it sent. */
	put(o, "fingerprint_sha256",
	    t && t->ncerts > 0 ? text_or_null(t->certs[0].sha256) : NULL);
	return o;
}

static struct json_object *
auth(const struct jsonresult *r)
{
	struct json_object *o = jsonlib.json_object_new_object();

	put(o, "enabled", jsonlib.json_object_new_boolean(r->auth));
	put(o, "mechanism", text_or_null(r->auth_mechanism));
	put(o, "user", text_or_null(r->user));
	return o;
}

static struct json_object *
recipients(const struct jsonresult *r)
{
	struct json_object *a = jsonlib.json_object_new_array();

	for (size_t i = 0; i < r->nrcpts; i++) {
		const struct jsonresult_rcpt *rc = &r->rcpts[i];
		struct json_object *o = jsonlib.json_object_new_object();

		put(o, "address", string(rc->address));
		put(o, "status", jsonlib.json_object_new_string(rc->status));
		put(o, "smtp_code", integer_or_null(rc->code));
		put(o, "enhanced_code", text_or_null(rc->enhanced));
		put(o, "reply", text_or_null(rc->reply));
		jsonlib.json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *
reply(const struct jsonresult *r)
{
	struct json_object *o;

	if (!r->reply_code)
		return NULL;
	o = jsonlib.json_object_new_object();
	put(o, "smtp_code", jsonlib.json_object_new_int(r->reply_code));
	put(o, "enhanced_code", text_or_null(r->reply_enhanced));
	put(o, "text", text_or_null(r->reply));
	return o;
}

static struct json_object *
error_object(const struct jsonresult *r)
{
	struct json_object *o;

	if (!r->error_kind)
		return NULL;
	o = jsonlib.json_object_new_object();
	put(o, "kind", jsonlib.json_object_new_string(r->error_kind));
	put(o, "message", string(r->error ? r->error : ""));
	return o;
}

static struct json_object *
timing(const struct jsonresult *r)
{
	struct json_object *o = jsonlib.json_object_new_object();

	for (int i = 0; i < SMTP_NSTEPS; i++)
		put(o, smtp_step_name((enum smtp_step)i),
		    millis(r->step_ms[i]));
	put(o, "total", millis(r->total_ms));
	return o;
}

/* The schema, in its order (mailpost(1) JSON OUTPUT). */
static struct json_object *
build(const struct jsonresult *r)
{
	struct json_object *o = jsonlib.json_object_new_object();

	put(o, "version", jsonlib.json_object_new_int(JSONRESULT_VERSION));
	put(o, "mode", jsonlib.json_object_new_string(r->mode));
	put(o, "queue_entry", text_or_null(r->entry_id));
	put(o, "account", text_or_null(r->account));
	put(o, "server", server(r));
	put(o, "tls", tls(r));
	put(o, "auth", auth(r));
	put(o, "sender", string(r->sender ? r->sender : ""));
	put(o, "recipients", recipients(r));
	put(o, "size", jsonlib.json_object_new_int64((int64_t)r->size));
	put(o, "status", jsonlib.json_object_new_string(r->status));
	put(o, "failed_step",
	    r->failed_step ? jsonlib.json_object_new_string(r->failed_step)
	                   : NULL);
	put(o, "error", error_object(r));
	put(o, "reply", reply(r));
	put(o, "queue_id", text_or_null(r->queue_id));
	put(o, "dead_letter", text_or_null(r->dead_letter));
	put(o, "timing_ms", timing(r));
	put(o, "exit_code", jsonlib.json_object_new_int(r->exit_code));
	return o;
}

char *
jsonout_text(const struct jsonresult *r)
{
	struct error err;
	struct json_object *o;

	error_clear(&err);
	if (jsonout_check(&err) < 0)
		return NULL;
	o = build(r);
	char *text = xstrdup(jsonlib.json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

	jsonlib.json_object_put(o);
	return text;
}

int
jsonout_write(FILE *out, const struct jsonresult *r, struct error *err)
{
	char *text;
	int rc = 0;

	if (jsonout_check(err) < 0)
		return -1;
	text = jsonout_text(r);
	if (fputs(text, out) == EOF || fputc('\n', out) == EOF ||
	    fflush(out) != 0)
		rc = error_set_errno(err, ERROR_IOERR, errno,
		                     "cannot write the JSON result");
	free(text);
	return rc;
}

#else /* built without json-c: --json is refused where it is parsed */

int
jsonout_check(struct error *err)
{
	return error_set(err, ERROR_UNAVAILABLE,
	                 "--json is not available: this mailpost was built "
	                 "without json-c; install it (Debian: apt-get "
	                 "install libjson-c-dev) and run configure again");
}

char *
jsonout_text(const struct jsonresult *r)
{
	(void)r;
	return NULL;
}

int
jsonout_write(FILE *out, const struct jsonresult *r, struct error *err)
{
	(void)out;
	(void)r;
	return jsonout_check(err);
}

#endif
