# httpsd.bash - the loopback HTTPS file server (tests/lib/httpsd.py; its
# header documents the answers and the log) for a bats file.  Load it
# after lib/helpers; start the server in setup_file (one per file) and
# stop it in teardown_file.
#
#   httpsd_start [--cert NAME] [OPTION...]
#                         start it with $CERTS/NAME.pem (default names:
#                         the test zones' names, tests/lib/mkcerts.sh;
#                         tls_certs is run when $CERTS is unset) and key,
#                         serving $HTTPSD_ROOT/HOST/PATH; OPTIONs go to
#                         httpsd.py (--listen ADDR, --port N); sets
#                         HTTPSD_PORT, HTTPSD_ROOT, HTTPSD_LOG, HTTPSD_DIR,
#                         HTTPSD_PID, and exports MAILPOST_TEST_HTTPS_PORT
#                         (https_port(): where mailpost's https://NAME/
#                         goes) to the port
#   stop_httpsd           stop it
#   httpsd_file HOST PATH stdin becomes the document https://HOST/PATH
#   httpsd_answer HOST PATH [ANSWER]
#                         https://HOST/PATH is answered ANSWER (httpsd.py's
#                         "status 500", "hang", "big 70000" ...) from now
#                         on; without ANSWER, normally again
#   httpsd_requests [PATH [HOST]]
#                         print how many requests came (for PATH, at HOST)
#   httpsd_log_query EXPR [PATH [ARG]]
#                         print the Python expression EXPR over `log` (the
#                         logged requests, those for PATH when given) and
#                         `arg`; nothing and status 3 for None

HTTPSD_PY="$BATS_TEST_DIRNAME/lib/httpsd.py"

httpsd_start() {
	local cert=names
	if [[ "${1:-}" == --cert ]]; then
		cert=$2
		shift 2
	fi
	[[ -n "${CERTS:-}" ]] || tls_certs || return 1
	HTTPSD_DIR=$(mktemp -d "${BATS_FILE_TMPDIR:-$BATS_TEST_TMPDIR}/httpsd.XXXXXX")
	HTTPSD_ROOT="$HTTPSD_DIR/root"
	HTTPSD_LOG="$HTTPSD_DIR/log"
	mkdir -p "$HTTPSD_ROOT"
	"$SMTPD_PYTHON" "$HTTPSD_PY" --root "$HTTPSD_ROOT" \
		--cert "$CERTS/$cert.pem" --key "$CERTS/server.key" \
		--port-file "$HTTPSD_DIR/port" --log "$HTTPSD_LOG" "$@" \
		>"$HTTPSD_DIR/stdout" 2>"$HTTPSD_DIR/stderr" 3>&- &
	HTTPSD_PID=$!
	await_port_file httpsd_start "$HTTPSD_DIR" "$HTTPSD_PID" || {
		HTTPSD_PID=
		return 1
	}
	HTTPSD_PORT=$(<"$HTTPSD_DIR/port")
	export MAILPOST_TEST_HTTPS_PORT=$HTTPSD_PORT
}

stop_httpsd() {
	if [[ -n "${HTTPSD_PID:-}" ]]; then
		kill -TERM "$HTTPSD_PID" 2>/dev/null || true
		wait "$HTTPSD_PID" 2>/dev/null || true
	fi
	HTTPSD_PID=
}

httpsd_file() {
	local f="$HTTPSD_ROOT/$1/${2#/}"
	mkdir -p "${f%/*}" && cat >"$f"
}

httpsd_answer() {
	local f="$HTTPSD_ROOT/$1/${2#/}"
	if [[ -n "${3:-}" ]]; then
		mkdir -p "${f%/*}" && printf '%s\n' "$3" >"$f.answer"
	else
		rm -f "$f.answer"
	fi
}

httpsd_log_query() {
	[[ -n "${HTTPSD_LOG:-}" ]] || die "no HTTPS server was started" || return 1
	jsonl_query "$HTTPSD_LOG" "$1" "${2:-}" "${3:-}"
}

httpsd_requests() {
	httpsd_log_query 'len([e for e in log if not arg or e["host"] == arg])' "${1:-}" "${2:-}"
}
