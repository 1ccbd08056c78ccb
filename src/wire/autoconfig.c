/*
 * autoconfig.c - a provider's autoconfig document read with libexpat
 * (see autoconfig.h).
 *
 * expat calls back for each start tag, run of text and end tag; the
 * element at each depth is classified (kinds[]) by its parent's class and
 * its own name, so that only the path clientConfig/emailProvider/
 * outgoingServer[type=smtp]/{hostname,port,socketType,username,
 * authentication} and emailProvider/displayName are read, and the text
 * of an element is gathered only where it is kept.  A server's values
 * are checked when its end tag comes.
 */
#include "config.h"

#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *
autoconfig_socket_name(enum autoconfig_socket s)
{
	switch (s) {
	case AUTOCONFIG_SOCKET_SSL:
		return "SSL";
	case AUTOCONFIG_SOCKET_STARTTLS:
		return "STARTTLS";
	case AUTOCONFIG_SOCKET_PLAIN:
		return "plain";
	}
	return "?";
}

#ifdef HAVE_LIBEXPAT
#include <expat.h>

#include "dynload.h"

/* libexpat's functions, of the types its header gives them. */
static struct expat_api {
	__typeof__(XML_ParserCreate) *XML_ParserCreate;
	__typeof__(XML_ParserFree) *XML_ParserFree;
	__typeof__(XML_SetUserData) *XML_SetUserData;
	__typeof__(XML_SetElementHandler) *XML_SetElementHandler;
	__typeof__(XML_SetCharacterDataHandler) *XML_SetCharacterDataHandler;
	__typeof__(XML_SetStartDoctypeDeclHandler)
	    *XML_SetStartDoctypeDeclHandler;
	__typeof__(XML_Parse) *XML_Parse;
	__typeof__(XML_StopParser) *XML_StopParser;
	__typeof__(XML_GetErrorCode) *XML_GetErrorCode;
	__typeof__(XML_ErrorString) *XML_ErrorString;
	__typeof__(XML_GetCurrentLineNumber) *XML_GetCurrentLineNumber;
} lib;

static const struct dynload_sym expat_syms[] = {
    DYNLOAD_SYM(struct expat_api, XML_ParserCreate),
    DYNLOAD_SYM(struct expat_api, XML_ParserFree),
    DYNLOAD_SYM(struct expat_api, XML_SetUserData),
    DYNLOAD_SYM(struct expat_api, XML_SetElementHandler),
    DYNLOAD_SYM(struct expat_api, XML_SetCharacterDataHandler),
    DYNLOAD_SYM(struct expat_api, XML_SetStartDoctypeDeclHandler),
    DYNLOAD_SYM(struct expat_api, XML_Parse),
    DYNLOAD_SYM(struct expat_api, XML_StopParser),
    DYNLOAD_SYM(struct expat_api, XML_GetErrorCode),
    DYNLOAD_SYM(struct expat_api, XML_ErrorString),
    DYNLOAD_SYM(struct expat_api, XML_GetCurrentLineNumber),
};

/* configure finds EXPAT_SONAME (the library the header belongs to). */
static struct dynload expat_lib = {
    .soname = EXPAT_SONAME,
    .package = EXPAT_PACKAGE,
    .feature = "for --configure's autoconfig documents",
    .syms = expat_syms,
    .nsyms = sizeof expat_syms / sizeof *expat_syms,
    .table = &lib,
};

int
autoconfig_load(struct error *err)
{
	return dynload_open(&expat_lib, err);
}

/* What an element is, by its place. */
enum kind {
	K_OTHER = 0, /* skipped, with all it holds */
	K_ROOT,      /* clientConfig */
	K_PROVIDER,  /* emailProvider */
	K_NAME,      /* emailProvider/displayName */
	K_SERVER,    /* emailProvider/outgoingServer type="smtp" */
	K_HOST,      /* outgoingServer's values */
	K_PORT,
	K_SOCKET,
	K_USER,
	K_AUTH,
};

