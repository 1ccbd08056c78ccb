#!/usr/bin/env bats
# 78-privileged: mailpost installed setgid as the system's sendmail
# (configure --with-mta-group; src/privilege.c), run by users outside the
# group.  The group may read the system configuration and the secret it
# names, nothing else; every case asserts that neither the password nor the
# configuration's text reaches anything the caller can read.
#
# The build's tests/mailpost-privtest is the program with the group
# "mailposttest" compiled in and its system configuration in
# $MAILPOST_PRIVTEST_ETC (Makefile.am), so the suite's own build serves and
# the machine's /etc is never touched.  setup_file installs it setgid into a
# private directory on a file system without nosuid and creates two users
# (useradd -M); the tests run as them with setpriv.  Needs root.

load lib/helpers

GROUP=mailposttest
SYSPW='Sys-Pw-7f3c9a1e'
MARKER='system-config-marker-5b2d'

# The first of the candidate directories whose file system honours setgid.
suid_base() {
	local d
	for d in /var/tmp /tmp "$BATS_RUN_TMPDIR" /root; do
		[[ -d "$d" ]] || continue
		findmnt -n -T "$d" -o OPTIONS | tr , '\n' | grep -qx nosuid && continue
		printf '%s\n' "$d"
		return 0
	done
	return 1
}

# add_user NAME: an unprivileged user with its own group and home.
add_user() {
	useradd -M -U -d "$PRIV/home/$1" -s /bin/sh "$1" || return 1
	mkdir -p "$PRIV/home/$1"
	chown "$1:$1" "$PRIV/home/$1"
	chmod 700 "$PRIV/home/$1"
}

setup_file() {
	[[ "$(id -u)" == 0 ]] || skip "needs root (useradd, a setgid install)"
	command -v useradd >/dev/null && command -v setpriv >/dev/null ||
		skip "needs useradd and setpriv (util-linux)"
	[[ -x "$MAILPOST_PRIVTEST" ]] || skip "tests/mailpost-privtest not built"
	local base
	base="$(suid_base)" || skip "no directory on a file system without nosuid"
	PRIV="$(mktemp -d "$base/mailpost-priv.XXXXXX")"
	chmod 755 "$PRIV"
	export PRIV
	groupadd -f "$GROUP"
	# Short, unique per run (a name is at most 32 characters).
	export CALLER="mpt$$c" OTHER="mpt$$o"
	add_user "$CALLER"
	add_user "$OTHER"
	mkdir -p "$PRIV/bin"
	install -o root -g "$GROUP" -m 2755 "$MAILPOST_PRIVTEST" "$PRIV/bin/mailpost"
	export BIN="$PRIV/bin/mailpost"
	ETC="$MAILPOST_PRIVTEST_ETC"
	rm -rf "$ETC"
	mkdir -m 755 "$ETC"
	install -o root -g "$GROUP" -m 640 /dev/null "$ETC/secret"
	printf '%s\n' "$SYSPW" >"$ETC/secret"
	export ETC
	# The machine's spool, as make install-mta makes it.
	export SPOOL="$PRIV/spool"
	install -d -o root -g "$GROUP" -m 2770 "$SPOOL" "$SPOOL/tmp" "$SPOOL/dead"
}

teardown_file() {
	[[ -n "${CALLER:-}" ]] && userdel "$CALLER" 2>/dev/null
	[[ -n "${OTHER:-}" ]] && userdel "$OTHER" 2>/dev/null
	[[ -n "${PRIV:-}" && -d "$PRIV" ]] && rm -rf "$PRIV"
	[[ -n "${ETC:-}" && -d "$ETC" ]] && rm -rf "$ETC"
	return 0
}

setup() {
	mailpost_setup
	UHOME="$PRIV/home/$CALLER"
	find "$UHOME" -mindepth 1 -delete
	chmod 700 "$UHOME"
	find "$SPOOL" "$SPOOL/tmp" "$SPOOL/dead" -mindepth 1 -maxdepth 1 \
		! -name tmp ! -name dead -exec rm -rf {} +
	make_message >/dev/null
	chmod 644 "$BATS_TEST_TMPDIR/msg"
	FIFO_PIDS=()
}

