#!/usr/bin/env bats
# 01-harness: the test helpers (tests/lib/helpers.bash), the scripted
# test server (tests/lib/smtpd.py), the scripted OAuth 2.0 server
# (tests/lib/oauthd.py) and the DNS server (tests/lib/dnsd.bash) do what
# the other files rely on.  The server tests
# talk to them with their own clients (smtpd.py --talk, oauthd.py
# --request, drill), with swaks and with gnutls-cli, never with mailpost, so they
# pass whatever state mailpost is in; 00-basics is the quick check of
# mailpost itself.

load lib/helpers
load lib/dnsd

# The DNS server's test starts its own; the others start none.
teardown() {
	mailpost_teardown
	dnsd_stop
}

# talk STEP...: run smtpd.py's little client against $SMTPD_PORT.
talk() {
	run timeout 20 "$SMTPD_PYTHON" "$SMTPD_PY" --talk "$SMTPD_PORT" "$@"
	[[ "$status" -eq 0 ]] || die "talk failed ($status): $output"
}

# A complete, well-behaved pipelined client session as talk steps.
GOOD_SESSION=(reply 'send:EHLO client.test\r\n' reply
	'send:MAIL FROM:<alice@example.org> SIZE=8\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n'
	reply reply reply 'send:Hi\r\n..x\r\n.\r\nQUIT\r\n' reply reply eof)

# --- the helpers --------------------------------------------------------------

@test "helpers: assert_equal and assert_file_bytes say what differed" {
	assert_equal "a" "a"
	run assert_equal "a" "b" "the thing"
	[[ "$status" -ne 0 ]] || die "assert_equal a b succeeded"
	[[ "$output" == *"the thing differs"*"expected: 'a'"*"actual:   'b'"* ]] ||
		die "unhelpful message: $output"

	printf 'x\r\ny\r\n' >"$BATS_TEST_TMPDIR/f"
	assert_file_bytes "$BATS_TEST_TMPDIR/f" $'x\r\ny\r\n'
	run assert_file_bytes "$BATS_TEST_TMPDIR/f" $'x\r\ny\n'
	[[ "$status" -ne 0 ]] || die "a missing CR went unnoticed"
	# The diff shows the line endings.
	[[ "$output" == *'-y\n'*'+y\r\n'* ]] || die "diff does not show \\r\\n: $output"
}

@test "helpers: stdin_crlf turns every LF into CRLF and keeps the last one" {
	local got
	got="$(printf 'a\nb\n\n' | stdin_crlf; printf x)"
	assert_equal $'a\r\nb\r\n\r\nx' "$got" "stdin_crlf result"
}

@test "helpers: escaped shows control bytes" {
	run escaped < <(printf 'A\r\n\x1b[31m\\\n')
	assert_equal $'A\\r\\n\n\\x1b[31m\\\\\\n' "$output" "escaped output"
}

@test "helpers: run_mailpost checks the exit code and reports stdout and stderr" {
	local stub="$BATS_TEST_TMPDIR/stub"
	printf '#!/bin/sh\necho "out $*"\necho "err line" >&2\nexit 3\n' >"$stub"
	chmod +x "$stub"
	MAILPOST="$stub"
	run_mailpost 3 -x y
	assert_equal "out -x y" "$output" "stdout"
	assert_equal "err line" "$stderr" "stderr"
	assert_line_contains "err"

	run run_mailpost 0 -x y
	[[ "$status" -ne 0 ]] || die "run_mailpost 0 accepted exit code 3"
	[[ "$output" == *"exit code 3, expected 0"* ]] || die "no exit codes in: $output"
	[[ "$output" == *"stub"*"-x y"* ]] || die "no command in: $output"
	[[ "$output" == *"out -x y"*"err line"* ]] || die "no stdout/stderr in: $output"
}

@test "helpers: run_mailpost gives up after the timeout" {
	local stub="$BATS_TEST_TMPDIR/stub"
	printf '#!/bin/sh\nexec cat\n' >"$stub"
	chmod +x "$stub"
	MAILPOST="$stub"
	# stdin is a pipe that does not end for 3 s: a 0.2 s timeout ends it.
	run_mailpost --timeout 0.2 124 < <(sleep 3 3>&-)
	run run_mailpost --timeout 0.2 0 < <(sleep 3 3>&-)
	[[ "$output" == *"(killed by timeout 0.2)"* ]] || die "no timeout in: $output"
}

@test "helpers: write_config writes a private file with a defaults line" {
	write_config "timeout 2" "rcpt_policy any"
	assert_equal "$BATS_TEST_TMPDIR/config" "$MAILPOST_CONF" "MAILPOST_CONF"
	assert_file_bytes "$MAILPOST_CONF" $'defaults\ntimeout 2\nrcpt_policy any\n'
	assert_equal 600 "$(stat -c %a "$MAILPOST_CONF")" "mode"
}

@test "helpers: setup isolates HOME and the config environment" {
	assert_equal "$BATS_TEST_TMPDIR" "$HOME" "HOME"
	[[ -z "${MAILPOST_CONFIG+set}" ]] || die "MAILPOST_CONFIG still set"
	[[ -z "${XDG_CONFIG_HOME+set}" ]] || die "XDG_CONFIG_HOME still set"
}

# --- the server: defaults -------------------------------------------------------

@test "smtpd: listens on a loopback port of its own and writes it down" {
	start_smtpd
	[[ "$SMTPD_PORT" =~ ^[0-9]+$ && "$SMTPD_PORT" -gt 1024 ]] ||
		die "bad port '$SMTPD_PORT'"
	run ss -Htln "sport = :$SMTPD_PORT"
	[[ "$output" == *"127.0.0.1:$SMTPD_PORT"* ]] ||
		die "not listening on 127.0.0.1:$SMTPD_PORT: $output"
	# A second server gets another port and directory.
	local first_port="$SMTPD_PORT" first_dir="$SMTPD_DIR" first_pid="$SMTPD_PID"
	start_smtpd
	[[ "$SMTPD_PORT" != "$first_port" && "$SMTPD_DIR" != "$first_dir" ]] ||
		die "two servers share port or directory"
	kill "$first_pid"
}

@test "smtpd: --port shares one port among servers on 127.0.0.2 and 127.0.0.3" {
	start_smtpd -- --listen 127.0.0.2
	local port="$SMTPD_PORT" first_pid="$SMTPD_PID"
	start_smtpd -- --listen 127.0.0.3 --port "$port"
	assert_equal "$port" "$SMTPD_PORT" "the second server's port"
	run ss -Htln "sport = :$port"
	[[ "$output" == *"127.0.0.2:$port"* && "$output" == *"127.0.0.3:$port"* ]] ||
		die "not both listening on port $port: $output"
	kill "$first_pid"
}

@test "smtpd: default session is well-behaved ESMTP and is recorded exactly" {
	start_smtpd
	talk "${GOOD_SESSION[@]}"
	assert_equal '220 smtpd.test ESMTP mailpost test server\r\n
250-smtpd.test Hello client.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 DSN\r\n
250 2.1.0 Ok\r\n
250 2.1.5 Ok\r\n
354 End data with <CR><LF>.<CR><LF>\r\n
250 2.0.0 Ok: queued as 1\r\n
221 2.0.0 Bye\r\n
EOF' "$output" "server replies"
	assert_received_crlf <<-'EOF'
	EHLO client.test
	MAIL FROM:<alice@example.org> SIZE=8
	RCPT TO:<bob@example.net>
	DATA
	Hi
	..x
	.
	QUIT
	EOF
	assert_message 1 $'Hi\r\n.x\r\n'
	assert_file_bytes "$SMTPD_DIR/env.1" $'MAIL FROM:<alice@example.org> SIZE=8\nRCPT TO:<bob@example.net>\n'
	assert_no_problems
	assert_in_one_recv $'MAIL FROM:<alice@example.org> SIZE=8\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n'
	[[ -e "$SMTPD_DIR/finished" ]] || die "no finished file"
}

@test "smtpd: swaks (an independent client) gets through, pipelined and not" {
	command -v swaks >/dev/null || skip "swaks not installed"
	local mode
	for mode in --pipeline ""; do
		start_smtpd
		run timeout 20 swaks --server "127.0.0.1:$SMTPD_PORT" $mode \
			--helo client.test --from alice@example.org --to bob@example.net \
			--body "hello"
		[[ "$status" -eq 0 ]] || die "swaks $mode failed ($status): $output"
		assert_received_contains $'RCPT TO:<bob@example.net>\r\n'
		assert_no_problems
		[[ -e "$SMTPD_DIR/msg.1" ]] || die "swaks $mode: no message recorded"
	done
}

