#!/usr/bin/env bats
# 67-https-get: https.c's GET (what mtasts.c and --configure fetch),
# connect_addr and https_port(), through tests/mailpost-httpstest
# (tests/httpstest.c) against tests/lib/httpsd.py: a document fetched by
# a name connected to at a given address (the name still in SNI, Host and
# the certificate check), a certificate not for that name refused, a
# redirect not followed, an answer cut at its ceiling, a silent server
# timed out, statuses returned as answers, an address that is not one
# refused before any connection.  The POST side is 67-oauth2-wire's.

load lib/helpers
load lib/httpsd

setup_file() {
	tls_certs
	export CERTS
	httpsd_start
	export HTTPSD_PORT HTTPSD_ROOT HTTPSD_LOG HTTPSD_DIR HTTPSD_PID
	httpsd_file mta-sts.example.test .well-known/mta-sts.txt <<-'EOF2'
	version: STSv1
	mode: enforce
	mx: mx1.example.test
	max_age: 86400
	EOF2
}

teardown_file() {
	stop_httpsd
}

setup() {
	mailpost_setup
	[[ -x "$MAILPOST_HTTPSTEST" ]] || die "not built: $MAILPOST_HTTPSTEST"
	local why
	why=$("$MAILPOST_HTTPSTEST" available) || skip "$why"
	unset https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
	unset MAILPOST_TEST_SYSTEM_TRUST
}

# get EXIT [OPTION...] URL: mailpost-httpstest get URL, trusting the
# test CA and connecting to 127.0.0.1 unless an option says otherwise;
# on another exit code, the command, both streams and the server's log.
get() {
	local expected=$1
	shift
	local url=${*: -1}
	set -- "${@:1:$#-1}"
	run --separate-stderr timeout 20 "$MAILPOST_HTTPSTEST" \
		--trust "$CERTS/ca.pem" --connect 127.0.0.1 "$@" get "$url"
	if [[ "$status" -ne "$expected" ]]; then
		die "exit code $status, expected $expected" \
			"stdout: $output" "stderr: $stderr" \
			"httpsd log: $(cat "$HTTPSD_LOG" 2>/dev/null)"
		return 1
	fi
}

sts_url() {
	echo "https://mta-sts.example.test:$HTTPSD_PORT/.well-known/mta-sts.txt"
}

