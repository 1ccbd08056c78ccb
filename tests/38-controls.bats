#!/usr/bin/env bats
# 38-controls: the controls for testing a server, against the scripted
# server (tests/lib/smtpd.py): --quit-after at every step (the exact bytes
# the server received, in clear and inside STARTTLS or implicit TLS, the
# exit code, standard input never read, nothing queued or kept when a step
# fails), --no-pipelining (one command per write), --protocol lmtp,
# --ehlo, --auth-mechanism and the built-in --test message.  The same
# controls against a real Postfix are in 55-postfix-secure.

load lib/helpers

setup() {
	mailpost_setup
	tls_certs
	STDIN_FIFO=
}

teardown() {
	# The descriptor that held the never-written pipe open.
	[[ -n "$STDIN_FIFO" ]] && exec 7<&-
	mailpost_teardown
}

# A standard input that blocks whoever reads it (a FIFO held open for
# writing by this shell, never written): a run that reads it is killed by
# run_mailpost's timeout instead of exiting at once.
never_stdin() {
	STDIN_FIFO="$BATS_TEST_TMPDIR/stdin.fifo"
	mkfifo "$STDIN_FIFO"
	exec 7<>"$STDIN_FIFO"
}

# run_quit EXIT STEP ARGS...: run_send --quit-after STEP, standard input
# the never-written pipe, a short timeout (reading it would hang).
run_quit() {
	local want="$1" step="$2"
	shift 2
	[[ -n "$STDIN_FIFO" ]] || never_stdin
	run_send --timeout 10 "$want" --quit-after "$step" "$@" <"$STDIN_FIFO"
}

# assert_received_x for "$(...; printf x)": the x keeps $(...)'s trailing
# newline.
assert_received_x() { assert_received "${1%x}"; }

assert_stopped_line() {
	assert_stderr_contains "mailpost: 127.0.0.1 port $SMTPD_PORT: every step up to $1 succeeded; stopped there (--quit-after), nothing was sent"
}

# --- where each step stops, in clear -----------------------------------------------

@test "--quit-after connect: connected and closed, nothing sent, not even QUIT" {
	start_smtpd
	run_quit 0 connect
	assert_received ""
	assert_stopped_line connect
	assert_no_problems
}

@test "--quit-after greeting (and banner): the 220, then QUIT" {
	local step
	for step in greeting banner; do
		start_smtpd
		run_quit 0 "$step"
		assert_received $'QUIT\r\n'
		assert_stopped_line greeting
		assert_no_problems
	done
}

@test "--quit-after ehlo (and swaks' helo, first-ehlo): EHLO, then QUIT" {
	local step
	for step in ehlo helo first-ehlo; do
		start_smtpd
		run_quit 0 "$step"
		assert_received $'EHLO client.test\r\nQUIT\r\n'
		assert_stopped_line ehlo
	done
}

@test "--quit-after mail (and from): MAIL FROM alone, no recipient needed, then QUIT" {
	local step
	for step in mail from; do
		start_smtpd
		run_quit 0 "$step"
		assert_received $'EHLO client.test\r\nMAIL FROM:<alice@example.org>\r\nQUIT\r\n'
		assert_stopped_line mail
		assert_no_problems
	done
}

@test "--quit-after rcpt (and to, RCPT): MAIL and every RCPT in one group, no DATA, then QUIT" {
	local step
	for step in rcpt to RCPT; do
		start_smtpd
		run_quit 0 "$step" bob@example.net carol@example.net
		assert_received $'EHLO client.test\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nRCPT TO:<carol@example.net>\r\nQUIT\r\n'
		assert_in_one_recv $'MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nRCPT TO:<carol@example.net>\r\n'
		assert_stopped_line rcpt
		assert_no_problems
	done
}

@test "--quit-after data: DATA answered 354, then the connection is dropped: no dot, no QUIT, no message" {
	start_smtpd
	run_quit 0 data -v bob@example.net
	assert_received $'EHLO client.test\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n'
	assert_no_message
	assert_file_bytes "$SMTPD_DIR/msg.1.partial" "" "the data the server got"
	assert_stderr_contains "closing the connection without ending the data"
	assert_stopped_line data
}

