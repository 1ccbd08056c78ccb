#!/usr/bin/env bats
# 35-replies: what mailpost makes of the server's replies.  Every 4xx and
# 5xx stage (greeting, EHLO/HELO, MAIL, RCPT, DATA, final dot), with and
# without PIPELINING; disconnects after each command and in the middle of
# DATA; malformed, hostile, multi-line, batched and dribbled replies.
#
# Rules checked throughout: the exit code; one "mailpost: " line on stderr
# naming the server's code; and unless the failure came after the final
# dot, that the terminator "\r\n.\r\n" was never sent.

load lib/helpers

NO_PIPELINING='caps SIZE 10240000, 8BITMIME, ENHANCEDSTATUSCODES, DSN'

setup() {
	mailpost_setup
	MSG="$(make_message)"
}

# check_case DESCRIPTION EXIT DOT STDERR-TEXT SCRIPT
#   DOT: "dot" when the terminator must have been sent, "nodot" when it
#   must not, "any" when it cannot be known (the server vanished mid-way).
check_case() {
	local desc="$1" want="$2" dot="$3" text="$4" script="$5"
	start_smtpd "$script" || return 1
	run_send "$want" bob@example.net <"$MSG" || die "(case: $desc)" || return 1
	if [[ "$want" -ne 0 ]]; then
		assert_stderr_line_count 1 || die "(case: $desc)" || return 1
		[[ "${stderr_lines[0]}" == "mailpost: "* ]] ||
			die "(case: $desc) stderr does not start with 'mailpost: ': $stderr" || return 1
	fi
	if [[ -n "$text" ]]; then
		assert_stderr_contains "$text" || die "(case: $desc)" || return 1
	fi
	case "$dot" in
	dot) assert_received_contains $'\r\n.\r\n' || die "(case: $desc)" || return 1 ;;
	nodot)
		assert_received_lacks $'\r\n.\r\n' || die "(case: $desc)" || return 1
		assert_no_message || die "(case: $desc)" || return 1
		;;
	esac
	# The server's strictness log: a refused DATA followed by body data,
	# commands sent early, bare LFs ... are client bugs in any case.
	assert_no_problems || die "(case: $desc)" || return 1
}

# run_table MODE CASE...: each CASE is "EVENT|REPLY|EXIT|STDERR-TEXT";
# MODE "pipelining" uses the default server, "plain" one without
# PIPELINING.
run_table() {
	local mode="$1" c event reply want text dot prefix=""
	shift
	[[ "$mode" == plain ]] && prefix="$NO_PIPELINING"$'\n'
	for c in "$@"; do
		IFS='|' read -r event reply want text <<<"$c"
		dot="nodot"
		[[ "$event" == DOT ]] && dot="dot"
		check_case "$mode: on $event $reply" "$want" "$dot" "$text" \
			"${prefix}on $event $reply" || return 1
	done
}

# --- 4xx and 5xx at every stage -----------------------------------------------------

@test "greeting: 4xx is 75, 5xx is 69, 5.7.x is 77" {
	run_table pipelining \
		"CONNECT|421 4.3.2 Service shutting down|75|421" \
		"CONNECT|450 busy, try later|75|450" \
		"CONNECT|554 5.3.2 no service for you|69|554" \
		"CONNECT|554 no SMTP service here|69|no SMTP service here" \
		"CONNECT|554 5.7.1 your network is blocked|77|554" \
		"CONNECT|421-4.3.2 first\n421 4.3.2 second|75|421"
}

@test "EHLO: 4xx is 75 (no HELO fallback); EHLO and HELO both refused" {
	run_table pipelining \
		"EHLO|421 4.3.2 closing|75|421" \
		"EHLO|451 4.3.0 local error|75|451"
	check_case "EHLO 500, HELO 554" 69 nodot 554 $'on EHLO 500 no\non HELO 554 5.5.0 go away'
	check_case "EHLO 500, HELO 421" 75 nodot 421 $'on EHLO 500 no\non HELO 421 4.3.2 closing'
	check_case "EHLO 500, HELO 550 5.7.1" 77 nodot 550 $'on EHLO 500 no\non HELO 550 5.7.1 blocked'
}

