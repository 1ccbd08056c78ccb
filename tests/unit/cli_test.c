/*
 * cli_test.c - the command line parser, table-driven: each case is an argv
 * and either the complete request it must produce (every field) or the
 * exact usage error.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cli.h"
#include "clihelp.h"
#include "unit.h"
#include "util.h"

#define MAX_ARGS 24
#define MAX_RCPTS 8

/* The request a case must produce.  Zero means "unset", so a case only
 * spells out what differs from a bare "sendmail RCPT"; ignore_dots is the
 * inverse of dot_ends_input for the same reason. */
struct want {
	enum cli_mode mode;
	const char *program; /* NULL: "sendmail" */
	const char *sender;
	const char *full_name;
	bool read_recipients;
	bool ignore_dots;
	int verbosity;
	const char *config_file;
	const char *account;
	const char *host;
	int port;
	int timeout;
	const char *domain;
	enum rcpt_policy rcpt_policy;
	const char *dsn_notify;
	const char *dsn_return;
	const char *dsn_envid;
	enum cli_switch tls, tls_starttls, tls_certcheck;
	const char *tls_trust_file, *tls_crl_file, *tls_fingerprint;
	const char *tls_cert_file, *tls_key_file, *tls_priorities;
	const char *tls_host_override;
	const char *auth, *user;
	enum queue_policy queue;
	const char *queue_dir, *dead_letter;
	char queue_select;
	const char *queue_match;
	bool queue_due;
	const char *rcpts[MAX_RCPTS];
	/* composing */
	bool compose;
	const char *subject;
	struct mime_attachment attachments[MAX_RCPTS]; /* path NULL: end */
	const char *cc[MAX_RCPTS];
	const char *bcc[MAX_RCPTS];
	const char *extra[MAX_RCPTS];
	const char *body_text, *body_file, *html_file;
	const char *from, *from_name, *reply_to;
	enum mime_priority priority;
	bool dry_run, quiet;
	/* probing */
	bool serverinfo, peer_cert, connect;
	const char *peer_cert_file;
	enum cli_oauth2_flow oauth2_flow;
};

struct cli_case {
	const char *argv[MAX_ARGS]; /* NULL-terminated */
	const char *error;          /* NULL: must parse; else the message */
	struct want want;
};

#define SM "sendmail"
/* A SHA-256 fingerprint, with and without colons. */
static const char FP_COLONS[] =
    "C8:F1:FF:7A:01:67:99:86:00:D5:EA:93:31:EC:93:FC:"
    "7A:DF:CB:E9:08:22:6A:28:B8:99:91:59:F0:4C:4E:C3";
static const char FP_BARE[] =
    "c8f1ff7a0167998600d5ea9331ec93fc7adfcbe908226a28b8999159f04c4ec3";