teardown() {
	[[ ${#FIFO_PIDS[@]} -eq 0 ]] || kill "${FIFO_PIDS[@]}" 2>/dev/null || true
	mailpost_teardown
}

# plant_fifo NAME: a FIFO $UHOME/NAME that anyone may open, whose writer
# (in the background) writes $BATS_TEST_TMPDIR/NAME.opened once a reader
# opens it, then closes it: the reader sees an empty file, never hangs.
plant_fifo() {
	mkfifo -m 666 "$UHOME/$1"
	chown "$CALLER" "$UHOME/$1"
	(exec 4>"$UHOME/$1" && echo opened >"$BATS_TEST_TMPDIR/$1.opened") 3>&- &
	FIFO_PIDS+=("$!")
}

# assert_not_opened NAME...: no reader ever opened the FIFOs.
assert_not_opened() {
	local name
	for name in "$@"; do
		[[ ! -e "$BATS_TEST_TMPDIR/$name.opened" ]] ||
			die "mailpost opened the caller's $name" || return 1
	done
}

# The system configuration, 0640 root:GROUP: the test server with AUTH
# PLAIN, the password from the secret file through passwordeval, a comment
# no caller may see, then LINEs.
system_config() {
	{
		printf '# %s\n' "$MARKER"
		printf '%s\n' defaults "host 127.0.0.1" "port $SMTPD_PORT" \
			"tls off" "auth plain" "user sysuser" \
			"passwordeval cat $ETC/secret" "from system@example.org" \
			"queue_dir $SPOOL" "$@"
	} >"$ETC/mailpost.conf"
	chown "root:$GROUP" "$ETC/mailpost.conf"
	chmod 640 "$ETC/mailpost.conf"
}

# A server that takes "sysuser" with the system password (and "u1" with
# "userpw", for a user's own configuration), then SCRIPT-LINEs.
start_auth_server() {
	start_smtpd "$(printf '%s\n' "caps PIPELINING, 8BITMIME, AUTH PLAIN" \
		"user sysuser $SYSPW" "user u1 userpw" "$@")"
}

# as_caller [VAR=VALUE...] -- ARGS...: the installed program as CALLER, with
# a small environment (HOME its own) plus the VARs.
as_caller() {
	local vars=()
	while [[ "$1" != -- ]]; do
		vars+=("$1")
		shift
	done
	shift
	(cd "$UHOME" && exec setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups \
		env -i PATH=/usr/bin:/bin LC_ALL=C HOME="$UHOME" "${vars[@]}" \
		timeout 20 "$BIN" "$@")
}

# run_caller EXIT [VAR=VALUE...] -- ARGS...: as_caller under bats' run.
run_caller() {
	local expected="$1"
	shift
	run --separate-stderr as_caller "$@" <"$BATS_TEST_TMPDIR/msg"
	[[ "$status" -eq "$expected" ]] ||
		die "exit $status, expected $expected" "stdout: $output" "stderr: $stderr" ||
		return 1
}

# run_other EXIT ARGS...: the installed program as the other user.
run_other() {
	local expected="$1"
	shift
	run --separate-stderr setpriv --reuid "$OTHER" --regid "$OTHER" --init-groups \
		env -i PATH=/usr/bin:/bin LC_ALL=C HOME="$PRIV/home/$OTHER" \
		timeout 20 "$BIN" "$@" </dev/null
	[[ "$status" -eq "$expected" ]] ||
		die "exit $status, expected $expected" "stdout: $output" "stderr: $stderr" ||
		return 1
}

# run_root EXIT ARGS...: the installed program as root (root's timer).
run_root() {
	local expected="$1"
	shift
	run --separate-stderr env -i PATH=/usr/bin:/bin LC_ALL=C HOME="$BATS_TEST_TMPDIR" \
		timeout 20 "$BIN" "$@" </dev/null
	[[ "$status" -eq "$expected" ]] ||
		die "exit $status, expected $expected" "stdout: $output" "stderr: $stderr" ||
		return 1
}

# The id in "queued as ID" or "dead letter ID" on stderr.
spool_id() {
	grep -o -E '(queued as|dead letter) [0-9a-f]{16}' <<<"$stderr" | head -1 | awk '{print $NF}'
}

# The caller's message queued in the machine's spool with the relay down
# (a server started and stopped: its port refuses); sets ID.
queue_with_relay_down() {
	start_auth_server
	system_config
	stop_smtpd
	run_caller 0 -- bob@example.net || return 1
	assert_stderr_contains "queued as" || return 1
	ID="$(spool_id)"
	[[ -n "$ID" && -d "$SPOOL/$ID" ]] || die "no entry $ID in $SPOOL:" "$(ls -la "$SPOOL")"
}

# Neither the password, its AUTH PLAIN form, nor the configuration's text
# is in stdout, stderr, the FILEs, or the messages the server received.
assert_nothing_leaked() {
	local f s files=("$@")
	if [[ -n "$SMTPD_DIR" ]]; then
		smtpd_finish || return 1
		for f in "$SMTPD_DIR"/msg.*; do
			[[ -e "$f" ]] && files+=("$f")
		done
	fi
	for s in "$SYSPW" "$MARKER" "$(b64 "\\0sysuser\\0$SYSPW")" \
		"passwordeval cat" "user sysuser"; do
		assert_no_secret "$s" "${files[@]}" || return 1
	done
}

@test "privileged: the caller cannot read the system configuration itself" {
	start_auth_server
	system_config
	run setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups cat "$ETC/mailpost.conf"
	[[ "$status" -ne 0 ]] || die "the caller read the system configuration"
	run setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups cat "$ETC/secret"
	[[ "$status" -ne 0 ]] || die "the caller read the secret file"
	assert_equal "root $GROUP 2755" "$(stat -c '%U %G %a' "$BIN")" "the installed program"
}

@test "privileged: a user's message goes out with the system password, read through the group" {
	start_auth_server
	system_config
	run_caller 0 -- bob@example.net
	assert_auth_record "PLAIN user=sysuser" || return 1
	assert_auth_record "reply=235" || return 1
	assert_received_contains "MAIL FROM:<system@example.org>" || return 1
	assert_nothing_leaked
}

@test "privileged: the system account's TLS client key and certificate are read through the group" {
	tls_certs
	install -m 644 "$CERTS/ca.pem" "$ETC/ca.pem"
	install -o root -g "$GROUP" -m 640 "$CERTS/client.pem" "$ETC/client.pem"
	install -o root -g "$GROUP" -m 640 "$CERTS/client.key" "$ETC/client.key"
	start_auth_server "$(tls_cert_line server)" "caps PIPELINING, 8BITMIME, STARTTLS" \
		"tls-caps PIPELINING, 8BITMIME, AUTH PLAIN" "tls-client-ca $CERTS/ca.pem"
	system_config "tls on" "tls_trust_file $ETC/ca.pem" \
		"tls_cert_file $ETC/client.pem" "tls_key_file $ETC/client.key"
	sed -i '/^tls off$/d' "$ETC/mailpost.conf"
	run_caller 0 -- bob@example.net
	assert_tls_session "client-cert=mailpost test client"
	assert_auth_record "PLAIN user=sysuser"
	assert_nothing_leaked
	# Named by the caller, the same key is refused.
	run_caller 66 -- -s hi -a "$ETC/client.key" bob@example.net
	assert_nothing_leaked
	assert_no_secret "PRIVATE KEY"
}

@test "privileged: no TLS session of the system account is kept or resumed for a caller outside the group; its own account's is, in its own state directory" {
	tls_certs
	install -m 644 "$CERTS/ca.pem" "$ETC/ca.pem"
	start_smtpd "$(printf '%s\n' "$(tls_cert_line server)" \
		"caps PIPELINING, 8BITMIME, STARTTLS" "tls-caps PIPELINING, 8BITMIME, AUTH PLAIN" \
		"user sysuser $SYSPW" "user u1 userpw")" -- --max-connections 4
	system_config "tls on" "tls_trust_file $ETC/ca.pem"
	sed -i '/^tls off$/d' "$ETC/mailpost.conf"
	run_caller 0 -- -v bob@example.net
	run_caller 0 -- -v bob@example.net
	assert_stderr_lacks "TLS session resumed"
	[[ ! -e "$UHOME/.local/state/mailpost/tls" ]] ||
		die "a session of the system account was kept for the caller:" "$(ls -laR "$UHOME/.local/state")"
	# The caller's own account: kept, 0600 the caller's, and resumed.
	printf '%s\n' defaults "host localhost" "port $SMTPD_PORT" "tls on" \
		"tls_trust_file $ETC/ca.pem" "auth plain" "user u1" "password userpw" \
		>"$UHOME/own.conf"
	chown "$CALLER" "$UHOME/own.conf"
	chmod 600 "$UHOME/own.conf"
	run_caller 0 -- -C "$UHOME/own.conf" bob@example.net
	run_caller 0 -- -C "$UHOME/own.conf" -v bob@example.net
	assert_stderr_contains "TLS session resumed"
	local f=("$UHOME/.local/state/mailpost/tls"/session-*)
	assert_equal "$CALLER 600" "$(stat -c '%U %a' "${f[0]}")" "the caller's kept session"
	smtpd_finish
	assert_equal "conn 4" "$(cat "$SMTPD_DIR/resumed")" "the handshakes that resumed"
	assert_nothing_leaked
}

@test "privileged: -a and --body-file of the system configuration and its secret are refused" {
	start_auth_server
	system_config
	local f
	for f in "$ETC/mailpost.conf" "$ETC/secret"; do
		run_caller 66 -- -s hi -a "$f" bob@example.net || return 1
		assert_stderr_contains "cannot read $f: permission denied" || return 1
		assert_nothing_leaked || return 1
		run_caller 66 -- -s hi --body-file "$f" bob@example.net || return 1
		assert_stderr_contains "cannot read $f: permission denied" || return 1
		assert_nothing_leaked || return 1
		run_caller 66 -- -s hi --html "$f" bob@example.net || return 1
		assert_nothing_leaked || return 1
	done
	assert_no_message 1
}

@test "privileged: -C naming the system configuration, or a file that names it, runs as the caller" {
	start_auth_server
	system_config
	run_caller 78 -- -C "$ETC/mailpost.conf" bob@example.net
	assert_stderr_contains "cannot read $ETC/mailpost.conf: Permission denied"
	assert_nothing_leaked
	# A link to it is the caller's file, opened as the caller.
	ln -s "$ETC/mailpost.conf" "$UHOME/link.conf"
	run_caller 78 -- -C "$UHOME/link.conf" bob@example.net
	assert_stderr_contains "Permission denied"
	assert_nothing_leaked
	# A configuration of the caller's whose aliases file and password
	# command name the system's files: read without the group.
	printf '%s\n' defaults "host 127.0.0.1" "port $SMTPD_PORT" "tls off" \
		"auth plain" "user u1" "passwordeval cat $ETC/secret" \
		>"$UHOME/own.conf"
	chown "$CALLER" "$UHOME/own.conf"
	chmod 600 "$UHOME/own.conf"
	run_caller 78 -- -C "$UHOME/own.conf" bob@example.net
	assert_stderr_contains "passwordeval"
	assert_nothing_leaked
	printf '%s\n' defaults "host 127.0.0.1" "port $SMTPD_PORT" "tls off" \
		"aliases $ETC/mailpost.conf" >"$UHOME/own.conf"
	run_caller 78 -- -C "$UHOME/own.conf" bob
	assert_stderr_contains "Permission denied"
	assert_nothing_leaked
	assert_no_message 1
}

@test "privileged: MAILPOST_CONFIG, XDG_CONFIG_HOME and HOME pointing at the system files are read as the caller" {
	start_auth_server
	system_config
	local evil="$UHOME/evil"
	mkdir -p "$evil/mailpost"
	ln -s "$ETC/mailpost.conf" "$evil/mailpost/config"
	ln -s "$ETC/mailpost.conf" "$evil/.msmtprc"
	ln -s "$ETC/mailpost.conf" "$evil/mp.conf"
	chown -hR "$CALLER" "$evil"
	run_caller 78 MAILPOST_CONFIG="$evil/mp.conf" -- bob@example.net
	assert_stderr_contains "Permission denied"
	assert_nothing_leaked
	run_caller 78 XDG_CONFIG_HOME="$evil" -- bob@example.net
	assert_stderr_contains "Permission denied"
	assert_nothing_leaked
	run_caller 78 HOME="$evil" -- bob@example.net
	assert_stderr_contains "Permission denied"
	assert_nothing_leaked
	assert_no_message 1
}

@test "privileged: TMPDIR and CREDENTIALS_DIRECTORY of the caller's choosing are ignored" {
	start_auth_server
	system_config
	local evil="$UHOME/evil"
	mkdir -p "$evil"
	chown "$CALLER" "$evil"
	run_caller 0 TMPDIR="$evil" CREDENTIALS_DIRECTORY="$evil" -- bob@example.net
	assert_equal "" "$(ls -A "$evil")" "what was written in the caller's TMPDIR"
	assert_auth_record "reply=235"
	assert_nothing_leaked
}

@test "privileged: -v -v -v and a log file of the caller's show the dialogue without the password or the configuration" {
	start_auth_server
	system_config
	run_caller 0 -- -v -v -v --logfile "$UHOME/log" bob@example.net
	assert_stderr_contains "AUTH PLAIN"
	grep -q "AUTH PLAIN" "$UHOME/log" || die "no dialogue in the log file:" "$(cat "$UHOME/log")"
	assert_equal "$CALLER" "$(stat -c %U "$UHOME/log")" "the log file's owner"
	grep -q "user=\*" "$UHOME/log" || die "no hidden user in the log line:" "$(cat "$UHOME/log")"
	assert_no_secret "sysuser" "$UHOME/log"
	assert_nothing_leaked "$UHOME/log"
}

@test "privileged: --dry-run and --check-config show values hidden, and run no passwordeval" {
	start_auth_server
	system_config "tls_trust_file $ETC/secret"
	run_caller 0 -- --dry-run -v bob@example.net
	assert_output_contains "Subject:"
	assert_stderr_contains "mailpost: dry run: recipient <bob@example.net>"
	assert_stderr_contains "would authenticate as (set, hidden) with plain; the password from the system configuration (hidden)"
	assert_nothing_leaked
	run_caller 0 -- --check-config bob@example.net
	assert_output_contains "user = (set, hidden)"
	assert_output_contains "tls_trust_file = (set, hidden)"
	assert_output_contains "passwordeval = *"
	assert_output_contains "OK    file: $ETC/mailpost.conf"
	assert_output_contains "OK    password: the system configuration's, hidden; only root's --check-config tries its source"
	assert_nothing_leaked
	assert_no_secret "$ETC/secret"
	# msmtp's name for it too.
	run_caller 0 -- --pretend
	assert_output_contains "user = (set, hidden)"
	assert_nothing_leaked
	assert_no_message 1
}

@test "privileged: options that would take the system password elsewhere are refused" {
	start_auth_server
	system_config
	local opt
	for opt in "--host=127.0.0.2" "--port=1" "--tls-certcheck=off" "--auth=login" "--user=u1"; do
		run_caller 64 -- "$opt" bob@example.net || return 1
		assert_stderr_contains "cannot change how the system configuration's account connects" || return 1
		assert_nothing_leaked || return 1
	done
	assert_no_message 1
}

@test "privileged: --show-auth is refused with the system configuration, before its passwordeval runs; with -C it shows the caller's own" {
	start_auth_server
	counted_system_config
	local opt
	for opt in bob@example.net -bs; do
		run --separate-stderr as_caller -- -v --show-auth "$opt" \
			<"$BATS_TEST_TMPDIR/msg"
		[[ "$status" -eq 64 ]] || die "($opt) exit $status, expected 64" "stderr: $stderr" || return 1
		assert_stderr_contains "--show-auth would show the system configuration's password" || return 1
		assert_nothing_leaked || return 1
	done
	assert_equal "" "$(ran)" "the system's passwordeval ran"
	assert_no_message 1
	start_auth_server
	printf '%s\n' defaults "host 127.0.0.1" "port $SMTPD_PORT" "tls off" \
		"auth plain" "user u1" "password userpw" "from u1@example.org" >"$UHOME/own.conf"
	chown "$CALLER" "$UHOME/own.conf"
	chmod 600 "$UHOME/own.conf"
	run_caller 0 -- -C "$UHOME/own.conf" --show-auth bob@example.net
	assert_stderr_contains "[decoded: \\0u1\\0userpw]"
}

@test "privileged: a passwordeval of the caller's own configuration runs without the group" {
	start_auth_server
	mkdir -p "$UHOME/.config/mailpost"
	printf '%s\n' defaults "host 127.0.0.1" "port $SMTPD_PORT" "tls off" \
		"auth plain" "user u1" "from u1@example.org" \
		"passwordeval id -G >$UHOME/ids; id -g >$UHOME/egid; echo userpw" \
		>"$UHOME/.config/mailpost/config"
	chown -R "$CALLER" "$UHOME/.config"
	chmod 600 "$UHOME/.config/mailpost/config"
	system_config
	run_caller 0 -- bob@example.net
	assert_auth_record "PLAIN user=u1"
	local gid
	gid="$(getent group "$GROUP" | cut -d: -f3)"
	[[ -s "$UHOME/ids" ]] || die "the command did not run"
	[[ " $(cat "$UHOME/ids") " != *" $gid "* ]] ||
		die "the user's command ran with the group $GROUP: $(cat "$UHOME/ids")"
	assert_equal "$(id -g "$CALLER")" "$(cat "$UHOME/egid")" "the command's group"
	assert_nothing_leaked
}

@test "privileged: a system configuration others may write gets its passwordeval refused" {
	start_auth_server
	# Owned by the caller: it passes the permission check of a user's file,
	# but its commands must not run with the group.
	system_config "passwordeval_timeout 5"
	sed -i "s|^passwordeval .*|passwordeval touch $UHOME/ran; cat $ETC/secret|" "$ETC/mailpost.conf"
	chown "$CALLER:$GROUP" "$ETC/mailpost.conf"
	run_caller 78 -- bob@example.net
	assert_stderr_contains "runs with the group $GROUP only when the file is owned by root"
	[[ ! -e "$UHOME/ran" ]] || die "the passwordeval ran"
	# Writable by the group: refused before anything runs.
	chown "root:$GROUP" "$ETC/mailpost.conf"
	chmod 660 "$ETC/mailpost.conf"
	run_caller 78 -- bob@example.net
	assert_stderr_contains "is writable by others"
	[[ ! -e "$UHOME/ran" ]] || die "the passwordeval ran"
	assert_nothing_leaked
	assert_no_message 1
}

@test "privileged: a failing passwordeval stops only its own account; a shared one runs once" {
	start_auth_server
	install -o root -g "$GROUP" -m 660 /dev/null "$ETC/runs"
	system_config "account default" "account broken" "passwordeval exit 3"
	sed -i "s|^passwordeval cat .*|passwordeval echo run >>$ETC/runs; cat $ETC/secret|" "$ETC/mailpost.conf"
	run_caller 0 -- bob@example.net
	assert_auth_record "PLAIN user=sysuser reply=235"
	assert_equal 1 "$(wc -l <"$ETC/runs")" "runs of the command the defaults and 'default' share"
	run_caller 78 -- -A broken bob@example.net
	assert_stderr_contains "passwordeval command"
	assert_stderr_contains "exit status 3"
	assert_nothing_leaked
	# Which accounts exist is the configuration's text too.
	run_caller 78 -- -A nosuch bob@example.net
	assert_stderr_contains "account 'nosuch' not found"
	assert_stderr_lacks "broken"
	assert_nothing_leaked
}

@test "privileged: GSSAPI_MECH_CONF and KRB5_CONFIG of the caller's are never read" {
	# The mechanism file would name a .so that libgssglue loads, in the
	# process that holds the system configuration's secrets.
	start_smtpd "caps PIPELINING, 8BITMIME, AUTH GSSAPI"
	system_config "auth gssapi"
	plant_fifo mech.conf
	plant_fifo krb5.conf
	run --separate-stderr as_caller GSSAPI_MECH_CONF="$UHOME/mech.conf" \
		KRB5_CONFIG="$UHOME/krb5.conf" -- bob@example.net <"$BATS_TEST_TMPDIR/msg"
	# 76: no Kerberos ticket.  A sanitizer build exits 1 instead: MIT
	# Kerberos's mechanism loses a small block after the failed
	# gss_init_sec_context, and a setgid process takes no LSAN_OPTIONS
	# to suppress it; no frame of mailpost's own is in the report.
	[[ "$status" -eq 76 ]] ||
		{ [[ "$status" -eq 1 && "$stderr" == *LeakSanitizer* ]] &&
			! grep -Eq '/src/(base|account|message|wire|delivery|cmd)/' <<<"$stderr"; } ||
		die "exit $status, expected 76" "stderr: $stderr" || return 1
	assert_stderr_contains "AUTH GSSAPI: cannot answer"
	assert_not_opened mech.conf krb5.conf
	assert_nothing_leaked
}

@test "privileged: MAGIC, ~/.magic and MAILPOST_TEST_MIME_TYPES of the caller's never type an attachment" {
	printf '0\tstring\tMPPLANTED\tplanted\n!:mime\tapplication/x-caller-planted\n' \
		>"$UHOME/magic"
	printf 'application/x-caller-planted mpt\n' >"$UHOME/mime.types"
	# Without an extension: neither a signature nor mime.types types it,
	# libmagic does.
	printf 'MPPLANTED\001\002\003\377\376binary' >"$UHOME/att"
	cp "$UHOME/att" "$UHOME/att.mpt"
	chown "$CALLER" "$UHOME/magic" "$UHOME/mime.types" "$UHOME/att" "$UHOME/att.mpt"
	local var file
	# MAGIC names the database; without it libmagic adds ~/.magic.
	# MAILPOST_TEST_MIME_TYPES would stand in for /etc/mime.types.
	for var in MAGIC="$UHOME/magic" HOME="$UHOME" MAILPOST_TEST_MIME_TYPES="$UHOME/mime.types"; do
		start_auth_server
		system_config
		rm -f "$UHOME/.magic"
		[[ "$var" == HOME=* ]] && install -o "$CALLER" "$UHOME/magic" "$UHOME/.magic"
		file=att
		[[ "$var" == MAILPOST_TEST_MIME_TYPES=* ]] && file=att.mpt
		run_caller 0 "$var" -- -s hi -a "$UHOME/$file" bob@example.net || return 1
		assert_received_contains "name=$file" || return 1
		assert_received_lacks "x-caller-planted" || die "typed by $var" || return 1
		assert_nothing_leaked || return 1
		stop_smtpd
	done
}

@test "privileged: a caller's own configuration gets the caller's whole environment back" {
	start_auth_server
	system_config
	printf '%s\n' defaults "host 127.0.0.1" "port $SMTPD_PORT" "tls off" \
		"auth plain" "user u1" "from u1@example.org" \
		"passwordeval env >>$UHOME/seen; echo userpw" \
		>"$UHOME/own.conf"
	chown "$CALLER" "$UHOME/own.conf"
	chmod 600 "$UHOME/own.conf"
	run_caller 0 GNUPGHOME="$UHOME/gpg" -- -C "$UHOME/own.conf" bob@example.net
	mkdir -p "$UHOME/.config/mailpost"
	cp "$UHOME/own.conf" "$UHOME/.config/mailpost/config"
	chown -R "$CALLER" "$UHOME/.config"
	run_caller 0 GNUPGHOME="$UHOME/gpg" -- bob@example.net
	assert_equal "GNUPGHOME=$UHOME/gpg"$'\n'"GNUPGHOME=$UHOME/gpg" \
		"$(grep '^GNUPGHOME=' "$UHOME/seen")" \
		"GNUPGHOME as the user's passwordeval saw it, with -C and without"
	assert_auth_record "PLAIN user=u1 reply=235"
}

# system_config whose passwordeval writes "system" to $ETC/runs (see ran).
counted_system_config() {
	install -o root -g "$GROUP" -m 660 /dev/null "$ETC/runs"
	system_config
	sed -i "s|^passwordeval cat .*|passwordeval echo system >>$ETC/runs; cat $ETC/secret|" \
		"$ETC/mailpost.conf"
}

# The accounts whose passwordeval wrote to $ETC/runs, sorted, on one line.
ran() {
	sort "$ETC/runs" | tr '\n' ' ' | sed 's/ $//'
}

@test "privileged: only the chosen account's passwordeval runs, with its fallback account's" {
	local otherpw='Other-Pw-3e9d1c'
	start_smtpd "$(printf '%s\n' "caps PIPELINING, 8BITMIME, AUTH PLAIN" \
		"user sysuser $SYSPW" "user otheruser $otherpw")" -- --max-connections 5
	install -o root -g "$GROUP" -m 660 /dev/null "$ETC/runs"
	system_config \
		"account a1" "from a1@example.org" "fallback_account a2" \
		"passwordeval echo a1 >>$ETC/runs; cat $ETC/secret" \
		"account a2" "passwordeval echo a2 >>$ETC/runs; cat $ETC/secret" \
		"account other" "from other@example.org" "user otheruser" \
		"passwordeval echo other >>$ETC/runs; echo $otherpw" \
		"account nofrom" "from" "passwordeval echo nofrom >>$ETC/runs; echo x" \
		"account default : a1"
	run_caller 0 -- -v -v -v -A a1 bob@example.net
	assert_equal "a1 a2" "$(ran)" "commands run for -A a1"
	assert_no_secret "$otherpw"
	assert_no_secret "$(b64 "\\0otheruser\\0$otherpw")"
	# The default account (a1's copy, then its fallback).
	: >"$ETC/runs"
	run_caller 0 -- bob@example.net
	assert_equal "a1 a2" "$(ran)" "commands run for the default"
	# Chosen by -f through its `from`.
	: >"$ETC/runs"
	run_caller 0 -- -f other@example.org bob@example.net
	assert_equal "other" "$(ran)" "commands run for -f other@example.org"
	# -bs chooses its account at the start, as a send does.
	: >"$ETC/runs"
	run --separate-stderr as_caller -- -bs -A other <<<$'QUIT\r'
	assert_equal 0 "$status" "exit of -bs (stderr: $stderr)"
	assert_equal "other" "$(ran)" "commands run for -bs -A other"
	# A From read from the message may choose any account with a `from`
	# (a1's command runs for a1 and for the default, its copy), never
	# one without (nofrom).
	: >"$ETC/runs"
	printf 'From: other@example.org\nTo: bob@example.net\nSubject: x\n\nhi\n' \
		>"$BATS_TEST_TMPDIR/msg"
	run_caller 0 -- --read-envelope-from bob@example.net
	assert_equal "a1 a1 a2 other" "$(ran)" "commands run for --read-envelope-from"
	# Each run delivered (assertions on the server's files end it).
	assert_auth_record "conn 1: PLAIN user=sysuser reply=235"
	assert_auth_record "conn 2: PLAIN user=sysuser reply=235"
	assert_auth_record "conn 3: PLAIN user=otheruser reply=235"
	assert_auth_record "conn 4: PLAIN user=otheruser reply=235"
	assert_nothing_leaked
}

@test "privileged: a server named in the caller's own queue entry never gets the system password" {
	start_auth_server
	system_config
	# A queue of the caller's own (the machine's spool is out of its
	# reach), whose entries it can edit.
	run_caller 0 -- --queue always --queue-dir "$UHOME/queue" bob@example.net
	local envelope trap_port
	envelope="$(find "$UHOME" -name envelope -path '*queue*' | head -1)"
	[[ -n "$envelope" ]] || die "no queue entry under $UHOME" || return 1
	# A listener that would log the AUTH line the entry points at.
	trap_port="$(unused_port)"
	"$SMTPD_PYTHON" -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); s.settimeout(30)
c, _ = s.accept(); open(sys.argv[2], "w").write("connected\n")' \
		"$trap_port" "$BATS_TEST_TMPDIR/trapped" 3>&- &
	TRAP_PID=$!
	sed -i '/^port: /d; /^host: /d' "$envelope"
	printf 'host: 127.0.0.1\nport: %s\n' "$trap_port" >>"$envelope"
	run_caller 78 -- -q --queue-dir "$UHOME/queue"
	assert_stderr_contains "names its own server"
	assert_stderr_contains "--queue-remove"
	kill "$TRAP_PID" 2>/dev/null || true
	wait "$TRAP_PID" 2>/dev/null || true
	[[ ! -e "$BATS_TEST_TMPDIR/trapped" ]] || die "mailpost connected to the entry's server" || return 1
	[[ -e "$envelope" ]] || die "the entry is gone" || return 1
	assert_no_command AUTH
	assert_nothing_leaked
}

@test "privileged: a system passwordeval runs in / with umask 077, default signals and no descriptor of the caller's" {
	start_auth_server
	install -o root -g "$GROUP" -m 660 /dev/null "$ETC/ctx"
	system_config
	sed -i "s|^passwordeval cat .*|passwordeval { pwd; umask; grep -E '^Sig(Ign\|Blk)' /proc/self/status; ls /proc/self/fd; } >$ETC/ctx; cat $ETC/secret|" \
		"$ETC/mailpost.conf"
	(cd "$UHOME" && exec setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups \
		env -i PATH=/usr/bin:/bin HOME="$UHOME" \
		bash -c 'umask 000; trap "" HUP TERM USR1; exec 17</etc/hostname 70000</etc/hostname 2>/dev/null || exec 17</etc/hostname; exec "$0" "$@"' \
		"$BIN" bob@example.net <"$BATS_TEST_TMPDIR/msg" >"$BATS_TEST_TMPDIR/out" 2>&1) ||
		die "exit $?:" "$(cat "$BATS_TEST_TMPDIR/out")" || return 1
	assert_auth_record "PLAIN user=sysuser reply=235" || return 1
	local ctx
	ctx="$(cat "$ETC/ctx")"
	assert_equal "/" "$(sed -n 1p <<<"$ctx")" "working directory" || return 1
	assert_equal "0077" "$(sed -n 2p <<<"$ctx")" "umask" || return 1
	assert_equal "SigBlk:	0000000000000000" "$(grep SigBlk <<<"$ctx")" "blocked signals" || return 1
	# 32 and 33 are glibc's own, which sigaction(2) leaves alone.
	local ign
	ign="$(sed -n 's/^SigIgn:\t//p' <<<"$ctx")"
	assert_equal 0 "$((0x$ign & ~0x180000000))" "ignored signals (SigIgn $ign)" || return 1
	assert_equal "0 1 2 3" "$(sed -n '5,$p' <<<"$ctx" | sort -n | tr '\n' ' ' | sed 's/ $//')" \
		"descriptors of ls(1) (3: the directory it reads)" || return 1
	assert_nothing_leaked "$BATS_TEST_TMPDIR/out"
}

@test "privileged: a system passwordeval's command is in no argv that other users or the caller can read" {
	start_auth_server
	system_config
	sed -i "s|^passwordeval cat .*|passwordeval sleep 2; cat $ETC/secret # eval-marker-9a7|" \
		"$ETC/mailpost.conf"
	as_caller -- bob@example.net <"$BATS_TEST_TMPDIR/msg" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	local pid=$! i seen=
	# Every process's command line, as the other user and as the
	# caller, while the command runs; its environment as the caller.
	for ((i = 0; i < 30; i++)); do
		seen+="$(setpriv --reuid "$OTHER" --regid "$OTHER" --init-groups \
			sh -c 'cat /proc/[0-9]*/cmdline 2>/dev/null' | tr '\0' ' ')"
		seen+="$(setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups \
			sh -c 'cat /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null' | tr '\0' ' ')"
		sleep 0.1
	done
	wait "$pid" || die "exit $?:" "$(cat "$BATS_TEST_TMPDIR/out")" || return 1
	[[ "$seen" != *eval-marker-9a7* ]] ||
		die "the command was readable:" "$(grep -o '.\{0,60\}eval-marker-9a7' <<<"$seen" | head -3)" ||
		return 1
	assert_auth_record "PLAIN user=sysuser reply=235"
}

# on_terminal COMMAND...: COMMAND as the foreground job of a new session
# whose controlling terminal is a pseudo-terminal (a user at a shell
# prompt); its exit status.  What it writes on the terminal is dropped.
on_terminal() {
	"$SMTPD_PYTHON" -c 'import os, pty, sys
pid, master = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
while True:
    try:
        if not os.read(master, 4096):
            break
    except OSError:
        break
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))' "$@"
}

