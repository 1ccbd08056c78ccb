#!/usr/bin/env bats
# 62-serverinfo: --serverinfo (msmtp's -S) and --tls-get-peer-cert against
# the scripted server (tests/lib/smtpd.py) with the test PKI of
# tests/lib/mkcerts.sh: the report (capabilities explained, AUTH before and
# after TLS, the TLS session, the chain with fingerprints computed here by
# openssl, the verdict, the times), every refused certificate (reported,
# exit 76, nothing after the handshake), a greeting of 554, a server that
# closes after its greeting, STARTTLS tried when offered, and the chain as
# PEM read back by certtool.  Never AUTH, never MAIL.

load lib/helpers

setup() {
	mailpost_setup
	tls_certs
	# TLS verified against the test CA: STARTTLS, or implicit.
	STARTTLS=(--tls --tls-starttls --tls-trust-file "$CERTS/ca.pem")
	IMPLICIT=(--tls --tls-starttls=off --tls-trust-file "$CERTS/ca.pem")
}

# The server: certificate NAME (default server), STARTTLS offered, and
# AUTH PLAIN LOGIN in the clear and inside TLS (so a probe that
# authenticated would show it).
starttls_script() {
	tls_cert_line "${1:-server}"
	printf '%s\n' \
		"caps PIPELINING, SIZE 35882577, 8BITMIME, STARTTLS, AUTH PLAIN LOGIN, XFROBNICATE 3, ENHANCEDSTATUSCODES" \
		"tls-caps PIPELINING, SIZE 35882577, 8BITMIME, AUTH PLAIN LOGIN SCRAM-SHA-256, CHUNKING, SMTPUTF8, DSN, REQUIRETLS, VRFY" \
		"user alice s3cret"
}

# probe EXIT ARGS...: --serverinfo against the test server as localhost.
probe() {
	local code=$1
	shift
	run_mailpost "$code" -C /dev/null --host localhost --port "$SMTPD_PORT" \
		--domain client.test "$@"
}

# The SHA-256 fingerprint of $CERTS/NAME.pem as openssl computes it.
openssl_fingerprint() {
	openssl x509 -in "$CERTS/$1.pem" -noout -fingerprint -sha256 | sed 's/^.*=//'
}

# The commands the server received, "clear VERB" / "tls VERB" per line.
commands() {
	smtpd_finish || return 1
	awk '{ print $2 " " $3 }' "$SMTPD_DIR/commands" | paste -sd, -
}

assert_commands() {
	local got
	got=$(commands) || return 1
	assert_equal "$1" "$got" "the commands the server received"
}

# Column two onwards of the report's line that starts with KEY.
assert_report_line() {
	grep -qF -- "$1" <<<"$output" ||
		die "the report lacks '$1':" "$output"
}

