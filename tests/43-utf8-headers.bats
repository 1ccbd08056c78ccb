#!/usr/bin/env bats
# 43-utf8-headers: a passed-through message with UTF-8 in its header
# (RFC 6532; PHP's mail() with a raw UTF-8 Subject).  With the server's
# SMTPUTF8 it goes unchanged with MAIL's SMTPUTF8 parameter (RFC 6531 3.4);
# without, the header is written in ASCII where nothing is lost (RFC 2047
# words, A-labels), else the message is refused with 69 before MAIL
# (downgrade.c).

load lib/helpers

UTF8_CAPS="caps PIPELINING, SIZE 10240000, 8BITMIME, ENHANCEDSTATUSCODES, SMTPUTF8"

setup() {
	mailpost_setup
	IN="$BATS_TEST_TMPDIR/in"
	write_config "set_from_header off" "set_date_header off" "set_msgid_header off"
}

mail_line() {
	smtpd_finish >/dev/null
	grep -a '^MAIL ' "$SMTPD_DIR/received" | tr -d '\r'
}

php_message() {
	printf 'To: bob@example.net\nFrom: J\xc3\xb6rg M\xc3\xbcller <alice@example.org>\nSubject: Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln\nMessage-ID: <1@example.org>\n\nHallo \xc3\xa9\n' >"$IN"
}

@test "UTF-8 header, server offers SMTPUTF8: MAIL carries SMTPUTF8, the message is sent byte for byte" {
	php_message
	start_smtpd "$UTF8_CAPS"
	run_send 0 bob@example.net <"$IN"
	local mail
	mail="$(mail_line)"
	[[ "$mail" == *" BODY=8BITMIME SMTPUTF8"* ]] || die "no SMTPUTF8 in: $mail"
	assert_message 1 "$(sed 's/$/\r/' "$IN")"$'\n'
	assert_no_problems
}

@test "UTF-8 header, no SMTPUTF8: Subject and display name as RFC 2047 words, the rest unchanged, SIZE exact" {
	php_message
	start_smtpd
	run_send 0 bob@example.net <"$IN"
	local mail
	mail="$(mail_line)"
	[[ "$mail" != *SMTPUTF8* ]] || die "SMTPUTF8 sent to a server without it: $mail"
	assert_no_problems # the server checks SIZE= against what came
	assert_message 1 $'To: bob@example.net\r\nFrom: =?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= <alice@example.org>\r\nSubject: =?UTF-8?B?R3LDvMOfZQ==?= aus =?UTF-8?B?S8O2bG4=?=\r\nMessage-ID: <1@example.org>\r\n\r\nHallo \xc3\xa9\r\n'
	# what a reader sees is what was written
	python3 - "$SMTPD_DIR/msg.1" <<-'EOF'
	import email, email.policy, sys
	m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
	assert str(m["Subject"]) == "Grüße aus Köln", m["Subject"]
	assert str(m["From"]) == "Jörg Müller <alice@example.org>", m["From"]
	EOF
}

@test "no SMTPUTF8: an IDN domain in an address field becomes its A-label" {
	printf 'To: Bob <bob@b\xc3\xbccher.example>\nSubject: x\n\nbody\n' >"$IN"
	start_smtpd
	run_send 0 bob@example.net <"$IN"
	assert_message 1 $'To: Bob <bob@xn--bcher-kva.example>\r\nSubject: x\r\n\r\nbody\r\n'
	assert_no_problems
}

@test "no SMTPUTF8: a UTF-8 local part or Message-ID cannot be written in ASCII: 69 before MAIL, naming the field" {
	printf 'To: j\xc3\xb6rg@example.net\nSubject: x\n\nbody\n' >"$IN"
	start_smtpd
	run_send 69 bob@example.net <"$IN"
	assert_line_contains "To field"
	assert_line_contains "SMTPUTF8"
	assert_no_command MAIL

	printf 'Message-ID: <caf\xc3\xa9@example.org>\nSubject: x\n\nbody\n' >"$IN"
	start_smtpd
	run_send 69 bob@example.net <"$IN"
	assert_line_contains "Message-ID field"
	assert_no_command MAIL

	# with SMTPUTF8 the same message goes
	start_smtpd "$UTF8_CAPS"
	run_send 0 bob@example.net <"$IN"
	assert_no_problems
}

@test "an ASCII header with an 8-bit body needs no SMTPUTF8 and is not changed" {
	printf 'To: bob@example.net\nSubject: x\n\ncaf\xc3\xa9\n' >"$IN"
	start_smtpd "$UTF8_CAPS"
	run_send 0 bob@example.net <"$IN"
	local mail
	mail="$(mail_line)"
	[[ "$mail" != *SMTPUTF8* ]] || die "SMTPUTF8 without need: $mail"
	assert_message 1 $'To: bob@example.net\r\nSubject: x\r\n\r\ncaf\xc3\xa9\r\n'
}

@test "a queued message with a UTF-8 Subject is flushed with SMTPUTF8, or downgraded" {
	local qdir="$BATS_TEST_TMPDIR/queue"
	php_message
	start_smtpd "on RCPT 451 4.7.1 try later"
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" "queue_dir $qdir" \
		"set_from_header off" "set_date_header off" "set_msgid_header off"
	run_mailpost 0 -C "$MAILPOST_CONF" -f alice@example.org bob@example.net <"$IN"

	start_smtpd "$UTF8_CAPS"
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" "queue_dir $qdir"
	run_mailpost 0 -C "$MAILPOST_CONF" -q
	local mail
	mail="$(mail_line)"
	[[ "$mail" == *" SMTPUTF8"* ]] || die "no SMTPUTF8 in: $mail"
	assert_message 1 "$(sed 's/$/\r/' "$IN")"$'\n'
	assert_no_problems
}

@test "no SMTPUTF8, no 8BITMIME: a message whose only 8-bit bytes were in the header goes downgraded, 7-bit" {
	printf 'To: bob@example.net\nSubject: Gr\xc3\xbc\xc3\x9fe\n\nplain ascii\n' >"$IN"
	start_smtpd "caps PIPELINING, SIZE 10240000, ENHANCEDSTATUSCODES"
	run_send 0 bob@example.net <"$IN"
	local mail
	mail="$(mail_line)"
	[[ "$mail" != *8BITMIME* && "$mail" != *SMTPUTF8* ]] || die "8-bit parameters to a 7-bit server: $mail"
	assert_message 1 $'To: bob@example.net\r\nSubject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n\r\nplain ascii\r\n'
	assert_no_problems

	# an 8-bit body still needs 8BITMIME
	printf 'To: bob@example.net\nSubject: Gr\xc3\xbc\xc3\x9fe\n\ncaf\xc3\xa9\n' >"$IN"
	start_smtpd "caps PIPELINING, SIZE 10240000, ENHANCEDSTATUSCODES"
	run_send 65 bob@example.net <"$IN"
	assert_line_contains "8BITMIME"
	assert_no_command MAIL
}