# terminal_caller ARGS...: the installed program as CALLER on a terminal
# (on_terminal), the message on stdin, stdout and stderr into $UHOME/out.
terminal_caller() {
	install -o "$CALLER" -m 600 "$BATS_TEST_TMPDIR/msg" "$UHOME/msg"
	on_terminal setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups \
		env -i PATH=/usr/bin:/bin LC_ALL=C HOME="$UHOME" \
		sh -c 'cd "$HOME" && exec timeout --foreground 20 "$@" <msg >out 2>&1' sh \
		"$BIN" "$@"
}

@test "privileged: on the caller's terminal a system passwordeval has none (no /dev/tty); the caller's own has it" {
	start_auth_server
	install -o root -g "$GROUP" -m 660 /dev/null "$ETC/tty"
	local probe='if (: </dev/tty) 2>/dev/null; then echo opened; else echo none; fi'
	system_config
	sed -i "s|^passwordeval cat .*|passwordeval $probe >$ETC/tty; cat $ETC/secret|" \
		"$ETC/mailpost.conf"
	terminal_caller bob@example.net ||
		die "exit $?:" "$(cat "$UHOME/out")" || return 1
	assert_auth_record "PLAIN user=sysuser reply=235" || return 1
	assert_equal none "$(cat "$ETC/tty")" "the system command's terminal" || return 1
	assert_nothing_leaked "$UHOME/out" || return 1
	# A user's own command may ask the user (a passphrase prompt).
	stop_smtpd
	start_auth_server
	printf '%s\n' defaults "host 127.0.0.1" "port $SMTPD_PORT" "tls off" \
		"auth plain" "user u1" "from u1@example.org" \
		"passwordeval $probe >$UHOME/tty; echo userpw" >"$UHOME/own.conf"
	chown "$CALLER" "$UHOME/own.conf"
	chmod 600 "$UHOME/own.conf"
	terminal_caller -C "$UHOME/own.conf" bob@example.net ||
		die "exit $?:" "$(cat "$UHOME/out")" || return 1
	assert_auth_record "PLAIN user=u1 reply=235"
	assert_equal opened "$(cat "$UHOME/tty")" "the user's command's terminal"
}

