/*
 * submit.c - delivery policy for one message (see submit.h): open the
 * session, check the message fits what the server offers, run the
 * envelope, judge every reply, send the body only when the judgement
 * allows, and turn the outcome into one failure class and one message.
 *
 * International addresses (RFC 6531): SMTPUTF8 is requested only when an
 * address cannot be written in ASCII (a UTF-8 local part), since asking
 * for it whenever offered makes later hops that lack it bounce the
 * message.  Otherwise U-label domains go out as A-labels (RFC 5890).
 * A header with UTF-8 (RFC 6532) also needs it; without it the header is
 * downgraded where that is lossless (downgrade.h).
 */
#include "config.h"

#include "submit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "downgrade.h"
#include "queue.h"
#include "reply.h"
#include "secret.h"
#include "smtp.h"
#include "util.h"

/* "PORT MODE SOCKET PROXY:PORT": how a kept TLS session's server was
 * reached (tls_params.cache_scope); a longer one is cut, and so never
 * matches by accident another's (the port comes first). */
#define TLS_SCOPE_MAX 512

/* How much of the refused-recipient list goes into the one-line message. */
#define REFUSED_LIST_MAX 600

/* How much of the reply behind a recipient's verdict its envelope keeps
 * (the reply as sent, lines joined: reply_format). */
#define RCPT_REPLY_MAX 512

/* The server's names as DNS and the certificate know them: A-labels
 * (RFC 5890), converted once, freed by names_clear. */
struct names {
	char *host;
	char *host_override;
	char *proxy_host;
	/* TLS sessions kept between runs (tls_params.cache_dir), or NULL;
	 * and how the server is reached, which binds them. */
	char *tls_cache;
	char tls_scope[TLS_SCOPE_MAX];
	/* An MX hop's address as conn.c takes one never to look up. */
	char hop_target[64];
};

static void
names_clear(struct names *n)
{
	free(n->host);
	free(n->host_override);
	free(n->proxy_host);
	free(n->tls_cache);
	memset(n, 0, sizeof *n);
}

/* "[192.0.2.1]" (RFC 5321 4.1.3) is the address itself: without the
 * brackets TLS checks the certificate's IP address and sends no SNI
 * (RFC 6066 3), and nobody looks it up.  A name in brackets stays as it
 * is, for conn.c to refuse. */
static void
unbracket(char *host)
{
	size_t n = strlen(host);
	unsigned char addr[sizeof(struct in6_addr)];
	char inner[INET6_ADDRSTRLEN + 1];

	if (n < 3 || host[0] != '[' || host[n - 1] != ']' ||
	    n - 2 >= sizeof inner)
		return;
	memcpy(inner, host + 1, n - 2);
	inner[n - 2] = '\0';
	if (inet_pton(AF_INET, inner, addr) == 1 ||
	    inet_pton(AF_INET6, inner, addr) == 1)
		memcpy(host, inner, n - 1);
}

/* Where TLS sessions are kept for the next run, when they may be: never
 * for the system configuration's account in a setgid run (account.hidden:
 * a file of the caller's would hand its session secrets, and with TLS 1.2
 * the traffic of its AUTH, to the caller), nor without a verified server
 * (tls_certcheck off).  No state directory means no cache, not an error.
 * The session data is key material: from here on the process is kept out
 * of core dumps and others' ptrace, as for a password. */
static void
names_tls_cache(struct names *n, const struct account *a)
{
	struct error ignored;

	if (!a->tls || !a->tls_session_cache || a->hidden || !a->tls_certcheck)
		return;
	n->tls_cache = conf_state_dir("tls", &ignored);
	if (n->tls_cache && secret_protect_process(&ignored) < 0) {
		free(n->tls_cache);
		n->tls_cache = NULL;
	}
	snprintf(n->tls_scope, sizeof n->tls_scope, "%d %s %s %s:%d",
	         submit_port(a), a->tls_starttls ? "starttls" : "implicit",
	         a->socket ? a->socket : "-",
	         n->proxy_host ? n->proxy_host : "-", a->proxy_port);
}

static int
names_init(struct names *n, const struct account *a, struct error *err)
{
	memset(n, 0, sizeof *n);
	if (address_host_to_ascii(a->host, &n->host, err) < 0)
		return -1;
	unbracket(n->host);
	if ((a->tls_host_override &&
	     address_host_to_ascii(a->tls_host_override, &n->host_override,
	                           err) < 0) ||
	    (a->proxy_host &&
	     address_host_to_ascii(a->proxy_host, &n->proxy_host, err) < 0)) {
		names_clear(n);
		return -1;
	}
	names_tls_cache(n, a);
	return 0;
}

/* The names of a submission: its account's, and an MX hop's address. */
static int
names_of(struct names *n, const struct submission *sub, struct error *err)
{
	if (names_init(n, sub->account, err) < 0)
		return -1;
	if (sub->hop)
		snprintf(n->hop_target, sizeof n->hop_target, "[%s]",
		         sub->hop->address);
	return 0;
}

static enum smtp_tls_mode
tls_mode(const struct account *a)
{
	if (!a->tls)
		return SMTP_TLS_OFF;
	return a->tls_starttls ? SMTP_TLS_STARTTLS : SMTP_TLS_IMPLICIT;
}

