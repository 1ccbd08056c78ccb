#!/usr/bin/env bats
# 82-dns: the resolver (src/wire/dns.c over libunbound) on its own,
# through tests/mailpost-dnstest (tests/dnstest.c), against the zones
# tests/lib/dnsd.bash signs and serves on loopback: each record type
# (MX, A/AAAA, TLSA, SRV, TXT), the three DNSSEC verdicts (secure,
# insecure, bogus), NXDOMAIN and NODATA, CNAMEs (the canonical name),
# records the module refuses (hostile or malformed data), and the
# failures: no server, a server that never answers, a bad name, bad
# settings.  The record parsers' own cases are tests/unit/dnsrr_test.c's.

load lib/helpers
load lib/dnsd

setup_file() {
	dnsd_zone example.test <<'EOF'
@ MX 10 mx1
@ MX 20 mx2.other.test.
@ MX 20 MX3.Example.Test.
mx1 A 127.0.0.2
mx1 AAAA ::1
v4only A 127.0.0.5
alias CNAME mx1
_25._tcp.mx1 TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
_25._tcp.mx1 TLSA 2 0 2 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
txt TXT "v=STSv1; id=20260101;" " more"
_submissions._tcp SRV 0 1 465 mail
_submission._tcp SRV 0 0 0 .
nullmx MX 0 .
EOF
	dnsd_zone hostile.test <<'EOF'
underscore MX 10 bad_host.hostile.test.
hyphen MX 10 -bad.hostile.test.
mixed MX 10 bad_host.hostile.test.
mixed MX 20 good.hostile.test.
_25._tcp.shortdigest TLSA 3 1 1 0011
nul TXT "a\000b"
long TXT "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
srv SRV 1 1 25 bad_target.hostile.test.
EOF
	local i
	for ((i = 1; i <= 70; i++)); do
		echo "many MX $i mx$i.hostile.test."
	done | dnsd_zone many.test
	dnsd_zone insecure.test --unsigned <<'EOF'
@ MX 10 mx
mx A 127.0.0.3
EOF
	dnsd_zone bogus.test --bogus <<'EOF'
@ MX 10 mx
mx A 127.0.0.4
EOF
	dnsd_start
}

teardown_file() {
	dnsd_stop
}

setup() {
	mailpost_setup
	[[ -x "$MAILPOST_DNSTEST" ]] || die "not built: $MAILPOST_DNSTEST"
	local why
	why=$("$MAILPOST_DNSTEST" --server 127.0.0.1 available) || skip "$why"
}

# dns [--timeout S] EXIT ARGS...: mailpost-dnstest against dnsd with its
# trust anchor; on another exit code, the command, both streams and the
# server's log.
dns() {
	local limit=20
	if [[ "$1" == --timeout ]]; then
		limit=$2
		shift 2
	fi
	local expected=$1
	shift
	run_dnstest "$limit" "$expected" --server "127.0.0.1@$DNSD_PORT" \
		--anchor "$DNSD_ANCHOR" "$@"
}

# The output with its records sorted: the server's order is its own.
sorted() {
	grep -v '^\(mx\|addr\|tlsa\|srv\|txt\) ' <<<"$output"
	grep '^\(mx\|addr\|tlsa\|srv\|txt\) ' <<<"$output" | sort
}

run_dnstest() {
	local limit=$1 expected=$2
	shift 2
	run --separate-stderr timeout "$limit" "$MAILPOST_DNSTEST" "$@"
	if [[ "$status" -ne "$expected" ]]; then
		die "exit code $status, expected $expected" \
			"command: $MAILPOST_DNSTEST $*" "stdout: $output" \
			"stderr: $stderr" "knotd log: $(tail -n 20 "$DNSD_DIR/knotd.log")"
	fi
}

@test "dns: MX records, secure, names lower-case without the final dot" {
	dns 0 mx example.test
	assert_equal "status found
security secure
canon example.test
mx 10 mx1.example.test
mx 20 mx2.other.test
mx 20 mx3.example.test" "$(sorted)" "the answer"
}

@test "dns: A and AAAA together; a CNAME gives the canonical name" {
	dns 0 addrs mx1.example.test
	assert_equal "status found
security secure
canon mx1.example.test
addr inet 127.0.0.2
addr inet6 ::1" "$(sorted)" "the answer"
	dns 0 addrs alias.example.test
	assert_output_contains "canon mx1.example.test"
	assert_output_contains "addr inet 127.0.0.2"
	# One of the two types missing is still an answer.
	dns 0 addrs v4only.example.test
	assert_equal "status found
security secure
canon v4only.example.test
addr inet 127.0.0.5" "$(sorted)" "the answer"
}

