/*
 * serverinfo.c - --serverinfo and --tls-get-peer-cert (serverinfo.h): the
 * probe's report in words.
 *
 * Everything shown came from the network (the replies, the certificates)
 * and is censored before it is printed; the replies already are
 * (reply.h), the certificates' texts are here.
 */
#include "config.h"

#include "serverinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "mxprobe.h"
#include "mxroute.h"
#include "reply.h"
#include "smtp.h"
#include "smtpcaps.h"
#include "submit.h"
#include "tls.h"
#include "util.h"

/* A capability line shown as its keyword and parameters, cut here. */
#define SERVERINFO_CAP_SHOWN 30
/* "2026-01-31 23:59:59 UTC" */
#define SERVERINFO_TIME_MAX 32
#define SECONDS_PER_DAY 86400

/* --- capabilities --- */

/* What a keyword means; `param` words follow it on the line. */
struct cap_meaning {
	const char *keyword;
	const char *text;
};

/* RFC 5321 2.2.2 keywords a submission server may offer, in words.  SIZE
 * and AUTH are explained with their parameters (explain_size,
 * explain_auth). */
static const struct cap_meaning cap_meanings[] = {
    {"PIPELINING", "commands may be sent in groups: fewer round trips "
                   "(RFC 2920)"},
    {"CHUNKING", "the message goes in chunks with BDAT, no dot-stuffing, "
                 "one round trip less (RFC 3030; mailpost uses it unless "
                 "--no-chunking)"},
    {"BINARYMIME", "binary message bodies, sent with BDAT (RFC 3030): "
                   "mailpost's 8-bit data goes so to a server without "
                   "8BITMIME"},
    {"8BITMIME", "8-bit text in message bodies (RFC 6152)"},
    {"SMTPUTF8", "UTF-8 in addresses and header fields (RFC 6531)"},
    {"DSN", "delivery status notifications on request: -N, -R, -V "
            "(RFC 3461)"},
    {"ENHANCEDSTATUSCODES", "replies carry detailed codes such as 5.1.1 "
                            "(RFC 2034, RFC 3463)"},
    {"REQUIRETLS", "a message may require TLS on every hop (RFC 8689)"},
    {"MT-PRIORITY", "message priorities, --priority (RFC 6710)"},
    {"DELIVERBY", "a deadline for delivery may be set (RFC 2852)"},
    {"FUTURERELEASE", "delivery may be held until a later time (RFC 4865)"},
    {"ETRN", "a client may ask for the queue of a domain to be run "
             "(RFC 1985)"},
    {"ATRN", "a client may take a domain's mail on this connection "
             "(RFC 2645)"},
    {"VRFY", "addresses may be checked with VRFY (RFC 5321 3.5): it may "
             "tell who exists here"},
    {"EXPN", "mailing lists may be expanded with EXPN (RFC 5321 3.5)"},
    {"HELP", "HELP answers questions (RFC 5321 4.1.1.8)"},
    {"STARTTLS", "TLS can be started on this connection (RFC 3207)"},
    {"NO-SOLICITING", "solicitation keywords are honoured (RFC 3865)"},
    {"LIMITS", "limits on recipients and transactions announced "
               "(RFC 9422)"},
    {"XCLIENT", "a trusted client may pass on another client's address "
                "and name (Postfix)"},
    {"XFORWARD", "a trusted client may pass on the original client's "
                 "details (Postfix)"},
    {"XEXCH50", "Microsoft Exchange's extension (not used by mailpost)"},
    {"X-EXPS", "Microsoft Exchange's authentication extension"},
};

/* The keyword of a capability line: its first word as the session reads
 * it (smtpcaps.h), without the '=' of the old "AUTH=" form. */
static size_t
keyword_len(const char *line, size_t len)
{
	size_t pos = 0, n = 0;
	const char *w, *eq;

	if (!smtpcaps_next_word(line, len, &pos, &w, &n) || w != line)
		return 0;
	eq = memchr(line, '=', n);
	return eq ? (size_t)(eq - line) : n;
}

/* The parameters of a capability line: after its keyword and the '=' of
 * "AUTH=", if any (the words are then read with smtpcaps_next_word). */
static const char *
cap_param(const char *line, size_t len, size_t n, size_t *plen)
{
	size_t i = n < len && line[n] == '=' ? n + 1 : n;

	*plen = len - i;
	return line + i;
}

/* This line's own number (smtp.c keeps the last SIZE line's), or one
 * that smtpcaps_parse_size cannot read, said as it came rather than as "no
 * limit", which a send then assumes. */
