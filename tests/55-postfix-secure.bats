#!/usr/bin/env bats
# 55-postfix-secure: TLS and SMTP AUTH end to end through a real Postfix.
#
# setup_file starts the private Postfix of tests/lib/postfix.bash with
# --secure: besides the plain ports it serves submission on
#   $PF_SUBMIT_PORT   STARTTLS required, AUTH required (RFC 6409 style)
#   $PF_SUBMITS_PORT  implicit TLS, AUTH required (RFC 8314)
# with the test PKI's localhost / 127.0.0.1 certificate ($PF_CERTS/ca.pem
# is its CA) and Cyrus SASL over a sasldb holding one account,
# $PF_SASL_USER with the random $PF_SASL_PASSWORD; Cyrus offers
# $PF_SASL_MECHS. Neither port accepts a recipient before AUTH succeeded.
#
# mailpost reads everything from a config file (mode 600) in the test's
# temp dir; the password is never on a command line. What landed is
# checked with tests/lib/msgcheck.py, and which mechanism was used with
# Postfix's own log (sasl_method=...).  --quit-after tls and auth (over
# STARTTLS and implicit TLS) are checked by the commands Postfix counted
# on its disconnect line, --test by the message delivered.

bats_require_minimum_version 1.5.0

load lib/helpers # run_mailpost, assert_equal, assert_stderr_contains, die
load lib/postfix

MSGCHECK=$BATS_TEST_DIRNAME/lib/msgcheck.py

setup_file() {
	postfix_setup_file --secure
}

teardown_file() {
	postfix_stop
}

setup() {
	[ -z "$PF_SKIP" ] || skip "$PF_SKIP"
	mailpost_setup
	postfix_clear
	msg=$BATS_TEST_TMPDIR/msg
	conf=$BATS_TEST_TMPDIR/mailpost.conf
	write_message "$msg"
	pf_log_mark
}

teardown() {
	[ -z "$PF_SKIP" ] || return 0
	postfix_wait_queue_empty 5 >/dev/null 2>&1 || true
	postfix_clear
}

# --- helpers ------------------------------------------------------------------

write_message() {
	{
		printf 'From: Sender <sender@client.test>\n'
		printf 'To: Alice <alice@example.test>\n'
		printf 'Subject: over TLS, authenticated\n'
		printf 'Date: Sat, 01 Feb 2025 10:00:00 +0100\n'
		printf 'Message-ID: <secure.1@client.test>\n'
		printf '\n'
		printf 'First line.\n'
		printf '\n'
		printf 'trailing blanks   \n'
		printf '\ttab-indented line\n'
		printf '.leading dot\n'
		printf 'last line\n'
	} >"$1"
}

# pf_conf MODE LINE...: write $conf (mode 600 from the start) for the
# submission port of MODE (starttls or implicit): host, port, TLS with the
# test CA, the user, then the LINEs (auth, password, ...).
pf_conf() {
	local mode=$1 port starttls
	shift
	case $mode in
	starttls) port=$PF_SUBMIT_PORT starttls=on ;;
	implicit) port=$PF_SUBMITS_PORT starttls=off ;;
	*) die "pf_conf: mode starttls or implicit, not '$mode'" || return 1 ;;
	esac
	(
		umask 077
		{
			printf 'defaults\n'
			printf 'host 127.0.0.1\nport %s\ndomain client.test\n' "$port"
			printf 'tls on\ntls_starttls %s\ntls_trust_file %s\n' \
				"$starttls" "$PF_CERTS/ca.pem"
			printf 'user %s\n' "$PF_SASL_USER"
			printf '%s\n' "$@"
		} >"$conf"
	)
	chmod 600 "$conf"
}

# pf_submit EXPECTED_STATUS ARGS...: mailpost -C $conf ARGS <$msg to
# alice@example.test; on a wrong exit status show Postfix's log too.
pf_submit() {
	local want=$1
	shift
	run_mailpost "$want" -C "$conf" "$@" -f sender@client.test \
		alice@example.test <"$msg" || {
		postfix_log_tail 15 >&2
		return 1
	}
}

# Remember where Postfix's log ends; pf_log_since prints what came after.
pf_log_mark() {
	PF_LOG_MARK=$(wc -l <"$PF_LOG" 2>/dev/null || echo 0)
}

