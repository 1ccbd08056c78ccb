#!/usr/bin/env bats
# 77-serve: sendmail's -bs mode.  mailpost speaks SMTP on its standard input
# and output (src/cmd/serve.h) and relays each message through the account to
# the upstream server, the scripted tests/lib/smtpd.py, or queues it.  The
# sessions are driven by tests/lib/bsclient.py (its header documents the
# script), which prints every reply line and finally "exit N".
#
# The account comes from a configuration file, never from --host: giving the
# server on the command line means testing a server (no queue, no dead
# letter by default), while a configured account queues on failure, which
# is what programs calling "sendmail -bs" get.

# status, output, stderr: set by bats' run.
# shellcheck disable=SC2154

load lib/helpers

BSCLIENT=$BATS_TEST_DIRNAME/lib/bsclient.py

setup() {
	mailpost_setup
	QDIR=$BATS_TEST_TMPDIR/queue
	DEAD=$BATS_TEST_TMPDIR/dead.letter
	HOST=$(uname -n)
	MSG="$(make_message)"
}

# serve_config [LINE...]: the account: the test server, the queue and the
# dead letter file inside the test's directory, then LINEs.
# shellcheck disable=SC2120
serve_config() {
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" \
		"queue_dir $QDIR" "dead_letter $DEAD" "$@"
}

