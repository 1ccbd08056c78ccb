#!/usr/bin/env bats
# 48-intl: international addresses against the scripted server
# (tests/lib/smtpd.py).  U-label domains go out as A-labels (RFC 5890,
# RFC 5891) whether or not the server offers SMTPUTF8; SMTPUTF8 (RFC 6531)
# is requested only when an address has a non-ASCII local part, and then
# every address is sent as UTF-8 as is; without it that is 65 before MAIL.
# An invalid IDN is 65 before connecting.  The server flags 8-bit bytes in
# a command without SMTPUTF8, and a parameter that was not offered.

load lib/helpers

MSG_SIZE=${#MSG_SIMPLE_CRLF} # LC_ALL=C: bytes

# b\u00fccher.example and its A-label; j\u00f6rg.
UDOM=$'b\xc3\xbccher.example'
ADOM='xn--bcher-kva.example'
ULOCAL=$'j\xc3\xb6rg'

setup() {
	mailpost_setup
	MSG="$(make_message)"
}

# The exact bytes of a pipelined session: EHLO, MAIL (+ params), RCPTs,
# DATA, the message, the dot and QUIT.
pipelined_session() {
	local mail="$1" r
	shift
	printf 'EHLO client.test\r\n%s\r\n' "$mail"
	for r in "$@"; do printf 'RCPT TO:<%s>\r\n' "$r"; done
	printf 'DATA\r\n%s.\r\nQUIT\r\n' "$MSG_SIMPLE_CRLF"
}

# assert_received for "$(...; printf x)": the x keeps the trailing newline.
assert_received_x() { assert_received "${1%x}"; }

# run_mailpost against the server with the sender given.
send_from() {
	local expected="$1" from="$2"
	shift 2
	run_mailpost "$expected" -C /dev/null --host 127.0.0.1 \
		--port "$SMTPD_PORT" --domain client.test -f "$from" "$@"
}

# --- U-label domains: A-labels, never SMTPUTF8 -------------------------------------

@test "U-label recipient domain, no SMTPUTF8 offered: RCPT in A-labels, no SMTPUTF8 parameter" {
	start_smtpd "caps PIPELINING, SIZE 10240000, 8BITMIME"
	run_send 0 "bob@$UDOM" carol@example.net <"$MSG"
	assert_equal "" "$stderr" "stderr"
	assert_received_x "$(pipelined_session "MAIL FROM:<alice@example.org> SIZE=$MSG_SIZE" \
		"bob@$ADOM" carol@example.net; printf x)"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_no_problems
}

@test "U-label recipient domain, SMTPUTF8 offered: still A-labels, SMTPUTF8 not requested" {
	start_smtpd "caps PIPELINING, SIZE 10240000, 8BITMIME, SMTPUTF8"
	run_send 0 "bob@$UDOM" <"$MSG"
	assert_received_x "$(pipelined_session "MAIL FROM:<alice@example.org> SIZE=$MSG_SIZE" \
		"bob@$ADOM"; printf x)"
	assert_received_lacks "SMTPUTF8"
	assert_no_problems
}

@test "uppercase, mixed and already-A-label domains; without PIPELINING too" {
	start_smtpd "caps SIZE 10240000"
	run_send 0 $'dave@B\xc3\x9cCHER.example' "erin@xn--bcher-kva.m"$'\xc3\xbc'"nchen.example" \
		"frank@XN--BCHER-KVA.example" <"$MSG"
	assert_received "EHLO client.test"$'\r\n'"MAIL FROM:<alice@example.org> SIZE=$MSG_SIZE"$'\r\nRCPT TO:<dave@xn--bcher-kva.example>\r\nRCPT TO:<erin@xn--bcher-kva.xn--mnchen-3ya.example>\r\nRCPT TO:<frank@XN--BCHER-KVA.example>\r\nDATA\r\n'"$MSG_SIMPLE_CRLF"$'.\r\nQUIT\r\n'
	assert_no_problems
}

@test "U-label sender domain: MAIL FROM in A-labels" {
	start_smtpd "caps PIPELINING"
	send_from 0 "alice@$UDOM" bob@example.net <"$MSG"
	assert_received_x "$(pipelined_session "MAIL FROM:<alice@$ADOM>" bob@example.net; printf x)"
	assert_no_problems
}

@test "-v: the transcript shows the addresses as sent" {
	start_smtpd "caps PIPELINING"
	send_from 0 "alice@$UDOM" -v "bob@$UDOM" <"$MSG"
	assert_stderr_contains " -> MAIL FROM:<alice@$ADOM>"
	assert_stderr_contains " -> RCPT TO:<bob@$ADOM>"
}

@test "-t: a U-label domain in To is sent in A-labels" {
	start_smtpd "caps PIPELINING, 8BITMIME"
	printf 'From: alice@example.org\nTo: Bob <bob@%s>\nSubject: x\n\nbody\n' "$UDOM" \
		>"$BATS_TEST_TMPDIR/in"
	send_from 0 alice@example.org -t <"$BATS_TEST_TMPDIR/in"
	assert_received_contains $'\r\nRCPT TO:<bob@xn--bcher-kva.example>\r\nDATA\r\n'
	assert_received_lacks "SMTPUTF8"
}

# --- UTF-8 local parts: SMTPUTF8 ----------------------------------------------------

@test "UTF-8 local part, SMTPUTF8 offered: MAIL FROM ... SMTPUTF8, every address as UTF-8" {
	start_smtpd "caps PIPELINING, SMTPUTF8"
	send_from 0 "alice@$UDOM" "$ULOCAL@$UDOM" carol@example.net <"$MSG"
	assert_equal "" "$stderr" "stderr"
	assert_received_x "$(pipelined_session "MAIL FROM:<alice@$UDOM> SMTPUTF8" \
		"$ULOCAL@$UDOM" carol@example.net; printf x)"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_no_problems
}

@test "UTF-8 sender local part, SMTPUTF8 offered, with SIZE and without PIPELINING" {
	start_smtpd "caps SIZE 10240000, SMTPUTF8"
	send_from 0 "$ULOCAL@example.org" "bob@$UDOM" <"$MSG"
	assert_received "EHLO client.test"$'\r\n'"MAIL FROM:<$ULOCAL@example.org> SIZE=$MSG_SIZE SMTPUTF8"$'\r\n'"RCPT TO:<bob@$UDOM>"$'\r\nDATA\r\n'"$MSG_SIMPLE_CRLF"$'.\r\nQUIT\r\n'
	assert_no_problems
}

@test "UTF-8 local part without SMTPUTF8 offered: 65, no MAIL sent, a clear message" {
	start_smtpd "caps PIPELINING, 8BITMIME"
	run_send 65 bob@example.net "$ULOCAL@$UDOM" <"$MSG"
	assert_stderr_contains "has a non-ASCII local part but the server does not offer SMTPUTF8"
	assert_received $'EHLO client.test\r\nQUIT\r\n'
	assert_no_message 1
	assert_no_problems

	start_smtpd "caps PIPELINING"
	send_from 65 "$ULOCAL@example.org" bob@example.net <"$MSG"
	assert_stderr_contains "SMTPUTF8"
	assert_received_lacks "MAIL"
}

# --- refused before connecting ---------------------------------------------------------

@test "invalid IDN: 65 before connecting, the reason named" {
	local bad
	for bad in "bob@xn--zz" $'bob@\xe2\x98\x95.example' "bob@xn--a.$UDOM"; do
		start_smtpd
		run_send 65 "$bad" <"$MSG"
		assert_stderr_contains "invalid international domain name" ||
			die "(recipient '$bad')" || return 1
		assert_received "" || die "(recipient '$bad')" || return 1
	done

	start_smtpd
	send_from 65 "alice@xn--zz" bob@example.net <"$MSG"
	assert_stderr_contains 'invalid international domain name "xn--zz": string contains invalid punycode data'
	assert_received ""
}

@test "invalid IDN in a header recipient (-t): 65 before connecting" {
	start_smtpd
	printf 'From: alice@example.org\nTo: bob@xn--zz\nSubject: x\n\nbody\n' >"$BATS_TEST_TMPDIR/in"
	send_from 65 alice@example.org -t <"$BATS_TEST_TMPDIR/in"
	assert_stderr_contains "invalid international domain name"
	assert_received ""
}

@test "invalid UTF-8 in a command-line address: 64 before connecting" {
	start_smtpd
	run_send 64 $'j\xf6rg@example.org' <"$MSG"
	assert_stderr_contains "not valid UTF-8"
	assert_received ""
}