pf_log_since() {
	tail -n "+$((PF_LOG_MARK + 1))" "$PF_LOG" 2>/dev/null
}

# pf_assert_sasl_method MECH: Postfix logged an accepted message from a
# client authenticated with MECH since the mark.
pf_assert_sasl_method() {
	if ! pf_log_since | grep -q "client=.*, sasl_method=$1, sasl_username=$PF_SASL_USER"; then
		die "Postfix logged no message authenticated with $1; its log since the test began:" \
			"$(pf_log_since)"
	fi
}

# pf_assert_no_auth_attempt: no AUTH reached Postfix since the mark (smtpd
# logs auth=N/M on the disconnect line and a warning on each failure).  The
# disconnect line is logged after the client is gone: wait for it (at most
# 10 s), then look.
pf_assert_no_auth_attempt() {
	local k
	for ((k = 0; k < 500; k++)); do
		pf_log_since | grep -q 'disconnect from' && break
		sleep 0.02
	done
	pf_log_since | grep -q 'disconnect from' ||
		die "Postfix logged no disconnect within 10 s; its log since the mark:" \
			"$(pf_log_since)" || return 1
	if pf_log_since | grep -Eq 'auth=|sasl_|SASL'; then
		die "an AUTH reached Postfix; its log since the test began:" \
			"$(pf_log_since)"
	fi
}

# pf_delivered_intact: exactly one message reached alice, headers kept and
# body byte-exact (with LF line endings, as Postfix stores it).
pf_delivered_intact() {
	local f
	postfix_wait_delivered 1 || return 1
	f=$(postfix_one alice@example.test) || return 1
	python3 "$MSGCHECK" "$f" check || return 1
	python3 "$MSGCHECK" "$f" same-as "$msg" || return 1
	postfix_wait_queue_empty || return 1
	assert_equal 1 "$(postfix_delivered | wc -l)" "messages delivered"
}

# pf_nothing_delivered: no message reached a Maildir or is in the queue.
# Once mailpost has exited, a message Postfix accepted is in its queue or
# already delivered (see postfix_wait_queue_empty), so no pause is needed.
pf_nothing_delivered() {
	local n q
	n=$(postfix_delivered | wc -l)
	q=$(postfix_queue_count)
	if [ "$n" -ne 0 ] || [ "$q" -ne 0 ]; then
		echo "want nothing delivered; $n delivered, $q queued:" >&2
		postfix_delivered >&2
		postfix_log_tail 10 >&2
		return 1
	fi
}

# --- the instance itself (no mailpost): tells a server problem from a
# client one --------------------------------------------------------------------

@test "postfix-secure: the instance takes AUTH PLAIN from swaks over STARTTLS and implicit TLS" {
	command -v swaks >/dev/null || skip "swaks is not installed"
	perl -MNet::SSLeay -e 1 2>/dev/null ||
		skip "swaks needs Net::SSLeay (libnet-ssleay-perl) for TLS"
	local out
	# swaks takes the password from its environment: not on a command line.
	out=$(SWAKS_OPT_auth_password=$PF_SASL_PASSWORD timeout 30 swaks \
		--server 127.0.0.1 --port "$PF_SUBMIT_PORT" --tls \
		--tls-verify --tls-ca-path "$PF_CERTS/ca.pem" \
		--auth PLAIN --auth-user "$PF_SASL_USER" \
		-f sender@client.test -t alice@example.test \
		--helo client.test --body 'swaks starttls' 2>&1) ||
		die "swaks over STARTTLS failed:" "$out" "$(postfix_log_tail 10)"
	out=$(SWAKS_OPT_auth_password=$PF_SASL_PASSWORD timeout 30 swaks \
		--server 127.0.0.1 --port "$PF_SUBMITS_PORT" --tls-on-connect \
		--tls-verify --tls-ca-path "$PF_CERTS/ca.pem" \
		--auth PLAIN --auth-user "$PF_SASL_USER" \
		-f sender@client.test -t alice@example.test \
		--helo client.test --body 'swaks implicit' 2>&1) ||
		die "swaks over implicit TLS failed:" "$out" "$(postfix_log_tail 10)"
	postfix_wait_delivered 2
	pf_assert_sasl_method PLAIN
}

