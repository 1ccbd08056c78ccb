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
