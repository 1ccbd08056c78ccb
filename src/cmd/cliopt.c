/*
 * cliopt.c - every option of the command line and what it does (see
 * cliopt.h).
 */
#include "config.h"

#include "cliopt.h"
#include "jsonout.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "envelope.h"
#include "util.h"

/* Timeouts become milliseconds further down; keep that within an int. */
#define TIMEOUT_MAX (INT_MAX / 1000)
#define PORT_MAX 65535

/* Like sendmail: a mode may be given again, but not changed once it is
 * something other than the default (mailq -bm, -bp -bi are mistakes). */
static int
set_mode(struct request *req, enum cli_mode mode, struct error *err)
{
	if (req->mode == mode)
		return 0;
	if (req->mode != CLI_SEND)
		return error_set(
		    err, ERROR_USAGE, "%s cannot be combined with %s",
		    request_mode_option(mode), request_mode_option(req->mode));
	req->mode = mode;
	return 0;
}

/* ---- parsing values ------------------------------------------------------ */

/* A decimal number in 1..max, digits only (no sign, no spaces). */
static bool
parse_count(const char *s, long max, int *out)
{
	long v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > max)
			return false;
	}
	if (v == 0)
		return false;
	*out = (int)v;
	return true;
}

/* SHA-256 (32 bytes) or, as msmtp configs still have, SHA-1 (20): hex
 * pairs, ':' between them optional.  tls.c parses it for good. */
static bool
valid_fingerprint(const char *s)
{
	size_t digits = 0;

	for (; *s != '\0'; s++) {
		if (*s == ':')
			continue;
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		      (*s >= 'A' && *s <= 'F')))
			return false;
		digits++;
	}
	return digits == 40 || digits == 64;
}

/* The mechanisms the configuration key `auth` knows (msmtp's list). */
static const char *const auth_methods[] = {
    "plain",    "scram-sha-1", "scram-sha-256", "login", "cram-md5",   "gssapi",
    "external", "oauthbearer", "xoauth2",       "ntlm",  "digest-md5",
};

static bool
valid_auth(const char *s)
{
	if (str_ieq(s, "on") || str_ieq(s, "off"))
		return true;
	for (size_t i = 0; i < sizeof auth_methods / sizeof auth_methods[0];
	     i++)
		if (str_ieq(s, auth_methods[i]))
			return true;
	return false;
}

/* --opt alone is "on"; else the value must be on or off. */
static int
parse_switch(const char *name, const char *arg, enum cli_switch *out,
             struct error *err)
{
	if (arg == NULL || str_ieq(arg, "on"))
		*out = CLI_ON;
	else if (str_ieq(arg, "off"))
		*out = CLI_OFF;
	else
		return error_set(err, ERROR_USAGE,
		                 "invalid --%s '%s' (expected on or off)", name,
		                 arg);
	return 0;
}

/* ---- what each option does ----------------------------------------------- */

static int
opt_read_recipients(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	req->read_recipients = true;
	return 0;
}

static int
opt_ignore_dots(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	req->dot_ends_input = false;
	return 0;
}

static int
opt_verbose(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	/* argv is bounded by ARG_MAX, so this cannot overflow in practice;
	 * the cap only makes that obvious. */
	if (req->verbosity < 100)
		req->verbosity++;
	return 0;
}

static int
opt_color(struct request *req, const char *arg, struct error *err)
{
	if (!arg || strcmp(arg, "auto") == 0)
		req->color = CLI_COLOR_AUTO;
	else if (strcmp(arg, "always") == 0)
		req->color = CLI_COLOR_ALWAYS;
	else if (strcmp(arg, "never") == 0)
		req->color = CLI_COLOR_NEVER;
	else
		return error_set(err, ERROR_USAGE,
		                 "invalid --color '%s' (expected auto, always "
		                 "or never)",
		                 arg);
	return 0;
}

static int
opt_show_auth(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	req->show_auth = true;
	return 0;
}

static int
opt_timing(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	req->timing = true;
	return 0;
}

/* "-f <a@b>" means "-f a@b", and "-f <>" the null sender, as in sendmail. */
static int
opt_sender(struct request *req, const char *arg, struct error *err)
{
	size_t len = strlen(arg);

	(void)err;
	free(req->sender_copy);
	req->sender_copy = NULL;
	if (len >= 2 && arg[0] == '<' && arg[len - 1] == '>') {
		req->sender_copy = xstrndup(arg + 1, len - 2);
		req->sender = req->sender_copy;
	} else {
		req->sender = arg;
	}
	return 0;
}

static int
opt_full_name(struct request *req, const char *arg, struct error *err)
{
	(void)err;
	req->full_name = arg;
	return 0;
}

static int
opt_config_file(struct request *req, const char *arg, struct error *err)
{
	if (*arg == '\0')
		return error_set(err, ERROR_USAGE,
		                 "option '-C' needs a file name");
	req->config_file = arg;
	return 0;
}

static int
opt_account(struct request *req, const char *arg, struct error *err)
{
	if (*arg == '\0')
		return error_set(err, ERROR_USAGE,
		                 "option '--account' needs an account name");
	req->account = arg;
	return 0;
}

/* Control characters in anything that reaches an SMTP command line or a
 * header could smuggle in further commands or headers.  The address module
 * checks the syntax later; this is the early, cheap refusal. */
static bool
has_ctl(const char *s)
{
	return str_has_ctl(s, strlen(s));
}

/* Host and domain end up on the wire or in a DNS query: no spaces or
 * control characters, which could split an SMTP command line. */
static bool
valid_name(const char *s)
{
	return *s != '\0' && strchr(s, ' ') == NULL &&
	       !str_has_ctl(s, strlen(s));
}

static int
opt_host(struct request *req, const char *arg, struct error *err)
{
	if (!valid_name(arg))
		return error_set(err, ERROR_USAGE, "invalid --host '%s'", arg);
	req->host = arg;
	return 0;
}

static int
opt_domain(struct request *req, const char *arg, struct error *err)
{
	if (!valid_name(arg))
		return error_set(err, ERROR_USAGE, "invalid --domain '%s'",
		                 arg);
	req->domain = arg;
	return 0;
}

