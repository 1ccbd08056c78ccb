#!/usr/bin/env bats
# 42-longlines: a passed-through message with lines longer than 998 octets
# (RFC 5322 2.1.1) is never refused: header lines are folded, body lines
# re-encoded so that the message decodes to exactly the bytes given
# (reencode.c).  Each case is checked on the wire (the server flags lines
# over 1000 octets and a SIZE= that does not match) and decoded with
# Python's email package (tests/lib/msgcheck.py decodes-as).

load lib/helpers

HDR=$'From: Alice <alice@example.org>\nTo: bob@example.net\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <2@example.org>\nSubject: test\n'

setup() {
	mailpost_setup
	IN="$BATS_TEST_TMPDIR/in"
	L5000="$(printf 'x%.0s' {1..5000})"
}

msgcheck() {
	python3 "$BATS_TEST_DIRNAME/lib/msgcheck.py" "$@"
}

# send_in EXIT: send $IN to bob@example.net against a fresh server, then
# check nothing was flagged and the message decodes as $IN did.
send_in() {
	start_smtpd || return 1
	run_send "$1" bob@example.net <"$IN" || return 1
	[[ "$1" == 0 ]] || return 0
	assert_no_problems || return 1
	msgcheck "$SMTPD_DIR/msg.1" decodes-as "$IN" || die "does not decode as the input"
}

# The MAIL command line the server received.
mail_line() {
	smtpd_finish >/dev/null
	grep -a '^MAIL ' "$SMTPD_DIR/received" | tr -d '\r'
}

@test "cron's message (text/plain; charset=UTF-8, 8bit) with a 5000-byte line becomes quoted-printable" {
	{
		printf '%sMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n' "$HDR"
		printf 'caf\xc3\xa9 start\n%s\nend\n' "$L5000"
	} >"$IN"
	send_in 0
	grep -a -q $'^Content-Transfer-Encoding: quoted-printable\r$' "$SMTPD_DIR/msg.1" || die "no quoted-printable"
	[[ "$(grep -a -c 'Content-Transfer-Encoding' "$SMTPD_DIR/msg.1")" == 1 ]] || die "two CTE fields"
	grep -a -q $'^Content-Type: text/plain; charset=UTF-8\r$' "$SMTPD_DIR/msg.1" || die "Content-Type changed"
	# the fields keep their places: the encoding replaced where it stood
	msgcheck "$SMTPD_DIR/msg.1" fields | tr '\n' ' ' | grep -q 'Subject MIME-Version Content-Type Content-Transfer-Encoding $' ||
		die "fields reordered: $(msgcheck "$SMTPD_DIR/msg.1" fields | tr '\n' ' ')"
	# SIZE= is the re-encoded size (the server flags a mismatch); the
	# body is 7-bit now, so no BODY=8BITMIME is needed
	local mail
	mail="$(mail_line)"
	[[ "$mail" != *BODY=8BITMIME* ]] || die "BODY=8BITMIME for a 7-bit message: $mail"
}

@test "a message without MIME fields gets MIME-Version, Content-Type with its charset and quoted-printable" {
	printf '%s\nfirst\n%s\nlast\n' "$HDR" "$L5000" >"$IN"
	send_in 0
	grep -a -q $'^MIME-Version: 1.0\r$' "$SMTPD_DIR/msg.1" || die "no MIME-Version"
	grep -a -q $'^Content-Type: text/plain; charset=us-ascii\r$' "$SMTPD_DIR/msg.1" || die "no Content-Type"

	printf '%s\n\xc3\xa9%s\n' "$HDR" "$L5000" >"$IN"
	send_in 0
	grep -a -q $'^Content-Type: text/plain; charset=utf-8\r$' "$SMTPD_DIR/msg.1" || die "not utf-8"

	printf '%s\n\xe9%s\n' "$HDR" "$L5000" >"$IN"
	send_in 0
	grep -a -q $'^Content-Type: text/plain; charset=unknown-8bit\r$' "$SMTPD_DIR/msg.1" || die "not unknown-8bit"
}

