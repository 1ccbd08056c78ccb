# bench/lib/sinks.bash - the servers of bench/run, all on 127.0.0.1 (or on
# the loopback of a private network namespace), each started here and
# stopped by the cleanup trap of common.bash. Sourced by bench/run.
#
#   smtp_sink_start              Postfix's smtp-sink (plain SMTP: no TLS,
#                                no CHUNKING); sets SMTP_SINK_PORT
#   sink_start VAR [ARGS...]     bench/lib/sink.py (TLS, AUTH, CHUNKING; see
#                                its header); sets VAR to its port
#   system_store_ns COMMAND...   run COMMAND in a private mount namespace in
#                                which /etc/ssl/certs is the system's plus
#                                the test CA (see below); root only
#   netns_pair                   two network namespaces, CLI_NS and SRV_NS,
#                                each with its loopback up; root only
#   relay_start VAR PORT RTT LOG the delay relay, listening in CLI_NS,
#                                connecting to SRV_NS's 127.0.0.1:PORT

free_port()
{
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port_file FILE: wait (at most 10 s) until a server wrote its port.
wait_port_file()
{
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$1" ] && { cat "$1"; return 0; }
		sleep 0.1
	done
	return 1
}

smtp_sink_start()
{
	local args=(-h sink.test) i
	[ "$(id -u)" = 0 ] && args+=(-u nobody) # required when run as root
	SMTP_SINK_PORT=$(free_port)
	"$(command -v smtp-sink || echo /usr/sbin/smtp-sink)" "${args[@]}" \
		"127.0.0.1:$SMTP_SINK_PORT" 256 &
	bench_pids+=($!)
	for ((i = 0; i < 100; i++)); do
		python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
			"$SMTP_SINK_PORT" 2>/dev/null && return 0
		sleep 0.1
	done
	die "smtp-sink did not start on 127.0.0.1:$SMTP_SINK_PORT"
}

# sink_start VAR [--netns NS] [sink.py options]: the TLS options name the
# test PKI's server certificate (localhost, 127.0.0.1) and --auth the
# password file, so callers give only --tls MODE, --auth and --chunking.
sink_start()
{
	local _var=$1 _pfile _prefix=() _args=() _port
	shift
	_pfile=$(mktemp -u "$tmp/sink-port.XXXXXX")
	while [ $# -gt 0 ]; do
		case $1 in
		--netns) _prefix=(ip netns exec "$2"); shift ;;
		--auth) _args+=(--auth "$SASL_USER" --password-file "$PWFILE") ;;
		--tls) _args+=(--tls "$2" --cert "$CERTS/server.pem" --key "$CERTS/server.key"); shift ;;
		*) _args+=("$1") ;;
		esac
		shift
	done
	"${_prefix[@]}" python3 "$lib/sink.py" --listen 127.0.0.1:0 \
		--port-file "$_pfile" "${_args[@]}" &
	bench_pids+=($!)
	_port=$(wait_port_file "$_pfile") || die "sink.py ${_args[*]} did not start"
	printf -v "$_var" '%s' "$_port"
}

# stop_last: stop the server started last (the latency mode starts one pair
# per configuration).
stop_last()
{
	local n=$((${#bench_pids[@]} - 1)) pid
	pid=${bench_pids[$n]}
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	unset "bench_pids[$n]"
	bench_pids=("${bench_pids[@]}")
}

# The system trust store as both clients' GnuTLS finds it, with the test
# CA in it, without touching the real one: a copy of /etc/ssl/certs (the
# bundle file and the hashed links, both ways a library may look a CA up)
# in which ca-certificates.crt is the system's 144 CAs plus the test CA
# last, and a hash link names the test CA; bind-mounted over /etc/ssl/certs
# in a private mount namespace (unshare -m), which ends with COMMAND.
system_store_prepare()
{
	local d=$tmp/etc-ssl-certs
	[ -d "$d" ] && return 0
	mkdir -p "$d"
	cp -a /etc/ssl/certs/. "$d/"
	cp "$tmp/bundle.pem" "$d/ca-certificates.crt"
	cp "$CERTS/ca.pem" "$d/mailpost-bench-test-ca.pem"
	ln -s mailpost-bench-test-ca.pem \
		"$d/$(openssl x509 -noout -subject_hash -in "$CERTS/ca.pem").0"
}

system_store_ns()
{
	system_store_prepare
	unshare -m --propagation private sh -c \
		'mount --bind "$1" /etc/ssl/certs && shift && exec "$@"' \
		sh "$tmp/etc-ssl-certs" "$@"
}

netns_pair()
{
	CLI_NS=mailpost-bench-cli-$$
	SRV_NS=mailpost-bench-srv-$$
	ip netns add "$CLI_NS" || die "ip netns add failed"
	bench_netns+=("$CLI_NS")
	ip netns add "$SRV_NS" || die "ip netns add failed"
	bench_netns+=("$SRV_NS")
	ip -n "$CLI_NS" link set lo up
	ip -n "$SRV_NS" link set lo up
}

relay_start()
{
	local _var=$1 _pfile _rport
	_pfile=$(mktemp -u "$tmp/relay-port.XXXXXX")
	ip netns exec "$CLI_NS" python3 "$lib/relay.py" --listen 127.0.0.1:0 \
		--port-file "$_pfile" --connect "127.0.0.1:$2" --rtt "$3" \
		--netns "$SRV_NS" --log "$4" &
	bench_pids+=($!)
	_rport=$(wait_port_file "$_pfile") || die "the relay did not start"
	printf -v "$_var" '%s' "$_rport"
}
