#!/usr/bin/env bats
# 39-chunking: CHUNKING (RFC 3030) against the scripted server
# (tests/lib/smtpd.py): the body in BDAT chunks, byte for byte (no
# dot-stuffing), "BDAT n LAST" and QUIT in one write, the chunk size's
# edges, refusals of a middle chunk and of the LAST one (exit codes, the
# queue, RSET), a connection cut in the middle, BINARYMIME for 8-bit data
# a server without 8BITMIME takes, --no-chunking and `chunking off`, and
# where DATA stays (--quit-after data, the smuggling test), and LMTP's
# replies per recipient after the LAST chunk.  Against
# Postfix: 50-postfix.

load lib/helpers

# smtp.h's SMTP_CHUNK_SIZE.
CHUNK=262144

setup() {
	mailpost_setup
	MSG="$(make_message)"
	QDIR="$BATS_TEST_TMPDIR/queue"
}

# A server offering CHUNKING (and PIPELINING unless told otherwise).
CAPS="caps PIPELINING, CHUNKING, SIZE 10240000, 8BITMIME, ENHANCEDSTATUSCODES"

# sized_message FILE N: a message in canonical form (CRLF) of exactly N
# bytes: the header make_message writes, then lines of 76 characters, each
# other one starting with "." (nothing of it may be stuffed), the last one
# shorter.  mailpost sends it unchanged.
sized_message() {
	"$SMTPD_PYTHON" - "$1" "$2" <<-'EOF'
	import sys
	path, n = sys.argv[1], int(sys.argv[2])
	out = (b"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>\r\n"
	       b"Subject: test\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
	       b"Message-ID: <1@example.org>\r\n\r\n")
	k = 0
	while n - len(out) >= 78 + 2:
	    line = (b"." if k % 2 else b"x") + (b"%08d" % k) + b"y" * 67
	    out += line + b"\r\n"
	    k += 1
	rest = n - len(out)
	out += b"z" * (rest - 2) + b"\r\n"
	assert len(out) == n
	open(path, "wb").write(out)
	EOF
}

# queue_config PORT [LINE...]: the server from the configuration, so a
# temporary failure is queued (in $QDIR).
queue_config() {
	local port="$1"
	shift
	write_config "host 127.0.0.1" "port $port" "domain client.test" \
		"from alice@example.org" "queue_dir $QDIR" "$@" "account default"
}

# The number of entries mailq lists.
queue_count() {
	"$MAILPOST" -C "$MAILPOST_CONF" -bp | grep -cE '^[0-9a-f]{16} ' || true
}

# assert_commands LINE...: the commands the server got, in order (one per
# line of its "commands" file, without the connection number).
assert_commands() {
	smtpd_finish || return 1
	local want got
	want="$(printf '%s\n' "$@")"
	got="$(cut -d' ' -f3- "$SMTPD_DIR/commands")"
	assert_equal "$want" "$got" "the commands received"
}

# --- the body by BDAT ---------------------------------------------------------------

@test "CHUNKING offered: the body in one BDAT LAST, byte for byte (lines starting with '.' unstuffed), QUIT in its write" {
	local msg="$BATS_TEST_TMPDIR/dots"
	printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.net>\nSubject: dots\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <2@example.org>\n\n.\n..\n.leading dot\nlast\n' >"$msg"
	start_smtpd "$CAPS"$'\noption require-quit-with-dot'
	run_send 0 -i bob@example.net <"$msg"
	local want
	want="$(sed 's/$/\r/' "$msg"; printf x)"
	want="${want%x}"
	assert_message 1 "$want"
	assert_commands "EHLO client.test" \
		"MAIL FROM:<alice@example.org> SIZE=${#want}" \
		"RCPT TO:<bob@example.net>" "BDAT ${#want} LAST" QUIT
	assert_in_one_recv "BDAT ${#want} LAST"$'\r\n'"$want"$'QUIT\r\n'
	assert_received_lacks $'\r\nDATA\r\n'
	assert_no_problems
}