@test "--quit-after without PIPELINING: one command, one reply, and the same stops" {
	start_smtpd "caps 8BITMIME"
	run_quit 0 rcpt bob@example.net
	assert_received $'EHLO client.test\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nQUIT\r\n'
	assert_in_one_recv $'MAIL FROM:<alice@example.org>\r\n'
	if grep -q 'MAIL FROM.*RCPT TO' "$SMTPD_DIR/recv.log"; then
		die "MAIL and RCPT arrived in one recv() without PIPELINING:" "$(cat "$SMTPD_DIR/recv.log")"
	fi
	start_smtpd "caps 8BITMIME"
	run_quit 0 data bob@example.net
	assert_received $'EHLO client.test\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n'
	assert_no_message
}

@test "--quit-after with LMTP: LHLO, the same stops" {
	start_smtpd
	run_quit 0 ehlo --protocol lmtp
	assert_received $'LHLO client.test\r\nQUIT\r\n'
	start_smtpd
	run_quit 0 rcpt --protocol=lmtp bob@example.net
	assert_received $'LHLO client.test\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nQUIT\r\n'
	assert_stopped_line rcpt
}

# --- TLS and AUTH ---------------------------------------------------------------------

starttls_script() {
	tls_cert_line server
	printf '%s\n' "caps PIPELINING, 8BITMIME, STARTTLS" \
		"tls-caps PIPELINING, 8BITMIME, AUTH PLAIN LOGIN" "user alice s3cret"
}

implicit_script() {
	tls_cert_line server
	printf '%s\n' "option implicit-tls" "caps PIPELINING, 8BITMIME, AUTH PLAIN LOGIN" \
		"user alice s3cret"
}

tls_config() {
	write_config "tls on" "tls_trust_file $CERTS/ca.pem" "$@"
}

@test "--quit-after tls over STARTTLS: STARTTLS, the handshake, EHLO inside TLS, QUIT inside TLS" {
	start_smtpd "$(starttls_script)"
	tls_config
	run_quit 0 tls
	assert_file_bytes "$SMTPD_DIR/received.clear" $'EHLO client.test\r\nSTARTTLS\r\n' "the clear part"
	assert_file_bytes "$SMTPD_DIR/received.tls" $'EHLO client.test\r\nQUIT\r\n' "the part inside TLS"
	assert_tls_session "conn 1: TLS"
	assert_stopped_line tls
	assert_no_problems
	# ... and starttls is swaks' name for it.
	start_smtpd "$(starttls_script)"
	run_quit 0 starttls
	assert_file_bytes "$SMTPD_DIR/received.tls" $'EHLO client.test\r\nQUIT\r\n' "the part inside TLS"
}

@test "--tls-starttls on the command line turns TLS on: --quit-after tls with it alone tests TLS" {
	start_smtpd "$(starttls_script)"
	write_config "tls_trust_file $CERTS/ca.pem"
	run_quit 0 tls --tls-starttls
	assert_file_bytes "$SMTPD_DIR/received.clear" $'EHLO client.test\r\nSTARTTLS\r\n' "the clear part"
	assert_file_bytes "$SMTPD_DIR/received.tls" $'EHLO client.test\r\nQUIT\r\n' "the part inside TLS"
	assert_stopped_line tls
	# =off: TLS from the first byte, and nothing in clear.
	start_smtpd "$(implicit_script)"
	run_quit 0 tls --tls-starttls=off
	assert_file_bytes "$SMTPD_DIR/received.clear" "" "the clear part"
	assert_file_bytes "$SMTPD_DIR/received.tls" $'EHLO client.test\r\nQUIT\r\n' "the part inside TLS"
	assert_stopped_line tls
}

@test "--quit-after ehlo with STARTTLS configured: the first EHLO only, STARTTLS never sent" {
	start_smtpd "$(starttls_script)"
	tls_config
	run_quit 0 ehlo
	assert_received $'EHLO client.test\r\nQUIT\r\n'
	assert_no_command STARTTLS
}

