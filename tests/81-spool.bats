#!/usr/bin/env bats
# 81-spool: root's side of the machine's spool (queue.c's queue_open_shared,
# flush.c, mailq.c): every user's entries flushed by root, a given-up
# entry's dead letter written as its owner or kept in the spool's dead/,
# mailq as root with owners and dead letters.
#
# The build's tests/mailpost-spooltest is the program with the group
# "mailposttest" compiled in and its system configuration in
# $MAILPOST_SPOOLTEST_ETC (Makefile.am), so that the system configuration's
# queue is the machine's spool, here a 2770 directory in the test's own
# temporary directory.  Run as root (who never holds the group): entries are
# queued by root with --queue always and given to a user with chown, as the
# spool helper would have written them.  Needs root and useradd.

load lib/helpers

GROUP=mailposttest

# add_user NAME HOME: a user with its own group and that home (not made).
add_user() {
	useradd -M -U -d "$2" -s /bin/sh "$1"
}

setup_file() {
	[[ "$(id -u)" == 0 ]] || skip "needs root (other users' entries)"
	command -v useradd >/dev/null || skip "needs useradd"
	[[ -x "$MAILPOST_SPOOLTEST" ]] || skip "tests/mailpost-spooltest not built"
	groupadd -f "$GROUP"
	SPOOLTOP="$(mktemp -d /tmp/mailpost-spool.XXXXXX)"
	chmod 755 "$SPOOLTOP"
	# Short, unique per run (a name is at most 32 characters).
	export HOMED="mps$$h" HOMELESS="mps$$n" SPOOLTOP
	add_user "$HOMED" "$SPOOLTOP/home/$HOMED"
	add_user "$HOMELESS" "$SPOOLTOP/home/$HOMELESS"
	ETC="$MAILPOST_SPOOLTEST_ETC"
	rm -rf "$ETC"
	mkdir -m 755 "$ETC"
	export ETC
}

teardown_file() {
	# userdel refuses a user with a process left (a case's lock holder).
	[[ -n "${HOMED:-}" ]] && { pkill -KILL -u "$HOMED"; userdel "$HOMED"; } 2>/dev/null
	[[ -n "${HOMELESS:-}" ]] && { pkill -KILL -u "$HOMELESS"; userdel "$HOMELESS"; } 2>/dev/null
	[[ -n "${SPOOLTOP:-}" && -d "$SPOOLTOP" ]] && rm -rf "$SPOOLTOP"
	[[ -n "${ETC:-}" && -d "$ETC" ]] && rm -rf "$ETC"
	return 0
}

setup() {
	mailpost_setup
	MAILPOST="$MAILPOST_SPOOLTEST"
	SPOOL="$BATS_TEST_TMPDIR/spool"
	mkdir "$SPOOL"
	chown "root:$GROUP" "$SPOOL"
	chmod 2770 "$SPOOL"
	# The homed user's home, writable by it; the other has none.
	UHOME="$SPOOLTOP/home/$HOMED"
	rm -rf "$SPOOLTOP/home"
	mkdir -p "$UHOME"
	chown "$HOMED:$HOMED" "$UHOME"
	chmod 700 "$UHOME"
	make_message >/dev/null
}

# The system configuration: the test server, the spool.
system_config() {
	# No server (port 9, discard): the cases that never send.
	printf '%s\n' defaults "host 127.0.0.1" "port ${SMTPD_PORT:-9}" "tls off" \
		"from system@example.org" "queue_dir $SPOOL" "$@" \
		>"$ETC/mailpost.conf"
	chmod 600 "$ETC/mailpost.conf"
}

# queue_for OWNER [RCPT...]: an entry of OWNER's in the spool (queued by
# root, then given to OWNER as the helper would have written it); prints its
# id.
queue_for() {
	local before after id owner="$1"
	shift
	[[ $# -gt 0 ]] || set -- bob@example.net
	before="$(ls "$SPOOL" | grep -E '^[0-9a-f]{16}$')"
	"$MAILPOST" --queue always "$@" <"$BATS_TEST_TMPDIR/msg" ||
		die "cannot queue" || return 1
	after="$(ls "$SPOOL" | grep -E '^[0-9a-f]{16}$')"
	id="$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after"))"
	[[ "$id" =~ ^[0-9a-f]{16}$ ]] || die "no new entry: '$id'" || return 1
	[[ "$owner" == root ]] || chown -R "$owner:" "$SPOOL/$id"
	printf '%s\n' "$id"
}

