#!/usr/bin/env bats
# 50-postfix: end to end through a real Postfix.
#
# setup_file starts a private Postfix on a loopback high port (see
# tests/lib/postfix.bash) that delivers example.test and second.test to
# Maildirs. Each test submits with mailpost and then looks at what landed
# with tests/lib/msgcheck.py, which parses the delivered file with Python's
# email package and shares no code with mailpost. Postfix stores messages
# with LF line endings: "byte-exact" below means the sent message with every
# line ending made LF.
#
# Known addresses: user root alice bob carol a @example.test, b@second.test.

bats_require_minimum_version 1.5.0

load lib/helpers # run_mailpost, assert_equal, assert_stderr_contains, die
load lib/postfix

MSGCHECK=$BATS_TEST_DIRNAME/lib/msgcheck.py

setup_file() {
	postfix_setup_file
}

teardown_file() {
	postfix_stop
}

setup() {
	[ -z "$PF_SKIP" ] || skip "$PF_SKIP"
	mailpost_setup
	postfix_clear
	msg=$BATS_TEST_TMPDIR/msg
}

teardown() {
	[ -z "$PF_SKIP" ] || return 0
	# Make sure no test leaves mail behind for the next one.
	postfix_wait_queue_empty 5 >/dev/null 2>&1 || true
	postfix_clear
}

# pf_send EXPECTED_STATUS INPUT args...: run mailpost (run_mailpost) on the
# file INPUT against the private Postfix; on a wrong exit status show the
# end of Postfix's log too.
pf_send() {
	local want=$1 input=$2
	shift 2
	run_mailpost "$want" --host 127.0.0.1 --port "$PF_PORT" -C /dev/null \
		--domain client.test "$@" <"$input" || {
		postfix_log_tail 10 >&2
		return 1
	}
}

# pf_nothing_delivered: no message reached a Maildir or is in the queue.
# Once mailpost has exited, a message Postfix accepted is in its queue or
# already delivered (see postfix_wait_queue_empty), so no pause is needed.
pf_nothing_delivered() {
	local n q
	n=$(postfix_delivered | wc -l)
	q=$(postfix_queue_count)
	if [ "$n" -ne 0 ] || [ "$q" -ne 0 ]; then
		echo "want nothing delivered; $n delivered, $q queued:" >&2
		postfix_delivered >&2
		postfix_log_tail 10 >&2
		return 1
	fi
}

# msgcheck FILE COMMAND...: run the checker, showing its complaint.
msgcheck() {
	python3 "$MSGCHECK" "$@"
}

write_plain_message() {
	{
		printf 'From: Sender <sender@client.test>\n'
		printf 'To: Alice <alice@example.test>\n'
		printf 'Subject: a plain message\n\twith a folded subject\n'
		printf 'Date: Sat, 01 Feb 2025 10:00:00 +0100\n'
		printf 'Message-ID: <plain.1@client.test>\n'
		printf 'X-Extra:   spaces kept  \n'
		printf '\n'
		printf 'First line.\n'
		printf '\n'
		printf 'trailing blanks   \n'
		printf '\ttab-indented line\n'
		printf ' space-indented line\n'
		printf 'From the start of a line\n'
		printf '%0990d\n' 7
		printf 'last line\n'
	} >"$1"
}

@test "postfix: a message arrives with headers kept and body byte-exact" {
	write_plain_message "$msg"
	pf_send 0 "$msg" -f sender@client.test alice@example.test
	postfix_wait_delivered 1
	f=$(postfix_one alice@example.test)
	msgcheck "$f" check
	msgcheck "$f" same-as "$msg"
	run msgcheck "$f" return-path
	assert_equal sender@client.test "$output" "Return-Path"
	# Nothing added where the message had it already.
	for h in From Date Message-ID Subject; do
		run msgcheck "$f" count "$h"
		assert_equal 1 "$output" "number of $h headers"
	done
	run msgcheck "$f" header Delivered-To
	assert_equal alice@example.test "$output" "Delivered-To"
}