@test "--quit-after tls with implicit TLS: the handshake, greeting and EHLO, nothing in clear" {
	start_smtpd "$(implicit_script)"
	tls_config "tls_starttls off"
	run_quit 0 tls
	assert_file_bytes "$SMTPD_DIR/received.clear" "" "the clear part"
	assert_file_bytes "$SMTPD_DIR/received.tls" $'EHLO client.test\r\nQUIT\r\n' "the part inside TLS"
	assert_stopped_line tls
	assert_no_problems
}

@test "--quit-after connect with implicit TLS: no handshake begun" {
	start_smtpd "$(implicit_script)"
	tls_config "tls_starttls off"
	run_quit 0 connect
	assert_received ""
	if grep -q 'TLS' "$SMTPD_DIR/tls" 2>/dev/null && ! grep -q 'failed' "$SMTPD_DIR/tls"; then
		die "a handshake was made:" "$(cat "$SMTPD_DIR/tls")"
	fi
}

@test "--quit-after auth over STARTTLS and implicit TLS: AUTH succeeded, then QUIT; no MAIL" {
	start_smtpd "$(starttls_script)"
	tls_config "auth plain" "user alice" "password s3cret"
	run_quit 0 auth
	assert_file_bytes "$SMTPD_DIR/received.tls" $'EHLO client.test\r\nAUTH PLAIN '"$(b64 '\0alice\0s3cret')"$'\r\nQUIT\r\n' "the part inside TLS"
	assert_auth_record "PLAIN user=alice reply=235"
	assert_stopped_line auth
	assert_no_secret s3cret

	start_smtpd "$(implicit_script)"
	tls_config "tls_starttls off" "auth on" "user alice" "password s3cret"
	run_quit 0 auth
	assert_file_bytes "$SMTPD_DIR/received.clear" "" "the clear part"
	assert_over_tls EHLO AUTH QUIT
	assert_no_command MAIL
	assert_stopped_line auth
}

# The account of these: the server in the configuration (no --host, which
# alone would turn the queue and the dead letter off), a queue that takes
# every failure and a dead letter file.
keeping_config() {
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" \
		"from alice@example.org" "queue on-failure" \
		"queue_dir $BATS_TEST_TMPDIR/queue" \
		"dead_letter $BATS_TEST_TMPDIR/dead.letter" "$@"
}

assert_nothing_kept() {
	local n
	n=$(find "$BATS_TEST_TMPDIR/queue" -type f 2>/dev/null | wc -l)
	assert_equal 0 "$n" "files in the queue directory"
	[[ ! -e "$BATS_TEST_TMPDIR/dead.letter" ]] ||
		die "a dead letter was written:" "$(cat "$BATS_TEST_TMPDIR/dead.letter")"
}

@test "--quit-after before auth fetches no password: passwordeval not run, none needed" {
	start_smtpd "$(starttls_script)"
	tls_config "auth plain" "user alice" "passwordeval touch $BATS_TEST_TMPDIR/ran; echo s3cret"
	run_quit 0 tls
	[[ ! -e "$BATS_TEST_TMPDIR/ran" ]] || die "passwordeval ran for --quit-after tls"
	# Nor is one needed (none configured, no terminal): not a 78.
	start_smtpd "$(starttls_script)"
	tls_config "auth plain" "user alice"
	run_quit 0 ehlo
	# ... nor another server's password at stake: --host elsewhere is no 64.
	start_smtpd "$(starttls_script)"
	tls_config "host smtp.example.org" "auth plain" "user alice" "password s3cret"
	run_quit 0 tls
	start_smtpd "$(starttls_script)"
	tls_config "auth plain" "user alice" "passwordeval touch $BATS_TEST_TMPDIR/ran; echo s3cret"
	run_quit 0 auth
	[[ -e "$BATS_TEST_TMPDIR/ran" ]] || die "passwordeval did not run for --quit-after auth"
}

