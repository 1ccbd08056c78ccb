#!/usr/bin/env bats
# 23-dry-run: --dry-run's envelope on stderr (the message alone and intact
# on stdout), and with -v what a send would do; never a connection, a
# password or a passwordeval run.

load lib/helpers

setup() {
	mailpost_setup
	MSG="$(make_message)"
}

# dry EXIT ARGS...: mailpost -C "$MAILPOST_CONF" --dry-run ARGS on $MSG.
dry() {
	local want=$1
	shift
	run_mailpost "$want" -C "$MAILPOST_CONF" --dry-run "$@" <"$MSG"
}

# assert_stderr_lines LINE...: stderr is exactly these lines.
assert_stderr_lines() {
	assert_equal "$(printf '%s\n' "$@")" "$stderr" "stderr"
}

@test "dry-run: the envelope on stderr, the message alone on stdout" {
	write_config "host 127.0.0.1" "port 1" "from anna@example.org"
	dry 0 bob@example.net carol@example.net
	assert_stderr_lines \
		"mailpost: dry run: nothing is sent; the message is on standard output" \
		"mailpost: dry run: account default ($MAILPOST_CONF)" \
		"mailpost: dry run: sender <anna@example.org>" \
		"mailpost: dry run: recipient <bob@example.net>" \
		"mailpost: dry run: recipient <carol@example.net>"
	# Byte for byte the message (CRLF), nothing before or after it.
	"$MAILPOST" -C "$MAILPOST_CONF" --dry-run bob@example.net <"$MSG" 2>/dev/null >"$BATS_TEST_TMPDIR/out"
	assert_file_bytes "$BATS_TEST_TMPDIR/out" "$MSG_SIMPLE_CRLF" "stdout"
}

@test "dry-run: -t and Bcc recipients are in the envelope, not in the message" {
	write_config "host 127.0.0.1" "from anna@example.org"
	printf 'To: bob@example.net\nCc: carol@example.net\nBcc: secret@example.net\nSubject: s\n\nbody\n' >"$MSG"
	dry 0 -t dave@example.net
	assert_stderr_contains "mailpost: dry run: recipient <dave@example.net>"
	assert_stderr_contains "mailpost: dry run: recipient <bob@example.net>"
	assert_stderr_contains "mailpost: dry run: recipient <carol@example.net>"
	assert_stderr_contains "mailpost: dry run: recipient <secret@example.net>"
	assert_output_lacks "secret@example.net"
	assert_output_contains "Subject: s"
}

@test "dry-run: recipients after the aliases file; the DSN asked for; -f over from" {
	printf 'team: bob@example.net, carol@example.net\n' >"$BATS_TEST_TMPDIR/aliases"
	write_config "host 127.0.0.1" "from anna@example.org" \
		"aliases $BATS_TEST_TMPDIR/aliases" "dsn_notify failure"
	dry 0 -f other@example.org -R hdrs -V id-1 team
	assert_stderr_contains "mailpost: dry run: sender <other@example.org>"
	assert_stderr_contains "mailpost: dry run: recipient <bob@example.net>"
	assert_stderr_contains "mailpost: dry run: recipient <carol@example.net>"
	assert_stderr_lacks "<team"
	assert_stderr_contains "mailpost: dry run: DSN NOTIFY=FAILURE RET=HDRS ENVID=id-1"
}

@test "dry-run -v: where, how, as whom and the queue policy, without running passwordeval" {
	write_config "host smtp.example.org" "port 587" "from anna@example.org" \
		"tls on" "auth on" "user anna" \
		"passwordeval touch $BATS_TEST_TMPDIR/ran; echo pw"
	dry 0 -v bob@example.net
	assert_stderr_contains "mailpost: dry run: would connect to smtp.example.org port 587 directly, and speak SMTP"
	assert_stderr_contains "mailpost: dry run: would require STARTTLS (RFC 3207), the certificate checked against the system's trust store"
	assert_stderr_contains "mailpost: dry run: would authenticate as anna with the best mechanism offered; the password from passwordeval (not run in a dry run)"
	assert_stderr_contains "mailpost: dry run: on a temporary failure would queue the message, exit 0 (queue on-failure)"
	[[ ! -e "$BATS_TEST_TMPDIR/ran" ]] || die "--dry-run ran passwordeval"
	assert_output_lacks "would"
	# Without -v, none of it.
	dry 0 bob@example.net
	assert_stderr_lacks "would"
}

