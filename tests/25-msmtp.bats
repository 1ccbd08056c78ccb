#!/usr/bin/env bats
# 25-msmtp: an msmtp set-up keeps working when mailpost replaces msmtp: the
# log file line in msmtp's format, msmtp's configuration paths, and msmtp's
# command line under the name msmtp (a link, as Debian's msmtp-mta users
# have).

# status, output, stderr: set by bats' run.
# shellcheck disable=SC2154

load lib/helpers

setup() {
	mailpost_setup
	MSG="$(make_message)"
	LOG=$BATS_TEST_TMPDIR/msmtp.log
}

# log_config [LINE...]: an account for the test server that logs to $LOG
# with a fixed time stamp (a strftime format without conversions).
log_config() {
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "domain client.test" \
		"logfile $LOG" "logfile_time_format STAMP" "queue never" "$@"
}

# --- the log file line -------------------------------------------------------

@test "log line: delivered, as msmtp writes it" {
	start_smtpd
	log_config
	run_mailpost 0 -C "$MAILPOST_CONF" -f alice@example.org \
		bob@example.net carol@example.net <"$MSG"
	assert_file_bytes "$LOG" "STAMP host=127.0.0.1 tls=off auth=off from=alice@example.org recipients=bob@example.net,carol@example.net mailsize=${#MSG_SIMPLE_CRLF} smtpstatus=250 smtpmsg='250 2.0.0 Ok: queued as 1' exitcode=EX_OK
" "the log file"
}

@test "log line: a multi-line 5xx refusal, quotes hidden as msmtp hides them" {
	start_smtpd - <<-'EOF'
		on RCPT
		  reply 550-5.1.1 <bob@example.net>: 'no' such user\n550 5.1.1 try another
	EOF
	log_config
	run_mailpost 67 -C "$MAILPOST_CONF" -f alice@example.org \
		bob@example.net <"$MSG"
	assert_file_bytes "$LOG" "STAMP host=127.0.0.1 tls=off auth=off from=alice@example.org recipients=bob@example.net smtpstatus=550 smtpmsg='550-5.1.1 <bob@example.net>: ?no? such user\\n550 5.1.1 try another' errormsg='1 recipient refused: <bob@example.net> (550 5.1.1 <bob@example.net>: ?no? such user); nothing was sent; the message was saved to $HOME/dead.letter' exitcode=EX_NOUSER
" "the log file"
}

@test "log line: a connection failure has errormsg and no smtpstatus" {
	local port
	port=$(unused_port)
	write_config "host 127.0.0.1" "port $port" "logfile $LOG" \
		"logfile_time_format STAMP" "queue never" "auth on" "user u1" \
		"password secret1" "auth_plaintext on"
	run_mailpost 75 -C "$MAILPOST_CONF" -f alice@example.org \
		bob@example.net <"$MSG"
	assert_file_bytes "$LOG" "STAMP host=127.0.0.1 tls=off auth=on user=u1 from=alice@example.org recipients=bob@example.net errormsg='cannot connect to 127.0.0.1 port $port: Connection refused; the message was saved to $HOME/dead.letter' exitcode=EX_TEMPFAIL
" "the log file"
	assert_no_secret secret1 "$LOG"
}

@test "log line: queued after a temporary failure says queued=ID and EX_TEMPFAIL" {
	start_smtpd "on MAIL 451 4.3.0 try later"
	log_config "queue on-failure" "queue_dir $BATS_TEST_TMPDIR/q" \
		"queue_flush_after_send off"
	run_mailpost 0 -C "$MAILPOST_CONF" -f alice@example.org \
		bob@example.net <"$MSG"
	grep -qE "^STAMP host=127.0.0.1 tls=off auth=off from=alice@example.org recipients=bob@example.net smtpstatus=451 smtpmsg='451 4.3.0 try later' errormsg='[^']*' queued=[0-9a-f]+ exitcode=EX_TEMPFAIL\$" "$LOG" ||
		die "unexpected log:" "$(cat "$LOG")"
}