@test "postfix-secure: the plain ports offer neither STARTTLS nor AUTH" {
	run_mailpost 0 -v -C /dev/null --host 127.0.0.1 --port "$PF_PORT" \
		--domain client.test -f sender@client.test alice@example.test <"$msg"
	assert_stderr_lacks STARTTLS
	assert_stderr_lacks 'AUTH'
	pf_delivered_intact
}

# --- mailpost -------------------------------------------------------------------

@test "postfix-secure: STARTTLS + AUTH PLAIN delivers byte-exact" {
	pf_conf starttls 'auth plain' "password $PF_SASL_PASSWORD"
	pf_submit 0
	pf_delivered_intact
	pf_assert_sasl_method PLAIN
	run python3 "$MSGCHECK" "$(postfix_one alice@example.test)" return-path
	assert_equal sender@client.test "$output" "Return-Path"
}

@test "postfix-secure: implicit TLS + AUTH PLAIN delivers byte-exact" {
	pf_conf implicit 'auth plain' "password $PF_SASL_PASSWORD"
	pf_submit 0
	pf_delivered_intact
	pf_assert_sasl_method PLAIN
}

# pf_mech_delivers MODE CONFIG-AUTH LOGGED-MECH
pf_mech_delivers() {
	pf_conf "$1" "auth $2" "password $PF_SASL_PASSWORD"
	pf_submit 0 || return 1
	pf_delivered_intact || return 1
	pf_assert_sasl_method "$3"
}

@test "postfix-secure: STARTTLS + AUTH LOGIN delivers" {
	pf_mech_delivers starttls login LOGIN
}

@test "postfix-secure: STARTTLS + AUTH CRAM-MD5 delivers" {
	pf_mech_delivers starttls cram-md5 CRAM-MD5
}

@test "postfix-secure: STARTTLS + AUTH SCRAM-SHA-1 delivers" {
	pf_mech_delivers starttls scram-sha-1 SCRAM-SHA-1
}

@test "postfix-secure: STARTTLS + AUTH SCRAM-SHA-256 delivers" {
	pf_mech_delivers starttls scram-sha-256 SCRAM-SHA-256
}

@test "postfix-secure: implicit TLS + AUTH SCRAM-SHA-256 delivers" {
	pf_mech_delivers implicit scram-sha-256 SCRAM-SHA-256
}

# Postfix gives Cyrus no channel binding, so no -PLUS form is offered: the
# strongest both sides have is SCRAM-SHA-256.
@test "postfix-secure: auth on picks SCRAM-SHA-256 (STARTTLS and implicit TLS)" {
	pf_mech_delivers starttls on SCRAM-SHA-256
	postfix_clear
	pf_log_mark
	pf_mech_delivers implicit on SCRAM-SHA-256
}

@test "postfix-secure: the mechanism names are case-insensitive (auth Scram-Sha-1)" {
	pf_mech_delivers starttls Scram-Sha-1 SCRAM-SHA-1
}

@test "postfix-secure: the password from passwordeval delivers" {
	local pwfile=$BATS_TEST_TMPDIR/pw
	(umask 077; printf '%s\n' "$PF_SASL_PASSWORD" >"$pwfile")
	pf_conf starttls 'auth on' "passwordeval cat $pwfile"
	pf_submit 0
	pf_delivered_intact
	pf_assert_sasl_method SCRAM-SHA-256
}

@test "postfix-secure: a wrong password gives exit 77 with the server's reply, nothing delivered" {
	local mech
	for mech in plain login cram-md5 scram-sha-1 scram-sha-256 on; do
		pf_conf starttls "auth $mech" "password Wrong${PF_SASL_PASSWORD}"
		pf_submit 77
		assert_stderr_contains '5.7.8'
		# who, with which mechanism, where
		assert_stderr_contains "authentication as $PF_SASL_USER with "
		assert_stderr_contains " at 127.0.0.1 (account default) failed: 535"
		assert_stderr_contains "; check the user name and the password"
	done
	pf_conf implicit 'auth plain' "password Wrong${PF_SASL_PASSWORD}"
	pf_submit 77
	assert_stderr_contains '5.7.8'
	pf_nothing_delivered
	# Postfix saw the attempts and took none of them.
	if pf_log_since | grep -q 'sasl_method='; then
		die "Postfix accepted an authentication:" "$(pf_log_since)"
	fi
}

