/*
 * castore_test.c - PEM bundles indexed by subject (castore.h): synthetic
 * certificates whose issuer and subject are known, in every layout a
 * bundle comes in (text between blocks, CRLF, spaces, 76-column lines, a
 * subject past the quick prefix); every way a block is refused, with the
 * certificate and line; every cut of a certificate's DER refused; and,
 * where the machine has one, each CA of the system bundle's subject
 * against GnuTLS's own reading of it.
 */
#include "config.h"

#include <gnutls/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "castore.h"
#include "encode.h"
#include "unit.h"
#include "util.h"

#define DER_MAX 4096
#define PEM_MAX 8192

struct der {
	unsigned char b[DER_MAX];
	size_t n;
};

/* Append an element: tag, DER length, content. */
static void
put(struct der *d, unsigned char tag, const void *content, size_t len)
{
	d->b[d->n++] = tag;
	if (len < 0x80) {
		d->b[d->n++] = (unsigned char)len;
	} else if (len < 0x100) {
		d->b[d->n++] = 0x81;
		d->b[d->n++] = (unsigned char)len;
	} else {
		d->b[d->n++] = 0x82;
		d->b[d->n++] = (unsigned char)(len >> 8);
		d->b[d->n++] = (unsigned char)len;
	}
	memcpy(d->b + d->n, content, len);
	d->n += len;
}

/* A Name of one RDN, CN = cn, as DER into d. */
static void
name(struct der *d, const char *cn)
{
	static const unsigned char cn_oid[] = {0x55, 0x04, 0x03};
	struct der atv = {.n = 0}, set = {.n = 0}, seq = {.n = 0};

	put(&atv, 0x06, cn_oid, sizeof cn_oid);
	put(&atv, 0x0c, cn, strlen(cn));
	put(&seq, 0x30, atv.b, atv.n);
	put(&set, 0x31, seq.b, seq.n);
	put(d, 0x30, set.b, set.n);
}

/* A certificate as far as castore reads it, its validity's content
 * validity[0..n-1], and a made-up rest. */
