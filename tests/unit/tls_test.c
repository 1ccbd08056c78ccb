/*
 * tls_test.c - TLS through conn.c against a real GnuTLS server: every
 * verification verdict (good, wrong name, unknown CA, self-signed, expired,
 * not yet valid, revoked), fingerprint pins, tls_certcheck off, client
 * certificates, the TLS 1.2 minimum, channel binding (compared with the
 * server's own value), STARTTLS response injection, implicit TLS against a
 * plaintext server, close_notify and truncation, timeouts, and bad
 * parameters; DANE's records (tlsdane.c) for each usage, selector and
 * matching type, matched and not, against data OpenSSL's command line
 * computes from the certificates.
 *
 * The certificates come from tests/lib/mkcerts.sh, run into a temporary
 * directory (the script is found through $MAILPOST_SRCDIR, else relative
 * to the current directory).  Each case forks a one-connection server on a
 * loopback port; only this test includes GnuTLS besides tls.c.
 */
#include "config.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conn.h"
#include "error.h"
#include "tls.h"
#include "transcript.h"
#include "util.h"

#include "unit.h"

#define LINE_MAX_TEST 1024
#define TIMEOUT_MS 5000

static char certdir[PATH_MAX];

/* A path in the certificate directory (a few may be in use at once). */
static const char *
cf(const char *name)
{
	static char paths[8][PATH_MAX];
	static int next;
	char *p = paths[next++ % 8];

	if (snprintf(p, PATH_MAX, "%s/%s", certdir, name) >= PATH_MAX)
		abort();
	return p;
}

/* The first line of a file in the certificate directory. */
static const char *
first_line(const char *name, char *out, size_t n)
{
	FILE *f = fopen(cf(name), "r");

	out[0] = '\0';
	if (f) {
		if (fgets(out, (int)n, f))
			out[strcspn(out, "\r\n")] = '\0';
		fclose(f);
	}
	return out;
}

static int
run(const char *prog, const char *arg1, const char *arg2)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		execlp(prog, prog, arg1, arg2, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int
make_certs(void)
{
	const char *src = getenv("MAILPOST_SRCDIR");
	char script[PATH_MAX];

	snprintf(certdir, sizeof certdir, "%s/mailpost-tls-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(certdir))
		return -1;
	snprintf(script, sizeof script, "%s/tests/lib/mkcerts.sh",
	         src ? src : ".");
	return run("sh", script, certdir) == 0 ? 0 : -1;
}

/* --- the server (a forked child; exits, never returns) --- */

enum srv_mode {
	SRV_TLS = 0, /* TLS at once (after `plain`, if set) */
	SRV_PLAIN,   /* only `plain`, then wait for the client to close */
	SRV_SILENT,  /* say nothing at all */
};

struct srv {
	enum srv_mode mode;
	const char *cert;       /* server certificate file name */
	const char *priorities; /* NULL: NORMAL */
	bool want_client_cert;
	const char *plain; /* plaintext sent first */
	const char *late;  /* plaintext sent 100 ms after `plain` */
};

static void
drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof buf) > 0)
		continue;
}

static int
srv_line(gnutls_session_t s, char *line, size_t n)
{
	size_t len = 0;

	while (len + 1 < n) {
		char ch;
		ssize_t rc = gnutls_record_recv(s, &ch, 1);

		if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
			continue;
		if (rc <= 0)
			return -1;
		if (ch == '\n')
			break;
		if (ch != '\r')
			line[len++] = ch;
	}
	line[len] = '\0';
	return 0;
}

static void
srv_send(gnutls_session_t s, const char *text)
{
	gnutls_record_send(s, text, strlen(text));
}

/* "name=base64" of a channel binding, or "name=-". */
static void
srv_binding(gnutls_session_t s, gnutls_channel_binding_t type, const char *name,
            char *out, size_t n)
{
	gnutls_datum_t cb = {NULL, 0}, b64 = {NULL, 0};

	if (gnutls_session_channel_binding(s, type, &cb) == 0 &&
	    gnutls_base64_encode2(&cb, &b64) == 0)
		snprintf(out, n, " %s=%.*s", name, (int)b64.size,
		         (const char *)b64.data);
	else
		snprintf(out, n, " %s=-", name);
	gnutls_free(cb.data);
	gnutls_free(b64.data);
}

static void
srv_pong(gnutls_session_t s)
{
	unsigned status = 1, npeers = 0;
	char exporter[128], unique[128], reply[400];

	gnutls_certificate_get_peers(s, &npeers);
	if (npeers > 0)
		gnutls_certificate_verify_peers2(s, &status);
	srv_binding(s, GNUTLS_CB_TLS_EXPORTER, "exporter", exporter,
	            sizeof exporter);
	srv_binding(s, GNUTLS_CB_TLS_UNIQUE, "unique", unique, sizeof unique);
	snprintf(reply, sizeof reply, "PONG cert=%s%s%s\r\n",
	         npeers == 0   ? "none"
	         : status == 0 ? "ok"
	                       : "bad",
	         exporter, unique);
	srv_send(s, reply);
}

/* BULK n: read n bytes, answer "GOT n". */
static void
srv_bulk(gnutls_session_t s, long want)
{
	char buf[16384], reply[64];
	long got = 0;

	while (got < want) {
		ssize_t rc = gnutls_record_recv(s, buf, sizeof buf);

		if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
			continue;
		if (rc <= 0)
			break;
		got += rc;
	}
	snprintf(reply, sizeof reply, "GOT %ld\r\n", got);
	srv_send(s, reply);
}

static void
srv_commands(gnutls_session_t s, int fd)
{
	char line[256];

	while (srv_line(s, line, sizeof line) == 0) {
		if (strcmp(line, "PING") == 0)
			srv_pong(s);
		else if (strncmp(line, "BULK ", 5) == 0)
			srv_bulk(s, strtol(line + 5, NULL, 10));
		else if (strcmp(line, "BYE") == 0)
			break;
		else if (strcmp(line, "DROP") == 0)
			_exit(0); /* a TCP close without close_notify */
	}
	gnutls_bye(s, GNUTLS_SHUT_WR);
	shutdown(fd, SHUT_WR);
	drain(fd);
}