@test "a body of exactly one chunk ends with 'BDAT 0 LAST'; one byte more with 'BDAT 1 LAST'; both byte for byte" {
	local a="$BATS_TEST_TMPDIR/a" b="$BATS_TEST_TMPDIR/b"
	sized_message "$a" "$CHUNK"
	sized_message "$b" $((CHUNK + 1))
	start_smtpd "$CAPS" -- --max-connections 2
	run_send 0 bob@example.net <"$a"
	run_send 0 bob@example.net <"$b"
	smtpd_finish
	cmp "$a" "$SMTPD_DIR/msg.1" || die "message 1 differs from what was sent"
	cmp "$b" "$SMTPD_DIR/msg.2" || die "message 2 differs from what was sent"
	grep -q "^1 clear BDAT $CHUNK\$" "$SMTPD_DIR/commands" &&
		grep -q '^1 clear BDAT 0 LAST$' "$SMTPD_DIR/commands" &&
		grep -q "^2 clear BDAT $CHUNK\$" "$SMTPD_DIR/commands" &&
		grep -q '^2 clear BDAT 1 LAST$' "$SMTPD_DIR/commands" ||
		die "chunks not as expected:" "$(cat "$SMTPD_DIR/commands")"
	assert_no_problems
}

@test "a body of several chunks without PIPELINING: each chunk waits for its reply, QUIT apart" {
	local big="$BATS_TEST_TMPDIR/big"
	sized_message "$big" $((2 * CHUNK + 100))
	start_smtpd "caps CHUNKING, SIZE 10240000, 8BITMIME"
	run_send 0 bob@example.net <"$big"
	smtpd_finish
	cmp "$big" "$SMTPD_DIR/msg.1" || die "the message differs from what was sent"
	assert_commands "EHLO client.test" \
		"MAIL FROM:<alice@example.org> SIZE=$((2 * CHUNK + 100))" \
		"RCPT TO:<bob@example.net>" "BDAT $CHUNK" "BDAT $CHUNK" \
		"BDAT 100 LAST" QUIT
	assert_no_problems
}

@test "an empty body: the header and its blank line in one BDAT LAST, as DATA would send them" {
	local msg="$BATS_TEST_TMPDIR/empty"
	printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.net>\nSubject: empty\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <3@example.org>\n\n' >"$msg"
	start_smtpd "$CAPS" -- --max-connections 2
	run_send 0 bob@example.net <"$msg"
	run_send 0 --no-chunking bob@example.net <"$msg"
	smtpd_finish
	cmp "$SMTPD_DIR/msg.2" "$SMTPD_DIR/msg.1" || die "BDAT and DATA delivered different bytes"
	grep -q "^1 clear BDAT $(stat -c %s "$SMTPD_DIR/msg.1") LAST\$" "$SMTPD_DIR/commands" ||
		die "no single BDAT LAST:" "$(cat "$SMTPD_DIR/commands")"
	assert_no_problems
}

@test "-v shows each BDAT line and counts the body; -vv shows its lines; --timing's steps have no data step" {
	start_smtpd "$CAPS" -- --max-connections 2
	run_send 0 -vv --timing bob@example.net <"$MSG"
	assert_line_contains " -> BDAT ${#MSG_SIMPLE_CRLF} LAST"
	assert_line_contains "Hello Bob."
	assert_stderr_contains "<-  250 2.0.0 ${#MSG_SIMPLE_CRLF} octets received"
	assert_stderr_lacks " -> DATA"
	local steps
	steps="$(grep -F "steps:" <<<"$stderr")" || die "no steps line:" "$stderr"
	[[ "$steps" == *"rcpt "*", body "* && "$steps" != *" data "* ]] ||
		die "steps line not as expected: $steps"
	run_send 0 -v bob@example.net <"$MSG"
	assert_stderr_contains "body: 8 lines"
	assert_stderr_lacks "Hello Bob."
}

# --- the envelope with the chunks ---------------------------------------------------

@test "one recipient: MAIL, RCPT, BDAT LAST and QUIT in one write; the recipient refused is the verdict (67), nothing delivered" {
	start_smtpd "$CAPS" -- --max-connections 2
	run_send 0 bob@example.net <"$MSG"
	assert_in_one_recv $'RCPT TO:<bob@example.net>\r\nBDAT '"${#MSG_SIMPLE_CRLF}"$' LAST\r\n'
	assert_in_one_recv $'Bye.\r\nQUIT\r\n'
	start_smtpd "$CAPS"$'\non RCPT 550 5.1.1 <bob@example.net>: no such user'
	run_send 67 bob@example.net <"$MSG"
	assert_stderr_contains "550 5.1.1"
	assert_stderr_lacks "503"
	assert_no_message 1
	assert_no_problems
}

