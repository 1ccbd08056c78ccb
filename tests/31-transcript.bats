#!/usr/bin/env bats
# 31-transcript: the -v transcript against the scripted server
# (tests/lib/smtpd.py): its fixed columns, multi-line replies aligned under
# their first line, the TLS separator and the encrypted marks, the body
# counted and not shown, the state lines only at -vvv, the one result line
# (delivered, queued, refused), --timing, colours only on a terminal
# (script(1) gives one) and never with NO_COLOR, --color=never or into the
# log file, and AUTH redacted at every verbosity and in the log file, with
# --show-auth showing it decoded on stderr only, after a warning.

load lib/helpers

PASS='Xq7-pencil-Zr9'

setup() {
	mailpost_setup
	MSG="$(make_message)"
}

# The layout of every line (mailpost(1), TRANSCRIPT): the time column or
# ten blanks, [the latency column], a four-column mark, the text.
TIME='(\[ *[0-9]+\.[0-9]{3}\]| {10})'
MARK='(<-  |<~  | -> | ~> |=== |\*\*\* )'

# Every stderr line (from the first transcript line on) is in the layout;
# a line with a blank time column only follows a server line "NNN-".
assert_layout() {
	local latency="${1:-}" line prev= re
	re="^$TIME ${latency}$MARK"
	for line in "${stderr_lines[@]}"; do
		[[ "$line" == mailpost:* ]] && continue
		[[ "$line" =~ $re ]] ||
			die "a line out of the layout /$re/: '$line'; stderr:" "$stderr" || return 1
		if [[ "$line" == "          "* ]]; then
			[[ "$prev" =~ [\<][-~]\ \ [0-9]{3}- ]] ||
				die "a line with no time that continues no reply: '$line' after '$prev'" || return 1
		fi
		prev="$line"
	done
}

# stderr has a line matching the regular expression.
assert_stderr_line_matches() {
	local line
	for line in "${stderr_lines[@]}"; do
		[[ "$line" =~ $1 ]] && return 0
	done
	die "no stderr line matches /$1/; stderr:" "$stderr"
}

@test "-v: fixed columns; a multi-line reply's further lines have no time and sit under the first" {
	start_smtpd
	run_send 0 -v bob@example.net <"$MSG"
	assert_layout
	assert_stderr_line_matches '^\[ *[0-9]+\.[0-9]{3}\] <-  250-smtpd\.test Hello client\.test$'
	assert_stderr_line_matches '^ {10} <-  250-PIPELINING$'
	assert_stderr_line_matches '^ {10} <-  250 DSN$'
	assert_stderr_line_matches '^\[ *[0-9]+\.[0-9]{3}\]  -> MAIL FROM:<alice@example\.org> SIZE='
	# The mark always starts in column 12, the text in column 16.
	local line
	for line in "${stderr_lines[@]}"; do
		[[ "$line" == mailpost:* ]] && continue
		[[ "${line:11:4}" =~ ^$MARK$ ]] || die "mark not in columns 12-15: '$line'" || return 1
	done
}

@test "-v: the body is counted and not shown; -vv shows it; a KiB count for a bigger body" {
	start_smtpd
	run_send 0 -v bob@example.net <"$MSG"
	assert_stderr_line_matches "^\[ *[0-9.]+\] === body: 8 lines, ${#MSG_SIMPLE_CRLF} bytes not shown \(-vv shows them\)$"
	assert_stderr_lacks "Hello Bob."

	start_smtpd
	run_send 0 -vv bob@example.net <"$MSG"
	assert_stderr_line_matches "^\[ *[0-9.]+\] === body: 8 lines, ${#MSG_SIMPLE_CRLF} bytes$"
	assert_stderr_line_matches '^\[ *[0-9.]+\]  -> Hello Bob\.$'
	assert_layout

	start_smtpd
	{ cat "$MSG"; for n in $(seq 1 40); do echo "line $n of a longer body, padded to forty."; done; } >"$BATS_TEST_TMPDIR/big"
	run_send 0 -v bob@example.net <"$BATS_TEST_TMPDIR/big"
	assert_stderr_line_matches '=== body: 48 lines, [0-9]\.[0-9] KiB not shown \(-vv shows them\)$'
}

@test "state lines only at -vvv, never at -v or -vv" {
	local v
	for v in -v -vv; do
		start_smtpd
		run_send 0 "$v" bob@example.net <"$MSG" || return 1
		assert_stderr_lacks "=== state" || die "($v)" || return 1
	done
	start_smtpd
	run_send 0 -vvv bob@example.net <"$MSG"
	assert_stderr_contains "=== state ENVELOPE -> BODY"
	assert_stderr_lacks "=== steps:"
	assert_layout
}

