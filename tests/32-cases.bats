#!/usr/bin/env bats
# 32-cases: protocol cases in the declarative form of tests/lib/cases.bash
# (its header documents the sections): what the server answers, what
# mailpost must send and exit with.  A case is a few lines; one that
# needs another assertion belongs in 30-smtp or 35-replies.

load lib/helpers
load lib/cases

setup() {
	mailpost_setup
}

# --- the session without PIPELINING, SIZE ---------------------------------------

@test "happy path without PIPELINING: one command, one reply, exact transcript" {
	# The server flags any command sent before the previous reply.
	run_case <<'EOF'
--- server caps SIZE 10240000, 8BITMIME, ENHANCEDSTATUSCODES, DSN
--- args bob@example.net carol@example.net
--- exit 0
--- received
EHLO client.test
MAIL FROM:<alice@example.org> SIZE=@SIZE@
RCPT TO:<bob@example.net>
RCPT TO:<carol@example.net>
DATA
@MESSAGE@
.
QUIT
--- message
@MESSAGE@
EOF
}

@test "no SIZE offered: no SIZE= parameter" {
	run_case <<'EOF'
--- server caps PIPELINING
--- args bob@example.net
--- exit 0
--- received
EHLO client.test
MAIL FROM:<alice@example.org>
RCPT TO:<bob@example.net>
DATA
@MESSAGE@
.
QUIT
EOF
}

@test "SIZE 0 means no limit: SIZE= is sent" {
	run_case <<'EOF'
--- server caps PIPELINING, SIZE 0
--- args bob@example.net
--- exit 0
--- received
EHLO client.test
MAIL FROM:<alice@example.org> SIZE=@SIZE@
RCPT TO:<bob@example.net>
DATA
@MESSAGE@
.
QUIT
EOF
}

# --- HELO fallback: EHLO refused with 5xx, then HELO, no ESMTP parameters, no
# pipelining --------------------------------------------------------------------

@test "HELO fallback after EHLO 500" {
	run_case <<'EOF'
--- server on EHLO 500 5.5.1 command unrecognized
--- args bob@example.net
--- exit 0
--- received
EHLO client.test
HELO client.test
MAIL FROM:<alice@example.org>
RCPT TO:<bob@example.net>
DATA
@MESSAGE@
.
QUIT
EOF
}

@test "HELO fallback after EHLO 502" {
	run_case <<'EOF'
--- server on EHLO 502 5.5.2 not implemented
--- args bob@example.net
--- exit 0
--- received
EHLO client.test
HELO client.test
MAIL FROM:<alice@example.org>
RCPT TO:<bob@example.net>
DATA
@MESSAGE@
.
QUIT
EOF
}

@test "HELO fallback after EHLO 550" {
	run_case <<'EOF'
--- server on EHLO 550 no
--- args bob@example.net
--- exit 0
--- received
EHLO client.test
HELO client.test
MAIL FROM:<alice@example.org>
RCPT TO:<bob@example.net>
DATA
@MESSAGE@
.
QUIT
EOF
}
