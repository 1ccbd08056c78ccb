#!/usr/bin/env bats
# 65-auth: SMTP AUTH against the scripted server (tests/lib/smtpd.py): every
# mechanism over TLS, the automatic choice, clear text on loopback and off
# it, each failure reply and its exit code, malformed challenges, SCRAM
# servers that do not prove themselves, passwordeval and the permission
# check, and the leak test: every authenticated path at -vv with a log
# file, searched for the password, the token and their base64 forms.

load lib/helpers

USER_=alice
PASS='Xq7-pencil-Zr9'
TOKEN='ya29.A0ARrdaM-tokenQ7xZ'

setup() {
	mailpost_setup
	MSG="$(make_message)"
	tls_certs
}

# A STARTTLS server with the test certificate that offers AUTH MECHS (one
# string) inside TLS only; the account alice has PASS, and TOKEN for the
# bearer mechanisms comes from an extra "user alice TOKEN" line.  Extra script
# lines follow.
auth_script() {
	local mechs="$1"
	shift
	tls_cert_line server
	printf '%s\n' "caps PIPELINING, 8BITMIME, STARTTLS" \
		"tls-caps PIPELINING, 8BITMIME, AUTH $mechs" "user $USER_ $PASS" "$@"
}

# The account: STARTTLS against the test CA, user alice, plus LINEs.
auth_config() {
	write_config "tls on" "tls_trust_file $CERTS/ca.pem" "user $USER_" "$@"
}

# Every string a transcript or log must never hold for this exchange: the
# secrets, their base64 forms, and every AUTH response the client sent (as
# the server recorded them; SCRAM proofs, CRAM digests, "=" and "*" aside).
secrets_of_run() {
	printf '%s\n' "$PASS" "$TOKEN" "$(b64 "$PASS")" "$(b64 "\\0$USER_\\0$PASS")" \
		"$(b64 "$USER_\\0$USER_\\0$PASS")" "$(b64 "$TOKEN")" \
		"$(b64 "user=$USER_\\001auth=Bearer $TOKEN\\001\\001")" "Bearer $TOKEN"
	[[ -s "$SMTPD_DIR/commands" ]] || return 0
	sed -n 's/^[0-9]* [a-z]* > //p; s/^[0-9]* [a-z]* AUTH [^ ]* //p' "$SMTPD_DIR/commands" |
		awk 'length($0) >= 8'
}

# Run FILES through assert_no_secret for every secret of the run.
assert_no_leak() {
	local s
	smtpd_finish || return 1
	while IFS= read -r s; do
		assert_no_secret "$s" "$@" || return 1
	done < <(secrets_of_run)
}

# auth_ok MECH CONFIG-LINE...: AUTH MECH succeeds over TLS and the message
# goes; run at -vv with a log file, and nothing secret shows.
auth_ok() {
	local mech="$1" log="$BATS_TEST_TMPDIR/mailpost.log"
	shift
	rm -f "$log"
	auth_config "logfile $log" "$@"
	run_send 0 -v -v bob@example.net <"$MSG" || die "(AUTH $mech)" || return 1
	assert_auth_record "$mech user=" || return 1
	assert_auth_record "reply=235 tls" || return 1
	assert_over_tls AUTH MAIL || return 1
	assert_message 1 "$MSG_SIMPLE_CRLF" || return 1
	assert_no_problems || return 1
	assert_no_leak "$log" || die "(AUTH $mech)"
}

# --- each mechanism over TLS ----------------------------------------------------

@test "AUTH PLAIN over TLS" {
	start_smtpd "$(auth_script "PLAIN LOGIN")"
	auth_ok PLAIN "auth plain" "password $PASS"
}

@test "AUTH LOGIN over TLS" {
	start_smtpd "$(auth_script "PLAIN LOGIN")"
	auth_ok LOGIN "auth login" "password $PASS"
}

@test "AUTH CRAM-MD5 over TLS" {
	start_smtpd "$(auth_script "CRAM-MD5 PLAIN")"
	auth_ok CRAM-MD5 "auth cram-md5" "password $PASS"
}

@test "AUTH SCRAM-SHA-1 over TLS" {
	start_smtpd "$(auth_script "SCRAM-SHA-1")"
	auth_ok SCRAM-SHA-1 "auth scram-sha-1" "password $PASS"
}