static const struct cli_case cases[] = {
    /* ---- what real callers pass, verbatim ---- */
    {{SM, "-i", "-FCronDaemon", "-B8BITMIME", "-oem", "user"},
     NULL,
     {.full_name = "CronDaemon", .ignore_dots = true, .rcpts = {"user"}}},
    {{SM, "-FCronDaemon", "-i", "-odi", "-oem", "-oi", "-t", "-f", "root"},
     NULL,
     {.full_name = "CronDaemon",
      .ignore_dots = true,
      .read_recipients = true,
      .sender = "root"}},
    {{SM, "-t", "-i"}, NULL, {.read_recipients = true, .ignore_dots = true}},
    {{SM, "-i", "a@x", "b@y"},
     NULL,
     {.ignore_dots = true, .rcpts = {"a@x", "b@y"}}},
    {{SM, "-oem", "-oi", "--", "a@x"},
     NULL,
     {.ignore_dots = true, .rcpts = {"a@x"}}},
    {{SM, "-i", "--", "-weird@x"},
     NULL,
     {.ignore_dots = true, .rcpts = {"-weird@x"}}},

    /* ---- word order ---- */
    {{SM, "a@x"}, NULL, {.rcpts = {"a@x"}}},
    {{SM, "a@x", "-t", "b@y", "-f", "s@x", "c@z"},
     NULL,
     {.read_recipients = true,
      .sender = "s@x",
      .rcpts = {"a@x", "b@y", "c@z"}}},
    {{SM, "--", "-t", "-i", "--", "--help"},
     NULL,
     {.rcpts = {"-t", "-i", "--", "--help"}}},
    {{SM, "-", "a@x"}, NULL, {.rcpts = {"-", "a@x"}}},

    /* ---- clusters and glued arguments ---- */
    {{SM, "-ti"}, NULL, {.read_recipients = true, .ignore_dots = true}},
    {{SM, "-it"}, NULL, {.read_recipients = true, .ignore_dots = true}},
    {{SM, "-tv"}, NULL, {.read_recipients = true, .verbosity = 1}},
    {{SM, "-vv", "a@x"}, NULL, {.verbosity = 2, .rcpts = {"a@x"}}},
    {{SM, "-v", "--verbose", "-vtv"},
     NULL,
     {.verbosity = 4, .read_recipients = true}},
    {{SM, "-tfuser@x"}, NULL, {.read_recipients = true, .sender = "user@x"}},
    {{SM, "-tf", "user@x", "a@x"},
     NULL,
     {.read_recipients = true, .sender = "user@x", .rcpts = {"a@x"}}},
    {{SM, "-F", "Cron Daemon", "a@x"},
     NULL,
     {.full_name = "Cron Daemon", .rcpts = {"a@x"}}},
    {{SM, "-F", "", "a@x"}, NULL, {.full_name = "", .rcpts = {"a@x"}}},

    /* ---- the envelope sender ---- */
    {{SM, "-fuser@x", "a@x"}, NULL, {.sender = "user@x", .rcpts = {"a@x"}}},
    {{SM, "-f", "user@x", "a@x"}, NULL, {.sender = "user@x", .rcpts = {"a@x"}}},
    {{SM, "-r", "user@x", "a@x"}, NULL, {.sender = "user@x", .rcpts = {"a@x"}}},
    {{SM, "-f", "", "a@x"}, NULL, {.sender = "", .rcpts = {"a@x"}}},
    {{SM, "-f", "<>", "a@x"}, NULL, {.sender = "", .rcpts = {"a@x"}}},
    {{SM, "-f<>", "a@x"}, NULL, {.sender = "", .rcpts = {"a@x"}}},
    {{SM, "-f", "<a@b>", "a@x"}, NULL, {.sender = "a@b", .rcpts = {"a@x"}}},
    {{SM, "-f", "<a@b>", "-f", "<c@d>", "a@x"},
     NULL,
     {.sender = "c@d", .rcpts = {"a@x"}}},
    {{SM, "-f", "<a@b>", "-r", "e@f", "a@x"},
     NULL,
     {.sender = "e@f", .rcpts = {"a@x"}}},
    {{SM, "-f", "<a@b", "a@x"}, NULL, {.sender = "<a@b", .rcpts = {"a@x"}}},
    {{SM, "-f", "-t", "a@x"}, NULL, {.sender = "-t", .rcpts = {"a@x"}}},

    /* ---- -i and sendmail's -o ---- */
    {{SM, "-oi", "a@x"}, NULL, {.ignore_dots = true, .rcpts = {"a@x"}}},
    {{SM, "-o", "i", "a@x"}, NULL, {.ignore_dots = true, .rcpts = {"a@x"}}},
    {{SM, "-odi", "-odb", "-odq", "-ods", "-oem", "-oep", "-oee", "-oew", "-om",
      "-oA/etc/aliases", "a@x"},
     NULL,
     {.rcpts = {"a@x"}}},

    /* ---- accepted and ignored ---- */
    {{SM,    "-B",    "7BIT",     "-B8BITMIME", "-L",
      "tag", "-Ltag", "-U",       "-m",         "-n",
      "-G",  "-X",    "/tmp/log", "-h",         "17",
      "-h5", "-p",    "smtp",     "-O",         "DeliveryMode=b",
      "a@x"},
     NULL,
     {.rcpts = {"a@x"}}},
    {{SM, "-Umn", "a@x"}, NULL, {.rcpts = {"a@x"}}},

    /* ---- configuration and server ---- */
    {{SM, "-C", "/etc/x.conf", "-A", "work", "a@x"},
     NULL,
     {.config_file = "/etc/x.conf", .account = "work", .rcpts = {"a@x"}}},
    {{SM, "-C/etc/x.conf", "-Awork", "a@x"},
     NULL,
     {.config_file = "/etc/x.conf", .account = "work", .rcpts = {"a@x"}}},
    {{SM, "--file=f", "--account=work", "a@x"},
     NULL,
     {.config_file = "f", .account = "work", .rcpts = {"a@x"}}},
    {{SM, "--file", "f", "--account", "work", "a@x"},
     NULL,
     {.config_file = "f", .account = "work", .rcpts = {"a@x"}}},
    {{SM, "--host=mx.example.org", "--port=2525", "--timeout=30",
      "--domain=me.example", "--rcpt-policy=any", "a@x"},
     NULL,
     {.host = "mx.example.org",
      .port = 2525,
      .timeout = 30,
      .domain = "me.example",
      .rcpt_policy = RCPT_POLICY_ANY,
      .rcpts = {"a@x"}}},
    {{SM, "--host", "h", "--port", "1", "--timeout", "2147483", "--domain", "d",
      "--rcpt-policy", "all", "a@x"},
     NULL,
     {.host = "h",
      .port = 1,
      .timeout = 2147483,
      .domain = "d",
      .rcpt_policy = RCPT_POLICY_ALL,
      .rcpts = {"a@x"}}},
    {{SM, "--port=65535", "--read-recipients"},
     NULL,
     {.port = 65535, .read_recipients = true}},

    /* ---- transport security and authentication ---- */
    {{SM, "--tls", "--tls-starttls", "--tls-certcheck", "--auth", "a@x"},
     NULL,
     {.tls = CLI_ON,
      .tls_starttls = CLI_ON,
      .tls_certcheck = CLI_ON,
      .auth = "on",
      .rcpts = {"a@x"}}},
    {{SM, "--tls=off", "--tls-starttls=OFF", "--tls-certcheck=off",
      "--auth=off", "a@x"},
     NULL,
     {.tls = CLI_OFF,
      .tls_starttls = CLI_OFF,
      .tls_certcheck = CLI_OFF,
      .auth = "off",
      .rcpts = {"a@x"}}},
    /* An optional value is only ever glued: "off" here is a recipient. */
    {{SM, "--tls", "off"}, NULL, {.tls = CLI_ON, .rcpts = {"off"}}},
    {{SM, "--tls=on", "--tls=off", "a@x"},
     NULL,
     {.tls = CLI_OFF, .rcpts = {"a@x"}}},
    {{SM, "--tls-trust-file=/etc/ca.pem", "--tls-crl-file", "crl.pem",
      "--tls-cert-file=c.pem", "--tls-key-file=k.pem",
      "--tls-priorities=NORMAL:-VERS-TLS1.2", "--tls-host-override=mx.example",
      "a@x"},
     NULL,
     {.tls_trust_file = "/etc/ca.pem",
      .tls_crl_file = "crl.pem",
      .tls_cert_file = "c.pem",
      .tls_key_file = "k.pem",
      .tls_priorities = "NORMAL:-VERS-TLS1.2",
      .tls_host_override = "mx.example",
      .rcpts = {"a@x"}}},
    {{SM, "--tls-trust-file=",
      "--tls-fingerprint=C8:F1:FF:7A:01:67:99:86:00:D5:EA:93:31:EC:93:FC:"
      "7A:DF:CB:E9:08:22:6A:28:B8:99:91:59:F0:4C:4E:C3",
      "a@x"},
     NULL,
     {.tls_trust_file = "", .tls_fingerprint = FP_COLONS, .rcpts = {"a@x"}}},
    {{SM, "--tls-fingerprint", FP_BARE, "a@x"},
     NULL,
     {.tls_fingerprint = FP_BARE, .rcpts = {"a@x"}}},
    {{SM, "--auth=SCRAM-SHA-256", "--user=alice@example.org", "a@x"},
     NULL,
     {.auth = "SCRAM-SHA-256", .user = "alice@example.org", .rcpts = {"a@x"}}},
    {{SM, "--auth=xoauth2", "--user", "bob", "a@x"},
     NULL,
     {.auth = "xoauth2", .user = "bob", .rcpts = {"a@x"}}},
    {{SM, "--tls=yes", "a@x"}, "invalid --tls 'yes' (expected on or off)", {}},
    {{SM, "--tls=", "a@x"}, "invalid --tls '' (expected on or off)", {}},
    {{SM, "--tls-certcheck=no", "a@x"},
     "invalid --tls-certcheck 'no' (expected on or off)",
     {}},
    {{SM, "--tls-starttls=1", "a@x"},
     "invalid --tls-starttls '1' (expected on or off)",
     {}},
    {{SM, "--tls-fingerprint=AB:CD", "a@x"},
     "invalid --tls-fingerprint 'AB:CD' (expected the SHA-256 digest as 32 "
     "hex pairs, e.g. AB:CD:...)",
     {}},
    {{SM, "--tls-crl-file=", "a@x"}, "invalid --tls-crl-file ''", {}},
    {{SM, "--tls-host-override=a b", "a@x"},
     "invalid --tls-host-override 'a b'",
     {}},
    {{SM, "--tls-key-file=k\npem", "a@x"},
     "invalid --tls-key-file 'k?pem'",
     {}},
    {{SM, "--user=", "a@x"}, "invalid --user ''", {}},
    {{SM, "--user=a\rb", "a@x"}, "invalid --user 'a?b'", {}},
    {{SM, "--auth=md5", "a@x"},
     "invalid --auth 'md5' (expected on, off or a mechanism: plain, login, "
     "scram-sha-256, scram-sha-1, cram-md5, external, gssapi, oauthbearer, "
     "xoauth2, ntlm, digest-md5)",
     {}},
    {{SM, "a@x", "--tls-trust-file"},
     "option '--tls-trust-file' needs an argument",
     {}},
    /* Never a password on the command line: argv is public. */
    {{SM, "--password=x", "a@x"},
     "there is no --password option: a command line is visible to every "
     "user (ps) and stays in the shell's history; use --passwordeval CMD, "
     "--password-fd N or --password-env VAR",
     {}},
    {{SM, "--password", "a@x"},
     "there is no --password option: a command line is visible to every "
     "user (ps) and stays in the shell's history; use --passwordeval CMD, "
     "--password-fd N or --password-env VAR",
     {}},
    {{SM, "--passwordeval", "", "a@x"},
     "invalid --passwordeval: give a command that prints the password (one "
     "line, no control characters)",
     {}},
    {{SM, "--password-env=A", "--password-fd=4", "a@x"},
     "give one password source: --passwordeval, --password-fd or "
     "--password-env",
     {}},
    {{SM, "--smtp-smuggling-test", "a@x"},
     "--smtp-smuggling-test probes only a server named on the command line: "
     "give --host HOST (or --socket FILE), even for the account's own "
     "server; its probes are test messages the server may deliver",
     {}},

    /* ---- called as msmtp: msmtp's meanings where the letters differ,
     * and a "." line never ends the input ---- */
    {{"msmtp", "-a", "work", "bob@x"},
     NULL,
     {.program = "msmtp",
      .account = "work",
      .ignore_dots = true,
      .rcpts = {"bob@x"}}},
    {{"msmtp", "--from=alice@x", "-d", "-t"},
     NULL,
     {.program = "msmtp",
      .sender = "alice@x",
      .verbosity = 1,
      .read_recipients = true,
      .ignore_dots = true}},
    {{"msmtp", "-P"},
     NULL,
     {.program = "msmtp", .mode = CLI_PRETEND, .ignore_dots = true}},
    {{"msmtp", "--account=work", "--dsn-notify=failure", "--dsn-return",
      "headers", "--timeout=off", "b@x"},
     NULL,
     {.program = "msmtp",
      .account = "work",
      .dsn_notify = "failure",
      .dsn_return = "hdrs",
      .timeout = -1,
      .ignore_dots = true,
      .rcpts = {"b@x"}}},
    {{"msmtp", "-S", "-a", "work"},
     NULL,
     {.program = "msmtp",
      .mode = CLI_SERVERINFO,
      .serverinfo = true,
      .account = "work",
      .ignore_dots = true}},
    {{"msmtp", "--rmqs=x.example"},
     "msmtp's option --rmqs is not supported: mailpost asks no server to "
     "start its queue (ETRN)",
     {}},
    {{"msmtp", "-y", "b@x"}, "unknown option '-y'; see 'mailpost --help'", {}},
    {{"msmtp", "--read-envelope-from", "-f", "a@x", "b@x"},
     "--read-envelope-from cannot be combined with -f",
     {}},
    {{"msmtp", "--read-envelope-from", "-s", "x", "b@x"},
     "--read-envelope-from reads the From field of the message on standard "
     "input: it cannot be used when composing (-s, -a, --from, ...)",
     {}},
    /* Under mailpost's names the letters keep their meanings; msmtp's
     * long options that do not collide are taken too. */
    {{SM, "-S", "b@x"}, "unknown option '-S'; see 'mailpost --help'", {}},
    {{SM, "-P", "b@x"}, "unknown option '-P'; see 'mailpost --help'", {}},
    {{SM, "--pretend", "--debug"}, NULL, {.mode = CLI_PRETEND, .verbosity = 1}},
    {{SM, "--serverinfo", "--host", "mx.example"},
     NULL,
     {.mode = CLI_SERVERINFO, .serverinfo = true, .host = "mx.example"}},
    {{SM, "--tls-get-peer-cert"},
     NULL,
     {.mode = CLI_SERVERINFO, .peer_cert = true}},
    {{SM, "--tls-get-peer-cert=c.pem", "--serverinfo"},
     NULL,
     {.mode = CLI_SERVERINFO,
      .serverinfo = true,
      .peer_cert = true,
      .peer_cert_file = "c.pem"}},
    {{SM, "--tls-get-peer-cert="}, "invalid --tls-get-peer-cert ''", {}},
    {{SM, "--check-config", "--connect"},
     NULL,
     {.mode = CLI_PRETEND, .connect = true}},
    {{"msmtp", "--connect", "-P"},
     NULL,
     {.program = "msmtp",
      .mode = CLI_PRETEND,
      .connect = true,
      .ignore_dots = true}},
    {{SM, "--connect", "b@x"},
     "--connect goes with --check-config: the checks, then a probe of the "
     "server (alone, use --serverinfo)",
     {}},
    {{SM, "--serverinfo", "-t"}, "-t cannot be given with --serverinfo", {}},
    /* --oauth2-login: a mode with its flow, no message. */
    {{SM, "--oauth2-login", "-A", "work"},
     NULL,
     {.mode = CLI_OAUTH2_LOGIN, .account = "work"}},
    {{SM, "--oauth2-flow=browser", "--oauth2-login"},
     NULL,
     {.mode = CLI_OAUTH2_LOGIN, .oauth2_flow = CLI_OAUTH2_FLOW_BROWSER}},
    {{SM, "--oauth2-login", "--oauth2-flow", "device"},
     NULL,
     {.mode = CLI_OAUTH2_LOGIN, .oauth2_flow = CLI_OAUTH2_FLOW_DEVICE}},
    {{SM, "--oauth2-flow=device", "b@x"},
     "--oauth2-flow goes with --oauth2-login",
     {}},
    {{SM, "--oauth2-login", "--oauth2-flow=Device"},
     "invalid --oauth2-flow 'Device' (expected device or browser)",
     {}},
    {{SM, "--oauth2-login", "b@x"},
     "recipients cannot be given with --oauth2-login",
     {}},
    {{SM, "--oauth2-login", "-s", "x"},
     "options that compose a message cannot be given with --oauth2-login",
     {}},
    {{SM, "--oauth2-login", "--dry-run"},
     "--dry-run cannot be given with --oauth2-login",
     {}},
    {{SM, "--oauth2-login", "-q"},
     "-q cannot be combined with --oauth2-login",
     {}},
    {{SM, "--oauth2-login", "--passwordeval", "x"},
     "--passwordeval cannot be given with --oauth2-login: the login uses no "
     "password",
     {}},
    {{SM, "--serverinfo", "-bs"},
     "-bs cannot be combined with --serverinfo",
     {}},
    {{SM, "-bp", "--tls-get-peer-cert"},
     "--tls-get-peer-cert cannot be combined with -bp",
     {}},
    {{SM, "--protocol=pop3", "b@x"},
     "invalid --protocol 'pop3' (expected smtp or lmtp)",
     {}},
    {{SM, "--syslog=LOG_KERN", "b@x"},
     "invalid --syslog 'LOG_KERN' (expected on, off, LOG_USER, LOG_MAIL or "
     "LOG_LOCAL0 to LOG_LOCAL7)",
     {}},
    {{SM, "--set-date-header=on", "b@x"},
     "invalid --set-date-header 'on' (expected auto or off)",
     {}},

    /* ---- DSN ---- */
    {{SM, "-N", "never", "-R", "full", "-V", "id-1", "a@x"},
     NULL,
     {.dsn_notify = "never",
      .dsn_return = "full",
      .dsn_envid = "id-1",
      .rcpts = {"a@x"}}},
    {{SM, "-Nsuccess,failure,delay", "-Rhdrs", "-VQ123", "a@x"},
     NULL,
     {.dsn_notify = "success,failure,delay",
      .dsn_return = "hdrs",
      .dsn_envid = "Q123",
      .rcpts = {"a@x"}}},
    {{SM, "-N", "FAILURE,Delay", "-R", "HDRS", "a@x"},
     NULL,
     {.dsn_notify = "FAILURE,Delay", .dsn_return = "HDRS", .rcpts = {"a@x"}}},

    /* ---- modes ---- */
    {{SM, "-bm", "a@x"}, NULL, {.rcpts = {"a@x"}}},
    {{SM, "-b", "m", "a@x"}, NULL, {.rcpts = {"a@x"}}},
    {{SM, "-bp"}, NULL, {.mode = CLI_QUEUE_LIST}},
    {{SM, "-bm", "-bp"}, NULL, {.mode = CLI_QUEUE_LIST}},
    {{SM, "-bp", "-bp", "-v"}, NULL, {.mode = CLI_QUEUE_LIST, .verbosity = 1}},
    {{SM, "-bp", "-q"}, NULL, {.mode = CLI_QUEUE_LIST}},
    {{SM, "-bi"}, NULL, {.mode = CLI_NOOP}},
    {{SM, "-q"}, NULL, {.mode = CLI_QUEUE_FLUSH}},
    {{SM, "-qIid", "-qf", "-v"},
     NULL,
     {.mode = CLI_QUEUE_FLUSH,
      .verbosity = 1,
      .queue_select = 'I',
      .queue_match = "id"}},
    {{SM, "-vq"}, NULL, {.mode = CLI_QUEUE_FLUSH, .verbosity = 1}},
    {{SM, "-bs"}, NULL, {.mode = CLI_SERVE}},
    {{SM, "-b", "s"}, NULL, {.mode = CLI_SERVE}},
    {{SM, "-bs", "-bs", "-v"}, NULL, {.mode = CLI_SERVE, .verbosity = 1}},
    {{SM, "--help"}, NULL, {.mode = CLI_HELP}},
    {{SM, "a@x", "--help", "--bogus"},
     NULL,
     {.mode = CLI_HELP, .rcpts = {"a@x"}}},
    {{SM, "--version"}, NULL, {.mode = CLI_VERSION}},
    {{SM, "-bp", "--version"}, NULL, {.mode = CLI_VERSION}},

    /* ---- program names ---- */
    {{"mailq"}, NULL, {.mode = CLI_QUEUE_LIST, .program = "mailq"}},
    {{"/usr/bin/mailq", "-v", "-bp"},
     NULL,
     {.mode = CLI_QUEUE_LIST, .program = "mailq", .verbosity = 1}},
    {{"newaliases"}, NULL, {.mode = CLI_NOOP, .program = "newaliases"}},
    {{"/usr/bin/newaliases", "-v", "x"},
     NULL,
     {.mode = CLI_NOOP,
      .program = "newaliases",
      .verbosity = 1,
      .rcpts = {"x"}}},
    {{"/usr/sbin/sendmail", "-t"}, NULL, {.read_recipients = true}},
    {{"mailpost", "a@x"}, NULL, {.program = "mailpost", .rcpts = {"a@x"}}},
    {{"./mailq2", "a@x"}, NULL, {.program = "mailq2", .rcpts = {"a@x"}}},

    /* ---- unknown options and missing arguments ---- */
    {{SM, "-x", "a@x"}, "unknown option '-x'; see 'mailpost --help'", {}},
    {{SM, "-tx", "a@x"}, "unknown option '-x'; see 'mailpost --help'", {}},
    {{SM, "-e", "a@x"}, "unknown option '-e'; see 'mailpost --help'", {}},
    {{SM, "-d0.1", "a@x"}, "unknown option '-d'; see 'mailpost --help'", {}},
    {{SM, "a@x", "--bogus"},
     "unknown option '--bogus'; see 'mailpost --help'",
     {}},
    {{SM, "--bogus=1", "a@x"},
     "unknown option '--bogus'; see 'mailpost --help'",
     {}},
    {{SM, "--ver", "a@x"}, "unknown option '--ver'; see 'mailpost --help'", {}},
    {{SM, "-x", "--help"}, "unknown option '-x'; see 'mailpost --help'", {}},
    /* A typo in a long option: the nearest name, when it is near. */
    {{SM, "--hepl"}, "unknown option '--hepl'; did you mean '--help'?", {}},
    {{SM, "--verbos", "a@x"},
     "unknown option '--verbos'; did you mean '--verbose'?",
     {}},
    {{SM, "--tls-trustfile=f", "a@x"},
     "unknown option '--tls-trustfile'; did you mean '--tls-trust-file'?",
     {}},
    {{SM, "--subjet", "x", "a@x"},
     "unknown option '--subjet'; did you mean '--subject'?",
     {}},
    {{"msmtp", "--acount=w", "a@x"},
     "unknown option '--acount'; did you mean '--account'?",
     {}},
    /* Too far from every name, or too short to judge: no guess. */
    {{SM, "--xyzzy", "a@x"},
     "unknown option '--xyzzy'; see 'mailpost --help'",
     {}},
    {{SM, "--hx", "a@x"}, "unknown option '--hx'; see 'mailpost --help'", {}},
    /* A letter without its argument says what the argument is. */
    {{SM, "a@x", "-f"}, "-f needs an envelope sender; write -f ADDRESS", {}},
    {{SM, "a@x", "-tf"}, "-f needs an envelope sender; write -f ADDRESS", {}},
    {{SM, "a@x", "-r"}, "-r needs an envelope sender; write -r ADDRESS", {}},
    {{SM, "a@x", "-F"},
     "-F needs the sender's full name; write -F 'FULL NAME'",
     {}},
    {{SM, "a@x", "-C"}, "-C needs a configuration file; write -C FILE", {}},
    {{SM, "a@x", "-A"}, "-A needs an account name; write -A ACCOUNT", {}},
    {{SM, "a@x", "-N"},
     "-N needs when to ask for delivery status notifications; write -N "
     "never or -N success,failure,delay",
     {}},
    {{SM, "a@x", "-R"},
     "-R needs what a bounce returns; write -R full or -R hdrs",
     {}},
    {{SM, "a@x", "-V"}, "-V needs a DSN envelope id; write -V ENVID", {}},
    {{SM, "a@x", "-s"}, "-s needs a subject; write -s SUBJECT", {}},
    {{SM, "a@x", "-a"},
     "-a needs a file to attach; write -a FILE (called as msmtp, -a "
     "ACCOUNT)",
     {}},
    {{SM, "a@x", "-c"}, "-c needs a Cc address; write -c ADDRESS", {}},
    {{SM, "a@x", "-H"}, "-H needs a header field; write -H 'NAME: VALUE'", {}},
    {{SM, "a@x", "-o"},
     "-o needs a sendmail option; write it glued, as in -oi",
     {}},
    {{SM, "a@x", "-b"},
     "-b needs a mode; write -bm (send), -bp (list the queue), -bs (SMTP "
     "on standard input) or -bi",
     {}},
    {{SM, "a@x", "-O"},
     "-O needs a value (accepted and ignored, as sendmail does); write "
     "-O OPTION=VALUE",
     {}},
    {{SM, "a@x", "-B"},
     "-B needs a value (accepted and ignored, as sendmail does); write "
     "-B TYPE",
     {}},
    {{SM, "a@x", "-L"},
     "-L needs a value (accepted and ignored, as sendmail does); write "
     "-L TAG",
     {}},
    {{SM, "a@x", "-X"},
     "-X needs a value (accepted and ignored, as sendmail does); write "
     "-X FILE",
     {}},
    {{SM, "a@x", "-h"},
     "-h needs a value (accepted and ignored, as sendmail does); write "
     "-h HOPS",
     {}},
    {{SM, "a@x", "-p"},
     "-p needs a value (accepted and ignored, as sendmail does); write "
     "-p PROTOCOL",
     {}},
    /* Called as msmtp, -a and -X are msmtp's. */
    {{"msmtp", "a@x", "-a"},
     "-a needs an account name; write -a ACCOUNT (called as msmtp)",
     {}},
    {{"msmtp", "a@x", "-X"},
     "-X needs a log file; write -X FILE (called as msmtp)",
     {}},
    {{"msmtp", "a@x", "-f"},
     "-f needs an envelope sender; write -f ADDRESS",
     {}},
    {{SM, "a@x", "--host"}, "option '--host' needs an argument", {}},
    {{SM, "a@x", "--account"}, "option '--account' needs an argument", {}},
    {{SM, "a@x", "--file"}, "option '--file' needs an argument", {}},
    {{SM, "a@x", "--port"}, "option '--port' needs an argument", {}},
    {{SM, "a@x", "--timeout"}, "option '--timeout' needs an argument", {}},
    {{SM, "a@x", "--domain"}, "option '--domain' needs an argument", {}},
    {{SM, "a@x", "--rcpt-policy"},
     "option '--rcpt-policy' needs an argument",
     {}},
    {{SM, "--verbose=2", "a@x"}, "option '--verbose' takes no argument", {}},
    {{SM, "--help=x"}, "option '--help' takes no argument", {}},

    /* ---- values ---- */
    {{SM, "--port=0", "a@x"}, "invalid --port '0' (expected 1 to 65535)", {}},
    {{SM, "--port=65536", "a@x"},
     "invalid --port '65536' (expected 1 to 65535)",
     {}},
    {{SM, "--port=-1", "a@x"}, "invalid --port '-1' (expected 1 to 65535)", {}},
    {{SM, "--port= 25", "a@x"},
     "invalid --port ' 25' (expected 1 to 65535)",
     {}},
    {{SM, "--port=", "a@x"}, "invalid --port '' (expected 1 to 65535)", {}},
    {{SM, "--port=smtp", "a@x"},
     "invalid --port 'smtp' (expected 1 to 65535)",
     {}},
    {{SM, "--timeout=0", "a@x"},
     "invalid --timeout '0' (expected seconds, 1 to 2147483)",
     {}},
    {{SM, "--timeout=99999999999999999999", "a@x"},
     "invalid --timeout '99999999999999999999' (expected seconds, 1 to "
     "2147483)",
     {}},
    {{SM, "--timeout=1m", "a@x"},
     "invalid --timeout '1m' (expected seconds, 1 to 2147483)",
     {}},
    {{SM, "--rcpt-policy=some", "a@x"},
     "invalid --rcpt-policy 'some' (expected all or any)",
     {}},
    {{SM, "--rcpt-policy=ALL", "a@x"},
     "invalid --rcpt-policy 'ALL' (expected all or any)",
     {}},
    {{SM, "--host=", "a@x"}, "invalid --host ''", {}},
    {{SM, "--host=a b", "a@x"}, "invalid --host 'a b'", {}},
    {{SM, "--host=a\r\nb", "a@x"}, "invalid --host 'a??b'", {}},
    {{SM, "--domain=x\r\nQUIT", "a@x"}, "invalid --domain 'x??QUIT'", {}},
    {{SM, "-C", "", "a@x"}, "option '-C' needs a file name", {}},
    {{SM, "--file=", "a@x"}, "option '-C' needs a file name", {}},
    {{SM, "--account=", "a@x"}, "option '--account' needs an account name", {}},
    {{SM, "-N", "never,success", "a@x"},
     "invalid -N 'never,success' (expected never, or a comma list of "
     "success, failure, delay)",
     {}},
    {{SM, "-N", "success,,delay", "a@x"},
     "invalid -N 'success,,delay' (expected never, or a comma list of "
     "success, failure, delay)",
     {}},
    {{SM, "-N", "", "a@x"},
     "invalid -N '' (expected never, or a comma list of success, failure, "
     "delay)",
     {}},
    {{SM, "-N", "success,", "a@x"},
     "invalid -N 'success,' (expected never, or a comma list of success, "
     "failure, delay)",
     {}},
    {{SM, "-R", "all", "a@x"}, "invalid -R 'all' (expected full or hdrs)", {}},
    {{SM, "-V", "", "a@x"},
     "invalid -V '' (expected 1 to 100 printable characters, no spaces)",
     {}},
    {{SM, "-V", "a b", "a@x"},
     "invalid -V 'a b' (expected 1 to 100 printable characters, no spaces)",
     {}},
    {{SM, "-V",
      "0123456789012345678901234567890123456789012345678901234567890123456"
      "789012345678901234567890123456789X",
      "a@x"},
     "invalid -V '0123456789012345678901234567890123456789012345678901234567"
     "890123456789012345678901234567890123456789X' (expected 1 to 100 "
     "printable characters, no spaces)",
     {}},

    /* ---- modes that do not exist here, and collisions ---- */
    {{SM, "-bd"}, "-bd is not supported", {}},
    {{SM, "-bt"}, "-bt is not supported", {}},
    {{SM, "-bv", "a@x"}, "-bv is not supported", {}},
    {{SM, "-bD"}, "-bD is not supported", {}},
    {{SM, "-bP"}, "-bP is not supported", {}},
    {{SM, "-bx"}, "-bx is not supported", {}},
    {{SM, "-bmm", "a@x"}, "-bmm is not supported", {}},
    {{SM, "-bp", "-bi"}, "-bi cannot be combined with -bp", {}},
    {{SM, "-q", "-bp"}, "-bp cannot be combined with -q", {}},
    {{SM, "-bi", "-q"}, "-q cannot be combined with -bi", {}},
    {{SM, "-q", "-bm"}, "-bm cannot be combined with -q", {}},
    {{"mailq", "-bm", "a@x"}, "-bm cannot be combined with -bp", {}},
    {{"newaliases", "-bp"}, "-bp cannot be combined with -bi", {}},
    {{SM, "-bp", "a@x"}, "recipients cannot be given with -bp", {}},
    {{"mailq", "a@x"}, "recipients cannot be given with -bp", {}},
    {{SM, "-q", "a@x"}, "recipients cannot be given with -q", {}},

    /* ---- checks after parsing ---- */
    {{SM},
     "no recipients given (name them, or use -t to read them from "
     "the message)",
     {}},
    {{SM, "-i", "-f", "a@x", "--"},
     "no recipients given (name them, or use -t to read them from the "
     "message)",
     {}},
    {{"mailpost", "-bm"},
     "no recipients given (name them, or use -t to read them from the "
     "message)",
     {}},
    {{SM, "-f", "a@x\r\nRCPT TO:<evil@x>", "b@y"},
     "sender 'a@x\\x0d\\x0aRCPT TO:<evil@x>' contains a control character",
     {}},
    {{SM, "-f", "a\tb@x", "b@y"},
     "sender 'a\\x09b@x' contains a control character",
     {}},
    {{SM, "-f", "<a@x\n>", "b@y"},
     "sender 'a@x\\x0a' contains a control character",
     {}},
    {{SM, "a@x", "b@y\n"},
     "recipient 'b@y\\x0a' contains a control character",
     {}},
    {{SM, "--", "a\x7f@x"},
     "recipient 'a\\x7f@x' contains a control character",
     {}},
    {{SM, "a@x", ""}, "empty recipient address", {}},
    {{SM, "-t", "--", ""}, "empty recipient address", {}},
    {{SM, "-F", "Eve\nBcc: x@y", "a@x"},
     "full name 'Eve?Bcc: x@y' contains a control character",
     {}},

    /* ---- composing (mailx) ---- */
    {{SM, "-s", "Q3 report", "-a", "q3.pdf", "-a", "data.csv", "bob@x"},
     NULL,
     {.compose = true,
      .subject = "Q3 report",
      .attachments = {{.path = "q3.pdf"}, {.path = "data.csv"}},
      .rcpts = {"bob@x"}}},
    {{SM, "-sHi", "-aq3.pdf", "bob@x"},
     NULL,
     {.compose = true,
      .subject = "Hi",
      .attachments = {{.path = "q3.pdf"}},
      .rcpts = {"bob@x"}}},
    {{SM, "--subject=S", "--attach", "f", "--attach-type=application/pdf",
      "--attach-name", "report.pdf", "-a", "g", "--attach-name=g.txt", "b@x"},
     NULL,
     {.compose = true,
      .subject = "S",
      .attachments =
          {{.path = "f", .type = "application/pdf", .name = "report.pdf"},
           {.path = "g", .name = "g.txt"}},
      .rcpts = {"b@x"}}},
    /* A file name may hold anything; the overrides are separate options. */
    {{SM, "-a", "a;type=x/y", "b@x"},
     NULL,
     {.compose = true,
      .attachments = {{.path = "a;type=x/y"}},
      .rcpts = {"b@x"}}},
    {{SM, "-c", "c1@x", "--cc=c2@x", "-cc3@x", "to@x"},
     NULL,
     {.compose = true, .cc = {"c1@x", "c2@x", "c3@x"}, .rcpts = {"to@x"}}},
    {{SM, "-c", "c@x"}, NULL, {.compose = true, .cc = {"c@x"}}},
    {{SM, "-H", "X-Tag: 1", "--header=X-Other: 2", "-HX-Glued: 3", "a@x"},
     NULL,
     {.compose = true,
      .extra = {"X-Tag: 1", "X-Other: 2", "X-Glued: 3"},
      .rcpts = {"a@x"}}},
    {{SM, "--body", "hello", "a@x"},
     NULL,
     {.compose = true, .body_text = "hello", .rcpts = {"a@x"}}},
    {{SM, "--body=", "a@x"},
     NULL,
     {.compose = true, .body_text = "", .rcpts = {"a@x"}}},
    {{SM, "--body-file=b.txt", "--html", "b.html", "a@x"},
     NULL,
     {.compose = true,
      .body_file = "b.txt",
      .html_file = "b.html",
      .rcpts = {"a@x"}}},
    {{SM, "--from", "me@x", "--reply-to=r@x", "a@x"},
     NULL,
     {.compose = true, .from = "me@x", .reply_to = "r@x", .rcpts = {"a@x"}}},
    {{SM, "--from", "Alice Example <alice@x>", "a@x"},
     NULL,
     {.compose = true,
      .from = "alice@x",
      .from_name = "Alice Example",
      .rcpts = {"a@x"}}},
    {{SM, "--from", "\"Doe, Jane\"  <jane@x>", "a@x"},
     NULL,
     {.compose = true,
      .from = "jane@x",
      .from_name = "Doe, Jane",
      .rcpts = {"a@x"}}},
    {{SM, "--from=<me@x>", "--from", "N <n@x>", "a@x"},
     NULL,
     {.compose = true, .from = "n@x", .from_name = "N", .rcpts = {"a@x"}}},
    {{SM, "--from=<me@x>", "a@x"},
     NULL,
     {.compose = true, .from = "me@x", .rcpts = {"a@x"}}},
    {{SM, "-f", "bounce@x", "--from=me@x", "a@x"},
     NULL,
     {.compose = true, .sender = "bounce@x", .from = "me@x", .rcpts = {"a@x"}}},
    {{SM, "-s", "x", "--priority", "high", "a@x"},
     NULL,
     {.compose = true,
      .subject = "x",
      .priority = MIME_PRIORITY_HIGH,
      .rcpts = {"a@x"}}},
    {{SM, "-s", "x", "--priority=LOW", "--priority=normal", "a@x"},
     NULL,
     {.compose = true,
      .subject = "x",
      .priority = MIME_PRIORITY_NORMAL,
      .rcpts = {"a@x"}}},
    {{SM, "-s", "x", "--priority=low", "a@x"},
     NULL,
     {.compose = true,
      .subject = "x",
      .priority = MIME_PRIORITY_LOW,
      .rcpts = {"a@x"}}},
    /* --dry-run, --print and --quiet do not start composing. */
    {{SM, "--dry-run", "--quiet", "a@x"},
     NULL,
     {.dry_run = true, .quiet = true, .rcpts = {"a@x"}}},
    {{SM, "--print", "-t"}, NULL, {.dry_run = true, .read_recipients = true}},
    /* -t with composing: stdin stays a message; -a adds to it. */
    {{SM, "-t", "-a", "log.txt", "-s", "S"},
     NULL,
     {.compose = true,
      .read_recipients = true,
      .subject = "S",
      .attachments = {{.path = "log.txt"}}}},
    /* Clustered flags before a composing option. */
    {{SM, "-ts", "S"},
     NULL,
     {.compose = true, .read_recipients = true, .subject = "S"}},

    /* ---- -b: mode letter, or Bcc address ---- */
    {{SM, "-b", "bob", "a@x"},
     NULL,
     {.compose = true, .bcc = {"bob"}, .rcpts = {"a@x"}}},
    {{SM, "-b", "bob@x", "-bcarol@x", "--bcc=m", "--bcc", "p", "a@x"},
     NULL,
     {.compose = true,
      .bcc = {"bob@x", "carol@x", "m", "p"},
      .rcpts = {"a@x"}}},
    {{SM, "-b", "bob@x"}, NULL, {.compose = true, .bcc = {"bob@x"}}},
    /* A separate word that is not a mode letter: an address. */
    {{SM, "-b", "mm", "a@x"},
     NULL,
     {.compose = true, .bcc = {"mm"}, .rcpts = {"a@x"}}},
    {{SM, "-b", "z", "a@x"},
     NULL,
     {.compose = true, .bcc = {"z"}, .rcpts = {"a@x"}}},
    {{SM, "-tb", "bob"},
     NULL,
     {.compose = true, .read_recipients = true, .bcc = {"bob"}}},
    /* A mode letter is a mode, glued or not, even mixed with addresses. */
    {{SM, "-b", "m", "-b", "x@y"}, NULL, {.compose = true, .bcc = {"x@y"}}},
    {{SM, "-bm", "-bm@x", "a@x"},
     NULL,
     {.compose = true, .bcc = {"m@x"}, .rcpts = {"a@x"}}},
    {{SM, "-b", "p"}, NULL, {.mode = CLI_QUEUE_LIST}},
    {{SM, "-b", "i"}, NULL, {.mode = CLI_NOOP}},
    {{SM, "-b", "t"}, "-bt is not supported", {}},
    {{SM, "-b", "D"}, "-bD is not supported", {}},
    {{SM, "-b", "x"}, "-bx is not supported", {}},
    {{SM, "-bz", "a@x"}, "-bz is not supported", {}},
    {{SM, "-bbob", "a@x"}, "-bbob is not supported", {}},
    {{SM, "-bp", "-b", "bob@x"}, "recipients cannot be given with -bp", {}},
    {{SM, "-b", ""}, "empty recipient address", {}},
    {{SM, "-b", "a@x\n"},
     "recipient 'a@x\\x0a' contains a control character",
     {}},

    /* ---- composing: errors ---- */
    {{SM, "--body=a", "--body-file=f", "a@x"},
     "--body and --body-file cannot be combined",
     {}},
    {{SM, "-t", "--body=a"},
     "with -t the body comes from the message: --body and --body-file "
     "cannot be used",
     {}},
    {{SM, "-t", "--body-file=f"},
     "with -t the body comes from the message: --body and --body-file "
     "cannot be used",
     {}},
    {{SM, "-s", "x", "--priority=urgent", "a@x"},
     "invalid --priority 'urgent' (expected high, normal or low)",
     {}},
    {{SM, "-s", "x", "--priority=", "a@x"},
     "invalid --priority '' (expected high, normal or low)",
     {}},
    {{SM, "--priority=high", "a@x"},
     "--priority applies to a composed message (with -s, -a, -H, ...)",
     {}},
    {{SM, "--attach-type=text/plain", "-a", "f", "a@x"},
     "--attach-type must follow an -a FILE",
     {}},
    {{SM, "--attach-name=n", "a@x"},
     "--attach-name must follow an -a FILE",
     {}},
    {{SM, "-a", "f", "--attach-name=n", "--attach-name=m", "a@x"},
     "--attach-name given twice for -a 'f'",
     {}},
    {{SM, "-a", "f", "--attach-type=a/b", "--attach-type=c/d", "a@x"},
     "--attach-type given twice for -a 'f'",
     {}},
    {{SM, "-a", "f", "--attach-type=pdf", "a@x"},
     "invalid --attach-type 'pdf' (expected type/subtype, e.g. "
     "application/pdf)",
     {}},
    {{SM, "-a", "f", "--attach-type=text/plain; charset=x", "a@x"},
     "invalid --attach-type 'text/plain; charset=x' (expected type/subtype, "
     "e.g. application/pdf)",
     {}},
    {{SM, "-a", "f", "--attach-type=a/b/c", "a@x"},
     "invalid --attach-type 'a/b/c' (expected type/subtype, e.g. "
     "application/pdf)",
     {}},
    {{SM, "-a", "f", "--attach-name=", "a@x"},
     "option '--attach-name' needs a name",
     {}},
    {{SM, "-a", "", "a@x"}, "option '-a' needs a file name", {}},
    {{SM, "--body-file=", "a@x"}, "option '--body-file' needs a file name", {}},
    {{SM, "--html=", "a@x"}, "option '--html' needs a file name", {}},
    {{SM, "--from=", "a@x"}, "invalid --from ''", {}},
    {{SM, "--from=Name <>", "a@x"}, "invalid --from 'Name <>'", {}},
    {{SM, "--from=a@x\r\nBcc: e@x", "a@x"},
     "--from 'a@x??Bcc: e@x' contains a control character",
     {}},
    {{SM, "--reply-to=", "a@x"}, "invalid --reply-to ''", {}},
    {{SM, "--reply-to=r@x\n", "a@x"}, "invalid --reply-to 'r@x?'", {}},
    {{SM, "-c", "", "a@x"}, "empty recipient address", {}},
    {{SM, "-c", "c@x\r"},
     "recipient 'c@x\\x0d' contains a control character",
     {}},
    {{SM, "-s", "x"},
     "no recipients given (name them, or use -t to read them from the "
     "message)",
     {}},
    {{SM, "a@x", "--bcc"}, "option '--bcc' needs an argument", {}},
    {{SM, "a@x", "--body"}, "option '--body' needs an argument", {}},
    {{SM, "a@x", "--from"}, "option '--from' needs an argument", {}},
    {{SM, "a@x", "--priority"}, "option '--priority' needs an argument", {}},
    {{SM, "--dry-run=yes", "a@x"}, "option '--dry-run' takes no argument", {}},

    /* ---- the queue: flushing and selecting ---- */
    {{SM, "-qf"}, NULL, {.mode = CLI_QUEUE_FLUSH}},
    {{SM, "--flush"}, NULL, {.mode = CLI_QUEUE_FLUSH}},
    {{SM, "--flush", "-q", "-qf"}, NULL, {.mode = CLI_QUEUE_FLUSH}},
    {{SM, "-qI0123abcd"},
     NULL,
     {.mode = CLI_QUEUE_FLUSH, .queue_select = 'I', .queue_match = "0123abcd"}},
    {{SM, "-qI", "0123abcd"},
     NULL,
     {.mode = CLI_QUEUE_FLUSH, .queue_select = 'I', .queue_match = "0123abcd"}},
    {{SM, "-qRexample.org"},
     NULL,
     {.mode = CLI_QUEUE_FLUSH,
      .queue_select = 'R',
      .queue_match = "example.org"}},
    {{SM, "-qR", "bob@example.org"},
     NULL,
     {.mode = CLI_QUEUE_FLUSH,
      .queue_select = 'R',
      .queue_match = "bob@example.org"}},
    {{SM, "-qSroot"},
     NULL,
     {.mode = CLI_QUEUE_FLUSH, .queue_select = 'S', .queue_match = "root"}},
    {{SM, "-qS", "-weird"},
     NULL,
     {.mode = CLI_QUEUE_FLUSH, .queue_select = 'S', .queue_match = "-weird"}},
    /* a selection letter ending a cluster takes the next word too */
    {{SM, "-vqR", "x.org"},
     NULL,
     {.mode = CLI_QUEUE_FLUSH,
      .verbosity = 1,
      .queue_select = 'R',
      .queue_match = "x.org"}},
    {{SM, "--flush", "-qSroot", "-v"},
     NULL,
     {.mode = CLI_QUEUE_FLUSH,
      .verbosity = 1,
      .queue_select = 'S',
      .queue_match = "root"}},
    {{SM, "-qII"},
     NULL,
     {.mode = CLI_QUEUE_FLUSH, .queue_select = 'I', .queue_match = "I"}},
    {{SM, "-q", "--queue-dir=/var/spool/mailpost", "-C", "/etc/m.conf"},
     NULL,
     {.mode = CLI_QUEUE_FLUSH,
      .queue_dir = "/var/spool/mailpost",
      .config_file = "/etc/m.conf"}},
    {{SM, "-A", "work", "-q"},
     NULL,
     {.mode = CLI_QUEUE_FLUSH, .account = "work"}},
    /* with -bp (mailq) a selection says what to list */
    {{SM, "-bp", "-qRexample.org"},
     NULL,
     {.mode = CLI_QUEUE_LIST,
      .queue_select = 'R',
      .queue_match = "example.org"}},
    {{"mailq", "-qS", "root", "--queue-dir", "/q"},
     NULL,
     {.mode = CLI_QUEUE_LIST,
      .program = "mailq",
      .queue_select = 'S',
      .queue_match = "root",
      .queue_dir = "/q"}},
    {{SM, "-bp", "--flush"}, NULL, {.mode = CLI_QUEUE_LIST}},
    /* --due: the back-off schedule, for timers; with a selection too */
    {{SM, "-q", "--due"}, NULL, {.mode = CLI_QUEUE_FLUSH, .queue_due = true}},
    {{SM, "--due", "--flush"},
     NULL,
     {.mode = CLI_QUEUE_FLUSH, .queue_due = true}},
    {{SM, "--due", "-qRx"},
     NULL,
     {.mode = CLI_QUEUE_FLUSH,
      .queue_select = 'R',
      .queue_match = "x",
      .queue_due = true}},
    {{SM, "--due", "a@x"},
     "--due cannot be given with -bm; it goes with -q or --flush",
     {}},
    {{SM, "-bp", "--due"},
     "--due cannot be given with -bp; it goes with -q or --flush",
     {}},
    {{SM, "--queue-show", "0123456789abcdef", "--due"},
     "--due cannot be given with --queue-show; it goes with -q or --flush",
     {}},
    {{SM, "-bs", "--due"},
     "--due cannot be given with -bs; it goes with -q or --flush",
     {}},
    {{SM, "--due=1", "-q"}, "option '--due' takes no argument", {}},
    {{SM, "-q15m"},
     "mailpost does not run as a daemon: run 'mailpost -q --due' from cron or "
     "a "
     "systemd timer (see mailpost(1))",
     {}},
    {{SM, "-q1h"},
     "mailpost does not run as a daemon: run 'mailpost -q --due' from cron or "
     "a "
     "systemd timer (see mailpost(1))",
     {}},
    {{SM, "-q30s"},
     "mailpost does not run as a daemon: run 'mailpost -q --due' from cron or "
     "a "
     "systemd timer (see mailpost(1))",
     {}},
    {{SM, "-qp"},
     "mailpost does not run as a daemon: run 'mailpost -q --due' from cron or "
     "a "
     "systemd timer (see mailpost(1))",
     {}},
    {{SM, "-qp5m"},
     "mailpost does not run as a daemon: run 'mailpost -q --due' from cron or "
     "a "
     "systemd timer (see mailpost(1))",
     {}},
    {{SM, "-bp", "-q1h"},
     "mailpost does not run as a daemon: run 'mailpost -q --due' from cron or "
     "a "
     "systemd timer (see mailpost(1))",
     {}},
    {{SM, "-q!Iabc"},
     "-q!Iabc is not supported: a queue selection cannot be negated",
     {}},
    {{SM, "-q!R", "x"},
     "-q!R is not supported: a queue selection cannot be negated",
     {}},
    {{SM, "-qQ"}, "-qQ is not supported", {}},
    {{SM, "-qL"}, "-qL is not supported", {}},
    {{SM, "-qGgroup"}, "-qGgroup is not supported", {}},
    {{SM, "-qv"}, "-qv is not supported", {}},
    {{SM, "-qff"}, "-qff is not supported", {}},
    {{SM, "-qI"}, "-qI needs part of a queue id to match; write -qI TEXT", {}},
    {{SM, "-v", "-qR"},
     "-qR needs part of a recipient to match; write -qR TEXT",
     {}},
    {{SM, "-qS"}, "-qS needs part of the sender to match; write -qS TEXT", {}},
    {{SM, "-qS", ""}, "option '-qS' needs a non-empty argument", {}},
    {{SM, "-qI", "a\r\nb"}, "invalid -qI 'a??b' (control character)", {}},
    {{SM, "-qIa", "-qIb"},
     "only one queue selection (-qI, -qR, -qS, --queue-show or "
     "--queue-remove) may be given",
     {}},
    {{SM, "-qRa", "-qS", "b"},
     "only one queue selection (-qI, -qR, -qS, --queue-show or "
     "--queue-remove) may be given",
     {}},
    {{SM, "--flush=1"}, "option '--flush' takes no argument", {}},
    {{SM, "-q", "-t"}, "-t cannot be given with -q", {}},
    {{SM, "-q", "-s", "x"},
     "options that compose a message cannot be given with -q",
     {}},
    {{SM, "-q", "--from=a@x"},
     "options that compose a message cannot be given with -q",
     {}},
    {{SM, "-q", "--dry-run"}, "--dry-run cannot be given with -q", {}},
    {{SM, "-q", "-c", "a@x"}, "recipients cannot be given with -q", {}},
    {{SM, "-bp", "-t"}, "-t cannot be given with -bp", {}},
    {{SM, "-q", "--queue=always"}, "--queue cannot be given with -q", {}},
    {{SM, "-q", "--dead-letter=off"},
     NULL,
     {.mode = CLI_QUEUE_FLUSH, .dead_letter = "off"}},
    {{SM, "-qRx", "--dead-letter", "/var/mail/dead"},
     NULL,
     {.mode = CLI_QUEUE_FLUSH,
      .queue_select = 'R',
      .queue_match = "x",
      .dead_letter = "/var/mail/dead"}},
    {{SM, "-bp", "--dead-letter=off"},
     "--dead-letter cannot be given with -bp",
     {}},
    {{SM, "-bi", "--dead-letter=off"},
     "--dead-letter cannot be given with -bi",
     {}},
    {{"mailq", "--queue=never"}, "--queue cannot be given with -bp", {}},

    /* ---- the queue: one entry ---- */
    {{SM, "--queue-show", "6650a1b2c3d4e5f6"},
     NULL,
     {.mode = CLI_QUEUE_SHOW,
      .queue_select = 'I',
      .queue_match = "6650a1b2c3d4e5f6"}},
    {{SM, "--queue-show=x", "-v"},
     NULL,
     {.mode = CLI_QUEUE_SHOW,
      .verbosity = 1,
      .queue_select = 'I',
      .queue_match = "x"}},
    {{SM, "--queue-remove", "6650a1b2c3d4e5f6", "--queue-dir=/q"},
     NULL,
     {.mode = CLI_QUEUE_REMOVE,
      .queue_select = 'I',
      .queue_match = "6650a1b2c3d4e5f6",
      .queue_dir = "/q"}},
    {{SM, "--queue-show="}, "option '--queue-show' needs a queue id", {}},
    {{SM, "--queue-remove", ""},
     "option '--queue-remove' needs a queue id",
     {}},
    {{SM, "--queue-show"}, "option '--queue-show' needs an argument", {}},
    {{SM, "--queue-show=a", "--queue-show=b"},
     "only one queue selection (-qI, -qR, -qS, --queue-show or "
     "--queue-remove) may be given",
     {}},
    {{SM, "--queue-show=a", "--queue-remove=a"},
     "--queue-remove cannot be combined with --queue-show",
     {}},
    {{SM, "--queue-remove=a", "-q"},
     "-q cannot be combined with --queue-remove",
     {}},
    {{SM, "-q", "--queue-show=a"},
     "--queue-show cannot be combined with -q",
     {}},
    {{SM, "-bp", "--queue-show=a"},
     "--queue-show cannot be combined with -bp",
     {}},
    {{SM, "--queue-show=a", "b@x"},
     "recipients cannot be given with --queue-show",
     {}},
    {{SM, "--queue-remove=a", "--body=x"},
     "options that compose a message cannot be given with --queue-remove",
     {}},
    {{SM, "--queue-remove=a", "--dead-letter=f"},
     "--dead-letter cannot be given with --queue-remove",
     {}},

    /* ---- the queue: policy, directory, dead letters ---- */
    {{SM, "--queue=never", "a@x"},
     NULL,
     {.queue = QUEUE_NEVER, .rcpts = {"a@x"}}},
    {{SM, "--queue", "on-failure", "a@x"},
     NULL,
     {.queue = QUEUE_ON_FAILURE, .rcpts = {"a@x"}}},
    {{SM, "--queue=never", "--queue=always", "-t"},
     NULL,
     {.queue = QUEUE_ALWAYS, .read_recipients = true}},
    {{SM, "--queue-dir=/var/spool/mailpost", "--dead-letter=off", "a@x"},
     NULL,
     {.queue_dir = "/var/spool/mailpost",
      .dead_letter = "off",
      .rcpts = {"a@x"}}},
    {{SM, "--dead-letter", "/var/mail/dead", "-s", "s", "a@x"},
     NULL,
     {.dead_letter = "/var/mail/dead",
      .compose = true,
      .subject = "s",
      .rcpts = {"a@x"}}},
    {{SM, "--queue=sometimes", "a@x"},
     "invalid --queue 'sometimes' (expected never, on-failure or always)",
     {}},
    {{SM, "--queue=Never", "a@x"},
     "invalid --queue 'Never' (expected never, on-failure or always)",
     {}},
    {{SM, "--queue=", "a@x"},
     "invalid --queue '' (expected never, on-failure or always)",
     {}},
    {{SM, "a@x", "--queue"}, "option '--queue' needs an argument", {}},
    {{SM, "--queue-dir=", "a@x"}, "invalid --queue-dir ''", {}},
    {{SM, "--queue-dir=/q\n", "a@x"}, "invalid --queue-dir '/q?'", {}},
    {{SM, "--dead-letter=", "a@x"}, "invalid --dead-letter ''", {}},
    {{SM, "--queue-dir=/q", "-bi"}, "--queue-dir cannot be given with -bi", {}},

    /* ---- -bs: SMTP on standard input ---- */
    {{SM, "-bs", "--queue=always", "--dead-letter=off", "--queue-dir=/q", "-A",
      "work", "-f", "s@x"},
     NULL,
     {.mode = CLI_SERVE,
      .queue = QUEUE_ALWAYS,
      .dead_letter = "off",
      .queue_dir = "/q",
      .account = "work",
      .sender = "s@x"}},
    {{SM, "-bs", "-oi", "-odi"},
     NULL,
     {.mode = CLI_SERVE, .ignore_dots = true}},
    {{SM, "-bs", "a@x"}, "recipients cannot be given with -bs", {}},
    {{SM, "-bs", "-t"}, "-t cannot be given with -bs", {}},
    {{SM, "-bs", "-s", "x"},
     "options that compose a message cannot be given with -bs",
     {}},
    {{SM, "-bs", "--dry-run"}, "--dry-run cannot be given with -bs", {}},
    {{SM, "-bs", "-bp"}, "-bp cannot be combined with -bs", {}},
    {{SM, "-q", "-bs"}, "-bs cannot be combined with -q", {}},
    {{"mailq", "-bs"}, "-bs cannot be combined with -bp", {}},
    {{SM, "-bs", "-q"}, "-q cannot be combined with -bs", {}},
};

