/*
 * relay.c - failover along a route of hosts and fallback accounts (see
 * relay.h).
 */
#include "config.h"

#include "relay.h"

#include <stdlib.h>
#include <string.h>

#include "interrupt.h"
#include "mxroute.h"
#include "provider.h"
#include "sasl.h"
#include "util.h"

/* Split a `host` value into names: commas and white space separate. */
static int
add_hops(struct relay_route *r, size_t account, struct error *err)
{
	const struct account *a = r->accounts[account];
	const char *p = a->host ? a->host : "";
	size_t before = r->nhops;

	while (*p) {
		size_t n;

		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n == 0)
			break;
		if (r->nhops == RELAY_HOPS_MAX)
			return error_set(err, ERROR_CONFIG,
			                 "more than %d hosts to try",
			                 RELAY_HOPS_MAX);
		r->hops = xrealloc(r->hops, (r->nhops + 1) * sizeof *r->hops);
		r->hops[r->nhops].account = account;
		r->hops[r->nhops].host = xstrndup(p, n);
		r->hops[r->nhops].view = *a;
		r->hops[r->nhops].view.host = r->hops[r->nhops].host;
		r->nhops++;
		p += n;
		/* Through a local socket there is one way to the server
		 * whatever `host` lists: the first name only names it. */
		if (a->socket && *a->socket)
			break;
	}
	if (r->nhops == before) {
		error_set(err, ERROR_CONFIG,
		          "no SMTP server configured for account '%s'; set its "
		          "'host'",
		          a->name ? a->name : "default");
		return conf_hide(a, err);
	}
	return 0;
}

static bool
already_on_route(const struct relay_route *r, const char *name)
{
	for (size_t i = 0; i < r->naccounts; i++)
		if (r->accounts[i]->name &&
		    strcmp(r->accounts[i]->name, name) == 0)
			return true;
	return false;
}

/* The fallback chain: each account's fallback_account, resolved. */
static int
add_fallbacks(struct relay_route *r, const struct config *cfg,
              const struct relay_finish *finish, struct error *err)
{
	const char *next = r->accounts[0]->fallback_account;

	while (next && *next) {
		struct account *a;

		if (!cfg)
			return error_set(err, ERROR_CONFIG,
			                 "fallback account '%s' needs a "
			                 "configuration file",
			                 next);
		if (already_on_route(r, next)) {
			error_set(err, ERROR_CONFIG,
			          "fallback account '%s' loops back to an "
			          "account already tried",
			          next);
			return conf_hide(r->accounts[r->naccounts - 1], err);
		}
		if (r->naccounts == RELAY_ACCOUNTS_MAX)
			return error_set(err, ERROR_CONFIG,
			                 "more than %d fallback accounts",
			                 RELAY_ACCOUNTS_MAX - 1);
		a = xcalloc(1, sizeof *a);
		if (conf_select(cfg, next, NULL, a, err) < 0 ||
		    conf_check_withheld(a, err) < 0) {
			account_clear(a);
			free(a);
			return -1;
		}
		r->accounts[r->naccounts++] = a;
		if (finish && finish->fn && finish->fn(finish->ctx, a, err) < 0)
			return -1;
		if (add_hops(r, r->naccounts - 1, err) < 0)
			return -1;
		next = a->fallback_account;
	}
	return 0;
}

int
relay_route_build(struct relay_route *r, const struct account *first,
                  const struct config *cfg, const struct relay_finish *finish,
                  struct transcript *t, struct error *err)
{
	memset(r, 0, sizeof *r);
	/* An account whose secrets this run forgot never connects. */
	if (conf_check_withheld(first, err) < 0)
		return -1;
	/* accounts[0] is not owned: relay_route_clear skips it. */
	r->accounts[0] = (struct account *)first;
	r->naccounts = 1;
	r->transcript = t;
	r->timeout_s = first->failover_timeout > 0 ? first->failover_timeout
	                                           : CONF_FAILOVER_TIMEOUT;
	if (first->deliver == CONF_DELIVER_MX)
		return mxroute_new(&r->mx, first, t, err);
	if (add_hops(r, 0, err) < 0 || add_fallbacks(r, cfg, finish, err) < 0) {
		relay_route_clear(r);
		return -1;
	}
	for (size_t i = 0; i < r->naccounts; i++)
		r->bearer[i].on = provider_account_uses_oauth2(r->accounts[i]);
	return 0;
}

bool
relay_direct(const struct relay_route *r)
{
	return r->mx != NULL;
}

void
relay_route_clear(struct relay_route *r)
{
	mxroute_free(r->mx);
	for (size_t i = 0; i < r->nhops; i++)
		free(r->hops[i].host);
	free(r->hops);
	for (size_t i = 0; i < r->naccounts; i++) {
		secret_free(&r->secrets[i]);
		if (i > 0) {
			account_clear(r->accounts[i]);
			free(r->accounts[i]);
		}
	}
	memset(r, 0, sizeof *r);
}

