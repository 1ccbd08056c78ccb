/*
 * conf_test.c - the configuration reader: every key with good and bad
 * values, the line syntax, inheritance, choosing an account, ceilings, and
 * the permission rule on real files.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "error.h"
#include "util.h"

#include "unit.h"

/* One field of an account as text, so that a table can say what it wants
 * for any key ("(null)" for an unset string). */
static const char *
show(const struct account *a, const char *field, char *tmp, size_t n)
{
	static const struct {
		const char *name;
		size_t off;
	} strs[] = {
#define S(m) {#m, offsetof(struct account, m)}
	    S(host),
	    S(source_ip),
	    S(proxy_host),
	    S(socket),
	    S(domain),
	    S(from),
	    S(maildomain),
	    S(from_full_name),
	    S(dsn_notify),
	    S(dsn_return),
	    S(logfile),
	    S(logfile_time_format),
	    S(tls_trust_file),
	    S(tls_crl_file),
	    S(tls_fingerprint),
	    S(tls_key_file),
	    S(tls_cert_file),
	    S(tls_priorities),
	    S(tls_host_override),
	    S(auth),
	    S(user),
	    S(password),
	    S(passwordeval),
	    S(passwordcred),
	    S(passwordenv),
	    S(ntlmdomain),
	    S(aliases),
	    S(queue_dir),
	    S(dead_letter),
	    S(fallback_account),
	    S(oauth2_provider),
	    S(oauth2_client_id),
	    S(oauth2_client_secret),
	    S(oauth2_client_secret_eval),
	    S(oauth2_token_endpoint),
	    S(oauth2_device_endpoint),
	    S(oauth2_authorize_endpoint),
	    S(oauth2_scope),
	    S(oauth2_trust_file),
	    S(name),
	    S(file),
#undef S
	};
	static const struct {
		const char *name;
		size_t off;
		size_t size;
	} nums[] = {
#define N(m) {#m, offsetof(struct account, m), sizeof(((struct account *)0)->m)}
	    N(port),
	    N(proxy_port),
	    N(timeout),
	    N(lmtp),
	    N(pipelining),
	    N(auto_from),
	    N(allow_from_override),
	    N(set_from_header),
	    N(set_date_header),
	    N(set_msgid_header),
	    N(remove_bcc_headers),
	    N(undisclosed_recipients),
	    N(rcpt_policy),
	    N(syslog_facility),
	    N(logfile_transcript),
	    N(tls),
	    N(tls_starttls),
	    N(tls_certcheck),
	    N(tls_min_dh_prime_bits),
	    N(passwordeval_timeout),
	    N(passwordfd),
	    N(auth_plaintext),
	    N(queue),
	    N(queue_max_age),
	    N(queue_backoff),
	    N(queue_flush_after_send),
	    N(failover_timeout),
	    N(rewrite_local_from),
	    N(qualify_headers),
	    N(oauth2_store),
#undef N
	};

	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		if (strcmp(strs[i].name, field) == 0) {
			const char *s =
			    *(char *const *)((const char *)a + strs[i].off);
			return s ? s : "(null)";
		}
	}
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
		if (strcmp(nums[i].name, field) == 0) {
			const char *p = (const char *)a + nums[i].off;
			long v = 0;

			if (nums[i].size == sizeof(bool))
				v = *(const bool *)p;
			else if (nums[i].size == sizeof(long))
				v = *(const long *)p;
			else
				v = *(const int *)p;
			snprintf(tmp, n, "%ld", v);
			return tmp;
		}
	}
	return "(no such field)";
}

static int
parse(const char *text, struct config **cfg, struct error *err)
{
	error_clear(err);
	return conf_parse(text, strlen(text), "c", cfg, err);
}

/* Parse text and resolve the account `name` (NULL: the usual choice). */
static int
load(const char *text, const char *name, struct account *a, struct error *err)
{
	struct config *cfg;
	int rc = parse(text, &cfg, err);

	account_defaults(a);
	if (rc < 0)
		return -1;
	rc = conf_select(cfg, name, NULL, a, err);
	conf_free(cfg);
	return rc;
}

/* ------------------------------------------------------------------------
 * Every key: one line in an account, then the field it sets.
 */

static const struct {
	const char *line;
	const char *field;
	const char *want;
} good[] = {
    {"host smtp.example.org", "host", "smtp.example.org"},
    {"port 587", "port", "587"},
    {"port 1", "port", "1"},
    {"port 65535", "port", "65535"},
    {"source_ip 192.0.2.1", "source_ip", "192.0.2.1"},
    {"source_ip", "source_ip", "(null)"},
    {"timeout 30", "timeout", "30"},
    {"timeout off", "timeout", "0"},
    {"protocol lmtp", "lmtp", "1"},
    {"protocol smtp", "lmtp", "0"},
    {"domain client.example", "domain", "client.example"},
    {"domain", "domain", "(null)"},
    {"pipelining off", "pipelining", "0"},
    {"pipelining on", "pipelining", "1"},
    {"pipelining", "pipelining", "1"},
    {"from me@example.org", "from", "me@example.org"},
    {"from *@example.org", "from", "*@example.org"},
    {"auto_from on", "auto_from", "1"},
    {"auto_from", "auto_from", "1"},
    {"auto_from off", "auto_from", "0"},
    {"maildomain example.org", "maildomain", "example.org"},
    {"from_full_name Joe Q. Public", "from_full_name", "Joe Q. Public"},
    {"allow_from_override off", "allow_from_override", "0"},
    {"allow_from_override on", "allow_from_override", "1"},
    {"set_from_header on", "set_from_header", "1"},
    {"set_from_header off", "set_from_header", "2"},
    {"set_from_header auto", "set_from_header", "0"},
    {"set_from_header", "set_from_header", "0"},
    {"add_missing_from_header off", "set_from_header", "2"},
    {"add_missing_from_header on", "set_from_header", "0"},
    {"set_date_header off", "set_date_header", "0"},
    {"set_date_header auto", "set_date_header", "1"},
    {"add_missing_date_header off", "set_date_header", "0"},
    {"add_missing_date_header", "set_date_header", "1"},
    {"set_msgid_header off", "set_msgid_header", "0"},
    {"set_msgid_header auto", "set_msgid_header", "1"},
    {"remove_bcc_headers off", "remove_bcc_headers", "0"},
    {"remove_bcc_headers", "remove_bcc_headers", "1"},
    {"undisclosed_recipients on", "undisclosed_recipients", "1"},
    {"undisclosed_recipients off", "undisclosed_recipients", "0"},
    {"dsn_notify off", "dsn_notify", "(null)"},
    {"dsn_notify never", "dsn_notify", "NEVER"},
    {"dsn_notify failure", "dsn_notify", "FAILURE"},
    {"dsn_notify success,failure,delay", "dsn_notify", "SUCCESS,FAILURE,DELAY"},
    {"dsn_notify delay,failure", "dsn_notify", "DELAY,FAILURE"},
    {"dsn_return off", "dsn_return", "(null)"},
    {"dsn_return headers", "dsn_return", "HDRS"},
    {"dsn_return full", "dsn_return", "FULL"},
    {"rcpt_policy all", "rcpt_policy", "1"},
    {"rcpt_policy any", "rcpt_policy", "2"},
    {"logfile /var/log/mailpost.log", "logfile", "/var/log/mailpost.log"},
    {"logfile -", "logfile", "-"},
    {"logfile ~/mail.log", "logfile", "/home/test/mail.log"},
    {"logfile ~", "logfile", "/home/test"},
    {"logfile ~other/x", "logfile", "~other/x"},
    {"logfile", "logfile", "(null)"},
    {"logfile_time_format %Y-%m-%d", "logfile_time_format", "%Y-%m-%d"},
    {"syslog off", "syslog_facility", "-1"},
    {"logfile_level transcript", "logfile_transcript", "1"},
    {"logfile_level summary", "logfile_transcript", "0"},
    {"tls on", "tls", "1"},
    {"tls", "tls", "1"},
    {"tls off", "tls", "0"},
    {"tls_starttls off", "tls_starttls", "0"},
    {"tls_nostarttls", "tls_starttls", "0"},
    {"tls_trust_file system", "tls_trust_file", "system"},
    {"tls_trust_file ~/ca.pem", "tls_trust_file", "/home/test/ca.pem"},
    {"tls_trust_file", "tls_trust_file", ""},
    {"tls_crl_file /etc/crl.pem", "tls_crl_file", "/etc/crl.pem"},
    {"tls_fingerprint 00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff",
     "tls_fingerprint", "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"},
    {"tls_fingerprint "
     "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33",
     "tls_fingerprint",
     "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33"},
    {"tls_fingerprint "
     "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
     "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
     "tls_fingerprint",
     "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
     "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"},
    {"tls_fingerprint", "tls_fingerprint", "(null)"},
    {"tls_key_file ~/k.pem", "tls_key_file", "/home/test/k.pem"},
    {"tls_cert_file /c.pem", "tls_cert_file", "/c.pem"},
    {"tls_certcheck off", "tls_certcheck", "0"},
    {"tls_certcheck", "tls_certcheck", "1"},
    {"tls_nocertcheck", "tls_certcheck", "0"},
    {"keepbcc", "remove_bcc_headers", "0"},
    {"keepbcc on", "remove_bcc_headers", "0"},
    {"keepbcc off", "remove_bcc_headers", "1"},
    {"tls_min_dh_prime_bits 512", "tls_min_dh_prime_bits", "512"},
    {"tls_min_dh_prime_bits", "tls_min_dh_prime_bits", "0"},
    {"tls_priorities NORMAL:-VERS-TLS1.0", "tls_priorities",
     "NORMAL:-VERS-TLS1.0"},
    {"tls_host_override mx.example.org", "tls_host_override", "mx.example.org"},
    {"tls_force_sslv3 on", "host", "(null)"},
    {"auth on", "auth", "on"},
    {"auth", "auth", "on"},
    {"auth off", "auth", "(null)"},
    {"auth plain", "auth", "plain"},
    {"auth SCRAM-SHA-256", "auth", "scram-sha-256"},
    {"auth scram-sha-1", "auth", "scram-sha-1"},
    {"auth login", "auth", "login"},
    {"auth cram-md5", "auth", "cram-md5"},
    {"auth gssapi", "auth", "gssapi"},
    {"auth external", "auth", "external"},
    {"auth oauthbearer", "auth", "oauthbearer"},
    {"auth XOAUTH2", "auth", "xoauth2"},
    {"auth ntlm", "auth", "ntlm"},
    {"auth digest-md5", "auth", "digest-md5"},
    {"user joe", "user", "joe"},
    {"user", "user", "(null)"},
    {"password s3cr#t pass", "password", "s3cr#t pass"},
    {"password", "password", "(null)"},
    {"passwordeval gpg -q -d ~/.pw.gpg", "passwordeval", "gpg -q -d ~/.pw.gpg"},
    {"passwordeval_timeout 5", "passwordeval_timeout", "5"},
    {"passwordeval_timeout 3600", "passwordeval_timeout", "3600"},
    {"passwordfd 3", "passwordfd", "3"},
    {"passwordfd 17", "passwordfd", "17"},
    {"passwordfd", "passwordfd", "0"},
    {"passwordcred smtp-password", "passwordcred", "smtp-password"},
    {"passwordcred", "passwordcred", "(null)"},
    {"passwordenv SMTP_PASSWORD", "passwordenv", "SMTP_PASSWORD"},
    {"passwordenv _p1", "passwordenv", "_p1"},
    {"passwordenv", "passwordenv", "(null)"},
    {"auth_plaintext on", "auth_plaintext", "1"},
    {"auth_plaintext", "auth_plaintext", "1"},
    {"auth_plaintext off", "auth_plaintext", "0"},
    {"ntlmdomain CORP", "ntlmdomain", "CORP"},
    {"aliases ~/.aliases", "aliases", "/home/test/.aliases"},
    {"proxy_host 127.0.0.1", "proxy_host", "127.0.0.1"},
    {"proxy_port 9050", "proxy_port", "9050"},
    {"proxy_port", "proxy_port", "0"},
    {"socket ~/smtp.sock", "socket", "/home/test/smtp.sock"},
    /* quoting, blanks and comments */
    {"host \"smtp.example.org\"", "host", "smtp.example.org"},
    {"host   smtp.example.org   ", "host", "smtp.example.org"},
    {"\t host\tsmtp.example.org\t", "host", "smtp.example.org"},
    {"from_full_name Joe # not a comment", "from_full_name",
     "Joe # not a comment"},
    {"password \"  two  spaces  \"", "password", "  two  spaces  "},
    {"password \"a\\\"b\\\\c\"", "password", "a\"b\\c"},
    {"password \"C:\\dir\"", "password", "C:\\dir"},
    {"password \"#hash\"  ", "password", "#hash"},
    {"user \"\"", "user", "(null)"},
    {"from_full_name Joe \"Q\" Public", "from_full_name", "Joe \"Q\" Public"},
    {"host h\r", "host", "h"},
    /* several hosts (failover): kept as written, split when used */
    {"host mx1.example.org, mx2.example.org", "host",
     "mx1.example.org, mx2.example.org"},
    {"host mx1.example.org mx2.example.org", "host",
     "mx1.example.org mx2.example.org"},
    {"host mx1,mx2,mx3", "host", "mx1,mx2,mx3"},
    {"host a ,\tb , c", "host", "a ,\tb , c"},
    {"host 192.0.2.1", "host", "192.0.2.1"},
    {"host ::1", "host", "::1"},
    {"host [2001:db8::1]", "host", "[2001:db8::1]"},
    {"host fe80::1%eth0", "host", "fe80::1%eth0"},
    {"host b\303\274cher.example", "host", "b\303\274cher.example"},
    {"host relay_1.example", "host", "relay_1.example"},
    /* the queue */
    {"queue never", "queue", "1"},
    {"queue on-failure", "queue", "2"},
    {"queue always", "queue", "3"},
    {"queue ON-FAILURE", "queue", "2"},
    {"queue_dir /var/spool/mailpost", "queue_dir", "/var/spool/mailpost"},
    {"queue_dir ~/queue", "queue_dir", "/home/test/queue"},
    {"queue_dir", "queue_dir", "(null)"},
    {"queue_max_age 90", "queue_max_age", "90"},
    {"queue_max_age 1s", "queue_max_age", "1"},
    {"queue_max_age 30m", "queue_max_age", "1800"},
    {"queue_max_age 12h", "queue_max_age", "43200"},
    {"queue_max_age 5d", "queue_max_age", "432000"},
    {"queue_max_age 2w", "queue_max_age", "1209600"},
    {"queue_max_age 520w", "queue_max_age", "314496000"},
    {"queue_max_age 314496000", "queue_max_age", "314496000"},
    {"queue_max_age 007", "queue_max_age", "7"},
    {"queue_backoff 0", "queue_backoff", "0"},
    {"queue_backoff 0m", "queue_backoff", "0"},
    {"queue_backoff 90", "queue_backoff", "90"},
    {"queue_backoff 5m", "queue_backoff", "300"},
    {"queue_backoff 4h", "queue_backoff", "14400"},
    {"queue_backoff 240m", "queue_backoff", "14400"},
    {"queue_flush_after_send off", "queue_flush_after_send", "0"},
    {"queue_flush_after_send on", "queue_flush_after_send", "1"},
    {"queue_flush_after_send", "queue_flush_after_send", "1"},
    {"dead_letter ~/dead.letter", "dead_letter", "/home/test/dead.letter"},
    {"dead_letter /var/mail/dead", "dead_letter", "/var/mail/dead"},
    {"dead_letter off", "dead_letter", "off"},
    {"dead_letter OFF", "dead_letter", "off"},
    {"dead_letter", "dead_letter", "(null)"},
    {"fallback_account", "fallback_account", "(null)"},
    {"failover_timeout 1", "failover_timeout", "1"},
    {"failover_timeout 30", "failover_timeout", "30"},
    {"failover_timeout 3600", "failover_timeout", "3600"},
    /* system mail */
    {"rewrite_local_from on", "rewrite_local_from", "1"},
    {"rewrite_local_from", "rewrite_local_from", "1"},
    {"rewrite_local_from off", "rewrite_local_from", "0"},
    {"qualify_headers on", "qualify_headers", "1"},
    {"qualify_headers off", "qualify_headers", "0"},
    {"aliases /etc/aliases", "aliases", "/etc/aliases"},
    /* OAuth2 (an account with oauth2_provider: test_oauth2) */
    {"oauth2_client_id 123-abc.apps.example", "oauth2_client_id",
     "123-abc.apps.example"},
    {"oauth2_client_id", "oauth2_client_id", "(null)"},
    {"oauth2_client_secret GOCSPX-x#y", "oauth2_client_secret", "GOCSPX-x#y"},
    {"oauth2_client_secret_eval pass show google/client",
     "oauth2_client_secret_eval", "pass show google/client"},
    {"oauth2_token_endpoint https://oauth2.example/token",
     "oauth2_token_endpoint", "https://oauth2.example/token"},
    {"oauth2_token_endpoint HTTPS://127.0.0.1:8443/t?tenant=x",
     "oauth2_token_endpoint", "HTTPS://127.0.0.1:8443/t?tenant=x"},
    {"oauth2_token_endpoint", "oauth2_token_endpoint", "(null)"},
    {"oauth2_device_endpoint https://[::1]:99/device", "oauth2_device_endpoint",
     "https://[::1]:99/device"},
    {"oauth2_authorize_endpoint https://login.example",
     "oauth2_authorize_endpoint", "https://login.example"},
    {"oauth2_scope https://mail.example/ offline_access", "oauth2_scope",
     "https://mail.example/ offline_access"},
    {"oauth2_scope", "oauth2_scope", "(null)"},
    {"oauth2_trust_file ~/ca.pem", "oauth2_trust_file", "/home/test/ca.pem"},
    {"oauth2_store keyring", "oauth2_store", "1"},
    {"oauth2_store FILE", "oauth2_store", "2"},
    {"oauth2_store auto", "oauth2_store", "0"},
    {"oauth2_provider off", "oauth2_provider", "(null)"},
};

