/*
 * cli.c - the command line (see cli.h).
 *
 * sendmail's syntax does not fit getopt: callers put options after the
 * recipients (GNU-style permutation), sendmail's -o and -b take their
 * argument glued to the letter (-oi, -odi, -bp), -q takes an optional one
 * that is glued (-q, -qf), except that its selections -qI, -qR and -qS may
 * take theirs from the next word, and -- turns every later word into a
 * recipient.  So the parser is written by hand around one table: each
 * option names its letter and/or long name, whether it takes an argument,
 * and the small function that applies it.  Checks that need the whole
 * command line (recipients present, what each mode takes, control
 * characters) run afterwards, in clicheck.c; the --help text is
 * clihelp.c's.
 */
#include "config.h"

#include "cli.h"
#include "jsonout.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clicheck.h"
#include "envelope.h"
#include "util.h"

/* Timeouts become milliseconds further down; keep that within an int. */
#define TIMEOUT_MAX (INT_MAX / 1000)
#define PORT_MAX 65535
/* Longer words are not typos of an option name (the longest is 23). */
#define SUGGEST_LEN_MAX 32
#define IGNORED_VALUE "a value (accepted and ignored, as sendmail does)"

enum arg_kind {
	ARG_NONE,         /* a flag; may be clustered: -ti */
	ARG_REQUIRED,     /* the rest of the word, else the next word */
	ARG_GLUED,        /* optional, and only the rest of the word */
	ARG_QUEUE,        /* -q: as ARG_GLUED, but a selection letter alone
	                   * (-qI, -qR, -qS) takes the next word */
	ARG_OPTIONAL,     /* long only, optional, only after '=': --tls=off */
	ARG_MODE_OR_ADDR, /* -b: as ARG_REQUIRED, but an argument that is a
	                   * word of its own goes to opt_b_word ("-b bob" is
	                   * an address, "-bbob" an unknown mode) */
};

struct option_spec {
	char letter;           /* 0: long form only */
	const char *long_name; /* NULL: short form only */
	enum arg_kind arg;
	int (*apply)(struct request *req, const char *arg, struct error *err);
};

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