#define NCASES (sizeof cases / sizeof cases[0])

static void
check_list(const char *const *got, size_t ngot, const char *const *want)
{
	size_t nwant = 0;

	while (nwant < MAX_RCPTS && want[nwant] != NULL)
		nwant++;
	CHECK_INT(ngot, nwant);
	for (size_t k = 0; k < nwant && k < ngot; k++)
		CHECK_STR(got[k], want[k]);
}

static void
check_attachments(const struct request *r, const struct want *w)
{
	size_t nwant = 0;

	while (nwant < MAX_RCPTS && w->attachments[nwant].path != NULL)
		nwant++;
	CHECK_INT(r->nattachments, nwant);
	for (size_t k = 0; k < nwant && k < r->nattachments; k++) {
		CHECK_STR(r->attachments[k].path, w->attachments[k].path);
		CHECK_STR(r->attachments[k].type, w->attachments[k].type);
		CHECK_STR(r->attachments[k].name, w->attachments[k].name);
	}
}

static void
check_compose(const struct request *r, const struct want *w)
{
	CHECK_INT(r->compose, w->compose);
	CHECK_STR(r->subject, w->subject);
	check_attachments(r, w);
	check_list(r->cc, r->ncc, w->cc);
	check_list(r->bcc, r->nbcc, w->bcc);
	check_list(r->extra, r->nextra, w->extra);
	CHECK_STR(r->body_text, w->body_text);
	CHECK_STR(r->body_file, w->body_file);
	CHECK_STR(r->html_file, w->html_file);
	CHECK_STR(r->from, w->from);
	CHECK_STR(r->from_name, w->from_name);
	CHECK_STR(r->reply_to, w->reply_to);
	CHECK_INT(r->priority, w->priority);
	CHECK_INT(r->dry_run, w->dry_run);
	CHECK_INT(r->quiet, w->quiet);
	CHECK_INT(r->serverinfo, w->serverinfo);
	CHECK_INT(r->peer_cert, w->peer_cert);
	CHECK_INT(r->connect, w->connect);
	CHECK_STR(r->peer_cert_file, w->peer_cert_file);
	CHECK_INT(r->oauth2_flow, w->oauth2_flow);
}