int
submit_port(const struct account *a)
{
	if (a->port)
		return a->port;
	if (a->deliver == CONF_DELIVER_MX)
		return 25; /* RFC 5321 4.5.4.2: every MX hop */
	switch (tls_mode(a)) {
	case SMTP_TLS_IMPLICIT:
		return 465;
	case SMTP_TLS_STARTTLS:
		return 587;
	case SMTP_TLS_OFF:
		break;
	}
	return 25;
}

static void
tls_options(const struct account *a, const struct names *n,
            struct tls_params *p)
{
	memset(p, 0, sizeof *p);
	p->host = n->host;
	p->host_override = n->host_override;
	p->trust_file = a->tls_trust_file;
	p->crl_file = a->tls_crl_file;
	p->fingerprint = a->tls_fingerprint;
	p->cert_file = a->tls_cert_file;
	p->key_file = a->tls_key_file;
	p->no_certcheck = !a->tls_certcheck;
	p->priorities = a->tls_priorities;
	p->account = a->name;
	p->private_names = a->hidden;
	p->cache_dir = n->tls_cache;
	p->cache_scope = n->tls_scope;
}

/* An MX hop (mxroute.h): its address, with the MX name for TLS, and
 * TLS as the hop's policy says.  The account's trust, CRL, client
 * certificate and priorities stay; a pin or tls_certcheck off do not
 * apply (they are about the account's own server), nor does the session
 * cache (a resumed session would skip the verification the policy may
 * ask of this connection). */
static void
hop_options(const struct submit_hop *h, const struct names *n,
            struct smtp_options *o)
{
	o->target.host = n->hop_target;
	o->tls_params.host = n->host;
	o->tls_params.host_override = NULL;
	o->tls_params.fingerprint = NULL;
	o->tls_params.cache_dir = NULL;
	o->tls_params.no_certcheck = h->tls != SUBMIT_HOP_TLS_VERIFY;
	o->tls_params.dane = h->dane;
	o->tls = SMTP_TLS_OFF;
	o->starttls_if_offered = false;
	switch (h->tls) {
	case SUBMIT_HOP_TLS_MAY:
		o->starttls_if_offered = true;
		break;
	case SUBMIT_HOP_TLS_PLAIN:
		break;
	case SUBMIT_HOP_TLS_ENCRYPT:
	case SUBMIT_HOP_TLS_VERIFY:
		o->tls = SMTP_TLS_STARTTLS;
		break;
	}
}

static void
session_options(const struct submission *sub, const struct names *n,
                struct smtp_options *o)
{
	const struct account *a = sub->account;

	memset(o, 0, sizeof *o);
	o->target.host = n->host;
	o->target.port = submit_port(a);
	o->target.source_ip = a->source_ip;
	/* The server's name goes to the proxy as it is (an A-label): the
	 * proxy resolves it, nothing here does. */
	o->target.proxy_host = n->proxy_host;
	o->target.proxy_port = a->proxy_port;
	o->target.socket_path = a->socket;
	o->helo_name = a->domain;
	o->lmtp = a->lmtp;
	o->transcript = sub->transcript;
	smtp_timeouts_init(&o->timeouts, a->timeout);
	o->target.timeout_ms = o->timeouts.connect;
	o->tls = tls_mode(a);
	tls_options(a, n, &o->tls_params);
	/* An OAuth2 account authenticates whether or not `auth` is set
	 * (mailpost.conf(5), oauth2_provider). */
	o->auth = a->auth || !sub->bearer ? a->auth : "on";
	o->user = a->user;
	o->secret = sub->secret;
	o->bearer = sub->bearer;
	o->renew = sub->renew;
	o->renew_ctx = sub->renew_ctx;
	o->account = a->name;
	/* The system configuration's, for a caller outside its group. */
	o->private_names = a->hidden;
	o->auth_plaintext = a->auth_plaintext;
	o->no_pipelining = !a->pipelining;
	o->no_chunking = !a->chunking;
	if (sub->hop)
		hop_options(sub->hop, n, o);
	if (sub->report) {
		o->timing = &sub->report->timing;
		o->report = &sub->report->smtp;
		o->tls_params.info = &sub->report->tls;
	}
}

void
submit_report_clear(struct submit_report *r)
{
	tls_info_clear(&r->tls);
	memset(r, 0, sizeof *r);
}

/* tls_start notes what it checks against before the handshake, so a
 * description with none of it never began one. */
bool
submit_report_tls(const struct submit_report *r)
{
	return r->tls.trust[0] || r->tls.verify_ran || r->tls.completed;
}

/* A new session's report: its server, nothing negotiated yet (what an
 * earlier hop's session described is released). */
static void
report_begin(struct submit_report *r, const struct account *a)
{
	if (!r)
		return;
	submit_report_clear(r);
	r->tried = true;
	str_copy(r->host, sizeof r->host, a->host);
	r->port = submit_port(a);
	smtp_timing_init(&r->timing);
}

static void
failed_in(struct submit_outcome *out, enum smtp_step step)
{
	out->in_step = step != SMTP_NSTEPS;
	out->failed_step = step;
}

/* Whether the body can go by BDAT as BODY=BINARYMIME (RFC 3030 3: only
 * by BDAT): the server offers BINARYMIME, and the body goes by BDAT. */
