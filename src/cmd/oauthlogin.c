/*
 * oauthlogin.c - --oauth2-login (see oauthlogin.h).
 */
#include "config.h"

#include "oauthlogin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bearer.h"
#include "buf.h"
#include "encode.h"
#include "fdwait.h"
#include "interrupt.h"
#include "oauth2.h"
#include "privilege.h"
#include "provider.h"
#include "redirect.h"
#include "secret.h"
#include "tls.h"
#include "tokstore.h"
#include "util.h"

/* The authorization address: the endpoint and its query. */
#define OAUTHLOGIN_URL_MAX 8192
/* RFC 8628 3.5: what a slow_down adds to the interval. */
#define OAUTHLOGIN_SLOW_DOWN 5
/* The redirect URI's path (registered as http://127.0.0.1/ or
 * http://localhost/: RFC 8252 7.3 lets any port through). */
#define OAUTHLOGIN_REDIRECT_PATH "/"
/* Text from the network shown at most this long. */
#define OAUTHLOGIN_SHOWN_MAX 200

/* One login: what every step needs. */
struct login {
	const struct account *a;
	const char *name;   /* the account's name */
	const char *config; /* -C FILE, or NULL */
	struct oauth2_settings s;
	struct oauth2_client c;
	char proxy[BEARER_PROXY_MAX]; /* c's */
	struct tokstore_key key;
	FILE *out, *diag;
};

/* Text from the network (a user code, an address, a description) as it
 * may be printed: controls and the like escaped, cut. */
static const char *
shown(char *buf, size_t n, const char *text)
{
	return str_show(buf, n, text ? text : "", OAUTHLOGIN_SHOWN_MAX);
}

/* "mailpost [-C FILE] --oauth2-login -A NAME": the command to run again. */
static void
again_command(const struct login *l, char *out, size_t n)
{
	tokstore_login_command(l->config, l->name, out, n);
}

/* err's message, then "; run it again: COMMAND" (a login that can only
 * be done over).  -1. */
static int
run_again(const struct login *l, struct error *err)
{
	char cmd[512], before[ERROR_MSG_MAX];

	again_command(l, cmd, sizeof cmd);
	memcpy(before, err->msg, sizeof before);
	return error_set(err, err->kind,
	                 "%.600s; nothing was stored; run it again: %s", before,
	                 cmd);
}

/* After a wait or an exchange: a signal caught meanwhile ends the
 * login. */
static int
check_interrupt(const struct login *l, struct error *err)
{
	if (!interrupt_cuts())
		return 0;
	interrupt_error(err);
	error_prefix(err, "login of account '%s' stopped: ", l->name);
	return run_again(l, err);
}

/* --- the device grant (RFC 8628) --- */

static void
say_device(const struct login *l, const struct oauth2_device *d)
{
	char uri[OAUTHLOGIN_SHOWN_MAX * 4 + 8],
	    code[OAUTHLOGIN_SHOWN_MAX * 4 + 8];
	char complete[OAUTHLOGIN_SHOWN_MAX * 4 + 8];
	long long left = d->expires_at - (long long)time(NULL);

	fprintf(l->out,
	        "To log account '%s' in, open\n\n    %s\n\nin a browser on any "
	        "device and enter the code\n\n    %s\n\n",
	        l->name, shown(uri, sizeof uri, d->verification_uri),
	        shown(code, sizeof code, d->user_code));
	if (d->verification_uri_complete)
		fprintf(l->out, "(or open %s, which carries the code)\n\n",
		        shown(complete, sizeof complete,
		              d->verification_uri_complete));
	fprintf(l->out,
	        "Waiting for the login (the code is valid for %lld min; "
	        "Ctrl-C stops)...\n",
	        left > 0 ? (left + 59) / 60 : 0);
	fflush(l->out);
}

/* `value`, or the test suite's smaller one from the variable `name`
 * (never in a run that started setgid). */