/* The one-off password sources (cli.h).  The command and the variable's
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
static int
opt_b_word(struct request *req, const char *arg, struct error *err)
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
static int
queue_select(struct request *req, char select, const char *match,
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
		return queue_select(req, *arg, arg + 1, err);
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
static const struct option_spec options[] = {
    {'t', "read-recipients", ARG_NONE, opt_read_recipients},
    {'i', NULL, ARG_NONE, opt_ignore_dots},
    {'v', "verbose", ARG_NONE, opt_verbose},
    {0, "debug", ARG_NONE, opt_verbose},
    {0, "color", ARG_OPTIONAL, opt_color},
    {0, "show-auth", ARG_NONE, opt_show_auth},
    {0, "timing", ARG_NONE, opt_timing},
    {0, "pretend", ARG_NONE, opt_pretend},
    {0, "serverinfo", ARG_NONE, opt_serverinfo},
    {0, "connect", ARG_NONE, opt_connect},
    {0, "tls-get-peer-cert", ARG_OPTIONAL, opt_tls_get_peer_cert},
    {0, "check-config", ARG_NONE, opt_pretend},
    {0, "smtp-smuggling-test", ARG_NONE, opt_smuggling_test},
    {'f', NULL, ARG_REQUIRED, opt_sender},
    {'r', NULL, ARG_REQUIRED, opt_sender},
    {'F', NULL, ARG_REQUIRED, opt_full_name},
    {'C', "file", ARG_REQUIRED, opt_config_file},
    {'A', "account", ARG_REQUIRED, opt_account},
    {0, "host", ARG_REQUIRED, opt_host},
    {0, "port", ARG_REQUIRED, opt_port},
    {0, "proxy-host", ARG_REQUIRED, opt_proxy_host},
    {0, "proxy-port", ARG_REQUIRED, opt_proxy_port},
    {0, "socket", ARG_REQUIRED, opt_socket},
    {0, "timeout", ARG_REQUIRED, opt_timeout},
    {0, "domain", ARG_REQUIRED, opt_domain},
    {0, "ehlo", ARG_REQUIRED, opt_ehlo},
    {0, "rcpt-policy", ARG_REQUIRED, opt_rcpt_policy},
    {0, "tls", ARG_OPTIONAL, opt_tls},
    {0, "tls-starttls", ARG_OPTIONAL, opt_tls_starttls},
    {0, "tls-trust-file", ARG_REQUIRED, opt_tls_trust_file},
    {0, "tls-crl-file", ARG_REQUIRED, opt_tls_crl_file},
    {0, "tls-fingerprint", ARG_REQUIRED, opt_tls_fingerprint},
    {0, "tls-certcheck", ARG_OPTIONAL, opt_tls_certcheck},
    {0, "tls-cert-file", ARG_REQUIRED, opt_tls_cert_file},
    {0, "tls-key-file", ARG_REQUIRED, opt_tls_key_file},
    {0, "tls-priorities", ARG_REQUIRED, opt_tls_priorities},
    {0, "tls-host-override", ARG_REQUIRED, opt_tls_host_override},
    {0, "auth", ARG_OPTIONAL, opt_auth},
    {0, "user", ARG_REQUIRED, opt_user},
    {0, "auth-mechanism", ARG_REQUIRED, opt_auth_mechanism},
    /* Testing a server. */
    {0, "quit-after", ARG_REQUIRED, opt_quit_after},
    {0, "no-pipelining", ARG_NONE, opt_no_pipelining},
    {0, "test", ARG_NONE, opt_test},
    {0, "passwordeval", ARG_REQUIRED, opt_passwordeval},
    {0, "password-fd", ARG_REQUIRED, opt_password_fd},
    {0, "password-env", ARG_REQUIRED, opt_password_env},
    {'N', "dsn-notify", ARG_REQUIRED, opt_dsn_notify},
    {'R', "dsn-return", ARG_REQUIRED, opt_dsn_return},
    {'V', NULL, ARG_REQUIRED, opt_dsn_envid},
    /* Composing a message (mailx). */
    {'s', "subject", ARG_REQUIRED, opt_subject},
    {'a', "attach", ARG_REQUIRED, opt_attach},
    {0, "attach-type", ARG_REQUIRED, opt_attach_type},
    {0, "attach-name", ARG_REQUIRED, opt_attach_name},
    {'c', "cc", ARG_REQUIRED, opt_cc},
    {0, "bcc", ARG_REQUIRED, opt_bcc},
    {'H', "header", ARG_REQUIRED, opt_header},
    {0, "body", ARG_REQUIRED, opt_body},
    {0, "body-file", ARG_REQUIRED, opt_body_file},
    {0, "html", ARG_REQUIRED, opt_html},
    {0, "from", ARG_REQUIRED, opt_from},
    {0, "reply-to", ARG_REQUIRED, opt_reply_to},
    {0, "priority", ARG_REQUIRED, opt_priority},
    {0, "dry-run", ARG_NONE, opt_dry_run},
    {0, "print", ARG_NONE, opt_dry_run},
    {0, "quiet", ARG_NONE, opt_quiet},
    {0, "json", ARG_NONE, opt_json},
    {0, "help", ARG_NONE, opt_help},
    {0, "version", ARG_NONE, opt_version},
    {'b', NULL, ARG_MODE_OR_ADDR, opt_b_glued},
    {'q', NULL, ARG_QUEUE, opt_queue},
    {0, "flush", ARG_NONE, opt_flush},
    {0, "due", ARG_NONE, opt_due},
    {0, "queue-show", ARG_REQUIRED, opt_queue_show},
    {0, "queue-remove", ARG_REQUIRED, opt_queue_remove},
    {0, "queue", ARG_REQUIRED, opt_queue_policy},
    {0, "queue-dir", ARG_REQUIRED, opt_queue_dir},
    {0, "dead-letter", ARG_REQUIRED, opt_dead_letter},
    {'o', NULL, ARG_REQUIRED, opt_sendmail_option},
    /* msmtp's, under either name. */
    {0, "read-envelope-from", ARG_NONE, opt_read_envelope_from},
    {0, "protocol", ARG_REQUIRED, opt_protocol},
    {0, "logfile", ARG_REQUIRED, opt_logfile},
    {0, "logfile-time-format", ARG_REQUIRED, opt_logfile_time_format},
    {0, "syslog", ARG_OPTIONAL, opt_syslog},
    {0, "aliases", ARG_REQUIRED, opt_aliases},
    {0, "set-from-header", ARG_OPTIONAL, opt_set_from_header},
    {0, "set-date-header", ARG_OPTIONAL, opt_set_date_header},
    {0, "set-msgid-header", ARG_OPTIONAL, opt_set_msgid_header},
    {0, "add-missing-from-header", ARG_OPTIONAL, opt_add_missing_from_header},
    {0, "add-missing-date-header", ARG_OPTIONAL, opt_add_missing_date_header},
    {0, "remove-bcc-headers", ARG_OPTIONAL, opt_remove_bcc_headers},
    {0, "undisclosed-recipients", ARG_OPTIONAL, opt_undisclosed_recipients},
    /* Accepted and ignored, as cron, mailx, mutt and PHP pass them:
     * -O option=value, -B body type, -L syslog tag, -X log file (never
     * written), -h hop count, -p protocol, -U initial submission,
     * -m me too, -n no aliasing, -G gateway submission. */
    {'O', NULL, ARG_REQUIRED, opt_ignore},
    {'B', NULL, ARG_REQUIRED, opt_ignore},
    {'L', NULL, ARG_REQUIRED, opt_ignore},
    {'X', NULL, ARG_REQUIRED, opt_ignore},
    {'h', NULL, ARG_REQUIRED, opt_ignore},
    {'p', NULL, ARG_REQUIRED, opt_ignore},
    {'U', NULL, ARG_NONE, opt_ignore},
    {'m', NULL, ARG_NONE, opt_ignore},
    {'n', NULL, ARG_NONE, opt_ignore},
    {'G', NULL, ARG_NONE, opt_ignore},
};

