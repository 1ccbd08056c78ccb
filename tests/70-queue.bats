#!/usr/bin/env bats
# 70-queue: never lose mail.  What mailpost accepted is delivered, in the
# queue, or (a permanent failure) in the dead letter file, and the exit code
# says which: the queue policy (never, on-failure, always), every kind of
# temporary failure, mailq/-bp, --queue-show and --queue-remove, the queue
# runner (-q, --flush, -qI/-qR/-qS: one connection per account, RSET between
# messages, backoff, give-up after queue_max_age), flush after a successful
# send, delivery exactly once, addresses byte for byte, priorities and
# MT-PRIORITY, failover and fallback_account, kill -9 during enqueue, a full
# disk, two runners at once, SIGTERM/SIGINT/SIGHUP during a send, and the
# safety of the queue directory.
#
# Against the scripted server tests/lib/smtpd.py on 127.0.0.1 (127.0.0.2
# and 127.0.0.3 only as hosts where nothing listens).  Time is moved with
# faketime(1), never by sleeping.

load lib/helpers

MSG_SIZE=${#MSG_SIMPLE_CRLF} # LC_ALL=C: bytes
ID_RE='[0-9a-f]{16}'

# j\u00f6rg and b\u00fccher.example (as in 48-intl).
ULOCAL=$'j\xc3\xb6rg'
UDOM=$'b\xc3\xbccher.example'

setup() {
	mailpost_setup
	MSG="$(make_message)"
	QDIR="$BATS_TEST_TMPDIR/queue"
	DEAD="$HOME/dead.letter"
	DOWN_PORT="$(unused_port)"
	KEPT_SMTPD_PIDS=()
	MNT=
}

teardown() {
	local pid
	for pid in "${KEPT_SMTPD_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${KEPT_SMTPD_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [[ -n "$MNT" ]] && mountpoint -q "$MNT"; then
		umount "$MNT" 2>/dev/null || umount -l "$MNT" || true
	fi
	mailpost_teardown
}

# --- helpers of this file ------------------------------------------------------

# queue_config PORT [LINE...]: the server 127.0.0.1 port PORT comes from the
# configuration (so the default policy is on-failure), the queue is $QDIR;
# the LINEs go into the defaults, which the account "default" inherits.
queue_config() {
	local port="$1"
	shift
	write_config "host 127.0.0.1" "port $port" "domain client.test" \
		"from alice@example.org" "queue_dir $QDIR" "$@" "account default"
}

# mp EXIT ARGS...: mailpost with the test configuration.
mp() {
	local want="$1"
	shift
	run_mailpost "$want" -C "$MAILPOST_CONF" "$@"
}

# at WHEN EXIT ARGS...: mp under faketime WHEN ('+2 days', an absolute date).
at() {
	local when="$1" wrapper="$BATS_TEST_TMPDIR/faketime-mailpost"
	shift
	# A sanitizer build insists on coming first in the preload list.
	printf '#!/bin/sh\nASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"\nexport ASAN_OPTIONS\nexec faketime %q %q "$@"\n' \
		"$when" "$MAILPOST" >"$wrapper"
	chmod +x "$wrapper"
	MAILPOST="$wrapper" mp "$@"
}

need_faketime() {
	command -v faketime >/dev/null ||
		skip "faketime is not installed (Debian package faketime): needed to move the clock"
	# It must work here, with this build (LD_PRELOAD may be refused).
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		faketime '+2 days' "$MAILPOST" --version >/dev/null 2>&1 ||
		skip "faketime does not work in this environment (with $MAILPOST)"
}

# assert_queued_as TEXT: stderr is exactly one line "mailpost: queued as
# ID: REASON" with REASON holding TEXT; sets QID.
assert_queued_as() {
	local re="^mailpost: queued as ($ID_RE): (.+)\$"
	assert_stderr_line_count 1 || return 1
	[[ "${stderr_lines[0]}" =~ $re ]] ||
		die "stderr is not 'mailpost: queued as ID: REASON':" "$stderr" || return 1
	QID="${BASH_REMATCH[1]}"
	[[ "${BASH_REMATCH[2]}" == *"$1"* ]] ||
		die "the reason does not contain '$1':" "$stderr"
}

# assert_stderr_line_re REGEX: some stderr line matches REGEX (ERE).
assert_stderr_line_re() {
	local line
	for line in "${stderr_lines[@]}"; do
		[[ "$line" =~ $1 ]] && return 0
	done
	die "no stderr line matches /$1/; stderr was:" "$stderr"
}

# ERE that matches TEXT literally.
re_quote() {
	printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'
}

# The ids mailq lists, one a line, in its order.
listed_ids() {
	local out
	out="$("$MAILPOST" -C "$MAILPOST_CONF" -bp)" || {
		echo "listed_ids: mailq failed" >&2
		return 1
	}
	printf '%s\n' "$out" | sed -nE "s/^($ID_RE) .*/\\1/p"
}

assert_listed() {
	local ids id
	ids="$(listed_ids)" || return 1
	for id in "$@"; do
		grep -qx -- "$id" <<<"$ids" ||
			die "$id is not listed by mailq; it lists:" "${ids:-(nothing)}" || return 1
	done
}

assert_not_listed() {
	local ids id
	ids="$(listed_ids)" || return 1
	for id in "$@"; do
		if grep -qx -- "$id" <<<"$ids"; then
			die "$id is still listed by mailq"
			return 1
		fi
	done
}

assert_queue_count() {
	local ids n
	ids="$(listed_ids)" || return 1
	n=$(grep -c . <<<"$ids" || true)
	assert_equal "$1" "$n" "number of entries mailq lists ($(tr '\n' ' ' <<<"$ids"))"
}

assert_queue_empty() {
	local out
	out="$("$MAILPOST" -C "$MAILPOST_CONF" -bp)" ||
		die "mailq failed" || return 1
	assert_equal "Mail queue is empty" "$out" "mailq"
}

# show ID: --queue-show ID into $BATS_TEST_TMPDIR/show.ID (exit 0 checked).
show() {
	local f="$BATS_TEST_TMPDIR/show.$1"
	"$MAILPOST" -C "$MAILPOST_CONF" --queue-show "$1" >"$f" ||
		die "--queue-show $1 failed" || return 1
	printf '%s\n' "$f"
}

# show_field ID KEY: the value of KEY in the envelope part of --queue-show.
show_field() {
	local f
	f="$(show "$1")" || return 1
	sed -n "/^\$/q; s/^$2: //p" "$f"
}

# A --queue-show time ("2026-01-01 00:00:00 UTC") in seconds.
show_epoch() {
	date -u -d "$1" +%s
}

# mailq_block ID: the lines of entry ID in the listing in $output.
mailq_block() {
	awk -v id="$1" '$1 == id { on = 1; print; next }
		/^-- / || ($1 ~ /^[0-9a-f]+$/ && length($1) == 16) { on = 0 }
		on' <<<"$output"
}

# assert_message_of N FILE: message N the server received is the CRLF form
# of FILE.
assert_message_of() {
	local want
	want="$(crlf_of "$2"; printf x)"
	assert_message "$1" "${want%x}"
}

# Complete messages the server received (msg.N files).
smtpd_message_count() {
	local n=0 f
	for f in "$SMTPD_DIR"/msg.*; do
		[[ "$f" =~ /msg\.[0-9]+$ ]] && n=$((n + 1))
	done
	echo "$n"
}

# Connections the server accepted.
smtpd_connection_count() {
	grep -cE '^\[ *[0-9.]+\] [0-9]+ \* connection [0-9]+ accepted$' "$SMTPD_DIR/log" || true
}

# The command verbs of connection N, space-separated.
smtpd_verbs() {
	awk -v n="$1" '$1 == n && $3 != ">" { v = v (v == "" ? "" : " ") toupper($3) } END { print v }' \
		"$SMTPD_DIR/commands"
}

# keep_smtpd NAME: remember the current server as NAME_DIR, NAME_PORT,
# NAME_PID (stopped in teardown), so that another one can be started;
# use_smtpd NAME makes it the current one again.
keep_smtpd() {
	printf -v "${1}_DIR" '%s' "$SMTPD_DIR"
	printf -v "${1}_PORT" '%s' "$SMTPD_PORT"
	printf -v "${1}_PID" '%s' "$SMTPD_PID"
	KEPT_SMTPD_PIDS+=("$SMTPD_PID")
}

use_smtpd() {
	local d="${1}_DIR" p="${1}_PORT" pid="${1}_PID"
	SMTPD_DIR="${!d}"
	SMTPD_PORT="${!p}"
	SMTPD_PID="${!pid}"
}

# numbered_message N [FILE]: a distinct message (Subject "message N").
numbered_message() {
	local file="${2:-$BATS_TEST_TMPDIR/msg.$1}"
	printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.net>\nSubject: message %s\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <%s@example.org>\n\nThis is message %s.\n' \
		"$1" "$1" "$1" >"$file"
	printf '%s\n' "$file"
}

# big_message FILE LINES: a complete message of LINES body lines of 76
# octets (27600 lines: 2 MiB).
big_message() {
	{
		printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.net>\nSubject: big\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <big@example.org>\n\n'
		awk -v n="$2" 'BEGIN { for (k = 1; k <= n; k++) printf "line %07d of a big message, long enough to fill megabytes quickly...\n", k }'
	} >"$1"
}

# The CRLF form of an LF file (what is queued and sent).
crlf_of() {
	sed 's/$/\r/' "$1"
}

# assert_dead_letter FILE SENDER MSGFILE...: FILE is mode 0600 and holds
# exactly these messages (LF files as given to mailpost), in mboxrd form:
# "From SENDER DATE" (asctime), the message with every /^>*From / line
# given one more '>', and an empty line.
assert_dead_letter() {
	local file="$1" sender="$2" m expected actual from_re
	shift 2
	[[ -f "$file" ]] || die "there is no dead letter file $file" || return 1
	assert_equal 600 "$(stat -c %a "$file")" "mode of $file" || return 1
	from_re="^From $(re_quote "$sender") (Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}\$"
	expected="$(for m in "$@"; do
		printf 'From %s DATE\n' "$sender"
		sed -E 's/^(>*From )/>\1/' "$m"
		printf '\n'
	done; printf x)"
	actual="$(sed -E "s/$from_re/From $(printf '%s' "$sender" | sed 's/[\/&]/\\&/g') DATE/" "$file"; printf x)"
	if [[ "$expected" != "$actual" ]]; then
		die "the dead letter file $file is not as expected (DATE stands for a valid asctime date; - expected, + actual):" \
			"$(show_diff "${expected%x}" "${actual%x}")"
	fi
}

