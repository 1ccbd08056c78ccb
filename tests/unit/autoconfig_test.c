/*
 * autoconfig_test.c - providers' autoconfig documents read
 * (autoconfig.h's autoconfig_parse), one table row per document: the
 * format's own example, SSL and STARTTLS servers in document order,
 * the placeholders, the older authentication names and the first known
 * one taken, incoming servers and other types skipped, plain servers
 * counted and never kept, unusable values (a host name that is not one,
 * ports out of range, an unknown placeholder, a user name with a space
 * or a quote, a value past the ceiling) counted with the first reason,
 * and documents refused: not XML, cut short, another root, a DOCTYPE
 * (entities), nesting past the ceiling, one byte over the size ceiling.
 * Every message is one printable line.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoconfig.h"
#include "error.h"
#include "unit.h"
#include "util.h"

#define ADDR "Alice.B@Example.TEST"

#define HEAD                                                                   \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig "           \
	"version=\"1.1\">\n<emailProvider "                                    \
	"id=\"example.test\">\n<domain>example.test</domain>\n"
#define TAIL "</emailProvider>\n</clientConfig>\n"
#define SMTP(body) "<outgoingServer type=\"smtp\">" body "</outgoingServer>\n"

struct row {
	const char *name;
	const char *doc;
	enum error_kind kind; /* ERROR_NONE: parsed */
	const char *msg;      /* on failure: a part of the message */
	size_t n;             /* on success: servers kept */
	/* the first server kept */
	const char *host;
	int port;
	enum autoconfig_socket socket;
	const char *user;
	enum autoconfig_auth auth;
	size_t plain, unusable;
	const char *why; /* part of why_unusable */
};