@test "postfix-secure: an unknown user gives exit 77, nothing delivered" {
	pf_conf starttls 'auth scram-sha-256' "password $PF_SASL_PASSWORD"
	sed -i "s/^user .*/user nosuchuser/" "$conf"
	pf_submit 77
	assert_stderr_contains '5.7.8'
	pf_nothing_delivered
}

# The submission ports relay nothing without AUTH: "554 5.7.1 ... Access
# denied" to RCPT, a security/policy status (5.7.x): exit 77.
@test "postfix-secure: no AUTH on the port that requires it gives exit 77, nothing delivered" {
	pf_conf starttls
	pf_submit 77
	assert_stderr_contains 'alice@example.test'
	assert_stderr_contains '5.7.1'
	pf_nothing_delivered

	pf_log_mark
	pf_conf implicit 'auth off'
	pf_submit 77
	assert_stderr_contains '5.7.1'
	pf_nothing_delivered
}

# Without TLS the STARTTLS port refuses MAIL with "530 5.7.0 Must issue a
# STARTTLS command first" and offers no AUTH.
@test "postfix-secure: no TLS on the port that requires it gives exit 77, nothing delivered" {
	run_mailpost 77 -C /dev/null --host 127.0.0.1 --port "$PF_SUBMIT_PORT" \
		--domain client.test -f sender@client.test alice@example.test <"$msg"
	assert_stderr_contains '5.7.0'
	pf_nothing_delivered
}

@test "postfix-secure: a trust file without the server's CA gives exit 76; no AUTH sent, nothing delivered" {
	local mode
	for mode in starttls implicit; do
		pf_log_mark
		pf_conf "$mode" 'auth plain' "password $PF_SASL_PASSWORD"
		sed -i "s|^tls_trust_file .*|tls_trust_file $PF_CERTS/other-ca.pem|" "$conf"
		pf_submit 76
		pf_assert_no_auth_attempt
		pf_nothing_delivered
	done
}

# --- secrets --------------------------------------------------------------------

# pf_assert_no_secret PASSWORD FILE...: none of the FILEs holds PASSWORD, the
# PLAIN response for it, the base64 of the user name or of PASSWORD, or any
# base64 text (at any alignment) that decodes to something containing it.
pf_assert_no_secret() {
	local pw=$1
	shift
	PF_PW=$pw PF_USER=$PF_SASL_USER python3 - "$@" <<'EOF'
import base64, os, re, sys
pw = os.environ["PF_PW"].encode()
user = os.environ["PF_USER"].encode()
b64 = lambda b: base64.b64encode(b)
needles = {
    pw: "the password",
    b64(b"\0" + user + b"\0" + pw): "base64 of \\0user\\0password (PLAIN)",
    b64(user + b"\0" + user + b"\0" + pw): "base64 of user\\0user\\0password",
    b64(user): "base64 of the user name (LOGIN)",
    b64(pw): "base64 of the password (LOGIN)",
}
bad = []
for name in sys.argv[1:]:
    data = open(name, "rb").read()
    for needle, what in needles.items():
        if needle in data:
            bad.append(f"{name}: {what}: {needle.decode()}")
    # Any base64 run, decoded at each alignment, must not hold the password.
    for run in re.findall(rb"[A-Za-z0-9+/]{8,}={0,2}", data):
        for k in range(4):
            part = run[k:].rstrip(b"=")
            part = part[: len(part) - len(part) % 4]
            try:
                dec = base64.b64decode(part)
            except Exception:
                continue
            if pw in dec:
                bad.append(f"{name}: base64 text holding the password: {run.decode()}")
if bad:
    print("secret found in the output:", *bad, sep="\n", file=sys.stderr)
    sys.exit(1)
EOF
}