/* The values of the server being read, as written. */
struct raw_value {
	char text[AUTOCONFIG_TEXT_MAX + 1];
	bool given; /* the first element of its name came */
	bool long_; /* longer than AUTOCONFIG_TEXT_MAX */
};

struct raw_server {
	struct raw_value host, port, socket, user;
	enum autoconfig_auth auth;
	char auth_text[32];
};

struct reader {
	XML_Parser parser;
	const char *address;
	struct autoconfig_doc *doc;
	int depth;                                 /* of the element open now */
	enum kind kinds[AUTOCONFIG_DEPTH_MAX + 1]; /* [1..depth] */
	/* The text of the element open now, when it is one that is kept. */
	char text[AUTOCONFIG_TEXT_MAX + 1];
	size_t tlen;
	bool text_long;
	bool name_seen;
	struct raw_server server;
	struct error *err;
	bool failed; /* err is set and the parser stopped */
};

static void
stop(struct reader *r, const char *why)
{
	if (r->failed)
		return;
	error_set(r->err, ERROR_PROTOCOL, "%s", why);
	r->failed = true;
	lib.XML_StopParser(r->parser, XML_FALSE);
}

/* An attribute's value, or NULL. */
static const char *
attribute(const XML_Char **atts, const char *name)
{
	for (size_t i = 0; atts[i] && atts[i + 1]; i += 2)
		if (strcmp(atts[i], name) == 0)
			return atts[i + 1];
	return NULL;
}

static enum kind
server_field(const char *name)
{
	static const struct {
		const char *name;
		enum kind kind;
	} fields[] = {
	    {"hostname", K_HOST},       {"port", K_PORT},
	    {"socketType", K_SOCKET},   {"username", K_USER},
	    {"authentication", K_AUTH},
	};

	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		if (strcmp(name, fields[i].name) == 0)
			return fields[i].kind;
	return K_OTHER;
}

/* What an element called name is inside one of kind parent. */
static enum kind
classify(enum kind parent, const char *name, const XML_Char **atts)
{
	const char *type;

	switch (parent) {
	case K_ROOT:
		return strcmp(name, "emailProvider") == 0 ? K_PROVIDER
		                                          : K_OTHER;
	case K_PROVIDER:
		if (strcmp(name, "displayName") == 0)
			return K_NAME;
		if (strcmp(name, "outgoingServer") != 0)
			return K_OTHER;
		type = attribute(atts, "type");
		return type && strcmp(type, "smtp") == 0 ? K_SERVER : K_OTHER;
	case K_SERVER:
		return server_field(name);
	default:
		return K_OTHER;
	}
}

static void XMLCALL
on_start(void *data, const XML_Char *name, const XML_Char **atts)
{
	struct reader *r = data;
	enum kind k;

	if (r->failed)
		return;
	if (r->depth == AUTOCONFIG_DEPTH_MAX) {
		stop(r, "the document is nested too deep");
		return;
	}
	r->depth++;
	if (r->depth == 1) {
		if (strcmp(name, "clientConfig") != 0) {
			char why[128];

			snprintf(why, sizeof why,
			         "not an autoconfig document: its root element "
			         "is <%.40s>, not <clientConfig>",
			         name);
			stop(r, why);
			return;
		}
		k = K_ROOT;
	} else {
		k = classify(r->kinds[r->depth - 1], name, atts);
	}
	r->kinds[r->depth] = k;
	r->tlen = 0;
	r->text_long = false;
	if (k == K_SERVER)
		memset(&r->server, 0, sizeof r->server);
}

static bool
gathers_text(enum kind k)
{
	return k == K_NAME || k >= K_HOST;
}

