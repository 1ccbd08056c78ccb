#!/usr/bin/env bats
# 80-fuzz: every parser that sees untrusted bytes runs under libFuzzer for a
# few seconds (MAILPOST_FUZZ_SECONDS, default 3; seed MAILPOST_FUZZ_SEED,
# default 1) from its seed corpus, with
# ASan and UBSan (tests/fuzz/run; the targets are tests/fuzz/*_fuzz.c).
# Needs a build configured with --enable-fuzzing (clang with libFuzzer);
# otherwise each case is skipped and says why.  A crash fails the case
# and names the reproducer in the build's fuzz/crashes/; the last case
# shows that with a target that crashes on purpose.

load lib/helpers

fuzz() {
	[ "${MAILPOST_FUZZING:-no}" = yes ] ||
		skip "fuzz targets not built: configure --enable-fuzzing (needs clang and libclang-rt-dev)"
	# A fixed seed: the suite walks the same inputs on every run, so a
	# failure here is a change's doing, never the luck of the draw.
	run timeout 120 "$MAILPOST_SRCDIR/tests/fuzz/run" \
		-t "${MAILPOST_FUZZ_SECONDS:-3}" -S "${MAILPOST_FUZZ_SEED:-1}" \
		-d "$MAILPOST_FUZZ_DIR" "$1"
	echo "$output"
	[[ "$status" -eq 0 ]] || die "fuzz target $1 failed (exit $status)"
}

@test "fuzz: server replies (reply.c)" { fuzz reply; }
@test "fuzz: a whole session with a hostile server (smtp.c, conn.c)" { fuzz session; }
@test "fuzz: SOCKS5 proxy replies (socks.c)" { fuzz socks; }
@test "fuzz: SASL challenges, SCRAM server messages (sasl.c)" { fuzz sasl; }
@test "fuzz: -bs sessions (serve.c)" { fuzz serve; }
@test "fuzz: header blocks (header.c, rewrite.c)" { fuzz header; }
@test "fuzz: messages on stdin (source.c)" { fuzz source; }
@test "fuzz: line endings (crlf.c)" { fuzz crlf; }
@test "fuzz: addresses and address lists (address.c)" { fuzz address; }
@test "fuzz: configuration files (conf.c)" { fuzz conf; }
@test "fuzz: providers' autoconfig documents (autoconfig.c)" { fuzz autoconfig; }
@test "fuzz: DNS records' data, names (dnsrr.c)" { fuzz dnsrr; }
@test "fuzz: aliases files (aliases.c)" { fuzz aliases; }
@test "fuzz: mime.types files (mimetypes.c)" { fuzz mimetypes; }
@test "fuzz: trust store files, certificates' names (castore.c)" { fuzz castore; }
@test "fuzz: queue envelopes (queuefile.c)" { fuzz queue; }
@test "fuzz: spool helper requests (spoolserve.c)" { fuzz spoolgate; }
@test "fuzz: requests to the OAuth2 loopback redirect, pasted addresses (redirect.c)" { fuzz redirect; }
@test "fuzz: MTA-STS records and policies (mtasts.c)" { fuzz mtasts; }

@test "fuzz: a crash fails the run and names its reproducer" {
	[ "${MAILPOST_FUZZING:-no}" = yes ] ||
		skip "fuzz targets not built: configure --enable-fuzzing (needs clang and libclang-rt-dev)"
	local dir=$BATS_TEST_TMPDIR/fuzz seeds=$BATS_TEST_TMPDIR/seeds input
	mkdir -p "$dir" "$seeds/planted"
	cat >"$BATS_TEST_TMPDIR/planted.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
#include <string.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	volatile char *p = NULL;

	if (n >= 5 && memcmp(d, "crash", 5) == 0)
		*p = 1;
	return 0;
}
EOF
	"$MAILPOST_FUZZ_CC" -g -fsanitize=fuzzer,address \
		-o "$dir/planted_fuzz" "$BATS_TEST_TMPDIR/planted.c"
	printf 'crash here' >"$seeds/planted/seed"
	run timeout 60 "$MAILPOST_SRCDIR/tests/fuzz/run" -t 3 -d "$dir" \
		-s "$seeds" planted
	[[ "$status" -eq 1 ]] || die "expected exit 1, got $status: $output"
	assert_output_contains "planted: FAILED"
	assert_output_contains "reproducer: $dir/crashes/planted-crash-"
	assert_output_contains "SEGV"
	input=$(sed -n 's/.*reproducer: \([^ ]*\)$/\1/p' <<<"$output")
	assert_file_bytes "$input" "crash here" "the reproducer"
}
