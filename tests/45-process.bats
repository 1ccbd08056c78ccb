#!/usr/bin/env bats
# 45-process: how mailpost behaves as a process, whatever its caller left
# it: closed standard descriptors, a reader that went away (SIGPIPE), and
# the one syslog line per message.

load lib/helpers

setup() {
	mailpost_setup
	MSG="$(make_message)"
}

@test "closed stdout and stderr at start: still delivers, nothing lands in the socket" {
	start_smtpd
	write_config
	# With fds 1 and 2 closed, the connection socket would get fd 1 or 2
	# and the -v transcript would be written into the SMTP session.
	run timeout 30 sh -c 'exec 1>&- 2>&- && exec "$@"' sh "$MAILPOST" \
		-C "$MAILPOST_CONF" --host 127.0.0.1 --port "$SMTPD_PORT" \
		--domain client.test -f alice@example.org -vv bob@example.net \
		<"$MSG"
	assert_equal 0 "$status" "exit status"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_no_problems
	assert_received_lacks "[" # no transcript line went to the server
}

@test "closed stdin at start: an empty message, headers completed, delivered" {
	start_smtpd
	write_config
	# bats gives run its own stdin: close it inside the command itself.
	run timeout 30 sh -c 'exec 0<&- && exec "$@"' sh "$MAILPOST" \
		-C "$MAILPOST_CONF" --host 127.0.0.1 --port "$SMTPD_PORT" \
		--domain client.test -f alice@example.org bob@example.net
	assert_equal 0 "$status" "exit status"
	smtpd_finish
	assert_received_contains $'From: alice@example.org\r\n'
	assert_no_problems
}

@test "a reader that went away is a write error (74), not death by SIGPIPE" {
	run /usr/bin/python3 - "$MAILPOST" <<-'EOF'
		import os, subprocess, sys
		r, w = os.pipe()
		os.close(r)
		# restore_signals (the default) gives the child the default SIGPIPE
		# action, as a shell pipeline would.
		p = subprocess.run([sys.argv[1], "--help"], stdout=w, stderr=subprocess.DEVNULL)
		print(p.returncode)
	EOF
	assert_equal 0 "$status" "python status"
	assert_equal 74 "$output" "mailpost exit status (-13 would be SIGPIPE)"
}

# with_syslog LOG ARGS...: mailpost ARGS (stdin $MSG) in a private mount
# namespace whose /dev (a tmpfs) has our own /dev/log datagram socket, so
# that nothing reaches the machine's syslog; the first record it gets is
# written to LOG.  Sets status and output as run does.
with_syslog() {
	local log="$1"
	shift
	[ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null ||
		skip "needs root and unshare for a private /dev/log"
	run timeout 30 unshare -m sh -c '
		log=$1 msg=$2
		shift 2
		mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 || exit 99
		/usr/bin/python3 -c "
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(\"/dev/log\")
open(sys.argv[1] + \".ready\", \"w\").close()
s.settimeout(20)
with open(sys.argv[1], \"wb\") as f:
    f.write(s.recv(65536))
" "$log" &
		while [ ! -e "$log.ready" ]; do sleep 0.05; done
		"$@" <"$msg"
		rc=$?
		wait
		exit $rc
	' sh "$log" "$MSG" "$MAILPOST" "$@"
}

@test "syslog on: one line per message with host, sender, recipients, size and result" {
	start_smtpd
	write_config "syslog LOG_MAIL"
	local log=$BATS_TEST_TMPDIR/syslog
	with_syslog "$log" -C "$MAILPOST_CONF" --host 127.0.0.1 \
		--port "$SMTPD_PORT" -f alice@example.org bob@example.net
	assert_equal 0 "$status" "exit status (output: $output)"
	local line
	line=$(cat "$log")
	[[ "$line" == "<22>"* ]] || die "not a mail.info record: $line" || return 1
	for want in "mailpost[" "host=127.0.0.1" "from=<alice@example.org>" \
		"recipients=<bob@example.net>" "size=" "result=delivered"; do
		[[ "$line" == *"$want"* ]] || die "syslog line lacks '$want': $line" || return 1
	done
}

@test "syslog on: -q logs each entry it delivers, its queue id first (as Postfix)" {
	local down
	down=$(unused_port)
	write_config "host 127.0.0.1" "port $down" "domain client.test" \
		"from alice@example.org" "queue_dir $BATS_TEST_TMPDIR/q"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net <"$MSG"
	local re="queued as ([0-9a-f]{16})"
	[[ "$stderr" =~ $re ]] || die "not queued:" "$stderr" || return 1
	local id=${BASH_REMATCH[1]}
	start_smtpd
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" \
		"from alice@example.org" "queue_dir $BATS_TEST_TMPDIR/q"
	local log=$BATS_TEST_TMPDIR/syslog
	with_syslog "$log" -C "$MAILPOST_CONF" -q --syslog=LOG_MAIL
	assert_equal 0 "$status" "exit status (output: $output)"
	local line
	line=$(cat "$log")
	[[ "$line" == "<22>"* && "$line" == *"]: $id: host=127.0.0.1 from=<alice@example.org> recipients=<bob@example.net> size="*" result=delivered"* ]] ||
		die "not the entry's mail.info record: $line"
}

@test "every address of the host is tried in order: ::1 refused, then 127.0.0.1" {
	[ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null ||
		skip "needs root and unshare for a private /etc/hosts"
	start_smtpd # listens on 127.0.0.1 only
	write_config
	printf '::1 mailhost.test\n127.0.0.1 mailhost.test\n' >"$BATS_TEST_TMPDIR/hosts"
	printf 'hosts: files\n' >"$BATS_TEST_TMPDIR/nsswitch.conf"
	run --separate-stderr timeout 30 unshare -m sh -c '
		mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/nsswitch.conf || exit 99
		shift 2
		exec "$@"
	' sh "$BATS_TEST_TMPDIR/hosts" "$BATS_TEST_TMPDIR/nsswitch.conf" \
		"$MAILPOST" -C "$MAILPOST_CONF" --host mailhost.test \
		--port "$SMTPD_PORT" --domain client.test -f alice@example.org \
		-v bob@example.net <"$MSG"
	assert_equal 0 "$status" "exit status (stderr: $stderr)"
	assert_stderr_contains "Trying ::1 port $SMTPD_PORT"
	assert_stderr_contains "Trying 127.0.0.1 port $SMTPD_PORT"
	assert_stderr_contains "Connected to 127.0.0.1 port $SMTPD_PORT"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}
