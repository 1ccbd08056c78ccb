# helpers.bash - shared helpers for mailpost's bats tests.
#
# Load with `load lib/helpers` at the top of a .bats file.  The file
# defines setup/teardown; a test file that needs more calls
# mailpost_setup / mailpost_teardown from its own.
#
# Running the program
#   run_mailpost [--timeout S] EXIT [ARGS...]
#                                 run "$MAILPOST" ARGS under `timeout S`
#                                 (default 30; lower for a test of speed),
#                                 stdin inherited (redirect it: `< file`);
#                                 $output is stdout, $stderr is stderr;
#                                 fails with the command, the exit code,
#                                 stdout, stderr and the server log when
#                                 the exit code is not EXIT
#   run_send [--timeout S] EXIT [ARGS...]
#                                 run_mailpost with -C "$MAILPOST_CONF"
#                                 (default /dev/null) --host 127.0.0.1
#                                 (or $SEND_HOST, e.g. localhost)
#                                 --port $SMTPD_PORT --domain client.test
#                                 -f alice@example.org in front of ARGS
#   write_config [LINE...]        write "defaults" + LINEs to
#                                 $BATS_TEST_TMPDIR/config (mode 600) and
#                                 point $MAILPOST_CONF at it
#   wait_for_text FILE TEXT [SECONDS]
#                                 poll until FILE holds TEXT (default at
#                                 most 15 s); for waiting on a condition,
#                                 never `sleep` a fixed time
#   make_message [FILE]           a complete message (From, To, Subject,
#                                 Date, Message-ID, two body lines) in FILE
#                                 (default $BATS_TEST_TMPDIR/msg); prints
#                                 the path; $MSG_SIMPLE_CRLF holds its
#                                 canonical (CRLF) bytes
#
# Other ways the tests run mailpost, each for a reason run_mailpost cannot
# serve (a new test uses run_mailpost/run_send unless one of these applies):
#   10-cli run_tool, run_prog     stdout and stderr merged in $output (the
#                                 tests match a message on either), stdin
#                                 /dev/null; run_prog runs other names
#                                 (mailq, newaliases)
#   47-compose compose            stdout into a file, byte for byte (bats'
#                                 $output drops trailing newlines)
#   47-compose on_tty, 65-auth    stderr or the password prompt on a
#                                 pseudo-terminal (python pty, script(1))
#   47-compose least_rss_kb       measures peak RSS
#   47-compose, 45-process        under strace, ulimit -n, setpriv (as
#                                 nobody), with descriptors 0-2 closed
#   20-config, 63-proxy send      under unshare with a private /etc/hosts
#                                 and nsswitch.conf
#   70-queue at                   under faketime (a later clock)
#   70-queue bg, bg_wait          in the background, to be signalled or
#                                 to race another mailpost
#   70-queue listed_ids etc.      $(...) inside assertions, which must
#                                 not overwrite the test's $output/$status
#   65-auth passwordeval test     a python caller that times the kill of
#                                 a hung command and its process group
#   42-longlines, 77-serve run_bs -bs, driven by tests/lib/bsclient.py
#   50-postfix, 75-system-mail    as sendmail (a symlink), run by other
#                                 programs (mail(1), cron)
#
# The test server (tests/lib/smtpd.py; its header documents the script)
#   start_smtpd [SCRIPT-TEXT] [-- SMTPD-OPTIONS...]
#                                 start a server in its own directory with
#                                 this script (text, not a file name; "-"
#                                 reads it from stdin); sets $SMTPD_PORT,
#                                 $SMTPD_DIR, $SMTPD_PID
#   smtpd_finish                  let the server record what the client
#                                 still sent and exit (SIGTERM, wait);
#                                 every assertion on its files calls this
#   stop_smtpd                    kill it (teardown does this)
#   smtpd_received                print the recorded bytes, escaped
#   smtpd_waits [N]               print how often the client of connection
#                                 N (default 1) waited for the server: its
#                                 round trips, as DIR/waits counts them
#                                 (WAITS in smtpd.py's header)
#   smtpd_tls_wire [N]            print "RECORDS WIRE PLAINTEXT" for the
#                                 records the client sent after the
#                                 handshake of connection N (DIR/tlswire;
#                                 TLS WIRE in smtpd.py's header); one line
#                                 "TYPE WIRE PLAINTEXT" per record is in
#                                 $SMTPD_DIR/tlsrec.N
#
# The SOCKS5 proxy (tests/lib/socks5.py; its header documents the answers)
#   start_socks5 [ANSWER...]      start a proxy that relays every CONNECT to
#                                 the test server ($SMTPD_PORT: start that
#                                 first), answering connection N with
#                                 ANSWER N (the last repeats; default ok);
#                                 sets $SOCKS_PORT, $SOCKS_DIR, $SOCKS_PID;
#                                 DIR/requests has one line per connection
#   stop_socks5                   stop it (teardown does this)
#
# The OAuth 2.0 server (tests/lib/oauthd.py; its header documents the
# options, the answers and the log)
#   oauthd_start [OPTION...]      start it over HTTPS (the test CA's
#                                 server.pem; tls_certs is run when $CERTS
#                                 is unset) in its own directory with these
#                                 options (--refresh rotate,invalid_grant
#                                 ... or --scenario FILE; --interval 0 for
#                                 a device grant that polls without waiting;
#                                 --cert "$CERTS/expired.pem" for another
#                                 certificate with server.key; with
#                                 MAILPOST_TEST_OAUTH2_POLL_MS exported,
#                                 --poll-ms of the same value: server and
#                                 client count the interval in the same
#                                 short seconds);
#                                 sets $OAUTHD_URL (https://127.0.0.1:PORT,
#                                 endpoints /device /token /authorize),
#                                 $OAUTHD_LOG, $OAUTHD_DIR, $OAUTHD_PORT,
#                                 $OAUTHD_PID
#   stop_oauthd                   stop it (teardown does this)
#   oauthd_requests [PATH]        print how many requests came (to PATH)
#   oauthd_last_form FIELD [PATH] print FIELD of the form of the last
#                                 request (to PATH); fails when it has none
#   oauthd_log_query EXPR [PATH [ARG]]
#                                 print the Python expression EXPR over
#                                 `log` (the logged requests, to PATH when
#                                 not empty; oauthd.py's header lists their
#                                 keys) and `arg`; nothing and status 3 when
#                                 it is None.  E.g. the seconds between the
#                                 first two polls:
#                                 oauthd_log_query 'log[1]["time"] - log[0]["time"]' /token
#   oauthd_authorize URL          play the user's browser, first half: GET
#                                 URL (the /authorize address the client
#                                 printed) and set $OAUTHD_REDIRECT to the
#                                 Location it answers (the address to paste
#                                 when the browser is on another machine);
#                                 fails when there is no redirect
#   oauthd_browse URL             the whole way: oauthd_authorize, then GET
#                                 $OAUTHD_REDIRECT (the client's loopback
#                                 receiver) and print its page (status and
#                                 headers left out); fails when that gets
#                                 no answer
#   oauthd_problems               print its problems file (client mistakes)
#   assert_oauthd_no_problems     it flagged no client mistake
#   assert_oauthd_problem TEXT    it flagged one containing TEXT
#   write_oauth2_config [LINE...] write_config with the account "oauth"
#                                 (the default account): oauth2_provider
#                                 generic, its endpoints at $OAUTHD_URL,
#                                 oauth2_trust_file the test CA,
#                                 oauth2_client_id $OAUTH2_CLIENT_ID, user
#                                 $OAUTH2_USER, host and port of the test
#                                 server (when started), auth on, then
#                                 LINEs; exports XDG_STATE_HOME (the token
#                                 store) in the test's temp dir
#   oauth2_seed REFRESH [ACCESS [SECONDS-LEFT]]
#                                 the token file of write_oauth2_config's
#                                 account as --oauth2-login leaves it
#                                 (tokstore.c's format): the refresh token
#                                 and, when given, a cached access token
#                                 expiring in SECONDS-LEFT (default 3000);
#                                 prints its path; $OAUTH2_ACCOUNT (default
#                                 "default") and $OAUTH2_TOKEN_DIR (the
#                                 machine's directory: files 0660) change
#                                 whose and where
#   OAUTH2_USER, OAUTH2_CLIENT_ID alice@example.org and mailpost-test, as
#                                 oauthd.py expects by default; the test
#                                 server's line for the first access token:
#                                 "user $OAUTH2_USER access-1"
#
# TLS and AUTH (the server's TLS and AUTH script lines: see smtpd.py)
#   tls_certs                     make the test PKI (tests/lib/mkcerts.sh)
#                                 once per test file; sets $CERTS to it
#   tls_cert_line NAME            the script line "tls-cert" for
#                                 $CERTS/NAME.pem and its key
#   b64 TEXT                      base64 of TEXT, printf escapes decoded
#                                 (b64 '\0alice\0secret'), no line breaks
#   assert_clear_lacks BYTES      nothing received outside TLS holds BYTES
#   assert_tls_received_contains BYTES   inside TLS the server got BYTES
#   assert_over_tls VERB...       each VERB arrived, and only inside TLS
#   assert_no_command VERB...     no VERB command arrived at all
#   assert_tls_session TEXT       a handshake record (DIR/tls) holds TEXT
#   assert_auth_record TEXT       an AUTH record (DIR/auth) holds TEXT
#   smtpd_bearer_tokens           print "MECH TOKEN accepted|refused" for
#                                 each bearer token the server got, in order
#   assert_bearer_used TOKEN      the last bearer token the server got was
#                                 TOKEN, and it was accepted
#   assert_no_secret SECRET [FILE...]
#                                 SECRET is in none of $output, $stderr
#                                 and the FILEs (each must exist)
#
# Assertions (each says what differed)
#   assert_received BYTES         the server received exactly BYTES
#   assert_received_crlf          the same, expected text on stdin with
#                                 every LF meaning CRLF
#   assert_received_contains BYTES / assert_received_lacks BYTES
#   assert_message N BYTES        body of transaction N (msg.N) is BYTES
#   assert_message_crlf N         the same, text on stdin, LF meaning CRLF
#   assert_no_message [N]         transaction N (default 1) never completed
#   assert_no_problems            the server flagged no client mistake
#   assert_problem TEXT           it flagged one containing TEXT
#   assert_in_one_recv BYTES      BYTES arrived within one recv()
#   assert_output_contains TEXT / assert_output_lacks TEXT   (stdout)
#   assert_stderr_contains TEXT / assert_stderr_lacks TEXT
#   assert_line_contains TEXT     some stderr line contains TEXT
#   assert_stderr_line_count N    stderr has exactly N lines
#   assert_equal EXPECTED ACTUAL [WHAT]
#   assert_file_bytes FILE BYTES [WHAT]

