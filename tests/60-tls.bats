#!/usr/bin/env bats
# 60-tls: TLS against the scripted server (tests/lib/smtpd.py) with the test
# PKI of tests/lib/mkcerts.sh: STARTTLS and its refusals, response
# injection, capabilities forgotten after the handshake, implicit TLS,
# every verification failure (no AUTH or MAIL on the wire), fingerprint
# pins, tls_certcheck off, client certificates, host names and IP
# literals, and the default port of each mode.

load lib/helpers

setup() {
	mailpost_setup
	MSG="$(make_message)"
	tls_certs
}

# Script lines for a server with certificate NAME (default: server) that
# offers STARTTLS, and AUTH PLAIN inside TLS (so a client that wrongly went
# on after a failed verification would show it).
starttls_script() {
	tls_cert_line "${1:-server}"
	printf '%s\n' "caps PIPELINING, 8BITMIME, STARTTLS" \
		"tls-caps PIPELINING, 8BITMIME, AUTH PLAIN" "user alice s3cret"
}

implicit_script() {
	tls_cert_line "${1:-server}"
	printf '%s\n' "option implicit-tls" "caps PIPELINING, 8BITMIME, AUTH PLAIN" \
		"user alice s3cret"
}

# The account: TLS verified against the test CA, plus LINEs.
tls_config() {
	write_config "tls on" "tls_trust_file $CERTS/ca.pem" "$@"
}

# The clear part of a STARTTLS session, exactly.
CLEAR_PART=$'EHLO client.test\r\nSTARTTLS\r\n'

# The exact bytes of a pipelined session inside TLS.
tls_session() {
	printf 'EHLO client.test\r\nMAIL FROM:<alice@example.org>%s\r\n' "$1"
	printf 'RCPT TO:<bob@example.net>\r\nDATA\r\n%s.\r\nQUIT\r\n' "$MSG_SIMPLE_CRLF"
}

# received.tls is exactly "${1%x}" (the x keeps $(...)'s trailing newline).
assert_tls_part() {
	smtpd_finish || return 1
	assert_file_bytes "$SMTPD_DIR/received.tls" "${1%x}" "what arrived inside TLS"
}

# $stderr, colons removed and upper case, holds the hex of FILE.sha256.
assert_fingerprint_shown() {
	local want flat
	want="$(tr -d ':\n' <"$CERTS/$1.sha256")"
	flat="$(printf '%s' "$stderr" | tr -d ':' | tr 'a-f' 'A-F')"
	[[ "$flat" == *"$want"* ]] ||
		die "the transcript does not show the SHA-256 fingerprint $want:" "$stderr"
}

assert_stderr_matches() {
	[[ "$stderr" =~ $1 ]] || die "stderr does not match /$1/; stderr was:" "$stderr"
}

# Nothing of the mail or the credentials reached the server.
assert_nothing_sent() {
	assert_no_command AUTH MAIL RCPT DATA
	assert_received_lacks "alice@example.org"
	assert_received_lacks "Hello Bob"
}

# --- STARTTLS ----------------------------------------------------------------------

@test "STARTTLS: success; the transcript shows the session; MAIL and the message only inside TLS" {
	start_smtpd "$(starttls_script)"
	tls_config
	run_send 0 -v bob@example.net <"$MSG"
	assert_file_bytes "$SMTPD_DIR/received.clear" "$CLEAR_PART" "the clear part"
	assert_over_tls MAIL RCPT DATA QUIT
	assert_tls_part "$(tls_session ""; printf x)"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_no_problems
	# version, cipher suite, subject, issuer, fingerprint, verdict
	assert_stderr_matches 'TLS ?1\.[23]'
	assert_stderr_matches '(AES|CHACHA20)'
	assert_stderr_contains "CN=localhost"
	assert_stderr_contains "mailpost test CA"
	assert_fingerprint_shown server
	assert_stderr_contains "trusted"
}

@test "STARTTLS not offered: 76, nothing after EHLO but QUIT" {
	start_smtpd $'caps PIPELINING, 8BITMIME\n'"$(tls_cert_line server)"
	tls_config
	run_send 76 bob@example.net <"$MSG"
	assert_stderr_contains "STARTTLS"
	assert_no_command STARTTLS
	assert_nothing_sent
	assert_line_contains "mailpost: "
}

@test "STARTTLS answered 454 -> 75, 502 -> 76, 354 -> 76; no handshake, nothing sent in clear" {
	local cases=("454 4.7.0 TLS not available now|75" "502 5.5.1 no TLS here|76"
		"354 go ahead|76") c reply code
	for c in "${cases[@]}"; do
		reply="${c%|*}" code="${c##*|}"
		start_smtpd "$(starttls_script)"$'\n'"on STARTTLS $reply"
		tls_config
		run_send "$code" bob@example.net <"$MSG" || die "(STARTTLS reply: $reply)" || return 1
		assert_stderr_contains "${reply:0:3}" || return 1
		assert_nothing_sent || die "(STARTTLS reply: $reply)" || return 1
		assert_file_bytes "$SMTPD_DIR/tls" "" "handshake records" || return 1
	done
}