@test "the result line: delivered, queued, refused, each with the reply and the time" {
	start_smtpd
	run_send 0 -v bob@example.net <"$MSG"
	assert_stderr_line_matches '^\[ *[0-9.]+\] === delivered to 1 recipient: 250 2\.0\.0 Ok: queued as 1 \([0-9]+\.[0-9]{3} s in all\)$'
	# the last transcript line
	[[ "${stderr_lines[-1]}" == *"=== delivered to 1 recipient"* ]] || die "not last:" "$stderr"

	start_smtpd $'on MAIL 451 4.3.0 try again later'
	run_send 0 -v --queue=on-failure --queue-dir="$BATS_TEST_TMPDIR/q" bob@example.net <"$MSG"
	assert_stderr_line_matches '=== queued as [A-Za-z0-9.-]+: .*451 4\.3\.0 try again later.* \([0-9.]+ s in all\)$'

	start_smtpd $'on RCPT 550 5.1.1 no such user'
	run_send 67 -v bob@example.net <"$MSG"
	assert_stderr_line_matches '=== not delivered: .*550 5\.1\.1 no such user.* \([0-9.]+ s in all\)$'

	start_smtpd $'on RCPT#2 550 5.1.1 no such user'
	run_send 67 -v --rcpt-policy=any bob@example.net carol@example.net <"$MSG"
	assert_stderr_line_matches '=== delivered to 1 of 2 recipients: .*carol@example\.net.*550 5\.1\.1'
}

@test "--timing: a latency column on each reply's first line, blank elsewhere, and the time waited; it implies -v" {
	start_smtpd
	run_send 0 --timing bob@example.net <"$MSG"
	assert_layout '( {10}|[ +0-9]{4,}[0-9] ms) '
	assert_stderr_line_matches '^\[ *[0-9.]+\] +\+[0-9]+ ms <-  220 smtpd\.test'
	assert_stderr_line_matches '^ {10}  {10} <-  250-PIPELINING$'
	assert_stderr_line_matches '^\[ *[0-9.]+\]  {10}  -> EHLO client\.test$'
	assert_stderr_line_matches '=== delivered to 1 recipient: .* \([0-9.]+ s in all, [0-9]+ ms waiting for the server\)$'
	# and each step of the session (smtp.h's steps), at the end
	assert_stderr_line_matches '=== steps: connect [0-9]+\.[0-9] ms, greeting [0-9]+\.[0-9] ms, ehlo [0-9.]+ ms, mail [0-9.]+ ms, rcpt [0-9.]+ ms, data [0-9.]+ ms, body [0-9.]+ ms, quit [0-9.]+ ms$'
	# each reply of the pipelined group is timed from its own command
	local n
	n=$(printf '%s\n' "${stderr_lines[@]}" | grep -cE '\+[0-9]+ ms <-  ')
	[[ $n -eq 7 ]] || die "want 7 timed replies (220, 250 EHLO, MAIL, RCPT, 354, dot, QUIT), got $n:" "$stderr"
}

@test "a timed reply shows the server's delay" {
	start_smtpd $'on MAIL\n  sleep 0.3\n  default'
	run_send 0 --timing bob@example.net <"$MSG"
	local line
	line=$(printf '%s\n' "${stderr_lines[@]}" | grep ' <-  250 2.1.0')
	[[ "$line" =~ \+([0-9]+)\ ms ]] || die "no latency: $line"
	[[ ${BASH_REMATCH[1]} -ge 290 ]] || die "the 0.3 s delay shows as ${BASH_REMATCH[1]} ms: $line"
}

# --- TLS ------------------------------------------------------------------------

@test "STARTTLS: one separator line with the version and cipher, then every line marked encrypted" {
	tls_certs
	start_smtpd "$(tls_cert_line server)"$'\ncaps PIPELINING, STARTTLS\ntls-caps PIPELINING'
	write_config "tls on" "tls_trust_file $CERTS/ca.pem"
	run_send 0 -v bob@example.net <"$MSG"
	assert_layout
	local line seen= n=0
	for line in "${stderr_lines[@]}"; do
		if [[ "$line" =~ "=== -------- TLS from here: TLS1."[23]", "[A-Z0-9_]+" (<~ ~> encrypted) --------"$ ]]; then
			seen=1 n=$((n + 1))
			continue
		fi
		if [[ -z "$seen" ]]; then
			[[ "$line" != *" ~> "* && "$line" != *"<~  "* ]] || die "encrypted mark before TLS: $line" || return 1
		else
			[[ "$line" != *" -> "* && "$line" != *"<-  "* ]] || die "clear mark inside TLS: $line" || return 1
		fi
	done
	[[ $n -eq 1 ]] || die "want one separator, got $n:" "$stderr"
	assert_stderr_line_matches '^\[ *[0-9.]+\]  -> STARTTLS$'
	assert_stderr_line_matches '^\[ *[0-9.]+\]  ~> MAIL FROM:<alice@example\.org>'
	assert_stderr_line_matches '^\[ *[0-9.]+\] <~  250 2\.0\.0 Ok: queued as 1$'
}

# --- colours ----------------------------------------------------------------------

# tty_run ARGS...: mailpost (run_send's arguments) with stderr on a
# pseudo-terminal (script(1)); what the terminal got in $output.
tty_run() {
	local cmd
	printf -v cmd '%q ' timeout 30 "$MAILPOST" -C "$MAILPOST_CONF" --host 127.0.0.1 \
		--port "$SMTPD_PORT" --domain client.test -f alice@example.org "$@"
	run script -qec "$cmd <$(printf '%q' "$MSG") >/dev/null" /dev/null
	[[ "$status" -eq 0 ]] || die "exit $status under script(1):" "$output"
}