@test "one recipient refused, a message of several chunks: only the first chunk goes, whether the server refuses it or takes it anyway" {
	local big="$BATS_TEST_TMPDIR/big" server
	sized_message "$big" $((3 * CHUNK))
	# The chunk refused (RFC 3030 2), or taken against it: the client
	# knows the envelope was refused and stops by itself, no LAST.
	for server in "" $'\non BDAT 250 2.0.0 chunk taken'; do
		start_smtpd "$CAPS"$'\non RCPT 550 5.1.1 <bob@example.net>: no such user'"$server"
		run_send 67 bob@example.net <"$big"
		assert_stderr_contains "550 5.1.1"
		assert_commands "EHLO client.test" \
			"MAIL FROM:<alice@example.org> SIZE=$((3 * CHUNK))" \
			"RCPT TO:<bob@example.net>" "BDAT $CHUNK" QUIT ||
			die "(server: '$server')" || return 1
		assert_no_message 1
		assert_no_problems
	done
}

@test "several recipients, all or nothing: the RCPT replies come first; one refused, no BDAT at all (67)" {
	start_smtpd "$CAPS"$'\non RCPT#2 550 5.1.1 <carol@example.net>: no such user'
	run_send 67 bob@example.net carol@example.net <"$MSG"
	assert_stderr_contains "carol@example.net"
	assert_received_lacks "BDAT"
	assert_no_problems
}

@test "several recipients, --rcpt-policy=any: piped with the chunks; the accepted one gets it, the refused one named (67)" {
	start_smtpd "$CAPS"$'\non RCPT#2 550 5.1.1 <carol@example.net>: no such user'
	run_send 67 --rcpt-policy=any bob@example.net carol@example.net <"$MSG"
	assert_stderr_contains "carol@example.net"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_in_one_recv $'RCPT TO:<carol@example.net>\r\nBDAT '
	assert_no_problems
}

# --- refusals ---------------------------------------------------------------------------

@test "a 5xx to the LAST chunk: 69, the reply named, dead letter as after the dot" {
	start_smtpd "$CAPS"$'\non BDAT 554 5.6.0 message refused'
	queue_config "$SMTPD_PORT"
	run_mailpost 69 -C "$MAILPOST_CONF" bob@example.net <"$MSG"
	assert_stderr_contains "554 5.6.0 message refused"
	assert_stderr_contains "saved to"
	assert_equal 0 "$(queue_count)" "queue entries"
	assert_no_message 1
	assert_no_problems
}

@test "a 4xx to the LAST chunk: queued, exit 0, the reply as the reason" {
	start_smtpd "$CAPS"$'\non BDAT 452 4.3.1 insufficient storage'
	queue_config "$SMTPD_PORT"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net <"$MSG"
	assert_stderr_contains "queued as"
	assert_stderr_contains "452 4.3.1 insufficient storage"
	assert_equal 1 "$(queue_count)" "queue entries"
	assert_no_problems
}

@test "a 4xx to a middle chunk, pipelined: the replies to the chunks in flight read, queued; --host alone: 75" {
	local big="$BATS_TEST_TMPDIR/big"
	sized_message "$big" $((CHUNK + 10))
	start_smtpd "$CAPS"$'\non BDAT#1 451 4.3.0 try again later' -- --max-connections 2
	queue_config "$SMTPD_PORT"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net <"$big"
	assert_stderr_contains "queued as"
	assert_stderr_contains "451 4.3.0 try again later"
	assert_equal 1 "$(queue_count)" "queue entries"
	run_send 75 bob@example.net <"$big"
	assert_stderr_contains "451 4.3.0 try again later"
	assert_no_message 1
	assert_no_message 2
	assert_no_problems
}

@test "a 5xx to a middle chunk without PIPELINING: no chunk after it, QUIT, 69" {
	local big="$BATS_TEST_TMPDIR/big"
	sized_message "$big" $((2 * CHUNK + 10))
	start_smtpd $'caps CHUNKING, SIZE 10240000\non BDAT#1 552 5.3.4 too big for us'
	run_send 69 bob@example.net <"$big"
	assert_stderr_contains "552 5.3.4 too big for us"
	assert_commands "EHLO client.test" \
		"MAIL FROM:<alice@example.org> SIZE=$((2 * CHUNK + 10))" \
		"RCPT TO:<bob@example.net>" "BDAT $CHUNK" QUIT
	assert_no_message 1
	assert_no_problems
}