static void
explain_size(FILE *out, const char *line, size_t len, size_t n)
{
	char human[32];
	size_t plen, pos = 0, digits = 0;
	const char *param = cap_param(line, len, n, &plen);
	uint64_t size;

	smtpcaps_next_word(param, plen, &pos, &param, &digits);
	if (!smtpcaps_parse_size(param, digits, &size)) {
		fprintf(out,
		        "announces a limit mailpost cannot read (%.*s%s); a "
		        "send assumes none\n",
		        (int)(digits > 20 ? 20 : digits), param,
		        digits > 20 ? "..." : "");
		return;
	}
	if (size == 0) {
		fputs("announces no fixed size limit (RFC 1870)\n", out);
		return;
	}
	str_bytes(human, sizeof human, size);
	fprintf(out, "messages up to %s (RFC 1870)\n", human);
}

/* Whether the mechanism w[0..n) is one of the space-separated mechs. */
static bool
mech_in(const char *mechs, const char *w, size_t n)
{
	const char *p = mechs;

	while (*p) {
		size_t k = strcspn(p, " ");

		if (k == n && strncasecmp(p, w, n) == 0)
			return true;
		p += k;
		p += strspn(p, " ");
	}
	return false;
}

/* What the AUTH line offers, read from the line itself: caps->auth
 * keeps only the names RFC 4422 allows, and only as many as fit. */
struct auth_offer {
	bool cleartext; /* PLAIN or LOGIN */
	size_t dropped; /* words not in caps->auth */
};

static void
read_auth_line(const struct smtp_caps *caps, const char *param, size_t plen,
               struct auth_offer *o)
{
	size_t pos = 0, n;
	const char *w;

	memset(o, 0, sizeof *o);
	while (smtpcaps_next_word(param, plen, &pos, &w, &n)) {
		/* PLAIN and LOGIN carry the password as it is (RFC 4616 2,
		 * RFC 4954 4): offered where nothing encrypts the
		 * connection, they invite a client to give it away. */
		if (smtpcaps_word_is(w, n, "PLAIN") ||
		    smtpcaps_word_is(w, n, "LOGIN"))
			o->cleartext = true;
		if (!mech_in(caps->auth, w, n))
			o->dropped++;
	}
}

static void
explain_auth(FILE *out, const struct smtp_caps *caps, const char *line,
             size_t len, size_t n, bool encrypted)
{
	struct auth_offer o;
	size_t plen;
	const char *param = cap_param(line, len, n, &plen);

	read_auth_line(caps, param, plen, &o);
	fprintf(out, "authentication with %s (RFC 4954)\n",
	        caps->auth[0] ? caps->auth : "no mechanism mailpost knows");
	if (o.dropped)
		fprintf(out,
		        "%*s  and %zu more on this line that mailpost does "
		        "not keep (-v shows the line)\n",
		        SERVERINFO_CAP_SHOWN, "", o.dropped);
	if (!encrypted && o.cleartext)
		fprintf(out,
		        "%*s  WARNING: PLAIN or LOGIN offered without TLS: "
		        "a password sent so is readable on the way\n",
		        SERVERINFO_CAP_SHOWN, "");
}

static const char *
meaning_of(const char *line, size_t n)
{
	for (size_t k = 0; k < sizeof cap_meanings / sizeof cap_meanings[0];
	     k++)
		if (smtpcaps_word_is(line, n, cap_meanings[k].keyword))
			return cap_meanings[k].text;
	return NULL;
}

/* One EHLO line after the first: "  KEYWORD PARAMS   meaning". */
static void
explain_line(FILE *out, const char *line, size_t len,
             const struct smtp_caps *caps, bool encrypted)
{
	size_t n = keyword_len(line, len);
	const char *meaning = meaning_of(line, n);
	int shown = len > SERVERINFO_CAP_SHOWN - 3 ? SERVERINFO_CAP_SHOWN - 6
	                                           : (int)len;

	fprintf(out, "  %-*.*s%s ", SERVERINFO_CAP_SHOWN - 3, shown, line,
	        (size_t)shown < len ? "..." : "");
	if (smtpcaps_word_is(line, n, "SIZE"))
		explain_size(out, line, len, n);
	else if (smtpcaps_word_is(line, n,
	                          "AUTH")) /* also "AUTH=", pre-RFC 4954 */
		explain_auth(out, caps, line, len, n, encrypted);
	else if (meaning)
		fprintf(out, "%s\n", meaning);
	else
		fputs("not known to mailpost\n", out);
}