#define NOPTIONS (sizeof options / sizeof options[0])

/* Called as msmtp, these come first: msmtp's meanings of letters and names
 * that mean something else to sendmail and mailx (see cli.h).  Their long
 * forms are in the table above. */
static const struct option_spec msmtp_options[] = {
    {'a', NULL, ARG_REQUIRED, opt_account},
    {'d', NULL, ARG_NONE, opt_verbose},
    {'P', NULL, ARG_NONE, opt_pretend},
    {'S', NULL, ARG_NONE, opt_serverinfo},
    {'X', NULL, ARG_REQUIRED, opt_logfile},
    {0, "from", ARG_REQUIRED, opt_sender},
};

#define NMSMTP_OPTIONS (sizeof msmtp_options / sizeof msmtp_options[0])

/* ---- the word loop ------------------------------------------------------- */

struct cursor {
	int argc;
	char **argv;
	int i; /* the word being read */
};

/* The option with this letter (name NULL) or long name in table t. */
static const struct option_spec *
find_in(const struct option_spec *t, size_t n, char c, const char *name,
        size_t len)
{
	for (size_t k = 0; k < n; k++) {
		const char *l = t[k].long_name;

		if (name == NULL && t[k].letter != 0 && t[k].letter == c)
			return &t[k];
		if (name != NULL && l != NULL && strlen(l) == len &&
		    strncmp(l, name, len) == 0)
			return &t[k];
	}
	return NULL;
}

static const struct option_spec *
find_option(const struct request *req, char c, const char *name, size_t len)
{
	const struct option_spec *o = NULL;

	if (req->msmtp)
		o = find_in(msmtp_options, NMSMTP_OPTIONS, c, name, len);
	return o != NULL ? o : find_in(options, NOPTIONS, c, name, len);
}

/* msmtp's options that mailpost does not have (yet), with the reason, so
 * that an msmtp command line fails with a clear message and exit 64
 * rather than "unknown option". */