/* The account's OAuth2 access token into secrets[i] (bearer.h), said in
 * the transcript; `refused`: the one the server just refused. */
static int
bearer_fetch(struct relay_route *r, size_t i, const char *refused,
             struct error *err)
{
	struct relay_bearer *b = &r->bearer[i];
	struct bearer_info info;
	struct secret fresh;
	char line[ERROR_MSG_MAX];

	if (bearer_get(r->accounts[i], refused, &fresh, &info, err) < 0)
		return -1;
	secret_free(&r->secrets[i]);
	r->secrets[i] = fresh;
	r->fetched[i] = true;
	b->from_cache = info.from_cache;
	bearer_describe(r->accounts[i], &info, line, sizeof line);
	transcript_note(r->transcript, "%s", line);
	if (info.warning[0])
		transcript_problem(r->transcript, "%s", info.warning);
	return 0;
}

void
relay_token_clear(struct relay_token *t)
{
	free(t->account);
	secret_free(&t->token);
	memset(t, 0, sizeof *t);
}

/* The token got before the route (relay_token), for account i if it is
 * the one the preset names: 1 used (or its failure in err, -1), 0 not
 * this account's. */
static int
bearer_preset(struct relay_route *r, size_t i, struct error *err)
{
	const struct relay_token *t = r->preset;
	char line[ERROR_MSG_MAX];

	if (!t || !t->account || !r->accounts[i]->name ||
	    strcmp(t->account, r->accounts[i]->name) != 0)
		return 0;
	if (t->rc < 0) {
		*err = t->err;
		return -1;
	}
	secret_free(&r->secrets[i]);
	secret_from(&r->secrets[i], t->token.data, SECRET_NONE);
	r->fetched[i] = true;
	r->bearer[i].preset = true;
	r->bearer[i].from_cache = t->info.from_cache;
	bearer_describe(r->accounts[i], &t->info, line, sizeof line);
	transcript_note(r->transcript, "%s", line);
	return 1;
}

/* smtp_options.renew: the server refused the token.  One that came from
 * the cache is dropped and refreshed, once; a fresh one's refusal
 * stands. */
static int
renew_token(void *ctx, const char **secret, struct error *err)
{
	struct relay_bearer *b = ctx;
	struct relay_route *r = b->route;
	char *refused;
	int rc;

	if (!b->from_cache || b->renewed)
		return 1;
	b->renewed = true;
	if (b->preset)
		return error_set(err, ERROR_TEMPFAIL,
		                 "the server refused the system "
		                 "configuration's cached OAuth2 access token, "
		                 "which only root's queue run can refresh now; "
		                 "the message waits for it");
	transcript_note(r->transcript, "the server refused the cached OAuth2 "
	                               "access token: refreshing it");
	refused = xstrdup(r->secrets[b->account].data);
	rc = bearer_fetch(r, b->account, refused, err);
	str_wipe_free(&refused);
	if (rc < 0) {
		b->renew_failed = true;
		return -1;
	}
	*secret = r->secrets[b->account].data;
	return 0;
}

/* The account's password, fetched the first time one of its hops is
 * tried, the process made undumpable first. */
static int
hop_secret(struct relay_route *r, size_t hop, const char **secret,
           struct error *err)
{
	size_t i = r->hops[hop].account;
	const struct account *a = &r->hops[hop].view;
	struct secret_request req;
	int rc;

	*secret = NULL;
	if (r->bearer[i].on) {
		if (!r->fetched[i]) {
			if (secret_protect_process(err) < 0)
				return -1;
			rc = bearer_preset(r, i, err);
			if (rc == 0)
				rc = bearer_fetch(r, i, NULL, err);
			if (rc < 0)
				return -1;
		}
		*secret = r->secrets[i].data;
		return 0;
	}
	if (!a->auth || !sasl_needs_secret(a->auth))
		return 0;
	if (!r->fetched[i]) {
		if (secret_protect_process(err) < 0)
			return -1;
		secret_request_init(&req, a);
		/* A prompt must stay interruptible, and a password command
		 * must not inherit our blocked signals. */
		interrupt_suspend(true);
		rc = secret_get(&req, &r->secrets[i], err);
		interrupt_suspend(false);
		/* One of the system configuration's: its keys and values
		 * (passwordenv's variable, passwordcred's name) are not the
		 * caller's to read.  A system error (fork) quotes none and
		 * says what went wrong. */
		if (rc < 0 && err->kind == ERROR_CONFIG)
			return conf_hide(a, err);
		if (rc < 0)
			return -1;
		r->fetched[i] = true;
		transcript_note(r->transcript, "password from %s",
		                secret_source_name(r->secrets[i].source));
	}
	*secret = r->secrets[i].data;
	return 0;
}

int
relay_submission(struct relay_route *r, size_t hop, struct submission *sub,
                 struct error *err)
{
	size_t i = r->hops[hop].account;
	struct relay_bearer *b = &r->bearer[i];

