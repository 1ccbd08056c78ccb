#!/usr/bin/env bats
# 69-oauth2-login: mailpost --oauth2-login (src/cmd/oauthlogin.c) against
# the scripted authorization server tests/lib/oauthd.py: the device grant
# (RFC 8628: pending, slow_down, success, expiry, refusal), the browser
# flow (RFC 8252 loopback redirect with PKCE), the test playing the
# browser, or the user pasting the address; where the refresh token goes
# (the file store, or the keyring through a fake secret-tool on PATH);
# and that no token, code or verifier reaches the output.  The server's
# interval is 1 s and slow_down adds 5, in seconds of 50 ms
# (MAILPOST_TEST_OAUTH2_POLL_MS, oauthd.py's --poll-ms): a poll that comes
# early is still seen, and a login costs a fraction of a second.

load lib/helpers

setup() {
	mailpost_setup
	export MAILPOST_TEST_OAUTH2_POLL_MS=50
	tls_certs
	# No display: xdg-open is never run unless a test asks for it.
	unset DISPLAY WAYLAND_DISPLAY
	FAKEBIN="$BATS_TEST_TMPDIR/bin"
	mkdir -p "$FAKEBIN"
}

# The login in the background (stdout, stderr in files), stdin from
# $LOGIN_STDIN (default /dev/null), so that the test can act while it
# waits; login_wait collects it as run_mailpost would.
login_bg() {
	LOGIN_OUT="$BATS_TEST_TMPDIR/login.out"
	LOGIN_ERR="$BATS_TEST_TMPDIR/login.err"
	: >"$LOGIN_OUT"
	timeout 30 "$MAILPOST" -C "$MAILPOST_CONF" --oauth2-login "$@" \
		<"${LOGIN_STDIN:-/dev/null}" >"$LOGIN_OUT" 2>"$LOGIN_ERR" 3>&- &
	LOGIN_PID=$!
}

login_wait() {
	local expected=$1
	status=0
	wait "$LOGIN_PID" || status=$?
	output="$(cat "$LOGIN_OUT")"
	stderr="$(cat "$LOGIN_ERR")"
	[[ "$status" -eq "$expected" ]] ||
		die "exit code $status, expected $expected" "stdout:" "$output" \
			"stderr:" "$stderr" "oauthd log:" "$(tail -n 5 "$OAUTHD_LOG")"
}

# The authorization address the login printed (a line of its own).
printed_url() {
	wait_for_text "$LOGIN_OUT" "$OAUTHD_URL/authorize?" || return 1
	grep -o "$OAUTHD_URL/authorize?[^ ]*" "$LOGIN_OUT" | head -n 1
}

# The token store's files under $XDG_STATE_HOME.
token_files() {
	find "$XDG_STATE_HOME/mailpost/oauth2" -type f 2>/dev/null
}

# No secret of the exchange in the output or stderr: the tokens, the
# device code, the code and the verifier as the server saw them.
assert_no_login_secrets() {
	local s
	for s in refresh-1 access-1 device-1 code-1 \
		"$(oauthd_log_query 'next((e["form"].get("code_verifier") for e in log if e["form"].get("code_verifier")), None)' || true)"; do
		[[ -z "$s" ]] || assert_no_secret "$s" || return 1
	done
}

# A secret-tool that keeps the secret it gets on stdin in a file and
# records its arguments, one call a line.
fake_secret_tool() {
	cat >"$FAKEBIN/secret-tool" <<-EOF
		#!/bin/sh
		printf '%s\n' "\$*" >>"$BATS_TEST_TMPDIR/secret-tool.argv"
		case "\$1" in
		store) cat >"$BATS_TEST_TMPDIR/keyring" ;;
		lookup) cat "$BATS_TEST_TMPDIR/keyring" 2>/dev/null || exit 1 ;;
		clear) rm -f "$BATS_TEST_TMPDIR/keyring" ;;
		esac
	EOF
	chmod +x "$FAKEBIN/secret-tool"
	export PATH="$FAKEBIN:$PATH"
}

# --- the command line -------------------------------------------------------

