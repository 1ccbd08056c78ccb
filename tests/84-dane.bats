#!/usr/bin/env bats
# 84-dane: DANE (RFC 7672) on direct delivery's MX hops: DNSSEC-validated
# TLSA records decide, through libgnutls-dane (loaded then, and only
# then).  DANE-EE(3) matching the server's key: delivered, the verdict
# said; not matching: temporary (the next MX, else the queue) and
# nothing sent, in clear or otherwise; DANE-TA(2) of the test CA with the
# server's name and with another; TLSA records that fail validation: the
# host not used; an unsigned zone: opportunistic as without DANE;
# records none of which is usable: TLS required, any certificate; a DANE
# MX that offers no STARTTLS or refuses it: temporary, never plain text.
#
# The names come from tests/lib/dnsd.bash's knotd (zones under "test.",
# signed at test time); the TLSA data is computed by OpenSSL's command
# line from tests/lib/mkcerts.sh's certificates.  The MX hosts are
# scripted servers (tests/lib/smtpd.py) on 127.0.0.2 ... sharing the port
# MX_FILE_PORT, chosen once for the file since the TLSA records' names carry
# it (_PORT._tcp.HOST).

load lib/helpers
load lib/dnsd
load lib/mxhosts

# spki_sha256 FILE / cert_sha256 FILE: TLSA data of selector 1 (the
# public key) or 0 (the certificate), matching type 1 (SHA-256), in hex.
spki_sha256() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
		openssl dgst -sha256 -r | cut -d' ' -f1
}
cert_sha256() {
	openssl x509 -in "$1" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1
}

