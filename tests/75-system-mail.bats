#!/usr/bin/env bats
# 75-system-mail: mail from cron and daemons, end to end through the private
# Postfix (tests/lib/postfix.bash).  mailpost is installed the way a system
# uses it: a link named "sendmail", run with the bare environment cron
# gives a job (HOME, LOGNAME, SHELL, PATH and nothing else), its
# configuration in $HOME/.config/mailpost/config.  The smarthost going
# down and up, the queue, aliases for local names, header hygiene
# (rewrite_local_from, qualify_headers), GNU mail's -f LOGIN@HOST, the
# substitutions in `from`, and -bs.  What lands in the Maildirs is read
# with tests/lib/msgcheck.py.
#
# Known addresses: user root alice bob carol a @example.test, b@second.test.

bats_require_minimum_version 1.5.0
# status, output, stderr: set by bats' run.
# shellcheck disable=SC2154

load lib/helpers # run_mailpost, assert_equal, die, unused_port
load lib/postfix

MSGCHECK=$BATS_TEST_DIRNAME/lib/msgcheck.py
BSCLIENT=$BATS_TEST_DIRNAME/lib/bsclient.py

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
	QDIR=$BATS_TEST_TMPDIR/queue
	CONF=$HOME/.config/mailpost/config
	BIN=$BATS_TEST_TMPDIR/bin
	mkdir -p "$BIN" "${CONF%/*}"
	ln -sf "$MAILPOST" "$BIN/sendmail"
	PF_STOPPED=0
}

teardown() {
	[ -z "$PF_SKIP" ] || return 0
	# A test that stopped Postfix and failed before starting it again
	# must not leave the other tests without it.
	[ "$PF_STOPPED" = 1 ] && pf_up
	postfix_wait_queue_empty 5 >/dev/null 2>&1 || true
	postfix_clear
}

msgcheck() {
	"$SMTPD_PYTHON" "$MSGCHECK" "$@"
}

# sys_config PORT [LINE...]: the configuration of the system's mail: the
# smarthost on 127.0.0.1:PORT, local names qualified with example.test, the
# queue in the test's directory (due at once after a failure), then LINEs;
# one account, the default.
sys_config() {
	local port=$1
	shift
	{
		echo "defaults"
		echo "host 127.0.0.1"
		echo "port $port"
		echo "domain client.test"
		echo "maildomain example.test"
		echo "queue_dir $QDIR"
		echo "queue_backoff 0"
		echo "dead_letter $BATS_TEST_TMPDIR/dead.letter"
		printf '%s\n' "$@"
		echo
		echo "account system"
		echo
		echo "account default : system"
	} >"$CONF"
	chmod 600 "$CONF"
}

# cron_run EXIT INPUT PROGRAM-ARGS...: run "sendmail ARGS" (or with the
# first word "mailpost", "mailpost ARGS") in cron's environment with INPUT
# on standard input (/dev/null for none).
cron_run() {
	local want=$1 input=$2 prog=$BIN/sendmail
	shift 2
	if [ "$1" = mailpost ]; then
		prog=$MAILPOST
		shift
	fi
	MAILPOST=/usr/bin/env run_mailpost "$want" -i HOME="$HOME" \
		LOGNAME="$(id -un)" USER="$(id -un)" SHELL=/bin/sh \
		PATH=/usr/bin:/bin "$prog" "$@" <"$input" || {
		postfix_log_tail 10 >&2
		return 1
	}
}

# cron_message FILE SUBJECT: what cron mails for a job (local names only).
cron_message() {
	{
		printf 'From: root (Cron Daemon)\n'
		printf 'To: root\n'
		printf 'Subject: %s\n' "$2"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n'
		printf 'Content-Transfer-Encoding: 8bit\n'
		printf 'X-Cron-Env: <SHELL=/bin/sh>\nX-Cron-Env: <HOME=/root>\n'
		printf '\njob output for %s\n' "$2"
	} >"$1"
}

# settle N: wait for N messages in the Maildirs and for Postfix's queue to
# empty (then nothing can still arrive), and fail unless there are exactly
# N (nothing late, nothing twice).
settle() {
	postfix_wait_delivered "$1" || return 1
	postfix_wait_queue_empty || return 1
	local n
	n=$(postfix_delivered | wc -l)
	if [ "$n" -ne "$1" ]; then
		echo "want exactly $1 delivered message(s), found $n:" >&2
		postfix_delivered >&2
		return 1
	fi
}

