#!/usr/bin/env bats
# 40-message: what the server receives as the message.  Line endings,
# dot-stuffing, -i and the lone dot, -t with Bcc removal, header
# completion, long lines, 8-bit data, read errors, a large message.
#
# The server un-dot-stuffs each body into msg.N, flags bare CR/LF, lines
# over 1000 octets, 8-bit data without BODY=8BITMIME and a SIZE= that does
# not match the bytes sent; most tests end with assert_no_problems.

load lib/helpers

# A header block that needs nothing added (From, Date, Message-ID).
HDR=$'From: Alice <alice@example.org>\nTo: bob@example.net\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <2@example.org>\nSubject: test\n\n'
HDR_CRLF="${HDR//$'\n'/$'\r\n'}"

setup() {
	mailpost_setup
	IN="$BATS_TEST_TMPDIR/in"
}

# send_body EXIT BODY [ARGS...]: send HDR + BODY (bytes as given) to
# bob@example.net with ARGS, against the running server.
send_body() {
	local want="$1" body="$2"
	shift 2
	printf '%s%s' "$HDR" "$body" >"$IN"
	run_send "$want" "$@" bob@example.net <"$IN"
}

# The MAIL command line the server received.
mail_line() {
	smtpd_finish >/dev/null
	grep -a '^MAIL ' "$SMTPD_DIR/received" | tr -d '\r'
}

# --- line endings -------------------------------------------------------------------

# body_case NAME IN OUT [ARGS...]: HDR + IN sent with ARGS must arrive as
# HDR_CRLF + OUT, with nothing flagged by the server.
body_case() {
	local name="$1" in="$2" out="$3"
	shift 3
	start_smtpd || return 1
	send_body 0 "$in" "$@" || die "(case: $name)" || return 1
	assert_message 1 "$HDR_CRLF$out" || die "(case: $name)" || return 1
	assert_no_problems || die "(case: $name)" || return 1
}

@test "every line ending becomes CRLF; a final CRLF is added when missing" {
	body_case "LF"               $'a\nb\n'            $'a\r\nb\r\n'
	body_case "CRLF"             $'a\r\nb\r\n'        $'a\r\nb\r\n'
	body_case "bare CR"          $'a\rb\r'            $'a\r\nb\r\n'
	body_case "CR CRLF"          $'a\r\r\nb\n'        $'a\r\n\r\nb\r\n'
	body_case "LF CR"            $'a\n\rb\n'          $'a\r\n\r\nb\r\n'
	body_case "mixed"            $'1\r\n2\n3\r4\r\n'  $'1\r\n2\r\n3\r\n4\r\n'
	body_case "no final newline" $'a\nlast'           $'a\r\nlast\r\n'
	body_case "ends with CR"     $'a\nlast\r'         $'a\r\nlast\r\n'
	body_case "empty lines"      $'\n\n\n'            $'\r\n\r\n\r\n'
	body_case "empty body"       ""                   ""
	body_case "CR LF in text"    $'x\ry\nz'           $'x\r\ny\r\nz\r\n'
}