@test "colours on a terminal; none with NO_COLOR, --color=never, into a pipe, or in the log file" {
	local log="$BATS_TEST_TMPDIR/log" esc=$'\e['
	write_config "logfile $log"
	start_smtpd
	tty_run -v bob@example.net
	[[ "$output" == *"$esc"* ]] || die "no colour on a terminal:" "$output"
	[[ "$output" == *$'\e[36m<-  220 '* ]] || die "the server's line is not coloured:" "$output"
	[[ "$(cat "$log")" != *$'\e'* ]] || die "the log file holds an escape:" "$(cat -v "$log")"
	grep -q '<-  220 ' "$log" || die "no dialogue in the log file"

	start_smtpd
	NO_COLOR=1 tty_run -v bob@example.net
	[[ "$output" != *$'\e'* ]] || die "colour despite NO_COLOR:" "$(printf '%s' "$output" | cat -v)"

	start_smtpd
	NO_COLOR= tty_run -v bob@example.net
	[[ "$output" == *"$esc"* ]] || die "an empty NO_COLOR must not disable colour"

	start_smtpd
	tty_run -v --color=never bob@example.net
	[[ "$output" != *$'\e'* ]] || die "colour despite --color=never"

	start_smtpd
	NO_COLOR=1 tty_run -v --color=always bob@example.net
	[[ "$output" == *"$esc"* ]] || die "--color=always wins over NO_COLOR"

	# stderr a file, not a terminal
	rm -f "$log"
	start_smtpd
	run_send 0 -v bob@example.net <"$MSG"
	[[ "$stderr" != *$'\e'* ]] || die "colour into a pipe"
	start_smtpd
	run_send 0 -v --color=always bob@example.net <"$MSG"
	[[ "$stderr" == *"$esc"* ]] || die "--color=always into a pipe"
	[[ "$(cat "$log")" != *$'\e'* ]] || die "--color=always reached the log file"
}

@test "--color: a bad value is a usage error" {
	run_mailpost 64 --color=sometimes -C /dev/null bob@example.net </dev/null
	assert_stderr_contains "invalid --color 'sometimes' (expected auto, always or never)"
}

# --- AUTH -------------------------------------------------------------------------

# PLAIN over loopback (allowed without TLS), alice / PASS.
auth_setup() {
	start_smtpd $'caps PIPELINING, AUTH PLAIN LOGIN\n'"user alice $PASS"
	write_config "auth plain" "user alice" "password $PASS" "logfile $BATS_TEST_TMPDIR/log"
}

SECRETS=()
secrets() {
	SECRETS=("$PASS" "$(b64 "\\0alice\\0$PASS")" "$(b64 "$PASS")")
}

@test "AUTH redacted at -v, -vv, -vvv and in the log file" {
	local v s
	secrets
	for v in -v -vv -vvv; do
		rm -f "$BATS_TEST_TMPDIR/log"
		auth_setup
		run_send 0 "$v" bob@example.net <"$MSG" || return 1
		assert_stderr_contains " -> AUTH PLAIN <redacted>" || die "($v)" || return 1
		grep -qF ' -> AUTH PLAIN <redacted>' "$BATS_TEST_TMPDIR/log" || die "($v) log:" "$(cat "$BATS_TEST_TMPDIR/log")" || return 1
		for s in "${SECRETS[@]}"; do
			assert_no_secret "$s" "$BATS_TEST_TMPDIR/log" || die "($v)" || return 1
		done
	done
}

@test "--show-auth: a warning, the exchange decoded on stderr, the log file still redacted; implies -v" {
	local s
	secrets
	auth_setup
	run_send 0 --show-auth bob@example.net <"$MSG"
	assert_stderr_line_matches '^mailpost: warning: --show-auth: this transcript shows the credentials'
	assert_stderr_contains " -> AUTH PLAIN ${SECRETS[1]}   [decoded: \\0alice\\0$PASS]"
	grep -qF ' -> AUTH PLAIN <redacted>' "$BATS_TEST_TMPDIR/log" || die "log:" "$(cat "$BATS_TEST_TMPDIR/log")"
	for s in "${SECRETS[@]}"; do
		[[ "$(cat "$BATS_TEST_TMPDIR/log")" != *"$s"* ]] || die "the log file holds '$s'"
	done

	# LOGIN: each challenge and response decoded
	start_smtpd $'caps PIPELINING, AUTH PLAIN LOGIN\n'"user alice $PASS"
	write_config "auth login" "user alice" "password $PASS"
	run_send 0 --show-auth bob@example.net <"$MSG"
	assert_stderr_contains "<-  334 VXNlcm5hbWU6   [decoded: Username:]"
	assert_stderr_contains " -> $(b64 alice)   [decoded: alice]"
	assert_stderr_contains " -> $(b64 "$PASS")   [decoded: $PASS]"

	# without --show-auth: no warning
	auth_setup
	run_send 0 -v bob@example.net <"$MSG"
	assert_stderr_lacks "warning: --show-auth"
}