@test "--host naming another server than the account's: its password is not sent there (64) unless given for this run" {
	start_smtpd "$(starttls_script)"
	tls_config "host smtp.example.org" "auth plain" "user alice" "password s3cret"
	run_quit 64 auth
	assert_stderr_contains "--host 127.0.0.1 is not the server of account 'default' (smtp.example.org), and its password is not sent elsewhere: give the password for 127.0.0.1 with --passwordeval, --password-fd or --password-env, or --auth=off"
	run_send 64 --test bob@example.net
	assert_received ""
	# The password for that server, given for this run, is used there.
	start_smtpd "$(starttls_script)"
	run_quit 0 auth --passwordeval 'echo s3cret'
	assert_auth_record "PLAIN user=alice reply=235"
	# --auth=off: nothing to send; the account's own server, listed: as before.
	start_smtpd "$(starttls_script)"
	run_quit 0 tls --auth=off
	start_smtpd "$(starttls_script)"
	tls_config "host smtp.example.org, 127.0.0.1" "auth plain" "user alice" "password s3cret"
	run_quit 0 auth
	assert_auth_record "PLAIN user=alice reply=235"
}

@test "--quit-after auth refused: the AUTH failure's 77, nothing queued, no dead letter" {
	start_smtpd "$(starttls_script)"
	keeping_config "tls on" "tls_trust_file $CERTS/ca.pem" "auth plain" \
		"user alice" "password wrong"
	never_stdin
	run_mailpost --timeout 10 77 -C "$MAILPOST_CONF" --quit-after auth bob@example.net <"$STDIN_FIFO"
	assert_stderr_contains "mailpost: "
	assert_stderr_lacks "stopped there"
	assert_auth_record "reply=535"
	assert_no_command MAIL
	assert_nothing_kept
}

@test "--quit-after: a temporary failure (421 greeting) is 75 and is not queued; a refused recipient is 67" {
	start_smtpd "on CONNECT 421 4.3.2 try later"
	keeping_config
	never_stdin
	run_mailpost --timeout 10 75 -C "$MAILPOST_CONF" --quit-after rcpt bob@example.net <"$STDIN_FIFO"
	assert_nothing_kept

	start_smtpd "on RCPT 550 5.1.1 <bob@example.net>: no such user"
	keeping_config
	run_mailpost --timeout 10 67 -C "$MAILPOST_CONF" --quit-after rcpt bob@example.net <"$STDIN_FIFO"
	assert_stderr_contains "<bob@example.net>"
	assert_received $'EHLO client.test\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nQUIT\r\n'
	assert_nothing_kept
}

@test "--quit-after: MAIL refused fails at mail; DATA refused fails at data" {
	start_smtpd "on MAIL 553 5.7.1 <alice@example.org>: sender not allowed"
	run_quit 77 mail
	assert_stderr_contains "sender not allowed"
	assert_received $'EHLO client.test\r\nMAIL FROM:<alice@example.org>\r\nQUIT\r\n'

	start_smtpd "on DATA 554 5.5.1 no data for you"
	run_quit 69 data bob@example.net
	assert_stderr_contains "DATA refused"
	assert_received $'EHLO client.test\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\nQUIT\r\n'
}

@test "--quit-after: what cannot be tested, or makes no sense with it, is a usage error (64)" {
	run_mailpost 64 -C /dev/null --host 127.0.0.1 --quit-after nowhere
	assert_stderr_contains "invalid --quit-after 'nowhere' (expected connect, greeting, ehlo, tls, auth, mail, rcpt or data)"
	run_mailpost 64 -C /dev/null --host 127.0.0.1 --quit-after rcpt
	assert_stderr_contains "--quit-after rcpt needs a recipient"
	run_mailpost 64 -C /dev/null --host 127.0.0.1 --quit-after auth -t
	assert_stderr_contains "-t and --read-envelope-from cannot be used"
	run_mailpost 64 -C /dev/null --host 127.0.0.1 --quit-after auth -s hello bob@example.net
	assert_stderr_contains "compose a message"
	run_mailpost 64 -C /dev/null --host 127.0.0.1 --quit-after data --queue=always bob@example.net
	assert_stderr_contains "--dry-run and --queue cannot be used"
	run_mailpost 64 -C /dev/null --host 127.0.0.1 --quit-after mail --test bob@example.net
	assert_stderr_contains "cannot be combined"
	run_mailpost 64 -C /dev/null --quit-after mail -bp
	assert_stderr_contains "--quit-after cannot be given with -bp"
	# Steps the account does not take: said before connecting.
	start_smtpd
	run_quit 64 tls
	assert_stderr_contains "--quit-after tls, but TLS is off for this account"
	run_quit 64 tls --tls=off --tls-starttls
	assert_stderr_contains "--quit-after tls, but --tls=off turns TLS off (--tls-starttls only says how it starts): leave --tls=off out"
	run_quit 64 auth
	assert_stderr_contains "--quit-after auth, but authentication is off"
	assert_received ""
}

