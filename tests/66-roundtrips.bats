#!/usr/bin/env bats
# 66-roundtrips: how often a send makes mailpost wait for the server, and
# how full its TLS records are, asserted as counts (never times) against the
# scripted server: WAITS and TLS WIRE in tests/lib/smtpd.py's header say
# what it counts.
#
# The protocol floor of one message to one recipient with PIPELINING: the
# TCP connect, the greeting, EHLO, MAIL+RCPT+DATA, and the body whose dot
# goes with QUIT: plain 5.  STARTTLS adds its reply, the handshake's server
# flight and EHLO again (the client's Finished and its EHLO are one turn):
# 8.  Implicit TLS adds only the flight: 6.  AUTH PLAIN with its initial
# response adds one turn.  With CHUNKING each is one fewer: no DATA, and
# the LAST chunk goes with QUIT.  One wait more than these is a round trip
# lost on every link (50 ms on a continent, more on a phone).
#
# TLS 1.3 costs 22 octets a record (header 5, content type 1, tag 16):
# 0.13 % of a full record of 16 KiB, 1.4 % of a 1.5 KiB one.  A body in
# full records keeps the wire within 0.2 % of the plaintext.

load lib/helpers

setup() {
	mailpost_setup
	MSG="$(make_message)"
	tls_certs
}

# A server with the test certificate: STARTTLS, or implicit TLS with
# "implicit"; AUTH PLAIN inside TLS for alice.
tls_script() {
	tls_cert_line server
	if [[ "${1:-}" == implicit ]]; then
		printf '%s\n' "option implicit-tls"
	else
		printf '%s\n' "caps PIPELINING, 8BITMIME, STARTTLS"
	fi
	printf '%s\n' "tls-caps PIPELINING, 8BITMIME, AUTH PLAIN" "user alice s3cret"
}

# The account: TLS against the test CA, plus LINEs.
tls_config() {
	write_config "tls on" "tls_trust_file $CERTS/ca.pem" "$@"
}