/* Every key is tried in the account itself, in the defaults and in a
 * parent: all three must give the account the same value. */
static const struct {
	const char *before, *after;
} places[] = {
    {"account default\n", ""},
    {"defaults\n", "account default\n"},
    {"account parent\n", "account default : parent\n"},
};

static void
test_good_values(void)
{
	setenv("HOME", "/home/test", 1);
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		for (size_t p = 0; p < sizeof places / sizeof places[0]; p++) {
			char text[512], tmp[32], what[1700];
			struct account a;
			struct error err;

			snprintf(text, sizeof text, "%s%s\n%s",
			         places[p].before, good[i].line,
			         places[p].after);
			if (load(text, NULL, &a, &err) < 0) {
				snprintf(what, sizeof what,
				         "'%s' refused (place %zu): %s",
				         good[i].line, p, err.msg);
				unit_report(0, __FILE__, __LINE__, what);
				continue;
			}
			snprintf(what, sizeof what, "'%s' (place %zu)",
			         good[i].line, p);
			unit_report(
			    strcmp(show(&a, good[i].field, tmp, sizeof tmp),
			           good[i].want) == 0,
			    __FILE__, __LINE__, what);
			account_clear(&a);
		}
	}
}

static void
test_syslog_values(void)
{
	static const struct {
		const char *value;
		int want;
	} cases[] = {
	    {"", LOG_MAIL},
	    {"on", LOG_MAIL},
	    {"off", -1},
	    {"LOG_USER", LOG_USER},
	    {"LOG_MAIL", LOG_MAIL},
	    {"LOG_LOCAL0", LOG_LOCAL0},
	    {"LOG_LOCAL7", LOG_LOCAL7},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[128];
		struct account a;
		struct error err;

		snprintf(text, sizeof text, "defaults\nsyslog %s\n",
		         cases[i].value);
		CHECK_INT(load(text, NULL, &a, &err), 0);
		CHECK_INT(a.syslog_facility, cases[i].want);
		account_clear(&a);
	}
}

/* Bad values: the whole message, so that file, line, key and value are
 * all checked. */