@test "a queue flush: a chunk refused for the first message, RSET, the other message goes on the same connection" {
	local big="$BATS_TEST_TMPDIR/big"
	sized_message "$big" $((CHUNK + 10))
	queue_config 1 "queue always"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net <"$big"
	run_mailpost 0 -C "$MAILPOST_CONF" carol@example.net <"$MSG"
	assert_equal 2 "$(queue_count)" "queue entries"
	start_smtpd "$CAPS"$'\non BDAT#1 452 4.3.1 insufficient storage'
	queue_config "$SMTPD_PORT"
	run_mailpost 0 -C "$MAILPOST_CONF" -q
	assert_equal 1 "$(queue_count)" "queue entries left"
	smtpd_finish
	assert_equal 1 "$(grep -c 'accepted' "$SMTPD_DIR/log")" "connections"
	grep -q '^1 clear RSET$' "$SMTPD_DIR/commands" ||
		die "no RSET after the refused chunk:" "$(cat "$SMTPD_DIR/commands")"
	# The flush's order is the queue's: the one refused (its first chunk
	# was BDAT#1) stays, the other arrived whole.
	if cmp -s "$big" "$SMTPD_DIR/msg.1"; then
		"$MAILPOST" -C "$MAILPOST_CONF" -bp | grep -q carol@example.net ||
			die "the small message is not the one left in the queue"
	else
		assert_message 1 "$MSG_SIMPLE_CRLF"
		"$MAILPOST" -C "$MAILPOST_CONF" -bp | grep -q bob@example.net ||
			die "the big message is not the one left in the queue"
	fi
	assert_no_problems
}

@test "the connection cut in the middle of the chunks: nothing delivered, queued" {
	local big="$BATS_TEST_TMPDIR/big"
	sized_message "$big" $((2 * CHUNK + 10))
	start_smtpd $'caps CHUNKING, SIZE 10240000\non BDAT#1 close'
	queue_config "$SMTPD_PORT"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net <"$big"
	assert_stderr_contains "queued as"
	assert_equal 1 "$(queue_count)" "queue entries"
	assert_no_message 1
	assert_received_lacks "LAST"
}

@test "the connection cut after the LAST chunk went out: 'status unknown', queued" {
	start_smtpd "$CAPS"$'\non BDAT close'
	queue_config "$SMTPD_PORT"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net <"$MSG"
	assert_stderr_contains "status unknown"
	assert_equal 1 "$(queue_count)" "queue entries"
}

@test "the connection dropped after a piped 'BDAT LAST', before the reply to MAIL: 'delivery status unknown', queued" {
	start_smtpd "$CAPS"$'\non MAIL close'
	queue_config "$SMTPD_PORT"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net <"$MSG"
	assert_in_one_recv $'RCPT TO:<bob@example.net>\r\nBDAT '"${#MSG_SIMPLE_CRLF}"$' LAST\r\n'
	assert_stderr_contains "delivery status unknown"
	assert_stderr_contains "queued as"
	assert_equal 1 "$(queue_count)" "queue entries"
}

@test "a 421 to a middle chunk read after the LAST went out, then the connection closed: the refusal named, not 'status unknown'; queued" {
	local big="$BATS_TEST_TMPDIR/big"
	sized_message "$big" $((CHUNK + 10))
	start_smtpd "$CAPS"$'\non BDAT#1\n  sleep 0.3\n  421 4.3.0 shutting down\n  close'
	queue_config "$SMTPD_PORT"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net <"$big"
	assert_stderr_contains "BDAT chunk refused: server said 421 4.3.0 shutting down; then the connection was lost"
	assert_stderr_lacks "status unknown"
	assert_stderr_contains "queued as"
	assert_equal 1 "$(queue_count)" "queue entries"
	assert_received_contains "LAST"
	assert_no_message 1
}

@test "a reply too many to a middle chunk, pipelined: the LAST's refusal comes as QUIT's reply; not taken as delivered, queued" {
	local big="$BATS_TEST_TMPDIR/big"
	sized_message "$big" $((2 * CHUNK + 10))
	start_smtpd "$CAPS"$'\non BDAT#1\n  250 2.0.0 chunk ok\n  250 2.0.0 a reply too many\non BDAT#3 554 5.6.0 refused at LAST'
	queue_config "$SMTPD_PORT"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net <"$big"
	assert_stderr_contains "out of step (554 and 221 to QUIT)"
	assert_stderr_contains "queued as"
	assert_equal 1 "$(queue_count)" "queue entries"
	assert_no_message 1
}

@test "a reply too many behind the 354 of DATA: the refusal at the dot comes as QUIT's reply; --host alone: 75" {
	start_smtpd $'on DATA\n  354 go ahead\n  flush\n  sleep 0.2\n  250 2.0.0 a reply too many\non DOT 554 5.6.0 refused at the dot'
	run_send 75 bob@example.net <"$MSG"
	assert_stderr_contains "out of step (554 and 221 to QUIT)"
}