# The client waited exactly N times, and made no mistake on the way.
assert_waits() {
	assert_equal "$1" "$(smtpd_waits)" "waits for the server (round trips)" ||
		die "server log:" "$(grep -v ' S: 250-' "$SMTPD_DIR/log")" || return 1
	assert_no_problems
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "round trips, plain: 5" {
	start_smtpd
	run_send 0 bob@example.net <"$MSG"
	assert_waits 5
}

@test "round trips, plain without PIPELINING: 8, each command in its own turn" {
	# The counter sees every turn the client takes in lock-step: MAIL,
	# RCPT, DATA and QUIT each wait for their reply (RFC 5321 4.3.1).
	start_smtpd "caps 8BITMIME"
	run_send 0 bob@example.net <"$MSG"
	assert_waits 8
}

@test "round trips, STARTTLS: 8" {
	start_smtpd "$(tls_script)"
	tls_config
	run_send 0 bob@example.net <"$MSG"
	assert_tls_session "TLSv1.3"
	assert_waits 8
}

@test "round trips, STARTTLS over TLS 1.2: 9, its handshake a round trip longer" {
	# TLS 1.2's full handshake has the client wait for the server's
	# Finished too (RFC 5246 7.3): the counter sees that second flight.
	start_smtpd "$(tls_script)"$'\noption tls12'
	tls_config
	run_send 0 bob@example.net <"$MSG"
	assert_tls_session "TLSv1.2"
	assert_waits 9
}

@test "round trips, STARTTLS and AUTH PLAIN: 9" {
	start_smtpd "$(tls_script)"
	tls_config "user alice" "password s3cret" "auth plain"
	run_send 0 bob@example.net <"$MSG"
	assert_auth_record "PLAIN user=alice reply=235"
	assert_waits 9
}

@test "round trips, implicit TLS: 6" {
	start_smtpd "$(tls_script implicit)"
	tls_config "tls_starttls off"
	run_send 0 bob@example.net <"$MSG"
	assert_tls_session "TLSv1.3"
	assert_waits 6
}

@test "round trips, implicit TLS and AUTH PLAIN: 7" {
	start_smtpd "$(tls_script implicit)"
	tls_config "tls_starttls off" "user alice" "password s3cret" "auth plain"
	run_send 0 bob@example.net <"$MSG"
	assert_auth_record "PLAIN user=alice reply=235"
	assert_waits 7
}

# --- CHUNKING (RFC 3030): one wait fewer each ------------------------------------
# MAIL and RCPT go together and are answered; the body follows as
# "BDAT n LAST" with QUIT in its write, no DATA and no 354 to wait for.

# The servers above with CHUNKING offered too (in the clear and in TLS).
chunking() {
	sed 's/PIPELINING, 8BITMIME/PIPELINING, CHUNKING, 8BITMIME/'
}

# assert_waits, and the body went by BDAT.
assert_bdat_waits() {
	assert_waits "$1" || return 1
	grep -q "BDAT ${#MSG_SIMPLE_CRLF} LAST\$" "$SMTPD_DIR/commands" ||
		die "no BDAT LAST:" "$(cat "$SMTPD_DIR/commands")"
}

@test "round trips with CHUNKING, plain: 4" {
	start_smtpd "caps PIPELINING, CHUNKING, 8BITMIME"
	run_send 0 bob@example.net <"$MSG"
	assert_bdat_waits 4
}

@test "round trips with CHUNKING, STARTTLS: 7" {
	start_smtpd "$(tls_script | chunking)"
	tls_config
	run_send 0 bob@example.net <"$MSG"
	assert_tls_session "TLSv1.3"
	assert_bdat_waits 7
}

@test "round trips with CHUNKING, STARTTLS and AUTH PLAIN: 8" {
	start_smtpd "$(tls_script | chunking)"
	tls_config "user alice" "password s3cret" "auth plain"
	run_send 0 bob@example.net <"$MSG"
	assert_auth_record "PLAIN user=alice reply=235"
	assert_bdat_waits 8
}

@test "round trips with CHUNKING, implicit TLS: 5" {
	start_smtpd "$(tls_script implicit | chunking)"
	tls_config "tls_starttls off"
	run_send 0 bob@example.net <"$MSG"
	assert_tls_session "TLSv1.3"
	assert_bdat_waits 5
}

@test "round trips with CHUNKING, implicit TLS and AUTH PLAIN: 6" {
	start_smtpd "$(tls_script implicit | chunking)"
	tls_config "tls_starttls off" "user alice" "password s3cret" "auth plain"
	run_send 0 bob@example.net <"$MSG"
	assert_auth_record "PLAIN user=alice reply=235"
	assert_bdat_waits 6
}

@test "round trips with CHUNKING but --no-chunking: the DATA path's 5" {
	start_smtpd "caps PIPELINING, CHUNKING, 8BITMIME"
	run_send 0 --no-chunking bob@example.net <"$MSG"
	assert_waits 5
}

# A message of about 1 MiB (base64 lines of 76).
big_message() {
	{
		printf 'From: a@example.org\nTo: b@example.net\nSubject: big\n'
		printf 'Date: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <2@example.org>\n\n'
		head -c 786432 /dev/zero | base64 -w 76
	} >"$BATS_TEST_TMPDIR/big"
}

# The records mailpost sent after the handshake carry the body in full
# records: wire octets over plaintext octets within 0.2 %, and at most
# three records under 16 KiB of plaintext (the commands before the body,
# the body's last, and EHLO when it did not share a read with the client's
# Finished).
assert_full_records() {
	local counts records wire plain short
	counts="$(smtpd_tls_wire)" || return 1
	read -r records wire plain <<<"$counts"
	((plain > 1048576)) ||
		die "only $plain octets of plaintext counted after the handshake" || return 1
	((500 * (wire - plain) <= plain)) ||
		die "TLS overhead $((wire - plain)) octets for $plain of plaintext: over 0.2 %" \
			"records (type wire plaintext):" "$(sort "$SMTPD_DIR/tlsrec.1" | uniq -c)" ||
		return 1
	short="$(awk '$3 < 16384' "$SMTPD_DIR/tlsrec.1" | wc -l)"
	((short <= 3)) ||
		die "$short of $records records carry less than 16 KiB (type wire plaintext):" \
			"$(sort "$SMTPD_DIR/tlsrec.1" | uniq -c)" || return 1
	cmp -s "$BATS_TEST_TMPDIR/big.crlf" "$SMTPD_DIR/msg.1" ||
		die "the message arrived changed"
}

@test "TLS records full-size: 1 MiB over STARTTLS and implicit TLS, overhead <= 0.2 %" {
	big_message
	sed 's/$/\r/' "$BATS_TEST_TMPDIR/big" >"$BATS_TEST_TMPDIR/big.crlf"
	start_smtpd "$(tls_script)"
	tls_config
	run_send 0 bob@example.net <"$BATS_TEST_TMPDIR/big"
	assert_full_records
	assert_no_problems

	start_smtpd "$(tls_script implicit)"
	tls_config "tls_starttls off"
	run_send 0 bob@example.net <"$BATS_TEST_TMPDIR/big"
	assert_full_records
	assert_no_problems
}