/* swaks' name for --domain (its --helo, --lhlo too, which are not
 * taken: -h is sendmail's hop count). */
static int
opt_ehlo(struct request *req, const char *arg, struct error *err)
{
	if (!valid_name(arg))
		return error_set(err, ERROR_USAGE, "invalid --ehlo '%s'", arg);
	req->domain = arg;
	return 0;
}

static int
opt_tls(struct request *req, const char *arg, struct error *err)
{
	return parse_switch("tls", arg, &req->tls, err);
}

static int
opt_tls_starttls(struct request *req, const char *arg, struct error *err)
{
	return parse_switch("tls-starttls", arg, &req->tls_starttls, err);
}

static int
opt_tls_certcheck(struct request *req, const char *arg, struct error *err)
{
	return parse_switch("tls-certcheck", arg, &req->tls_certcheck, err);
}

static int
opt_tls_session_cache(struct request *req, const char *arg, struct error *err)
{
	return parse_switch("tls-session-cache", arg, &req->tls_session_cache,
	                    err);
}

/* A file name, or the trust file's "system" and "" (no CA at all). */
static int
take_path(const char *name, const char *arg, bool empty_ok, const char **out,
          struct error *err)
{
	if ((!empty_ok && *arg == '\0') || has_ctl(arg))
		return error_set(err, ERROR_USAGE, "invalid --%s '%s'", name,
		                 arg);
	*out = arg;
	return 0;
}

static int
opt_tls_trust_file(struct request *req, const char *arg, struct error *err)
{
	return take_path("tls-trust-file", arg, true, &req->tls_trust_file,
	                 err);
}

static int
opt_tls_crl_file(struct request *req, const char *arg, struct error *err)
{
	return take_path("tls-crl-file", arg, false, &req->tls_crl_file, err);
}

static int
opt_tls_cert_file(struct request *req, const char *arg, struct error *err)
{
	return take_path("tls-cert-file", arg, false, &req->tls_cert_file, err);
}

static int
opt_tls_key_file(struct request *req, const char *arg, struct error *err)
{
	return take_path("tls-key-file", arg, false, &req->tls_key_file, err);
}

static int
opt_tls_priorities(struct request *req, const char *arg, struct error *err)
{
	return take_path("tls-priorities", arg, false, &req->tls_priorities,
	                 err);
}

static int
opt_tls_fingerprint(struct request *req, const char *arg, struct error *err)
{
	if (!valid_fingerprint(arg))
		return error_set(
		    err, ERROR_USAGE,
		    "invalid --tls-fingerprint '%s' (expected the "
		    "SHA-256 digest as 32 hex pairs, e.g. AB:CD:...)",
		    arg);
	req->tls_fingerprint = arg;
	return 0;
}

static int
opt_tls_host_override(struct request *req, const char *arg, struct error *err)
{
	if (!valid_name(arg))
		return error_set(err, ERROR_USAGE,
		                 "invalid --tls-host-override '%s'", arg);
	req->tls_host_override = arg;
	return 0;
}

static int
opt_auth(struct request *req, const char *arg, struct error *err)
{
	if (arg == NULL)
		arg = "on";
	if (!valid_auth(arg))
		return error_set(err, ERROR_USAGE,
		                 "invalid --auth '%s' (expected on, off or a "
		                 "mechanism: plain, login, scram-sha-256, "
		                 "scram-sha-1, cram-md5, external, gssapi, "
		                 "oauthbearer, xoauth2, ntlm, digest-md5)",
		                 arg);
	req->auth = arg;
	return 0;
}

/* RFC 4422 3.1: a mechanism name is 1 to 20 characters of upper-case
 * letters, digits, '-' and '_' (we take any case, as SMTP does). */
static bool
sasl_name_syntax(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 20)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

/* --auth-mechanism M: --auth=M, with the name's syntax checked first, so
 * that a typo is told apart from a mechanism mailpost lacks. */
static int
opt_auth_mechanism(struct request *req, const char *arg, struct error *err)
{
	if (!sasl_name_syntax(arg))
		return error_set(err, ERROR_USAGE,
		                 "invalid --auth-mechanism '%.60s': a SASL "
		                 "mechanism name is 1 to 20 letters, digits, "
		                 "'-' or '_' (RFC 4422 3.1), such as PLAIN or "
		                 "SCRAM-SHA-256",
		                 arg);
	if (str_ieq(arg, "on") || str_ieq(arg, "off") || !valid_auth(arg))
		return error_set(err, ERROR_USAGE,
		                 "mailpost does not implement AUTH %.20s; it "
		                 "knows PLAIN, LOGIN, SCRAM-SHA-256, "
		                 "SCRAM-SHA-1, CRAM-MD5, EXTERNAL, GSSAPI, "
		                 "OAUTHBEARER, XOAUTH2, NTLM and DIGEST-MD5",
		                 arg);
	req->auth_mechanism = arg;
	return 0;
}

/* --quit-after's steps (smtp.h) and swaks' names for them.  swaks' helo,
 * ehlo and lhlo mean the last hello (after STARTTLS): here every hello
 * name is the first one, and "tls" takes in the one inside TLS. */
static const struct {
	const char *name;
	enum smtp_step step;
} quit_points[] = {
    {"connect", SMTP_STEP_CONNECT}, {"greeting", SMTP_STEP_GREETING},
    {"banner", SMTP_STEP_GREETING}, {"ehlo", SMTP_STEP_EHLO},
    {"helo", SMTP_STEP_EHLO},       {"lhlo", SMTP_STEP_EHLO},
    {"first-ehlo", SMTP_STEP_EHLO}, {"first-helo", SMTP_STEP_EHLO},
    {"first-lhlo", SMTP_STEP_EHLO}, {"tls", SMTP_STEP_TLS},
    {"starttls", SMTP_STEP_TLS},    {"auth", SMTP_STEP_AUTH},
    {"mail", SMTP_STEP_MAIL},       {"from", SMTP_STEP_MAIL},
    {"rcpt", SMTP_STEP_RCPT},       {"to", SMTP_STEP_RCPT},
    {"data", SMTP_STEP_DATA},
};