static const struct row rows[] = {
    {"the format's example",
     HEAD
     "<displayName>Example Mail</displayName>\n"
     "<incomingServer type=\"imap\"><hostname>imap.example.test</hostname>"
     "<port>993</port><socketType>SSL</socketType></incomingServer>\n" SMTP(
         "<hostname>smtp.example.test</hostname>\n<port>587</port>\n"
         "<socketType>STARTTLS</socketType>\n"
         "<username>%EMAILADDRESS%</username>\n"
         "<authentication>password-cleartext</authentication>\n") TAIL,
     ERROR_NONE, NULL, 1, "smtp.example.test", 587, AUTOCONFIG_SOCKET_STARTTLS,
     ADDR, AUTOCONFIG_AUTH_CLEARTEXT, 0, 0, NULL},
    {"SSL first, white space trimmed, host lowered, final dot",
     HEAD SMTP("<hostname>\n  SMTP.Example.Test.  </hostname><port> 465 </port>"
               "<socketType>SSL</socketType>"
               "<username>%EMAILLOCALPART%</username>"
               "<authentication>secure</authentication>")
         SMTP("<hostname>"
              "b.example.test"
              "</hostname><port>"
              "587</"
              "port><socketType>"
              "STARTTLS</"
              "socketType>") TAIL,
     ERROR_NONE, NULL, 2, "smtp.example.test", 465, AUTOCONFIG_SOCKET_SSL,
     "Alice.B", AUTOCONFIG_AUTH_ENCRYPTED, 0, 0, NULL},
    {"a placeholder in the host name; the first known authentication",
     HEAD SMTP("<hostname>smtp.%EMAILDOMAIN%</hostname><port>587</port>"
               "<socketType>STARTTLS</socketType>"
               "<authentication>smtp-after-pop</authentication>"
               "<authentication>OAuth2</authentication>"
               "<authentication>password-cleartext</authentication>") TAIL,
     ERROR_NONE, NULL, 1, "smtp.example.test", 587, AUTOCONFIG_SOCKET_STARTTLS,
     "", AUTOCONFIG_AUTH_OAUTH2, 0, 0, NULL},
    {"only a plain server: counted, not kept",
     HEAD SMTP("<hostname>smtp.example.test</hostname><port>25</port>"
               "<socketType>plain</socketType>") TAIL,
     ERROR_NONE, NULL, 0, NULL, 0, 0, NULL, 0, 1, 0, NULL},
    {"type other than smtp, outgoingServer outside emailProvider",
     HEAD "<outgoingServer type=\"ews\"><hostname>x.example.test</hostname>"
          "<port>443</port><socketType>SSL</socketType></outgoingServer>" TAIL
          "",
     ERROR_NONE, NULL, 0, NULL, 0, 0, NULL, 0, 0, 0, NULL},
    {"a host name that is not one",
     HEAD SMTP("<hostname>smtp.example.test/evil</hostname><port>587</port>"
               "<socketType>STARTTLS</socketType>") TAIL,
     ERROR_NONE, NULL, 0, NULL, 0, 0, NULL, 0, 0, 1, "not a host name"},
    {"a label starting with a hyphen",
     HEAD SMTP("<hostname>-smtp.example.test</hostname><port>587</port>"
               "<socketType>STARTTLS</socketType>") TAIL,
     ERROR_NONE, NULL, 0, NULL, 0, 0, NULL, 0, 0, 1, "not a host name"},
    {"port 0",
     HEAD SMTP("<hostname>smtp.example.test</hostname><port>0"
               "</port><socketType>SSL</socketType>") TAIL,
     ERROR_NONE, NULL, 0, NULL, 0, 0, NULL, 0, 0, 1, "port"},
    {"port 65536",
     HEAD SMTP("<hostname>smtp.example.test</hostname><port>"
               "65536</port><socketType>SSL</socketType>") TAIL,
     ERROR_NONE, NULL, 0, NULL, 0, 0, NULL, 0, 0, 1, "port"},
    {"port with a sign",
     HEAD SMTP("<hostname>smtp.example.test</hostname>"
               "<port>+465</port><socketType>SSL"
               "</socketType>") TAIL,
     ERROR_NONE, NULL, 0, NULL, 0, 0, NULL, 0, 0, 1, "port"},
    {"an unknown placeholder",
     HEAD SMTP("<hostname>smtp.example.test</hostname><port>587</port>"
               "<socketType>STARTTLS</socketType>"
               "<username>%REALNAME%</username>") TAIL,
     ERROR_NONE, NULL, 0, NULL, 0, 0, NULL, 0, 0, 1, "placeholder"},
    {"a user name with a space",
     HEAD SMTP("<hostname>smtp.example.test</hostname><port>587</port>"
               "<socketType>STARTTLS</socketType>"
               "<username>a b</username>") TAIL,
     ERROR_NONE, NULL, 0, NULL, 0, 0, NULL, 0, 0, 1, "white space"},
    {"a user name with '#' (RFC 5322 atext; the file has only whole-line "
     "comments)",
     HEAD SMTP("<hostname>smtp.example.test</hostname><port>587</port>"
               "<socketType>STARTTLS</socketType>"
               "<username>a#b@example.test</username>") TAIL,
     ERROR_NONE, NULL, 1, "smtp.example.test", 587, AUTOCONFIG_SOCKET_STARTTLS,
     "a#b@example.test", AUTOCONFIG_AUTH_NONE_GIVEN, 0, 0, NULL},
    {"a user name with a quote (an entity)",
     HEAD SMTP("<hostname>smtp.example.test</hostname><port>587</port>"
               "<socketType>STARTTLS</socketType>"
               "<username>a&quot;b</username>") TAIL,
     ERROR_NONE, NULL, 0, NULL, 0, 0, NULL, 0, 0, 1, "quotes"},
    {"no socketType",
     HEAD SMTP("<hostname>smtp.example.test</hostname>"
               "<port>587</port>") TAIL,
     ERROR_NONE, NULL, 0, NULL, 0, 0, NULL, 0, 0, 1, "missing"},
    {"a socketType not known",
     HEAD SMTP("<hostname>smtp.example.test</hostname><port>587</port>"
               "<socketType>TLS1.3</socketType>") TAIL,
     ERROR_NONE, NULL, 0, NULL, 0, 0, NULL, 0, 0, 1, "socketType"},
    {"not XML", "this is not XML", ERROR_PROTOCOL, "not well-formed XML", 0,
     NULL, 0, 0, NULL, 0, 0, 0, NULL},
    {"empty", "", ERROR_PROTOCOL, "not well-formed XML", 0, NULL, 0, 0, NULL, 0,
     0, 0, NULL},
    {"cut short", HEAD SMTP("<hostname>smtp.example.test</hostname>"),
     ERROR_PROTOCOL, "not well-formed XML (line", 0, NULL, 0, 0, NULL, 0, 0, 0,
     NULL},
    {"an HTML page", "<html><body>Not found</body></html>", ERROR_PROTOCOL,
     "its root element is <html>", 0, NULL, 0, 0, NULL, 0, 0, 0, NULL},
    {"a DOCTYPE with entities",
     "<?xml version=\"1.0\"?>\n"
     "<!DOCTYPE clientConfig [<!ENTITY a \"aaaaaaaaaa\">"
     "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>\n"
     "<clientConfig>&b;</clientConfig>",
     ERROR_PROTOCOL, "DOCTYPE", 0, NULL, 0, 0, NULL, 0, 0, 0, NULL},
    {"trailing bytes after the root", HEAD TAIL "<x/>", ERROR_PROTOCOL,
     "not well-formed XML", 0, NULL, 0, 0, NULL, 0, 0, 0, NULL},
};

static void
check_row(const struct row *r)
{
	struct autoconfig_doc d;
	struct error err;
	int rc;

	error_clear(&err);
	rc = autoconfig_parse(r->doc, strlen(r->doc), ADDR, &d, &err);
	if (r->kind != ERROR_NONE) {
		CHECK_INT(rc, -1);
		CHECK_INT(err.kind, r->kind);
		if (!strstr(err.msg, r->msg))
			fprintf(stderr, "%s: message '%s' lacks '%s'\n",
			        r->name, err.msg, r->msg);
		CHECK(strstr(err.msg, r->msg) != NULL);
		CHECK_INT(d.n, 0);
		return;
	}
	if (rc != 0)
		fprintf(stderr, "%s: %s\n", r->name, err.msg);
	CHECK_INT(rc, 0);
	CHECK_INT(d.n, r->n);
	CHECK_INT(d.plain, r->plain);
	CHECK_INT(d.unusable, r->unusable);
	if (r->why)
		CHECK(strstr(d.why_unusable, r->why) != NULL);
	if (r->n == 0 || d.n == 0)
		return;
	CHECK_STR(d.servers[0].host, r->host);
	CHECK_INT(d.servers[0].port, r->port);
	CHECK_INT(d.servers[0].socket, r->socket);
	CHECK_STR(d.servers[0].user, r->user);
	CHECK_INT(d.servers[0].auth, r->auth);
}