static const struct {
	char letter; /* only when called as msmtp */
	const char *long_name;
	const char *why;
} refused[] = {
    {0, "rmqs",
     "is not supported: mailpost asks no server to start its "
     "queue (ETRN)"},
    {0, "configure",
     "is not supported: write the account yourself (see "
     "mailpost.conf(5))"},
    {0, "source-ip",
     "is not supported on the command line: set "
     "source_ip in the configuration file"},
    {0, "tls-min-dh-prime-bits", "is not supported: use --tls-priorities"},
    {0, "tls-force-sslv3", "is not supported: SSLv3 is broken (RFC 7568)"},
    {0, "auto-from",
     "is not supported: use -f or --read-envelope-from, or "
     "set from in the configuration file"},
    {0, "maildomain",
     "is not supported on the command line: set "
     "maildomain in the configuration file"},
    {0, "keepbcc", "is not supported: use --remove-bcc-headers=off"},
};

/* An msmtp option mailpost refuses: -1 with the reason, else 0. */
static int
check_refused(const struct request *req, char letter, const char *name,
              size_t len, struct error *err)
{
	for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++) {
		const char *l = refused[k].long_name;

		if (letter != 0 && (!req->msmtp || refused[k].letter != letter))
			continue;
		if (letter == 0 && (strlen(l) != len || strncmp(l, name, len)))
			continue;
		return error_set(err, ERROR_USAGE, "msmtp's option --%s %s", l,
		                 refused[k].why);
	}
	return 0;
}

/* There is no --password: every user of the machine can read a command
 * line (ps, /proc/PID/cmdline), and a shell keeps it in its history. */
static int
check_password_option(const char *name, size_t len, struct error *err)
{
	if (len != strlen("password") || strncmp(name, "password", len) != 0)
		return 0;
	return error_set(err, ERROR_USAGE,
	                 "there is no --password option: a command line is "
	                 "visible to every user (ps) and stays in the shell's "
	                 "history; use --passwordeval CMD, --password-fd N or "
	                 "--password-env VAR");
}

/* What a letter's argument is, for "-f needs an envelope sender; write -f
 * ADDRESS" instead of a bare "needs an argument".  msmtp: the meaning
 * under the name msmtp (see msmtp_options). */
static const struct {
	char letter;
	bool msmtp;
	const char *what;
	const char *usage;
} arg_help[] = {
    {'a', true, "an account name", "-a ACCOUNT (called as msmtp)"},
    {'X', true, "a log file", "-X FILE (called as msmtp)"},
    {'f', false, "an envelope sender", "-f ADDRESS"},
    {'r', false, "an envelope sender", "-r ADDRESS"},
    {'F', false, "the sender's full name", "-F 'FULL NAME'"},
    {'C', false, "a configuration file", "-C FILE"},
    {'A', false, "an account name", "-A ACCOUNT"},
    {'N', false, "when to ask for delivery status notifications",
     "-N never or -N success,failure,delay"},
    {'R', false, "what a bounce returns", "-R full or -R hdrs"},
    {'V', false, "a DSN envelope id", "-V ENVID"},
    {'s', false, "a subject", "-s SUBJECT"},
    {'a', false, "a file to attach", "-a FILE (called as msmtp, -a ACCOUNT)"},
    {'c', false, "a Cc address", "-c ADDRESS"},
    {'H', false, "a header field", "-H 'NAME: VALUE'"},
    {'o', false, "a sendmail option", "it glued, as in -oi"},
    {'b', false, "a mode",
     "-bm (send), -bp (list the queue), -bs (SMTP on standard input) or "
     "-bi"},
    {'O', false, IGNORED_VALUE, "-O OPTION=VALUE"},
    {'B', false, IGNORED_VALUE, "-B TYPE"},
    {'L', false, IGNORED_VALUE, "-L TAG"},
    {'X', false, IGNORED_VALUE, "-X FILE"},
    {'h', false, IGNORED_VALUE, "-h HOPS"},
    {'p', false, IGNORED_VALUE, "-p PROTOCOL"},
};

/* -1: "-c needs WHAT; write USAGE" for a letter that came without its
 * argument. */
