#!/usr/bin/env bats
# 20-config: finding the configuration file, choosing the account, and
# refusing unsafe or broken files.  No server is needed: every account
# points at a closed loopback port, and the error names the port that was
# tried, which shows which account was chosen.  --queue=never keeps the
# refused connection an error (exit 75) instead of a queued message.

load lib/helpers

setup() {
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME"
	unset MAILPOST_CONFIG XDG_CONFIG_HOME
	msg=$BATS_TEST_TMPDIR/msg
	printf 'From: a@example.org\nSubject: t\n\nbody\n' >"$msg"
}

# mp EXPECTED_STATUS args...: run mailpost on the test message and check
# the exit status, showing everything when it differs.
mp() {
	local want=$1
	shift
	run_mailpost "$want" "$@" <"$msg"
}

# expect_stderr TEXT: the diagnostic contains TEXT.
expect_stderr() {
	case "$stderr" in
	*"$1"*) ;;
	*)
		printf 'stderr does not contain "%s":\n%s\n' "$1" "$stderr" >&2
		return 1
		;;
	esac
}

write_conf() { # write_conf FILE MODE, content on stdin
	cat >"$1"
	chmod "$2" "$1"
}

@test "an account is chosen by -A, by --account, and by default" {
	write_conf "$HOME/c" 600 <<-'EOF'
		defaults
		host 127.0.0.1
		timeout 5
		account one
		port 1
		account two
		port 2
		account default : two
	EOF
	mp 75 --queue=never -C "$HOME/c" -A one r@example.org
	expect_stderr "port 1"
	mp 75 --queue=never -C "$HOME/c" --account=one r@example.org
	expect_stderr "port 1"
	mp 75 --queue=never -C "$HOME/c" r@example.org
	expect_stderr "port 2"
	mp 78 -C "$HOME/c" -A three r@example.org
	expect_stderr "three"
}

@test "an account is chosen by matching its from address with -f" {
	write_conf "$HOME/c" 600 <<-'EOF'
		defaults
		host 127.0.0.1
		account work
		from *@work.example
		port 3
		account home
		from me@home.example
		port 4
		account default : home
	EOF
	mp 75 --queue=never -C "$HOME/c" -f boss@work.example r@example.org
	expect_stderr "port 3"
	mp 75 --queue=never -C "$HOME/c" -f me@home.example r@example.org
	expect_stderr "port 4"
	mp 75 --queue=never -C "$HOME/c" -f other@else.example r@example.org
	expect_stderr "port 4"
}

@test "the file is looked up in the documented order" {
	printf 'defaults\nhost 127.0.0.1\nport 5\n' >"$HOME/.msmtprc"
	mp 75 --queue=never r@example.org
	expect_stderr "port 5"

	mkdir -p "$HOME/xdg/mailpost"
	printf 'defaults\nhost 127.0.0.1\nport 6\n' >"$HOME/xdg/mailpost/config"
	XDG_CONFIG_HOME=$HOME/xdg mp 75 --queue=never r@example.org
	expect_stderr "port 6"

	printf 'defaults\nhost 127.0.0.1\nport 7\n' >"$HOME/env.conf"
	MAILPOST_CONFIG=$HOME/env.conf XDG_CONFIG_HOME=$HOME/xdg \
		mp 75 --queue=never r@example.org
	expect_stderr "port 7"

	printf 'defaults\nhost 127.0.0.1\nport 8\n' >"$HOME/explicit.conf"
	MAILPOST_CONFIG=$HOME/env.conf mp 75 --queue=never -C "$HOME/explicit.conf" r@example.org
	expect_stderr "port 8"
}

@test "command-line --host and --port win over the file" {
	printf 'defaults\nhost 127.0.0.2\nport 9\n' >"$HOME/.msmtprc"
	mp 75 --host 127.0.0.1 --port 10 r@example.org
	expect_stderr "127.0.0.1 port 10"
}