static bool
binary_possible(struct smtp_session *s, const struct submission *sub)
{
	struct smtp_envelope probe = {.envelope = sub->env};

	return smtp_caps(s)->binarymime && smtp_envelope_uses_bdat(s, &probe);
}

/* RFC 3030 3: a body with NUL bytes goes only as BODY=BINARYMIME (7-bit
 * and 8BITMIME data hold none: RFC 5321 4.1.1.4, RFC 6152 3).  8-bit
 * data to a server without 8BITMIME can go unchanged the same way.
 * 8BITMIME, when offered, is preferred for data without NUL: it says
 * what the data is (lines, no NUL) to every later hop. */
static bool
goes_binary(struct smtp_session *s, const struct submission *sub)
{
	const struct smtp_caps *caps = smtp_caps(s);

	if (!sub->message.has_nul &&
	    !(sub->message.has_8bit && !caps->eightbitmime))
		return false;
	return binary_possible(s, sub);
}

/* A body with NUL bytes for a server that cannot take it as BINARYMIME:
 * refused before MAIL, the reason named (the server's offer, or our own
 * chunking off). */
static int
nul_refused(struct smtp_session *s, const struct submission *sub,
            struct error *err)
{
	const struct smtp_caps *caps = smtp_caps(s);
	const char *host = sub->account->host;
	const char *why = "offers no BINARYMIME";

	if (caps->binarymime && !caps->chunking)
		why = "offers BINARYMIME without CHUNKING";
	else if (caps->binarymime)
		why = "offers BINARYMIME, but chunking is off "
		      "(--no-chunking, 'chunking off')";
	return error_set(err, ERROR_DATA,
	                 "the message has NUL bytes and %s %s; only "
	                 "BODY=BINARYMIME by BDAT carries them (RFC 3030 3): "
	                 "send the data as an attachment, or through a "
	                 "server that offers it",
	                 host ? host : "the server", why);
}

/* What the message needs that the server may lack, checked before MAIL so
 * that nothing is half done (RFC 3030 3: NUL bytes only as BINARYMIME;
 * RFC 6152: 8-bit data only with 8BITMIME, or BINARYMIME; RFC 1870: do
 * not send what the server said it will not take). */
static int
check_fits(struct smtp_session *s, const struct submission *sub,
           struct error *err)
{
	const struct smtp_caps *caps = smtp_caps(s);
	uint64_t size = sub->message.size;

	/* A message still being read goes out only under stream_now's
	 * conditions, which include these. */
	if (sub->message.settle)
		return 0;
	if (sub->message.has_nul && !binary_possible(s, sub))
		return nul_refused(s, sub, err);
	if (sub->message.has_8bit && !caps->eightbitmime &&
	    !goes_binary(s, sub))
		return error_set(err, ERROR_DATA,
		                 "the message has 8-bit characters but the "
		                 "server does not offer 8BITMIME; encode it "
		                 "(quoted-printable or base64) first");
	if (caps->size && caps->size_max && size > caps->size_max)
		return error_set(err, ERROR_UNAVAILABLE,
		                 "the message is %llu bytes but the server "
		                 "accepts at most %llu",
		                 (unsigned long long)size,
		                 (unsigned long long)caps->size_max);
	return 0;
}

/* The envelope as it goes on the wire: a copy of the submission's with
 * every address in its wire form, freed by wire_clear. */
struct wire {
	struct envelope env;
	bool smtputf8; /* sent as UTF-8 with MAIL FROM's SMTPUTF8 */
};

/* The first address that cannot be written in ASCII, or NULL. */
static const char *
first_utf8_only(const struct envelope *env)
{
	if (env->sender && address_needs_smtputf8(env->sender))
		return env->sender;
	for (size_t i = 0; i < env->nrcpts; i++)
		if (address_needs_smtputf8(env->rcpts[i].addr))
			return env->rcpts[i].addr;
	return NULL;
}

/* One address in its wire form, in place: as it is with SMTPUTF8 (RFC
 * 6531 3.2), else with its domain in A-labels.  NULL stays NULL (smtp.c
 * names that bug).  Checked again here, whoever gave it: an address read
 * back from a queue entry was never on a command line. */
static int
wire_address(char **addr, bool is_sender, bool smtputf8, struct error *err)
{
	char *ascii;

	if (!*addr)
		return 0;
	if (address_check(*addr, is_sender, ERROR_DATA, err) < 0)
		return -1;
	if (smtputf8)
		return 0;
	if (address_to_ascii(*addr, &ascii, err) < 0)
		return -1;
	free(*addr);
	*addr = ascii;
	return 0;
}

static void
wire_clear(struct wire *w)
{
	envelope_clear(&w->env);
}

/* Decide how the addresses are sent, before MAIL: a UTF-8 local part
 * without SMTPUTF8 offered cannot be delivered (RFC 6531 3.2).
 * utf8_header: the message needs SMTPUTF8 for its header (downgrade.h). */