@test "a reply too many to a chunk without PIPELINING: caught before the next chunk, nothing delivered" {
	local big="$BATS_TEST_TMPDIR/big"
	sized_message "$big" $((2 * CHUNK + 10))
	start_smtpd $'caps CHUNKING, SIZE 10240000\non BDAT#1\n  250 2.0.0 chunk ok\n  250 2.0.0 a reply too many\non BDAT#3 554 5.6.0 refused at LAST'
	run_send 76 bob@example.net <"$big"
	assert_stderr_contains "unexpected data from the server after the reply to BDAT"
	assert_received_lacks "LAST"
	assert_no_message 1
}

@test "a reply too many to a chunk without PIPELINING, sent late: the refusal comes as QUIT's reply; not taken as delivered" {
	local big="$BATS_TEST_TMPDIR/big"
	sized_message "$big" $((2 * CHUNK + 10))
	start_smtpd $'caps CHUNKING, SIZE 10240000\non BDAT#2\n  250 2.0.0 chunk ok\n  flush\n  sleep 0.3\n  250 2.0.0 a reply too many\non BDAT#3 554 5.6.0 refused at LAST'
	run_send 75 bob@example.net <"$big"
	assert_stderr_contains "out of step (554 and 221 to QUIT)"
	assert_no_message 1
}

# --- BINARYMIME -----------------------------------------------------------------------------

@test "8-bit data, no 8BITMIME, BINARYMIME with CHUNKING: BODY=BINARYMIME, the bytes unchanged" {
	local msg="$BATS_TEST_TMPDIR/8bit"
	printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.net>\nSubject: bin\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <4@example.org>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGr\xc3\xbc\xc3\x9fe \xff\xfe\n' >"$msg"
	start_smtpd "caps PIPELINING, CHUNKING, BINARYMIME, SIZE 10240000"
	run_send 0 bob@example.net <"$msg"
	smtpd_finish
	grep -q '^1 clear MAIL FROM:<alice@example.org> SIZE=[0-9]* BODY=BINARYMIME$' "$SMTPD_DIR/commands" ||
		die "no BODY=BINARYMIME:" "$(cat "$SMTPD_DIR/commands")"
	sed 's/$/\r/' "$msg" | cmp - "$SMTPD_DIR/msg.1" || die "the bytes changed"
	assert_no_problems
}

@test "8-bit data: BINARYMIME not offered (or --no-chunking) is today's refusal, 65; 8BITMIME offered too is BODY=8BITMIME" {
	local msg="$BATS_TEST_TMPDIR/8bit"
	printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.net>\nSubject: bin\n\nGr\xc3\xbc\xc3\x9fe\n' >"$msg"
	start_smtpd "caps PIPELINING, CHUNKING, SIZE 10240000"
	run_send 65 bob@example.net <"$msg"
	assert_stderr_contains "does not offer 8BITMIME"
	start_smtpd "caps PIPELINING, CHUNKING, BINARYMIME, SIZE 10240000"
	run_send 65 --no-chunking bob@example.net <"$msg"
	assert_stderr_contains "does not offer 8BITMIME"
	assert_no_message 1
	start_smtpd "caps PIPELINING, CHUNKING, BINARYMIME, 8BITMIME"
	run_send 0 bob@example.net <"$msg"
	smtpd_finish
	grep -q '^1 clear MAIL FROM:<alice@example.org> BODY=8BITMIME$' "$SMTPD_DIR/commands" ||
		die "not BODY=8BITMIME:" "$(cat "$SMTPD_DIR/commands")"
	assert_no_problems
}

@test "a binary attachment goes base64 as before, BINARYMIME offered or not: a 7-bit body, no BODY=" {
	head -c 3000 /dev/urandom >"$BATS_TEST_TMPDIR/blob.bin"
	start_smtpd "caps PIPELINING, CHUNKING, BINARYMIME, SIZE 10240000"
	run_send 0 -s attached -a "$BATS_TEST_TMPDIR/blob.bin" bob@example.net </dev/null
	smtpd_finish
	grep -q '^1 clear MAIL FROM:<alice@example.org> SIZE=[0-9]*$' "$SMTPD_DIR/commands" ||
		die "MAIL not as expected:" "$(cat "$SMTPD_DIR/commands")"
	grep -q '^1 clear BDAT [0-9]* LAST$' "$SMTPD_DIR/commands" ||
		die "no BDAT:" "$(cat "$SMTPD_DIR/commands")"
	grep -qi '^Content-Transfer-Encoding: base64' "$SMTPD_DIR/msg.1" ||
		die "the attachment is not base64"
	assert_no_problems
}