# maildir_count ADDR: how many messages ADDR has.
maildir_count() {
	local dir
	dir=$(postfix_maildir "$1")
	find "$dir" -type f 2>/dev/null | wc -l
}

# assert_delivered ADDR N: ADDR has exactly N messages.
assert_delivered() {
	assert_equal "$2" "$(maildir_count "$1")" "messages for $1" || {
		echo "delivered:" >&2
		postfix_delivered >&2
		return 1
	}
}

# queue_ids: the entries of the queue directory.
queue_ids() {
	local d
	for d in "$QDIR"/*; do
		[ -d "$d" ] || continue
		d=${d##*/}
		[[ "$d" =~ ^[0-9a-f]{16}$ ]] && echo "$d"
	done
	return 0
}

# pf_listening: something accepts connections on $PF_PORT.
pf_listening() {
	"$SMTPD_PYTHON" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
		"$PF_PORT" 2>/dev/null
}

# pf_down / pf_up: stop the private Postfix and start it again, on the
# same ports, waiting (at most 30 s) until it refuses or accepts.
pf_down() {
	local i
	PF_STOPPED=1
	postfix -c "$PF_CONF" stop >/dev/null 2>&1 3>&-
	for ((i = 0; i < 300; i++)); do
		if ! postfix -c "$PF_CONF" status >/dev/null 2>&1 3>&- &&
			! pf_listening; then
			return 0
		fi
		sleep 0.1
	done
	die "Postfix did not stop within 30 s"
}

pf_up() {
	local i
	postfix -c "$PF_CONF" start >/dev/null 2>&1 3>&- ||
		die "Postfix did not start again:" "$(postfix_log_tail 20)" ||
		return 1
	for ((i = 0; i < 300; i++)); do
		if pf_listening; then
			PF_STOPPED=0
			return 0
		fi
		sleep 0.1
	done
	die "Postfix does not listen on $PF_PORT 30 s after start"
}

# --- the smarthost goes away and comes back ----------------------------------

# The cron command lines of the foundation issue: Debian's cron and cronie
# as tests/50-postfix.bats has them, and the two forms the issue quotes.
# Local names only: maildomain makes root into root@example.test.
CRON_LINES=(
	"-i -FCronDaemon -B8BITMIME -oem root"
	"-FCronDaemon -i -odi -oem -oi -t -f root"
	"-FCronDaemon -i -B8BITMIME -oem root"
	"-i -B8BITMIME -t -oem"
)

