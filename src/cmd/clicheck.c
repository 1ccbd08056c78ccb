/*
 * clicheck.c - the checks on the whole command line (see clicheck.h).
 */
#include "config.h"

#include "clicheck.h"

#include <string.h>

#include "address.h"
#include "util.h"

/* An address with a control byte, shown as written with the control
 * bytes escaped ("\x0d"), so that the user sees which one. */
static int
ctl_address(struct error *err, const char *what, const char *addr)
{
	char shown[1024];

	return error_set(err, ERROR_USAGE,
	                 "%s '%s' contains a control character", what,
	                 str_show(shown, sizeof shown, addr, 200));
}

static int
check_addresses(const char *const *v, size_t n, struct error *err)
{
	for (size_t k = 0; k < n; k++) {
		const char *r = v[k];

		if (*r == '\0')
			return error_set(err, ERROR_USAGE,
			                 "empty recipient address");
		if (str_has_ctl(r, strlen(r)))
			return ctl_address(err, "recipient", r);
	}
	return 0;
}

static int
check_recipients(const struct request *req, struct error *err)
{
	if (check_addresses(req->rcpts, req->nrcpts, err) < 0 ||
	    check_addresses(req->cc, req->ncc, err) < 0 ||
	    check_addresses(req->bcc, req->nbcc, err) < 0)
		return -1;
	return 0;
}

/* The composition options that only make sense together in one way. */
static int
check_compose(const struct request *req, struct error *err)
{
	if (req->body_text != NULL && req->body_file != NULL)
		return error_set(err, ERROR_USAGE,
		                 "--body and --body-file cannot be combined");
	if (req->read_recipients && (req->body_text || req->body_file))
		return error_set(err, ERROR_USAGE,
		                 "with -t the body comes from the message: "
		                 "--body and --body-file cannot be used");
	if (req->priority != MIME_PRIORITY_NONE && !req->compose)
		return error_set(err, ERROR_USAGE,
		                 "--priority applies to a composed message "
		                 "(with -s, -a, -H, ...)");
	return 0;
}

/* --read-envelope-from takes the sender from the message on standard
 * input: not with another sender, nor with a message composed here. */
static int
check_envelope_from(const struct request *req, struct error *err)
{
	if (!req->read_envelope_from)
		return 0;
	if (req->sender)
		return error_set(err, ERROR_USAGE,
		                 "--read-envelope-from cannot be combined with "
		                 "-f");
	if (req->compose)
		return error_set(err, ERROR_USAGE,
		                 "--read-envelope-from reads the From field of "
		                 "the message on standard input: it cannot be "
		                 "used when composing (-s, -a, --from, ...)");
	if (req->mode != CLI_SEND && req->mode != CLI_PRETEND)
		return error_set(err, ERROR_USAGE,
		                 "--read-envelope-from cannot be given with %s",
		                 request_mode_option(req->mode));
	return 0;
}

static bool
is_queue_mode(enum cli_mode mode)
{
	return mode == CLI_QUEUE_LIST || mode == CLI_QUEUE_FLUSH ||
	       mode == CLI_QUEUE_SHOW || mode == CLI_QUEUE_REMOVE;
}

/* The queue modes and -bs read no message from the command line: no
 * recipients, -t, composing or --dry-run (which would not stop a flush
 * from sending).  --queue says what becomes of a message being submitted,
 * so it belongs to sending and -bs; --dead-letter also to -q, which gives
 * up messages there; --queue-dir to everything that touches the queue. */
