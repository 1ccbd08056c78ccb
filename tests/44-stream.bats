#!/usr/bin/env bats
# 44-stream: a large message goes to the server while it is still being
# read from standard input (source.h, stream.h), and no mail is lost for it:
# the server gets body lines before the input has ended (proved by waiting
# for them, never by timing), the message arrives byte for byte, and every
# failure that can now happen while the input is still being read ends as
# it would have with the message read whole first: queued whole after a
# dropped connection, a dead letter after a refusal at the end of data,
# nothing sent as complete nor kept after a read error, a NUL byte and a
# line too long sent again whole (as BINARYMIME, re-encoded).
#
# streamfeed.py (tests/lib) writes the message in two parts and waits
# between them for what the test server records.

load lib/helpers

FEED="$BATS_TEST_DIRNAME/lib/streamfeed.py"
# The test server's default capabilities but SIZE: a piped message has no
# size that could be checked against a limit, so it streams only without.
NOSIZE="caps PIPELINING, 8BITMIME, ENHANCEDSTATUSCODES, DSN"

setup() {
	mailpost_setup
	MSG="$BATS_TEST_TMPDIR/message"
	QDIR="$BATS_TEST_TMPDIR/queue"
	REAL_MAILPOST="$MAILPOST"
}

# fed FEED-OPTION...: from now on run_send runs mailpost under streamfeed.py
# with these options, the whole message also written to $MSG.
fed() {
	local wrapper="$BATS_TEST_TMPDIR/fed-mailpost"
	{
		printf '#!/bin/sh\nexec python3 %q --message %q' "$FEED" "$MSG"
		(($#)) && printf ' %q' "$@"
		printf ' -- %q "$@"\n' "$REAL_MAILPOST"
	} >"$wrapper"
	chmod +x "$wrapper"
	MAILPOST="$wrapper"
}

# The message as it goes on the wire: every LF a CRLF.
canonical() {
	sed 's/$/\r/' "$MSG" >"$BATS_TEST_TMPDIR/canonical"
	echo "$BATS_TEST_TMPDIR/canonical"
}

assert_same_file() {
	cmp -s "$1" "$2" || die "$3: $1 differs from $2 ($(cmp "$1" "$2" 2>&1 | head -1))"
}

queue_config() {
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" \
		"from alice@example.org" "queue_dir $QDIR" "$@" "account default"
}

# Neither the queue nor the dead letter file holds anything.
assert_nothing_kept() {
	local listed
	listed=$("$REAL_MAILPOST" -C "$MAILPOST_CONF" -bp) || die "mailq failed"
	! grep -qE '^[0-9a-f]{16} ' <<<"$listed" || die "something was queued: $listed"
	[[ ! -e "$HOME/dead.letter" ]] || die "a dead letter was written"
}

@test "a large piped message streams: body lines reach the server before the input ends, byte for byte, BODY=8BITMIME without SIZE=" {
	start_smtpd "$NOSIZE"
	fed --wait-for "$SMTPD_DIR/received:MARK-STREAMED"
	run_send 0 bob@example.net
	smtpd_finish
	assert_same_file "$SMTPD_DIR/msg.1" "$(canonical)" "the message received"
	grep -q '^MAIL FROM:<alice@example.org> BODY=8BITMIME$' "$SMTPD_DIR/env.1" ||
		die "MAIL was not sent with BODY=8BITMIME alone: $(head -1 "$SMTPD_DIR/env.1")"
	assert_no_problems
}

@test "with CHUNKING the streaming message goes by BDAT, byte for byte; a read error mid-stream sends no LAST" {
	start_smtpd "caps PIPELINING, 8BITMIME, CHUNKING" -- --max-connections 2
	# Chunks are larger than DATA's blocks (SMTP_CHUNK_SIZE, and one read
	# ahead to know the LAST): the mark goes out once more input came.
	fed --lines 30000 --first 25000 --wait-for "$SMTPD_DIR/received:MARK-STREAMED"
	run_send 0 bob@example.net
	assert_same_file "$SMTPD_DIR/msg.1" "$(canonical)" "the message received"
	grep -q '^MAIL FROM:<alice@example.org> BODY=8BITMIME$' "$SMTPD_DIR/env.1" ||
		die "MAIL was not sent with BODY=8BITMIME alone: $(head -1 "$SMTPD_DIR/env.1")"
	queue_config
	fed --lines 30000 --first 25000 --wait-for "$SMTPD_DIR/conn.2.received:MARK-STREAMED" \
		--then reset --reset-after 26000
	run_mailpost 74 -C "$MAILPOST_CONF" bob@example.net
	smtpd_finish
	assert_no_message 2
	! grep -q 'LAST' "$SMTPD_DIR/conn.2.received" || die "a LAST chunk was sent"
	assert_nothing_kept
}

@test "a server's SIZE limit: a piped large message is read whole first and declared with its exact SIZE=" {
	start_smtpd
	fed
	run_send 0 bob@example.net
	smtpd_finish
	local size
	size=$(stat -c %s "$(canonical)")
	grep -q "^MAIL FROM:<alice@example.org> SIZE=$size\$" "$SMTPD_DIR/env.1" ||
		die "MAIL did not declare SIZE=$size: $(head -1 "$SMTPD_DIR/env.1")"
	assert_same_file "$SMTPD_DIR/msg.1" "$(canonical)" "the message received"
}

@test "a regular file within the server's SIZE limit streams (its size bounds the message), byte for byte" {
	start_smtpd
	python3 "$FEED" --message "$MSG" -- true
	run_send 0 bob@example.net <"$MSG"
	smtpd_finish
	grep -q '^MAIL FROM:<alice@example.org> BODY=8BITMIME$' "$SMTPD_DIR/env.1" ||
		die "the file did not stream: $(head -1 "$SMTPD_DIR/env.1")"
	assert_same_file "$SMTPD_DIR/msg.1" "$(canonical)" "the message received"
}

@test "the connection dropped mid-body while the input is still being read: the whole message is queued, byte for byte" {
	start_smtpd "$NOSIZE
on BODYLINE#14003 close"
	queue_config
	fed --wait-for "$SMTPD_DIR/log:server closes the connection"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net
	assert_stderr_contains "queued as "
	local id
	id=$(sed -nE 's/.*queued as ([0-9a-f]{16}).*/\1/p' <<<"$stderr" | head -1)
	"$REAL_MAILPOST" -C "$MAILPOST_CONF" --queue-show "$id" >"$BATS_TEST_TMPDIR/shown" ||
		die "--queue-show $id failed"
	# --queue-show: the envelope, an empty line, the message exactly.
	sed '1,/^$/d' "$BATS_TEST_TMPDIR/shown" >"$BATS_TEST_TMPDIR/queued"
	assert_same_file "$BATS_TEST_TMPDIR/queued" "$(canonical)" "the queued message"
	smtpd_finish
	[[ -e "$SMTPD_DIR/msg.1.partial" && ! -e "$SMTPD_DIR/msg.1" ]] ||
		die "the server did not get a partial message only"
}

@test "the connection dropped mid-body before a NUL byte was read: queued whole as a body with NUL bytes ('nul: 1'), and flushed as BODY=BINARYMIME, byte for byte" {
	start_smtpd "$NOSIZE
on BODYLINE#14003 close"
	queue_config
	fed --wait-for "$SMTPD_DIR/log:server closes the connection" --line '15200:a\0b'
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net
	assert_stderr_contains "queued as "
	smtpd_finish
	grep -rqx 'nul: 1' "$QDIR" ||
		die "the entry does not say its body has NUL bytes:" "$(find "$QDIR" -type f)"
	start_smtpd "caps PIPELINING, CHUNKING, BINARYMIME, 8BITMIME"
	queue_config
	MAILPOST="$REAL_MAILPOST" run_mailpost 0 -C "$MAILPOST_CONF" -q
	smtpd_finish
	assert_same_file "$SMTPD_DIR/msg.1" "$(canonical)" "the message received"
	grep -q '^1 clear MAIL FROM:<alice@example.org> BODY=BINARYMIME$' "$SMTPD_DIR/commands" ||
		die "not BODY=BINARYMIME:" "$(cat "$SMTPD_DIR/commands")"
	assert_no_problems
}

@test "a refusal at the end of data of a streamed message: a dead letter holding all of it, exit as for any 554" {
	start_smtpd "$NOSIZE
on DOT 554 5.6.0 refused"
	queue_config
	fed --wait-for "$SMTPD_DIR/received:MARK-STREAMED"
	run_mailpost 69 -C "$MAILPOST_CONF" bob@example.net
	assert_stderr_contains "554 5.6.0 refused"
	assert_stderr_contains "saved to $HOME/dead.letter"
	# mbox: the From_ line, the message with LF line ends, an empty line.
	tail -n +2 "$HOME/dead.letter" | head -n -1 >"$BATS_TEST_TMPDIR/dead"
	assert_same_file "$BATS_TEST_TMPDIR/dead" "$MSG" "the dead letter's message"
}

@test "the input fails to read while the message streams: nothing sent as complete, nothing queued, exit 74" {
	start_smtpd "$NOSIZE"
	queue_config
	fed --wait-for "$SMTPD_DIR/received:MARK-STREAMED" --then reset --reset-after 15500
	run_mailpost 74 -C "$MAILPOST_CONF" bob@example.net
	assert_stderr_contains "cannot read the message from standard input"
	assert_stderr_lacks "queued"
	smtpd_finish
	assert_no_message 1
	assert_nothing_kept
}

@test "a NUL byte past the start of a streaming message: cut, sent again whole; without BINARYMIME refused (65) and saved as any refused message" {
	start_smtpd "$NOSIZE" -- --max-connections 2
	queue_config
	fed --wait-for "$SMTPD_DIR/received:MARK-STREAMED" --line '15200:a\0b'
	run_mailpost 65 -C "$MAILPOST_CONF" bob@example.net
	assert_stderr_contains "the message has NUL bytes and 127.0.0.1 offers no BINARYMIME"
	assert_stderr_contains "saved to $HOME/dead.letter"
	smtpd_finish
	assert_no_message 1
	assert_no_message 2
	grep -qa 'a.b' "$HOME/dead.letter" || die "the dead letter lacks the line with the NUL"
}

@test "a NUL byte past the start of a streaming message to a server with BINARYMIME: cut, then sent again whole as BODY=BINARYMIME" {
	start_smtpd "caps PIPELINING, CHUNKING, BINARYMIME, 8BITMIME" -- --max-connections 2
	# The mark in the fourth 256 KiB chunk: the fifth waits for the rest.
	fed --mark 13000 --wait-for "$SMTPD_DIR/received:MARK-STREAMED" --line '15200:a\0b'
	run_send 0 bob@example.net
	smtpd_finish
	[[ -e "$SMTPD_DIR/msg.1.partial" && ! -e "$SMTPD_DIR/msg.1" ]] ||
		die "the first attempt was not cut"
	grep -q '^1 clear MAIL FROM:<alice@example.org> BODY=8BITMIME$' "$SMTPD_DIR/commands" &&
		grep -q '^2 clear MAIL FROM:<alice@example.org> BODY=BINARYMIME$' "$SMTPD_DIR/commands" ||
		die "not 8BITMIME, then BINARYMIME:" "$(cat "$SMTPD_DIR/commands")"
	sed 's/$/\r/' "$MSG" | cmp - "$SMTPD_DIR/msg.2" || die "msg.2 is not the message"
	assert_no_problems
}

@test "a line too long past the start of a streaming message: the message is re-encoded and sent again whole" {
	local long
	long=$(printf 'x%.0s' $(seq 1200))
	start_smtpd "$NOSIZE" -- --max-connections 2
	fed --wait-for "$SMTPD_DIR/received:MARK-STREAMED" --line "15200:$long"
	run_send 0 bob@example.net
	smtpd_finish
	[[ -e "$SMTPD_DIR/msg.1.partial" && ! -e "$SMTPD_DIR/msg.1" ]] ||
		die "the first attempt was not cut"
	# The second transaction, on the second connection.
	grep -q "MARK-STREAMED" "$SMTPD_DIR/msg.2" || die "msg.2 is not the message"
	awk 'length($0) > 999 { exit 1 }' "$SMTPD_DIR/msg.2" ||
		die "msg.2 still has a line over 998 octets"
	grep -qi '^Content-Transfer-Encoding: quoted-printable' "$SMTPD_DIR/msg.2" ||
		die "msg.2 was not re-encoded"
}
