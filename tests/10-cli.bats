#!/usr/bin/env bats
# 10-cli.bats - the command line as a user meets it: exit codes and messages
# for the options, the program names (mailq, newaliases), and a meta-test
# that every long option is documented and completed.  The parser itself
# is unit-tested case by case in tests/unit/cli_test.c.

setup() {
	MAILPOST=${MAILPOST:-$BATS_TEST_DIRNAME/../mailpost}
	SRCDIR=${MAILPOST_SRCDIR:-$BATS_TEST_DIRNAME/..}
	# No configuration of the person running the tests may leak in.
	export HOME=$BATS_TEST_TMPDIR
	unset MAILPOST_CONFIG XDG_CONFIG_HOME
}

# run_tool WANT [ARG...]: run mailpost under a timeout with no input and
# check its exit status; $output holds stdout and stderr.
run_tool() {
	local want=$1
	shift
	run_prog "$want" "$MAILPOST" "$@"
}

# run_prog WANT PROGRAM [ARG...]: the same for another name of mailpost.
run_prog() {
	local want=$1
	shift
	run timeout 10 "$@" </dev/null
	if [ "$status" -ne "$want" ]; then
		printf '%s: exit status %s, want %s\n' "$*" "$status" "$want" >&2
		printf 'output:\n%s\n' "$output" >&2
		return 1
	fi
}

# assert_output_has TEXT: the output holds TEXT (a fixed string).
assert_output_has() {
	if [[ $output != *"$1"* ]]; then
		printf 'output lacks: %s\noutput:\n%s\n' "$1" "$output" >&2
		return 1
	fi
}

# The long option names, read from the option table in src/cmd/cliopt.c.
long_options() {
	sed -n '/^static const struct cliopt options\[\] = {/,/^};/p' \
		"$SRCDIR/src/cmd/cliopt.c" | grep -o '"[a-z][a-z0-9-]*"' | tr -d '"'
}

@test "helpers: run_tool fails on the wrong exit status" {
	run run_tool 3 --version
	[ "$status" -ne 0 ]
	output="abc"
	assert_output_has b
	run assert_output_has x
	[ "$status" -ne 0 ]
}

@test "--version names mailpost and exits 0" {
	run_tool 0 --version
	[[ ${lines[0]} == "mailpost "[0-9]* ]] || {
		echo "first line: ${lines[0]}" >&2
		false
	}
	assert_output_has "GPL-3.0-or-later"
}

@test "--help exits 0 and describes the options" {
	run_tool 0 --help
	assert_output_has "Usage: mailpost"
	assert_output_has "EXIT STATUS"
}

@test "--help lists every long option" {
	run_tool 0 --help
	local opt
	for opt in $(long_options); do
		assert_output_has "--$opt"
	done
}

@test "an unknown option is a usage error (64)" {
	run_tool 64 -x a@example.org
	assert_output_has "mailpost: unknown option '-x'; see 'mailpost --help'"
	run_tool 64 --no-such-option a@example.org
	assert_output_has "unknown option '--no-such-option'; see 'mailpost --help'"
	run_tool 64 --hepl
	assert_output_has "mailpost: unknown option '--hepl'; did you mean '--help'?"
}

@test "a missing argument is a usage error (64)" {
	run_tool 64 a@example.org -f
	assert_output_has "mailpost: -f needs an envelope sender; write -f ADDRESS"
	run_tool 64 a@example.org --host
	assert_output_has "option '--host' needs an argument"
	ln -s "$MAILPOST" "$BATS_TEST_TMPDIR/msmtp"
	run_prog 64 "$BATS_TEST_TMPDIR/msmtp" a@example.org -a
	assert_output_has "mailpost: -a needs an account name; write -a ACCOUNT (called as msmtp)"
}

@test "no recipients and no -t is a usage error (64)" {
	run_tool 64
	assert_output_has "mailpost: no recipients given"
	run_tool 64 -i -oi -f me@example.org
	assert_output_has "use -t"
}

@test "control characters in -f, -F or a recipient are refused (64)" {
	run_tool 64 -f $'me@example.org\r\nRCPT TO:<x@example.org>' a@example.org
	assert_output_has "control character"
	run_tool 64 -F $'Eve\nBcc: x@example.org' a@example.org
	assert_output_has "control character"
	run_tool 64 -- $'a@example.org\n'
	assert_output_has "control character"
}