@test "serverinfo STARTTLS: capabilities in words, AUTH before and after TLS, the session, the chain, the times" {
	start_smtpd "$(starttls_script)"
	probe 0 --serverinfo "${STARTTLS[@]}"
	assert_report_line "Server:      localhost port $SMTPD_PORT"
	assert_report_line "Connected:   127.0.0.1 port $SMTPD_PORT"
	assert_report_line "Greeting:    220 smtpd.test"
	# Each capability explained; SIZE in human units; the unknown one named.
	assert_report_line "messages up to 34.2 MiB (RFC 1870)"
	assert_report_line "commands may be sent in groups"
	assert_report_line "XFROBNICATE 3"
	assert_report_line "not known to mailpost"
	assert_report_line "TLS can be started on this connection (RFC 3207)"
	assert_report_line "the message goes in chunks with BDAT, no dot-stuffing, one round trip less (RFC 3030; mailpost uses it unless --no-chunking)"
	assert_report_line "UTF-8 in addresses and header fields (RFC 6531)"
	assert_report_line "a message may require TLS on every hop (RFC 8689)"
	# AUTH in the clear (flagged) and inside TLS (SCRAM added, not flagged).
	assert_report_line "authentication with PLAIN LOGIN (RFC 4954)"
	assert_report_line "WARNING: PLAIN or LOGIN offered without TLS"
	assert_report_line "authentication with PLAIN LOGIN SCRAM-SHA-256 (RFC 4954)"
	assert_equal 1 "$(grep -c WARNING <<<"$output")" "warnings (only the clear AUTH)"
	# The order: clear capabilities, STARTTLS, TLS, the chain, then inside.
	local order
	order=$(grep -E '^(Capabilities|STARTTLS|TLS session|Certificate chain|Times)' <<<"$output" | cut -c1-20 | paste -sd'|' -)
	assert_equal "Capabilities in the |STARTTLS:    220 2.0|TLS session:|Certificate chain, a|Capabilities inside |Times:" "$order" "the sections"
	# The session.
	assert_report_line "Protocol:      TLS1."
	assert_report_line "SNI sent:      localhost"
	assert_report_line "ALPN sent:     none"
	assert_report_line "Verification:  verified: chain to mailpost test CA (tls_trust_file $CERTS/ca.pem)"
	# The certificate as openssl reads it, fingerprint computed here.
	assert_report_line "subject:   $(openssl x509 -in "$CERTS/server.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
	assert_report_line "issuer:    CN=mailpost test CA"
	assert_report_line "names:     DNS:localhost, IP:127.0.0.1"
	assert_report_line "key:       EC/ECDSA 256 bits (SECP256R1)"
	assert_report_line "SHA-256:   $(openssl_fingerprint server)"
	[[ "$output" =~ valid:\ +[0-9-]+\ [0-9:]+\ UTC\ to\ [0-9-]+\ [0-9:]+\ UTC\ \(36[0-9][0-9]\ days\ left\) ]] ||
		die "no validity with days left:" "$output"
	# Every step timed, QUIT included.
	for step in connect greeting ehlo tls quit total; do
		[[ "$output" =~ $'\n'"  $step "+[0-9]+\.[0-9]\ ms ]] || die "no time for $step:" "$output"
	done
	# EHLO, STARTTLS, EHLO, QUIT: never AUTH, never MAIL.
	assert_commands "clear EHLO,clear STARTTLS,tls EHLO,tls QUIT"
	assert_equal "" "$stderr" "stderr"
}

@test "serverinfo implicit TLS: the capabilities are inside TLS, no STARTTLS; -v adds the raw EHLO reply" {
	start_smtpd "$(tls_cert_line server; printf '%s\n' "option implicit-tls" "caps PIPELINING, AUTH PLAIN")"
	probe 0 --serverinfo -v "${IMPLICIT[@]}"
	assert_report_line "TLS:         implicit TLS"
	assert_report_line "Capabilities inside TLS (EHLO):"
	assert_report_line "Verification:  verified: chain to mailpost test CA"
	assert_report_line "The first EHLO reply, as received:"
	assert_report_line "  250-smtpd.test"
	assert_report_line "  250 AUTH PLAIN"
	grep -q "WARNING" <<<"$output" && die "PLAIN inside TLS flagged:" "$output"
	grep -q "^STARTTLS" <<<"$output" && die "a STARTTLS line with implicit TLS:" "$output"
	# -v: the dialogue on stderr.
	[[ "$stderr" == *"EHLO client.test"* ]] || die "no transcript on stderr:" "$stderr"
	assert_commands "tls EHLO,tls QUIT"
}