static void
cert_valid(struct der *out, const char *issuer, const char *subject,
           const void *validity, size_t n)
{
	static const unsigned char v3[] = {0x02, 0x01, 0x02};
	static const unsigned char alg[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
	static const unsigned char serial[] = {0x01, 0x23};
	struct der tbs = {.n = 0}, body = {.n = 0};

	put(&tbs, 0xa0, v3, sizeof v3);
	put(&tbs, 0x02, serial, sizeof serial);
	put(&tbs, 0x30, alg, sizeof alg);
	name(&tbs, issuer);
	put(&tbs, 0x30, validity, n);
	name(&tbs, subject);
	put(&tbs, 0x30, alg, sizeof alg); /* stands for the key */
	put(&body, 0x30, tbs.b, tbs.n);
	put(&body, 0x30, alg, sizeof alg);
	put(&body, 0x03, "\0sig", 4);
	out->n = 0;
	put(out, 0x30, body.b, body.n);
}

/* The same with an empty validity. */
static void
cert(struct der *out, const char *issuer, const char *subject)
{
	cert_valid(out, issuer, subject, "", 0);
}

/* der as a PEM block, lines of `width` characters ended by eol. */
static void
pem(char *out, const struct der *d, size_t width, const char *eol)
{
	char line[B64_LINE_SIZE(DER_MAX) + 1];
	size_t len = b64_line(d->b, d->n, line);

	sprintf(out, "-----BEGIN CERTIFICATE-----%s", eol);
	for (size_t i = 0; i < len; i += width)
		sprintf(out + strlen(out), "%.*s%s",
		        (int)(len - i < width ? len - i : width), line + i,
		        eol);
	sprintf(out + strlen(out), "-----END CERTIFICATE-----%s", eol);
}

/* The subject castore indexed for certificate i is the Name of cn. */
static bool
subject_is(const struct castore *s, size_t i, const char *cn)
{
	struct der want = {.n = 0};

	name(&want, cn);
	return castore_subject_is(s, i, want.b, want.n);
}

static void
test_layouts(void)
{
	static const struct {
		const char *what;
		size_t width;
		const char *eol;
	} layouts[] = {
	    {"64 columns, LF", 64, "\n"},
	    {"64 columns, CRLF", 64, "\r\n"},
	    {"76 columns", 76, "\n"},
	    {"one line", 100000, "\n"},
	};

	for (size_t k = 0; k < sizeof layouts / sizeof *layouts; k++) {
		struct der a, b;
		char text[3 * PEM_MAX] = "A title\n=======\n";
		struct castore *s;
		struct error err;
		size_t len;
		unsigned char *der;
		const char *why = NULL;

		cert(&a, "Root", "Root");
		cert(&b, "Root", "Intermediate");
		pem(text + strlen(text), &a, layouts[k].width, layouts[k].eol);
		strcat(text, "# between blocks \x01\x02\n");
		pem(text + strlen(text), &b, layouts[k].width, layouts[k].eol);
		CHECK(castore_scan(&s, text, strlen(text), &err) == 0);
		if (!s) {
			fprintf(stderr, "  (%s: %s)\n", layouts[k].what,
			        err.msg);
			continue;
		}
		CHECK_INT(castore_count(s), 2);
		CHECK(subject_is(s, 0, "Root"));
		CHECK(subject_is(s, 1, "Intermediate"));
		CHECK(!subject_is(s, 1, "Root"));
		CHECK_INT(castore_line(s, 0), 3);
		der = castore_der(s, 1, &len, &why);
		CHECK(der != NULL);
		if (der)
			CHECK_MEM(der, len, b.b, b.n);
		free(der);
		castore_free(s);
	}
}

/* Spaces inside the lines and a subject past the quick prefix: the slow
 * way finds them. */
static void
test_slow_way(void)
{
	struct der a;
	char text[PEM_MAX], spaced[2 * PEM_MAX], cn[700];
	struct castore *s;
	struct error err;
	size_t o = 0;

	cert(&a, "Issuer", "Spaced");
	pem(text, &a, 64, "\n");
	/* Inside the base64 text only, between its lines' characters. */
	for (size_t i = 0, end = strlen(text) - 26; text[i]; i++) {
		spaced[o++] = text[i];
		if (i > 30 && i < end && i % 7 == 0)
			spaced[o++] = ' ';
	}
	spaced[o] = '\0';
	CHECK(castore_scan(&s, spaced, o, &err) == 0);
	CHECK(s && castore_count(s) == 1 && subject_is(s, 0, "Spaced"));
	castore_free(s);

	/* The subject at every place around the quick way's two prefixes
	 * (256 and 512 bytes) and past them: the whole name is read. */
	int right = 0, tried = 0;

	for (size_t len = 150; len < sizeof cn - 1; len++, tried++) {
		memset(cn, 'x', len);
		cn[len] = '\0';
		cert(&a, cn, "A subject of some length, here");
		pem(text, &a, 64, "\n");
		if (castore_scan(&s, text, strlen(text), &err) == 0 &&
		    castore_count(s) == 1 &&
		    subject_is(s, 0, "A subject of some length, here"))
			right++;
		castore_free(s);
	}
	CHECK_INT(right, tried);
}

/* text is refused with a message holding `words`. */
static void
expect_refused(const char *what, const char *text, const char *words)
{
	struct castore *s;
	struct error err;
	int rc = castore_scan(&s, text, strlen(text), &err);

	CHECK(rc < 0 && s == NULL);
	if (rc < 0) {
		CHECK(err.kind == ERROR_CONFIG);
		if (!strstr(err.msg, words))
			fprintf(stderr, "  %s: \"%s\" lacks \"%s\"\n", what,
			        err.msg, words);
		CHECK(strstr(err.msg, words) != NULL);
	} else {
		fprintf(stderr, "  %s: accepted\n", what);
		castore_free(s);
	}
}

static void
test_refused(void)
{
	struct der a;
	char good[PEM_MAX], text[3 * PEM_MAX], where[64];
	size_t lines = 0;
	char *p;

	cert(&a, "Root", "Root");
	pem(good, &a, 64, "\n");
	for (p = good; (p = strchr(p, '\n')) != NULL; p++)
		lines++;

	snprintf(text, sizeof text, "%s%.*s\n-----END CERTIFICATE-----\n", good,
	         60, good);
	snprintf(where, sizeof where, "certificate 2 (line %zu): ", lines + 1);
	expect_refused("cut base64", text, where);
	snprintf(text, sizeof text, "%s", good);
	p = strchr(text, '\n') + 10;
	*p = '!';
	expect_refused("a bad byte", text,
	               "certificate 1 (line 1): a byte that is not base64");
	snprintf(text, sizeof text, "%s", good);
	p = strchr(text, '\n') + 5;
	*p = '=';
	expect_refused("a '=' inside", text, "misplaced '='");
	snprintf(text, sizeof text, "%.*s", (int)(strlen(good) - 26), good);
	expect_refused("no END", text, "no -----END CERTIFICATE----- line");
	snprintf(text, sizeof text, "%.*s-----END PRIVATE KEY-----\n",
	         (int)(strlen(good) - 26), good);
	expect_refused("another END", text, "another -----END line");
	expect_refused("empty",
	               "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----",
	               "the block is empty");
	/* A length of 2^32 - 1 where the certificate's stands: "MIT/////"
	 * is 30 84 ff ff ff ff. */
	snprintf(text, sizeof text, "%s", good);
	p = strchr(text, '\n') + 1;
	memcpy(p, "MIT/////", 8);
	expect_refused("huge length", text, "not a DER certificate");
}

/* Every cut of a certificate's DER, re-encoded, is refused; and
 * castore_names never reads past a cut (ASan builds check). */
static void
test_every_cut(void)
{
	struct der a, cut;
	char text[PEM_MAX];
	size_t at[2], len[2];
	int accepted = 0, named = 0;

	cert(&a, "Issuer", "Subject");
	CHECK(castore_names(a.b, a.n, at, len));
	for (size_t n = 0; n < a.n; n++) {
		struct castore *s;
		struct error err;
		unsigned char *copy = xmalloc(n ? n : 1);

		memcpy(copy, a.b, n);
		named += castore_names(copy, n, at, len);
		free(copy);
		memcpy(cut.b, a.b, n);
		cut.n = n;
		pem(text, &cut, 64, "\n");
		if (castore_scan(&s, text, strlen(text), &err) == 0) {
			accepted++;
			castore_free(s);
		}
	}
	CHECK_INT(accepted, 0);
	CHECK_INT(named, 0);
}

/* The quick way (regular lines): every width it takes, names of every
 * length (so that the subject starts and ends at each place of a quad and
 * a line, and the padding is 0, 1 or 2), and the blocks it leaves to the
 * line-by-line way, which decides them as before. */
static void
test_quick_way(void)
{
	static const size_t widths[] = {8, 12, 16, 44, 64, 68};
	char text[PEM_MAX], cn[100];
	struct castore *s;
	struct error err;
	struct der a;
	int right = 0, tried = 0;

	for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
		for (size_t len = 1; len < sizeof cn - 1; len++, tried++) {
			memset(cn, 'a' + (char)(len % 26), len);
			cn[len] = '\0';
			cert(&a, "Issuer", cn);
			pem(text, &a, widths[w], "\n");
			if (castore_scan(&s, text, strlen(text), &err) == 0 &&
			    castore_count(s) == 1 && subject_is(s, 0, cn))
				right++;
			castore_free(s);
		}
	}
	CHECK_INT(right, tried);

	/* A '-' in the base64 after the subject: not the quick way's (its
	 * END line is the first '-'); the line-by-line way decodes a block
	 * this short whole and refuses it, as it did. */
	cert(&a, "Issuer", "Dash");
	pem(text, &a, 8, "\n");
	text[strlen(text) - 30] = '-';
	CHECK(castore_scan(&s, text, strlen(text), &err) < 0);
	CHECK(strstr(err.msg, "not base64") != NULL);

	/* A line one character short in the middle: read line by line. */
	pem(text, &a, 8, "\n");
	memmove(text + 40, text + 41, strlen(text + 41) + 1);
	CHECK(castore_scan(&s, text, strlen(text), &err) < 0);
	CHECK(strstr(err.msg, "certificate 1 (line 1)") != NULL);

	/* A bad byte inside the issuer, which the quick way does not
	 * decode: found when the CA is decoded for a chain that names it. */
	cert(&a, "Issuer with a long name", "Bad issuer");
	pem(text, &a, 64, "\n");
	text[sizeof "-----BEGIN CERTIFICATE-----\n" - 1 + 40] = '!';
	CHECK(castore_scan(&s, text, strlen(text), &err) == 0);
	if (s) {
		size_t len;
		const char *why = NULL;
		unsigned char *der = castore_der(s, 0, &len, &why);

		CHECK(der == NULL);
		CHECK(why && strstr(why, "not base64"));
		free(der);
	}
	castore_free(s);
}

