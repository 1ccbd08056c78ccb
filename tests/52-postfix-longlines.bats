#!/usr/bin/env bats
# 52-postfix-longlines: messages with lines over 998 octets end to end
# through a real Postfix (tests/lib/postfix.bash).  What lands in the
# Maildir must have no line over 998 octets and no header defect
# (msgcheck.py check), and must decode, with Python's email package, to
# exactly the bytes given (msgcheck.py decodes-as: every leaf part has the
# same type and the same bytes after its transfer encoding is undone).
# Also a raw UTF-8 Subject (RFC 6532), which must read as written.
#
# Known addresses: user root alice bob carol a @example.test, b@second.test.

bats_require_minimum_version 1.5.0

load lib/helpers # run_mailpost, die
load lib/postfix

MSGCHECK=$BATS_TEST_DIRNAME/lib/msgcheck.py
MIMECHECK=$BATS_TEST_DIRNAME/lib/mimecheck.py

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
	IN=$BATS_TEST_TMPDIR/in
	HDR=$'From: Sender <sender@client.test>\nTo: Alice <alice@example.test>\nSubject: long lines\n'
	L5000="$(printf 'x%.0s' {1..4990})[end]"
}

teardown() {
	[ -z "$PF_SKIP" ] || return 0
	postfix_wait_queue_empty 5 >/dev/null 2>&1 || true
	postfix_clear
}

msgcheck() {
	python3 "$MSGCHECK" "$@"
}

# pf_long [CHECKER]: send $IN to alice, wait for it, check it is well
# formed (msgcheck.py check; a multipart with mimecheck.py check, which
# parses the whole MIME tree) and decodes to $IN's bytes.
pf_long() {
	local f
	run_mailpost 0 --host 127.0.0.1 --port "$PF_PORT" -C /dev/null \
		--domain client.test -f sender@client.test alice@example.test <"$IN" || {
		postfix_log_tail 10 >&2
		return 1
	}
	postfix_wait_delivered 1 || return 1
	f=$(postfix_one alice@example.test) || return 1
	if [[ "${1:-}" == mime ]]; then
		python3 "$MIMECHECK" "$f" check --header-max 998 || die "the delivered message is not well formed"
	else
		msgcheck "$f" check || die "the delivered message is not well formed"
	fi
	msgcheck "$f" decodes-as "$IN" || die "the delivered message does not decode as the input"
	DELIVERED=$f
}

@test "Postfix: cron's message (UTF-8, 8bit) with a 5000-byte line decodes byte for byte" {
	{
		printf '%sMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n' "$HDR"
		printf '/etc/cron.daily/x:\n{"caf\xc3\xa9": "%s"}\ndone\n' "$L5000"
	} >"$IN"
	pf_long
	grep -q '^Content-Transfer-Encoding: quoted-printable$' "$DELIVERED" || die "not quoted-printable"
}

@test "Postfix: a message without MIME fields, with trailing spaces and tabs" {
	printf '%s\nfirst  \n%s \t\n\tlast\t\n' "$HDR" "$L5000" >"$IN"
	pf_long
}

@test "Postfix: a long last line without a final newline" {
	printf '%s\nfirst\n%s' "$HDR" "$L5000" >"$IN"
	pf_long
}

@test "Postfix: a multipart message where one part has a long line" {
	{
		printf '%sMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="=_b"\n\nThis is MIME.\n--=_b\n' "$HDR"
		printf 'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nsee the log \xe2\x80\x94\n--=_b\n'
		printf 'Content-Type: text/plain; charset=us-ascii\nContent-Disposition: attachment; filename="log.txt"\n\n%s  \n%s\n--=_b--\n' "$L5000" "$L5000"
	} >"$IN"
	pf_long mime
}

@test "Postfix: a raw UTF-8 Subject (PHP's mail()) arrives and reads as written" {
	printf 'From: J\xc3\xb6rg <sender@client.test>\nTo: Alice <alice@example.test>\nSubject: Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln\n\nHallo\n' >"$IN"
	run_mailpost 0 -v --host 127.0.0.1 --port "$PF_PORT" -C /dev/null \
		--domain client.test -f sender@client.test alice@example.test <"$IN"
	postfix_wait_delivered 1
	local f
	f=$(postfix_one alice@example.test)
	python3 - "$f" <<-'PY'
	import email, email.policy, sys
	m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
	assert str(m["Subject"]) == "Grüße aus Köln", m["Subject"]
	assert str(m["From"]) == "Jörg <sender@client.test>", m["From"]
	assert not m.defects, m.defects
	PY
	# SMTPUTF8 when Postfix offers it, else the words of RFC 2047
	if [[ "$stderr" == *"250-SMTPUTF8"* ]]; then
		[[ "$stderr" == *"MAIL FROM:<sender@client.test> SIZE="*" SMTPUTF8"* ]] ||
			die "SMTPUTF8 offered but not used:" "$stderr"
		grep -q $'^Subject: Gr\xc3\xbc' "$f" || die "the Subject was changed although SMTPUTF8 was offered"
	else
		grep -q '^Subject: =?UTF-8?' "$f" || die "the Subject is not RFC 2047 words"
	fi
}

@test "Postfix: a boundary inside a long line never starts a line after re-encoding" {
	local a75
	a75="$(printf 'a%.0s' {1..75})"
	{
		printf '%sMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="frontier"\n\n' "$HDR"
		printf '%s--frontier\n--frontier\nContent-Type: text/plain\nContent-Transfer-Encoding: 8bit\n\n' "$L5000"
		printf '%s--frontier--%s\n--frontier--\n' "$a75" "$L5000"
	} >"$IN"
	# not pf_long: both checkers refuse the boundary inside a line, which
	# is the input's; what matters is that no new line starts with it
	run_mailpost 0 --host 127.0.0.1 --port "$PF_PORT" -C /dev/null \
		--domain client.test -f sender@client.test alice@example.test <"$IN"
	postfix_wait_delivered 1
	DELIVERED=$(postfix_one alice@example.test)
	msgcheck "$DELIVERED" decodes-as "$IN" || die "the delivered message does not decode as the input"
	python3 - "$DELIVERED" <<-'PY'
	import sys
	raw = open(sys.argv[1], "rb").read()
	starts = [l for l in raw.split(b"\n") if l.startswith(b"--frontier")]
	# RFC 2046 5.1.1: a line that starts with the boundary is a delimiter
	assert starts == [b"--frontier", b"--frontier--"], starts
	assert max(len(l) for l in raw.split(b"\n")) <= 998
	PY
}

@test "Postfix: a Subject of 400 CJK characters without spaces arrives and reads as written" {
	local cjk
	cjk="$(printf '\xe6\x97\xa5%.0s' {1..400})"
	printf 'From: Sender <sender@client.test>\nTo: Alice <alice@example.test>\nSubject: %s\n\nbody\n' "$cjk" >"$IN"
	run_mailpost 0 --host 127.0.0.1 --port "$PF_PORT" -C /dev/null \
		--domain client.test -f sender@client.test alice@example.test <"$IN"
	postfix_wait_delivered 1
	DELIVERED=$(postfix_one alice@example.test)
	msgcheck "$DELIVERED" check || die "the delivered message is not well formed"
	python3 - "$DELIVERED" "$cjk" <<-'PY'
	import email, email.policy, sys
	m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
	assert str(m["Subject"]) == sys.argv[2], m["Subject"]
	PY
}