# bg_mailpost ARGS...: mailpost with the test configuration in the
# background, stdin from $BG_INPUT (default $MSG), the signals it is sent
# at their default disposition (a background job ignores SIGINT); BG_PID.
bg_mailpost() {
	BG_OUT="$BATS_TEST_TMPDIR/bg.out"
	BG_ERR="$BATS_TEST_TMPDIR/bg.err"
	env --default-signal=INT,TERM,HUP "$MAILPOST" -C "$MAILPOST_CONF" "$@" \
		<"${BG_INPUT:-$MSG}" >"$BG_OUT" 2>"$BG_ERR" 3>&- &
	BG_PID=$!
}

# bg_wait: wait for it (at most 30 s); status, output, stderr, stderr_lines
# as with run.
bg_wait() {
	local k
	for ((k = 0; k < 300; k++)); do
		kill -0 "$BG_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$BG_PID" 2>/dev/null; then
		kill -KILL "$BG_PID" 2>/dev/null || true
		die "mailpost did not exit within 30 s"
		return 1
	fi
	status=0
	wait "$BG_PID" || status=$?
	output="$(cat "$BG_OUT")"
	stderr="$(cat "$BG_ERR")"
	mapfile -t stderr_lines <"$BG_ERR"
}

# --- the policy: temporary failures are queued ------------------------------------

@test "server down, server from the configuration: queued, exit 0, one line 'queued as ID: reason', listed" {
	queue_config "$DOWN_PORT"
	mp 0 bob@example.net <"$MSG"
	assert_queued_as "Connection refused"
	assert_equal "" "$output" "stdout"
	assert_listed "$QID"
	assert_equal 1 "$(show_field "$QID" Attempts)" "Attempts"
	assert_file_bytes "$QDIR/$QID/message" "$MSG_SIMPLE_CRLF" "the queued message"
}