@test "--quit-after --quiet: no line on success" {
	start_smtpd
	run_quit 0 ehlo --quiet
	assert_equal "" "$stderr" "stderr"
}

# --- the other controls -----------------------------------------------------------------

@test "--no-pipelining: a server offering PIPELINING gets one command per write, QUIT apart from the dot" {
	local msg
	msg="$(make_message)"
	start_smtpd
	run_send 0 -v --no-pipelining bob@example.net carol@example.net <"$msg"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_stderr_contains "PIPELINING offered, not used"
	# Each command in a recv() of its own: no recv holds two lines of
	# the envelope, and the dot's recv holds no QUIT.
	if cut -d' ' -f4- "$SMTPD_DIR/recv.log" | grep -E 'MAIL FROM|RCPT TO|DATA' |
		grep -qE '\\r\\n.+'; then
		die "a recv() held more than one command:" "$(cat "$SMTPD_DIR/recv.log")"
	fi
	if grep -qF '\r\n.\r\nQUIT' "$SMTPD_DIR/recv.log"; then
		die "QUIT left with the dot:" "$(cat "$SMTPD_DIR/recv.log")"
	fi
	assert_in_one_recv $'RCPT TO:<carol@example.net>\r\n'
	assert_no_problems
}

@test "pipelining off in the account does what --no-pipelining does; --pretend shows it" {
	start_smtpd
	write_config "pipelining off"
	run_quit 0 rcpt -v bob@example.net carol@example.net
	assert_stderr_contains "PIPELINING offered, not used"
	if cut -d' ' -f4- "$SMTPD_DIR/recv.log" | grep -qE 'MAIL FROM.*RCPT TO'; then
		die "MAIL and RCPT arrived in one recv():" "$(cat "$SMTPD_DIR/recv.log")"
	fi
	run_mailpost 0 -C "$MAILPOST_CONF" --host 127.0.0.1 --pretend
	assert_output_contains "pipelining = off"
	run_mailpost 0 -C /dev/null --host 127.0.0.1 --pretend
	assert_output_contains "pipelining = on"
	run_mailpost 0 -C /dev/null --host 127.0.0.1 --no-pipelining --pretend
	assert_output_contains "pipelining = off"
}

@test "--ehlo names the client in EHLO, as --domain does; a bad name is 64" {
	start_smtpd
	run_mailpost 0 -C /dev/null --host 127.0.0.1 --port "$SMTPD_PORT" \
		--ehlo probe.example.org --quit-after ehlo </dev/null
	assert_received $'EHLO probe.example.org\r\nQUIT\r\n'
	run_mailpost 64 -C /dev/null --host 127.0.0.1 --ehlo 'bad name' bob@example.net
	assert_stderr_contains "invalid --ehlo 'bad name'"
}