@test "oauth2-login: --oauth2-flow without --oauth2-login, a bad flow, recipients: 64" {
	run_mailpost 64 -C /dev/null --oauth2-flow=device bob@example.net </dev/null
	assert_stderr_contains "--oauth2-flow goes with --oauth2-login"
	run_mailpost 64 -C /dev/null --oauth2-login --oauth2-flow=fax </dev/null
	assert_stderr_contains "invalid --oauth2-flow 'fax' (expected device or browser)"
	run_mailpost 64 -C /dev/null --oauth2-login bob@example.net </dev/null
	assert_stderr_contains "recipients cannot be given with --oauth2-login"
	run_mailpost 64 -C /dev/null --oauth2-login -t </dev/null
	assert_stderr_contains "-t cannot be given with --oauth2-login"
	run_mailpost 64 -C /dev/null --oauth2-login --serverinfo </dev/null
	run_mailpost 0 --help
	assert_output_contains "--oauth2-login"
	assert_output_contains "--oauth2-flow=device|browser"
}

@test "oauth2-login: an account without oauth2_provider: 78, what to set" {
	write_config "account plain" "host 127.0.0.1" "user u"
	run_mailpost 78 -C "$MAILPOST_CONF" --oauth2-login -A plain </dev/null
	assert_stderr_contains "account 'plain' does not use OAuth2: set oauth2_provider"
}

@test "oauth2-login: --oauth2-flow=device with a provider without device endpoint: 78 naming the key" {
	oauthd_start
	export XDG_STATE_HOME="$BATS_TEST_TMPDIR/state"
	write_config "account oauth" "oauth2_provider generic" \
		"oauth2_client_id $OAUTH2_CLIENT_ID" \
		"oauth2_token_endpoint $OAUTHD_URL/token" \
		"oauth2_authorize_endpoint $OAUTHD_URL/authorize" \
		"oauth2_trust_file $CERTS/ca.pem" "user $OAUTH2_USER"
	run_mailpost 78 -C "$MAILPOST_CONF" --oauth2-login -A oauth --oauth2-flow=device </dev/null
	assert_stderr_contains "has no device endpoint; set oauth2_device_endpoint"
	assert_equal 0 "$(oauthd_requests)" "requests to the server"
}

# --- the device grant (RFC 8628) --------------------------------------------

@test "oauth2-login: device flow, pending then success: the code shown, the refresh token in a 0600 file" {
	oauthd_start --poll authorization_pending,ok
	write_oauth2_config "oauth2_store file"
	run_mailpost 0 -C "$MAILPOST_CONF" --oauth2-login -A oauth --oauth2-flow=device </dev/null
	assert_output_contains "$OAUTHD_URL/verify"
	assert_output_contains "WDJB-MJHT"
	assert_output_contains "logged in: account oauth (user $OAUTH2_USER), refresh token in $XDG_STATE_HOME/mailpost/oauth2/"
	assert_equal 2 "$(oauthd_requests /token)" "polls"
	assert_oauthd_no_problems
	local f
	f="$(token_files)"
	[[ -n "$f" ]] || die "no token file"
	assert_equal 600 "$(stat -c %a "$f")" "the token file's mode"
	grep -qF refresh-1 "$f" || die "the refresh token is not in $f"
	assert_no_login_secrets
}

@test "oauth2-login: the account's SOCKS proxy and timeout carry the login's requests" {
	oauthd_start --poll ok
	mkdir -p "$BATS_TEST_TMPDIR/socks5"
	"$SMTPD_PYTHON" "$BATS_TEST_DIRNAME/lib/socks5.py" --dir "$BATS_TEST_TMPDIR/socks5" \
		--target-port "$OAUTHD_PORT" --max-connections 20 \
		>/dev/null 2>"$BATS_TEST_TMPDIR/socks5/stderr" 3>&- &
	SOCKS_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -s "$BATS_TEST_TMPDIR/socks5/port" ]] && break
		sleep 0.05
	done
	write_oauth2_config "oauth2_store file" "proxy_host 127.0.0.1" \
		"proxy_port $(<"$BATS_TEST_TMPDIR/socks5/port")"
	run_mailpost 0 -C "$MAILPOST_CONF" --oauth2-login -A oauth --oauth2-flow=device </dev/null
	assert_output_contains "logged in: account oauth"
	# The device request and the poll, each a CONNECT by name (socks5h).
	assert_equal 2 "$(grep -c "host=127.0.0.1 port=$OAUTHD_PORT" "$BATS_TEST_TMPDIR/socks5/requests")" \
		"CONNECTs through the proxy"
	# The account's timeout, not HTTPS_TIMEOUT, bounds a silent answer.
	stop_oauthd
	oauthd_start --device hang:30
	write_oauth2_config "oauth2_store file" "timeout 1"
	local start=$SECONDS
	run_mailpost 75 -C "$MAILPOST_CONF" --oauth2-login -A oauth --oauth2-flow=device </dev/null
	assert_stderr_contains "within 1 s"
	((SECONDS - start < 10)) || die "it took $((SECONDS - start)) s"
}