# Each refused certificate: the chain shown with the reason, exit 76 as a
# send would have, and nothing sent after the handshake (no EHLO inside
# TLS, no QUIT, no AUTH).
@test "serverinfo: expired, not-yet-valid, wrong-name, unknown-CA and self-signed certificates are shown, refused (76), nothing sent after" {
	local -A reason=(
		[expired]="certificate has expired (valid until 2021-01-01 00:00:00 UTC)"
		[wronghost]="certificate's host name does not match 'localhost'"
		[unknownca]="certificate is not trusted (issuer unknown)"
		[selfsigned]="self-signed certificate"
		[notyet]="certificate is not yet valid (valid from 2090"
	)
	local name
	for name in expired wronghost unknownca selfsigned notyet; do
		start_smtpd "$(starttls_script "$name")"
		probe 76 --serverinfo "${STARTTLS[@]}"
		assert_report_line "TLS session (the handshake did not complete):"
		assert_report_line "Verification:  NOT verified (checked against tls_trust_file $CERTS/ca.pem)"
		assert_report_line "${reason[$name]}"
		assert_report_line "SHA-256:   $(openssl_fingerprint "$name")"
		assert_report_line "tls        did not finish"
		[[ "$stderr" == *"TLS certificate of localhost refused: ${reason[$name]}"* ]] ||
			die "$name: stderr does not name the refusal:" "$stderr"
		assert_commands "clear EHLO,clear STARTTLS"
		[[ ! -s "$SMTPD_DIR/received.tls" ]] ||
			die "$name: bytes arrived inside TLS:" "$(escaped <"$SMTPD_DIR/received.tls")"
		stop_smtpd
	done
	# The expired one says by how long.
	start_smtpd "$(starttls_script expired)"
	probe 76 --serverinfo "${STARTTLS[@]}"
	[[ "$output" =~ to\ 2021-01-01\ 00:00:00\ UTC\ \(EXPIRED\ [0-9]+\ days\ ago\) ]] ||
		die "the expired certificate's age is not shown:" "$output"
	assert_report_line "names:     DNS:localhost"
	stop_smtpd
	start_smtpd "$(starttls_script notyet)"
	probe 76 --serverinfo "${STARTTLS[@]}"
	[[ "$output" =~ \(NOT\ VALID\ YET:\ for\ another\ [0-9]+\ days\) ]] ||
		die "the certificate's start is not shown:" "$output"
}

@test "serverinfo without TLS asked: STARTTLS is tried when offered; an unverified one is reported, not a failure" {
	# The test CA is not in the system store: verification fails.
	start_smtpd "$(starttls_script)"
	probe 0 --serverinfo
	assert_report_line "TLS:         none asked (STARTTLS is tried when offered)"
	assert_report_line "Verification:  NOT verified (checked against the system trust store)"
	assert_report_line "certificate is not trusted (issuer unknown)"
	[[ "$stderr" == *"notice: STARTTLS failed (TLS certificate of localhost refused"*"the account asks for no TLS, so the probe does not fail"* ]] ||
		die "no notice of the failed STARTTLS:" "$stderr"
	assert_commands "clear EHLO,clear STARTTLS"
	stop_smtpd
	# With the CA given, it is verified and the inside shown.
	start_smtpd "$(starttls_script)"
	probe 0 --serverinfo --tls-trust-file "$CERTS/ca.pem"
	assert_report_line "Verification:  verified: chain to mailpost test CA"
	assert_report_line "Capabilities inside TLS, after STARTTLS (EHLO):"
	assert_commands "clear EHLO,clear STARTTLS,tls EHLO,tls QUIT"
}

@test "serverinfo on a plain server: no TLS section; EHLO and QUIT only" {
	start_smtpd "caps PIPELINING, SIZE 0, DSN"
	probe 0 --serverinfo
	assert_report_line "announces no fixed size limit (RFC 1870)"
	assert_report_line "delivery status notifications on request"
	grep -q "TLS session" <<<"$output" && die "a TLS section without TLS:" "$output"
	assert_commands "clear EHLO,clear QUIT"
}

@test "serverinfo: SIZE too large to read is not 'no limit'; each SIZE line its own; AUTH past what mailpost keeps still warns of PLAIN" {
	local mechs
	mechs=$(for i in $(seq 0 70); do printf 'XM%d ' "$i"; done)
	start_smtpd "$(printf 'on EHLO\n  reply 250-smtpd.test\\n250-SIZE 1000\\n250-SIZE 99999999999999999999999\\n250-SIZE 1x\\n250 AUTH %sbad/name PLAIN\n' "$mechs")"
	probe 0 --serverinfo
	assert_report_line "messages up to 1000 bytes (RFC 1870)"
	assert_report_line "announces a limit mailpost cannot read (99999999999999999999...); a send assumes none"
	assert_report_line "announces a limit mailpost cannot read (1x); a send assumes none"
	assert_report_line "more on this line that mailpost does not keep (-v shows the line)"
	assert_report_line "WARNING: PLAIN or LOGIN offered without TLS"
	assert_output_lacks "no fixed size limit"
}