static void XMLCALL
on_text(void *data, const XML_Char *s, int len)
{
	struct reader *r = data;
	size_t n = len > 0 ? (size_t)len : 0;

	if (r->failed || r->depth < 1 || !gathers_text(r->kinds[r->depth]))
		return;
	if (n > AUTOCONFIG_TEXT_MAX - r->tlen) {
		n = AUTOCONFIG_TEXT_MAX - r->tlen;
		r->text_long = true;
	}
	memcpy(r->text + r->tlen, s, n);
	r->tlen += n;
	r->text[r->tlen] = '\0';
}

/* The text gathered, without the white space around it. */
static const char *
trimmed(struct reader *r)
{
	char *s = r->text;
	size_t n = r->tlen;

	s[n] = '\0';
	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
	return s + strspn(s, " \t\r\n");
}

static void
keep_value(struct reader *r, struct raw_value *v)
{
	if (v->given)
		return; /* the first one counts */
	v->given = true;
	v->long_ = r->text_long;
	str_copy(v->text, sizeof v->text, trimmed(r));
}

/* The authentication values mailpost knows (the format's names, and the
 * older "plain" and "secure"). */
static enum autoconfig_auth
auth_kind(const char *s)
{
	static const struct {
		const char *name;
		enum autoconfig_auth auth;
	} kinds[] = {
	    {"password-cleartext", AUTOCONFIG_AUTH_CLEARTEXT},
	    {"plain", AUTOCONFIG_AUTH_CLEARTEXT},
	    {"password-encrypted", AUTOCONFIG_AUTH_ENCRYPTED},
	    {"secure", AUTOCONFIG_AUTH_ENCRYPTED},
	    {"OAuth2", AUTOCONFIG_AUTH_OAUTH2},
	    {"TLS-client-cert", AUTOCONFIG_AUTH_CLIENT_CERT},
	    {"GSSAPI", AUTOCONFIG_AUTH_GSSAPI},
	    {"NTLM", AUTOCONFIG_AUTH_NTLM},
	    {"none", AUTOCONFIG_AUTH_NONE},
	    {"client-IP-address", AUTOCONFIG_AUTH_NONE},
	};

	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (str_ieq(s, kinds[i].name))
			return kinds[i].auth;
	return AUTOCONFIG_AUTH_NONE_GIVEN;
}

static void
keep_auth(struct reader *r)
{
	const char *s = trimmed(r);
	enum autoconfig_auth a = auth_kind(s);

	if (r->server.auth != AUTOCONFIG_AUTH_NONE_GIVEN ||
	    a == AUTOCONFIG_AUTH_NONE_GIVEN)
		return;
	r->server.auth = a;
	str_copy(r->server.auth_text, sizeof r->server.auth_text, s);
}

/* The placeholder at p[0..k) ("%EMAILDOMAIN%"): what it stands for in
 * *add[0..*n), or false for one not known. */
static bool
placeholder(const char *p, size_t k, const char *address, const char **add,
            size_t *n)
{
	const char *at = strrchr(address, '@');
	size_t local = at ? (size_t)(at - address) : strlen(address);
	const char *domain = at ? at + 1 : "";
	const struct {
		const char *name;
		const char *value;
		size_t len;
	} known[] = {
	    {"%EMAILADDRESS%", address, strlen(address)},
	    {"%EMAILLOCALPART%", address, local},
	    {"%EMAILDOMAIN%", domain, strlen(domain)},
	};

	for (size_t i = 0; i < sizeof known / sizeof *known; i++)
		if (strlen(known[i].name) == k &&
		    strncmp(p, known[i].name, k) == 0) {
			*add = known[i].value;
			*n = known[i].len;
			return true;
		}
	return false;
}

/* in with the placeholders replaced, into out[0..n): NULL, or why not. */
static const char *
expand(const char *in, const char *address, char *out, size_t n)
{
	size_t len = 0;

	while (*in) {
		const char *add = in, *end;
		size_t k = 1;

		if (*in == '%') {
			end = strchr(in + 1, '%');
			if (!end || !placeholder(in, (size_t)(end - in) + 1,
			                         address, &add, &k))
				return "a placeholder mailpost does not know";
			in = end + 1;
		} else {
			in++;
		}
		if (k >= n - len)
			return "too long";
		memcpy(out + len, add, k);
		len += k;
	}
	out[len] = '\0';
	return NULL;
}