MAIL_CASES=(
	"MAIL|451 4.3.0 try again later|75|451"
	"MAIL|421 4.7.0 too many errors|75|421"
	"MAIL|452 4.3.1 insufficient system storage|75|452"
	"MAIL|550 5.7.1 sender blocked|77|550"
	"MAIL|553 5.1.8 sender domain does not exist|69|553"
	"MAIL|552 5.3.4 message too big|69|552"
	"MAIL|501 5.5.4 syntax error|69|501"
	"MAIL|530 5.7.0 authentication required|77|530"
	"MAIL|530 authentication required|77|530"
	"MAIL|550 4.7.1 enhanced code of the wrong class is ignored|69|550"
)

@test "MAIL refused, pipelined: the MAIL reply decides, not the 503s after it" {
	run_table pipelining "${MAIL_CASES[@]}"
}

@test "MAIL refused, no pipelining" {
	run_table plain "${MAIL_CASES[@]}"
}

RCPT_CASES=(
	"RCPT|450 4.2.0 mailbox busy|75|bob@example.net"
	"RCPT|451 4.3.0 local error|75|451"
	"RCPT|452 4.5.3 too many recipients|75|452"
	"RCPT|550 5.1.1 no such user|67|bob@example.net"
	"RCPT|550 no such user here|67|550"
	"RCPT|551 user not local|67|551"
	"RCPT|553 mailbox name not allowed|67|553"
	"RCPT|554 5.7.1 relay access denied|77|bob@example.net"
	"RCPT|550 5.7.1 relaying denied|77|550"
	"RCPT|530 authentication required|77|530"
	"RCPT|552 5.2.2 mailbox full|69|552"
	"RCPT|554 transaction failed|69|554"
	"RCPT|550 2.1.1 enhanced code of the wrong class is ignored|67|550"
)

@test "RCPT refused, pipelined" {
	run_table pipelining "${RCPT_CASES[@]}"
}

@test "RCPT refused, no pipelining" {
	run_table plain "${RCPT_CASES[@]}"
}

DATA_CASES=(
	"DATA|451 4.3.0 try later|75|451"
	"DATA|421 4.3.2 shutting down|75|421"
	"DATA|554 5.5.1 no valid recipients|69|554"
	"DATA|554 transaction failed|69|554"
	"DATA|552 5.3.4 too big|69|552"
	"DATA|503 5.5.1 bad sequence|69|503"
	"DATA|550 5.7.1 not from you|77|550"
	"DATA|250 ok but not 354|76|"
)

@test "DATA refused, pipelined: no body data after a non-354 reply" {
	run_table pipelining "${DATA_CASES[@]}"
}

@test "DATA refused, no pipelining" {
	run_table plain "${DATA_CASES[@]}"
}

@test "final dot refused: 4xx is 75, 5xx is 69, 5.7.x is 77, 5.1.x is 67" {
	run_table pipelining \
		"DOT|451 4.3.0 local error in processing|75|451" \
		"DOT|452 4.3.1 insufficient system storage|75|452" \
		"DOT|421 4.3.2 shutting down|75|421" \
		"DOT|552 5.3.4 message size exceeds limit|69|552" \
		"DOT|554 5.7.1 looks like spam|77|554" \
		"DOT|550 5.6.0 bad content|69|550" \
		"DOT|554 transaction failed|69|554" \
		"DOT|550 5.1.1 recipient gone|67|550" \
		"DOT|554-5.7.1 multi\n554 5.7.1 line|77|554"
}

@test "final dot refused without pipelining" {
	run_table plain \
		"DOT|451 4.3.0 local error|75|451" \
		"DOT|554 5.7.1 spam|77|554"
}

# --- the server goes away --------------------------------------------------------------

@test "disconnect after each command: 75, terminator never sent" {
	local ev
	for ev in CONNECT EHLO MAIL RCPT DATA; do
		check_case "close on $ev" 75 nodot "" "on $ev close" || return 1
		check_case "reset on $ev" 75 nodot "" "on $ev reset" || return 1
	done
	check_case "greeting then close" 75 nodot "" $'on CONNECT\n  reply 220 hi\n  close'
	check_case "EHLO answered, then close" 75 nodot "" $'on EHLO\n  default\n  close'
	check_case "354 then close" 75 any "" $'on DATA\n  reply 354 go ahead\n  close'
	check_case "no pipelining, close on MAIL" 75 nodot "" "$NO_PIPELINING"$'\non MAIL close'
	check_case "no pipelining, close on RCPT" 75 nodot "" "$NO_PIPELINING"$'\non RCPT close'
	check_case "no pipelining, close on DATA" 75 nodot "" "$NO_PIPELINING"$'\non DATA close'
}

