#!/usr/bin/env bats
# 68-json: --json against the scripted server (tests/lib/smtpd.py): one
# JSON object per message on stdout, checked with a JSON parser (python3's
# json module, tests/lib/jsoncheck.py) for its schema and its values: a
# delivery, each step a session can fail in, recipients refused in part,
# TLS and AUTH, a message queued, a -q flush of several entries, and the
# exit code in the object equal to the process's.

load lib/helpers

setup() {
	command -v jq >/dev/null ||
		die "jq is needed by these tests (Debian package jq; ./quickstart installs it)"
	mailpost_setup
	MSG="$(make_message)"
	QDIR="$BATS_TEST_TMPDIR/queue"
	DOWN_PORT="$(unused_port)"
}

# jq_is FILTER EXPECTED: the one object on stdout, through jq -r FILTER,
# prints EXPECTED.
# The one object on stdout is valid against the schema (jsoncheck.py), the
# only line there, and its exit_code is the process's ($status).
assert_one_object() {
	printf '%s\n' "$output" | python3 "$BATS_TEST_DIRNAME/lib/jsoncheck.py" --count 1 ||
		die "stdout is not one object of the schema:" "$output" || return 1
	assert_equal "$status" "$(jq_get .exit_code)" "exit_code in the object"
}

# jq_get FILTER: FILTER's value (jq -r) on the object(s) on stdout, one
# line per object.
jq_get() {
	printf '%s\n' "$output" | jq -r "$1"
}

# assert_json FILTER EXPECTED: FILTER's value is EXPECTED.
assert_json() {
	assert_equal "$2" "$(jq_get "$1")" "$1"
}

# --- a delivery ------------------------------------------------------------------

@test "json: a delivery is one object: server, sender, each recipient's reply, timings, exit 0" {
	start_smtpd
	run_send 0 --json bob@example.net carol@example.net <"$MSG"
	assert_one_object
	assert_json .status delivered
	assert_json .mode send
	assert_json .server.host 127.0.0.1
	assert_json .server.port "$SMTPD_PORT"
	assert_json .server.protocol smtp
	assert_json .tls.mode off
	assert_json .tls.established false
	assert_json .auth.enabled false
	assert_json .sender alice@example.org
	assert_json '[.recipients[].address] | join(",")' bob@example.net,carol@example.net
	assert_json '[.recipients[].status] | join(",")' accepted,accepted
	assert_json '.recipients[0].smtp_code' 250
	assert_json '.recipients[0].enhanced_code' 2.0.0
	assert_json .reply.smtp_code 250
	assert_json .failed_step null
	assert_json .error null
	assert_json .queue_id null
	assert_json .size "$(printf '%s' "$MSG_SIMPLE_CRLF" | wc -c)"
	# Every step of the session ran but TLS and AUTH, QUIT included.
	assert_json '[.timing_ms | to_entries[] | select(.value == null) | .key] | join(",")' tls,auth
	assert_json '.timing_ms.total >= .timing_ms.body' true
	assert_equal "" "$stderr" "stderr"
}

# --- each step a message can fail in ------------------------------------------------

# fails_in STEP EXIT STATUS SCRIPT [RUN-ARGS...]: with the server's SCRIPT,
# the send exits EXIT and its one object says STATUS, failed_step STEP,
# an error with the process's exit code, and the one-line error stays on
# stderr.
fails_in() {
	local step="$1" want="$2" st="$3" script="$4"
	shift 4
	start_smtpd "$script"
	run_send "$want" --json "$@" bob@example.net <"$MSG" || return 1
	assert_one_object || return 1
	assert_json .status "$st" || return 1
	assert_json .failed_step "$step" || return 1
	assert_json '.error.kind != null and (.error.message | length > 0)' true || return 1
	assert_stderr_line_count 1 || return 1
	assert_json '"mailpost: " + .error.message' "${stderr_lines[0]}"
}