static void
srv_tls(int fd, const struct srv *o)
{
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	int rc;

	gnutls_certificate_allocate_credentials(&cred);
	if (gnutls_certificate_set_x509_key_file(
	        cred, cf(o->cert), cf("server.key"), GNUTLS_X509_FMT_PEM) < 0)
		_exit(2);
	gnutls_certificate_set_x509_trust_file(cred, cf("ca.pem"),
	                                       GNUTLS_X509_FMT_PEM);
	gnutls_init(&s, GNUTLS_SERVER);
	gnutls_priority_set_direct(s, o->priorities ? o->priorities : "NORMAL",
	                           NULL);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	if (o->want_client_cert)
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, TIMEOUT_MS);
	do
		rc = gnutls_handshake(s);
	while (rc < 0 && !gnutls_error_is_fatal(rc));
	if (rc < 0) {
		gnutls_alert_send_appropriate(s, rc);
		drain(fd);
		_exit(3);
	}
	srv_commands(s, fd);
	_exit(0);
}

static void
srv_plain(int fd, const struct srv *o)
{
	if (o->plain && write(fd, o->plain, strlen(o->plain)) < 0)
		_exit(2);
	if (o->late) {
		usleep(100 * 1000);
		if (write(fd, o->late, strlen(o->late)) < 0)
			_exit(2);
	}
	if (o->mode == SRV_TLS)
		srv_tls(fd, o);
	drain(fd);
	_exit(0);
}