/* The reply to EHLO (LHLO, HELO), explained line by line. */
static void
show_caps(FILE *out, const struct smtp_heard *h, int which, bool encrypted,
          const char *title)
{
	const struct reply *r = &h->hello[which];
	size_t len;
	const char *first = reply_line(r, 0, &len);

	fprintf(out, "\n%s (%s):\n", title,
	        h->hello_verb[which] ? h->hello_verb[which] : "EHLO");
	fprintf(out, "  %d %.*s\n", r->code, first ? (int)len : 0,
	        first ? first : "");
	if (h->hello_cut[which]) {
		fputs("  the reply did not come whole (the error says why): "
		      "what the server offers is not known\n",
		      out);
		return;
	}
	if (!reply_is_positive(r)) {
		fputs("  refused: no capabilities\n", out);
		return;
	}
	if (!h->caps[which].esmtp) {
		fputs("  HELO only: the server offers no extensions\n", out);
		return;
	}
	if (r->nlines < 2)
		fputs("  no extensions offered\n", out);
	for (size_t i = 1; i < r->nlines; i++) {
		const char *line = reply_line(r, i, &len);

		if (line && len > 0)
			explain_line(out, line, len, &h->caps[which],
			             encrypted);
	}
}

/* With -v: the reply as it came (censored), for those who read raw
 * EHLO. */
static void
show_raw(FILE *out, const struct reply *r, const char *title)
{
	if (r->code == 0)
		return;
	fprintf(out, "\n%s, as received:\n", title);
	for (size_t i = 0; i < r->nlines; i++) {
		size_t len;
		const char *line = reply_line(r, i, &len);

		fprintf(out, "  %d%c%.*s\n", r->code,
		        i + 1 < r->nlines ? '-' : ' ', line ? (int)len : 0,
		        line ? line : "");
	}
}

/* --- the server and the greeting --- */

/* Text from the network (a certificate, the DNS), censored on a copy. */
static void
show_text(FILE *out, const char *label, const char *text)
{
	char *copy = xstrdup(text ? text : "");

	fprintf(out, "%s%s\n", label, str_censor_utf8(copy, strlen(copy)));
	free(copy);
}


static const char *
tls_way(const struct account *a)
{
	if (!a->tls)
		return "none asked (STARTTLS is tried when offered)";
	return a->tls_starttls ? "STARTTLS"
	                       : "implicit TLS (from the first "
	                         "byte, RFC 8314)";
}

/* hop: NULL for the account's own server, else the MX hop probed. */
static void
show_server(FILE *out, const struct account *a, const struct submit_probe *p,
            const struct mxroute_hop *hop)
{
	const struct smtp_heard *h = &p->heard;
	size_t len;
	const char *first = reply_line(&h->greeting, 0, &len);

	fprintf(out, "Server:      %s port %d\n", p->host, submit_port(a));
	if (p->more_hosts)
		fprintf(out, "             (the first of: %s; a send tries the "
		             "others when it fails)\n",
		        a->host);
	fprintf(out, "Connected:   %s\n",
	        h->peer[0] ? h->peer : "(no connection)");
	if (hop)
		show_text(out, "TLS:         ", hop->tls_why);
	else
		fprintf(out, "TLS:         %s\n", tls_way(a));
	if (h->greeting.code == 0) {
		fputs("Greeting:    none\n", out);
		return;
	}
	fprintf(out, "Greeting:    %d %.*s\n", h->greeting.code,
	        first ? (int)len : 0, first ? first : "");
	for (size_t i = 1; i < h->greeting.nlines; i++) {
		const char *line = reply_line(&h->greeting, i, &len);

		fprintf(out, "             %.*s\n", line ? (int)len : 0,
		        line ? line : "");
	}
	if (h->greeting.code == 554)
		fputs("             (554: the server refuses service to this "
		      "client, RFC 5321 3.1)\n",
		      out);
}

/* --- TLS --- */

static void
format_date(int64_t when, char *out, size_t n)
{
	if (when < 0 || !str_utc_time(out, n, (time_t)when))
		str_copy(out, n, "(unknown)");
}

/* "(812 days left)", "(EXPIRED 3 days ago)", "(NOT VALID YET: for
 * another 5 days)"; part of a day counts as a day. */
static void
days_text(const struct tls_cert_info *c, time_t now, char *out, size_t n)
{
	int64_t t = (int64_t)now;

	if (c->not_before > t)
		snprintf(out, n, "(NOT VALID YET: for another %" PRId64 " days)",
		         (c->not_before - t + SECONDS_PER_DAY - 1) /
		             SECONDS_PER_DAY);
	else if (c->not_after < t)
		snprintf(out, n, "(EXPIRED %" PRId64 " days ago)",
		         (t - c->not_after + SECONDS_PER_DAY - 1) /
		             SECONDS_PER_DAY);
	else
		snprintf(out, n, "(%" PRId64 " days left)",
		         (c->not_after - t) / SECONDS_PER_DAY);
}