static int
wire_init(struct wire *w, const struct submission *sub,
          const struct smtp_caps *caps, bool utf8_header, struct error *err)
{
	const char *utf8 = first_utf8_only(sub->env);
	const char *bad;

	envelope_init(&w->env);
	if (utf8 && !caps->smtputf8)
		return error_set(err, ERROR_DATA,
		                 "the address <%s> has a non-ASCII local part "
		                 "but the server does not offer SMTPUTF8 "
		                 "(RFC 6531)",
		                 utf8);
	w->smtputf8 = utf8 != NULL || utf8_header;
	envelope_copy(&w->env, sub->env);
	/* As the addresses: a queue entry's never were on a command line,
	 * and a space would add a parameter of its own to the line. */
	bad = envelope_dsn_invalid(&w->env);
	if (bad) {
		error_set(err, ERROR_DATA,
		          "the DSN %s value is not one RFC 3461 allows", bad);
		goto fail;
	}
	if (wire_address(&w->env.sender, true, w->smtputf8, err) < 0)
		goto fail;
	for (size_t i = 0; i < w->env.nrcpts; i++)
		if (wire_address(&w->env.rcpts[i].addr, false, w->smtputf8,
		                 err) < 0)
			goto fail;
	return 0;
fail:
	wire_clear(w);
	return -1;
}

/* Recipient i's verdict from reply r (envelope.h): accepted when it is
 * positive, else refused for now or for good by the reply's class. */
static void
record(struct envelope *env, size_t i, const struct reply *r,
       enum reply_stage stage)
{
	enum envelope_state state = ENVELOPE_ACCEPTED;
	char text[RCPT_REPLY_MAX];

	if (!reply_is_positive(r))
		state = reply_error_kind(r, stage) == ERROR_TEMPFAIL
		            ? ENVELOPE_REFUSED_TEMP
		            : ENVELOPE_REFUSED_PERM;
	reply_format(r, text, sizeof text);
	envelope_rcpt_set(env, i, state, r->code, text);
}

/* Add "<addr> (CODE text)" for each refused recipient to the message, and
 * return the worst failure class among them. */
static enum error_kind
describe_refusals(const struct envelope *env,
                  const struct smtp_envelope_result *res, size_t *nrefused,
                  char *list, size_t n)
{
	enum error_kind worst = ERROR_NONE;
	size_t used = 0;

	*nrefused = 0;
	list[0] = '\0';
	for (size_t i = 0; i < res->nrcpt; i++) {
		const struct reply *r = &res->rcpt[i];
		char text[160];

		if (r->code == 0 || reply_is_positive(r))
			continue;
		worst =
		    error_worse(worst, reply_error_kind(r, REPLY_STAGE_RCPT));
		reply_summary(r, text, sizeof text);
		if (used < n)
			used += (size_t)snprintf(
			    list + used, n - used, "%s<%s> (%d %s)",
			    *nrefused ? ", " : "", env->rcpts[i].addr, r->code,
			    text);
		(*nrefused)++;
	}
	return worst;
}

/* The first refused recipient's reply, to record its code in err. */
static const struct reply *
first_refusal(const struct smtp_envelope_result *res)
{
	for (size_t i = 0; i < res->nrcpt; i++)
		if (res->rcpt[i].code && !reply_is_positive(&res->rcpt[i]))
			return &res->rcpt[i];
	return NULL;
}

static int
refusal_error(const struct smtp_envelope_result *res, enum error_kind kind,
              size_t nrefused, const char *list, const char *consequence,
              struct error *err)
{
	const struct reply *r = first_refusal(res);

	error_set(err, kind, "%zu recipient%s refused: %s; %s", nrefused,
	          nrefused == 1 ? "" : "s", list, consequence);
	if (r)
		reply_keep(r, err);
	return -1;
}

/* Judge the envelope.  Returns 1 when the body should be sent, 0 when the
 * transaction ends here with err set (*abort_data when DATA got its 354 and
 * the connection must be dropped instead of ended; *step: whose reply
 * ended it). */
static int
judge_envelope(const struct submission *sub,
               const struct smtp_envelope_result *res, bool *abort_data,
               enum smtp_step *step, struct error *err)
{
	char list[REFUSED_LIST_MAX];
	size_t nrefused;
	enum error_kind worst;

	*abort_data = res->data.code == 354;
	if (!reply_is_positive(&res->mail)) {
		reply_to_error(&res->mail, REPLY_STAGE_MAIL, "sender refused",
		               err);
		*step = SMTP_STEP_MAIL;
		return 0;
	}
	for (size_t i = 0; i < res->nrcpt; i++)
		if (res->rcpt[i].code && !reply_is_positive(&res->rcpt[i]))
			record(sub->env, i, &res->rcpt[i], REPLY_STAGE_RCPT);
	worst = describe_refusals(sub->env, res, &nrefused, list, sizeof list);
	if (nrefused &&
	    (res->naccepted == 0 || sub->rcpt_policy != RCPT_POLICY_ANY)) {
		refusal_error(res, worst, nrefused, list, "nothing was sent",
		              err);
		*step = SMTP_STEP_RCPT;
		return 0;
	}
	*step = SMTP_STEP_DATA;
	if (res->bdat)
		return 1; /* RFC 3030: no DATA, the chunks follow */
	if (res->data.code != 354) {
		if (res->data.code == 0)
			error_set(err, ERROR_PROTOCOL,
			          "DATA was not sent although recipients "
			          "were accepted");
		else
			reply_to_error(&res->data, REPLY_STAGE_DATA,
			               "DATA refused", err);
		return 0;
	}
	*abort_data = false;
	return 1;
}