static int
listen_loopback(int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(fd, 1) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

static pid_t
start_server(const struct srv *o, int *port)
{
	int lfd = listen_loopback(port);
	pid_t pid;

	if (lfd < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int fd;

		alarm(20); /* never outlive a broken test */
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			_exit(2);
		close(lfd);
		srv_plain(fd, o);
	}
	close(lfd);
	return pid;
}

/* The server's exit status (0 ok, 3 handshake failed). */
static int
finish_server(pid_t pid)
{
	int status;

	if (pid <= 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* --- the client --- */

static struct tls_params
params(void)
{
	struct tls_params p = {
	    .host = "localhost",
	    .trust_file = cf("ca.pem"),
	    .timeout_ms = TIMEOUT_MS,
	};

	return p;
}

static struct conn_target
target(int port)
{
	struct conn_target tg = {
	    .host = "127.0.0.1", .port = port, .timeout_ms = TIMEOUT_MS};

	return tg;
}

/* Send a command and read the one-line answer. */
static int
ask(struct conn *c, const char *cmd, char *line, struct error *err)
{
	size_t len;

	if (conn_write(c, cmd, strlen(cmd), TIMEOUT_MS, err) < 0 ||
	    conn_write(c, "\r\n", 2, TIMEOUT_MS, err) < 0 ||
	    conn_flush(c, TIMEOUT_MS, err) < 0)
		return -1;
	return conn_read_line(c, line, LINE_MAX_TEST, &len, TIMEOUT_MS, err);
}

struct outcome {
	int rc; /* of conn_open_tls */
	struct error err;
	char pong[LINE_MAX_TEST];
	char transcript[8192];
	int server; /* the server's exit status */
};

/* Implicit TLS against a server, a PING on success, then BYE. */
static void
session(const struct srv *o, const struct tls_params *p, struct outcome *out)
{
	char *text = NULL;
	size_t textlen = 0;
	FILE *mem = open_memstream(&text, &textlen);
	struct transcript *t = transcript_new(mem, TRANSCRIPT_DIALOGUE, NULL);
	struct conn *c = NULL;
	int port = 0;
	pid_t pid = start_server(o, &port);
	struct conn_target tg = target(port);

	memset(out, 0, sizeof *out);
	error_clear(&out->err);
	out->rc = conn_open_tls(&c, &tg, p, t, &out->err);
	if (out->rc == 0 && ask(c, "PING", out->pong, &out->err) < 0)
		out->rc = -2;
	if (out->rc == 0)
		(void)ask(c, "BYE", out->pong + strlen(out->pong), &out->err);
	conn_close(c);
	out->server = finish_server(pid);
	transcript_free(t);
	fclose(mem);
	str_copy(out->transcript, sizeof out->transcript, text ? text : "");
	free(text);
}

static void
expect_refused(const char *cert, const struct tls_params *p, const char *reason)
{
	struct srv o = {.cert = cert};
	struct outcome r;

	session(&o, p, &r);
	CHECK_INT(r.rc, -1);
	CHECK_INT(r.err.kind, ERROR_PROTOCOL);
	if (!strstr(r.err.msg, reason))
		fprintf(stderr, "%s: message: %s\n", cert, r.err.msg);
	CHECK(strstr(r.err.msg, reason) != NULL);
	CHECK(r.server != 0); /* the server saw no finished handshake */
}

/* --- the cases --- */

/* The default priorities offer exactly NORMAL's groups (none dropped, none
 * added), X25519 first: its key share is the one a server takes. */
static void
test_default_groups(void)
{
	gnutls_priority_t normal, ours;
	const unsigned *a, *b;
	int na, nb;

	CHECK_INT(gnutls_priority_init(&normal, "NORMAL", NULL), 0);
	CHECK_INT(gnutls_priority_init(&ours, TLS_DEFAULT_PRIORITIES, NULL), 0);
	na = gnutls_priority_group_list(normal, &a);
	nb = gnutls_priority_group_list(ours, &b);
	CHECK(na > 1);
	CHECK_INT(nb, na);
	CHECK_INT((int)b[0], GNUTLS_GROUP_X25519);
	for (int k = 0; k < na && k < nb; k++) {
		bool found = false;

		for (int j = 0; j < nb; j++)
			found = found || b[j] == a[k];
		CHECK(found);
	}
	gnutls_priority_deinit(normal);
	gnutls_priority_deinit(ours);
}

/* tls_params.info (--serverinfo): the session and the chain described,
 * also when the certificate is refused and the handshake stops. */
/* One session with the server's certificate CERT, described into *i
 * (info_chain as CHAIN). */
static void
info_session(const char *cert, bool chain, struct tls_info *i,
             struct outcome *r)
{
	struct tls_params p = params();
	struct srv o = {.cert = cert};

	tls_info_init(i);
	p.info = i;
	p.info_chain = chain;
	session(&o, &p, r);
}

static void
test_info_trusted(void)
{
	struct outcome r;
	struct tls_info i;
	char fp[128];

	info_session("server.pem", true, &i, &r);
	CHECK_INT(r.rc, 0);
	CHECK(i.completed && i.verify_ran && i.verified);
	CHECK_STR(i.version, "TLS1.3");
	CHECK(strncmp(i.suite, "TLS_", 4) == 0);
	/* The first key share, taken (test_default_groups). */
	CHECK_STR(i.group, "X25519");
	CHECK(i.signature[0] != '\0');
	CHECK_STR(i.sni, "localhost");
	CHECK_STR(i.anchor, "mailpost test CA");
	CHECK(strncmp(i.trust, "tls_trust_file ", 15) == 0);
	CHECK_INT((int)i.ncerts, 1);
	CHECK_INT((int)i.chain_len, 1);
	if (i.ncerts == 1) {
		CHECK_STR(i.certs[0].subject, "CN=localhost");
		CHECK_STR(i.certs[0].issuer, "CN=mailpost test CA");
		CHECK_STR(i.certs[0].names, "DNS:localhost, IP:127.0.0.1");
		CHECK_STR(i.certs[0].sha256,
		          first_line("server.sha256", fp, sizeof fp));
		CHECK_STR(i.certs[0].key, "EC/ECDSA 256 bits (SECP256R1)");
		CHECK(!i.certs[0].self_signed);
		CHECK(i.certs[0].not_before > 0 &&
		      i.certs[0].not_after > i.certs[0].not_before);
		CHECK(i.certs[0].pem && strncmp(i.certs[0].pem,
		                                "-----BEGIN CERTIFICATE-----",
		                                27) == 0);
	}
	tls_info_clear(&i);
	CHECK_INT((int)i.ncerts, 0);
}

/* Without info_chain (a send's report, --json): the session and the
 * verdict, of the chain only the server's fingerprint, nothing parsed
 * for the description and no root looked up. */
static void
test_info_summary(void)
{
	struct outcome r;
	struct tls_info i;
	char fp[128];

	info_session("server.pem", false, &i, &r);
	CHECK(r.rc == 0 && i.completed && i.verify_ran && i.verified);
	CHECK(i.anchor[0] == '\0' && i.ncerts == 1 && i.chain_len == 1);
	CHECK_STR(i.certs[0].sha256,
	          first_line("server.sha256", fp, sizeof fp));
	CHECK(i.certs[0].subject == NULL && i.certs[0].pem == NULL);
	tls_info_clear(&i);
	/* Refused: still its fingerprint and the verdict. */
	info_session("expired.pem", false, &i, &r);
	CHECK_INT(r.rc, -1);
	CHECK(!i.completed && i.verify_ran && !i.verified);
	CHECK(strstr(i.verdict, "certificate has expired") != NULL);
	CHECK_INT((int)i.ncerts, 1);
	CHECK_STR(i.certs[0].sha256,
	          first_line("expired.sha256", fp, sizeof fp));
	tls_info_clear(&i);
}

static void
test_info_refused(void)
{
	struct tls_params p = params();
	struct srv o = {.cert = "expired.pem"};
	struct outcome r;
	struct tls_info i;
	char fp[128];

	tls_info_init(&i);
	p.info = &i;
	p.info_chain = true;
	p.host = "127.0.0.1"; /* an address: no SNI */
	session(&o, &p, &r);
	CHECK_INT(r.rc, -1);
	CHECK(r.server != 0); /* the handshake stopped */
	CHECK(!i.completed && i.verify_ran && !i.verified);
	CHECK(strstr(i.verdict, "certificate has expired") != NULL);
	CHECK_STR(i.sni, "");
	CHECK_STR(i.anchor, "");
	CHECK_INT((int)i.ncerts, 1);
	if (i.ncerts == 1) {
		CHECK_STR(i.certs[0].sha256,
		          first_line("expired.sha256", fp, sizeof fp));
		CHECK_INT((int)i.certs[0].not_after, 1609459200);
	}
	tls_info_clear(&i);
	/* A pin: what decides is named, no root. */
	tls_info_init(&i);
	p = params();
	p.info = &i;
	p.info_chain = true;
	p.fingerprint = first_line("server.sha256", fp, sizeof fp);
	o.cert = "server.pem";
	session(&o, &p, &r);
	CHECK_INT(r.rc, 0);
	CHECK_STR(i.trust, "the pinned fingerprint (tls_fingerprint)");
	CHECK_STR(i.anchor, "");
	CHECK(i.verified);
	tls_info_clear(&i);
}

static void
test_good_certificate(void)
{
	struct tls_params p = params();
	struct srv o = {.cert = "server.pem"};
	struct outcome r;
	char fp[128], want[160];

	session(&o, &p, &r);
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.server, 0);
	CHECK(strncmp(r.pong, "PONG cert=none", 14) == 0);
	CHECK(strstr(r.transcript, "TLS session: TLS1.3, TLS_") != NULL);
	CHECK(strstr(r.transcript, "subject: CN=localhost") != NULL);
	CHECK(strstr(r.transcript, "issuer: CN=mailpost test CA") != NULL);
	CHECK(strstr(r.transcript, " UTC until ") != NULL);
	snprintf(want, sizeof want, "SHA-256 fingerprint: %s",
	         first_line("server.sha256", fp, sizeof fp));
	CHECK(strstr(r.transcript, want) != NULL);
	CHECK(strstr(r.transcript, "verification: trusted") != NULL);
}

/* An address literal is matched against the iPAddress entries and is not
 * sent as SNI. */
static void
test_ip_address(void)
{
	struct tls_params p = params();
	struct srv o = {.cert = "server.pem"};
	struct outcome r;

	p.host = "127.0.0.1";
	session(&o, &p, &r);
	CHECK_INT(r.rc, 0);
	if (r.rc != 0)
		fprintf(stderr, "ip: %s\n", r.err.msg);
}

static void
test_refusals(void)
{
	struct tls_params p = params();

	expect_refused("wronghost.pem", &p,
	               "certificate's host name does not match 'localhost'");
	expect_refused("unknownca.pem", &p,
	               "certificate is not trusted (issuer unknown)");
	expect_refused("selfsigned.pem", &p, "self-signed certificate");
	expect_refused("expired.pem", &p,
	               "certificate has expired (valid until 2021-01-01");
	expect_refused("notyet.pem", &p, "certificate is not yet valid");
	p.crl_file = cf("crl.pem");
	expect_refused("revoked.pem", &p, "certificate revoked");
	/* The CRL does not touch a good certificate. */
	{
		struct srv o = {.cert = "server.pem"};
		struct outcome r;

		session(&o, &p, &r);
		CHECK_INT(r.rc, 0);
	}
}

static void
test_refusal_lists_every_reason(void)
{
	struct tls_params p = params();

	p.host = "mail.example.org";
	expect_refused("expired.pem", &p, "expired");
	expect_refused("expired.pem", &p,
	               "host name does not match 'mail.example.org'");
}

static void
test_host_override(void)
{
	struct tls_params p = params();
	struct srv o = {.cert = "wronghost.pem"};
	struct outcome r;

	p.host_override = "wrong.example";
	session(&o, &p, &r);
	CHECK_INT(r.rc, 0);
}

static void
test_system_trust_refuses_test_ca(void)
{
	struct tls_params p = params();

	p.trust_file = "system";
	expect_refused("server.pem", &p, "issuer unknown");
	p.trust_file = NULL;
	expect_refused("server.pem", &p, "issuer unknown");
}

static void
test_empty_trust(void)
{
	struct tls_params p = params();

	p.trust_file = "";
	expect_refused("server.pem", &p, "tls_trust_file is empty");
}

static void
test_fingerprint_pins(void)
{
	struct tls_params p = params();
	struct srv o = {.cert = "selfsigned.pem"};
	struct outcome r;
	char fp[128], other[128], lower[128];

	first_line("selfsigned.sha256", fp, sizeof fp);
	p.trust_file = "";
	p.fingerprint = fp;
	session(&o, &p, &r);
	CHECK_INT(r.rc, 0);
	CHECK(strstr(r.transcript, "trusted by the pinned SHA-256") != NULL);

	/* lower case, no colons */
	{
		size_t n = 0;

		for (const char *s = fp; *s; s++)
			if (*s != ':')
				lower[n++] = (char)(*s | 0x20);
		lower[n] = '\0';
	}
	p.fingerprint = lower;
	session(&o, &p, &r);
	CHECK_INT(r.rc, 0);

	/* A mismatch names what the server had. */
	{
		char want[200];

		p.fingerprint =
		    first_line("server.sha256", other, sizeof other);
		snprintf(want, sizeof want,
		         "fingerprint does not match: got %s", fp);
		expect_refused("selfsigned.pem", &p, want);
	}
	/* A pin wins even with certcheck off. */
	p.no_certcheck = true;
	expect_refused("selfsigned.pem", &p, "fingerprint does not match");
}

static void
test_sha1_pin(void)
{
	struct tls_params p = params();
	struct srv o = {.cert = "server.pem"};
	struct outcome r;
	char cmd[PATH_MAX + 64], fp[128] = "";
	FILE *f;

	snprintf(cmd, sizeof cmd,
	         "certtool --fingerprint --hash sha1 --infile '%s'",
	         cf("server.pem"));
	f = popen(cmd, "r");
	if (f) {
		if (fgets(fp, sizeof fp, f))
			fp[strcspn(fp, "\r\n")] = '\0';
		pclose(f);
	}
	CHECK_INT(strlen(fp), 40);
	p.fingerprint = fp;
	session(&o, &p, &r);
	CHECK_INT(r.rc, 0);
	CHECK(strstr(r.transcript, "pinned SHA-1 fingerprint (a SHA-256 pin "
	                           "is preferred)") != NULL);
}

static void
test_certcheck_off(void)
{
	struct tls_params p = params();
	struct srv o = {.cert = "selfsigned.pem"};
	struct outcome r;

	p.no_certcheck = true;
	p.host = "anything.example";
	session(&o, &p, &r);
	CHECK_INT(r.rc, 0);
	CHECK(strstr(r.transcript, "NOT VERIFIED (tls_certcheck is off)") !=
	      NULL);
}

static void
test_client_certificate(void)
{
	struct tls_params p = params();
	struct srv o = {.cert = "server.pem", .want_client_cert = true};
	struct outcome r;

	p.cert_file = cf("client.pem");
	p.key_file = cf("client.key");
	session(&o, &p, &r);
	CHECK_INT(r.rc, 0);
	CHECK(strncmp(r.pong, "PONG cert=ok", 12) == 0);

	/* Without one the server refuses. */
	p.cert_file = NULL;
	p.key_file = NULL;
	session(&o, &p, &r);
	CHECK(r.rc != 0);
	CHECK(r.server != 0);
	CHECK(strstr(r.err.msg, "the server sent the TLS alert") != NULL);
}

static void
test_tls_1_1_refused(void)
{
	struct tls_params p = params();
	struct srv o = {.cert = "server.pem",
	                .priorities = "NORMAL:-VERS-ALL:+VERS-TLS1.1"};
	struct outcome r;

	session(&o, &p, &r);
	CHECK_INT(r.rc, -1);
	CHECK_INT(r.err.kind, ERROR_PROTOCOL);
	CHECK(r.server != 0);

	/* Even when tls_priorities allows it. */
	p.priorities = "NORMAL:+VERS-TLS1.1";
	session(&o, &p, &r);
	CHECK_INT(r.rc, -1);
	CHECK_INT(r.err.kind, ERROR_PROTOCOL);
	if (!strstr(r.err.msg, "RFC 8997") && !strstr(r.err.msg, "handshake"))
		fprintf(stderr, "tls1.1: %s\n", r.err.msg);
}

/* The value after "name=" in a PONG line. */
static void
pong_field(const char *pong, const char *name, char *out, size_t n)
{
	const char *p = strstr(pong, name);

	out[0] = '\0';
	if (p)
		str_copy(out, n, p + strlen(name));
	out[strcspn(out, " ")] = '\0';
}

/* The client's binding of each kind equals the server's. */
static void
binding_case(const char *prio, enum tls_binding preferred)
{
	struct srv o = {.cert = "server.pem", .priorities = prio};
	struct tls_params p = params();
	struct conn *c = NULL;
	struct error err;
	char pong[LINE_MAX_TEST], mine[TLS_BINDING_B64_MAX], theirs[200];
	int port = 0;
	pid_t pid = start_server(&o, &port);
	struct conn_target tg = target(port);

	error_clear(&err);
	CHECK_INT(conn_open_tls(&c, &tg, &p, NULL, &err), 0);
	if (!c) {
		finish_server(pid);
		return;
	}
	CHECK_INT(conn_channel_binding_type(c), preferred);
	CHECK_INT(ask(c, "PING", pong, &err), 0);
	CHECK_INT(conn_channel_binding(c, TLS_BINDING_EXPORTER, mine,
	                               sizeof mine, &err),
	          0);
	pong_field(pong, "exporter=", theirs, sizeof theirs);
	CHECK_INT(strlen(mine), 44); /* 32 bytes (RFC 9266) */
	CHECK_STR(mine, theirs);
	if (preferred == TLS_BINDING_UNIQUE || strstr(prio, "TLS1.2") != NULL) {
		CHECK_INT(conn_channel_binding(c, TLS_BINDING_UNIQUE, mine,
		                               sizeof mine, &err),
		          0);
		pong_field(pong, "unique=", theirs, sizeof theirs);
		CHECK(strlen(mine) > 0);
		CHECK_STR(mine, theirs);
	} else {
		CHECK_INT(conn_channel_binding(c, TLS_BINDING_UNIQUE, mine,
		                               sizeof mine, &err),
		          -1);
		CHECK(strstr(err.msg, "tls-unique is not defined") != NULL);
	}
	conn_close(c);
	CHECK_INT(finish_server(pid), 0);
}

static void
test_channel_binding(void)
{
	binding_case("NORMAL", TLS_BINDING_EXPORTER);
	/* TLS 1.2: tls-unique by default; tls-exporter too, with the
	 * extended master secret (GnuTLS's default). */
	binding_case("NORMAL:-VERS-ALL:+VERS-TLS1.2", TLS_BINDING_UNIQUE);
	/* Without it, tls-exporter is unsafe and tls-unique is used. */
	{
		struct srv o = {.cert = "server.pem",
		                .priorities = "NORMAL:-VERS-ALL:+VERS-TLS1.2:%"
		                              "NO_EXTENSIONS"};
		struct tls_params p = params();
		struct conn *c = NULL;
		struct error err;
		char buf[TLS_BINDING_B64_MAX];
		int port = 0;
		pid_t pid = start_server(&o, &port);
		struct conn_target tg = target(port);

		error_clear(&err);
		if (conn_open_tls(&c, &tg, &p, NULL, &err) == 0) {
			CHECK_INT(conn_channel_binding_type(c),
			          TLS_BINDING_UNIQUE);
			CHECK_INT(conn_channel_binding(c, TLS_BINDING_EXPORTER,
			                               buf, sizeof buf, &err),
			          -1);
			CHECK(strstr(err.msg, "extended master secret") !=
			      NULL);
			CHECK_INT(conn_channel_binding(c, TLS_BINDING_UNIQUE,
			                               buf, sizeof buf, &err),
			          0);
		} else {
			fprintf(stderr, "no-EMS session: %s\n", err.msg);
		}
		conn_close(c);
		finish_server(pid);
	}
}

/* STARTTLS: a plaintext line, then the handshake. */
static int
starttls_case(const char *plain, const char *late, struct error *err)
{
	struct srv o = {.cert = "server.pem", .plain = plain, .late = late};
	struct tls_params p = params();
	struct conn *c = NULL;
	char line[LINE_MAX_TEST];
	size_t len;
	int port = 0, rc;
	pid_t pid = start_server(&o, &port);
	struct conn_target tg = target(port);

	error_clear(err);
	rc = conn_open(&c, &tg, NULL, err);
	if (rc == 0)
		rc =
		    conn_read_line(c, line, sizeof line, &len, TIMEOUT_MS, err);
	if (rc == 0 && late)
		usleep(300 * 1000);
	if (rc == 0)
		rc = conn_start_tls(c, &p, err);
	if (rc == 0)
		rc = ask(c, "PING", line, err);
	if (rc == 0)
		CHECK(strncmp(line, "PONG", 4) == 0);
	conn_close(c);
	finish_server(pid);
	return rc;
}

static void
test_starttls(void)
{
	struct error err;
	const char *inj = "the server sent data after its STARTTLS reply "
	                  "(possible response injection); aborting";

	CHECK_INT(starttls_case("220 go ahead\r\n", NULL, &err), 0);
	/* In the same segment as the 220. */
	CHECK_INT(starttls_case("220 go ahead\r\n250 injected\r\n", NULL, &err),
	          -1);
	CHECK_INT(err.kind, ERROR_PROTOCOL);
	CHECK_STR(err.msg, inj);
	/* Arriving later, but before our handshake. */
	CHECK_INT(starttls_case("220 go ahead\r\n", "250 late\r\n", &err), -1);
	CHECK_STR(err.msg, inj);
}

static void
test_implicit_tls_plaintext_server(void)
{
	struct srv o = {.mode = SRV_PLAIN,
	                .plain = "220 plain.example ESMTP\r\n"};
	struct tls_params p = params();
	struct outcome r;

	session(&o, &p, &r);
	CHECK_INT(r.rc, -1);
	CHECK_INT(r.err.kind, ERROR_PROTOCOL);
	/* Refused before or during the handshake, depending on timing. */
	CHECK(strstr(r.err.msg, "TLS handshake failed") != NULL ||
	      strstr(r.err.msg, "does not speak implicit TLS") != NULL);
	CHECK(strstr(r.err.msg, "needs STARTTLS") != NULL);
}

static void
test_handshake_timeout(void)
{
	struct srv o = {.mode = SRV_SILENT};
	struct tls_params p = params();
	struct outcome r;
	int64_t start = now_ms();

	p.timeout_ms = 300;
	session(&o, &p, &r);
	CHECK_INT(r.rc, -1);
	CHECK_INT(r.err.kind, ERROR_TEMPFAIL);
	CHECK_STR(r.err.msg, "timed out after 0.3 s in the TLS handshake");
	CHECK(now_ms() - start < 3000);
}

/* After close_notify: end of stream.  A bare TCP close: an error that
 * says so, unless the protocol had ended. */
static void
closing_case(bool expect_close, const char *want)
{
	struct srv o = {.cert = "server.pem"};
	struct tls_params p = params();
	struct conn *c = NULL;
	struct error err;
	char line[LINE_MAX_TEST];
	size_t len;
	int port = 0;
	pid_t pid = start_server(&o, &port);
	struct conn_target tg = target(port);

	error_clear(&err);
	CHECK_INT(conn_open_tls(&c, &tg, &p, NULL, &err), 0);
	if (!c) {
		finish_server(pid);
		return;
	}
	if (expect_close)
		conn_expect_close(c);
	CHECK_INT(ask(c, want ? "DROP" : "BYE", line, &err), -1);
	CHECK_INT(err.kind, ERROR_TEMPFAIL);
	if (want) {
		if (!strstr(err.msg, want))
			fprintf(stderr, "closing: %s\n", err.msg);
		CHECK(strstr(err.msg, want) != NULL);
	} else {
		CHECK_STR(err.msg, "connection closed by server");
	}
	(void)len;
	conn_close(c);
	finish_server(pid);
}

static void
test_closing(void)
{
	closing_case(false, NULL);
	closing_case(false, "without a TLS close_notify");
	closing_case(true, "connection closed by server");
}

/* A large write goes out in full records and arrives whole. */
static void
test_bulk(void)
{
	struct srv o = {.cert = "server.pem"};
	struct tls_params p = params();
	struct conn *c = NULL;
	struct error err;
	char line[LINE_MAX_TEST], cmd[64];
	size_t total = 300 * 1000, len;
	char *data = xmalloc(total);
	int port = 0;
	pid_t pid = start_server(&o, &port);
	struct conn_target tg = target(port);

	memset(data, 'x', total);
	error_clear(&err);
	CHECK_INT(conn_open_tls(&c, &tg, &p, NULL, &err), 0);
	if (c) {
		snprintf(cmd, sizeof cmd, "BULK %zu\r\n", total);
		CHECK_INT(conn_write(c, cmd, strlen(cmd), TIMEOUT_MS, &err), 0);
		CHECK_INT(conn_write(c, data, total, TIMEOUT_MS, &err), 0);
		CHECK_INT(conn_flush(c, TIMEOUT_MS, &err), 0);
		CHECK_INT(conn_read_line(c, line, sizeof line, &len, TIMEOUT_MS,
		                         &err),
		          0);
		CHECK_STR(line, "GOT 300000");
		CHECK_INT(conn_pending(c), 0);
	}
	conn_close(c);
	finish_server(pid);
	free(data);
}

static void
expect_config_error(const struct tls_params *p, const char *want)
{
	struct srv o = {.cert = "server.pem"};
	struct outcome r;

	session(&o, p, &r);
	CHECK_INT(r.rc, -1);
	CHECK_INT(r.err.kind, ERROR_CONFIG);
	if (!strstr(r.err.msg, want))
		fprintf(stderr, "config: %s\n", r.err.msg);
	CHECK(strstr(r.err.msg, want) != NULL);
}

static void
test_bad_parameters(void)
{
	struct tls_params p = params();

	p.fingerprint = "AB:CD";
	expect_config_error(&p, "tls_fingerprint: 2 bytes");
	p.fingerprint = "ZZ:00";
	expect_config_error(&p, "tls_fingerprint");
	p = params();
	p.trust_file = cf("no-such-file.pem");
	expect_config_error(&p, "cannot read tls_trust_file");
	p = params();
	p.priorities = "NORMAL:+NO-SUCH-THING";
	expect_config_error(&p, "tls_priorities");
	p = params();
	p.cert_file = cf("client.pem");
	expect_config_error(&p, "must be set together");
	p = params();
	p.crl_file = cf("nothing.pem");
	expect_config_error(&p, "cannot read tls_crl_file");
	/* Read whole by GnuTLS: a device would never end, a FIFO block. */
	p = params();
	p.trust_file = "/dev/zero";
	expect_config_error(&p, "tls_trust_file /dev/zero: it is not a "
	                        "regular file");
	p = params();
	p.crl_file = "/";
	expect_config_error(&p, "tls_crl_file /: it is a directory");
}

/* --- DANE (tls_params.dane, tlsdane.c) --- */

/* TLSA association data for CERT by SELECTOR (0 the certificate, 1 its
 * public key) and MTYPE (1 SHA-256, 2 SHA-512), computed by OpenSSL's
 * command line, not by the library under test, into out (bytes). */
static size_t
tlsa_data(const char *cert, int selector, int mtype, unsigned char *out,
          size_t n)
{
	char cmd[PATH_MAX * 2], hex[300];
	size_t len = 0;
	FILE *f;

	snprintf(cmd, sizeof cmd,
	         selector == 0 ? "openssl x509 -in '%s' -outform DER"
	                       : "openssl x509 -in '%s' -noout -pubkey | "
	                         "openssl pkey -pubin -outform DER",
	         cf(cert));
	snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd),
	         " | openssl dgst -%s -r | cut -d' ' -f1",
	         mtype == 2 ? "sha512" : "sha256");
	f = popen(cmd, "r");
	if (!f || !fgets(hex, sizeof hex, f))
		hex[0] = '\0';
	if (f)
		pclose(f);
	for (const char *h = hex; len < n && h[0] && h[1] && h[0] != '\n';
	     h += 2) {
		unsigned v;

		if (sscanf(h, "%2x", &v) != 1)
			break;
		out[len++] = (unsigned char)v;
	}
	CHECK(len == (mtype == 2 ? 64u : 32u));
	return len;
}