static const struct {
	const char *line;
	const char *want;
} bad[] = {
    {"oauth2_provider yahoo", "c:2: key 'oauth2_provider': 'yahoo' is not "
                              "'google', 'microsoft', 'generic' or 'off'"},
    {"oauth2_provider", "c:2: key 'oauth2_provider' needs a value"},
    {"oauth2_token_endpoint http://h/t",
     "c:2: key 'oauth2_token_endpoint': 'http://h/t' is not an https:// URL "
     "(OAuth2 endpoints are reached over TLS only)"},
    {"oauth2_device_endpoint h/t",
     "c:2: key 'oauth2_device_endpoint': 'h/t' is not an https:// URL "
     "(OAuth2 endpoints are reached over TLS only)"},
    {"oauth2_authorize_endpoint https://",
     "c:2: key 'oauth2_authorize_endpoint': 'https://' is not an https:// "
     "URL: it names no host"},
    {"oauth2_authorize_endpoint https:///x",
     "c:2: key 'oauth2_authorize_endpoint': 'https:///x' is not an https:// "
     "URL: it names no host"},
    {"oauth2_token_endpoint https://u:p@h/t",
     "c:2: key 'oauth2_token_endpoint': 'https://u:p@h/t' is not an "
     "https:// URL with a host name (no user@, no blanks)"},
    {"oauth2_token_endpoint https://h/t x",
     "c:2: key 'oauth2_token_endpoint': 'https://h/t x' is not an https:// "
     "URL (no blanks, no fragment '#', ASCII only)"},
    {"oauth2_token_endpoint https://h/t#f",
     "c:2: key 'oauth2_token_endpoint': 'https://h/t#f' is not an https:// "
     "URL (no blanks, no fragment '#', ASCII only)"},
    {"oauth2_scope a  b", "c:2: key 'oauth2_scope': 'a  b' is not a list of "
                          "scopes (printable ASCII without '\"' or '\\', "
                          "separated by single spaces)"},
    {"oauth2_scope a\\b", NULL},
    {"oauth2_client_id caf\303\251",
     "c:2: key 'oauth2_client_id': 'caf\303\251' is not a client id "
     "(printable ASCII)"},
    {"oauth2_store vault", "c:2: key 'oauth2_store': 'vault' is not 'auto', "
                           "'keyring' or 'file'"},
    {"oauth2_store", "c:2: key 'oauth2_store' needs a value"},
    {"port 70000", "c:2: key 'port': '70000' is not a port number (1-65535)"},
    {"port 0", "c:2: key 'port': '0' is not a port number (1-65535)"},
    {"port -1", "c:2: key 'port': '-1' is not a port number (1-65535)"},
    {"port 25x", "c:2: key 'port': '25x' is not a port number (1-65535)"},
    {"port 99999999999999999999",
     "c:2: key 'port': '99999999999999999999' is not a port number "
     "(1-65535)"},
    {"port", "c:2: key 'port' needs a value"},
    {"host", "c:2: key 'host' needs a value"},
    {"host \"\"", "c:2: key 'host' needs a value"},
    {"proxy_port 65536",
     "c:2: key 'proxy_port': '65536' is not a port number (1-65535)"},
    {"timeout 0", "c:2: key 'timeout': '0' is not 'off' or a number of "
                  "seconds greater than 0"},
    {"timeout soon", "c:2: key 'timeout': 'soon' is not 'off' or a "
                     "number of seconds greater than 0"},
    {"timeout", "c:2: key 'timeout' needs a value"},
    {"protocol esmtp", "c:2: key 'protocol': 'esmtp' is not 'smtp' or 'lmtp'"},
    {"auto_from yes", "c:2: key 'auto_from': 'yes' is not 'on' or 'off'"},
    {"allow_from_override", "c:2: key 'allow_from_override' needs a value"},
    {"allow_from_override 1",
     "c:2: key 'allow_from_override': '1' is not 'on' or 'off'"},
    {"set_from_header always", "c:2: key 'set_from_header': 'always' is "
                               "not 'auto', 'on' or 'off'"},
    {"set_date_header on",
     "c:2: key 'set_date_header': 'on' is not 'auto' or 'off'"},
    {"set_msgid_header x",
     "c:2: key 'set_msgid_header': 'x' is not 'auto' or 'off'"},
    {"add_missing_from_header auto",
     "c:2: key 'add_missing_from_header': 'auto' is not 'on' or 'off'"},
    {"add_missing_date_header auto",
     "c:2: key 'add_missing_date_header': 'auto' is not 'on' or 'off'"},
    {"remove_bcc_headers no",
     "c:2: key 'remove_bcc_headers': 'no' is not 'on' or 'off'"},
    {"undisclosed_recipients 2",
     "c:2: key 'undisclosed_recipients': '2' is not 'on' or 'off'"},
    {"dsn_notify sometimes", "c:2: key 'dsn_notify': 'sometimes' is not "
                             "'off', 'never' or a list of success, "
                             "failure, delay (separated by commas, no "
                             "spaces)"},
    {"dsn_notify failure, delay", NULL},
    {"dsn_notify failure,failure", NULL},
    {"dsn_notify never,failure", NULL},
    {"dsn_notify failure,", NULL},
    {"dsn_notify ,failure", NULL},
    {"dsn_notify", "c:2: key 'dsn_notify' needs a value"},
    {"dsn_return hdrs",
     "c:2: key 'dsn_return': 'hdrs' is not 'off', 'headers' or 'full'"},
    {"dsn_return", "c:2: key 'dsn_return' needs a value"},
    {"rcpt_policy some",
     "c:2: key 'rcpt_policy': 'some' is not 'all' or 'any'"},
    {"rcpt_policy", "c:2: key 'rcpt_policy' needs a value"},
    {"syslog LOG_KERN", "c:2: key 'syslog': 'LOG_KERN' is not 'on', "
                        "'off', LOG_USER, LOG_MAIL or LOG_LOCAL0 to "
                        "LOG_LOCAL7"},
    {"syslog LOG_LOCAL8", NULL},
    {"logfile_level full",
     "c:2: key 'logfile_level': 'full' is not 'summary' or 'transcript'"},
    {"logfile_level", "c:2: key 'logfile_level' needs a value"},
    {"tls maybe", "c:2: key 'tls': 'maybe' is not 'on' or 'off'"},
    {"tls_starttls x", "c:2: key 'tls_starttls': 'x' is not 'on' or 'off'"},
    {"tls_certcheck x", "c:2: key 'tls_certcheck': 'x' is not 'on' or 'off'"},
    {"tls_nocertcheck off", "c:2: key 'tls_nocertcheck': 'off' is not "
                            "allowed: this old key takes no value"},
    {"tls_nostarttls on", NULL},
    {"tls_fingerprint 00:11",
     "c:2: key 'tls_fingerprint': '00:11' is not a SHA-256, SHA-1 or MD5 "
     "fingerprint (hex pairs separated by ':')"},
    {"tls_fingerprint 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:GG", NULL},
    {"tls_fingerprint 00-11-22-33-44-55-66-77-88-99-AA-BB-CC-DD-EE-FF", NULL},
    {"tls_fingerprint 0011:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:0", NULL},
    {"tls_min_dh_prime_bits many", "c:2: key 'tls_min_dh_prime_bits': "
                                   "'many' is not a number of bits "
                                   "(1-65536)"},
    {"tls_min_dh_prime_bits 0", NULL},
    {"auth md5", NULL},
    {"passwordeval_timeout 0", "c:2: key 'passwordeval_timeout': '0' is "
                               "not a number of seconds (1-3600)"},
    {"passwordeval_timeout 3601", NULL},
    {"passwordeval_timeout", "c:2: key 'passwordeval_timeout' needs a "
                             "value"},
    {"passwordfd 0", "c:2: key 'passwordfd': '0' is not a file descriptor "
                     "number of 3 or more"},
    {"passwordfd 2", NULL},
    {"passwordfd -3", NULL},
    {"passwordfd three", NULL},
    {"passwordcred ../x", "c:2: key 'passwordcred': '../x' is not a "
                          "credential name (a file name without '/')"},
    {"passwordcred ..", NULL},
    {"passwordcred a/b", NULL},
    {"passwordenv 1PASS", "c:2: key 'passwordenv': '1PASS' is not an "
                          "environment variable name (letters, digits "
                          "and '_')"},
    {"passwordenv SMTP-PASS", NULL},
    {"passwordenv A=B", NULL},
    {"auth_plaintext yes",
     "c:2: key 'auth_plaintext': 'yes' is not 'on' or 'off'"},
    {"auth kerberos", NULL},
    {"eval echo host localhost",
     "c:2: key 'eval' is not supported: mailpost never runs commands "
     "while reading its configuration (write the value itself; for a "
     "password, use passwordeval)"},
    {"eval", NULL},
    {"hots smtp.example.org", "c:2: unknown key 'hots'"},
    {"Host smtp.example.org", "c:2: unknown key 'Host'"},
    {"keepbcc yes", "c:2: key 'keepbcc': 'yes' is not 'on' or 'off'"},
    {"host \"smtp.example.org", "c:2: missing closing quote"},
    {"host \"smtp\" .example.org", "c:2: text after the closing quote"},
    {"host smtp\001example.org", "c:2: control character in line"},
    {"host smtp\rexample.org", "c:2: control character in line"},
    {"defaults now", "c:2: 'defaults' takes no value"},
    /* host lists */
    {"host mx1,,mx2", "c:2: key 'host': 'mx1,,mx2' holds an empty host name "
                      "(names are separated by commas or blanks)"},
    {"host mx1,", NULL},
    {"host ,mx1", NULL},
    {"host mx1, ,mx2", NULL},
    {"host ,", NULL},
    {"host smtp.example.org # comment",
     "c:2: key 'host': 'smtp.example.org # comment' is not a host name or "
     "a list of them (letters, digits, '-', '.', '_', or an address; "
     "separated by commas or blanks)"},
    {"host smtp://mx.example.org", NULL},
    {"host user@mx.example.org", NULL},
    {"host mx1;mx2", NULL},
    {"host \"mx'1\"", NULL},
    {"host mx1/25", NULL},
    /* the queue */
    {"queue sometimes", "c:2: key 'queue': 'sometimes' is not 'never', "
                        "'on-failure' or 'always'"},
    {"queue on_failure", NULL},
    {"queue on", NULL},
    {"queue", "c:2: key 'queue' needs a value"},
    {"queue_max_age 0", "c:2: key 'queue_max_age': '0' is not a duration "
                        "greater than 0 (a number of seconds, or a number "
                        "and s, m, h, d or w; at most 520w)"},
    {"queue_max_age 0d", NULL},
    {"queue_max_age 5y", NULL},
    {"queue_max_age 5D", NULL},
    {"queue_max_age 5 d", NULL},
    {"queue_max_age 5dd", NULL},
    {"queue_max_age 1h30m", NULL},
    {"queue_max_age 1.5h", NULL},
    {"queue_max_age -1", NULL},
    {"queue_max_age +5", NULL},
    {"queue_max_age h", NULL},
    {"queue_max_age 521w", NULL},
    {"queue_max_age 3650d", NULL},
    {"queue_max_age 314496001", NULL},
    {"queue_max_age 99999999999999999999", NULL},
    {"queue_max_age 99999999999999999999w", NULL},
    {"queue_max_age", "c:2: key 'queue_max_age' needs a value"},
    {"queue_backoff 5h", "c:2: key 'queue_backoff': '5h' is not a duration "
                         "from 0 to 4h (a number of seconds, or a number "
                         "and s, m or h)"},
    {"queue_backoff 14401", NULL},
    {"queue_backoff 1d", NULL},
    {"queue_backoff -1", NULL},
    {"queue_backoff soon", NULL},
    {"queue_backoff", "c:2: key 'queue_backoff' needs a value"},
    {"queue_flush_after_send yes",
     "c:2: key 'queue_flush_after_send': 'yes' is not 'on' or 'off'"},
    {"failover_timeout 0", "c:2: key 'failover_timeout': '0' is not a "
                           "number of seconds (1-3600)"},
    {"failover_timeout 3601", NULL},
    {"failover_timeout 2m", NULL},
    {"failover_timeout", "c:2: key 'failover_timeout' needs a value"},
    {"rewrite_local_from 1",
     "c:2: key 'rewrite_local_from': '1' is not 'on' or 'off'"},
    {"qualify_headers yes",
     "c:2: key 'qualify_headers': 'yes' is not 'on' or 'off'"},
};

static void
test_bad_values(void)
{
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char text[512], what[1200];
		struct config *cfg = NULL;
		struct error err;
		int rc;

		snprintf(text, sizeof text, "account default\n%s\n",
		         bad[i].line);
		rc = parse(text, &cfg, &err);
		snprintf(what, sizeof what, "'%s' accepted", bad[i].line);
		unit_report(rc == -1 && cfg == NULL, __FILE__, __LINE__, what);
		CHECK_INT(err.kind, ERROR_CONFIG);
		if (bad[i].want)
			CHECK_STR(err.msg, bad[i].want);
		else
			CHECK(strncmp(err.msg, "c:2: ", 5) == 0);
		conf_free(cfg);
	}
}

/* A refused password must not be repeated: messages reach terminals and
 * logs.  No password is ever refused today; the rule is that the keys
 * that carry secrets never echo their value. */
