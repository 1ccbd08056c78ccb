#!/usr/bin/env bats
# 85-mta-sts: MTA-STS (RFC 8461).  Discovery through
# tests/mailpost-ststest (tests/ststest.c: mtasts.c over the resolver and
# https.c, apart from a delivery): the _mta-sts TXT record from
# tests/lib/dnsd.bash's knotd, the policy from tests/lib/httpsd.py (the
# test CA's names.pem, connected to at the address the zone gives
# mta-sts.DOMAIN), judged strictly, cached in the state directory and
# fetched again when the record's id changes or max_age ran out, a cached
# policy kept when a fetch fails, and every way to have no policy.  Then
# direct delivery under a policy: enforce with the MX's certificate
# verified, refused (queued, nothing in the clear) with a certificate for
# another name, an MX the policy does not list skipped, testing mode
# delivered anyway.  An MX whose TLSA records are secure but none usable
# (PKIX-EE) is held to the policy (RFC 8461 2), TLS still required when
# testing's verification fails.

load lib/helpers
load lib/dnsd
load lib/httpsd

setup_file() {
	tls_certs
	export CERTS
	# pkix.test: an MX whose only TLSA record (PKIX-EE, usage 1) is
	# secure and unusable for SMTP (RFC 7672 3.1.3); its port is the
	# file's, since the record's name carries it.
	MX_FILE_PORT=$(unused_port)
	local key
	key=$(openssl x509 -in "$CERTS/names.pem" -noout -pubkey |
		openssl pkey -pubin -outform DER | openssl dgst -sha256 -r |
		cut -d' ' -f1)
	[[ ${#key} -eq 64 ]] || die "cannot compute the TLSA data" || return 1
	dnsd_zone pkix.test <<-EOF2
	_mta-sts TXT "v=STSv1; id=1"
	mta-sts A 127.0.0.1
	@ MX 10 mx-pkix
	mx-pkix A 127.0.0.5
	_$MX_FILE_PORT._tcp.mx-pkix TLSA 1 1 1 $key
	EOF2
	# example.test: a policy host and two MX hosts.
	dnsd_zone example.test <<-'EOF2'
	_mta-sts TXT "v=STSv1; id=1"
	mta-sts A 127.0.0.1
	@ MX 10 mx1
	@ MX 20 mx2
	mx1 A 127.0.0.2
	mx2 A 127.0.0.3
	EOF2
	# other.test: two STSv1 records (no policy), or none at all below.
	dnsd_zone other.test <<-'EOF2'
	_mta-sts TXT "v=STSv1; id=1"
	_mta-sts TXT "v=STSv1; id=2"
	mta-sts A 127.0.0.1
	@ MX 10 mx1
	mx1 A 127.0.0.2
	EOF2
	# third.test: a record, and no address for its policy host.
	dnsd_zone third.test <<-'EOF2'
	_mta-sts TXT "v=STSv1; id=3"
	@ MX 10 mx1
	mx1 A 127.0.0.2
	EOF2
	# plain.test: no record.
	dnsd_zone plain.test <<-'EOF2'
	@ MX 10 mx1
	mx1 A 127.0.0.2
	EOF2
	# bogus.test: a record whose signature does not validate.
	dnsd_zone bogus.test --bogus <<-'EOF2'
	_mta-sts TXT "v=STSv1; id=5"
	mta-sts A 127.0.0.1
	EOF2
	dnsd_start
	httpsd_start
	export DNSD_PORT DNSD_ANCHOR DNSD_CONFIG
	export MX_FILE_PORT HTTPSD_PORT HTTPSD_ROOT HTTPSD_LOG HTTPSD_DIR HTTPSD_PID
}

teardown_file() {
	stop_httpsd
	dnsd_stop
}

setup() {
	mailpost_setup
	[[ -x "$MAILPOST_STSTEST" ]] || die "not built: $MAILPOST_STSTEST"
	MSG="$(make_message)"
	QDIR="$BATS_TEST_TMPDIR/queue"
	MX_PORT=
	MX_PIDS=()
	declare -gA MX_DIRS=()
	# The cache of a delivery: $XDG_STATE_HOME/mailpost/mta-sts.
	export XDG_STATE_HOME="$BATS_TEST_TMPDIR/xdg-state"
	unset https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
	CACHE="$BATS_TEST_TMPDIR/state/mta-sts"
	# Each test serves its own documents and counts its own requests.
	rm -rf "${HTTPSD_ROOT:?}"/*
	: >"$HTTPSD_LOG"
}

# policy DOMAIN MODE MAX_AGE MX...: serve DOMAIN's policy.
policy() {
	local domain=$1 mode=$2 age=$3 mx
	shift 3
	{
		printf 'version: STSv1\nmode: %s\n' "$mode"
		for mx in "$@"; do
			printf 'mx: %s\n' "$mx"
		done
		printf 'max_age: %s\n' "$age"
	} | httpsd_file "mta-sts.$domain" .well-known/mta-sts.txt
}

# discover [OPTION...] DOMAIN [MX...]: mailpost-ststest through dnsd's
# resolver, trusting the test CA, with the test's cache.
discover() {
	run --separate-stderr timeout 30 "$MAILPOST_STSTEST" \
		--dns-server "127.0.0.1@$DNSD_PORT" --anchor "$DNSD_ANCHOR" \
		--trust "$CERTS/ca.pem" --cache "$CACHE" "$@"
	[[ "$status" -eq 0 ]] ||
		die "mailpost-ststest exited $status" "stdout: $output" "stderr: $stderr"
}

# fetches [DOMAIN]: how many policy requests httpsd got (for DOMAIN).
fetches() {
	httpsd_requests /.well-known/mta-sts.txt ${1:+"mta-sts.$1"}
}

# seed_cache DOMAIN ID EXPIRES POLICY-TEXT: a cache entry as mtasts.c
# writes it (tlscache.h's format, kind "mailpost-mta-sts-policy 1").
seed_cache() {
	mkdir -p "$CACHE"
	chmod 700 "$CACHE" "${CACHE%/*}"
	"$SMTPD_PYTHON" - "$CACHE" "$@" <<-'EOF2'
	import hashlib, os, struct, sys
	cache, domain, pid, expires, text = sys.argv[1:6]
	digest = hashlib.sha256(domain.encode()).digest()
	data = (pid + "\n" + text).encode()
	name = "policy-" + digest[:16].hex().upper()
	blob = (b"mailpost-mta-sts-policy 1\n" + digest
	        + struct.pack(">Q", int(expires)) + struct.pack(">I", len(data))
	        + data)
	path = os.path.join(cache, name)
	fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
	os.write(fd, blob)
	os.close(fd)
	EOF2
}

teardown() {
	local pid
	for pid in "${MX_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	SMTPD_PID=
	mailpost_teardown
}

# start_mx ADDR CERT [SCRIPT-LINE...]: an MX host on ADDR (the test's
# one port) offering STARTTLS with $CERTS/CERT.pem ("" for no STARTTLS).
start_mx() {
	local addr=$1 cert=$2 script
	shift 2
	script="caps PIPELINING, 8BITMIME${cert:+, STARTTLS}"
	[[ -z "$cert" ]] || script="$(tls_cert_line "$cert")
$script"
	[[ $# -eq 0 ]] || script+=$'\n'"$(printf '%s\n' "$@")"
	start_smtpd "$script" -- --listen "$addr" ${MX_PORT:+--port "$MX_PORT"} \
		--max-connections 5 || return 1
	MX_PORT=$SMTPD_PORT
	MX_PIDS+=("$SMTPD_PID")
	MX_DIRS[$addr]=$SMTPD_DIR
}

# use_mx ADDR: the smtpd assertions look at ADDR's server.
use_mx() {
	SMTPD_DIR=${MX_DIRS[$1]}
}

# send_mx EXIT [OPTION...] RCPT...: a direct send with the test's MX
# port, dnsd's resolver, the test CA as the trust, the queue in $QDIR.
send_mx() {
	local code=$1
	shift
	[[ -n "$MX_PORT" ]] || MX_PORT=$(unused_port)
	write_config "deliver mx" "port $MX_PORT" "domain client.test" \
		"from alice@client.test" "queue_dir $QDIR" "$DNSD_CONFIG" \
		"tls_trust_file $CERTS/ca.pem" "account default"
	run_mailpost "$code" -C "$MAILPOST_CONF" -v "$@" <"$MSG"
}

# --- discovery ------------------------------------------------------------------

@test "mta-sts: the policy fetched from mta-sts.DOMAIN by its name at the zone's address; MX verdicts" {
	policy example.test enforce 86400 mx1.example.test '*.mx.example.test'
	discover example.test mx1.example.test a.mx.example.test \
		mx2.example.test b.a.mx.example.test
	assert_output_contains "found yes"
	assert_output_contains "how fetched (id 1, enforce, max_age 86400)"
	assert_output_contains "mode enforce"
	assert_output_contains "mx *.mx.example.test"
	assert_output_contains "mx1.example.test verify: MTA-STS enforce: mx1.example.test matches mx1.example.test"
	assert_output_contains "a.mx.example.test verify:"
	assert_output_contains "mx2.example.test skip: MTA-STS enforce: mx2.example.test is not in the policy"
	assert_output_contains "b.a.mx.example.test skip:"
	[[ "$(fetches)" == 1 ]]
	[[ "$(httpsd_log_query 'log[-1]["sni"]')" == mta-sts.example.test ]]
	[[ "$(httpsd_log_query 'log[-1]["method"]')" == GET ]]
}

@test "mta-sts: cached in the state directory, 0600 in 0700; the same id is not fetched again" {
	policy example.test testing 86400 mx1.example.test
	discover example.test
	assert_output_contains "how fetched (id 1, testing"
	[[ "$(stat -c %a "$CACHE")" == 700 ]]
	local f
	f=$(ls "$CACHE")
	[[ "$f" == policy-* ]] || die "cache holds: $f"
	[[ "$(stat -c %a "$CACHE/$f")" == 600 ]]
	discover example.test
	assert_output_contains "how cached (id 1, testing, until "
	assert_output_contains "mode testing"
	[[ "$(fetches)" == 1 ]]
}

@test "mta-sts: a new id in the record fetches the policy again and replaces the cached one" {
	seed_cache example.test 0 $(($(date +%s) + 3600)) \
		$'version: STSv1\nmode: enforce\nmx: mx9.example.test\nmax_age: 3600\n'
	policy example.test enforce 600 mx1.example.test
	discover example.test mx1.example.test mx9.example.test
	assert_output_contains "how fetched (id 1, enforce, max_age 600); replaces the cached id 0"
	assert_output_contains "mx1.example.test verify"
	assert_output_contains "mx9.example.test skip"
	[[ "$(fetches)" == 1 ]]
	discover example.test
	assert_output_contains "how cached (id 1, enforce"
	[[ "$(fetches)" == 1 ]]
}

@test "mta-sts: a policy whose max_age ran out is fetched again" {
	local now
	now=$(date +%s)
	policy example.test enforce 100 mx1.example.test
	discover --now "$now" example.test
	discover --now $((now + 99)) example.test
	assert_output_contains "how cached (id 1"
	[[ "$(fetches)" == 1 ]]
	discover --now $((now + 100)) example.test
	assert_output_contains "how fetched (id 1"
	[[ "$(fetches)" == 2 ]]
}

@test "mta-sts: a fetch that fails keeps the cached policy of another id (RFC 8461 5.1)" {
	seed_cache example.test 0 $(($(date +%s) + 3600)) \
		$'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 3600\n'
	httpsd_answer mta-sts.example.test .well-known/mta-sts.txt "status 503"
	discover example.test mx1.example.test mx2.example.test
	assert_output_contains "found yes"
	assert_output_contains "how cached (id 0, enforce"
	assert_output_contains "; id 1 not fetched: the policy host answered status 503, not 200"
	assert_output_contains "mx2.example.test skip"
	# A server that closes without an answer alike.
	httpsd_answer mta-sts.example.test .well-known/mta-sts.txt close
	discover example.test
	assert_output_contains "how cached (id 0, enforce"
	assert_output_contains "; id 1 not fetched: the exchange with mta-sts.example.test:$HTTPSD_PORT failed"
	# A malformed policy alike.
	printf 'version: STSv1\nmode: enforce\n' |
		httpsd_file mta-sts.example.test .well-known/mta-sts.txt
	httpsd_answer mta-sts.example.test .well-known/mta-sts.txt
	discover example.test
	assert_output_contains "how cached (id 0, enforce"
	assert_output_contains "id 1 not fetched: the policy has no max_age line"
}

@test "mta-sts: no policy when the document is not one" {
	local body answer
	while IFS='|' read -r body answer want; do
		printf '%b' "$body" | httpsd_file mta-sts.example.test .well-known/mta-sts.txt
		httpsd_answer mta-sts.example.test .well-known/mta-sts.txt "$answer"
		discover example.test mx1.example.test
		assert_output_contains "found no"
		{ assert_output_contains "how no policy: id 1 not fetched: " &&
			assert_output_contains "$want"; } ||
			die "(body '$body', answer '$answer')" || return 1
		assert_output_contains "mx1.example.test opportunistic: no MTA-STS policy"
	done <<-'EOF2'
	version: STSv1\nmode: enforce\nmax_age: 1\n||the policy lists no mx
	version: STSv1\nmode: strict\nmx: a\nmax_age: 1\n||the policy's mode "strict"
	<html>moved</html>|redirect https://example.test/|the policy host answered status 302
	version: STSv1\nmode: enforce\nmx: a\nmax_age: 1\n|status 404|the policy host answered status 404
	version: STSv1\nmode: enforce\nmx: a\nmax_age: 1\n|type text/html|the policy's Content-Type is text/html, not text/plain
	x|big 65537|is larger than 65536 bytes
	EOF2
	# The cache keeps nothing of them.
	[[ ! -e "$CACHE" || -z "$(ls "$CACHE")" ]]
}

@test "mta-sts: a text/plain with parameters is taken; no Content-Type is refused (RFC 8461 3.2)" {
	policy example.test testing 60 mx1.example.test
	httpsd_answer mta-sts.example.test .well-known/mta-sts.txt "type Text/Plain; charset=us-ascii"
	discover example.test
	assert_output_contains "found yes"
	rm -rf "$CACHE"
	httpsd_answer mta-sts.example.test .well-known/mta-sts.txt "type none"
	discover example.test mx1.example.test
	assert_output_contains "found no"
	assert_output_contains "id 1 not fetched: the policy was served without a Content-Type, not as text/plain (RFC 8461 3.2)"
	assert_output_contains "mx1.example.test opportunistic: no MTA-STS policy"
	[[ ! -e "$CACHE" || -z "$(ls "$CACHE")" ]]
}

@test "mta-sts: the policy host's certificate is verified for mta-sts.DOMAIN" {
	policy example.test enforce 60 mx1.example.test
	run --separate-stderr timeout 30 "$MAILPOST_STSTEST" \
		--dns-server "127.0.0.1@$DNSD_PORT" --anchor "$DNSD_ANCHOR" \
		--trust "$CERTS/other-ca.pem" --cache "$CACHE" example.test
	assert_output_contains "found no"
	assert_output_contains "the certificate of mta-sts.example.test:$HTTPSD_PORT is not verified"
	[[ "$(fetches)" == 0 ]]
}

@test "mta-sts: no policy without one STSv1 record, with a bogus one, or without a policy host" {
	discover plain.test mx1.plain.test
	assert_output_contains "found no"
	assert_output_contains "how no policy: _mta-sts.plain.test has no TXT record"
	assert_output_contains "mx1.plain.test opportunistic"
	discover other.test
	assert_output_contains "how no policy: 2 _mta-sts records of version STSv1, not one (RFC 8461 3.1)"
	discover bogus.test
	assert_output_contains "how no policy: _mta-sts.bogus.test failed DNSSEC"
	discover third.test
	assert_output_contains "how no policy: id 3 not fetched: mta-sts.third.test has no address"
	[[ "$(fetches)" == 0 ]]
}

@test "mta-sts: a state directory that cannot be written: the policy is used, not kept" {
	policy example.test enforce 60 mx1.example.test
	mkdir -p "${CACHE%/*}"
	: >"$CACHE"
	discover example.test mx1.example.test
	assert_output_contains "found yes"
	assert_output_contains "mx1.example.test verify"
	discover example.test
	[[ "$(fetches)" == 2 ]]
}

@test "mta-sts: a cache file someone else could have written is not read" {
	seed_cache example.test 1 $(($(date +%s) + 3600)) \
		$'version: STSv1\nmode: none\nmax_age: 3600\n'
	chmod 644 "$CACHE"/policy-*
	policy example.test enforce 60 mx1.example.test
	discover example.test mx1.example.test
	assert_output_contains "how fetched (id 1, enforce"
	assert_output_contains "mx1.example.test verify"
}

# --- delivery under a policy -------------------------------------------------------

@test "mta-sts delivery: enforce, the MX's certificate verified for its name: delivered over TLS" {
	policy example.test enforce 86400 mx1.example.test
	start_mx 127.0.0.2 names
	send_mx 0 bob@example.test
	assert_stderr_contains "MTA-STS: example.test: fetched (id 1, enforce"
	assert_stderr_contains "MTA-STS enforce: mx1.example.test matches mx1.example.test"
	use_mx 127.0.0.2
	assert_over_tls MAIL RCPT DATA
	assert_tls_session "sni=mx1.example.test"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	# The policy was kept for the next run.
	[[ -n "$(ls "$XDG_STATE_HOME/mailpost/mta-sts")" ]]
}

@test "mta-sts delivery: enforce, a certificate for another name: not delivered, queued, nothing in the clear" {
	policy example.test enforce 86400 mx1.example.test
	start_mx 127.0.0.2 wronghost
	start_mx 127.0.0.3 names
	send_mx 0 bob@example.test
	assert_stderr_contains "queued as"
	assert_stderr_contains "MTA-STS enforce: mx2.example.test is not in the policy's mx list; not used"
	assert_stderr_contains "no MX host of example.test took the message now"
	use_mx 127.0.0.2
	assert_no_command MAIL RCPT DATA
	assert_no_message 1
	use_mx 127.0.0.3
	assert_received_lacks "EHLO"
	[[ -n "$(ls "$QDIR")" ]]
}

@test "mta-sts delivery: enforce, an MX without STARTTLS is not used" {
	policy example.test enforce 86400 mx1.example.test
	start_mx 127.0.0.2 ""
	send_mx 0 bob@example.test
	assert_stderr_contains "queued as"
	assert_stderr_contains "does not offer STARTTLS"
	use_mx 127.0.0.2
	assert_no_command MAIL
}

@test "mta-sts delivery: enforce, an MX the policy does not list is skipped for the next one" {
	policy example.test enforce 86400 mx2.example.test
	start_mx 127.0.0.2 names
	start_mx 127.0.0.3 names
	send_mx 0 bob@example.test
	assert_stderr_contains "MTA-STS enforce: mx1.example.test is not in the policy's mx list; not used"
	use_mx 127.0.0.2
	assert_received_lacks "EHLO"
	use_mx 127.0.0.3
	assert_over_tls MAIL RCPT
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "mta-sts delivery: testing, a certificate for another name: reported, and delivered anyway" {
	policy example.test testing 86400 mx1.example.test
	start_mx 127.0.0.2 wronghost
	send_mx 0 bob@example.test
	assert_stderr_contains "MTA-STS testing: TLS verified for mx1.example.test failed"
	assert_stderr_contains "enforce would refuse it"
	use_mx 127.0.0.2
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "mta-sts delivery: testing, an MX the policy does not list: reported, and used" {
	policy example.test testing 86400 mx2.example.test
	start_mx 127.0.0.2 names
	send_mx 0 bob@example.test
	assert_stderr_contains "MTA-STS testing: mx1.example.test is not in the policy; used anyway"
	use_mx 127.0.0.2
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "mta-sts delivery: the cached policy still holds when the policy host fails" {
	policy example.test enforce 86400 mx1.example.test
	start_mx 127.0.0.2 wronghost
	# A first run keeps the policy (the MX refused: queued).
	send_mx 0 bob@example.test
	assert_stderr_contains "fetched (id 1, enforce"
	# The policy host now fails; the id is the same: the cached policy
	# is used without a fetch, and still refuses the certificate.
	httpsd_answer mta-sts.example.test .well-known/mta-sts.txt "status 500"
	send_mx 0 bob@example.test
	assert_stderr_contains "MTA-STS: example.test: cached (id 1, enforce"
	assert_stderr_contains "queued as"
	[[ "$(fetches)" == 1 ]]
	use_mx 127.0.0.2
	assert_no_command MAIL
}

@test "mta-sts delivery: no policy (none published): opportunistic, any certificate" {
	start_mx 127.0.0.2 wronghost
	send_mx 0 bob@plain.test
	assert_stderr_contains "MTA-STS: plain.test: no policy: _mta-sts.plain.test has no TXT record"
	use_mx 127.0.0.2
	assert_over_tls MAIL
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

# --- DANE records none usable: the policy decides (RFC 8461 2) ------------------

# pkix_send MODE CERT: pkix.test's policy in MODE listing its MX, the MX
# (on the file's port, its TLSA record's) presenting CERT; a send there.
pkix_send() {
	policy pkix.test "$1" 86400 mx-pkix.pkix.test
	MX_PORT=$MX_FILE_PORT
	start_mx 127.0.0.5 "$2"
	send_mx 0 bob@pkix.test
}

@test "mta-sts delivery: TLSA records none usable, enforce, a certificate for another name: queued, nothing sent" {
	pkix_send enforce wronghost
	assert_stderr_contains "DANE, mx-pkix.pkix.test:"
	assert_stderr_contains "MTA-STS enforce: mx-pkix.pkix.test matches mx-pkix.pkix.test"
	assert_stderr_contains "queued as"
	use_mx 127.0.0.5
	assert_no_command MAIL RCPT DATA
	assert_no_message 1
	[[ -n "$(ls "$QDIR")" ]]
}

@test "mta-sts delivery: TLSA records none usable, enforce, the MX's certificate verified: delivered over TLS" {
	pkix_send enforce names
	assert_stderr_contains "MTA-STS enforce: mx-pkix.pkix.test matches mx-pkix.pkix.test"
	use_mx 127.0.0.5
	assert_over_tls MAIL RCPT DATA
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "mta-sts delivery: TLSA records none usable, testing: TLS still required after the failed verification" {
	pkix_send testing wronghost
	assert_stderr_contains "MTA-STS testing: TLS verified for mx-pkix.pkix.test failed"
	assert_stderr_contains "any certificate (TLSA records, none usable), after MTA-STS testing's failure"
	use_mx 127.0.0.5
	assert_over_tls MAIL RCPT DATA
	assert_message 1 "$MSG_SIMPLE_CRLF"
}