@test "a temporary failure at every stage is queued: 4xx greeting, EHLO, MAIL, RCPT, DATA, dot; connection lost; timeout" {
	# One server, one connection per case (case N is connection N).
	local c what script text n=0 dot_conn=0 script_all=""
	local cases=(
		"421 greeting|on CONNECT 421 4.3.2 shutting down|421"
		"451 EHLO|on EHLO 451 4.3.0 local error|451"
		"451 MAIL|on MAIL 451 4.3.0 busy|451"
		"450 RCPT|on RCPT 450 4.2.1 mailbox busy|450"
		"451 DATA|on DATA 451 4.3.0 try again later|451"
		"452 dot|on DOT 452 4.3.1 insufficient storage|452"
		"lost at MAIL|on MAIL close|"
		"lost at DATA|on DATA close|"
		"timeout at MAIL|on MAIL\n  sleep 15\n  default|"
	)
	for c in "${cases[@]}"; do
		IFS='|' read -r what script text <<<"$c"
		n=$((n + 1))
		script_all+="connection $n"$'\n'"$(printf '%b' "$script")"$'\n'
	done
	start_smtpd "$script_all" -- --max-connections "${#cases[@]}"
	n=0
	for c in "${cases[@]}"; do
		IFS='|' read -r what script text <<<"$c"
		n=$((n + 1))
		[[ "$what" == *dot ]] && dot_conn=$n
		if [[ "$what" == timeout* ]]; then
			queue_config "$SMTPD_PORT" "timeout 3"
		else
			queue_config "$SMTPD_PORT"
		fi
		mp 0 bob@example.net <"$MSG" || die "(case: $what)" || return 1
		assert_queued_as "$text" || die "(case: $what)" || return 1
		assert_listed "$QID" || die "(case: $what)" || return 1
		assert_queue_count "$n" || die "(case: $what)" || return 1
		[[ ! -e "$DEAD" ]] || die "(case: $what) a queued message went to $DEAD too" || return 1
	done
	smtpd_finish
	assert_equal "${#cases[@]}" "$(smtpd_connection_count)" "connections (one per case)"
	# Only the case refused after the dot sent the terminator.
	for ((n = 1; n <= ${#cases[@]}; n++)); do
		((n == dot_conn)) && continue
		[[ ! -e "$SMTPD_DIR/conn.$n.received" ]] ||
			file_lacks "$SMTPD_DIR/conn.$n.received" $'\r\n.\r\n' "connection $n (${cases[n - 1]%%|*})" ||
			return 1
	done
	assert_equal 1 "$(smtpd_message_count)" "complete messages (only the one refused after the dot)"
}

@test "permanent failure: not queued, exit code from the table, saved to the dead letter file (mboxrd, 0600)" {
	local dl="$BATS_TEST_TMPDIR/dl.in"
	umask 000
	printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.net>\nSubject: dead\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <dead@example.org>\n\nFrom the start of a line.\n>From quoted once.\n>>From quoted twice.\nNot From here.\nFrom:no space\nFromage\nend\n' >"$dl"

	start_smtpd "on RCPT 550 5.1.1 <bob@example.net>: no such user"
	queue_config "$SMTPD_PORT"
	mp 67 bob@example.net <"$dl"
	assert_stderr_line_count 1
	assert_stderr_contains "550"
	[[ "$stderr" == *"; the message was saved to $DEAD" ]] ||
		die "stderr does not end with '; the message was saved to $DEAD':" "$stderr"
	assert_queue_empty
	assert_dead_letter "$DEAD" alice@example.org "$dl"

	# 554 after the dot: 69, appended after the first.
	start_smtpd "on DOT 554 5.6.0 message refused"
	queue_config "$SMTPD_PORT"
	mp 69 bob@example.net <"$MSG"
	assert_stderr_line_count 1
	assert_stderr_contains "554"
	[[ "$stderr" == *"; the message was saved to $DEAD" ]] ||
		die "stderr does not end with '; the message was saved to $DEAD':" "$stderr"
	assert_queue_empty
	assert_dead_letter "$DEAD" alice@example.org "$dl" "$MSG"
}

@test "dead_letter off (configuration or --dead-letter=off): a permanent failure leaves no file" {
	start_smtpd "on RCPT 550 5.1.1 <bob@example.net>: no such user"
	queue_config "$SMTPD_PORT" "dead_letter off"
	mp 67 bob@example.net <"$MSG"
	assert_stderr_lacks "saved to"
	[[ ! -e "$DEAD" ]] || die "dead_letter off, yet $DEAD was written"

	start_smtpd "on RCPT 550 5.1.1 <bob@example.net>: no such user"
	queue_config "$SMTPD_PORT"
	mp 67 --dead-letter=off bob@example.net <"$MSG"
	assert_stderr_lacks "saved to"
	[[ ! -e "$DEAD" ]] || die "--dead-letter=off, yet $DEAD was written"
	assert_queue_empty
}

@test "dead_letter PATH: the permanent failure goes there" {
	local path="$BATS_TEST_TMPDIR/undeliverable.mbox"
	start_smtpd "on DOT 554 5.6.0 message refused"
	queue_config "$SMTPD_PORT" "dead_letter $path"
	mp 69 bob@example.net <"$MSG"
	[[ "$stderr" == *"; the message was saved to $path" ]] ||
		die "stderr does not end with '; the message was saved to $path':" "$stderr"
	assert_dead_letter "$path" alice@example.org "$MSG"
	[[ ! -e "$DEAD" ]] || die "$DEAD was written although dead_letter names $path"
}

@test "--host on the command line: never queued, no dead letter by default (75); --queue=on-failure queues" {
	start_smtpd "on MAIL 451 4.3.0 busy" -- --max-connections 2
	queue_config "$SMTPD_PORT"
	run_send 75 bob@example.net <"$MSG"
	assert_stderr_contains "451"
	assert_stderr_lacks "queued"
	assert_stderr_lacks "saved to"
	[[ ! -e "$DEAD" ]] || die "--host: no dead letter file by default, yet $DEAD was written"
	assert_queue_empty

	run_send 0 --queue=on-failure bob@example.net <"$MSG"
	assert_queued_as "451"
	assert_listed "$QID"
}

@test "--queue=never (and 'queue never') with a temporary failure: 75, not queued, saved to the dead letter file" {
	queue_config "$DOWN_PORT"
	mp 75 --queue=never bob@example.net <"$MSG"
	assert_stderr_line_count 1
	assert_stderr_lacks "queued"
	[[ "$stderr" == *"; the message was saved to $DEAD" ]] ||
		die "stderr does not end with '; the message was saved to $DEAD':" "$stderr"
	assert_queue_empty
	assert_dead_letter "$DEAD" alice@example.org "$MSG"

	queue_config "$DOWN_PORT" "queue never"
	mp 75 bob@example.net <"$MSG"
	assert_stderr_lacks "queued"
	assert_queue_empty
	assert_dead_letter "$DEAD" alice@example.org "$MSG" "$MSG"
}

@test "--queue=always (and 'queue always'): exit 0, no connection at all, entry listed with no attempt" {
	local ids
	start_smtpd
	queue_config "$SMTPD_PORT"
	mp 0 --queue=always bob@example.net <"$MSG"
	queue_config "$SMTPD_PORT" "queue always"
	mp 0 carol@example.net <"$MSG"
	smtpd_finish
	assert_equal 0 "$(smtpd_connection_count)" "connections the server accepted"
	assert_queue_count 2
	ids="$(listed_ids)"
	for QID in $ids; do
		assert_equal 0 "$(show_field "$QID" Attempts)" "Attempts of $QID"
		assert_equal "" "$(show_field "$QID" Last-Error)" "Last-Error of $QID"
	done
}

# --- mailq, --queue-show, --queue-remove ----------------------------------------------

@test "mailq: 'Mail queue is empty' without a queue directory and with an empty one; as the program mailq too" {
	queue_config "$DOWN_PORT"
	mp 0 -bp
	assert_equal "Mail queue is empty" "$output" "mailq without a queue directory"
	ln -s "$MAILPOST" "$BATS_TEST_TMPDIR/mailq"
	MAILPOST="$BATS_TEST_TMPDIR/mailq" mp 0
	assert_equal "Mail queue is empty" "$output" "mailq (the program name)"

	mp 0 --queue=always bob@example.net <"$MSG"
	QID="$(listed_ids)"
	MAILPOST="$BATS_TEST_TMPDIR/mailq" mp 0
	assert_output_contains "$QID"
	mp 0 --queue-remove "$QID"
	mp 0 -bp
	assert_equal "Mail queue is empty" "$output" "mailq with an empty queue"
}

@test "mailq: header line, one block per entry (id, size, age, priority, attempts, sender, recipients, last error), total" {
	local a b block
	queue_config "$DOWN_PORT"
	mp 0 bob@example.net <"$MSG"
	assert_queued_as "Connection refused"
	a="$QID"
	mp 0 --queue=always bob@example.net carol@example.net <"$MSG"
	b="$(listed_ids | grep -vx "$a")"

	mp 0 -bp
	[[ "${lines[0]}" =~ ^Queue\ ID\ +Size\ +Age\ +Pri\ +Att\ +Sender/Recipient/Last\ error$ ]] ||
		die "the header line is '${lines[0]}'" || return 1
	[[ "${lines[${#lines[@]} - 1]}" == "-- 2 messages, $((2 * MSG_SIZE)) bytes" ]] ||
		die "the total line is '${lines[${#lines[@]} - 1]}'" || return 1
	assert_equal 8 "${#lines[@]}" "number of lines of the listing" || die "$output" || return 1

	block="$(mailq_block "$a")"
	[[ "$block" =~ ^$a\ +$MSG_SIZE\ +[0-9]+s\ +0\ +1\ +\<alice@example\.org\>$'\n'\ +\<bob@example\.net\>$'\n'\ +\(cannot\ connect\ to\ 127\.0\.0\.1\ port\ $DOWN_PORT:\ Connection\ refused\)$ ]] ||
		die "the block of $a is not as expected:" "$block" "listing:" "$output" || return 1
	block="$(mailq_block "$b")"
	[[ "$block" =~ ^$b\ +$MSG_SIZE\ +[0-9]+s\ +0\ +0\ +\<alice@example\.org\>$'\n'\ +\<bob@example\.net\>$'\n'\ +\<carol@example\.net\>$ ]] ||
		die "the block of $b is not as expected:" "$block" "listing:" "$output" || return 1
}

@test "--queue-show: 'Key: value' envelope, an empty line, then the message exactly (CRLF)" {
	local f keys now queued last next
	queue_config "$DOWN_PORT"
	mp 0 bob@example.net carol@example.net <"$MSG"
	assert_queued_as "Connection refused"
	now=$(date +%s)
	f="$(show "$QID")"
	keys="$(sed -n '/^$/q; s/: .*//p' "$f" | tr '\n' ' ')"
	assert_equal "Id Account Sender Recipient Recipient Priority Size Queued Attempts Last-Attempt Next-Attempt Last-Error " \
		"$keys" "the envelope keys, in order"
	assert_equal "$QID" "$(show_field "$QID" Id)" "Id"
	assert_equal "<alice@example.org>" "$(show_field "$QID" Sender)" "Sender"
	assert_equal $'<bob@example.net>\n<carol@example.net>' "$(show_field "$QID" Recipient)" "Recipient"
	assert_equal 0 "$(show_field "$QID" Priority)" "Priority"
	assert_equal "$MSG_SIZE" "$(show_field "$QID" Size)" "Size"
	assert_equal 1 "$(show_field "$QID" Attempts)" "Attempts"
	assert_equal "cannot connect to 127.0.0.1 port $DOWN_PORT: Connection refused" \
		"$(show_field "$QID" Last-Error)" "Last-Error"
	queued="$(show_field "$QID" Queued)"
	[[ "$queued" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9]{2}:[0-9]{2}:[0-9]{2}\ UTC$ ]] ||
		die "Queued: '$queued' is not 'YYYY-MM-DD HH:MM:SS UTC'" || return 1
	queued=$(show_epoch "$queued")
	((queued <= now && queued >= now - 60)) || die "Queued is $queued, now is $now" || return 1
	last=$(show_epoch "$(show_field "$QID" Last-Attempt)")
	next=$(show_epoch "$(show_field "$QID" Next-Attempt)")
	assert_equal 60 $((next - last)) "Next-Attempt - Last-Attempt (default queue_backoff 60s)"
	sed '1,/^$/d' "$f" >"$BATS_TEST_TMPDIR/shown"
	assert_file_bytes "$BATS_TEST_TMPDIR/shown" "$MSG_SIMPLE_CRLF" "the message --queue-show printed"
}

@test "--queue-remove ID removes the entry (0); an unknown or malformed id is 64" {
	queue_config "$DOWN_PORT"
	mp 0 --queue=always bob@example.net <"$MSG"
	QID="$(listed_ids)"
	mp 0 --queue-remove "$QID"
	assert_queue_empty
	[[ ! -e "$QDIR/$QID" ]] || die "$QDIR/$QID is still there"
	mp 64 --queue-remove "$QID"
	assert_stderr_contains "$QID"
	mp 64 --queue-show "$QID"
	mp 64 --queue-remove 0123456789abcdef
	mp 64 --queue-remove not-an-id
}

# --- the queue runner -----------------------------------------------------------------

@test "-q sends what is due over one connection, RSET between messages, and removes what was delivered" {
	local n seq
	queue_config "$DOWN_PORT" "queue_backoff 0"
	for n in 1 2 3; do
		mp 0 "rcpt$n@example.net" <"$(numbered_message "$n")"
		assert_queued_as "Connection refused"
	done
	start_smtpd -- --max-connections 3
	queue_config "$SMTPD_PORT" "queue_backoff 0"
	mp 0 -q
	assert_equal "" "$output" "stdout"
	assert_equal "" "$stderr" "stderr"
	assert_queue_empty
	smtpd_finish
	assert_equal 1 "$(smtpd_connection_count)" "connections"
	assert_equal 3 "$(smtpd_message_count)" "messages received"
	seq="$(smtpd_verbs 1 | tr ' ' '\n' | grep -xE 'MAIL|RSET' | tr '\n' ' ')"
	[[ "$seq" =~ ^MAIL\ RSET\ MAIL\ RSET\ MAIL\ (RSET\ )?$ ]] ||
		die "expected RSET between the MAIL transactions of one connection; commands:" \
			"$(cat "$SMTPD_DIR/commands")" || return 1
	for n in 1 2 3; do
		grep -qx "RCPT TO:<rcpt$n@example.net>" "$SMTPD_DIR"/env.* ||
			die "rcpt$n was not delivered" || return 1
	done
	assert_no_problems
}

@test "-q and --flush with an empty or missing queue: exit 0, nothing printed" {
	queue_config "$DOWN_PORT"
	mp 0 -q
	assert_equal "" "$output$stderr" "output"
	mp 0 --flush
	assert_equal "" "$output$stderr" "output"
	mp 0 --queue=always bob@example.net <"$MSG"
	mp 0 --queue-remove "$(listed_ids)"
	mp 0 -q
	assert_equal "" "$output$stderr" "output"
}

@test "-q and --flush right after a failed send deliver at once: every entry, no back-off; -v names each" {
	local c n
	queue_config "$DOWN_PORT"
	mp 0 bob@example.net <"$(numbered_message 1)"
	assert_queued_as "Connection refused"
	mp 0 carol@example.net <"$(numbered_message 2)"
	assert_queued_as "Connection refused"
	# Still down: -v names each deferral (the next attempt moves on).
	mp 0 -v -q
	assert_stderr_line_re "^mailpost: $QID: deferred: .*Connection refused\$"
	assert_equal 2 "$(grep -c ': deferred: ' <<<"$stderr")" "deferrals named"
	start_smtpd -- --max-connections 2
	queue_config "$SMTPD_PORT"
	mp 0 -q
	assert_equal "" "$output$stderr" "output"
	assert_queue_empty
	queue_config "$DOWN_PORT"
	mp 0 dave@example.net <"$(numbered_message 3)"
	assert_queued_as "Connection refused"
	c="$QID"
	queue_config "$SMTPD_PORT"
	mp 0 -v --flush
	assert_stderr_contains "mailpost: $c: delivered"
	assert_queue_empty
	smtpd_finish
	assert_equal 2 "$(smtpd_connection_count)" "connections"
	assert_equal 3 "$(smtpd_message_count)" "messages"
	# 1 and 2 were queued in the same second: either order.
	for n in 1 2 3; do
		grep -qx $'Subject: message '"$n"$'\r' "$SMTPD_DIR"/msg.[0-9]* ||
			die "message $n was not received" || return 1
	done
	assert_message_of 3 "$BATS_TEST_TMPDIR/msg.3"
}

@test "-q --due and --flush --due leave what is not due (-v says so), send it once due (faketime); --due alone is 64" {
	need_faketime
	queue_config "$DOWN_PORT"
	mp 0 bob@example.net <"$MSG"
	assert_queued_as "Connection refused"
	start_smtpd -- --max-connections 2
	queue_config "$SMTPD_PORT"
	mp 0 -q --due
	assert_equal "" "$output$stderr" "output of -q --due"
	assert_listed "$QID"
	at '+30 seconds' 0 -v --flush --due
	assert_stderr_line_re "^mailpost: $QID: not due: next attempt in [0-9]+s \\(1 attempt so far\\)\$"
	assert_listed "$QID"
	at '+2 minutes' 0 --flush --due
	assert_equal "" "$stderr" "stderr"
	assert_queue_empty
	smtpd_finish
	assert_equal 1 "$(smtpd_connection_count)" "connections"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	mp 64 --due bob@example.net <"$MSG"
	assert_stderr_contains "--due cannot be given with -bm; it goes with -q or --flush"
	mp 64 -bp --due
	assert_stderr_contains "--due cannot be given with -bp"
}

@test "-q --due: an entry queued while the clock ran days ahead is due at once, not after days (faketime)" {
	need_faketime
	queue_config "$DOWN_PORT"
	at '+10 days' 0 bob@example.net <"$MSG"
	assert_queued_as "Connection refused"
	start_smtpd
	queue_config "$SMTPD_PORT"
	mp 0 -q --due
	assert_equal "" "$stderr" "stderr"
	assert_queue_empty
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "-q --due leaves entries that are not due; -qR, -qS, -qI send the selected ones whatever their next attempt" {
	local bob carol zoe
	queue_config "$DOWN_PORT"
	mp 0 bob@example.net <"$(numbered_message 1)"
	assert_queued_as ""
	bob="$QID"
	mp 0 carol@example.net <"$(numbered_message 2)"
	assert_queued_as ""
	carol="$QID"
	mp 0 -f zoe@example.com dave@example.net <"$(numbered_message 3)"
	assert_queued_as ""
	zoe="$QID"

	start_smtpd -- --max-connections 4
	queue_config "$SMTPD_PORT"
	mp 0 -q --due # nothing is due for 60 s
	assert_queue_count 3
	mp 0 -qR nobody@
	assert_queue_count 3
	mp 0 -qR carol@
	assert_not_listed "$carol"
	assert_listed "$bob" "$zoe"
	mp 0 -qS zoe@
	assert_not_listed "$zoe"
	assert_listed "$bob"
	mp 0 -qI "${bob:8}"
	assert_queue_empty
	smtpd_finish
	assert_equal 3 "$(smtpd_connection_count)" "connections"
	assert_equal 3 "$(smtpd_message_count)" "messages"
	grep -qx 'RCPT TO:<carol@example.net>' "$SMTPD_DIR/env.1" || die "message 1 is not carol's:" "$(cat "$SMTPD_DIR/env.1")"
	grep -q '^MAIL FROM:<zoe@example.com>' "$SMTPD_DIR/env.2" || die "message 2 is not zoe's:" "$(cat "$SMTPD_DIR/env.2")"
	grep -qx 'RCPT TO:<bob@example.net>' "$SMTPD_DIR/env.3" || die "message 3 is not bob's:" "$(cat "$SMTPD_DIR/env.3")"
}

@test "flush, temporary failure: the entry stays, attempts + 1, last error replaced, next attempt doubled up to 4 hours" {
	local k want last next error
	queue_config "$DOWN_PORT"
	mp 0 bob@example.net <"$MSG"
	assert_queued_as "Connection refused"
	start_smtpd "on MAIL 451 4.3.0 busy" -- --max-connections 8
	queue_config "$SMTPD_PORT"
	want=(60 120 240 480 960 1920 3840 7680 14400)
	for ((k = 0; k < 9; k++)); do
		if ((k > 0)); then
			mp 0 -qI "$QID"
			assert_listed "$QID" || return 1
		fi
		assert_equal $((k + 1)) "$(show_field "$QID" Attempts)" "Attempts" || return 1
		error="$(show_field "$QID" Last-Error)"
		if ((k == 0)); then
			[[ "$error" == *"Connection refused"* ]] || die "Last-Error: $error" || return 1
		else
			[[ "$error" == *"451 4.3.0 busy"* ]] || die "Last-Error after attempt $((k + 1)): $error" || return 1
		fi
		last=$(show_epoch "$(show_field "$QID" Last-Attempt)")
		next=$(show_epoch "$(show_field "$QID" Next-Attempt)")
		# Within a few seconds: a run may date the next attempt from
		# its start.
		((next - last <= want[k] && next - last >= want[k] - 5)) ||
			die "the delay after attempt $((k + 1)) is $((next - last)) s, expected ${want[k]} s" || return 1
	done
	assert_file_bytes "$QDIR/$QID/message" "$MSG_SIMPLE_CRLF" "the queued message"
	smtpd_finish
	assert_equal 8 "$(smtpd_connection_count)" "connections"
	assert_equal 0 "$(smtpd_message_count)" "messages"
}

@test "flush --due, backoff: not retried before its next attempt, retried after it (faketime)" {
	need_faketime
	queue_config "$DOWN_PORT"
	mp 0 bob@example.net <"$MSG"
	assert_queued_as "Connection refused"
	start_smtpd -- --max-connections 2
	queue_config "$SMTPD_PORT"
	at '+30 seconds' 0 -q --due
	assert_listed "$QID"
	at '+2 minutes' 0 -q --due
	assert_queue_empty
	smtpd_finish
	assert_equal 1 "$(smtpd_connection_count)" "connections"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "flush, permanent failures: dead letter, removed, a notice per entry, exit code of the worst (67 over 69)" {
	local a b
	queue_config "$DOWN_PORT"
	mp 0 --queue=always bob@example.net <"$(numbered_message 1)"
	a="$(listed_ids)"
	start_smtpd "on DOT 554 5.6.0 message refused"
	queue_config "$SMTPD_PORT"
	mp 69 -q
	assert_stderr_line_re "^mailpost: $a: .*554.*; the message was saved to $(re_quote "$DEAD")\$"
	assert_queue_empty
	assert_dead_letter "$DEAD" alice@example.org "$BATS_TEST_TMPDIR/msg.1"

	rm -f "$DEAD"
	queue_config "$DOWN_PORT"
	mp 0 --queue=always bob@example.net <"$(numbered_message 2)"
	mp 0 --queue=always bob@example.net <"$(numbered_message 3)"
	read -r a b <<<"$(listed_ids | tr '\n' ' ')"
	# Whichever goes first is refused at RCPT, the other after the dot.
	start_smtpd $'on RCPT#1 550 5.1.1 <bob@example.net>: no such user\non DOT#1 554 5.6.0 message refused'
	queue_config "$SMTPD_PORT"
	mp 67 -q
	assert_stderr_line_re "^mailpost: $a: .*(550|554).*; the message was saved to $(re_quote "$DEAD")\$"
	assert_stderr_line_re "^mailpost: $b: .*(550|554).*; the message was saved to $(re_quote "$DEAD")\$"
	assert_stderr_contains "550"
	assert_stderr_contains "554"
	assert_queue_empty
	grep -q '^Subject: message 2$' "$DEAD" && grep -q '^Subject: message 3$' "$DEAD" ||
		die "the dead letter file lacks one of the messages:" "$(cat "$DEAD")"
	assert_equal 2 "$(grep -c '^From alice@example.org ' "$DEAD")" "messages in the dead letter file"
}

@test "flush: entries older than queue_max_age are given up: dead letter, removed, 'gave up after N attempts' (faketime)" {
	need_faketime
	queue_config "$DOWN_PORT"
	mp 0 bob@example.net <"$MSG"
	assert_queued_as "Connection refused"
	# 4 days: under the default 5 days, still tried (and deferred).
	at '+4 days' 0 -q
	assert_equal "" "$stderr" "stderr"
	assert_listed "$QID"
	assert_equal 2 "$(show_field "$QID" Attempts)" "Attempts"
	# 6 days: given up.  The run's exit code is 75: the message was not
	# delivered.
	at '+6 days' 75 -q
	assert_stderr_line_re "^mailpost: $QID: gave up after 2 attempts.*; the message was saved to $(re_quote "$DEAD")\$"
	assert_queue_empty
	assert_dead_letter "$DEAD" alice@example.org "$MSG"

	# queue_max_age from the configuration; a timer's run (--due) gives
	# up too.
	rm -f "$DEAD"
	queue_config "$DOWN_PORT" "queue_max_age 1h"
	mp 0 bob@example.net <"$MSG"
	assert_queued_as "Connection refused"
	at '+50 minutes' 0 -q --due
	assert_listed "$QID"
	at '+2 hours' 75 -q --due
	assert_stderr_line_re "^mailpost: $QID: gave up after 2 attempts.*; the message was saved to $(re_quote "$DEAD")\$"
	assert_queue_empty
	assert_dead_letter "$DEAD" alice@example.org "$MSG"
}

@test "a message queued from a configuration without account sections is flushed" {
	# Only "defaults": the most common test configuration.
	write_config "host 127.0.0.1" "port $DOWN_PORT" "domain client.test" \
		"from alice@example.org" "queue_dir $QDIR" "queue_backoff 0"
	mp 0 bob@example.net <"$MSG"
	assert_queued_as "Connection refused"
	start_smtpd
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" \
		"from alice@example.org" "queue_dir $QDIR" "queue_backoff 0"
	mp 0 -q
	assert_equal "" "$stderr" "stderr"
	assert_queue_empty
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

# --- after a successful send ------------------------------------------------------------

@test "after a successful send, older entries of the account that are due are flushed too (queue_flush_after_send on; faketime)" {
	need_faketime
	queue_config "$DOWN_PORT"
	mp 0 bob@example.net <"$(numbered_message 1)"
	assert_queued_as "Connection refused"
	start_smtpd -- --max-connections 3
	queue_config "$SMTPD_PORT"
	# Not due yet: an unattended run keeps to the back-off schedule.
	mp 0 -v carol@example.net <"$(numbered_message 2)"
	assert_stderr_contains "mailpost: $QID: not due: next attempt in"
	assert_listed "$QID"
	at '+2 minutes' 0 dave@example.net <"$(numbered_message 3)"
	assert_equal "" "$stderr" "stderr"
	assert_queue_empty
	smtpd_finish
	assert_equal 3 "$(smtpd_message_count)" "messages"
	assert_message_of 1 "$BATS_TEST_TMPDIR/msg.2"
	assert_message_of 2 "$BATS_TEST_TMPDIR/msg.3"
	assert_message_of 3 "$BATS_TEST_TMPDIR/msg.1"
}

@test "queue_flush_after_send off: the older entry stays queued" {
	queue_config "$DOWN_PORT" "queue_flush_after_send off"
	mp 0 bob@example.net <"$(numbered_message 1)"
	assert_queued_as "Connection refused"
	start_smtpd -- --max-connections 2
	queue_config "$SMTPD_PORT" "queue_flush_after_send off"
	mp 0 carol@example.net <"$(numbered_message 2)"
	assert_listed "$QID"
	assert_queue_count 1
	smtpd_finish
	assert_equal 1 "$(smtpd_message_count)" "messages"
}

# --- exactly once -------------------------------------------------------------------------

@test "exactly once: queued while the server is down, --flush delivers it once (queue_backoff 0), a second -q sends nothing" {
	queue_config "$DOWN_PORT" "queue_backoff 0"
	mp 0 bob@example.net <"$MSG"
	assert_queued_as "Connection refused"
	start_smtpd -- --max-connections 2
	queue_config "$SMTPD_PORT" "queue_backoff 0"
	mp 0 --flush
	assert_queue_empty
	mp 0 -q
	assert_equal "" "$output$stderr" "output of the second run"
	smtpd_finish
	assert_equal 1 "$(smtpd_connection_count)" "connections"
	assert_equal 1 "$(smtpd_message_count)" "messages"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_no_problems
}

@test "connection closed right after the final dot: queued ('status unknown'); a later flush delivers it and removes it" {
	start_smtpd $'connection 1\non DOT close' -- --max-connections 2
	queue_config "$SMTPD_PORT"
	mp 0 bob@example.net <"$MSG"
	assert_queued_as "status unknown"
	assert_listed "$QID"
	mp 0 -qI "$QID"
	assert_equal "" "$stderr" "stderr"
	assert_queue_empty
	smtpd_finish
	# The server may have kept the first copy: at least once, here twice.
	assert_equal 2 "$(smtpd_message_count)" "complete messages received"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_message 2 "$MSG_SIMPLE_CRLF"
}

# --- addresses and priorities ----------------------------------------------------------

@test "addresses with spaces, quotes, a leading '-' and UTF-8 survive queue and flush byte for byte" {
	local in="$BATS_TEST_TMPDIR/intl" sender='"john smith"@example.org' want_rcpts mail
	local rcpts=('"a\"b c"@example.org' '-dash@example.org' "$ULOCAL@$UDOM" '"x y"@example.net')
	printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.net>\nSubject: queued\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <intl@example.org>\n\nGr\xc3\xbc\xc3\x9fe, \xe2\x82\xac 5.\n.dot line\n' >"$in"
	queue_config "$DOWN_PORT"
	mp 0 --queue=always -f "$sender" -- "${rcpts[@]}" <"$in"
	QID="$(listed_ids)"
	start_smtpd "caps PIPELINING, SIZE 10240000, 8BITMIME, ENHANCEDSTATUSCODES, SMTPUTF8" -- --max-connections 2
	queue_config "$SMTPD_PORT"
	mp 0 -q
	assert_queue_empty
	# The same message sent directly, for comparison.
	mp 0 -f "$sender" -- "${rcpts[@]}" <"$in"
	smtpd_finish
	want_rcpts="$(printf 'RCPT TO:<%s>\n' "${rcpts[@]}"; printf x)"
	[[ "$(tail -n +2 "$SMTPD_DIR/env.1"; printf x)" == "$want_rcpts" ]] ||
		die "the RCPT commands after the queue are not the addresses given:" "$(cat "$SMTPD_DIR/env.1")" || return 1
	mail="$(head -n 1 "$SMTPD_DIR/env.1")"
	[[ "$mail" == "MAIL FROM:<$sender>" || "$mail" == "MAIL FROM:<$sender> "* ]] ||
		die "MAIL after the queue: '$mail'" || return 1
	cmp -s "$SMTPD_DIR/env.1" "$SMTPD_DIR/env.2" ||
		die "the envelope after the queue differs from the one sent directly:" \
			"$(show_diff "$(cat "$SMTPD_DIR/env.2")" "$(cat "$SMTPD_DIR/env.1")")"
	assert_message_of 1 "$in"
	assert_message_of 2 "$in"
	assert_no_problems
}

@test "DSN asked for, queued, then flushed to a server without DSN: it goes, and a notice says so" {
	queue_config "$DOWN_PORT"
	mp 0 --queue=always -N failure bob@example.net <<<"body"
	start_smtpd "caps PIPELINING, SIZE 10240000"
	queue_config "$SMTPD_PORT"
	mp 0 -q
	assert_queue_empty
	assert_stderr_contains ": 127.0.0.1 does not offer DSN (RFC 3461): the message went without the delivery notifications asked for"
	smtpd_finish
	grep -qx 'RCPT TO:<bob@example.net>' "$SMTPD_DIR/env.1" ||
		die "RCPT after the queue:" "$(cat "$SMTPD_DIR/env.1")" || return 1
	assert_no_problems
}

@test "DSN parameters survive queue and flush: the same MAIL and RCPT as a direct send" {
	local dsn=(-N SUCCESS,DELAY -R HDRS -V queued+id=1)
	queue_config "$DOWN_PORT"
	mp 0 --queue=always "${dsn[@]}" bob@example.net carol@example.net <<<"body"
	start_smtpd -- --max-connections 2
	queue_config "$SMTPD_PORT"
	mp 0 -q
	assert_queue_empty
	# The same message sent directly, for comparison.
	mp 0 "${dsn[@]}" bob@example.net carol@example.net <<<"body"
	smtpd_finish
	grep -qE '^MAIL FROM:<[^>]*>.* RET=HDRS ENVID=queued\+2Bid\+3D1( |$)' "$SMTPD_DIR/env.1" ||
		die "MAIL after the queue: $(head -n 1 "$SMTPD_DIR/env.1")" || return 1
	grep -qx 'RCPT TO:<carol@example.net> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;carol@example.net' "$SMTPD_DIR/env.1" ||
		die "RCPT after the queue:" "$(cat "$SMTPD_DIR/env.1")" || return 1
	cmp -s "$SMTPD_DIR/env.1" "$SMTPD_DIR/env.2" ||
		die "the envelope after the queue differs from the one sent directly:" \
			"$(show_diff "$(cat "$SMTPD_DIR/env.2")" "$(cat "$SMTPD_DIR/env.1")")"
	assert_no_problems
}

@test "priority: high entries are flushed before normal ones whatever their age; MT-PRIORITY=4 / -4 when offered" {
	queue_config "$DOWN_PORT"
	if command -v faketime >/dev/null &&
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
			faketime '+1 day' "$MAILPOST" --version >/dev/null 2>&1; then
		at '10 minutes ago' 0 --queue=always -s normal normal@example.net <<<"body"
	else
		mp 0 --queue=always -s normal normal@example.net <<<"body"
	fi
	mp 0 --queue=always -s low --priority low low@example.net <<<"body"
	mp 0 --queue=always -s high --priority high high@example.net <<<"body"
	start_smtpd "caps PIPELINING, SIZE 10240000, 8BITMIME, ENHANCEDSTATUSCODES, MT-PRIORITY"
	queue_config "$SMTPD_PORT"
	mp 0 -q
	assert_queue_empty
	smtpd_finish
	assert_equal 3 "$(smtpd_message_count)" "messages"
	grep -qx 'RCPT TO:<high@example.net>' "$SMTPD_DIR/env.1" || die "the first message is not the high one:" "$(cat "$SMTPD_DIR"/env.*)" || return 1
	grep -qx 'RCPT TO:<normal@example.net>' "$SMTPD_DIR/env.2" || die "the second message is not the normal one:" "$(cat "$SMTPD_DIR"/env.*)" || return 1
	grep -qx 'RCPT TO:<low@example.net>' "$SMTPD_DIR/env.3" || die "the third message is not the low one:" "$(cat "$SMTPD_DIR"/env.*)" || return 1
	grep -qE '^MAIL FROM:<[^>]*>.* MT-PRIORITY=4( |$)' "$SMTPD_DIR/env.1" || die "high: $(head -n 1 "$SMTPD_DIR/env.1")" || return 1
	if grep -q 'MT-PRIORITY' "$SMTPD_DIR/env.2"; then die "normal: $(head -n 1 "$SMTPD_DIR/env.2")"; return 1; fi
	grep -qE '^MAIL FROM:<[^>]*>.* MT-PRIORITY=-4( |$)' "$SMTPD_DIR/env.3" || die "low: $(head -n 1 "$SMTPD_DIR/env.3")" || return 1
	assert_no_problems

	# Without the capability: no parameter.
	mp 0 --queue=always -s high --priority high high@example.net <<<"body"
	mp 0 --queue=always -s low --priority low low@example.net <<<"body"
	start_smtpd
	queue_config "$SMTPD_PORT"
	mp 0 -q
	assert_queue_empty
	assert_received_lacks "MT-PRIORITY"
	grep -qx 'RCPT TO:<high@example.net>' "$SMTPD_DIR/env.1" || die "the first message is not the high one"
	assert_no_problems
}

# --- failover ------------------------------------------------------------------------------

@test "failover: the first host refuses, the next one takes the message in the same run; nothing queued" {
	start_smtpd
	write_config "host 127.0.0.2, 127.0.0.1" "port $SMTPD_PORT" "domain client.test" \
		"from alice@example.org" "queue_dir $QDIR" "account default"
	mp 0 bob@example.net <"$MSG"
	assert_stderr_lacks "queued"
	assert_queue_empty
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

# failover_config A-PORT B-PORT [LINE...]: account "main" on 127.0.0.1
# A-PORT, with fallback_account "backup" on 127.0.0.1 B-PORT.
failover_config() {
	local a="$1" b="$2"
	shift 2
	write_config "domain client.test" "from alice@example.org" "queue_dir $QDIR" "$@" \
		"account backup" "host 127.0.0.1" "port $b" \
		"account main" "host 127.0.0.1" "port $a" "fallback_account backup" \
		"account default : main"
}

@test "failover: a 4xx greeting on the first server fails over (fallback_account)" {
	start_smtpd "on CONNECT 421 4.3.2 too busy"
	keep_smtpd A
	start_smtpd
	keep_smtpd B
	failover_config "$A_PORT" "$B_PORT"
	mp 0 bob@example.net <"$MSG"
	assert_stderr_lacks "queued"
	assert_queue_empty
	assert_message 1 "$MSG_SIMPLE_CRLF"
	use_smtpd A
	smtpd_finish
	assert_equal 1 "$(smtpd_connection_count)" "connections to the first server"
}

@test "failover: a 5xx does not fail over (67, dead letter, the second server never contacted)" {
	start_smtpd "on RCPT 550 5.1.1 <bob@example.net>: no such user"
	keep_smtpd A
	start_smtpd
	keep_smtpd B
	failover_config "$A_PORT" "$B_PORT"
	mp 67 bob@example.net <"$MSG"
	assert_queue_empty
	assert_dead_letter "$DEAD" alice@example.org "$MSG"
	smtpd_finish
	assert_equal 0 "$(smtpd_connection_count)" "connections to the second server"
}

@test "failover: connection lost after the final dot does not fail over; the message is queued instead" {
	start_smtpd "on DOT close"
	keep_smtpd A
	start_smtpd
	keep_smtpd B
	failover_config "$A_PORT" "$B_PORT"
	mp 0 bob@example.net <"$MSG"
	assert_queued_as "status unknown"
	assert_listed "$QID"
	smtpd_finish
	assert_equal 0 "$(smtpd_connection_count)" "connections to the second server"
	use_smtpd A
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "failover: fallback_account is used after every host of the account failed" {
	start_smtpd
	write_config "domain client.test" "from alice@example.org" "queue_dir $QDIR" \
		"account backup" "host 127.0.0.1" "port $SMTPD_PORT" \
		"account main" "host 127.0.0.2, 127.0.0.3" "port $DOWN_PORT" "fallback_account backup" \
		"account default : main"
	mp 0 bob@example.net <"$MSG"
	assert_stderr_lacks "queued"
	assert_queue_empty
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "failover: after failover_timeout no further server is tried; the message is queued" {
	start_smtpd $'on CONNECT\n  sleep 4\n  reply 421 4.3.2 slow and busy'
	keep_smtpd A
	start_smtpd
	keep_smtpd B
	failover_config "$A_PORT" "$B_PORT" "failover_timeout 1" "timeout 10"
	mp 0 bob@example.net <"$MSG"
	assert_queued_as ""
	assert_listed "$QID"
	smtpd_finish
	assert_equal 0 "$(smtpd_connection_count)" "connections to the fallback server"
}

# --- crashes, full disks, concurrency -----------------------------------------------------

@test "kill -9 at random moments during enqueue (200 times): only complete entries are listed and flushed" {
	local big="$BATS_TEST_TMPDIR/big" expected="$BATS_TEST_TMPDIR/big.crlf"
	local n pid t0 t1 ms max_ms ids id name keep
	big_message "$big" 27600
	crlf_of "$big" >"$expected"
	queue_config "$DOWN_PORT"
	# Three uninterrupted enqueues: complete entries, and how long one
	# takes (the quickest).
	max_ms=1000000
	for n in 1 2 3; do
		t0=$(date +%s%N)
		"$MAILPOST" -C "$MAILPOST_CONF" --queue=always bob@example.net <"$big" ||
			die "an uninterrupted enqueue failed" || return 1
		t1=$(date +%s%N)
		(((t1 - t0) / 1000000 < max_ms)) && max_ms=$(((t1 - t0) / 1000000))
	done
	# Kill within 0-30 ms, or within the time an enqueue takes here when
	# that is longer (a slow machine, a sanitizer build), at most 150 ms.
	((max_ms < 30)) && max_ms=30
	((max_ms > 150)) && max_ms=150
	# The delay: a read that times out on a FIFO nobody writes to (a
	# `sleep` process per kill would add its own start-up time).
	mkfifo "$BATS_TEST_TMPDIR/never"
	exec {never}<>"$BATS_TEST_TMPDIR/never"
	for ((n = 0; n < 200; n++)); do
		"$MAILPOST" -C "$MAILPOST_CONF" --queue=always bob@example.net <"$big" >/dev/null 2>&1 3>&- &
		pid=$!
		ms=$((RANDOM % (max_ms + 1)))
		read -r -t "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))" -u "$never" _ || true
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	exec {never}>&-

	ids="$(listed_ids)"
	[[ -n "$ids" ]] || die "not even the uninterrupted entries are listed" || return 1
	while IFS= read -r name; do
		[[ "$name" == tmp ]] && continue
		[[ "$name" =~ ^$ID_RE$ ]] ||
			die "$QDIR holds '$name', which is neither tmp nor an id" || return 1
		grep -qx "$name" <<<"$ids" ||
			die "$QDIR/$name is an entry that mailq does not list:" "$(ls -la "$QDIR/$name")" || return 1
	done < <(find "$QDIR" -mindepth 1 -maxdepth 1 -printf '%f\n')
	# Every listed entry: --queue-show says Size: SIZE and prints exactly
	# the input after its envelope (one process for all, not five each).
	# shellcheck disable=SC2086
	"$SMTPD_PYTHON" - "$MAILPOST" "$MAILPOST_CONF" "$expected" $ids <<-'EOF'
		import subprocess, sys
		mailpost, conf, want_path, *ids = sys.argv[1:]
		want = open(want_path, "rb").read()
		bad = []
		for i in ids:
		    out = subprocess.run([mailpost, "-C", conf, "--queue-show", i],
		                         stdout=subprocess.PIPE).stdout
		    env, sep, msg = out.partition(b"\n\n")
		    sizes = [l for l in env.split(b"\n") if l.startswith(b"Size: ")]
		    if not sep or sizes != [b"Size: %d" % len(want)] or msg != want:
		        bad.append("%s: %s, message of %d octets (want %d)" % (
		            i, sizes, len(msg), len(want)))
		if bad:
		    sys.exit("listed entries that are not the complete input:\n" +
		             "\n".join(bad))
	EOF
	echo "# $(wc -l <<<"$ids") complete entries after 200 kills (kill within 0-$max_ms ms)" >&3

	# A flush sends only complete messages.  The test server is slow with
	# 2 MB messages: keep two of the (checked) entries, whatever tmp/ holds.
	keep="$(head -n 2 <<<"$ids")"
	for id in $ids; do
		grep -qx "$id" <<<"$keep" || rm -rf "${QDIR:?}/$id"
	done
	start_smtpd -- --max-connections 1 --idle-timeout 60
	queue_config "$SMTPD_PORT"
	mp 0 -q
	assert_queue_empty
	smtpd_finish
	assert_equal "$(wc -l <<<"$keep")" "$(smtpd_message_count)" "messages the flush sent"
	for n in $(seq 1 "$(smtpd_message_count)"); do
		cmp -s "$SMTPD_DIR/msg.$n" "$expected" || die "message $n the flush sent is not the complete input" || return 1
	done
}

# small_queue_fs: $QDIR on a 1 MB tmpfs mounted at $MNT (unmounted in
# teardown); the test is skipped where that cannot be done.
small_queue_fs() {
	[[ $(id -u) -eq 0 ]] || skip "mounting a tmpfs needs root"
	MNT="$BATS_TEST_TMPDIR/full"
	mkdir "$MNT"
	mount -t tmpfs -o size=1m,mode=0700 tmpfs "$MNT" 2>/dev/null || {
		MNT=
		skip "cannot mount a tmpfs here"
	}
	QDIR="$MNT/queue"
}

@test "disk full (a 1 MB tmpfs as the queue): 74, 'No space left on device', not queued, nothing left behind" {
	small_queue_fs
	big_message "$BATS_TEST_TMPDIR/big" 41400 # 3 MB
	queue_config "$DOWN_PORT"
	mp 74 --queue=always bob@example.net <"$BATS_TEST_TMPDIR/big"
	assert_stderr_contains "No space left on device"
	assert_stderr_lacks "queued as"
	assert_queue_empty
	[[ ! -e "$QDIR/tmp" || -z "$(ls -A "$QDIR/tmp")" ]] ||
		die "$QDIR/tmp is not empty:" "$(ls -laR "$QDIR/tmp")" || return 1
	[[ -z "$(find "$QDIR" -mindepth 1 -maxdepth 1 ! -name tmp)" ]] ||
		die "$QDIR holds more than tmp/:" "$(ls -la "$QDIR")" || return 1
	# Nothing lost: the message went to the dead letter file instead.
	assert_stderr_contains "; the message was saved to $DEAD"
	assert_dead_letter "$DEAD" alice@example.org "$BATS_TEST_TMPDIR/big"
}

@test "disk full during a flush: the entry's update fails, it stays as it was, -q names it and exits 74" {
	local id
	small_queue_fs
	queue_config "$DOWN_PORT"
	mp 0 --queue=always bob@example.net <"$MSG"
	id="$(listed_ids)"
	dd if=/dev/zero of="$MNT/fill" bs=64k 2>/dev/null || true
	mp 74 -q
	assert_stderr_contains "mailpost: $id: cannot update queue entry $id: No space left on device"
	assert_stderr_contains "mailpost: 1 change to the queue failed (see above); check the disk and the queue directory $QDIR"
	assert_listed "$id"
	assert_equal 0 "$(show_field "$id" Attempts)" "Attempts (the envelope as it was)"
	rm "$MNT/fill"
	mp 0 -q
	assert_equal 1 "$(show_field "$id" Attempts)" "Attempts"
}

@test "file size limit (ulimit -f 1024) hit while queueing: 74, 'File too large', not queued, nothing left behind" {
	# The body (spooled apart from the header block) stays under the 1 MiB
	# limit, the queued message (header + body, CRLF) goes over it: the
	# limit is hit in the queue, not while reading the input.  mailpost must
	# not die of SIGXFSZ (exit 153) but see EFBIG.
	local big="$BATS_TEST_TMPDIR/big"
	{
		printf 'From: Alice <alice@example.org>\nTo: Bob <bob@example.net>\nSubject: big\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <big@example.org>\n\n'
		awk 'BEGIN { for (k = 1; k <= 13796; k++) printf "%074d\n", k; printf "%028d\n", 0 }'
	} >"$big" # body: 1048526 octets with CRLF; message: 1048672
	queue_config "$DOWN_PORT"
	run --separate-stderr timeout 30 bash -c 'ulimit -f 1024 && exec "$@"' ulimit-f \
		"$MAILPOST" -C "$MAILPOST_CONF" --queue=always bob@example.net <"$big"
	[[ "$status" -eq 74 ]] ||
		die "exit code $status, expected 74 (153 is death by SIGXFSZ); stderr:" "$stderr" || return 1
	assert_stderr_contains "File too large"
	assert_stderr_lacks "queued as"
	assert_queue_empty
	[[ ! -e "$QDIR/tmp" || -z "$(ls -A "$QDIR/tmp")" ]] ||
		die "$QDIR/tmp is not empty:" "$(ls -laR "$QDIR/tmp")" || return 1
	[[ ! -e "$QDIR" || -z "$(find "$QDIR" -mindepth 1 -maxdepth 1 ! -name tmp)" ]] ||
		die "$QDIR holds more than tmp/:" "$(ls -la "$QDIR")" || return 1
	# The mbox form (LF) is under the limit: nothing lost.
	assert_stderr_contains "; the message was saved to $DEAD"
	assert_dead_letter "$DEAD" alice@example.org "$big"
}

@test "two runners at once over 100 entries: every message delivered exactly once" {
	local n pid1 pid2 st1=0 st2=0 subjects
	queue_config "$DOWN_PORT"
	# Enqueued four at a time (the fsyncs dominate).
	for ((n = 1; n <= 100; n++)); do
		numbered_message "$n" >/dev/null
		"$MAILPOST" -C "$MAILPOST_CONF" --queue=always bob@example.net \
			<"$BATS_TEST_TMPDIR/msg.$n" 3>&- &
		((n % 4 == 0)) && wait
	done
	wait
	assert_queue_count 100
	start_smtpd -- --max-connections 50 --idle-timeout 60
	queue_config "$SMTPD_PORT"
	timeout 120 "$MAILPOST" -C "$MAILPOST_CONF" -q >"$BATS_TEST_TMPDIR/q1.out" 2>"$BATS_TEST_TMPDIR/q1.err" 3>&- &
	pid1=$!
	timeout 120 "$MAILPOST" -C "$MAILPOST_CONF" -q >"$BATS_TEST_TMPDIR/q2.out" 2>"$BATS_TEST_TMPDIR/q2.err" 3>&- &
	pid2=$!
	wait "$pid1" || st1=$?
	wait "$pid2" || st2=$?
	assert_equal "0 0" "$st1 $st2" "exit codes of the two runners (stderr: $(cat "$BATS_TEST_TMPDIR"/q?.err))"
	assert_queue_empty
	smtpd_finish
	subjects="$(cat "$SMTPD_DIR"/msg.* | grep '^Subject: message ' || true)"
	assert_equal 100 "$(grep -c . <<<"$subjects")" "messages received (total)"
	assert_equal 100 "$(sort -u <<<"$subjects" | grep -c .)" "distinct messages received"
}

# --- signals ------------------------------------------------------------------------------

@test "SIGTERM, SIGINT, SIGHUP during a send: 75, 'interrupted by SIG...: queued as ID', no final dot, entry listed" {
	local sig re
	for sig in TERM INT HUP; do
		start_smtpd $'on DATA\n  sleep 20\n  default' || return 1
		queue_config "$SMTPD_PORT"
		bg_mailpost bob@example.net
		wait_for_text "$SMTPD_DIR/log" "sleeping" || return 1
		kill -"$sig" "$BG_PID"
		bg_wait || return 1
		[[ "$status" -eq 75 ]] || die "SIG$sig: exit code $status, expected 75; stderr:" "$stderr" || return 1
		re="^mailpost: interrupted by SIG$sig: queued as ($ID_RE)\$"
		assert_stderr_line_count 1 || die "(SIG$sig)" || return 1
		[[ "${stderr_lines[0]}" =~ $re ]] ||
			die "SIG$sig: stderr is not 'mailpost: interrupted by SIG$sig: queued as ID':" "$stderr" || return 1
		QID="${BASH_REMATCH[1]}"
		assert_listed "$QID" || die "(SIG$sig)" || return 1
		assert_file_bytes "$QDIR/$QID/message" "$MSG_SIMPLE_CRLF" "the queued message (SIG$sig)" || return 1
		assert_received_lacks $'\r\n.\r\n' || die "(SIG$sig)" || return 1
		assert_no_message || die "(SIG$sig)" || return 1
	done
}

@test "SIGTERM during a send with --queue=never: 75, the message in the dead letter file" {
	local path="$BATS_TEST_TMPDIR/dead.mbox"
	start_smtpd $'on DATA\n  sleep 20\n  default'
	queue_config "$SMTPD_PORT" "dead_letter $path"
	bg_mailpost --queue=never bob@example.net
	wait_for_text "$SMTPD_DIR/log" "sleeping"
	kill -TERM "$BG_PID"
	bg_wait
	[[ "$status" -eq 75 ]] || die "exit code $status, expected 75; stderr:" "$stderr" || return 1
	assert_stderr_contains "interrupted by SIGTERM"
	assert_stderr_contains "; the message was saved to $path"
	assert_stderr_lacks "queued"
	assert_dead_letter "$path" alice@example.org "$MSG"
	assert_queue_empty
	assert_no_message
}

@test "a signal while waiting for the reply to the final dot: the reply decides; delivered (0), nothing queued" {
	start_smtpd $'on DOT\n  sleep 5\n  reply 250 2.0.0 accepted at last'
	queue_config "$SMTPD_PORT"
	bg_mailpost bob@example.net
	wait_for_text "$SMTPD_DIR/log" "sleeping"
	kill -TERM "$BG_PID"
	bg_wait
	[[ "$status" -eq 0 ]] || die "exit code $status, expected 0; stderr:" "$stderr" || return 1
	assert_stderr_lacks "queued"
	assert_queue_empty
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

# --- the queue directory -----------------------------------------------------------------

@test "a queue_dir that is a symbolic link is refused (78, 'symbolic link')" {
	mkdir -m 700 "$BATS_TEST_TMPDIR/real"
	ln -s real "$BATS_TEST_TMPDIR/link"
	QDIR="$BATS_TEST_TMPDIR/link"
	queue_config "$DOWN_PORT" "dead_letter off"
	mp 78 --queue=always bob@example.net <"$MSG"
	assert_stderr_contains "symbolic link"
	assert_stderr_lacks "queued as"
	mp 78 -bp
	assert_stderr_contains "symbolic link"
	mp 78 -q
	assert_stderr_contains "symbolic link"
	[[ -z "$(ls -A "$BATS_TEST_TMPDIR/real")" ]] ||
		die "something was written through the link:" "$(ls -laR "$BATS_TEST_TMPDIR/real")"
}

@test "the queue directory is created 0700 (missing parents too), entries 0700, their files 0600, whatever the umask" {
	local f
	umask 000
	QDIR="$BATS_TEST_TMPDIR/state/mailpost/queue"
	queue_config "$DOWN_PORT"
	mp 0 bob@example.net <"$MSG"
	assert_queued_as "Connection refused"
	assert_equal 700 "$(stat -c %a "$BATS_TEST_TMPDIR/state")" "mode of a created parent"
	assert_equal 700 "$(stat -c %a "$BATS_TEST_TMPDIR/state/mailpost")" "mode of a created parent"
	assert_equal 700 "$(stat -c %a "$QDIR")" "mode of the queue directory"
	assert_equal 700 "$(stat -c %a "$QDIR/$QID")" "mode of the entry $QID"
	for f in "$QDIR/$QID"/*; do
		assert_equal 600 "$(stat -c %a "$f")" "mode of $f" || return 1
	done
}

# --- what a flush and a send must not get wrong ------------------------------------------

@test "a server that ends the session after each message: the flush reconnects, nothing is deferred" {
	local n
	queue_config "$DOWN_PORT" "queue_backoff 0"
	for n in 1 2 3; do
		mp 0 "rcpt$n@example.net" <"$(numbered_message "$n")"
		assert_queued_as "Connection refused"
	done
	start_smtpd $'on DOT\n  default\n  close' -- --max-connections 5
	queue_config "$SMTPD_PORT" "queue_backoff 0"
	mp 0 -q
	assert_equal "" "$stderr" "stderr"
	assert_queue_empty
	smtpd_finish
	assert_equal 3 "$(smtpd_message_count)" "messages received"
	assert_equal 3 "$(smtpd_connection_count)" "connections (one per message)"
}

@test "an entry whose account is gone from the configuration is kept, whatever its age, and -q says so (78; faketime)" {
	local id
	need_faketime
	write_config "domain client.test" "from alice@example.org" "queue_dir $QDIR" \
		"account work" "host 127.0.0.1" "port $DOWN_PORT"
	mp 0 -A work --queue=always bob@example.net <"$MSG"
	id="$(ls "$QDIR" | grep -vx tmp)"
	write_config "domain client.test" "from alice@example.org" "queue_dir $QDIR" \
		"account office" "host 127.0.0.1" "port $DOWN_PORT" "account default : office"
	at '+10 days' 78 -q
	assert_stderr_line_re "^mailpost: $id: account 'work' not found in .*; kept in the queue until that is fixed\$"
	assert_stderr_contains "mailpost: 1 queued message cannot be sent with the configuration as it is; fix it, or remove it with mailpost --queue-remove ID"
	[[ "$(listed_ids | wc -l)" -eq 1 ]] || die "the entry is gone:" "$stderr" || return 1
	[[ ! -e "$DEAD" ]] || die "it was given up:" "$(cat "$DEAD")" || return 1
	mp 0 -bp
	assert_output_contains "work"
}

@test "-q: a session refused for good (wrong password) keeps the entry and says so on every run (77); once fixed it goes" {
	local auth=("auth on" "user alice" "auth_plaintext on")
	queue_config "$DOWN_PORT" "${auth[@]}" "password wrong"
	mp 0 bob@example.net <"$MSG"
	assert_queued_as "Connection refused"
	start_smtpd $'caps AUTH PLAIN, PIPELINING\nuser alice right' -- --max-connections 3
	queue_config "$SMTPD_PORT" "${auth[@]}" "password wrong"
	mp 77 -q
	assert_stderr_line_re "^mailpost: $QID: deferred: authentication as alice with PLAIN at 127\\.0\\.0\\.1 \\(account default\\) failed: 535 5\\.7\\.8"
	assert_stderr_contains "mailpost: 1 queued message could not be sent and stays in the queue; fix what is said above (the account's settings or the server's), then run mailpost -q"
	assert_listed "$QID"
	assert_equal 2 "$(show_field "$QID" Attempts)" "Attempts"
	[[ ! -e "$DEAD" ]] || die "it was given up:" "$(cat "$DEAD")" || return 1
	# Not only once: every run that meets it says it.
	mp 77 --flush
	assert_stderr_contains "mailpost: $QID: deferred: authentication as alice with PLAIN at 127.0.0.1 (account default) failed: 535 5.7.8"
	queue_config "$SMTPD_PORT" "${auth[@]}" "password right"
	mp 0 -q
	assert_equal "" "$stderr" "stderr"
	assert_queue_empty
	smtpd_finish
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "failover: the first server is down, the fallback refuses (5xx): queued for later, both named" {
	start_smtpd "on RCPT 550 5.7.1 <bob@example.net>: relaying denied"
	failover_config "$DOWN_PORT" "$SMTPD_PORT"
	mp 0 bob@example.net <"$MSG"
	assert_queued_as "Connection refused"
	assert_stderr_contains "relaying denied"
	assert_listed "$QID"
	[[ ! -e "$DEAD" ]] || die "a dead letter was written" || return 1
}

@test "SIGHUP ignored by the caller (nohup) does not stop a send" {
	start_smtpd $'on DATA\n  sleep 2\n  default'
	queue_config "$SMTPD_PORT"
	BG_OUT="$BATS_TEST_TMPDIR/bg.out"
	BG_ERR="$BATS_TEST_TMPDIR/bg.err"
	env --ignore-signal=HUP "$MAILPOST" -C "$MAILPOST_CONF" bob@example.net \
		<"$MSG" >"$BG_OUT" 2>"$BG_ERR" 3>&- &
	BG_PID=$!
	wait_for_text "$SMTPD_DIR/log" "sleeping"
	kill -HUP "$BG_PID"
	bg_wait
	[[ "$status" -eq 0 ]] || die "exit code $status, expected 0; stderr:" "$stderr" || return 1
	assert_stderr_lacks "interrupted"
	assert_queue_empty
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "--queue with one-off TLS or AUTH options is refused (64); those options alone mean no queue" {
	queue_config "$DOWN_PORT"
	mp 64 --queue=always --tls-certcheck=off bob@example.net <"$MSG"
	assert_stderr_contains "--queue"
	assert_queue_empty
	mp 75 --auth=off bob@example.net <"$MSG"
	assert_stderr_lacks "queued"
	assert_queue_empty
}

@test "an entry whose envelope cannot be read: mailq shows it as damaged, -q names it and exits 74, it stays" {
	local id
	queue_config "$DOWN_PORT"
	mp 0 --queue=always bob@example.net <"$MSG"
	id="$(listed_ids)"
	sed -i 's/^version: 1$/version: 9/' "$QDIR/$id/envelope"
	mp 0 -bp
	assert_output_contains "Damaged entries, never sent"
	assert_output_contains "  $id: "
	mp 74 -q
	assert_stderr_contains "mailpost: $id: "
	assert_stderr_contains "left in the queue, never sent"
	assert_stderr_contains "1 queued entry is damaged and never sent (see mailq); remove it with mailpost --queue-remove ID"
	[[ -f "$QDIR/$id/message" ]] || die "the damaged entry was removed" || return 1
}

# damage KIND ID: make queue entry ID unusable in the way KIND names.
damage() {
	local d="$QDIR/$2"
	case "$1" in
	symlink) # to a file of the very same bytes: only the link is wrong
		cp "$d/message" "$BATS_TEST_TMPDIR/same-bytes"
		ln -sf "$BATS_TEST_TMPDIR/same-bytes" "$d/message" ;;
	longer) printf 'X' >>"$d/message" ;;
	truncated) truncate -s 20 "$d/message" ;;
	missing) rm "$d/message" ;;
	directory) rm "$d/message" && mkdir "$d/message" && touch "$d/message/x" ;;
	owner) chown 65534 "$d/message" ;;
	no-rcpt) sed -i '/^rcpt: /d' "$d/envelope" ;;
	entry-symlink) mv "$d" "$BATS_TEST_TMPDIR/moved" && ln -s "$BATS_TEST_TMPDIR/moved" "$d" ;;
	*) die "damage: unknown kind $1" ;;
	esac
}

# check_damaged KIND REASON: beside a healthy entry, an entry damaged as
# KIND (@SIZE@ in REASON: its message's size before, @SIZE+1@ one more)
# is shown as damaged by mailq (REASON) and --queue-show (74), makes
# every -q exit 74 while the healthy one is delivered, and goes with
# --queue-remove (which never follows a link).
check_damaged() {
	local kind="$1" reason="$2" good bad size
	start_smtpd -- --max-connections 2
	queue_config "$SMTPD_PORT"
	mp 0 --queue=always bob@example.net <"$(numbered_message 1)"
	good="$(ls "$QDIR" | grep -vx tmp)"
	mp 0 --queue=always carol@example.net <"$(numbered_message 2)"
	bad="$(ls "$QDIR" | grep -vx -e tmp -e "$good")"
	size="$(stat -c %s "$QDIR/$bad/message")"
	reason="${reason//@SIZE@/$size}"
	reason="${reason//@SIZE+1@/$((size + 1))}"
	damage "$kind" "$bad" || return 1

	mp 0 -bp
	assert_output_contains "Damaged entries, never sent"
	assert_output_contains "  $bad: $reason"
	grep -q "^$good " <<<"$output" && ! grep -q "^$bad " <<<"$output" ||
		die "mailq should list $good only, as usual:" "$output" || return 1

	mp 74 --queue-show "$bad"
	assert_output_contains $'Id: '"$bad"$'\nDamaged: '"$reason"
	# What can be read is shown; a link is never followed.
	case "$kind" in
	symlink | entry-symlink | missing | directory)
		assert_output_lacks "This is message 2." ;;
	truncated) assert_output_contains $'\n\nFrom: Alice <alice@e' ;;
	*) assert_output_contains $'\n\nFrom: Alice <alice@example.org>\r\n' ;;
	esac
	assert_stderr_contains "mailpost: queue entry $bad is damaged and never sent: $reason"
	assert_stderr_contains "; remove it with mailpost --queue-remove $bad"

	mp 74 -q
	assert_stderr_contains "mailpost: $bad: $reason; left in the queue, never sent: look at it with mailpost --queue-show $bad, remove it with --queue-remove"
	assert_stderr_contains "mailpost: 1 queued entry is damaged and never sent"
	# Every run says it again.
	mp 74 -q --due
	assert_stderr_contains "mailpost: $bad: $reason"

	mp 0 --queue-remove "$bad"
	assert_queue_empty
	[[ -z "$(ls -A "$QDIR/tmp")" ]] || die "left under tmp/:" "$(ls -lA "$QDIR/tmp")" || return 1
	if [[ "$kind" == symlink ]]; then
		[[ -f "$BATS_TEST_TMPDIR/same-bytes" ]] || die "the link's target was removed" || return 1
	fi
	if [[ "$kind" == entry-symlink ]]; then
		[[ -f "$BATS_TEST_TMPDIR/moved/message" ]] || die "the link's target was removed" || return 1
	fi
	smtpd_finish
	assert_equal 1 "$(smtpd_message_count)" "messages (the healthy one)"
	assert_message_of 1 "$BATS_TEST_TMPDIR/msg.1"
}

@test "damaged: the flush after a successful send names the entry and what to do with it (exit 0, the message goes)" {
	local bad
	start_smtpd
	queue_config "$SMTPD_PORT"
	mp 0 --queue=always carol@example.net <"$(numbered_message 2)"
	bad="$(listed_ids)"
	damage missing "$bad"
	mp 0 bob@example.net <"$MSG"
	assert_stderr_contains "mailpost: $bad: its message file is missing; left in the queue, never sent: look at it with mailpost --queue-show $bad, remove it with --queue-remove"
	smtpd_finish
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "damaged: a message file that is a symbolic link (never followed)" {
	check_damaged symlink "its message file is a symbolic link"
}

@test "damaged: a message file longer than the envelope says" {
	check_damaged longer "its message file has @SIZE+1@ bytes, its envelope says @SIZE@"
}

@test "damaged: a truncated message file" {
	check_damaged truncated "its message file has 20 bytes, its envelope says @SIZE@"
}

@test "damaged: the message file missing, the envelope present" {
	check_damaged missing "its message file is missing"
}

@test "damaged: a directory in place of the message file" {
	check_damaged directory "its message file is not a regular file"
}

@test "damaged: a message file of another owner" {
	[[ "$(id -u)" -eq 0 ]] || skip "chown needs root"
	check_damaged owner "its message file belongs to uid 65534, not to you (uid 0)"
}

@test "damaged: an envelope without recipients" {
	check_damaged no-rcpt 'bad envelope: no "rcpt" line'
}

@test "damaged: a symbolic link in the queue named like an entry (never followed)" {
	check_damaged entry-symlink "it is a symbolic link, not a directory"
}

@test "rcpt_policy any: a recipient refused for now (450) is queued on its own; the others get the message once" {
	start_smtpd "on RCPT#2 450 4.2.1 <carol@example.net>: mailbox busy" -- --max-connections 5
	queue_config "$SMTPD_PORT" "rcpt_policy any" "queue_backoff 0"
	mp 0 bob@example.net carol@example.net <"$MSG"
	assert_queued_as "mailbox busy"
	mp 0 --queue-show "$QID"
	assert_output_contains "Recipient: <carol@example.net>"
	assert_output_lacks "Recipient: <bob@example.net>"
	mp 0 -q
	assert_queue_empty
	smtpd_finish
	assert_equal 2 "$(smtpd_message_count)" "messages received (bob, then carol)"
	grep -qx 'RCPT TO:<bob@example.net>' "$SMTPD_DIR/env.1" &&
		grep -qx 'RCPT TO:<carol@example.net>' "$SMTPD_DIR/env.2" &&
		! grep -q 'bob' "$SMTPD_DIR/env.2" ||
		die "envelopes:" "$(cat "$SMTPD_DIR"/env.*)"
}

@test "flush, rcpt_policy any: the recipient refused for now stays queued alone, the others are done" {
	queue_config "$DOWN_PORT" "rcpt_policy any" "queue_backoff 0"
	mp 0 bob@example.net carol@example.net <"$MSG"
	assert_queued_as "Connection refused"
	start_smtpd "on RCPT#2 450 4.2.1 <carol@example.net>: mailbox busy" -- --max-connections 5
	queue_config "$SMTPD_PORT" "rcpt_policy any" "queue_backoff 0"
	mp 0 -q
	assert_stderr_contains "queued as"
	[[ "$(listed_ids | wc -l)" -eq 1 ]] || die "expected one entry left" || return 1
	QID="$(listed_ids)"
	mp 0 --queue-show "$QID"
	assert_output_contains "Recipient: <carol@example.net>"
	assert_output_lacks "Recipient: <bob@example.net>"
	assert_output_contains "Attempts: 2"
}

@test "queue never, rcpt_policy any: a recipient refused for now (450) is saved to the dead letter file and named (75); the others get it once" {
	start_smtpd "on RCPT#2 450 4.2.1 <carol@example.net>: mailbox busy"
	queue_config "$SMTPD_PORT" "rcpt_policy any" "queue never"
	mp 75 bob@example.net carol@example.net <"$MSG"
	assert_stderr_line_count 1
	assert_stderr_contains "mailpost: 1 recipient refused: <carol@example.net> (450 4.2.1 <carol@example.net>: mailbox busy); the message was sent to the others; the 1 refused for now are not queued (queue never); saved to $DEAD for carol@example.net"
	assert_dead_letter "$DEAD" alice@example.org "$MSG"
	assert_queue_empty
	smtpd_finish
	assert_equal 1 "$(smtpd_message_count)" "messages received"
	assert_message_of 1 "$MSG"
}

@test "queue never, LMTP: a recipient refused for now after the dot (452) is saved to the dead letter file and named (75)" {
	start_smtpd "on LMTP#2 452 4.2.2 <carol@example.net>: mailbox full"
	queue_config "$SMTPD_PORT" "protocol lmtp" "queue never"
	mp 75 bob@example.net carol@example.net <"$MSG"
	assert_stderr_line_count 1
	assert_stderr_contains "mailpost: message refused for 1 of 2 recipients: <carol@example.net> (452 4.2.2 <carol@example.net>: mailbox full); delivered to the others; the 1 refused for now are not queued (queue never); saved to $DEAD for carol@example.net"
	assert_dead_letter "$DEAD" alice@example.org "$MSG"
	assert_queue_empty
}

@test "queue never, dead_letter off: the recipients refused for now are named as kept nowhere (75)" {
	start_smtpd "on RCPT#2 450 4.2.1 <carol@example.net>: mailbox busy"
	queue_config "$SMTPD_PORT" "rcpt_policy any" "queue never" "dead_letter off"
	mp 75 bob@example.net carol@example.net <"$MSG"
	assert_stderr_contains "the 1 refused for now are not queued (queue never) and there is no dead letter file: nothing was kept for carol@example.net"
	[[ ! -e "$DEAD" ]] || die "a dead letter file was written"
}

@test "LMTP cut between the replies after the dot: only the recipient without a reply is queued; the flush gives it to that one alone" {
	start_smtpd - -- --max-connections 5 <<-'EOF2'
		connection 1
		on LMTP#2 close
	EOF2
	queue_config "$SMTPD_PORT" "protocol lmtp" "queue_backoff 0"
	mp 0 bob@example.net carol@example.net <"$MSG"
	assert_queued_as "connection lost after the end of data: delivery status unknown"
	assert_stderr_contains "for 1 of 2 recipients: <carol@example.net>; delivered to the others"
	assert_queue_count 1
	mp 0 --queue-show "$QID"
	assert_output_contains "Recipient: <carol@example.net>"
	assert_output_lacks "Recipient: <bob@example.net>"
	mp 0 -q
	assert_queue_empty
	smtpd_finish
	assert_equal 2 "$(smtpd_message_count)" "messages received (bob and carol, then carol)"
	grep -qx 'RCPT TO:<carol@example.net>' "$SMTPD_DIR/env.2" &&
		! grep -q 'bob' "$SMTPD_DIR/env.2" ||
		die "the second delivery was not for carol alone:" "$(cat "$SMTPD_DIR"/env.*)"
}

@test "flush, LMTP cut between the replies after the dot: the entry narrows to the recipient without a reply, the next flush gives it to that one alone" {
	queue_config "$DOWN_PORT" "protocol lmtp" "queue_backoff 0"
	mp 0 bob@example.net carol@example.net dave@example.net <"$MSG"
	assert_queued_as "Connection refused"
	start_smtpd - -- --max-connections 5 <<-'EOF2'
		connection 1
		on LMTP#2 close
	EOF2
	queue_config "$SMTPD_PORT" "protocol lmtp" "queue_backoff 0"
	mp 0 -q
	assert_stderr_contains "for 2 of 3 recipients: <carol@example.net>, <dave@example.net>"
	assert_queue_count 1
	QID="$(listed_ids)"
	mp 0 --queue-show "$QID"
	assert_output_contains "Recipient: <carol@example.net>"
	assert_output_contains "Recipient: <dave@example.net>"
	assert_output_lacks "Recipient: <bob@example.net>"
	mp 0 -q
	assert_queue_empty
	smtpd_finish
	assert_equal 2 "$(smtpd_message_count)" "messages received"
	! grep -q 'bob' "$SMTPD_DIR/env.2" ||
		die "bob got the message again:" "$(cat "$SMTPD_DIR"/env.*)"
}