/* castore_not_after on made-up validities: RFC 5280's forms, and -1 for
 * everything it leaves to GnuTLS. */
static void
test_not_after(void)
{
	static const struct {
		unsigned char tag;
		const char *time;
		int64_t want;
	} cases[] = {
	    {0x17, "700101000000Z", 0},
	    {0x17, "491231235959Z", 2524607999},
	    {0x17, "240229120000Z", 1709208000},
	    {0x18, "20500101000000Z", 2524608000},
	    {0x18, "21060207062816Z", 4294967296},
	    {0x17, "500101000000Z", -1},     /* 1950: GnuTLS says 0 */
	    {0x18, "99991231235959Z", -1},   /* no well-defined end */
	    {0x17, "230229000000Z", -1},     /* not a leap year */
	    {0x17, "240431000000Z", -1},     /* April 31 */
	    {0x17, "241301000000Z", -1},     /* month 13 */
	    {0x17, "240101240000Z", -1},     /* hour 24 */
	    {0x17, "2401010000Z", -1},       /* no seconds */
	    {0x17, "240101000000z", -1},     /* not Z */
	    {0x17, "240101000000+0100", -1}, /* an offset */
	    {0x17, "24010100000aZ", -1},     /* not a digit */
	    {0x18, "240101000000Z", -1},     /* UTCTime's form, wrong tag */
	    {0x18, "20240101000000.5Z", -1}, /* fractions */
	    {0x04, "240101000000Z", -1},     /* not a Time */
	};
	static const unsigned char before[] = "000101000000Z";

	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		struct der v = {.n = 0}, a;

		put(&v, 0x17, before, sizeof before - 1);
		put(&v, cases[k].tag, cases[k].time, strlen(cases[k].time));
		cert_valid(&a, "Issuer", "Subject", v.b, v.n);
		if (castore_not_after(a.b, a.n) != cases[k].want)
			fprintf(stderr, "  (%s)\n", cases[k].time);
		CHECK(castore_not_after(a.b, a.n) == cases[k].want);
	}

	/* A third time in the validity, or only one: not RFC 5280's. */
	struct der v = {.n = 0}, a;

	put(&v, 0x17, before, sizeof before - 1);
	cert_valid(&a, "Issuer", "Subject", v.b, v.n);
	CHECK(castore_not_after(a.b, a.n) == -1);
	put(&v, 0x17, before, sizeof before - 1);
	put(&v, 0x17, before, sizeof before - 1);
	cert_valid(&a, "Issuer", "Subject", v.b, v.n);
	CHECK(castore_not_after(a.b, a.n) == -1);
	/* Not a certificate. */
	CHECK(castore_not_after(a.b, 10) == -1);
}