@test "AUTH SCRAM-SHA-256 over TLS" {
	start_smtpd "$(auth_script "SCRAM-SHA-256")"
	auth_ok SCRAM-SHA-256 "auth scram-sha-256" "password $PASS"
}

@test "AUTH SCRAM-SHA-256-PLUS over TLS 1.2 (tls-unique channel binding)" {
	start_smtpd "$(auth_script "SCRAM-SHA-256-PLUS SCRAM-SHA-256" "option tls12")"
	auth_ok SCRAM-SHA-256-PLUS "auth scram-sha-256" "password $PASS"
}

@test "AUTH XOAUTH2 over TLS, the token from passwordeval" {
	start_smtpd "$(auth_script "XOAUTH2 PLAIN")"$'\n'"user $USER_ $TOKEN"
	auth_ok XOAUTH2 "auth xoauth2" "passwordeval echo $TOKEN"
}

@test "AUTH OAUTHBEARER over TLS, the token from passwordeval" {
	start_smtpd "$(auth_script "OAUTHBEARER PLAIN")"$'\n'"user $USER_ $TOKEN"
	auth_ok OAUTHBEARER "auth oauthbearer" "passwordeval echo $TOKEN"
}

@test "AUTH EXTERNAL over TLS with the client certificate" {
	start_smtpd "$(auth_script "EXTERNAL PLAIN" "tls-client-ca $CERTS/ca.pem")"
	auth_ok EXTERNAL "auth external" "tls_cert_file $CERTS/client.pem" \
		"tls_key_file $CERTS/client.key"
	assert_auth_record "EXTERNAL user=mailpost test client reply=235 tls"
}

@test "auth on chooses the strongest offered: SCRAM-SHA-256 over SCRAM-SHA-1, PLAIN, LOGIN" {
	start_smtpd "$(auth_script "LOGIN PLAIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256")"
	auth_ok SCRAM-SHA-256 "auth on" "password $PASS"
	assert_auth_record "conn 1: SCRAM-SHA-256 user=alice reply=235 tls"

	# and PLAIN over LOGIN (CRAM-MD5 only when named)
	start_smtpd "$(auth_script "LOGIN CRAM-MD5 PLAIN")"
	auth_ok PLAIN "auth on" "password $PASS"
}

@test "auth on, the server required AUTH before MAIL: authenticates first" {
	start_smtpd "$(auth_script "PLAIN" "option auth-required")"
	auth_ok PLAIN "auth on" "password $PASS"
}

# --- clear text ---------------------------------------------------------------------