@test "response injection: 220 plus replies in the same write -> 76, no handshake data, nothing after STARTTLS in clear" {
	start_smtpd - <<-EOF
	$(starttls_script)
	on STARTTLS
	  reply 220 2.0.0 Ready to start TLS
	  raw 250-injected\r\n250 8BITMIME\r\n
	EOF
	tls_config
	run_send 76 bob@example.net <"$MSG"
	assert_line_contains "mailpost: "
	assert_nothing_sent
	# in clear, not a byte after STARTTLS (not even QUIT: the stream is suspect)
	assert_file_bytes "$SMTPD_DIR/received.clear" "$CLEAR_PART" "what arrived in clear"
	assert_file_bytes "$SMTPD_DIR/received.tls" "" "what arrived inside TLS"
}

@test "capabilities learnt before TLS are forgotten: no PIPELINING, no SIZE inside TLS" {
	# Before TLS: PIPELINING and SIZE 10 (smaller than the message: used, it
	# would stop the client with 69).  Inside TLS: nothing at all.
	start_smtpd - <<-EOF
	$(tls_cert_line server)
	caps PIPELINING, SIZE 10, 8BITMIME, STARTTLS
	tls-caps
	EOF
	tls_config
	run_send 0 bob@example.net <"$MSG"
	assert_tls_part "$(tls_session ""; printf x)"
	# the server flags pipelining without PIPELINING and SIZE= unoffered
	assert_no_problems
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "after the handshake: EHLO again, and never a second STARTTLS even when offered again" {
	start_smtpd - <<-EOF
	$(tls_cert_line server)
	caps PIPELINING, STARTTLS
	tls-caps STARTTLS, PIPELINING
	EOF
	tls_config
	run_send 0 bob@example.net <"$MSG"
	assert_equal 1 "$(grep -c ' STARTTLS$' "$SMTPD_DIR/commands")" "STARTTLS commands"
	assert_file_bytes "$SMTPD_DIR/received.clear" "$CLEAR_PART" "the clear part"
	assert_tls_part "$(tls_session ""; printf x)"
	# "STARTTLS inside TLS" and "MAIL before a new EHLO" would be flagged
	assert_no_problems
}

# --- implicit TLS ------------------------------------------------------------------

@test "implicit TLS: success, nothing in clear" {
	start_smtpd "$(implicit_script)"
	tls_config "tls_starttls off"
	run_send 0 -v bob@example.net <"$MSG"
	assert_file_bytes "$SMTPD_DIR/received.clear" "" "the clear part"
	assert_over_tls EHLO MAIL RCPT DATA QUIT
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_no_problems
	assert_stderr_matches 'TLS ?1\.[23]'
	assert_fingerprint_shown server
}

@test "implicit TLS against a plaintext server: 76, no fallback, no SMTP command sent" {
	start_smtpd
	tls_config "tls_starttls off"
	run_send 76 bob@example.net <"$MSG"
	assert_line_contains "mailpost: "
	assert_no_command EHLO HELO
	assert_nothing_sent
}

# --- verification ------------------------------------------------------------------

# Each: certificate | extra config line | words the refusal must name.
VERIFY_CASES=(
	"selfsigned||self-signed"
	"unknownca||issuer"
	"wronghost||host name"
	"expired||expired"
	"notyet||not yet valid"
	"revoked|tls_crl_file CRL|revoked"
)

@test "STARTTLS: every verification failure is 76, named, and nothing follows the handshake" {
	local c name extra words
	for c in "${VERIFY_CASES[@]}"; do
		IFS='|' read -r name extra words <<<"$c"
		start_smtpd "$(starttls_script "$name")"
		tls_config "auth plain" "user alice" "password s3cret" "${extra/CRL/$CERTS/crl.pem}"
		run_send 76 bob@example.net <"$MSG" || die "(certificate $name)" || return 1
		assert_stderr_contains "$words" || die "(certificate $name)" || return 1
		assert_nothing_sent || die "(certificate $name)" || return 1
		assert_file_bytes "$SMTPD_DIR/received.tls" "" "inside TLS ($name)" || return 1
		assert_tls_session "handshake failed" || die "(certificate $name)" || return 1
	done
}

@test "implicit TLS: every verification failure is 76, named, and nothing is sent" {
	local c name extra words
	for c in "${VERIFY_CASES[@]}"; do
		IFS='|' read -r name extra words <<<"$c"
		start_smtpd "$(implicit_script "$name")"
		tls_config "tls_starttls off" "auth plain" "user alice" "password s3cret" \
			"${extra/CRL/$CERTS/crl.pem}"
		run_send 76 bob@example.net <"$MSG" || die "(certificate $name)" || return 1
		assert_stderr_contains "$words" || die "(certificate $name)" || return 1
		assert_no_command EHLO || die "(certificate $name)" || return 1
		assert_nothing_sent || die "(certificate $name)" || return 1
	done
}

# What a refusal says to do, per certificate: certificate | extra config
# line | the remedy named.  Every one but the revoked certificate ends
# with the exact line that would pin it and what a pin gives up.
ADVICE_CASES=(
	"unknownca||its issuer (CN=mailpost other CA) is not in tls_trust_file @CA@: add that CA's certificate (PEM) to it; "
	"wronghost||it is for DNS:wrong.example: connect by one of those names, or add 'tls_host_override NAME' if it is the same server; "
	"expired||the server's administrator must renew it; "
	"notyet||check this machine's clock; "
	"selfsigned||self-signed certificate; only after checking by other means"
	"server|tls_trust_file system|its issuer (CN=mailpost test CA) is not in the system trust store: if it is your own CA, add the line 'tls_trust_file /path/to/that-ca.pem'; "
)

@test "a refused certificate: the reason, the remedy, the exact pin line and what a pin gives up; the line works" {
	local c name extra words pin line=
	for c in "${ADVICE_CASES[@]}"; do
		IFS='|' read -r name extra words <<<"$c"
		start_smtpd "$(starttls_script "$name")"
		tls_config ${extra:+"$extra"}
		run_send 76 bob@example.net <"$MSG" || die "(certificate $name)" || return 1
		pin="$(<"$CERTS/$name.sha256")"
		assert_stderr_contains "${words/@CA@/$CERTS/ca.pem}" || die "(certificate $name)" || return 1
		assert_stderr_contains "pin it with the line 'tls_fingerprint $pin' in account default (a pin replaces verification: the issuer, the name and the dates are no longer checked, and the pin must change when the certificate does)" ||
			die "(certificate $name)" || return 1
		assert_stderr_line_count 1 || return 1
		[[ $name == selfsigned ]] && line="$(sed -n "s/.*pin it with the line '\([^']*\)'.*/\1/p" <<<"$stderr")"
	done
	# the line as given makes the self-signed certificate trusted
	start_smtpd "$(starttls_script selfsigned)"
	tls_config "$line"
	run_send 0 bob@example.net <"$MSG"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "a refused certificate: a revoked one is never offered for pinning; a pin mismatch offers the new pin" {
	start_smtpd "$(starttls_script revoked)"
	tls_config "tls_crl_file $CERTS/crl.pem"
	run_send 76 bob@example.net <"$MSG"
	assert_stderr_contains "certificate revoked; its issuer revoked it: the server's administrator must replace it (SHA-256 fingerprint $(<"$CERTS/revoked.sha256"))"
	assert_stderr_lacks "tls_fingerprint"

	start_smtpd "$(starttls_script)"
	tls_config "tls_fingerprint $(<"$CERTS/selfsigned.sha256")"
	run_send 76 bob@example.net <"$MSG"
	assert_stderr_contains "fingerprint does not match: got $(<"$CERTS/server.sha256") (SHA-256); if the server's certificate was replaced on purpose (ask its administrator), pin the new one with the line 'tls_fingerprint $(<"$CERTS/server.sha256")' in account default"
}