@test "no configuration and no --host names every file looked for and the next step" {
	mp 78 r@example.org
	expect_stderr "no configuration file and no --host (looked for \$MAILPOST_CONFIG (not set), $HOME/.config/mailpost/config, $HOME/.msmtprc, $HOME/.config/msmtp/config, "
	expect_stderr "msmtprc); write $HOME/.config/mailpost/config (mailpost.conf(5)), or give --host HOST"
	[ "${#lines[@]}" -le 1 ]
	# The variable is named with its value, $XDG_CONFIG_HOME replaces
	# ~/.config (as in the search itself).
	MAILPOST_CONFIG=$HOME/gone XDG_CONFIG_HOME=$HOME/x mp 78 r@example.org
	expect_stderr "(looked for \$MAILPOST_CONFIG=$HOME/gone, $HOME/x/mailpost/config, $HOME/.msmtprc, $HOME/x/msmtp/config, "
	expect_stderr "write $HOME/x/mailpost/config"
}

@test "an account asked for without a configuration says what was looked for" {
	mp 78 -A work r@example.org
	expect_stderr "account 'work' requested but there is no configuration file (looked for \$MAILPOST_CONFIG (not set), $HOME/.config/mailpost/config,"
	expect_stderr "write $HOME/.config/mailpost/config (mailpost.conf(5)) or give -C FILE"
}

@test "an account of a file read without a host names the account and the file" {
	printf 'account work\nfrom w@example.org\naccount default : work\n' >"$HOME/.msmtprc"
	mp 78 r@example.org
	expect_stderr "account 'default' of $HOME/.msmtprc has no 'host': set 'host' there, or give --host HOST"
}

@test "a missing -C file is a configuration error naming it" {
	mp 78 -C "$HOME/nope" r@example.org
	expect_stderr "$HOME/nope"
}

@test "a syntax error names file, line and key" {
	write_conf "$HOME/c" 600 <<-'EOF'
		defaults
		host 127.0.0.1
		port seventy
	EOF
	mp 78 -C "$HOME/c" r@example.org
	expect_stderr "$HOME/c:3"
	expect_stderr "port"

	write_conf "$HOME/c" 600 <<-'EOF'
		defaults
		hots 127.0.0.1
	EOF
	mp 78 -C "$HOME/c" r@example.org
	expect_stderr "$HOME/c:2"
	expect_stderr "hots"
}

@test "a password in a file others can read is refused with the fix" {
	write_conf "$HOME/c" 644 <<-'EOF'
		defaults
		host 127.0.0.1
		port 1
		password hunter2
	EOF
	mp 78 -C "$HOME/c" r@example.org
	expect_stderr "chmod 600"
	[[ "$stderr" != *hunter2* ]] || {
		echo "the password leaked into the diagnostic: $stderr" >&2
		return 1
	}
	chmod 600 "$HOME/c"
	mp 75 --queue=never -C "$HOME/c" r@example.org

	write_conf "$HOME/d" 660 <<-'EOF'
		defaults
		host 127.0.0.1
		passwordeval echo secret
	EOF
	mp 78 -C "$HOME/d" r@example.org
	expect_stderr "chmod 600"
}

@test "a password file owned by another user is refused" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to give the file away"
	write_conf "$HOME/c" 600 <<-'EOF'
		defaults
		host 127.0.0.1
		password hunter2
	EOF
	chown nobody "$HOME/c"
	mp 78 -C "$HOME/c" r@example.org
	expect_stderr "owned by"
}

@test "a real msmtprc with keys of later features loads" {
	write_conf "$HOME/.msmtprc" 600 <<-'EOF'
		# Set default values for all following accounts.
		defaults
		auth           on
		tls            on
		tls_trust_file /etc/ssl/certs/ca-certificates.crt
		logfile        ~/.msmtp.log

		# Gmail
		account        gmail
		host           127.0.0.1
		port           1
		from           username@gmail.com
		user           username
		password       plain-text-password

		account default : gmail
	EOF
	mp 75 --queue=never r@example.org
	expect_stderr "port 1"
}