/* A server certificate file followed by the test CA: a chain as servers
 * send it when a DANE-TA(2) record names their CA. */
static const char *
chain_file(const char *cert)
{
	static char name[64];
	char cmd[PATH_MAX * 3];

	snprintf(name, sizeof name, "chain-%s", cert);
	snprintf(cmd, sizeof cmd, "cat '%s' '%s' >'%s'", cf(cert), cf("ca.pem"),
	         cf(name));
	CHECK(system(cmd) == 0);
	return name;
}

struct dane_case {
	unsigned char data[4][64];
	struct tls_tlsa tlsa[4];
	const char *names[2];
	struct tls_dane dane;
	struct tls_info info;
};

/* Record k of c: USAGE SELECTOR MTYPE computed from CERT. */
static void
dane_record(struct dane_case *c, size_t k, int usage, int selector, int mtype,
            const char *cert)
{
	c->tlsa[k].usage = (unsigned char)usage;
	c->tlsa[k].selector = (unsigned char)selector;
	c->tlsa[k].mtype = (unsigned char)mtype;
	c->tlsa[k].data = c->data[k];
	c->tlsa[k].len =
	    tlsa_data(cert, selector, mtype, c->data[k], sizeof c->data[k]);
	if (c->dane.n < k + 1)
		c->dane.n = k + 1;
	c->dane.tlsa = c->tlsa;
}

