#!/usr/bin/env bats
# 22-check-config: --check-config (msmtp's -P, --pretend): the settings,
# then one OK / WARN / FAIL line per check, exit 78 when one failed; and
# never a connection, a password shown, or a prompt.  No server runs: a
# connection would be refused and the checks say nothing of one.

load lib/helpers

setup() {
	mailpost_setup
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME"
	unset MAILPOST_CONFIG XDG_CONFIG_HOME
	CONF=$HOME/.config/mailpost/config
	mkdir -p "${CONF%/*}"
}

# conf LINE...: the user's own file, mode 600.
conf() {
	printf '%s\n' "$@" >"$CONF"
	chmod 600 "$CONF"
}

# check EXIT ARGS...: mailpost --check-config ARGS, stdin empty.
check() {
	local want=$1
	shift
	run_mailpost "$want" --check-config "$@" </dev/null
}

# assert_check LEVEL WHAT TEXT: a line "LEVEL  WHAT: ...TEXT...".
assert_check() {
	local level=$1 what=$2 text=$3 line
	while IFS= read -r line; do
		if [[ "$line" == "$level"*"  $what: "*"$text"* ]]; then
			return 0
		fi
	done <<<"$output"
	die "no line '$level $what: ...$text...'" "stdout: $output" "stderr: $stderr"
}

@test "check-config: a good file: the settings, every check OK, a count, exit 0" {
	conf defaults "host 127.0.0.1" "port 1" "from anna@example.org" "tls off"
	check 0
	assert_output_contains "configuration file = $CONF"
	assert_check OK file "$CONF (the first that exists of: \$MAILPOST_CONFIG (not set), $CONF, $HOME/.msmtprc, "
	assert_check OK account "default (no -f or --account given"
	assert_check OK permissions "$CONF, mode 0600"
	assert_check OK host "127.0.0.1, port 1, no TLS"
	assert_check OK tls "off"
	assert_check OK password "not needed (auth off)"
	assert_check OK sender "<anna@example.org>"
	assert_output_contains "0 warnings, 0 failures"
	assert_equal "" "$stderr" "stderr"
}

@test "check-config: the DNS keys are shown, their defaults named" {
	conf defaults "host 127.0.0.1" "port 1" "from anna@example.org" "tls off"
	check 0
	assert_output_contains "dns_server = (not set: /etc/resolv.conf's)"
	assert_output_contains "dnssec_trust_anchor = (not set: /usr/share/dns/root.key when readable)"
	conf defaults "host 127.0.0.1" "port 1" "from anna@example.org" "tls off" \
		"dns_server 127.0.0.1@5353, ::1" "dnssec_trust_anchor ~/anchor.ds"
	check 0
	assert_output_contains "dns_server = 127.0.0.1@5353, ::1"
	assert_output_contains "dnssec_trust_anchor = $HOME/anchor.ds"
}

@test "check-config: no file and no --host fails, naming every place looked for; exit 78" {
	check 78
	assert_check FAIL file "none (looked for \$MAILPOST_CONFIG (not set), $CONF, $HOME/.msmtprc,"
	assert_check FAIL file "write one (mailpost.conf(5)), or give --host HOST"
	assert_output_contains "0 warnings, 1 failure"
	assert_stderr_contains "mailpost: the configuration failed 1 check (FAIL above); fix it and run --check-config again"
	# With --host there is a server: no file is fine.
	check 0 --host 127.0.0.1 -f a@example.org
	assert_check OK file "none (looked for"
	assert_check OK file "--host gives the server"
}

@test "check-config: which account -f chooses, by from and by pattern; --account" {
	conf defaults "host 127.0.0.1" "tls off" \
		"account work" "from *@work.example" \
		"account home" "from anna@home.example" \
		"account default : home"
	check 0 -f bob@work.example
	assert_check OK account "work, chosen by -f bob@work.example, which its 'from *@work.example' matches"
	assert_check OK sender "<bob@work.example>"
	check 0 -f anna@home.example
	assert_check OK account "home, chosen by -f anna@home.example"
	check 0 -f stranger@else.example
	assert_check OK account "default: no account's 'from' matches -f stranger@else.example"
	check 0 -A work -f x@work.example
	assert_check OK account "work, asked for with --account"
	# A pattern with no -f gives no sender: the sender check fails.
	check 78 -A work
	assert_check FAIL sender "account 'work' has the pattern 'from *@work.example' and no -f was given"
}