@test "smtpd: exits after --max-connections and after --idle-timeout" {
	start_smtpd -- --max-connections 2
	talk reply 'send:QUIT\r\n' reply eof
	kill -0 "$SMTPD_PID" || die "server exited after 1 of 2 connections"
	talk reply 'send:QUIT\r\n' reply eof
	smtpd_wait_exit
	[[ -e "$SMTPD_DIR/finished" ]] || die "no finished file"

	# No client comes: the server must exit by itself (smtpd_wait_exit
	# polls for that, up to 10 s, and fails if it is still running).
	start_smtpd -- --idle-timeout 0.2
	smtpd_wait_exit
	[[ -e "$SMTPD_DIR/finished" ]] || die "no finished file after the idle timeout"
}

@test "smtpd: SIGTERM still records what the client sent" {
	start_smtpd
	# The client sends without waiting and goes away; then the test stops
	# the server, which must still record the bytes.
	talk 'send:EHLO a\r\nNOOP\r\n'
	assert_received $'EHLO a\r\nNOOP\r\n'
}

@test "smtpd: a bad script is refused with file:line" {
	local bad
	for bad in "frobnicate 1" "on MAIL#x 250 ok" "  reply 250 orphan" \
		"on MAIL sleep soon" "option nonsense" 'on MAIL 250 \q' \
		"option end-of-data lf"; do
		printf '%s\n' "# comment" "$bad" >"$BATS_TEST_TMPDIR/bad"
		run "$SMTPD_PYTHON" "$SMTPD_PY" --check-script "$BATS_TEST_TMPDIR/bad"
		[[ "$status" -ne 0 && "$output" == *"bad:2:"* ]] ||
			die "script '$bad': status $status, output: $output"
	done
	run start_smtpd "frobnicate"
	[[ "$status" -ne 0 ]] || die "start_smtpd accepted a bad script"
}

# --- the server: script features -------------------------------------------------

@test "smtpd: option end-of-data: crlf ends only at CRLF.CRLF, smuggling also at <LF>.<LF> (what follows is commands)" {
	start_smtpd "option end-of-data crlf"
	talk reply 'send:EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n' reply reply reply reply \
		'send:one\n.\nNOOP\r\n.\r\nQUIT\r\n' reply reply
	[[ "$output" == *"250 2.0.0 Ok: queued as 1"*"221 2.0.0 Bye"* ]] || die "replies: $output"
	assert_message 1 $'one\n.\nNOOP'
	start_smtpd "option end-of-data smuggling"
	talk reply 'send:EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n' reply reply reply reply \
		'send:one\n.\nNOOP\r\n.\r\nQUIT\r\n' reply reply reply reply
	[[ "$output" == *"queued as 1"*"250 2.0.0 Ok"*"502 5.5.2"*"221 2.0.0 Bye"* ]] || die "replies: $output"
	assert_message 1 'one'
}

@test "smtpd: multi-line greeting, caps, Nth occurrence, one-line and block rules" {
	start_smtpd - <<-'EOF'
	# comment
	caps SIZE 1000, 8BITMIME
	on CONNECT 220-first line\n220 smtpd.test ready
	on RCPT#2 550 5.1.1 <carol@example.net>: no such user
	on RCPT#3
	  reply 450-4.2.0 busy
	  reply 450 4.2.0 try later
	EOF
	talk reply 'send:EHLO c\r\n' reply 'send:MAIL FROM:<a@b>\r\n' reply \
		'send:RCPT TO:<b@c>\r\n' reply 'send:RCPT TO:<c@d>\r\n' reply \
		'send:RCPT TO:<d@e>\r\n' reply 'send:RCPT TO:<e@f>\r\n' reply
	assert_equal '220-first line\r\n220 smtpd.test ready\r\n
250-smtpd.test Hello c\r\n250-SIZE 1000\r\n250 8BITMIME\r\n
250 2.1.0 Ok\r\n
250 2.1.5 Ok\r\n
550 5.1.1 <carol@example.net>: no such user\r\n
450-4.2.0 busy\r\n450 4.2.0 try later\r\n
250 2.1.5 Ok\r\n' "$output" "replies"
}

@test "smtpd: caps alone offers nothing; HELO-only server" {
	start_smtpd - <<-'EOF'
	caps
	on EHLO 500 5.5.1 command unrecognized
	EOF
	talk reply 'send:EHLO c\r\n' reply 'send:HELO c\r\n' reply \
		'send:MAIL FROM:<a@b> SIZE=5\r\n' reply
	assert_equal '220 smtpd.test ESMTP mailpost test server\r\n
500 5.5.1 command unrecognized\r\n
250 smtpd.test\r\n
250 2.1.0 Ok\r\n' "$output" "replies"
	assert_problem "MAIL parameter SIZE=5 but SIZE was not offered"
}