@test "header lines with LF or CR endings are converted too, and SIZE counts CRLFs" {
	start_smtpd
	printf '%s' "${HDR//$'\n'/$'\r'}body" >"$IN"
	run_send 0 bob@example.net <"$IN"
	assert_message 1 "${HDR_CRLF}body"$'\r\n'
	local size=$((${#HDR_CRLF} + 6))
	[[ "$(mail_line)" == *" SIZE=$size"* ]] || die "MAIL line: $(mail_line), expected SIZE=$size"
	assert_no_problems
}

# --- dot-stuffing, -i and the lone dot ----------------------------------------------------

@test "dot-stuffing: every line starting with '.' gets another '.'" {
	start_smtpd
	send_body 0 $'..\n.x\n x.\nx.\n...\n.\t\n. \n' -i
	assert_received_contains $'\r\n\r\n...\r\n..x\r\n x.\r\nx.\r\n....\r\n..\t\r\n.. \r\n.\r\nQUIT\r\n'
	assert_message 1 "$HDR_CRLF"$'..\r\n.x\r\n x.\r\nx.\r\n...\r\n.\t\r\n. \r\n'
	assert_no_problems
}

@test "-i, -oi: a lone '.' is an ordinary line, sent as '..'" {
	local opt
	for opt in -i -oi; do
		start_smtpd
		send_body 0 $'before\n.\nafter\n.\r\n.\rend\n.' "$opt" || die "($opt)" || return 1
		assert_message 1 "$HDR_CRLF"$'before\r\n.\r\nafter\r\n.\r\n.\r\nend\r\n.\r\n' ||
			die "($opt)" || return 1
		assert_received_contains $'before\r\n..\r\nafter\r\n..\r\n..\r\nend\r\n..\r\n.\r\nQUIT\r\n' ||
			die "($opt)" || return 1
		assert_no_problems || die "($opt)" || return 1
	done
}

@test "without -i a line holding a single '.' ends the input (sendmail rule)" {
	body_case "dot LF"    $'before\n.\nafter\n'       $'before\r\n'
	assert_received_lacks "after"
	body_case "dot CRLF"  $'before\r\n.\r\nafter\r\n' $'before\r\n'
	assert_received_lacks "after"
	body_case "dot CR"    $'before\r.\rafter\r'       $'before\r\n'
	assert_received_lacks "after"
	body_case "dot first" $'.\nafter\n'              ""
	assert_received_lacks "after"
	body_case "dot space" $'a\n. \nb\n'              $'a\r\n. \r\nb\r\n'
	body_case "two dots"  $'a\n..\nb\n'              $'a\r\n..\r\nb\r\n'
	body_case "dot x"     $'a\n.x\nb\n'              $'a\r\n.x\r\nb\r\n'
}

@test "a lone dot in the header block also ends the input without -i" {
	start_smtpd
	printf 'From: Alice <alice@example.org>\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <5@example.org>\n.\nSubject: never\n\nbody\n' >"$IN"
	run_send 0 bob@example.net <"$IN"
	# (whether an empty line follows a header-only message is not pinned)
	smtpd_finish
	local got
	got="$(escaped <"$SMTPD_DIR/msg.1" | tr -d '\n')"
	[[ "$got" == 'From: Alice <alice@example.org>\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\nMessage-ID: <5@example.org>\r\n'?('\r\n') ]] ||
		die "unexpected message: $got"
	assert_received_lacks "never"
}

# --- -t, Bcc -------------------------------------------------------------------------------

T_MSG=$'From: Alice <alice@example.org>\nTo: "Bob B." <bob@example.net>,\n Carol <carol@example.net> (work)\nCc: friends: erin@example.net, "Frank F." <frank@example.net>;,\n\tdave@example.com\nBcc: grace@example.net,\n  heidi@example.net\nSubject: -t test\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <3@example.org>\n\nBody.\n'

# The sorted RCPT addresses the server received.
rcpts_received() {
	smtpd_finish >/dev/null
	grep -a '^RCPT TO:' "$SMTPD_DIR/received" | tr -d '\r' | sed 's/^RCPT TO:<\([^>]*\)>.*/\1/' | sort
}

@test "-t: recipients from To, Cc, Bcc (folded, groups, display names, comments) plus argv; no Bcc sent" {
	start_smtpd
	printf '%s' "$T_MSG" >"$IN"
	run_mailpost 0 -C /dev/null --host 127.0.0.1 --port "$SMTPD_PORT" \
		--domain client.test -f alice@example.org -t ivan@example.com <"$IN"
	assert_equal "bob@example.net
carol@example.net
dave@example.com
erin@example.net
frank@example.net
grace@example.net
heidi@example.net
ivan@example.com" "$(rcpts_received)" "recipients"
	# The Bcc field, with its continuation line, is gone; the rest is exact.
	local want="${T_MSG//$'\n'/$'\r\n'}"
	want="${want/$'Bcc: grace@example.net,\r\n  heidi@example.net\r\n'/}"
	assert_message 1 "$want"
	assert_received_lacks "Bcc"
	assert_no_problems
}

@test "-t: a recipient in the header and on the command line gets one RCPT" {
	start_smtpd
	printf '%s' "$T_MSG" >"$IN"
	run_mailpost 0 -C /dev/null --host 127.0.0.1 --port "$SMTPD_PORT" \
		--domain client.test -f alice@example.org -t bob@example.net <"$IN"
	assert_equal 1 "$(rcpts_received | grep -c '^bob@example.net$')" "RCPTs for bob"
}

@test "-t: no recipients anywhere is 65, before connecting" {
	start_smtpd
	printf 'From: Alice <alice@example.org>\nTo: undisclosed-recipients:;\nSubject: x\n\nbody\n' >"$IN"
	run_mailpost 65 -C /dev/null --host 127.0.0.1 --port "$SMTPD_PORT" \
		--domain client.test -f alice@example.org -t <"$IN"
	assert_stderr_contains "recipient"
	assert_received ""
}

@test "-t: only Bcc recipients; an empty group in To" {
	start_smtpd
	printf 'From: Alice <alice@example.org>\nTo: undisclosed-recipients:;\nBcc: grace@example.net\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <4@example.org>\n\nbody\n' >"$IN"
	run_mailpost 0 -C /dev/null --host 127.0.0.1 --port "$SMTPD_PORT" \
		--domain client.test -f alice@example.org -t <"$IN"
	assert_equal "grace@example.net" "$(rcpts_received)" "recipients"
	assert_message 1 $'From: Alice <alice@example.org>\r\nTo: undisclosed-recipients:;\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\nMessage-ID: <4@example.org>\r\n\r\nbody\r\n'
}

@test "without -t a Bcc header is still removed (remove_bcc_headers defaults on); Bcc in the body stays" {
	start_smtpd
	printf '%s' "${HDR/$'Subject'/$'Bcc: secret@example.net\nSubject'}Bcc: this line is body"$'\n' >"$IN"
	run_send 0 bob@example.net <"$IN"
	assert_equal "bob@example.net" "$(rcpts_received)" "recipients"
	assert_message 1 "${HDR_CRLF}Bcc: this line is body"$'\r\n'
}

# --- header completion ---------------------------------------------------------------------

@test "missing From, Date and Message-ID are added (From with -F and -f)" {
	start_smtpd
	printf 'To: bob@example.net\nSubject: bare\n\nbody\n' >"$IN"
	run_send 0 -F "Alice Example" bob@example.net <"$IN"
	smtpd_finish
	local msg="$SMTPD_DIR/msg.1" header
	[[ -e "$msg" ]] || die "no message received"
	header="$(sed '/^\r$/q' "$msg" | tr -d '\r')"
	local want
	for want in \
		'^From: .*Alice Example.*<alice@example\.org>$' \
		'^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [-+][0-9]{4}$' \
		'^[Mm][Ee][Ss][Ss][Aa][Gg][Ee]-[Ii][Dd]: <[^<>@ ]+@example\.org>$' \
		'^To: bob@example\.net$' \
		'^Subject: bare$'; do
		grep -Eq "$want" <<<"$header" || die "no header line matches /$want/; header block:" "$header" || return 1
	done
	[[ "$(tail -c 8 "$msg" | escaped | tr -d '\n')" == '\r\nbody\r\n' ]] ||
		die "body changed: $(escaped <"$msg")"
	assert_no_problems
}

@test "only what is missing is added; set_*_header off adds nothing" {
	start_smtpd
	printf 'From: Someone <someone@example.org>\nTo: bob@example.net\nMessage-ID: <6@example.org>\n\nbody\n' >"$IN"
	run_send 0 bob@example.net <"$IN"
	smtpd_finish
	assert_equal 1 "$(grep -c '^From:' "$SMTPD_DIR/msg.1")" "From lines"
	assert_equal 1 "$(grep -ci '^Message-ID:' "$SMTPD_DIR/msg.1")" "Message-ID lines"
	assert_equal 1 "$(grep -c '^Date:' "$SMTPD_DIR/msg.1")" "Date lines"
	grep -q '^From: Someone <someone@example.org>' "$SMTPD_DIR/msg.1" || die "From changed"

	write_config "set_from_header off" "set_date_header off" "set_msgid_header off"
	start_smtpd
	printf 'To: bob@example.net\nSubject: bare\n\nbody\n' >"$IN"
	run_send 0 bob@example.net <"$IN"
	assert_message 1 $'To: bob@example.net\r\nSubject: bare\r\n\r\nbody\r\n'
	assert_no_problems
}

# --- long lines ------------------------------------------------------------------------------

@test "a line of 998 characters is sent as is; 999 is re-encoded, not refused (42-longlines has the rest)" {
	local l998 l999
	l998="$(printf 'x%.0s' {1..998})"
	l999="${l998}y"
	start_smtpd
	send_body 0 "a"$'\n'"$l998"$'\n'
	assert_message 1 "${HDR_CRLF}a"$'\r\n'"$l998"$'\r\n'
	assert_no_problems

	start_smtpd
	send_body 0 "a"$'\n'"$l999"$'\n'
	assert_received_contains "Content-Transfer-Encoding: quoted-printable"
	assert_no_problems

	# also in the header block (folded), and for the last line without a newline
	start_smtpd
	printf 'X-Long: %s %s\n%s' "${l998:8}" "${l998:8}" "$HDR" >"$IN"
	run_send 0 bob@example.net <"$IN"
	assert_received_contains $'x\r\n x'
	assert_no_problems

	start_smtpd
	send_body 0 "a"$'\n'"$l999"
	assert_no_problems
}

# --- 8-bit ---------------------------------------------------------------------------------

@test "8-bit body with 8BITMIME offered: BODY=8BITMIME and the bytes unchanged" {
	start_smtpd
	send_body 0 $'caf\xc3\xa9 \xff\xfe\n'
	assert_message 1 "$HDR_CRLF"$'caf\xc3\xa9 \xff\xfe\r\n'
	local mail
	mail="$(mail_line)"
	[[ "$mail" == *" BODY=8BITMIME"* ]] || die "no BODY=8BITMIME in: $mail"
	[[ "$mail" == *" SIZE=$((${#HDR_CRLF} + 10))"* ]] || die "wrong SIZE in: $mail"
	assert_no_problems
}

@test "8-bit in a header only: BODY=8BITMIME with SMTPUTF8; none once downgraded to 7-bit" {
	start_smtpd "caps PIPELINING, SIZE 10240000, 8BITMIME, SMTPUTF8"
	local subject=$'Subject: caf\xc3\xa9'
	printf '%s' "${HDR/Subject: test/$subject}body"$'\n' >"$IN"
	run_send 0 bob@example.net <"$IN"
	[[ "$(mail_line)" == *" BODY=8BITMIME SMTPUTF8"* ]] || die "no BODY=8BITMIME in: $(mail_line)"
	assert_no_problems

	# without SMTPUTF8 the Subject becomes an RFC 2047 word: 7-bit
	start_smtpd
	run_send 0 bob@example.net <"$IN"
	[[ "$(mail_line)" != *"BODY="* ]] || die "BODY= for a 7-bit message: $(mail_line)"
	assert_no_problems
}

@test "7-bit message: no BODY= parameter" {
	start_smtpd
	send_body 0 $'plain ascii\n'
	[[ "$(mail_line)" != *"BODY="* ]] || die "BODY= sent for 7-bit: $(mail_line)"
}

@test "8-bit message and no 8BITMIME: 65 after EHLO, before MAIL, never raw 8-bit" {
	local script
	for script in "caps PIPELINING, SIZE 1000000" $'on EHLO 500 no ESMTP'; do
		start_smtpd "$script"
		send_body 65 $'caf\xc3\xa9\n' || die "(script: $script)" || return 1
		assert_line_contains "mailpost: " || return 1
		assert_received_contains "LO client.test"$'\r\n' || die "(script: $script)" || return 1
		assert_received_lacks "MAIL FROM" || die "(script: $script)" || return 1
		assert_no_problems || die "(script: $script)" || return 1
	done
}

# --- input errors ----------------------------------------------------------------------------

@test "stdin read error (a directory) is 74 and nothing is sent" {
	start_smtpd
	run_send 74 bob@example.net <"$BATS_TEST_TMPDIR"
	assert_line_contains "mailpost: "
	assert_received_lacks $'\r\n.\r\n'
	assert_no_message
}

# --- a large message -------------------------------------------------------------------------

@test "a 3 MB message with dot lines and mixed line ends arrives byte for byte" {
	local expected="$BATS_TEST_TMPDIR/expected"
	"$SMTPD_PYTHON" - "$IN" "$expected" <<-'EOF'
	import sys
	head = (b"From: Alice <alice@example.org>\nTo: bob@example.net\n"
	        b"Date: Mon, 01 Jan 2024 00:00:00 +0000\n"
	        b"Message-ID: <7@example.org>\nSubject: big\n\n")
	ends = [b"\n", b"\r\n", b"\r"]
	starts = [b"", b".", b"..", b" ", b"From "]
	src, out = [head], [head.replace(b"\n", b"\r\n")]
	for i in range(40000):
	    line = starts[i % 5] + (b"line %d " % i) + b"abcdefghij" * (i % 7)
	    src.append(line + ends[i % 3])
	    out.append(line + b"\r\n")
	open(sys.argv[1], "wb").write(b"".join(src))
	open(sys.argv[2], "wb").write(b"".join(out))
	EOF
	start_smtpd
	run_send 0 -i bob@example.net <"$IN"
	smtpd_finish
	[[ -e "$SMTPD_DIR/msg.1" ]] || die "no message received"
	cmp "$expected" "$SMTPD_DIR/msg.1" ||
		die "the message differs from the canonical input (cmp above)"
	assert_no_problems
}
