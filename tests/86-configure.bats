#!/usr/bin/env bats
# 86-configure: mailpost --configure ADDRESS against a DNS server
# (tests/lib/dnsd.bash: signed, unsigned and bogus zones) and an HTTPS
# server (tests/lib/httpsd.py) on loopback, with two scripted SMTP
# servers (implicit TLS, STARTTLS) that the servers found are probed on:
# SRV records (_submissions preferred over _submission, priority order,
# a "." target skipped), the autoconfig document of autoconfig.DOMAIN
# (the address in its query), then .well-known, documents malformed,
# oversized, answered 500/404 or offering only plain text, nothing found
# (69) and an unknown domain (68), a server that does not answer the
# probe (the next one tried; when none is left, the account printed,
# marked, 75), a SRV target outside the
# domain from an unsigned zone (a warning), a bogus answer not used, and
# the probe's TLS verdict and AUTH mechanisms in the account's comments,
# never AUTH or MAIL sent.  The account printed is read back by
# --check-config.

load lib/helpers
load lib/httpsd
load lib/dnsd

# The test zones; the certificate of both servers names each and "*." of
# each.
ZONES="sub.test prio.test dot.test xml.test wk.test bad.test err.test none.test plain.test down.test fallback.test outside.test bogus.test"

# configure_cert: $CERTS/configure.pem, from the test CA, for $ZONES.
configure_cert() {
	local t="$CERTS/configure.tmpl" d
	{
		echo 'cn = "mailpost configure test"'
		for d in $ZONES; do
			echo "dns_name = \"$d\""
			echo "dns_name = \"*.$d\""
		done
		printf '%s\n' tls_www_server signing_key encryption_key \
			"expiration_days = 30"
	} >"$t"
	certtool --generate-certificate --load-privkey "$CERTS/server.key" \
		--load-ca-certificate "$CERTS/ca.pem" \
		--load-ca-privkey "$CERTS/ca.key" --template "$t" \
		--outfile "$CERTS/configure.pem" >/dev/null 2>&1 ||
		die "configure_cert: certtool failed"
}

# file_smtpd NAME SCRIPT: a server for the whole file, probed many times;
# its port in ${NAME}_PORT, its directory in ${NAME}_DIR.
file_smtpd() {
	local name=$1 dir="$BATS_FILE_TMPDIR/smtpd-$1"
	mkdir -p "$dir"
	printf '%s\n' "$2" >"$dir/script"
	"$SMTPD_PYTHON" "$SMTPD_PY" --dir "$dir" --script "$dir/script" \
		--max-connections 100 --idle-timeout 600 \
		>"$dir/stdout" 2>"$dir/stderr" 3>&- &
	echo $! >"$dir/pid"
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -s "$dir/port" ]] && break
		sleep 0.05
	done
	[[ -s "$dir/port" ]] || die "file_smtpd $name: no port:" "$(cat "$dir/stderr")"
	printf -v "${name}_PORT" '%s' "$(<"$dir/port")"
	printf -v "${name}_DIR" '%s' "$dir"
	export "${name}_PORT" "${name}_DIR"
}

document() { # document SOCKETTYPE HOST PORT [USERNAME] [AUTH]
	cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="provider">
    <displayName>Example Provider</displayName>
    <incomingServer type="imap">
      <hostname>imap.elsewhere.test</hostname><port>993</port>
      <socketType>SSL</socketType>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>$2</hostname>
      <port>$3</port>
      <socketType>$1</socketType>
      <username>${4:-%EMAILADDRESS%}</username>
      <authentication>${5:-password-cleartext}</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>
EOF
}