@test "oauth2-login: device flow into the keyring: the token on secret-tool's stdin, never in its argv" {
	fake_secret_tool
	oauthd_start --poll ok
	write_oauth2_config "oauth2_store keyring"
	run_mailpost 0 -C "$MAILPOST_CONF" --oauth2-login </dev/null
	assert_output_contains "logged in: account default (user $OAUTH2_USER), refresh token in the keyring"
	assert_file_bytes "$BATS_TEST_TMPDIR/keyring" refresh-1 "what secret-tool got on stdin"
	assert_no_secret refresh-1 "$BATS_TEST_TMPDIR/secret-tool.argv"
	grep -q "^store .*mailpost-oauth2" "$BATS_TEST_TMPDIR/secret-tool.argv" ||
		die "secret-tool store was not called:" "$(cat "$BATS_TEST_TMPDIR/secret-tool.argv")"
	assert_no_login_secrets
}

@test "oauth2-login: device flow, slow_down: the next poll waits 5 s more (no early poll)" {
	oauthd_start --poll slow_down,ok
	write_oauth2_config "oauth2_store file"
	run_mailpost 0 -C "$MAILPOST_CONF" --oauth2-login -A oauth </dev/null
	assert_output_contains "logged in: account oauth"
	assert_equal 2 "$(oauthd_requests /token)" "polls"
	assert_oauthd_no_problems
}

@test "oauth2-login: device flow, the code expires: 75, run it again, nothing stored" {
	oauthd_start --poll authorization_pending,expired_token
	write_oauth2_config "oauth2_store file"
	run_mailpost 75 -C "$MAILPOST_CONF" --oauth2-login -A oauth </dev/null
	assert_stderr_contains "run it again: mailpost -C $MAILPOST_CONF --oauth2-login -A oauth"
	assert_equal "" "$(token_files)" "token files"
	assert_no_login_secrets
}

@test "oauth2-login: device flow, the user says no (access_denied): 77, nothing stored" {
	oauthd_start --poll access_denied
	write_oauth2_config "oauth2_store file"
	run_mailpost 77 -C "$MAILPOST_CONF" --oauth2-login -A oauth </dev/null
	assert_stderr_contains "login of account 'oauth'"
	assert_stderr_contains "access_denied"
	assert_equal "" "$(token_files)" "token files"
}

@test "oauth2-login: a refused poll whose description echoes the device code and the client's secret: both hidden" {
	oauthd_start --client-secret cs-hunter2 --poll 'invalid_client:description=device-1 with cs-hunter2'
	write_oauth2_config "oauth2_store file" "oauth2_client_secret cs-hunter2"
	run_mailpost 78 -C "$MAILPOST_CONF" --oauth2-login -A oauth </dev/null
	assert_stderr_contains "refused: invalid_client ([hidden] with [hidden])"
	assert_no_secret cs-hunter2
	assert_no_login_secrets
}

@test "oauth2-login: no core dump can hold the client's secret, the device code or the tokens" {
	local limits=$BATS_TEST_TMPDIR/limits
	[[ "$(ulimit -H -c)" != 0 ]] || skip "core dumps are off for this shell already"
	ulimit -S -c "$(ulimit -H -c)"
	oauthd_start --client-secret cs-eval-7 --poll ok
	# The command records its parent's (mailpost's) limits as it runs.
	write_oauth2_config "oauth2_store file" \
		"oauth2_client_secret_eval grep '^Max core' /proc/\$PPID/limits >$limits; echo cs-eval-7"
	run_mailpost 0 -C "$MAILPOST_CONF" --oauth2-login -A oauth </dev/null
	assert_output_contains "logged in: account oauth"
	grep -q '^Max core file size *0 *0' "$limits" ||
		die "core dumps allowed during the login:" "$(cat "$limits")"
}