static int
check_mode(const struct request *req, size_t nrcpts, struct error *err)
{
	const char *mode = request_mode_option(req->mode);
	bool submits = req->mode == CLI_SEND || req->mode == CLI_SERVE;

	if (is_queue_mode(req->mode) || req->mode == CLI_SERVE ||
	    req->mode == CLI_SERVERINFO || req->mode == CLI_OAUTH2_LOGIN ||
	    req->mode == CLI_CONFIGURE) {
		if (req->mode == CLI_SERVERINFO && nrcpts > 0 &&
		    (nrcpts > 1 || req->nrcpts != 1))
			return error_set(err, ERROR_USAGE,
			                 "%s takes at most one argument: the "
			                 "domain (or an address at it) whose MX "
			                 "hosts direct delivery would use",
			                 mode);
		if (nrcpts > 0 && req->mode != CLI_SERVERINFO)
			return error_set(err, ERROR_USAGE,
			                 "recipients cannot be given with %s",
			                 mode);
		if (req->read_recipients)
			return error_set(err, ERROR_USAGE,
			                 "-t cannot be given with %s", mode);
		if (req->compose)
			return error_set(
			    err, ERROR_USAGE,
			    "options that compose a message cannot "
			    "be given with %s",
			    mode);
		if (req->dry_run)
			return error_set(err, ERROR_USAGE,
			                 "--dry-run cannot be given with %s",
			                 mode);
	}
	/* -bs speaks SMTP on stdout; --dry-run, --pretend and --quit-after
	 * send no message to report on; the queue listings have their own
	 * output. */
	if (req->json && req->mode != CLI_QUEUE_FLUSH &&
	    req->mode != CLI_HELP && req->mode != CLI_VERSION &&
	    (req->mode != CLI_SEND || req->dry_run || req->quit_after_set))
		return error_set(err, ERROR_USAGE,
		                 "--json cannot be given with %s; it goes with "
		                 "a send or -q",
		                 req->dry_run          ? "--dry-run"
		                 : req->quit_after_set ? "--quit-after"
		                                       : mode);
	if (req->queue != QUEUE_POLICY_UNSET && !submits)
		return error_set(err, ERROR_USAGE,
		                 "--queue cannot be given with %s", mode);
	if (req->dead_letter != NULL && !submits &&
	    req->mode != CLI_QUEUE_FLUSH)
		return error_set(err, ERROR_USAGE,
		                 "--dead-letter cannot be given with %s", mode);
	if (req->queue_dir != NULL && !submits && !is_queue_mode(req->mode))
		return error_set(err, ERROR_USAGE,
		                 "--queue-dir cannot be given with %s", mode);
	if (req->queue_due && req->mode != CLI_QUEUE_FLUSH)
		return error_set(err, ERROR_USAGE,
		                 "--due cannot be given with %s; it goes with "
		                 "-q or --flush",
		                 mode);
	return 0;
}

/* --quit-after sends no message and --test sends its own: neither reads
 * one (standard input, -t, composing), and --quit-after keeps nothing
 * (no queue). */
static int
check_testing(const struct request *req, size_t nrcpts, struct error *err)
{
	const char *opt = req->quit_after_set ? "--quit-after" : "--test";

	if (!req->quit_after_set && !req->test_message)
		return 0;
	if (req->quit_after_set && req->test_message)
		return error_set(err, ERROR_USAGE,
		                 "--quit-after and --test cannot be combined: "
		                 "--quit-after sends no message");
	if (req->mode != CLI_SEND)
		return error_set(err, ERROR_USAGE, "%s cannot be given with %s",
		                 opt, request_mode_option(req->mode));
	if (req->read_recipients || req->read_envelope_from)
		return error_set(err, ERROR_USAGE,
		                 "%s reads no message: -t and "
		                 "--read-envelope-from cannot be used",
		                 opt);
	if (req->compose)
		return error_set(err, ERROR_USAGE,
		                 "%s: the options that compose a message (-s, "
		                 "-a, -c, -b, --body, ...) cannot be used",
		                 opt);
	if (!req->quit_after_set)
		return 0;
	if (req->dry_run || req->queue != QUEUE_POLICY_UNSET)
		return error_set(err, ERROR_USAGE,
		                 "--quit-after sends and keeps no message: "
		                 "--dry-run and --queue cannot be used");
	if (req->quit_after >= SMTP_STEP_RCPT && nrcpts == 0)
		return error_set(err, ERROR_USAGE,
		                 "--quit-after %s needs a recipient to name in "
		                 "RCPT TO",
		                 smtp_step_name(req->quit_after));
	return 0;
}

/* A recipient is needed, except by --quit-after before RCPT. */
static bool
needs_recipients(const struct request *req)
{
	return req->mode == CLI_SEND && !req->read_recipients &&
	       !(req->quit_after_set && req->quit_after < SMTP_STEP_RCPT);
}

/* The modes that connect with the account's password: a send (its
 * --dry-run and --pretend show the source without reading it), -bs and
 * the smuggling test. */
static bool
takes_password(enum cli_mode mode)
{
	return mode == CLI_SEND || mode == CLI_SERVE || mode == CLI_PRETEND ||
	       mode == CLI_SMUGGLE_TEST;
}

/* At most one one-off password source, and only where a password is
 * used by this run's own account (a flush sends each entry with its
 * account's). */