@test "postfix: CRLF on input and bare CR/LF mixes arrive normalised" {
	printf 'From: sender@client.test\r\nTo: alice@example.test\r\nSubject: crlf\r\n\r\ncrlf line\r\nlf line\nbare cr line\rmore\r\n\r\n\nno final newline' >"$msg"
	pf_send 0 "$msg" -f sender@client.test alice@example.test
	postfix_wait_delivered 1
	f=$(postfix_one alice@example.test)
	msgcheck "$f" check
	msgcheck "$f" same-as "$msg"
	run msgcheck "$f" body
	assert_equal $'crlf line\nlf line\nbare cr line\nmore\n\n\nno final newline' "$output" "body"
}

@test "postfix: the null sender gives Return-Path <>" {
	write_plain_message "$msg"
	pf_send 0 "$msg" -f '' alice@example.test
	postfix_wait_delivered 1
	f=$(postfix_one alice@example.test)
	run msgcheck "$f" header Return-Path
	assert_equal "<>" "$output" "Return-Path for -f ''"
	postfix_clear

	pf_send 0 "$msg" -f '<>' alice@example.test
	postfix_wait_delivered 1
	f=$(postfix_one alice@example.test)
	run msgcheck "$f" header Return-Path
	assert_equal "<>" "$output" "Return-Path for -f '<>'"
}

@test "postfix: -t delivers to To, Cc and Bcc, and no copy carries Bcc" {
	{
		printf 'From: sender@client.test\n'
		printf 'To: Alice <alice@example.test>\n'
		printf 'Cc: bob@example.test,\n\t"B. Second" <b@second.test>\n'
		printf 'Bcc: carol@example.test\n'
		printf 'Subject: to, cc and bcc\n'
		printf '\nbody\n'
	} >"$msg"
	grep -v '^Bcc:' "$msg" >"$BATS_TEST_TMPDIR/sent"
	pf_send 0 "$msg" -t -i -f sender@client.test
	postfix_wait_delivered 4
	for rcpt in alice@example.test bob@example.test b@second.test carol@example.test; do
		f=$(postfix_one "$rcpt")
		run msgcheck "$f" has-header Bcc
		assert_equal 1 "$status" "Bcc header present in the copy for $rcpt"
		msgcheck "$f" same-as "$BATS_TEST_TMPDIR/sent"
	done
	assert_equal 4 "$(postfix_delivered | wc -l)" "messages delivered"
}

@test "postfix: -t adds recipients given on the command line" {
	printf 'From: sender@client.test\nTo: alice@example.test\nSubject: t plus\n\nbody\n' >"$msg"
	pf_send 0 "$msg" -t -f sender@client.test bob@example.test
	postfix_wait_delivered 2
	postfix_one alice@example.test
	postfix_one bob@example.test
}

@test "postfix: an unknown user gives exit 67 and nothing is delivered" {
	write_plain_message "$msg"
	pf_send 67 "$msg" -f sender@client.test nosuch@example.test
	assert_stderr_contains nosuch@example.test
	pf_nothing_delivered
}

@test "postfix: known and unknown recipients: exit 67, nothing delivered (all or nothing)" {
	write_plain_message "$msg"
	pf_send 67 "$msg" -f sender@client.test alice@example.test nosuch@example.test
	assert_stderr_contains nosuch@example.test
	pf_nothing_delivered
}

@test "postfix: --rcpt-policy=any delivers to the known recipient, exit 67" {
	write_plain_message "$msg"
	pf_send 67 "$msg" --rcpt-policy=any -f sender@client.test \
		alice@example.test nosuch@example.test
	assert_stderr_contains nosuch@example.test
	postfix_wait_delivered 1
	f=$(postfix_one alice@example.test)
	msgcheck "$f" same-as "$msg"
	postfix_wait_queue_empty
	assert_equal 1 "$(postfix_delivered | wc -l)" "messages delivered"
}

@test "postfix: lines starting with a dot arrive intact with -i" {
	printf 'From: sender@client.test\nTo: alice@example.test\nSubject: dots\n\n.\n..\n...\n.x\n. \n .\n.\r\nend\n.' >"$msg"
	pf_send 0 "$msg" -i -f sender@client.test alice@example.test
	postfix_wait_delivered 1
	f=$(postfix_one alice@example.test)
	msgcheck "$f" same-as "$msg"
}