@test "a trust file that is missing: 78, named, and what to give instead; nothing sent" {
	start_smtpd "$(starttls_script)"
	write_config "tls on" "tls_trust_file $BATS_TEST_TMPDIR/no-such-ca.pem"
	run_send 78 bob@example.net <"$MSG"
	assert_stderr_contains "cannot read tls_trust_file $BATS_TEST_TMPDIR/no-such-ca.pem: No such file or directory; name the PEM file of the CA that signs the server's certificate, or 'tls_trust_file system'"
	assert_nothing_sent
}

@test "a CRL, certificate or key file GnuTLS would read whole is refused past CASTORE_FILE_MAX (16 MiB) or when not a regular file: 78, nothing sent" {
	# Sparse: 16 MiB and one byte, no disk.
	truncate -s $((16 * 1024 * 1024 + 1)) "$BATS_TEST_TMPDIR/big.pem"
	mkfifo "$BATS_TEST_TMPDIR/fifo.key"
	start_smtpd "$(starttls_script)"
	tls_config "tls_crl_file $BATS_TEST_TMPDIR/big.pem"
	run_send 78 bob@example.net <"$MSG"
	assert_stderr_contains "cannot read tls_crl_file $BATS_TEST_TMPDIR/big.pem: it is larger than 16 MiB"
	assert_nothing_sent
	start_smtpd "$(starttls_script)"
	tls_config "tls_cert_file $CERTS/client.pem" "tls_key_file $BATS_TEST_TMPDIR/fifo.key"
	run_send 78 bob@example.net <"$MSG"
	assert_stderr_contains "cannot read tls_key_file $BATS_TEST_TMPDIR/fifo.key: it is not a regular file"
	assert_nothing_sent
}