@test "postfix-secure: no password or base64 form of it at -vv, in stdout, stderr or the log file" {
	local log=$BATS_TEST_TMPDIR/mailpost.log pwfile=$BATS_TEST_TMPDIR/pw
	local n=0 mode mech pw src want
	(umask 077; printf '%s\n' "$PF_SASL_PASSWORD" >"$pwfile")
	for mode in starttls implicit; do
		for mech in plain login cram-md5 scram-sha-1 scram-sha-256 on; do
			for src in password passwordeval wrong; do
				pw=$PF_SASL_PASSWORD want=0
				case $src in
				password) set -- "password $pw" ;;
				passwordeval) set -- "passwordeval cat $pwfile" ;;
				wrong)
					pw=Wrong$PF_SASL_PASSWORD want=77
					set -- "password $pw"
					;;
				esac
				n=$((n + 1))
				rm -f "$log"
				pf_conf "$mode" "auth $mech" "$@" "logfile $log"
				pf_submit "$want" -vv
				printf '%s' "$output" >"$BATS_TEST_TMPDIR/stdout.$n"
				printf '%s' "$stderr" >"$BATS_TEST_TMPDIR/stderr.$n"
				[ -s "$log" ] || die "$mode $mech $src: no log file written"
				# It did authenticate (or try): the transcript shows AUTH,
				# marked as sent inside TLS.
				grep -q ' ~> AUTH ' "$BATS_TEST_TMPDIR/stderr.$n" ||
					die "$mode $mech $src: no AUTH in the -vv transcript:" "$stderr"
				pf_assert_no_secret "$pw" "$BATS_TEST_TMPDIR/stdout.$n" \
					"$BATS_TEST_TMPDIR/stderr.$n" "$log" ||
					die "in: $mode, auth $mech, $src"
				if [ "$src" != wrong ]; then
					postfix_wait_delivered 1 || return 1
				fi
				postfix_clear
			done
		done
	done
	# The wrong password is the real one with a prefix: check for both.
	pf_assert_no_secret "$PF_SASL_PASSWORD" "$BATS_TEST_TMPDIR"/stdout.* \
		"$BATS_TEST_TMPDIR"/stderr.*
}

# --- testing the server without a message (--quit-after) and with --test ------------

# pf_disconnect_line: Postfix's disconnect line for the session since the
# mark (smtpd counts each command: "ehlo=2 starttls=1 auth=1 quit=1
# commands=5"), waited for as pf_assert_no_auth_attempt does.
pf_disconnect_line() {
	local k
	for ((k = 0; k < 500; k++)); do
		pf_log_since | grep -q 'disconnect from' && break
		sleep 0.02
	done
	pf_log_since | grep 'disconnect from' | tail -n 1
}

# pf_quit_after EXIT STEP MODE CONFIG-LINES...: mailpost --quit-after STEP
# against the submission port of MODE; standard input is closed, so a
# run that wanted a message would fail.
pf_quit_after() {
	local want=$1 step=$2 mode=$3
	shift 3
	pf_conf "$mode" "$@"
	run_mailpost "$want" -C "$conf" --quit-after "$step" -f sender@client.test \
		alice@example.test <&- || {
		postfix_log_tail 15 >&2
		return 1
	}
}

@test "postfix-secure: --quit-after tls over STARTTLS: TLS verified, QUIT, no AUTH, nothing delivered" {
	pf_quit_after 0 tls starttls 'auth plain' "password $PF_SASL_PASSWORD"
	assert_stderr_contains "every step up to tls succeeded"
	local line
	line=$(pf_disconnect_line)
	[[ "$line" == *"ehlo=2 starttls=1 quit=1 commands=4"* ]] ||
		die "Postfix saw another session than EHLO STARTTLS EHLO QUIT:" "$line"
	pf_assert_no_auth_attempt
	pf_nothing_delivered
}

@test "postfix-secure: --quit-after auth over STARTTLS and implicit TLS: authenticated, QUIT, no MAIL" {
	local mode line
	for mode in starttls implicit; do
		pf_log_mark
		pf_quit_after 0 auth "$mode" 'auth on' "password $PF_SASL_PASSWORD"
		assert_stderr_contains "every step up to auth succeeded"
		line=$(pf_disconnect_line)
		[[ "$line" == *" auth=1 quit=1 "* && "$line" != *"mail="* ]] ||
			die "Postfix ($mode) saw no AUTH then QUIT, or a MAIL:" "$line"
	done
	pf_nothing_delivered
}