static int
test_shortened(const char *name, int value)
{
	const char *t = privilege_was_setgid() ? NULL : privilege_getenv(name);
	int v = t ? atoi(t) : 0;

	return v > 0 && v < value ? v : value;
}

/* How long one second of the poll interval lasts, in ms.  The suite's
 * shorter one scales the server's interval and slow_down's step alike,
 * so that it checks both against oauthd.py's --poll-ms. */
static int64_t
poll_second_ms(void)
{
	return test_shortened("MAILPOST_TEST_OAUTH2_POLL_MS", 1000);
}

/* Sleep `seconds` of the interval, or less up to the code's expiry; a
 * signal ends it. */
static int
pause_poll(const struct login *l, int seconds, long long expires_at,
           struct error *err)
{
	long long left = expires_at - (long long)time(NULL);
	int64_t ms = (int64_t)seconds * poll_second_ms();

	if (left >= 0 && left * 1000 < ms)
		ms = left * 1000;
	if (fd_wait(-1, 0, now_ms() + ms) < 0 && errno != EINTR)
		return error_set_errno(
		    err, ERROR_OSERR, errno,
		    "cannot wait to poll the token endpoint");
	return check_interrupt(l, err);
}

static int
device_expired(const struct login *l, struct error *err)
{
	error_set(err, ERROR_TEMPFAIL,
	          "the login of account '%s' was not completed before its "
	          "code expired",
	          l->name);
	return run_again(l, err);
}

static int
device_login(struct login *l, struct oauth2_tokens *t, struct error *err)
{
	struct oauth2_device d = {0};
	enum oauth2_poll state = OAUTH2_POLL_PENDING;
	int interval, rc = 0;

	if (oauth2_device_start(&l->c, &d, err) < 0) {
		error_prefix(err, "login of account '%s': ", l->name);
		return -1;
	}
	say_device(l, &d);
	interval = d.interval > 0 ? d.interval : OAUTH2_INTERVAL_DEFAULT;
	while (rc == 0 && state != OAUTH2_POLL_DONE) {
		rc = pause_poll(l, interval, d.expires_at, err);
		if (rc == 0 && (long long)time(NULL) >= d.expires_at)
			rc = device_expired(l, err);
		if (rc == 0 &&
		    oauth2_device_poll(&l->c, &d, &state, t, err) < 0) {
			/* A signal that cut the exchange short is said as
			 * one caught between polls is. */
			if (interrupt_cuts()) {
				error_clear(err);
				rc = check_interrupt(l, err);
				break;
			}
			error_prefix(err, "login of account '%s': ", l->name);
			/* expired_token, the network: only again */
			rc = err->kind == ERROR_TEMPFAIL ? run_again(l, err)
			                                 : -1;
		}
		if (rc == 0)
			rc = check_interrupt(l, err);
		if (rc == 0 && state == OAUTH2_POLL_SLOW_DOWN)
			interval += OAUTHLOGIN_SLOW_DOWN;
	}
	oauth2_device_clear(&d);
	if (rc < 0)
		oauth2_tokens_clear(t);
	return rc;
}

/* --- the browser (RFC 8252, RFC 7636) --- */

/* in[0..n) in base64url without padding (RFC 4648 5; RFC 7636
 * appendix A) into out (B64_LINE_SIZE(n) + 1 bytes). */
static void
b64url(const unsigned char *in, size_t n, char *out)
{
	size_t len = b64_line(in, n, out);

	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
}

/* The secrets of one authorization request. */
struct pkce {
	char verifier[B64_LINE_SIZE(OAUTHLOGIN_VERIFIER_BYTES) + 1];
	char challenge[B64_LINE_SIZE(TLS_SHA256_SIZE) + 1];
	char state[B64_LINE_SIZE(OAUTHLOGIN_STATE_BYTES) + 1];
};

/* RFC 7636 4.1, 4.2 (S256) and RFC 6749 10.12: the verifier and the
 * state from the kernel's CSPRNG (getrandom), the challenge its digest. */