@test "the revoked certificate is accepted without the CRL (the CRL is what refuses it)" {
	start_smtpd "$(starttls_script revoked)"
	tls_config
	run_send 0 bob@example.net <"$MSG"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

# --- pins, certcheck off ---------------------------------------------------------------

@test "fingerprint pin: a match is accepted even for a self-signed certificate" {
	start_smtpd "$(starttls_script selfsigned)"
	tls_config "tls_fingerprint $(<"$CERTS/selfsigned.sha256")"
	run_send 0 -v bob@example.net <"$MSG"
	assert_over_tls MAIL
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_stderr_contains "fingerprint"
}

@test "fingerprint pin: a mismatch is refused (76), even for a certificate the CA vouches for" {
	local c cert pin
	for c in "selfsigned:server" "server:selfsigned"; do
		cert="${c%:*}" pin="${c#*:}"
		start_smtpd "$(starttls_script "$cert")"
		tls_config "tls_fingerprint $(<"$CERTS/$pin.sha256")"
		run_send 76 bob@example.net <"$MSG" || die "(certificate $cert, pin of $pin)" || return 1
		assert_stderr_contains "fingerprint" || return 1
		assert_nothing_sent || return 1
	done
}

@test "tls_certcheck off: a self-signed certificate is accepted, with a warning on stderr" {
	start_smtpd "$(starttls_script selfsigned)"
	tls_config "tls_certcheck off"
	run_send 0 bob@example.net <"$MSG"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_stderr_contains "warning"
	assert_stderr_contains "tls_certcheck off"
}

# --- client certificate ---------------------------------------------------------------

@test "client certificate: presented when configured and the server requires one" {
	start_smtpd "$(starttls_script)"$'\n'"tls-client-ca $CERTS/ca.pem"
	tls_config "tls_cert_file $CERTS/client.pem" "tls_key_file $CERTS/client.key"
	run_send 0 bob@example.net <"$MSG"
	assert_tls_session "client-cert=mailpost test client"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "client certificate: none configured, the server requires one: 76, nothing sent (TLS 1.2 and 1.3)" {
	# TLS 1.2: the server refuses inside the handshake.  TLS 1.3: the
	# client's handshake is over when the server's alert comes (RFC 8446
	# 4.4.2.4), so the refusal arrives at the first read; still a TLS
	# failure, and permanent: retrying cannot help.
	local version
	for version in "option tls12" ""; do
		start_smtpd "$(starttls_script)"$'\n'"tls-client-ca $CERTS/ca.pem"$'\n'"$version"
		tls_config
		run_send 76 bob@example.net <"$MSG" || die "(${version:-TLS 1.3})" || return 1
		assert_nothing_sent || return 1
		assert_tls_session "handshake failed" || return 1
	done
}

# --- names ----------------------------------------------------------------------------

@test "host names: IPv4 literal against the SAN IP, localhost against the SAN name, tls_host_override" {
	# 127.0.0.1 (run_send's host) matches IP:127.0.0.1 of server.pem: the
	# first test.  wronghost.pem has no IP entry: refused at 127.0.0.1 ...
	start_smtpd "$(starttls_script wronghost)"
	tls_config
	run_send 76 bob@example.net <"$MSG"
	assert_stderr_contains "host name"
	assert_nothing_sent
	# ... and accepted when told which name to expect.
	start_smtpd "$(starttls_script wronghost)"
	tls_config "tls_host_override wrong.example"
	run_send 0 bob@example.net <"$MSG"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	# "localhost" against DNS:localhost
	start_smtpd "$(starttls_script)"
	tls_config
	SEND_HOST=localhost run_send 0 bob@example.net <"$MSG"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

# --- default ports ----------------------------------------------------------------------

@test "default port follows the mode: 587 STARTTLS, 465 implicit TLS, 25 plain" {
	local c port lines_
	for c in "587|tls on" "465|tls on|tls_starttls off" "25|tls off"; do
		port="${c%%|*}"
		if "$SMTPD_PYTHON" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
			"$port" 2>/dev/null; then
			skip "something listens on 127.0.0.1 port $port"
		fi
		IFS='|' read -r -a lines_ <<<"${c#*|}"
		write_config "${lines_[@]}" "tls_trust_file $CERTS/ca.pem"
		run_mailpost 75 -C "$MAILPOST_CONF" --host 127.0.0.1 --domain client.test \
			-f alice@example.org bob@example.net <"$MSG" || die "(port $port)" || return 1
		assert_stderr_contains "port $port" || die "(${c#*|})" || return 1
	done
}
