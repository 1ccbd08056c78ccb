#!/usr/bin/env bats
# 87-mx-serverinfo: --serverinfo and --quit-after in direct delivery
# (deliver mx): the route of a domain found in the test DNS server
# (tests/lib/dnsd.bash: signed, unsigned and bogus zones under "test."),
# its MX hosts played by tests/lib/smtpd.py on 127.0.0.x, all on one
# port as MX hosts share port 25.  The report shows the MX records with
# their preferences and DNSSEC status, every hop in the order a send
# tries them, which was chosen and why the ones before it were passed
# over, the TLS policy, then the chosen server's report; --quit-after
# walks the same hops.  Each test has its own domain and addresses.

load lib/helpers
load lib/dnsd

setup_file() {
	export MXPORT
	MXPORT=$(unused_port)
	# two.test: the first MX has no server, the second answers.
	dnsd_zone two.test <<-'EOF'
		@ MX 10 mx1
		@ MX 20 mx2
		mx1 A 127.0.87.1
		mx2 A 127.0.87.2
	EOF
	# implicit.test: no MX, its own address; not signed.
	dnsd_zone implicit.test --unsigned <<-'EOF'
		@ A 127.0.87.3
	EOF
	dnsd_zone nullmx.test <<-'EOF'
		@ MX 0 .
	EOF
	dnsd_zone bogus.test --bogus <<-'EOF'
		@ MX 10 mx
		mx A 127.0.87.4
	EOF
	# down.test: no MX host answers.
	dnsd_zone down.test <<-'EOF'
		@ MX 10 mx1
		@ MX 20 mx2
		mx1 A 127.0.87.5
		mx2 A 127.0.87.6
	EOF
	# refuse.test: the first MX refuses service (554), the second
	# would answer.
	dnsd_zone refuse.test <<-'EOF'
		@ MX 10 mx1
		@ MX 20 mx2
		mx1 A 127.0.87.7
		mx2 A 127.0.87.8
	EOF
	# rcpt.test, for --quit-after: the first MX has no server.
	dnsd_zone rcpt.test <<-'EOF'
		@ MX 5 mx1
		@ MX 15 mx2
		mx1 A 127.0.87.9
		mx2 A 127.0.87.10
	EOF
	dnsd_zone cert.test <<-'EOF'
		@ MX 10 mx
		mx A 127.0.87.11
	EOF
	dnsd_start
	export DNSD_CONFIG DNSD_PORT
}

teardown_file() {
	dnsd_stop
}

setup() {
	mailpost_setup
	tls_certs
	# A direct delivery account pointed at the test DNS server; the MX
	# hosts listen on MXPORT instead of 25.
	write_config "deliver mx" "port $MXPORT" "domain client.test" \
		"from me@client.test" "queue never" "dead_letter off" \
		"$(sed -n 1p <<<"$DNSD_CONFIG")" "$(sed -n 2p <<<"$DNSD_CONFIG")"
}

# mx_smtpd ADDRESS SCRIPT: the MX host at ADDRESS (port MXPORT).
mx_smtpd() {
	start_smtpd "$2" -- --listen "$1" --port "$MXPORT"
}

# The server's script: STARTTLS with the test CA's localhost certificate.
starttls_script() {
	tls_cert_line server
	printf '%s\n' "caps PIPELINING, 8BITMIME, STARTTLS" "tls-caps PIPELINING, 8BITMIME"
}

assert_report_line() {
	grep -qF -- "$1" <<<"$output" ||
		die "the report lacks '$1':" "$output"
}

commands() {
	smtpd_finish || return 1
	awk '{ print $2 " " $3 }' "$SMTPD_DIR/commands" | paste -sd, -
}