# status, output, stderr, stderr_lines: set by bats' run.
# shellcheck disable=SC2154
bats_require_minimum_version 1.5.0

# Beware: bats 1.8.2's `run` (through bats_version_lt) assigns the global
# variable `i`.  Do not use `i` as a loop variable around `run`,
# run_mailpost or run_send in a test; use another name.

SMTPD_PY="$BATS_TEST_DIRNAME/lib/smtpd.py"
# A real interpreter, not a version-manager shim (those cost a second each).
if [[ -z "${SMTPD_PYTHON:-}" ]]; then
	for SMTPD_PYTHON in /usr/bin/python3 /usr/local/bin/python3 \
		"$(command -v python3)"; do
		[[ -x "$SMTPD_PYTHON" ]] && break
	done
fi
export SMTPD_PYTHON
: "${MAILPOST:=$BATS_TEST_DIRNAME/../mailpost}"

# --- setup ------------------------------------------------------------------

mailpost_setup() {
	export HOME="$BATS_TEST_TMPDIR"
	unset MAILPOST_CONFIG XDG_CONFIG_HOME MAILPOST_TEST_SYSTEM_TRUST MAILPOST_TEST_OAUTH2_POLL_MS \
		MAILPOST_TEST_MIME_TYPES
	export LC_ALL=C
	# A look-up without dns_server fails instead of asking the real DNS
	# (src/wire/dns.h).
	export MAILPOST_TEST_DNS_REQUIRED=1
	MAILPOST_CONF=/dev/null
	SMTPD_PID=
	SMTPD_DIR=
	SMTPD_PORT=
	SMTPD_COUNT=0
	SOCKS_PID=
	OAUTHD_PID=
	OAUTHD_COUNT=0
}

