#!/usr/bin/env bats
# 56-postfix-smuggling: --smtp-smuggling-test against the private Postfix
# (tests/lib/postfix.bash), once as it is by default and once on a port of
# its own with smtpd_forbid_bare_newline = yes (Postfix 3.5.23, 3.6.13,
# 3.7.9, 3.8.4 and later; Debian 12 has 3.7.11).  The exclusions are
# emptied there: their default, $mynetworks, holds 127.0.0.1, the client.

bats_require_minimum_version 1.5.0

load lib/helpers
load lib/postfix

setup_file() {
	postfix_setup_file || return 1
	[ -z "$PF_SKIP" ] || return 0
	if ! postconf -d smtpd_forbid_bare_newline >/dev/null 2>&1; then
		export PF_STRICT_SKIP="this Postfix ($(postconf -dh mail_version)) has no smtpd_forbid_bare_newline"
		return 0
	fi
	PF_STRICT_PORT=$(pf_free_ports 1)
	export PF_STRICT_PORT
	postconf -c "$PF_CONF" -M "$PF_STRICT_PORT/inet=$PF_STRICT_PORT inet n - n - - smtpd -o smtpd_forbid_bare_newline=yes -o smtpd_forbid_bare_newline_exclusions=" &&
		postfix -c "$PF_CONF" reload >/dev/null 2>&1 3>&- || return 1
	local n
	for ((n = 0; n < 100; n++)); do
		python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
			"$PF_STRICT_PORT" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "the strict smtpd on port $PF_STRICT_PORT did not start" >&2
	return 1
}

teardown_file() {
	postfix_stop
}

setup() {
	[ -z "$PF_SKIP" ] || skip "$PF_SKIP"
	mailpost_setup
	postfix_clear
}

teardown() {
	[ -z "$PF_SKIP" ] || return 0
	postfix_wait_queue_empty 5 >/dev/null 2>&1 || true
	postfix_clear
}

# smuggle EXIT PORT: the test against Postfix on PORT, to user@example.test.
smuggle() {
	run_mailpost "$1" -C /dev/null --host 127.0.0.1 --port "$2" \
		--domain client.test -f alice@example.test --smtp-smuggling-test \
		user@example.test || {
		postfix_log_tail 20 >&2
		return 1
	}
}

# verdict N: the "end of data" of probe N's line ("YES" or "no").
verdict() {
	printf '%s\n' "$output" | awk -v n="$1" '$1 == n { for (k = 1; k < NF; k++) if ($k == "data:") print $(k + 1) }'
}

@test "Postfix with smtpd_forbid_bare_newline = yes: no sequence is taken as the end of the data (0)" {
	[ -z "${PF_STRICT_SKIP:-}" ] || skip "$PF_STRICT_SKIP"
	smuggle 0 "$PF_STRICT_PORT"
	local k
	for k in 1 2 3 4 5 6 7 8 9 10; do
		assert_equal "no" "$(verdict "$k")" "probe $k's verdict" || return 1
	done
	assert_output_contains "127.0.0.1: none of the 10 sequences was taken as the end of the data"
	# yes means normalize in 3.7.11: a bare LF ends a line of text, only
	# <CR><LF>.<CR><LF> the data.  Each probe is one message, then QUIT.
	local lines
	lines=$(printf '%s\n' "$output" | grep -c "end of data: no   (250 2.0.0 Ok: queued as [0-9A-F]* | 221 2.0.0 Bye)$")
	assert_equal 10 "$lines" "probes answered once, then 221"
}

@test "Postfix 3.7 by default takes the bare LF sequences and CR CR LF as the end of the data (76)" {
	smuggle 76 "$PF_PORT"
	# Postfix 3.7.11 with smtpd_forbid_bare_newline = no reads a bare LF as
	# the end of a line and <CR><CR><LF> as <CR><LF>, a bare CR elsewhere
	# as text.  It answers the NOOP that follows, then the dot as a
	# command with "221 2.7.0 Error: I can break rules, too. Goodbye.".
	local k want
	for k in 1 2 3 4 5 6 7 8 9 10; do
		case $k in
		1 | 2 | 3 | 10) want=YES ;;
		*) want=no ;;
		esac
		assert_equal "$want" "$(verdict "$k")" "probe $k's verdict" || return 1
	done
	assert_output_contains "127.0.0.1: 4 of the 10 sequences were taken as the end of the data: <LF>.<LF>, <LF>.<CR><LF>, <CR><LF>.<LF>, <CR><LF>.<CR><CR><LF>"
	assert_output_contains "250 2.0.0 Ok | 221 2.7.0 Error: I can break rules, too. Goodbye."
	assert_stderr_contains "mailpost: 127.0.0.1 takes 4 malformed end-of-data sequences for the end of a message (SMTP smuggling"
	# Each probe arrived as a message that says what it is.
	postfix_wait_queue_empty 20
	local f
	f=$(grep -l "Subject: SMTP smuggling test 4 of 10: <CR>.<CR> (mailpost)" "$(postfix_maildir user@example.test)"/*) ||
		die "probe 4 was not delivered:" "$(postfix_delivered)"
	grep -q "mailpost --smtp-smuggling-test" "$f" || die "probe 4 does not say what it is"
}