@test "trailing spaces and tabs, a leading dot and From survive; the exact bytes on the wire" {
	printf '%s\n.%s \t\nFrom here\nx \n' "$HDR" "$L5000" >"$IN"
	send_in 0
	# a line with trailing white space keeps it (=09 / =20 at the end)
	grep -a -q $'^x=20\r$' "$SMTPD_DIR/msg.1" || die "trailing space not encoded"
	grep -a -q $'=09\r$' "$SMTPD_DIR/msg.1" || die "trailing tab not encoded"
	grep -a -q '^=46rom here' "$SMTPD_DIR/msg.1" || die "From not encoded"

	# the exact encoding of a small case: 1000 x and a newline
	local l1000 want
	l1000="$(printf 'x%.0s' {1..1000})"
	printf 'Subject: t\n\n%s\n' "$l1000" >"$IN"
	start_smtpd
	write_config "set_from_header off" "set_date_header off" "set_msgid_header off"
	run_send 0 bob@example.net <"$IN"
	want="Subject: t"$'\r\n'"Content-Transfer-Encoding: quoted-printable"$'\r\n'"MIME-Version: 1.0"$'\r\n'"Content-Type: text/plain; charset=us-ascii"$'\r\n\r\n'
	for k in $(seq 1 13); do want+="$(printf 'x%.0s' {1..75})="$'\r\n'; done
	want+="$(printf 'x%.0s' {1..25})"$'\r\n'
	assert_message 1 "$want"
	assert_no_problems
}

@test "a long last line without a final newline decodes without one" {
	printf '%s\n%s' "$HDR" "$L5000" >"$IN"
	send_in 0
	# the text ends with a soft line break, not a hard one
	tail -c 5 "$SMTPD_DIR/msg.1" | od -c | grep -q 'x   =  \\r  \\n' || die "no soft break at the end: $(tail -c 20 "$SMTPD_DIR/msg.1" | od -c)"
}

@test "a multipart message: only the part with a long line is re-encoded" {
	{
		printf '%sMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b1"\n\npreamble\n--b1\n' "$HDR"
		printf 'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nshort caf\xc3\xa9\n--b1\n'
		printf 'Content-Type: application/json\n\n{"a": "%s"}\n--b1\n' "$L5000"
		printf 'Content-Type: multipart/alternative; boundary=b2\n\n--b2\nContent-Type: text/plain\n\n%s  \n--b2\nContent-Type: text/html\n\n<p>x</p>\n--b2--\n' "$L5000"
		printf '\n--b1--\nepilogue\n'
	} >"$IN"
	send_in 0
	[[ "$(grep -a -c '^Content-Transfer-Encoding: quoted-printable' "$SMTPD_DIR/msg.1")" == 2 ]] || die "want two encoded parts"
	grep -a -q $'^Content-Transfer-Encoding: 8bit\r$' "$SMTPD_DIR/msg.1" || die "the short part was changed"
	grep -a -q $'^short caf\xc3\xa9\r$' "$SMTPD_DIR/msg.1" || die "the short part was changed"
}

@test "parts already quoted-printable or base64 with long lines get line breaks only" {
	local b64 qp
	b64="$(head -c 3000 /dev/urandom | base64 -w0)"
	qp="$(printf 'a=3Db%.0s' {1..400})"
	{
		printf '%sMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n' "$HDR"
		printf 'Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n%s\n--b\n' "$b64"
		printf 'Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n%s\n--b--\n' "$qp"
	} >"$IN"
	send_in 0
	[[ "$(grep -a -c '^Content-Transfer-Encoding' "$SMTPD_DIR/msg.1")" == 2 ]] || die "fields added"
}

@test "a part in an encoding that cannot be re-encoded is refused with 65 naming it, before connecting" {
	printf '%sMIME-Version: 1.0\nContent-Transfer-Encoding: x-uuencode\n\n%s\n' "$HDR" "$L5000" >"$IN"
	send_in 65
	assert_line_contains "x-uuencode"
	assert_received ""
}

@test "a long header line is folded at white space; one without white space is refused with 65 naming it" {
	local words
	words="$(printf 'word %.0s' {1..400})"
	printf 'X-Long: %s\n%s\nbody\n' "$words" "$HDR" >"$IN"
	send_in 0
	grep -a -q $'^ word' "$SMTPD_DIR/msg.1" || die "not folded"

	printf 'References:<%s@example.org>\n%s\nbody\n' "$L5000" "$HDR" >"$IN"
	send_in 65
	assert_line_contains "References"
	assert_line_contains "fold"
	assert_received ""
}