static void
test_secret_not_echoed(void)
{
	struct config *cfg;
	struct error err;

	CHECK_INT(parse("defaults\npassword \"unterminated\n", &cfg, &err), -1);
	CHECK(strstr(err.msg, "unterminated") == NULL);
	CHECK_INT(parse("defaults\npasswordeval \"cat x\" y\n", &cfg, &err),
	          -1);
	CHECK(strstr(err.msg, "cat x") == NULL);
}

/* ------------------------------------------------------------------------
 * Structure: defaults, accounts, inheritance.
 */

static void
test_defaults_builtin(void)
{
	struct account a;

	account_defaults(&a);
	CHECK_INT(a.port, 0);
	CHECK_INT(a.timeout, 0);
	CHECK(!a.tls);
	CHECK(a.tls_starttls);
	CHECK(a.tls_certcheck);
	CHECK(a.pipelining);
	CHECK(a.allow_from_override);
	CHECK(a.set_date_header);
	CHECK(a.set_msgid_header);
	CHECK(a.remove_bcc_headers);
	CHECK(!a.undisclosed_recipients);
	CHECK(!a.auto_from);
	CHECK(!a.lmtp);
	CHECK_INT(a.set_from_header, CONF_FROM_AUTO);
	CHECK_INT(a.syslog_facility, -1);
	CHECK_INT(a.rcpt_policy, RCPT_POLICY_UNSET);
	CHECK(a.host == NULL && a.password == NULL && a.name == NULL);
	CHECK_INT(a.queue, QUEUE_POLICY_UNSET);
	CHECK(a.queue_dir == NULL && a.dead_letter == NULL);
	CHECK_INT(a.queue_max_age, CONF_QUEUE_MAX_AGE);
	CHECK_INT(a.queue_max_age, 432000);
	CHECK_INT(a.queue_backoff, CONF_QUEUE_BACKOFF);
	CHECK(a.queue_flush_after_send);
	CHECK(a.fallback_account == NULL);
	CHECK_INT(a.failover_timeout, CONF_FAILOVER_TIMEOUT);
	CHECK(a.aliases == NULL);
	CHECK(!a.rewrite_local_from && !a.qualify_headers);
	account_clear(&a);
	CHECK(a.host == NULL && a.name == NULL);
}

static void
test_comments_and_blanks(void)
{
	struct account a;
	struct error err;
	const char *text = "# a comment\n"
	                   "\n"
	                   "   \t\n"
	                   "   # an indented comment\n"
	                   "defaults\n"
	                   "  port 2525\n"
	                   "account default\r\n"
	                   "host h\r\n"
	                   "# last line without newline";

	CHECK_INT(load(text, NULL, &a, &err), 0);
	CHECK_STR(a.host, "h");
	CHECK_INT(a.port, 2525);
	CHECK_STR(a.name, "default");
	CHECK_STR(a.file, "c");
	account_clear(&a);

	CHECK_INT(load("", NULL, &a, &err), 0);
	CHECK_STR(a.name, "default");
	CHECK(a.host == NULL);
	account_clear(&a);
}

static void
test_inheritance(void)
{
	const char *text = "defaults\n"
	                   "port 587\n"
	                   "tls on\n"
	                   "from d@example.org\n"
	                   "account base\n"
	                   "host base.example.org\n"
	                   "user base\n"
	                   "account other\n"
	                   "host other.example.org\n"
	                   "timeout 9\n"
	                   "tls off\n"
	                   "account work : base, other\n"
	                   "user work\n"
	                   "account swap : other,base\n"
	                   "account late\n"
	                   "defaults\n"
	                   "port 25\n"
	                   "account after\n"
	                   "account alias : work\n"
	                   "from alias@example.org\n";
	struct account a;
	struct error err;

	/* own keys over parents, later parents over earlier ones */
	CHECK_INT(load(text, "work", &a, &err), 0);
	CHECK_STR(a.host, "other.example.org");
	CHECK_STR(a.user, "work");
	CHECK_INT(a.timeout, 9);
	CHECK(!a.tls);
	CHECK_INT(a.port, 587);
	CHECK_STR(a.from, "d@example.org");
	CHECK_STR(a.name, "work");
	account_clear(&a);

	CHECK_INT(load(text, "swap", &a, &err), 0);
	CHECK_STR(a.host, "base.example.org");
	CHECK_STR(a.user, "base");
	CHECK_INT(a.timeout, 9);
	/* base's "tls on" came from the defaults, and counts as given by
	 * base: msmtp's rule, an account is a snapshot */
	CHECK(a.tls);
	account_clear(&a);

	/* defaults apply to the accounts that follow them, as in msmtp */
	CHECK_INT(load(text, "late", &a, &err), 0);
	CHECK_INT(a.port, 587);
	account_clear(&a);
	CHECK_INT(load(text, "after", &a, &err), 0);
	CHECK_INT(a.port, 25);
	CHECK(a.tls);
	account_clear(&a);

	/* a child's own key does not leak into the parent */
	CHECK_INT(load(text, "alias", &a, &err), 0);
	CHECK_STR(a.from, "alias@example.org");
	CHECK_STR(a.user, "work");
	account_clear(&a);
	CHECK_INT(load(text, "base", &a, &err), 0);
	CHECK_STR(a.from, "d@example.org");
	account_clear(&a);
}

static void
test_default_alias(void)
{
	const char *text = "account freemail\n"
	                   "host smtp.freemail.example\n"
	                   "account isp\n"
	                   "host mail.isp.example\n"
	                   "account default : freemail\n";
	struct account a;
	struct error err;

	CHECK_INT(load(text, NULL, &a, &err), 0);
	CHECK_STR(a.name, "default");
	CHECK_STR(a.host, "smtp.freemail.example");
	account_clear(&a);
}

/* msmtp 1.2 had no account lines: keys before any defaults or account
 * line make an account named "default". */
static void
test_implicit_default(void)
{
	struct account a;
	struct error err;

	CHECK_INT(load("host h\nport 26\naccount x\nhost y\n", NULL, &a, &err),
	          0);
	CHECK_STR(a.name, "default");
	CHECK_STR(a.host, "h");
	account_clear(&a);

	CHECK_INT(load("host h\naccount default\n", NULL, &a, &err), -1);
	CHECK_STR(err.msg, "c:2: account 'default' is already defined on "
	                   "line 1");
}

static const struct {
	const char *text;
	const char *want;
} structure_errors[] = {
    {"account a\naccount a\n", "c:2: account 'a' is already defined on line 1"},
    {"account a : b\n",
     "c:1: account 'b' is not defined (a parent must be defined before "
     "the accounts that inherit from it)"},
    /* a cycle can only be written with a parent defined later */
    {"account a : b\naccount b : a\n",
     "c:1: account 'b' is not defined (a parent must be defined before "
     "the accounts that inherit from it)"},
    {"account a : a\n", "c:1: account 'a' cannot inherit from itself"},
    {"account a\naccount b : a,\n", "c:2: missing account name after ':'"},
    {"account a\naccount b : a,,a\n", "c:2: missing account name after ':'"},
    {"account b :\n", "c:1: missing account name after ':'"},
    {"account\n", "c:1: missing account name"},
    {"account : a\n", "c:1: missing account name"},
    {"defaults\nport 1\nport x\n",
     "c:3: key 'port': 'x' is not a port number (1-65535)"},
};

static void
test_structure_errors(void)
{
	for (size_t i = 0;
	     i < sizeof structure_errors / sizeof structure_errors[0]; i++) {
		struct config *cfg;
		struct error err;

		CHECK_INT(parse(structure_errors[i].text, &cfg, &err), -1);
		CHECK_STR(err.msg, structure_errors[i].want);
	}
}

static void
test_account_names(void)
{
	struct account a;
	struct error err;

	/* the name runs to the colon, blanks inside kept (as msmtp) */
	CHECK_INT(load("account my mail\nhost h\n", "my mail", &a, &err), 0);
	CHECK_STR(a.host, "h");
	account_clear(&a);
	CHECK_INT(load("account \"q\"\nhost h\n", "q", &a, &err), 0);
	account_clear(&a);
}

/* The queue keys through defaults and parents, and back to their
 * built-in values from an account file that does not name them. */
static void
test_queue_inheritance(void)
{
	const char *text = "defaults\n"
	                   "queue always\n"
	                   "queue_dir ~/q\n"
	                   "queue_max_age 2d\n"
	                   "queue_backoff 0\n"
	                   "queue_flush_after_send off\n"
	                   "dead_letter off\n"
	                   "failover_timeout 30\n"
	                   "rewrite_local_from on\n"
	                   "qualify_headers on\n"
	                   "aliases /etc/aliases\n"
	                   "fallback_account backup\n"
	                   "account backup\n"
	                   "host backup.example\n"
	                   "fallback_account\n"
	                   "account main\n"
	                   "host mx1.example, mx2.example\n"
	                   "account child : main\n"
	                   "queue never\n"
	                   "queue_max_age 1h\n"
	                   "dead_letter ~/dl\n"
	                   "queue_flush_after_send on\n";
	struct account a;
	struct error err;

	setenv("HOME", "/home/test", 1);
	CHECK_INT(load(text, "main", &a, &err), 0);
	CHECK_STR(a.host, "mx1.example, mx2.example");
	CHECK_INT(a.queue, QUEUE_ALWAYS);
	CHECK_STR(a.queue_dir, "/home/test/q");
	CHECK_INT(a.queue_max_age, 2 * 86400);
	CHECK_INT(a.queue_backoff, 0);
	CHECK(!a.queue_flush_after_send);
	CHECK_STR(a.dead_letter, "off");
	CHECK_INT(a.failover_timeout, 30);
	CHECK(a.rewrite_local_from && a.qualify_headers);
	CHECK_STR(a.aliases, "/etc/aliases");
	CHECK_STR(a.fallback_account, "backup");
	account_clear(&a);

	/* an empty value unsets what the defaults gave */
	CHECK_INT(load(text, "backup", &a, &err), 0);
	CHECK(a.fallback_account == NULL);
	CHECK_INT(a.queue, QUEUE_ALWAYS);
	account_clear(&a);

	/* the child's own keys over its parent's, the rest inherited */
	CHECK_INT(load(text, "child", &a, &err), 0);
	CHECK_INT(a.queue, QUEUE_NEVER);
	CHECK_INT(a.queue_max_age, 3600);
	CHECK_INT(a.queue_backoff, 0);
	CHECK(a.queue_flush_after_send);
	CHECK_STR(a.dead_letter, "/home/test/dl");
	CHECK_STR(a.queue_dir, "/home/test/q");
	CHECK_STR(a.host, "mx1.example, mx2.example");
	CHECK_STR(a.fallback_account, "backup");
	account_clear(&a);
	CHECK_INT(load(text, "main", &a, &err), 0);
	CHECK_INT(a.queue, QUEUE_ALWAYS);
	account_clear(&a);

	/* nothing said: the built-in values */
	CHECK_INT(load("account default\nhost h\n", NULL, &a, &err), 0);
	CHECK_INT(a.queue, QUEUE_POLICY_UNSET);
	CHECK_INT(a.queue_max_age, CONF_QUEUE_MAX_AGE);
	CHECK_INT(a.queue_backoff, CONF_QUEUE_BACKOFF);
	CHECK(a.queue_flush_after_send);
	CHECK_INT(a.failover_timeout, CONF_FAILOVER_TIMEOUT);
	CHECK(a.queue_dir == NULL && a.dead_letter == NULL);
	account_clear(&a);
}