/* Each CA of the system bundle: castore's subject is GnuTLS's raw DN, and
 * its notAfter GnuTLS's expiration time. */
static void
test_against_gnutls(const char *path)
{
	gnutls_x509_crt_t *list = NULL;
	unsigned n = 0;
	gnutls_datum_t data = {NULL, 0};
	struct castore *s;
	struct error err;
	int same = 0;

	if (gnutls_load_file(path, &data) < 0) {
		printf("# %s: not here, comparison with GnuTLS skipped\n",
		       path);
		return;
	}
	CHECK(gnutls_x509_crt_list_import2(&list, &n, &data,
	                                   GNUTLS_X509_FMT_PEM, 0) >= 0);
	CHECK(castore_open(&s, path, &err) == 0);
	if (s && castore_count(s) == n) {
		for (unsigned i = 0; i < n; i++) {
			gnutls_datum_t dn = {NULL, 0};
			size_t len;
			const char *why = NULL;
			unsigned char *der = castore_der(s, i, &len, &why);

			/* The DN is a copy of GnuTLS's, to be freed. */
			if (gnutls_x509_crt_get_raw_dn(list[i], &dn) == 0 &&
			    castore_subject_is(s, i, dn.data, dn.size) && der &&
			    castore_not_after(der, len) ==
			        (int64_t)gnutls_x509_crt_get_expiration_time(
			            list[i]))
				same++;
			gnutls_free(dn.data);
			free(der);
		}
	}
	CHECK(n > 0);
	CHECK_INT(same, n);
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(list[i]);
	gnutls_free(list);
	gnutls_free(data.data);
	castore_free(s);
}