static int
missing_argument(const struct request *req, char c, struct error *err)
{
	for (size_t k = 0; k < sizeof arg_help / sizeof arg_help[0]; k++) {
		if (arg_help[k].letter != c ||
		    (arg_help[k].msmtp && !req->msmtp))
			continue;
		return error_set(err, ERROR_USAGE, "-%c needs %s; write %s", c,
		                 arg_help[k].what, arg_help[k].usage);
	}
	return error_set(err, ERROR_USAGE, "option '-%c' needs an argument", c);
}

/* Edit distance (optimal string alignment: a swap of two neighbours
 * counts once, so --hepl is one step from --help) between a and b[0..n),
 * or SUGGEST_LEN_MAX + 1 when either is too long to bother. */
static size_t
edit_distance(const char *a, const char *b, size_t n)
{
	size_t m = strlen(a);
	size_t d[SUGGEST_LEN_MAX + 1][SUGGEST_LEN_MAX + 1];

	if (m > SUGGEST_LEN_MAX || n > SUGGEST_LEN_MAX)
		return SUGGEST_LEN_MAX + 1;
	for (size_t i = 0; i <= m; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= n; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= m; i++) {
		for (size_t j = 1; j <= n; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[m][n];
}

/* The one long name nearest to name[0..len), or NULL when none is near
 * enough (one step for names up to 4 characters, two beyond; none under
 * 3) or two are equally near: a wrong guess is worse than none. */
static const char *
nearest_long_name(const char *name, size_t len)
{
	size_t limit = len < 3 ? 0 : len <= 4 ? 1 : 2;
	const char *best = NULL;
	size_t best_d = limit + 1;
	bool tie = false;

	for (size_t k = 0; k < NOPTIONS; k++) {
		const char *l = options[k].long_name;
		size_t d = l != NULL ? edit_distance(l, name, len) : best_d + 1;

		if (d < best_d) {
			best = l;
			best_d = d;
			tie = false;
		} else if (d == best_d && best != NULL) {
			tie = true;
		}
	}
	return tie ? NULL : best;
}

/* -1: the unknown long option, with the nearest name when there is one. */
static int
unknown_long(const char *name, size_t len, struct error *err)
{
	const char *near = nearest_long_name(name, len);

	if (near != NULL)
		return error_set(
		    err, ERROR_USAGE,
		    "unknown option '--%.*s'; did you mean '--%s'?", (int)len,
		    name, near);
	return error_set(err, ERROR_USAGE,
	                 "unknown option '--%.*s'; see 'mailpost --help'",
	                 (int)len, name);
}

/* The argument of an option: glued to it if anything follows, else the
 * next word, whatever it looks like ("-f ''" and "-f -x" as getopt does). */
static const char *
take_argument(struct cursor *c, const char *glued)
{
	if (*glued != '\0')
		return glued;
	if (c->i + 1 >= c->argc)
		return NULL;
	c->i++;
	return c->argv[c->i];
}

/* -q and what follows it in the word; a selection letter alone (-qI, -qR,
 * -qS) takes the next word, as sendmail allows. */
static int
parse_queue(struct cursor *c, struct request *req, const char *rest,
            struct error *err)
{
	const char *match = NULL;

	if (rest[0] == '\0' || rest[1] != '\0' ||
	    strchr("IRS", rest[0]) == NULL)
		return opt_queue(req, rest, err);
	match = take_argument(c, "");
	if (match == NULL)
		return error_set(err, ERROR_USAGE,
		                 "-q%c needs part of %s to match; write -q%c "
		                 "TEXT",
		                 rest[0],
		                 rest[0] == 'I'   ? "a queue id"
		                 : rest[0] == 'R' ? "a recipient"
		                                  : "the sender",
		                 rest[0]);
	return queue_select(req, rest[0], match, err);
}

/* One word of short options: "-t", "-ti", "-FCronDaemon", "-f" "addr". */
static int
parse_short(struct cursor *c, struct request *req, struct error *err)
{
	const char *word = c->argv[c->i];

	for (size_t j = 1; word[j] != '\0'; j++) {
		const struct option_spec *o =
		    find_option(req, word[j], NULL, 0);
		const char *arg = NULL;

		if (o == NULL && check_refused(req, word[j], NULL, 0, err) < 0)
			return -1;
		if (o == NULL)
			return error_set(err, ERROR_USAGE,
			                 "unknown option '-%c'; see 'mailpost "
			                 "--help'",
			                 word[j]);
		if (o->arg == ARG_NONE) {
			if (o->apply(req, NULL, err) < 0)
				return -1;
			continue;
		}
		if (o->arg == ARG_QUEUE)
			return parse_queue(c, req, word + j + 1, err);
		if (o->arg == ARG_GLUED)
			arg = word + j + 1;
		else
			arg = take_argument(c, word + j + 1);
		if (arg == NULL)
			return missing_argument(req, word[j], err);
		if (o->arg == ARG_MODE_OR_ADDR && word[j + 1] == '\0')
			return opt_b_word(req, arg, err);
		return o->apply(req, arg, err);
	}
	return 0;
}

/* One long option: "--host=H" or "--host" "H"; exact names only, so that
 * adding an option later never changes what an abbreviation meant. */
static int
parse_long(struct cursor *c, struct request *req, struct error *err)
{
	const char *name = c->argv[c->i] + 2;
	const char *eq = strchr(name, '=');
	size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
	const struct option_spec *o = find_option(req, 0, name, len);
	const char *arg = NULL;

	if (o == NULL && (check_password_option(name, len, err) < 0 ||
	                  check_refused(req, 0, name, len, err) < 0))
		return -1;
	if (o == NULL)
		return unknown_long(name, len, err);
	if (o->arg == ARG_NONE) {
		if (eq != NULL)
			return error_set(err, ERROR_USAGE,
			                 "option '--%s' takes no argument",
			                 o->long_name);
		return o->apply(req, NULL, err);
	}
	/* --tls=off, never "--tls off": "off" could be a recipient. */
	if (o->arg == ARG_OPTIONAL)
		return o->apply(req, eq != NULL ? eq + 1 : NULL, err);
	arg = eq != NULL ? eq + 1 : take_argument(c, "");
	if (arg == NULL)
		return error_set(err, ERROR_USAGE,
		                 "option '--%s' needs an argument",
		                 o->long_name);
	return o->apply(req, arg, err);
}

/* Options anywhere until "--"; every other word is a recipient ("-" alone
 * too, as getopt treats it). */
static int
parse_words(int argc, char **argv, struct request *req, struct error *err)
{
	struct cursor c = {argc, argv, 1};
	bool options_end = false;

	for (; c.i < argc; c.i++) {
		const char *word = argv[c.i];
		int rc = 0;

		if (options_end || word[0] != '-' || word[1] == '\0')
			req->rcpts[req->nrcpts++] = word;
		else if (strcmp(word, "--") == 0)
			options_end = true;
		else if (word[1] == '-')
			rc = parse_long(&c, req, err);
		else
			rc = parse_short(&c, req, err);
		if (rc < 0)
			return -1;
		/* --help and --version answer at once, whatever follows. */
		if (req->mode == CLI_HELP || req->mode == CLI_VERSION)
			return 0;
	}
	return 0;
}

/* --auth-mechanism M is --auth=M wherever it stands among the options:
 * a bare --auth after it ("authenticate") must not undo the choice. */
static int
apply_auth_mechanism(struct request *req, struct error *err)
{
	if (!req->auth_mechanism)
		return 0;
	if (req->auth && str_ieq(req->auth, "off"))
		return error_set(err, ERROR_USAGE,
		                 "--auth-mechanism cannot be given with "
		                 "--auth=off");
	req->auth = req->auth_mechanism;
	return 0;
}

/* ---- the interface ------------------------------------------------------- */

static const char *
base_name(const char *path)
{
	const char *slash = NULL;

	if (path == NULL || *path == '\0')
		return "mailpost";
	slash = strrchr(path, '/');
	return slash != NULL ? slash + 1 : path;
}

/* Whether standard input carries what this run reads: the message (or
 * the body of a composed one; not with --quit-after or --test), or -bs's
 * SMTP dialogue. */
static bool
reads_stdin(const struct request *req)
{
	if (req->mode == CLI_SERVE)
		return true;
	return req->mode == CLI_SEND && !req->body_text && !req->body_file &&
	       !req->quit_after_set && !req->test_message;
}

/* --password-fd N: checked before this process opens anything that could
 * take the number (a descriptor N that was not open would otherwise be
 * whatever mailpost opened there, a log file or a copy of a key), made
 * close-on-exec so that no child inherits it, and 0 moved out of the way
 * of standard input (which then reads /dev/null).  secret.c reads its
 * first line and closes it. */
static int
take_password_fd(struct request *req, struct error *err)
{
	int fd = req->password_fd, null_fd;

	if (!req->password_fd_given)
		return 0;
	if (fd == 1 || fd == 2)
		return error_set(
		    err, ERROR_USAGE,
		    "--password-fd %d is standard %s, where "
		    "mailpost writes; pass the password on another "
		    "descriptor (--password-fd 3 3<FILE)",
		    fd, fd == 1 ? "output" : "error");
	if (fd == 0 && reads_stdin(req))
		return error_set(err, ERROR_USAGE,
		                 "--password-fd 0 is standard input, which "
		                 "carries the message; pass the password on "
		                 "another descriptor (--password-fd 3 3<FILE)");
	if (fcntl(fd, F_GETFD) < 0)
		return error_set(
		    err, ERROR_USAGE,
		    "--password-fd %d is not an open descriptor; "
		    "open it for mailpost (--password-fd %d %d<FILE)",
		    fd, fd, fd);
	if (fd == 0) {
		fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
		null_fd = open("/dev/null", O_RDONLY);
		if (fd < 0 || null_fd < 0 || dup2(null_fd, 0) < 0)
			return error_set_errno(err, ERROR_OSERR, errno,
			                       "cannot move --password-fd 0");
		close(null_fd);
		req->password_fd = fd;
	} else if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		return error_set_errno(err, ERROR_OSERR, errno,
		                       "--password-fd %d", fd);
	}
	return 0;
}

/* The name we are called by sets the starting mode, as with sendmail. */
static enum cli_mode
mode_for_program(const char *program)
{
	if (strcmp(program, "mailq") == 0)
		return CLI_QUEUE_LIST;
	if (strcmp(program, "newaliases") == 0)
		return CLI_NOOP;
	return CLI_SEND;
}

int
cli_parse(int argc, char **argv, struct request *req, struct error *err)
{
	size_t n = 0;

	memset(req, 0, sizeof *req);
	req->program = base_name(argc > 0 ? argv[0] : NULL);
	req->mode = mode_for_program(req->program);
	req->msmtp = strcmp(req->program, "msmtp") == 0;
	req->dot_ends_input = true;
	req->rcpt_policy = RCPT_POLICY_UNSET;
	req->syslog = CONF_SYSLOG_UNSET;
	req->set_from_header = CONF_FROM_UNSET;
	/* At most argc - 1 of each list: one allocation each, no growing. */
	n = argc > 1 ? (size_t)argc : 1;
	req->rcpts = xcalloc(n, sizeof *req->rcpts);
	req->cc = xcalloc(n, sizeof *req->cc);
	req->bcc = xcalloc(n, sizeof *req->bcc);
	req->extra = xcalloc(n, sizeof *req->extra);
	req->attachments = xcalloc(n, sizeof *req->attachments);

	if (parse_words(argc, argv, req, err) < 0)
		goto fail;
	/* msmtp reads to the end of its input: a "." line is text. */
	if (req->msmtp)
		req->dot_ends_input = false;
	if (req->mode == CLI_HELP || req->mode == CLI_VERSION)
		return 0;
	if (apply_auth_mechanism(req, err) < 0)
		goto fail;
	/* Both only change the transcript: asking for them asks for it. */
	if ((req->timing || req->show_auth) && req->verbosity == 0)
		req->verbosity = 1;
	if (clicheck_request(req, err) < 0 || take_password_fd(req, err) < 0)
		goto fail;
	return 0;

fail:
	cli_clear(req);
	return -1;
}

void
cli_clear(struct request *req)
{
	const char *program = req->program;

	free(req->rcpts);
	free(req->cc);
	free(req->bcc);
	free(req->extra);
	free(req->attachments);
	free(req->sender_copy);
	free(req->from_copy);
	memset(req, 0, sizeof *req);
	req->program = program;
}