@test "check-config: an account without a host fails with the file to fix" {
	conf defaults "from a@example.org"
	check 78
	assert_check FAIL host "account 'default' has no 'host'; set it in $CONF, or give --host HOST"
}

@test "check-config: a file others can change warns with the chmod; a password in a readable file is the one error line" {
	conf defaults "host 127.0.0.1" "tls off" "from a@example.org"
	chmod 664 "$CONF"
	check 0
	assert_check WARN permissions "$CONF (mode 0664) can be changed by others, who could send your mail elsewhere; run 'chmod go-w $CONF'"
	assert_output_contains "1 warning, 0 failures"
	conf defaults "host 127.0.0.1" "auth on" "user u" "password pw-Secret-1" "tls off"
	chmod 644 "$CONF"
	check 78
	assert_stderr_contains "$CONF contains a password but is readable by others; run 'chmod 600 $CONF'"
	assert_no_secret pw-Secret-1
}

@test "check-config: passwordeval runs and what it gives is never shown; a failing one fails" {
	conf defaults "host 127.0.0.1" "tls off" "from a@example.org" \
		"auth on" "user u" "passwordeval echo Eval-Secret-7"
	check 0
	assert_check OK password "passwordeval gave one (not shown)"
	assert_check WARN tls "off: the password and the mail would go in the clear; set 'tls on'"
	assert_no_secret Eval-Secret-7
	conf defaults "host 127.0.0.1" "tls off" "from a@example.org" \
		"auth on" "user u" "passwordeval exit 3"
	check 78
	assert_check FAIL password "passwordeval"
	conf defaults "host 127.0.0.1" "tls off" "from a@example.org" \
		"auth on" "user u" "passwordeval true"
	check 78
	assert_check FAIL password "passwordeval"
}

@test "check-config: the secret it tries is got as a send gets it: no core dump can hold it" {
	local limits=$BATS_TEST_TMPDIR/limits
	[[ "$(ulimit -H -c)" != 0 ]] || skip "core dumps are off for this shell already"
	ulimit -S -c "$(ulimit -H -c)"
	# The command records its parent's (mailpost's) limits as it runs.
	conf defaults "host 127.0.0.1" "tls off" "from a@example.org" \
		"auth on" "user u" "passwordeval grep '^Max core' /proc/\$PPID/limits >$limits; echo Eval-Secret-7"
	check 0
	assert_check OK password "passwordeval gave one (not shown)"
	grep -q '^Max core file size *0 *0' "$limits" ||
		die "core dumps allowed while the secret is got:" "$(cat "$limits")"
}

@test "check-config: no password source: a warning, and no prompt even on a terminal" {
	conf defaults "host 127.0.0.1" "tls off" "from a@example.org" "auth on" "user u"
	# PATH without secret-tool: no keyring either.
	PATH=/nonexistent:/usr/bin:/bin check 0
	assert_check WARN password "a send would ask on the terminal, and fail without one"
	assert_output_contains "2 warnings, 0 failures"
}

@test "check-config: the trust file is loaded and its certificates counted; a bad one fails" {
	tls_certs
	conf defaults "host 127.0.0.1" "tls on" "from a@example.org" "tls_trust_file $CERTS/ca.pem"
	check 0
	assert_check OK trust "$CERTS/ca.pem, 1 certificates"
	cat "$CERTS/ca.pem" "$CERTS/other-ca.pem" >"$HOME/two.pem"
	conf defaults "host 127.0.0.1" "tls on" "from a@example.org" "tls_trust_file $HOME/two.pem"
	check 0
	assert_check OK trust "$HOME/two.pem, 2 certificates"
	conf defaults "host 127.0.0.1" "tls on" "from a@example.org" "tls_trust_file $HOME/nope.pem"
	check 78
	assert_check FAIL trust "cannot read tls_trust_file $HOME/nope.pem"
	printf 'not a certificate\n' >"$HOME/junk.pem"
	conf defaults "host 127.0.0.1" "tls on" "from a@example.org" "tls_trust_file $HOME/junk.pem"
	check 78
	assert_check FAIL trust "tls_trust_file $HOME/junk.pem: no PEM certificate in it"
}