	sub->account = &r->hops[hop].view;
	sub->bearer = b->on;
	sub->renew = b->on ? renew_token : NULL;
	sub->renew_ctx = b->on ? b : NULL;
	/* Set here, not when the route was built: the caller may have
	 * moved the route since (a flush's groups). */
	b->route = r;
	b->account = i;
	return hop_secret(r, hop, &sub->secret, err);
}

/* After a failure on hop `hop`: whether to try the same hop once more,
 * on a new connection.  Only after the server refused a cached token and
 * the session then failed for now (it closed after the refusal, before
 * the renewed token could be tried): nothing of the message went out. */
static bool
bearer_again(struct relay_route *r, size_t hop, const struct error *err,
             const struct submit_outcome *out)
{
	struct relay_bearer *b = &r->bearer[r->hops[hop].account];

	if (!b->on || !b->renewed || b->renew_failed || b->preset ||
	    b->reconnected || err->kind != ERROR_TEMPFAIL ||
	    interrupt_signal() != 0 ||
	    (out && (out->delivered || out->dot_sent)))
		return false;
	b->reconnected = true;
	transcript_note(r->transcript,
	                "the session ended after the token's refusal: a new "
	                "connection to %s for the renewed token",
	                r->hops[hop].host);
	return true;
}

bool
relay_may_retry(const struct error *err, const struct submit_outcome *outcome)
{
	if (interrupt_signal() != 0)
		return false;
	if (outcome && (outcome->delivered || outcome->dot_sent))
		return false;
	return err->kind == ERROR_TEMPFAIL || err->kind == ERROR_NOHOST;
}

/* Whether hop `next` may still be tried, `start_ms` being the first
 * attempt's start. */
static bool
may_go_on(const struct relay_route *r, size_t next, int64_t start_ms)
{
	if (next >= r->nhops)
		return false;
	if (now_ms() - start_ms >= (int64_t)r->timeout_s * 1000) {
		transcript_note(
		    r->transcript,
		    "failover: %d s spent, no further host is tried",
		    r->timeout_s);
		return false;
	}
	transcript_note(r->transcript, "failover: trying %s",
	                r->hops[next].host);
	return true;
}

/* A later hop refused what an earlier one could not take for now: that
 * refusal may be this server's own (a relay it does not allow, a
 * recipient it does not know), so the message stays a temporary failure,
 * to be queued for the first server, and the line names both. */
static int
after_failover(const struct error *first, const char *host,
               const struct submit_outcome *out, struct error *err)
{
	struct error later = *err;

	if (interrupt_signal() != 0 || out->delivered || out->dot_sent ||
	    first->kind == ERROR_NONE)
		return -1;
	return error_set(err, ERROR_TEMPFAIL, "%s; then %s: %s", first->msg,
	                 host, later.msg);
}

int
relay_send(struct relay_route *r, const struct submission *sub,
           struct submit_outcome *out, struct error *err)
{
	int64_t start = now_ms();
	struct submission s = *sub;

	struct error first; /* the first hop's temporary failure */

	if (r->mx)
		return mxroute_send(r->mx, sub, out, err);
	error_clear(&first);
	for (size_t hop = 0;; hop++) {
		if (hop > 0 && sub->message.rewind &&
		    sub->message.rewind(sub->message.ctx, err) < 0)
			return -1;
		if (relay_submission(r, hop, &s, err) < 0)
			return -1;
		if (submit_send(&s, out, err) == 0)
			return 0;
		if (bearer_again(r, hop, err, out)) {
			if (sub->message.rewind &&
			    sub->message.rewind(sub->message.ctx, err) < 0)
				return -1;
			error_clear(err);
			if (relay_submission(r, hop, &s, err) < 0)
				return -1;
			if (submit_send(&s, out, err) == 0)
				return 0;
		}
		if (!relay_may_retry(err, out))
			return hop > 0
			           ? after_failover(&first, r->hops[hop].host,
			                            out, err)
			           : -1;
		if (hop == 0)
			first = *err;
		if (!may_go_on(r, hop + 1, start))
			return -1;
	}
}

int
relay_open(struct relay_route *r, struct submit_session **ss, size_t *hop,
           struct error *err)
{
	int64_t start = now_ms();

	for (size_t h = 0;; h++) {
		struct submission s = {.transcript = r->transcript,
		                       .report = r->report};

		if (relay_submission(r, h, &s, err) < 0)
			return -1;
		if (submit_open(ss, &s, err) == 0 ||
		    (bearer_again(r, h, err, NULL) &&
		     relay_submission(r, h, &s, err) == 0 &&
		     submit_open(ss, &s, err) == 0)) {
			*hop = h;
			return 0;
		}
		if (!relay_may_retry(err, NULL) || !may_go_on(r, h + 1, start))
			return -1;
	}
}