/* The display name is censored; the second one is ignored. */
static void
test_display_name(void)
{
	const char *doc = HEAD "<displayName>Ex\xc2\x9b"
	                       "ample &#x1b;[31m</displayName>"
	                       "<displayName>second</displayName>" TAIL;
	struct autoconfig_doc d;
	struct error err;

	error_clear(&err);
	CHECK_INT(autoconfig_parse(doc, strlen(doc), ADDR, &d, &err), -1);
	/* &#x1b; is not a character XML 1.0 allows. */
	CHECK(strstr(err.msg, "not well-formed") != NULL);
	doc = HEAD "<displayName>Ex\xc2\x9b"
	           "ample\ttab</displayName>"
	           "<displayName>second</displayName>" TAIL;
	CHECK_INT(autoconfig_parse(doc, strlen(doc), ADDR, &d, &err), 0);
	CHECK_STR(d.name, "Ex??ample\ttab");
}

/* More servers than kept: the rest counted as unusable. */
static void
test_many_servers(void)
{
	char *doc = xmalloc(AUTOCONFIG_BODY_MAX);
	struct autoconfig_doc d;
	struct error err;
	size_t len = 0;

	len +=
	    (size_t)snprintf(doc + len, AUTOCONFIG_BODY_MAX - len, "%s", HEAD);
	for (int i = 0; i < AUTOCONFIG_SERVERS_MAX + 3; i++)
		len += (size_t)snprintf(
		    doc + len, AUTOCONFIG_BODY_MAX - len,
		    SMTP("<hostname>s%d.example.test</hostname><port>465"
		         "</port><socketType>SSL</socketType>"),
		    i);
	len +=
	    (size_t)snprintf(doc + len, AUTOCONFIG_BODY_MAX - len, "%s", TAIL);
	error_clear(&err);
	CHECK_INT(autoconfig_parse(doc, len, ADDR, &d, &err), 0);
	CHECK_INT(d.n, AUTOCONFIG_SERVERS_MAX);
	CHECK_INT(d.unusable, 3);
	CHECK_STR(d.servers[AUTOCONFIG_SERVERS_MAX - 1].host,
	          "s7.example.test");
	free(doc);
}

/* Nesting past the ceiling, one byte over the size, a value one byte
 * past its ceiling. */
static void
test_ceilings(void)
{
	char *doc = xmalloc(AUTOCONFIG_BODY_MAX + 2);
	char host[AUTOCONFIG_TEXT_MAX + 2];
	struct autoconfig_doc d;
	struct error err;
	size_t len = 0;

	len += (size_t)snprintf(doc, AUTOCONFIG_BODY_MAX, "<clientConfig>");
	for (int i = 0; i < AUTOCONFIG_DEPTH_MAX; i++)
		len += (size_t)snprintf(doc + len, AUTOCONFIG_BODY_MAX - len,
		                        "<a>");
	error_clear(&err);
	CHECK_INT(autoconfig_parse(doc, len, ADDR, &d, &err), -1);
	CHECK(strstr(err.msg, "nested too deep") != NULL);

	memset(doc, ' ', AUTOCONFIG_BODY_MAX + 1);
	memcpy(doc, "<clientConfig/>", 15);
	CHECK_INT(autoconfig_parse(doc, AUTOCONFIG_BODY_MAX, ADDR, &d, &err),
	          0);
	CHECK_INT(
	    autoconfig_parse(doc, AUTOCONFIG_BODY_MAX + 1, ADDR, &d, &err), -1);
	CHECK(strstr(err.msg, "larger than 64 KiB") != NULL);

	/* 256 bytes of host name: past AUTOCONFIG_TEXT_MAX. */
	memset(host, 'a', sizeof host - 1);
	host[sizeof host - 1] = '\0';
	len = (size_t)snprintf(doc, AUTOCONFIG_BODY_MAX,
	                       HEAD SMTP("<hostname>%s</hostname><port>465"
	                                 "</port><socketType>SSL"
	                                 "</socketType>") TAIL,
	                       host);
	CHECK_INT(autoconfig_parse(doc, len, ADDR, &d, &err), 0);
	CHECK_INT(d.n, 0);
	CHECK_INT(d.unusable, 1);
	CHECK(strstr(d.why_unusable, "too long") != NULL);
	free(doc);
}

int
main(void)
{
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
		check_row(&rows[i]);
	test_display_name();
	test_many_servers();
	test_ceilings();
	CHECK_STR(autoconfig_socket_name(AUTOCONFIG_SOCKET_STARTTLS),
	          "STARTTLS");
	return unit_done();
}