/* fallback_account is checked when an account is chosen: the whole chain
 * must be defined and must end. */
static void
test_fallback(void)
{
	static const struct {
		const char *text;
		const char *name;
		const char *want; /* NULL: fine */
	} cases[] = {
	    {"account a\nfallback_account b\naccount b\n", "a", NULL},
	    /* a later account may be named */
	    {"account a\nfallback_account b\naccount b\nfallback_account "
	     "c\naccount c\n",
	     "a", NULL},
	    {"account a\nfallback_account b\naccount b\n", "b", NULL},
	    {"account a\nfallback_account zz\n", "a",
	     "account 'a': fallback_account 'zz' is not defined in c"},
	    {"account a\nfallback_account b\naccount b\nfallback_account "
	     "zz\n",
	     "a", "account 'b': fallback_account 'zz' is not defined in c"},
	    {"account a\nfallback_account a\n", "a",
	     "fallback_account loops in c: a -> a"},
	    {"account a\nfallback_account b\naccount b\nfallback_account "
	     "a\n",
	     "a", "fallback_account loops in c: a -> b -> a"},
	    {"account a\nfallback_account b\naccount b\nfallback_account "
	     "c\naccount c\nfallback_account b\n",
	     "a", "fallback_account loops in c: a -> b -> c -> b"},
	    /* a loop elsewhere does not stop an account outside it */
	    {"account a\nfallback_account b\naccount b\nfallback_account "
	     "a\naccount x\n",
	     "x", NULL},
	    /* inherited from the defaults */
	    {"defaults\nfallback_account spare\naccount spare\n"
	     "fallback_account\naccount a\n",
	     "a", NULL},
	    {"defaults\nfallback_account spare\naccount spare\naccount a\n",
	     "a", "fallback_account loops in c: a -> spare -> spare"},
	    /* the defaults alone, as the account */
	    {"defaults\nhost h\nfallback_account x\n", NULL,
	     "account 'default': fallback_account 'x' is not defined in c"},
	    /* through "account default : NAME" */
	    {"account a\nfallback_account b\naccount b\naccount default : "
	     "a\n",
	     NULL, NULL},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct account a;
		struct error err;
		int failed_before = unit_failed;
		int rc = load(cases[i].text, cases[i].name, &a, &err);

		if (!cases[i].want) {
			CHECK_INT(rc, 0);
			CHECK_STR(err.msg, "");
		} else {
			CHECK_INT(rc, -1);
			CHECK_INT(err.kind, ERROR_CONFIG);
			CHECK_STR(err.msg, cases[i].want);
		}
		if (unit_failed > failed_before)
			fprintf(stderr, "  in fallback case %zu\n", i);
		account_clear(&a);
	}
}

/* In the system configuration (conf_set_private) an error about an
 * account is located at its section, and names none of its accounts. */
static void
test_hidden(void)
{
	static const struct {
		const char *text;
		const char *name;
		const char *want;
	} cases[] = {
	    {"account a\nfallback_account zz\n", "a", "c:1: error"},
	    {"defaults\nhost h\nfallback_account x\n", NULL, "c: error"},
	    {"account a\nfallback_account b\n\naccount b\n"
	     "fallback_account a\n",
	     "a", "c:4: error"},
	};
	const char *rest = " in the system configuration (shown only to root "
	                   "and the system sendmail's group); as root, run "
	                   "'mailpost --pretend' to see it";

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct config *cfg;
		struct account a;
		struct error err;
		char want[512];

		CHECK_INT(parse(cases[i].text, &cfg, &err), 0);
		conf_set_private(cfg);
		account_defaults(&a);
		CHECK_INT(conf_select(cfg, cases[i].name, NULL, &a, &err), -1);
		snprintf(want, sizeof want, "%s%s", cases[i].want, rest);
		CHECK_STR(err.msg, want);
		CHECK_INT(err.kind, ERROR_CONFIG);
		account_clear(&a);
		conf_free(cfg);
	}
	/* A chosen account knows where it is and that it is hidden. */
	{
		struct config *cfg;
		struct account a;
		struct error err;

		CHECK_INT(parse("defaults\nhost h\n\naccount x\n", &cfg, &err),
		          0);
		conf_set_private(cfg);
		CHECK_INT(conf_select(cfg, "x", NULL, &a, &err), 0);
		CHECK_INT((int)a.line, 4);
		CHECK(a.hidden);
		error_set(&err, ERROR_CONFIG, "account '%s' is wrong", a.name);
		CHECK_INT(conf_hide(&a, &err), -1);
		CHECK(strstr(err.msg, "c:4: error in the system") == err.msg);
		account_clear(&a);
		conf_free(cfg);
	}
}

/* ------------------------------------------------------------------------
 * Choosing an account.
 */

