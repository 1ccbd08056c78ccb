#!/usr/bin/env bats
# 83-mx: direct delivery (deliver mx, --deliver=mx): each recipient
# domain's MX hosts in preference order, the domain's own address without
# MX records, a null MX and a domain that does not exist, the next MX after
# a temporary failure, one transaction per domain with one domain's failure
# queued while the other is delivered, a flush that sends the rest by
# domain, opportunistic STARTTLS and its plain retry, the settings that
# conflict with it; exit codes and --json.
#
# The names come from tests/lib/dnsd.bash's knotd on 127.0.0.1 (zones
# under "test.", signed); the MX hosts are scripted servers
# (tests/lib/smtpd.py) on 127.0.0.2, 127.0.0.3 ... sharing one port, which
# the account's `port` names as it would name 25.

load lib/helpers
load lib/dnsd
load lib/mxhosts

setup_file() {
	# pref.test: two MX hosts; the better one first.
	dnsd_zone pref.test <<-'EOF'
	@ MX 20 mx2
	@ MX 10 mx1
	mx1 A 127.0.0.2
	mx2 A 127.0.0.3
	EOF
	# implicit.test: no MX, an address of its own (RFC 5321 5.1).
	dnsd_zone implicit.test <<-'EOF'
	@ A 127.0.0.4
	EOF
	# nullmx.test takes no mail (RFC 7505).
	dnsd_zone nullmx.test <<-'EOF'
	@ MX 0 .
	@ A 127.0.0.2
	EOF
	# down.test: its one MX host listens only when a test says so.
	dnsd_zone down.test <<-'EOF'
	@ MX 10 mx
	mx A 127.0.0.5
	EOF
	# noaddr.test: its MX host has no address.
	dnsd_zone noaddr.test <<-'EOF'
	@ MX 10 ghost
	EOF
	# bogus.test: signatures that do not validate.
	dnsd_zone bogus.test --bogus <<-'EOF'
	@ MX 10 mx
	mx A 127.0.0.2
	EOF
	# many.test: 300 MX hosts at preferences 1..300, each with its own
	# signed address record, and the one that listens at 500: an answer
	# with more signatures than libunbound's validator checks in one.
	# manyu.test: the same, unsigned, all on one dead address.
	# odd.test: an address as an MX, the same host twice.
	local i
	{
		for ((i = 1; i <= 300; i++)); do
			printf '@ MX %d h%d\nh%d A 127.0.0.9\n' "$i" "$i" "$i"
		done
		printf '@ MX 500 mx\nmx A 127.0.0.2\n'
	} >"$BATS_FILE_TMPDIR/many.zone"
	dnsd_zone many.test <"$BATS_FILE_TMPDIR/many.zone"
	dnsd_zone manyu.test --unsigned <"$BATS_FILE_TMPDIR/many.zone"
	dnsd_zone odd.test <<-'EOF'
	@ MX 5 127.0.0.3.
	@ MX 10 dead
	@ MX 20 dead
	@ MX 30 mx
	dead A 127.0.0.9
	mx A 127.0.0.2
	EOF
	dnsd_start
	export DNSD_PORT DNSD_ANCHOR DNSD_CONFIG
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

# --- the route ---------------------------------------------------------------

@test "mx: the MX host of the lowest preference gets the message" {
	start_mx 127.0.0.2
	start_mx 127.0.0.3
	mx_config
	send_to 0 bob@pref.test
	use_mx 127.0.0.2
	assert_received_contains "RCPT TO:<bob@pref.test>"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	use_mx 127.0.0.3
	assert_no_message 1
	assert_received_lacks "EHLO"
}

@test "mx: a 4xx from the first MX moves on to the next" {
	start_mx 127.0.0.2 'on CONNECT 421 4.3.2 mx1 busy'
	start_mx 127.0.0.3
	mx_config
	send_to 0 -v bob@pref.test
	assert_stderr_contains "MX mx1.pref.test [127.0.0.2] (preference 10)"
	assert_stderr_contains "MX mx2.pref.test [127.0.0.3] (preference 20)"
	use_mx 127.0.0.3
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "mx: a 5xx from the first MX is the domain's answer: no second MX" {
	start_mx 127.0.0.2 'on RCPT 550 5.1.1 no such user'
	start_mx 127.0.0.3
	mx_config "dead_letter $BATS_TEST_TMPDIR/dead"
	send_to 67 bob@pref.test
	assert_stderr_contains "550 5.1.1 no such user"
	use_mx 127.0.0.3
	assert_received_lacks "EHLO"
}

@test "mx: a domain without MX records is its own MX (implicit MX)" {
	start_mx 127.0.0.4
	mx_config
	send_to 0 -v carol@implicit.test
	assert_stderr_contains "host implicit.test [127.0.0.4] (implicit MX: no MX records)"
	use_mx 127.0.0.4
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "mx: an address literal is its own hop, looked up nowhere" {
	start_mx 127.0.0.2
	mx_config
	send_to 0 -v "ida@[127.0.0.2]"
	assert_stderr_contains "address literal [127.0.0.2]"
	assert_stderr_lacks "DNS"
	use_mx 127.0.0.2
	assert_received_contains "RCPT TO:<ida@[127.0.0.2]>"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "mx: a null MX is a permanent failure, exit 69, the message saved" {
	start_mx 127.0.0.2
	mx_config "dead_letter $BATS_TEST_TMPDIR/dead"
	send_to 69 dave@nullmx.test
	assert_stderr_contains "nullmx.test accepts no mail (null MX, RFC 7505)"
	grep -q "Hello Bob." "$BATS_TEST_TMPDIR/dead" || die "no dead letter"
	[[ ! -d "$QDIR" ]] || [[ -z "$(ls -A "$QDIR")" ]] || die "queued"
	use_mx 127.0.0.2
	assert_received_lacks "EHLO"
}

@test "mx: a domain that does not exist is exit 68" {
	mx_config "dead_letter $BATS_TEST_TMPDIR/dead"
	send_to 68 erin@nosuch.test
	assert_stderr_contains "nosuch.test does not exist"
}

@test "mx: an MX host without an address is temporary: queued" {
	mx_config
	send_to 0 frank@noaddr.test
	assert_stderr_contains "queued as"
	assert_stderr_contains "ghost.noaddr.test has no address"
}

@test "mx: an MX answer that fails DNSSEC validation is temporary: queued, nothing sent" {
	start_mx 127.0.0.2
	mx_config
	send_to 0 gina@bogus.test
	assert_stderr_contains "queued as"
	assert_stderr_contains "failed DNSSEC validation"
	use_mx 127.0.0.2
	assert_received_lacks "EHLO"
}

@test "mx: every MX down: queued (exit 0); -q delivers once one answers" {
	mx_config
	send_to 0 bob@pref.test
	assert_stderr_contains "queued as"
	assert_stderr_contains "no MX host of pref.test took the message now (2 of 2 tried)"
	start_mx 127.0.0.3
	run_mailpost 0 -C "$MAILPOST_CONF" -q
	use_mx 127.0.0.3
	assert_message 1 "$MSG_SIMPLE_CRLF"
	[[ -z "$(ls -A "$QDIR" | grep -v '^tmp$' || true)" ]] ||
		die "the queue still holds: $(ls -A "$QDIR")"
}

# --- one transaction per domain -------------------------------------------------

@test "mx: two domains are two transactions, each with its own recipients" {
	start_mx 127.0.0.2
	start_mx 127.0.0.4
	mx_config
	send_to 0 bob@pref.test carol@implicit.test bert@PREF.test
	use_mx 127.0.0.2
	assert_received_contains "RCPT TO:<bob@pref.test>"
	assert_received_contains "RCPT TO:<bert@PREF.test>"
	assert_received_lacks "carol@implicit.test"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	use_mx 127.0.0.4
	assert_received_contains "RCPT TO:<carol@implicit.test>"
	assert_received_lacks "pref.test"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "mx: one domain down: the other delivered, its recipients queued; --json says who" {
	start_mx 127.0.0.2
	mx_config
	send_to 0 --json bob@pref.test hank@down.test
	assert_stderr_contains "queued as"
	assert_stderr_contains "down.test"
	"$SMTPD_PYTHON" - "$output" <<-'EOF'
	import json, sys
	r = json.loads(sys.argv[1])
	got = {x["address"]: x["status"] for x in r["recipients"]}
	want = {"bob@pref.test": "accepted", "hank@down.test": "queued"}
	assert got == want, got
	assert r["status"] == "delivered-in-part", r["status"]
	# Two servers: no one of them is the message's.
	assert r["server"]["host"] is None and r["server"]["port"] is None, r
	assert r["failed_step"] is None, r
	assert all(v is None for v in r["timing_ms"].values()), r
	EOF
	use_mx 127.0.0.2
	assert_message 1 "$MSG_SIMPLE_CRLF"
	# The flush sends the rest to down.test alone.
	start_mx 127.0.0.5
	run_mailpost 0 -C "$MAILPOST_CONF" -q
	use_mx 127.0.0.5
	assert_received_contains "RCPT TO:<hank@down.test>"
	assert_received_lacks "bob@pref.test"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "mx: one domain refused for good, the other delivered: exit 69, names the domain" {
	start_mx 127.0.0.2
	mx_config "dead_letter $BATS_TEST_TMPDIR/dead"
	send_to 69 bob@pref.test dave@nullmx.test
	assert_stderr_contains "nullmx.test accepts no mail (null MX, RFC 7505)"
	use_mx 127.0.0.2
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_received_lacks "nullmx.test"
}

@test "mx: nothing delivered, one domain refused for good, one for now: the second queued apart, -q sends it alone" {
	mx_config "dead_letter $BATS_TEST_TMPDIR/dead"
	send_to 69 --json dave@nullmx.test hank@down.test
	assert_stderr_contains "nullmx.test accepts no mail (null MX, RFC 7505)"
	assert_stderr_contains "for the 1 refused for now"
	assert_stderr_contains "saved to $BATS_TEST_TMPDIR/dead"
	"$SMTPD_PYTHON" - "$output" <<-'EOF'
	import json, sys
	r = json.loads(sys.argv[1])
	got = {x["address"]: x["status"] for x in r["recipients"]}
	want = {"dave@nullmx.test": "refused-permanently",
	        "hank@down.test": "queued"}
	assert got == want, got
	assert r["queue_id"], r
	assert r["status"] == "refused" and r["exit_code"] == 69, r
	assert r["server"]["host"] is None and r["failed_step"] is None, r
	dave = [x for x in r["recipients"] if x["address"].startswith("dave")][0]
	assert "null MX" in dave["reply"], dave
	EOF
	start_mx 127.0.0.5
	run_mailpost 0 -C "$MAILPOST_CONF" -q
	use_mx 127.0.0.5
	assert_received_contains "RCPT TO:<hank@down.test>"
	assert_received_lacks "nullmx.test"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

# --- TLS ----------------------------------------------------------------------

@test "mx: STARTTLS when offered, the MX name sent as SNI, any certificate taken" {
	tls_certs
	start_mx 127.0.0.2 "$(tls_cert_line server)
caps PIPELINING, 8BITMIME, STARTTLS"
	mx_config
	send_to 0 -v bob@pref.test
	assert_stderr_contains "opportunistic"
	use_mx 127.0.0.2
	assert_over_tls MAIL RCPT
	assert_tls_session "sni=mx1.pref.test"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "mx: STARTTLS that fails is tried once more in the clear" {
	start_mx 127.0.0.2 'caps PIPELINING, 8BITMIME, STARTTLS
connection 1
on STARTTLS 454 4.7.0 TLS not available now'
	mx_config
	send_to 0 -v bob@pref.test
	assert_stderr_contains "once more in the clear"
	use_mx 127.0.0.2
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

# --- settings -----------------------------------------------------------------

@test "mx: deliver mx with host, auth or a proxy is a configuration error" {
	local key
	for key in "host smtp.example.org" "auth on" "proxy_host 127.0.0.1" \
		"fallback_account other"; do
		write_config "account other" "host 127.0.0.1" "account default" \
			"deliver mx" "$DNSD_CONFIG" "$key"
		run_mailpost 78 -C "$MAILPOST_CONF" -f alice@example.org bob@pref.test <"$MSG"
		assert_stderr_contains "sets '${key%% *}', which only a relay uses" ||
			die "(key $key)" || return 1
	done
}

@test "mx: --deliver=mx without a configuration's host; --deliver=foo is a usage error" {
	start_mx 127.0.0.2
	write_config "port $MX_PORT" "domain client.test" "$DNSD_CONFIG" \
		"account default"
	send_to 0 --deliver=mx -f alice@example.org bob@pref.test
	use_mx 127.0.0.2
	assert_message 1 "$MSG_SIMPLE_CRLF"
	run_mailpost 64 --deliver=foo bob@pref.test
	assert_stderr_contains "invalid --deliver 'foo'"
}

@test "mx: --check-config and --dry-run say where the mail goes; a conflicting key fails the check" {
	mx_config
	run_mailpost 0 -C "$MAILPOST_CONF" --check-config </dev/null
	assert_output_contains "none: each recipient domain's MX hosts (deliver mx), port $MX_PORT, STARTTLS when offered"
	assert_output_contains "tls: each MX host's: STARTTLS when offered"
	run_mailpost 0 -C "$MAILPOST_CONF" --dry-run -v bob@pref.test <"$MSG"
	assert_stderr_contains "would deliver to each recipient domain's MX hosts (deliver mx), port $MX_PORT, STARTTLS when offered"
	assert_stderr_lacks "would use no TLS"
	mx_config "auth plain"
	run_mailpost 78 -C "$MAILPOST_CONF" --check-config </dev/null
	assert_output_contains "sets 'auth', which only a relay uses"
}

# --- hostile or odd MX answers --------------------------------------------------

@test "mx: hundreds of signed MX records: a SERVFAIL that says libunbound's limit may be why" {
	mx_config
	send_to 0 bob@many.test
	assert_stderr_contains "queued as"
	assert_stderr_contains "more signatures than the validator checks in one answer"
}

@test "mx: 301 MX records: the answer is read, the 64 lowest preferences kept, each address tried once" {
	start_mx 127.0.0.2
	mx_config
	send_to 0 -v bob@manyu.test
	assert_stderr_contains "the 64 of the lowest preferences are kept"
	assert_stderr_contains "MX h1.manyu.test [127.0.0.9] (preference 1)"
	assert_stderr_contains "h2.manyu.test [127.0.0.9] is already a hop"
	assert_stderr_contains "(1 of 1 tried)"
}

@test "mx: an address as MX is skipped without a look-up; a host listed twice is tried once" {
	start_mx 127.0.0.2
	mx_config
	send_to 0 -v bob@odd.test
	assert_stderr_contains "MX 127.0.0.3 of odd.test skipped: an address, not a host name"
	assert_stderr_lacks "127.0.0.3 A"
	assert_stderr_contains "MX dead.odd.test of odd.test (preference 20) is listed at a better preference"
	[[ $(grep -c "DNS: dead.odd.test A" <<<"$stderr") -eq 1 ]] || die "dead looked up twice"
	use_mx 127.0.0.2
	assert_message 1 "$MSG_SIMPLE_CRLF"
}