# run_bs [BSCLIENT-OPTION...] [-- MAILPOST-ARG...] <SCRIPT: run the session
# against "mailpost -C $MAILPOST_CONF MAILPOST-ARG... -bs".  $output: the
# replies, one line each, then "exit N"; fails when bsclient saw a
# malformed or missing reply or a timeout.
run_bs() {
	local opts=()
	while [[ $# -gt 0 && "$1" != "--" ]]; do
		opts+=("$1")
		shift
	done
	[[ "${1:-}" == "--" ]] && shift
	run --separate-stderr timeout 120 "$SMTPD_PYTHON" "$BSCLIENT" \
		"${opts[@]}" -- "$MAILPOST" -C "$MAILPOST_CONF" "$@" -bs
	if [[ "$status" -ne 0 ]]; then
		die "bsclient failed ($status):" "replies:" "$output" \
			"stderr:" "$stderr" \
			"server log:" "$(tail -n 30 "$SMTPD_DIR/log" 2>/dev/null)"
	fi
}

# assert_replies: $output is exactly the text on stdin.
assert_replies() {
	local expected
	expected="$(cat)"
	if [[ "$output" != "$expected" ]]; then
		die "the replies are not as expected (- expected, + actual):" \
			"$(diff -u --label expected --label actual \
				<(printf '%s\n' "$expected") <(printf '%s\n' "$output"))" \
			"stderr:" "$stderr"
	fi
}

# reply_codes: the code of each reply (the last line of a multi-line one),
# space-separated, then the exit line: "220 250 250 exit 0".
reply_codes() {
	printf '%s\n' "$output" | grep -v '^[0-9][0-9][0-9]-' |
		sed -E 's/^([0-9]{3}).*/\1/' | tr '\n' ' ' | sed 's/ $//'
}

assert_codes() {
	local got
	got="$(reply_codes)"
	[[ "$got" == "$1" ]] ||
		die "reply codes differ:" "  expected: $1" "  actual:   $got" \
			"replies:" "$output" "stderr:" "$stderr"
}

# assert_line LINE: some reply line is exactly LINE.
assert_line() {
	local l
	while IFS= read -r l; do
		[[ "$l" == "$1" ]] && return 0
	done <<<"$output"
	die "no reply line is '$1'; replies:" "$output" "stderr:" "$stderr"
}

# dot_reply N: the Nth reply line that answers a final dot (after a 354).
dot_reply() {
	printf '%s\n' "$output" | awk -v n="$1" \
		'after { k++; if (k == n) { print; exit } after = 0 }
		 /^354 / { after = 1 }'
}

# queue_ids: the entries in the queue directory, one per line.
queue_ids() {
	local d
	for d in "$QDIR"/*; do
		[[ -d "$d" ]] || continue
		d=${d##*/}
		[[ "$d" =~ ^[0-9a-f]{16}$ ]] && echo "$d"
	done
	return 0
}

assert_queue_empty() {
	local ids
	ids="$(queue_ids)"
	[[ -z "$ids" ]] || die "the queue holds entries, expected none:" "$ids"
}

# assert_nothing_relayed: no transaction reached the upstream server, not
# even a partial DATA.
assert_nothing_relayed() {
	smtpd_finish || return 1
	local f
	for f in "$SMTPD_DIR"/msg.*; do
		[[ -e "$f" ]] || continue
		die "the upstream server got a message ($f):" "$(escaped <"$f")"
		return 1
	done
	if [[ -e "$SMTPD_DIR/received" ]] && grep -q DATA "$SMTPD_DIR/received"; then
		die "the upstream server got a DATA command:" \
			"$(escaped <"$SMTPD_DIR/received")"
	fi
}

# assert_no_bare_lf FILE: every LF in FILE follows a CR.
assert_no_bare_lf() {
	"$SMTPD_PYTHON" -c 'import re, sys
data = open(sys.argv[1], "rb").read()
m = re.search(rb"(?<!\r)\n", data)
if m:
    sys.exit("bare LF at offset %d: %r" % (m.start(), data[max(0, m.start() - 30):m.start() + 1]))' "$1" ||
		die "$1 has a line ending that is not CRLF"
}

# ---------------------------------------------------------------------------

@test "bsclient: prints the replies and the exit status, flags malformed and missing replies" {
	# A stand-in for mailpost that greets, answers one command and exits 3.
	local fake=$BATS_TEST_TMPDIR/fake
	cat >"$fake" <<-'EOF'
	#!/bin/sh
	printf '220 fake\r\n'
	read -r cmd
	printf '250-fake\r\n250 %s\r\n' "$(printf '%s' "$cmd" | tr -d '\r')"
	exit 3
	EOF
	chmod +x "$fake"
	run --separate-stderr "$SMTPD_PYTHON" "$BSCLIENT" -- "$fake" <<<'> EHLO x'
	assert_equal 0 "$status" "bsclient status (stderr: $stderr)"
	assert_equal $'220 fake\n250-fake\n250 EHLO x\nexit 3' "$output" "bsclient output"

	# A reply that ends in a bare LF, then none where one is expected.
	printf '#!/bin/sh\nprintf "220 fake\\n"\n' >"$fake"
	run --separate-stderr "$SMTPD_PYTHON" "$BSCLIENT" -- "$fake" <<<'> EHLO x'
	assert_equal 1 "$status" "bsclient status for a bad session"
	assert_equal $'220 fake\nexit 0' "$output" "bsclient output"
	assert_stderr_contains "without CRLF"
	assert_stderr_contains "ended where a reply was expected"
}

@test "-bs: the greeting is 220 and EHLO lists the capabilities" {
	start_smtpd
	serve_config
	run_bs <<-'EOF'
	> EHLO client.test
	> QUIT
	EOF
	local first ehlo cap
	first=$(printf '%s\n' "$output" | head -n 1)
	[[ "$first" == "220 $HOST "* ]] ||
		die "the greeting is not '220 $HOST ...': '$first'"
	[[ "$(printf '%s\n' "$output" | sed -n 2p)" == "250-$HOST"* ]] ||
		die "the EHLO reply does not start with '250-$HOST':" "$output"
	ehlo=$(printf '%s\n' "$output" | sed -n '2,/^250 /p' | cut -c5-)
	for cap in PIPELINING 8BITMIME SMTPUTF8 ENHANCEDSTATUSCODES DSN; do
		grep -qx "$cap" <<<"$ehlo" ||
			die "EHLO does not offer $cap:" "$output" || return 1
	done
	grep -qE '^SIZE( [0-9]+)?$' <<<"$ehlo" ||
		die "EHLO does not offer SIZE:" "$output" || return 1
	# A local peer: neither TLS nor AUTH (serve.h).
	if grep -qE '^(STARTTLS|AUTH)' <<<"$ehlo"; then
		die "EHLO offers STARTTLS or AUTH:" "$output"
	fi
	[[ "$(printf '%s\n' "$output" | tail -n 2)" == $'221 2.0.0 Bye\nexit 0' ]] ||
		die "QUIT is not answered 221, or the exit is not 0:" "$output"
	assert_nothing_relayed
}

@test "-bs: a message is relayed, and the dot is answered 250 only after the upstream's 250" {
	start_smtpd - <<-'EOF'
	on DOT
	  sleep 1
	  reply 250 2.0.0 Ok: queued upstream as U1
	EOF
	serve_config
	run_bs --times "$BATS_TEST_TMPDIR/times" <<-EOF
	> EHLO client.test
	message $MSG alice@example.org bob@example.net
	> QUIT
	EOF
	assert_codes "220 250 250 250 354 250 221 exit 0"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	grep -q '^MAIL FROM:<alice@example.org>' "$SMTPD_DIR/env.1" ||
		die "upstream envelope sender:" "$(cat "$SMTPD_DIR/env.1")"
	grep -qx 'RCPT TO:<bob@example.net>' "$SMTPD_DIR/env.1" ||
		die "upstream envelope recipient:" "$(cat "$SMTPD_DIR/env.1")"
	# The 250 to the dot came at least the upstream's second after it.
	local t
	t=$(awk '$2 == "250" && prev ~ /^354$/ { print $1 } { prev = $2 }' \
		"$BATS_TEST_TMPDIR/times")
	[[ -n "$t" ]] || die "no timing for the dot's reply:" "$(cat "$BATS_TEST_TMPDIR/times")"
	awk -v t="$t" 'BEGIN { exit !(t >= 0.95) }' ||
		die "the dot was answered after ${t}s, before the upstream's 250 (1 s)" \
			"timings:" "$(cat "$BATS_TEST_TMPDIR/times")"
	assert_queue_empty
	[[ ! -e "$DEAD" ]] || die "a dead letter was written for a delivered message"
	assert_no_problems
}

@test "-bs: upstream 451 with the default queue policy: 250 queued as ID, in mailq" {
	start_smtpd "on RCPT 451 4.7.1 Greylisted, try again later"
	serve_config
	run_bs <<-EOF
	> EHLO client.test
	message $MSG alice@example.org bob@example.net
	> QUIT
	EOF
	assert_codes "220 250 250 250 354 250 221 exit 0"
	local line id
	line=$(dot_reply 1)
	[[ "$line" =~ ^250\ 2\.0\.0\ Ok:\ queued\ as\ ([0-9a-f]{16})$ ]] ||
		die "the dot's reply is not '250 2.0.0 Ok: queued as ID': '$line'" || return 1
	id=${BASH_REMATCH[1]}
	assert_equal "$id" "$(queue_ids)" "the queue's entries"
	run_mailpost 0 -C "$MAILPOST_CONF" -bp
	assert_output_contains "$id"
	assert_output_contains "bob@example.net"
	assert_no_message 1
	[[ ! -e "$DEAD" ]] || die "a queued message was also written to the dead letter file"
}

@test "-bs: upstream 451 with --queue=never: the dot is answered 451, nothing queued" {
	start_smtpd "on RCPT 451 4.7.1 Greylisted, try again later"
	serve_config
	run_bs -- --queue=never <<-EOF
	> EHLO client.test
	message $MSG alice@example.org bob@example.net
	> QUIT
	EOF
	assert_codes "220 250 250 250 354 451 221 exit 0"
	assert_queue_empty
	assert_no_message 1
}

@test "-bs: upstream 550 at RCPT: the dot is answered 550; the client keeps the message (no dead letter)" {
	start_smtpd "on RCPT 550 5.1.1 <bob@example.net>: no such user"
	serve_config
	run_bs <<-EOF
	> EHLO client.test
	message $MSG alice@example.org bob@example.net
	> QUIT
	EOF
	assert_codes "220 250 250 250 354 550 221 exit 0"
	# The SMTP client was told 550 and still holds the message: a dead
	# letter would only be a second copy (mailpost(1), -bs).
	[[ ! -e "$DEAD" ]] || die "a dead letter file was written:" "$(cat "$DEAD")" || return 1
	assert_queue_empty
	assert_no_message 1
}

@test "-bs: two messages in one session, RSET between: two upstream transactions" {
	start_smtpd -- --max-connections 5
	serve_config
	printf 'From: carol@example.org\nTo: dave@example.net\nSubject: second\nDate: Mon, 01 Jan 2024 00:00:01 +0000\nMessage-ID: <2@example.org>\n\nSecond message.\n' \
		>"$BATS_TEST_TMPDIR/msg2"
	run_bs <<-EOF
	> EHLO client.test
	message $MSG alice@example.org bob@example.net
	> RSET
	message $BATS_TEST_TMPDIR/msg2 carol@example.org dave@example.net
	> QUIT
	EOF
	assert_codes "220 250 250 250 354 250 250 250 250 354 250 221 exit 0"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_message_crlf 2 <"$BATS_TEST_TMPDIR/msg2"
	grep -qx 'RCPT TO:<bob@example.net>' "$SMTPD_DIR/env.1" ||
		die "first envelope:" "$(cat "$SMTPD_DIR/env.1")"
	grep -q '^MAIL FROM:<carol@example.org>' "$SMTPD_DIR/env.2" &&
		grep -qx 'RCPT TO:<dave@example.net>' "$SMTPD_DIR/env.2" ||
		die "second envelope:" "$(cat "$SMTPD_DIR/env.2")"
	if grep -q bob "$SMTPD_DIR/env.2"; then
		die "the first recipient leaked into the second transaction:" \
			"$(cat "$SMTPD_DIR/env.2")"
	fi
	assert_queue_empty
}

@test "-bs: a pipelined client (everything in one write) gets every reply in order" {
	start_smtpd -- --max-connections 5
	serve_config
	printf 'From: carol@example.org\nTo: dave@example.net\nSubject: second\nDate: Mon, 01 Jan 2024 00:00:01 +0000\nMessage-ID: <2@example.org>\n\nSecond message.\n' \
		>"$BATS_TEST_TMPDIR/msg2"
	run_bs --pipeline <<-EOF
	> EHLO client.test
	message $MSG alice@example.org bob@example.net
	> RSET
	message $BATS_TEST_TMPDIR/msg2 carol@example.org dave@example.net
	> QUIT
	EOF
	assert_codes "220 250 250 250 354 250 250 250 250 354 250 221 exit 0"
	assert_line "250 2.1.0 Ok"
	assert_line "250 2.1.5 Ok"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_message_crlf 2 <"$BATS_TEST_TMPDIR/msg2"
}

@test "-bs: dot-unstuffing: '..x' from the client is the text '.x', re-stuffed upstream" {
	start_smtpd
	serve_config
	local head='From: alice@example.org\r\nTo: bob@example.net\r\nSubject: dots\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\nMessage-ID: <dots@example.org>\r\n\r\n'
	run_bs <<-EOF
	> EHLO client.test
	> MAIL FROM:<alice@example.org>
	> RCPT TO:<bob@example.net>
	> DATA
	send ${head}..x\r\n..\r\n...\r\nx.\r\n.y.\r\n.\r\n
	reply
	> QUIT
	EOF
	assert_codes "220 250 250 250 354 250 221 exit 0"
	# msg.1 is what the upstream got, un-stuffed by smtpd.py: the text.
	local text
	printf -v text "$head"
	assert_message 1 "$text.x"$'\r\n.\r\n..\r\nx.\r\ny.\r\n'
	# On the wire, each line that starts with a dot was stuffed again.
	assert_received_contains $'\r\n\r\n..x\r\n..\r\n...\r\nx.\r\ny.\r\n.\r\n'
}

@test "-bs: SMTP smuggling: only <CR><LF>.<CR><LF> ends the data; the other forms are text, one envelope" {
	# CVE-2023-51764: a client that dot-stuffs only after CRLF (Symfony)
	# passes a web form's "<LF>.<LF>" as it is; read as the end of the
	# data, the rest would be a second message with a forged envelope.
	local head='From: alice@example.org\r\nTo: bob@example.net\r\nSubject: form\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\nMessage-ID: <form@example.org>\r\n\r\n'
	local forged='MAIL FROM:<evil@attacker.example>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nFrom: ceo@example.org\r\n\r\nforged\r\n'
	local variant text
	for variant in '\n.\n' '\n.\r\n' '\r\n.\n'; do
		start_smtpd
		serve_config
		run_bs <<-EOF
		> EHLO client.test
		> MAIL FROM:<alice@example.org>
		> RCPT TO:<bob@example.net>
		> DATA
		send ${head}Hello,\r\nform text${variant}${forged}.\r\n
		reply
		> QUIT
		EOF
		assert_codes "220 250 250 250 354 250 221 exit 0" || die "(variant $variant)" || return 1
		[[ -e "$SMTPD_DIR/msg.1" && ! -e "$SMTPD_DIR/msg.2" ]] ||
			die "(variant $variant) expected one message upstream:" "$(ls "$SMTPD_DIR")" || return 1
		grep -q '^MAIL FROM:<alice@example.org>' "$SMTPD_DIR/env.1" &&
			grep -qx 'RCPT TO:<bob@example.net>' "$SMTPD_DIR/env.1" ||
			die "(variant $variant) envelope:" "$(cat "$SMTPD_DIR/env.1")" || return 1
		if grep -q 'attacker\|victim' "$SMTPD_DIR"/env.*; then
			die "(variant $variant) the smuggled envelope was used:" "$(cat "$SMTPD_DIR"/env.*)"
			return 1
		fi
		# The text upstream: line ends made CRLF, the "." line in it
		# re-stuffed on the wire (smtpd.py's msg.1 is un-stuffed).
		printf -v text "${head}Hello,\r\nform text\r\n.\r\n${forged}"
		assert_message 1 "$text" || die "(variant $variant)" || return 1
		assert_received_contains $'form text\r\n..\r\nMAIL FROM:<evil@attacker.example>\r\n' ||
			die "(variant $variant)" || return 1
		assert_no_bare_lf "$SMTPD_DIR/received" || return 1
	done
	assert_queue_empty
}

@test "-bs: LF-only client input: the upstream gets canonical CRLF" {
	start_smtpd
	serve_config
	run_bs --lf <<-EOF
	> EHLO client.test
	message $MSG alice@example.org bob@example.net
	> QUIT
	EOF
	assert_codes "220 250 250 250 354 250 221 exit 0"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_no_bare_lf "$SMTPD_DIR/received"
	assert_no_problems
}

@test "-bs: sequence errors 503, unknown command 500, VRFY 252, QUIT 221 and exit 0" {
	start_smtpd
	serve_config
	run_bs <<-'EOF'
	> MAIL FROM:<alice@example.org>
	> EHLO client.test
	> RCPT TO:<bob@example.net>
	> DATA
	> MAIL FROM:<alice@example.org>
	> DATA
	> MAIL FROM:<alice@example.org>
	> XYZZY
	> VRFY root
	> NOOP
	> RSET
	> DATA
	> QUIT
	EOF
	assert_codes "220 503 250 503 503 250 503 503 500 252 250 250 503 221 exit 0"
	assert_line "221 2.0.0 Bye"
	assert_nothing_relayed
	assert_queue_empty
}

@test "-bs: a control byte after a backslash in a quoted address: MAIL and RCPT 553, nothing queued or relayed" {
	start_smtpd
	serve_config
	run_bs <<-'EOF'
	> EHLO client.test
	send MAIL FROM:<"a\\\x1bb"@example.org>\r\n
	reply
	send MAIL FROM:<"a\\\x0cb"@example.org>\r\n
	reply
	> MAIL FROM:<alice@example.org>
	send RCPT TO:<"c\\\x7fd"@example.org>\r\n
	reply
	send RCPT TO:<"c\\\x01d"@example.org>\r\n
	reply
	> DATA
	> QUIT
	EOF
	assert_codes "220 250 553 553 250 553 553 503 221 exit 0"
	assert_line '553 5.1.7 Bad sender address: invalid address ""a\\x1bb"@example.org": contains a control character'
	assert_line '553 5.1.3 Bad recipient address: invalid address ""c\\x7fd"@example.org": contains a control character'
	assert_nothing_relayed
	assert_queue_empty
}

@test "-bs: data with a NUL byte is refused 554 5.6.0 (DATA cannot carry it), nothing relayed or kept, even for a server with BINARYMIME" {
	start_smtpd "caps PIPELINING, CHUNKING, BINARYMIME, 8BITMIME"
	serve_config
	run_bs <<-'EOF'
	> EHLO client.test
	> MAIL FROM:<alice@example.org>
	> RCPT TO:<bob@example.net>
	> DATA
	send From: alice@example.org\r\nTo: bob@example.net\r\nSubject: nul\r\n\r\na\x00b\r\n.\r\n
	reply
	> QUIT
	EOF
	assert_codes "220 250 250 250 354 554 221 exit 0"
	assert_line "554 5.6.0 The data holds NUL octets, which DATA cannot carry (RFC 3030 3: only BDAT with BODY=BINARYMIME, not offered here)"
	assert_nothing_relayed
	assert_queue_empty
	[[ ! -e "$DEAD" ]] || die "a dead letter was written:" "$(cat "$DEAD")"
}

@test "-bs: end of input in the middle of DATA: nothing is relayed or kept" {
	start_smtpd -- --max-connections 5
	serve_config
	run_bs <<-'EOF'
	> EHLO client.test
	> MAIL FROM:<alice@example.org>
	> RCPT TO:<bob@example.net>
	> DATA
	send From: alice@example.org\r\nTo: bob@example.net\r\nSubject: cut\r\n\r\nthe first line\r\n
	sleep 0.2
	send the second line, cut
	eof
	EOF
	[[ "$(reply_codes)" == "220 250 250 250 354 exit "* ]] ||
		die "unexpected replies after the end of input:" "$output"
	# The same, pipelined: the commands, part of the text and the end of
	# input together.
	run_bs --pipeline <<-'EOF'
	> EHLO client.test
	> MAIL FROM:<alice@example.org>
	> RCPT TO:<bob@example.net>
	> DATA
	send From: alice@example.org\r\nTo: bob@example.net\r\nSubject: cut\r\n\r\nthe first line\r\n
	eof
	EOF
	[[ "$(reply_codes)" == "220 250 250 250 354 exit "* ]] ||
		die "unexpected replies after the end of input:" "$output"
	assert_nothing_relayed
	assert_queue_empty
	[[ ! -e "$DEAD" ]] || die "a cut message went to the dead letter file:" "$(cat "$DEAD")"
}

@test "-bs: a Symfony-Mailer-like exchange, verbatim" {
	start_smtpd
	serve_config
	# What Symfony's SendmailTransport ("sendmail -bs") writes: EHLO with
	# its default local domain, MAIL and RCPT without parameters, the
	# message (CRLF, no final line end), then "\r\n.\r\n", and QUIT.
	local text='From: a@example.org\r\nTo: b@example.org\r\nSubject: Time for Symfony Mailer!\r\nMessage-ID: <5d1f0e7c3a9b4e2f@example.org>\r\nMIME-Version: 1.0\r\nDate: Tue, 05 Mar 2024 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nSending emails is fun again!'
	run_bs <<-EOF
	> EHLO [127.0.0.1]
	> MAIL FROM:<a@example.org>
	> RCPT TO:<b@example.org>
	> DATA
	send ${text}\r\n.\r\n
	reply
	> QUIT
	EOF
	assert_codes "220 250 250 250 354 250 221 exit 0"
	assert_message 1 "$(printf "$text")"$'\r\n'
	grep -q '^MAIL FROM:<a@example.org>' "$SMTPD_DIR/env.1" &&
		grep -qx 'RCPT TO:<b@example.org>' "$SMTPD_DIR/env.1" ||
		die "upstream envelope:" "$(cat "$SMTPD_DIR/env.1")"
	assert_stderr_lacks "mailpost:"
}

@test "-bs: the client's DSN parameters (RET, ENVID, NOTIFY) are passed on upstream" {
	start_smtpd
	serve_config
	run_bs <<-EOF
	> EHLO client.test
	> MAIL FROM:<alice@example.org> RET=HDRS ENVID=job+2B42
	> RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE
	> DATA
	data $MSG
	> QUIT
	EOF
	assert_codes "220 250 250 250 354 250 221 exit 0"
	grep -q '^MAIL FROM:<alice@example.org> .*RET=HDRS' "$SMTPD_DIR/env.1" &&
		grep -q '^MAIL FROM:<alice@example.org> .*ENVID=job+2B42' "$SMTPD_DIR/env.1" &&
		grep -qx 'RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.net' "$SMTPD_DIR/env.1" ||
		die "upstream envelope:" "$(cat "$SMTPD_DIR/env.1")"
}

@test "-bs: what the client's MAIL and RCPT leave out comes from the command line, then the account" {
	start_smtpd -- --max-connections 2
	serve_config "dsn_notify failure" "dsn_return full"
	run_bs -- -V cli-id <<-EOF
	> EHLO client.test
	> MAIL FROM:<alice@example.org>
	> RCPT TO:<bob@example.net> NOTIFY=NEVER
	> DATA
	data $MSG
	> MAIL FROM:<alice@example.org> RET=HDRS ENVID=own
	> RCPT TO:<carol@example.net>
	> DATA
	data $MSG
	> QUIT
	EOF
	assert_codes "220 250 250 250 354 250 250 250 354 250 221 exit 0"
	# The first: the client's NOTIFY, the account's RET, the command
	# line's ENVID; the second: the client's RET and ENVID, the account's
	# NOTIFY (nothing of the first message's client parameters).
	grep -qE '^MAIL FROM:<alice@example.org> .*RET=FULL ENVID=cli-id( |$)' "$SMTPD_DIR/env.1" &&
		grep -qx 'RCPT TO:<bob@example.net> NOTIFY=NEVER ORCPT=rfc822;bob@example.net' "$SMTPD_DIR/env.1" ||
		die "first upstream envelope:" "$(cat "$SMTPD_DIR/env.1")" || return 1
	grep -qE '^MAIL FROM:<alice@example.org> .*RET=HDRS ENVID=own( |$)' "$SMTPD_DIR/env.2" &&
		grep -qx 'RCPT TO:<carol@example.net> NOTIFY=FAILURE ORCPT=rfc822;carol@example.net' "$SMTPD_DIR/env.2" ||
		die "second upstream envelope:" "$(cat "$SMTPD_DIR/env.2")"
}

@test "-bs: SIGTERM while relaying: the message is queued and answered 250, then 421" {
	start_smtpd $'on DATA\n  sleep 20\n  default'
	serve_config
	(
		while ! grep -q sleeping "$SMTPD_DIR/log" 2>/dev/null; do sleep 0.1; done
		# mailpost itself, not bsclient (whose arguments hold the same).
		pkill -TERM -f -- "^$MAILPOST -C $MAILPOST_CONF -bs"
	) &
	local killer=$!
	run_bs <<-EOF
	> EHLO client.test
	message $MSG alice@example.org bob@example.net
	reply
	EOF
	wait "$killer" || true
	[[ "$(dot_reply 1)" =~ ^250\ 2\.0\.0\ Ok:\ queued\ as\ [0-9a-f]{16}$ ]] ||
		die "the dot was not answered 'queued':" "$output" "stderr:" "$stderr" || return 1
	assert_line "421 4.3.2 $HOST Shutting down"
	assert_line "exit 75"
	[[ "$(queue_ids | wc -l)" -eq 1 ]] || die "expected one queued entry" || return 1
}

@test "-bs: MAIL FROM:<root@HOST> or <root> is qualified with maildomain, in the envelope and (rewrite_local_from) the From" {
	start_smtpd -- --max-connections 3
	serve_config "maildomain example.org" "rewrite_local_from on"
	local cron=$BATS_TEST_TMPDIR/cron
	printf 'From: Cron Daemon <root@%s>\nTo: bob@example.net\nSubject: x\n\nbody\n' \
		"$HOST" >"$cron"
	run_bs <<-EOF
	> EHLO client.test
	message $cron root@$HOST bob@example.net
	message $cron root bob@example.net
	message $cron carol@example.com bob@example.net
	> QUIT
	EOF
	assert_codes "220 250 250 250 354 250 250 250 354 250 250 250 354 250 221 exit 0"
	smtpd_finish
	local i
	for i in 1 2; do
		grep -q '^MAIL FROM:<root@example.org>' "$SMTPD_DIR/env.$i" ||
			die "envelope $i:" "$(cat "$SMTPD_DIR/env.$i")" || return 1
		grep -qx $'From: Cron Daemon <root@example.org>\r' "$SMTPD_DIR/msg.$i" ||
			die "message $i's From:" "$(grep '^From:' "$SMTPD_DIR/msg.$i")" || return 1
	done
	# Another domain is the client's to choose: left as it is.
	grep -q '^MAIL FROM:<carol@example.com>' "$SMTPD_DIR/env.3" ||
		die "envelope 3:" "$(cat "$SMTPD_DIR/env.3")"
	grep -qx $'From: Cron Daemon <carol@example.com>\r' "$SMTPD_DIR/msg.3" ||
		die "message 3's From:" "$(grep '^From:' "$SMTPD_DIR/msg.3")"
}

@test "-bs: delivered to some, another refused for good (rcpt_policy any): the dot is answered 550 naming it, not 250, since nothing is kept for it" {
	start_smtpd "on RCPT#2 550 5.1.1 <carol@example.net>: no such user"
	serve_config "rcpt_policy any"
	run_bs <<-EOF
	> EHLO client.test
	message $MSG alice@example.org bob@example.net carol@example.net
	> QUIT
	EOF
	assert_codes "220 250 250 250 250 354 550 221 exit 0"
	[[ "$(dot_reply 1)" == "550 5.1.1 "*"<carol@example.net>"*"the message was sent to the others"* ]] ||
		die "the dot's reply does not name carol as refused: '$(dot_reply 1)'"
	assert_queue_empty
	[[ ! -e "$DEAD" ]] || die "a dead letter file was written:" "$(cat "$DEAD")"
}

@test "-bs: delivered to some, the others refused for now and not queued (queue never): the dot is answered 451 naming them, so the client keeps the message" {
	start_smtpd "on RCPT#2 450 4.2.1 <carol@example.net>: mailbox busy"
	serve_config "rcpt_policy any" "queue never"
	run_bs <<-EOF
	> EHLO client.test
	message $MSG alice@example.org bob@example.net carol@example.net
	> QUIT
	EOF
	assert_codes "220 250 250 250 250 354 451 221 exit 0"
	[[ "$(dot_reply 1)" == "451 4.3.0 "*"nothing was kept for carol@example.net" ]] ||
		die "the dot's reply does not name carol as kept nowhere: '$(dot_reply 1)'"
	assert_queue_empty
	[[ ! -e "$DEAD" ]] || die "a dead letter file was written:" "$(cat "$DEAD")"
}