@test "serverinfo: words split by tabs are read as the session reads them (SIZE<TAB>1000, AUTH<TAB>PLAIN)" {
	start_smtpd "$(printf 'on EHLO\n  reply 250-smtpd.test\\n250-SIZE\\t1000\\n250 AUTH\\tLOGIN\\tPLAIN\n')"
	probe 0 --serverinfo
	assert_report_line "messages up to 1000 bytes (RFC 1870)"
	assert_report_line "authentication with LOGIN PLAIN (RFC 4954)"
	assert_report_line "WARNING: PLAIN or LOGIN offered without TLS"
	assert_output_lacks "does not keep"
}

@test "serverinfo -v: the dialogue with --color=always and --timing as a send's; never colour with --color=never" {
	start_smtpd "caps PIPELINING" -- --max-connections 2
	probe 0 --serverinfo -v --color=always --timing
	[[ "$stderr" == *$'\e['*"EHLO client.test"* ]] || die "no colour in the dialogue:" "$stderr"
	[[ "$stderr" == *" ms "*"<-  250"* ]] || die "no --timing column:" "$stderr"
	[[ "$output" != *$'\e'* ]] || die "colour in the report:" "$output"
	probe 0 --serverinfo -v --color=never
	[[ "$stderr" != *$'\e'* ]] || die "colour with --color=never:" "$stderr"
}

@test "serverinfo: STARTTLS asked of a server that does not offer it: 76, the capabilities shown" {
	start_smtpd "caps PIPELINING, AUTH LOGIN"
	probe 76 --serverinfo "${STARTTLS[@]}"
	assert_report_line "WARNING: PLAIN or LOGIN offered without TLS"
	[[ "$stderr" == *"does not offer STARTTLS"* ]] || die "stderr:" "$stderr"
	assert_no_command AUTH MAIL STARTTLS
}

@test "serverinfo: a 554 greeting is shown and fails as a send would (69; 77 for 5.7.x), with QUIT" {
	start_smtpd "on CONNECT 554 no service here"
	probe 69 --serverinfo
	assert_report_line "Greeting:    554 no service here"
	stop_smtpd
	start_smtpd "on CONNECT 554 5.7.1 not you"
	probe 77 --serverinfo
	assert_report_line "Greeting:    554 5.7.1 not you"
	assert_report_line "(554: the server refuses service to this client"
	assert_report_line "greeting "
	assert_commands "clear QUIT"
}

@test "serverinfo: a server that closes after its greeting: 75, the greeting shown, EHLO did not finish" {
	start_smtpd $'on EHLO close'
	probe 75 --serverinfo
	assert_report_line "Greeting:    220 smtpd.test"
	assert_report_line "ehlo       did not finish"
	[[ "$stderr" == *"closed"* ]] || die "stderr does not say the server closed:" "$stderr"
}

@test "serverinfo: an EHLO reply cut short (closed, over 100 lines, a line over 2048 bytes): not 'HELO only', its capabilities unknown" {
	start_smtpd "$(printf '%s\n' "on EHLO" "  raw 250-smtpd.test\\r\\n250-PIPELINING\\r\\n" "  close")"
	probe 75 --serverinfo
	assert_report_line "  250 smtpd.test"
	assert_report_line "  the reply did not come whole (the error says why): what the server offers is not known"
	assert_output_lacks "HELO only"
	stop_smtpd
	start_smtpd "$(printf 'on EHLO\n  reply 250-smtpd.test'; for i in $(seq 120); do printf '\\n250-X%d' "$i"; done; printf '\\n250 8BITMIME\n')"
	probe 76 --serverinfo
	assert_report_line "the reply did not come whole"
	assert_output_lacks "HELO only"
	stop_smtpd
	start_smtpd "$(printf 'on EHLO\n  reply 250-smtpd.test\\n250-%s\\n250 8BITMIME\n' "$(head -c 3000 /dev/zero | tr '\0' A)")"
	probe 76 --serverinfo
	assert_report_line "the reply did not come whole"
	assert_output_lacks "HELO only"
}

@test "serverinfo: an account listing several hosts: the first is probed (the one a send tries first)" {
	start_smtpd "caps PIPELINING"
	write_config "host localhost, backup.invalid" "port $SMTPD_PORT"
	run_mailpost 0 -C "$MAILPOST_CONF" --serverinfo
	assert_report_line "Server:      localhost port $SMTPD_PORT"
	assert_report_line "(the first of: localhost, backup.invalid; a send tries the others when it fails)"
	assert_commands "clear EHLO,clear QUIT"
}