/* A session with server certificate file CERT judged by c's records
 * only: the trust file named does not exist, and is never read. */
static void
dane_session(struct dane_case *c, const char *cert, const char *name,
             struct outcome *r)
{
	struct tls_params p = params();
	struct srv o = {.cert = cert};

	c->names[0] = name;
	c->dane.names = c->names;
	c->dane.nnames = name ? 1 : 0;
	p.trust_file = cf("no-such-ca.pem");
	p.host = "mx.example.test";
	p.dane = &c->dane;
	tls_info_init(&c->info);
	p.info = &c->info;
	session(&o, &p, r);
}

static void
expect_dane_refused(struct dane_case *c, const struct outcome *r,
                    const char *reason)
{
	CHECK_INT(r->rc, -1);
	CHECK_INT(r->err.kind, ERROR_PROTOCOL);
	if (!strstr(r->err.msg, reason))
		fprintf(stderr, "DANE refusal: %s\n", r->err.msg);
	CHECK(strstr(r->err.msg, reason) != NULL);
	CHECK(r->server != 0); /* no finished handshake */
	CHECK(c->info.dane && c->info.verify_ran && !c->info.verified);
	tls_info_clear(&c->info);
}

/* DANE-EE(3): the server's certificate or key matches; its name, issuer
 * and dates are not looked at (RFC 7672 3.1.1), nor the trust store. */