@test "json: a result that cannot be written: 74, and the line says the message was delivered (not to be sent again)" {
	start_smtpd
	run --separate-stderr timeout 30 sh -c 'exec "$0" "$@" >/dev/full' "$MAILPOST" \
		-C /dev/null --host 127.0.0.1 --port "$SMTPD_PORT" --domain client.test \
		-f alice@example.org --json bob@example.net <"$MSG"
	assert_equal 74 "$status" "exit status"
	assert_stderr_contains "mailpost: cannot write the JSON result: No space left on device; the message itself was delivered: do not send it again"
	smtpd_finish
	[[ -s "$SMTPD_DIR/msg.1" ]] || die "the server did not receive the message"
}

@test "json: the greeting refused: step greeting, status refused, the reply's codes" {
	fails_in greeting 69 refused "on CONNECT 554 5.3.2 no service here"
	assert_json .reply.smtp_code 554
	assert_json .reply.enhanced_code 5.3.2
	assert_json .reply.text "554 5.3.2 no service here"
	assert_json '.recipients[0].status' pending
	assert_json '.timing_ms.connect != null and .timing_ms.greeting == null' true
}

@test "json: EHLO and HELO refused: step ehlo" {
	fails_in ehlo 69 refused $'on EHLO 550 5.5.1 no\non HELO 550 5.5.1 not either'
	assert_json .reply.smtp_code 550
}

@test "json: MAIL refused: step mail, the recipients pending" {
	fails_in mail 77 refused "on MAIL 553 5.7.1 sender not allowed"
	assert_json .reply.enhanced_code 5.7.1
	assert_json '.recipients[0].status' pending
}

@test "json: every RCPT refused: step rcpt, each recipient refused for good with its codes" {
	fails_in rcpt 67 refused "on RCPT 550 5.1.1 no such user" carol@example.net
	assert_json '[.recipients[].status] | unique | join(",")' refused-permanently
	assert_json '[.recipients[].smtp_code] | unique | join(",")' 550
	assert_json '[.recipients[].enhanced_code] | unique | join(",")' 5.1.1
	assert_json '.recipients[1].reply' "550 5.1.1 no such user"
}

@test "json: DATA refused: step data" {
	fails_in data 69 refused "on DATA 554 5.5.1 no data today"
	assert_json .reply.smtp_code 554
}

@test "json: the connection lost after the dot: step body, status failed (status unknown)" {
	fails_in body 75 failed "on DOT close"
	assert_json .error.kind tempfail
	assert_json .reply null
}

@test "json: a server that is down: step connect, status failed, no timing but connect's" {
	SMTPD_PORT="$DOWN_PORT"
	run_send 75 --json bob@example.net <"$MSG"
	assert_one_object
	assert_json .status failed
	assert_json .failed_step connect
	assert_json '[.timing_ms | to_entries[] | select(.value != null) | .key] | join(",")' ""
	assert_json .timing_ms.total null
}

@test "json: a message refused before any session (no recipient in it): one object, no session" {
	start_smtpd
	printf 'Subject: none\n\nno one to send to\n' >"$BATS_TEST_TMPDIR/norcpt"
	run_mailpost 65 -C /dev/null --json --host 127.0.0.1 --port "$SMTPD_PORT" -t \
		<"$BATS_TEST_TMPDIR/norcpt"
	assert_one_object
	assert_json .status failed
	assert_json .failed_step null
	assert_json .error.kind dataerr
	assert_json '.recipients | length' 0
	assert_json .timing_ms.total null
}

# --- TLS and AUTH ------------------------------------------------------------------

# A STARTTLS server with the test certificate offering AUTH PLAIN inside
# TLS for alice (password s3cret), and the account that uses it with
# password PASSWORD.
tls_auth_setup() {
	tls_certs
	start_smtpd "$(tls_cert_line server)"$'\n'"caps PIPELINING, 8BITMIME, STARTTLS"$'\n'"tls-caps PIPELINING, 8BITMIME, AUTH PLAIN"$'\n'"user alice s3cret"
	write_config "tls on" "tls_trust_file $CERTS/ca.pem" "user alice" "auth plain" \
		"password $1"
}