@test "check-config: a trust file or client key that is a FIFO, a device or a directory fails at once, never read" {
	tls_certs
	mkfifo "$HOME/fifo.pem"
	conf defaults "host 127.0.0.1" "tls on" "from a@example.org" "tls_trust_file $HOME/fifo.pem"
	check 78
	assert_check FAIL trust "cannot read tls_trust_file $HOME/fifo.pem: it is not a regular file"
	conf defaults "host 127.0.0.1" "tls on" "from a@example.org" "tls_trust_file /dev/zero"
	check 78
	assert_check FAIL trust "cannot read tls_trust_file /dev/zero: it is not a regular file"
	conf defaults "host 127.0.0.1" "tls on" "from a@example.org" "tls_trust_file $CERTS/ca.pem" \
		"tls_cert_file $CERTS/client.pem" "tls_key_file $HOME"
	check 78
	assert_check FAIL "client certificate" "cannot read tls_key_file $HOME: it is a directory"
}

@test "check-config: certcheck off warns, a pin is OK, an empty trust file without a pin fails" {
	tls_certs
	conf defaults "host 127.0.0.1" "tls on" "from a@example.org" "tls_certcheck off"
	check 0
	assert_check WARN trust "tls_certcheck is off: any certificate is accepted"
	conf defaults "host 127.0.0.1" "tls on" "from a@example.org" \
		"tls_fingerprint $(cat "$CERTS/server.sha256")"
	check 0
	assert_check OK trust "the certificate is pinned (tls_fingerprint)"
	conf defaults "host 127.0.0.1" "tls on" "from a@example.org" 'tls_trust_file ""'
	check 78
	assert_check FAIL trust "tls_trust_file is empty and there is no tls_fingerprint"
}

@test "check-config: the client certificate and key load together, or fail naming them" {
	tls_certs
	conf defaults "host 127.0.0.1" "tls on" "from a@example.org" \
		"tls_trust_file $CERTS/ca.pem" \
		"tls_cert_file $CERTS/client.pem" "tls_key_file $CERTS/client.key"
	check 0
	assert_check OK "client certificate" "$CERTS/client.pem and $CERTS/client.key load"
	# The server's key does not match the client's certificate.
	conf defaults "host 127.0.0.1" "tls on" "from a@example.org" \
		"tls_trust_file $CERTS/ca.pem" \
		"tls_cert_file $CERTS/client.pem" "tls_key_file $CERTS/server.key"
	check 78
	assert_check FAIL "client certificate" "tls_cert_file $CERTS/client.pem / tls_key_file $CERTS/server.key:"
	conf defaults "host 127.0.0.1" "tls on" "from a@example.org" \
		"tls_trust_file $CERTS/ca.pem" "tls_cert_file $CERTS/client.pem"
	check 78
	assert_check FAIL "client certificate" "tls_cert_file and tls_key_file must be set together"
}

@test "check-config: msmtp's -P and mailpost's --pretend are the same checks" {
	conf defaults "host 127.0.0.1" "tls off" "from a@example.org"
	run_mailpost 0 --pretend </dev/null
	assert_check OK file "$CONF"
	assert_output_contains "0 warnings, 0 failures"
	ln -s "$MAILPOST" "$BATS_TEST_TMPDIR/msmtp"
	MAILPOST=$BATS_TEST_TMPDIR/msmtp run_mailpost 0 -P </dev/null
	assert_check OK host "127.0.0.1"
	conf defaults "from a@example.org"
	MAILPOST=$BATS_TEST_TMPDIR/msmtp run_mailpost 78 -P </dev/null
	assert_check FAIL host "has no 'host'"
}