@test "privileged: a syntax error in the system configuration is located, not quoted" {
	start_auth_server
	system_config "from_header $MARKER-bad"
	run_caller 78 -- bob@example.net
	assert_stderr_contains "$ETC/mailpost.conf:"
	assert_stderr_contains "error in the system configuration"
	assert_nothing_leaked
}

# assert_hidden_error LINE: the error locates the system configuration's
# LINE and names none of its accounts or values.
assert_hidden_error() {
	assert_stderr_contains "mailpost: $ETC/mailpost.conf:$1: error in the system configuration (shown only to root and the system sendmail's group); as root, run 'mailpost --pretend' to see it" || return 1
	local s
	for s in acctone accttwo lonely nosuchacct '@wild.example'; do
		assert_stderr_lacks "$s" || return 1
	done
	assert_nothing_leaked
}

@test "privileged: errors about the system configuration's accounts say where, not what (fallback loop, undefined fallback, pattern from)" {
	start_auth_server
	system_config "account acctone" "fallback_account accttwo" \
		"account accttwo" "fallback_account acctone" \
		"account default : acctone" \
		"account lonely" "fallback_account nosuchacct" \
		"account wildone" 'from *@wild.example'
	local conf="$ETC/mailpost.conf" l_one l_lonely l_wild
	l_one=$(grep -n '^account acctone$' "$conf" | cut -d: -f1)
	l_lonely=$(grep -n '^account lonely$' "$conf" | cut -d: -f1)
	l_wild=$(grep -n '^account wildone$' "$conf" | cut -d: -f1)
	# default -> accttwo -> acctone -> accttwo: acctone's fallback
	# closes the loop.
	run_caller 78 -- bob@example.net
	assert_hidden_error "$l_one" || return 1
	run_caller 78 -- -A lonely bob@example.net
	assert_hidden_error "$l_lonely" || return 1
	run_caller 78 -- -A wildone bob@example.net
	assert_hidden_error "$l_wild" || return 1
	assert_no_message 1
	# Root, who may read the file, is told what.
	run --separate-stderr env -i PATH=/usr/bin:/bin HOME="$BATS_TEST_TMPDIR" \
		timeout 20 "$BIN" bob@example.net <"$BATS_TEST_TMPDIR/msg"
	[[ "$status" -eq 78 ]] || die "root: exit $status" "$stderr"
	assert_stderr_contains "fallback_account loops in $conf: default -> accttwo -> acctone -> accttwo"
}

@test "privileged: a caller's -q is refused before any account's passwordeval runs" {
	install -o root -g "$GROUP" -m 660 /dev/null "$ETC/runs"
	SMTPD_PORT=1 system_config \
		"account a1" "passwordeval echo a1 >>$ETC/runs; cat $ETC/secret" \
		"account default : a1"
	sed -i "s|^passwordeval cat .*|passwordeval echo defaults >>$ETC/runs; cat $ETC/secret|" \
		"$ETC/mailpost.conf"
	run_caller 64 -- -q
	assert_stderr_contains "root's timer"
	assert_equal "" "$(ran)" "commands run for a caller's -q"
	# Its own queue, as it always could: every account may be needed.
	run_caller 0 -- -q --queue-dir "$UHOME/q"
}