# A line of stdout holds both texts.
assert_stdout_line() {
	local line
	while IFS= read -r line; do
		[[ "$line" == *"$1"* && "$line" == *"$2"* ]] && return 0
	done <<<"$output"
	die "no stdout line holds both '$1' and '$2'; stdout was:" "$output"
}

# Names directly under DIR, sorted, on one line.
names_in() {
	(cd "$1" && ls | tr '\n' ' ')
}

@test "spool: root's -q delivers every owner's entries" {
	start_smtpd
	system_config
	local a b r
	a="$(queue_for "$HOMED")"
	b="$(queue_for "$HOMELESS" carol@example.net)"
	r="$(queue_for root dave@example.net)"
	run_mailpost 0 -q
	smtpd_finish
	assert_equal 3 "$(smtpd_received | grep -c 'RCPT TO')" "recipients sent"
	assert_equal "dead tmp " "$(names_in "$SPOOL")" "the spool after the flush"
	assert_equal "" "$(names_in "$SPOOL/dead")" "dead letters"
}

@test "spool: the log line of another user's entry names its owner" {
	start_smtpd
	system_config "logfile $BATS_TEST_TMPDIR/log"
	local a r
	a="$(queue_for "$HOMED")"
	r="$(queue_for root carol@example.net)"
	run_mailpost 0 -q
	grep -q "queueid=$a owner=$HOMED exitcode=EX_OK" "$BATS_TEST_TMPDIR/log" ||
		die "no line naming the owner of $a:" "$(cat "$BATS_TEST_TMPDIR/log")" || return 1
	grep "queueid=$r " "$BATS_TEST_TMPDIR/log" | grep -qv "owner=" ||
		die "root's own entry has an owner field:" "$(cat "$BATS_TEST_TMPDIR/log")" || return 1
}

@test "spool: a refused entry's dead letter is written in its owner's home, as the owner" {
	start_smtpd "on RCPT 550 5.1.1 <bob@example.net>: no such user"
	system_config
	local id
	id="$(queue_for "$HOMED")"
	run_mailpost 67 -q
	assert_stderr_contains "$id: "
	assert_stderr_contains "saved to the dead.letter of $HOMED"
	[[ -f "$UHOME/dead.letter" ]] || die "no dead.letter in the owner's home" || return 1
	assert_equal "$HOMED 600" "$(stat -c '%U %a' "$UHOME/dead.letter")" "the dead letter file"
	grep -q '^Subject: test$' "$UHOME/dead.letter" || die "the message is not in it" || return 1
	assert_equal "dead tmp " "$(names_in "$SPOOL")" "the spool"
	assert_equal "" "$(names_in "$SPOOL/dead")" "dead letters"
}

@test "spool: a homeless owner's refused entry stays in dead/, its owner's, listed by mailq, shown and removed by id" {
	start_smtpd "on RCPT 550 5.1.1 <bob@example.net>: no such user"
	system_config
	local id
	id="$(queue_for "$HOMELESS")"
	run_mailpost 67 -q
	assert_stderr_contains "kept for $HOMELESS in the spool's dead letters"
	assert_equal "$id " "$(names_in "$SPOOL/dead")" "dead letters"
	assert_equal "$HOMELESS" "$(stat -c %U "$SPOOL/dead/$id" "$SPOOL/dead/$id/message" "$SPOOL/dead/$id/envelope" | sort -u)" "the owner of every file"
	grep -q '^last-error: .*550 5.1.1' "$SPOOL/dead/$id/envelope" || die "no reason in the envelope" || return 1
	run_mailpost 0 -bp
	assert_output_contains "Dead letters, given up and never sent again"
	assert_output_contains "$HOMELESS"
	assert_output_contains "(550 5.1.1"
	assert_output_lacks "Mail queue is empty"
	run_mailpost 0 --queue-show "$id"
	assert_output_contains "Dead-Letter: given up, never sent again"
	assert_output_contains "Owner: $HOMELESS (uid $(id -u "$HOMELESS"))"
	assert_output_contains "Hello Bob."
	# Never flushed again.
	run_mailpost 0 -q
	assert_equal "$id " "$(names_in "$SPOOL/dead")" "dead letters after another flush"
	run_mailpost 0 --queue-remove "$id"
	assert_equal "" "$(names_in "$SPOOL/dead")" "dead letters after the removal"
	run_mailpost 0 -bp
	assert_output_contains "Mail queue is empty"
}