static void
show_cert(FILE *out, size_t k, const struct tls_cert_info *c, time_t now)
{
	char from[SERVERINFO_TIME_MAX], until[SERVERINFO_TIME_MAX];
	char days[64];

	format_date(c->not_before, from, sizeof from);
	format_date(c->not_after, until, sizeof until);
	days_text(c, now, days, sizeof days);
	fprintf(out, "  [%zu] ", k);
	show_text(out, "subject:   ", c->subject);
	show_text(out, "      issuer:    ", c->issuer);
	if (c->self_signed)
		fputs("                 (self-signed)\n", out);
	show_text(out, "      names:     ",
	          c->names[0] ? c->names : "(no DNS or IP names)");
	fprintf(out, "      valid:     %s to %s %s\n", from, until, days);
	fprintf(out, "      key:       %s\n", c->key);
	fprintf(out, "      signed:    %s\n", c->signature);
	fprintf(out, "      SHA-256:   %s\n", c->sha256);
}

/* The verdict in one line: verified up to which root against what, or
 * why not. */
/* What the chain was checked against; the path of a trust file of the
 * system configuration stays hidden from a caller outside its group
 * (account.hidden), as --check-config hides it. */
static const char *
trust_text(const struct tls_info *i, bool hidden)
{
	if (hidden && strncmp(i->trust, "tls_trust_file ", 15) == 0)
		return "tls_trust_file (hidden)";
	return i->trust;
}

/* Whether an MX hop's policy took any certificate (opportunistic TLS,
 * or TLS required without authentication): nothing was checked, and
 * tls.c's verdict says only that.  DANE's verdict is its own. */
static bool
hop_unchecked(const struct mxroute_hop *hop, const struct tls_info *i)
{
	return hop && !i->dane && hop->conn.tls != SUBMIT_HOP_TLS_VERIFY;
}

static void
show_verdict(FILE *out, const struct tls_info *i, bool hidden,
             const struct mxroute_hop *hop)
{
	const char *trust = trust_text(i, hidden);
	char *copy;

	if (hop_unchecked(hop, i) && i->verify_ran) {
		fputs("  Verification:  none: the hop's TLS policy takes any "
		      "certificate (RFC 7435; RFC 7672 2.2 when no TLSA "
		      "record is usable)\n",
		      out);
		return;
	}
	copy = xstrdup(i->verdict);
	str_censor_utf8(copy, strlen(copy));
	if (!i->verify_ran)
		fputs("  Verification:  not done (the handshake stopped "
		      "before the certificate)\n",
		      out);
	else if (i->verified && i->anchor[0])
		fprintf(out, "  Verification:  verified: chain to %s (%s)\n",
		        i->anchor, trust);
	else if (i->verified)
		fprintf(out, "  Verification:  verified (%s)\n", trust);
	else
		fprintf(out,
		        "  Verification:  NOT verified (checked against "
		        "%s)\n",
		        trust);
	if (i->verify_ran)
		fprintf(out, "                 %s\n", copy);
	free(copy);
}

static void
show_tls(FILE *out, const struct tls_info *i, bool hidden,
         const struct mxroute_hop *hop)
{
	time_t now = time(NULL);

	fprintf(out, "\nTLS session%s:\n",
	        i->completed ? "" : " (the handshake did not complete)");
	fprintf(out, "  Protocol:      %s\n", i->version[0] ? i->version : "?");
	fprintf(out, "  Cipher suite:  %s\n", i->suite[0] ? i->suite : "?");
	fprintf(out, "  Key exchange:  %s\n", i->group[0] ? i->group : "?");
	fprintf(out, "  Signature:     %s\n",
	        i->signature[0] ? i->signature : "?");
	fprintf(out, "  SNI sent:      %s\n",
	        i->sni[0] ? i->sni : "none (an address is never sent as SNI)");
	fputs("  ALPN sent:     none (SMTP defines no ALPN protocol)\n", out);
	/* A resumed session (RFC 8446 2.2) carries no certificate: the
	 * chain is the one a full handshake of an earlier run verified. */
	if (i->completed)
		fprintf(out, "  Resumed:       %s\n",
		        i->resumed ? "yes: TLS session resumed, kept by an "
		                     "earlier run (--tls-session-cache=off "
		                     "for a full handshake)"
		                   : "no: a full handshake");
	show_verdict(out, i, hidden, hop);
	fprintf(out, "\nCertificate chain, as the server sent it%s (%zu):\n",
	        i->resumed ? " to the run that kept the session" : "",
	        i->chain_len);
	for (size_t k = 0; k < i->ncerts; k++)
		show_cert(out, k, &i->certs[k], now);
	if (i->chain_len > i->ncerts)
		fprintf(out, "  (%zu more not shown)\n",
		        i->chain_len - i->ncerts);
}