static void
test_select(void)
{
	const char *text = "defaults\n"
	                   "host d.example\n"
	                   "account work\n"
	                   "from *@Work.Example\n"
	                   "port 3\n"
	                   "account home\n"
	                   "from me@home.example\n"
	                   "port 4\n"
	                   "account any\n"
	                   "from ?@home.example\n"
	                   "port 5\n"
	                   "account default : home\n";
	struct config *cfg;
	struct account a;
	struct error err;

	CHECK_INT(parse(text, &cfg, &err), 0);
	CHECK_INT(conf_select(cfg, NULL, "boss@work.example", &a, &err), 0);
	CHECK_INT(a.port, 3);
	CHECK_STR(a.name, "work");
	account_clear(&a);
	CHECK_INT(conf_select(cfg, NULL, "ME@home.example", &a, &err), 0);
	CHECK_INT(a.port, 4);
	account_clear(&a);
	CHECK_INT(conf_select(cfg, NULL, "x@home.example", &a, &err), 0);
	CHECK_INT(a.port, 5);
	account_clear(&a);
	/* no match: the default account, which matches by from too */
	CHECK_INT(conf_select(cfg, NULL, "other@else.example", &a, &err), 0);
	CHECK_STR(a.name, "default");
	CHECK_INT(a.port, 4);
	account_clear(&a);
	CHECK_INT(conf_select(cfg, NULL, "", &a, &err), 0);
	CHECK_STR(a.name, "default");
	account_clear(&a);
	/* a name wins over the sender */
	CHECK_INT(conf_select(cfg, "any", "boss@work.example", &a, &err), 0);
	CHECK_INT(a.port, 5);
	CHECK_STR(a.host, "d.example");
	account_clear(&a);
	CHECK_INT(conf_select(cfg, "nope", NULL, &a, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK_STR(err.msg, "account 'nope' not found in c; its accounts: "
	                   "work, home, any, default");
	account_clear(&a);
	conf_free(cfg);

	CHECK_INT(parse("account a\nhost h\n", &cfg, &err), 0);
	CHECK_INT(conf_select(cfg, NULL, NULL, &a, &err), -1);
	CHECK_STR(err.msg, "no account 'default' in c and no account chosen; "
	                   "choose one of a with -A NAME (msmtp's -a NAME), or "
	                   "add 'account default : NAME' to the file");
	account_clear(&a);
	CHECK_INT(conf_select(cfg, NULL, "x@y", &a, &err), -1);
	account_clear(&a);
	conf_free(cfg);

	/* only defaults: they are the account */
	CHECK_INT(parse("defaults\nhost h\nport 2\n", &cfg, &err), 0);
	CHECK_INT(conf_select(cfg, NULL, "x@y", &a, &err), 0);
	CHECK_STR(a.host, "h");
	CHECK_INT(a.port, 2);
	CHECK_STR(a.name, "default");
	account_clear(&a);
	/* ...and named "default", which selects them again (a queued
	 * message keeps the name it was sent with) */
	CHECK_INT(conf_select(cfg, "default", NULL, &a, &err), 0);
	CHECK_STR(a.host, "h");
	CHECK_STR(a.name, "default");
	account_clear(&a);
	CHECK_INT(conf_select(cfg, "other", NULL, &a, &err), -1);
	account_clear(&a);
	conf_free(cfg);
}

/* ------------------------------------------------------------------------
 * Ceilings.
 */

static void
test_ceilings(void)
{
	struct buf b;
	struct config *cfg;
	struct error err;
	struct account a;

	/* a line of exactly CONF_LINE_MAX bytes is fine, one more is not */
	buf_init(&b, 2 * CONF_FILE_MAX);
	buf_append_str(&b, "defaults\nhost ");
	for (int i = 0; i < CONF_LINE_MAX - 5; i++)
		buf_append_char(&b, 'x');
	buf_append_str(&b, "\r\n");
	CHECK_INT(conf_parse(b.data, b.len, "c", &cfg, &err), 0);
	CHECK_INT(conf_select(cfg, NULL, NULL, &a, &err), 0);
	CHECK_INT(strlen(a.host), CONF_LINE_MAX - 5);
	account_clear(&a);
	conf_free(cfg);
	buf_reset(&b);
	buf_append_str(&b, "defaults\nhost ");
	for (int i = 0; i < CONF_LINE_MAX - 4; i++)
		buf_append_char(&b, 'x');
	CHECK_INT(conf_parse(b.data, b.len, "c", &cfg, &err), -1);
	CHECK_STR(err.msg, "c:2: line longer than 4096 bytes");

	/* the whole file */
	buf_reset(&b);
	while (b.len <= CONF_FILE_MAX)
		buf_append_str(&b, "# filler filler filler filler filler\n");
	CHECK_INT(conf_parse(b.data, b.len, "c", &cfg, &err), -1);
	CHECK_STR(err.msg, "c is larger than 1048576 bytes");

	/* number of accounts */
	buf_reset(&b);
	for (int i = 0; i <= CONF_ACCOUNTS_MAX; i++)
		buf_printf(&b, "account a%d\n", i);
	CHECK_INT(conf_parse(b.data, b.len, "c", &cfg, &err), -1);
	CHECK_STR(err.msg, "c:1001: more than 1000 accounts");
	buf_clear(&b);

	/* a NUL byte is not text */
	CHECK_INT(conf_parse("host a\0b\n", 9, "c", &cfg, &err), -1);
	CHECK_STR(err.msg, "c:1: NUL byte in line");
}

/* ------------------------------------------------------------------------
 * Files: locating, reading, permissions.
 */

static char tmpdir[64];

static const char *
tmp_file(const char *name, const char *text, mode_t mode)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (!f)
		return path;
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

static void
test_permissions(void)
{
	static const struct {
		const char *text;
		mode_t mode;
		const char *want; /* NULL: accepted; else in the message */
	} cases[] = {
	    {"defaults\nhost h\npassword hunter2\n", 0644,
	     "contains a password but is readable by others; run 'chmod "
	     "600 "},
	    {"defaults\nhost h\npassword hunter2\n", 0640, "readable"},
	    {"defaults\nhost h\npassword hunter2\n", 0620, "writable"},
	    {"defaults\nhost h\npassword hunter2\n", 0601, "accessible"},
	    {"defaults\nhost h\npassword hunter2\n", 0600, NULL},
	    {"defaults\nhost h\npassword hunter2\n", 0400, NULL},
	    {"account a\nhost h\npasswordeval pass show x\n", 0660,
	     "chmod 600"},
	    {"defaults\nhost h\n", 0644, NULL},
	    {"defaults\nhost h\npassword\n", 0644, NULL},
	    /* where a password is, not the password: any mode */
	    {"defaults\nhost h\npasswordfd 3\npasswordenv P\n"
	     "passwordcred c\nauth_plaintext on\npasswordeval_timeout 9\n",
	     0644, NULL},
	    {"account a\nhost h\npasswordfd 3\npasswordeval x\n", 0640,
	     "readable"},
	    /* an OAuth2 client's secret and its command, like a password */
	    {"account a\nhost h\noauth2_client_secret hunter2\n", 0644,
	     "readable by others; run 'chmod 600 "},
	    {"account a\nhost h\noauth2_client_secret_eval pass x\n", 0620,
	     "writable"},
	    {"account a\nhost h\noauth2_client_secret hunter2\n", 0600, NULL},
	    /* the rest of OAuth2's keys name no secret */
	    {"account a\nhost h\noauth2_client_id c\noauth2_scope s\n"
	     "oauth2_token_endpoint https://h/t\noauth2_store file\n",
	     0644, NULL},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *path = tmp_file("rc", cases[i].text, cases[i].mode);
		struct config *cfg = NULL;
		struct error err;
		int rc;

		error_clear(&err);
		rc = conf_read_file(path, &cfg, &err);
		if (!cases[i].want) {
			CHECK_INT(rc, 0);
			CHECK(cfg != NULL);
			CHECK_STR(err.msg, "");
		} else {
			CHECK_INT(rc, -1);
			CHECK(cfg == NULL);
			CHECK_INT(err.kind, ERROR_CONFIG);
			CHECK(strstr(err.msg, cases[i].want) != NULL);
			CHECK(strstr(err.msg, path) != NULL);
			CHECK(strstr(err.msg, "hunter2") == NULL);
		}
		conf_free(cfg);
		unlink(path);
	}
}

/* A system file (Debian's /etc/msmtprc is 0640 root:msmtp) may be read by
 * its group; never by others, never written by anyone but its owner. */
static void
test_system_file(void)
{
	static const struct {
		mode_t mode;
		const char *want; /* NULL: accepted; else in the message */
	} cases[] = {
	    {0640, NULL},
	    {0600, NULL},
	    {0644, "readable by others; run 'chmod 640 "},
	    {0604, "readable by others"},
	    {0660, "writable by others"},
	    {0641, "accessible by others"},
	};

	CHECK(conf_is_system_file("/etc/msmtprc"));
	CHECK(conf_is_system_file(SYSCONFDIR "/msmtprc"));
	CHECK(conf_is_system_file(SYSCONFDIR "/mailpost.conf"));
	CHECK(!conf_is_system_file("/home/u/.msmtprc"));
	CHECK(!conf_is_system_file("/etc/msmtprc.bak"));
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *path = tmp_file(
		    "sys", "account default\nhost h\npassword hunter2\n",
		    cases[i].mode);
		struct config *cfg = NULL;
		struct error err;
		int rc;

		error_clear(&err);
		rc = conf_read_file_as(path, true, &cfg, &err);
		if (!cases[i].want) {
			CHECK_INT(rc, 0);
			CHECK_STR(err.msg, "");
		} else {
			CHECK_INT(rc, -1);
			CHECK(strstr(err.msg, cases[i].want) != NULL);
			CHECK(strstr(err.msg, "hunter2") == NULL);
		}
		conf_free(cfg);
		/* The same file as the user's own: only 0600 and 0400. */
		if (cases[i].mode != 0600) {
			cfg = NULL;
			CHECK_INT(conf_read_file_as(path, false, &cfg, &err),
			          -1);
			conf_free(cfg);
		}
		unlink(path);
	}
}

/* Only root can give a file away. */
static void
test_owner(void)
{
	const char *path;
	struct config *cfg;
	struct error err;

	if (geteuid() != 0)
		return;
	path = tmp_file("owned", "defaults\npassword hunter2\n", 0600);
	CHECK_INT(chown(path, 65534, (gid_t)-1), 0);
	CHECK_INT(conf_read_file(path, &cfg, &err), -1);
	CHECK(strstr(err.msg, "is owned by another user (uid 65534)") != NULL);
	CHECK(strstr(err.msg, "hunter2") == NULL);
	/* A system file: root's or the user's, nobody else's. */
	CHECK_INT(conf_read_file_as(path, true, &cfg, &err), -1);
	CHECK(strstr(err.msg, "must be owned by the user running mailpost or "
	                      "by root") != NULL);
	unlink(path);
}

static void
test_read_file(void)
{
	char path[128], link_path[160];
	struct config *cfg;
	struct account a;
	struct error err;

	/* a symlink (dotfile managers) is followed */
	snprintf(
	    path, sizeof path, "%s",
	    tmp_file("real", "account default\nhost h\npassword p\n", 0600));
	snprintf(link_path, sizeof link_path, "%s/link", tmpdir);
	CHECK_INT(symlink(path, link_path), 0);
	CHECK_INT(conf_read_file(link_path, &cfg, &err), 0);
	CHECK_INT(conf_select(cfg, NULL, NULL, &a, &err), 0);
	CHECK_STR(a.password, "p");
	CHECK_STR(a.file, link_path);
	account_clear(&a);
	CHECK(a.password == NULL);
	conf_free(cfg);
	unlink(link_path);
	unlink(path);

	/* errors name the file */
	CHECK_INT(conf_read_file(path, &cfg, &err), -1);
	CHECK(cfg == NULL);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, path) != NULL);
	CHECK(strstr(err.msg, "No such file or directory") != NULL);
	CHECK_INT(conf_read_file(tmpdir, &cfg, &err), -1);
	CHECK(strstr(err.msg, "not a regular file") != NULL);

	/* /dev/null is an empty file */
	CHECK_INT(conf_read_file("/dev/null", &cfg, &err), 0);
	CHECK_INT(conf_select(cfg, NULL, NULL, &a, &err), 0);
	CHECK(a.host == NULL);
	account_clear(&a);
	conf_free(cfg);
	CHECK_INT(conf_read_file("/dev/zero", &cfg, &err), -1);

	/* syntax errors carry the path */
	snprintf(path, sizeof path, "%s",
	         tmp_file("bad", "defaults\nport x\n", 0644));
	CHECK_INT(conf_read_file(path, &cfg, &err), -1);
	CHECK(strncmp(err.msg, path, strlen(path)) == 0);
	CHECK(strstr(err.msg, ":2: key 'port'") != NULL);
	unlink(path);
}