@test "spool: a symbolic link planted as the owner's dead.letter is not followed; the message goes to dead/" {
	start_smtpd "on RCPT 550 5.1.1 <bob@example.net>: no such user"
	system_config
	local id target="$BATS_TEST_TMPDIR/target"
	printf 'untouched\n' >"$target"
	ln -s "$target" "$UHOME/dead.letter"
	chown -h "$HOMED:" "$UHOME/dead.letter"
	id="$(queue_for "$HOMED")"
	run_mailpost 67 -q
	assert_stderr_contains "symbolic link"
	assert_equal "$id " "$(names_in "$SPOOL/dead")" "dead letters"
	assert_file_bytes "$target" $'untouched\n' "the link's target"
	[[ -L "$UHOME/dead.letter" ]] || die "the link was replaced" || return 1
}

@test "spool: an entry whose files have mixed owners is damaged, never sent, named by mailq and -q" {
	start_smtpd
	system_config
	local id good
	id="$(queue_for "$HOMED")"
	good="$(queue_for "$HOMELESS")"
	chown "$HOMELESS:" "$SPOOL/$id/message"
	run_mailpost 0 -bp
	assert_output_contains "Damaged entries, never sent"
	assert_output_contains "$id: its message file belongs to uid $(id -u "$HOMELESS"), the entry to uid $(id -u "$HOMED")"
	assert_output_contains "$good"
	run_mailpost 74 -q
	assert_stderr_contains "$id: its message file belongs to uid"
	smtpd_finish
	assert_equal 1 "$(smtpd_received | grep -c 'RCPT TO')" "messages sent (the good one only)"
	[[ -d "$SPOOL/$id" ]] || die "the damaged entry is gone" || return 1
}

@test "spool: mailq as root shows every entry with its owner" {
	system_config
	local a r
	a="$(queue_for "$HOMED")"
	r="$(queue_for root carol@example.net)"
	run_mailpost 0 -bp
	assert_output_contains "Owner"
	assert_stdout_line "$a" "$HOMED"
	assert_stdout_line "$r" " root "
	assert_output_contains "-- 2 messages"
	run_mailpost 0 --queue-show "$a"
	assert_output_contains "Owner: $HOMED"
	assert_output_lacks "Dead-Letter"
}

@test "spool: another user's entry naming its own server is held, never sent there" {
	start_smtpd
	system_config
	local id
	id="$(queue_for "$HOMED")"
	sed -i '/^port: /d; /^host: /d' "$SPOOL/$id/envelope"
	printf 'host: 127.0.0.1\nport: %s\n' "$(unused_port)" >>"$SPOOL/$id/envelope"
	chown "$HOMED:" "$SPOOL/$id/envelope"
	run_mailpost 78 -q
	assert_stderr_contains "$id: the entry names its own server"
	smtpd_finish
	assert_equal 0 "$(smtpd_received | grep -c 'MAIL FROM')" "messages sent"
	[[ -d "$SPOOL/$id" ]] || die "the entry is gone" || return 1
	assert_equal "$HOMED" "$(stat -c %U "$SPOOL/$id/envelope")" "the updated envelope's owner"
}

@test "spool: a spool open to others is refused, saying what to run" {
	system_config
	chmod 2775 "$SPOOL"
	run_mailpost 78 -bp
	assert_stderr_contains "is open to others: run chmod 2770 $SPOOL"
}