static int
opt_quit_after(struct request *req, const char *arg, struct error *err)
{
	for (size_t i = 0; i < sizeof quit_points / sizeof quit_points[0]; i++)
		if (str_ieq(arg, quit_points[i].name)) {
			req->quit_after_set = true;
			req->quit_after = quit_points[i].step;
			return 0;
		}
	return error_set(err, ERROR_USAGE,
	                 "invalid --quit-after '%.40s' (expected connect, "
	                 "greeting, ehlo, tls, auth, mail, rcpt or data)",
	                 arg);
}

static int
opt_no_pipelining(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	req->no_pipelining = true;
	return 0;
}

static int
opt_no_chunking(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	req->no_chunking = true;
	return 0;
}

static int
opt_test(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	req->test_message = true;
	return 0;
}

/* A user name goes into AUTH (inside base64) and into netrc and keyring
 * look-ups: no control characters. */
static int
opt_user(struct request *req, const char *arg, struct error *err)
{
	if (*arg == '\0' || has_ctl(arg))
		return error_set(err, ERROR_USAGE, "invalid --user '%s'", arg);
	req->user = arg;
	return 0;
}

/* The one-off password sources (request.h).  The command and the variable's
 * name are checked here; the descriptor when the whole command line is
 * known (take_password_fd), since whether 0 may be read depends on the
 * mode. */
static int
opt_passwordeval(struct request *req, const char *arg, struct error *err)
{
	if (*arg == '\0' || has_ctl(arg))
		return error_set(err, ERROR_USAGE,
		                 "invalid --passwordeval: give a command that "
		                 "prints the password (one line, no control "
		                 "characters)");
	req->passwordeval = arg;
	return 0;
}

static int
opt_password_fd(struct request *req, const char *arg, struct error *err)
{
	int fd = 0;

	if (strcmp(arg, "0") != 0 && !parse_count(arg, INT_MAX, &fd))
		return error_set(err, ERROR_USAGE,
		                 "invalid --password-fd '%s' (expected a file "
		                 "descriptor number)",
		                 arg);
	req->password_fd = fd;
	req->password_fd_given = true;
	return 0;
}

/* POSIX portable names (letters, digits, '_', not a digit first), as
 * the configuration's passwordenv. */
static int
opt_password_env(struct request *req, const char *arg, struct error *err)
{
	bool ok = *arg != '\0' && !(*arg >= '0' && *arg <= '9');

	for (const char *c = arg; ok && *c; c++)
		ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		     (*c >= '0' && *c <= '9') || *c == '_';
	if (!ok)
		return error_set(err, ERROR_USAGE,
		                 "invalid --password-env '%s' (expected the "
		                 "name of an environment variable: letters, "
		                 "digits and '_')",
		                 arg);
	req->password_env = arg;
	return 0;
}

static int
opt_port(struct request *req, const char *arg, struct error *err)
{
	if (!parse_count(arg, PORT_MAX, &req->port))
		return error_set(err, ERROR_USAGE,
		                 "invalid --port '%s' (expected 1 to %d)", arg,
		                 PORT_MAX);
	return 0;
}

/* msmtp's --proxy-host=: an empty value turns the account's proxy off. */
static int
opt_proxy_host(struct request *req, const char *arg, struct error *err)
{
	if (*arg && !valid_name(arg))
		return error_set(err, ERROR_USAGE, "invalid --proxy-host '%s'",
		                 arg);
	req->proxy_host = arg;
	return 0;
}

static int
opt_proxy_port(struct request *req, const char *arg, struct error *err)
{
	if (!parse_count(arg, PORT_MAX, &req->proxy_port))
		return error_set(err, ERROR_USAGE,
		                 "invalid --proxy-port '%s' (expected 1 to %d)",
		                 arg, PORT_MAX);
	return 0;
}

/* msmtp's --socket=: an empty value turns the account's socket off. */
static int
opt_socket(struct request *req, const char *arg, struct error *err)
{
	return take_path("socket", arg, true, &req->socket, err);
}

static int
opt_timeout(struct request *req, const char *arg, struct error *err)
{
	/* msmtp's "off": mailpost always has a timeout, so the built-in
	 * ones (RFC 5321 4.5.3.2), whatever the account says. */
	if (str_ieq(arg, "off")) {
		req->timeout = -1;
		return 0;
	}
	if (!parse_count(arg, TIMEOUT_MAX, &req->timeout))
		return error_set(err, ERROR_USAGE,
		                 "invalid --timeout '%s' (expected seconds, "
		                 "1 to %d)",
		                 arg, TIMEOUT_MAX);
	return 0;
}

static int
opt_rcpt_policy(struct request *req, const char *arg, struct error *err)
{
	if (strcmp(arg, "all") == 0)
		req->rcpt_policy = RCPT_POLICY_ALL;
	else if (strcmp(arg, "any") == 0)
		req->rcpt_policy = RCPT_POLICY_ANY;
	else
		return error_set(err, ERROR_USAGE,
		                 "invalid --rcpt-policy '%s' (expected all or "
		                 "any)",
		                 arg);
	return 0;
}

static int
opt_deliver(struct request *req, const char *arg, struct error *err)
{
	if (strcmp(arg, "relay") == 0)
		req->deliver = CLI_DELIVER_RELAY;
	else if (strcmp(arg, "mx") == 0)
		req->deliver = CLI_DELIVER_MX;
	else
		return error_set(
		    err, ERROR_USAGE,
		    "invalid --deliver '%s' (expected mx or relay)", arg);
	return 0;
}

static int
opt_dsn_notify(struct request *req, const char *arg, struct error *err)
{
	if (!envelope_dsn_notify_valid(arg))
		return error_set(err, ERROR_USAGE,
		                 "invalid -N '%s' (expected never, or a comma "
		                 "list of success, failure, delay)",
		                 arg);
	req->dsn_notify = arg;
	return 0;
}

static int
opt_dsn_return(struct request *req, const char *arg, struct error *err)
{
	/* msmtp calls it "headers", sendmail "hdrs". */
	if (str_ieq(arg, "headers"))
		arg = "hdrs";
	if (!envelope_dsn_ret_valid(arg))
		return error_set(err, ERROR_USAGE,
		                 "invalid -R '%s' (expected full or hdrs)",
		                 arg);
	req->dsn_return = arg;
	return 0;
}