@test "--auth-mechanism: used when offered; not offered names what is; bad names are 64" {
	start_smtpd "$(starttls_script)"
	tls_config "user alice" "password s3cret"
	run_quit 0 auth --auth-mechanism LOGIN
	assert_auth_record "LOGIN user=alice reply=235"
	# A bare --auth (on) after it, as in swaks' --auth LOGIN habits, keeps it.
	start_smtpd "$(starttls_script)"
	run_quit 0 auth --auth-mechanism LOGIN --auth
	assert_auth_record "LOGIN user=alice reply=235"
	run_mailpost 64 -C /dev/null --host 127.0.0.1 --auth=off --auth-mechanism LOGIN bob@example.net
	assert_stderr_contains "--auth-mechanism cannot be given with --auth=off"

	start_smtpd "$(starttls_script)"
	run_quit 69 auth --auth-mechanism cram-md5
	assert_stderr_contains "the server does not offer AUTH CRAM-MD5 (it offers: PLAIN LOGIN)"
	assert_no_command AUTH

	run_mailpost 64 -C /dev/null --host 127.0.0.1 --auth-mechanism 'PLAIN LOGIN' bob@example.net
	assert_stderr_contains "a SASL mechanism name is 1 to 20 letters, digits, '-' or '_' (RFC 4422 3.1)"
	run_mailpost 64 -C /dev/null --host 127.0.0.1 --auth-mechanism SCRAM-SHA-512 bob@example.net
	assert_stderr_contains "mailpost does not implement AUTH SCRAM-SHA-512"
}

@test "--protocol smtp on the command line wins over the account's protocol lmtp" {
	start_smtpd
	write_config "protocol lmtp"
	run_quit 0 ehlo --protocol smtp
	assert_received $'EHLO client.test\r\nQUIT\r\n'
	run_mailpost 64 -C /dev/null --host 127.0.0.1 --protocol esmtp bob@example.net
	assert_stderr_contains "invalid --protocol 'esmtp' (expected smtp or lmtp)"
}

# --- the test message -------------------------------------------------------------------

@test "--test: a dated, identified message that says what it is, stdin not read" {
	start_smtpd
	never_stdin
	run_send --timeout 10 0 --test bob@example.net carol@example.net <"$STDIN_FIFO"
	smtpd_finish
	local m="$SMTPD_DIR/msg.1" host
	host=$(hostname)
	[[ -f "$m" ]] || die "no message arrived; server log:" "$(cat "$SMTPD_DIR/log")"
	grep -q $'^From: alice@example.org\r$' "$m" || die "From is not the sender:" "$(cat "$m")"
	grep -q $'^To: bob@example.net, carol@example.net\r$' "$m" || die "To is not the recipients:" "$(cat "$m")"
	grep -qE $'^Subject: mailpost test message from [^ ]+ at [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} [-+][0-9]{4}\r$' "$m" ||
		die "no test subject:" "$(cat "$m")"
	grep -q "^Subject: mailpost test message from ${host%%.*}" "$m" || die "the subject does not name $host:" "$(cat "$m")"
	grep -q '^Date: ' "$m" || die "no Date:" "$(cat "$m")"
	grep -q '^Message-ID: <' "$m" || die "no Message-ID:" "$(cat "$m")"
	grep -q "^Server:      127.0.0.1 port $SMTPD_PORT, SMTP" "$m" || die "the body does not name the server:" "$(cat "$m")"
	grep -q '^TLS:         none' "$m" || die "the body does not name the TLS mode:" "$(cat "$m")"
	grep -q '^Sender:      <alice@example.org>' "$m" || die "the body does not name the sender:" "$(cat "$m")"
}

@test "--test: Date and Message-ID even when the account turns them off; --dry-run prints it" {
	write_config "set_date_header off" "set_msgid_header off" "tls on" "tls_starttls on" "auth plain" "user bob"
	run_mailpost 0 -C "$MAILPOST_CONF" --host mx.example.org --test --dry-run -f alice@example.org bob@example.net </dev/null
	assert_output_contains "Date: "
	assert_output_contains "Message-ID: <"
	assert_output_contains "Subject: mailpost test message from "
	assert_output_contains "Server:      mx.example.org port 587, SMTP"
	assert_output_contains "TLS:         STARTTLS (RFC 3207)"
	assert_output_contains "AUTH:        plain, as bob"
}

@test "--test cannot be combined with what composes or reads a message (64)" {
	run_mailpost 64 -C /dev/null --host 127.0.0.1 --test -s hi bob@example.net
	assert_stderr_contains "--test: the options that compose a message"
	run_mailpost 64 -C /dev/null --host 127.0.0.1 --test -t
	assert_stderr_contains "--test reads no message"
	run_mailpost 64 -C /dev/null --host 127.0.0.1 --test
	assert_stderr_contains "no recipients given"
}
