#!/usr/bin/env bats
# 57-postfix-mime: composed MIME messages end to end through a real Postfix.
#
# setup_file starts a private Postfix on a loopback high port (see
# tests/lib/postfix.bash) that delivers example.test and second.test to
# Maildirs. Each test composes and sends with mailpost's mailx-style
# options, then parses what landed with tests/lib/mimecheck.py (Python's
# email package, policy=default; no code shared with mailpost): attachments
# must decode byte-identical, decoded headers and file names must equal the
# input, and the parser must report no defect. Postfix stores messages with
# LF line endings; mimecheck reads them as a mail client would.
#
# Known addresses: user root alice bob carol a @example.test, b@second.test.

bats_require_minimum_version 1.5.0

load lib/helpers # run_mailpost, assert_equal, die
load lib/postfix

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
	D=$BATS_TEST_TMPDIR
	printf 'Hello Alice,\n\nsee the attachments.\n' >"$D/body"
}

teardown() {
	[ -z "$PF_SKIP" ] || return 0
	postfix_wait_queue_empty 5 >/dev/null 2>&1 || true
	postfix_clear
}

# pf_compose EXPECTED_STATUS args...: mailpost (composition options in args)
# against the private Postfix, body from $D/body unless stdin is redirected
# by the caller through BODY=FILE.
pf_compose() {
	local want=$1
	shift
	run_mailpost "$want" --host 127.0.0.1 --port "$PF_PORT" -C /dev/null \
		--domain client.test -f sender@client.test "$@" <"${BODY:-$D/body}" || {
		postfix_log_tail 10 >&2
		return 1
	}
}

mc() {
	python3 "$MIMECHECK" "$@"
}

# mc_eq EXPECTED FILE COMMAND...: mimecheck's output equals EXPECTED.
mc_eq() {
	local want=$1 out rc=0
	shift
	out=$(python3 "$MIMECHECK" "$@") || rc=$?
	[ $rc -eq 0 ] || die "mimecheck ${*:2} failed (exit $rc)" || return 1
	assert_equal "$want" "$out" "mimecheck ${*:2}"
}

# delivered_ok FILE: the full mimecheck battery and no 8-bit data. Header
# lines may be longer than 78 only in what Postfix added (Received:), so the
# line check allows 998 there and the subject/file name tests check 78 on
# their own fields.
delivered_ok() {
	mc "$1" check --header-max 998 &&
		mc "$1" check-7bit &&
		mc "$1" defects ||
		die "the delivered message fails the MIME checks; structure:" \
			"$(mc "$1" structure 2>&1)" "head:" "$(head -n 40 "$1")"
}

# same_attachment ORIGINAL NAME MSG: attachment NAME of MSG decodes to the
# bytes of ORIGINAL.
same_attachment() {
	local want got
	want=$(sha256sum <"$1" | cut -d' ' -f1)
	got=$(mc "$3" attachment-sha256 "$2") ||
		die "no attachment named '$2'; structure:" "$(mc "$3" structure 2>&1)" ||
		return 1
	[ "$want" = "$got" ] || {
		mc "$3" attachment "$2" >"$D/got.bin"
		die "attachment '$2' differs from $1:" "$(cmp "$1" "$D/got.bin" 2>&1)"
	}
}

# no_long_lines FILE FIELD...: in FILE's raw header, each line of each FIELD
# (with its continuation lines) is at most 78 characters.
no_long_lines() {
	local f=$1 field
	shift
	for field in "$@"; do
		awk -v want="$(printf '%s' "$field" | tr A-Z a-z)" '
			/^$/ { exit }
			/^[^ \t]/ { name = tolower($0); sub(/:.*/, "", name); on = (name == want) }
			on && length($0) > 78 { printf "%s: line of %d characters: %s\n", want, length($0), $0; bad = 1 }
			END { exit bad }' "$f" || return 1
	done
}

@test "postfix mime: binary, empty and long-line text attachments arrive byte-identical" {
	head -c 300000 /dev/urandom >"$D/random.bin"
	: >"$D/empty.dat"
	python3 - "$D/long.txt" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("x" * 5000 + "\n")
    f.write(("word " * 1000).rstrip() + "   \n")
    f.write("=" * 200 + "\n.\n.dot line\nFrom the start\n")
    f.write("no final newline")
EOF
	printf 'caf\351\nbare\rcr\n' >"$D/latin1.txt"
	pf_compose 0 -s "attachments" -a "$D/random.bin" -a "$D/empty.dat" \
		-a "$D/long.txt" -a "$D/latin1.txt" alice@example.test
	postfix_wait_delivered 1
	f=$(postfix_one alice@example.test)
	delivered_ok "$f"
	mc "$f" body-text >"$D/got"
	cmp "$D/body" "$D/got"
	same_attachment "$D/random.bin" random.bin "$f"
	same_attachment "$D/empty.dat" empty.dat "$f"
	same_attachment "$D/long.txt" long.txt "$f"
	same_attachment "$D/latin1.txt" latin1.txt "$f"
}

@test "postfix mime: a 4 MB binary attachment arrives byte-identical" {
	head -c 4000000 /dev/urandom >"$D/big.bin"
	pf_compose 0 -s "big" -a "$D/big.bin" alice@example.test
	postfix_wait_delivered 1 60
	f=$(postfix_one alice@example.test)
	delivered_ok "$f"
	same_attachment "$D/big.bin" big.bin "$f"
}

