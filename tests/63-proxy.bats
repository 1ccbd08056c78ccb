#!/usr/bin/env bats
# 63-proxy: proxy_host/proxy_port (SOCKS5, RFC 1928) and socket, against the
# scripted SOCKS5 proxy of tests/lib/socks5.py, which records every CONNECT
# and relays it to the scripted SMTP server: the server's name goes to the
# proxy and is never resolved here, every reply code and every malformed
# reply, TLS through the proxy (verified against the server's name, with
# it as SNI), failover through the proxy, no clear-text password through
# it, and a local socket.
#
# The server is named "localhost" (resolved from /etc/hosts) or an address
# on loopback, at a port where nothing listens: a connection that went
# around the proxy fails.  Names nobody can resolve are used only inside a
# private mount namespace whose resolver reads /etc/hosts alone, so that
# not even a broken build can send a DNS query.

load lib/helpers

setup() {
	mailpost_setup
	MSG="$(make_message)"
	DEAD_PORT=$(unused_port)
}

# The account: through the proxy to HOST (default localhost) at DEAD_PORT,
# plus LINEs.
proxy_config() {
	local host="${1:-localhost}"
	[[ $# -eq 0 ]] || shift
	write_config "host $host" "port $DEAD_PORT" "proxy_host 127.0.0.1" \
		"proxy_port $SOCKS_PORT" "domain client.test" "from alice@example.org" \
		"queue never" "$@"
}

send() {
	local expected="$1"
	shift
	run_mailpost "$expected" -C "$MAILPOST_CONF" "$@" bob@example.net <"$MSG"
}

# assert_requests LINE...: the proxy saw exactly these CONNECTs.
assert_requests() {
	local want
	want="$(printf '%s\n' "$@")"
	assert_equal "$want" "$(cat "$SOCKS_DIR/requests")" "the proxy's requests" || return 1
	[[ ! -s "$SOCKS_DIR/problems" ]] ||
		die "the proxy flagged a client mistake:" "$(cat "$SOCKS_DIR/problems")"
}

# Run mailpost (-C config, then ARGS) with the host names of the file
# $BATS_TEST_TMPDIR/hosts and no DNS at all.
run_no_dns() {
	local expected="$1"
	shift
	[ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null ||
		skip "needs root and unshare for a private /etc/nsswitch.conf"
	printf 'hosts: files\n' >"$BATS_TEST_TMPDIR/nsswitch.conf"
	[[ -e "$BATS_TEST_TMPDIR/hosts" ]] ||
		printf '127.0.0.1 localhost\n' >"$BATS_TEST_TMPDIR/hosts"
	run --separate-stderr timeout 30 unshare -m sh -c '
		mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/nsswitch.conf || exit 99
		shift 2
		exec "$@"
	' sh "$BATS_TEST_TMPDIR/hosts" "$BATS_TEST_TMPDIR/nsswitch.conf" \
		"$MAILPOST" -C "$MAILPOST_CONF" "$@" bob@example.net <"$MSG"
	assert_equal "$expected" "$status" "exit status (stderr: $stderr)"
}

# --- the way through -------------------------------------------------------------

@test "through the proxy: the CONNECT names the server (ATYP 3), the mail arrives, -v says so" {
	start_smtpd
	start_socks5
	proxy_config
	send 0 -v
	assert_requests "methods=00 atyp=3 host=localhost port=$DEAD_PORT"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_stderr_contains "Connecting to localhost port $DEAD_PORT via SOCKS5 proxy 127.0.0.1:$SOCKS_PORT"
	assert_stderr_contains "Connected to localhost port $DEAD_PORT via SOCKS5 proxy 127.0.0.1:$SOCKS_PORT"
	assert_stderr_lacks "Trying 127.0.0.1 port $DEAD_PORT"
}

@test "without 'domain', EHLO through a proxy says localhost, not this machine's name" {
	start_smtpd
	start_socks5
	proxy_config
	sed -i '/^domain /d' "$MAILPOST_CONF"
	send 0
	assert_received_contains $'EHLO localhost\r\n'
}

@test "a name only the proxy knows is sent as it is and never resolved here" {
	start_smtpd
	start_socks5
	proxy_config smtp.example.org
	run_no_dns 0
	assert_requests "methods=00 atyp=3 host=smtp.example.org port=$DEAD_PORT"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "through a proxy the sender is never made from this machine's name" {
	start_smtpd -- --max-connections 2
	start_socks5
	proxy_config
	sed -i '/^from /d' "$MAILPOST_CONF"
	send 78
	assert_stderr_contains "account 'default' goes through a proxy but has no 'from': the sender $(id -un)@$(hostname) would give away this machine's name; set 'from' (or 'maildomain') or give -f"
	assert_stderr_line_count 1
	[[ ! -s "$SOCKS_DIR/requests" ]] || die "the proxy was asked:" "$(cat "$SOCKS_DIR/requests")"

	send 0 -f alice@example.org
	printf 'maildomain example.org\n' >>"$MAILPOST_CONF"
	send 0
	assert_received_contains "MAIL FROM:<$(id -un)@example.org>"
	assert_received_lacks "@$(hostname)"
}

@test "an internationalized host name goes to the proxy as its A-label" {
	start_smtpd
	start_socks5
	proxy_config "bücher.example"
	run_no_dns 0
	assert_requests "methods=00 atyp=3 host=xn--bcher-kva.example port=$DEAD_PORT"
}

@test "address literals go as addresses (ATYP 1 and 4)" {
	start_smtpd -- --max-connections 2
	start_socks5
	proxy_config 127.0.0.9
	send 0
	proxy_config ::1
	send 0
	assert_requests "methods=00 atyp=1 host=127.0.0.9 port=$DEAD_PORT" \
		"methods=00 atyp=4 host=::1 port=$DEAD_PORT"
}

@test "addresses in brackets are addresses: never looked up, sent as ATYP 1" {
	start_smtpd -- --max-connections 2
	start_socks5
	proxy_config "[127.0.0.9]"
	sed -i 's/^proxy_host .*/proxy_host [127.0.0.1]/' "$MAILPOST_CONF"
	run_no_dns 0
	# The same without a proxy.
	write_config "host [127.0.0.1]" "port $SMTPD_PORT" "from alice@example.org" "queue never"
	run_no_dns 0
	assert_requests "methods=00 atyp=1 host=127.0.0.9 port=$DEAD_PORT"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_message 2 "$MSG_SIMPLE_CRLF"
	# A name in brackets is no address, through the proxy or not.
	proxy_config "[smtp.example.org]"
	run_no_dns 78
	assert_stderr_contains "[smtp.example.org] is in brackets but is not an IPv4 or IPv6 address; write the address, or the name without brackets"
	sed -i '/^proxy_host /d' "$MAILPOST_CONF"
	run_no_dns 78
	assert_stderr_contains "[smtp.example.org] is in brackets but is not an IPv4 or IPv6 address; write the address, or the name without brackets"
}

@test "--proxy-host and --proxy-port; a queued message could not keep them" {
	start_smtpd
	start_socks5
	run_mailpost 0 -C /dev/null --host localhost --port "$DEAD_PORT" \
		--proxy-host 127.0.0.1 --proxy-port "$SOCKS_PORT" --domain client.test \
		-f alice@example.org bob@example.net <"$MSG"
	assert_requests "methods=00 atyp=3 host=localhost port=$DEAD_PORT"
	assert_message 1 "$MSG_SIMPLE_CRLF"

	run_mailpost 64 -C /dev/null --host localhost --proxy-host 127.0.0.1 \
		--queue on-failure -f alice@example.org bob@example.net <"$MSG"
	assert_stderr_contains "--proxy"
	run_mailpost 64 -C /dev/null --host localhost --proxy-port 0 bob@example.net <"$MSG"
	assert_stderr_contains "invalid --proxy-port '0'"
	# A port alone would go around the proxy it asks for.
	run_mailpost 64 -C /dev/null --host 127.0.0.1 --port "$SMTPD_PORT" \
		--proxy-port "$SOCKS_PORT" -f alice@example.org bob@example.net <"$MSG"
	assert_stderr_contains "--proxy-port $SOCKS_PORT without a proxy would connect directly; give --proxy-host too (or set proxy_host)"
	assert_stderr_line_count 1
}

@test "--proxy-host= turns the account's proxy off" {
	start_smtpd
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "proxy_host 127.0.0.1" \
		"proxy_port $DEAD_PORT" "from alice@example.org" "queue never"
	send 0 --proxy-host=
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "the proxy's port defaults to 1080" {
	write_config "host localhost" "proxy_host 127.0.0.1" "from alice@example.org" \
		"queue never"
	send 75 -v
	assert_stderr_contains "via SOCKS5 proxy 127.0.0.1:1080"
	assert_stderr_contains "Trying 127.0.0.1 port 1080..."
}

@test "proxy_host takes one host name" {
	write_config "host localhost" "proxy_host 127.0.0.1 127.0.0.2"
	send 78
	assert_stderr_contains "proxy_host"
	assert_stderr_contains "one host name"
}

# --- failures ----------------------------------------------------------------------

@test "proxy unreachable: 75 and nothing sent anywhere; queued by the account's policy" {
	start_smtpd
	SOCKS_PORT=$(unused_port)
	proxy_config
	send 75
	assert_stderr_contains "cannot connect to SOCKS5 proxy 127.0.0.1 port $SOCKS_PORT: Connection refused; is the proxy running? (check proxy_host and proxy_port)"
	assert_stderr_line_count 1
	assert_received ""

	proxy_config localhost "queue on-failure" "queue_dir $HOME/q"
	send 0
	assert_stderr_contains "queued as "
	assert_stderr_contains "cannot connect to SOCKS5 proxy 127.0.0.1 port $SOCKS_PORT"
	[[ -n "$(ls "$HOME/q")" ]] || die "nothing in the queue directory"
}

@test "a proxy name that does not resolve: 68, and what to check" {
	proxy_config
	sed -i 's/^proxy_host .*/proxy_host tor.invalid/' "$MAILPOST_CONF"
	run_no_dns 68
	assert_stderr_contains "cannot resolve SOCKS5 proxy tor.invalid: "
	assert_stderr_contains "; check proxy_host"
}

@test "each SOCKS5 reply code: its exit status and the proxy's reason" {
	local cases=(
		"1|75|proxy refused: general SOCKS server failure"
		"2|77|proxy refused: connection not allowed by ruleset; the proxy's rules forbid this server or port (Tor's exits refuse port 25: use port 465 or 587)"
		"3|75|proxy refused: network unreachable"
		"4|75|proxy refused: host unreachable"
		"5|75|proxy refused: connection refused"
		"6|75|proxy refused: TTL expired"
		"7|69|proxy refused: command not supported"
		"8|69|proxy refused: address type not supported"
		"9|76|malformed proxy reply: reply code 9 does not exist; check that proxy_host and proxy_port name a SOCKS5 proxy"
	) c rep code text answers=()
	for c in "${cases[@]}"; do
		answers+=("rep:${c%%|*}")
	done
	start_smtpd
	start_socks5 "${answers[@]}"
	proxy_config
	for c in "${cases[@]}"; do
		IFS='|' read -r rep code text <<<"$c"
		send "$code" || die "(reply code $rep)" || return 1
		assert_stderr_contains "cannot connect to localhost port $DEAD_PORT via SOCKS5 proxy 127.0.0.1:$SOCKS_PORT: $text" ||
			return 1
		assert_stderr_line_count 1 || return 1
	done
	assert_received ""
}

@test "malformed proxy replies: 76; authentication wanted: 77; silence and closing: 75" {
	local cases=(
		"version:4|76|malformed proxy reply: version 4, not 5"
		"method:2|76|malformed proxy reply: it chose method 2, which was not offered; check that proxy_host and proxy_port name a SOCKS5 proxy"
		"reply-version:0|76|malformed proxy reply: version 0, not 5"
		"rsv:1|76|malformed proxy reply: reserved octet 1, not 0; check that proxy_host and proxy_port name a SOCKS5 proxy"
		"atyp:2|76|malformed proxy reply: address type 2 does not exist; check that proxy_host and proxy_port name a SOCKS5 proxy"
		"empty-name|76|malformed proxy reply: an empty bound host name; check that proxy_host and proxy_port name a SOCKS5 proxy"
		"truncated|76|malformed proxy reply: it ends too soon; check that proxy_host and proxy_port name a SOCKS5 proxy"
		"no-method|77|proxy refused: it requires authentication"
		"close-greeting|75|the proxy closed the connection without answering; check that proxy_host and proxy_port name a SOCKS5 proxy"
		"close-request|75|the proxy closed the connection without answering; check that proxy_host and proxy_port name a SOCKS5 proxy"
		"silent|75|timed out after 1 s waiting for the proxy"
	) c answer code text answers=()
	for c in "${cases[@]}"; do
		answers+=("${c%%|*}")
	done
	start_smtpd
	start_socks5 "${answers[@]}"
	proxy_config localhost "timeout 1"
	for c in "${cases[@]}"; do
		IFS='|' read -r answer code text <<<"$c"
		send "$code" || die "(answer $answer)" || return 1
		assert_stderr_contains "via SOCKS5 proxy 127.0.0.1:$SOCKS_PORT: $text" || return 1
		assert_stderr_line_count 1 || return 1
	done
	assert_received ""
}

@test "a bound name or IPv6 address in the reply is read exactly: the greeting is not eaten" {
	start_smtpd -- --max-connections 2
	start_socks5 bound-name bound-ipv6
	proxy_config
	send 0
	send 0
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_message 2 "$MSG_SIMPLE_CRLF"
}

@test "the reply and the server's greeting in one packet: the greeting is the server's" {
	start_smtpd
	start_socks5 joined
	proxy_config localhost "timeout 2"
	send 0
	grep -q "in one write" "$SOCKS_DIR/log" || die "the proxy did not join them:" "$(cat "$SOCKS_DIR/log")"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "a proxy that dribbles its answers one octet at a time" {
	start_smtpd
	start_socks5 dribble
	proxy_config
	send 0
	assert_requests "methods=00 atyp=3 host=localhost port=$DEAD_PORT"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "failover: every host goes through the proxy" {
	start_smtpd
	start_socks5 rep:4 ok
	proxy_config "127.0.0.7, localhost"
	send 0 -v
	assert_requests "methods=00 atyp=1 host=127.0.0.7 port=$DEAD_PORT" \
		"methods=00 atyp=3 host=localhost port=$DEAD_PORT"
	assert_stderr_contains "failover: trying localhost"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "no clear-text password through a proxy, even one on loopback to a loopback address" {
	start_smtpd $'caps PIPELINING, AUTH PLAIN\nuser alice s3cret'
	start_socks5
	proxy_config 127.0.0.1 "user alice" "auth plain" "password s3cret"
	send 78
	assert_stderr_contains "refusing to send the password in clear text"
	assert_no_command AUTH MAIL
	assert_no_secret s3cret
}

@test "auth gssapi through a proxy is refused: Kerberos would go around it" {
	start_smtpd
	start_socks5
	proxy_config localhost "auth gssapi" "user alice"
	send 78
	assert_stderr_contains "account 'default' goes through a proxy, but auth gssapi would not: the Kerberos library looks the server up and asks its KDC directly; choose another 'auth' mechanism, or remove 'proxy_host'"
	[[ ! -s "$SOCKS_DIR/requests" ]] || die "the proxy was asked:" "$(cat "$SOCKS_DIR/requests")"
	send 78 --auth GSSAPI
	# Without the proxy the account may use it (the server then lacks it).
	send 69 --proxy-host= --port "$SMTPD_PORT"
	assert_stderr_lacks "goes through a proxy"
}

# --- TLS through the proxy ------------------------------------------------------------

@test "STARTTLS through the proxy, verified against the server's name, which is the SNI" {
	tls_certs
	start_smtpd "$(tls_cert_line wronghost)"$'\ncaps PIPELINING, 8BITMIME, STARTTLS'
	start_socks5
	# wronghost.pem names wrong.example only: verifying the proxy's
	# address (127.0.0.1) instead would fail.
	printf '127.0.0.1 localhost\n' >"$BATS_TEST_TMPDIR/hosts"
	proxy_config wrong.example "tls on" "tls_trust_file $CERTS/ca.pem"
	run_no_dns 0
	assert_requests "methods=00 atyp=3 host=wrong.example port=$DEAD_PORT"
	assert_over_tls MAIL RCPT DATA
	assert_tls_session "sni=wrong.example"
}

@test "a certificate for another name fails through the proxy too: 76, nothing sent" {
	tls_certs
	start_smtpd "$(tls_cert_line server)"$'\ncaps PIPELINING, 8BITMIME, STARTTLS'
	start_socks5
	proxy_config smtp.example.org "tls on" "tls_trust_file $CERTS/ca.pem"
	run_no_dns 76
	assert_no_command MAIL
}

@test "STARTTLS to an address in brackets: verified against the certificate's IP address, no SNI" {
	tls_certs
	start_smtpd "$(tls_cert_line server)"$'\ncaps PIPELINING, 8BITMIME, STARTTLS'
	start_socks5
	proxy_config "[127.0.0.1]" "tls on" "tls_trust_file $CERTS/ca.pem"
	run_no_dns 0
	assert_requests "methods=00 atyp=1 host=127.0.0.1 port=$DEAD_PORT"
	assert_over_tls MAIL RCPT DATA
	assert_tls_session "sni=None"
}

@test "implicit TLS through the proxy" {
	tls_certs
	start_smtpd "$(tls_cert_line server)"$'\noption implicit-tls\ncaps PIPELINING, 8BITMIME'
	start_socks5
	proxy_config localhost "tls on" "tls_starttls off" "tls_trust_file $CERTS/ca.pem"
	send 0
	assert_requests "methods=00 atyp=3 host=localhost port=$DEAD_PORT"
	assert_over_tls MAIL RCPT DATA
	assert_tls_session "sni=localhost"
}

# --- a local socket ---------------------------------------------------------------------

@test "socket: the mail goes to the local socket; host and port are not used" {
	start_smtpd -- --unix "$BATS_TEST_TMPDIR/smtp.sock"
	write_config "socket $BATS_TEST_TMPDIR/smtp.sock" "from alice@example.org" \
		"domain client.test" "queue never"
	send 0 -v
	assert_stderr_contains "Connected to socket $BATS_TEST_TMPDIR/smtp.sock"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "socket with protocol lmtp, as a local delivery agent's socket is used" {
	start_smtpd -- --unix "$BATS_TEST_TMPDIR/lmtp.sock"
	write_config "socket $BATS_TEST_TMPDIR/lmtp.sock" "protocol lmtp" \
		"from alice@example.org" "domain client.test" "queue never"
	send 0
	assert_received_contains $'LHLO client.test\r\n'
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "socket wins over the proxy; --socket and STARTTLS, verified against host" {
	tls_certs
	start_smtpd "$(tls_cert_line server)"$'\ncaps PIPELINING, 8BITMIME, STARTTLS' \
		-- --unix "$BATS_TEST_TMPDIR/smtp.sock"
	SOCKS_PORT=$(unused_port)
	proxy_config localhost "tls on" "tls_trust_file $CERTS/ca.pem"
	send 0 --socket "$BATS_TEST_TMPDIR/smtp.sock"
	assert_over_tls MAIL RCPT DATA
	assert_tls_session "sni=localhost"
}

@test "socket: a clear-text password may go without TLS (nothing leaves the machine)" {
	start_smtpd $'caps PIPELINING, AUTH PLAIN\nuser alice s3cret' -- --unix "$BATS_TEST_TMPDIR/smtp.sock"
	write_config "socket $BATS_TEST_TMPDIR/smtp.sock" "from alice@example.org" \
		"user alice" "auth plain" "password s3cret" "queue never"
	send 0
	assert_auth_record "conn 1: PLAIN user=alice reply=235"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "socket: missing is 75 (the server is not running), not a socket is 78" {
	write_config "socket $BATS_TEST_TMPDIR/none.sock" "from alice@example.org" \
		"queue never"
	send 75
	assert_stderr_contains "cannot connect to socket $BATS_TEST_TMPDIR/none.sock: No such file or directory; is the server that listens there running?"
	assert_stderr_line_count 1

	: >"$BATS_TEST_TMPDIR/file"
	send 78 --socket "$BATS_TEST_TMPDIR/file"
	assert_stderr_contains "cannot connect to socket $BATS_TEST_TMPDIR/file: Socket operation on non-socket; check the 'socket' setting"
}

@test "--host names a TCP server: the account's socket is not used then" {
	start_smtpd
	write_config "socket $BATS_TEST_TMPDIR/none.sock" "from alice@example.org"
	send 0 --host 127.0.0.1 --port "$SMTPD_PORT"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}