@test "mx serverinfo: the MX records by preference, DNSSEC-validated; the first MX down is passed over, the second probed with opportunistic TLS" {
	mx_smtpd 127.0.87.2 "$(starttls_script)"
	run_mailpost 0 -C "$MAILPOST_CONF" --serverinfo two.test
	assert_report_line "Domain:      two.test"
	assert_report_line "MX records:  DNSSEC-validated (secure)"
	assert_report_line "  preference 10    mx1.two.test"
	assert_report_line "  preference 20    mx2.two.test"
	assert_report_line "  1. mx1.two.test [127.0.87.1] port $MXPORT, MX preference 10, address DNSSEC-validated"
	assert_report_line "     failed, the next hop was tried: "
	assert_report_line "  2. mx2.two.test [127.0.87.2] port $MXPORT, MX preference 20, address DNSSEC-validated"
	assert_report_line "     TLS policy: opportunistic"
	assert_report_line "     CHOSEN: it answered"
	assert_report_line "Chosen:      mx2.two.test [127.0.87.2]: the first hop that answered; the 1 before it was passed over (above)"
	# The first hop's report (no connection), then the chosen one's.
	assert_report_line "=== Hop 1: mx1.two.test [127.0.87.1] ==="
	assert_report_line "Connected:   (no connection)"
	assert_report_line "=== Hop 2: mx2.two.test [127.0.87.2], chosen ==="
	assert_report_line "Server:      mx2.two.test port $MXPORT"
	assert_report_line "Connected:   127.0.87.2 port $MXPORT"
	assert_report_line "TLS:         opportunistic"
	# The MX name, not the address, is the TLS name; any certificate.
	assert_report_line "SNI sent:      mx2.two.test"
	assert_report_line "Verification:  none: the hop's TLS policy takes any certificate"
	assert_output_lacks "NOT VERIFIED"
	assert_equal "clear EHLO,clear STARTTLS,tls EHLO,tls QUIT" "$(commands)" "the commands the MX received"
	assert_equal "" "$stderr" "stderr"
}

@test "mx serverinfo: an address names its domain; the same route as the domain's" {
	mx_smtpd 127.0.87.2 "caps PIPELINING"
	run_mailpost 0 -C "$MAILPOST_CONF" --serverinfo Bob@Two.TEST
	assert_report_line "Domain:      Two.TEST"
	assert_report_line "Chosen:      mx2.two.test [127.0.87.2]"
	assert_equal "clear EHLO,clear QUIT" "$(commands)" "the commands the MX received (no STARTTLS offered)"
	grep -q "TLS session" <<<"$output" && die "a TLS section without TLS:" "$output"
	true
}

@test "mx serverinfo: no MX records: the domain's own address is the implicit MX; an unsigned zone is insecure" {
	mx_smtpd 127.0.87.3 "caps PIPELINING"
	run_mailpost 0 -C "$MAILPOST_CONF" --serverinfo implicit.test
	assert_report_line "MX records:  none: the domain's own address is its mail server (the implicit MX, RFC 5321 5.1); its address records not DNSSEC-validated (insecure)"
	assert_report_line "  1. implicit.test [127.0.87.3] port $MXPORT, implicit MX, address insecure"
	assert_report_line "Chosen:      implicit.test [127.0.87.3]: the first hop, and it answered"
}

@test "mx serverinfo: a null MX (69), a domain that does not exist (68), a bogus answer (75): the route says why, nothing connected" {
	run_mailpost 69 -C "$MAILPOST_CONF" --serverinfo nullmx.test
	assert_report_line "Domain:      nullmx.test"
	assert_report_line "Route:       none: "
	assert_report_line "null MX"
	assert_stderr_contains "null MX"
	run_mailpost 68 -C "$MAILPOST_CONF" --serverinfo nosuch.test
	assert_report_line "Route:       none: "
	run_mailpost 75 -C "$MAILPOST_CONF" --serverinfo bogus.test
	assert_report_line "Route:       none: "
	assert_stderr_contains "bogus"
}

@test "mx serverinfo: every MX down: 75, each hop's failure listed, none chosen" {
	run_mailpost 75 -C "$MAILPOST_CONF" --serverinfo down.test
	assert_report_line "  1. mx1.down.test [127.0.87.5]"
	assert_report_line "  2. mx2.down.test [127.0.87.6]"
	assert_equal 2 "$(grep -c 'failed, the next hop was tried' <<<"$output")" "hops failed"
	assert_report_line "Chosen:      none: 2 of the 2 hops tried, none got through (a send queues the message)"
	assert_stderr_contains "down.test: no MX host took the session (2 hops tried); the last, mx2.down.test [127.0.87.6]: "
}