@test "json: STARTTLS and AUTH: the version, cipher, verification and fingerprint; the mechanism and user, never the password" {
	tls_auth_setup s3cret
	run_send 0 --json bob@example.net <"$MSG"
	assert_one_object
	assert_json .status delivered
	assert_json .tls.enabled true
	assert_json .tls.mode starttls
	assert_json .tls.established true
	assert_json '.tls.version | test("^TLS1\\.[23]$")' true
	assert_json '.tls.cipher | length > 0' true
	assert_json .tls.verified true
	assert_json '.tls.verification | test("trusted")' true
	assert_json .tls.dane false
	assert_json .tls.fingerprint_sha256 "$(tr -d '\n' <"$CERTS/server.sha256")"
	assert_json .auth.enabled true
	assert_json .auth.mechanism PLAIN
	assert_json .auth.user alice
	assert_json '.timing_ms.tls != null and .timing_ms.auth != null' true
	assert_no_secret s3cret
	assert_no_secret "$(b64 '\0alice\0s3cret')"
}

@test "json: AUTH refused: step auth, status failed, the mechanism tried" {
	tls_auth_setup wrong-password
	run_send 77 --json bob@example.net <"$MSG"
	assert_one_object
	assert_json .status refused
	assert_json .failed_step auth
	assert_json .auth.mechanism PLAIN
	assert_json .reply.smtp_code 535
	assert_json .tls.established true
	assert_no_secret wrong-password
}

@test "json: STARTTLS not offered: step tls, status failed, no handshake" {
	tls_certs
	start_smtpd "caps PIPELINING, 8BITMIME"
	write_config "tls on" "tls_trust_file $CERTS/ca.pem"
	run_send 76 --json bob@example.net <"$MSG"
	assert_one_object
	assert_json .status failed
	assert_json .failed_step tls
	assert_json .tls.mode starttls
	assert_json .tls.established false
	assert_json .tls.version null
}

@test "json: a certificate refused: step tls, verified false with the reason, the fingerprint" {
	tls_certs
	start_smtpd "$(tls_cert_line server)"$'\n'"caps PIPELINING, 8BITMIME, STARTTLS"
	write_config "tls on" "tls_trust_file $CERTS/other-ca.pem"
	run_send 76 --json bob@example.net <"$MSG"
	assert_one_object
	assert_json .failed_step tls
	assert_json .tls.established false
	assert_json .tls.verified false
	assert_json '.tls.verification | length > 0' true
	assert_json .tls.fingerprint_sha256 "$(tr -d '\n' <"$CERTS/server.sha256")"
}

# --- some recipients, the queue, a flush -----------------------------------------

@test "json: rcpt_policy any, one refused for good: delivered in part, each recipient's own status, exit 67 in the object" {
	start_smtpd "on RCPT#2 550 5.1.1 <carol@example.net>: no such user"
	run_send 67 --json --rcpt-policy=any bob@example.net carol@example.net dave@example.com <"$MSG"
	assert_one_object
	assert_json .status delivered-in-part
	assert_json .failed_step rcpt
	assert_json '[.recipients[].status] | join(",")' accepted,refused-permanently,accepted
	assert_json '.recipients[1].enhanced_code' 5.1.1
	assert_json '.recipients[0].smtp_code' 250
	assert_json .exit_code 67
}