@test "dns: TLSA records of _PORT._tcp.HOST, their data as it was signed" {
	dns 0 tlsa mx1.example.test 25
	assert_output_contains "security secure"
	assert_output_contains "canon _25._tcp.mx1.example.test"
	assert_output_contains "tlsa 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	assert_output_contains "tlsa 2 0 2 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	dns 0 tlsa mx1.example.test 587
	assert_output_contains "status nxdomain"
}

@test "dns: SRV records; the target '.' is the service not offered" {
	dns 0 srv _submissions._tcp.example.test
	assert_output_contains "srv 0 1 465 mail.example.test"
	dns 0 srv _submission._tcp.example.test
	assert_output_contains "srv 0 0 0 ."
}

@test "dns: a TXT record's strings are joined" {
	dns 0 txt txt.example.test
	assert_output_contains "txt v=STSv1; id=20260101; more"
	assert_output_contains "security secure"
}

@test "dns: the null MX (RFC 7505) is a host of '.'" {
	dns 0 mx nullmx.example.test
	assert_output_contains "mx 0 ."
}

@test "dns: NXDOMAIN and NODATA, both proven secure" {
	dns 0 mx nothere.example.test
	assert_equal "status nxdomain
security secure
canon nothere.example.test" "$(sorted)" "NXDOMAIN"
	dns 0 mx mx1.example.test
	assert_equal "status nodata
security secure
canon mx1.example.test" "$(sorted)" "NODATA"
	dns 0 addrs nothere.example.test
	assert_output_contains "status nxdomain"
}

@test "dns: a zone without DS in its parent is insecure" {
	dns 0 mx insecure.test
	assert_equal "status found
security insecure
canon insecure.test
mx 10 mx.insecure.test" "$(sorted)" "the answer"
}

@test "dns: broken signatures are bogus, with the reason; the caller decides" {
	dns 0 mx bogus.test
	assert_output_contains "security bogus"
	assert_output_contains "why_bogus validation failure <bogus.test. MX IN>"
	dns 0 addrs mx.bogus.test
	assert_output_contains "security bogus"
}

@test "dns: the default anchor through a resolver without DNSSEC: validation off, said so" {
	[[ -r /usr/share/dns/root.key ]] || skip "no /usr/share/dns/root.key (dns-root-data)"
	# dnsd serves no root zone: the root's key cannot be validated.
	run_dnstest 20 0 -v --server "127.0.0.1@$DNSD_PORT" mx example.test
	assert_output_contains "security insecure"
	assert_output_contains "mx 10 mx1.example.test"
	[[ "$stderr" == *"DNS: the resolver cannot serve DNSSEC"*"not validated in this run"* ]] ||
		die "stderr: $stderr"
	# Even a bogus zone is only insecure then.
	run_dnstest 20 0 --server "127.0.0.1@$DNSD_PORT" mx bogus.test
	assert_output_contains "security insecure"
}

@test "dns: a record whose name is not a host name is left out, and said so" {
	dns 0 -v mx mixed.hostile.test
	assert_output_contains "mx 20 good.hostile.test"
	assert_output_lacks "bad_host"
	[[ "$stderr" == *"a record left out: an MX exchange is not a host name"* ]] ||
		die "no note: $stderr"
	# Every record unusable: a temporary failure, not an empty answer.
	dns 75 mx underscore.hostile.test
	[[ "$stderr" == *"has no usable record (an MX exchange is not a host name)"* ]] ||
		die "stderr: $stderr"
	dns 75 mx hyphen.hostile.test
	dns 75 srv srv.hostile.test
	[[ "$stderr" == *"a SRV target is not a host name"* ]] || die "stderr: $stderr"
}

@test "dns: a TLSA digest of the wrong length, a TXT with a NUL or too long are refused" {
	dns 75 tlsa shortdigest.hostile.test 25
	[[ "$stderr" == *"a TLSA digest has the wrong length"* ]] || die "stderr: $stderr"
	dns 75 txt nul.hostile.test
	[[ "$stderr" == *"a TXT record has a NUL byte"* ]] || die "stderr: $stderr"
	# 17 strings of 255: more than DNS_TXT_MAX (4096) joined.
	dns 75 txt long.hostile.test
	[[ "$stderr" == *"a TXT record is too long"* ]] || die "stderr: $stderr"
}

