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
# delivered anyway.

load lib/helpers
load lib/dnsd
load lib/httpsd

setup_file() {
	tls_certs
	export CERTS
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
	export HTTPSD_PORT HTTPSD_ROOT HTTPSD_LOG HTTPSD_DIR HTTPSD_PID
}

teardown_file() {
	stop_httpsd
	dnsd_stop
}

setup() {
	mailpost_setup
	[[ -x "$MAILPOST_STSTEST" ]] || die "not built: $MAILPOST_STSTEST"
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

@test "mta-sts: a text/plain with parameters, or no Content-Type, is taken" {
	policy example.test testing 60 mx1.example.test
	httpsd_answer mta-sts.example.test .well-known/mta-sts.txt "type Text/Plain; charset=us-ascii"
	discover example.test
	assert_output_contains "found yes"
	rm -rf "$CACHE"
	httpsd_answer mta-sts.example.test .well-known/mta-sts.txt "type none"
	discover example.test
	assert_output_contains "found yes"
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