@test "spool: the rest of another user's entry after a partial delivery stays that user's" {
	start_smtpd "on RCPT#2 451 4.2.0 <carol@example.net>: try later"
	system_config "rcpt_policy any"
	local id rest
	id="$(queue_for "$HOMED" bob@example.net carol@example.net)"
	run_mailpost 0 -q
	rest="$(ls "$SPOOL" | grep -E '^[0-9a-f]{16}$')"
	[[ "$rest" =~ ^[0-9a-f]{16}$ && "$rest" != "$id" ]] ||
		die "not one new entry for the rest: '$rest'" || return 1
	assert_equal "$HOMED" "$(stat -c %U "$SPOOL/$rest" "$SPOOL/$rest/message" "$SPOOL/$rest/envelope" | sort -u)" "the owner of the rest's files"
	grep -q '^rcpt: carol@example.net$' "$SPOOL/$rest/envelope" || die "the rest is not for carol" || return 1
	grep -q '^rcpt: bob@example.net$' "$SPOOL/$rest/envelope" && die "the rest is for bob again"
	run_mailpost 0 -bp
	assert_stdout_line "$rest" "$HOMED"
}

@test "spool: dead_letter off in the system configuration never drops another user's refused entry" {
	start_smtpd "on RCPT 550 5.1.1 <bob@example.net>: no such user"
	system_config "dead_letter off"
	local homed homeless
	homed="$(queue_for "$HOMED")"
	homeless="$(queue_for "$HOMELESS" carol@example.net)"
	run_mailpost 67 -q
	assert_stderr_contains "saved to the dead.letter of $HOMED"
	grep -q '^Subject: test$' "$UHOME/dead.letter" || die "the message is not in the owner's dead.letter" || return 1
	assert_stderr_contains "kept for $HOMELESS in the spool's dead letters"
	assert_equal "$homeless " "$(names_in "$SPOOL/dead")" "dead letters"
	assert_equal "dead tmp " "$(names_in "$SPOOL")" "the spool"
}

@test "spool: DSN values tampered in another user's entry never reach the server's MAIL or RCPT line" {
	start_smtpd
	system_config
	local id
	id="$(queue_for "$HOMED")"
	sed -i '/^dsn-/d' "$SPOOL/$id/envelope"
	printf '%s\n' 'dsn-return: FULL AUTH=<ceo@example.org>' 'dsn-notify: SUCCESS XFOO=1' >>"$SPOOL/$id/envelope"
	chown "$HOMED:" "$SPOOL/$id/envelope"
	run_mailpost 74 -q
	assert_stderr_contains "$id: bad envelope: a DSN value is not one RFC 3461 allows"
	smtpd_finish
	smtpd_received | grep -q 'AUTH=<ceo@example.org>' && die "the forged parameter was sent:" "$(smtpd_received)"
	smtpd_received | grep -q 'XFOO' && die "the forged NOTIFY was sent:" "$(smtpd_received)"
	assert_equal 0 "$(smtpd_received | grep -c 'MAIL FROM')" "messages offered"
}