/* --- times --- */

static void
show_times(FILE *out, const struct smtp_timing *t)
{
	int64_t last = 0;

	fputs("\nTimes:\n", out);
	for (int k = 0; k < SMTP_NSTEPS; k++) {
		if (t->begin_us[k] < 0)
			continue;
		if (t->end_us[k] < 0) {
			fprintf(out, "  %-10s did not finish\n",
			        smtp_step_name((enum smtp_step)k));
			continue;
		}
		fprintf(out, "  %-10s %8.1f ms\n",
		        smtp_step_name((enum smtp_step)k),
		        (double)(t->end_us[k] - t->begin_us[k]) / 1000.0);
		if (t->end_us[k] > last)
			last = t->end_us[k];
	}
	fprintf(out, "  %-10s %8.1f ms\n", "total", (double)last / 1000.0);
}

/* --- the report --- */

/* The report of one session; hop: NULL for the account's own server,
 * else the MX hop it went to. */
static void
show_report(FILE *out, const struct job *job, const struct submit_probe *p,
            const struct mxroute_hop *hop)
{
	const struct smtp_heard *h = &p->heard;
	bool implicit = h->implicit_tls;

	show_server(out, &job->acct, p, hop);
	if (h->hello[0].code)
		show_caps(out, h, 0, implicit,
		          implicit ? "Capabilities inside TLS"
		                   : "Capabilities in the clear");
	if (h->starttls.code) {
		size_t len;
		const char *line = reply_line(&h->starttls, 0, &len);

		fprintf(out, "\nSTARTTLS:    %d %.*s\n", h->starttls.code,
		        line ? (int)len : 0, line ? line : "");
	}
	if (p->tls.verify_ran || p->tls.version[0])
		show_tls(out, &p->tls, job->acct.hidden, hop);
	if (h->hello[1].code)
		show_caps(out, h, 1, true,
		          "Capabilities inside TLS, after STARTTLS");
	if (job->req.verbosity > 0) {
		show_raw(out, &h->hello[0], "The first EHLO reply");
		show_raw(out, &h->hello[1], "The EHLO reply after STARTTLS");
	}
	show_times(out, &p->timing);
}

/* --- the chain as PEM --- */

/* --tls-get-peer-cert=FILE: created before the connection, so that a name
 * that cannot be used costs no connection; never over an existing file
 * (a certificate is saved to be pinned or inspected: silently replacing
 * an earlier one would hide a change of certificate). */
static int
open_pem_file(const char *path, int *fd, struct error *err)
{
	*fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	           0644);
	if (*fd >= 0)
		return 0;
	if (errno == EEXIST)
		return error_set(err, ERROR_IOERR,
		                 "--tls-get-peer-cert: %s exists; not "
		                 "overwritten: remove it or name another file",
		                 path);
	return error_set_errno(err, ERROR_IOERR, errno,
	                       "--tls-get-peer-cert: cannot create %s", path);
}

static int
write_chain(int fd, FILE *out, const struct tls_info *i, struct error *err)
{
	for (size_t k = 0; k < i->ncerts; k++) {
		const char *pem = i->certs[k].pem;
		size_t n = pem ? strlen(pem) : 0;

		if (n == 0)
			continue;
		if (fd >= 0 ? fd_write_all(fd, pem, n) < 0
		            : fwrite(pem, 1, n, out) != n)
			return error_set_errno(err, ERROR_IOERR, errno,
			                       "cannot write the certificate "
			                       "chain");
	}
	return 0;
}

/* The chain, to the file opened before or to out.  No chain: a session
 * without TLS, said with what would have one. */
static int
save_chain(const struct job *job, int fd, FILE *out,
           const struct submit_probe *p, const struct mxroute_hop *hop,
           struct error *err)
{
	if (p->tls.ncerts == 0 && hop)
		return error_set(err, ERROR_PROTOCOL,
		                 "--tls-get-peer-cert: the MX host %s [%s] "
		                 "offers no STARTTLS: it has no certificate "
		                 "to show",
		                 hop->name, hop->address);
	if (p->tls.ncerts == 0) {
		if (job->acct.tls)
			return error_set(err, ERROR_PROTOCOL,
			                 "--tls-get-peer-cert: the server sent "
			                 "no certificate");
		return error_set(
		    err, ERROR_PROTOCOL,
		    "--tls-get-peer-cert: %s port %d offers no STARTTLS; for "
		    "a server that speaks TLS from the first byte add --tls "
		    "--tls-starttls=off",
		    p->host, submit_port(&job->acct));
	}
	if (write_chain(fd, out, &p->tls, err) < 0)
		return -1;
	if (fd >= 0 && fsync(fd) < 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot write the certificate chain to "
		                       "%s",
		                       job->req.peer_cert_file);
	return 0;
}