@test "postfix-secure: --quit-after auth with a wrong password: 77, nothing delivered or queued" {
	local q="$BATS_TEST_TMPDIR/queue"
	pf_quit_after 77 auth implicit 'auth plain' "password wrong-$PF_SASL_PASSWORD" \
		"queue on-failure" "queue_dir $q" "dead_letter $BATS_TEST_TMPDIR/dead.letter"
	assert_stderr_contains "mailpost: "
	assert_stderr_lacks "stopped there"
	pf_nothing_delivered
	assert_equal 0 "$(find "$q" -type f 2>/dev/null | wc -l)" "files in mailpost's queue"
	[[ ! -e "$BATS_TEST_TMPDIR/dead.letter" ]] || die "a dead letter was written"
}

@test "postfix-secure: --test is delivered over STARTTLS with AUTH, its subject naming this host" {
	pf_conf starttls 'auth on' "password $PF_SASL_PASSWORD"
	run_mailpost 0 -C "$conf" --test -f sender@client.test alice@example.test <&- || {
		postfix_log_tail 15 >&2
		return 1
	}
	postfix_wait_delivered 1
	local f
	f=$(postfix_one alice@example.test)
	python3 "$MSGCHECK" "$f" check
	grep -q "^Subject: mailpost test message from $(hostname | cut -d. -f1)" "$f" ||
		die "the delivered message has no test subject:" "$(cat "$f")"
	grep -q "^Server:      127.0.0.1 port $PF_SUBMIT_PORT, SMTP" "$f" ||
		die "the body does not name the server:" "$(cat "$f")"
	grep -q '^TLS:         STARTTLS' "$f" || die "the body does not name STARTTLS:" "$(cat "$f")"
	pf_assert_sasl_method SCRAM-SHA-256
}

# --- the probe (--serverinfo, --tls-get-peer-cert) --------------------------

# The report's part from the line starting with FROM to the next blank line.
report_section() {
	awk -v from="$1" 'index($0, from) == 1 { on = 1 } on && $0 == "" { exit } on' <<<"$output"
}

@test "postfix-secure: --serverinfo over STARTTLS: AUTH only inside TLS, the chain verified, nothing authenticated" {
	pf_conf starttls "auth on"
	run_mailpost 0 -C "$conf" --serverinfo
	local clear inside fp
	clear=$(report_section "Capabilities in the clear")
	inside=$(report_section "Capabilities inside TLS, after STARTTLS")
	[[ "$clear" == *"TLS can be started on this connection"* ]] || die "clear part:" "$output"
	[[ "$clear" != *"authentication with"* ]] || die "AUTH offered in the clear:" "$output"
	[[ "$inside" == *"authentication with"*"(RFC 4954)"* ]] || die "no AUTH inside TLS:" "$output"
	! grep -q '^  STARTTLS ' <<<"$inside" || die "STARTTLS offered inside TLS:" "$output"
	[[ "$output" == *"Verification:  verified: chain to mailpost test CA (tls_trust_file $PF_CERTS/ca.pem)"* ]] ||
		die "not verified:" "$output"
	fp=$(openssl x509 -in "$PF_CERTS/server.pem" -noout -fingerprint -sha256 | sed 's/^.*=//')
	[[ "$output" == *"SHA-256:   $fp"* ]] || die "no fingerprint $fp:" "$output"
	pf_assert_no_auth_attempt
}

@test "postfix-secure: --serverinfo over implicit TLS, and --tls-get-peer-cert's chain read by certtool" {
	pf_conf implicit
	run_mailpost 0 -C "$conf" --serverinfo --tls-get-peer-cert="$BATS_TEST_TMPDIR/chain.pem"
	[[ "$output" == *"TLS:         implicit TLS"* ]] || die "$output"
	[[ "$(report_section "Capabilities inside TLS (EHLO)")" == *"authentication with"* ]] ||
		die "no AUTH inside implicit TLS:" "$output"
	[[ "$output" != *"STARTTLS:"* ]] || die "STARTTLS with implicit TLS:" "$output"
	certtool -i --infile "$BATS_TEST_TMPDIR/chain.pem" | grep -q "Subject: CN=localhost" ||
		die "certtool cannot read the chain"
	pf_assert_no_auth_attempt
}