static int
opt_dsn_envid(struct request *req, const char *arg, struct error *err)
{
	if (!envelope_dsn_envid_valid(arg))
		return error_set(err, ERROR_USAGE,
		                 "invalid -V '%s' (expected 1 to %d printable "
		                 "characters, no spaces)",
		                 arg, ENVELOPE_DSN_ENVID_MAX);
	req->dsn_envid = arg;
	return 0;
}

static int
opt_help(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	req->mode = CLI_HELP;
	return 0;
}

static int
opt_version(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	req->mode = CLI_VERSION;
	return 0;
}

/* -b picks sendmail's operation mode; only the ones a submission client can
 * honour are accepted. */
static int
opt_mode(struct request *req, const char *arg, struct error *err)
{
	if (strcmp(arg, "m") == 0)
		return set_mode(req, CLI_SEND, err);
	if (strcmp(arg, "p") == 0)
		return set_mode(req, CLI_QUEUE_LIST, err);
	if (strcmp(arg, "i") == 0)
		return set_mode(req, CLI_NOOP, err);
	if (strcmp(arg, "s") == 0)
		return set_mode(req, CLI_SERVE, err);
	return error_set(err, ERROR_USAGE, "-b%s is not supported", arg);
}

/* sendmail's mode letters (-ba -bC -bd -bD -bh -bH -bi -bm -bp -bP -bs -bt
 * -bv -bx): as -b's whole argument they always name a mode. */
static bool
is_mode_letter(const char *arg)
{
	return arg[0] != '\0' && arg[1] == '\0' &&
	       strchr("aCdDhHimpPstvx", arg[0]) != NULL;
}

static int
add_bcc(struct request *req, const char *arg, struct error *err)
{
	(void)err;
	req->bcc[req->nbcc++] = arg;
	req->compose = true;
	return 0;
}

/* -b glued to its argument: a mode letter is a mode (-bp); an argument with
 * an '@' is a Bcc address (-bbob@example.org); anything else is an unknown
 * mode (-bmm), never silently a recipient. */
static int
opt_b_glued(struct request *req, const char *arg, struct error *err)
{
	if (!is_mode_letter(arg) && strchr(arg, '@') != NULL)
		return add_bcc(req, arg, err);
	return opt_mode(req, arg, err);
}

/* -b followed by a word of its own: a mode letter is still a mode ("-b p",
 * as sendmail reads it), any other word a Bcc address ("-b bob"). */
int
cliopt_b_word(struct request *req, const char *arg, struct error *err)
{
	if (is_mode_letter(arg))
		return opt_mode(req, arg, err);
	return add_bcc(req, arg, err);
}

/* ---- composing (mailx mode) ---------------------------------------------- */

static int
opt_subject(struct request *req, const char *arg, struct error *err)
{
	(void)err;
	req->subject = arg;
	req->compose = true;
	return 0;
}

static int
opt_attach(struct request *req, const char *arg, struct error *err)
{
	if (*arg == '\0')
		return error_set(err, ERROR_USAGE,
		                 "option '-a' needs a file name");
	req->attachments[req->nattachments++] =
	    (struct mime_attachment){.path = arg};
	req->compose = true;
	return 0;
}

/* The field of the last -a that --attach-type or --attach-name sets: each
 * refines the -a before it, once. */
static const char **
attachment_field(struct request *req, const char *option, bool type,
                 struct error *err)
{
	struct mime_attachment *a = NULL;
	const char **field = NULL;

	if (req->nattachments == 0) {
		error_set(err, ERROR_USAGE, "--%s must follow an -a FILE",
		          option);
		return NULL;
	}
	a = &req->attachments[req->nattachments - 1];
	field = type ? &a->type : &a->name;
	if (*field != NULL) {
		error_set(err, ERROR_USAGE, "--%s given twice for -a '%s'",
		          option, a->path);
		return NULL;
	}
	return field;
}

/* "type/subtype": one '/', neither side empty, no spaces, no parameters. */
static bool
valid_media_type(const char *s)
{
	const char *slash = strchr(s, '/');

	if (slash == NULL || slash == s || slash[1] == '\0' ||
	    strchr(slash + 1, '/') != NULL)
		return false;
	for (; *s != '\0'; s++) {
		if (*s <= 0x20 || *s >= 0x7f || strchr("()<>@,;:\\\"[]?=", *s))
			return false;
	}
	return true;
}

static int
opt_attach_type(struct request *req, const char *arg, struct error *err)
{
	const char **field = attachment_field(req, "attach-type", true, err);

	if (field == NULL)
		return -1;
	if (!valid_media_type(arg))
		return error_set(err, ERROR_USAGE,
		                 "invalid --attach-type '%s' (expected "
		                 "type/subtype, e.g. application/pdf)",
		                 arg);
	*field = arg;
	return 0;
}

static int
opt_attach_name(struct request *req, const char *arg, struct error *err)
{
	const char **field = attachment_field(req, "attach-name", false, err);

	if (field == NULL)
		return -1;
	if (*arg == '\0')
		return error_set(err, ERROR_USAGE,
		                 "option '--attach-name' needs a name");
	*field = arg;
	return 0;
}

static int
opt_cc(struct request *req, const char *arg, struct error *err)
{
	(void)err;
	req->cc[req->ncc++] = arg;
	req->compose = true;
	return 0;
}

static int
opt_bcc(struct request *req, const char *arg, struct error *err)
{
	return add_bcc(req, arg, err);
}

static int
opt_header(struct request *req, const char *arg, struct error *err)
{
	(void)err;
	req->extra[req->nextra++] = arg;
	req->compose = true;
	return 0;
}

static int
opt_body(struct request *req, const char *arg, struct error *err)
{
	(void)err;
	req->body_text = arg;
	req->compose = true;
	return 0;
}

static int
opt_body_file(struct request *req, const char *arg, struct error *err)
{
	if (*arg == '\0')
		return error_set(err, ERROR_USAGE,
		                 "option '--body-file' needs a file name");
	req->body_file = arg;
	req->compose = true;
	return 0;
}