# --- BINARYMIME for a body with NUL bytes (RFC 3030 3) ----------------------------------

# nul_message FILE: a message (LF line ends) whose body holds NUL bytes,
# one of them on a line of its own, and 8-bit bytes.
nul_message() {
	printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.net>\nSubject: nul\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <5@example.org>\nMIME-Version: 1.0\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: binary\n\na\0b\n\0\n.\0\n\xff\x00\xfe end\n' >"$1"
}

@test "NUL bytes in the body, BINARYMIME and CHUNKING offered: BODY=BINARYMIME (also beside 8BITMIME), the bytes by BDAT unchanged; LMTP the same" {
	local msg="$BATS_TEST_TMPDIR/nul" want="$BATS_TEST_TMPDIR/nul.crlf"
	nul_message "$msg"
	sed 's/$/\r/' "$msg" >"$want"
	start_smtpd "caps PIPELINING, CHUNKING, BINARYMIME, 8BITMIME, SIZE 10240000"
	run_send 0 bob@example.net <"$msg"
	smtpd_finish
	cmp "$want" "$SMTPD_DIR/msg.1" || die "the bytes changed"
	assert_commands "EHLO client.test" \
		"MAIL FROM:<alice@example.org> SIZE=$(stat -c %s "$want") BODY=BINARYMIME" \
		"RCPT TO:<bob@example.net>" "BDAT $(stat -c %s "$want") LAST" QUIT
	assert_no_problems
	write_config "protocol lmtp"
	start_smtpd "caps PIPELINING, CHUNKING, BINARYMIME"
	run_send 0 bob@example.net carol@example.net <"$msg"
	smtpd_finish
	cmp "$want" "$SMTPD_DIR/msg.1" || die "LMTP: the bytes changed"
	grep -q '^1 clear MAIL FROM:<alice@example.org> BODY=BINARYMIME$' "$SMTPD_DIR/commands" ||
		die "LMTP: no BODY=BINARYMIME:" "$(cat "$SMTPD_DIR/commands")"
	assert_no_problems
}

@test "NUL bytes, BINARYMIME not offered, or without CHUNKING, or --no-chunking: 65 naming the server and why, no MAIL, the message in the dead letter file" {
	local msg="$BATS_TEST_TMPDIR/nul" caps why
	nul_message "$msg"
	for caps in "caps PIPELINING, CHUNKING, 8BITMIME|offers no BINARYMIME" \
		"caps PIPELINING, BINARYMIME, 8BITMIME|offers BINARYMIME without CHUNKING" \
		"caps PIPELINING, CHUNKING, BINARYMIME|offers BINARYMIME, but chunking is off"; do
		why="${caps#*|}"
		rm -f "$HOME/dead.letter"
		start_smtpd "${caps%|*}"
		queue_config "$SMTPD_PORT"
		if [[ "$why" == *"chunking is off"* ]]; then
			run_mailpost 65 -C "$MAILPOST_CONF" --no-chunking bob@example.net <"$msg"
		else
			run_mailpost 65 -C "$MAILPOST_CONF" bob@example.net <"$msg"
		fi
		assert_stderr_contains "the message has NUL bytes and 127.0.0.1 $why"
		assert_stderr_contains "saved to $HOME/dead.letter"
		assert_equal 0 "$(queue_count)" "queue entries"
		assert_commands "EHLO client.test" QUIT || return 1
		# mbox: the From_ line, the message with LF line ends, an
		# empty line; the NUL bytes kept.
		tail -n +2 "$HOME/dead.letter" | head -n -1 >"$BATS_TEST_TMPDIR/dead"
		grep -q '^Subject: nul$' "$BATS_TEST_TMPDIR/dead" &&
			tail -n 4 "$BATS_TEST_TMPDIR/dead" | cmp - <(tail -n 4 "$msg") ||
			die "the dead letter is not the message ($why)" || return 1
	done
}

@test "a NUL byte in the header: 65 before any connection, whatever the server offers" {
	local msg="$BATS_TEST_TMPDIR/nulhead"
	printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.net>\nSubject: a\0b\n\nbody\n' >"$msg"
	start_smtpd "caps PIPELINING, CHUNKING, BINARYMIME, 8BITMIME"
	run_send 65 bob@example.net <"$msg"
	assert_stderr_contains "the message header holds a NUL byte"
	smtpd_finish
	assert_equal 0 "$(grep -c accepted "$SMTPD_DIR/log" || true)" "connections"
}