@test "json: the server down with a queue: status queued, the queue id mailq lists, exit 0" {
	write_config "host 127.0.0.1" "port $DOWN_PORT" "domain client.test" \
		"from alice@example.org" "queue_dir $QDIR" "account default"
	run_mailpost 0 -C "$MAILPOST_CONF" --json bob@example.net <"$MSG"
	assert_one_object
	assert_json .status queued
	assert_json .failed_step connect
	assert_json .error.kind tempfail
	assert_json '.recipients[0].status' queued
	assert_json '.queue_id | test("^[0-9a-f]{16}$")' true
	assert_file_bytes "$QDIR/$(jq_get .queue_id)/message" "$MSG_SIMPLE_CRLF" "the queued message"
}

@test "json: one refused for now, the rest queued: delivered in part, that recipient queued under the queue id" {
	start_smtpd "on RCPT#2 450 4.2.1 <carol@example.net>: try later"
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" \
		"from alice@example.org" "queue_dir $QDIR" "rcpt_policy any" "account default"
	run_mailpost 0 -C "$MAILPOST_CONF" --json bob@example.net carol@example.net <"$MSG"
	assert_one_object
	assert_json .status delivered-in-part
	assert_json '[.recipients[].status] | join(",")' accepted,queued
	assert_json '.recipients[1].smtp_code' 450
	assert_json '.queue_id | test("^[0-9a-f]{16}$")' true
}

@test "json: refused for good with a dead letter file: its path in the object" {
	start_smtpd "on MAIL 550 5.7.1 not you"
	run_send 77 --json --dead-letter "$BATS_TEST_TMPDIR/dead" bob@example.net <"$MSG"
	assert_one_object
	assert_json .dead_letter "$BATS_TEST_TMPDIR/dead"
	[[ -s "$BATS_TEST_TMPDIR/dead" ]] || die "the dead letter file is empty"
	# A dead letter file that cannot take it is not named as where it went.
	mkdir "$BATS_TEST_TMPDIR/dir"
	start_smtpd "on MAIL 550 5.7.1 not you"
	run_send 77 --json --dead-letter "$BATS_TEST_TMPDIR/dir" bob@example.net <"$MSG"
	assert_one_object
	assert_json .dead_letter null
}

@test "json: -q flushes three entries: one object each, with its entry id and the run's exit code" {
	local ids
	write_config "host 127.0.0.1" "port $DOWN_PORT" "domain client.test" \
		"from alice@example.org" "queue_dir $QDIR" "account default"
	for r in bob carol dave; do
		run_mailpost 0 -C "$MAILPOST_CONF" --json "$r@example.net" <"$MSG"
		ids+="$(jq_get .queue_id)"$'\n'
	done
	start_smtpd "on RCPT#3 550 5.1.1 no such user"
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" \
		"from alice@example.org" "queue_dir $QDIR" "account default" \
		"dead_letter $BATS_TEST_TMPDIR/dead"
	run_mailpost 67 -C "$MAILPOST_CONF" -q --json
	printf '%s\n' "$output" | python3 "$BATS_TEST_DIRNAME/lib/jsoncheck.py" --count 3 ||
		die "stdout is not three objects of the schema:" "$output"
	assert_json .mode $'flush\nflush\nflush'
	assert_equal "$(sort <<<"${ids%$'\n'}")" "$(jq_get .queue_entry | sort)" "the entries tried"
	assert_json .status $'delivered\ndelivered\nrefused'
	assert_json .exit_code $'0\n0\n67'
	assert_json 'select(.status == "refused") | .dead_letter' "$BATS_TEST_TMPDIR/dead"
	assert_json 'select(.status == "refused") | .failed_step' rcpt
}

@test "json: -q whose objects cannot be written: 74 after the flush, each entry handled and said on stderr" {
	write_config "host 127.0.0.1" "port $DOWN_PORT" "domain client.test" \
		"from alice@example.org" "queue_dir $QDIR" "account default"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net <"$MSG"
	start_smtpd
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" \
		"from alice@example.org" "queue_dir $QDIR" "account default"
	run --separate-stderr timeout 30 sh -c 'exec "$0" "$@" >/dev/full' "$MAILPOST" \
		-C "$MAILPOST_CONF" -q --json
	assert_equal 74 "$status" "exit status"
	assert_stderr_contains "mailpost: cannot write the JSON result: No space left on device"
	assert_stderr_contains "the JSON results of -q could not all be written to standard output; the entries were handled all the same"
	run_mailpost 0 -C "$MAILPOST_CONF" -bp
	assert_output_contains "empty"
}