mailpost_teardown() {
	stop_smtpd
	stop_socks5
	stop_oauthd
}

setup() { mailpost_setup; }
teardown() { mailpost_teardown; }

# --- failing with a message ---------------------------------------------------

# Print to the test's failure output and fail.
die() {
	printf '%s\n' "$@" >&2
	return 1
}

# Bytes as one escaped line per line (\r\n visible), for diffs.
escaped() {
	"$SMTPD_PYTHON" "$SMTPD_PY" --escape
}

# The diff of two byte strings, escaped, with labels.
show_diff() {
	local expected="$1" actual="$2"
	diff -u --label expected --label actual \
		<(printf '%s' "$expected" | escaped) \
		<(printf '%s' "$actual" | escaped) || true
}

# --- running the program --------------------------------------------------------

run_mailpost() {
	local limit=30
	if [[ "${1:-}" == --timeout ]]; then
		limit="$2"
		shift 2
	fi
	local expected="$1"
	shift
	[[ "$expected" =~ ^[0-9]+$ ]] ||
		die "run_mailpost: first argument must be the expected exit code, got '$expected'" ||
		return 1
	[[ -x "$MAILPOST" ]] || die "mailpost not built: $MAILPOST" || return 1
	run --separate-stderr timeout "$limit" "$MAILPOST" "$@"
	if [[ "$status" -ne "$expected" ]]; then
		{
			echo "#/vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
			echo "#| FAIL: exit code $status, expected $expected"
			[[ "$status" -eq 124 ]] && echo "#| (killed by timeout $limit)"
			printf '#| command: %q' "$MAILPOST"
			printf ' %q' "$@"
			echo
			echo "#| stdout:"
			printf '%s\n' "$output" | sed 's/^/#|   /'
			echo "#| stderr:"
			printf '%s\n' "$stderr" | sed 's/^/#|   /'
			if [[ -n "$SMTPD_DIR" && -s "$SMTPD_DIR/log" ]]; then
				echo "#| server log ($SMTPD_DIR/log):"
				tail -n 40 "$SMTPD_DIR/log" | sed 's/^/#|   /'
			fi
			echo "#\\^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"
		} >&2
		return 1
	fi
}