@test "dns: at most DNS_ANSWER_MAX (64) MX records are kept, the lowest preferences" {
	dns 0 -v mx many.many.test
	[[ $(grep -c '^mx ' <<<"$output") -eq 64 ]] || die "records: $output"
	grep -q '^mx 64 mx64.hostile.test' <<<"$output" || die "records: $output"
	! grep -q '^mx 6[5-9] ' <<<"$output" || die "records: $output"
	[[ "$stderr" == *"has 70 usable records; the 64 of the lowest preferences are kept"* ]] ||
		die "stderr: $stderr"
}

@test "dns: no server answering is a temporary failure within the timeout" {
	local port
	port=$(unused_port)
	run_dnstest 20 75 --server "127.0.0.1@$port" --anchor "$DNSD_ANCHOR" \
		--timeout 1500 mx example.test
	[[ "$stderr" == *"tempfail: DNS look-up of example.test MX"* ]] ||
		die "stderr: $stderr"
	# With the default anchor, the resolver's DNSSEC is checked first:
	# that look-up's failure says so, and is temporary too.
	if [[ -r /usr/share/dns/root.key ]]; then
		run_dnstest 20 75 --server "127.0.0.1@$port" --timeout 800 mx example.test
		[[ "$stderr" == *"checking the resolver's DNSSEC before example.test MX: DNS look-up of . DNSKEY: "* ]] ||
			die "stderr: $stderr"
	fi
}

@test "dns: a server that never answers is a timeout, a temporary failure" {
	local dir=$BATS_TEST_TMPDIR/silent
	mkdir "$dir"
	"$SMTPD_PYTHON" -c '
import socket, sys, time
u = socket.socket(type=socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
t = socket.socket(); t.bind(("127.0.0.1", u.getsockname()[1])); t.listen()
open(sys.argv[1], "w").write(str(u.getsockname()[1]))
time.sleep(30)' "$dir/port" 3>&- &
	local pid=$! i
	for ((i = 0; i < 100; i++)); do
		[[ -s "$dir/port" ]] && break
		sleep 0.05
	done
	local start=$SECONDS
	run_dnstest 20 75 --server "127.0.0.1@$(<"$dir/port")" \
		--anchor "$DNSD_ANCHOR" --timeout 1000 mx example.test
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	[[ "$stderr" == *"DNS look-up of example.test MX: no answer within 1 s"* ]] ||
		die "stderr: $stderr"
	((SECONDS - start < 5)) || die "took $((SECONDS - start)) s"
}

@test "dns: a name that cannot be asked is a configuration error" {
	dns 78 mx 'bad name.test'
	[[ "$stderr" == *"cannot look up 'bad name.test': not a DNS name"* ]] ||
		die "stderr: $stderr"
	dns 78 mx 'a..test'
	dns 78 mx ''
	dns 78 tlsa mx1.example.test 0
}

@test "dns: bad settings are configuration errors naming the key" {
	run_dnstest 20 78 --server "localhost" mx example.test
	[[ "$stderr" == *"dns_server: 'localhost' is not a numeric IP address"* ]] ||
		die "stderr: $stderr"
	run_dnstest 20 78 --server "127.0.0.1@99999" mx example.test
	[[ "$stderr" == *"the port is not 1-65535"* ]] || die "stderr: $stderr"
	run_dnstest 20 78 --server " , " mx example.test
	[[ "$stderr" == *"dns_server is empty"* ]] || die "stderr: $stderr"
	run_dnstest 20 78 --server "127.0.0.1@$DNSD_PORT" \
		--anchor "$BATS_TEST_TMPDIR/none" mx example.test
	[[ "$stderr" == *"dnssec_trust_anchor $BATS_TEST_TMPDIR/none: No such file"* ]] ||
		die "stderr: $stderr"
	echo "not a record" >"$BATS_TEST_TMPDIR/bad-anchor"
	run_dnstest 20 78 --server "127.0.0.1@$DNSD_PORT" \
		--anchor "$BATS_TEST_TMPDIR/bad-anchor" mx example.test
	[[ "$stderr" == *"dnssec_trust_anchor $BATS_TEST_TMPDIR/bad-anchor: cannot be used"* ]] ||
		die "stderr: $stderr"
}

@test "dns: in the test suite, no dns_server is refused (never the real DNS)" {
	[[ -n "${MAILPOST_TEST_DNS_REQUIRED:-}" ]] || die "helpers did not set it"
	run_dnstest 20 78 mx example.test
	[[ "$stderr" == *"no dns_server in a test run"* ]] || die "stderr: $stderr"
}