@test "oauth2-login: Ctrl-C while it polls ends it at once: 75, nothing stored" {
	oauthd_start --poll authorization_pending
	write_oauth2_config "oauth2_store file"
	login_bg
	wait_for_text "$LOGIN_OUT" "Waiting for the login"
	kill -INT "$LOGIN_PID"
	login_wait 75
	assert_stderr_contains "stopped: interrupted by SIGINT"
	assert_equal "" "$(token_files)" "token files"
}

# --- the browser (RFC 8252, RFC 7636) ---------------------------------------

@test "oauth2-login: browser flow, xdg-open given the address, the test its browser: stored, PKCE checked" {
	cat >"$FAKEBIN/xdg-open" <<-EOF
		#!/bin/sh
		printf '%s\n' "\$@" >"$BATS_TEST_TMPDIR/opened"
	EOF
	chmod +x "$FAKEBIN/xdg-open"
	oauthd_start
	write_oauth2_config "oauth2_store file"
	DISPLAY=:7 PATH="$FAKEBIN:$PATH" login_bg -A oauth --oauth2-flow=browser
	local url
	url="$(printed_url)"
	wait_for_text "$BATS_TEST_TMPDIR/opened" "$url"
	local page
	page="$(oauthd_browse "$(cat "$BATS_TEST_TMPDIR/opened")")"
	[[ "$page" == *"You can close this page"* ]] || die "the page:" "$page"
	login_wait 0
	assert_output_contains "logged in: account oauth (user $OAUTH2_USER), refresh token in $XDG_STATE_HOME/"
	assert_equal S256 "$(oauthd_log_query 'log[0]["query"].get("code_challenge_method")' /authorize)" "the challenge method"
	assert_equal authorization_code "$(oauthd_last_form grant_type /token)" "the grant"
	assert_oauthd_no_problems
	[[ -n "$(token_files)" ]] || die "no token file"
	assert_no_login_secrets
}

@test "oauth2-login: an answer with another state is said and waited past, no code exchanged; none at the end: 75, nothing stored" {
	oauthd_start --authorize wrong_state
	write_oauth2_config "oauth2_store file"
	MAILPOST_TEST_OAUTH2_TIMEOUT=3 login_bg -A oauth --oauth2-flow=browser
	oauthd_browse "$(printed_url)" >/dev/null
	login_wait 75
	assert_stderr_contains "an answer with another state reached http://127.0.0.1:"
	assert_stderr_contains "ignored, still waiting"
	assert_stderr_contains "no answer to this login from the browser for account 'oauth' within 3 s"
	assert_equal 0 "$(oauthd_requests /token)" "requests to /token"
	assert_equal "" "$(token_files)" "token files"
}

@test "oauth2-login: a forged answer another local user sends first does not end the login; the browser's then does" {
	oauthd_start
	write_oauth2_config "oauth2_store file"
	login_bg -A oauth --oauth2-flow=browser
	local url redirect
	url="$(printed_url)"
	redirect="$(grep -o 'http://127.0.0.1:[0-9]*/' "$LOGIN_OUT" | head -n 1)"
	"$SMTPD_PYTHON" "$OAUTHD_PY" --request GET "${redirect}?code=forged&state=forged" >/dev/null
	"$SMTPD_PYTHON" "$OAUTHD_PY" --request GET "${redirect}?code=forged" >/dev/null
	oauthd_browse "$url" >/dev/null
	login_wait 0
	assert_stderr_contains "an answer with another state reached $redirect"
	assert_stderr_contains "an answer with no state reached $redirect"
	assert_output_contains "logged in: account oauth"
	assert_equal authorization_code "$(oauthd_last_form grant_type /token)" "the grant"
	[[ "$(oauthd_last_form code /token)" != forged ]] || die "the forged code was exchanged"
}

@test "oauth2-login: the browser's answer is access_denied: 77, nothing stored" {
	oauthd_start --authorize deny
	write_oauth2_config "oauth2_store file"
	login_bg -A oauth --oauth2-flow=browser
	oauthd_browse "$(printed_url)" >/dev/null
	login_wait 77
	assert_stderr_contains "the provider refused the login of account 'oauth': access_denied"
	assert_equal "" "$(token_files)" "token files"
}