@test "logfile gets msmtp's line per message; the transcript only when asked" {
	write_conf "$HOME/c" 600 <<-EOF
		defaults
		host 127.0.0.1
		port 1
		logfile $HOME/log
	EOF
	mp 75 --queue=never -C "$HOME/c" -f s@example.org r@example.org
	[ "$(wc -l <"$HOME/log")" -eq 1 ] || {
		echo "not exactly one line in the log:" >&2
		cat "$HOME/log" >&2
		return 1
	}
	grep -q ' from=s@example.org recipients=r@example.org errormsg=.* exitcode=EX_TEMPFAIL$' "$HOME/log"
	# logfile_level transcript, or -v: the dialogue too.
	for how in "logfile_level transcript" "-v"; do
		rm -f "$HOME/log"
		if [ "$how" = -v ]; then
			mp 75 --queue=never -C "$HOME/c" -v -f s@example.org r@example.org
		else
			echo "$how" >>"$HOME/c"
			mp 75 --queue=never -C "$HOME/c" -f s@example.org r@example.org
		fi
		grep -q '=== Trying 127.0.0.1' "$HOME/log" || {
			echo "$how: no transcript in the log:" >&2
			cat "$HOME/log" >&2
			return 1
		}
		grep -q 'exitcode=EX_TEMPFAIL$' "$HOME/log"
	done
}

@test "a host name that does not resolve is exit 68" {
	# Resolve from /etc/hosts only, inside a private mount namespace, so
	# the test sends no DNS query anywhere.
	[ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null ||
		skip "needs root and unshare for a private /etc/nsswitch.conf"
	printf 'hosts: files\n' >"$BATS_TEST_TMPDIR/nsswitch.conf"
	run --separate-stderr timeout 20 unshare -m sh -c '
		mount --bind "$1" /etc/nsswitch.conf &&
		exec "$2" -C /dev/null --host no-such-host.invalid r@example.org <"$3"
	' sh "$BATS_TEST_TMPDIR/nsswitch.conf" "$MAILPOST" "$msg"
	[ "$status" -eq 68 ] || {
		echo "exit $status, wanted 68; stderr: $stderr" >&2
		return 1
	}
	expect_stderr "no-such-host.invalid"
}

@test "the queue keys load; a bad value names file, line and key" {
	write_conf "$HOME/c" 600 <<-EOF
		defaults
		queue on-failure
		queue_dir $HOME/queue
		queue_max_age 5d
		queue_backoff 5m
		queue_flush_after_send off
		dead_letter ~/dead.letter
		failover_timeout 60
		rewrite_local_from on
		qualify_headers on
		account spare
		host 127.0.0.1
		port 2
		account default
		host 127.0.0.1, localhost
		port 1
		fallback_account spare
	EOF
	mp 0 -C "$HOME/c" --dry-run r@example.org

	write_conf "$HOME/c" 600 <<-'EOF'
		defaults
		host 127.0.0.1
		queue_max_age 5y
	EOF
	mp 78 -C "$HOME/c" r@example.org
	expect_stderr "$HOME/c:3: key 'queue_max_age': '5y' is not a duration"
}

@test "a host list with an empty or odd name is a configuration error" {
	printf 'defaults\nhost 127.0.0.1,,localhost\n' >"$HOME/c"
	mp 78 -C "$HOME/c" r@example.org
	expect_stderr "$HOME/c:2: key 'host'"
	expect_stderr "empty host name"
	printf 'defaults\nhost smtp://127.0.0.1\n' >"$HOME/c"
	mp 78 -C "$HOME/c" r@example.org
	expect_stderr "is not a host name"
}

@test "fallback_account must name an account, without a loop" {
	write_conf "$HOME/c" 600 <<-'EOF'
		account a
		host 127.0.0.1
		fallback_account nowhere
	EOF
	mp 78 -C "$HOME/c" -A a r@example.org
	expect_stderr "account 'a': fallback_account 'nowhere' is not defined in $HOME/c"

	write_conf "$HOME/c" 600 <<-'EOF'
		account a
		host 127.0.0.1
		fallback_account b
		account b
		host 127.0.0.1
		fallback_account a
	EOF
	mp 78 -C "$HOME/c" -A a r@example.org
	expect_stderr "fallback_account loops in $HOME/c: a -> b -> a"
}