/* The reply to the dot for SMTP: one verdict for every recipient. */
static int
judge_final_smtp(const struct submission *sub,
                 const struct smtp_envelope_result *res,
                 const struct reply *final, struct submit_outcome *out,
                 struct error *err)
{
	for (size_t i = 0; i < res->nrcpt; i++)
		if (reply_is_positive(&res->rcpt[i]))
			record(sub->env, i, final, REPLY_STAGE_BODY);
	if (!reply_is_positive(final))
		return reply_to_error(final, REPLY_STAGE_BODY,
		                      "message refused", err);
	out->delivered = true;
	return 0;
}

/* LMTP (RFC 2033 4.2): one reply per accepted recipient, in RCPT order;
 * the refused ones are named, as refusals at RCPT are. */
static int
judge_final_lmtp(const struct submission *sub,
                 const struct smtp_envelope_result *res,
                 const struct reply *final, size_t nfinal,
                 struct submit_outcome *out, struct error *err)
{
	enum error_kind worst = ERROR_NONE;
	const struct reply *bad = NULL;
	char list[REFUSED_LIST_MAX];
	size_t used = 0, nrefused = 0, k = 0;

	list[0] = '\0';
	for (size_t i = 0; i < res->nrcpt && k < nfinal; i++) {
		const struct reply *r = &final[k];
		char text[160];

		if (!reply_is_positive(&res->rcpt[i]))
			continue;
		k++;
		record(sub->env, i, r, REPLY_STAGE_BODY);
		if (reply_is_positive(r))
			continue;
		worst =
		    error_worse(worst, reply_error_kind(r, REPLY_STAGE_BODY));
		bad = bad ? bad : r;
		reply_summary(r, text, sizeof text);
		if (used < sizeof list)
			used += (size_t)snprintf(
			    list + used, sizeof list - used, "%s<%s> (%d %s)",
			    nrefused ? ", " : "", sub->env->rcpts[i].addr,
			    r->code, text);
		nrefused++;
	}
	out->delivered = envelope_count(sub->env, ENVELOPE_ACCEPTED) > 0;
	if (!bad)
		return 0;
	error_set(err, worst, "message refused for %zu of %zu recipients: %s%s",
	          nrefused, k, list,
	          out->delivered ? "; delivered to the others" : "");
	reply_keep(bad, err);
	return -1;
}

/* LMTP cut between its replies after the dot (RFC 2033 4.2: one per
 * recipient, so each read is that recipient's verdict): those whose
 * reply came are judged by it and must not get the message again; for
 * the others the outcome is unknown (cut: the failure, a lost connection
 * or a reply that could not be read), so they are refused for now, to be
 * tried again on their own, and the failure's class is a temporary one
 * (as "delivery status unknown" is), so that what becomes of the message
 * follows the recipients' verdicts (fate.h). */
static int
judge_lmtp_cut(const struct submission *sub,
               const struct smtp_envelope_result *res,
               const struct reply *final, size_t nfinal,
               struct submit_outcome *out, struct error *err)
{
	static const char unknown[] = "no reply to the end of data: delivery "
	                              "status unknown";
	struct error cut = *err, refused;
	char list[REFUSED_LIST_MAX];
	size_t nread = 0, k = 0, used = 0, nunknown = 0;

	while (nread < nfinal && final[nread].code != 0)
		nread++;
	error_clear(&refused);
	judge_final_lmtp(sub, res, final, nread, out, &refused);
	list[0] = '\0';
	for (size_t i = 0; i < res->nrcpt; i++) {
		if (!reply_is_positive(&res->rcpt[i]) || k++ < nread)
			continue;
		envelope_rcpt_set(sub->env, i, ENVELOPE_REFUSED_TEMP, 0,
		                  unknown);
		if (used < sizeof list)
			used += (size_t)snprintf(
			    list + used, sizeof list - used, "%s<%s>",
			    nunknown ? ", " : "", sub->env->rcpts[i].addr);
		nunknown++;
	}
	if (refused.kind == ERROR_NONE)
		error_set(err, ERROR_TEMPFAIL,
		          "%s, for %zu of %zu recipients: %s%s", cut.msg,
		          nunknown, k, list,
		          out->delivered ? "; delivered to the others" : "");
	else
		error_set(err, error_worse(ERROR_TEMPFAIL, refused.kind),
		          "%s; then %s, for %zu recipient%s: %s", refused.msg,
		          cut.msg, nunknown, nunknown == 1 ? "" : "s", list);
	error_copy_reply(err, refused.kind ? &refused : &cut);
	return -1;
}

/* A piped envelope (smtp.h: MAIL, RCPT and the chunks in one write) is
 * judged after the body: refused, it is the verdict, and the server's
 * refusal of the chunks that followed says nothing more.  Nothing was
 * delivered then, so another server may still be tried. */
static bool
piped_refused(const struct submission *sub,
              const struct smtp_envelope_result *res,
              struct submit_outcome *out, struct error *err)
{
	bool abort_data;
	enum smtp_step step;