@test "dry-run -v: a proxy, implicit TLS, a pin, no auth, --host's queue never" {
	write_config "host smtp.example.org" "from anna@example.org" \
		"tls on" "tls_starttls off" \
		"tls_fingerprint 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF" \
		"proxy_host 127.0.0.1" "proxy_port 9050" "queue always"
	dry 0 -v bob@example.net
	assert_stderr_contains "would connect to smtp.example.org port 465 through the SOCKS5 proxy 127.0.0.1 port 9050, and speak SMTP"
	assert_stderr_contains "would use TLS from the start (RFC 8314), the certificate pinned by tls_fingerprint"
	assert_stderr_contains "would not authenticate (auth off)"
	assert_stderr_contains "would queue the message without trying (queue always)"
	write_config "from anna@example.org" "tls off" "auth on" "user u" "password p-Secret-3"
	dry 0 -v --host 127.0.0.1 --port 2525 bob@example.net
	assert_stderr_contains "would connect to 127.0.0.1 port 2525 directly"
	assert_stderr_contains "would use no TLS: the message and the password go in the clear"
	assert_stderr_contains "the password from the configuration's password"
	assert_stderr_contains "on a temporary failure would report it, exit 75 (queue never)"
	assert_no_secret p-Secret-3
	# No server at all: said, and still a dry run.
	write_config "from anna@example.org"
	dry 0 -v bob@example.net
	assert_stderr_contains "would have no server to connect to: set 'host' or give --host"
}

@test "dry-run: a stderr that cannot be written is an I/O error, not a silent success" {
	write_config "host 127.0.0.1" "from anna@example.org"
	run bash -c '"$0" -C "$1" --dry-run bob@example.net <"$2" 2>/dev/full >/dev/null' \
		"$MAILPOST" "$MAILPOST_CONF" "$MSG"
	[[ "$status" -eq 74 ]] || die "exit $status, want 74" "$output"
}

@test "dry-run -v: an OAuth2 account: the mechanism, the endpoints, where its token is; no secret, nothing run" {
	write_config "host smtp.example.org" "from anna@example.org" \
		"tls on" "user anna@example.org" "oauth2_provider microsoft" \
		"oauth2_client_id cid-1" \
		"oauth2_client_secret_eval touch $BATS_TEST_TMPDIR/ran; echo S"
	dry 0 -v bob@example.net
	assert_stderr_contains "mailpost: dry run: would authenticate as anna@example.org with an OAuth2 access token by OAUTHBEARER or XOAUTH2, whichever the server offers (microsoft: token endpoint login.microsoftonline.com, device grant login.microsoftonline.com, browser login login.microsoftonline.com; client id cid-1, client secret from oauth2_client_secret_eval (not run here))"
	assert_stderr_contains "mailpost: dry run: access token: none cached"
	assert_stderr_contains "mailpost: dry run: refresh token: none: no login yet: mailpost -C $MAILPOST_CONF --oauth2-login -A default"
	[[ ! -e "$BATS_TEST_TMPDIR/ran" ]] || die "--dry-run ran oauth2_client_secret_eval"
	write_config "host smtp.example.org" "from anna@example.org" \
		"tls off" "user anna@example.org" "oauth2_provider microsoft" \
		"oauth2_client_id cid-1" "auth xoauth2"
	dry 0 -v bob@example.net
	assert_stderr_contains "would use no TLS: the message and the access token go in the clear"
	assert_stderr_contains "would authenticate as anna@example.org with an OAuth2 access token by XOAUTH2 (microsoft:"
}