@test "system mail: smarthost down, each cron command line queues (exit 0); up: -q delivers each once" {
	local down n k args ids
	down=$(unused_port)
	sys_config "$down"
	for ((n = 0; n < ${#CRON_LINES[@]}; n++)); do
		cron_message "$msg.$n" "Cron <root@host> job $n"
		read -ra args <<<"${CRON_LINES[$n]}"
		cron_run 0 "$msg.$n" "${args[@]}"
		[[ "$stderr" == *"queued as "* ]] ||
			die "sendmail ${CRON_LINES[$n]}: no 'queued as' on stderr:" "$stderr" ||
			return 1
	done
	ids=$(queue_ids)
	assert_equal "${#CRON_LINES[@]}" "$(printf '%s\n' "$ids" | grep -c .)" \
		"entries in the queue"
	cron_run 0 /dev/null mailpost -bp
	for k in $ids; do
		[[ "$output" == *"$k"* ]] || die "mailq does not list $k:" "$output" || return 1
	done
	assert_equal 0 "$(postfix_delivered | wc -l)" "messages delivered while the smarthost was down"

	# The smarthost is back (the account now points at Postfix).
	sys_config "$PF_PORT"
	cron_run 0 /dev/null mailpost -q
	settle "${#CRON_LINES[@]}"
	assert_delivered root@example.test "${#CRON_LINES[@]}"
	for ((n = 0; n < ${#CRON_LINES[@]}; n++)); do
		k=$(grep -l "^Subject: Cron <root@host> job $n\$" \
			"$(postfix_maildir root@example.test)"/* | wc -l)
		assert_equal 1 "$k" "copies of job $n (sendmail ${CRON_LINES[$n]})" || return 1
	done
	f=$(grep -l "^Subject: Cron <root@host> job 0\$" "$(postfix_maildir root@example.test)"/*)
	msgcheck "$f" same-as "$msg.0"
	assert_equal "" "$(queue_ids)" "entries left in the queue"

	# A second run finds nothing to send.
	cron_run 0 /dev/null mailpost -q
	settle "${#CRON_LINES[@]}"
	cron_run 0 /dev/null mailpost -bp
	[[ "$output" == *"empty"* ]] || die "mailq after the flush:" "$output"
}

@test "system mail: server down, message queued; server up: mailpost -q delivers it exactly once" {
	sys_config "$PF_PORT"
	printf 'From: root (Cron Daemon)\nTo: alice\nSubject: while down\n\nqueued while the server was down\n' >"$msg"
	pf_down
	cron_run 0 "$msg" -i alice
	[[ "$stderr" == *"queued as "* ]] || die "no 'queued as' on stderr:" "$stderr" ||
		return 1
	assert_equal 1 "$(queue_ids | wc -l)" "entries in the queue"
	pf_up
	cron_run 0 /dev/null mailpost -q
	settle 1
	f=$(postfix_one alice@example.test)
	msgcheck "$f" same-as "$msg"
	run msgcheck "$f" return-path
	assert_equal "$(id -un)@example.test" "$output" "Return-Path"
	assert_equal "" "$(queue_ids)" "entries left in the queue"
	cron_run 0 /dev/null mailpost -q
	settle 1
}

# --- aliases --------------------------------------------------------------------

write_aliases() {
	ALIASES=$BATS_TEST_TMPDIR/aliases
	cat >"$ALIASES" <<-'EOF'
	# local names of this machine
	root: alice@example.test
	www-data: root, bob
	default: carol@example.test
	EOF
}

@test "system mail: aliases: root, a list, the default, and addresses with a domain untouched" {
	write_aliases
	sys_config "$PF_PORT" "aliases $ALIASES"
	printf 'From: daemon@example.test\nTo: whoever\nSubject: aliases\n\nbody\n' >"$msg"

	cron_run 0 "$msg" -i root
	settle 1
	assert_delivered alice@example.test 1
	postfix_clear

	cron_run 0 "$msg" -i www-data
	settle 2
	assert_delivered alice@example.test 1
	assert_delivered bob@example.test 1
	postfix_clear

	cron_run 0 "$msg" -i nosuchname
	settle 1
	assert_delivered carol@example.test 1
	postfix_clear

	cron_run 0 "$msg" -i root@example.test b@second.test
	settle 2
	assert_delivered root@example.test 1
	assert_delivered b@second.test 1
}

# --- header hygiene -----------------------------------------------------------

@test "system mail: rewrite_local_from and qualify_headers make cron's header deliverable" {
	write_aliases
	printf 'From: root (Cron Daemon)\nTo: root\nSubject: x\n\nbody\n' >"$msg"

	sys_config "$PF_PORT" "aliases $ALIASES" "from cron@example.test" \
		"rewrite_local_from on" "qualify_headers on"
	cron_run 0 "$msg" -FCronDaemon -i -B8BITMIME -oem root
	settle 1
	f=$(postfix_one alice@example.test)
	msgcheck "$f" check
	run msgcheck "$f" header From
	assert_equal "Cron Daemon <cron@example.test>" "$output" "From"
	run msgcheck "$f" addresses To
	assert_equal "alice@example.test" "$output" "the addresses in To"
	run msgcheck "$f" header Subject
	assert_equal "x" "$output" "Subject"
	run msgcheck "$f" body
	assert_equal "body" "$output" "body"
	run msgcheck "$f" return-path
	assert_equal "cron@example.test" "$output" "Return-Path"
	postfix_clear

	# Without the two keys the header is left as it is.
	sys_config "$PF_PORT" "aliases $ALIASES" "from cron@example.test"
	cron_run 0 "$msg" -FCronDaemon -i -B8BITMIME -oem root
	settle 1
	f=$(postfix_one alice@example.test)
	msgcheck "$f" same-as "$msg"
	run msgcheck "$f" header From
	assert_equal "root (Cron Daemon)" "$output" "From without rewrite_local_from"
	run msgcheck "$f" header To
	assert_equal "root" "$output" "To without qualify_headers"
}

# --- GNU mail --------------------------------------------------------------------

# gnu_mail EXIT ARGS...: GNU mail (mailutils) as a user or a script runs it,
# in cron's bare environment, with our sendmail link as its mailer; the
# body on standard input.  It runs "sendmail -oi -f LOGIN@HOST -t" (HOST:
# this machine's name; -r ADDR gives -f ADDR) and writes no From.
gnu_mail() {
	local want=$1
	shift
	MAILPOST=/usr/bin/env run_mailpost "$want" -i HOME="$HOME" \
		LOGNAME="$(id -un)" USER="$(id -un)" SHELL=/bin/sh \
		PATH=/usr/bin:/bin mail -E "set sendmail=sendmail://$BIN/sendmail" "$@"
}

@test "system mail: GNU mail's -f LOGIN@HOST (and -r root@HOST) leave with the maildomain, in From and Return-Path alike" {
	mail --version 2>/dev/null | grep -q 'GNU Mailutils' ||
		skip "GNU mail (mailutils) is not installed"
	local login host f
	login=$(id -un)
	host=$(hostname)
	sys_config "$PF_PORT"
	gnu_mail 0 -s "disk full" alice@example.test <<<"the disk is full"
	gnu_mail 0 -r "root@$host" -s "from root" bob@example.test <<<"hello"
	settle 2
	f=$(postfix_one alice@example.test)
	msgcheck "$f" check
	run msgcheck "$f" return-path
	assert_equal "$login@example.test" "$output" "Return-Path"
	run msgcheck "$f" header From
	assert_equal "$login@example.test" "$output" "From"
	run msgcheck "$f" body
	assert_equal "the disk is full" "$output" "body"
	f=$(postfix_one bob@example.test)
	run msgcheck "$f" return-path
	assert_equal "root@example.test" "$output" "Return-Path with -r root@$host"
	run msgcheck "$f" header From
	assert_equal "root@example.test" "$output" "From with -r root@$host"
}

# --- substitutions in from ------------------------------------------------------

@test "system mail: from %U@example.test, %H and %M give the envelope sender" {
	local login host mailname
	login=$(id -un)
	host=$(uname -n)
	mailname=$host
	if [ -r /etc/mailname ]; then
		mailname=$(head -n 1 /etc/mailname)
	fi
	printf 'From: root (Cron Daemon)\nTo: alice@example.test\nSubject: subst\n\nbody\n' >"$msg"

	sys_config "$PF_PORT" "from %U@example.test"
	cron_run 0 "$msg" -i alice@example.test
	settle 1
	run msgcheck "$(postfix_one alice@example.test)" return-path
	assert_equal "$login@example.test" "$output" "Return-Path for from %U@example.test"
	if [ "$(id -u)" = 0 ]; then
		assert_equal "root@example.test" "$output" "Return-Path when run as root"
	fi
	postfix_clear

	sys_config "$PF_PORT" "from cron-%U.%H@example.test"
	cron_run 0 "$msg" -i alice@example.test
	settle 1
	run msgcheck "$(postfix_one alice@example.test)" return-path
	assert_equal "cron-$login.$host@example.test" "$output" "Return-Path for from cron-%U.%H@example.test"
	postfix_clear

	sys_config "$PF_PORT" "from %U@%M"
	cron_run 0 "$msg" -i alice@example.test
	settle 1
	run msgcheck "$(postfix_one alice@example.test)" return-path
	assert_equal "$login@$mailname" "$output" "Return-Path for from %U@%M"
}

# --- -bs ------------------------------------------------------------------------

@test "system mail: a -bs session delivers to bob's Maildir" {
	sys_config "$PF_PORT"
	printf 'From: App <app@client.test>\nTo: Bob <bob@example.test>\nSubject: from a framework\nDate: Sat, 01 Feb 2025 10:00:00 +0100\nMessage-ID: <bs.1@client.test>\n\nHello Bob,\n.leading dot\nbye\n' >"$msg"
	cat >"$BATS_TEST_TMPDIR/session" <<-EOF
	> EHLO [127.0.0.1]
	message $msg app@client.test bob@example.test
	> QUIT
	EOF
	run --separate-stderr timeout 120 "$SMTPD_PYTHON" "$BSCLIENT" \
		--script "$BATS_TEST_TMPDIR/session" -- \
		/usr/bin/env -i HOME="$HOME" PATH=/usr/bin:/bin "$BIN/sendmail" -bs
	[ "$status" -eq 0 ] || die "bsclient failed ($status):" "$output" "$stderr" ||
		return 1
	[[ "$(printf '%s\n' "$output" | tail -n 3 | cut -c1-6 | tr '\n' ' ')" == "250 2. 221 2. exit 0 " ]] ||
		die "the session did not end with 250, 221 and exit 0:" "$output" "$stderr" ||
		return 1
	settle 1
	f=$(postfix_one bob@example.test)
	msgcheck "$f" check
	msgcheck "$f" same-as "$msg"
	run msgcheck "$f" return-path
	assert_equal app@client.test "$output" "Return-Path"
}