@test "bad option values are usage errors (64)" {
	local args
	for args in "--port=0" "--port=65536" "--timeout=0" \
		"--rcpt-policy=some" "-N sometimes" "-R all"; do
		# shellcheck disable=SC2086
		run_tool 64 $args a@example.org
	done
}

@test "bad TLS and AUTH option values are usage errors (64)" {
	local args
	for args in "--tls=yes" "--tls-starttls=1" "--tls-certcheck=" \
		"--tls-fingerprint=AB:CD" "--tls-crl-file=" "--auth=md5" \
		"--user=" "--tls-host-override="; do
		# shellcheck disable=SC2086
		run_tool 64 $args a@example.org
	done
	run_tool 64 --auth=md5 a@example.org
	assert_output_has "invalid --auth 'md5'"
}

@test "there is no password option: argv is public (64), and the three sources are named" {
	local opt
	for opt in --password=x --password; do
		run_tool 64 "$opt" a@example.org
		assert_output_has "mailpost: there is no --password option: a command line is visible to every user (ps) and stays in the shell's history; use --passwordeval CMD, --password-fd N or --password-env VAR"
	done
}

@test "one-off password sources: one at a time, only where the run's account sends, well-formed (64)" {
	run_tool 64 --passwordeval=true --password-env=P a@example.org
	assert_output_has "give one password source: --passwordeval, --password-fd or --password-env"
	run_tool 64 -q --passwordeval=true
	assert_output_has "--passwordeval cannot be given with -q: the messages it sends go with their account's password"
	run_tool 64 -bp --password-env=P
	assert_output_has "--password-env cannot be given with -bp"
	run_tool 64 --passwordeval= a@example.org
	assert_output_has "invalid --passwordeval: give a command that prints the password"
	run_tool 64 --password-env=9LIVES a@example.org
	assert_output_has "invalid --password-env '9LIVES' (expected the name of an environment variable"
	run_tool 64 --password-env=A-B a@example.org
	assert_output_has "invalid --password-env 'A-B'"
	for opt in -1 x 3x ""; do
		run_tool 64 "--password-fd=$opt" a@example.org
		assert_output_has "invalid --password-fd '$opt' (expected a file descriptor number)"
	done
}

@test "--password-fd: 0 while stdin carries the message, 1, 2 and a closed descriptor are refused (64)" {
	run_tool 64 --password-fd=0 a@example.org
	assert_output_has "--password-fd 0 is standard input, which carries the message; pass the password on another descriptor (--password-fd 3 3<FILE)"
	run_tool 64 --password-fd=1 a@example.org
	assert_output_has "--password-fd 1 is standard output, where mailpost writes"
	run_tool 64 --password-fd=2 a@example.org
	assert_output_has "--password-fd 2 is standard error, where mailpost writes"
	run_tool 64 --password-fd=57 a@example.org
	assert_output_has "--password-fd 57 is not an open descriptor; open it for mailpost (--password-fd 57 57<FILE)"
}

@test "tls_certcheck off is warned about without -v" {
	# Port 1 on loopback: refused at once, after the warning.
	run_tool 75 --host=127.0.0.1 --port=1 --timeout=5 --tls \
		--tls-certcheck=off a@example.org
	assert_output_has "mailpost: warning: TLS certificate checking is off (tls_certcheck off): the server is not authenticated"
	run_tool 75 --host=127.0.0.1 --port=1 --timeout=5 --tls \
		--tls-certcheck=off --tls-certcheck a@example.org
	[[ $output != *warning* ]] || {
		echo "unexpected warning: $output" >&2
		false
	}
}

