#!/usr/bin/env bats
# 67-oauth2-wire: OAuth2's wire layer (src/wire/oauth2.c over https.c) on
# its own, against tests/lib/oauthd.py, through tests/mailpost-oauthtest
# (tests/oauthtest.c): what only that layer shows, and which the login
# and the send (69-oauth2-login, 67-oauth2) cannot isolate: a
# certificate refused before anything is sent, http:// refused, a
# redirect not followed, an answer cut at its ceiling, a silent server
# timed out, the environment's proxy honoured, secrets only in the POST
# body and never in a message, and the device grant's poll states.  The
# answers' judgement itself is tests/unit/oauth2_test.c's.

load lib/helpers

setup() {
	mailpost_setup
	[[ -x "$MAILPOST_OAUTHTEST" ]] || die "not built: $MAILPOST_OAUTHTEST"
	local why
	why=$("$MAILPOST_OAUTHTEST" available) || skip "$why"
	tls_certs
	unset https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
	unset MAILPOST_TEST_SYSTEM_TRUST
}

# run_wire [--timeout S] EXIT ARGS...: mailpost-oauthtest ARGS under a
# timeout; on another exit code, the command, both streams and the OAuth
# server's log.
run_wire() {
	local limit=20
	if [[ "$1" == --timeout ]]; then
		limit=$2
		shift 2
	fi
	local expected=$1
	shift
	run --separate-stderr timeout "$limit" "$MAILPOST_OAUTHTEST" "$@"
	if [[ "$status" -ne "$expected" ]]; then
		die "exit code $status, expected $expected" \
			"command: $MAILPOST_OAUTHTEST $*" "stdout: $output" \
			"stderr: $stderr" \
			"oauthd log: $(cat "${OAUTHD_LOG:-/dev/null}" 2>/dev/null)"
		return 1
	fi
}

# refresh EXIT [OPTION...]: a refresh of refresh-1 at $OAUTHD_URL/token,
# trusting the test CA unless an option says otherwise.
refresh() {
	local expected=$1
	shift
	run_wire "$expected" --trust "$CERTS/ca.pem" "$@" \
		refresh "$OAUTHD_URL/token" refresh-1
}

# assert_requests N [PATH]: the server logged N requests (to PATH).
assert_requests() {
	local n
	n=$(oauthd_requests "${2:-}") || return 1
	[[ "$n" == "$1" ]] || die "the OAuth server got $n request(s)${2:+ to $2}, expected $1:" \
		"$(cat "$OAUTHD_LOG" 2>/dev/null)"
}