run_send() {
	local opts=()
	if [[ "${1:-}" == --timeout ]]; then
		opts=(--timeout "$2")
		shift 2
	fi
	local expected="$1"
	shift
	[[ -n "$SMTPD_PORT" ]] || die "run_send: no server started" || return 1
	run_mailpost "${opts[@]}" "$expected" -C "$MAILPOST_CONF" --host "${SEND_HOST:-127.0.0.1}" \
		--port "$SMTPD_PORT" --domain client.test -f alice@example.org "$@"
}

write_config() {
	MAILPOST_CONF="$BATS_TEST_TMPDIR/config"
	{
		echo "defaults"
		printf '%s\n' "$@"
	} >"$MAILPOST_CONF"
	chmod 600 "$MAILPOST_CONF"
}

MSG_SIMPLE_CRLF=$'From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>\r\nSubject: test\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\nMessage-ID: <1@example.org>\r\n\r\nHello Bob.\r\nBye.\r\n'

make_message() {
	local file="${1:-$BATS_TEST_TMPDIR/msg}"
	printf '%s' "${MSG_SIMPLE_CRLF//$'\r'/}" >"$file"
	printf '%s\n' "$file"
}

# Poll (every 20 ms, at most SECONDS, default 15) until FILE holds TEXT.
# Waiting for a condition, never for a fixed time: a loaded machine only
# makes the test slower, never makes it fail.
wait_for_text() {
	local k limit=$((${3:-15} * 50))
	for ((k = 0; k < limit; k++)); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.02
	done
	die "'$2' did not appear in $1 within ${3:-15} s:" "$(tail -n 20 "$1" 2>/dev/null)"
}

