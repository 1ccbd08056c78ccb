/*
 * cli.c - the command line (see cli.h).
 *
 * sendmail's syntax does not fit getopt: callers put options after the
 * recipients (GNU-style permutation), sendmail's -o and -b take their
 * argument glued to the letter (-oi, -odi, -bp), -q takes an optional one
 * that is glued (-q, -qf), except that its selections -qI, -qR and -qS may
 * take theirs from the next word, and -- turns every later word into a
 * recipient.  So the parser is written by hand around one table
 * (cliopt.c): each option names its letter and/or long name, whether it
 * takes an argument, and the small function that applies it; this file
 * cuts the words and says what is wrong with an unknown or incomplete
 * one.  Checks that need the whole
 * command line (recipients present, what each mode takes, control
 * characters) run afterwards, in clicheck.c; the --help text is
 * clihelp.c's.
 */
#include "config.h"

#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clicheck.h"
#include "cliopt.h"
#include "envelope.h"
#include "util.h"

/* Longer words are not typos of an option name (the longest is 23). */
#define SUGGEST_LEN_MAX 32
#define IGNORED_VALUE "a value (accepted and ignored, as sendmail does)"

/* ---- the word loop ------------------------------------------------------- */

struct cursor {
	int argc;
	char **argv;
	int i; /* the word being read */
};

/* The option with this letter (name NULL) or long name in table t. */
static const struct cliopt *
find_in(const struct cliopt *t, size_t n, char c, const char *name, size_t len)
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

static const struct cliopt *
find_option(const struct request *req, char c, const char *name, size_t len)
{
	const struct cliopt *o = NULL;
	const struct cliopt *t = NULL;
	size_t n = 0;

	if (req->msmtp) {
		t = cliopt_table(true, &n);
		o = find_in(t, n, c, name, len);
	}
	t = cliopt_table(false, &n);
	return o != NULL ? o : find_in(t, n, c, name, len);
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
 * under the name msmtp (see cliopt_table). */
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
	size_t n = 0;
	const struct cliopt *options = cliopt_table(false, &n);

	for (size_t k = 0; k < n; k++) {
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

/* -q (option o) and what follows it in the word; a selection letter
 * alone (-qI, -qR, -qS) takes the next word, as sendmail allows. */
static int
parse_queue(struct cursor *c, struct request *req, const struct cliopt *o,
            const char *rest, struct error *err)
{
	const char *match = NULL;

	if (rest[0] == '\0' || rest[1] != '\0' ||
	    strchr("IRS", rest[0]) == NULL)
		return o->apply(req, rest, err);
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
	return cliopt_queue_select(req, rest[0], match, err);
}

/* One word of short options: "-t", "-ti", "-FCronDaemon", "-f" "addr". */
static int
parse_short(struct cursor *c, struct request *req, struct error *err)
{
	const char *word = c->argv[c->i];

	for (size_t j = 1; word[j] != '\0'; j++) {
		const struct cliopt *o = find_option(req, word[j], NULL, 0);
		const char *arg = NULL;

		if (o == NULL && check_refused(req, word[j], NULL, 0, err) < 0)
			return -1;
		if (o == NULL)
			return error_set(err, ERROR_USAGE,
			                 "unknown option '-%c'; see 'mailpost "
			                 "--help'",
			                 word[j]);
		if (o->arg == CLIOPT_NONE) {
			if (o->apply(req, NULL, err) < 0)
				return -1;
			continue;
		}
		if (o->arg == CLIOPT_QUEUE)
			return parse_queue(c, req, o, word + j + 1, err);
		if (o->arg == CLIOPT_GLUED)
			arg = word + j + 1;
		else
			arg = take_argument(c, word + j + 1);
		if (arg == NULL)
			return missing_argument(req, word[j], err);
		if (o->arg == CLIOPT_MODE_OR_ADDR && word[j + 1] == '\0')
			return cliopt_b_word(req, arg, err);
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
	const struct cliopt *o = find_option(req, 0, name, len);
	const char *arg = NULL;

	if (o == NULL && (check_password_option(name, len, err) < 0 ||
	                  check_refused(req, 0, name, len, err) < 0))
		return -1;
	if (o == NULL)
		return unknown_long(name, len, err);
	if (o->arg == CLIOPT_NONE) {
		if (eq != NULL)
			return error_set(err, ERROR_USAGE,
			                 "option '--%s' takes no argument",
			                 o->long_name);
		return o->apply(req, NULL, err);
	}
	/* --tls=off, never "--tls off": "off" could be a recipient. */
	if (o->arg == CLIOPT_OPTIONAL)
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