@test "the default port follows the TLS mode: 25, 587, 465" {
	local mode want
	for mode in "--tls=off:25" "--tls:587" "--tls --tls-starttls=off:465"; do
		want=${mode##*:}
		# Whatever listens there (usually nothing), the attempt is shown.
		# shellcheck disable=SC2086
		run timeout 10 "$MAILPOST" -v --host=127.0.0.1 --timeout=2 \
			${mode%:*} a@example.org </dev/null
		assert_output_has "Trying 127.0.0.1 port $want..."
	done
}

@test "an internationalized host is looked up by its A-label" {
	run timeout 10 "$MAILPOST" -v --host=bücher.invalid --timeout=2 \
		a@example.org </dev/null
	assert_output_has "xn--bcher-kva.invalid"
	run_tool 78 --host=$'b\xfccher.example' a@example.org
	assert_output_has "invalid host name"
}

@test "-b modes other than m, p, s and i are refused (64)" {
	run_tool 64 -bd
	assert_output_has "-bd is not supported"
	run_tool 64 -bt
	run_tool 64 -bv a@example.org
}

@test "-bs speaks SMTP on standard input and output" {
	run timeout 10 "$MAILPOST" -bs --host=127.0.0.1 --port=1 \
		< <(printf 'QUIT\r\n')
	[ "$status" -eq 0 ] || { echo "status $status: $output" >&2; false; }
	[[ ${lines[0]} == 220\ * ]] || {
		echo "no greeting: $output" >&2
		false
	}
	assert_output_has "221"
}

@test "-bs takes no recipients, -t or composing options (64)" {
	run_tool 64 -bs a@example.org
	assert_output_has "recipients cannot be given with -bs"
	run_tool 64 -bs -t
	assert_output_has "-t cannot be given with -bs"
	run_tool 64 -bs -s subject
	assert_output_has "options that compose a message cannot be given with -bs"
	run_tool 64 -bs -bp
	assert_output_has "-bp cannot be combined with -bs"
}

@test "-q with an interval is refused: mailpost is no daemon (64)" {
	local q
	for q in -q15m -q1h -q30s -qp -qp5m; do
		run_tool 64 "$q"
		assert_output_has "mailpost does not run as a daemon: run 'mailpost -q --due' from cron or a systemd timer (see mailpost(1))"
	done
}

@test "queue selections: bad forms are usage errors (64)" {
	run_tool 64 '-q!Iabc'
	assert_output_has "a queue selection cannot be negated"
	run_tool 64 -qQ
	assert_output_has "-qQ is not supported"
	run_tool 64 -qI
	assert_output_has "-qI needs part of a queue id to match; write -qI TEXT"
	run_tool 64 -qR ''
	assert_output_has "option '-qR' needs a non-empty argument"
	run_tool 64 -qIabc -qR example.org
	assert_output_has "only one queue selection"
	run_tool 64 --queue-show=a --queue-show=b
	assert_output_has "only one queue selection"
	run_tool 64 --queue-show=
	assert_output_has "option '--queue-show' needs a queue id"
	run_tool 64 --queue-remove=a --queue-show=a
	assert_output_has "--queue-show cannot be combined with --queue-remove"
}

@test "queue modes take no message: recipients, -t, composing (64)" {
	run_tool 64 -q a@example.org
	assert_output_has "recipients cannot be given with -q"
	run_tool 64 --flush -t
	assert_output_has "-t cannot be given with -q"
	run_tool 64 -q --dry-run
	assert_output_has "--dry-run cannot be given with -q"
	run_tool 64 --queue-show=0123456789abcdef a@example.org
	assert_output_has "recipients cannot be given with --queue-show"
	run_tool 64 --queue-remove=0123456789abcdef -s x
	assert_output_has "options that compose a message cannot be given with --queue-remove"
	ln -s "$MAILPOST" "$BATS_TEST_TMPDIR/mailq"
	run_prog 64 "$BATS_TEST_TMPDIR/mailq" a@example.org
	assert_output_has "recipients cannot be given with -bp"
}

@test "--queue and --dead-letter belong to sending; bad values (64)" {
	run_tool 64 -q --queue=always
	assert_output_has "--queue cannot be given with -q"
	run_tool 64 -bp --dead-letter=off
	assert_output_has "--dead-letter cannot be given with -bp"
	run_tool 64 -bi --queue-dir="$BATS_TEST_TMPDIR/q"
	assert_output_has "--queue-dir cannot be given with -bi"
	run_tool 64 --queue=sometimes a@example.org
	assert_output_has "invalid --queue 'sometimes' (expected never, on-failure or always)"
	run_tool 64 --queue-dir= a@example.org
	assert_output_has "invalid --queue-dir ''"
	run_tool 64 --dead-letter= a@example.org
	assert_output_has "invalid --dead-letter ''"
}

@test "called as newaliases: succeeds and does nothing" {
	ln -s "$MAILPOST" "$BATS_TEST_TMPDIR/newaliases"
	run_prog 0 "$BATS_TEST_TMPDIR/newaliases"
	[ -z "$output" ]
	run_tool 0 -bi
}

@test "called as mailq: says the queue is empty" {
	ln -s "$MAILPOST" "$BATS_TEST_TMPDIR/mailq"
	run_prog 0 "$BATS_TEST_TMPDIR/mailq"
	assert_output_has "Mail queue is empty"
	run_tool 0 -bp
	assert_output_has "Mail queue is empty"
}

@test "-X never writes its file" {
	run_tool 0 -X "$BATS_TEST_TMPDIR/traffic.log" --version
	[ ! -e "$BATS_TEST_TMPDIR/traffic.log" ]
}

@test "composing: conflicting or bad options are usage errors (64)" {
	run_tool 64 --body=a --body-file=/dev/null a@example.org
	assert_output_has "--body and --body-file cannot be combined"
	run_tool 64 -t --body=a
	assert_output_has "with -t the body comes from the message"
	run_tool 64 -s x --priority=urgent a@example.org
	assert_output_has "invalid --priority 'urgent' (expected high, normal or low)"
	run_tool 64 --priority=high a@example.org
	assert_output_has "--priority applies to a composed message"
	run_tool 64 --attach-name=x.pdf -a /dev/null a@example.org
	assert_output_has "--attach-name must follow an -a FILE"
	run_tool 64 -a /dev/null --attach-type=pdf a@example.org
	assert_output_has "invalid --attach-type 'pdf'"
	run_tool 64 -s x
	assert_output_has "no recipients given"
	run_tool 64 -c $'c@example.org\r\nBcc: e@example.org' a@example.org
	assert_output_has "control character"
}

@test "-b: a mode letter is a mode, a word or an address is a Bcc" {
	run_tool 0 -b p
	assert_output_has "Mail queue is empty"
	run_tool 64 -bbob a@example.org
	assert_output_has "-bbob is not supported"
	run_tool 64 -b t
	assert_output_has "-bt is not supported"
	# An address: no mode error, the usual lack of a server instead.
	run_tool 78 -b bob@example.org --body=x a@example.org
	assert_output_has "no configuration file and no --host"
}

# dry_run INPUT [ARG...]: run mailpost --dry-run with INPUT on stdin; no
# server exists (port 1 refuses at once), so success means none was needed.
dry_run() {
	local input=$1
	shift
	run timeout 10 "$MAILPOST" --dry-run --host=127.0.0.1 --port=1 \
		--timeout=2 "$@" < <(printf '%b' "$input")
}

@test "--dry-run in sendmail mode prints the message with added headers" {
	dry_run 'Subject: dry\n\nhello\n.. dotted\n' -f me@example.org \
		a@example.org
	[ "$status" -eq 0 ] || { echo "status $status: $output" >&2; false; }
	assert_output_has $'From: me@example.org\r\n'
	assert_output_has $'Subject: dry\r\n'
	assert_output_has "Date: "
	assert_output_has "Message-ID: <"
	# The exact DATA content, not dot-stuffed, with CRLF line ends.
	assert_output_has $'\r\n\r\nhello\r\n.. dotted\r'
	[[ $output != *"Trying"* ]]
}

@test "--print equals --dry-run; no server configuration is needed" {
	run timeout 10 "$MAILPOST" --print -t < <(printf 'To: b@example.org\n\nx\n')
	[ "$status" -eq 0 ] || { echo "status $status: $output" >&2; false; }
	assert_output_has $'To: b@example.org\r\n'
	assert_output_has $'\r\n\r\nx\r'
}

@test "--dry-run: a write error is exit status 74" {
	[ -w /dev/full ] || skip "no /dev/full"
	run sh -c 'printf "Subject: x\n\nbody\n" |
		"$1" --dry-run a@example.org >/dev/full' sh "$MAILPOST"
	[ "$status" -eq 74 ] || { echo "status $status: $output" >&2; false; }
}

@test "--dry-run composes: To and Cc from the command line, never Bcc" {
	dry_run 'body text\n' -s 'Hello' -c cc@example.org \
		-b hidden@example.org --bcc=also-hidden@example.org \
		-f me@example.org to@example.org
	[ "$status" -eq 0 ] || { echo "status $status: $output" >&2; false; }
	assert_output_has "Subject: Hello"
	assert_output_has "To: to@example.org"
	assert_output_has "Cc: cc@example.org"
	assert_output_has "From: me@example.org"
	assert_output_has "MIME-Version: 1.0"
	assert_output_has "body text"
	# The envelope (on stderr, merged here) has them; the message not.
	assert_output_has "mailpost: dry run: recipient <hidden@example.org>"
	assert_output_has "mailpost: dry run: recipient <also-hidden@example.org>"
	[[ $(grep -v '^mailpost: dry run: ' <<<"$output") != *hidden* ]] ||
		{ echo "Bcc leaked: $output" >&2; false; }
}

@test "composing: a missing attachment is exit status 66 before connecting" {
	run_tool 66 -s x -a "$BATS_TEST_TMPDIR/nonexistent.pdf" \
		--host=127.0.0.1 --port=1 a@example.org
	[[ $output != *"Trying"* ]]
	run_tool 66 --body-file="$BATS_TEST_TMPDIR/none.txt" --dry-run \
		a@example.org
}

@test "composing: CR or LF in a header text is refused (64)" {
	run_tool 64 -s $'x\r\nBcc: evil@example.org' --body=b --dry-run \
		a@example.org
	run_tool 64 -H $'X-A: 1\nX-B: 2' --body=b --dry-run a@example.org
}

@test "--dry-run of a large message writes nothing on stderr but its envelope" {
	local big=$BATS_TEST_TMPDIR/big
	head -c 2000000 /dev/zero | tr '\0' 'a' | fold -w 70 >"$big"
	# Not under `run`: it would merge stderr into $output and leave the
	# file empty whatever mailpost wrote.
	timeout 10 "$MAILPOST" --dry-run --body-file="$big" a@example.org \
		2>"$BATS_TEST_TMPDIR/err" >/dev/null
	grep -q '^mailpost: dry run: recipient <a@example.org>$' "$BATS_TEST_TMPDIR/err" &&
		! grep -qv '^mailpost: dry run: ' "$BATS_TEST_TMPDIR/err" || {
		printf 'stderr:\n%s\n' "$(head -n 8 "$BATS_TEST_TMPDIR/err")" >&2
		false
	}
}

@test "every configuration key is in mailpost.conf(5)" {
	local keys key missing=
	keys=$(sed -n '/^static const struct key keys\[\] = {/,/^};/p' \
		"$SRCDIR/src/account/conf.c" | grep -o '^    {"[a-z][a-z0-9_]*"' |
		grep -o '[a-z][a-z0-9_]*')
	# Enough names found: the extraction itself works.
	[ "$(echo "$keys" | wc -l)" -ge 20 ]
	for key in $keys; do
		# Each key has its own entry: .B, .BR or .BI KEY at a line's start.
		grep -Eq "^\.B[IR]? \"?$key([^a-z0-9_]|\$)" "$SRCDIR/man/mailpost.conf.5" ||
			missing+=" $key"
	done
	if [ -n "$missing" ]; then
		echo "not in mailpost.conf(5):$missing" >&2
		false
	fi
}

@test "every long option is in the man page and all three completions" {
	local opts opt missing=
	opts=$(long_options)
	# Enough names found: the extraction itself works.
	[ "$(echo "$opts" | wc -l)" -ge 10 ]
	for opt in $opts; do
		# The man page writes a hyphen as \- .
		sed 's/\\-/-/g' "$SRCDIR/man/mailpost.1" |
			grep -Eq -- "--$opt([^a-z0-9-]|\$)" ||
			missing+=" man:--$opt"
		grep -Eq -- "--$opt([^a-z0-9-]|\$)" "$SRCDIR/completions/mailpost" ||
			missing+=" bash:--$opt"
		grep -Eq -- "--$opt([^a-z0-9-]|\$)" "$SRCDIR/completions/_mailpost" ||
			missing+=" zsh:--$opt"
		grep -Eq -- "-l $opt( |\$)" "$SRCDIR/completions/mailpost.fish" ||
			missing+=" fish:--$opt"
	done
	if [ -n "$missing" ]; then
		echo "not documented or completed:$missing" >&2
		false
	fi
}
