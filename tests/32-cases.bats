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

# --- recipient policy -----------------------------------------------------------

@test "rcpt_policy any without pipelining: DATA after a refusal, message to the others" {
	run_case <<'EOF'
--- server
caps SIZE 10240000
on RCPT#1 550 5.1.1 no such user
--- args --rcpt-policy=any bob@example.net carol@example.net
--- exit 67
--- stderr bob@example.net
--- message
@MESSAGE@
EOF
}

@test "LMTP: a recipient refused at RCPT with rcpt_policy any gets no reply slot" {
	run_case <<'EOF'
--- config
protocol lmtp
rcpt_policy any
--- server
on RCPT#1 550 5.1.1 unknown
on LMTP#1 250 2.1.5 carol ok
--- args bob@example.net carol@example.net
--- exit 67
--- stderr bob@example.net
--- received
LHLO client.test
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

# --- after the 250 to the dot: QUIT refused, or the connection closed, is
# still 0 --------------------------------------------------------------------------

@test "QUIT refused with 500: still 0" {
	run_case <<'EOF'
--- server on QUIT 500 5.5.1 what?
--- args bob@example.net
--- exit 0
--- message
@MESSAGE@
EOF
}

@test "QUIT refused with 421: still 0" {
	run_case <<'EOF'
--- server on QUIT 421 bye
--- args bob@example.net
--- exit 0
--- message
@MESSAGE@
EOF
}

@test "connection closed on QUIT: still 0" {
	run_case <<'EOF'
--- server on QUIT close
--- args bob@example.net
--- exit 0
--- message
@MESSAGE@
EOF
}

@test "connection reset on QUIT: still 0" {
	run_case <<'EOF'
--- server on QUIT reset
--- args bob@example.net
--- exit 0
--- message
@MESSAGE@
EOF
}

@test "connection closed right after the 250 to the dot: still 0" {
	run_case <<'EOF'
--- server
on DOT
  reply 250 2.0.0 queued
  close
--- args bob@example.net
--- exit 0
--- message
@MESSAGE@
EOF
}

# --- the envelope's DSN parameters (RFC 3461): the command line's over the
# account's, sent only to a server that offers DSN ----------------------------------

@test "DSN: the account's NOTIFY and RET go on every RCPT and on MAIL, with ORCPT" {
	run_case <<'EOF'
--- config
dsn_notify failure,delay
dsn_return headers
--- args bob@example.net carol@example.net
--- exit 0
--- received
EHLO client.test
MAIL FROM:<alice@example.org> SIZE=@SIZE@ RET=HDRS
RCPT TO:<bob@example.net> NOTIFY=FAILURE,DELAY ORCPT=rfc822;bob@example.net
RCPT TO:<carol@example.net> NOTIFY=FAILURE,DELAY ORCPT=rfc822;carol@example.net
DATA
@MESSAGE@
.
QUIT
EOF
}

@test "DSN: the command line's -N, -R and -V over the account's" {
	run_case <<'EOF'
--- config
dsn_notify failure,delay
dsn_return headers
--- args -N NEVER -R FULL -V job+1=2 bob@example.net
--- exit 0
--- received
EHLO client.test
MAIL FROM:<alice@example.org> SIZE=@SIZE@ RET=FULL ENVID=job+2B1+3D2
RCPT TO:<bob@example.net> NOTIFY=NEVER ORCPT=rfc822;bob@example.net
DATA
@MESSAGE@
.
QUIT
EOF
}

@test "DSN: -N and -R typed in lower case go in upper case, as the account's" {
	run_case <<'EOF'
--- args -N success,delay -R headers bob+tag@example.net
--- exit 0
--- received
EHLO client.test
MAIL FROM:<alice@example.org> SIZE=@SIZE@ RET=HDRS
RCPT TO:<bob+tag@example.net> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;bob+2Btag@example.net
DATA
@MESSAGE@
.
QUIT
EOF
}

@test "DSN: -V alone still names each recipient's ORCPT, and no NOTIFY" {
	run_case <<'EOF'
--- args -V id1 bob@example.net
--- exit 0
--- received
EHLO client.test
MAIL FROM:<alice@example.org> SIZE=@SIZE@ ENVID=id1
RCPT TO:<bob@example.net> ORCPT=rfc822;bob@example.net
DATA
@MESSAGE@
.
QUIT
EOF
}

@test "DSN: a UTF-8 recipient's ORCPT is RFC 6533's utf-8 form under SMTPUTF8" {
	run_case <<'EOF'
--- server caps PIPELINING, SIZE 10240000, 8BITMIME, DSN, SMTPUTF8
--- args -N failure jörg@example.net
--- exit 0
--- received
EHLO client.test
MAIL FROM:<alice@example.org> SIZE=@SIZE@ SMTPUTF8
RCPT TO:<jörg@example.net> NOTIFY=FAILURE ORCPT=utf-8;j\x{F6}rg@example.net
DATA
@MESSAGE@
.
QUIT
EOF
}

@test "DSN: nothing of it to a server that does not offer DSN, and a notice" {
	run_case <<'EOF'
--- config
dsn_notify success
dsn_return full
--- server caps PIPELINING, SIZE 10240000
--- args -V job1 bob@example.net
--- exit 0
--- stderr
mailpost: 127.0.0.1 does not offer DSN (RFC 3461): the message went without the delivery notifications asked for
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
