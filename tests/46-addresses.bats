#!/usr/bin/env bats
# 46-addresses: recipients as people write them, against the scripted server
# (tests/lib/smtpd.py).  A command-line recipient (and -c, -b, -f) is an RFC
# 5322 address list: "Anna <anna@example.org>", "a@x, b@y", groups,
# comments, quoted names with commas.  The envelope gets the bare
# addresses; a composed To/Cc keeps the display names, as RFC 2047 words
# when they are not ASCII, and the domains as A-labels (a composed header
# never carries raw 8-bit, unless a UTF-8 local part makes SMTPUTF8
# necessary anyway).  Control bytes are refused wherever an address enters.
# A wildcard `from` picks a documented sender, never the host name.  A -f
# at this machine's name is a local name (GNU mail's root@HOST).  The
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
	# What GNU mail hands sendmail (no From).
	GNU=$BATS_TEST_TMPDIR/gnu
	printf 'Subject: disk\nTo: <bob@example.net>\nUser-Agent: mail (GNU Mailutils 3.15)\n\nfull\n' >"$GNU"
}

# header_of N: the header block of message N as the server got it, CRLF
# kept, without Date and Message-ID (they differ each run).
header_of() {
	smtpd_finish || return 1
	sed -n '/^\r$/q;/^Date: /d;/^Message-ID: /d;p' "$SMTPD_DIR/msg.$1"
}