/* RFC 1035 2.3.1's letters, digits and hyphens, in labels of 1 to 63
 * bytes (RFC 1123 2.1: a label may start with a digit), lowered in
 * place; a final dot dropped. */
static bool
host_name_ok(char *s)
{
	size_t n = strlen(s), label = 0;

	if (n > 0 && s[n - 1] == '.')
		s[--n] = '\0';
	if (n == 0 || n > AUTOCONFIG_HOST_MAX)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			s[i] = (char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		           (c == '-' && label > 0)))
			return false;
		label++;
	}
	return true;
}

/* A user name goes on a line of the configuration file as one word: no
 * control byte, white space, quote or backslash; UTF-8 well-formed.  '#'
 * is allowed (RFC 5322 atext): the file has only whole-line comments. */
static bool
user_ok(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || s[i] == '"' ||
		    s[i] == '\\')
			return false;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq_len((const unsigned char *)s + i, n - i);

		if (k == 0 || utf8_is_c1((const unsigned char *)s + i, k) ||
		    utf8_is_bidi_control((const unsigned char *)s + i, k))
			return false;
		i += k;
	}
	return true;
}

static bool
port_ok(const char *s, int *port)
{
	long v = 0;

	if (!*s || strlen(s) > 5 || strspn(s, "0123456789") != strlen(s))
		return false;
	for (; *s; s++)
		v = v * 10 + (*s - '0');
	if (v < 1 || v > 65535)
		return false;
	*port = (int)v;
	return true;
}

static bool
socket_ok(const char *s, enum autoconfig_socket *out)
{
	if (str_ieq(s, "SSL") || str_ieq(s, "TLS"))
		*out = AUTOCONFIG_SOCKET_SSL;
	else if (str_ieq(s, "STARTTLS"))
		*out = AUTOCONFIG_SOCKET_STARTTLS;
	else if (str_ieq(s, "plain"))
		*out = AUTOCONFIG_SOCKET_PLAIN;
	else
		return false;
	return true;
}

/* The server r->server as kept, or the reason it is not usable. */
static const char *
check_server(struct reader *r, struct autoconfig_server *s)
{
	const struct raw_server *raw = &r->server;
	const char *why;

	memset(s, 0, sizeof *s);
	if (!raw->host.given || !raw->port.given || !raw->socket.given)
		return "hostname, port or socketType missing";
	if (raw->host.long_ || raw->user.long_)
		return "a value too long";
	why = expand(raw->host.text, r->address, s->host, sizeof s->host);
	if (why)
		return why;
	if (!host_name_ok(s->host))
		return "a hostname that is not a host name";
	if (!port_ok(raw->port.text, &s->port))
		return "a port that is not one (1 to 65535)";
	if (!socket_ok(raw->socket.text, &s->socket))
		return "a socketType mailpost does not know";
	if (raw->user.given) {
		why =
		    expand(raw->user.text, r->address, s->user, sizeof s->user);
		if (why)
			return why;
		if (!user_ok(s->user))
			return "a username with white space, quotes or "
			       "control characters";
	}
	s->auth = raw->auth;
	str_copy(s->auth_text, sizeof s->auth_text, raw->auth_text);
	return NULL;
}

static void
end_server(struct reader *r)
{
	struct autoconfig_doc *d = r->doc;
	struct autoconfig_server s;
	const char *why = check_server(r, &s);

	if (!why && s.socket == AUTOCONFIG_SOCKET_PLAIN) {
		d->plain++;
		return;
	}
	if (!why && d->n == AUTOCONFIG_SERVERS_MAX)
		why = "more servers than mailpost reads";
	if (why) {
		if (d->unusable++ == 0)
			str_copy(d->why_unusable, sizeof d->why_unusable, why);
		return;
	}
	d->servers[d->n++] = s;
}

