# mxhosts.bash - MX hosts for the tests of direct delivery (deliver mx):
# scripted servers (tests/lib/smtpd.py) on 127.0.0.2, 127.0.0.3 ...
# sharing one port, which the account's `port` names as it would name 25,
# and an account that delivers to them through tests/lib/dnsd.bash's
# resolver.  Load after lib/helpers and lib/dnsd.
#
#   mxhosts_setup        in setup, after mailpost_setup: no server yet;
#                        the port is $MX_FILE_PORT when the file chose
#                        one (its zones' TLSA names carry it), else the
#                        first server's
#   mxhosts_teardown     in teardown: stop every server still running
#   start_mx ADDR [SCRIPT]
#                        a server on ADDR at the test's MX port
#   use_mx ADDR          the smtpd assertions (assert_message ...) look
#                        at ADDR's server, which they then stop
#   mx_config [LINE...]  the account (deliver mx, the port, dnsd's
#                        resolver, the queue $QDIR) with LINEs added
#   send_to EXIT ARGS... mailpost with that configuration, $MSG on stdin

mxhosts_setup() {
	MX_PORT="${MX_FILE_PORT:-}"
	MX_PIDS=()
	declare -gA MX_DIRS=() MX_PID_OF=()
}

mxhosts_teardown() {
	local pid
	for pid in "${MX_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${MX_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	MX_PIDS=()
	SMTPD_PID=
}

# mx_port: $MX_PORT, the port every MX host of the test listens on (the
# first server's, else one found free).
mx_port() {
	[[ -n "$MX_PORT" ]] || MX_PORT="$(unused_port)"
}

start_mx() {
	local addr="$1" script="${2:-}"
	if [[ -n "$MX_PORT" ]]; then
		start_smtpd "$script" -- --listen "$addr" --port "$MX_PORT" \
			--max-connections 5 || return 1
	else
		start_smtpd "$script" -- --listen "$addr" --max-connections 5 || return 1
		MX_PORT="$SMTPD_PORT"
	fi
	MX_PIDS+=("$SMTPD_PID")
	MX_DIRS[$addr]="$SMTPD_DIR"
	MX_PID_OF[$addr]="$SMTPD_PID"
}

use_mx() {
	SMTPD_DIR="${MX_DIRS[$1]}"
	SMTPD_PID="${MX_PID_OF[$1]}"
}

mx_config() {
	mx_port
	write_config "deliver mx" "port $MX_PORT" "domain client.test" \
		"from alice@example.org" "queue_dir $QDIR" "$DNSD_CONFIG" \
		"$@" "account default"
}

send_to() {
	local code="$1"
	shift
	run_mailpost "$code" -C "$MAILPOST_CONF" "$@" <"$MSG"
}