# assert_header N EXPECTED: header_of N is exactly EXPECTED (LF = CRLF).
assert_header() {
	local got want
	got="$(header_of "$1")" || return 1
	want="$(printf '%s\n' "$2" | sed 's/$/\r/')"
	if [[ "$got" != "$want" ]]; then
		die "the header of message $1 differs (- expected, + actual):" \
			"$(diff -u --label expected --label actual \
				<(printf '%s\n' "$want" | escaped) \
				<(printf '%s\n' "$got" | escaped))"
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
	# What a damaged or hostile entry could hold: %1B is ESC (queuefile.c).
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

# --- local senders ----------------------------------------------------------------
# GNU mail runs "sendmail -oi -f root@HOST -t" (HOST: the host name, or its
# canonical name) and writes no From; cron's MAILFROM and `mail -r` pass
# what the user wrote.  A -f at a name of this machine is as local as a
# bare name: with maildomain it is LOCAL@maildomain in MAIL FROM and in the
# From mailpost adds, and rewrite_local_from and qualify_headers treat a
# From (Sender, Reply-To) at this machine as they treat a bare one.

# assert_sent N SENDER FROM: transaction N has MAIL FROM:<SENDER>, RCPT
# TO:<bob@example.net>, the From field FROM, and no Message-ID at this
# machine's name.
assert_sent() {
	assert_envelope "$1" "MAIL FROM:<$2>
RCPT TO:<bob@example.net>" || return 1
	header_of "$1" | grep -qxF "From: $3"$'\r' ||
		die "message $1: want From: $3; header:" "$(header_of "$1" | escaped)" ||
		return 1
	if [[ $2 == *@example.org ]] &&
		! grep -qE '^Message-ID: <[^@]*@example\.org>' "$SMTPD_DIR/msg.$1"; then
		die "message $1: a Message-ID not at example.org:" \
			"$(grep '^Message-ID' "$SMTPD_DIR/msg.$1")"
	fi
}

# send_gnu_mail ARGS...: send GNU mail's message ($GNU) with -oi ARGS -t.
send_gnu_mail() {
	run_mailpost 0 -C "$MAILPOST_CONF" -oi "$@" -t <"$GNU"
}

@test "local -f (bare, at the host name in any case, a trailing dot, localhost): MAIL FROM and the added From get maildomain" {
	local host fqdn i c from
	host=$(hostname)
	fqdn=$(hostname -f 2>/dev/null) || fqdn=$host
	# SENDER (as -f) and the From mailpost writes.
	local cases=(
		"root|root@example.org"
		"root@$host|root@example.org"
		"root@$fqdn|root@example.org"
		"ROOT@${host^^}.|ROOT@example.org"
		"root@${host%%.*}|root@example.org"
		"root@localhost|root@example.org"
		"root@LocalHost.LocalDomain.|root@example.org"
		"Root <root@$host.>|Root <root@example.org>"
	)
	start_smtpd "$CAPS" -- --max-connections 20
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" \
		"maildomain example.org"
	for c in "${cases[@]}"; do
		send_gnu_mail -f "${c%%|*}" || return 1
	done
	for ((i = 1; i <= ${#cases[@]}; i++)); do
		c=${cases[i - 1]}
		from=${c#*|}
		[[ $from == *'<'* ]] && { from=${from#*<}; from=${from%>}; }
		assert_sent "$i" "$from" "${c#*|}" || return 1
	done
}

@test "-r, msmtp's --from, --read-envelope-from: a local sender gets maildomain; other domains are left alone" {
	local host
	host=$(hostname)
	start_smtpd "$CAPS" -- --max-connections 20
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" \
		"maildomain example.org"
	send_gnu_mail -r "root@$host"
	send_gnu_mail --from "root@$host"
	{ printf 'From: root@%s\n' "$host"; cat "$GNU"; } >"$BATS_TEST_TMPDIR/withfrom"
	run_mailpost 0 -C "$MAILPOST_CONF" --read-envelope-from -t <"$BATS_TEST_TMPDIR/withfrom"
	send_gnu_mail -f root@example.com
	send_gnu_mail -f root@localhost.example.com
	assert_sent 1 root@example.org root@example.org
	assert_sent 2 root@example.org root@example.org
	# The message's own From is the message's (no rewrite_local_from).
	assert_sent 3 root@example.org "root@$host"
	assert_sent 4 root@example.com root@example.com
	assert_sent 5 root@localhost.example.com root@localhost.example.com
}

@test "local -f without maildomain: left as given (a trailing dot dropped), as a bare name is" {
	local host
	host=$(hostname)
	start_smtpd "$CAPS" -- --max-connections 20
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test"
	send_gnu_mail -f root
	send_gnu_mail -f "root@$host"
	send_gnu_mail -f "root@$host."
	send_gnu_mail -f "bob@example.com."
	assert_sent 1 root root
	assert_sent 2 "root@$host" "root@$host"
	assert_sent 3 "root@$host" "root@$host"
	assert_sent 4 bob@example.com bob@example.com
	# A domain that is only dots is still no domain; the error shows the
	# sender as typed.
	run_mailpost 64 -C "$MAILPOST_CONF" -f "root@." bob@example.net <"$MSG"
	assert_stderr_contains '"root@."'
	run_mailpost 64 -C "$MAILPOST_CONF" -f "root@$host.." bob@example.net <"$MSG"
	assert_stderr_contains "\"root@$host..\""
	run_mailpost 64 -C "$MAILPOST_CONF" -f "Root <@$host.>" bob@example.net <"$MSG"
	assert_stderr_contains "\"Root <@$host.>\""
}

@test "-t with From: root@HOST: rewrite_local_from and qualify_headers make it the sender; without them it stays" {
	local host msg=$BATS_TEST_TMPDIR/cron base
	host=$(hostname)
	printf 'From: Root <root@%s>\nSender: root@localhost\nReply-To: ops@%s\nTo: bob@example.net\nCc: root@%s\nSubject: x\n\nbody\n' \
		"$host" "$host" "$host" >"$msg"
	start_smtpd "$CAPS" -- --max-connections 20
	base=("host 127.0.0.1" "port $SMTPD_PORT" "domain client.test"
		"maildomain example.org")
	write_config "${base[@]}" "rewrite_local_from on"
	run_mailpost 0 -C "$MAILPOST_CONF" -oi -f "root@$host" -t <"$msg"
	write_config "${base[@]}" "rewrite_local_from on" "from cron@example.org"
	run_mailpost 0 -C "$MAILPOST_CONF" -oi -t <"$msg"
	write_config "${base[@]}" "qualify_headers on"
	run_mailpost 0 -C "$MAILPOST_CONF" -oi -f "root@$host" -t <"$msg"
	write_config "${base[@]}"
	run_mailpost 0 -C "$MAILPOST_CONF" -oi -f "root@$host" -t <"$msg"
	# The recipients (envelope and Cc) keep their domain.
	local rcpts="RCPT TO:<bob@example.net>
RCPT TO:<root@$host>"
	assert_envelope 1 "MAIL FROM:<root@example.org>
$rcpts"
	assert_header 1 "From: Root <root@example.org>
Sender: root@localhost
Reply-To: ops@$host
To: bob@example.net
Cc: root@$host
Subject: x"
	assert_envelope 2 "MAIL FROM:<cron@example.org>
$rcpts"
	header_of 2 | grep -qx $'From: Root <cron@example.org>\r' ||
		die "From:" "$(header_of 2 | escaped)"
	assert_envelope 3 "MAIL FROM:<root@example.org>
$rcpts"
	assert_header 3 "From: Root <root@example.org>
Sender: root@example.org
Reply-To: ops@example.org
To: bob@example.net
Cc: root@$host
Subject: x"
	assert_envelope 4 "MAIL FROM:<root@example.org>
$rcpts"
	assert_header 4 "From: Root <root@$host>
Sender: root@localhost
Reply-To: ops@$host
To: bob@example.net
Cc: root@$host
Subject: x"
}

@test "the canonical name of a short host name is local; another name that starts like it is not" {
	[ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null ||
		skip "needs root and unshare for a private host name and /etc/hosts"
	# A host "box" whose /etc/hosts entry gives box.example.lan, resolved
	# from that file only: no DNS query leaves the namespace.
	printf '127.0.0.1 localhost\n127.0.1.1 box.example.lan box\n' >"$BATS_TEST_TMPDIR/hosts"
	printf 'hosts: files\n' >"$BATS_TEST_TMPDIR/nsswitch.conf"
	start_smtpd "$CAPS" -- --max-connections 20
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" \
		"maildomain example.org"
	run --separate-stderr timeout 20 unshare -m -u sh -c '
		hostname box &&
		mount --bind "$1/hosts" /etc/hosts &&
		mount --bind "$1/nsswitch.conf" /etc/nsswitch.conf || exit 99
		for f in root@box.example.lan root@BOX.Example.Lan. root@box root@box.example.org; do
			"$2" -C "$3" -oi -f "$f" -t <"$1/gnu" || exit
		done
	' sh "$BATS_TEST_TMPDIR" "$MAILPOST" "$MAILPOST_CONF"
	[ "$status" -eq 0 ] || die "exit $status; stderr: $stderr"
	assert_sent 1 root@example.org root@example.org
	assert_sent 2 root@example.org root@example.org
	assert_sent 3 root@example.org root@example.org
	assert_sent 4 root@box.example.org root@box.example.org
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