static void
check_request(const struct request *r, const struct want *w)
{
	size_t nwant = 0;

	CHECK_INT(r->mode, w->mode);
	CHECK_STR(r->program, w->program != NULL ? w->program : SM);
	CHECK_STR(r->sender, w->sender);
	CHECK_STR(r->full_name, w->full_name);
	CHECK_INT(r->read_recipients, w->read_recipients);
	CHECK_INT(r->dot_ends_input, !w->ignore_dots);
	CHECK_INT(r->verbosity, w->verbosity);
	CHECK_STR(r->config_file, w->config_file);
	CHECK_STR(r->account, w->account);
	CHECK_STR(r->host, w->host);
	CHECK_INT(r->port, w->port);
	CHECK_INT(r->timeout, w->timeout);
	CHECK_STR(r->domain, w->domain);
	CHECK_INT(r->rcpt_policy, w->rcpt_policy);
	CHECK_STR(r->dsn_notify, w->dsn_notify);
	CHECK_STR(r->dsn_return, w->dsn_return);
	CHECK_STR(r->dsn_envid, w->dsn_envid);
	CHECK_INT(r->tls, w->tls);
	CHECK_INT(r->tls_starttls, w->tls_starttls);
	CHECK_INT(r->tls_certcheck, w->tls_certcheck);
	CHECK_STR(r->tls_trust_file, w->tls_trust_file);
	CHECK_STR(r->tls_crl_file, w->tls_crl_file);
	CHECK_STR(r->tls_fingerprint, w->tls_fingerprint);
	CHECK_STR(r->tls_cert_file, w->tls_cert_file);
	CHECK_STR(r->tls_key_file, w->tls_key_file);
	CHECK_STR(r->tls_priorities, w->tls_priorities);
	CHECK_STR(r->tls_host_override, w->tls_host_override);
	CHECK_STR(r->auth, w->auth);
	CHECK_STR(r->user, w->user);
	CHECK_INT(r->queue, w->queue);
	CHECK_STR(r->queue_dir, w->queue_dir);
	CHECK_STR(r->dead_letter, w->dead_letter);
	CHECK_INT(r->queue_select, w->queue_select);
	CHECK_STR(r->queue_match, w->queue_match);
	CHECK_INT(r->queue_due, w->queue_due);
	while (nwant < MAX_RCPTS && w->rcpts[nwant] != NULL)
		nwant++;
	CHECK_INT(r->nrcpts, nwant);
	for (size_t k = 0; k < nwant && k < r->nrcpts; k++)
		CHECK_STR(r->rcpts[k], w->rcpts[k]);
	check_compose(r, w);
}