/* --- direct delivery: a domain's route --- */

/* The domain of --serverinfo's argument: an address's (what follows its
 * '@'), or the argument itself.  mxroute_domain judges the name. */
static int
mx_domain(const struct job *job, const char **domain, struct error *err)
{
	const char *arg = job->req.nrcpts ? job->req.rcpts[0] : NULL;
	const char *at = arg ? address_domain(arg) : NULL;

	if (!arg)
		return error_set(err, ERROR_USAGE,
		                 "--serverinfo in direct delivery (deliver mx) "
		                 "has no one server: name the domain to probe, "
		                 "e.g. mailpost --serverinfo example.org");
	*domain = at ? at : arg;
	if (!**domain)
		return error_set(err, ERROR_USAGE,
		                 "--serverinfo '%s': no domain to probe", arg);
	return 0;
}

/* The MX records as the hops carry them: each host once, in the route's
 * order (lowest preference first), with the answer's DNSSEC status. */
static void
show_mx_records(FILE *out, const struct mxroute_domain *d)
{
	const struct mxroute_hop *first = &d->hops[0];

	if (first->source == MXROUTE_FROM_LITERAL) {
		fprintf(out,
		        "MX records:  none looked up: the address literal "
		        "names the server (RFC 5321 4.1.3)\n");
		return;
	}
	if (first->source == MXROUTE_FROM_IMPLICIT) {
		fprintf(out,
		        "MX records:  none: the domain's own address is its "
		        "mail server (the implicit MX, RFC 5321 5.1); its "
		        "address records %s\n",
		        first->addr_secure ? "DNSSEC-validated (secure)"
		                           : "not DNSSEC-validated (insecure)");
		return;
	}
	fprintf(out, "MX records:  %s\n",
	        first->mx_secure ? "DNSSEC-validated (secure)"
	                         : "not DNSSEC-validated (insecure: the zone "
	                           "is not signed, or validation is off)");
	for (size_t i = 0; i < d->nhops; i++) {
		bool seen = false;

		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(d->hops[k].name, d->hops[i].name) == 0;
		if (!seen)
			fprintf(out, "  preference %-5u %s\n", d->hops[i].pref,
			        d->hops[i].name);
	}
}

static const char *
hop_source(const struct mxroute_hop *h)
{
	switch (h->source) {
	case MXROUTE_FROM_IMPLICIT:
		return "implicit MX";
	case MXROUTE_FROM_LITERAL:
		return "address literal";
	case MXROUTE_FROM_MX:
		break;
	}
	return "MX";
}

/* What became of hop i, in one line after its name. */
static void
show_hop_state(FILE *out, const struct mxprobe *p, size_t i)
{
	const struct mxprobe_hop *ph = &p->hops[i];

	switch (ph->state) {
	case MXPROBE_NOT_TRIED:
		fputs("     not tried\n", out);
		return;
	case MXPROBE_UNUSABLE:
		show_text(out, "     not usable now: ", ph->why.msg);
		return;
	case MXPROBE_FAILED:
		show_text(out, "     failed, the next hop was tried: ",
		          ph->why.msg);
		return;
	case MXPROBE_REFUSED:
		show_text(out, "     refused for good: a send's route ends "
		               "here: ",
		          ph->why.msg);
		return;
	case MXPROBE_ANSWERED:
		fputs("     CHOSEN: it answered", out);
		if (ph->tls_failed)
			fputs(" (its STARTTLS failed: a send goes on in the "
			      "clear on this hop)",
			      out);
		fputs("\n", out);
		return;
	}
}

static void
show_hops(FILE *out, const struct mxprobe *p)
{
	fputs("\nHops, in the order a send tries them:\n", out);
	for (size_t i = 0; i < p->route.nhops; i++) {
		const struct mxroute_hop *h = &p->route.hops[i];

		fprintf(out, "  %zu. %s [%s] port %d, %s", i + 1, h->name,
		        h->address, h->port, hop_source(h));
		if (h->source == MXROUTE_FROM_MX)
			fprintf(out, " preference %u", h->pref);
		fprintf(out, ", address %s\n",
		        h->addr_secure ? "DNSSEC-validated" : "insecure");
		if (p->hops[i].state != MXPROBE_NOT_TRIED && h->tls_why[0])
			show_text(out, "     TLS policy: ", h->tls_why);
		show_hop_state(out, p, i);
	}
}