# A port nothing listens on (bound, then closed).
unused_port() {
	"$SMTPD_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# --- the test server ----------------------------------------------------------

start_smtpd() {
	local script="" opts=()
	if [[ $# -gt 0 && "$1" != "--" ]]; then
		script="$1"
		shift
	fi
	[[ "${1:-}" == "--" ]] && shift
	opts=("$@")
	[[ "$script" == "-" ]] && script="$(cat)"

	SMTPD_COUNT=$((SMTPD_COUNT + 1))
	SMTPD_DIR="$BATS_TEST_TMPDIR/smtpd.$SMTPD_COUNT"
	mkdir -p "$SMTPD_DIR"
	printf '%s\n' "$script" >"$SMTPD_DIR/script"
	"$SMTPD_PYTHON" "$SMTPD_PY" --dir "$SMTPD_DIR" --script "$SMTPD_DIR/script" \
		"${opts[@]}" >"$SMTPD_DIR/stdout" 2>"$SMTPD_DIR/stderr" 3>&- &
	SMTPD_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		if [[ -s "$SMTPD_DIR/port" ]]; then
			SMTPD_PORT=$(<"$SMTPD_DIR/port")
			return 0
		fi
		if ! kill -0 "$SMTPD_PID" 2>/dev/null; then
			die "start_smtpd: the server exited:" "$(cat "$SMTPD_DIR/stderr")"
			SMTPD_PID=
			return 1
		fi
		sleep 0.05
	done
	die "start_smtpd: no port file after 5 s" "$(cat "$SMTPD_DIR/stderr")"
}

# Wait (at most 10 s) for the server process to end.
smtpd_wait_exit() {
	local i
	for ((i = 0; i < 200; i++)); do
		kill -0 "$SMTPD_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$SMTPD_PID" 2>/dev/null; then
		kill -KILL "$SMTPD_PID" 2>/dev/null
		die "the test server did not exit; log:" "$(tail -n 20 "$SMTPD_DIR/log")"
		return 1
	fi
	wait "$SMTPD_PID" 2>/dev/null || true
	SMTPD_PID=
}

smtpd_finish() {
	[[ -n "$SMTPD_DIR" ]] || die "no test server was started" || return 1
	if [[ -n "$SMTPD_PID" ]]; then
		kill -TERM "$SMTPD_PID" 2>/dev/null || true
		smtpd_wait_exit || return 1
	fi
	if [[ -s "$SMTPD_DIR/stderr" ]]; then
		die "the test server wrote to stderr (a bug in smtpd.py?):" \
			"$(cat "$SMTPD_DIR/stderr")"
	fi
}

stop_smtpd() {
	if [[ -n "${SMTPD_PID:-}" ]]; then
		kill -TERM "$SMTPD_PID" 2>/dev/null || true
		smtpd_wait_exit >/dev/null 2>&1 || true
	fi
	SMTPD_PID=
}

start_socks5() {
	local answers=() a i
	for a in "$@"; do
		answers+=(--answer "$a")
	done
	[[ -n "${SMTPD_PORT:-}" ]] || die "start_socks5: start_smtpd first" || return 1
	SOCKS_DIR="$BATS_TEST_TMPDIR/socks5"
	mkdir -p "$SOCKS_DIR"
	"$SMTPD_PYTHON" "$BATS_TEST_DIRNAME/lib/socks5.py" --dir "$SOCKS_DIR" \
		--target-port "$SMTPD_PORT" --max-connections 20 "${answers[@]}" \
		>"$SOCKS_DIR/stdout" 2>"$SOCKS_DIR/stderr" 3>&- &
	SOCKS_PID=$!
	for ((i = 0; i < 100; i++)); do
		if [[ -s "$SOCKS_DIR/port" ]]; then
			SOCKS_PORT=$(<"$SOCKS_DIR/port")
			return 0
		fi
		kill -0 "$SOCKS_PID" 2>/dev/null ||
			die "start_socks5: the proxy exited:" "$(cat "$SOCKS_DIR/stderr")" ||
			return 1
		sleep 0.05
	done
	die "start_socks5: no port file after 5 s"
}

stop_socks5() {
	if [[ -n "${SOCKS_PID:-}" ]]; then
		kill -TERM "$SOCKS_PID" 2>/dev/null || true
		wait "$SOCKS_PID" 2>/dev/null || true
	fi
	SOCKS_PID=
}

# --- the OAuth 2.0 server -----------------------------------------------------------

OAUTHD_PY="$BATS_TEST_DIRNAME/lib/oauthd.py"
OAUTH2_USER=alice@example.org
OAUTH2_CLIENT_ID=mailpost-test

oauthd_start() {
	[[ -n "${CERTS:-}" ]] || tls_certs || return 1
	OAUTHD_COUNT=$((OAUTHD_COUNT + 1))
	OAUTHD_DIR="$BATS_TEST_TMPDIR/oauthd.$OAUTHD_COUNT"
	OAUTHD_LOG="$OAUTHD_DIR/log"
	mkdir -p "$OAUTHD_DIR"
	"$SMTPD_PYTHON" "$OAUTHD_PY" --dir "$OAUTHD_DIR" --cert "$CERTS/server.pem" \
		--key "$CERTS/server.key" \
		${MAILPOST_TEST_OAUTH2_POLL_MS:+--poll-ms "$MAILPOST_TEST_OAUTH2_POLL_MS"} "$@" \
		>"$OAUTHD_DIR/stdout" 2>"$OAUTHD_DIR/stderr" 3>&- &
	OAUTHD_PID=$!
	await_port_file oauthd_start "$OAUTHD_DIR" "$OAUTHD_PID" || {
		OAUTHD_PID=
		return 1
	}
	OAUTHD_PORT=$(<"$OAUTHD_DIR/port")
	OAUTHD_URL="https://127.0.0.1:$OAUTHD_PORT"
}

# await_port_file WHO DIR PID: wait up to 5 s for DIR/port, which a test
# server (PID, its stderr in DIR/stderr) writes once it listens; fails
# saying so (as WHO) when the server exits first or is not there by then.
await_port_file() {
	local n
	for ((n = 0; n < 100; n++)); do
		[[ -s "$2/port" ]] && return 0
		if ! kill -0 "$3" 2>/dev/null; then
			die "$1: the server exited:" "$(cat "$2/stderr")"
			return 1
		fi
		sleep 0.05
	done
	die "$1: no port file after 5 s" "$(cat "$2/stderr")"
}

stop_oauthd() {
	if [[ -n "${OAUTHD_PID:-}" ]]; then
		kill -TERM "$OAUTHD_PID" 2>/dev/null || true
		wait "$OAUTHD_PID" 2>/dev/null || true
	fi
	OAUTHD_PID=
}

# oauthd_log_query PYTHON-EXPRESSION [PATH [ARG]]: evaluate the expression
# over `log` (the list of logged requests, those to PATH when PATH is not
# empty) and `arg`, and print it; None: print nothing and return 3.
oauthd_log_query() {
	[[ -n "${OAUTHD_DIR:-}" ]] || die "no OAuth server was started" || return 1
	jsonl_query "$OAUTHD_LOG" "$@"
}

# jsonl_query FILE PYTHON-EXPRESSION [PATH [ARG]]: the same over a server's
# log of one JSON object a line (a missing file: no entries) whose
# entries have "path".
jsonl_query() {
	"$SMTPD_PYTHON" -c '
import json, sys
name, expr, path, arg = sys.argv[1:5]
log = []
try:
    with open(name) as f:
        log = [json.loads(line) for line in f]
except FileNotFoundError:
    pass
log = [e for e in log if not path or e["path"] == path]
r = eval(expr)
if r is None:
    sys.exit(3)
print(r)
' "$1" "$2" "${3:-}" "${4:-}"
}

oauthd_requests() {
	oauthd_log_query 'len(log)' "${1:-}"
}

oauthd_last_form() {
	oauthd_log_query 'log[-1]["form"].get(arg) if log else None' "${2:-}" "$1" ||
		die "the last request${2:+ to $2} has no form field $1; the log ends:" \
			"$(tail -n 3 "$OAUTHD_LOG" 2>/dev/null)"
}

oauthd_authorize() {
	local answer
	OAUTHD_REDIRECT=
	answer="$("$SMTPD_PYTHON" "$OAUTHD_PY" --ca "$CERTS/ca.pem" --timeout 10 \
		--request GET "$1")" || die "oauthd_authorize: GET $1 failed:" "$answer" || return 1
	OAUTHD_REDIRECT="$(sed -n 2p <<<"$answer")"
	[[ "$answer" == 302* && "$OAUTHD_REDIRECT" != - ]] ||
		die "oauthd_authorize: no redirect from $1:" "$answer"
}

oauthd_browse() {
	local answer
	oauthd_authorize "$1" || return 1
	answer="$("$SMTPD_PYTHON" "$OAUTHD_PY" --timeout 10 --request GET "$OAUTHD_REDIRECT")" ||
		die "oauthd_browse: GET $OAUTHD_REDIRECT failed:" "$answer" || return 1
	sed 1,2d <<<"$answer"
}

oauthd_problems() {
	[[ -n "${OAUTHD_DIR:-}" ]] || die "no OAuth server was started" || return 1
	cat "$OAUTHD_DIR/problems" 2>/dev/null || true
}

assert_oauthd_no_problems() {
	[[ -n "${OAUTHD_DIR:-}" ]] || die "no OAuth server was started" || return 1
	if [[ -s "$OAUTHD_DIR/problems" ]]; then
		die "the OAuth server saw client mistakes:" "$(cat "$OAUTHD_DIR/problems")"
	fi
}

assert_oauthd_problem() {
	[[ -n "${OAUTHD_DIR:-}" ]] || die "no OAuth server was started" || return 1
	grep -qF -- "$1" "$OAUTHD_DIR/problems" 2>/dev/null ||
		die "the OAuth server should have flagged '$1'; its problems:" \
			"$(cat "$OAUTHD_DIR/problems" 2>/dev/null)"
}

write_oauth2_config() {
	[[ -n "${OAUTHD_URL:-}" ]] || die "write_oauth2_config: oauthd_start first" || return 1
	export XDG_STATE_HOME="$BATS_TEST_TMPDIR/state"
	local server=()
	[[ -n "${SMTPD_PORT:-}" ]] && server=("host 127.0.0.1" "port $SMTPD_PORT")
	write_config "account oauth" "oauth2_provider generic" \
		"oauth2_client_id $OAUTH2_CLIENT_ID" \
		"oauth2_token_endpoint $OAUTHD_URL/token" \
		"oauth2_device_endpoint $OAUTHD_URL/device" \
		"oauth2_authorize_endpoint $OAUTHD_URL/authorize" \
		"oauth2_trust_file $CERTS/ca.pem" "user $OAUTH2_USER" \
		"${server[@]}" "auth on" "$@" "account default : oauth"
}

# The format is tokstore.c's header's: a test that writes it by hand
# breaks, as it should, when the format changes without the header.
oauth2_seed() {
	"$SMTPD_PYTHON" - "${OAUTH2_TOKEN_DIR:-$XDG_STATE_HOME/mailpost/oauth2}" \
		"${OAUTH2_TOKEN_DIR:+0660}" "${OAUTH2_ACCOUNT:-default}" \
		"$OAUTHD_URL/token" "$OAUTH2_CLIENT_ID" "$OAUTH2_USER" "$@" <<'EOF'
import os, sys, time
d, mode, account, endpoint, client, user, refresh = sys.argv[1:8]
access = sys.argv[8] if len(sys.argv) > 8 else None
left = int(sys.argv[9]) if len(sys.argv) > 9 else 3000
h = 14695981039346656037
for s in (endpoint, client, user):
    for b in s.encode() + b"\0":
        h = ((h ^ b) * 1099511628211) % 2**64
if not os.path.isdir(d):
    os.makedirs(d, mode=0o700)
    os.chmod(d, 0o700)
lines = ["mailpost-oauth2 1", "endpoint " + endpoint, "client " + client,
         "user " + user, "scope ", "refresh file", "refresh_token " + refresh]
if access:
    lines += ["access_token " + access,
              "access_expires %d" % (time.time() + left)]
path = os.path.join(d, "%s-%016x" % (account, h))
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.fchmod(fd, int(mode or "0600", 8))
os.write(fd, ("\n".join(lines + ["end"]) + "\n").encode())
os.close(fd)
print(path)
EOF
}

smtpd_received() {
	smtpd_finish || return 1
	escaped <"$SMTPD_DIR/received"
}

# The line of connection N in the counts file DIR/FILE, "conn N: " cut.
smtpd_count_line() {
	smtpd_finish || return 1
	local line
	line="$(grep -m1 "^conn $2: " "$SMTPD_DIR/$1")" ||
		die "no line for connection $2 in DIR/$1:" "$(cat "$SMTPD_DIR/$1")" ||
		return 1
	printf '%s\n' "${line#*: }"
}

smtpd_waits() {
	smtpd_count_line waits "${1:-1}"
}

smtpd_tls_wire() {
	local line
	line="$(smtpd_count_line tlswire "${1:-1}")" || return 1
	line="${line#records }"
	line="${line/ wire / }"
	printf '%s\n' "${line/ plaintext / }"
}

# --- TLS and AUTH ------------------------------------------------------------

tls_certs() {
	CERTS="$BATS_FILE_TMPDIR/pki"
	sh "$BATS_TEST_DIRNAME/lib/mkcerts.sh" "$CERTS" ||
		die "tls_certs: mkcerts.sh failed"
}

tls_cert_line() {
	local key=server
	[[ "$1" == client ]] && key=client
	[[ -e "$CERTS/$1.pem" ]] || die "tls_cert_line: no $CERTS/$1.pem" || return 1
	printf 'tls-cert %s %s\n' "$CERTS/$1.pem" "$CERTS/$key.key"
}

b64() {
	printf '%b' "$1" | base64 -w0
}

# file_lacks FILE BYTES WHAT: FILE does not contain BYTES.
file_lacks() {
	local r
	# NUL bytes (a TLS record sent to a plaintext server) dropped: bash
	# strings cannot hold them.
	r="$(tr -d '\0' <"$1"; printf x)"
	r="${r%x}"
	if [[ "$r" == *"$2"* ]]; then
		die "$3 holds '$(printf '%s' "$2" | escaped | tr -d '\n')', which it must not:" \
			"$(escaped <"$1")"
	fi
}

assert_clear_lacks() {
	smtpd_finish || return 1
	file_lacks "$SMTPD_DIR/received.clear" "$1" "what the server received in clear"
}

assert_tls_received_contains() {
	smtpd_finish || return 1
	local r
	r="$(cat "$SMTPD_DIR/received.tls"; printf x)"
	r="${r%x}"
	if [[ "$r" != *"$1"* ]]; then
		die "the server did not receive '$(printf '%s' "$1" | escaped | tr -d '\n')' inside TLS" \
			"its commands:" "$(cat "$SMTPD_DIR/commands")"
	fi
}

assert_over_tls() {
	smtpd_finish || return 1
	local verb
	for verb in "$@"; do
		grep -qiE "^[0-9]+ tls $verb( |\$)" "$SMTPD_DIR/commands" ||
			die "no $verb arrived inside TLS; commands:" \
				"$(cat "$SMTPD_DIR/commands")" || return 1
		if grep -qiE "^[0-9]+ clear $verb( |\$)" "$SMTPD_DIR/commands"; then
			die "$verb arrived in clear; commands:" "$(cat "$SMTPD_DIR/commands")"
			return 1
		fi
	done
}

assert_no_command() {
	smtpd_finish || return 1
	local verb
	for verb in "$@"; do
		if grep -qiE "^[0-9]+ (tls|clear) $verb( |\$)" "$SMTPD_DIR/commands"; then
			die "the server received $verb, which the client must not send; commands:" \
				"$(cat "$SMTPD_DIR/commands")"
			return 1
		fi
		file_lacks "$SMTPD_DIR/received" "$verb " "what the server received" ||
			return 1
	done
}

assert_tls_session() {
	smtpd_finish || return 1
	grep -qF -- "$1" "$SMTPD_DIR/tls" ||
		die "no TLS handshake record holds '$1'; records:" "$(cat "$SMTPD_DIR/tls")"
}

assert_auth_record() {
	smtpd_finish || return 1
	grep -qF -- "$1" "$SMTPD_DIR/auth" ||
		die "no AUTH record holds '$1'; records:" "$(cat "$SMTPD_DIR/auth")" \
			"server log:" "$(tail -n 20 "$SMTPD_DIR/log")"
}

smtpd_bearer_tokens() {
	smtpd_finish || return 1
	sed -n 's/^conn [0-9]*: \([A-Z0-9]*\) user=[^ ]* token=\(.*\) \([a-z]*\)$/\1 \2 \3/p' \
		"$SMTPD_DIR/bearer" 2>/dev/null
}

assert_bearer_used() {
	local last
	last="$(smtpd_bearer_tokens | tail -n 1)" || return 1
	[[ "$last" == *" $1 accepted" ]] ||
		die "the last bearer token the server got was not '$1', accepted; it got:" \
			"$(smtpd_bearer_tokens)"
}

assert_no_secret() {
	local secret="$1" f
	shift
	[[ -n "$secret" ]] || die "assert_no_secret: empty secret" || return 1
	if [[ "$output" == *"$secret"* ]]; then
		die "stdout holds the secret '$secret':" "$output"
		return 1
	fi
	if [[ "$stderr" == *"$secret"* ]]; then
		die "stderr holds the secret '$secret':" "$stderr"
		return 1
	fi
	for f in "$@"; do
		[[ -e "$f" ]] || die "assert_no_secret: $f does not exist" || return 1
		if grep -qF -- "$secret" "$f"; then
			die "$f holds the secret '$secret':" "$(grep -nF -- "$secret" "$f")"
			return 1
		fi
	done
}

# --- assertions -----------------------------------------------------------------

assert_equal() {
	local expected="$1" actual="$2" what="${3:-value}"
	if [[ "$expected" != "$actual" ]]; then
		die "$what differs:" "  expected: '$expected'" "  actual:   '$actual'"
	fi
}

assert_file_bytes() {
	local file="$1" expected="$2" what="${3:-$1}" actual
	[[ -e "$file" ]] || die "$what: $file does not exist" || return 1
	# $(...) would drop trailing newlines: compare through a sentinel.
	actual="$(cat "$file"; printf x)"
	actual="${actual%x}"
	if [[ "$expected" != "$actual" ]]; then
		die "$what is not as expected (escaped, - expected, + actual):" \
			"$(show_diff "$expected" "$actual")"
	fi
}

# Text on stdin -> the same with every LF as CRLF (and no sentinel loss).
stdin_crlf() {
	local text
	text="$(sed 's/$/\r/'; printf x)"
	printf '%s' "${text%x}"
}

assert_received() {
	smtpd_finish || return 1
	assert_file_bytes "$SMTPD_DIR/received" "$1" "what the server received"
}

assert_received_crlf() {
	local expected
	expected="$(stdin_crlf; printf x)"
	assert_received "${expected%x}"
}

received_bytes() {
	local r
	r="$(tr -d '\0' <"$SMTPD_DIR/received"; printf x)"
	printf '%s' "${r%x}"
}

assert_received_contains() {
	smtpd_finish || return 1
	local r
	r="$(received_bytes; printf x)"
	r="${r%x}"
	if [[ "$r" != *"$1"* ]]; then
		die "the server did not receive '$(printf '%s' "$1" | escaped | tr -d '\n')'" \
			"it received:" "$(escaped <"$SMTPD_DIR/received")"
	fi
}

assert_received_lacks() {
	smtpd_finish || return 1
	local r
	r="$(received_bytes; printf x)"
	r="${r%x}"
	if [[ "$r" == *"$1"* ]]; then
		die "the server received '$(printf '%s' "$1" | escaped | tr -d '\n')', which it must not" \
			"it received:" "$(escaped <"$SMTPD_DIR/received")"
	fi
}

assert_message() {
	smtpd_finish || return 1
	local n="$1"
	if [[ ! -e "$SMTPD_DIR/msg.$n" ]]; then
		die "message $n was not received completely; server log:" \
			"$(tail -n 30 "$SMTPD_DIR/log")"
		return 1
	fi
	assert_file_bytes "$SMTPD_DIR/msg.$n" "$2" "message $n"
}

assert_message_crlf() {
	local expected
	expected="$(stdin_crlf; printf x)"
	assert_message "$1" "${expected%x}"
}

assert_no_message() {
	smtpd_finish || return 1
	local n="${1:-1}"
	if [[ -e "$SMTPD_DIR/msg.$n" ]]; then
		die "the server received a complete message $n, but none should have been sent:" \
			"$(escaped <"$SMTPD_DIR/msg.$n")"
	fi
}

assert_no_problems() {
	smtpd_finish || return 1
	if [[ -s "$SMTPD_DIR/problems" ]]; then
		die "the test server saw client mistakes:" "$(cat "$SMTPD_DIR/problems")"
	fi
}

assert_problem() {
	smtpd_finish || return 1
	if ! grep -qF -- "$1" "$SMTPD_DIR/problems"; then
		die "the test server should have flagged '$1'; its problems file:" \
			"$(cat "$SMTPD_DIR/problems")"
	fi
}

assert_in_one_recv() {
	smtpd_finish || return 1
	local want
	want="$(printf '%s' "$1" | escaped | tr -d '\n')"
	if ! cut -d' ' -f4- "$SMTPD_DIR/recv.log" | grep -qF -- "$want"; then
		die "'$want' did not arrive in one recv(); the recv() calls were:" \
			"$(cat "$SMTPD_DIR/recv.log")"
	fi
}

assert_output_contains() {
	if [[ "$output" != *"$1"* ]]; then
		die "stdout does not contain '$1'; stdout was:" "$output"
	fi
}

assert_output_lacks() {
	if [[ "$output" == *"$1"* ]]; then
		die "stdout contains '$1', which it must not; stdout was:" "$output"
	fi
}

assert_stderr_contains() {
	if [[ "$stderr" != *"$1"* ]]; then
		die "stderr does not contain '$1'; stderr was:" "$stderr"
	fi
}

assert_stderr_lacks() {
	if [[ "$stderr" == *"$1"* ]]; then
		die "stderr contains '$1', which it must not; stderr was:" "$stderr"
	fi
}

assert_line_contains() {
	local line
	for line in "${stderr_lines[@]}"; do
		[[ "$line" == *"$1"* ]] && return 0
	done
	die "no stderr line contains '$1'; stderr was:" "$stderr"
}

assert_stderr_line_count() {
	local n=${#stderr_lines[@]}
	if [[ "$n" -ne "$1" ]]; then
		die "stderr has $n lines, expected $1; stderr was:" "$stderr"
	fi
}