@test "postfix mime: UTF-8 subject and From display name decode equal to the input" {
	local s name
	s='Grüße aus Köln — 日本語の件名と絵文字 😀🎉, ein langer Betreff über die 78-Zeichen-Grenze hinaus'
	name='Jürgen Müller-Lüdenscheidt, Dr.'
	pf_compose 0 -s "$s" --from "\"$name\" <sender@client.test>" alice@example.test
	postfix_wait_delivered 1
	f=$(postfix_one alice@example.test)
	delivered_ok "$f"
	mc "$f" encoded-words
	mc_eq "$s" "$f" header Subject
	mc_eq "$name" "$f" display-names From
	mc_eq "sender@client.test" "$f" addresses From
	mc_eq "alice@example.test" "$f" addresses To
	no_long_lines "$f" Subject From
}

@test "postfix mime: UTF-8, long, quoted and spaced file names decode equal" {
	local n names=('Größe der Dateien.txt' 'say "hi"; a=b.txt' '-dash.txt'
		'Übersicht der Änderungen für das dritte Quartal — 日本語のファイル名 — Größe.pdf')
	local args=()
	for n in "${names[@]}"; do
		printf 'content of %s\n' "$n" >"$D/$n"
		args+=(-a "$D/$n")
	done
	pf_compose 0 -s "file names" "${args[@]}" alice@example.test
	postfix_wait_delivered 1
	f=$(postfix_one alice@example.test)
	delivered_ok "$f"
	mc "$f" encoded-words
	mc_eq "$(printf '%s\n' "${names[@]}")" "$f" filenames
	for n in "${names[@]}"; do
		same_attachment "$D/$n" "$n" "$f" || return 1
	done
	no_long_lines "$f" Content-Type Content-Disposition
}

@test "postfix mime: HTML alternative with both parts decoded equal" {
	printf '<html><body><p>Hello <b>Alice</b> — Grüße 😀</p></body></html>\n' >"$D/h.html"
	printf 'Hello Alice — Grüße 😀\n' >"$D/u8"
	head -c 20000 /dev/urandom >"$D/data.bin"
	BODY=$D/u8 pf_compose 0 -s "html" --html "$D/h.html" -a "$D/data.bin" alice@example.test
	postfix_wait_delivered 1
	f=$(postfix_one alice@example.test)
	delivered_ok "$f"
	[ "$(mc "$f" structure | head -n 2)" = "$(printf 'multipart/mixed\n  multipart/alternative')" ] ||
		die "not mixed(alternative(plain, html), attachment):" "$(mc "$f" structure)"
	mc "$f" body-text >"$D/got"
	cmp "$D/u8" "$D/got"
	mc "$f" html-text >"$D/got"
	cmp "$D/h.html" "$D/got"
	same_attachment "$D/data.bin" data.bin "$f"
}

@test "postfix mime: -c and -b are delivered; the Bcc recipient is in no header" {
	pf_compose 0 -s "copies" -c bob@example.test -b carol@example.test -a "$D/body" \
		alice@example.test
	postfix_wait_delivered 3
	for rcpt in alice@example.test bob@example.test carol@example.test; do
		f=$(postfix_one "$rcpt")
		delivered_ok "$f" || return 1
		mc_eq alice@example.test "$f" addresses To || return 1
		mc_eq bob@example.test "$f" addresses Cc || return 1
		if grep -qi 'carol' <(sed '/^$/q' "$f" | grep -v "^\(Delivered-To\|X-Original-To\|Received\|[ \t]\)"); then
			die "the Bcc recipient appears in a header of $rcpt's copy:" "$(sed '/^$/q' "$f")"
			return 1
		fi
	done
}

@test "postfix mime: -t -a from a script's own message" {
	printf 'From: Reporter <sender@client.test>\nTo: alice@example.test\nSubject: nightly — Bericht\nX-Script: report.sh\n\nAll jobs ran.\n' >"$D/in"
	printf 'log line\n' >"$D/log.txt"
	BODY=$D/in pf_compose 0 -t -a "$D/log.txt"
	postfix_wait_delivered 1
	f=$(postfix_one alice@example.test)
	# Not delivered_ok: the script's own Subject is raw UTF-8 and -t keeps
	# the script's header fields as they are, so no 7-bit check here.
	mc "$f" check --header-max 998 ||
		die "the delivered message fails the MIME checks:" "$(mc "$f" structure 2>&1)"
	mc_eq "nightly — Bericht" "$f" header Subject
	mc_eq "report.sh" "$f" header X-Script
	assert_equal "All jobs ran." "$(mc "$f" body-text)" "first part"
	same_attachment "$D/log.txt" log.txt "$f"
}

@test "postfix mime: an attachment over the server's size limit is refused (69), nothing delivered" {
	# The second listener has message_size_limit=$PF_SMALL_LIMIT (20000):
	# the exact SIZE= lets Postfix refuse at MAIL, before the upload.
	head -c 30000 /dev/urandom >"$D/r.bin"
	run_mailpost 69 --host 127.0.0.1 --port "$PF_SMALL_PORT" -C /dev/null \
		--domain client.test -f sender@client.test -s big -a "$D/r.bin" \
		alice@example.test <"$D/body"
	# Refused before DATA: nothing delivered, nothing queued (an accepted
	# message would be one or the other by now; see postfix_wait_queue_empty).
	[ "$(postfix_delivered | wc -l)" -eq 0 ] || die "something was delivered"
	[ "$(postfix_queue_count)" -eq 0 ] || die "something was queued"
	# 15000 bytes encode to ~20300: also over; 10000 to ~13600: delivered.
	head -c 10000 /dev/urandom >"$D/ok.bin"
	run_mailpost 0 --host 127.0.0.1 --port "$PF_SMALL_PORT" -C /dev/null \
		--domain client.test -f sender@client.test -s small -a "$D/ok.bin" \
		alice@example.test <"$D/body"
	postfix_wait_delivered 1
	f=$(postfix_one alice@example.test)
	same_attachment "$D/ok.bin" ok.bin "$f"
}