@test "log line: a log file that cannot be opened: warned, the mail still goes (as msmtp)" {
	# A system msmtprc naming /var/log/msmtp that a user may not write:
	# msmtp sends and says it could not log; so must mailpost.
	start_smtpd
	LOG=$BATS_TEST_TMPDIR/no/such/dir/msmtp.log
	log_config
	run_mailpost 0 -C "$MAILPOST_CONF" -f alice@example.org \
		bob@example.net <"$MSG"
	assert_stderr_contains "mailpost: warning: cannot open log file $LOG: No such file or directory; sending without a log line"
	assert_received_contains "RCPT TO:<bob@example.net>"
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

# --- a flush's lines: one per queued entry, with its id ------------------------

# queue_log_config PORT [LINE...]: log_config for a queue in $BATS_TEST_TMPDIR/q
# on 127.0.0.1 port PORT, retried at once, no flush after a send.
queue_log_config() {
	local port="$1"
	shift
	write_config "host 127.0.0.1" "port $port" "domain client.test" \
		"from alice@example.org" "logfile $LOG" \
		"logfile_time_format STAMP" "queue_dir $BATS_TEST_TMPDIR/q" \
		"queue_backoff 0" "queue_flush_after_send off" "$@"
}

# log_line N: line N of $LOG.
log_line() {
	sed -n "${1}p" "$LOG"
}

@test "log line: -q writes one line per entry with its id: deferred (queued= the same id, EX_TEMPFAIL), then delivered (EX_OK)" {
	start_smtpd - -- --max-connections 5 <<-'EOF'
		connection 1
		on MAIL 451 4.3.0 try later
		connection 2
		on MAIL 451 4.3.0 try later
	EOF
	queue_log_config "$SMTPD_PORT"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net <"$MSG"
	[[ "$(log_line 1)" =~ queued=([0-9a-f]{16}) ]] ||
		die "the send's line has no queued=ID:" "$(cat "$LOG")" || return 1
	local id=${BASH_REMATCH[1]} head="STAMP host=127.0.0.1 tls=off auth=off from=alice@example.org recipients=bob@example.net"
	run_mailpost 0 -C "$MAILPOST_CONF" -q
	[[ "$(log_line 2)" =~ ^"$head smtpstatus=451 smtpmsg='451 4.3.0 try later' errormsg='"[^\']*"' queueid=$id queued=$id exitcode=EX_TEMPFAIL"$ ]] ||
		die "the deferral's line is not as expected:" "$(cat "$LOG")" || return 1
	run_mailpost 0 -C "$MAILPOST_CONF" -q
	[[ "$(log_line 3)" =~ ^"$head mailsize=${#MSG_SIMPLE_CRLF} smtpstatus=250 smtpmsg='250 2.0.0 Ok: queued as "[0-9]+"' queueid=$id exitcode=EX_OK"$ ]] ||
		die "the delivery's line is not as expected:" "$(cat "$LOG")" || return 1
	assert_equal 3 "$(wc -l <"$LOG")" "lines in the log file"
}

@test "log line: a flush that delivers to some: refused for good and for now named, the rest's new entry in queued=, the worst exit code" {
	local down
	down=$(unused_port)
	queue_log_config "$down" "rcpt_policy any"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net carol@example.net \
		dave@example.net <"$MSG"
	[[ "$(log_line 1)" =~ queued=([0-9a-f]{16}) ]] ||
		die "the send's line has no queued=ID:" "$(cat "$LOG")" || return 1
	local id=${BASH_REMATCH[1]}
	start_smtpd - <<-'EOF'
		on RCPT#2 450 4.2.1 <carol@example.net>: mailbox busy
		on RCPT#3 550 5.1.1 <dave@example.net>: no such user
	EOF
	queue_log_config "$SMTPD_PORT" "rcpt_policy any"
	run_mailpost 67 -C "$MAILPOST_CONF" -q
	[[ "$(log_line 2)" =~ ^"STAMP host=127.0.0.1 tls=off auth=off from=alice@example.org recipients=bob@example.net,carol@example.net,dave@example.net smtpstatus=450 smtpmsg='450 4.2.1 <carol@example.net>: mailbox busy' errormsg='2 recipients refused: <carol@example.net> (450 "[^\']*"<dave@example.net> (550 "[^\']*"' queueid=$id queued="([0-9a-f]{16})" exitcode=EX_NOUSER"$ ]] ||
		die "the flush's line is not as expected:" "$(cat "$LOG")" || return 1
	[[ "${BASH_REMATCH[1]}" != "$id" ]] || die "the rest was not given an entry of its own"
	assert_equal 2 "$(wc -l <"$LOG")" "lines in the log file"
}

@test "log line: a send that delivers to some, one refused for good and one for now: the rest's entry in queued=, the worst exit code" {
	start_smtpd - <<-'EOF'
		on RCPT#2 450 4.2.1 <carol@example.net>: mailbox busy
		on RCPT#3 550 5.1.1 <dave@example.net>: no such user
	EOF
	queue_log_config "$SMTPD_PORT" "rcpt_policy any"
	run_mailpost 67 -C "$MAILPOST_CONF" bob@example.net carol@example.net \
		dave@example.net <"$MSG"
	[[ "$stderr" =~ "queued as "([0-9a-f]{16})" for the 1 refused for now" ]] ||
		die "stderr does not say where the rest went:" "$stderr" || return 1
	local id=${BASH_REMATCH[1]}
	[[ "$(log_line 1)" =~ " queued=$id exitcode=EX_NOUSER"$ ]] ||
		die "the send's line does not name the rest's entry ($id):" "$(cat "$LOG")"
}

@test "log line: a flush whose dead letter cannot be written says the entry stays (queued= its id)" {
	local down
	down=$(unused_port)
	queue_log_config "$down" "rcpt_policy any"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net carol@example.net <"$MSG"
	[[ "$(log_line 1)" =~ queued=([0-9a-f]{16}) ]] ||
		die "the send's line has no queued=ID:" "$(cat "$LOG")" || return 1
	local id=${BASH_REMATCH[1]}
	start_smtpd "on RCPT#2 550 5.1.1 <carol@example.net>: no such user"
	mkdir "$BATS_TEST_TMPDIR/not-a-file"
	queue_log_config "$SMTPD_PORT" "rcpt_policy any" "dead_letter $BATS_TEST_TMPDIR/not-a-file"
	run_mailpost 67 -C "$MAILPOST_CONF" -q
	assert_stderr_contains "kept in the queue for carol@example.net only"
	[[ "$(log_line 2)" =~ " queueid=$id queued=$id exitcode=EX_NOUSER"$ ]] ||
		die "the flush's line does not say the entry stays:" "$(cat "$LOG")"
}

@test "log line: the flush after a send logs each entry it sends, after the send's own line" {
	start_smtpd - -- --max-connections 5 <<-'EOF'
		connection 1
		on MAIL 451 4.3.0 try later
	EOF
	queue_log_config "$SMTPD_PORT" "queue_flush_after_send on"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net <"$MSG"
	[[ "$(log_line 1)" =~ queued=([0-9a-f]{16}) ]] ||
		die "the send's line has no queued=ID:" "$(cat "$LOG")" || return 1
	local id=${BASH_REMATCH[1]}
	run_mailpost 0 -C "$MAILPOST_CONF" carol@example.net <"$MSG"
	[[ "$(log_line 2)" == *" recipients=carol@example.net "*" exitcode=EX_OK" && "$(log_line 2)" != *queueid=* ]] ||
		die "line 2 is not the send's:" "$(cat "$LOG")" || return 1
	[[ "$(log_line 3)" == *" recipients=bob@example.net "*" queueid=$id exitcode=EX_OK" ]] ||
		die "line 3 is not the entry's delivery:" "$(cat "$LOG")" || return 1
}

@test "log line: a flush whose log file cannot be opened warns once and still delivers every entry" {
	local down
	down=$(unused_port)
	queue_log_config "$down"
	run_mailpost 0 -C "$MAILPOST_CONF" bob@example.net <"$MSG"
	run_mailpost 0 -C "$MAILPOST_CONF" carol@example.net <"$MSG"
	start_smtpd
	LOG=$BATS_TEST_TMPDIR/no/such/dir/msmtp.log
	queue_log_config "$SMTPD_PORT"
	run_mailpost 0 -C "$MAILPOST_CONF" -q
	assert_stderr_line_count 1
	assert_stderr_contains "mailpost: warning: cannot open log file $LOG: No such file or directory; flushing without log lines"
	smtpd_finish
	assert_received_contains "RCPT TO:<bob@example.net>"
	assert_received_contains "RCPT TO:<carol@example.net>"
}

# --- msmtp's configuration paths ----------------------------------------------

# conf_at FILE PORT: a configuration naming the (closed) port PORT, so the
# error message says which file was read.
conf_at() {
	mkdir -p "$(dirname "$1")"
	printf 'defaults\nhost 127.0.0.1\nport %s\nqueue never\ndead_letter off\n' "$2" >"$1"
	chmod 600 "$1"
}

# read_port PORT: mailpost (no -C) read the file that names PORT.
read_port() {
	run_mailpost 75 -f alice@example.org bob@example.net <"$MSG"
	assert_stderr_contains "port $1:"
}

@test "config paths: mailpost's files first, then msmtp's in msmtp's order" {
	export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg
	conf_at "$XDG_CONFIG_HOME/mailpost/config" 1
	conf_at "$HOME/.msmtprc" 2
	conf_at "$XDG_CONFIG_HOME/msmtp/config" 3
	conf_at "$HOME/.config/msmtp/config" 4
	read_port 1
	rm "$XDG_CONFIG_HOME/mailpost/config"
	read_port 2
	rm "$HOME/.msmtprc"
	read_port 3
	# Without XDG_CONFIG_HOME (or with a relative one, which the XDG
	# specification says to ignore): ~/.config.
	unset XDG_CONFIG_HOME
	read_port 4
	XDG_CONFIG_HOME=relative read_port 4
	# $MAILPOST_CONFIG comes before all of them.
	conf_at "$BATS_TEST_TMPDIR/env.conf" 5
	MAILPOST_CONFIG=$BATS_TEST_TMPDIR/env.conf read_port 5
}

@test "config paths: the installed man pages and completions name this build's directory" {
	local dir gen f
	run_mailpost 0 --version
	dir=$(sed -n 's/^System configuration directory: //p' <<<"$output")
	[ -n "$dir" ] || die "--version names no directory:" "$output"
	gen=$(dirname "$MAILPOST")/gen
	for f in man/mailpost.1 man/mailpost.conf.5 completions/mailpost \
		completions/_mailpost completions/mailpost.fish; do
		[ -s "$gen/$f" ] || die "$gen/$f was not generated" || return 1
		if grep -n '@SYSCONFDIR@' "$gen/$f"; then
			die "$gen/$f still says @SYSCONFDIR@"
			return 1
		fi
		grep -q "$dir/msmtprc" "$gen/$f" ||
			die "$gen/$f does not name $dir/msmtprc" || return 1
	done
}

# --- msmtp's command line, under the name msmtp -------------------------------

# run_msmtp EXIT [ARGS...]: run_mailpost through a link named msmtp.
run_msmtp() {
	local link=$BATS_TEST_TMPDIR/bin/msmtp
	mkdir -p "${link%/*}"
	[[ -L $link ]] || ln -s "$MAILPOST" "$link"
	MAILPOST=$link run_mailpost "$@"
}

# msmtp_config [LINE...]: msmtp's usual shape: defaults, an account "work"
# for the test server, and a default account whose port is closed (so that
# using it fails), then LINEs.
msmtp_config() {
	local closed
	closed=$(unused_port)
	MAILPOST_CONF="$BATS_TEST_TMPDIR/msmtprc"
	cat >"$MAILPOST_CONF" <<-EOF
		defaults
		host 127.0.0.1
		domain client.test
		queue never
		dead_letter off
		logfile $LOG
		logfile_time_format STAMP

		account work
		port ${SMTPD_PORT:-$closed}
		from bob@work.example

		account other
		port ${SMTPD_PORT:-$closed}
		from carol@other.example

		account home
		port $closed
		from me@home.example

		account default : home
	EOF
	printf '%s\n' "$@" >>"$MAILPOST_CONF"
	chmod 600 "$MAILPOST_CONF"
}

@test "msmtp -a work bob@x: -a is the account" {
	start_smtpd -- --max-connections 2
	msmtp_config
	run_msmtp 0 -C "$MAILPOST_CONF" -a work bob@example.net <"$MSG"
	# The same under mailpost's name is -A.
	run_mailpost 0 -C "$MAILPOST_CONF" -A work bob@example.net <"$MSG"
	smtpd_finish
	[ "$(grep -c '^MAIL FROM:<bob@work.example>' "$SMTPD_DIR/received")" -eq 2 ] ||
		die "not two MAIL FROM:<bob@work.example>:" "$(smtpd_received)"
}

@test "msmtp --read-envelope-from -t: the From address is the sender and picks the account" {
	start_smtpd
	msmtp_config
	printf 'From: Carol <carol@other.example>\nTo: Dan <dan@example.net>\nSubject: s\n\nhi\n' >"$BATS_TEST_TMPDIR/m"
	run_msmtp 0 -C "$MAILPOST_CONF" --read-envelope-from -t <"$BATS_TEST_TMPDIR/m"
	assert_received_contains "MAIL FROM:<carol@other.example>"
	assert_received_contains "RCPT TO:<dan@example.net>"
	grep -q " from=carol@other.example recipients=dan@example.net " "$LOG" ||
		die "log:" "$(cat "$LOG")"
}

@test "msmtp --read-envelope-from: no From field is exit 65, nothing sent" {
	start_smtpd
	msmtp_config
	printf 'To: dan@example.net\nSubject: s\n\nhi\n' >"$BATS_TEST_TMPDIR/m"
	run_msmtp 65 -C "$MAILPOST_CONF" -a work --read-envelope-from -t <"$BATS_TEST_TMPDIR/m"
	assert_stderr_contains "the message has no From field"
	assert_no_command MAIL
}

@test "msmtp -C file --logfile=F and -X F: msmtp's line in F" {
	start_smtpd -- --max-connections 3
	msmtp_config
	local f=$BATS_TEST_TMPDIR/other.log
	run_msmtp 0 -C "$MAILPOST_CONF" --logfile="$f" -a work bob@example.net <"$MSG"
	run_msmtp 0 -C "$MAILPOST_CONF" -X "$f" --from=bob@work.example bob@example.net <"$MSG"
	[ "$(grep -c ' from=bob@work.example recipients=bob@example.net mailsize=.* exitcode=EX_OK$' "$f")" -eq 2 ] ||
		die "$f:" "$(cat "$f")"
	# --logfile= (empty) writes none, even when the account has one.
	run_msmtp 0 -C "$MAILPOST_CONF" --logfile= -a work bob@example.net <"$MSG"
	[ ! -e "$LOG" ] || die "$LOG was written:" "$(cat "$LOG")"
}

@test "msmtp --host: only the command line's settings, never the file's password (as msmtp)" {
	start_smtpd
	msmtp_config "auth plain" "auth_plaintext on" "user alice" \
		"password Secret-pw-7"
	run_msmtp 0 -C "$MAILPOST_CONF" --host=127.0.0.1 --port="$SMTPD_PORT" \
		-f alice@example.org bob@example.net <"$MSG"
	smtpd_finish
	assert_no_command AUTH
	assert_no_secret Secret-pw-7 "$SMTPD_DIR/received"
	assert_received_contains "MAIL FROM:<alice@example.org>"
	# msmtp refuses --host with an account; so does mailpost.
	run_msmtp 64 -C "$MAILPOST_CONF" --host=127.0.0.1 -a work bob@example.net <"$MSG"
	assert_stderr_contains "--host and --account (-a) cannot be used together"
}

@test "msmtp --from is the envelope sender and picks the account" {
	start_smtpd
	msmtp_config
	run_msmtp 0 -C "$MAILPOST_CONF" --from=carol@other.example bob@example.net <"$MSG"
	assert_received_contains "MAIL FROM:<carol@other.example>"
	# The message passes unchanged: --from composes nothing here.
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "echo | msmtp -P: the settings, the password masked, no connection" {
	msmtp_config "user alice" "password Secret-pw-9" "auth on" "tls on"
	run_msmtp 0 -C "$MAILPOST_CONF" -P < <(echo)
	assert_output_contains "configuration file = $MAILPOST_CONF"
	assert_output_contains "account = default"
	assert_output_contains "host = 127.0.0.1"
	assert_output_contains "user = alice"
	assert_output_contains "password = *"
	assert_output_contains "envelope-from = me@home.example"
	assert_output_contains "logfile = $LOG"
	assert_no_secret Secret-pw-9
	# The account given with -a; under mailpost's name --pretend.
	run_msmtp 0 -C "$MAILPOST_CONF" -P -a work
	assert_output_contains "account = work"
	run_mailpost 0 -C "$MAILPOST_CONF" --pretend -A other --tls=off
	assert_output_contains "envelope-from = carol@other.example"
	assert_output_contains "tls = off"
	[ ! -e "$LOG" ] || die "-P wrote a log line:" "$(cat "$LOG")"
}

@test "msmtp -P shows how the connection is made: the proxy (Tor) and the socket" {
	msmtp_config
	run_msmtp 0 -C "$MAILPOST_CONF" -P -a work
	assert_output_contains "proxy_host = (not set)"
	assert_output_contains "socket = (not set)"
	msmtp_config "account tor : work" "proxy_host 127.0.0.1" \
		"proxy_port 9050" "source_ip 127.0.0.2" \
		"account sock : work" "socket /run/smtp"
	run_msmtp 0 -C "$MAILPOST_CONF" -P -a tor
	assert_output_contains "proxy_host = 127.0.0.1"
	assert_output_contains "proxy_port = 9050"
	assert_output_contains "source_ip = 127.0.0.2"
	run_msmtp 0 -C "$MAILPOST_CONF" -P -a sock
	assert_output_contains "socket = /run/smtp"
}

@test "msmtp: a line holding only a dot is text, as msmtp reads it" {
	start_smtpd -- --max-connections 2
	msmtp_config
	printf 'Subject: s\n\none\n.\ntwo\n' >"$BATS_TEST_TMPDIR/m"
	run_msmtp 0 -C "$MAILPOST_CONF" -a work bob@example.net <"$BATS_TEST_TMPDIR/m"
	# Under mailpost's name, without -i, the dot ends it (sendmail).
	run_mailpost 0 -C "$MAILPOST_CONF" -A work bob@example.net <"$BATS_TEST_TMPDIR/m"
	assert_received_contains $'\r\none\r\n..\r\ntwo\r\n.\r\n'
	grep -q two "$SMTPD_DIR/msg.1" || die "msmtp lost the text after the dot"
	! grep -q two "$SMTPD_DIR/msg.2" || die "sendmail mode read past the dot"
}

@test "msmtp --rmqs and unknown options: 64 with the reason; --passwordeval is msmtp's" {
	msmtp_config
	run_msmtp 64 -C "$MAILPOST_CONF" --rmqs=example.org
	assert_stderr_contains "--rmqs is not supported"
	run_msmtp 0 -C "$MAILPOST_CONF" -P --passwordeval="echo x" b@example.org
	assert_output_contains "passwordeval = *"
	run_msmtp 64 -C "$MAILPOST_CONF" --no-such-option b@example.org
	assert_stderr_contains "unknown option '--no-such-option'"
}

@test "mailpost -a work with no file 'work' but an account work: did you mean -A work? (66)" {
	msmtp_config
	run_mailpost 66 -C "$MAILPOST_CONF" -s hello -a work bob@example.net </dev/null
	assert_stderr_contains "cannot attach 'work': no such file; did you mean -A work (the account)?"
	# A file of that name is attached as asked; a missing file that names
	# no account is the usual error.
	run_mailpost 66 -C "$MAILPOST_CONF" -s hello -a nosuch bob@example.net </dev/null
	assert_stderr_lacks "did you mean"
}
