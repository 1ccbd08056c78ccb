#!/usr/bin/env bats
# 46-addresses: recipients as people write them, against the scripted server
# (tests/lib/smtpd.py).  A command-line recipient (and -c, -b, -f) is an RFC
# 5322 address list: "Anna <anna@example.org>", "a@x, b@y", groups,
# comments, quoted names with commas.  The envelope gets the bare
# addresses; a composed To/Cc keeps the display names, as RFC 2047 words
# when they are not ASCII, and the domains as A-labels (a composed header
# never carries raw 8-bit, unless a UTF-8 local part makes SMTPUTF8
# necessary anyway).  Control bytes are refused wherever an address enters.
# A wildcard `from` picks a documented sender, never the host name.  The
# duplicate check is linear.

# status, output, stderr: set by bats' run.
# shellcheck disable=SC2154

load lib/helpers

UDOM=$'b\xc3\xbccher.example'
ADOM='xn--bcher-kva.example'
ULOCAL=$'j\xc3\xb6rg'
ESC=$'\e'
# No SIZE, so that an envelope line is the same whatever the message.
CAPS="caps PIPELINING, 8BITMIME, ENHANCEDSTATUSCODES"

setup() {
	mailpost_setup
	MSG="$(make_message)"
	BODY=$BATS_TEST_TMPDIR/body
	printf 'Hello.\n' >"$BODY"
}

# header_of N: the header block of message N as the server got it, CRLF
# kept, without Date and Message-ID (they differ each run).
header_of() {
	smtpd_finish || return 1
	"$SMTPD_PYTHON" -c 'import sys
data = open(sys.argv[1], "rb").read()
head = data.split(b"\r\n\r\n", 1)[0]
keep = [l for l in head.split(b"\r\n")
        if not l.startswith((b"Date: ", b"Message-ID: "))]
sys.stdout.buffer.write(b"\r\n".join(keep) + b"\r\n")' "$SMTPD_DIR/msg.$1"
}

# assert_header N EXPECTED: header_of N is exactly EXPECTED (LF = CRLF).
assert_header() {
	local got want
	got="$(header_of "$1" | escaped)" || return 1
	want="$(printf '%s\n' "$2" | sed 's/$/\r/' | escaped)"
	if [[ "$got" != "$want" ]]; then
		die "the header of message $1 differs (- expected, + actual):" \
			"$(diff -u --label expected --label actual \
				<(printf '%s\n' "$want") <(printf '%s\n' "$got"))"
	fi
}

# assert_envelope N EXPECTED: env.N (MAIL line, then the accepted RCPT
# lines) is exactly EXPECTED.
assert_envelope() {
	smtpd_finish || return 1
	local got
	got="$(cat "$SMTPD_DIR/env.$1")"
	assert_equal "$2" "$got" "envelope of message $1"
}

# --- Name <addr> and lists on the command line -------------------------------------

@test "composing: 'Name <addr>', lists, a group and -c/-b: names kept in To/Cc, bare addresses in the envelope" {
	start_smtpd "$CAPS"
	run_send 0 -s report 'Anna <anna@example.org>' \
		'a@x.example, "Smith, Bob" <bob@example.net>' \
		-c 'team: carol@example.net, Dave Jones <dave@example.net>;' \
		-c 'erin@example.net (Erin E.)' -b 'Eve <eve@example.net>' <"$BODY"
	assert_equal "" "$stderr" "stderr"
	assert_envelope 1 "MAIL FROM:<alice@example.org>
RCPT TO:<anna@example.org>
RCPT TO:<a@x.example>
RCPT TO:<bob@example.net>
RCPT TO:<carol@example.net>
RCPT TO:<dave@example.net>
RCPT TO:<erin@example.net>
RCPT TO:<eve@example.net>"
	assert_header 1 'From: alice@example.org
To: Anna <anna@example.org>, a@x.example, "Smith, Bob" <bob@example.net>
Cc: carol@example.net, Dave Jones <dave@example.net>,
 "Erin E." <erin@example.net>
Subject: report
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit'
	assert_no_problems
}