static int
pkce_make(struct pkce *p, struct error *err)
{
	unsigned char v[OAUTHLOGIN_VERIFIER_BYTES], s[OAUTHLOGIN_STATE_BYTES];
	unsigned char digest[TLS_SHA256_SIZE];

	if (random_bytes(v, sizeof v) < 0 || random_bytes(s, sizeof s) < 0)
		return error_set_errno(err, ERROR_OSERR, errno,
		                       "no random bytes for the login");
	b64url(v, sizeof v, p->verifier);
	b64url(s, sizeof s, p->state);
	wipe(v, sizeof v);
	if (tls_sha256(p->verifier, strlen(p->verifier), digest) < 0)
		return error_set(err, ERROR_SOFTWARE,
		                 "cannot compute the PKCE challenge (SHA-256)");
	b64url(digest, sizeof digest, p->challenge);
	return 0;
}

/* "&name=value" appended to the address (the first with '?' when it has
 * no query yet), the value percent-encoded (url_encode): 0, or -1 past
 * the buffer's ceiling, where buf.h leaves it empty, so the caller stops
 * at the first failure rather than go on from nothing. */
static int
add_param(struct buf *b, const char *name, const char *value)
{
	char *enc = xmalloc(3 * strlen(value) + 1);
	size_t n = url_encode(enc, value);
	int rc =
	    buf_printf(b, "%c%s=", strchr(buf_str(b), '?') ? '&' : '?', name);

	if (rc == 0)
		rc = buf_append(b, enc, n);
	free(enc);
	return rc;
}

/* RFC 6749 4.1.1 with RFC 7636 4.3.  Google gives a refresh token only
 * with access_type=offline, and again after a first login only with
 * prompt=consent; login_hint (OpenID Connect Core 3.1.2.1, which both
 * big providers read) puts the account's user in the sign-in form.  The
 * address holds no secret: the challenge is a digest, the state only
 * binds the answer to this run. */
static int
authorize_url(const struct login *l, const char *redirect_uri,
              const struct pkce *p, struct buf *url, struct error *err)
{
	bool google = l->s.provider && strcmp(l->s.provider, "google") == 0;
	bool known = google ||
	             (l->s.provider && strcmp(l->s.provider, "microsoft") == 0);
	bool bad;

	buf_init(url, OAUTHLOGIN_URL_MAX);
	bad = buf_append_str(url, l->s.authorize_endpoint) < 0;
	bad = bad || add_param(url, "response_type", "code") < 0;
	bad = bad || add_param(url, "client_id", l->s.client_id) < 0;
	bad = bad || add_param(url, "redirect_uri", redirect_uri) < 0;
	if (l->s.scope)
		bad = bad || add_param(url, "scope", l->s.scope) < 0;
	bad = bad || add_param(url, "state", p->state) < 0;
	bad = bad || add_param(url, "code_challenge", p->challenge) < 0;
	bad = bad || add_param(url, "code_challenge_method", "S256") < 0;
	if (google) {
		bad = bad || add_param(url, "access_type", "offline") < 0;
		bad = bad || add_param(url, "prompt", "consent") < 0;
	}
	if (known && l->a->user)
		bad = bad || add_param(url, "login_hint", l->a->user) < 0;
	if (bad) {
		buf_clear(url);
		return error_set(err, ERROR_CONFIG,
		                 "the authorization address of account '%s' "
		                 "would be longer than %d bytes; check "
		                 "oauth2_authorize_endpoint and oauth2_scope",
		                 l->name, OAUTHLOGIN_URL_MAX);
	}
	return 0;
}

/* xdg-open URL, only when there is a display to open it on, with the
 * terminal left alone (its output to /dev/null) and nobody waiting for
 * the browser (a grandchild).  A failure is no error: the address is
 * printed.  Nothing secret goes to the child: the address holds none and
 * the environment is the caller's own. */