@test "spool: an owner whose dead letter hangs costs root's flush one wait, not one per entry" {
	start_smtpd "on RCPT 550 5.1.1 <bob@example.net>: no such user"
	system_config
	local a b start
	a="$(queue_for "$HOMED")"
	b="$(queue_for "$HOMED")"
	# The owner's own lock on its dead.letter: the child that writes it
	# as the owner waits, and is killed at its time limit: 1 s in this
	# build of the program (Makefile.am), DEADLETTER_CHILD_SECONDS (30)
	# in mailpost's.
	install -o "$HOMED" -g "$HOMED" -m 600 /dev/null "$UHOME/dead.letter"
	setpriv --reuid "$HOMED" --regid "$HOMED" --init-groups \
		flock "$UHOME/dead.letter" sleep 120 3>&- &
	wait_for_text /proc/locks ":$(stat -c %i "$UHOME/dead.letter") " ||
		{ pkill -KILL -u "$HOMED"; return 1; }
	start=$EPOCHREALTIME
	run_mailpost 67 -q
	# The holder is setpriv, then flock, then its sleep: all the user's.
	pkill -KILL -u "$HOMED" || true
	assert_stderr_contains "not done in 1 seconds"
	assert_stderr_contains "an earlier dead letter of $HOMED's took more than 1 seconds"
	# Two waits would be 2 s at least.
	local ms=$(( (${EPOCHREALTIME//[.,]/} - ${start//[.,]/}) / 1000 ))
	(( ms < 2000 )) || die "the flush took $ms ms: one wait per entry" || return 1
	[[ ! -s "$UHOME/dead.letter" ]] || die "the killed child wrote the dead.letter" || return 1
	assert_equal "$(printf '%s\n' "$a" "$b" | sort | tr '\n' ' ')" "$(names_in "$SPOOL/dead")" "dead letters"
}

@test "spool: a relative queue_dir for the machine's spool is refused, never made under root's working directory" {
	system_config
	sed -i 's|^queue_dir .*|queue_dir spool-rel|' "$ETC/mailpost.conf"
	local cwd="$BATS_TEST_TMPDIR/cwd"
	mkdir "$cwd"
	cd "$cwd"
	run_mailpost 78 --queue always bob@example.net <"$BATS_TEST_TMPDIR/msg"
	assert_stderr_contains "the spool spool-rel is not an absolute path"
	[[ ! -e "$cwd/spool-rel" ]] || die "a spool was made in the working directory" || return 1
	run_mailpost 78 -q
	assert_stderr_contains "is not an absolute path"
	[[ ! -e "$cwd/spool-rel" ]] || die "a spool was made in the working directory" || return 1
}

@test "spool: a control sequence in another user's last error never reaches root's terminal when the entry is given up" {
	start_smtpd
	system_config "queue_max_age 1d"
	local id
	id="$(queue_for "$HOMED")"
	# An envelope as a caller's own request to the helper can write it:
	# any byte but the escaped ones, C1 controls in UTF-8 too (CSI).
	sed -i '/^last-error: /d; s/^created: .*/created: 1000000000/' "$SPOOL/$id/envelope"
	printf 'last-error: \xc2\x9b2J\xc2\x9d0;owned\xc2\x9c\n' >>"$SPOOL/$id/envelope"
	chown "$HOMED:" "$SPOOL/$id/envelope"
	run_mailpost 75 -q
	assert_stderr_contains "$id: gave up after"
	[[ "$stderr" != *$'\xc2\x9b'* && "$stderr" != *$'\xc2\x9d'* ]] ||
		die "a C1 control on stderr:" "$(printf '%s' "$stderr" | od -c | head)" || return 1
	smtpd_finish
	assert_equal 0 "$(smtpd_received | grep -c 'MAIL FROM')" "messages offered"
}

@test "spool: a homeless owner's entry delivered to some keeps only those refused for good in dead/" {
	start_smtpd "on RCPT#1 550 5.1.1 <bob@example.net>: no such user"
	system_config "rcpt_policy any"
	local id
	id="$(queue_for "$HOMELESS" bob@example.net carol@example.net)"
	run_mailpost 67 -q
	assert_stderr_contains "kept for $HOMELESS in the spool's dead letters"
	smtpd_finish
	assert_equal 1 "$(smtpd_received | grep -c '^Hello Bob')" "messages sent (to carol)"
	assert_equal "$id " "$(names_in "$SPOOL/dead")" "dead letters"
	assert_equal "rcpt: bob@example.net" "$(grep '^rcpt:' "$SPOOL/dead/$id/envelope")" \
		"the dead letter's recipients (carol has it)"
	assert_equal "dead tmp " "$(names_in "$SPOOL")" "the spool"
}

@test "spool: a damaged dead letter is listed as one, and removable" {
	system_config
	local id
	id="$(queue_for "$HOMELESS")"
	mv "$SPOOL/$id" "$SPOOL/dead/$id"
	truncate -s 5 "$SPOOL/dead/$id/message"
	run_mailpost 0 -bp
	assert_output_contains "Damaged entries, never sent"
	assert_output_contains "$id: its message file has 5 bytes"
	assert_output_contains "(a dead letter)"
	run_mailpost 0 --queue-remove "$id"
	assert_equal "" "$(names_in "$SPOOL/dead")" "dead letters after the removal"
}
