#!/usr/bin/env bats
# 46-addresses: addresses against the scripted server (tests/lib/smtpd.py).
# Control bytes are refused wherever an address enters.

# status, output, stderr: set by bats' run.
# shellcheck disable=SC2154

load lib/helpers

ESC=$'\e'

setup() {
	mailpost_setup
	MSG="$(make_message)"
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