@test "oauth2 wire: a refresh posts a form with the client's secret in the body, and reads the tokens" {
	oauthd_start --client-secret 's3cr&t=+x' --refresh rotate
	refresh 0 --client-secret 's3cr&t=+x' --scope 'a b'
	assert_output_contains "access_token access-1"
	assert_output_contains "refresh_token refresh-2"
	assert_output_contains "expires_in 3"
	[[ "$(oauthd_last_form grant_type)" == refresh_token ]]
	[[ "$(oauthd_last_form refresh_token)" == refresh-1 ]]
	[[ "$(oauthd_last_form client_secret)" == 's3cr&t=+x' ]]
	[[ "$(oauthd_last_form scope)" == 'a b' ]]
	[[ "$(oauthd_log_query 'log[-1]["headers"]["user-agent"]')" == mailpost/* ]]
	[[ "$(oauthd_log_query 'log[-1]["query"]')" == "{}" ]]
	assert_oauthd_no_problems
}

@test "oauth2 wire: the server's error is quoted, never the refresh token or the secret" {
	oauthd_start --client-secret hunter2-secret \
		--refresh 'invalid_grant:description=Token has been expired or revoked.'
	refresh 77 --client-secret hunter2-secret
	assert_stderr_contains "the token endpoint 127.0.0.1:$OAUTHD_PORT refused: invalid_grant (Token has been expired or revoked.)"
	assert_stderr_lacks refresh-1
	assert_stderr_lacks hunter2
}

@test "oauth2 wire: a server's error that echoes the refresh token or the client's secret: each hidden" {
	oauthd_start --client-secret hunter2-secret \
		--refresh 'invalid_grant:description=refresh-1 of hunter2-secret is revoked'
	refresh 77 --client-secret hunter2-secret
	assert_stderr_contains "refused: invalid_grant ([hidden] of [hidden] is revoked)"
	assert_stderr_lacks refresh-1
	assert_stderr_lacks hunter2
	# one at the end of the 200 bytes quoted: not cut, half shown
	stop_oauthd
	oauthd_start --refresh "invalid_grant:description=$(printf 'y%.0s' {1..195})refresh-1"
	refresh 77
	assert_stderr_contains "yy[hid"
	assert_stderr_lacks refr
	assert_stderr_lacks refresh-
}

@test "oauth2 wire: a certificate not verified is refused, in words, before anything is sent" {
	local row cert why
	for row in "unknownca:certificate is not trusted (issuer unknown)" \
		"selfsigned:certificate is not trusted (issuer unknown)" \
		"expired:certificate has expired" \
		"notyet:certificate is not yet valid" \
		"wronghost:does not match target host name '127.0.0.1'"; do
		cert=${row%%:*} why=${row#*:}
		oauthd_start --cert "$CERTS/$cert.pem"
		refresh 76
		assert_stderr_contains "the certificate of 127.0.0.1:$OAUTHD_PORT is not verified ("
		assert_stderr_contains "$why"
		assert_stderr_contains "); nothing was sent to it"
		assert_requests 0
		stop_oauthd
	done
}

@test "oauth2 wire: without a trust file, the system store is used (MAILPOST_TEST_SYSTEM_TRUST stands in for it)" {
	oauthd_start
	run_wire 76 refresh "$OAUTHD_URL/token" refresh-1
	assert_stderr_contains "is not verified"
	MAILPOST_TEST_SYSTEM_TRUST="$CERTS/ca.pem" run_wire 0 refresh "$OAUTHD_URL/token" refresh-1
	assert_output_contains "access_token access-1"
	assert_requests 1
}

@test "oauth2 wire: a trust file that cannot be read is a configuration error naming it" {
	oauthd_start
	run_wire 78 --trust "$BATS_TEST_TMPDIR/none.pem" refresh "$OAUTHD_URL/token" refresh-1
	assert_stderr_contains "cannot read the trust file $BATS_TEST_TMPDIR/none.pem for 127.0.0.1:$OAUTHD_PORT"
	assert_requests 0
	# The system configuration's, to a caller outside its group: hidden.
	run_wire 78 --private-names yes --trust "$BATS_TEST_TMPDIR/none.pem" \
		refresh "$OAUTHD_URL/token" refresh-1
	assert_stderr_contains "cannot read the trust file (hidden) for 127.0.0.1:$OAUTHD_PORT"
	assert_stderr_lacks none.pem
}

@test "oauth2 wire: an http:// endpoint is refused, nothing sent" {
	oauthd_start
	run_wire 78 --trust "$CERTS/ca.pem" refresh "http://127.0.0.1:$OAUTHD_PORT/token" refresh-1
	assert_stderr_contains "the address of 127.0.0.1:$OAUTHD_PORT is not https://HOST/...: mailpost speaks HTTP only over HTTPS"
	assert_stderr_lacks refresh-1
	assert_requests 0
}

@test "oauth2 wire: a redirect is not followed, whatever it carries" {
	local code
	for code in 302 307 308; do
		oauthd_start --refresh "redirect:$code"
		refresh 76
		assert_stderr_contains "answered $code, a redirect, which is not followed"
		assert_requests 1
		stop_oauthd
	done
}

@test "oauth2 wire: an answer of 64 KiB is read, one byte more stops the transfer" {
	oauthd_start --refresh oversized:65536,oversized:65537,oversized:10000000
	refresh 0
	assert_output_contains "access_token access-1"
	refresh 76
	assert_stderr_contains "the answer of 127.0.0.1:$OAUTHD_PORT is larger than 65536 bytes; not read"
	# Ten megabytes without Content-Length: stopped, not read whole.
	refresh 76
	assert_stderr_contains "is larger than 65536 bytes"
}

@test "oauth2 wire: a header line longer than libcurl holds is the server's fault, not out of memory" {
	oauthd_start --refresh long_header:1000,long_header:200000
	refresh 0
	assert_output_contains "access_token access-1"
	refresh 76
	assert_stderr_contains "the answer of 127.0.0.1:$OAUTHD_PORT has a header line longer than libcurl takes"
}

@test "oauth2 wire: a server that does not answer is given up after the timeout" {
	oauthd_start --refresh hang:30
	local start=$SECONDS
	refresh 75 --timeout 1
	assert_stderr_contains "no answer from 127.0.0.1:$OAUTHD_PORT within 1 s"
	((SECONDS - start < 10)) || die "it took $((SECONDS - start)) s"
}

@test "oauth2 wire: a signal caught as during a send stops a silent exchange at once (75)" {
	oauthd_start --refresh hang:30
	local start=$SECONDS pid rc=0
	timeout 20 "$MAILPOST_OAUTHTEST" --catch-signals yes --trust "$CERTS/ca.pem" \
		refresh "$OAUTHD_URL/token" refresh-1 \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	wait_for_text "$OAUTHD_LOG" '"kind": "refresh"'
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	[[ "$rc" == 75 ]] || die "exit code $rc, expected 75:" "$(cat "$BATS_TEST_TMPDIR/err")"
	grep -qF "interrupted by SIGTERM" "$BATS_TEST_TMPDIR/err" ||
		die "no 'interrupted by SIGTERM':" "$(cat "$BATS_TEST_TMPDIR/err")"
	((SECONDS - start < 10)) || die "it took $((SECONDS - start)) s"
}

@test "oauth2 wire: a host that cannot be reached is a temporary failure naming it" {
	oauthd_start
	local port=$OAUTHD_PORT
	stop_oauthd
	refresh 75
	assert_stderr_contains "cannot reach 127.0.0.1:$port ("
}

@test "oauth2 wire: the environment's https_proxy is used, and no_proxy exempts a host from it" {
	oauthd_start
	# A proxy that refuses connections: the exchange fails on its way.
	https_proxy=http://127.0.0.1:9 refresh 75
	assert_stderr_contains "cannot reach 127.0.0.1:$OAUTHD_PORT ("
	assert_requests 0
	https_proxy=http://127.0.0.1:9 no_proxy=127.0.0.1 refresh 0
	assert_requests 1
	# A proxy given explicitly is not bypassed by no_proxy.
	no_proxy=127.0.0.1 refresh 75 --proxy http://127.0.0.1:9
	assert_requests 1
}

@test "oauth2 wire: a device grant, then a poll in each state the server can put it" {
	local answer state
	for answer in authorization_pending:pending slow_down:slow_down ok:done; do
		oauthd_start --interval 0 --poll "${answer%%:*}"
		run_wire 0 --trust "$CERTS/ca.pem" --scope mail \
			device "$OAUTHD_URL/device" "$OAUTHD_URL/token"
		state=${answer#*:}
		assert_output_contains "user_code WDJB-MJHT"
		assert_output_contains "verification_uri https://127.0.0.1:$OAUTHD_PORT/"
		assert_output_contains "poll $state"
		[[ "$(oauthd_last_form grant_type /token)" == urn:ietf:params:oauth:grant-type:device_code ]]
		[[ "$(oauthd_last_form scope /device)" == mail ]]
		stop_oauthd
	done
	assert_output_contains "access_token access-1"
}

@test "oauth2 wire: a device answer in Google's words (verification_url, no complete address)" {
	oauthd_start --interval 0 --verification-field verification_url --no-complete-uri
	run_wire 0 --trust "$CERTS/ca.pem" device "$OAUTHD_URL/device" "$OAUTHD_URL/token"
	assert_output_contains "verification_uri https://127.0.0.1:$OAUTHD_PORT/"
	assert_output_contains "verification_uri_complete (none)"
	assert_output_contains "poll done"
}

@test "oauth2 wire: a device poll refused: expired 75, denied 77" {
	oauthd_start --interval 0 --poll expired_token
	run_wire 75 --trust "$CERTS/ca.pem" device "$OAUTHD_URL/device" "$OAUTHD_URL/token"
	assert_stderr_contains "refused: expired_token"
	assert_stderr_lacks device-1
	stop_oauthd
	oauthd_start --interval 0 --poll access_denied
	run_wire 77 --trust "$CERTS/ca.pem" device "$OAUTHD_URL/device" "$OAUTHD_URL/token"
	assert_stderr_contains "refused: access_denied"
}
