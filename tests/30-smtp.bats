#!/usr/bin/env bats
# 30-smtp: the protocol paths against the scripted server (tests/lib/smtpd.py):
# exact client transcripts with PIPELINING, the SIZE limit, several
# recipients and the recipient policies, LMTP, connection failures,
# timeouts, and the -v transcript.  Cases that are only a script, an exit
# code, stderr texts and the exact bytes sent and stored (no PIPELINING,
# SIZE offers, HELO fallback, QUIT refused, two recipient-policy cases) are
# in 32-cases.

load lib/helpers

MSG_SIZE=${#MSG_SIMPLE_CRLF} # LC_ALL=C: bytes

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

# assert_received for "$(...; printf x)": the x protects the trailing
# newline from $(...) and is cut off here.
assert_received_x() { assert_received "${1%x}"; }

@test "happy path, pipelined: exact transcript, one write per group, QUIT with the dot" {
	start_smtpd - <<-'EOF'
	option require-pipelining
	option require-quit-with-dot
	EOF
	run_send 0 bob@example.net <"$MSG"
	assert_equal "" "$stderr" "stderr"
	assert_received_x "$(pipelined_session "MAIL FROM:<alice@example.org> SIZE=$MSG_SIZE" bob@example.net; printf x)"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_no_problems
	assert_in_one_recv $'MAIL FROM:<alice@example.org> SIZE='"$MSG_SIZE"$'\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n'
	assert_in_one_recv $'Bye.\r\n.\r\nQUIT\r\n'
}

@test "DSN: no notice when none was asked for from a server without DSN; none when it has it" {
	start_smtpd "caps PIPELINING, SIZE 10240000"
	run_send 0 bob@example.net <"$MSG"
	assert_equal "" "$stderr" "stderr"
	stop_smtpd
	start_smtpd
	run_send 0 -N failure bob@example.net <"$MSG"
	assert_equal "" "$stderr" "stderr"
	assert_no_problems
}

@test "happy path, pipelined, three recipients in one group" {
	start_smtpd "option require-pipelining"
	run_send 0 bob@example.net carol@example.net dave@example.com <"$MSG"
	assert_received_x "$(pipelined_session "MAIL FROM:<alice@example.org> SIZE=$MSG_SIZE" \
		bob@example.net carol@example.net dave@example.com; printf x)"
	assert_in_one_recv $'RCPT TO:<bob@example.net>\r\nRCPT TO:<carol@example.net>\r\nRCPT TO:<dave@example.com>\r\nDATA\r\n'
	assert_file_bytes "$SMTPD_DIR/env.1" "MAIL FROM:<alice@example.org> SIZE=$MSG_SIZE
RCPT TO:<bob@example.net>
RCPT TO:<carol@example.net>
RCPT TO:<dave@example.com>
" "envelope"
	assert_no_problems
}

@test "SIZE limit: a message larger than the server's SIZE is refused before MAIL (69)" {
	start_smtpd "caps PIPELINING, SIZE $((MSG_SIZE - 1))"
	run_send 69 bob@example.net <"$MSG"
	assert_stderr_contains "mailpost: "
	assert_received_contains $'EHLO client.test\r\n'
	assert_received_lacks "MAIL FROM"
	assert_no_message

	# exactly the limit is fine
	start_smtpd "caps PIPELINING, SIZE $MSG_SIZE"
	run_send 0 bob@example.net <"$MSG"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_no_problems
}

@test "null sender: -f '' and -f '<>' give MAIL FROM:<>" {
	local f
	for f in "" "<>"; do
		start_smtpd "caps PIPELINING"
		run_mailpost 0 -C /dev/null --host 127.0.0.1 --port "$SMTPD_PORT" \
			--domain client.test -f "$f" bob@example.net <"$MSG"
		assert_received_contains $'\r\nMAIL FROM:<>\r\nRCPT TO:<bob@example.net>\r\n' ||
			die "(-f '$f')" || return 1
	done
}

# --- recipient policy ------------------------------------------------------------

@test "one recipient refused, default all-or-nothing, pipelined: no body, 67, address named" {
	start_smtpd "on RCPT#2 550 5.1.1 <carol@example.net>: Recipient address rejected"
	run_send 67 bob@example.net carol@example.net dave@example.com <"$MSG"
	assert_stderr_contains "carol@example.net"
	assert_line_contains "mailpost: "
	# DATA got 354 (it was pipelined), so the client must drop the
	# connection: no body, no terminator, no QUIT (it would be body data).
	assert_received $'EHLO client.test\r\nMAIL FROM:<alice@example.org> SIZE='"$MSG_SIZE"$'\r\nRCPT TO:<bob@example.net>\r\nRCPT TO:<carol@example.net>\r\nRCPT TO:<dave@example.com>\r\nDATA\r\n'
	assert_no_message
	[[ ! -e "$SMTPD_DIR/msg.1.partial" || ! -s "$SMTPD_DIR/msg.1.partial" ]] ||
		die "part of the body was sent: $(escaped <"$SMTPD_DIR/msg.1.partial")"
}

@test "one recipient refused, all-or-nothing, no pipelining: DATA never sent" {
	start_smtpd $'caps SIZE 10240000, ENHANCEDSTATUSCODES\non RCPT#2 550 5.1.1 <carol@example.net>: no such user'
	run_send 67 bob@example.net carol@example.net dave@example.com <"$MSG"
	assert_stderr_contains "carol@example.net"
	assert_received_lacks $'DATA\r\n'
	assert_received_lacks $'RCPT TO:<dave@example.com>'
	assert_no_message
	assert_no_problems
}

@test "rcpt_policy any: accepted recipients get the message, exit 67, refused one named" {
	local how
	for how in config option; do
		start_smtpd "on RCPT#2 550 5.1.1 <carol@example.net>: no such user"
		if [[ "$how" == config ]]; then
			write_config "rcpt_policy any"
			run_send 67 bob@example.net carol@example.net dave@example.com <"$MSG"
		else
			MAILPOST_CONF=/dev/null
			run_send 67 --rcpt-policy=any bob@example.net carol@example.net dave@example.com <"$MSG"
		fi
		assert_stderr_contains "carol@example.net" || die "($how)" || return 1
		assert_message 1 "$MSG_SIMPLE_CRLF" || die "($how)" || return 1
		assert_file_bytes "$SMTPD_DIR/env.1" "MAIL FROM:<alice@example.org> SIZE=$MSG_SIZE
RCPT TO:<bob@example.net>
RCPT TO:<dave@example.com>
" "envelope ($how)"
		assert_no_problems
	done
}

@test "rcpt_policy any: every recipient refused: nothing sent" {
	local caps
	for caps in "PIPELINING, SIZE 10240000" "SIZE 10240000"; do
		start_smtpd $'caps '"$caps"$'\non RCPT 550 5.1.1 no such user'
		run_send 67 --rcpt-policy=any bob@example.net carol@example.net <"$MSG"
		assert_received_lacks $'\r\n.\r\n' || die "(caps $caps)" || return 1
		assert_no_message || die "(caps $caps)" || return 1
	done
}

@test "recipient failures: the worst one decides the exit code" {
	# policy | RCPT#1 | RCPT#2 | expected exit
	local cases=(
		"all|450 4.2.1 try later|250 ok|75"
		"all|250 ok|452 4.5.3 too many recipients|75"
		"any|450 4.2.1 try later|550 5.1.1 unknown|67"
		"any|550 5.1.1 unknown|450 4.2.1 try later|67"
		"any|450 4.2.1 try later|250 ok|75"
		"any|554 5.7.1 relay denied|250 ok|77"
		"any|553 5.1.3 bad address|554 5.7.1 relay denied|77"
	)
	local c policy r1 r2 want
	for c in "${cases[@]}"; do
		IFS='|' read -r policy r1 r2 want <<<"$c"
		start_smtpd $'on RCPT#1 '"$r1"$'\non RCPT#2 '"$r2"
		run_send "$want" --rcpt-policy="$policy" bob@example.net carol@example.net <"$MSG" ||
			die "(case: $c)" || return 1
	done
}

# --- LMTP -------------------------------------------------------------------------

@test "LMTP: LHLO, one reply per accepted recipient after the dot" {
	write_config "protocol lmtp"
	start_smtpd
	run_send 0 bob@example.net carol@example.net <"$MSG"
	assert_received_contains $'LHLO client.test\r\n'
	assert_received_lacks "EHLO"
	assert_received_contains $'RCPT TO:<bob@example.net>\r\nRCPT TO:<carol@example.net>\r\nDATA\r\n'
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_no_problems
	grep -q "S: 250 2.1.5 <carol@example.net> delivered" "$SMTPD_DIR/log" ||
		die "the server did not send the second LMTP reply"
}

@test "LMTP: per-recipient failure after the dot gives its code and names the recipient" {
	# LMTP#2 reply | expected exit
	local cases=(
		"452 4.2.2 mailbox full|75"
		"550 5.1.1 no such user|67"
		"554 5.7.1 refused|77"
	)
	local c reply want
	write_config "protocol lmtp"
	for c in "${cases[@]}"; do
		IFS='|' read -r reply want <<<"$c"
		start_smtpd "on LMTP#2 $reply"
		run_send "$want" bob@example.net carol@example.net <"$MSG" || die "(case: $c)" || return 1
		assert_stderr_contains "carol@example.net" || die "(case: $c)" || return 1
		assert_stderr_lacks "bob@example.net" || die "(case: $c)" || return 1
	done
}

# --- connection failures and timeouts -----------------------------------------------

@test "connection refused: 75" {
	SMTPD_PORT=$(unused_port)
	run_send 75 bob@example.net <"$MSG"
	assert_line_contains "mailpost: "
	assert_stderr_line_count 1
}

@test "host unknown: 68" {
	run getent hosts no-such-host.invalid
	[[ "$status" -eq 2 ]] || skip "the resolver here does not answer NXDOMAIN quickly"
	run_mailpost 68 -C /dev/null --host no-such-host.invalid --port 25 \
		--domain client.test -f alice@example.org bob@example.net <"$MSG"
	assert_stderr_contains "no-such-host.invalid"
}

@test "delays beyond --timeout=1 at every stage: 75, and quickly" {
	# event | expected exit
	local cases=(
		"CONNECT|75" "EHLO|75" "MAIL|75" "RCPT|75" "DATA|75" "DOT|75"
	)
	local c event want t0 elapsed
	for c in "${cases[@]}"; do
		IFS='|' read -r event want <<<"$c"
		start_smtpd $'on '"$event"$'\n  sleep 8\n  default'
		t0=$SECONDS
		run_send "$want" --timeout=1 bob@example.net <"$MSG" || die "(delay at $event)" || return 1
		elapsed=$((SECONDS - t0))
		[[ $elapsed -le 5 ]] || die "(delay at $event) took ${elapsed}s with --timeout=1" || return 1
		if [[ "$event" != DOT ]]; then
			assert_received_lacks $'\r\n.\r\n' || die "(delay at $event)" || return 1
		fi
	done
}

@test "timeout from the config file; a delay under the timeout is fine" {
	write_config "timeout 1"
	start_smtpd $'on MAIL\n  sleep 3\n  default'
	run_send 75 bob@example.net <"$MSG"

	write_config "timeout 3"
	start_smtpd $'on MAIL\n  sleep 1\n  default\non DOT\n  sleep 1\n  default'
	run_send 0 bob@example.net <"$MSG"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

# --- the transcript (-v) --------------------------------------------------------------

@test "-v: transcript with direction markers and times, body summarised" {
	start_smtpd
	run_send 0 -v bob@example.net <"$MSG"
	local ts='^\[ *[0-9]+\.[0-9]{3}\] '
	# a multi-line reply's further lines: no time, aligned under the first
	local cont='^ {10} '
	local want found line
	for want in \
		"${ts}<-  220 smtpd.test ESMTP mailpost test server$" \
		"${ts}<-  250-smtpd.test Hello client.test$" \
		"${cont}<-  250-PIPELINING$" \
		"${ts} -> EHLO client.test$" \
		"${ts} -> MAIL FROM:<alice@example.org> SIZE=$MSG_SIZE$" \
		"${ts} -> RCPT TO:<bob@example.net>$" \
		"${ts} -> DATA$" \
		"${ts}<-  354 " \
		"${ts}<-  250 2.0.0 Ok: queued as 1$" \
		"${ts} -> QUIT$" \
		"${ts}=== body: 8 lines, $MSG_SIZE bytes not shown \(-vv shows them\)$" \
		"${ts}=== delivered to 1 recipient: 250 2.0.0 Ok: queued as 1 \("; do
		found=
		for line in "${stderr_lines[@]}"; do
			[[ "$line" =~ $want ]] && found=1 && break
		done
		[[ -n "$found" ]] || die "no stderr line matches /$want/; stderr:" "$stderr" || return 1
	done
	assert_stderr_lacks "Hello Bob."
	assert_stderr_lacks "Subject: test"
}

@test "-vv: the body lines are shown too" {
	start_smtpd
	run_send 0 -vv bob@example.net <"$MSG"
	assert_stderr_contains "Subject: test"
	assert_stderr_contains "Hello Bob."
}

@test "-v: server text is censored: no escape sequences or 8-bit bytes reach the terminal" {
	start_smtpd - <<-'EOF'
	on CONNECT 220 smtpd.test \e[31mred\e[0m \xff\xfe\x07 ok
	on DOT 250 2.0.0 queued \e]0;owned\x07 done
	EOF
	run_send 0 -v bob@example.net <"$MSG"
	[[ "$stderr" != *$'\e'* ]] || die "stderr holds an ESC byte:" "$(printf '%s' "$stderr" | escaped)"
	[[ "$stderr" != *$'\a'* ]] || die "stderr holds a BEL byte"
	[[ "$(printf '%s' "$stderr" | LC_ALL=C tr -d '\n\t\040-\176' | wc -c)" -eq 0 ]] ||
		die "stderr holds control or 8-bit bytes:" "$(printf '%s' "$stderr" | escaped)"
	assert_stderr_contains "?[31mred?[0m"
}