@test "disconnect right after the final dot without a reply: 75, delivery status unknown" {
	check_case "close on DOT" 75 dot "unknown" "on DOT close"
	check_case "reset on DOT" 75 any "" "on DOT reset"
	check_case "half a reply, then close" 75 dot "" $'on DOT\n  raw 250-2.0.0 queued\\r\\n\n  close'
	check_case "half a line, then close" 75 dot "" $'on DOT\n  raw 25\n  close'
}

@test "disconnect in the middle of DATA (large message): 75, and no hang" {
	local big="$BATS_TEST_TMPDIR/big" t0
	{
		printf '%s' "${MSG_SIMPLE_CRLF//$'\r'/}"
		"$SMTPD_PYTHON" -c 'import sys
line = b"0123456789" * 7 + b"\n"
sys.stdout.buffer.write(line * 60000)'
	} >"$big"
	local ev
	for ev in "BODYLINE#100 close" "BODYLINE#100 reset" "BODYLINE#30000 close"; do
		start_smtpd "on $ev"
		t0=$SECONDS
		run_send 75 bob@example.net <"$big" || die "(on $ev)" || return 1
		[[ $((SECONDS - t0)) -le 10 ]] || die "(on $ev) took $((SECONDS - t0))s" || return 1
		assert_no_message || return 1
		assert_received_lacks $'\r\n.\r\n' || die "(on $ev)" || return 1
	done
}

# --- malformed replies ---------------------------------------------------------------

@test "malformed replies are protocol errors (76), never success" {
	local long many i
	long="on CONNECT 220 $(printf 'x%.0s' {1..3000})"
	many="on EHLO 250-smtpd.test"
	for ((i = 0; i < 150; i++)); do many+='\n250-X-FILLER'"$i"; done
	many+='\n250 PIPELINING'
	local cases=(
		"greeting 25O|on CONNECT 25O ok"
		"greeting 4 digits|on CONNECT 2200 hello"
		"greeting code change|on CONNECT 220-first\n221 second"
		"greeting 1xx|on CONNECT 120 wait a moment"
		"greeting 6xx|on CONNECT 620 what"
		"greeting words|on CONNECT hello there"
		"greeting empty line|on CONNECT raw \r\n"
		"greeting 2 digits|on CONNECT 22"
		"greeting, then garbage in the same write|on CONNECT raw 220 hi\r\nxyz\r\n"
		"EHLO code change|on EHLO 250-smtpd.test\n251 PIPELINING"
		"EHLO garbage last line|on EHLO 250-smtpd.test\n250-PIPELINING\n25O SIZE"
		"EHLO too many lines|$many"
		"greeting line too long|$long"
		"MAIL ok|on MAIL ok"
		"RCPT 2.1.5 ok|on RCPT 2.1.5 ok"
		"DATA 35|on DATA 35 go"
		"DATA 354 code change|on DATA 354-go\n250 ahead"
		"DOT 25O|on DOT 25O ok"
		"DOT code change|on DOT 250-queued\n251 really"
		"DOT separator|on DOT 250_ok"
	)
	local c desc script dot
	for c in "${cases[@]}"; do
		desc="${c%%|*}"
		script="${c#*|}"
		dot="nodot"
		[[ "$desc" == DOT* ]] && dot="dot"
		[[ "$desc" == "DATA 354"* ]] && dot="any"
		check_case "$desc" 76 "$dot" "" "$script" || return 1
	done
}