static void
test_dane_ee(void)
{
	static const char *certs[] = {"server.pem", "wronghost.pem",
	                              "expired.pem", "selfsigned.pem",
	                              "unknownca.pem"};
	struct outcome r;

	for (size_t i = 0; i < sizeof certs / sizeof *certs; i++) {
		struct dane_case c = {0};

		dane_record(&c, 0, 3, 1, 1, certs[i]);
		dane_session(&c, certs[i], "mx.example.test", &r);
		if (r.rc != 0)
			fprintf(stderr, "%s: %s\n", certs[i], r.err.msg);
		CHECK_INT(r.rc, 0);
		CHECK(strstr(r.pong, "PONG") != NULL);
		CHECK(c.info.dane && c.info.verified);
		CHECK_STR(c.info.verdict, "trusted by DANE: record 3 1 1 "
		                          "(DANE-EE) matched the server's "
		                          "certificate");
		CHECK_STR(c.info.trust,
		          "the server's TLSA records (DANE, RFC 7672)");
		CHECK(strstr(r.transcript, "certificate verification: trusted "
		                           "by DANE") != NULL);
		tls_info_clear(&c.info);
	}
	/* The whole certificate, and SHA-512. */
	{
		struct dane_case c = {0};

		dane_record(&c, 0, 3, 0, 2, "server.pem");
		dane_session(&c, "server.pem", NULL, &r);
		CHECK_INT(r.rc, 0);
		CHECK_STR(c.info.verdict, "trusted by DANE: record 3 0 2 "
		                          "(DANE-EE) matched the server's "
		                          "certificate");
		tls_info_clear(&c.info);
	}
}