@test "https get: a document by its name, connected to at the address given; the name in SNI and Host" {
	local before
	before=$(httpsd_requests)
	get 0 "$(sts_url)"
	assert_output_contains "status 200"
	assert_output_contains "length 65"
	assert_output_contains "type text/plain"
	assert_output_contains "mode: enforce"
	[[ "$(httpsd_requests)" == $((before + 1)) ]]
	[[ "$(httpsd_log_query 'log[-1]["method"]')" == GET ]]
	[[ "$(httpsd_log_query 'log[-1]["sni"]')" == mta-sts.example.test ]]
	[[ "$(httpsd_log_query 'log[-1]["host"]')" == mta-sts.example.test ]]
	[[ "$(httpsd_log_query 'log[-1]["headers"]["user-agent"]')" == mailpost/* ]]
	# No form, no JSON asked for: the OAuth2 POST's Accept is not sent.
	[[ "$(httpsd_log_query 'log[-1]["headers"].get("accept")')" == "*/*" ]]
}

@test "https get: an IPv6 connect_addr" {
	"$SMTPD_PYTHON" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null ||
		skip "no IPv6 loopback"
	local dir="$BATS_TEST_TMPDIR/v6" pid
	mkdir -p "$dir/root/mta-sts.example.test"
	echo six >"$dir/root/mta-sts.example.test/doc"
	"$SMTPD_PYTHON" "$HTTPSD_PY" --root "$dir/root" --cert "$CERTS/names.pem" \
		--key "$CERTS/server.key" --port-file "$dir/port" --listen ::1 \
		--idle-timeout 20 2>"$dir/stderr" 3>&- &
	pid=$!
	await_port_file v6 "$dir" "$pid"
	get 0 --connect ::1 "https://mta-sts.example.test:$(<"$dir/port")/doc"
	kill "$pid"
	assert_output_contains "six"
	[[ "$(HTTPSD_LOG=$dir/log httpsd_log_query 'log[-1]["sni"]')" == mta-sts.example.test ]]
}

@test "https get: an address that is not numeric is refused before a connection" {
	local before
	before=$(httpsd_requests)
	get 78 --connect mta-sts.example.test "$(sts_url)"
	assert_stderr_contains "the address mta-sts.example.test to reach mta-sts.example.test:$HTTPSD_PORT at is not a numeric IPv4 or IPv6 address"
	get 78 --connect $'127.0.0.1\n' "$(sts_url)"
	assert_stderr_contains "the address 127.0.0.1? to reach"
	[[ "$(httpsd_requests)" == "$before" ]]
}

@test "https get: the certificate must name the URL's host, whatever the address" {
	get 76 "https://mta-sts.wrong.test:$HTTPSD_PORT/.well-known/mta-sts.txt"
	assert_stderr_contains "the certificate of mta-sts.wrong.test:$HTTPSD_PORT is not verified"
	assert_stderr_contains "nothing was sent to it"
	[[ "$(httpsd_requests '' mta-sts.wrong.test)" == 0 ]]
	# An unknown CA alike.
	get 76 --trust "$CERTS/other-ca.pem" "$(sts_url)"
	assert_stderr_contains "is not verified"
}

@test "https get: a missing document and a server error are answers, not failures" {
	get 0 "https://mta-sts.example.test:$HTTPSD_PORT/none.txt"
	assert_output_contains "status 404"
	httpsd_answer mta-sts.example.test /e500 "status 503"
	get 0 "https://mta-sts.example.test:$HTTPSD_PORT/e500"
	assert_output_contains "status 503"
}

@test "https get: the Content-Type is given back, censored, or empty without one" {
	echo doc | httpsd_file mta-sts.example.test /typed
	httpsd_answer mta-sts.example.test /typed "type text/html; charset=utf-8"
	get 0 "https://mta-sts.example.test:$HTTPSD_PORT/typed"
	assert_output_contains "type text/html; charset=utf-8"
	httpsd_answer mta-sts.example.test /typed "type none"
	get 0 "https://mta-sts.example.test:$HTTPSD_PORT/typed"
	[[ "${lines[2]}" == "type " ]] || die "third line: ${lines[2]}"
}

@test "https get: a redirect is not followed" {
	httpsd_answer mta-sts.example.test /moved \
		"redirect https://other.test:$HTTPSD_PORT/x"
	local before
	before=$(httpsd_requests)
	get 0 "https://mta-sts.example.test:$HTTPSD_PORT/moved"
	assert_output_contains "status 302"
	[[ "$(httpsd_requests)" == $((before + 1)) ]]
}

@test "https get: an answer over the ceiling is not read" {
	httpsd_answer mta-sts.example.test /big "big 65537"
	get 76 "https://mta-sts.example.test:$HTTPSD_PORT/big"
	assert_stderr_contains "the answer of mta-sts.example.test:$HTTPSD_PORT is larger than 65536 bytes; not read"
	# Without a length announced, cut as it comes.
	httpsd_answer mta-sts.example.test /endless endless
	get 76 --max 1000 "https://mta-sts.example.test:$HTTPSD_PORT/endless"
	assert_stderr_contains "is larger than 1000 bytes"
	# At the ceiling exactly: read.
	httpsd_answer mta-sts.example.test /full "big 65536"
	get 0 "https://mta-sts.example.test:$HTTPSD_PORT/full"
	assert_output_contains "length 65536"
}

@test "https get: a server that does not answer is timed out" {
	httpsd_answer mta-sts.example.test /hang hang
	get 75 --timeout 1 "https://mta-sts.example.test:$HTTPSD_PORT/hang"
	assert_stderr_contains "no answer from mta-sts.example.test:$HTTPSD_PORT within 1 s"
}

@test "https get: http:// is refused" {
	get 78 "http://mta-sts.example.test:$HTTPSD_PORT/.well-known/mta-sts.txt"
	assert_stderr_contains "is not https://HOST/...: mailpost speaks HTTP only over HTTPS"
}

@test "https get: https_port is 443, or the test suite's port" {
	run env -u MAILPOST_TEST_HTTPS_PORT "$MAILPOST_HTTPSTEST" port
	[[ "$output" == 443 ]]
	for v in 0 65536 x -1; do
		run env MAILPOST_TEST_HTTPS_PORT=$v "$MAILPOST_HTTPSTEST" port
		[[ "$output" == 443 ]] || die "MAILPOST_TEST_HTTPS_PORT=$v gave $output"
	done
	run env MAILPOST_TEST_HTTPS_PORT=4430 "$MAILPOST_HTTPSTEST" port
	[[ "$output" == 4430 ]]
}