@test "privileged: a caller's --oauth2-login of the system configuration's account is refused (77) before any passwordeval runs" {
	install -o root -g "$GROUP" -m 660 /dev/null "$ETC/runs"
	SMTPD_PORT=1 system_config
	sed -i "s|^passwordeval cat .*|passwordeval echo defaults >>$ETC/runs; cat $ETC/secret|" \
		"$ETC/mailpost.conf"
	run_caller 77 -- --oauth2-login
	assert_stderr_contains "only root can log in the system configuration's accounts with --oauth2-login"
	assert_equal "" "$(ran)" "commands run for a caller's --oauth2-login"
	assert_nothing_leaked
}

@test "privileged: a password source on the command line is refused with the system configuration, before its passwordeval runs; with -C it runs without the group" {
	start_auth_server
	counted_system_config
	local opt
	for opt in "--passwordeval=echo userpw" "--password-env=HOME"; do
		run_caller 64 -- "$opt" bob@example.net || return 1
		assert_stderr_contains "a password given on the command line cannot be used with the system configuration's account, whose password is the system's; give your own settings with -C FILE" || return 1
		assert_stderr_lacks "$SYSPW" || return 1
	done
	assert_equal "" "$(ran)" "the system's passwordeval ran"
	# The caller's own file: the caller's command, without the group.
	printf '%s\n' defaults "host 127.0.0.1" "port $SMTPD_PORT" "tls off" \
		"auth plain" "user u1" "from u1@example.org" >"$UHOME/own.conf"
	chown "$CALLER" "$UHOME/own.conf"
	chmod 600 "$UHOME/own.conf"
	run_caller 0 -- -C "$UHOME/own.conf" \
		"--passwordeval=id -G >$UHOME/ids; echo userpw" bob@example.net
	assert_auth_record "PLAIN user=u1"
	[[ -s "$UHOME/ids" ]] || die "the command did not run"
	local gid
	gid="$(getent group "$GROUP" | cut -d: -f3)"
	[[ " $(cat "$UHOME/ids") " != *" $gid "* ]] ||
		die "the caller's command ran with the group $GROUP: $(cat "$UHOME/ids")"
	assert_equal "" "$(ran)" "the system's passwordeval ran"
	assert_nothing_leaked
}

@test "privileged: the machine's spool is the default account's even when the default's passwordeval fails" {
	# --read-envelope-from keeps the default account and every account
	# with a from; the default's failing command must not send the
	# message's queue elsewhere than the spool the file names.
	start_auth_server
	system_config "account default" "passwordeval exit 3" \
		"account other" "from other@example.org" "passwordeval cat $ETC/secret"
	stop_smtpd
	printf 'From: other@example.org\nTo: bob@example.net\nSubject: x\n\nhi\n' \
		>"$BATS_TEST_TMPDIR/msg"
	run_caller 0 -- --read-envelope-from bob@example.net
	assert_stderr_contains "queued as"
	ID="$(spool_id)"
	[[ -n "$ID" && -d "$SPOOL/$ID" ]] || die "no entry $ID in $SPOOL:" "$(ls -la "$SPOOL")"
	assert_equal "" "$(ls -A "$UHOME")" "the caller's home"
	assert_nothing_leaked "$SPOOL/$ID/envelope" "$SPOOL/$ID/message"
}

@test "privileged: a system account without a password is located, never looked up in the caller's netrc, keyring or terminal" {
	start_auth_server
	system_config "account nopw" "user nopw-user-4c1e" "from nopw@example.org"
	sed -i '/^passwordeval /d' "$ETC/mailpost.conf"
	local line
	line=$(grep -n '^account nopw$' "$ETC/mailpost.conf" | cut -d: -f1)
	printf 'machine 127.0.0.1 login nopw-user-4c1e password userpw\n' >"$UHOME/.netrc"
	mkdir "$UHOME/bin"
	printf '#!/bin/sh\necho "$@" >%s\necho userpw\n' "$UHOME/keyring.args" >"$UHOME/bin/secret-tool"
	chmod 755 "$UHOME/bin/secret-tool"
	chown -R "$CALLER" "$UHOME"
	chmod 600 "$UHOME/.netrc"
	run_caller 78 PATH="$UHOME/bin:/usr/bin:/bin" -- -A nopw bob@example.net
	assert_stderr_contains "mailpost: $ETC/mailpost.conf:$line: error in the system configuration"
	assert_stderr_lacks "nopw-user-4c1e"
	assert_stderr_lacks "127.0.0.1"
	[[ ! -e "$UHOME/keyring.args" ]] || die "the caller's keyring tool ran:" "$(cat "$UHOME/keyring.args")"
	assert_no_secret "nopw-user-4c1e" "$UHOME/dead.letter"
	assert_no_message 1
	# Root is told what.
	run_root 78 -A nopw bob@example.net
	assert_stderr_contains "no password"
}

# scan_memory PID PATTERN...: how many times each PATTERN is in the
# memory of PID (root reads it, dumpable or not), "PATTERN=N" per line.
# Mappings past 256 MiB are left out: a sanitizer's shadow memory, terabytes
# reserved, holds no copy of ours.
scan_memory() {
	"$SMTPD_PYTHON" -c 'import sys
pid = sys.argv[1]
pats = [p.encode() for p in sys.argv[2:]]
n = dict.fromkeys(pats, 0)
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb") as mem:
    for line in maps:
        f = line.split()
        if "r" not in f[1]:
            continue
        a, b = (int(x, 16) for x in f[0].split("-"))
        if b - a > 256 << 20:
            continue
        try:
            mem.seek(a)
            data = mem.read(b - a)
        except OSError:
            continue
        for p in pats:
            n[p] += data.count(p)
for p in pats:
    print(f"{p.decode()}={n[p]}")' "$@"
}

# mid_send_pids: once the test server holds the caller's message at DATA
# (AUTH done), the caller's sending process in MAIN and its spool helper
# (the child of another of its processes) in HELPER ("" when none).
mid_send_pids() {
	local i pid pids=()
	for ((i = 0; i < 100; i++)); do
		[[ -s "$SMTPD_DIR/auth" ]] && grep -q DATA "$SMTPD_DIR/log" 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.5
	MAIN= HELPER=
	mapfile -t pids < <(pgrep -u "$CALLER" -x mailpost)
	for pid in "${pids[@]}"; do
		if [[ " ${pids[*]} " == *" $(awk '/^PPid:/ {print $2}' "/proc/$pid/status") "* ]]; then
			HELPER=$pid
		else
			MAIN=$pid
		fi
	done
	[[ -n "$MAIN" ]] || die "no sending process among: ${pids[*]}"
}

@test "privileged: mid-send the caller's process holds only the chosen account's password, the spool helper none, no text of the file" {
	local otherpw='Other-Pw-8b1d0e' inlinepw='Inline-Pw-51c7aa' main helper
	# Under the sanitizers, 32-byte pieces of the file's text (a vector
	# register's worth, saved by code of the runtime's) show up on the
	# stack now and then: beyond any wipe of ours.
	! ldd "$BIN" | grep -q libasan ||
		skip "a sanitizer build keeps register copies of the file's text"
	start_auth_server "on DATA" "  sleep 8" "  default"
	system_config "account default" "passwordeval cat $ETC/secret" \
		"account other" "user otheruser" "passwordeval echo $otherpw" \
		"account inline" "password $inlinepw"
	as_caller -- bob@example.net <"$BATS_TEST_TMPDIR/msg" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	mid_send_pids || return 1
	main=$MAIN helper=$HELPER
	[[ -n "$helper" ]] || die "no spool helper beside $main" || return 1
	local in_main in_helper
	in_main="$(scan_memory "$main" "$SYSPW" "$otherpw" "$inlinepw" "passwordeval echo" "account inline")"
	in_helper="$(scan_memory "$helper" "$SYSPW" "$otherpw" "$inlinepw" "passwordeval echo" "account inline")"
	wait
	assert_auth_record "PLAIN user=sysuser reply=235"
	# The password in use, in the process that uses it; nothing else.
	[[ "$in_main" == *"$SYSPW="[1-9]* ]] || die "the scan found no password in use:" "$in_main" || return 1
	assert_equal "$otherpw=0 $inlinepw=0 passwordeval echo=0 account inline=0" \
		"$(sed 1d <<<"$in_main" | tr '\n' ' ' | sed 's/ $//')" "the sending process" || return 1
	assert_equal "$SYSPW=0 $otherpw=0 $inlinepw=0 passwordeval echo=0 account inline=0" \
		"$(tr '\n' ' ' <<<"$in_helper" | sed 's/ $//')" "the spool helper"
}

@test "privileged: mid-send the group is gone for good, the process is not dumpable, and a crash leaves no core" {
	start_auth_server "on DATA" "  sleep 20" "  default"
	system_config
	local sig pid gid caller_gid st
	gid="$(getent group "$GROUP" | cut -d: -f3)"
	caller_gid="$(id -g "$CALLER")"
	for sig in SEGV ABRT; do
		: >"$UHOME/out"
		(cd "$UHOME" && exec setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups \
			env -i PATH=/usr/bin:/bin HOME="$UHOME" \
			sh -c 'ulimit -c unlimited; exec "$0" "$@"' "$BIN" bob@example.net \
			<"$BATS_TEST_TMPDIR/msg" >"$UHOME/out" 2>&1 3>&-) &
		pid=$!
		wait_for_text "$SMTPD_DIR/commands" "DATA" || return 1
		# $! is the subshell that became setpriv, sh, then mailpost.
		assert_equal "Gid:	$caller_gid	$caller_gid	$caller_gid	$caller_gid" \
			"$(grep '^Gid:' "/proc/$pid/status")" "real, effective, saved, fs gid" || return 1
		assert_equal "root" "$(stat -c %U "/proc/$pid/environ")" \
			"owner of /proc/PID/environ (root: not dumpable)" || return 1
		run setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups cat "/proc/$pid/environ"
		[[ "$status" -ne 0 ]] || die "the caller read /proc/PID/environ" || return 1
		run setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups \
			dd if="/proc/$pid/mem" bs=1 count=1 skip=4096
		[[ "$status" -ne 0 ]] || die "the caller read /proc/PID/mem" || return 1
		grep -q '^Max core file size *0 *0' "/proc/$pid/limits" ||
			die "core dumps allowed:" "$(grep '^Max core' "/proc/$pid/limits")" || return 1
		setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups kill -s "$sig" "$pid"
		st=0
		wait "$pid" || st=$?
		# Killed by the signal; a sanitizer build reports SIGSEGV itself
		# and exits 1.
		[[ "$st" -gt 128 ]] || grep -q AddressSanitizer "$UHOME/out" ||
			die "exit $st after SIG$sig:" "$(cat "$UHOME/out")" || return 1
		assert_equal "" "$(cd "$UHOME" && ls -A | grep -i core)" "core files" || return 1
		run cat "$UHOME/out"
		assert_nothing_leaked "$UHOME/out" || return 1
		stop_smtpd
		start_auth_server "on DATA" "  sleep 20" "  default"
		system_config
	done
	[[ "$gid" != "$caller_gid" ]]
}