@test "check-config: a keyring entry and a netrc line are found, never shown" {
	conf defaults "host 127.0.0.1" "tls off" "from a@example.org" "auth on" "user u"
	mkdir -p "$HOME/bin"
	printf '#!/bin/sh\necho "$@" >%s\necho Ring-Secret-5\n' "$HOME/keyring.args" >"$HOME/bin/secret-tool"
	chmod 755 "$HOME/bin/secret-tool"
	PATH=$HOME/bin:/usr/bin:/bin check 0
	assert_check OK password "keyring gave one (not shown)"
	assert_equal "lookup host 127.0.0.1 service smtp user u" "$(cat "$HOME/keyring.args")" "the keyring lookup"
	assert_no_secret Ring-Secret-5
	printf 'machine 127.0.0.1 login u password Netrc-Secret-6\n' >"$HOME/.netrc"
	chmod 600 "$HOME/.netrc"
	PATH=/nonexistent:/usr/bin:/bin check 0
	assert_check OK password "netrc gave one (not shown)"
	assert_no_secret Netrc-Secret-6
}

# token_file ACCOUNT ENDPOINT CLIENT USER: where the token store keeps that
# identity's tokens (tokstore.c's name: the account's name, then a 64-bit
# FNV-1a digest of the endpoint, the client id and the user).
token_file() {
	python3 - "$@" <<'PY'
import os, re, sys
account, *identity = sys.argv[1:]
h = 14695981039346656037
for value in identity:
    for b in value.encode() + b"\0":
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
name = re.sub(r"[^A-Za-z0-9._-]", "_", account)[:64]
state = os.environ.get("XDG_STATE_HOME") or os.environ["HOME"] + "/.local/state"
print(f"{state}/mailpost/oauth2/{name}-{h:016x}")
PY
}

# oauth2_conf: a Google account "work" of user me@example.org.
oauth2_conf() {
	conf "account work" "host smtp.example.org" "tls on" \
		"user me@example.org" "from me@example.org" \
		"oauth2_provider google" "oauth2_client_id 123.apps.example" \
		"oauth2_client_secret GOCSPX-TOPSECRET" "$@"
	TOKENS=$(token_file work https://oauth2.googleapis.com/token \
		123.apps.example me@example.org)
}

# has_libcurl: the build under test has libcurl (its config.h, next to
# the binary, says so); --check-config warns about an OAuth2 account when
# it has not.
has_libcurl() {
	grep -q '^#define HAVE_LIBCURL 1' "${MAILPOST%/*}/config.h"
}

# oauth2_counts N: the count line of an OAuth2 account's check with N
# warnings, one more in a build without libcurl.
oauth2_counts() {
	local n=$1
	has_libcurl || n=$((n + 1))
	printf '%d warning%s, 0 failures\n' "$n" "$([[ $n == 1 ]] || echo s)"
}

# tokens REFRESH-LINES...: the token file of oauth2_conf's identity.
tokens() {
	mkdir -p -m 700 "${TOKENS%/*}"
	{
		printf '%s\n' "mailpost-oauth2 1" \
			"endpoint https://oauth2.googleapis.com/token" \
			"client 123.apps.example" "user me@example.org" \
			"scope https://mail.google.com/" "$@" end
	} >"$TOKENS"
	chmod 600 "$TOKENS"
}

@test "check-config: an OAuth2 account: provider, endpoints, client id; no login yet warns with the command; no secret shown" {
	oauth2_conf
	check 0 -A work
	assert_output_contains "oauth2_provider = google"
	assert_output_contains "oauth2_client_id = 123.apps.example"
	assert_output_contains "oauth2_client_secret = *"
	assert_output_contains "oauth2_token_endpoint = https://oauth2.googleapis.com/token"
	assert_output_contains "oauth2_store = auto"
	assert_check OK oauth2 "google: token endpoint oauth2.googleapis.com, device grant oauth2.googleapis.com, browser login accounts.google.com; client id 123.apps.example, client secret set (not shown)"
	assert_check WARN "refresh token" "none: no login yet: mailpost --oauth2-login -A work"
	assert_check OK "access token" "none cached"
	assert_output_lacks "TOPSECRET"
	assert_output_lacks "password:"
	assert_output_contains "$(oauth2_counts 1)"
	# -C is in the command to run.
	check 0 -C "$CONF" -A work
	assert_check WARN "refresh token" "none: no login yet: mailpost -C $CONF --oauth2-login -A work"
}