static void
test_locate(void)
{
	char home[96], want[160], sub[160];
	char *path;
	struct error err;

	snprintf(home, sizeof home, "%s/home", tmpdir);
	mkdir(home, 0700);
	setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("MAILPOST_CONFIG");

	/* an explicit file must exist */
	CHECK_INT(conf_locate("/nonexistent/x", &path, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK_STR(err.msg, "cannot read /nonexistent/x: No such file or "
	                   "directory");
	CHECK(path == NULL);
	CHECK_INT(conf_locate("/dev/null", &path, &err), 0);
	CHECK_STR(path, "/dev/null");
	free(path);

	/* ~/.msmtprc */
	snprintf(want, sizeof want, "%s/.msmtprc", home);
	tmp_file("home/.msmtprc", "", 0600);
	CHECK_INT(conf_locate(NULL, &path, &err), 0);
	CHECK_STR(path, want);
	free(path);

	/* ~/.config/mailpost/config comes before it */
	snprintf(sub, sizeof sub, "%s/.config", home);
	mkdir(sub, 0700);
	snprintf(sub, sizeof sub, "%s/.config/mailpost", home);
	mkdir(sub, 0700);
	tmp_file("home/.config/mailpost/config", "", 0600);
	snprintf(want, sizeof want, "%s/.config/mailpost/config", home);
	CHECK_INT(conf_locate(NULL, &path, &err), 0);
	CHECK_STR(path, want);
	free(path);

	/* $XDG_CONFIG_HOME replaces ~/.config: none there, so ~/.msmtprc */
	setenv("XDG_CONFIG_HOME", tmpdir, 1);
	snprintf(want, sizeof want, "%s/.msmtprc", home);
	CHECK_INT(conf_locate(NULL, &path, &err), 0);
	CHECK_STR(path, want);
	free(path);

	/* $MAILPOST_CONFIG first, when it exists */
	setenv("MAILPOST_CONFIG", "/dev/null", 1);
	CHECK_INT(conf_locate(NULL, &path, &err), 0);
	CHECK_STR(path, "/dev/null");
	free(path);
	setenv("MAILPOST_CONFIG", "/nonexistent", 1);
	CHECK_INT(conf_locate(NULL, &path, &err), 0);
	CHECK_STR(path, want);
	free(path);

	/* nothing at all is not an error (unless SYSCONFDIR has one) */
	unsetenv("MAILPOST_CONFIG");
	setenv("HOME", "/nonexistent", 1);
	CHECK_INT(conf_locate(NULL, &path, &err), 0);
	CHECK(path == NULL || strstr(path, "mailpost.conf") != NULL);
	free(path);

	snprintf(sub, sizeof sub, "%s/.config/mailpost/config", home);
	unlink(sub);
	snprintf(sub, sizeof sub, "%s/.config/mailpost", home);
	rmdir(sub);
	snprintf(sub, sizeof sub, "%s/.config", home);
	rmdir(sub);
	snprintf(sub, sizeof sub, "%s/.msmtprc", home);
	unlink(sub);
	rmdir(home);
}

/* ------------------------------------------------------------------------
 * A whole file: the example from msmtp(1), as users copy it.
 */

static const char msmtp_example[] =
    "# Example for a user configuration file ~/.msmtprc\n"
    "#\n"
    "# This file focusses on TLS and authentication.\n"
    "\n"
    "# Set default values for all following accounts.\n"
    "defaults\n"
    "\n"
    "# Use the mail submission port 587 instead of the SMTP port 25.\n"
    "port 587\n"
    "\n"
    "# Always use TLS.\n"
    "tls on\n"
    "\n"
    "#tls_trust_file /etc/ssl/certs/ca-certificates.crt\n"
    "\n"
    "# A freemail service\n"
    "account freemail\n"
    "\n"
    "# Host name of the SMTP server\n"
    "host smtp.freemail.example\n"
    "\n"
    "#tls_fingerprint 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
    "00:11:22:33\n"
    "\n"
    "# Envelope-from address\n"
    "from joe_smith@freemail.example\n"
    "\n"
    "auth on\n"
    "user joe.smith\n"
    "\n"
    "passwordeval gpg2 --no-tty -q -d ~/.msmtp-password.gpg\n"
    "\n"
    "#password secret123\n"
    "\n"
    "# A second mail address at the same freemail service\n"
    "account freemail2 : freemail\n"
    "from joey@freemail.example\n"
    "\n"
    "# The SMTP server of your ISP\n"
    "account isp\n"
    "host mail.isp.example\n"
    "from smithjoe@isp.example\n"
    "auth on\n"
    "user 12345\n"
    "\n"
    "# Set a default account\n"
    "account default : freemail\n";

/* The example in mailpost.conf(5). */
static const char man_example[] =
    "defaults\n"
    "port 587\n"
    "tls on\n"
    "tls_trust_file system\n"
    "logfile ~/.local/state/mailpost.log\n"
    "account freemail\n"
    "host smtp.freemail.example\n"
    "from joe_smith@freemail.example\n"
    "auth on\n"
    "user joe.smith\n"
    "passwordeval gpg --no-tty -q -d ~/.mail-password.gpg\n"
    "account freemail2 : freemail\n"
    "from joey@freemail.example\n"
    "account work\n"
    "host relay1.work.example, relay2.work.example\n"
    "port 25\n"
    "tls_starttls on\n"
    "from *@work.example\n"
    "rcpt_policy all\n"
    "failover_timeout 60\n"
    "fallback_account freemail\n"
    "account default : freemail\n"
    "account fastmail\n"
    "host smtp.fastmail.com\n"
    "port 465\n"
    "tls on\n"
    "tls_starttls off\n"
    "from joe@fastmail.example\n"
    "auth on\n"
    "user joe@fastmail.example\n"
    "passwordeval pass show mail/fastmail-app-password\n"
    "account office\n"
    "host smtp.office365.com\n"
    "port 587\n"
    "tls on\n"
    "from joe@corp.example\n"
    "auth xoauth2\n"
    "user joe@corp.example\n"
    "passwordeval mutt_oauth2.py ~/.config/mailpost/office.tokens\n"
    "passwordeval_timeout 60\n"
    "account gmail\n"
    "host smtp.gmail.com\n"
    "port 465\n"
    "tls on\n"
    "tls_starttls off\n"
    "from joe@gmail.example\n"
    "auth oauthbearer\n"
    "user joe@gmail.example\n"
    "passwordeval mutt_oauth2.py ~/.config/mailpost/gmail.tokens\n"
    "account relay\n"
    "host relay.work.example\n"
    "tls on\n"
    "auth on\n"
    "user app-server\n";

/* The system configuration in mailpost(1), USING MAILPOST AS THE SYSTEM
 * SENDMAIL. */
static const char system_example[] = "# /etc/mailpost.conf\n"
                                     "defaults\n"
                                     "queue_dir /var/spool/mailpost\n"
                                     "aliases /etc/aliases\n"
                                     "maildomain example.org\n"
                                     "auto_from on\n"
                                     "rewrite_local_from on\n"
                                     "qualify_headers on\n"
                                     "\n"
                                     "account default\n"
                                     "host smtp1.example.org, "
                                     "smtp2.example.org\n"
                                     "tls on\n";

static void
test_system_example(void)
{
	struct account a;
	struct error err;

	CHECK_INT(load(system_example, NULL, &a, &err), 0);
	CHECK_STR(a.queue_dir, "/var/spool/mailpost");
	CHECK_STR(a.aliases, "/etc/aliases");
	CHECK_STR(a.maildomain, "example.org");
	CHECK(a.auto_from && a.rewrite_local_from && a.qualify_headers);
	CHECK_STR(a.host, "smtp1.example.org, smtp2.example.org");
	CHECK(a.tls);
	account_clear(&a);
}

static void
test_man_example(void)
{
	struct config *cfg;
	struct account a;
	struct error err;

	CHECK_INT(parse(man_example, &cfg, &err), 0);
	CHECK_INT(conf_select(cfg, NULL, "boss@work.example", &a, &err), 0);
	CHECK_STR(a.name, "work");
	CHECK_INT(a.port, 25);
	CHECK_INT(a.rcpt_policy, RCPT_POLICY_ALL);
	CHECK_STR(a.host, "relay1.work.example, relay2.work.example");
	CHECK_STR(a.fallback_account, "freemail");
	CHECK_INT(a.failover_timeout, 60);
	account_clear(&a);
	CHECK_INT(conf_select(cfg, "freemail2", NULL, &a, &err), 0);
	CHECK_STR(a.host, "smtp.freemail.example");
	CHECK_STR(a.from, "joey@freemail.example");
	account_clear(&a);
	CHECK_INT(conf_select(cfg, NULL, NULL, &a, &err), 0);
	CHECK_STR(a.from, "joe_smith@freemail.example");
	CHECK_INT(a.port, 587);
	account_clear(&a);
	CHECK_INT(conf_select(cfg, "office", NULL, &a, &err), 0);
	CHECK_STR(a.auth, "xoauth2");
	CHECK_INT(a.passwordeval_timeout, 60);
	account_clear(&a);
	CHECK_INT(conf_select(cfg, NULL, "joe@gmail.example", &a, &err), 0);
	CHECK_STR(a.auth, "oauthbearer");
	CHECK_INT(a.tls_starttls, 0);
	account_clear(&a);
	conf_free(cfg);
}

static void
test_msmtp_example(void)
{
	struct config *cfg;
	struct account a;
	struct error err;

	CHECK_INT(parse(msmtp_example, &cfg, &err), 0);
	CHECK_INT(conf_select(cfg, NULL, NULL, &a, &err), 0);
	CHECK_STR(a.name, "default");
	CHECK_STR(a.host, "smtp.freemail.example");
	CHECK_INT(a.port, 587);
	CHECK(a.tls && a.tls_starttls && a.tls_certcheck);
	CHECK_STR(a.from, "joe_smith@freemail.example");
	CHECK_STR(a.auth, "on");
	CHECK_STR(a.user, "joe.smith");
	CHECK_STR(a.passwordeval, "gpg2 --no-tty -q -d ~/.msmtp-password.gpg");
	account_clear(&a);

	CHECK_INT(conf_select(cfg, NULL, "joey@freemail.example", &a, &err), 0);
	CHECK_STR(a.name, "freemail2");
	CHECK_STR(a.host, "smtp.freemail.example");
	account_clear(&a);

	CHECK_INT(conf_select(cfg, NULL, "smithjoe@isp.example", &a, &err), 0);
	CHECK_STR(a.name, "isp");
	CHECK_STR(a.user, "12345");
	CHECK_INT(a.port, 587);
	CHECK(a.passwordeval == NULL);
	account_clear(&a);
	conf_free(cfg);

	/* and from a real file with the permissions msmtp asks for */
	{
		const char *path = tmp_file("msmtprc", msmtp_example, 0600);

		CHECK_INT(conf_read_file(path, &cfg, &err), 0);
		conf_free(cfg);
		chmod(path, 0644);
		CHECK_INT(conf_read_file(path, &cfg, &err), -1);
		unlink(path);
	}
}

/* conf_resolve_evals' stand-in: "ok..." gives "secret-ok...", anything
 * else fails; counts its calls. */
static int eval_calls;

static int
fake_eval(const char *command, int timeout_s, void *arg, char **out,
          struct error *err)
{
	char buf[64];

	(void)arg;
	eval_calls++;
	if (strncmp(command, "ok", 2) != 0)
		return error_set(err, ERROR_CONFIG, "failed: %s (%d s)",
		                 command, timeout_s);
	snprintf(buf, sizeof buf, "secret-%s", command);
	*out = strdup(buf);
	return 0;
}

static int
fake_rename(const char *path, void *arg, char **out, struct error *err)
{
	char buf[256];

	(void)arg;
	(void)err;
	snprintf(buf, sizeof buf, "copy-of-%s", path);
	*out = strdup(buf);
	return 0;
}

/* A passwordeval becomes the password; a failing one is reported only for
 * the account that would use it; the key and certificate are renamed. */
static void
test_resolve(void)
{
	struct config *cfg = NULL;
	struct account a;
	struct error err;

	CHECK_INT(parse("defaults\npasswordeval ok1\n"
	                "tls_key_file /k\ntls_cert_file /c\n"
	                "account good\nhost h\n"
	                "account bad\nhost h\npasswordeval no2\n"
	                "passwordeval_timeout 7\n"
	                "account plain\nhost h\npassword pw\n",
	                &cfg, &err),
	          0);
	eval_calls = 0;
	CHECK_INT(conf_resolve_evals(cfg, fake_eval, NULL, &err), 0);
	CHECK_INT(eval_calls, 3); /* defaults, good, bad: plain has none */
	CHECK_INT(conf_resolve_files(cfg, fake_rename, NULL, &err), 0);
	CHECK_INT(conf_select(cfg, "good", NULL, &a, &err), 0);
	CHECK_STR(a.password, "secret-ok1");
	CHECK(a.passwordeval == NULL);
	CHECK_STR(a.tls_key_file, "copy-of-/k");
	CHECK_STR(a.tls_cert_file, "copy-of-/c");
	account_clear(&a);
	CHECK_INT(conf_select(cfg, "plain", NULL, &a, &err), 0);
	CHECK_STR(a.password, "pw");
	account_clear(&a);
	error_clear(&err);
	CHECK_INT(conf_select(cfg, "bad", NULL, &a, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK_STR(err.msg, "failed: no2 (7 s)");
	account_clear(&a);
	conf_free(cfg);
}

/* The accounts of the setgid test: a1 falls back to a2; default has a2's
 * command; bymail is chosen by its `from`; nosecret has nothing to lose. */
static const char keep_text[] =
    "defaults\nauth plain\n"
    "account a1\nhost h\npasswordeval ok-a1\nfallback_account a2\n"
    "tls_key_file /k1\n"
    "account a2\nhost h\npasswordeval ok-a2\n"
    "account other\nhost h\npassword other-pw\ntls_cert_file /c\n"
    "account bymail\nhost h\nfrom *@mail.example\npasswordeval ok-bm\n"
    "account nosecret\nhost h\n"
    "account default : a2\n";

/* conf_select of `name` gives it with its other settings; with the
 * password given, usable; else withheld, without secrets, and
 * conf_check_withheld says so. */
static void
check_kept(struct config *cfg, const char *name, const char *password)
{
	struct account a;
	struct error err;

	error_clear(&err);
	CHECK_INT(conf_select(cfg, name, NULL, &a, &err), 0);
	CHECK_STR(a.host, "h");
	if (password) {
		CHECK(!a.withheld);
		CHECK_STR(a.password, password);
		CHECK_INT(conf_check_withheld(&a, &err), 0);
	} else {
		CHECK(a.withheld);
		CHECK(a.password == NULL && a.passwordeval == NULL);
		CHECK(a.tls_key_file == NULL && a.tls_cert_file == NULL);
		CHECK_INT(conf_check_withheld(&a, &err), -1);
		CHECK_INT(err.kind, ERROR_CONFIG);
		CHECK(strstr(err.msg, "was not chosen when this run started"));
		CHECK(strstr(err.msg, "-A "));
	}
	account_clear(&a);
}

/* Resolve what cfg kept, counting the commands run. */
static void
resolve_kept(struct config *cfg, int calls)
{
	struct error err;

	error_clear(&err);
	eval_calls = 0;
	CHECK_INT(conf_resolve_evals(cfg, fake_eval, NULL, &err), 0);
	CHECK_INT(eval_calls, calls);
	CHECK_INT(conf_resolve_files(cfg, fake_rename, NULL, &err), 0);
}

/* Only the chosen account and its fallback chain keep their secrets; the
 * others lose them and are refused, except one that had none. */
static void
test_keep_secrets(void)
{
	struct config *cfg = NULL;
	struct account a;
	struct error err;

	CHECK_INT(parse(keep_text, &cfg, &err), 0);
	conf_keep_secrets(cfg, "a1", NULL, false);
	resolve_kept(cfg, 2); /* a1 and its fallback a2 */
	check_kept(cfg, "a1", "secret-ok-a1");
	check_kept(cfg, "a2", "secret-ok-a2");
	check_kept(cfg, "other", NULL);
	check_kept(cfg, "bymail", NULL);
	check_kept(cfg, "default", NULL);
	CHECK_INT(conf_select(cfg, "nosecret", NULL, &a, &err), 0);
	CHECK(!a.withheld);
	account_clear(&a);
	CHECK_INT(conf_select(cfg, "a1", NULL, &a, &err), 0);
	CHECK_STR(a.tls_key_file, "copy-of-/k1");
	account_clear(&a);
	conf_free(cfg);

	/* Chosen by -f, as conf_select chooses. */
	CHECK_INT(parse(keep_text, &cfg, &err), 0);
	conf_keep_secrets(cfg, NULL, "Anna@Mail.Example", false);
	resolve_kept(cfg, 1);
	check_kept(cfg, "bymail", "secret-ok-bm");
	check_kept(cfg, "default", NULL);
	check_kept(cfg, "a1", NULL);
	conf_free(cfg);

	/* Neither: the default account. */
	CHECK_INT(parse(keep_text, &cfg, &err), 0);
	conf_keep_secrets(cfg, NULL, NULL, false);
	resolve_kept(cfg, 1);
	check_kept(cfg, "default", "secret-ok-a2");
	check_kept(cfg, "a2", NULL);
	conf_free(cfg);

	/* The sender is read later: every account a `from` could choose
	 * too, but not a named one's neighbours. */
	CHECK_INT(parse(keep_text, &cfg, &err), 0);
	conf_keep_secrets(cfg, NULL, NULL, true);
	resolve_kept(cfg, 2);
	check_kept(cfg, "default", "secret-ok-a2");
	check_kept(cfg, "bymail", "secret-ok-bm");
	check_kept(cfg, "a1", NULL);
	check_kept(cfg, "other", NULL);
	conf_free(cfg);
	CHECK_INT(parse(keep_text, &cfg, &err), 0);
	conf_keep_secrets(cfg, "other", NULL, true);
	resolve_kept(cfg, 0);
	check_kept(cfg, "other", "other-pw");
	check_kept(cfg, "bymail", NULL);
	CHECK_INT(conf_select(cfg, "other", NULL, &a, &err), 0);
	CHECK_STR(a.tls_cert_file, "copy-of-/c");
	account_clear(&a);
	conf_free(cfg);

	/* An unknown name keeps nothing, and is reported as unknown. */
	CHECK_INT(parse(keep_text, &cfg, &err), 0);
	conf_keep_secrets(cfg, "nosuch", NULL, false);
	resolve_kept(cfg, 0);
	error_clear(&err);
	CHECK_INT(conf_select(cfg, "nosuch", NULL, &a, &err), -1);
	CHECK(strstr(err.msg, "account 'nosuch' not found"));
	account_clear(&a);
	check_kept(cfg, "a1", NULL);
	conf_free(cfg);

	/* The defaults alone are the account "default". */
	CHECK_INT(parse("defaults\nhost h\npasswordeval ok-d\n", &cfg, &err),
	          0);
	conf_keep_secrets(cfg, NULL, NULL, false);
	resolve_kept(cfg, 1);
	check_kept(cfg, NULL, "secret-ok-d");
	conf_free(cfg);

	/* A chain that loops ends, and conf_select still names the loop. */
	CHECK_INT(parse("account x\nhost h\npassword p\nfallback_account y\n"
	                "account y\nhost h\npassword q\nfallback_account x\n"
	                "account z\nhost h\npassword r\n",
	                &cfg, &err),
	          0);
	conf_keep_secrets(cfg, "x", NULL, false);
	error_clear(&err);
	CHECK_INT(conf_select(cfg, "x", NULL, &a, &err), -1);
	CHECK(strstr(err.msg, "fallback_account loops"));
	account_clear(&a);
	check_kept(cfg, "z", NULL);
	conf_free(cfg);
	conf_keep_secrets(NULL, "x", NULL, false);
}

/* The keys that go together, checked when the account is chosen. */
static void
test_oauth2(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"account a\nuser u\noauth2_provider google\noauth2_client_id c\n",
	     NULL},
	    {"account a\nuser u\noauth2_provider google\noauth2_client_id c\n"
	     "auth on\n",
	     NULL},
	    {"account a\nuser u\noauth2_provider microsoft\n"
	     "oauth2_client_id c\nauth xoauth2\n",
	     NULL},
	    {"account a\nuser u\noauth2_provider microsoft\n"
	     "oauth2_client_id c\nauth oauthbearer\n",
	     NULL},
	    {"account a\noauth2_provider google\noauth2_client_id c\n",
	     "account 'a': oauth2_provider google needs 'user' (the mailbox "
	     "the token is for)"},
	    {"account a\nuser u\noauth2_provider microsoft\n",
	     "account 'a': oauth2_provider microsoft needs oauth2_client_id "
	     "(mailpost ships none: register one as mailpost.conf(5), OAUTH2, "
	     "says)"},
	    {"account a\nuser u\noauth2_provider generic\noauth2_client_id c\n",
	     "account 'a': oauth2_provider generic needs oauth2_token_endpoint "
	     "(nothing is built in)"},
	    {"account a\nuser u\noauth2_provider google\noauth2_client_id c\n"
	     "auth plain\n",
	     "account 'a': auth plain cannot go with oauth2_provider google; "
	     "set auth on, oauthbearer or xoauth2, or remove oauth2_provider"},
	    /* Inherited from the defaults, and turned off again. */
	    {"defaults\noauth2_provider google\naccount a\nuser u\n"
	     "oauth2_client_id c\nauth login\n",
	     "account 'a': auth login cannot go with oauth2_provider google; "
	     "set auth on, oauthbearer or xoauth2, or remove oauth2_provider"},
	    {"defaults\noauth2_provider google\naccount a\nauth login\n"
	     "oauth2_provider off\n",
	     NULL},
	    /* passwordeval with auth xoauth2 keeps working without it. */
	    {"account a\nuser u\nauth xoauth2\npasswordeval echo t\n", NULL},
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct account a;
		struct error err;
		int rc = load(cases[i].text, "a", &a, &err);

		if (!cases[i].want) {
			if (rc != 0)
				unit_report(0, __FILE__, __LINE__, err.msg);
		} else {
			CHECK_INT(rc, -1);
			CHECK_INT(err.kind, ERROR_CONFIG);
			CHECK_STR(err.msg, cases[i].want);
		}
		account_clear(&a);
	}
}

/* The client secret is a secret: the file's permissions, not echoed,
 * wiped with the accounts a run does not use, and its command run by
 * conf_resolve_evals. */
static void
test_oauth2_secret(void)
{
	const char *text =
	    "account a\nuser u\noauth2_provider google\n"
	    "oauth2_client_id c\noauth2_client_secret_eval ok-client\n"
	    "passwordeval ok-pw\n"
	    "account b\nuser u\noauth2_provider google\n"
	    "oauth2_client_id c\noauth2_client_secret S\n";
	struct config *cfg;
	struct account a;
	struct error err;

	CHECK_INT(parse(text, &cfg, &err), 0);
	CHECK_INT(conf_resolve_evals(cfg, fake_eval, NULL, &err), 0);
	CHECK_INT(conf_select(cfg, "a", NULL, &a, &err), 0);
	CHECK_STR(a.oauth2_client_secret, "secret-ok-client");
	CHECK(a.oauth2_client_secret_eval == NULL);
	CHECK_STR(a.password, "secret-ok-pw");
	account_clear(&a);
	/* b is not chosen: its secret is forgotten, and it is refused. */
	conf_keep_secrets(cfg, "a", NULL, false);
	CHECK_INT(conf_select(cfg, "b", NULL, &a, &err), 0);
	CHECK(a.oauth2_client_secret == NULL);
	CHECK(a.withheld);
	account_clear(&a);
	conf_free(cfg);

	/* A failing command is kept for when its account is chosen. */
	CHECK_INT(parse("account a\nuser u\noauth2_provider google\n"
	                "oauth2_client_id c\noauth2_client_secret_eval fail\n",
	                &cfg, &err),
	          0);
	CHECK_INT(conf_resolve_evals(cfg, fake_eval, NULL, &err), 0);
	CHECK_INT(conf_select(cfg, "a", NULL, &a, &err), -1);
	CHECK_STR(err.msg, "failed: fail (0 s)");
	account_clear(&a);
	conf_free(cfg);

	/* A refused value of a secret key is not repeated. */
	CHECK_INT(
	    parse("account a\noauth2_client_secret \"s3cr3t\n", &cfg, &err),
	    -1);
	CHECK(strstr(err.msg, "s3cr3t") == NULL);
	CHECK_INT(parse("account a\noauth2_client_secret_eval \"s3cr3t\n", &cfg,
	                &err),
	          -1);
	CHECK(strstr(err.msg, "s3cr3t") == NULL);
}

/* conf_select_defaults: the defaults section alone, whatever accounts
 * the file has and whether one is "default" (--configure's settings). */
static void
test_select_defaults(void)
{
	struct config *cfg = NULL;
	struct account a;
	struct error err;

	error_clear(&err);
	CHECK_INT(parse("defaults\ntls_trust_file /ca.pem\ntimeout 7\n"
	                "account work\nhost smtp.work.example\n"
	                "tls_trust_file /other.pem\n",
	                &cfg, &err),
	          0);
	conf_select_defaults(cfg, &a);
	CHECK_STR(a.name, "defaults");
	CHECK_STR(a.tls_trust_file, "/ca.pem");
	CHECK_INT(a.timeout, 7);
	CHECK(a.host == NULL);
	CHECK(a.tls_starttls); /* the built-in values under it */
	account_clear(&a);
	conf_free(cfg);
}

int
main(void)
{
	test_select_defaults();
	test_oauth2();
	test_oauth2_secret();
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%s/conf_test.XXXXXX",
	         t && *t && strlen(t) < 40 ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_good_values();
	test_syslog_values();
	test_bad_values();
	test_secret_not_echoed();
	test_defaults_builtin();
	test_comments_and_blanks();
	test_inheritance();
	test_queue_inheritance();
	test_fallback();
	test_hidden();
	test_default_alias();
	test_implicit_default();
	test_structure_errors();
	test_account_names();
	test_select();
	test_ceilings();
	test_permissions();
	test_system_file();
	test_owner();
	test_read_file();
	test_locate();
	test_msmtp_example();
	test_man_example();
	test_system_example();
	test_resolve();
	test_keep_secrets();
	rmdir(tmpdir);
	return unit_done();
}