@test "sendmail mode: 'Name <addr>' and a list as recipients; the message is sent unchanged" {
	start_smtpd "caps PIPELINING, 8BITMIME"
	run_send 0 'Bob Jones <bob@example.net>' 'carol@example.net, "Dave, D." <dave@example.net>' <"$MSG"
	assert_equal "" "$stderr" "stderr"
	assert_received "EHLO client.test"$'\r\n'"MAIL FROM:<alice@example.org>"$'\r\nRCPT TO:<bob@example.net>\r\nRCPT TO:<carol@example.net>\r\nRCPT TO:<dave@example.net>\r\nDATA\r\n'"$MSG_SIMPLE_CRLF"$'.\r\nQUIT\r\n'
	assert_no_problems
}

@test "a recipient given twice, once with a name and a differently cased domain, gets one RCPT and one To entry" {
	start_smtpd "$CAPS"
	run_send 0 -s x 'bob@example.net' 'Bob <bob@EXAMPLE.net>' 'BOB@example.net' <"$BODY"
	assert_envelope 1 "MAIL FROM:<alice@example.org>
RCPT TO:<bob@example.net>
RCPT TO:<BOB@example.net>"
	header_of 1 | grep -qx $'To: bob@example.net, BOB@example.net\r' ||
		die "To:" "$(header_of 1 | escaped)"
}

@test "undisclosed-recipients:; with -b: To shows the empty group, the envelope holds the Bcc only" {
	start_smtpd "$CAPS"
	run_send 0 -s x -b boss@example.net 'undisclosed-recipients:;' <"$BODY"
	assert_envelope 1 "MAIL FROM:<alice@example.org>
RCPT TO:<boss@example.net>"
	header_of 1 | grep -qx $'To: undisclosed-recipients:;\r' ||
		die "To:" "$(header_of 1 | escaped)" || return 1
	header_of 1 | grep -qi '^Bcc:' && die "Bcc in the header" || true

	# after mailboxes, and in Cc; alone it names nobody: 64, nothing sent
	start_smtpd "$CAPS"
	run_send 0 -s x 'Bob <bob@example.net>' 'undisclosed-recipients:;' -c 'list:;' <"$BODY"
	assert_envelope 1 "MAIL FROM:<alice@example.org>
RCPT TO:<bob@example.net>"
	header_of 1 | grep -qx $'To: Bob <bob@example.net>, undisclosed-recipients:;\r' ||
		die "To:" "$(header_of 1 | escaped)" || return 1
	header_of 1 | grep -qx $'Cc: list:;\r' || die "Cc:" "$(header_of 1 | escaped)" || return 1
	start_smtpd "$CAPS"
	run_send 64 -s x 'undisclosed-recipients:;' <"$BODY"
	assert_stderr_contains "no recipients: the command line names nobody"
	assert_no_message
}

@test "-f 'Name <addr>': the envelope sender is the address, the composed From carries the name" {
	start_smtpd "$CAPS"
	run_mailpost 0 -C /dev/null --host 127.0.0.1 --port "$SMTPD_PORT" \
		--domain client.test -f 'Alice Liddell <alice@example.org>' -s x bob@example.net <"$BODY"
	assert_envelope 1 "MAIL FROM:<alice@example.org>
RCPT TO:<bob@example.net>"
	header_of 1 | grep -qx $'From: Alice Liddell <alice@example.org>\r' ||
		die "From:" "$(header_of 1 | escaped)"

	start_smtpd
	run_mailpost 64 -C /dev/null --host 127.0.0.1 --port "$SMTPD_PORT" \
		--domain client.test -f 'a@example.org, b@example.org' bob@example.net <"$MSG"
	assert_equal "mailpost: -f 'a@example.org, b@example.org' names more than one address" "$stderr"
	assert_received ""
}

@test "-f 'Name <addr>' chooses the account whose from pattern matches the address" {
	start_smtpd "$CAPS"
	write_config "domain client.test" \
		"account work" "host 127.0.0.1" "port $SMTPD_PORT" "from *@work.example" \
		"account home" "host 127.0.0.1" "port 9" "from home@example.org" \
		"account default : home"
	run_mailpost 0 -C "$MAILPOST_CONF" -f 'Joe Work <joe@work.example>' -s x bob@example.net <"$BODY"
	assert_envelope 1 "MAIL FROM:<joe@work.example>
RCPT TO:<bob@example.net>"
	header_of 1 | grep -qx $'From: Joe Work <joe@work.example>\r' ||
		die "From:" "$(header_of 1 | escaped)"
}