setup_file() {
	tls_certs
	MX_FILE_PORT="$(unused_port)"
	local key other ca p="_$MX_FILE_PORT._tcp"
	key="$(spki_sha256 "$CERTS/names.pem")"
	other="$(spki_sha256 "$CERTS/client.pem")"
	ca="$(cert_sha256 "$CERTS/ca.pem")"
	[[ ${#key} -eq 64 && ${#other} -eq 64 && ${#ca} -eq 64 ]] ||
		die "cannot compute the TLSA data with openssl" || return 1
	# The servers of DANE-TA(2): their certificate, then the CA's.
	cat "$CERTS/names.pem" "$CERTS/ca.pem" >"$CERTS/names-chain.pem"
	cat "$CERTS/wronghost.pem" "$CERTS/ca.pem" >"$CERTS/wronghost-chain.pem"
	# The MX hosts, all in example.test (names.pem is for *.example.test).
	dnsd_zone example.test <<-EOF
	mx-ee A 127.0.0.2
	$p.mx-ee TLSA 3 1 1 $key
	mx-bad A 127.0.0.3
	$p.mx-bad TLSA 3 1 1 $other
	mx-ta A 127.0.0.4
	$p.mx-ta TLSA 2 0 1 $ca
	mx-pkix A 127.0.0.5
	$p.mx-pkix TLSA 1 1 1 $key
	mx-bogus A 127.0.0.6
	$p.mx-bogus CNAME $p.mx.bogus.test.
	EOF
	# Signatures that do not validate: mx-bogus's records lead here.
	dnsd_zone bogus.test --bogus <<-EOF
	$p.mx TLSA 3 1 1 $key
	EOF
	local d
	for d in ee bad ta pkix bogus; do
		dnsd_zone "$d-mx.test" <<<"@ MX 10 mx-$d.example.test."
	done
	dnsd_zone failover.test <<-EOF
	@ MX 10 mx-bad.example.test.
	@ MX 20 mx-ee.example.test.
	EOF
	# Unsigned: its TLSA record (of another key) proves nothing.
	dnsd_zone plain.test --unsigned <<-EOF
	@ MX 10 mx
	mx A 127.0.0.7
	$p.mx TLSA 3 1 1 $other
	EOF
	dnsd_start
	export CERTS MX_FILE_PORT DNSD_PORT DNSD_ANCHOR DNSD_CONFIG
}

teardown_file() {
	dnsd_stop
}

setup() {
	mailpost_setup
	MSG="$(make_message)"
	QDIR="$BATS_TEST_TMPDIR/queue"
	mxhosts_setup
}

teardown() {
	mxhosts_teardown
	mailpost_teardown
}

# tls_mx ADDR CERT [SCRIPT-LINES]: an MX host on ADDR offering STARTTLS
# with $CERTS/CERT and server.key.
tls_mx() {
	local addr="$1" cert="$2"
	shift 2
	start_mx "$addr" "tls-cert $CERTS/$cert $CERTS/server.key
caps PIPELINING, 8BITMIME, STARTTLS
$*"
}

# assert_queued: the message waits in the queue, one entry.
assert_queued() {
	assert_stderr_contains "queued as"
	[[ "$(ls "$QDIR" | grep -cv '^tmp$')" -ge 1 ]] ||
		die "nothing in the queue: $(ls -A "$QDIR" 2>&1)"
}

# assert_nothing_sent: the server got no transaction, in clear or
# inside TLS, on any connection.
assert_nothing_sent() {
	assert_no_command MAIL RCPT DATA
}

# --- DANE-EE(3) ---------------------------------------------------------------

@test "dane: TLSA 3 1 1 of the server's key: delivered inside TLS, the verdict said, libgnutls-dane loaded" {
	tls_mx 127.0.0.2 names.pem
	mx_config
	LD_DEBUG=files LD_DEBUG_OUTPUT="$BATS_TEST_TMPDIR/ld" \
		send_to 0 -v bob@ee-mx.test
	assert_stderr_contains "TLSA record at _$MX_PORT._tcp.mx-ee.example.test (DNSSEC-validated), 1 usable"
	assert_stderr_contains "certificate verification: trusted by DANE: record 3 1 1 (DANE-EE) matched the server's certificate"
	grep -qs 'file=libgnutls-dane\.so\.' "$BATS_TEST_TMPDIR"/ld.* ||
		die "libgnutls-dane was not loaded"
	use_mx 127.0.0.2
	assert_over_tls MAIL RCPT
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "dane: --json says the verdict was DANE's" {
	tls_mx 127.0.0.2 names.pem
	mx_config
	send_to 0 --json bob@ee-mx.test
	printf '%s\n' "$output" | python3 "$BATS_TEST_DIRNAME/lib/jsoncheck.py" --count 1 ||
		die "stdout is not one object of the schema:" "$output" || return 1
	local got
	got="$(jq -r '[.tls.dane, .tls.verified, (.tls.verification | test("^trusted by DANE"))] | @tsv' <<<"$output")"
	[[ "$got" == $'true\ttrue\ttrue' ]] ||
		die "tls.dane, verified, verification: $got" "$output"
}

@test "dane: TLSA 3 1 1 of another key: temporary, queued, nothing sent in clear or in TLS" {
	tls_mx 127.0.0.3 names.pem
	mx_config
	send_to 0 -v bob@bad-mx.test
	assert_stderr_contains "record 3 1 1 (DANE-EE) does not match the server's certificate"
	assert_queued
	assert_stderr_lacks "in the clear"
	use_mx 127.0.0.3
	assert_nothing_sent
	[[ "$(grep -c '^connection' "$SMTPD_DIR/log" || true)" -le 1 ]] ||
		die "the MX was connected to again:" "$(cat "$SMTPD_DIR/log")"
}

@test "dane: a mismatch on the first MX goes on to the next, which matches" {
	tls_mx 127.0.0.3 names.pem
	tls_mx 127.0.0.2 names.pem
	mx_config
	send_to 0 -v bob@failover.test
	assert_stderr_contains "does not match the server's certificate"
	use_mx 127.0.0.2
	assert_over_tls MAIL
	assert_message 1 "$MSG_SIMPLE_CRLF"
	use_mx 127.0.0.3
	assert_nothing_sent
}

@test "dane: a DANE MX without STARTTLS: temporary, queued, nothing sent in plain text" {
	start_mx 127.0.0.2 'caps PIPELINING, 8BITMIME'
	mx_config
	send_to 0 -v bob@ee-mx.test
	assert_stderr_contains "DANE host mx-ee.example.test: the server does not offer STARTTLS"
	assert_queued
	use_mx 127.0.0.2
	assert_nothing_sent
}

@test "dane: a DANE MX refusing STARTTLS: temporary, never tried in plain text" {
	start_mx 127.0.0.2 'caps PIPELINING, 8BITMIME, STARTTLS
on STARTTLS 454 4.7.0 TLS not available now'
	mx_config
	send_to 0 -v bob@ee-mx.test
	assert_stderr_contains "STARTTLS failed temporarily"
	assert_stderr_lacks "in the clear"
	assert_queued
	use_mx 127.0.0.2
	assert_nothing_sent
}

# --- DANE-TA(2) ---------------------------------------------------------------

@test "dane: TLSA 2 0 1 of the test CA, the server's name in its certificate: delivered" {
	tls_mx 127.0.0.4 names-chain.pem
	mx_config
	send_to 0 -v bob@ta-mx.test
	assert_stderr_contains "trusted by DANE: record 2 0 1 (DANE-TA) matched certificate 2 of the chain"
	use_mx 127.0.0.4
	assert_over_tls MAIL
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "dane: TLSA 2 0 1 of the test CA, another name in the certificate: temporary, nothing sent" {
	tls_mx 127.0.0.4 wronghost-chain.pem
	mx_config
	send_to 0 -v bob@ta-mx.test
	assert_stderr_contains "the certificate it vouches for is not for mx-ta.example.test"
	assert_queued
	use_mx 127.0.0.4
	assert_nothing_sent
}

# --- what the DNS says --------------------------------------------------------

@test "dane: TLSA records that fail DNSSEC validation: the host is not used, queued" {
	tls_mx 127.0.0.6 names.pem
	mx_config
	send_to 0 -v bob@bogus-mx.test
	assert_stderr_contains "do not validate"
	assert_queued
	use_mx 127.0.0.6
	assert_received_lacks "EHLO"
}

@test "dane: an unsigned zone's TLSA record is ignored: opportunistic TLS, delivered" {
	tls_mx 127.0.0.7 names.pem
	mx_config
	send_to 0 -v bob@plain.test
	assert_stderr_contains "not DNSSEC-signed: no DANE"
	assert_stderr_contains "opportunistic"
	use_mx 127.0.0.7
	assert_over_tls MAIL
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "dane: TLSA records none of which is usable (PKIX-EE): TLS required, any certificate" {
	tls_mx 127.0.0.5 wronghost.pem
	mx_config
	send_to 0 -v bob@pkix-mx.test
	assert_stderr_contains "none usable for SMTP: TLS required, not authenticated"
	assert_stderr_contains "NOT AUTHENTICATED"
	use_mx 127.0.0.5
	assert_over_tls MAIL
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "dane: TLSA records none of which is usable, an MX without STARTTLS: temporary, nothing sent" {
	start_mx 127.0.0.5 'caps PIPELINING, 8BITMIME'
	mx_config
	send_to 0 -v bob@pkix-mx.test
	assert_stderr_contains "DANE host mx-pkix.example.test: the server does not offer STARTTLS"
	assert_queued
	use_mx 127.0.0.5
	assert_nothing_sent
}