/* Which hop was chosen, and why the ones before it were not. */
static void
show_chosen(FILE *out, const struct mxprobe *p)
{
	size_t passed = p->chosen < p->route.nhops ? p->chosen : p->tried;
	const struct mxroute_hop *h;

	if (p->chosen >= p->route.nhops) {
		fprintf(out,
		        "Chosen:      none: %zu of the %zu hops tried, none "
		        "got through (a send queues the message)\n",
		        p->tried, p->route.nhops);
		return;
	}
	h = &p->route.hops[p->chosen];
	fprintf(out, "Chosen:      %s [%s]: ", h->name, h->address);
	if (passed == 0)
		fputs("the first hop, and it answered\n", out);
	else
		fprintf(out,
		        "the first hop that answered; the %zu before it %s "
		        "passed over (above)\n",
		        passed, passed == 1 ? "was" : "were");
}

/* The route, then the report of each hop tried. */
static void
show_mx_report(FILE *out, const struct job *job, const char *domain,
               const struct mxprobe *p, const struct error *err)
{
	char *copy = xstrdup(domain);

	fprintf(out, "Domain:      %s\n", str_censor_utf8(copy, strlen(copy)));
	free(copy);
	if (p->route.nhops == 0) {
		show_text(out, "Route:       none: ", err->msg);
		return;
	}
	show_mx_records(out, &p->route);
	show_hops(out, p);
	fputc('\n', out);
	show_chosen(out, p);
	for (size_t i = 0; i < p->tried; i++) {
		const struct mxprobe_hop *ph = &p->hops[i];
		const struct mxroute_hop *h = &p->route.hops[i];

		if (ph->state == MXPROBE_UNUSABLE)
			continue;
		fprintf(out, "\n=== Hop %zu: %s [%s]%s ===\n\n", i + 1, h->name,
		        h->address, i == p->chosen ? ", chosen" : "");
		show_report(out, job, &ph->probe, h);
	}
}

/* The hop whose chain --tls-get-peer-cert writes: the chosen one, else
 * the last one tried that has a session. */
static size_t
chain_hop(const struct mxprobe *p)
{
	size_t i = p->tried;

	if (p->chosen < p->route.nhops)
		return p->chosen;
	while (i > 0 && p->hops[i - 1].state == MXPROBE_UNUSABLE)
		i--;
	return i > 0 ? i - 1 : p->route.nhops;
}

static int
mx_finish(struct job *job, int fd, FILE *out, FILE *diag,
          const char *domain, const struct mxprobe *p, int rc,
          struct error *err)
{
	size_t k = chain_hop(p);

	if (rc == 0 && p->hops[p->chosen].tls_failed)
		fprintf(diag,
		        "mailpost: notice: STARTTLS of %s failed (%s); its TLS "
		        "is opportunistic, so a send goes on in the clear "
		        "and the probe does not fail\n",
		        p->route.hops[p->chosen].name,
		        p->hops[p->chosen].tls_error.msg);
	if (job->req.serverinfo)
		show_mx_report(out, job, domain, p, err);
	if (job->req.peer_cert) {
		struct error save;

		error_clear(&save);
		if (k >= p->route.nhops && rc == 0)
			rc = error_set(err, ERROR_PROTOCOL,
			               "--tls-get-peer-cert: no MX host of %s "
			               "was reached",
			               domain);
		else if (k < p->route.nhops &&
		         save_chain(job, fd, out, &p->hops[k].probe,
		                    &p->route.hops[k], &save) < 0 &&
		         rc == 0) {
			*err = save;
			rc = -1;
		}
	}
	if (fflush(out) != 0 && rc == 0)
		rc = error_set_errno(err, ERROR_IOERR, errno,
		                     "cannot write to standard output");
	return rc;
}

/* --serverinfo DOMAIN of an account that delivers to the MX hosts. */
static int
mx_run(struct job *job, FILE *out, FILE *diag, struct error *err)
{
	struct mxroute *m = NULL;
	struct mxprobe p;
	const char *domain = NULL;
	int fd = -1, rc;
	size_t k;

	if (mx_domain(job, &domain, err) < 0)
		return -1;
	if (job->req.peer_cert && job->req.peer_cert_file &&
	    open_pem_file(job->req.peer_cert_file, &fd, err) < 0)
		return -1;
	if (!job->transcript)
		job_open_transcript(job, diag, NULL);
	mxprobe_init(&p);
	rc = mxroute_new(&m, &job->acct, job->transcript, err);
	if (rc == 0)
		rc = mxprobe_serverinfo(m, &job->acct, domain,
		                        job->transcript, &p, err);
	rc = mx_finish(job, fd, out, diag, domain, &p, rc, err);
	k = chain_hop(&p);
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = error_set_errno(err, ERROR_IOERR, errno,
		                     "cannot write the certificate chain to %s",
		                     job->req.peer_cert_file);
	if (fd >= 0 && (k >= p.route.nhops || p.hops[k].probe.tls.ncerts == 0))
		unlink(job->req.peer_cert_file); /* nothing was written */
	mxprobe_clear(&p);
	mxroute_free(m);
	return rc;
}