static void
test_open(void)
{
	struct castore *s;
	struct error err;

	CHECK(castore_open(&s, "/nonexistent/ca.pem", &err) < 0);
	CHECK(strstr(err.msg, "No such file") != NULL);
	CHECK(castore_open(&s, "/", &err) < 0);
	CHECK_STR(err.msg, "it is a directory");
	CHECK(castore_open(&s, "/dev/zero", &err) < 0);
	CHECK_STR(err.msg, "it is not a regular file");
	CHECK(castore_open(&s, "/dev/null", &err) < 0);
}

/* A file over the limit is refused by its size, before it is read: a
 * sparse one costs nothing to make. */
static void
test_too_large(void)
{
	char path[] = "/tmp/castore_test.XXXXXX";
	struct castore *s = NULL;
	struct error err;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK(ftruncate(fd, (off_t)CASTORE_FILE_MAX + 1) == 0);
	close(fd);
	CHECK(castore_open(&s, path, &err) < 0);
	CHECK_STR(err.msg, "it is larger than 16 MiB");
	CHECK(s == NULL);
	unlink(path);
}

/* A file of two CAs in path, as castore_open maps it. */
static void
write_two(const char *path, struct der *a, struct der *b)
{
	char text[3 * PEM_MAX] = "";
	FILE *f = fopen(path, "w");

	cert(a, "Root", "Root");
	cert(b, "Root", "Intermediate");
	pem(text, a, 64, "\n");
	pem(text + strlen(text), b, 64, "\n");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* The file is mapped: cut short by another process while the store is
 * open, a read past its new end is a refusal with the reason (castore_der
 * says why, the subject is not known), not a SIGBUS that would end the
 * run; what still lies inside the file reads as before; and SIGBUS is
 * left as it was once the store is freed. */
static void
test_cut_under_the_mapping(void)
{
	char path[] = "/tmp/castore_test.XXXXXX";
	struct castore *s = NULL;
	struct error err;
	struct der a, b;
	struct sigaction before, after;
	unsigned char *der;
	const char *why = NULL;
	size_t len = 0;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	write_two(path, &a, &b);
	sigaction(SIGBUS, NULL, &before);
	CHECK(castore_open(&s, path, &err) == 0);
	if (!s) {
		unlink(path);
		return;
	}
	CHECK_INT(castore_count(s), 2);
	/* Cut to nothing: every page of the mapping lies past the end. */
	CHECK(truncate(path, 0) == 0);
	der = castore_der(s, 1, &len, &why);
	CHECK(der == NULL);
	CHECK(why && strstr(why, "cut short") != NULL);
	CHECK(
	    subject_is(s, 1, "Intermediate")); /* unknown: "ask castore_der" */
	CHECK_INT(castore_line(s, 1), 0);
	why = NULL;
	CHECK(castore_der(s, 0, &len, &why) == NULL);
	CHECK(why && strstr(why, "cut short") != NULL);
	castore_free(s);
	sigaction(SIGBUS, NULL, &after);
	CHECK(after.sa_handler == before.sa_handler);

	/* Written again: the same file reads whole. */
	write_two(path, &a, &b);
	CHECK(castore_open(&s, path, &err) == 0);
	der = s ? castore_der(s, 1, &len, &why) : NULL;
	CHECK(der != NULL);
	if (der)
		CHECK_MEM(der, len, b.b, b.n);
	free(der);
	castore_free(s);
	unlink(path);
}

/* A SIGBUS that is not a read of a store (here one sent to us) still does
 * what it did before a store was open: a child holding a mapped store
 * dies of it. */
static void
test_other_sigbus(void)
{
	char path[] = "/tmp/castore_test.XXXXXX";
	struct der a, b;
	int fd = mkstemp(path), status = 0;
	pid_t pid;

	CHECK(fd >= 0);
	close(fd);
	write_two(path, &a, &b);
	pid = fork();
	if (pid == 0) {
		struct castore *s;
		struct error err;

		signal(SIGBUS, SIG_DFL);
		if (castore_open(&s, path, &err) < 0)
			_exit(2);
		raise(SIGBUS);
		_exit(3);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);
	unlink(path);
}

int
main(void)
{
	test_layouts();
	test_slow_way();
	test_quick_way();
	test_not_after();
	test_refused();
	test_every_cut();
	test_open();
	test_too_large();
	test_cut_under_the_mapping();
	test_other_sigbus();
	test_against_gnutls("/etc/ssl/certs/ca-certificates.crt");
	return unit_done();
}