static int
check_password_sources(const struct request *req, struct error *err)
{
	int given = (req->passwordeval != NULL) + req->password_fd_given +
	            (req->password_env != NULL);
	const char *option = req->passwordeval   ? "--passwordeval"
	                     : req->password_env ? "--password-env"
	                                         : "--password-fd";

	if (given == 0)
		return 0;
	if (given > 1)
		return error_set(err, ERROR_USAGE,
		                 "give one password source: --passwordeval, "
		                 "--password-fd or --password-env");
	if (req->mode == CLI_OAUTH2_LOGIN)
		return error_set(err, ERROR_USAGE,
		                 "%s cannot be given with --oauth2-login: the "
		                 "login uses no password",
		                 option);
	if (!takes_password(req->mode))
		return error_set(err, ERROR_USAGE,
		                 "%s cannot be given with %s: the messages it "
		                 "sends go with their account's password",
		                 option, request_mode_option(req->mode));
	return 0;
}

/* The smuggling test sends its probes as messages to one recipient,
 * through a server named on this command line: never to an account's
 * server unless named (each probe may be delivered, and a server that
 * takes one as an end of data runs what follows as commands). */
static int
check_smuggling_test(const struct request *req, size_t nrcpts,
                     struct error *err)
{
	if (req->mode != CLI_SMUGGLE_TEST)
		return 0;
	if (!req->host && !(req->socket && *req->socket))
		return error_set(err, ERROR_USAGE,
		                 "--smtp-smuggling-test probes only a server "
		                 "named on the command line: give --host HOST "
		                 "(or --socket FILE), even for the account's "
		                 "own server; its probes are test messages the "
		                 "server may deliver");
	if (nrcpts != 1 || req->ncc || req->nbcc || req->read_recipients)
		return error_set(
		    err, ERROR_USAGE,
		    "--smtp-smuggling-test sends its probes to one "
		    "recipient: name exactly one address (yours)");
	if (req->compose || req->dry_run)
		return error_set(err, ERROR_USAGE,
		                 "--smtp-smuggling-test writes its own test "
		                 "messages: composing options and --dry-run "
		                 "cannot be given with it");
	return 0;
}

/* --configure finds the server itself: an address to find it for, and
 * none of the options that name one. */
static int
check_configure(const struct request *req, struct error *err)
{
	const char *a = req->configure_address;
	const char *at;

	if (req->mode != CLI_CONFIGURE)
		return 0;
	if (str_has_ctl(a, strlen(a)))
		return ctl_address(err, "--configure address", a);
	at = strrchr(a, '@');
	/* It goes on the account's lines as one word (user, from). */
	if (!at || at == a || at[1] == '\0' || strchr(at + 1, '[') ||
	    strpbrk(a, " \t\"\\") || strlen(a) > ADDRESS_PATH_MAX - 2)
		return error_set(err, ERROR_USAGE,
		                 "--configure wants an address, user@domain, "
		                 "whose domain's submission server is to be "
		                 "found; '%s' is not one",
		                 a);
	if (req->host || req->port || req->socket || req->proxy_host ||
	    req->account)
		return error_set(err, ERROR_USAGE,
		                 "--configure finds the server itself: --host, "
		                 "--port, --socket, --proxy-host and --account "
		                 "cannot be given with it (-C FILE names the "
		                 "configuration whose defaults give the "
		                 "resolver and the trust)");
	return 0;
}

int
clicheck_request(const struct request *req, struct error *err)
{
	size_t nrcpts = req->nrcpts + req->ncc + req->nbcc;

	if (req->sender != NULL &&
	    str_has_ctl(req->sender, strlen(req->sender)))
		return ctl_address(err, "sender", req->sender);
	if (req->full_name != NULL &&
	    str_has_ctl(req->full_name, strlen(req->full_name)))
		return error_set(err, ERROR_USAGE,
		                 "full name '%s' contains a control character",
		                 req->full_name);
	if (check_recipients(req, err) < 0 || check_compose(req, err) < 0 ||
	    check_envelope_from(req, err) < 0 ||
	    check_testing(req, nrcpts, err) < 0 ||
	    check_password_sources(req, err) < 0)
		return -1;
	if (check_smuggling_test(req, nrcpts, err) < 0 ||
	    check_configure(req, err) < 0)
		return -1;
	if (needs_recipients(req) && nrcpts == 0)
		return error_set(err, ERROR_USAGE,
		                 "no recipients given (name them, or use -t to "
		                 "read them from the message)");
	if (req->oauth2_flow != CLI_OAUTH2_FLOW_UNSET &&
	    req->mode != CLI_OAUTH2_LOGIN)
		return error_set(err, ERROR_USAGE,
		                 "--oauth2-flow goes with --oauth2-login");
	if (req->connect && req->mode != CLI_PRETEND)
		return error_set(err, ERROR_USAGE,
		                 "--connect goes with --check-config: the "
		                 "checks, then a probe of the server (alone, "
		                 "use --serverinfo)");
	return check_mode(req, nrcpts, err);
}