@test "NUL bytes, the first server unreachable, the fallback account's without BINARYMIME: not refused but queued for the first (exit 0), both named" {
	local msg="$BATS_TEST_TMPDIR/nul"
	nul_message "$msg"
	start_smtpd "caps PIPELINING, CHUNKING, 8BITMIME"
	write_config "domain client.test" "from alice@example.org" "queue_dir $QDIR" \
		"account backup" "host 127.0.0.1" "port $SMTPD_PORT" \
		"account main" "host 127.0.0.1" "port 1" "fallback_account backup" \
		"account default : main"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net <"$msg"
	assert_stderr_contains "queued as"
	assert_stderr_contains "then 127.0.0.1: the message has NUL bytes and 127.0.0.1 offers no BINARYMIME"
	assert_equal 1 "$(queue_count)" "queue entries"
	[[ ! -e "$HOME/dead.letter" ]] || die "a dead letter was written"
	assert_commands "EHLO client.test" QUIT
}

# nul_queued FILE: nul_message FILE, queued (no server), its entry saying
# that its body has NUL bytes.
nul_queued() {
	nul_message "$1"
	queue_config 1 "queue always"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net <"$1"
	assert_equal 1 "$(queue_count)" "queue entries"
	grep -rqx 'nul: 1' "$QDIR" ||
		die "the entry does not say its body has NUL bytes:" "$(find "$QDIR" -type f)"
}

@test "a queued message with NUL bytes keeps them: flushed to a server with BINARYMIME it goes as BODY=BINARYMIME, byte for byte" {
	local msg="$BATS_TEST_TMPDIR/nul"
	nul_queued "$msg"
	start_smtpd "caps PIPELINING, CHUNKING, BINARYMIME, SIZE 10240000"
	queue_config "$SMTPD_PORT"
	run_mailpost 0 -C "$MAILPOST_CONF" -q
	assert_equal 0 "$(queue_count)" "queue entries left"
	smtpd_finish
	sed 's/$/\r/' "$msg" | cmp - "$SMTPD_DIR/msg.1" || die "the bytes changed"
	grep -q '^1 clear MAIL FROM:<alice@example.org> SIZE=[0-9]* BODY=BINARYMIME$' "$SMTPD_DIR/commands" ||
		die "no BODY=BINARYMIME:" "$(cat "$SMTPD_DIR/commands")"
	assert_no_problems
}

@test "a queued message with NUL bytes flushed to a server without BINARYMIME: 65 naming it, out of the queue into the dead letter file, bytes kept, no MAIL" {
	local msg="$BATS_TEST_TMPDIR/nul"
	nul_queued "$msg"
	start_smtpd "caps PIPELINING, CHUNKING, 8BITMIME"
	queue_config "$SMTPD_PORT"
	run_mailpost 65 -C "$MAILPOST_CONF" -q
	assert_stderr_contains "the message has NUL bytes and 127.0.0.1 offers no BINARYMIME"
	assert_stderr_contains "saved to $HOME/dead.letter"
	assert_stderr_contains "1 queued message failed permanently"
	assert_equal 0 "$(queue_count)" "queue entries left"
	assert_commands "EHLO client.test" QUIT || return 1
	tail -n +2 "$HOME/dead.letter" | head -n -1 | tail -n 4 | cmp - <(tail -n 4 "$msg") ||
		die "the dead letter does not end with the body's bytes"
}

@test "NUL bytes, a server offering BINARYMIME that refuses BODY=BINARYMIME at MAIL: 69 with its reply, no chunk sent as delivered, the dead letter keeps the bytes" {
	local msg="$BATS_TEST_TMPDIR/nul"
	nul_message "$msg"
	start_smtpd "caps PIPELINING, CHUNKING, BINARYMIME, 8BITMIME
on MAIL 555 5.5.4 BODY=BINARYMIME not supported"
	queue_config "$SMTPD_PORT"
	run_mailpost 69 -C "$MAILPOST_CONF" bob@example.net <"$msg"
	assert_stderr_contains "sender refused: server said 555 5.5.4 BODY=BINARYMIME not supported"
	assert_stderr_contains "saved to $HOME/dead.letter"
	assert_equal 0 "$(queue_count)" "queue entries"
	smtpd_finish
	[[ ! -e "$SMTPD_DIR/msg.1" ]] || die "the server took a message"
	tail -n +2 "$HOME/dead.letter" | head -n -1 | tail -n 4 | cmp - <(tail -n 4 "$msg") ||
		die "the dead letter does not end with the body's bytes"
}