setup_file() {
	tls_certs
	export CERTS
	configure_cert
	file_smtpd TLS "$(printf '%s\n' "tls-cert $CERTS/configure.pem $CERTS/server.key" \
		"option implicit-tls" "caps PIPELINING, 8BITMIME, AUTH PLAIN LOGIN")"
	file_smtpd STARTTLS "$(printf '%s\n' "tls-cert $CERTS/configure.pem $CERTS/server.key" \
		"caps PIPELINING, STARTTLS" \
		"tls-caps PIPELINING, AUTH PLAIN SCRAM-SHA-256")"
	CLOSED_PORT=$(unused_port)
	export CLOSED_PORT

	dnsd_zone sub.test <<-EOF
	_submissions._tcp SRV 0 1 $TLS_PORT mail.sub.test.
	_submission._tcp SRV 0 1 $STARTTLS_PORT mail.sub.test.
	mail A 127.0.0.1
	EOF
	dnsd_zone prio.test <<-EOF
	_submission._tcp SRV 10 5 $STARTTLS_PORT b.prio.test.
	_submission._tcp SRV 5 0 $STARTTLS_PORT a.prio.test.
	_submission._tcp SRV 5 9 $STARTTLS_PORT c.prio.test.
	a A 127.0.0.1
	b A 127.0.0.1
	c A 127.0.0.1
	EOF
	dnsd_zone dot.test <<-EOF
	_submissions._tcp SRV 0 0 0 .
	_submission._tcp SRV 0 1 $STARTTLS_PORT mail.dot.test.
	mail A 127.0.0.1
	EOF
	dnsd_zone xml.test <<-EOF
	autoconfig A 127.0.0.1
	smtp A 127.0.0.1
	EOF
	dnsd_zone wk.test <<-EOF
	@ A 127.0.0.1
	smtp A 127.0.0.1
	EOF
	dnsd_zone bad.test <<-EOF
	@ A 127.0.0.1
	autoconfig A 127.0.0.1
	EOF
	dnsd_zone err.test <<-EOF
	@ A 127.0.0.1
	autoconfig A 127.0.0.1
	EOF
	dnsd_zone none.test <<-EOF
	www A 127.0.0.1
	EOF
	dnsd_zone plain.test <<-EOF
	autoconfig A 127.0.0.1
	EOF
	dnsd_zone down.test <<-EOF
	_submissions._tcp SRV 0 0 $CLOSED_PORT mail.down.test.
	mail A 127.0.0.1
	EOF
	dnsd_zone fallback.test <<-EOF
	_submission._tcp SRV 0 0 $CLOSED_PORT a.fallback.test.
	_submission._tcp SRV 1 0 $STARTTLS_PORT b.fallback.test.
	a A 127.0.0.1
	b A 127.0.0.1
	EOF
	dnsd_zone outside.test --unsigned <<-EOF
	_submission._tcp SRV 0 0 $STARTTLS_PORT mail.sub.test.
	EOF
	dnsd_zone bogus.test --bogus <<-EOF
	_submission._tcp SRV 0 0 $STARTTLS_PORT mail.bogus.test.
	mail A 127.0.0.1
	EOF
	dnsd_start
	export DNSD_PORT DNSD_ANCHOR DNSD_CONFIG DNSD_DIR

	httpsd_start --cert configure
	export HTTPSD_PORT HTTPSD_ROOT HTTPSD_LOG HTTPSD_DIR HTTPSD_PID
	document STARTTLS smtp.%EMAILDOMAIN% "$STARTTLS_PORT" %EMAILLOCALPART% |
		httpsd_file autoconfig.xml.test mail/config-v1.1.xml
	document SSL smtp.wk.test "$TLS_PORT" "" OAuth2 |
		httpsd_file wk.test .well-known/autoconfig/mail/config-v1.1.xml
	printf '<clientConfig><emailProvider><outgoingServer type="smtp">\n' |
		httpsd_file autoconfig.bad.test mail/config-v1.1.xml
	httpsd_answer bad.test .well-known/autoconfig/mail/config-v1.1.xml "big 70000"
	httpsd_answer autoconfig.err.test mail/config-v1.1.xml "status 500"
	document plain smtp.plain.test 25 |
		httpsd_file autoconfig.plain.test mail/config-v1.1.xml
}

teardown_file() {
	stop_httpsd
	dnsd_stop
	local d
	for d in "$BATS_FILE_TMPDIR"/smtpd-*; do
		[[ -s "$d/pid" ]] && kill -TERM "$(<"$d/pid")" 2>/dev/null
	done
	true
}

setup() {
	mailpost_setup
	unset https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
	write_config "$DNSD_CONFIG" "tls_trust_file $CERTS/ca.pem"
}

# configure EXIT ADDRESS [OPTION...]
configure() {
	local code=$1 address=$2
	shift 2
	run_mailpost "$code" -C "$MAILPOST_CONF" --configure "$address" "$@"
}

# The value of KEY in the account printed.
value() {
	sed -n "s/^$1 //p" <<<"$output"
}