@test "malformed recipients: 64 before connecting, the input shown as given (UTF-8 kept, controls escaped)" {
	start_smtpd
	run_send 64 "$ULOCAL <$ULOCAL@example.org" <"$MSG"
	assert_equal "mailpost: cannot parse the address list \"$ULOCAL <$ULOCAL@example.org\": '>' is missing after an address; write a recipient as user@domain or \"Name <user@domain>\", several separated by commas" "$stderr"
	run_send 64 "x y@$UDOM" <"$MSG"
	assert_stderr_contains "\"x y@$UDOM\": a display name is not followed by <address>"
	run_send 64 'undisclosed-recipients:;' <"$MSG"
	assert_equal 'mailpost: no recipients: the command line names nobody (a group such as "undisclosed-recipients:;" has no members); give a recipient, with -b for a blind copy' "$stderr"
	run_send 64 ',' <"$MSG"
	assert_equal 'mailpost: "," names no address' "$stderr"
	run_send 64 "bob${ESC}[31m@example.org" <"$MSG"
	assert_equal "mailpost: recipient 'bob\\x1b[31m@example.org' contains a control character" "$stderr"
	assert_received ""
}

# --- no raw 8-bit in a composed header ----------------------------------------------

@test "composing to a U-label domain: To in A-labels, a UTF-8 name as RFC 2047, no 8-bit and no SMTPUTF8 on the wire" {
	local name=$'J\xc3\xb6rg M\xc3\xbcller'
	start_smtpd "caps PIPELINING, 8BITMIME, SMTPUTF8"
	run_send 0 -s x "anna@$UDOM" "$name <joerg@$UDOM>" <"$BODY"
	assert_equal "" "$stderr" "stderr"
	assert_envelope 1 "MAIL FROM:<alice@example.org>
RCPT TO:<anna@$ADOM>
RCPT TO:<joerg@$ADOM>"
	assert_header 1 "From: alice@example.org
To: anna@$ADOM,
 =?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= <joerg@$ADOM>
Subject: x
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit"
	assert_received_lacks "SMTPUTF8"$'\r\n'
	assert_received_lacks "8BITMIME"
	LC_ALL=C grep -q $'[\x80-\xff]' "$SMTPD_DIR/msg.1" &&
		die "the message has 8-bit bytes:" "$(header_of 1 | escaped)"
	assert_no_problems
}

@test "composing from a U-label sender domain: From, Reply-To and Message-ID in A-labels too" {
	start_smtpd "$CAPS"
	run_mailpost 0 -C /dev/null --host 127.0.0.1 --port "$SMTPD_PORT" \
		--domain client.test -f "Al <al@$UDOM>" --reply-to "r@$UDOM" \
		-s x bob@example.net <"$BODY"
	assert_envelope 1 "MAIL FROM:<al@$ADOM>
RCPT TO:<bob@example.net>"
	assert_header 1 "From: Al <al@$ADOM>
Reply-To: r@$ADOM
To: bob@example.net
Subject: x
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit"
	# Message-ID too (its right side is the sender's domain).
	LC_ALL=C grep -q $'[\x80-\xff]' "$SMTPD_DIR/msg.1" &&
		die "the message has 8-bit bytes:" "$(escaped <"$SMTPD_DIR/msg.1")"
	assert_no_problems
}

@test "header completion for a U-label sender: the added From and Message-ID in A-labels, no SMTPUTF8 needed" {
	start_smtpd "$CAPS"
	printf 'To: bob@example.net\nSubject: x\n\nHello.\n' >"$BATS_TEST_TMPDIR/in"
	run_mailpost 0 -C /dev/null --host 127.0.0.1 --port "$SMTPD_PORT" \
		--domain client.test -f "al@$UDOM" bob@example.net <"$BATS_TEST_TMPDIR/in"
	assert_envelope 1 "MAIL FROM:<al@$ADOM>
RCPT TO:<bob@example.net>"
	smtpd_finish
	grep -qx $'From: al@'"$ADOM"$'\r' "$SMTPD_DIR/msg.1" &&
		grep -Eq $'^Message-ID: <[0-9a-f]+\\.[0-9]+@'"$ADOM"$'>\r$' "$SMTPD_DIR/msg.1" ||
		die "the header:" "$(header_of 1 | escaped; grep -a Message-ID "$SMTPD_DIR/msg.1" | escaped)"
	LC_ALL=C grep -q $'[\x80-\xff]' "$SMTPD_DIR/msg.1" &&
		die "the message has 8-bit bytes:" "$(escaped <"$SMTPD_DIR/msg.1")"
	assert_no_problems
}