@test "a text field with a word too long to fold (Subject, X-) goes as RFC 2047 words that read as written" {
	local word
	word="$(printf '\xc3\xa9%.0s' {1..700})"
	{
		printf 'X-Long: %s\n' "$L5000"
		printf '%s' "${HDR/Subject: test/Subject: log $word end}"
		printf '\nbody\n'
	} >"$IN"
	start_smtpd
	run_send 0 bob@example.net <"$IN"
	assert_no_problems
	python3 - "$SMTPD_DIR/msg.1" "$L5000" "log $word end" <<-'EOF'
	import email, email.policy, sys
	m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
	assert str(m["X-Long"]) == sys.argv[2], "X-Long differs"
	assert str(m["Subject"]) == sys.argv[3], m["Subject"]
	raw = open(sys.argv[1], "rb").read()
	assert max(len(l) for l in raw.split(b"\r\n")) <= 998
	EOF
}

@test "a message that needs no change goes out byte for byte; 998 is not long" {
	local l998
	l998="$(printf 'x%.0s' {1..998})"
	printf '%sContent-Transfer-Encoding: 8bit\n\n%s\n' "$HDR" "$l998" >"$IN"
	send_in 0
	assert_message 1 "${HDR//$'\n'/$'\r\n'}Content-Transfer-Encoding: 8bit"$'\r\n\r\n'"$l998"$'\r\n'
}

@test "a NUL byte in a part re-encoded for its long line goes with it, as =00: no BINARYMIME needed" {
	printf '%s\n%s\0\nshort \0 line\n' "$HDR" "$L5000" >"$IN"
	send_in 0
	grep -q '^short =00 line' "$SMTPD_DIR/msg.1" || die "the NUL was not quoted-printable"
}

@test "-bs: a message with a long line is re-encoded the same way before it is relayed" {
	printf '%s\nfirst\n%s\n' "$HDR" "$L5000" >"$IN"
	start_smtpd
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test"
	run --separate-stderr timeout 60 "$SMTPD_PYTHON" "$BATS_TEST_DIRNAME/lib/bsclient.py" \
		-- "$MAILPOST" -C "$MAILPOST_CONF" -bs <<-EOF
	> EHLO client.test
	message $IN alice@example.org bob@example.net
	> QUIT
	EOF
	[[ "$status" == 0 ]] || die "bsclient failed: $output" "$stderr"
	[[ "$output" == *"250 2.0.0 Ok: delivered"* ]] || die "not delivered: $output" "$stderr"
	assert_no_problems
	msgcheck "$SMTPD_DIR/msg.1" decodes-as "$IN" || die "does not decode as the input"
}

@test "the queue holds the re-encoded message, and a flush sends it as it is" {
	local qdir="$BATS_TEST_TMPDIR/queue" entry
	printf '%s\nfirst\n%s\n' "$HDR" "$L5000" >"$IN"
	start_smtpd "on RCPT 451 4.7.1 try later"
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" "queue_dir $qdir"
	run_mailpost 0 -C "$MAILPOST_CONF" -f alice@example.org bob@example.net <"$IN"
	entry="$(ls "$qdir"/*/message)"
	grep -a -q 'quoted-printable' "$entry" || die "the queue entry is not re-encoded"
	awk 'length($0) > 999 { bad = 1 } END { exit bad }' "$entry" || die "the queue entry has a long line"

	start_smtpd
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" "queue_dir $qdir"
	run_mailpost 0 -C "$MAILPOST_CONF" -q
	assert_no_problems
	msgcheck "$SMTPD_DIR/msg.1" decodes-as "$IN" || die "does not decode as the input"
}

@test "-t takes the recipients from a header that is folded; the message is re-encoded" {
	local words
	words="$(printf 'x%.0s' {1..990})"
	printf 'From: Alice <alice@example.org>\nTo: bob@example.net,\n  carol@example.net\nX-Long: a %s %s\nSubject: t\n\n%s\n' \
		"$words" "$words" "$L5000" >"$IN"
	start_smtpd
	run_send 0 -t <"$IN"
	assert_no_problems
	grep -q 'RCPT TO:<carol@example.net>' "$SMTPD_DIR/env.1" || die "carol is not a recipient"
	msgcheck "$SMTPD_DIR/msg.1" decodes-as "$IN" || die "does not decode as the input"
}