@test "privileged: relay down, a user's message waits in the machine's spool, its own, until root's -q sends it" {
	queue_with_relay_down
	assert_equal "$CALLER 700" "$(stat -c '%U %a' "$SPOOL/$ID")" "the entry's owner and mode"
	assert_equal "$CALLER 600" "$(stat -c '%U %a' "$SPOOL/$ID/message")" "its message file"
	assert_nothing_leaked "$SPOOL/$ID/envelope" "$SPOOL/$ID/message"
	# Nothing in the caller's home: no queue of its own, no dead letter.
	assert_equal "" "$(ls -A "$UHOME")" "the caller's home"
	run_caller 0 -- -bp
	assert_output_contains "$ID"
	assert_output_contains "<bob@example.net>"
	run_other 0 -bp
	assert_output_lacks "$ID"
	assert_output_contains "Mail queue is empty"
	run_root 0 -bp
	assert_output_contains "$ID"
	assert_output_contains "$CALLER"
	# The caller may not flush the machine's spool; root's timer does.
	run_caller 64 -- -q
	assert_stderr_contains "root's timer"
	[[ -d "$SPOOL/$ID" ]] || die "the entry is gone"
	start_auth_server
	system_config
	run_root 0 -q
	assert_auth_record "PLAIN user=sysuser reply=235"
	assert_received_contains "RCPT TO:<bob@example.net>"
	[[ ! -e "$SPOOL/$ID" ]] || die "the entry is still there"
	assert_nothing_leaked
}

@test "privileged: root's flush records a configuration error in a user's entry without the configuration's names" {
	start_auth_server
	system_config "account default" "account other" "from other@example.org"
	stop_smtpd
	run_caller 0 -- -A other bob@example.net
	ID="$(spool_id)"
	[[ -n "$ID" && -d "$SPOOL/$ID" ]] || die "no entry $ID in $SPOOL"
	# The account is renamed away: root's flush cannot send the entry.
	start_auth_server
	system_config "account default" "account renamed-4d2f" \
		"from other@example.org" "account hidden-acct-7e1b"
	run_root 78 -q
	assert_stderr_contains "account 'other' not found"
	assert_stderr_contains "hidden-acct-7e1b"
	# The entry is the caller's to read: it says where, not what.
	run_caller 0 -- -bp
	assert_output_contains "$ID"
	assert_output_contains "error in the system configuration"
	local s
	for s in renamed-4d2f hidden-acct-7e1b "$ETC/mailpost.conf"; do
		assert_no_secret "$s" "$SPOOL/$ID/envelope" || return 1
	done
	run_caller 0 -- --queue-show "$ID"
	assert_output_lacks "hidden-acct-7e1b"
	assert_nothing_leaked "$SPOOL/$ID/envelope"
}

@test "privileged: an AUTH failure names neither the system configuration's user nor its account, to the caller or in the caller's entry after root's flush" {
	start_auth_server "on AUTHDONE 454 4.7.0 try later"
	system_config "account default" "account hidden-acct-7e1b" "from *@example.org"
	run_caller 0 -- -f u@example.org bob@example.net
	assert_stderr_contains "authentication as the system configuration's user with PLAIN at 127.0.0.1 failed for now: 454 4.7.0 try later" || return 1
	ID="$(spool_id)"
	[[ -n "$ID" && -d "$SPOOL/$ID" ]] || die "no entry $ID in $SPOOL"
	# Root's flush of the caller's entry: root sees who, the entry not.
	start_auth_server "on AUTHDONE 454 4.7.0 try later"
	system_config "account default" "account hidden-acct-7e1b" "from *@example.org"
	run_root 0 -q
	assert_received_contains "AUTH PLAIN" || return 1
	run_caller 0 -- --queue-show "$ID"
	assert_output_contains "Last-Error: a failure that names the system configuration's user" || return 1
	assert_output_lacks sysuser || return 1
	assert_no_secret sysuser "$SPOOL/$ID/envelope" || return 1
	assert_nothing_leaked "$SPOOL/$ID/envelope"
}

@test "privileged: a refused certificate or an unreadable trust file names the system configuration's tls_trust_file as hidden" {
	local trust="$ETC/private-ca-3f1a.pem" mode code
	tls_certs
	# A trust file without the server's CA (the client certificate):
	# readable, the certificate is refused (76); else it is not read (78).
	for mode in 644 640; do
		code=$([[ "$mode" == 644 ]] && echo 76 || echo 78)
		install -o root -g "$GROUP" -m "$mode" "$CERTS/client.pem" "$trust"
		start_smtpd "$(printf '%s\n' "caps PIPELINING, 8BITMIME, STARTTLS, AUTH PLAIN" \
			"$(tls_cert_line server)" "user sysuser $SYSPW")" -- --max-connections 2
		system_config "tls on" "tls_trust_file $trust"
		run_caller "$code" -- --check-config --connect
		[[ "$output" == *"tls_trust_file (hidden)"* ]] || die "($mode) --check-config:" "$output" || return 1
		[[ "$output$stderr" != *private-ca-3f1a* ]] || die "($mode) --check-config names it:" "$output" "$stderr" || return 1
		run_caller "$code" -- bob@example.net
		assert_stderr_contains "tls_trust_file (hidden)" || return 1
		assert_stderr_lacks private-ca-3f1a || return 1
	done
}

@test "privileged: MAILPOST_TEST_SYSTEM_TRUST of the caller's is ignored; the system account trusts the machine's store" {
	tls_certs
	# The caller's own "system store": the CA of the server's certificate.
	install -o "$CALLER" -m 644 "$CERTS/ca.pem" "$UHOME/store.pem"
	start_smtpd "$(printf '%s\n' "caps PIPELINING, 8BITMIME, STARTTLS" \
		"tls-caps PIPELINING, 8BITMIME, AUTH PLAIN" "$(tls_cert_line server)" \
		"user sysuser $SYSPW")"
	system_config "tls on" "tls_trust_file system"
	sed -i '/^tls off$/d' "$ETC/mailpost.conf"
	run_caller 76 MAILPOST_TEST_SYSTEM_TRUST="$UHOME/store.pem" -- -vvv bob@example.net
	assert_stderr_contains "certificate is not trusted (issuer unknown)"
	assert_stderr_lacks "trust: 1 of 1 CAs"
	assert_no_command AUTH MAIL
	# With the caller's own configuration, too: the run started setgid.
	start_smtpd "$(printf '%s\n' "caps PIPELINING, 8BITMIME, STARTTLS" \
		"tls-caps PIPELINING, 8BITMIME" "$(tls_cert_line server)")" \
		-- --max-connections 2
	printf '%s\n' defaults "host 127.0.0.1" "port $SMTPD_PORT" "tls on" \
		"tls_trust_file system" "from u1@example.org" >"$UHOME/own.conf"
	chown "$CALLER" "$UHOME/own.conf"
	chmod 600 "$UHOME/own.conf"
	run_caller 76 MAILPOST_TEST_SYSTEM_TRUST="$UHOME/store.pem" -- -C "$UHOME/own.conf" bob@example.net
	assert_stderr_contains "certificate is not trusted (issuer unknown)"
	# The same program not setgid takes it (what 61-trust relies on).
	run --separate-stderr env MAILPOST_TEST_SYSTEM_TRUST="$UHOME/store.pem" \
		timeout 20 "$MAILPOST" -C "$UHOME/own.conf" bob@example.net <"$BATS_TEST_TMPDIR/msg"
	[[ "$status" -eq 0 ]] || die "not setgid: exit $status" "$stderr"
	assert_nothing_leaked
}

@test "privileged: a permanent refusal for a user whose home is not writable is kept in the spool's dead letters" {
	start_auth_server "on RCPT" "  550 5.1.1 no such user"
	system_config
	chmod 500 "$UHOME"
	run_caller 67 -- bob@example.net
	chmod 700 "$UHOME"
	assert_stderr_contains "550 5.1.1 no such user"
	assert_stderr_contains "kept as dead letter"
	assert_stderr_contains "in $SPOOL (mailq lists it)"
	assert_stderr_line_count 1
	ID="$(spool_id)"
	[[ -n "$ID" && -d "$SPOOL/dead/$ID" ]] || die "no dead letter $ID:" "$(ls -la "$SPOOL/dead")"
	assert_equal "$CALLER" "$(stat -c '%U' "$SPOOL/dead/$ID")" "the dead letter's owner"
	run_caller 0 -- -bp
	assert_output_contains "Dead letters"
	assert_output_contains "$ID"
	assert_output_contains "550 5.1.1 no such user"
	run_other 0 -bp
	assert_output_lacks "$ID"
	run_caller 0 -- --queue-show "$ID"
	assert_output_contains "Dead-Letter:"
	assert_output_contains "Subject:"
	run_caller 0 -- --queue-remove "$ID"
	[[ ! -e "$SPOOL/dead/$ID" ]] || die "the dead letter is still there"
	assert_nothing_leaked
}

@test "privileged: queue never, delivered to some: the rest of a user whose home is not writable is a dead letter in the spool, for those only" {
	start_auth_server "on RCPT#2" "  450 4.2.1 <carol@example.net>: mailbox busy"
	system_config "queue never" "rcpt_policy any"
	chmod 500 "$UHOME"
	run_caller 75 -- bob@example.net carol@example.net
	chmod 700 "$UHOME"
	assert_stderr_line_count 1
	assert_stderr_contains "the 1 refused for now are not queued (queue never); kept as dead letter "
	assert_stderr_contains " in $SPOOL for carol@example.net (mailq lists it)"
	ID="$(spool_id)"
	[[ -n "$ID" && -d "$SPOOL/dead/$ID" ]] || die "no dead letter $ID:" "$(ls -la "$SPOOL/dead")"
	assert_equal "$CALLER" "$(stat -c '%U' "$SPOOL/dead/$ID")" "the dead letter's owner"
	run_caller 0 -- --queue-show "$ID"
	assert_output_contains "Recipient: <carol@example.net>"
	assert_output_lacks "Recipient: <bob@example.net>"
	assert_nothing_leaked
}