/* --- the run --- */

/* A STARTTLS tried only because it was offered may fail without failing
 * the probe: the account would not have used TLS. */
static bool
optional_tls_failed(const struct submit_probe *p)
{
	return !p->tls_asked && smtp_timing_failed(&p->timing) == SMTP_STEP_TLS;
}

static int
finish(struct job *job, int fd, FILE *out, FILE *diag, struct submit_probe *p,
       int rc, struct error *err)
{
	if (rc < 0 && optional_tls_failed(p)) {
		fprintf(diag,
		        "mailpost: notice: STARTTLS failed (%s); the account "
		        "asks for no TLS, so the probe does not fail\n",
		        err->msg);
		rc = 0;
	}
	if (job->req.serverinfo)
		show_report(out, job, p, NULL);
	if (job->req.peer_cert) {
		struct error save;

		error_clear(&save);
		if (save_chain(job, fd, out, p, NULL, &save) < 0 && rc == 0) {
			*err = save;
			rc = -1;
		}
	}
	if (fflush(out) != 0 && rc == 0)
		rc = error_set_errno(err, ERROR_IOERR, errno,
		                     "cannot write to standard output");
	return rc;
}

/* The session, its -v dialogue on diag. */
static int
probe(struct job *job, FILE *diag, struct submit_probe *p, struct error *err)
{
	if (!job->transcript) /* --color, --timing as for a send */
		job_open_transcript(job, diag, NULL);
	submit_probe_init(p);
	return submit_probe(&job->acct, job->transcript, p, err);
}

int
serverinfo_run(struct job *job, FILE *out, FILE *diag, struct error *err)
{
	struct submit_probe p;
	int fd = -1, rc;

	if (job_load_account(job, err) < 0)
		return -1;
	if (job->acct.deliver == CONF_DELIVER_MX)
		return mx_run(job, out, diag, err);
	if (job->req.nrcpts > 0)
		return error_set(err, ERROR_USAGE,
		                 "--serverinfo %s: a domain is probed only in "
		                 "direct delivery (--deliver=mx, or 'deliver "
		                 "mx' in the account); this account sends "
		                 "through its server, which --serverinfo "
		                 "probes without an argument",
		                 job->req.rcpts[0]);
	if (job->req.peer_cert && job->req.peer_cert_file &&
	    open_pem_file(job->req.peer_cert_file, &fd, err) < 0)
		return -1;
	rc = probe(job, diag, &p, err);
	rc = finish(job, fd, out, diag, &p, rc, err);
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = error_set_errno(err, ERROR_IOERR, errno,
		                     "cannot write the certificate chain to %s",
		                     job->req.peer_cert_file);
	if (fd >= 0 && p.tls.ncerts == 0)
		unlink(job->req.peer_cert_file); /* nothing was written */
	submit_probe_clear(&p);
	return rc;
}

/* The line --check-config says of a probe that went well. */
static void
connect_ok(const struct job *job, const struct submit_probe *p,
           struct error *why)
{
	const struct tls_info *i = &p->tls;

	if (!p->heard.tls_done)
		error_set(why, ERROR_NONE, "%s port %d answered (no TLS)",
		          p->host, submit_port(&job->acct));
	else if (i->verified && i->anchor[0])
		error_set(why, ERROR_NONE,
		          "%s port %d answered; %s, certificate verified "
		          "(chain to %s)",
		          p->host, submit_port(&job->acct), i->version,
		          i->anchor);
	else
		error_set(why, ERROR_NONE, "%s port %d answered; %s, %s",
		          p->host, submit_port(&job->acct), i->version,
		          i->verified ? "certificate verified"
		                      : "certificate NOT verified");
}

int
serverinfo_connect(struct job *job, FILE *out, FILE *diag,
                   enum serverinfo_verdict *verdict, struct error *why,
                   struct error *err)
{
	struct submit_probe p;
	int rc = probe(job, diag, &p, why);

	fputc('\n', out);
	show_report(out, job, &p, NULL);
	fputc('\n', out);
	*verdict = SERVERINFO_OK;
	if (rc < 0 && optional_tls_failed(&p)) {
		*verdict = SERVERINFO_WARN;
		error_prefix(why, "answered, but STARTTLS (offered, not asked "
		                  "for) failed: ");
	} else if (rc < 0) {
		*verdict = SERVERINFO_FAIL;
	} else {
		connect_ok(job, &p, why);
	}
	submit_probe_clear(&p);
	if (fflush(out) != 0 || ferror(out))
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot write to standard output");
	return 0;
}