@test "mx serverinfo: a 554 greeting ends the route as it ends a send's (69): the next MX is not tried" {
	mx_smtpd 127.0.87.7 "on CONNECT 554 5.3.2 not now, not ever"
	run_mailpost 69 -C "$MAILPOST_CONF" --serverinfo refuse.test
	assert_report_line "     refused for good: a send's route ends here: "
	assert_report_line "  2. mx2.refuse.test [127.0.87.8]"
	assert_report_line "     not tried"
	assert_report_line "Greeting:    554 5.3.2 not now, not ever"
	assert_output_lacks "=== Hop 2"
}

@test "mx --tls-get-peer-cert: the chosen MX's chain; an MX without STARTTLS has none (76)" {
	mx_smtpd 127.0.87.11 "$(starttls_script)"
	run_mailpost 0 -C "$MAILPOST_CONF" --tls-get-peer-cert cert.test
	[[ "$output" == "-----BEGIN CERTIFICATE-----"* ]] || die "not PEM alone:" "$output"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/got.pem"
	assert_equal "$(openssl x509 -in "$CERTS/server.pem" -noout -fingerprint -sha256)" \
		"$(openssl x509 -in "$BATS_TEST_TMPDIR/got.pem" -noout -fingerprint -sha256)" \
		"the chain written"
	stop_smtpd
	mx_smtpd 127.0.87.11 "caps PIPELINING"
	run_mailpost 76 -C "$MAILPOST_CONF" --tls-get-peer-cert="$BATS_TEST_TMPDIR/none.pem" cert.test
	assert_stderr_contains "the MX host mx.cert.test [127.0.87.11] offers no STARTTLS"
	[[ ! -e "$BATS_TEST_TMPDIR/none.pem" ]] || die "an empty file was left behind"
}

@test "mx serverinfo: the command line: one domain, needed in direct delivery, refused for a relaying account" {
	run_mailpost 64 -C "$MAILPOST_CONF" --serverinfo
	assert_stderr_contains "--serverinfo in direct delivery (deliver mx) has no one server: name the domain to probe"
	run_mailpost 64 -C "$MAILPOST_CONF" --serverinfo two.test three.test
	assert_stderr_contains "--serverinfo takes at most one argument: the domain"
	run_mailpost 64 -C /dev/null --serverinfo --host localhost two.test
	assert_stderr_contains "--serverinfo two.test: a domain is probed only in direct delivery (--deliver=mx, or 'deliver mx' in the account)"
}

@test "mx --quit-after rcpt: the first MX down is passed over (one line), the second tested up to RCPT, nothing sent" {
	mx_smtpd 127.0.87.10 "caps PIPELINING, STARTTLS
$(tls_cert_line server)"
	run_mailpost 0 -C "$MAILPOST_CONF" --quit-after rcpt bob@rcpt.test
	assert_stderr_contains "mailpost: mx1.rcpt.test [127.0.87.9]: failed: "
	assert_stderr_contains "; the next hop was tried"
	assert_stderr_contains "mailpost: mx2.rcpt.test [127.0.87.10] port $MXPORT, MX 15 of rcpt.test (TLS policy: opportunistic"
	assert_stderr_contains "): every step up to rcpt succeeded; stopped there (--quit-after), nothing was sent"
	assert_equal "clear EHLO,clear STARTTLS,tls EHLO,tls MAIL,tls RCPT,tls QUIT" "$(commands)" "the commands the MX received"
}

@test "mx --quit-after: a recipient names the domain (needed even before rcpt), recipients at one domain, no auth" {
	run_mailpost 64 -C "$MAILPOST_CONF" --quit-after ehlo
	assert_stderr_contains "no recipients: the command line names nobody"
	run_mailpost 64 -C "$MAILPOST_CONF" --quit-after rcpt a@rcpt.test b@two.test
	assert_stderr_contains "--quit-after tests one domain's MX hosts: <a@rcpt.test> and <b@two.test> are at two; test each on its own"
	run_mailpost 64 -C "$MAILPOST_CONF" --quit-after auth a@rcpt.test
	assert_stderr_contains "--quit-after auth, but direct delivery (deliver mx) does not authenticate"
	# Upper and lower case are one domain.
	mx_smtpd 127.0.87.10 "caps PIPELINING"
	run_mailpost 0 -C "$MAILPOST_CONF" --quit-after ehlo a@rcpt.test b@RCPT.test
	assert_stderr_contains "every step up to ehlo succeeded"
}