@test "check-config, --dry-run -v: a build without libcurl warns that no token can be requested, naming the package" {
	# No CI run builds without libcurl (configure --without-libcurl):
	# there this proves that a build with it does not warn; a build
	# without it (made by hand: ../configure --without-libcurl) proves
	# the warning.  A build is a minute: too dear for a test to make one.
	local warning="this build has no libcurl: no access token can be requested (a send fails with 69 once none is cached, --oauth2-login too); rebuild with libcurl4-gnutls-dev installed"
	oauth2_conf
	tokens "refresh file" "refresh_token R-1"
	check 0 -A work
	if has_libcurl; then
		assert_output_lacks "libcurl"
	else
		assert_check WARN oauth2 "$warning"
	fi
	run_mailpost 0 -A work --dry-run -v bob@example.net <<<"Subject: x"
	assert_stderr_contains "mailpost: dry run: refresh token: in $TOKENS"
	if has_libcurl; then
		assert_stderr_lacks "libcurl"
	else
		assert_stderr_contains "mailpost: dry run: warning: $warning"
	fi
}

@test "check-config: an OAuth2 login: where the refresh token is and the access token's expiry, never a token" {
	oauth2_conf "oauth2_client_secret_eval echo X" "oauth2_store file"
	tokens "refresh file" "refresh_token REFRESH-SEEN" \
		"access_token ACCESS-SEEN" "access_expires 4102444800"
	check 0 -A work
	assert_check OK "refresh token" "in $TOKENS"
	assert_check OK "access token" "cached until 2100-01-01 00:00:00 UTC"
	assert_output_contains "oauth2_store = file"
	assert_output_lacks "SEEN"
	assert_output_contains "$(oauth2_counts 0)"

	tokens "refresh keyring" "access_token ACCESS-SEEN" "access_expires 1000000000"
	check 0 -A work
	assert_check OK "refresh token" "in the keyring"
	assert_check OK "access token" "cached, expired at 2001-09-09 01:46:40 UTC: a send gets a new one with the refresh token"
	assert_output_lacks "SEEN"
}

@test "check-config: an OAuth2 token file others can read fails with the chmod; one for another user is no login" {
	oauth2_conf
	tokens "refresh file" "refresh_token REFRESH-SEEN"
	chmod 644 "$TOKENS"
	check 78 -A work
	assert_check FAIL "refresh token" "$TOKENS may be read by others; run 'chmod 600 $TOKENS'"
	assert_output_lacks "SEEN"
	chmod 600 "$TOKENS"
	sed -i 's/^user .*/user you@example.org/' "$TOKENS"
	check 0 -A work
	assert_check WARN "refresh token" "none: no login yet"
}

@test "check-config: OAuth2 keys that do not fit are exit 78, naming the key" {
	oauth2_conf "oauth2_token_endpoint http://oauth2.example/token"
	check 78 -A work
	assert_stderr_contains "key 'oauth2_token_endpoint': 'http://oauth2.example/token' is not an https:// URL"
	oauth2_conf "auth plain"
	check 78 -A work
	assert_stderr_contains "account 'work': auth plain cannot go with oauth2_provider google"
	conf "account work" "host h" "user u" "oauth2_provider microsoft"
	check 78 -A work
	assert_stderr_contains "account 'work': oauth2_provider microsoft needs oauth2_client_id"
	conf "account work" "host h" "oauth2_provider microsoft" "oauth2_client_id c"
	check 78 -A work
	assert_stderr_contains "account 'work': oauth2_provider microsoft needs 'user'"
}