@test "postfix: without -i a line with a single dot ends the message" {
	printf 'From: sender@client.test\nTo: alice@example.test\nSubject: dot ends\n\nbefore\n.\nafter\n' >"$msg"
	printf 'From: sender@client.test\nTo: alice@example.test\nSubject: dot ends\n\nbefore\n' >"$BATS_TEST_TMPDIR/want"
	pf_send 0 "$msg" -f sender@client.test alice@example.test
	postfix_wait_delivered 1
	f=$(postfix_one alice@example.test)
	msgcheck "$f" same-as "$BATS_TEST_TMPDIR/want"
}

@test "postfix: From, Date and Message-ID are added when missing" {
	printf 'To: alice@example.test\nSubject: bare\n\nbody\n' >"$msg"
	pf_send 0 "$msg" -f sender@client.test alice@example.test
	postfix_wait_delivered 1
	f=$(postfix_one alice@example.test)
	msgcheck "$f" check
	msgcheck "$f" date-ok
	msgcheck "$f" msgid-ok
	run msgcheck "$f" count From
	assert_equal 1 "$output" "number of From headers"
	run msgcheck "$f" addresses From
	assert_equal sender@client.test "$output" "From address"
	msgcheck "$f" same-as "$msg"
}

@test "postfix: an 8-bit UTF-8 body arrives intact" {
	printf 'From: sender@client.test\nTo: alice@example.test\nSubject: 8bit\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGr\303\274\303\237e, \342\202\254 und \360\237\223\256\n' >"$msg"
	pf_send 0 "$msg" -f sender@client.test alice@example.test
	postfix_wait_delivered 1
	f=$(postfix_one alice@example.test)
	msgcheck "$f" same-as "$msg"
}

@test "postfix: a 5 MB message arrives intact" {
	python3 - "$msg" <<'EOF'
import hashlib, sys
with open(sys.argv[1], "wb") as f:
    f.write(b"From: sender@client.test\nTo: alice@example.test\nSubject: 5 MB\n\n")
    n = 0
    i = 0
    while n < 5 * 1024 * 1024:
        line = hashlib.sha256(str(i).encode()).hexdigest()[:75].encode()
        if i % 1000 == 0:
            line = b"." + line   # dot-stuffing in bulk
        f.write(line + b"\n")
        n += len(line) + 1
        i += 1
EOF
	pf_send 0 "$msg" -i -f sender@client.test alice@example.test
	postfix_wait_delivered 1 60
	f=$(postfix_one alice@example.test)
	want=$(sed '1,/^$/d' "$msg" | sha256sum | cut -d' ' -f1)
	run msgcheck "$f" body-sha256
	assert_equal "$want" "$output" "SHA-256 of the delivered body"
}

@test "postfix: CHUNKING: several BDAT chunks (Postfix counts them), byte-exact; --no-chunking is DATA; no BINARYMIME offered" {
	python3 - "$msg" <<'EOF'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"From: sender@client.test\nTo: alice@example.test\nSubject: chunks\n\n")
    for i in range(8000):
        f.write(b"%s%07d %s\n" % (b"." if i % 3 == 0 else b"", i, b"x" * 66))
EOF
	pf_send 0 "$msg" -v -i -f sender@client.test alice@example.test
	assert_stderr_contains " -> BDAT 262144"
	assert_stderr_contains " LAST"
	assert_stderr_lacks " -> DATA"
	# Postfix 3.7 offers CHUNKING, not BINARYMIME (RFC 3030 3).
	assert_stderr_contains "CHUNKING"
	assert_stderr_lacks "BINARYMIME"
	postfix_wait_delivered 1 60
	f=$(postfix_one alice@example.test)
	msgcheck "$f" same-as "$msg"
	# Postfix's own count of the commands of the session.
	grep -qE 'disconnect from .* bdat=3 quit=1' "$PF_LOG" ||
		die "Postfix did not log three BDAT commands:" "$(grep disconnect "$PF_LOG" | tail -n 3)"
	postfix_clear
	pf_send 0 "$msg" -v -i --no-chunking -f sender@client.test alice@example.test
	assert_stderr_contains " -> DATA"
	assert_stderr_lacks " -> BDAT"
	postfix_wait_delivered 1 60
	f=$(postfix_one alice@example.test)
	msgcheck "$f" same-as "$msg"
}