static int
opt_html(struct request *req, const char *arg, struct error *err)
{
	if (*arg == '\0')
		return error_set(err, ERROR_USAGE,
		                 "option '--html' needs a file name");
	req->html_file = arg;
	req->compose = true;
	return 0;
}

/* Trim spaces around s[0..len) and one pair of double quotes; "" if
 * nothing is left.  Writes the terminating NUL into s. */
static char *
trim_name(char *s, size_t len)
{
	while (len > 0 && s[len - 1] == ' ')
		len--;
	s[len] = '\0';
	while (*s == ' ') {
		s++;
		len--;
	}
	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		s[len - 1] = '\0';
		s++;
	}
	return s;
}

/* --from "Name <addr>" or --from addr: the address, and the display name
 * when one is given (it then wins over -F). */
static int
opt_from(struct request *req, const char *arg, struct error *err)
{
	const char *lt = strrchr(arg, '<');
	size_t len = strlen(arg);
	char *name = NULL;

	free(req->from_copy);
	req->from_copy = NULL;
	req->from_name = NULL;
	req->from = arg;
	req->compose = true;
	if (has_ctl(arg))
		return error_set(err, ERROR_USAGE,
		                 "--from '%s' contains a control character",
		                 arg);
	if (lt != NULL && len > 0 && arg[len - 1] == '>') {
		req->from_copy = xstrdup(arg);
		req->from_copy[len - 1] = '\0';
		req->from = req->from_copy + (lt - arg) + 1;
		name = trim_name(req->from_copy, (size_t)(lt - arg));
		req->from_name = *name != '\0' ? name : NULL;
	}
	if (*req->from == '\0')
		return error_set(err, ERROR_USAGE, "invalid --from '%s'", arg);
	return 0;
}

static int
opt_reply_to(struct request *req, const char *arg, struct error *err)
{
	if (*arg == '\0' || has_ctl(arg))
		return error_set(err, ERROR_USAGE, "invalid --reply-to '%s'",
		                 arg);
	req->reply_to = arg;
	req->compose = true;
	return 0;
}

static int
opt_priority(struct request *req, const char *arg, struct error *err)
{
	if (str_ieq(arg, "high"))
		req->priority = MIME_PRIORITY_HIGH;
	else if (str_ieq(arg, "normal"))
		req->priority = MIME_PRIORITY_NORMAL;
	else if (str_ieq(arg, "low"))
		req->priority = MIME_PRIORITY_LOW;
	else
		return error_set(err, ERROR_USAGE,
		                 "invalid --priority '%s' (expected high, "
		                 "normal or low)",
		                 arg);
	return 0;
}

static int
opt_dry_run(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	req->dry_run = true;
	return 0;
}

static int
opt_quiet(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	req->quiet = true;
	return 0;
}

/* --json in a program built without json-c is refused here, saying what
 * to install (jsonout_check). */
static int
opt_json(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	req->json = true;
	return jsonout_check(err);
}

/* The message for sendmail's queue intervals (-q15m, -qp): they start a
 * daemon, which mailpost never is; cron or a timer does the same job. */
#define NO_DAEMON                                                              \
	"mailpost does not run as a daemon: run 'mailpost -q --due' from "     \
	"cron or "                                                             \
	"a systemd timer (see mailpost(1))"

/* -q and --flush flush the queue; with -bp (mailq) sendmail reads -q as a
 * selection of what to list, so the mode stays. */
static int
queue_mode(struct request *req, struct error *err)
{
	if (req->mode == CLI_QUEUE_LIST)
		return 0;
	return set_mode(req, CLI_QUEUE_FLUSH, err);
}

/* One selection per run: -qI, -qR, -qS, --queue-show or --queue-remove
 * (sendmail ORs several; one is what cron and people use). */
static int
set_selection(struct request *req, char select, const char *match,
              struct error *err)
{
	if (req->queue_select != 0)
		return error_set(err, ERROR_USAGE,
		                 "only one queue selection (-qI, -qR, -qS, "
		                 "--queue-show or --queue-remove) may be "
		                 "given");
	req->queue_select = select;
	req->queue_match = match;
	return 0;
}

/* -qI SUBSTR (a queue id), -qR SUBSTR (a recipient), -qS SUBSTR (the
 * sender), the substring glued or the next word. */
int
cliopt_queue_select(struct request *req, char select, const char *match,
                    struct error *err)
{
	if (queue_mode(req, err) < 0)
		return -1;
	if (*match == '\0')
		return error_set(err, ERROR_USAGE,
		                 "option '-q%c' needs a non-empty argument",
		                 select);
	if (has_ctl(match))
		return error_set(err, ERROR_USAGE,
		                 "invalid -q%c '%s' (control character)",
		                 select, match);
	return set_selection(req, select, match, err);
}

/* What follows -q in the same word.  Nothing, or f (foreground: every
 * run is), is a plain flush; a time (-q15m) or -qp[time] would be a
 * daemon; -q!I and the other negations, quarantine (-qQ, -qL) and queue
 * groups (-qG) do not exist here. */
static int
opt_queue(struct request *req, const char *arg, struct error *err)
{
	if (queue_mode(req, err) < 0)
		return -1;
	if (*arg == '\0' || strcmp(arg, "f") == 0)
		return 0;
	if ((*arg >= '0' && *arg <= '9') || *arg == 'p')
		return error_set(err, ERROR_USAGE, NO_DAEMON);
	if (*arg == '!')
		return error_set(err, ERROR_USAGE,
		                 "-q%s is not supported: a queue selection "
		                 "cannot be negated",
		                 arg);
	if (strchr("IRS", *arg) != NULL)
		return cliopt_queue_select(req, *arg, arg + 1, err);
	return error_set(err, ERROR_USAGE, "-q%s is not supported", arg);
}

static int
opt_flush(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	return queue_mode(req, err);
}

/* --due: the back-off schedule is for unattended runs (a timer, cron);
 * a flush asked for by hand tries everything at once. */
static int
opt_due(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	req->queue_due = true;
	return 0;
}

/* --queue-show ID, --queue-remove ID: one entry, by its id (queue.c
 * judges the id; here it only has to be there). */