@test "smtpd: raw garbage, several replies in one write, escapes" {
	start_smtpd - <<-'EOF'
	on CONNECT raw 220 hi\r\n25O ok\r\n
	on NOOP
	  reply 250-a
	  reply 251 b\e[31m
	  raw \x00\\
	  close
	EOF
	talk 'sleep:0.3' reply count 'send:NOOP\r\n' 'sleep:0.3' eof
	assert_equal '220 hi\r\n
recv calls: 1
EOF after 25O ok\r\n250-a\r\n251 b\x1b[31m\r\n\x00\\' "$output" "what the client got"
}

@test "smtpd: waits counts the client's turns, not its reads; the EOF after 221 is one" {
	# connect, the greeting (answered in two writes: one turn), the EHLO
	# reply, 221 (the client's end of the connection answers it)
	start_smtpd
	talk reply 'send:EH' 'sleep:0.05' 'send:LO c\r\n' reply 'send:QUIT\r\n' reply eof
	assert_equal 'EOF' "${lines[3]}" "the end after 221"
	grep -q '^1 2 6 LO c' "$SMTPD_DIR/recv.log" || die "EHLO did not come in two reads:" \
		"$(cat "$SMTPD_DIR/recv.log")"
	assert_equal 4 "$(smtpd_waits)" "waits"
	# a session pipelined to the end: connect, greeting, EHLO, MAIL..DATA,
	# the body with QUIT
	start_smtpd
	talk "${GOOD_SESSION[@]}"
	assert_equal 5 "$(smtpd_waits)" "waits of the pipelined session"
	assert_no_problems
}

@test "smtpd: dribble sends byte by byte" {
	start_smtpd - <<-'EOF'
	on CONNECT
	  dribble 0.01
	  reply 220 dribbling server
	EOF
	talk reply count 'send:QUIT\r\n' reply
	[[ "${lines[0]}" == '220 dribbling server\r\n' ]] || die "greeting: ${lines[0]}"
	local n="${lines[1]#recv calls: }"
	[[ "$n" -ge 10 ]] || die "greeting came in $n recv() calls, expected about 24"
	# dribble lasts for that event only
	[[ "${lines[2]}" == '221 2.0.0 Bye\r\n' ]] || die "QUIT reply: ${lines[2]}"
}

@test "smtpd: option dribble applies to every reply" {
	start_smtpd "option dribble 0.005"
	talk reply 'send:NOOP\r\n' reply count
	[[ "${lines[2]#recv calls: }" -ge 20 ]] || die "not dribbled: ${lines[*]}"
}

@test "smtpd: sleep delays a reply" {
	start_smtpd - <<-'EOF'
	on NOOP
	  sleep 0.3
	  reply 250 late
	EOF
	local t0=${EPOCHREALTIME/./}
	talk reply 'send:NOOP\r\n' reply
	[[ "${lines[1]}" == '250 late\r\n' ]] || die "reply: ${lines[1]}"
	((${EPOCHREALTIME/./} - t0 >= 300000)) || die "no delay"
	grep -q "sleeping 0.3s" "$SMTPD_DIR/log" || die "sleep not logged"
}

@test "smtpd: close after a command, reset, close after the dot, close mid-DATA" {
	start_smtpd "on MAIL close"
	talk reply 'send:EHLO c\r\n' reply 'send:MAIL FROM:<a@b>\r\n' reply
	assert_equal "EOF" "${lines[2]}" "after MAIL"

	start_smtpd "on MAIL reset"
	talk reply 'send:EHLO c\r\n' reply 'send:MAIL FROM:<a@b>\r\n' eof
	[[ "${lines[2]}" == "ERROR"* || "${lines[2]}" == "EOF" ]] || die "after reset: ${lines[*]}"
	grep -q "with RST" "$SMTPD_DIR/log" || die "RST not logged"

	start_smtpd "on DOT close"
	talk reply 'send:EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<b@c>\r\nDATA\r\n' \
		reply reply reply reply 'send:body\r\n.\r\n' reply
	assert_equal "EOF" "${lines[-1]}" "after the dot"
	assert_message 1 $'body\r\n'

	start_smtpd "on BODYLINE#2 close"
	talk reply 'send:EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<b@c>\r\nDATA\r\n' \
		reply reply reply reply 'send:one\r\ntwo\r\n' eof
	assert_no_message 1
	assert_file_bytes "$SMTPD_DIR/msg.1.partial" $'one\r\ntwo\r\n' "partial message"
}

@test "smtpd: LMTP gives one reply per accepted recipient after the dot" {
	start_smtpd - <<-'EOF'
	on RCPT#2 550 5.1.1 no
	on LMTP#2 452 4.2.2 mailbox full
	EOF
	talk reply 'send:LHLO c\r\n' reply \
		'send:MAIL FROM:<a@b>\r\nRCPT TO:<b@c>\r\nRCPT TO:<x@c>\r\nRCPT TO:<d@e>\r\nDATA\r\n' \
		reply reply reply reply reply 'send:x\r\n.\r\n' reply reply 'send:QUIT\r\n' reply
	assert_equal '250 2.1.5 <b@c> delivered\r\n
452 4.2.2 mailbox full\r\n
221 2.0.0 Bye\r\n' "$(printf '%s\n' "${lines[@]:7}")" "LMTP replies"
}

@test "smtpd: connection sections script each connection" {
	start_smtpd - -- --max-connections 2 <<-'EOF'
	on NOOP 250 any
	connection 1
	on CONNECT
	  reply 421 4.3.2 go away
	  close
	connection 2
	on NOOP#2 250 second noop
	EOF
	talk reply eof
	assert_equal '421 4.3.2 go away\r\n' "${lines[0]}" "connection 1 greeting"
	talk reply 'send:NOOP\r\n' reply 'send:NOOP\r\n' reply
	assert_equal '220 smtpd.test ESMTP mailpost test server\r\n
250 any\r\n
250 second noop\r\n' "$output" "connection 2"
}

@test "smtpd: SIZE limit gives 552 to MAIL by default" {
	start_smtpd "caps PIPELINING, SIZE 100"
	talk reply 'send:EHLO c\r\n' reply 'send:MAIL FROM:<a@b> SIZE=101\r\n' reply \
		'send:MAIL FROM:<a@b> SIZE=100\r\n' reply
	assert_equal '552 5.3.4 Message size exceeds fixed limit\r\n' "${lines[2]}" "SIZE=101"
	assert_equal '250 2.1.0 Ok\r\n' "${lines[3]}" "SIZE=100"
}

@test "smtpd: require-pipelining holds replies until DATA, and flags a client that waits" {
	start_smtpd "option require-pipelining"
	talk "${GOOD_SESSION[@]}"
	assert_no_problems

	start_smtpd $'option require-pipelining\noption wait 0.2'
	talk reply 'send:EHLO c\r\n' reply 'send:MAIL FROM:<a@b>\r\n' reply
	assert_equal '250 2.1.0 Ok\r\n' "${lines[2]}" "MAIL reply after the wait"
	assert_problem "pipelining: DATA did not arrive with MAIL"
}

@test "smtpd: require-quit-with-dot flags QUIT sent only after the reply" {
	start_smtpd "option require-quit-with-dot"
	talk "${GOOD_SESSION[@]}"
	assert_no_problems

	start_smtpd $'option require-quit-with-dot\noption wait 0.2'
	talk reply 'send:EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<b@c>\r\nDATA\r\n' \
		reply reply reply reply 'send:x\r\n.\r\n' reply 'send:QUIT\r\n' reply
	assert_problem "QUIT did not arrive with the final dot"
}

@test "smtpd: flags client mistakes" {
	# Each case: talk steps (after the greeting) | expected problem text.
	# One server and one client, a connection a case (talk's reconnect),
	# served one after another: the problem must be on the line of that
	# case's connection.
	local cases=(
		'send:EHLO c\n|bare LF ending line 1'
		'send:EHLO c\rx\r\n|bare CR in line 1'
		'send:NOOP\r\nNOOP\r\n|before the reply to NOOP'
		'send:EHLO c\r\nMAIL FROM:<a@b>\r\n|before the reply to EHLO'
		'send:HELO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<b@c>\r\n|before the reply to MAIL (no PIPELINING)'
		'send:EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<b@c>\r\nDATA\r\nbody\r\n|before the reply to DATA'
		'send:EHLO c\r\nMAIL FROM:<a@b>\r\nDATA\r\n|reply|reply|reply|send:body line\r\n|body data body line sent after DATA got 554'
		'send:EHLO c\r\nMAIL FROM:<a@b> SIZE=3\r\nRCPT TO:<b@c>\r\nDATA\r\n|reply|reply|reply|reply|send:abcd\r\n.\r\n|SIZE=3 declared but the message has 6 octets'
		'send:EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<b@c>\r\nDATA\r\n|reply|reply|reply|reply|send:\xc3\xa9\r\n.\r\n|8-bit message data without BODY=8BITMIME'
		'send:EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<b@c>\r\nDATA\r\n|reply|reply|reply|reply|send:'"$(printf 'x%.0s' {1..999})"'\r\n.\r\n|is 1001 octets long'
		'send:QUIT\r\nNOOP\r\n|before the reply to QUIT'
	)
	local c steps all=() problem n=0
	start_smtpd -- --max-connections $((${#cases[@]} + 1))
	for c in "${cases[@]}"; do
		IFS='|' read -r -a steps <<<"${c%|*}"
		all+=(reply "${steps[@]}" reconnect)
	done
	# and a clean session flags nothing
	talk "${all[@]}" "${GOOD_SESSION[@]}"
	smtpd_wait_exit
	smtpd_finish
	for c in "${cases[@]}"; do
		n=$((n + 1))
		problem="${c##*|}"
		grep "^conn $n: " "$SMTPD_DIR/problems" | grep -qF -- "$problem" ||
			die "connection $n should have been flagged '$problem' (case: ${c:0:80}); the problems:" \
				"$(cat "$SMTPD_DIR/problems")" || return 1
	done
	if grep "^conn $((n + 1)): " "$SMTPD_DIR/problems"; then
		die "the clean session was flagged"
	fi
}

@test "smtpd: client talking before the greeting is flagged" {
	start_smtpd $'on CONNECT\n  sleep 0.2\n  reply 220 late'
	talk 'send:EHLO early\r\n' reply reply
	assert_problem "before the greeting"
}

@test "smtpd: BDAT chunks are recorded as a message" {
	start_smtpd "caps CHUNKING, PIPELINING"
	talk reply 'send:EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<b@c>\r\nBDAT 4\r\nab\r\nBDAT 3 LAST\r\nc.\n' \
		reply reply reply reply reply
	assert_message 1 $'ab\r\nc.\n'
}

@test "smtpd: BDAT without CHUNKING, before MAIL, and after a refused chunk are flagged" {
	start_smtpd "caps SIZE 100"
	talk reply 'send:EHLO c\r\n' reply 'send:BDAT 2 LAST\r\nab' reply 'send:QUIT\r\n' reply
	assert_problem "BDAT but CHUNKING was not offered"
	assert_problem "BDAT without MAIL"
	start_smtpd $'caps CHUNKING\non BDAT#1 452 4.3.1 full'
	talk reply 'send:EHLO c\r\n' reply 'send:MAIL FROM:<a@b>\r\n' reply 'send:RCPT TO:<c@d>\r\n' reply \
		'send:BDAT 1\r\na' reply 'send:BDAT 1 LAST\r\nb' reply 'send:QUIT\r\n' reply
	assert_equal '503 5.5.1 Error: an earlier chunk failed\r\n' "${lines[5]}" "the reply after a refused chunk"
	assert_problem "BDAT after a chunk was refused with 452"
	assert_no_message 1
}

# --- the server: TLS ------------------------------------------------------------
# Talked to with smtpd.py's --talk client (Python's ssl) and with gnutls-cli,
# the same library mailpost uses.

@test "smtpd: STARTTLS: 220, handshake, new EHLO with tls-caps, clear and TLS recorded apart" {
	tls_certs
	start_smtpd - <<-EOF
	caps PIPELINING, SIZE 10, STARTTLS
	tls-caps AUTH PLAIN, 8BITMIME
	$(tls_cert_line server)
	EOF
	talk reply 'send:EHLO c\r\n' reply 'send:STARTTLS\r\n' reply "tls:$CERTS/ca.pem" \
		'send:EHLO c\r\n' reply 'send:QUIT\r\n' reply
	assert_equal '220 2.0.0 Ready to start TLS\r\n' "${lines[2]}" "STARTTLS reply"
	[[ "${lines[3]}" == "TLS TLSv1."[23] ]] || die "handshake: ${lines[3]}"
	assert_equal '250-smtpd.test Hello c\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n' "${lines[4]}" "EHLO inside TLS"
	assert_over_tls QUIT
	assert_tls_session "conn 1: TLSv1."
	assert_tls_session "client-cert=none"
	assert_file_bytes "$SMTPD_DIR/received.clear" $'EHLO c\r\nSTARTTLS\r\n' "clear input"
	assert_file_bytes "$SMTPD_DIR/received.tls" $'EHLO c\r\nQUIT\r\n' "TLS input"
	assert_file_bytes "$SMTPD_DIR/commands" $'1 clear EHLO c\n1 clear STARTTLS\n1 tls EHLO c\n1 tls QUIT\n' "commands"
	assert_no_problems
}

@test "smtpd: STARTTLS refusals: no cert (454), scripted 502, not offered (flagged)" {
	tls_certs
	start_smtpd "caps STARTTLS"
	talk reply 'send:EHLO c\r\n' reply 'send:STARTTLS\r\n' reply
	assert_equal '454 4.7.0 TLS not available in this test server\r\n' "${lines[2]}" "no cert"

	start_smtpd "$(tls_cert_line server)"$'\ncaps STARTTLS\non STARTTLS 502 5.5.2 no'
	talk reply 'send:EHLO c\r\n' reply 'send:STARTTLS\r\n' reply 'send:QUIT\r\n' reply
	assert_equal '502 5.5.2 no\r\n' "${lines[2]}" "scripted"
	assert_equal '221 2.0.0 Bye\r\n' "${lines[3]}" "still in clear after 502"

	start_smtpd "$(tls_cert_line server)"
	talk reply 'send:EHLO c\r\n' reply 'send:STARTTLS\r\n' reply
	assert_problem "STARTTLS but it was not offered"
}

@test "smtpd: response injection: the 220 and extra replies leave in one write" {
	tls_certs
	start_smtpd - <<-EOF
	$(tls_cert_line server)
	caps STARTTLS
	on STARTTLS
	  reply 220 2.0.0 go ahead
	  raw 250-injected\r\n250 more\r\n
	EOF
	talk reply 'send:EHLO c\r\n' reply 'send:STARTTLS\r\n' 'sleep:0.3' count reply "tls:$CERTS/ca.pem"
	assert_equal 'recv calls: 2' "${lines[2]}" "one write for 220 and the injection"
	assert_equal '220 2.0.0 go ahead\r\n' "${lines[3]}" "220"
	assert_equal 'before TLS: 250-injected\r\n250 more\r\n' "${lines[4]}" "the injected bytes"
}

@test "smtpd: after STARTTLS: MAIL before the new EHLO and a second STARTTLS are flagged; plaintext after 220 is recorded" {
	tls_certs
	start_smtpd - <<-EOF
	$(tls_cert_line server)
	caps STARTTLS
	tls-caps STARTTLS
	EOF
	talk reply 'send:EHLO c\r\n' reply 'send:STARTTLS\r\n' reply "tls:$CERTS/ca.pem" \
		'send:MAIL FROM:<a@b>\r\n' reply 'send:EHLO c\r\n' reply 'send:STARTTLS\r\n' reply
	assert_problem "MAIL after STARTTLS without a new EHLO"
	assert_problem "a second STARTTLS inside TLS"
	assert_equal '503 5.5.1 Error: TLS already active\r\n' "${lines[6]}" "second STARTTLS"

	# A client that goes on in clear after the 220: its bytes count as clear.
	start_smtpd - <<-EOF
	$(tls_cert_line server)
	caps STARTTLS
	EOF
	talk reply 'send:EHLO c\r\n' reply 'send:STARTTLS\r\n' reply 'send:MAIL FROM:<a@b>\r\n' eof
	assert_tls_session "handshake failed"
	run assert_clear_lacks "MAIL FROM"
	[[ "$status" -ne 0 ]] || die "MAIL sent in clear after 220 went unrecorded"
}

@test "smtpd: implicit TLS; a plaintext talker is refused" {
	tls_certs
	start_smtpd $'option implicit-tls\n'"$(tls_cert_line server)"
	talk "tls:$CERTS/ca.pem" reply 'send:EHLO c\r\n' reply 'send:QUIT\r\n' reply
	[[ "${lines[0]}" == "TLS TLSv1."[23] ]] || die "handshake: ${lines[0]}"
	assert_equal '220 smtpd.test ESMTP mailpost test server\r\n' "${lines[1]}" "greeting inside TLS"
	assert_over_tls EHLO QUIT
	assert_no_problems

	start_smtpd $'option implicit-tls\n'"$(tls_cert_line server)"
	talk 'send:EHLO c\r\n' eof
	assert_tls_session "handshake failed"
	assert_received_contains $'EHLO c\r\n'
}

@test "smtpd: tls12 caps the version; the chosen certificate is served" {
	tls_certs
	start_smtpd $'option implicit-tls\noption tls12\n'"$(tls_cert_line expired)"
	talk tls reply
	assert_equal "TLS TLSv1.2" "${lines[0]}" "version"
	# verified against the CA, the expired certificate fails
	start_smtpd $'option implicit-tls\n'"$(tls_cert_line expired)"
	talk "tls:$CERTS/ca.pem"
	[[ "$output" == "TLS failed: CERTIFICATE_VERIFY_FAILED"* ]] || die "expired accepted: $output"
}

# gnutls_feed OUT READY: gnutls-cli's stdin.  Each line goes once
# gnutls-cli's output (OUT) shows the answer to the one before: EHLO after
# READY (the greeting over implicit TLS; the handshake after STARTTLS, whose
# greeting gnutls-cli has consumed), QUIT after the EHLO reply, end of input
# after the QUIT reply.  Never a fixed sleep: under load gnutls-cli may take
# seconds to get going, and an EHLO before the greeting is a client mistake.
gnutls_feed() {
	wait_for_text "$1" "- Simple Client Mode" 10 || return 1
	wait_for_text "$1" "$2" 10 || return 1
	printf 'EHLO gnutls\r\n'
	wait_for_text "$1" "Hello gnutls" 10 || return 1
	printf 'QUIT\r\n'
	wait_for_text "$1" "221 " 10
}

# gnutls_session READY [GNUTLS-CLI-OPTIONS...]: an EHLO/QUIT session
# through gnutls-cli against $SMTPD_PORT, verifying the server with the test
# CA; the EHLO goes once the output holds READY.
gnutls_session() {
	local out="$BATS_TEST_TMPDIR/gnutls.$SMTPD_COUNT" rc=0 ready="$1"
	shift
	: >"$out"
	timeout 20 gnutls-cli --x509cafile "$CERTS/ca.pem" "$@" -p "$SMTPD_PORT" localhost \
		>"$out" 2>&1 < <(gnutls_feed "$out" "$ready" 3>&-) || rc=$?
	[[ "$rc" -eq 0 ]] || die "gnutls-cli $* failed ($rc):" "$(cat "$out")"
}

@test "smtpd: gnutls-cli (mailpost's TLS library) gets through, STARTTLS and implicit" {
	command -v gnutls-cli >/dev/null || skip "gnutls-cli not installed"
	tls_certs
	start_smtpd $'caps STARTTLS\n'"$(tls_cert_line server)"
	gnutls_session "- Simple Client Mode" --starttls-proto=smtp
	# gnutls-cli's own EHLO went in clear, as it must; ours inside TLS
	assert_over_tls QUIT
	grep -qx '1 tls EHLO gnutls' "$SMTPD_DIR/commands" || die "no EHLO inside TLS"
	assert_tls_session "conn 1: TLSv1.3"
	assert_no_problems

	start_smtpd $'option implicit-tls\n'"$(tls_cert_line server)"
	gnutls_session "220 smtpd.test ESMTP"
	assert_over_tls EHLO QUIT
	assert_no_problems
}

@test "smtpd: a required client certificate is verified; EXTERNAL uses it" {
	tls_certs
	start_smtpd - -- --max-connections 2 <<-EOF
	option implicit-tls
	$(tls_cert_line server)
	tls-client-ca $CERTS/ca.pem
	caps AUTH EXTERNAL
	EOF
	talk "tls:$CERTS/ca.pem:$CERTS/client.pem:$CERTS/client.key" reply 'send:EHLO c\r\n' reply \
		'send:AUTH EXTERNAL =\r\n' reply
	assert_equal '235 2.7.0 Authentication successful\r\n' "${lines[3]}" "EXTERNAL"
	# without a certificate: no session
	talk "tls:$CERTS/ca.pem" reply
	smtpd_finish
	assert_tls_session "client-cert=mailpost test client"
	assert_auth_record "conn 1: EXTERNAL user=mailpost test client reply=235 tls"
	assert_tls_session "conn 2: handshake failed"
}

# --- the server: AUTH ---------------------------------------------------------------

@test "smtpd: AUTH PLAIN and LOGIN: right and wrong password, auth-required" {
	start_smtpd - -- --max-connections 3 <<-'EOF'
	caps AUTH PLAIN LOGIN
	user alice s3cret pass
	option auth-required
	EOF
	talk reply 'send:EHLO c\r\n' reply 'send:MAIL FROM:<a@b>\r\n' reply \
		"send:AUTH PLAIN $(b64 '\0alice\0s3cret pass')\r\n" reply 'send:MAIL FROM:<a@b>\r\n' reply
	assert_equal '530 5.7.0 Authentication required\r\n' "${lines[2]}" "MAIL before AUTH"
	assert_equal '235 2.7.0 Authentication successful\r\n' "${lines[3]}" "PLAIN"
	assert_equal '250 2.1.0 Ok\r\n' "${lines[4]}" "MAIL after AUTH"

	talk reply 'send:EHLO c\r\n' reply 'send:AUTH LOGIN\r\n' reply "send:$(b64 alice)\r\n" reply \
		"send:$(b64 's3cret pass')\r\n" reply
	assert_equal "334 $(b64 Username:)\\r\\n" "${lines[2]}" "LOGIN user prompt"
	assert_equal "334 $(b64 Password:)\\r\\n" "${lines[3]}" "LOGIN password prompt"
	assert_equal '235 2.7.0 Authentication successful\r\n' "${lines[4]}" "LOGIN"

	talk reply 'send:EHLO c\r\n' reply "send:AUTH PLAIN\r\n" reply \
		"send:$(b64 '\0alice\0wrong')\r\n" reply
	assert_equal '334 \r\n' "${lines[2]}" "empty challenge"
	assert_equal '535 5.7.8 Authentication credentials invalid\r\n' "${lines[3]}" "wrong password"
	assert_auth_record "conn 1: PLAIN user=alice reply=235 clear"
	assert_auth_record "conn 2: LOGIN user=alice reply=235 clear"
	assert_auth_record "conn 3: PLAIN user=alice reply=535 clear"
	assert_no_problems
}

@test "smtpd: CRAM-MD5 (RFC 2195 example)" {
	start_smtpd - <<-'EOF'
	caps AUTH CRAM-MD5
	user tim tanstaaftanstaaf
	option cram-challenge <1896.697170952@postoffice.reston.mci.net>
	EOF
	talk reply 'send:EHLO c\r\n' reply 'send:AUTH CRAM-MD5\r\n' reply \
		"send:$(b64 'tim b913a602c7eda7a495b4e6e7334d3890')\r\n" reply
	assert_equal "334 $(b64 '<1896.697170952@postoffice.reston.mci.net>')\\r\\n" "${lines[2]}" "challenge"
	assert_equal '235 2.7.0 Authentication successful\r\n' "${lines[3]}" "result"
}

@test "smtpd: SCRAM-SHA-1 (RFC 5802 example) and SCRAM-SHA-256 (RFC 7677 example)" {
	start_smtpd - <<-'EOF'
	caps AUTH SCRAM-SHA-1
	user user pencil
	option scram-nonce 3rfcNHYJY1ZVvWVs7j
	option scram-salt QSXCR+Q6sek8bf92
	EOF
	talk reply 'send:EHLO c\r\n' reply "send:AUTH SCRAM-SHA-1 $(b64 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL')\r\n" reply \
		"send:$(b64 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=')\r\n" reply \
		'send:\r\n' reply
	assert_equal "334 $(b64 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096')\\r\\n" "${lines[2]}" "server-first"
	assert_equal "334 $(b64 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=')\\r\\n" "${lines[3]}" "server-final"
	assert_equal '235 2.7.0 Authentication successful\r\n' "${lines[4]}" "result"

	start_smtpd - <<-'EOF'
	caps AUTH SCRAM-SHA-256
	user user pencil
	option scram-nonce %hvYDpWUa2RaTCAfuxFIlj)hNlF$k0
	option scram-salt W22ZaJ0SNY7soEsUEjb6gQ==
	EOF
	talk reply 'send:EHLO c\r\n' reply "send:AUTH SCRAM-SHA-256 $(b64 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO')\r\n" reply \
		"send:$(b64 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=')\r\n" reply \
		'send:\r\n' reply
	assert_equal "334 $(b64 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')\\r\\n" "${lines[3]}" "server-final"
	assert_equal '235 2.7.0 Authentication successful\r\n' "${lines[4]}" "result"
	assert_no_problems
}

@test "smtpd: SCRAM faults: wrong proof 535, bad server signature, no server-final" {
	local vector=(reply 'send:EHLO c\r\n' reply "send:AUTH SCRAM-SHA-1 $(b64 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL')\r\n" reply)
	local fixed=$'caps AUTH SCRAM-SHA-1\nuser user pencil\noption scram-nonce 3rfcNHYJY1ZVvWVs7j\noption scram-salt QSXCR+Q6sek8bf92'
	local final="send:$(b64 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=')\r\n"
	start_smtpd "${fixed/pencil/pen}"
	talk "${vector[@]}" "$final" reply
	assert_equal '535 5.7.8 Authentication credentials invalid\r\n' "${lines[3]}" "wrong password"

	start_smtpd "$fixed"$'\noption scram-bad-signature'
	talk "${vector[@]}" "$final" reply
	[[ "${lines[3]}" == 334* && "${lines[3]}" != "334 $(b64 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=')\\r\\n" ]] ||
		die "signature not spoilt: ${lines[3]}"

	start_smtpd "$fixed"$'\noption scram-no-final'
	talk "${vector[@]}" "$final" reply
	assert_equal '235 2.7.0 Authentication successful\r\n' "${lines[3]}" "235 without v="
}

@test "smtpd: XOAUTH2 and OAUTHBEARER: token accepted; a bad one gets the RFC 7628 error challenge" {
	start_smtpd - -- --max-connections 2 <<-'EOF'
	caps AUTH XOAUTH2 OAUTHBEARER
	user alice ya29.tok3n
	EOF
	talk reply 'send:EHLO c\r\n' reply \
		"send:AUTH XOAUTH2 $(b64 'user=alice\001auth=Bearer ya29.tok3n\001\001')\r\n" reply
	assert_equal '235 2.7.0 Authentication successful\r\n' "${lines[2]}" "XOAUTH2"
	talk reply 'send:EHLO c\r\n' reply \
		"send:AUTH OAUTHBEARER $(b64 'n,a=alice,\001host=localhost\001port=587\001auth=Bearer wrong\001\001')\r\n" reply \
		"send:$(b64 '\001')\r\n" reply
	[[ "${lines[2]}" == "334 "* ]] || die "no error challenge: ${lines[2]}"
	[[ "$(printf '%s' "${lines[2]#334 }" | sed 's/\\r\\n$//' | base64 -d)" == *invalid_token* ]] ||
		die "challenge is not the JSON error: ${lines[2]}"
	assert_equal '535 5.7.8 Authentication credentials invalid\r\n' "${lines[3]}" "OAUTHBEARER bad token"
	assert_auth_record "conn 1: XOAUTH2 user=alice reply=235"
	assert_auth_record "conn 2: OAUTHBEARER user=alice reply=535"
	assert_no_problems
	assert_equal $'XOAUTH2 ya29.tok3n accepted\nOAUTHBEARER wrong refused' \
		"$(smtpd_bearer_tokens)" "bearer tokens recorded"
	run assert_bearer_used wrong
	[[ "$status" -ne 0 && "$output" == *"was not 'wrong', accepted"* ]] ||
		die "a refused token passed assert_bearer_used: $output"
}

@test "smtpd: XOAUTH2 with a stale token: the error challenge, the empty response, 535; then the new token" {
	start_smtpd - <<-'EOF'
	caps AUTH XOAUTH2
	user alice@example.org access-2
	EOF
	talk reply 'send:EHLO c\r\n' reply \
		"send:AUTH XOAUTH2 $(b64 'user=alice@example.org\001auth=Bearer access-1\001\001')\r\n" reply \
		'send:\r\n' reply \
		"send:AUTH XOAUTH2 $(b64 'user=alice@example.org\001auth=Bearer access-2\001\001')\r\n" reply
	[[ "$(printf '%s' "${lines[2]#334 }" | sed 's/\\r\\n$//' | base64 -d)" == *'"status":"invalid_token"'* ]] ||
		die "no RFC 7628 error challenge: ${lines[2]}"
	assert_equal '535 5.7.8 Authentication credentials invalid\r\n' "${lines[3]}" "stale token"
	assert_equal '235 2.7.0 Authentication successful\r\n' "${lines[4]}" "new token"
	assert_equal $'XOAUTH2 access-1 refused\nXOAUTH2 access-2 accepted' \
		"$(smtpd_bearer_tokens)" "bearer tokens recorded"
	assert_bearer_used access-2
	assert_no_problems
}

@test "smtpd: scripted AUTH: results, echo of the response, malformed challenge and '*'" {
	start_smtpd - -- --max-connections 3 <<-'EOF'
	caps AUTH PLAIN LOGIN
	user alice s3cret
	connection 1
	on AUTH 454 4.7.0 Temporary authentication failure
	connection 2
	on AUTHDONE
	  echo 535-5.7.8 no:\x20
	  echo-decoded 535 5.7.8 decoded:\x20
	connection 3
	on AUTH 334 !!not-base64!!
	EOF
	talk reply 'send:EHLO c\r\n' reply "send:AUTH PLAIN $(b64 '\0alice\0s3cret')\r\n" reply
	assert_equal '454 4.7.0 Temporary authentication failure\r\n' "${lines[2]}" "454"
	talk reply 'send:EHLO c\r\n' reply "send:AUTH PLAIN $(b64 '\0alice\0s3cret')\r\n" reply
	assert_equal "535-5.7.8 no: $(b64 '\0alice\0s3cret')\\r\\n535 5.7.8 decoded:  alice s3cret\\r\\n" "${lines[2]}" "echo"
	talk reply 'send:EHLO c\r\n' reply 'send:AUTH LOGIN\r\n' reply 'send:*\r\n' reply
	assert_equal '334 !!not-base64!!\r\n' "${lines[2]}" "malformed challenge"
	assert_equal '501 5.7.0 Authentication cancelled\r\n' "${lines[3]}" "cancel"
	assert_auth_record "conn 1: PLAIN user=? reply=454 clear"
	assert_auth_record "conn 3: LOGIN user=? reply=501 cancelled clear"
	grep -qx '3 clear > \*' "$SMTPD_DIR/commands" || die "the '*' is not recorded as a response"
}

@test "helpers: the TLS and AUTH assertions catch what they are for" {
	tls_certs
	[[ -s "$CERTS/server.pem" && -s "$CERTS/server.sha256" ]] || die "no PKI in $CERTS"
	assert_equal "tls-cert $CERTS/client.pem $CERTS/client.key" "$(tls_cert_line client)" "client cert line"
	assert_equal "AGFsaWNlAHMzY3JldA==" "$(b64 '\0alice\0s3cret')" "b64"

	start_smtpd $'caps STARTTLS, AUTH PLAIN\n'"$(tls_cert_line server)"$'\nuser alice s3cret'
	talk reply 'send:EHLO c\r\n' reply "send:AUTH PLAIN $(b64 '\0alice\0s3cret')\r\n" reply \
		'send:MAIL FROM:<a@b>\r\n' reply 'send:STARTTLS\r\n' reply "tls:$CERTS/ca.pem" \
		'send:EHLO c\r\n' reply 'send:RCPT TO:<b@c>\r\n' reply
	run assert_clear_lacks "AUTH"
	[[ "$status" -ne 0 && "$output" == *"in clear holds 'AUTH'"* ]] || die "AUTH in clear not caught: $output"
	run assert_over_tls MAIL
	[[ "$status" -ne 0 ]] || die "MAIL in clear passed assert_over_tls"
	assert_over_tls RCPT
	run assert_no_command AUTH
	[[ "$status" -ne 0 ]] || die "assert_no_command missed AUTH"
	assert_no_command DATA
	assert_tls_received_contains $'RCPT TO:<b@c>\r\n'
	assert_auth_record "conn 1: PLAIN user=alice reply=235 clear"
	run assert_tls_session "handshake failed"
	[[ "$status" -ne 0 ]] || die "assert_tls_session matched nothing real"

	printf 'log with s3cret\n' >"$BATS_TEST_TMPDIR/log"
	output="" stderr=""
	run assert_no_secret s3cret "$BATS_TEST_TMPDIR/log"
	[[ "$status" -ne 0 ]] || die "secret in a file not found"
	output="x s3cret" stderr=""
	run assert_no_secret s3cret
	[[ "$status" -ne 0 ]] || die "secret on stdout not found"
	output="" stderr="s3cret"
	run assert_no_secret s3cret
	[[ "$status" -ne 0 ]] || die "secret on stderr not found"
	output="" stderr=""
	assert_no_secret s3cret /dev/null
}

# --- the OAuth 2.0 server (tests/lib/oauthd.py) -------------------------------

# oreq [--basic ID:SECRET] [--content-type T] [--timeout S] METHOD URL
#      [NAME=VALUE...]: one request with oauthd.py's client, the test CA
# trusted; lines[0] is "STATUS BODY-SIZE CONTENT-LENGTH|-", lines[1] the
# Location or "-", lines[2] the body (bats drops an empty one).
oreq() {
	local opts=()
	while [[ "$1" == --* ]]; do
		opts+=("$1" "$2")
		shift 2
	done
	run "$SMTPD_PYTHON" "$OAUTHD_PY" --ca "$CERTS/ca.pem" "${opts[@]}" --request "$@"
	[[ "$status" -eq 0 ]] || die "request $* failed ($status): $output"
}

# opost PATH FIELD=VALUE...: a form POST to $OAUTHD_URL/PATH.
opost() {
	local path="$1"
	shift
	run "$SMTPD_PYTHON" "$OAUTHD_PY" --ca "$CERTS/ca.pem" \
		--request POST "$OAUTHD_URL$path" "$@"
	[[ "$status" -eq 0 ]] || die "POST $path $* failed ($status): $output"
}

# json_field JSON FIELD: print FIELD of a JSON object ("" when absent).
json_field() {
	"$SMTPD_PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2"
}

# expect STATUS[ SIZE[ LENGTH]] BODY-FRAGMENT: the last request was
# answered STATUS (with a body of SIZE bytes, Content-Length LENGTH or -)
# and a body holding the fragment.
expect() {
	[[ "${lines[0]} " == "$1 "* && "${lines[2]:-}" == *"$2"* ]] ||
		die "expected $1 with '$2', got:" "${output:0:300}"
}

DEV_GRANT=grant_type=urn:ietf:params:oauth:grant-type:device_code

@test "oauthd: HTTPS with the test CA's certificate on its own port; an untrusting client is refused" {
	oauthd_start
	[[ "$OAUTHD_URL" == "https://127.0.0.1:$OAUTHD_PORT" && "$OAUTHD_PORT" -gt 0 ]] ||
		die "odd URL $OAUTHD_URL"
	# The client trusting the system's store only: the handshake fails.
	run "$SMTPD_PYTHON" "$OAUTHD_PY" --request GET "$OAUTHD_URL/token"
	[[ "$status" -eq 1 && "$output" == *CERTIFICATE_VERIFY_FAILED* ]] ||
		die "a client without the test CA got through: $status $output"
	wait_for_text "$OAUTHD_DIR/handshakes" "failed:" 5
	assert_equal 0 "$(oauthd_requests)" "requests"
	oreq GET "$OAUTHD_URL/nowhere"
	expect 404 "not found"
	assert_equal 1 "$(oauthd_requests)" "requests"
	stop_oauthd

	# Another certificate of the suite's PKI: the client that knows the CA
	# refuses it.
	oauthd_start --cert "$CERTS/expired.pem"
	run "$SMTPD_PYTHON" "$OAUTHD_PY" --ca "$CERTS/ca.pem" --request GET "$OAUTHD_URL/token"
	[[ "$status" -eq 1 && "$output" == *"certificate has expired"* ]] ||
		die "the expired certificate was not served: $status $output"
}

@test "oauthd: device grant: the device answer, then polls answered in order, logged" {
	oauthd_start --interval 0 --slow-down-step 0 \
		--poll authorization_pending,slow_down,ok:expires_in=60
	opost /device client_id=mailpost-test scope=mail
	expect 200 '"device_code": "device-1"'
	local dev="${lines[2]}"
	assert_equal WDJB-MJHT "$(json_field "$dev" user_code)" user_code
	assert_equal "$OAUTHD_URL/verify" "$(json_field "$dev" verification_uri)" verification_uri
	assert_equal "$OAUTHD_URL/verify?user_code=WDJB-MJHT" \
		"$(json_field "$dev" verification_uri_complete)" verification_uri_complete
	assert_equal 600 "$(json_field "$dev" expires_in)" expires_in
	assert_equal 0 "$(json_field "$dev" interval)" interval
	opost /token "$DEV_GRANT" device_code=device-1 client_id=mailpost-test
	expect 400 '{"error": "authorization_pending"}'
	opost /token "$DEV_GRANT" device_code=device-1 client_id=mailpost-test
	expect 400 '{"error": "slow_down"}'
	opost /token "$DEV_GRANT" device_code=device-1 client_id=mailpost-test
	expect 200 '{"access_token": "access-1", "token_type": "Bearer", "expires_in": 60, "refresh_token": "refresh-1"}'
	assert_oauthd_no_problems
	# The grant is over: a further poll is the client's mistake.
	opost /token "$DEV_GRANT" device_code=device-1 client_id=mailpost-test
	expect 400 invalid_grant
	assert_oauthd_problem "poll after the device grant's final answer"

	assert_equal 5 "$(oauthd_requests)" "all requests"
	assert_equal 4 "$(oauthd_requests /token)" "requests to /token"
	assert_equal device-1 "$(oauthd_last_form device_code)" "device_code"
	assert_equal mail "$(oauthd_last_form scope /device)" "scope at /device"
	run oauthd_last_form scope
	[[ "$status" -ne 0 && "$output" == *"has no form field scope"* ]] ||
		die "a missing field was not reported: $output"
	assert_equal "application/x-www-form-urlencoded" \
		"$(oauthd_log_query 'log[-1]["headers"]["content-type"]')" "logged Content-Type"
	assert_equal "poll poll poll poll" \
		"$(oauthd_log_query '" ".join(e["kind"] for e in log)' /token)" "kinds"
}

@test "oauthd: a poll sooner than the interval is answered slow_down and flagged; slow_down adds 5 s" {
	# 30 s: however loaded the machine, the polls below come sooner.
	oauthd_start --interval 30 --poll ok
	opost /device client_id=mailpost-test
	opost /token "$DEV_GRANT" device_code=device-1 client_id=mailpost-test
	expect 400 slow_down
	assert_oauthd_problem "poll 1 came after "
	assert_oauthd_problem "interval 30 s"
	# Not the scripted ok: the next poll is early too, now against 35 s.
	opost /token "$DEV_GRANT" device_code=device-1 client_id=mailpost-test
	expect 400 slow_down
	assert_oauthd_problem "poll 2 came after "
	assert_oauthd_problem "interval 35 s"
	assert_equal "early poll early poll" \
		"$(oauthd_log_query '" ".join(e["answer"] for e in log)' /token)" "answers"
	stop_oauthd

	# --poll-ms 10: the interval's 1 s lasts 10 ms, and the poll after
	# the device answer (a new client process) comes later than that.
	oauthd_start --interval 1 --poll-ms 10 --poll ok
	opost /device client_id=mailpost-test
	assert_equal 1 "$(json_field "${lines[2]}" interval)" "the interval announced"
	opost /token "$DEV_GRANT" device_code=device-1 client_id=mailpost-test
	expect 200 access-1
	assert_oauthd_no_problems
}

@test "oauthd: device grant: denied, expired by script and by the clock, unknown device code; Google's field name" {
	oauthd_start --interval 0 --poll access_denied,expired_token
	opost /device client_id=mailpost-test
	opost /token "$DEV_GRANT" device_code=device-1 client_id=mailpost-test
	expect 400 '{"error": "access_denied"}'
	opost /device client_id=mailpost-test
	opost /token "$DEV_GRANT" device_code=device-2 client_id=mailpost-test
	expect 400 '{"error": "expired_token"}'
	opost /token "$DEV_GRANT" device_code=device-9 client_id=mailpost-test
	expect 400 '{"error": "invalid_grant"}'
	stop_oauthd

	oauthd_start --interval 0 --device-expires-in 0 --no-complete-uri \
		--verification-field verification_url
	opost /device client_id=mailpost-test
	[[ "${lines[2]}" != *verification_uri* ]] || die "verification_uri given: $output"
	assert_equal "$OAUTHD_URL/verify" "$(json_field "${lines[2]}" verification_url)" verification_url
	opost /token "$DEV_GRANT" device_code=device-1 client_id=mailpost-test
	expect 400 '{"error": "expired_token"}'
	assert_oauthd_no_problems
}

@test "oauthd: refresh: new access tokens, rotation retires the old refresh token" {
	oauthd_start --refresh ok,rotate,ok --expires-in none
	opost /token grant_type=refresh_token refresh_token=refresh-1 client_id=mailpost-test
	expect 200 '{"access_token": "access-1", "token_type": "Bearer"}'
	opost /token grant_type=refresh_token refresh_token=refresh-1 client_id=mailpost-test
	expect 200 '"refresh_token": "refresh-2"'
	opost /token grant_type=refresh_token refresh_token=refresh-1 client_id=mailpost-test
	expect 400 invalid_grant
	opost /token grant_type=refresh_token refresh_token=refresh-2 client_id=mailpost-test
	expect 200 '{"access_token": "access-3", "token_type": "Bearer"}'
	assert_equal refresh-2 "$(oauthd_last_form refresh_token)" "last refresh token"
	assert_oauthd_no_problems
}

@test "oauthd: refresh failures: each error, 500, malformed, token-less, oversized" {
	oauthd_start --refresh-token R --refresh "invalid_grant:description=revoked,invalid_client,temporarily_unavailable,unauthorized_client:401,status:500,malformed,no_token,oversized:70000"
	local f=(grant_type=refresh_token refresh_token=R client_id=mailpost-test)
	opost /token "${f[@]}"
	expect 400 '{"error": "invalid_grant", "error_description": "revoked"}'
	opost /token "${f[@]}"
	expect 401 '{"error": "invalid_client"}'
	opost /token "${f[@]}"
	expect 503 '{"error": "temporarily_unavailable"}'
	opost /token "${f[@]}"
	expect 401 '{"error": "unauthorized_client"}'
	opost /token "${f[@]}"
	expect 500 "<html>"
	opost /token "${f[@]}"
	expect 200 '{"access_token": "access-cut", "token_ty'
	[[ "${lines[2]}" != *"}" ]] || die "malformed JSON is complete: $output"
	opost /token "${f[@]}"
	expect 200 '{"token_type": "Bearer"}'
	opost /token "${f[@]}"
	# No Content-Length: the client must stop reading by itself.
	expect "200 70000 -" '"access_token": "access-1"'
	assert_equal 8 "$(oauthd_requests /token)" "requests"
}

@test "oauthd: hang: no answer until the client gives up; others are served meanwhile" {
	oauthd_start --refresh hang:5,ok
	run "$SMTPD_PYTHON" "$OAUTHD_PY" --ca "$CERTS/ca.pem" --timeout 0.5 --request POST \
		"$OAUTHD_URL/token" grant_type=refresh_token refresh_token=refresh-1 client_id=mailpost-test
	[[ "$status" -eq 28 ]] || die "the client did not time out: $status $output"
	opost /token grant_type=refresh_token refresh_token=refresh-1 client_id=mailpost-test
	expect 200 access-1
	assert_equal "hang:5 ok" "$(oauthd_log_query '" ".join(e["answer"] for e in log)')" "answers"
}

@test "oauthd: requests as a real server judges them: method, content type, fields, grant type" {
	oauthd_start --client-secret 's3 cret'
	local id=client_id=mailpost-test sec='client_secret=s3 cret'
	oreq --content-type application/json POST "$OAUTHD_URL/token" a=b
	expect 400 invalid_request
	assert_oauthd_problem "Content-Type 'application/json'"
	assert_equal "a=b" "$(oauthd_log_query 'log[-1]["body"]')" "logged body"
	oreq GET "$OAUTHD_URL/token"
	expect 400 invalid_request
	assert_oauthd_problem "method GET, not POST"
	opost /token grant_type=refresh_token "$id" "$sec"
	expect 400 '"error_description": "refresh_token missing"'
	assert_oauthd_problem "without refresh_token"
	opost /token refresh_token=refresh-1 "$id" "$sec"
	expect 400 '"error_description": "grant_type missing"'
	opost /token grant_type=password "$id" "$sec"
	expect 400 unsupported_grant_type
	opost /token grant_type=refresh_token refresh_token=refresh-1 "$sec"
	expect 400 '"error_description": "client_id missing"'
}

@test "oauthd: the client is checked: id, secret in the form or HTTP Basic; a secret in the URL is flagged" {
	oauthd_start --client-secret 's3 cret'
	local id=client_id=mailpost-test sec='client_secret=s3 cret'
	opost /token grant_type=refresh_token refresh_token=refresh-1 client_id=other "$sec"
	expect 401 invalid_client
	opost /token grant_type=refresh_token refresh_token=refresh-1 "$id"
	expect 401 invalid_client
	opost /token grant_type=refresh_token refresh_token=refresh-1 "$id" client_secret=wrong
	expect 401 invalid_client
	opost /token grant_type=refresh_token refresh_token=refresh-1 "$id" "$sec"
	expect 200 access-1
	# RFC 6749 2.3.1: HTTP Basic, id and secret form-encoded.
	oreq --basic 'mailpost-test:s3+cret' POST "$OAUTHD_URL/token" grant_type=refresh_token \
		refresh_token=refresh-1
	expect 200 access-2
	# A secret in the URL is answered but flagged.
	opost "/token?client_secret=x" grant_type=refresh_token refresh_token=refresh-1 "$id" "$sec"
	expect 200 access-3
	assert_oauthd_problem "POST /token carries client_secret in the URL"
}

# authorize_url [STATE [CHALLENGE [METHOD [REDIRECT]]]]
authorize_url() {
	printf '%s/authorize?response_type=code&client_id=mailpost-test&redirect_uri=%s&state=%s&code_challenge=%s&code_challenge_method=%s\n' \
		"$OAUTHD_URL" "${4:-http://127.0.0.1:9/cb}" "${1:-st4te}" "${2:-$CHALLENGE}" "${3:-S256}"
}

# A verifier and its S256 challenge, BASE64URL(SHA256(verifier)) (RFC 7636
# 4.2), as `openssl dgst -sha256 -binary | basenc --base64url` gives it.
VERIFIER=mailpost-test-verifier-0123456789-abcdefghijklmnop
CHALLENGE=_EYKu4nAYk9tI1j4hPLmIJIR7EPmHEFRoafJPl2BaVQ

@test "oauthd: code flow: /authorize redirects with code and state; PKCE checked at /token" {
	oauthd_start --authorize allow,allow,deny,wrong_state
	oreq GET "$(authorize_url)"
	oreq GET "$(authorize_url)"
	expect 302 ""
	assert_equal "http://127.0.0.1:9/cb?code=code-2&state=st4te" "${lines[1]}" "redirect"
	local c=(grant_type=authorization_code redirect_uri=http://127.0.0.1:9/cb client_id=mailpost-test)
	opost /token "${c[@]}" code=code-2 code_verifier=$VERIFIER
	expect 200 '{"access_token": "access-1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "refresh-1"}'
	assert_oauthd_no_problems
	opost /token "${c[@]}" code=code-2 code_verifier=$VERIFIER
	expect 400 invalid_grant
	assert_oauthd_problem "code code-2 used twice"
	opost /token "${c[@]}" code=code-1 code_verifier="x$VERIFIER"
	expect 400 invalid_grant
	assert_oauthd_problem "code_verifier does not match the code_challenge"

	oreq GET "$(authorize_url)"
	assert_equal "http://127.0.0.1:9/cb?error=access_denied&state=st4te" "${lines[1]}" "denial"
	oreq GET "$(authorize_url)"
	assert_equal "http://127.0.0.1:9/cb?code=code-3&state=not-st4te" "${lines[1]}" "wrong state"
}

@test "oauthd: /authorize refuses plain PKCE, a missing state, a non-loopback redirect" {
	oauthd_start
	oreq GET "$(authorize_url st4te x plain)"
	assert_equal "http://127.0.0.1:9/cb?error=invalid_request&state=st4te" "${lines[1]}" "plain"
	assert_oauthd_problem "code_challenge_method=S256"
	oreq GET "$(authorize_url st4te "$CHALLENGE" S256 https://example.org/cb)"
	expect 400 "bad redirect_uri"
	assert_oauthd_problem "is not a loopback http address"
	oreq GET "${OAUTHD_URL}/authorize?response_type=code&client_id=mailpost-test&redirect_uri=http://127.0.0.1:9/&code_challenge=x&code_challenge_method=S256"
	expect 302 ""
	assert_oauthd_problem "/authorize without state"
}

@test "oauthd: oauthd_browse plays the browser through to the loopback receiver; oauthd_authorize half-way" {
	oauthd_start
	local dir="$BATS_TEST_TMPDIR/www"
	mkdir -p "$dir/cb" && echo "logged in page" >"$dir/cb/index.html"
	"$SMTPD_PYTHON" -m http.server --bind 127.0.0.1 --directory "$dir" 0 \
		>"$dir.out" 2>&1 3>&- &
	local www=$!
	wait_for_text "$dir.out" "Serving HTTP" 5
	local port
	port="$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$dir.out" | head -n 1)"
	oauthd_browse "$(authorize_url s1 "$CHALLENGE" S256 "http://127.0.0.1:$port/cb/")" \
		>"$BATS_TEST_TMPDIR/page"
	kill "$www"
	assert_file_bytes "$BATS_TEST_TMPDIR/page" $'logged in page\n' "the receiver's page"
	[[ "$OAUTHD_REDIRECT" == "http://127.0.0.1:$port/cb/?code=code-1&state=s1" ]] ||
		die "OAUTHD_REDIRECT is $OAUTHD_REDIRECT"
	# The first half only (the address a user pastes); no redirect: fails.
	oauthd_authorize "$(authorize_url s2 "$CHALLENGE" S256 "http://127.0.0.1:9/")"
	assert_equal "http://127.0.0.1:9/?code=code-2&state=s2" "$OAUTHD_REDIRECT" OAUTHD_REDIRECT
	run oauthd_authorize "$OAUTHD_URL/token"
	[[ "$status" -ne 0 && "$output" == *"no redirect from"* ]] ||
		die "a page without a redirect passed: $output"
}

@test "oauthd: a JSON scenario file; a bad answer word is refused at start; idle timeout" {
	printf '%s\n' '{"refresh": ["invalid_grant:description=a: b, c", "ok"], "refresh_token": "R1"}' \
		>"$BATS_TEST_TMPDIR/s.json"
	oauthd_start --scenario "$BATS_TEST_TMPDIR/s.json" --refresh-token R2
	opost /token grant_type=refresh_token refresh_token=R2 client_id=mailpost-test
	expect 400 '{"error": "invalid_grant", "error_description": "a: b, c"}'
	opost /token grant_type=refresh_token refresh_token=R2 client_id=mailpost-test
	expect 200 access-1
	stop_oauthd

	run oauthd_start --refresh ok,invalid_grnat
	[[ "$status" -ne 0 && "$output" == *"unknown word 'invalid_grnat'"* ]] ||
		die "a typo was taken: $output"
	run oauthd_start --refresh ok:expires=5
	[[ "$status" -ne 0 && "$output" == *"bad argument 'expires=5'"* ]] ||
		die "a misspelt argument was taken: $output"
	printf '%s\n' '{"refresh_tokne": "x"}' >"$BATS_TEST_TMPDIR/s.json"
	run oauthd_start --scenario "$BATS_TEST_TMPDIR/s.json"
	[[ "$status" -ne 0 && "$output" == *"unknown key 'refresh_tokne'"* ]] ||
		die "an unknown key was taken: $output"

	oauthd_start --idle-timeout 0.2
	local pid=$OAUTHD_PID k
	for ((k = 0; k < 100; k++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	! kill -0 "$pid" 2>/dev/null || die "still running after its idle timeout"
}

@test "helpers: write_oauth2_config points an account at oauthd, the test CA and the test server" {
	oauthd_start
	start_smtpd
	write_oauth2_config "oauth2_scope mail"
	assert_equal "$BATS_TEST_TMPDIR/state" "$XDG_STATE_HOME" XDG_STATE_HOME
	assert_file_bytes "$MAILPOST_CONF" "defaults
account oauth
oauth2_provider generic
oauth2_client_id mailpost-test
oauth2_token_endpoint $OAUTHD_URL/token
oauth2_device_endpoint $OAUTHD_URL/device
oauth2_authorize_endpoint $OAUTHD_URL/authorize
oauth2_trust_file $CERTS/ca.pem
user alice@example.org
host 127.0.0.1
port $SMTPD_PORT
auth on
oauth2_scope mail
account default : oauth
"
	run assert_oauthd_problem "anything"
	[[ "$status" -ne 0 ]] || die "assert_oauthd_problem matched nothing real"
	assert_oauthd_no_problems
}

# --- the DNS server (tests/lib/dnsd.bash) ---------------------------------------

@test "dnsd: signed, unsigned and bogus zones under test., served on loopback" {
	DNSD_DIR="$BATS_TEST_TMPDIR/dnsd"
	dnsd_zone a.test <<<"@ MX 10 mx"
	dnsd_zone b.test --unsigned <<<"x A 127.0.0.7"
	dnsd_zone c.test --bogus <<<"x A 127.0.0.8"
	run dnsd_zone d.example <<<""
	[[ "$status" -ne 0 && "$output" == *"not under test."* ]] || die "d.example taken: $output"
	dnsd_start
	[[ "$DNSD_CONFIG" == "dns_server 127.0.0.1@$DNSD_PORT"$'\n'"dnssec_trust_anchor $DNSD_ANCHOR" ]] ||
		die "DNSD_CONFIG: $DNSD_CONFIG"
	grep -Eq '^test\.[[:space:]]+[0-9]*[[:space:]]*IN[[:space:]]+DS[[:space:]]' "$DNSD_ANCHOR" ||
		die "the anchor is not test.'s DS:" "$(cat "$DNSD_ANCHOR")"

	# The records, with SOA and NS added, and signatures where signed.
	run dnsd_query a.test MX
	[[ "$output" == *"MX"*"10 mx.a.test."* && "$output" == *"RRSIG"*"MX 13"* ]] || die "a.test MX: $output"
	run dnsd_query b.test SOA
	[[ "$output" == *"SOA"*"ns.test."* && "$output" != *RRSIG* ]] || die "b.test SOA: $output"
	# The parent delegates all three; DS for the signed ones only.
	run dnsd_query a.test DS
	[[ "$output" == *"a.test."*"DS"* ]] || die "no DS for a.test: $output"
	run dnsd_query c.test DS
	[[ "$output" == *"c.test."*"DS"* ]] || die "no DS for c.test: $output"
	run dnsd_query b.test DS
	[[ "$output" != *"DS"* ]] || die "a DS for the unsigned b.test: $output"
	# The signatures check out, but c.test's, which are broken.
	ldns-verify-zone "$DNSD_DIR/zones/a.test.zone.signed" >/dev/null 2>&1 ||
		die "a.test's signatures do not verify"
	ldns-verify-zone "$DNSD_DIR/zones/test.zone.signed" >/dev/null 2>&1 ||
		die "test.'s signatures do not verify"
	! ldns-verify-zone "$DNSD_DIR/zones/c.test.zone.signed" >/dev/null 2>&1 ||
		die "c.test's signatures verify: not bogus"

	local pid=$DNSD_PID
	dnsd_stop
	! kill -0 "$pid" 2>/dev/null || die "knotd still runs"
}