@test "json: a deferred entry of -q: queued under its own id, exit 0 like the run" {
	write_config "host 127.0.0.1" "port $DOWN_PORT" "domain client.test" \
		"from alice@example.org" "queue_dir $QDIR" "account default"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net <"$MSG"
	start_smtpd "on MAIL 451 4.3.0 not now"
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" \
		"from alice@example.org" "queue_dir $QDIR" "account default"
	run_mailpost 0 -C "$MAILPOST_CONF" -q --json
	assert_one_object
	assert_json .status queued
	assert_json .failed_step mail
	assert_json '.queue_id == .queue_entry' true
}

# --- stdout holds only JSON --------------------------------------------------------

@test "json: with -v and logfile -, stdout holds only the object; the dialogue and the log line go to stderr" {
	start_smtpd
	write_config "logfile -"
	run_send 0 --json -v bob@example.net <"$MSG"
	assert_one_object
	assert_stderr_contains "MAIL FROM:<alice@example.org>"
	assert_stderr_contains "exitcode=EX_OK"
}

@test "json: a server's reply with control characters and bytes that are not UTF-8 is still valid JSON" {
	start_smtpd 'on RCPT raw 550 5.1.1 b\x01d \xff\xfe j\xc3\xb6rg \x1b[31m "q" \\\r\n'
	run_send 67 --json bob@example.net <"$MSG"
	assert_one_object
	assert_json '.recipients[0].enhanced_code' 5.1.1
	assert_json '.recipients[0].reply | startswith("550 5.1.1 b")' true
}

@test "json: refused where a message is not sent: -bs, --dry-run, -bp (64), and said why" {
	run_mailpost 64 -C /dev/null --json -bs
	assert_stderr_contains "--json cannot be given with -bs"
	run_mailpost 64 -C /dev/null --json --dry-run bob@example.net
	assert_stderr_contains "--json cannot be given with --dry-run"
	run_mailpost 64 -C /dev/null --json -bp
	assert_stderr_contains "--json cannot be given with -bp"
	assert_equal "" "$output" "stdout"
	# --quit-after sends no message: it wrote no object and exited 0.
	run_mailpost 64 -C /dev/null --host 127.0.0.1 --json --quit-after rcpt bob@example.net
	assert_stderr_contains "--json cannot be given with --quit-after"
	assert_equal "" "$output" "stdout"
}

@test "json: a send that flushes the queue after it writes its own object only (faketime)" {
	command -v faketime >/dev/null ||
		skip "faketime is not installed (Debian package faketime): needed to make the entry due"
	local later="$BATS_TEST_TMPDIR/later-mailpost"
	write_config "host 127.0.0.1" "port $DOWN_PORT" "domain client.test" \
		"from alice@example.org" "queue_dir $QDIR" "account default"
	run_mailpost 0 -C "$MAILPOST_CONF" carol@example.net <"$MSG"
	start_smtpd -- --max-connections 2
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" \
		"from alice@example.org" "queue_dir $QDIR" "account default"
	# Two minutes on, the entry is due (the back-off): the send flushes it.
	printf '#!/bin/sh\nASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"\nexport ASAN_OPTIONS\nexec faketime %q %q "$@"\n' \
		'+2 minutes' "$MAILPOST" >"$later"
	chmod +x "$later"
	MAILPOST="$later" run_mailpost 0 -C "$MAILPOST_CONF" --json bob@example.net <"$MSG"
	assert_one_object
	assert_json '.recipients[0].address' bob@example.net
	smtpd_finish
	assert_received_contains "RCPT TO:<carol@example.net>"
}