@test "oauth2-login: the address pasted on the terminal (a browser elsewhere): a wrong line said, then stored" {
	oauthd_start
	write_oauth2_config "oauth2_store file"
	mkfifo "$BATS_TEST_TMPDIR/tty"
	LOGIN_STDIN="$BATS_TEST_TMPDIR/tty" login_bg -A oauth --oauth2-flow=browser
	exec 5>"$BATS_TEST_TMPDIR/tty"
	# The browser elsewhere: /authorize answered, the redirect never
	# followed; the user copies its address.
	oauthd_authorize "$(printed_url)"
	printf 'not an address\n%s\n' "$OAUTHD_REDIRECT" >&5
	exec 5>&-
	login_wait 0
	assert_stderr_contains "that is not the address the browser ended at"
	assert_output_contains "logged in: account oauth"
	assert_oauthd_no_problems
	assert_no_login_secrets
}

@test "oauth2-login: no answer from the browser in time: 75 with the time and the command, xdg-open not run without a display" {
	cat >"$FAKEBIN/xdg-open" <<-EOF
		#!/bin/sh
		: >"$BATS_TEST_TMPDIR/opened"
	EOF
	chmod +x "$FAKEBIN/xdg-open"
	oauthd_start
	write_oauth2_config "oauth2_store file"
	MAILPOST_TEST_OAUTH2_TIMEOUT=1 PATH="$FAKEBIN:$PATH" \
		run_mailpost 75 -C "$MAILPOST_CONF" --oauth2-login -A oauth --oauth2-flow=browser </dev/null
	assert_stderr_contains "no answer from the browser for account 'oauth' within 1 s"
	assert_stderr_contains "run it again: mailpost -C $MAILPOST_CONF --oauth2-login -A oauth"
	[[ ! -e "$BATS_TEST_TMPDIR/opened" ]] || die "xdg-open ran without a display"
	assert_equal "" "$(token_files)" "token files"
}

@test "oauth2-login: a pasted answer with invalid_scope: 78 with what to check, its description censored" {
	oauthd_start
	write_oauth2_config "oauth2_store file"
	mkfifo "$BATS_TEST_TMPDIR/tty"
	LOGIN_STDIN="$BATS_TEST_TMPDIR/tty" login_bg -A oauth --oauth2-flow=browser
	exec 5>"$BATS_TEST_TMPDIR/tty"
	local url state redirect
	url="$(printed_url)"
	state="$(grep -o '[?&]state=[^&]*' <<<"$url" | cut -d= -f2)"
	redirect="$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$LOGIN_OUT" | head -n 1)"
	printf '%s?error=invalid_scope&error_description=no%%1B%%5B31m+such&state=%s\n' \
		"$redirect" "$state" >&5
	exec 5>&-
	login_wait 78
	assert_stderr_contains "the provider refused the login of account 'oauth': invalid_scope (no\\x1b[31m such)"
	assert_stderr_contains "check oauth2_client_id, oauth2_scope"
	[[ "$stderr" != *$'\e'* ]] || die "an escape reached the terminal"
	assert_equal 0 "$(oauthd_requests /token)" "requests to /token"
	assert_equal "" "$(token_files)" "token files"
}

@test "oauth2-login: an oauth2_scope whose address would pass 8192 bytes: 78 naming the keys, no address printed" {
	oauthd_start
	# 3000 '/' are 9000 bytes percent-encoded: the ceiling is passed in
	# the middle of the scope, and the parameters after it would fit.
	write_oauth2_config "oauth2_store file" "oauth2_scope $(printf '/%.0s' {1..3000})"
	MAILPOST_TEST_OAUTH2_TIMEOUT=1 \
		run_mailpost 78 -C "$MAILPOST_CONF" --oauth2-login -A oauth --oauth2-flow=browser </dev/null
	assert_stderr_contains "the authorization address of account 'oauth' would be longer than 8192 bytes; check oauth2_authorize_endpoint and oauth2_scope"
	[[ "$output" != *"%2F"* ]] || die "an address was printed: ${output:0:200}"
	assert_equal 0 "$(oauthd_requests /token)" "requests to /token"
}