assert_value() {
	assert_equal "$2" "$(value "$1")" "the account's $1"
}

# The commands the file's server NAME received so far, one per line.
server_commands() {
	local dir="${1}_DIR"
	awk '{ print $3 }' "${!dir}/commands" 2>/dev/null
}

@test "configure: _submissions preferred over _submission; the probe's TLS and AUTH in the comments; no AUTH sent" {
	configure 0 alice@sub.test
	assert_value account sub.test
	assert_value host mail.sub.test
	assert_value port "$TLS_PORT"
	assert_value tls on
	assert_value tls_starttls off
	assert_value auth on
	assert_value user alice@sub.test
	assert_value from alice@sub.test
	assert_output_contains "# Found: the SRV record _submissions._tcp.sub.test (RFC 6186), priority 0, weight 1; the answer DNSSEC-validated"
	assert_output_contains "# Probed: mail.sub.test port $TLS_PORT at 127.0.0.1 port $TLS_PORT: TLS1.3, certificate verified (chain to mailpost test CA); AUTH PLAIN LOGIN"
	assert_output_contains "# auth: the probe: the server offers PLAIN LOGIN"
	assert_output_lacks WARNING
	# Never AUTH, never MAIL: EHLO and QUIT inside TLS.
	grep -qE '^(AUTH|MAIL)' <(server_commands TLS) &&
		die "the probe authenticated or sent mail:" "$(server_commands TLS)"
	server_commands TLS | grep -q '^EHLO' || die "no EHLO:" "$(server_commands TLS)"
	# Every value line follows a comment saying where it came from.
	local prev="" line
	while IFS= read -r line; do
		if [[ "$line" =~ ^(host|port|tls|auth|user|from)\  ]]; then
			[[ "$prev" == \#* || "$line" == tls_starttls* ]] ||
				die "no comment before '$line'" "$output"
		fi
		prev=$line
	done <<<"$output"
}

@test "configure: the account printed is one --check-config reads" {
	configure 0 alice@sub.test
	printf '%s\n' "$output" >>"$MAILPOST_CONF"
	run_mailpost 0 -C "$MAILPOST_CONF" -A sub.test --check-config
	assert_output_contains "mail.sub.test"
}

@test "configure: SRV records in priority order, the highest weight first among equals" {
	configure 0 bob@prio.test
	assert_value host c.prio.test
	assert_value port "$STARTTLS_PORT"
	assert_value tls_starttls on
	assert_output_contains "priority 5, weight 9"
	assert_output_contains "# Probed: c.prio.test port $STARTTLS_PORT at 127.0.0.1 port $STARTTLS_PORT: TLS1.3, certificate verified"
	assert_output_contains "AUTH PLAIN SCRAM-SHA-256"
	assert_stderr_contains "_submissions._tcp.prio.test: no SRV record"
}

@test "configure: a SRV target \".\" says the service is not offered: the next service" {
	configure 0 carol@dot.test
	assert_stderr_contains "_submissions._tcp.dot.test: the SRV record says the service is not offered"
	assert_value host mail.dot.test
	assert_value tls_starttls on
}

@test "configure: no SRV record: the document of autoconfig.DOMAIN, the address in its query" {
	configure 0 dave.x@xml.test
	assert_value host smtp.xml.test
	assert_value port "$STARTTLS_PORT"
	assert_value tls_starttls on
	assert_value user dave.x
	assert_value auth on
	assert_output_contains "# Found: the autoconfig document https://autoconfig.xml.test:$HTTPSD_PORT/mail/config-v1.1.xml?emailaddress=dave.x%40xml.test (\"Example Provider\")"
	assert_output_contains "# auth: the document says password-cleartext"
	assert_output_contains "# user: the document's username"
	assert_equal "emailaddress=dave.x%40xml.test" \
		"$(httpsd_log_query 'log[-1]["query"]' /mail/config-v1.1.xml)" "the query"
	assert_equal autoconfig.xml.test "$(httpsd_log_query 'log[-1]["sni"]' /mail/config-v1.1.xml)" "SNI"
}

@test "configure: no autoconfig host: the domain's .well-known document" {
	configure 0 erin@wk.test
	assert_stderr_contains "autoconfig.wk.test: no such host (NXDOMAIN)"
	assert_value host smtp.wk.test
	assert_value port "$TLS_PORT"
	assert_value tls_starttls off
	assert_value user erin@wk.test
	assert_output_contains "the document says OAuth2: add oauth2_provider"
	assert_output_contains "https://wk.test:$HTTPSD_PORT/.well-known/autoconfig/mail/config-v1.1.xml"
}

@test "configure: a malformed document, then an oversized one: nothing found, 69" {
	configure 69 frank@bad.test
	assert_stderr_contains "autoconfig.bad.test:$HTTPSD_PORT/mail/config-v1.1.xml?emailaddress=frank%40bad.test: not well-formed XML"
	assert_stderr_contains "https://bad.test:$HTTPSD_PORT/.well-known/autoconfig/mail/config-v1.1.xml:"
	assert_stderr_contains "no submission server found for bad.test"
	assert_equal "" "$output" "stdout"
}

@test "configure: HTTP 500 and 404: nothing found, 69" {
	configure 69 gina@err.test
	assert_stderr_contains "mail/config-v1.1.xml?emailaddress=gina%40err.test: HTTP status 500"
	assert_stderr_contains "/.well-known/autoconfig/mail/config-v1.1.xml: HTTP status 404"
}

@test "configure: nothing anywhere: 69 saying what was looked for" {
	configure 69 hank@none.test
	assert_stderr_contains "_submissions._tcp.none.test: no SRV record"
	assert_stderr_contains "_submission._tcp.none.test: no SRV record"
	assert_stderr_contains "autoconfig.none.test: no such host"
	assert_stderr_contains "mailpost: no submission server found for none.test: no SRV record (_submissions._tcp, _submission._tcp), no autoconfig document"
}

@test "configure: a domain that does not exist: 68" {
	configure 68 ivy@nosuch.test
	assert_stderr_contains "mailpost: nosuch.test does not exist (NXDOMAIN)"
}

@test "configure: a document with only a plain-text server: never recommended, 69" {
	configure 69 jack@plain.test
	assert_stderr_contains "offers only servers without TLS (socketType plain)"
	assert_stderr_contains "mailpost: plain.test's autoconfig document offers only servers without TLS"
	assert_equal "" "$output" "stdout"
}

@test "configure: the server found does not answer: the account printed, marked unconfirmed, 75" {
	configure 75 kim@down.test
	assert_value host mail.down.test
	assert_value port "$CLOSED_PORT"
	assert_output_contains "# WARNING: the probe of mail.down.test port $CLOSED_PORT failed:"
	assert_stderr_contains "mailpost: the server found for down.test did not pass the probe (mail.down.test port $CLOSED_PORT:"
	assert_output_contains "(mailpost -A down.test --serverinfo)"
	assert_equal 1 "$(grep -c "port $CLOSED_PORT" <<<"$stderr")" "lines on stderr naming the failure"
}

@test "configure: the first server found does not answer: the next one probed and recommended" {
	configure 0 nat@fallback.test
	assert_value host b.fallback.test
	assert_value port "$STARTTLS_PORT"
	assert_stderr_contains "mailpost: a.fallback.test port $CLOSED_PORT: the probe failed: cannot connect"
	assert_output_lacks WARNING
}

@test "configure: a SRV target outside the domain from an unsigned answer: a warning" {
	configure 0 lee@outside.test
	assert_value host mail.sub.test
	assert_output_contains "the answer not DNSSEC-validated"
	assert_output_contains "# WARNING: the SRV answer names a server outside outside.test and was not DNSSEC-validated (RFC 6186 6)"
}

@test "configure: a bogus SRV answer is not used" {
	configure 69 max@bogus.test
	assert_stderr_contains "_submission._tcp.bogus.test: the SRV answer failed DNSSEC validation"
	assert_output_lacks "mail.bogus.test"
}

@test "configure: the command line: an address is needed, and the server is not named" {
	run_mailpost 64 --configure alice
	assert_stderr_contains "--configure wants an address, user@domain"
	run_mailpost 64 --configure alice@sub.test --host mail.sub.test
	assert_stderr_contains "--configure finds the server itself"
	run_mailpost 64 --configure alice@sub.test bob@example.org
	assert_stderr_contains "recipients cannot be given with --configure"
	run_mailpost 64 --configure 'a b@sub.test'
	assert_stderr_contains "--configure wants an address"
}