@test "serverinfo: nothing listening: 75, the report says there was no connection" {
	local port
	port=$(unused_port)
	run_mailpost 75 -C /dev/null --serverinfo --host 127.0.0.1 --port "$port"
	assert_report_line "Connected:   (no connection)"
	assert_report_line "connect    did not finish"
}

@test "--tls-get-peer-cert: the chain as PEM on stdout, alone; certtool reads it" {
	start_smtpd "$(starttls_script)"
	probe 0 --tls-get-peer-cert "${STARTTLS[@]}"
	[[ "$output" == "-----BEGIN CERTIFICATE-----"* ]] || die "not PEM alone:" "$output"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/got.pem"
	certtool -i --infile "$BATS_TEST_TMPDIR/got.pem" >"$BATS_TEST_TMPDIR/info" ||
		die "certtool cannot read it"
	grep -q "Subject: CN=localhost" "$BATS_TEST_TMPDIR/info" || die "$(cat "$BATS_TEST_TMPDIR/info")"
	assert_equal "$(openssl_fingerprint server)" \
		"$(openssl x509 -in "$BATS_TEST_TMPDIR/got.pem" -noout -fingerprint -sha256 | sed 's/^.*=//')" \
		"the fingerprint of what was written"
	assert_no_command AUTH MAIL
}

@test "--tls-get-peer-cert=FILE: created 0644, never over an existing file (74, before connecting)" {
	start_smtpd "$(starttls_script)" -- --max-connections 2
	local file=$BATS_TEST_TMPDIR/chain.pem
	probe 0 --serverinfo --tls-get-peer-cert="$file" "${STARTTLS[@]}"
	assert_report_line "Verification:  verified"
	grep -q "BEGIN CERTIFICATE" <<<"$output" && die "PEM on stdout with a FILE:" "$output"
	assert_equal 644 "$(stat -c %a "$file")" "the file's mode"
	certtool -i --infile "$file" | grep -q "Subject: CN=localhost" || die "certtool cannot read $file"
	cp "$file" "$BATS_TEST_TMPDIR/before"
	probe 74 --tls-get-peer-cert="$file" "${STARTTLS[@]}"
	assert_stderr_contains "$file exists; not overwritten: remove it or name another file"
	cmp -s "$file" "$BATS_TEST_TMPDIR/before" || die "the existing file changed"
	assert_equal 1 "$(grep -c 'clear EHLO' "$SMTPD_DIR/commands")" "sessions (the refusal connected nowhere)"
}

@test "--tls-get-peer-cert: a refused certificate is still written (to be inspected or pinned), exit 76" {
	start_smtpd "$(starttls_script unknownca)"
	local file=$BATS_TEST_TMPDIR/chain.pem
	probe 76 --tls-get-peer-cert="$file" "${STARTTLS[@]}"
	assert_equal "$(openssl_fingerprint unknownca)" \
		"$(openssl x509 -in "$file" -noout -fingerprint -sha256 | sed 's/^.*=//')" \
		"the fingerprint of what was written"
	assert_commands "clear EHLO,clear STARTTLS"
}

@test "--tls-get-peer-cert on a server without TLS: 76, says what to try, leaves no file" {
	start_smtpd "caps PIPELINING"
	local file=$BATS_TEST_TMPDIR/chain.pem
	probe 76 --tls-get-peer-cert="$file"
	assert_stderr_contains "port $SMTPD_PORT offers no STARTTLS; for a server that speaks TLS from the first byte add --tls --tls-starttls=off"
	[[ ! -e "$file" ]] || die "an empty $file was left behind"
}

@test "serverinfo: the command line: no recipients, no other mode, --tls-get-peer-cert= needs a name" {
	run_mailpost 64 -C /dev/null --serverinfo --host localhost bob@example.org
	assert_stderr_contains "--serverinfo bob@example.org: a domain is probed only in direct delivery"
	run_mailpost 64 -C /dev/null --serverinfo -bp
	assert_stderr_contains "cannot be combined with --serverinfo"
	run_mailpost 64 -C /dev/null -bp --tls-get-peer-cert
	assert_stderr_contains "--tls-get-peer-cert cannot be combined with -bp"
	run_mailpost 64 -C /dev/null --tls-get-peer-cert= --host localhost
	assert_stderr_contains "invalid --tls-get-peer-cert ''"
	run_mailpost 78 -C /dev/null --serverinfo
	assert_stderr_contains "has no 'host': set 'host' there, or give --host HOST"
}