static void
open_browser(const char *url)
{
	const char *x = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
	pid_t pid;

	if (!(x && *x) && !(w && *w))
		return;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (fork() != 0)
			_exit(0);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		execlp("xdg-open", "xdg-open", url, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

static void
say_browser(const struct login *l, const char *url, const char *redirect_uri,
            int timeout)
{
	fprintf(l->out,
	        "To log account '%s' in, open this address in a browser:\n\n"
	        "    %s\n\n"
	        "The provider then sends the browser to %s, where mailpost "
	        "waits.\nA browser on another machine cannot reach that "
	        "address: copy the address it ends at\n(beginning with %s?) "
	        "and paste it here, then press Enter.\n"
	        "Waiting %d s for the answer (Ctrl-C stops)...\n",
	        l->name, url, redirect_uri, redirect_uri, timeout);
	fflush(l->out);
}

/* The browser's wait: OAUTHLOGIN_BROWSER_TIMEOUT, or the test suite's
 * shorter one (never in a run that started setgid). */
static int
browser_timeout(void)
{
	return test_shortened("MAILPOST_TEST_OAUTH2_TIMEOUT",
	                      OAUTHLOGIN_BROWSER_TIMEOUT);
}

/* RFC 6749 4.1.2.1: the error of an authorization answer. */
static int
answer_error(const struct login *l, const struct redirect_result *r,
             struct error *err)
{
	static const char *const config_errors[] = {
	    "invalid_request", "unauthorized_client", "invalid_scope",
	    "unsupported_response_type"};
	enum error_kind kind = ERROR_PROTOCOL;
	char e[OAUTHLOGIN_SHOWN_MAX * 4 + 8], d[OAUTHLOGIN_SHOWN_MAX * 4 + 8];

	if (strcmp(r->error, "access_denied") == 0)
		kind = ERROR_NOPERM;
	else if (strcmp(r->error, "server_error") == 0 ||
	         strcmp(r->error, "temporarily_unavailable") == 0)
		kind = ERROR_TEMPFAIL;
	for (size_t i = 0; i < sizeof config_errors / sizeof config_errors[0];
	     i++)
		if (strcmp(r->error, config_errors[i]) == 0)
			kind = ERROR_CONFIG;
	error_set(
	    err, kind,
	    "the provider refused the login of account '%s': %s%s%s%s", l->name,
	    shown(e, sizeof e, r->error), r->error_description ? " (" : "",
	    r->error_description ? shown(d, sizeof d, r->error_description)
	                         : "",
	    r->error_description ? ")" : "");
	if (kind != ERROR_CONFIG)
		return run_again(l, err);
	memcpy(e, err->msg,
	       sizeof e < sizeof err->msg ? sizeof e : sizeof err->msg);
	e[sizeof e - 1] = '\0';
	return error_set(err, kind,
	                 "%.700s; check oauth2_client_id, oauth2_scope and "
	                 "that the client is registered with the redirect "
	                 "URI http://127.0.0.1/",
	                 e);
}

/* The answer is this request's (RFC 6749 10.12): the state sent came
 * back. */
static bool
state_ok(const struct redirect_result *r, const struct pkce *p)
{
	return r->state && strcmp(r->state, p->state) == 0;
}

/* Standard input, where an address may be pasted: a terminal, or a pipe
 * (a script's); not a file, whose every line would be a wrong answer. */
static int
paste_fd(void)
{
	struct stat st;

	if (isatty(STDIN_FILENO))
		return STDIN_FILENO;
	if (fstat(STDIN_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return STDIN_FILENO;
	return -1;
}

/* Wait for the answer: the loopback socket, or a pasted address.  One
 * that is not this login's (another state, or none) is said and waited
 * past: any local user can connect to the loopback port, and a forged
 * answer must not end the login. */
static int
await_answer(const struct login *l, struct redirect *r, const struct pkce *p,
             int timeout, struct redirect_result *res, struct error *err)
{
	int64_t deadline = now_ms() + (int64_t)timeout * 1000;
	int fd = paste_fd(), ignored = 0;

	for (;;) {
		int rc = redirect_wait(r, fd, deadline, res, err);

		if (rc > 0 && state_ok(res, p))
			return 0;
		if (rc > 0) {
			fprintf(l->diag,
			        "mailpost: an answer with %s reached %s: not "
			        "this login's (another login's, or a forged "
			        "one); ignored, still waiting\n",
			        res->state ? "another state" : "no state",
			        redirect_uri(r));
			redirect_result_clear(res);
			ignored++;
			continue;
		}
		if (rc == 0) {
			fprintf(l->diag,
			        "mailpost: %s; paste the whole address, or "
			        "wait for the browser\n",
			        err->msg);
			continue;
		}
		if (interrupt_cuts())
			return check_interrupt(l, err);
		if (err->kind == ERROR_TEMPFAIL)
			error_set(
			    err, ERROR_TEMPFAIL,
			    "no answer %sfrom the browser for account '%s' "
			    "within %d s (at %s)%s",
			    ignored ? "to this login " : "", l->name, timeout,
			    redirect_uri(r),
			    ignored ? "; answers with another state were "
			              "ignored"
			            : "");
		return run_again(l, err);
	}
}

static int
browser_login(struct login *l, struct oauth2_tokens *t, struct error *err)
{
	struct redirect *r = NULL;
	struct redirect_result res = {0};
	struct pkce p;
	struct buf url;
	int timeout = browser_timeout(), rc;

	if (redirect_open(&r, OAUTHLOGIN_REDIRECT_PATH, err) < 0)
		return -1;
	rc = pkce_make(&p, err);
	if (rc == 0)
		rc = authorize_url(l, redirect_uri(r), &p, &url, err);
	if (rc == 0) {
		say_browser(l, buf_str(&url), redirect_uri(r), timeout);
		open_browser(buf_str(&url));
		buf_clear(&url);
		interrupt_catch();
		rc = await_answer(l, r, &p, timeout, &res, err);
	}
	if (rc == 0 && res.error)
		rc = answer_error(l, &res, err);
	if (rc == 0 && oauth2_code_exchange(&l->c, res.code, redirect_uri(r),
	                                    p.verifier, t, err) < 0) {
		error_prefix(err, "login of account '%s': ", l->name);
		rc = err->kind == ERROR_TEMPFAIL ? run_again(l, err) : -1;
	}
	if (rc == 0)
		rc = check_interrupt(l, err);
	redirect_result_clear(&res);
	redirect_close(r);
	wipe(&p, sizeof p);
	return rc;
}

/* --- the account, the flow, the store --- */

/* Which flow: the one asked for, else the provider's default; each
 * needs its endpoint. */
static int
choose_flow(const struct login *l, enum cli_oauth2_flow asked,
            enum cli_oauth2_flow *out, struct error *err)
{
	enum cli_oauth2_flow flow = asked;

	if (flow == CLI_OAUTH2_FLOW_UNSET)
		flow = (l->s.device_default && l->s.device_endpoint) ||
		               !l->s.authorize_endpoint
		           ? CLI_OAUTH2_FLOW_DEVICE
		           : CLI_OAUTH2_FLOW_BROWSER;
	if (flow == CLI_OAUTH2_FLOW_DEVICE && !l->s.device_endpoint)
		return error_set(err, ERROR_CONFIG,
		                 "account '%s': provider %s has no device "
		                 "endpoint; set oauth2_device_endpoint, or log "
		                 "in with --oauth2-flow=browser",
		                 l->name, l->s.provider);
	if (flow == CLI_OAUTH2_FLOW_BROWSER && !l->s.authorize_endpoint)
		return error_set(err, ERROR_CONFIG,
		                 "account '%s': provider %s has no "
		                 "authorization endpoint; set "
		                 "oauth2_authorize_endpoint, or log in with "
		                 "--oauth2-flow=device",
		                 l->name, l->s.provider);
	*out = flow;
	return 0;
}

/* The refresh token to its place, the access token to the cache, and
 * the line that says where. */
static int
keep(const struct login *l, const struct oauth2_tokens *t, int verbosity,
     struct error *err)
{
	enum tokstore_where where = TOKSTORE_FILE;
	struct error note;
	char *path;

	if (t->refresh_token == NULL) {
		error_set(
		    err, ERROR_PROTOCOL,
		    "the token endpoint logged account '%s' in but gave "
		    "no refresh token, so its sends could not go on "
		    "without another login; check oauth2_scope (Microsoft "
		    "needs offline_access)",
		    l->name);
		return -1;
	}
	error_clear(&note);
	if (tokstore_put_refresh(&l->key, t->refresh_token, &where, &note) <
	    0) {
		*err = note;
		return -1;
	}
	if (note.msg[0] && verbosity > 0)
		fprintf(l->diag, "mailpost: %s\n", note.msg);
	error_clear(&note);
	if (tokstore_put_access(&l->key, t->access_token, t->expires_at,
	                        &note) < 0)
		fprintf(l->diag,
		        "mailpost: warning: the access token could not be "
		        "cached (%s): the first send gets a new one\n",
		        note.msg);
	if (where == TOKSTORE_KEYRING) {
		fprintf(l->out,
		        "logged in: account %s (user %s), refresh token in "
		        "the keyring\n",
		        l->name, l->a->user);
		return 0;
	}
	error_clear(&note);
	path = tokstore_path(&l->key, &note);
	fprintf(
	    l->out, "logged in: account %s (user %s), refresh token in %s\n",
	    l->name, l->a->user, path ? path : "mailpost's state directory");
	free(path);
	return 0;
}

/* The account to log in, and whether this caller may. */
static int
load(struct job *job, struct login *l, struct error *err)
{
	if (job_load_account(job, err) < 0)
		return -1;
	l->a = &job->acct;
	l->name = job->acct.name ? job->acct.name : "default";
	l->config = job->req.config_file;
	if (!provider_account_uses_oauth2(l->a))
		return error_set(err, ERROR_CONFIG,
		                 "account '%s' does not use OAuth2: set "
		                 "oauth2_provider (google, microsoft or "
		                 "generic) and oauth2_client_id; see "
		                 "mailpost.conf(5), OAuth2",
		                 l->name);
	return provider_resolve(l->a, &l->s, err);
}

int
oauthlogin_run(struct job *job, FILE *out, FILE *diag, struct error *err)
{
	struct login l = {.out = out, .diag = diag};
	struct oauth2_tokens t = {0};
	struct secret secret = {0};
	enum cli_oauth2_flow flow = CLI_OAUTH2_FLOW_UNSET;
	int rc;

	/* As relay.c does before a send gets its password: no core dump,
	 * no ptrace by the user's other processes, while the client's
	 * secret, the device code, the verifier and the tokens are in
	 * memory. */
	if (secret_protect_process(err) < 0 || load(job, &l, err) < 0 ||
	    choose_flow(&l, job->req.oauth2_flow, &flow, err) < 0 ||
	    provider_client_secret(l.a, &secret, err) < 0)
		return -1;
	bearer_client(l.a, &l.s, secret.data, &l.c, l.proxy);
	tokstore_key_init(&l.key, l.a, &l.s);
	l.key.config = l.config;
	if (flow == CLI_OAUTH2_FLOW_DEVICE) {
		interrupt_catch();
		rc = device_login(&l, &t, err);
	} else {
		rc = browser_login(&l, &t, err);
	}
	if (rc == 0)
		rc = keep(&l, &t, job->req.verbosity, err);
	oauth2_tokens_clear(&t);
	secret_free(&secret);
	return rc;
}