@test "composing to a UTF-8 local part: the header keeps UTF-8 and the send uses SMTPUTF8" {
	start_smtpd "caps PIPELINING, 8BITMIME, SMTPUTF8"
	run_send 0 -s x "$ULOCAL@$UDOM" <"$BODY"
	assert_envelope 1 "MAIL FROM:<alice@example.org> BODY=8BITMIME SMTPUTF8
RCPT TO:<$ULOCAL@$UDOM>"
	header_of 1 | grep -qx "To: $ULOCAL@$UDOM"$'\r' ||
		die "To:" "$(header_of 1 | escaped)"
}

@test "--from with a UTF-8 local part outside the envelope: sent with SMTPUTF8, or not at all" {
	start_smtpd "caps PIPELINING, 8BITMIME, SMTPUTF8"
	run_send 0 --from "$ULOCAL@example.org" -s x bob@example.net <"$BODY"
	header_of 1 | grep -qx "From: $ULOCAL@example.org"$'\r' ||
		die "From:" "$(header_of 1 | escaped)"
	# RFC 6532: a UTF-8 header goes with SMTPUTF8.
	assert_envelope 1 "MAIL FROM:<alice@example.org> BODY=8BITMIME SMTPUTF8
RCPT TO:<bob@example.net>"

	# A server without SMTPUTF8 never gets the raw header: an address
	# cannot be downgraded without loss.
	start_smtpd "caps PIPELINING, 8BITMIME"
	run_send 69 --from "$ULOCAL@example.org" -s x bob@example.net <"$BODY"
	assert_stderr_contains "does not offer SMTPUTF8"
	assert_received_lacks "MAIL"
}

# --- control bytes, wherever an address enters -------------------------------------

@test "a control byte after a backslash in a quoted local part: refused on the command line (64) and in -t headers (65)" {
	local c
	for c in "$ESC" $'\f' $'\x7f' $'\x01'; do
		start_smtpd
		run_send 64 "\"a\\${c}b\"@example.org" <"$MSG"
		assert_stderr_contains "contains a control character"
		assert_received "" || return 1

		start_smtpd
		printf 'From: alice@example.org\nTo: "a\\%sb"@example.org\nSubject: x\n\nbody\n' "$c" \
			>"$BATS_TEST_TMPDIR/in"
		run_send 65 -t <"$BATS_TEST_TMPDIR/in"
		assert_stderr_contains "control character"
		assert_received "" || return 1
	done
	# The same in the sender.
	start_smtpd
	run_mailpost 64 -C /dev/null --host 127.0.0.1 --port "$SMTPD_PORT" \
		-f "\"a\\${ESC}b\"@example.org" bob@example.net <"$MSG"
	assert_equal "mailpost: sender '\"a\\\\x1bb\"@example.org' contains a control character" "$stderr"
	assert_received ""
}

@test "a control byte in the configuration's from: 78, nothing sent" {
	start_smtpd
	printf 'defaults\nfrom "a\\\033b"@example.org\n' >"$BATS_TEST_TMPDIR/config"
	chmod 600 "$BATS_TEST_TMPDIR/config"
	run_mailpost 78 -C "$BATS_TEST_TMPDIR/config" --host 127.0.0.1 \
		--port "$SMTPD_PORT" bob@example.net <"$MSG"
	assert_stderr_contains "control character"
	assert_received ""
}

@test "a control byte in an aliases file target: 78, nothing sent" {
	start_smtpd
	printf 'root: "a\\\033b"@example.org\n' >"$BATS_TEST_TMPDIR/aliases"
	write_config "aliases $BATS_TEST_TMPDIR/aliases"
	run_send 78 root <"$MSG"
	assert_stderr_contains "contains a control character"
	assert_received ""
}