static void
end_name(struct reader *r)
{
	const char *s = trimmed(r);

	if (r->name_seen)
		return;
	r->name_seen = true;
	str_copy(r->doc->name, sizeof r->doc->name, s);
	str_censor_utf8(r->doc->name, strlen(r->doc->name));
}

static void XMLCALL
on_end(void *data, const XML_Char *name)
{
	struct reader *r = data;

	(void)name;
	if (r->failed || r->depth < 1)
		return;
	switch (r->kinds[r->depth]) {
	case K_NAME:
		end_name(r);
		break;
	case K_SERVER:
		end_server(r);
		break;
	case K_HOST:
		keep_value(r, &r->server.host);
		break;
	case K_PORT:
		keep_value(r, &r->server.port);
		break;
	case K_SOCKET:
		keep_value(r, &r->server.socket);
		break;
	case K_USER:
		keep_value(r, &r->server.user);
		break;
	case K_AUTH:
		keep_auth(r);
		break;
	default:
		break;
	}
	r->depth--;
	r->tlen = 0;
	r->text_long = false;
}

/* No DOCTYPE: a document of this format has none, and one could declare
 * entities that expand without bound. */
static void XMLCALL
on_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
           const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	stop(data, "the document has a DOCTYPE, which the format has not");
}

static int
run(struct reader *r, const char *body, size_t len)
{
	enum XML_Status st;

	lib.XML_SetUserData(r->parser, r);
	lib.XML_SetElementHandler(r->parser, on_start, on_end);
	lib.XML_SetCharacterDataHandler(r->parser, on_text);
	lib.XML_SetStartDoctypeDeclHandler(r->parser, on_doctype);
	st = lib.XML_Parse(r->parser, body, (int)len, XML_TRUE);
	if (r->failed)
		return -1;
	if (st != XML_STATUS_OK) {
		char why[128];

		snprintf(why, sizeof why, "line %lu: %s",
		         (unsigned long)lib.XML_GetCurrentLineNumber(r->parser),
		         lib.XML_ErrorString(lib.XML_GetErrorCode(r->parser)));
		return error_set(r->err, ERROR_PROTOCOL,
		                 "not well-formed XML (%s)", why);
	}
	return 0;
}

int
autoconfig_parse(const char *body, size_t len, const char *address,
                 struct autoconfig_doc *out, struct error *err)
{
	struct reader *r;
	int rc;

	memset(out, 0, sizeof *out);
	if (len > AUTOCONFIG_BODY_MAX)
		return error_set(err, ERROR_PROTOCOL,
		                 "the document is larger than %d KiB",
		                 AUTOCONFIG_BODY_MAX / 1024);
	if (autoconfig_load(err) < 0)
		return -1;
	r = xcalloc(1, sizeof *r);
	r->address = address;
	r->doc = out;
	r->err = err;
	r->parser = lib.XML_ParserCreate(NULL);
	if (!r->parser) {
		free(r);
		return error_set(err, ERROR_OSERR,
		                 "cannot start an XML parser: out of memory");
	}
	rc = run(r, body, len);
	lib.XML_ParserFree(r->parser);
	free(r);
	if (rc < 0)
		memset(out, 0, sizeof *out);
	return rc;
}

#else /* built without libexpat */

int
autoconfig_load(struct error *err)
{
	return error_set(err, ERROR_UNAVAILABLE,
	                 "this mailpost was built without libexpat, which "
	                 "reads autoconfig documents; install it (Debian: "
	                 "apt-get install libexpat1-dev) and run configure "
	                 "again");
}

int
autoconfig_parse(const char *body, size_t len, const char *address,
                 struct autoconfig_doc *out, struct error *err)
{
	(void)body;
	(void)len;
	(void)address;
	memset(out, 0, sizeof *out);
	return autoconfig_load(err);
}

#endif