/* A cleared request after a failure: nothing left to free or to use. */
static void
check_cleared(const struct request *r)
{
	CHECK(r->rcpts == NULL);
	CHECK_INT(r->nrcpts, 0);
	CHECK(r->cc == NULL && r->bcc == NULL && r->extra == NULL);
	CHECK(r->attachments == NULL);
	CHECK(r->from_copy == NULL);
	CHECK(r->sender == NULL);
	CHECK(r->sender_copy == NULL);
	CHECK(r->queue_match == NULL && r->queue_select == 0);
	CHECK(r->program != NULL);
}

static void
describe(const struct cli_case *c, char *out, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; c->argv[i] != NULL && used + 1 < n; i++) {
		str_copy(out + used, n - used, c->argv[i]);
		used += strlen(out + used);
		if (used + 1 < n)
			out[used++] = ' ';
		out[used] = '\0';
	}
}

/* argv is copied into fresh, writable strings, as the real one is, so
 * ASan sees any read past what the parser was given. */
static void
run_case(const struct cli_case *c)
{
	char *argv[MAX_ARGS + 1] = {NULL};
	char name[512];
	int argc = 0;
	struct request req;
	struct error err;
	int rc = 0;
	int failed_before = unit_failed;

	while (argc < MAX_ARGS && c->argv[argc] != NULL) {
		argv[argc] = xstrdup(c->argv[argc]);
		argc++;
	}
	describe(c, name, sizeof name);
	error_clear(&err);
	rc = cli_parse(argc, argv, &req, &err);
	if (c->error == NULL) {
		CHECK_INT(rc, 0);
		CHECK_STR(err.msg, "");
		check_request(&req, &c->want);
	} else {
		CHECK_INT(rc, -1);
		CHECK_INT(err.kind, ERROR_USAGE);
		CHECK_STR(err.msg, c->error);
		check_cleared(&req);
	}
	if (unit_failed > failed_before)
		fprintf(stderr, "  in case: %s\n", name);
	cli_clear(&req);
	cli_clear(&req); /* twice is harmless */
	for (int i = 0; i < argc; i++)
		free(argv[i]);
}