@test "a control byte in a queue entry's envelope: never on the wire, the message saved as a dead letter" {
	local q=$BATS_TEST_TMPDIR/queue id
	start_smtpd
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" \
		"queue_dir $q" "queue always" "dead_letter $BATS_TEST_TMPDIR/dead"
	run_mailpost 0 -C "$MAILPOST_CONF" -f alice@example.org bob@example.net <"$MSG"
	id=$(ls "$q" | grep -E '^[0-9a-f]{16}$')
	[[ -n "$id" ]] || die "nothing queued:" "$(ls -la "$q")"
	# What a damaged or hostile entry could hold: %1B is ESC (queue.c).
	sed -i 's/^sender: .*/sender: "a\\%1Bb"@example.org/; s/^rcpt: .*/rcpt: "c\\%0Cd"@example.org/' \
		"$q/$id/envelope"
	run_mailpost 65 -C "$MAILPOST_CONF" -q
	assert_stderr_contains "invalid address \"\"a\\\\x1bb\"@example.org\": contains a control character; the message was saved to $BATS_TEST_TMPDIR/dead"
	assert_received_lacks "MAIL"
	assert_received_lacks "$ESC"
	assert_received_lacks $'\f'
	# Not lost: the permanent failure's dead letter holds it.
	grep -q '^Hello Bob\.$' "$BATS_TEST_TMPDIR/dead" ||
		die "the dead letter lacks the message:" "$(cat "$BATS_TEST_TMPDIR/dead")"
}

# --- a wildcard `from` ---------------------------------------------------------------

@test "wildcard from, no -f: the account's user when the pattern matches it" {
	start_smtpd "$CAPS"
	write_config "from *@work.example" "user bob@work.example"
	run_mailpost 0 -C "$MAILPOST_CONF" --host 127.0.0.1 --port "$SMTPD_PORT" \
		--domain client.test carol@example.net <"$MSG"
	assert_envelope 1 "MAIL FROM:<bob@work.example>
RCPT TO:<carol@example.net>"

	# -f still chooses, as with msmtp.
	start_smtpd "$CAPS"
	run_mailpost 0 -C "$MAILPOST_CONF" --host 127.0.0.1 --port "$SMTPD_PORT" \
		--domain client.test -f anna@work.example carol@example.net <"$MSG"
	assert_envelope 1 "MAIL FROM:<anna@work.example>
RCPT TO:<carol@example.net>"
}

@test "wildcard from, no -f, no user it matches: 78 naming the keys, nothing sent, never root@HOST" {
	local u
	for u in "" "user bob" "user bob@home.example"; do
		start_smtpd
		write_config "from *@work.example" ${u:+"$u"}
		run_mailpost 78 -C "$MAILPOST_CONF" --host 127.0.0.1 --port "$SMTPD_PORT" \
			--domain client.test carol@example.net <"$MSG"
		assert_equal "mailpost: account 'default' has the pattern 'from *@work.example' and no -f was given, so there is no sender address; give -f ADDRESS, or set 'from' to an address (or 'user' to an address the pattern matches)" "$stderr" || return 1
		assert_received "" || return 1
	done
}

# --- many recipients ------------------------------------------------------------------

@test "20,000 recipients, each given three times: each queued once, in order, quickly" {
	local q=$BATS_TEST_TMPDIR/queue args=() i
	for ((i = 1; i <= 20000; i++)); do
		args+=("u$i@example.org")
	done
	for ((i = 1; i <= 20000; i++)); do
		args+=("u$i@EXAMPLE.org" "<u$i@example.org>")
	done
	write_config "host 127.0.0.1" "port 9" "queue_dir $q" "queue always"
	# A duplicate check that scans the list takes ~10^9 comparisons here.
	run_mailpost --timeout 10 0 -C "$MAILPOST_CONF" -f alice@example.org "${args[@]}" <"$MSG"
	local env
	env=$(cat "$q"/*/envelope)
	assert_equal 20000 "$(grep -c '^rcpt: ' <<<"$env")" "rcpt lines"
	assert_equal "rcpt: u1@example.org" "$(grep -m1 '^rcpt: ' <<<"$env")" "first"
	assert_equal "rcpt: u20000@example.org" "$(grep '^rcpt: ' <<<"$env" | tail -n 1)" "last"
}