static int
queue_entry_mode(struct request *req, enum cli_mode mode, const char *arg,
                 struct error *err)
{
	if (*arg == '\0')
		return error_set(err, ERROR_USAGE,
		                 "option '%s' needs a queue id",
		                 request_mode_option(mode));
	if (set_mode(req, mode, err) < 0)
		return -1;
	return set_selection(req, 'I', arg, err);
}

static int
opt_queue_show(struct request *req, const char *arg, struct error *err)
{
	return queue_entry_mode(req, CLI_QUEUE_SHOW, arg, err);
}

static int
opt_queue_remove(struct request *req, const char *arg, struct error *err)
{
	return queue_entry_mode(req, CLI_QUEUE_REMOVE, arg, err);
}

static int
opt_queue_policy(struct request *req, const char *arg, struct error *err)
{
	if (strcmp(arg, "never") == 0)
		req->queue = QUEUE_NEVER;
	else if (strcmp(arg, "on-failure") == 0)
		req->queue = QUEUE_ON_FAILURE;
	else if (strcmp(arg, "always") == 0)
		req->queue = QUEUE_ALWAYS;
	else
		return error_set(err, ERROR_USAGE,
		                 "invalid --queue '%s' (expected never, "
		                 "on-failure or always)",
		                 arg);
	return 0;
}

static int
opt_queue_dir(struct request *req, const char *arg, struct error *err)
{
	return take_path("queue-dir", arg, false, &req->queue_dir, err);
}

/* A file, or "off": no dead letter file at all (the exit status then is
 * the only trace of a message that could not be delivered). */
static int
opt_dead_letter(struct request *req, const char *arg, struct error *err)
{
	return take_path("dead-letter", arg, false, &req->dead_letter, err);
}

/* ---- msmtp's options ------------------------------------------------------
 */

static int
opt_pretend(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	return set_mode(req, CLI_PRETEND, err);
}

static int
opt_serverinfo(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	req->serverinfo = true;
	return set_mode(req, CLI_SERVERINFO, err);
}

/* --check-config --connect: the checks, then --serverinfo's probe. */
static int
opt_connect(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	req->connect = true;
	return 0;
}

/* The chain as PEM: alone, or with --serverinfo's report. */
static int
opt_tls_get_peer_cert(struct request *req, const char *arg, struct error *err)
{
	if (req->mode != CLI_SEND && req->mode != CLI_SERVERINFO)
		return error_set(err, ERROR_USAGE,
		                 "--tls-get-peer-cert cannot be combined with "
		                 "%s",
		                 request_mode_option(req->mode));
	if (arg && take_path("tls-get-peer-cert", arg, false,
	                     &req->peer_cert_file, err) < 0)
		return -1;
	req->peer_cert = true;
	req->mode = CLI_SERVERINFO;
	return 0;
}

static int
opt_smuggling_test(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	return set_mode(req, CLI_SMUGGLE_TEST, err);
}

static int
opt_oauth2_login(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	return set_mode(req, CLI_OAUTH2_LOGIN, err);
}

/* --configure ADDRESS: the address is checked with the whole command
 * line (clicheck.c). */
static int
opt_configure(struct request *req, const char *arg, struct error *err)
{
	req->configure_address = arg;
	return set_mode(req, CLI_CONFIGURE, err);
}

static int
opt_oauth2_flow(struct request *req, const char *arg, struct error *err)
{
	if (strcmp(arg, "device") == 0)
		req->oauth2_flow = CLI_OAUTH2_FLOW_DEVICE;
	else if (strcmp(arg, "browser") == 0)
		req->oauth2_flow = CLI_OAUTH2_FLOW_BROWSER;
	else
		return error_set(
		    err, ERROR_USAGE,
		    "invalid --oauth2-flow '%s' (expected device or "
		    "browser)",
		    arg);
	return 0;
}

static int
opt_read_envelope_from(struct request *req, const char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	req->read_envelope_from = true;
	return 0;
}

/* A file, or "" for none (msmtp's way to unset the account's). */
static int
opt_logfile(struct request *req, const char *arg, struct error *err)
{
	return take_path("logfile", arg, true, &req->logfile, err);
}

static int
opt_logfile_time_format(struct request *req, const char *arg, struct error *err)
{
	return take_path("logfile-time-format", arg, true,
	                 &req->logfile_time_format, err);
}

static int
opt_aliases(struct request *req, const char *arg, struct error *err)
{
	return take_path("aliases", arg, true, &req->aliases, err);
}

static int
opt_syslog(struct request *req, const char *arg, struct error *err)
{
	int facility = conf_syslog_value(arg ? arg : "on");

	if (facility == CONF_SYSLOG_INVALID)
		return error_set(err, ERROR_USAGE,
		                 "invalid --syslog '%s' (expected on, off, "
		                 "LOG_USER, LOG_MAIL or LOG_LOCAL0 to "
		                 "LOG_LOCAL7)",
		                 arg);
	req->syslog = facility;
	return 0;
}

static int
opt_protocol(struct request *req, const char *arg, struct error *err)
{
	if (str_ieq(arg, "smtp"))
		req->lmtp = CLI_OFF;
	else if (str_ieq(arg, "lmtp"))
		req->lmtp = CLI_ON;
	else
		return error_set(err, ERROR_USAGE,
		                 "invalid --protocol '%s' (expected smtp or "
		                 "lmtp)",
		                 arg);
	return 0;
}

static int
opt_set_from_header(struct request *req, const char *arg, struct error *err)
{
	if (arg == NULL || str_ieq(arg, "auto"))
		req->set_from_header = CONF_FROM_AUTO;
	else if (str_ieq(arg, "on"))
		req->set_from_header = CONF_FROM_ON;
	else if (str_ieq(arg, "off"))
		req->set_from_header = CONF_FROM_OFF;
	else
		return error_set(err, ERROR_USAGE,
		                 "invalid --set-from-header '%s' (expected "
		                 "auto, on or off)",
		                 arg);
	return 0;
}