	if (judge_envelope(sub, res, &abort_data, &step, err))
		return false;
	failed_in(out, step);
	out->dot_sent = false;
	return true;
}

static int
send_body(struct smtp_session *s, const struct submission *sub,
          const struct smtp_envelope_result *res, struct submit_outcome *out,
          struct error *err)
{
	const struct smtp_body_source src = {sub->message.read,
	                                     sub->message.ctx};
	size_t nfinal = sub->account->lmtp ? res->naccepted : 1;
	struct reply *final = xcalloc(nfinal, sizeof *final);
	bool dot_sent = false, replied;
	int rc;

	for (size_t i = 0; i < nfinal; i++)
		reply_init(&final[i]);
	rc = smtp_body(s, &src, !sub->more_follow, final, nfinal, &dot_sent,
	               err);
	out->dot_sent = dot_sent;
	if (res->piped && res->mail.code != 0 &&
	    piped_refused(sub, res, out, err)) {
		rc = -1;
		goto done;
	}
	/* smtp_body refuses nfinal 0 (no accepted recipient). */
	replied = nfinal > 0 && final[0].code != 0;
	if (replied) {
		out->final_code = final[0].code;
		reply_format(&final[0], out->final_reply,
		             sizeof out->final_reply);
	}
	if (rc == 0 && sub->account->lmtp)
		rc = judge_final_lmtp(sub, res, final, nfinal, out, err);
	else if (rc == 0)
		rc = judge_final_smtp(sub, res, final, out, err);
	else if (sub->account->lmtp && replied)
		rc = judge_lmtp_cut(sub, res, final, nfinal, out, err);
done:
	for (size_t i = 0; i < nfinal; i++)
		reply_clear(&final[i]);
	free(final);
	return rc;
}

/* After every recipient was judged: the refusals that did not stop the
 * message (RCPT_POLICY_ANY) still make the run a failure.  rc is the
 * body's verdict: when LMTP refused the message for some recipients too
 * (err says which), those refused at RCPT are named after them and the
 * worse class of both stands, so that none goes unreported. */
static int
report_partial(const struct submission *sub,
               const struct smtp_envelope_result *res, int rc,
               struct error *err)
{
	char list[REFUSED_LIST_MAX];
	size_t nrefused;
	enum error_kind worst =
	    describe_refusals(sub->env, res, &nrefused, list, sizeof list);
	struct error after_dot = *err;

	if (!nrefused)
		return rc;
	if (rc == 0)
		return refusal_error(res, worst, nrefused, list,
		                     "the message was sent to the others", err);
	error_set(err, error_worse(after_dot.kind, worst),
	          "%s; refused at RCPT: %s", after_dot.msg, list);
	error_copy_reply(err, &after_dot);
	return -1;
}

static void
smtp_envelope_init(struct smtp_envelope *env, const struct submission *sub,
                   const struct wire *w)
{
	memset(env, 0, sizeof *env);
	env->envelope = &w->env;
	env->size = sub->message.size;
	env->body_8bit = sub->message.has_8bit;
	/* Still being read (stream.h): its size is not known, and 8-bit bytes
	 * may come; RFC 6152 lets BODY=8BITMIME cover 7-bit data too, and
	 * RFC 1870 makes SIZE= optional. */
	if (sub->message.settle) {
		env->size = 0;
		env->body_8bit = true;
	}
	env->smtputf8 = w->smtputf8;
	env->all_or_nothing = sub->rcpt_policy != RCPT_POLICY_ANY;
}

static int
transact_as(struct smtp_session *s, const struct submission *sub,
            bool utf8_header, struct submit_outcome *out, struct error *err)
{
	const struct smtp_caps *caps = smtp_caps(s);
	struct smtp_envelope env;
	struct smtp_envelope_result res;
	struct wire w;
	bool abort_data = false;
	enum smtp_step step;
	int rc = -1;

	if (check_fits(s, sub, err) < 0 ||
	    wire_init(&w, sub, caps, utf8_header, err) < 0)
		return -1;
	out->dsn_unoffered = !caps->dsn && (w.env.dsn.notify || w.env.dsn.ret ||
	                                    w.env.dsn.envid);
	smtp_envelope_init(&env, sub, &w);
	env.body_binary = goes_binary(s, sub);
	env.body_8bit = env.body_8bit && !env.body_binary;
	smtp_envelope_result_init(&res);
	if (smtp_envelope(s, &env, &res, err) < 0) {
		failed_in(out, smtp_timing_failed(smtp_timing(s)));
		goto out;
	}
	if (!res.piped && !judge_envelope(sub, &res, &abort_data, &step, err)) {
		failed_in(out, step);
		if (abort_data)
			smtp_abort(s);
		goto out;
	}
	rc = send_body(s, sub, &res, out, err);
	if (rc < 0 && !out->in_step) /* else a piped envelope's refusal */
		failed_in(out, SMTP_STEP_BODY);
	if ((rc == 0 || out->delivered) &&
	    (rc = report_partial(sub, &res, rc, err)) < 0 && !out->in_step)
		failed_in(out, SMTP_STEP_RCPT);
out:
	smtp_envelope_result_clear(&res);
	wire_clear(&w);
	return rc;
}