@test "PLAIN without TLS to 127.0.0.1 is allowed (loopback)" {
	start_smtpd $'caps PIPELINING, AUTH PLAIN\n'"user $USER_ $PASS"
	write_config "user $USER_" "auth plain" "password $PASS"
	run_send 0 bob@example.net <"$MSG"
	assert_auth_record "conn 1: PLAIN user=alice reply=235 clear"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "the reply to AUTH dribbled line by line must arrive whole within one timeout (75)" {
	# 20 lines of about 0.3 s each: each within the 1 s timeout, the
	# whole reply not.
	local reply="235-first" k t0
	for ((k = 1; k < 20; k++)); do reply+='\n'"235-line $k"; done
	reply+='\n235 2.7.0 ok'
	start_smtpd $'caps PIPELINING, AUTH PLAIN\n'"user $USER_ $PASS"$'\non AUTHDONE\n  dribble 0.03\n  reply '"$reply"
	write_config "user $USER_" "auth plain" "password $PASS"
	t0=$SECONDS
	run_send 75 --timeout=1 bob@example.net <"$MSG"
	[[ $((SECONDS - t0)) -le 3 ]] || die "took $((SECONDS - t0)) s"
	assert_stderr_contains "timed out after 1 s waiting for the rest of a reply"
	assert_no_command MAIL
}

@test "SCRAM: a huge or malformed server-first message is 76 at once, before any computing" {
	# i=2147483647 would take libgsasl many minutes of PBKDF2; the count
	# is capped at 1000000 (mailpost(1)).  The exchange is cancelled.
	local t0
	start_smtpd $'caps PIPELINING, AUTH SCRAM-SHA-256\n'"user $USER_ $PASS"$'\noption scram-iterations 2147483647'
	write_config "user $USER_" "auth scram-sha-256" "password $PASS"
	t0=$SECONDS
	run_send 76 bob@example.net <"$MSG"
	[[ $((SECONDS - t0)) -le 3 ]] || die "took $((SECONDS - t0)) s"
	assert_stderr_contains "the server asks for 2147483647 iterations, more than the 1000000 mailpost allows"
	assert_stderr_line_count 1
	assert_received_contains $'\r\n*\r\n'
	assert_no_command MAIL
	# a server-first message whose nonce is not ours extended
	start_smtpd $'caps PIPELINING, AUTH SCRAM-SHA-256\n'"user $USER_ $PASS"$'\non AUTH 334 '"$(b64 'r=not-our-nonce,s=c2FsdA==,i=4096')"
	run_send 76 bob@example.net <"$MSG"
	assert_stderr_contains "its nonce does not extend ours"
	assert_no_command MAIL
	# a count just right still works
	start_smtpd $'caps PIPELINING, AUTH SCRAM-SHA-256\n'"user $USER_ $PASS"$'\noption scram-iterations 10000'
	run_send 0 bob@example.net <"$MSG"
	assert_auth_record "SCRAM-SHA-256 user=alice reply=235"
}

# The refusal of clear-text mechanisms off loopback is covered by the
# mechanism-choice table in tests/unit/sasl_test.c: exercising it here would
# need a peer outside 127.0.0.0/8, and the suite talks to loopback only.

# --- failures -------------------------------------------------------------------------

@test "AUTH failures: 535 -> 77 with the text, 454 -> 75, 534 -> 77 'too weak', 538 -> 77 'encryption'; no MAIL" {
	local cases=(
		"535 5.7.8 Authentication credentials invalid|77|Authentication credentials invalid"
		"454 4.7.0 Temporary authentication failure|75|Temporary authentication failure"
		"534 5.7.9 Authentication mechanism is too weak|77|too weak"
		"538 5.7.11 Encryption required for requested authentication mechanism|77|encrypt"
	) c reply code text
	for c in "${cases[@]}"; do
		IFS='|' read -r reply code text <<<"$c"
		start_smtpd "$(auth_script "PLAIN")"$'\n'"on AUTHDONE $reply"
		auth_config "auth plain" "password $PASS"
		run_send "$code" bob@example.net <"$MSG" || die "(reply $reply)" || return 1
		assert_stderr_contains "$text" || return 1
		assert_stderr_contains "${reply:0:3}" || return 1
		assert_no_command MAIL || return 1
	done
}

@test "AUTH failure: the account, user, mechanism and server named, the other mechanisms offered, what to do" {
	start_smtpd "$(auth_script "PLAIN LOGIN CRAM-MD5")"$'\n'"on AUTHDONE 535 5.7.8 Authentication credentials invalid"
	auth_config "auth plain" "password $PASS"
	run_send 77 bob@example.net <"$MSG"
	assert_stderr_contains "mailpost: authentication as alice with PLAIN at 127.0.0.1 (account default) failed: 535 5.7.8 Authentication credentials invalid; the server also offers LOGIN, CRAM-MD5; check the user name and the password, or choose another mechanism with --auth=MECH"

	# a named account; a server with no other mechanism
	start_smtpd "$(auth_script "PLAIN")"$'\n'"on AUTHDONE 535 5.7.8 no"
	auth_config "account work" "auth plain" "password $PASS"
	run_send 77 -A work bob@example.net <"$MSG"
	assert_stderr_contains "authentication as alice with PLAIN at 127.0.0.1 (account work) failed: 535 5.7.8 no; the server offers no other mechanism; check the user name and the password"
	assert_stderr_lacks "--auth=MECH"

	# too weak: choose a stronger one
	start_smtpd "$(auth_script "PLAIN SCRAM-SHA-256")"$'\n'"on AUTHDONE 534 5.7.9 too weak"
	auth_config "auth plain" "password $PASS"
	run_send 77 bob@example.net <"$MSG"
	assert_stderr_contains "authentication as alice with PLAIN at 127.0.0.1 (account default) refused, the mechanism too weak for the server: 534 5.7.9 too weak; the server also offers SCRAM-SHA-256; choose a stronger one with --auth=MECH"
}

@test "wrong password: 535 from the server's own check, 77" {
	start_smtpd "$(auth_script "SCRAM-SHA-256 PLAIN")"
	auth_config "auth on" "password wrong-$PASS"
	run_send 77 bob@example.net <"$MSG"
	assert_auth_record "SCRAM-SHA-256 user=alice reply=535 tls"
	assert_no_command MAIL
}

@test "no mechanism in common: 69, the offer named, no AUTH sent" {
	start_smtpd "$(auth_script "CRAM-MD5 GSSAPI")"
	auth_config "auth on" "password $PASS"
	run_send 69 bob@example.net <"$MSG"
	assert_stderr_contains "CRAM-MD5"
	assert_no_command AUTH MAIL

	# no AUTH offered at all
	start_smtpd "$(tls_cert_line server)"$'\ncaps STARTTLS\ntls-caps PIPELINING'
	auth_config "auth on" "password $PASS"
	run_send 69 bob@example.net <"$MSG"
	assert_no_command AUTH MAIL
}

@test "malformed challenge: the client cancels with '*', nothing more, 76" {
	local c
	for c in "on AUTH 334 !!not-base64!!" "on AUTH 334 Zm9v=YmFy"; do
		start_smtpd "$(auth_script "LOGIN")"$'\n'"$c"
		auth_config "auth login" "password $PASS"
		run_send 76 bob@example.net <"$MSG" || die "($c)" || return 1
		grep -qx '1 tls > \*' "$SMTPD_DIR/commands" ||
			die "no '*' response ($c); commands:" "$(cat "$SMTPD_DIR/commands")" || return 1
		assert_auth_record "reply=501 cancelled" || return 1
		assert_no_command MAIL || return 1
		assert_no_leak || return 1
	done
}

@test "endless challenges: the client cancels with '*' after at most 10, 76" {
	start_smtpd "$(auth_script "LOGIN")"$'\n'"on AUTHSTEP 334 $(b64 Again:)"
	auth_config "auth login" "password $PASS"
	run_send 76 bob@example.net <"$MSG"
	smtpd_finish
	local n
	n=$(grep -c '^1 tls > ' "$SMTPD_DIR/commands")
	[[ "$n" -le 11 ]] || die "the client answered $n challenges"
	[[ "$(grep '^1 tls > ' "$SMTPD_DIR/commands" | tail -n 1)" == "1 tls > *" ]] ||
		die "the last response is not '*':" "$(cat "$SMTPD_DIR/commands")"
	assert_no_command MAIL
}

@test "SCRAM: a server that cannot prove it knows the password is refused (bad v=, or no v=); no MAIL" {
	local opt
	for opt in scram-bad-signature scram-no-final; do
		start_smtpd "$(auth_script "SCRAM-SHA-256" "option $opt")"
		auth_config "auth scram-sha-256" "password $PASS"
		run_send 76 bob@example.net <"$MSG" || die "(option $opt)" || return 1
		assert_no_command MAIL || die "(option $opt)" || return 1
	done
}

@test "a server reply that echoes the response or the password is redacted on stderr and in the log" {
	local log="$BATS_TEST_TMPDIR/mailpost.log" mech
	for mech in plain login; do
		start_smtpd - <<-EOF
		$(auth_script "PLAIN LOGIN")
		on AUTHDONE
		  echo 535-5.7.8 rejected:\x20
		  echo-decoded 535 5.7.8 rejected (decoded):\x20
		EOF
		rm -f "$log"
		auth_config "auth $mech" "password $PASS" "logfile $log"
		run_send 77 -v -v bob@example.net <"$MSG" || die "(auth $mech)" || return 1
		assert_stderr_contains "535" || return 1
		assert_line_contains "redacted" || return 1
		assert_no_leak "$log" || die "(auth $mech)" || return 1
	done
}

# --- where the password comes from ------------------------------------------------------

@test "passwordeval: the first line of its output is the password" {
	start_smtpd "$(auth_script "PLAIN")"
	auth_ok PLAIN "auth plain" "passwordeval printf '%s\\nsecond line\\n' '$PASS'"
}

@test "passwordeval at a terminal: its prompt on stderr reaches the user (stderr inherited)" {
	# In the foreground of a terminal the command may ask on its stderr
	# (read -p, a passphrase question), as msmtp lets it; only callers
	# without a terminal get the captured stderr (the test above and the
	# timeout test below).
	command -v script >/dev/null || skip "script(1) (util-linux) is not installed"
	start_smtpd "$(auth_script "PLAIN")"
	auth_config "auth plain" "passwordeval printf 'Passphrase for the vault: ' >&2; echo $PASS"
	run timeout 30 script -qec "$(printf '%q ' "$MAILPOST" -C "$MAILPOST_CONF" \
		--host 127.0.0.1 --port "$SMTPD_PORT" --domain client.test \
		-f alice@example.org bob@example.net) <$(printf '%q' "$MSG")" /dev/null
	[[ "$status" -eq 0 ]] || die "exit $status: $output" || return 1
	[[ "$output" == *"Passphrase for the vault: "* ]] ||
		die "the prompt did not reach the terminal: $output" || return 1
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_no_secret "$PASS"
}

@test "passwordeval failures (exit 1, empty output): 78, no AUTH, the output never shown" {
	local cmd
	for cmd in "echo leaked-$PASS; exit 1" "printf ''" "true" "echo; echo leaked-$PASS"; do
		start_smtpd "$(auth_script "PLAIN")"
		auth_config "auth plain" "passwordeval $cmd"
		run_send 78 bob@example.net <"$MSG" || die "(passwordeval $cmd)" || return 1
		assert_stderr_contains "passwordeval" || return 1
		assert_stderr_lacks "leaked" || return 1
		assert_no_command AUTH MAIL || return 1
	done
}

@test "passwordeval timeout: the whole process group is killed, a caller reading stderr to its end is not kept waiting" {
	# PHP's proc_open and Python's subprocess read stderr until EOF: a
	# background process of the command must not keep it open after
	# mailpost exited.  The caller runs mailpost in a session of its own
	# (no terminal), as PHP-FPM and cron do.
	start_smtpd "$(auth_script "PLAIN")"
	auth_config "auth plain" "passwordeval_timeout 1" \
		"passwordeval echo \$\$ >$BATS_TEST_TMPDIR/pgid; echo still thinking >&2; sleep 60 & sleep 60"
	run "$SMTPD_PYTHON" - "$MAILPOST" -C "$MAILPOST_CONF" --host 127.0.0.1 \
		--port "$SMTPD_PORT" --domain client.test -f alice@example.org \
		bob@example.net <<-EOF
	import os, subprocess, sys, time
	t = time.monotonic()
	try:
	    p = subprocess.run(sys.argv[1:], stdin=open("$MSG", "rb"),
	                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
	                       timeout=15, start_new_session=True)
	except subprocess.TimeoutExpired:
	    sys.exit("reading mailpost's stderr to its end did not return")
	print("exit", p.returncode, "after %.1f s" % (time.monotonic() - t))
	print("stderr", p.stderr.decode(errors="replace").strip())
	pgid = int(open("$BATS_TEST_TMPDIR/pgid").read())
	deadline = time.monotonic() + 2
	while True:
	    left = []
	    for pid in filter(str.isdigit, os.listdir("/proc")):
	        try:
	            stat = open("/proc/%s/stat" % pid).read()
	        except OSError:
	            continue
	        fields = stat[stat.rindex(")") + 2:].split()
	        if int(fields[2]) == pgid and fields[0] not in "ZX":
	            left.append(pid)
	    if not left or time.monotonic() > deadline:
	        break
	    time.sleep(0.02)
	print("left", " ".join(left) or "none")
	EOF
	[[ "$status" -eq 0 ]] || die "caller failed ($status):" "$output"
	[[ "${lines[0]}" =~ ^exit\ 78\ after\ [1-2]\.[0-9]\ s$ ]] || die "caller saw:" "$output"
	[[ "${lines[1]}" == "stderr mailpost: passwordeval command did not finish within 1000 ms and was killed (see passwordeval_timeout); it said: still thinking"* ]] ||
		die "stderr:" "$output"
	[[ "${lines[2]}" == "left none" ]] || die "processes of the command's group survived:" "$output"
	assert_no_command AUTH MAIL
}

@test "a password or a passwordeval in a config that others can read: 78, nothing run or sent" {
	local line mode
	for line in "password $PASS" "passwordeval touch $BATS_TEST_TMPDIR/ran; echo $PASS"; do
		for mode in 644 640 606; do
			start_smtpd "$(auth_script "PLAIN")"
			auth_config "auth plain" "$line"
			chmod "$mode" "$MAILPOST_CONF"
			run_send 78 bob@example.net <"$MSG" || die "($line, mode $mode)" || return 1
			assert_stderr_contains "$MAILPOST_CONF" || return 1
			assert_stderr_lacks "$PASS" || return 1
			[[ ! -e "$BATS_TEST_TMPDIR/ran" ]] || die "passwordeval ran from a mode $mode file" || return 1
			assert_no_command AUTH MAIL || return 1
		done
	done
}

# --- one-off password sources on the command line ---------------------------------------

# pass_ok ARGS...: AUTH PLAIN with the password from the command line's
# source goes through at -vv with a log file, the account's own (wrong)
# password replaced, and nothing secret shows.  A password file for the
# sources that read one: $BATS_TEST_TMPDIR/pass.
pass_ok() {
	local log="$BATS_TEST_TMPDIR/mailpost.log"
	rm -f "$log"
	auth_config "auth plain" "password wrong-$PASS" "logfile $log"
	run_send 0 -v -v "$@" bob@example.net <"$MSG" || return 1
	assert_auth_record "PLAIN user=$USER_ reply=235 tls" || return 1
	assert_message 1 "$MSG_SIMPLE_CRLF" || return 1
	assert_no_leak "$log"
}

@test "--passwordeval: the command's first line is the password; it reaches the shell outside argv" {
	start_smtpd "$(auth_script "PLAIN")"
	printf '%s\nsecond line\n' "$PASS" >"$BATS_TEST_TMPDIR/pass"
	# The shell records its own argv, then prints the password from a file.
	pass_ok --passwordeval "tr '\\0' ' ' </proc/\$\$/cmdline >$BATS_TEST_TMPDIR/argv; cat $BATS_TEST_TMPDIR/pass" || return 1
	assert_stderr_contains "password from passwordeval" || return 1
	[[ -s "$BATS_TEST_TMPDIR/argv" ]] || die "the command did not run"
	! grep -qF -e "$BATS_TEST_TMPDIR/pass" -e "$PASS" "$BATS_TEST_TMPDIR/argv" ||
		die "the shell's argv holds the command or the password:" "$(cat "$BATS_TEST_TMPDIR/argv")"
}

@test "--password-fd N: the first line of descriptor N is the password" {
	start_smtpd "$(auth_script "PLAIN")"
	printf '%s\nsecond line\n' "$PASS" >"$BATS_TEST_TMPDIR/pass"
	pass_ok --password-fd 5 5<"$BATS_TEST_TMPDIR/pass" || return 1
	assert_stderr_contains "password from passwordfd"
	# a pipe, as from a password manager
	start_smtpd "$(auth_script "PLAIN")"
	pass_ok --password-fd 6 6< <(printf '%s\n' "$PASS")
}

@test "--password-env VAR: the variable's value is the password" {
	start_smtpd "$(auth_script "PLAIN")"
	MP_TEST_PASS="$PASS" pass_ok --password-env MP_TEST_PASS || return 1
	assert_stderr_contains "password from passwordenv"
}

@test "--password-env VAR: no other account's passwordeval inherits VAR, even when its own account never reads it" {
	local env="$BATS_TEST_TMPDIR/env"
	start_smtpd "$(printf '%s\n' "caps PIPELINING, AUTH PLAIN" "user $USER_ $PASS")"
	# The first account needs no password and cannot connect; its
	# fallback's command records its environment.
	write_config "tls off" "user $USER_" "from a@example.org" "queue never" \
		"account first" "host 127.0.0.1" "port $(unused_port)" "auth off" \
		"fallback_account second" \
		"account second" "host 127.0.0.1" "port $SMTPD_PORT" "auth plain" \
		"auth_plaintext on" "passwordeval env >$env; echo $PASS" \
		"account default : first"
	MP_TEST_PASS="$PASS" run_mailpost 0 -C "$MAILPOST_CONF" --password-env MP_TEST_PASS \
		bob@example.net <"$MSG" || return 1
	assert_auth_record "PLAIN user=$USER_ reply=235 clear" || return 1
	[[ -s "$env" ]] || die "the fallback's command did not run" || return 1
	! grep -q -e MP_TEST_PASS -e "$PASS" "$env" ||
		die "the fallback's command inherited the variable:" "$(grep -e MP_TEST_PASS "$env")"
}

@test "one-off password sources that give nothing: one line, 78, no AUTH, nothing shown" {
	local args
	printf '' >"$BATS_TEST_TMPDIR/empty"
	printf '\nleaked-%s\n' "$PASS" >"$BATS_TEST_TMPDIR/blank"
	local cases=(
		"--passwordeval|echo leaked-$PASS; exit 3|passwordeval command failed (exit status 3); no password"
		"--passwordeval|true|passwordeval command printed nothing (an empty first line); no password"
		"--password-fd|5|passwordfd 5 gave an empty first line"
		"--password-fd|6|passwordfd 6 gave an empty first line"
		"--password-env|MP_TEST_UNSET|passwordenv names MP_TEST_UNSET, which is not set or empty"
		"--password-env|MP_TEST_EMPTY|passwordenv names MP_TEST_EMPTY, which is not set or empty"
	)
	for c in "${cases[@]}"; do
		IFS='|' read -r opt value text <<<"$c"
		start_smtpd "$(auth_script "PLAIN")"
		auth_config "auth plain" "password $PASS"
		MP_TEST_EMPTY= run_send 78 "$opt" "$value" bob@example.net <"$MSG" \
			5<"$BATS_TEST_TMPDIR/empty" 6<"$BATS_TEST_TMPDIR/blank" || die "($c)" || return 1
		assert_stderr_contains "mailpost: $text" || return 1
		assert_stderr_line_count 1 || return 1
		assert_stderr_lacks "leaked" || return 1
		assert_no_command AUTH MAIL || return 1
	done
}

@test "a one-off password source is never queued nor saved: the message stays with the caller" {
	start_smtpd "$(auth_script "PLAIN" "on AUTHDONE 454 4.7.0 try later")"
	auth_config "auth plain" "queue on-failure" "queue_dir $BATS_TEST_TMPDIR/q"
	MP_TEST_PASS="$PASS" run_send 75 --password-env MP_TEST_PASS bob@example.net <"$MSG"
	[[ ! -e "$BATS_TEST_TMPDIR/q" ]] || [[ -z "$(ls -A "$BATS_TEST_TMPDIR/q")" ]] ||
		die "queued: $(ls -R "$BATS_TEST_TMPDIR/q")" || return 1
	MP_TEST_PASS="$PASS" run_send 64 --queue always --password-env MP_TEST_PASS bob@example.net <"$MSG"
	assert_stderr_contains "a queued message is sent with the account's settings"
}

# --- the leak test ------------------------------------------------------------------------

@test "LEAK TEST: every authenticated path at -vv with a log file never shows a secret" {
	local log="$BATS_TEST_TMPDIR/mailpost.log" c mechs conf
	# mechanisms offered | config lines (';'-separated) | extra script line
	local cases=(
		"PLAIN|auth plain;password $PASS|"
		"LOGIN|auth login;password $PASS|"
		"CRAM-MD5|auth cram-md5;password $PASS|"
		"SCRAM-SHA-1|auth scram-sha-1;password $PASS|"
		"SCRAM-SHA-256|auth on;password $PASS|"
		"SCRAM-SHA-256-PLUS SCRAM-SHA-256|auth on;password $PASS|option tls12"
		"PLAIN|auth plain;passwordeval echo $PASS|"
		"XOAUTH2|auth xoauth2;passwordeval echo $TOKEN|user $USER_ $TOKEN"
		"OAUTHBEARER|auth oauthbearer;passwordeval echo $TOKEN|user $USER_ $TOKEN"
		"XOAUTH2|auth xoauth2;password wrong-$TOKEN|user $USER_ $TOKEN"
		"OAUTHBEARER|auth oauthbearer;password wrong-$TOKEN|user $USER_ $TOKEN"
		"PLAIN|auth plain;password $PASS|on AUTHDONE 535 5.7.8 no"
		"LOGIN|auth login;password $PASS|on AUTHDONE 454 4.7.0 later"
	)
	for c in "${cases[@]}"; do
		IFS='|' read -r mechs conf extra <<<"$c"
		start_smtpd "$(auth_script "$mechs" "$extra")"
		rm -f "$log"
		IFS=';' read -r -a conf <<<"$conf"
		auth_config "logfile $log" "${conf[@]}"
		run --separate-stderr timeout 30 "$MAILPOST" -C "$MAILPOST_CONF" --host 127.0.0.1 \
			--port "$SMTPD_PORT" --domain client.test -f alice@example.org -v -v \
			bob@example.net <"$MSG"
		[[ "$status" -ne 124 ]] || die "($c) timed out" || return 1
		[[ -s "$log" ]] || die "($c) no log file written" || return 1
		assert_no_leak "$log" || die "(case: $c)" || return 1
		grep -q "AUTH" "$log" || die "($c) the log does not show the AUTH exchange" || return 1
	done
}