/* --set-date-header and --set-msgid-header: auto (ON) or off. */
static int
parse_auto_off(const char *name, const char *arg, enum cli_switch *out,
               struct error *err)
{
	if (arg == NULL || str_ieq(arg, "auto"))
		*out = CLI_ON;
	else if (str_ieq(arg, "off"))
		*out = CLI_OFF;
	else
		return error_set(err, ERROR_USAGE,
		                 "invalid --%s '%s' (expected auto or off)",
		                 name, arg);
	return 0;
}

static int
opt_set_date_header(struct request *req, const char *arg, struct error *err)
{
	return parse_auto_off("set-date-header", arg, &req->set_date_header,
	                      err);
}

static int
opt_set_msgid_header(struct request *req, const char *arg, struct error *err)
{
	return parse_auto_off("set-msgid-header", arg, &req->set_msgid_header,
	                      err);
}

/* The older msmtp spellings: on is auto, off is off. */
static int
opt_add_missing_from_header(struct request *req, const char *arg,
                            struct error *err)
{
	enum cli_switch on = CLI_UNSET;

	if (parse_switch("add-missing-from-header", arg, &on, err) < 0)
		return -1;
	req->set_from_header = on == CLI_ON ? CONF_FROM_AUTO : CONF_FROM_OFF;
	return 0;
}

static int
opt_add_missing_date_header(struct request *req, const char *arg,
                            struct error *err)
{
	return parse_switch("add-missing-date-header", arg,
	                    &req->set_date_header, err);
}

static int
opt_remove_bcc_headers(struct request *req, const char *arg, struct error *err)
{
	return parse_switch("remove-bcc-headers", arg, &req->remove_bcc_headers,
	                    err);
}

static int
opt_undisclosed_recipients(struct request *req, const char *arg,
                           struct error *err)
{
	return parse_switch("undisclosed-recipients", arg,
	                    &req->undisclosed_recipients, err);
}

/* sendmail's -oX: X is an option letter with its value glued on.  Only
 * -oi (ignore dots) changes what we do; the rest (-odi, -oem, ...) are
 * about sendmail's own delivery and error reporting. */
static int
opt_sendmail_option(struct request *req, const char *arg, struct error *err)
{
	(void)err;
	if (strcmp(arg, "i") == 0)
		req->dot_ends_input = false;
	return 0;
}

static int
opt_ignore(struct request *req, const char *arg, struct error *err)
{
	(void)req;
	(void)arg;
	(void)err;
	return 0;
}

/* Every option.  tests/10-cli.bats reads the long names from this table
 * and checks that the man page and the completions know each one. */