/* main() may be run with argc == 0 (execve with an empty argv). */
/* msmtp's settings that the table does not cover. */
static void
test_msmtp_settings(void)
{
	char *argv[] = {"msmtp",
	                "-X",
	                "/tmp/log",
	                "--logfile-time-format=%F",
	                "--syslog",
	                "--aliases=",
	                "--protocol=lmtp",
	                "--set-from-header=on",
	                "--set-msgid-header=off",
	                "--add-missing-date-header=off",
	                "--remove-bcc-headers=off",
	                "--undisclosed-recipients",
	                "--read-envelope-from",
	                "b@x",
	                NULL};
	struct request req;
	struct error err;

	error_clear(&err);
	CHECK_INT(cli_parse(13 + 1, argv, &req, &err), 0);
	CHECK_STR(err.msg, "");
	CHECK(req.msmtp);
	CHECK_STR(req.logfile, "/tmp/log");
	CHECK_STR(req.logfile_time_format, "%F");
	CHECK_INT(req.syslog, LOG_MAIL);
	CHECK_STR(req.aliases, "");
	CHECK_INT(req.lmtp, CLI_ON);
	CHECK_INT(req.set_from_header, CONF_FROM_ON);
	CHECK_INT(req.set_date_header, CLI_OFF);
	CHECK_INT(req.set_msgid_header, CLI_OFF);
	CHECK_INT(req.remove_bcc_headers, CLI_OFF);
	CHECK_INT(req.undisclosed_recipients, CLI_ON);
	CHECK(req.read_envelope_from);
	cli_clear(&req);

	/* Unset, they leave the account's values. */
	argv[1] = "b@x";
	argv[2] = NULL;
	CHECK_INT(cli_parse(2, argv, &req, &err), 0);
	CHECK(req.logfile == NULL && req.aliases == NULL);
	CHECK_INT(req.syslog, CONF_SYSLOG_UNSET);
	CHECK_INT(req.set_from_header, CONF_FROM_UNSET);
	CHECK_INT(req.lmtp, CLI_UNSET);
	cli_clear(&req);
}

