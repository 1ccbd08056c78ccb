/*
 * sasl_fuzz - SASL challenges (sasl.c and, through it, libgsasl's
 * mechanisms): the text of each 334 reply a server sends during AUTH.
 *
 * Input: byte 0 picks the mechanism, byte 1 holds flags, the rest is one
 * challenge per line.  Without the RAW flag each line is the challenge
 * decoded: the target encodes it in base64 and replaces every "%n" by the
 * client's nonce (from the SCRAM client-first message), so that the
 * fuzzer reaches the parser of a SCRAM server-first message instead of
 * stopping at a nonce it cannot guess.  With RAW the line is passed as
 * the server wrote it (base64 decoding is fuzzed too).
 *
 * Promises checked: responses are base64, no error message and no
 * redacted line holds the secret.  GSSAPI is left out: it would look for
 * a Kerberos server.
 */
#include "config.h"

#include "fuzz.h"

#include "sasl.h"

#define FLAG_RAW 0x01
#define FLAG_LONG_USER 0x02 /* initial response too long for the AUTH line */
#define FLAG_NO_TLS 0x04

#define SECRET "pencil-fuzz-secret"

static const char *const mechs[] = {
    "scram-sha-256", "scram-sha-1", "scram-sha-256-plus", "scram-sha-1-plus",
    "plain",         "login",       "cram-md5",           "digest-md5",
    "ntlm",          "xoauth2",     "oauthbearer",        "external",
};
#define NMECHS (sizeof mechs / sizeof mechs[0])

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *
b64_encode(const char *in, size_t n)
{
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		abort();
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* The decoded text of a base64 string (enough for the client-first). */
static size_t
b64_decode(const char *in, char *out, size_t max)
{
	unsigned v = 0, bits = 0;
	size_t n = 0;

	for (; *in && *in != '='; in++) {
		const char *p = strchr(b64, *in);

		if (!p)
			return 0;
		v = v << 6 | (unsigned)(p - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 < max)
				out[n++] = (char)(v >> bits & 0xff);
		}
	}
	out[n] = '\0';
	return n;
}

static bool
is_b64(const char *s)
{
	for (; *s; s++)
		if (!strchr(b64, *s) && *s != '=')
			return false;
	return true;
}

/* The SCRAM client nonce, from the initial response "n,,n=user,r=NONCE". */
static void
client_nonce(const char *initial, char *nonce, size_t n)
{
	char text[4096];
	const char *r;

	nonce[0] = '\0';
	if (!initial || !b64_decode(initial, text, sizeof text))
		return;
	r = strstr(text, ",r=");
	if (!r)
		return;
	r += 3;
	snprintf(nonce, n, "%.*s", (int)strcspn(r, ","), r);
}

/* The line as the server would send it: base64 of the line with %n
 * replaced by the nonce. */
static char *
challenge(const char *line, size_t len, const char *nonce)
{
	size_t nlen = strlen(nonce), cap = len * (nlen + 1) + 1, o = 0;
	char *text = malloc(cap), *out;

	if (!text)
		abort();
	for (size_t i = 0; i < len; i++) {
		if (line[i] == '%' && i + 1 < len && line[i + 1] == 'n') {
			memcpy(text + o, nonce, nlen);
			o += nlen;
			i++;
		} else {
			text[o++] = line[i];
		}
	}
	out = b64_encode(text, o);
	free(text);
	return out;
}

/* The secret, when the mechanism was given one: nothing may show it. */
static const char *secret;

static void
check_error(const struct error *err)
{
	FUZZ_ASSERT(!secret || strstr(err->msg, SECRET) == NULL);
	FUZZ_ASSERT(fuzz_message_ok(err->msg));
}

static void
exchange(struct sasl_client *c, unsigned flags, const uint8_t *data,
         size_t size)
{
	char nonce[512], shown[600];
	const char *initial = NULL, *response, *line;
	struct error err;
	size_t pos = 0, len;

	error_clear(&err);
	if (sasl_start(c, &initial, &err) < 0) {
		check_error(&err);
		return;
	}
	FUZZ_ASSERT(!initial || is_b64(initial));
	client_nonce(initial, nonce, sizeof nonce);
	while (fuzz_next_line(data, size, &pos, true, &line, &len)) {
		char *text =
		    flags & FLAG_RAW ? NULL : challenge(line, len, nonce);
		const char *ch = text ? text : line;
		size_t chlen = text ? strlen(text) : len;
		char *reply = malloc(chlen + 5);
		int rc;

		if (!reply)
			abort();
		memcpy(reply, "334 ", 4);
		memcpy(reply + 4, ch, chlen);
		sasl_redact_server(c, reply, chlen + 4, shown, sizeof shown);
		FUZZ_ASSERT(!secret || strstr(shown, SECRET) == NULL);
		/* --show-auth's form: a challenge decoded, always printable
		 * and within its buffer, whatever the server sent */
		sasl_show_line(reply, chlen + 4, true, shown, sizeof shown);
		FUZZ_ASSERT(strlen(shown) < sizeof shown &&
		            fuzz_censored(shown, strlen(shown)));
		free(reply);
		error_clear(&err);
		rc = sasl_step(c, ch, chlen, &response, &err);
		free(text);
		if (rc != 0) {
			FUZZ_ASSERT(rc == SASL_CANCEL);
			check_error(&err);
			return;
		}
		FUZZ_ASSERT(response && is_b64(response));
		sasl_redact_client(response, strlen(response), shown,
		                   sizeof shown);
		FUZZ_ASSERT(strcmp(shown, "<redacted>") == 0);
	}
	error_clear(&err);
	if (sasl_success(c, &err) < 0)
		check_error(&err);
	error_clear(&err);
	FUZZ_ASSERT(sasl_failure(c, 535, "5.7.8 " SECRET " rejected", &err) ==
	            -1);
	check_error(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char long_user[600];
	struct sasl_params p = {0};
	struct sasl_client *c = NULL;
	struct error err;
	unsigned flags;
	const char *mech;

	if (size < 2)
		return 0;
	mech = mechs[data[0] % NMECHS];
	flags = data[1];
	if (!long_user[0])
		memset(long_user, 'u', sizeof long_user - 1);
	p.auth = mech;
	p.offered = "SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS SCRAM-SHA-256 "
	            "SCRAM-SHA-1 PLAIN LOGIN CRAM-MD5 DIGEST-MD5 NTLM XOAUTH2 "
	            "OAUTHBEARER EXTERNAL";
	p.tls = !(flags & FLAG_NO_TLS);
	p.loopback = true;
	p.user = flags & FLAG_LONG_USER ? long_user : "user@example.org";
	p.secret = secret = sasl_needs_secret(mech) ? SECRET : NULL;
	p.host = "smtp.example.org";
	p.cb_tls_exporter =
	    p.tls ? "dGxzLWV4cG9ydGVyIGRhdGEgZm9yIGZ1enppbmc=" : NULL;
	error_clear(&err);
	if (sasl_client_new(&c, &p, &err) < 0) {
		check_error(&err);
		return 0;
	}
	exchange(c, flags, data + 2, size - 2);
	sasl_client_free(c);
	return 0;
}