/* A record of another certificate: refused, whatever the CA would say. */
static void
test_dane_ee_mismatch(void)
{
	struct dane_case c = {0};
	struct outcome r;

	dane_record(&c, 0, 3, 1, 1, "client.pem");
	dane_record(&c, 1, 3, 0, 1, "ca.pem");
	dane_session(&c, "server.pem", "mx.example.test", &r);
	expect_dane_refused(&c, &r,
	                    "TLS certificate of mx.example.test refused: "
	                    "record 3 1 1 (DANE-EE) does not match the "
	                    "server's certificate; record 3 0 1 (DANE-EE) "
	                    "does not match the server's certificate");
	CHECK(strstr(r.err.msg, "tls_fingerprint") == NULL); /* no pin advice */
}

/* DANE-TA(2): the CA the server sends matches, the chain verifies up to
 * it, and the server's certificate carries a reference identifier. */
static void
test_dane_ta(void)
{
	const char *chain = chain_file("server.pem");
	struct dane_case c = {0};
	struct outcome r;

	dane_record(&c, 0, 2, 0, 1, "ca.pem");
	dane_session(&c, chain, "localhost", &r);
	CHECK_INT(r.rc, 0);
	CHECK_STR(c.info.verdict,
	          "trusted by DANE: record 2 0 1 (DANE-TA) matched "
	          "certificate 2 of the chain; the server's verified up to "
	          "it, its name checked");
	tls_info_clear(&c.info);
	/* Its public key, SHA-512. */
	memset(&c, 0, sizeof c);
	dane_record(&c, 0, 2, 1, 2, "ca.pem");
	dane_session(&c, chain, "localhost", &r);
	CHECK_INT(r.rc, 0);
	tls_info_clear(&c.info);
}