static void
test_empty_argv(void)
{
	char *argv[] = {NULL};
	struct request req;
	struct error err;

	error_clear(&err);
	CHECK_INT(cli_parse(0, argv, &req, &err), -1);
	CHECK_STR(req.program, "mailpost");
	CHECK_INT(err.kind, ERROR_USAGE);
	cli_clear(&req);
}

/* Strings point into argv, so main() may keep argv as the storage. */
static void
test_points_into_argv(void)
{
	char a0[] = "sendmail", a1[] = "-Fname", a2[] = "a@x";
	char a3[] = "-f", a4[] = "s@x";
	char *argv[] = {a0, a1, a2, a3, a4, NULL};
	struct request req;
	struct error err;

	error_clear(&err);
	CHECK_INT(cli_parse(5, argv, &req, &err), 0);
	CHECK(req.full_name == a1 + 2);
	CHECK(req.rcpts[0] == a2);
	CHECK(req.sender == a4);
	CHECK(req.sender_copy == NULL);
	cli_clear(&req);
}

static void
check_lines_fit(const char *text)
{
	while (*text != '\0') {
		size_t len = strcspn(text, "\n");

		CHECK(len <= 79);
		text += len;
		CHECK(*text == '\n');
		if (*text == '\n')
			text++;
	}
}

static void
test_texts(void)
{
	const char *u = clihelp_usage();
	const char *v = clihelp_version();
	const char *want_v = "mailpost " PACKAGE_VERSION "\n";

	CHECK(strncmp(u, "Usage: mailpost ", 16) == 0);
	CHECK(strstr(u, "--rcpt-policy") != NULL);
	CHECK(strstr(u, "--queue=POLICY") != NULL);
	CHECK(strstr(u, "-qR SUBSTR") != NULL);
	CHECK(strstr(u, "-bs ") != NULL);
	CHECK(strstr(u, "delivered or queued") != NULL);
	CHECK(strstr(u, "EXIT STATUS") != NULL);
	check_lines_fit(u);
	CHECK(strncmp(v, want_v, strlen(want_v)) == 0);
	CHECK(strstr(v, "GPL-3.0-or-later") != NULL);
	check_lines_fit(v);
}

int
main(void)
{
	for (size_t k = 0; k < NCASES; k++)
		run_case(&cases[k]);
	test_msmtp_settings();
	test_empty_argv();
	test_points_into_argv();
	test_texts();
	return unit_done();
}