@test "privileged: another user's entry named with --queue-show, --queue-remove or -qI is refused and stays" {
	queue_with_relay_down
	local before
	before="$(cd "$SPOOL/$ID" && md5sum envelope message)"
	run_other 64 --queue-show "$ID"
	assert_stderr_contains "no queued message $ID"
	assert_output_lacks "Subject:"
	assert_output_lacks "bob@example.net"
	run_other 64 --queue-remove "$ID"
	assert_stderr_contains "no queued message $ID"
	run_other 64 -qI "$ID"
	assert_stderr_contains "root's timer"
	assert_equal "$before" "$(cd "$SPOOL/$ID" && md5sum envelope message)" "the entry"
	# Its owner still sees it, and removes it.
	run_caller 0 -- --queue-show "$ID"
	assert_output_contains "Subject:"
	run_caller 0 -- --queue-remove "$ID"
	[[ ! -e "$SPOOL/$ID" ]] || die "the entry is still there"
	assert_nothing_leaked
}

@test "privileged: symbolic links the caller plants as its dead letter, queue directory or log file are not followed with the group" {
	start_auth_server "on RCPT" "  550 5.1.1 no such user"
	system_config
	local sum
	sum="$(md5sum "$ETC/mailpost.conf" "$ETC/secret")"
	ln -s "$ETC/mailpost.conf" "$UHOME/dead.letter"
	ln -s "$ETC/secret" "$UHOME/log"
	chown -h "$CALLER" "$UHOME/dead.letter" "$UHOME/log"
	run_caller 67 -- --logfile "$UHOME/log" bob@example.net
	# The dead letter went to the spool, not through the link.
	assert_stderr_contains "kept as dead letter"
	ID="$(spool_id)"
	[[ -d "$SPOOL/dead/$ID" ]] || die "no dead letter $ID"
	# A queue directory of the caller's that is a link to the spool.
	ln -s "$SPOOL" "$UHOME/queue"
	chown -h "$CALLER" "$UHOME/queue"
	stop_smtpd
	run_caller 78 -- --queue-dir "$UHOME/queue" bob@example.net
	assert_stderr_contains "queue directory $UHOME/queue is a symbolic link"
	assert_equal "" "$(find "$SPOOL" -mindepth 1 -maxdepth 1 ! -name tmp ! -name dead)" "entries in the spool"
	assert_equal "$sum" "$(md5sum "$ETC/mailpost.conf" "$ETC/secret")" "the system files"
	assert_nothing_leaked
}

# The spool helper of mailpost $1 (its child process).
helper_of() {
	local pid="$1" child n
	for n in $(seq 100); do
		child="$(pgrep -P "$pid" | head -1)"
		[[ -n "$child" ]] && break
		sleep 0.05
	done
	printf '%s\n' "$child"
}

@test "privileged: the spool helper killed mid-send: one line, the message in the caller's dead letter, exit 75" {
	start_auth_server "on DATA" "  sleep 20" "  default"
	system_config
	local pid helper st
	(cd "$UHOME" && exec setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups \
		env -i PATH=/usr/bin:/bin HOME="$UHOME" "$BIN" bob@example.net \
		<"$BATS_TEST_TMPDIR/msg" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&-) &
	pid=$!
	wait_for_text "$SMTPD_DIR/commands" "DATA" || return 1
	helper="$(helper_of "$pid")"
	[[ -n "$helper" ]] || die "no spool helper under $pid" || return 1
	kill -9 "$helper"
	setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	run cat "$BATS_TEST_TMPDIR/out"
	assert_equal 75 "$st" "exit status"
	assert_equal 1 "$(wc -l <"$BATS_TEST_TMPDIR/out")" "lines on stderr: $(cat "$BATS_TEST_TMPDIR/out")"
	grep -q "the spool helper for $SPOOL is gone" "$BATS_TEST_TMPDIR/out" ||
		die "no word of the helper:" "$(cat "$BATS_TEST_TMPDIR/out")"
	grep -q "saved to $UHOME/dead.letter" "$BATS_TEST_TMPDIR/out" ||
		die "not saved:" "$(cat "$BATS_TEST_TMPDIR/out")"
	grep -q "^Subject:" "$UHOME/dead.letter" || die "the dead letter lacks the message"
	assert_nothing_leaked "$BATS_TEST_TMPDIR/out" "$UHOME/dead.letter"
}