@test "postfix: a message over the server's size limit gives exit 69, nothing delivered" {
	{
		printf 'From: sender@client.test\nTo: alice@example.test\nSubject: too big\n\n'
		for ((i = 0; i < 600; i++)); do
			printf '%075d\n' "$i"
		done
	} >"$msg"
	# The second listener has message_size_limit=$PF_SMALL_LIMIT.
	run_mailpost 69 --host 127.0.0.1 --port "$PF_SMALL_PORT" -C /dev/null \
		--domain client.test -f sender@client.test alice@example.test <"$msg"
	pf_nothing_delivered
}

# --- the command lines other programs use, through a link named sendmail ---

# pf_sendmail EXPECTED_STATUS INPUT args...: run "sendmail args" (a symlink
# to mailpost) with the server taken from a config file, as on a system
# where mailpost is installed as /usr/sbin/sendmail.
pf_sendmail() {
	local want=$1 input=$2 bin=$BATS_TEST_TMPDIR/bin
	shift 2
	mkdir -p "$bin"
	ln -sf "$MAILPOST" "$bin/sendmail"
	export MAILPOST_CONFIG=$BATS_TEST_TMPDIR/mailpost.conf
	printf 'defaults\nhost 127.0.0.1\nport %s\ndomain client.test\n\naccount local\n\naccount default : local\n' \
		"$PF_PORT" >"$MAILPOST_CONFIG"
	chmod 600 "$MAILPOST_CONFIG"
	MAILPOST=$bin/sendmail run_mailpost "$want" "$@" <"$input" || {
		postfix_log_tail 10 >&2
		return 1
	}
}

@test "postfix: Debian cron: sendmail -i -FCronDaemon -B8BITMIME -oem user" {
	{
		printf 'From: root (Cron Daemon)\nTo: user@example.test\n'
		printf 'Subject: Cron <user@host> echo hello\n'
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n'
		printf 'Content-Transfer-Encoding: 8bit\n'
		printf 'X-Cron-Env: <SHELL=/bin/sh>\nX-Cron-Env: <HOME=/home/user>\n'
		printf '\nhello\n'
	} >"$msg"
	pf_sendmail 0 "$msg" -i -FCronDaemon -B8BITMIME -oem user@example.test
	postfix_wait_delivered 1
	f=$(postfix_one user@example.test)
	msgcheck "$f" same-as "$msg"
}

@test "postfix: cronie: sendmail -FCronDaemon -i -odi -oem -oi -t -f root" {
	{
		printf 'From: "(Cron Daemon)" <root@example.test>\n'
		printf 'To: root@example.test\nSubject: Cron <root@host> true\n'
		printf 'Content-Type: text/plain; charset=UTF-8\n'
		printf 'Auto-Submitted: auto-generated\nPrecedence: bulk\n'
		printf '\noutput\n'
	} >"$msg"
	pf_sendmail 0 "$msg" -FCronDaemon -i -odi -oem -oi -t -f root@example.test
	postfix_wait_delivered 1
	f=$(postfix_one root@example.test)
	msgcheck "$f" same-as "$msg"
	run msgcheck "$f" return-path
	assert_equal root@example.test "$output" "Return-Path"
}

@test "postfix: PHP mail(): sendmail -t -i" {
	printf 'To: alice@example.test\nSubject: from php\nX-PHP-Originating-Script: 0:index.php\n\nhello . from php\n.\nend\n' >"$msg"
	pf_sendmail 0 "$msg" -t -i
	postfix_wait_delivered 1
	f=$(postfix_one alice@example.test)
	msgcheck "$f" same-as "$msg"
}

@test "postfix: git send-email: sendmail -i addr addr" {
	printf 'From: dev@client.test\nTo: a@example.test\nCc: b@second.test\nSubject: [PATCH] fix\n\n---\n file | 1 +\n' >"$msg"
	pf_sendmail 0 "$msg" -i a@example.test b@second.test
	postfix_wait_delivered 2
	for rcpt in a@example.test b@second.test; do
		f=$(postfix_one "$rcpt")
		msgcheck "$f" same-as "$msg"
	done
}
