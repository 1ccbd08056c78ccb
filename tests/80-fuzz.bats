#!/usr/bin/env bats
# 80-fuzz: every parser that sees untrusted bytes runs under libFuzzer for a
# few seconds (MAILPOST_FUZZ_SECONDS, default 3) from its seed corpus, with
# ASan and UBSan (tests/fuzz/run; the targets are tests/fuzz/*_fuzz.c).
# Needs a build configured with --enable-fuzzing (clang with libFuzzer);
# otherwise each case is skipped and says why.  A crash fails the case
# and names the reproducer in the build's fuzz/crashes/.

load lib/helpers

fuzz() {
	[ "${MAILPOST_FUZZING:-no}" = yes ] ||
		skip "fuzz targets not built: configure --enable-fuzzing (needs clang and libclang-rt-dev)"
	run timeout 120 "$MAILPOST_SRCDIR/tests/fuzz/run" \
		-t "${MAILPOST_FUZZ_SECONDS:-3}" -d "$MAILPOST_FUZZ_DIR" "$1"
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
@test "fuzz: aliases files (aliases.c)" { fuzz aliases; }
@test "fuzz: queue envelopes (queue.c)" { fuzz queue; }