@test "a positive reply the command cannot have is a protocol error (76): RCPT 221 never accepts" {
	# Only the class was checked once: a RCPT answered 221 counted as an
	# accepted recipient.  Each command has its own positive codes
	# (RFC 5321 4.2.2, 4.3.2).
	local cases=(
		"greeting 250|on CONNECT 250 smtpd.test hello"
		"greeting 221|on CONNECT 221 smtpd.test"
		"EHLO 220|on EHLO 220 smtpd.test"
		"EHLO 251|on EHLO 251-smtpd.test\n251 PIPELINING"
		"HELO 221|on EHLO 502 5.5.1 no"$'\n'"on HELO 221 bye"
		"MAIL 251|on MAIL 251 2.1.0 ok"
		"MAIL 354|on MAIL 354 go"
		"RCPT 221|on RCPT 221 2.0.0 bye"
		"RCPT 220|on RCPT 220 ok"
		"RCPT 253|on RCPT 253 ok"
		"RCPT 354|on RCPT 354 go ahead"
		"DATA 250|on DATA 250 2.0.0 ok"
		"DATA 334|on DATA 334 what"
		"DOT 251|on DOT 251 2.0.0 queued"
		"DOT 221|on DOT 221 2.0.0 bye"
		"DOT 354|on DOT 354 more"
	)
	local c desc script dot mode prefix
	for mode in pipelining plain; do
		prefix=""
		[[ "$mode" == plain ]] && prefix="$NO_PIPELINING"$'\n'
		for c in "${cases[@]}"; do
			desc="$mode: ${c%%|*}"
			script="${c#*|}"
			dot="nodot"
			[[ "$desc" == *DOT* ]] && dot="dot"
			check_case "$desc" 76 "$dot" "unexpected reply" \
				"$prefix$script" || return 1
		done
	done
}

@test "a RCPT answered 251 or 252 is accepted; 221 after an accepted one still fails the run" {
	start_smtpd $'on RCPT#1 251 2.1.5 will forward\non RCPT#2 252 2.1.5 cannot verify'
	run_send 0 bob@example.net carol@example.net <"$MSG"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	start_smtpd "on RCPT#2 221 2.0.0 bye"
	run_send 76 bob@example.net carol@example.net <"$MSG"
	assert_stderr_contains "RCPT TO: unexpected reply: server said 221"
	assert_received_lacks $'\r\n.\r\n'
	assert_no_message
}

@test "RSET answered with anything but 250 is a protocol error: that session is dropped" {
	# Between queued messages the runner sends RSET; a 251 to it ends the
	# session (no MAIL after it), and the queue runner offers the message
	# again on a fresh connection (flush.c).
	local qdir="$BATS_TEST_TMPDIR/queue" n after
	write_config "host 127.0.0.1" "port 9" "domain client.test" \
		"from alice@example.org" "queue_dir $qdir" "queue_backoff 0" \
		"account default"
	for n in 1 2; do
		run_mailpost 0 -C "$MAILPOST_CONF" --queue=always "rcpt$n@example.net" <"$MSG"
	done
	start_smtpd $'connection 1\non RSET 251 2.0.0 ok' -- --max-connections 2
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" \
		"from alice@example.org" "queue_dir $qdir" "queue_backoff 0" \
		"account default"
	run_mailpost 0 -C "$MAILPOST_CONF" -v -q
	assert_stderr_contains "RSET: unexpected reply: server said 251"
	smtpd_finish
	after="$(awk '$1 == 1 && $3 != ">" { print toupper($3) }' "$SMTPD_DIR/commands" |
		sed -n '/^RSET$/,$p' | tr '\n' ' ')"
	[[ "$after" == "RSET " ]] ||
		die "connection 1 went on after the 251 to RSET: $after" || return 1
	[[ -e "$SMTPD_DIR/msg.1" && -e "$SMTPD_DIR/msg.2" ]] ||
		die "expected both messages, the second on connection 2:" "$(ls "$SMTPD_DIR")"
}

# --- well-formed replies in unusual shapes ---------------------------------------------

@test "multi-line replies, bare codes and LF-only line ends are understood" {
	local cases=(
		"multi-line greeting|on CONNECT 220-smtpd.test\n220-second line\n220 third line"
		"bare code greeting|on CONNECT 220"
		"bare code with dash lines|on EHLO 250-smtpd.test\n250-PIPELINING\n250"
		"multi-line MAIL|on MAIL 250-2.1.0 sender\n250 2.1.0 ok"
		"multi-line final reply|on DOT 250-2.0.0 queued\n250-as ABC\n250 2.0.0 ok"
		"LF-only greeting|on CONNECT raw 220 hi\n"
		"LF-only EHLO|on EHLO raw 250-smtpd.test\n250-PIPELINING\n250 SIZE 100000\n"
		"lower-case keywords|on EHLO 250-smtpd.test\n250-pipelining\n250 size 100000"
	)
	local c
	for c in "${cases[@]}"; do
		check_case "${c%%|*}" 0 dot "" "${c#*|}" || return 1
		assert_message 1 "$MSG_SIMPLE_CRLF" || return 1
	done
}