static void
test_dane_ta_refusals(void)
{
	struct dane_case c = {0};
	struct outcome r;

	/* Another name than the certificate's. */
	dane_record(&c, 0, 2, 0, 1, "ca.pem");
	dane_session(&c, chain_file("server.pem"), "mx.example.test", &r);
	expect_dane_refused(&c, &r,
	                    "record 2 0 1 (DANE-TA) matched, but the "
	                    "certificate it vouches for is not for "
	                    "mx.example.test");
	/* Dates count under a trust anchor. */
	dane_session(&c, chain_file("expired.pem"), "localhost", &r);
	expect_dane_refused(&c, &r,
	                    "record 2 0 1 (DANE-TA) matched, but the chain up "
	                    "to the certificate it matched does not verify");
	/* The server sends only its own certificate. */
	dane_session(&c, "server.pem", "localhost", &r);
	expect_dane_refused(&c, &r,
	                    "record 2 0 1 (DANE-TA) matches no CA certificate "
	                    "the server sent (it sent only its own)");
	/* A CA that did not issue it. */
	memset(&c, 0, sizeof c);
	dane_record(&c, 0, 2, 0, 1, "other-ca.pem");
	dane_session(&c, chain_file("server.pem"), "localhost", &r);
	expect_dane_refused(&c, &r,
	                    "record 2 0 1 (DANE-TA) matches no CA "
	                    "certificate the server sent");
	CHECK(strstr(r.err.msg, "only its own") == NULL);
}

/* One record that cannot match never hides one that does, in either
 * order; unusable records are skipped. */
static void
test_dane_records_each_judged(void)
{
	struct dane_case c = {0};
	struct outcome r;

	dane_record(&c, 0, 2, 0, 1, "ca.pem");     /* no CA sent */
	dane_record(&c, 1, 1, 1, 1, "server.pem"); /* PKIX-EE: unusable */
	dane_record(&c, 2, 3, 1, 1, "server.pem"); /* matches */
	dane_session(&c, "server.pem", "localhost", &r);
	CHECK_INT(r.rc, 0);
	CHECK_STR(c.info.verdict, "trusted by DANE: record 3 1 1 (DANE-EE) "
	                          "matched the server's certificate");
	tls_info_clear(&c.info);
	/* The matching one unusable (PKIX-EE): refused, and said. */
	c.dane.n = 2;
	dane_session(&c, "server.pem", "localhost", &r);
	expect_dane_refused(&c, &r,
	                    "matches no CA certificate the server "
	                    "sent (it sent only its own); 1 unusable "
	                    "record ignored");
}

/* tlsdane_usable: RFC 7672 3.1.3's usages, known selectors and matching
 * types, and digests of their length. */
static void
test_dane_usable(void)
{
	static const unsigned char d[64];
	struct {
		unsigned char u, s, m;
		size_t len;
		bool usable;
	} cases[] = {
	    {3, 1, 1, 32, true},  {3, 0, 1, 32, true},  {2, 0, 2, 64, true},
	    {2, 1, 0, 10, true},  {0, 0, 1, 32, false}, {1, 1, 1, 32, false},
	    {4, 1, 1, 32, false}, {3, 2, 1, 32, false}, {3, 1, 3, 32, false},
	    {3, 1, 1, 31, false}, {3, 1, 2, 32, false}, {3, 1, 0, 0, false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct tls_tlsa t = {cases[i].u, cases[i].s, cases[i].m, d,
		                     cases[i].len};

		if (tlsdane_usable(&t) != cases[i].usable)
			fprintf(stderr, "case %zu: %u %u %u len %zu\n", i,
			        t.usage, t.selector, t.mtype, t.len);
		CHECK(tlsdane_usable(&t) == cases[i].usable);
	}
}

/* Records published, none usable: TLS, and any certificate (RFC 7672
 * 2.2), said as not authenticated. */
static void
test_dane_none_usable(void)
{
	struct dane_case c = {0};
	struct outcome r;

	dane_record(&c, 0, 1, 1, 1, "client.pem");
	dane_record(&c, 1, 0, 0, 1, "ca.pem");
	dane_session(&c, "unknownca.pem", "localhost", &r);
	CHECK_INT(r.rc, 0);
	CHECK(c.info.dane && c.info.verified);
	CHECK_STR(c.info.verdict,
	          "NOT AUTHENTICATED (none of the server's 2 TLSA records is "
	          "usable for SMTP: encrypted, any certificate taken, RFC "
	          "7672 2.2)");
	tls_info_clear(&c.info);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (make_certs() < 0) {
		fprintf(stderr,
		        "cannot make test certificates in %s "
		        "(is MAILPOST_SRCDIR set, certtool installed?)\n",
		        certdir);
		CHECK(0);
		return unit_done();
	}
	test_good_certificate();
	test_default_groups();
	test_info_trusted();
	test_info_summary();
	test_info_refused();
	test_ip_address();
	test_refusals();
	test_refusal_lists_every_reason();
	test_host_override();
	test_system_trust_refuses_test_ca();
	test_empty_trust();
	test_fingerprint_pins();
	test_sha1_pin();
	test_certcheck_off();
	test_client_certificate();
	test_tls_1_1_refused();
	test_channel_binding();
	test_starttls();
	test_implicit_tls_plaintext_server();
	test_handshake_timeout();
	test_closing();
	test_bulk();
	test_bad_parameters();
	test_dane_usable();
	test_dane_ee();
	test_dane_ee_mismatch();
	test_dane_ta();
	test_dane_ta_refusals();
	test_dane_records_each_judged();
	test_dane_none_usable();
	run("rm", "-rf", certdir);
	return unit_done();
}