@test "msmtp -S and --serverinfo: the probe, under the name msmtp, with an account" {
	start_smtpd "caps PIPELINING, STARTTLS, AUTH PLAIN" -- --max-connections 2
	write_config "account work" "host 127.0.0.1" "port $SMTPD_PORT" "account default : work"
	local link=$BATS_TEST_TMPDIR/bin/msmtp
	mkdir -p "${link%/*}"
	ln -s "$MAILPOST" "$link"
	MAILPOST=$link run_mailpost 0 -C "$MAILPOST_CONF" -a work -S
	assert_report_line "Server:      127.0.0.1 port $SMTPD_PORT"
	assert_report_line "WARNING: PLAIN or LOGIN offered without TLS"
	MAILPOST=$link run_mailpost 0 -C "$MAILPOST_CONF" --serverinfo
	assert_report_line "Greeting:    220 smtpd.test"
	assert_no_command AUTH MAIL
}

# --- --check-config --connect -------------------------------------------------

@test "--check-config --connect: the checks, the probe's report, an OK line; AUTH configured but never sent" {
	start_smtpd "$(starttls_script)"
	write_config "host localhost" "port $SMTPD_PORT" "domain client.test" "tls on" \
		"tls_trust_file $CERTS/ca.pem" "auth plain" "user alice" "password s3cret"
	run_mailpost 0 -C "$MAILPOST_CONF" --check-config --connect
	assert_report_line "OK    host: localhost"
	assert_report_line "Capabilities in the clear (EHLO):"
	assert_report_line "Verification:  verified: chain to mailpost test CA"
	assert_report_line "OK    connect: localhost port $SMTPD_PORT answered; TLS1."
	assert_report_line ", certificate verified (chain to mailpost test CA)"
	assert_report_line "0 warnings, 0 failures"
	assert_commands "clear EHLO,clear STARTTLS,tls EHLO,tls QUIT"
	assert_no_secret s3cret
}

@test "--check-config --connect: a refused certificate is the one failure: exit 76 as a send's, FAIL connect" {
	start_smtpd "$(starttls_script expired)"
	write_config "host localhost" "port $SMTPD_PORT" "tls on" "tls_trust_file $CERTS/ca.pem"
	run_mailpost 76 -C "$MAILPOST_CONF" --check-config --connect
	assert_report_line "FAIL  connect: TLS certificate of localhost refused: certificate has expired"
	assert_report_line "(EXPIRED "
	assert_report_line "0 warnings, 1 failure"
	assert_stderr_contains "the configuration passed its checks; the server did not (FAIL connect above)"
	assert_commands "clear EHLO,clear STARTTLS"
}

@test "--check-config --connect: STARTTLS only offered fails: WARN; a failed check as well: 78" {
	start_smtpd "$(starttls_script)" -- --max-connections 2
	write_config "host localhost" "port $SMTPD_PORT"
	run_mailpost 0 -C "$MAILPOST_CONF" --check-config --connect
	assert_report_line "WARN  connect: answered, but STARTTLS (offered, not asked for) failed: TLS certificate of localhost refused"
	# A trust file that does not exist fails its check; the server's
	# refusal is then not alone: 78.
	write_config "host localhost" "port $SMTPD_PORT" "tls on" "tls_trust_file $BATS_TEST_TMPDIR/nope.pem"
	run_mailpost 78 -C "$MAILPOST_CONF" --check-config --connect
	assert_report_line "FAIL  trust"
	assert_report_line "FAIL  connect: "
	assert_report_line "0 warnings, 2 failures"
}

@test "--connect without --check-config: 64" {
	run_mailpost 64 -C /dev/null --connect --host localhost bob@example.org
	assert_stderr_contains "--connect goes with --check-config"
	run_mailpost 64 -C /dev/null --serverinfo --connect --host localhost
	assert_stderr_contains "--connect goes with --check-config"
}