@test "every reply dribbled byte by byte: same exact session" {
	start_smtpd "option dribble 0.002"
	run_send 0 bob@example.net <"$MSG"
	assert_received "EHLO client.test"$'\r\n'"MAIL FROM:<alice@example.org> SIZE=${#MSG_SIMPLE_CRLF}"$'\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n'"$MSG_SIMPLE_CRLF"$'.\r\nQUIT\r\n'
	assert_no_problems
}

@test "all pipelined replies in one write, then a refusal among them" {
	start_smtpd - <<-'EOF'
	option require-pipelining
	on RCPT#2 550 5.1.1 <carol@example.net>: no such user
	EOF
	run_send 67 bob@example.net carol@example.net <"$MSG"
	assert_stderr_contains "carol@example.net"
	assert_received_lacks $'\r\n.\r\n'
	assert_no_problems
}

@test "a slow greeting and slow replies within the timeout are fine" {
	start_smtpd - <<-'EOF'
	on CONNECT
	  sleep 1
	  default
	on EHLO
	  dribble 0.02
	  default
	EOF
	# The EHLO reply (about 110 bytes) takes some 2.5 s: the whole reply
	# within the 5 s timeout.
	run_send 0 --timeout=5 bob@example.net <"$MSG"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

# dribbled_reply CODE N: a reply of N lines, "CODE-line K" then "CODE end",
# as script text for one indented step.
dribbled_reply() {
	local code="$1" n="$2" k text="$1-first"
	for ((k = 1; k < n; k++)); do text+='\n'"$code-line $k"; done
	printf '%s' "$text"'\n'"$code end"
}

@test "a reply dribbled line by line must arrive whole within one timeout (75), not one per line" {
	# 20 lines, each well within the 1 s timeout (about 0.3 s a line), the
	# whole reply not: with a timeout per line this took 6 s and worked.
	local ev code t0
	for ev in EHLO MAIL DOT; do
		code=250
		start_smtpd "on $ev"$'\n  dribble 0.03\n  reply '"$(dribbled_reply "$code" 20)"
		t0=$SECONDS
		run_send 75 --timeout=1 bob@example.net <"$MSG" || die "(on $ev)" || return 1
		[[ $((SECONDS - t0)) -le 3 ]] || die "(on $ev) took $((SECONDS - t0)) s" || return 1
		assert_stderr_contains "timed out after 1 s waiting for the rest of a reply" ||
			die "(on $ev)" || return 1
		assert_stderr_line_count 1 || die "(on $ev)" || return 1
		[[ "$ev" == DOT ]] || assert_no_message || die "(on $ev)" || return 1
	done
}

# --- hostile text ------------------------------------------------------------------------

@test "hostile reply text is censored in the error message" {
	local cases=(
		"MAIL|550 5.7.1 \e[31mred\e[0m \xc3\xa9 \x07 blocked|77"
		"CONNECT|554 \e]0;title\x07 \x9b31m no|69"
		"RCPT|550 5.1.1 <bob@example.net> \e[2J cleared|67"
	)
	local c event reply want
	for c in "${cases[@]}"; do
		IFS='|' read -r event reply want <<<"$c"
		start_smtpd "on $event $reply"
		run_send "$want" bob@example.net <"$MSG" || die "(on $event $reply)" || return 1
		[[ "$(printf '%s' "$stderr" | LC_ALL=C tr -d '\n\040-\176' | wc -c)" -eq 0 ]] ||
			die "(on $event $reply) stderr holds control or 8-bit bytes:" \
				"$(printf '%s' "$stderr" | escaped)" || return 1
	done
	# the visible part survives
	assert_stderr_contains "cleared"
}

@test "a reply flood ends as a protocol error, quickly" {
	local script="on CONNECT 220-x" i
	for ((i = 0; i < 2000; i++)); do script+='\n220-flood line '"$i"; done
	script+='\n220 end'
	start_smtpd "$script"
	local t0=$SECONDS
	run_send 76 bob@example.net <"$MSG"
	[[ $((SECONDS - t0)) -le 10 ]] || die "took $((SECONDS - t0))s"
	assert_received_lacks "MAIL FROM"
}