/* Whether a message still being read from its input (stream.h) may go
 * out as it is read: only behind BODY=8BITMIME (RFC 6152: 8-bit bytes
 * may still come, and nothing is re-encoded on the way), and without a
 * size limit of the server's that it could pass (RFC 1870: a server's
 * SIZE is checked before MAIL; size is an upper bound then, 0 unknown). */
static bool
stream_now(const struct message_stream *m, const struct smtp_caps *caps)
{
	if (!caps->eightbitmime)
		return false;
	return !(caps->size && caps->size_max &&
	         (m->size == 0 || m->size > caps->size_max));
}

/* RFC 6532: UTF-8 in the header needs SMTPUTF8; without it the header is
 * downgraded where nothing is lost, else the message is refused before
 * MAIL (downgrade.h).  Only a message with 8-bit bytes is looked at.  A
 * message still being read that may not go out as it is read is read
 * whole first (settle; a failure there is the message's, stream.h). */
static int
transact(struct smtp_session *s, const struct submission *sub,
         struct submit_outcome *out, struct error *err)
{
	struct submission local = *sub;
	struct downgrade *d = NULL;
	bool utf8_header = false;
	int rc;

	if (local.message.settle && !stream_now(&local.message, smtp_caps(s)) &&
	    local.message.settle(local.message.ctx, &local.message, err) < 0) {
		out->before_mail = true;
		return -1;
	}
	if (local.message.has_8bit &&
	    downgrade_prepare(&d, &local.message, smtp_caps(s)->smtputf8,
	                      &utf8_header, err) < 0)
		return -1;
	if (d)
		local.message = downgrade_stream(d);
	rc = transact_as(s, &local, utf8_header, out, err);
	downgrade_free(d);
	return rc;
}

struct submit_session {
	struct smtp_session *smtp;
	struct names names;
	unsigned transactions; /* started on this connection */
};

/* A session to the submission's server, stopping after `stop` when it is
 * not SMTP_NSTEPS (smtp.h). */
static int
open_until(struct submit_session **out, const struct submission *sub,
           enum smtp_step stop, struct error *err)
{
	struct submit_session *ss = xcalloc(1, sizeof *ss);
	struct smtp_options o;

	*out = NULL;
	report_begin(sub->report, sub->account);
	if (names_of(&ss->names, sub, err) < 0) {
		free(ss);
		return -1;
	}
	session_options(sub, &ss->names, &o);
	o.stop = stop < SMTP_NSTEPS;
	o.stop_after = stop;
	if (smtp_open(&ss->smtp, &o, err) < 0) {
		names_clear(&ss->names);
		free(ss);
		return -1;
	}
	*out = ss;
	return 0;
}

int
submit_message(struct submit_session *ss, const struct submission *sub,
               struct submit_outcome *out, struct error *err)
{
	memset(out, 0, sizeof *out);
	envelope_rcpt_reset(sub->env); /* no verdict of an earlier attempt */
	str_copy(out->host, sizeof out->host, sub->account->host);
	out->before_mail = true;
	if (!smtp_reusable(ss->smtp))
		return error_set(err, ERROR_TEMPFAIL,
		                 "the connection to %s cannot take another "
		                 "message",
		                 sub->account->host);
	/* RFC 5321 4.1.1.5: a clean state before each further transaction
	 * (a server that closed after the last one, or said 421, fails
	 * here). */
	if (ss->transactions > 0 && smtp_rset(ss->smtp, err) < 0)
		return -1;
	out->before_mail = false;
	ss->transactions++;
	return transact(ss->smtp, sub, out, err);
}

int
submit_open(struct submit_session **out, const struct submission *sub,
            struct error *err)
{
	return open_until(out, sub, SMTP_NSTEPS, err);
}

struct smtp_session *
submit_smtp(struct submit_session *ss)
{
	return ss->smtp;
}

bool
submit_usable(const struct submit_session *ss)
{
	return ss && smtp_reusable(ss->smtp);
}

void
submit_close(struct submit_session *ss)
{
	if (!ss)
		return;
	smtp_close(ss->smtp);
	names_clear(&ss->names);
	free(ss);
}

void
submit_probe_init(struct submit_probe *p)
{
	memset(p, 0, sizeof *p);
	smtp_heard_init(&p->heard);
	tls_info_init(&p->tls);
	smtp_timing_init(&p->timing);
}

void
submit_probe_clear(struct submit_probe *p)
{
	smtp_heard_clear(&p->heard);
	tls_info_clear(&p->tls);
	submit_probe_init(p);
}

/* The first name of a `host` list (commas and white space separate,
 * as relay.c reads it), into p->host; whether more follow. */
static int
first_host(const struct account *a, struct submit_probe *p,
           struct error *err)
{
	const char *h = a->host ? a->host + strspn(a->host, ", \t") : "";
	size_t n = strcspn(h, ", \t");

	if (n == 0 || n >= sizeof p->host)
		return error_set(err, ERROR_CONFIG,
		                 "account '%s': no usable host to probe",
		                 a->name ? a->name : "default");
	memcpy(p->host, h, n);
	p->host[n] = '\0';
	p->more_hosts = h[n + strspn(h + n, ", \t")] != '\0';
	return 0;
}

/* The probe's session of sub (its account's host already one name):
 * STARTTLS also when only offered, unless an MX hop's policy says how. */