static const struct cliopt options[] = {
    {'t', "read-recipients", CLIOPT_NONE, opt_read_recipients},
    {'i', NULL, CLIOPT_NONE, opt_ignore_dots},
    {'v', "verbose", CLIOPT_NONE, opt_verbose},
    {0, "debug", CLIOPT_NONE, opt_verbose},
    {0, "color", CLIOPT_OPTIONAL, opt_color},
    {0, "show-auth", CLIOPT_NONE, opt_show_auth},
    {0, "timing", CLIOPT_NONE, opt_timing},
    {0, "pretend", CLIOPT_NONE, opt_pretend},
    {0, "serverinfo", CLIOPT_NONE, opt_serverinfo},
    {0, "connect", CLIOPT_NONE, opt_connect},
    {0, "tls-get-peer-cert", CLIOPT_OPTIONAL, opt_tls_get_peer_cert},
    {0, "check-config", CLIOPT_NONE, opt_pretend},
    {0, "smtp-smuggling-test", CLIOPT_NONE, opt_smuggling_test},
    {0, "oauth2-login", CLIOPT_NONE, opt_oauth2_login},
    {0, "oauth2-flow", CLIOPT_REQUIRED, opt_oauth2_flow},
    {0, "configure", CLIOPT_REQUIRED, opt_configure},
    {'f', NULL, CLIOPT_REQUIRED, opt_sender},
    {'r', NULL, CLIOPT_REQUIRED, opt_sender},
    {'F', NULL, CLIOPT_REQUIRED, opt_full_name},
    {'C', "file", CLIOPT_REQUIRED, opt_config_file},
    {'A', "account", CLIOPT_REQUIRED, opt_account},
    {0, "host", CLIOPT_REQUIRED, opt_host},
    {0, "port", CLIOPT_REQUIRED, opt_port},
    {0, "proxy-host", CLIOPT_REQUIRED, opt_proxy_host},
    {0, "proxy-port", CLIOPT_REQUIRED, opt_proxy_port},
    {0, "socket", CLIOPT_REQUIRED, opt_socket},
    {0, "timeout", CLIOPT_REQUIRED, opt_timeout},
    {0, "domain", CLIOPT_REQUIRED, opt_domain},
    {0, "ehlo", CLIOPT_REQUIRED, opt_ehlo},
    {0, "rcpt-policy", CLIOPT_REQUIRED, opt_rcpt_policy},
    {0, "deliver", CLIOPT_REQUIRED, opt_deliver},
    {0, "tls", CLIOPT_OPTIONAL, opt_tls},
    {0, "tls-starttls", CLIOPT_OPTIONAL, opt_tls_starttls},
    {0, "tls-trust-file", CLIOPT_REQUIRED, opt_tls_trust_file},
    {0, "tls-crl-file", CLIOPT_REQUIRED, opt_tls_crl_file},
    {0, "tls-fingerprint", CLIOPT_REQUIRED, opt_tls_fingerprint},
    {0, "tls-certcheck", CLIOPT_OPTIONAL, opt_tls_certcheck},
    {0, "tls-cert-file", CLIOPT_REQUIRED, opt_tls_cert_file},
    {0, "tls-key-file", CLIOPT_REQUIRED, opt_tls_key_file},
    {0, "tls-priorities", CLIOPT_REQUIRED, opt_tls_priorities},
    {0, "tls-host-override", CLIOPT_REQUIRED, opt_tls_host_override},
    {0, "tls-session-cache", CLIOPT_OPTIONAL, opt_tls_session_cache},
    {0, "auth", CLIOPT_OPTIONAL, opt_auth},
    {0, "user", CLIOPT_REQUIRED, opt_user},
    {0, "auth-mechanism", CLIOPT_REQUIRED, opt_auth_mechanism},
    /* Testing a server. */
    {0, "quit-after", CLIOPT_REQUIRED, opt_quit_after},
    {0, "no-pipelining", CLIOPT_NONE, opt_no_pipelining},
    {0, "no-chunking", CLIOPT_NONE, opt_no_chunking},
    {0, "test", CLIOPT_NONE, opt_test},
    {0, "passwordeval", CLIOPT_REQUIRED, opt_passwordeval},
    {0, "password-fd", CLIOPT_REQUIRED, opt_password_fd},
    {0, "password-env", CLIOPT_REQUIRED, opt_password_env},
    {'N', "dsn-notify", CLIOPT_REQUIRED, opt_dsn_notify},
    {'R', "dsn-return", CLIOPT_REQUIRED, opt_dsn_return},
    {'V', NULL, CLIOPT_REQUIRED, opt_dsn_envid},
    /* Composing a message (mailx). */
    {'s', "subject", CLIOPT_REQUIRED, opt_subject},
    {'a', "attach", CLIOPT_REQUIRED, opt_attach},
    {0, "attach-type", CLIOPT_REQUIRED, opt_attach_type},
    {0, "attach-name", CLIOPT_REQUIRED, opt_attach_name},
    {'c', "cc", CLIOPT_REQUIRED, opt_cc},
    {0, "bcc", CLIOPT_REQUIRED, opt_bcc},
    {'H', "header", CLIOPT_REQUIRED, opt_header},
    {0, "body", CLIOPT_REQUIRED, opt_body},
    {0, "body-file", CLIOPT_REQUIRED, opt_body_file},
    {0, "html", CLIOPT_REQUIRED, opt_html},
    {0, "from", CLIOPT_REQUIRED, opt_from},
    {0, "reply-to", CLIOPT_REQUIRED, opt_reply_to},
    {0, "priority", CLIOPT_REQUIRED, opt_priority},
    {0, "dry-run", CLIOPT_NONE, opt_dry_run},
    {0, "print", CLIOPT_NONE, opt_dry_run},
    {0, "quiet", CLIOPT_NONE, opt_quiet},
    {0, "json", CLIOPT_NONE, opt_json},
    {0, "help", CLIOPT_NONE, opt_help},
    {0, "version", CLIOPT_NONE, opt_version},
    {'b', NULL, CLIOPT_MODE_OR_ADDR, opt_b_glued},
    {'q', NULL, CLIOPT_QUEUE, opt_queue},
    {0, "flush", CLIOPT_NONE, opt_flush},
    {0, "due", CLIOPT_NONE, opt_due},
    {0, "queue-show", CLIOPT_REQUIRED, opt_queue_show},
    {0, "queue-remove", CLIOPT_REQUIRED, opt_queue_remove},
    {0, "queue", CLIOPT_REQUIRED, opt_queue_policy},
    {0, "queue-dir", CLIOPT_REQUIRED, opt_queue_dir},
    {0, "dead-letter", CLIOPT_REQUIRED, opt_dead_letter},
    {'o', NULL, CLIOPT_REQUIRED, opt_sendmail_option},
    /* msmtp's, under either name. */
    {0, "read-envelope-from", CLIOPT_NONE, opt_read_envelope_from},
    {0, "protocol", CLIOPT_REQUIRED, opt_protocol},
    {0, "logfile", CLIOPT_REQUIRED, opt_logfile},
    {0, "logfile-time-format", CLIOPT_REQUIRED, opt_logfile_time_format},
    {0, "syslog", CLIOPT_OPTIONAL, opt_syslog},
    {0, "aliases", CLIOPT_REQUIRED, opt_aliases},
    {0, "set-from-header", CLIOPT_OPTIONAL, opt_set_from_header},
    {0, "set-date-header", CLIOPT_OPTIONAL, opt_set_date_header},
    {0, "set-msgid-header", CLIOPT_OPTIONAL, opt_set_msgid_header},
    {0, "add-missing-from-header", CLIOPT_OPTIONAL,
     opt_add_missing_from_header},
    {0, "add-missing-date-header", CLIOPT_OPTIONAL,
     opt_add_missing_date_header},
    {0, "remove-bcc-headers", CLIOPT_OPTIONAL, opt_remove_bcc_headers},
    {0, "undisclosed-recipients", CLIOPT_OPTIONAL, opt_undisclosed_recipients},
    /* Accepted and ignored, as cron, mailx, mutt and PHP pass them:
     * -O option=value, -B body type, -L syslog tag, -X log file (never
     * written), -h hop count, -p protocol, -U initial submission,
     * -m me too, -n no aliasing, -G gateway submission. */
    {'O', NULL, CLIOPT_REQUIRED, opt_ignore},
    {'B', NULL, CLIOPT_REQUIRED, opt_ignore},
    {'L', NULL, CLIOPT_REQUIRED, opt_ignore},
    {'X', NULL, CLIOPT_REQUIRED, opt_ignore},
    {'h', NULL, CLIOPT_REQUIRED, opt_ignore},
    {'p', NULL, CLIOPT_REQUIRED, opt_ignore},
    {'U', NULL, CLIOPT_NONE, opt_ignore},
    {'m', NULL, CLIOPT_NONE, opt_ignore},
    {'n', NULL, CLIOPT_NONE, opt_ignore},
    {'G', NULL, CLIOPT_NONE, opt_ignore},
};

/* Called as msmtp, these come first: msmtp's meanings of letters and names
 * that mean something else to sendmail and mailx (see cli.h).  Their long
 * forms are in the table above. */
static const struct cliopt msmtp_options[] = {
    {'a', NULL, CLIOPT_REQUIRED, opt_account},
    {'d', NULL, CLIOPT_NONE, opt_verbose},
    {'P', NULL, CLIOPT_NONE, opt_pretend},
    {'S', NULL, CLIOPT_NONE, opt_serverinfo},
    {'X', NULL, CLIOPT_REQUIRED, opt_logfile},
    {0, "from", CLIOPT_REQUIRED, opt_sender},
};

const struct cliopt *
cliopt_table(bool msmtp, size_t *n)
{
	if (msmtp) {
		*n = sizeof msmtp_options / sizeof msmtp_options[0];
		return msmtp_options;
	}
	*n = sizeof options / sizeof options[0];
	return options;
}