@test "privileged: the spool helper keeps the group only as its saved gid, is not dumpable, and leaves no core" {
	start_auth_server "on DATA" "  sleep 20" "  default"
	system_config
	local pid helper gid caller_gid
	gid="$(getent group "$GROUP" | cut -d: -f3)"
	caller_gid="$(id -g "$CALLER")"
	(cd "$UHOME" && exec setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups \
		env -i PATH=/usr/bin:/bin HOME="$UHOME" \
		sh -c 'ulimit -c unlimited; exec "$0" "$@"' "$BIN" bob@example.net \
		<"$BATS_TEST_TMPDIR/msg" >"$UHOME/out" 2>&1 3>&-) &
	pid=$!
	wait_for_text "$SMTPD_DIR/commands" "DATA" || return 1
	helper="$(helper_of "$pid")"
	[[ -n "$helper" ]] || die "no spool helper under $pid" || return 1
	assert_equal "Gid:	$caller_gid	$caller_gid	$gid	$caller_gid" \
		"$(grep '^Gid:' "/proc/$helper/status")" "the helper's real, effective, saved, fs gid" || return 1
	assert_equal "root" "$(stat -c %U "/proc/$helper/environ")" "owner of its environ (not dumpable)" || return 1
	assert_equal "/" "$(readlink "/proc/$helper/cwd")" "its directory" || return 1
	# Its descriptors: /dev/null on 0-2, the socket on 3, then only the
	# spool's directories it opened itself.
	local fd target
	for fd in $(ls "/proc/$helper/fd"); do
		target="$(readlink "/proc/$helper/fd/$fd")"
		case "$fd:$target" in
		[012]:/dev/null | 3:socket:* | *:"$SPOOL" | *:"$SPOOL"/*) ;;
		*) die "the helper holds descriptor $fd: $target" || return 1 ;;
		esac
	done
	grep -q '^Max core file size *0 *0' "/proc/$helper/limits" || die "core dumps allowed" || return 1
	setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups kill -SEGV "$helper"
	setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups kill -TERM "$pid"
	wait "$pid" || true
	assert_equal "" "$(cd "$UHOME" && ls -A | grep -i core)" "core files" || return 1
	[[ ! -e /core && ! -e "/core.$helper" ]] || die "a core file in /"
	assert_nothing_leaked "$UHOME/out"
}

@test "privileged: a send interrupted by a signal is queued in the machine's spool through the helper, which the signal does not stop" {
	start_auth_server "on DATA" "  sleep 20" "  default"
	system_config
	local pid helper st
	# A suite started in the background has SIGINT ignored, which
	# mailpost leaves alone (interrupt.c): give it the default.
	(cd "$UHOME" && exec setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups \
		env -i --default-signal=INT PATH=/usr/bin:/bin HOME="$UHOME" "$BIN" bob@example.net \
		<"$BATS_TEST_TMPDIR/msg" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&-) &
	pid=$!
	wait_for_text "$SMTPD_DIR/commands" "DATA" || return 1
	helper="$(helper_of "$pid")"
	[[ -n "$helper" ]] || die "no spool helper under $pid" || return 1
	# As a terminal's ^C reaches both: the helper ignores it.
	setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups kill -INT "$helper" "$pid"
	st=0
	wait "$pid" || st=$?
	assert_equal 75 "$st" "exit status ($(cat "$BATS_TEST_TMPDIR/out"))"
	stderr="$(cat "$BATS_TEST_TMPDIR/out")"
	assert_stderr_contains "interrupted by SIGINT: queued as"
	ID="$(spool_id)"
	[[ -n "$ID" && -d "$SPOOL/$ID" ]] || die "no entry $ID in $SPOOL:" "$(ls -la "$SPOOL")"
	assert_equal "$CALLER" "$(stat -c %U "$SPOOL/$ID")" "the entry's owner"
	[[ ! -e "$UHOME/dead.letter" ]] || die "a dead letter too"
	assert_nothing_leaked "$BATS_TEST_TMPDIR/out"
}

@test "privileged: a spool the helper cannot open: the message goes to the caller's dead letter, the line says why" {
	start_auth_server
	system_config
	stop_smtpd
	chmod 2777 "$SPOOL"
	run_caller 78 -- -bp
	assert_stderr_contains "$SPOOL"
	run_caller 78 -- bob@example.net
	chmod 2770 "$SPOOL"
	assert_stderr_contains "Connection refused"
	assert_stderr_contains "$SPOOL"
	assert_stderr_contains "saved to $UHOME/dead.letter"
	assert_stderr_line_count 1
	grep -q "^Subject:" "$UHOME/dead.letter" || die "the dead letter lacks the message"
	assert_equal "" "$(find "$SPOOL" -mindepth 1 -maxdepth 1 ! -name tmp ! -name dead)" "entries in the spool"
	assert_nothing_leaked "$UHOME/dead.letter"
}

@test "privileged: -bs with the relay down queues each message in the machine's spool" {
	start_auth_server
	system_config
	stop_smtpd
	run --separate-stderr timeout 60 "$SMTPD_PYTHON" "$BATS_TEST_DIRNAME/lib/bsclient.py" -- \
		setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups \
		env -i PATH=/usr/bin:/bin LC_ALL=C HOME="$UHOME" "$BIN" -bs <<-EOF
		> EHLO client.test
		message $BATS_TEST_TMPDIR/msg alice@example.org bob@example.net
		> QUIT
	EOF
	[[ "$status" -eq 0 ]] || die "bsclient: $status" "$output" "$stderr" || return 1
	assert_output_contains "exit 0"
	grep -E '^250 .*queued' <<<"$output" || die "no queued reply to the dot:" "$output" || return 1
	local n
	n="$(find "$SPOOL" -mindepth 1 -maxdepth 1 ! -name tmp ! -name dead | wc -l)"
	assert_equal 1 "$n" "entries in the spool"
	assert_equal "$CALLER" "$(stat -c %U "$(find "$SPOOL" -mindepth 1 -maxdepth 1 ! -name tmp ! -name dead)")" "its owner"
	assert_equal "" "$(ls -A "$UHOME")" "the caller's home"
	assert_nothing_leaked
}

@test "privileged: a file size limit the caller set makes the spool helper say so, leaving nothing half-written" {
	start_auth_server
	system_config
	stop_smtpd
	local rcpts=() i
	# Recipients enough for an envelope file over the 512-byte limit,
	# while the message and its dead letter stay under it.
	for ((i = 0; i < 30; i++)); do
		rcpts+=("recipient-number-$i@example.net")
	done
	run --separate-stderr setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups \
		env -i PATH=/usr/bin:/bin LC_ALL=C HOME="$UHOME" \
		sh -c 'ulimit -f 1; exec "$0" "$@"' "$BIN" "${rcpts[@]}" <"$BATS_TEST_TMPDIR/msg"
	[[ "$status" -ne 0 ]] || die "exit 0: the message is neither queued nor delivered" || return 1
	assert_stderr_contains "File too large"
	assert_stderr_lacks "the spool helper for $SPOOL is gone"
	assert_stderr_contains "saved to $UHOME/dead.letter"
	assert_equal "" "$(find "$SPOOL" -mindepth 1 ! -name tmp ! -name dead)" "what the spool holds"
}

@test "privileged: a file of the group's linked into the caller's entry is never shown to the caller" {
	queue_with_relay_down || return 1
	# What no caller can do (the spool is closed to it) but root by hand
	# can: a hard link to a file only the group may read.
	install -o root -g "$GROUP" -m 640 /dev/null "$PRIV/group-only"
	printf '%s\n' "$MARKER" >"$PRIV/group-only"
	rm "$SPOOL/$ID/message"
	ln "$PRIV/group-only" "$SPOOL/$ID/message"
	run_caller 74 -- --queue-show "$ID"
	assert_output_contains "Damaged: its message file belongs to uid 0"
	assert_output_lacks "$MARKER"
	assert_stderr_lacks "$MARKER"
	rm -f "$PRIV/group-only"
}

# --- the system configuration's OAuth2 account --------------------------------

SYSTOKEN='Sys-Access-3e9d51'
SYSREFRESH='Sys-Refresh-a07c42'

# oauth2_system_config [LINE...]: the system configuration with an OAuth2
# account whose token endpoint is the test's oauthd (its CA copied where
# the caller may read it: the refresh's HTTPS runs without the group), and
# the machine's token directory as make install makes it (root:GROUP 2770;
# the privtest program's TOKSTORE_SYSTEM_DIR, Makefile.am).
oauth2_system_config() {
	rm -rf "$ETC/oauth2"
	install -d -o root -g "$GROUP" -m 2770 "$ETC/oauth2"
	install -m 644 "$CERTS/ca.pem" "$ETC/oauth2-ca.pem"
	{
		printf '# %s\n' "$MARKER"
		printf '%s\n' defaults "host 127.0.0.1" "port $SMTPD_PORT" \
			"tls off" "from system@example.org" "queue_dir $SPOOL" \
			"oauth2_provider generic" "oauth2_client_id $OAUTH2_CLIENT_ID" \
			"oauth2_token_endpoint $OAUTHD_URL/token" \
			"oauth2_trust_file $ETC/oauth2-ca.pem" "user $OAUTH2_USER" "$@"
	} >"$ETC/mailpost.conf"
	chown "root:$GROUP" "$ETC/mailpost.conf"
	chmod 640 "$ETC/mailpost.conf"
}

# oauth2_system_seed ARGS...: oauth2_seed into the machine's directory,
# the file root:GROUP 0660 as root's runs leave it.
oauth2_system_seed() {
	local f
	f="$(OAUTH2_TOKEN_DIR="$ETC/oauth2" oauth2_seed "$@")" || return 1
	chown "root:$GROUP" "$f"
	SYSFILE="$f"
}

@test "privileged: the system OAuth2 account's cached token is taken through the group; the caller can read neither the token file nor the token, mid-send either" {
	local pid main helper in_helper
	oauthd_start
	start_smtpd "$(printf '%s\n' "caps PIPELINING, AUTH OAUTHBEARER" \
		"user $OAUTH2_USER $SYSTOKEN" "on DATA" "  sleep 4" "  default")"
	oauth2_system_config
	oauth2_system_seed "$SYSREFRESH" "$SYSTOKEN" 3000
	run setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups cat "$SYSFILE"
	[[ "$status" -ne 0 ]] || die "the caller read the token file" || return 1
	as_caller -- -v bob@example.net <"$BATS_TEST_TMPDIR/msg" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	mid_send_pids || return 1
	main=$MAIN helper=$HELPER
	# Neither in its argv nor its environment, which the caller could
	# read were the process dumpable; the spool helper holds none of it.
	for pid in $main $helper; do
		! tr '\0' '\n' <"/proc/$pid/environ" | grep -qF -e "$SYSTOKEN" -e "$SYSREFRESH" ||
			die "a token is in the environment of $pid" || return 1
		! tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qF -e "$SYSTOKEN" -e "$SYSREFRESH" ||
			die "a token is in the argv of $pid" || return 1
	done
	if [[ -n "$helper" ]]; then
		in_helper="$(scan_memory "$helper" "$SYSTOKEN" "$SYSREFRESH")"
		assert_equal "$SYSTOKEN=0 $SYSREFRESH=0" "$(tr '\n' ' ' <<<"$in_helper" | sed 's/ $//')" \
			"the spool helper" || return 1
	fi
	wait
	assert_bearer_used "$SYSTOKEN"
	assert_equal 0 "$(oauthd_requests /token)" "requests to the token endpoint"
	grep -q "=== OAuth2 access token from the cache" "$BATS_TEST_TMPDIR/out" ||
		die "the transcript does not say where the token came from:" "$(cat "$BATS_TEST_TMPDIR/out")"
	assert_no_secret "$SYSTOKEN" "$BATS_TEST_TMPDIR/out"
	assert_no_secret "$SYSREFRESH" "$BATS_TEST_TMPDIR/out"
	assert_no_secret "$MARKER" "$BATS_TEST_TMPDIR/out"
}

@test "privileged: the system OAuth2 token near expiry: the caller's message waits in the spool; root's -q refreshes it (the files stay root's) and sends it" {
	oauthd_start --refresh rotate --refresh-token "$SYSREFRESH"
	start_smtpd "$(printf '%s\n' "caps PIPELINING, AUTH OAUTHBEARER" \
		"user $OAUTH2_USER access-1")"
	oauth2_system_config
	oauth2_system_seed "$SYSREFRESH" "$SYSTOKEN" 60
	run_caller 0 -- bob@example.net || return 1
	assert_stderr_contains "queued as" || return 1
	assert_stderr_contains "which only root's queue run does" || return 1
	assert_equal 0 "$(oauthd_requests /token)" "requests from the caller's run"
	run_root 0 -q
	assert_bearer_used access-1
	assert_equal 1 "$(oauthd_requests /token)" "requests from root's run"
	assert_equal "$SYSREFRESH" "$(oauthd_last_form refresh_token /token)" "the refresh token sent"
	grep -qx "refresh_token refresh-2" "$SYSFILE" || die "the rotated token was not stored in $SYSFILE"
	assert_equal "root $GROUP 660" "$(stat -c '%U %G %a' "$SYSFILE")" "the token file after root's run"
	run setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups cat "$SYSFILE"
	[[ "$status" -ne 0 ]] || die "the caller read the token file"
}

@test "privileged: root's --oauth2-login of the system account writes the machine's token file; the caller's send takes that token; root's -q refreshes into the same file" {
	oauthd_start --poll ok --refresh rotate:access_token=access-1
	start_smtpd "$(printf '%s\n' "caps PIPELINING, AUTH OAUTHBEARER" \
		"user $OAUTH2_USER access-1")"
	oauth2_system_config "oauth2_device_endpoint $OAUTHD_URL/device"
	run_root 0 --oauth2-login --oauth2-flow=device
	local files=("$ETC/oauth2"/default-*)
	[[ -f "${files[0]}" ]] || die "no token file in $ETC/oauth2:" "$output" || return 1
	SYSFILE="${files[0]}"
	assert_output_contains "refresh token in $SYSFILE"
	[[ ! -e "$BATS_TEST_TMPDIR/.local/state/mailpost/oauth2" ]] ||
		die "root's login wrote into root's own state directory:" "$(ls -laR "$BATS_TEST_TMPDIR/.local/state")" || return 1
	assert_equal "root $GROUP 660" "$(stat -c '%U %G %a' "$SYSFILE")" "the token file after root's login"
	run setpriv --reuid "$CALLER" --regid "$CALLER" --init-groups cat "$SYSFILE"
	[[ "$status" -ne 0 ]] || die "the caller read the token file" || return 1
	# Root's --check-config looks where the login wrote.
	run_root 0 --check-config
	assert_output_contains "in $SYSFILE"
	# The caller's send: the cached token, through the group.
	run_caller 0 -- bob@example.net || return 1
	assert_stderr_lacks "queued"
	assert_bearer_used access-1
	assert_equal 1 "$(oauthd_requests /token)" "requests to the token endpoint after the caller's send (the login's poll)" || return 1
	# Near expiry: the caller's message waits; root's queue run refreshes
	# into the same file, which stays root's.
	sed -i "s/^access_expires .*/access_expires $(($(date +%s) + 60))/" "$SYSFILE"
	run_caller 0 -- bob@example.net || return 1
	assert_stderr_contains "which only root's queue run does" || return 1
	run_root 0 -q
	assert_equal 2 "$(oauthd_requests /token)" "requests after root's run (the poll, the refresh)"
	assert_equal refresh-1 "$(oauthd_last_form refresh_token /token)" "the refresh token sent"
	grep -qx "refresh_token refresh-2" "$SYSFILE" || die "the rotated token was not stored in $SYSFILE"
	assert_equal "root $GROUP 660" "$(stat -c '%U %G %a' "$SYSFILE")" "the token file after root's run"
	[[ ! -e "$BATS_TEST_TMPDIR/.local/state/mailpost/oauth2" ]] ||
		die "root's queue run wrote into root's own state directory"
}