static int
probe_session(const struct submission *sub, struct submit_probe *p,
              struct error *err)
{
	struct smtp_session *s;
	struct smtp_options o;
	struct names n;
	int rc;

	if (names_of(&n, sub, err) < 0)
		return -1;
	session_options(sub, &n, &o);
	o.auth = NULL; /* a probe never authenticates */
	o.secret = NULL;
	o.heard = &p->heard;
	o.timing = &p->timing;
	o.tls_params.info = &p->tls;
	o.tls_params.info_chain = true; /* shown whole */
	if (!sub->hop)
		o.starttls_if_offered = true;
	p->tls_asked = o.tls != SMTP_TLS_OFF;
	rc = smtp_open(&s, &o, err);
	if (rc == 0)
		smtp_close(s);
	names_clear(&n);
	return rc;
}

int
submit_probe(const struct account *a, struct transcript *t,
             struct submit_probe *p, struct error *err)
{
	struct account view = *a;
	struct submission sub = {.account = &view, .transcript = t};

	if (first_host(a, p, err) < 0)
		return -1;
	view.host = p->host;
	return probe_session(&sub, p, err);
}

int
submit_probe_hop(const struct account *a, const struct submit_hop *hop,
                 struct transcript *t, struct submit_probe *p,
                 struct error *err)
{
	struct submission sub = {.account = a, .hop = hop, .transcript = t};

	str_copy(p->host, sizeof p->host, a->host);
	return probe_session(&sub, p, err);
}

int
submit_send(const struct submission *sub, struct submit_outcome *out,
            struct error *err)
{
	struct submit_session *ss;
	int rc;

	memset(out, 0, sizeof *out);
	envelope_rcpt_reset(sub->env);
	str_copy(out->host, sizeof out->host, sub->account->host);
	if (submit_open(&ss, sub, err) < 0) {
		if (sub->report)
			failed_in(out,
			          smtp_timing_failed(&sub->report->timing));
		return -1;
	}
	rc = submit_message(ss, sub, out, err);
	submit_close(ss);
	return rc;
}

/* --quit-after's verdict on the envelope's replies: every one asked for
 * must be positive (a refused recipient fails the test whatever the
 * rcpt_policy: the test is of each address). */
static int
judge_stopped(const struct submission *sub,
              const struct smtp_envelope_result *res, enum smtp_step step,
              struct error *err)
{
	char list[REFUSED_LIST_MAX];
	size_t nrefused;
	enum error_kind worst;

	if (!reply_is_positive(&res->mail))
		return reply_to_error(&res->mail, REPLY_STAGE_MAIL,
		                      "sender refused", err);
	if (step == SMTP_STEP_MAIL)
		return 0;
	for (size_t i = 0; i < res->nrcpt; i++)
		if (res->rcpt[i].code)
			record(sub->env, i, &res->rcpt[i], REPLY_STAGE_RCPT);
	worst = describe_refusals(sub->env, res, &nrefused, list, sizeof list);
	if (nrefused)
		return refusal_error(res, worst, nrefused, list,
		                     "nothing was sent", err);
	if (step == SMTP_STEP_RCPT || res->data.code == 354)
		return 0;
	if (res->data.code == 0)
		return error_set(err, ERROR_PROTOCOL,
		                 "DATA was not sent although recipients were "
		                 "accepted");
	return reply_to_error(&res->data, REPLY_STAGE_DATA, "DATA refused",
	                      err);
}

/* MAIL, then the RCPTs and DATA as far as `step` asks; after a 354 the
 * connection is dropped (smtp_abort): the server discards the
 * transaction, and QUIT could only be read as message text. */
static int
stopped_envelope(struct smtp_session *s, const struct submission *sub,
                 enum smtp_step step, struct error *err)
{
	struct smtp_envelope env;
	struct smtp_envelope_result res;
	struct wire w;
	int rc;

	if (wire_init(&w, sub, smtp_caps(s), false, err) < 0)
		return -1;
	smtp_envelope_init(&env, sub, &w);
	env.all_or_nothing = true;
	smtp_envelope_result_init(&res);
	rc = smtp_envelope(s, &env, &res, err);
	if (rc == 0)
		rc = judge_stopped(sub, &res, step, err);
	if (res.data.code == 354)
		smtp_abort(s);
	smtp_envelope_result_clear(&res);
	wire_clear(&w);
	return rc;
}

int
submit_quit_after(const struct submission *sub, enum smtp_step step,
                  struct error *err)
{
	struct submit_session *ss;
	int rc = 0;

	if (step > SMTP_STEP_DATA)
		return error_set(err, ERROR_SOFTWARE,
		                 "no stop after the %s step (a bug in "
		                 "mailpost)",
		                 smtp_step_name(step));
	envelope_rcpt_reset(sub->env);
	if (open_until(&ss, sub, step, err) < 0)
		return -1;
	if (step >= SMTP_STEP_MAIL)
		rc = stopped_envelope(ss->smtp, sub, step, err);
	if (rc == 0)
		transcript_note(sub->transcript,
		                "stopping after the %s step, as asked: "
		                "nothing was sent",
		                smtp_step_name(step));
	submit_close(ss);
	return rc;
}
