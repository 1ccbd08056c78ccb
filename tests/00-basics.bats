#!/usr/bin/env bats
# 00-basics: a quick smoke test of mailpost itself, run first so that a
# broken build fails in seconds rather than after the whole suite.  One test
# per everyday use: asking for help, a bad option, a plain send, composing,
# -t, the queue and TLS; the other files test each of these in depth.  The
# harness's own tests (helpers.bash, smtpd.py) are in 01-harness.bats.

load lib/helpers

setup() {
	mailpost_setup
	MSG="$(make_message)"
}

@test "--version names the program and exits 0" {
	run_mailpost 0 --version
	[[ "${lines[0]}" == "mailpost "[0-9]* ]] || die "--version: '${lines[0]}'"
	assert_equal "" "$stderr" "stderr"
}

@test "--help lists the options on stdout and exits 0" {
	run_mailpost 0 --help
	assert_equal "Usage: mailpost [OPTION]... [--] RECIPIENT..." "${lines[0]}" "first line"
	assert_output_contains "--read-recipients"
	assert_output_contains "--dry-run"
	assert_equal "" "$stderr" "stderr"
}

@test "a bad option: 64 and one line saying what to do" {
	run_mailpost 64 --no-such-option bob@example.net <"$MSG"
	assert_equal "" "$output" "stdout"
	assert_equal "mailpost: unknown option '--no-such-option'; see 'mailpost --help'" \
		"$stderr" "stderr"
}

@test "no recipient: 64 and one line" {
	run_mailpost 64 -C /dev/null </dev/null
	assert_stderr_line_count 1
	assert_line_contains "mailpost: "
}

@test "a plain send: the server gets exactly the session, and the message unchanged" {
	start_smtpd
	run_send 0 bob@example.net <"$MSG"
	assert_equal "" "$stderr" "stderr"
	assert_equal "" "$output" "stdout"
	local session
	printf -v session '%s\r\n' "EHLO client.test" \
		"MAIL FROM:<alice@example.org> SIZE=${#MSG_SIMPLE_CRLF}" "RCPT TO:<bob@example.net>" DATA
	assert_received "$session$MSG_SIMPLE_CRLF"$'.\r\nQUIT\r\n'
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_no_problems
}

@test "--dry-run composes a message (CRLF lines) on stdout and sends nothing" {
	run_mailpost 0 -C /dev/null --dry-run -s "smoke test" --from "Alice <alice@example.org>" \
		bob@example.net <<<"Hello Bob."
	# Its envelope on stderr (23-dry-run has the rest).
	assert_equal "mailpost: dry run: recipient <bob@example.net>" "${stderr##*$'\n'}" "stderr's last line"
	assert_equal "$(printf '%s\r\n' "From: Alice <alice@example.org>" "To: bob@example.net" \
		"Subject: smoke test" "MIME-Version: 1.0" "Content-Type: text/plain; charset=us-ascii" \
		"Content-Transfer-Encoding: 7bit")" "$(head -n 6 <<<"$output")" "the composed header"
	[[ "${lines[6]}" == "Date: "*$'\r' && "${lines[7]}" == "Message-ID: <"*$'@example.org>\r' ]] ||
		die "no Date and Message-ID after the header:" "$output"
	assert_equal $'\r\nHello Bob.\r' "$(tail -n 2 <<<"$output")" "the body"
}

@test "-t: the recipients come from To, Cc and Bcc; Bcc is not sent" {
	start_smtpd
	local header=("From: alice@example.org" "To: bob@example.net" "Cc: carol@example.net")
	local rest=("Subject: t" "Date: Mon, 01 Jan 2024 00:00:00 +0000" "Message-ID: <t@example.org>" "" "Hi.")
	printf '%s\n' "${header[@]}" "Bcc: dave@example.com" "${rest[@]}" >"$BATS_TEST_TMPDIR/t"
	run_send 0 -t <"$BATS_TEST_TMPDIR/t"
	local sent
	printf -v sent '%s\r\n' "${header[@]}" "${rest[@]}"
	assert_message 1 "$sent"
	[[ "$(cut -d' ' -f1-2 "$SMTPD_DIR/env.1")" == "MAIL FROM:<alice@example.org>
RCPT TO:<bob@example.net>
RCPT TO:<carol@example.net>
RCPT TO:<dave@example.com>" ]] || die "envelope:" "$(cat "$SMTPD_DIR/env.1")"
}

@test "the queue: --queue=always keeps the message, -bp lists it, -q sends it and empties the queue" {
	start_smtpd
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" \
		"from alice@example.org" "queue_dir $BATS_TEST_TMPDIR/queue" "account default"
	run_mailpost 0 -C "$MAILPOST_CONF" --queue=always bob@example.net <"$MSG"
	run_mailpost 0 -C "$MAILPOST_CONF" -bp
	assert_output_contains "<bob@example.net>"
	assert_output_contains "-- 1 message"
	[[ ! -s "$SMTPD_DIR/received" ]] || die "--queue=always connected to the server"

	run_mailpost 0 -C "$MAILPOST_CONF" -q
	assert_message 1 "$MSG_SIMPLE_CRLF"
	run_mailpost 0 -C "$MAILPOST_CONF" -bp
	assert_output_lacks "<bob@example.net>"
}

@test "TLS: STARTTLS verified against the test CA; the mail travels only inside TLS" {
	tls_certs
	start_smtpd $'caps PIPELINING, STARTTLS\n'"$(tls_cert_line server)"
	run_send 0 --tls --tls-trust-file "$CERTS/ca.pem" bob@example.net <"$MSG"
	assert_file_bytes "$SMTPD_DIR/received.clear" $'EHLO client.test\r\nSTARTTLS\r\n' "the clear part"
	assert_over_tls MAIL RCPT DATA QUIT
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_no_problems
}

@test "TLS: a server the CA did not sign is refused before anything is sent" {
	tls_certs
	start_smtpd $'caps STARTTLS\n'"$(tls_cert_line unknownca)"
	run_send 76 --tls --tls-trust-file "$CERTS/ca.pem" bob@example.net <"$MSG"
	assert_stderr_line_count 1
	assert_no_command MAIL RCPT DATA
	assert_no_message
}