@test "NUL bytes: --dry-run prints them as they are and says what the server must offer" {
	local msg="$BATS_TEST_TMPDIR/nul"
	nul_message "$msg"
	run_mailpost 0 -C /dev/null --dry-run bob@example.net <"$msg"
	assert_stderr_contains "the body has NUL bytes: it can go only to a server that offers BINARYMIME and CHUNKING"
	"$MAILPOST" -C /dev/null --dry-run bob@example.net <"$msg" 2>/dev/null | tail -n 4 |
		cmp - <(tail -n 4 "$msg" | sed 's/$/\r/') || die "the body printed is not the input's"
}

# --- where DATA stays ------------------------------------------------------------------

@test "--no-chunking and 'chunking off': DATA although CHUNKING is offered; --pretend shows it" {
	start_smtpd "$CAPS" -- --max-connections 2
	run_send 0 --no-chunking bob@example.net <"$MSG"
	write_config "chunking off"
	run_send 0 bob@example.net <"$MSG"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_message 2 "$MSG_SIMPLE_CRLF"
	assert_received_lacks "BDAT"
	assert_no_problems
	run_mailpost 0 -C "$MAILPOST_CONF" --host 127.0.0.1 --pretend
	assert_output_contains "chunking = off"
	run_mailpost 0 -C /dev/null --host 127.0.0.1 --pretend
	assert_output_contains "chunking = on"
	run_mailpost 0 -C /dev/null --host 127.0.0.1 --no-chunking --pretend
	assert_output_contains "chunking = off"
}

@test "--quit-after data with CHUNKING offered: still DATA, dropped after its 354" {
	start_smtpd "$CAPS"
	run_send 0 --quit-after data bob@example.net </dev/null
	assert_commands "EHLO client.test" "MAIL FROM:<alice@example.org>" \
		"RCPT TO:<bob@example.net>" DATA
	assert_no_message 1
}

@test "LMTP with CHUNKING: BDAT LAST, then one reply per recipient; one refused is named (67), the other delivered" {
	write_config "protocol lmtp"
	start_smtpd "$CAPS" -- --max-connections 2
	run_send 0 bob@example.net carol@example.net <"$MSG"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_received_lacks $'\r\nDATA\r\n'
	grep -q "S: 250 2.1.5 <carol@example.net> delivered" "$SMTPD_DIR/log" ||
		die "the server did not send the second LMTP reply"
	start_smtpd "$CAPS"$'\non LMTP#2 550 5.1.1 no such user'
	run_send 67 bob@example.net carol@example.net <"$MSG"
	assert_stderr_contains "carol@example.net"
	assert_stderr_lacks "bob@example.net"
	assert_no_problems
}

@test "LMTP with CHUNKING: a refused middle chunk is every recipient's verdict" {
	local big="$BATS_TEST_TMPDIR/big"
	sized_message "$big" $((CHUNK + 10))
	write_config "protocol lmtp"
	start_smtpd "$CAPS"$'\non BDAT#1 552 5.3.4 too big'
	run_send 69 bob@example.net carol@example.net <"$big"
	assert_stderr_contains "message refused for 2 of 2 recipients"
	assert_stderr_contains "<bob@example.net> (552"
	assert_stderr_contains "<carol@example.net> (552"
	assert_no_message 1
	assert_no_problems
}

@test "LMTP with CHUNKING, a reply too many to a middle chunk: the last recipient's refusal comes as QUIT's reply; not taken as delivered, queued" {
	local big="$BATS_TEST_TMPDIR/big"
	sized_message "$big" $((CHUNK + 10))
	start_smtpd "$CAPS"$'\non BDAT#1\n  250 2.0.0 chunk ok\n  250 2.0.0 a reply too many\non LMTP#2 550 5.1.1 <carol@example.net>: no such user'
	queue_config "$SMTPD_PORT" "protocol lmtp"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net carol@example.net <"$big"
	assert_stderr_contains "out of step (550 and 221 to QUIT)"
	assert_stderr_contains "queued as"
	assert_equal 1 "$(queue_count)" "queue entries"
	"$MAILPOST" -C "$MAILPOST_CONF" -bp | grep -q carol@example.net ||
		die "carol is not among the queued recipients"
}

@test "--smtp-smuggling-test with CHUNKING offered still ends DATA its own ways" {
	start_smtpd "$CAPS"$'\noption end-of-data crlf' -- --max-connections 20
	run_send 0 --smtp-smuggling-test bob@example.net </dev/null
	assert_received_contains $'\r\nDATA\r\n'
	assert_received_lacks "BDAT"
}
