#!/usr/bin/env bats
# 36-smuggling: --smtp-smuggling-test against the scripted server
# (tests/lib/smtpd.py): one that takes every malformed end-of-data sequence
# for the end of the data (option end-of-data smuggling) is reported for
# all of them, one that takes only <CR><LF>.<CR><LF> (option end-of-data
# crlf) for none; the bytes on the wire; servers that refuse or close; the
# options it needs and refuses.  tests/56-postfix-smuggling.bats runs it
# against Postfix.

load lib/helpers

NPROBES=10

# smuggle EXIT [ARGS...]: the test against the scripted server, from
# alice@example.org to bob@example.net.
smuggle() {
	local want="$1"
	shift
	run_send "$want" --smtp-smuggling-test "$@" bob@example.net </dev/null
}

# probe_lines VERDICT: how many probe lines say "end of data: VERDICT".
probe_lines() {
	printf '%s\n' "$output" | grep -c "^ *[0-9]*  <.*end of data: $1 "
}

@test "a server that ends the data at every malformed sequence: each probe reported, 76, one line on stderr" {
	start_smtpd "option end-of-data smuggling" -- --max-connections "$NPROBES"
	smuggle 76
	assert_equal "$NPROBES" "$(probe_lines YES)" "probes reported" || return 1
	assert_output_contains " 1  <LF>.<LF>                \\n.\\n            end of data: YES  (250 2.0.0 Ok: queued as 1 | 250 2.0.0 Ok | 502 5.5.2 Error: command not recognized | 221 2.0.0 Bye)"
	assert_output_contains " 9  <CR><LF><NUL>.<CR><LF>   \\r\\n\\0.\\r\\n      end of data: YES"
	assert_output_contains "127.0.0.1: 10 of the 10 sequences were taken as the end of the data: <LF>.<LF>, <LF>.<CR><LF>,"
	assert_stderr_contains "mailpost: 127.0.0.1 takes 10 malformed end-of-data sequences for the end of a message (SMTP smuggling; RFC 5321 4.1.1.4 allows only <CR><LF>.<CR><LF>); make the server refuse bare CR and LF (Postfix: smtpd_forbid_bare_newline)"
	assert_stderr_line_count 1
	# What followed each sequence was read as commands.
	assert_equal "$NPROBES" "$(grep -c ' clear NOOP$' "$SMTPD_DIR/commands")" "NOOPs read as commands"
}

@test "a server that ends the data only at CRLF.CRLF: none reported, 0; each probe a message that says what it is" {
	start_smtpd "option end-of-data crlf" -- --max-connections "$NPROBES"
	smuggle 0
	assert_equal "$NPROBES" "$(probe_lines no)" "probes not taken" || return 1
	assert_output_contains " 4  <CR>.<CR>                \\r.\\r            end of data: no   (250 2.0.0 Ok: queued as 4 | 221 2.0.0 Bye)"
	assert_output_contains "127.0.0.1: none of the 10 sequences was taken as the end of the data; only <CR><LF>.<CR><LF> ends it, as RFC 5321 4.1.1.4 says"
	[[ -z "$stderr" ]] || die "stderr: $stderr"
	smtpd_finish
	# Probe 4 on the wire and as the server kept it: the sequence as it
	# is, NOOP as text, then the real end and QUIT in the same write.
	assert_received_contains $'The sequence follows:\r.\rNOOP\r\n.\r\nQUIT\r\n'
	assert_in_one_recv $'follows:\r.\rNOOP\r\n.\r\nQUIT\r\n'
	grep -q $'^Subject: SMTP smuggling test 4 of 10: <CR>.<CR> (mailpost)\r$' "$SMTPD_DIR/msg.4" ||
		die "probe 4's subject:" "$(cat "$SMTPD_DIR/msg.4")"
	grep -q "This is a test message from mailpost --smtp-smuggling-test" "$SMTPD_DIR/msg.4" ||
		die "probe 4 does not say what it is"
	grep -q $'^X-Mailpost-Test: smtp-smuggling 4 of 10\r$' "$SMTPD_DIR/msg.4" ||
		die "probe 4 has no X-Mailpost-Test field"
	# One connection per probe, each to the one recipient, never dot-stuffed.
	assert_equal "$NPROBES" "$(cat "$SMTPD_DIR"/env.* | grep -c '^RCPT TO:<bob@example.net>')" "transactions" || return 1
	assert_received_lacks $'\r\n..'
	assert_received_contains $'follows:\r\n\x00.\r\nNOOP'
}

@test "a line-reading server (bare LF ends a line): only the sequences that hold <LF>.<LF> or <LF>.<CR><LF> are taken" {
	# The scripted server's usual data reader splits lines at LF and ends
	# at "." alone, with or without CR, as Postfix without
	# smtpd_forbid_bare_newline does.
	start_smtpd -- --max-connections "$NPROBES"
	smuggle 76
	assert_output_contains "127.0.0.1: 3 of the 10 sequences were taken as the end of the data: <LF>.<LF>, <LF>.<CR><LF>, <CR><LF>.<LF>"
}

@test "the transcript says what the probe sends: -v its size, -vv its bytes escaped" {
	start_smtpd "option end-of-data crlf" -- --max-connections "$NPROBES"
	smuggle 0 -v -v
	assert_stderr_contains "smuggling probe 2 of 10: <LF>.<CR><LF>"
	assert_stderr_contains "probe data:"
	assert_stderr_contains "bytes sent as they are (no dot-stuffing, line endings untouched)"
	assert_stderr_contains 'The sequence follows:\n.'
}

@test "a probe the server answers 421 and closes, or closes without a word: not taken, the test goes on (0)" {
	start_smtpd "$(printf '%s\n' "option end-of-data crlf" "connection 1" "on DOT" \
		"  reply 421 4.5.2 bare newline, goodbye" "  close" "connection 2" \
		"on DOT close")" -- --max-connections "$NPROBES"
	smuggle 0
	assert_output_contains " 1  <LF>.<LF>                \\n.\\n            end of data: no   (421 4.5.2 bare newline, goodbye)"
	assert_output_contains " 2  <LF>.<CR><LF>            \\n.\\r\\n          end of data: no   (no reply: "
	assert_equal "$NPROBES" "$(probe_lines no)" "probes not taken"
}

@test "a probe whose reply does not come in time, or is no reply: unknown (?), not \"no\"; the test stops there (75)" {
	# Connection 1 answers the data late; the others would answer at once
	# and clean: the test must not go on to them and call the server clean.
	start_smtpd "$(printf '%s\n' "option end-of-data crlf" "connection 1" "on DOT" \
		"  sleep 3" "  default")" -- --max-connections "$NPROBES"
	smuggle 75 --timeout 1
	assert_output_contains " 1  <LF>.<LF>                \\n.\\n            end of data: ?    (no reply: timed out after 1 s"
	assert_output_lacks " 2  "
	assert_output_lacks "none of the"
	assert_stderr_contains "mailpost: probe 1 (<LF>.<LF>): timed out after 1 s"
	assert_stderr_contains "; whether 127.0.0.1 takes it for the end of the data is not known; the test stopped"
	assert_stderr_line_count 1
	# Bytes that are no reply, first or after one: the same.
	stop_smtpd
	start_smtpd "$(printf '%s\n' "option end-of-data crlf" "on DOT" "  raw garbage\\r\\n")"
	smuggle 75
	assert_output_contains " 1  <LF>.<LF>                \\n.\\n            end of data: ?    (no reply: malformed reply from server"
	assert_output_lacks "none of the"
	stop_smtpd
	start_smtpd "$(printf '%s\n' "option end-of-data crlf" "on DOT" "  raw 250 ok\\r\\ngarbage\\r\\n")"
	smuggle 75
	assert_output_contains " 1  <LF>.<LF>                \\n.\\n            end of data: ?    (250 ok | then: malformed reply from server"
	assert_stderr_line_count 1
}

@test "a probe refused before its data ends the test with the refusal's code" {
	start_smtpd "on RCPT 550 5.1.1 <bob@example.net>: no such user"
	smuggle 67
	assert_stderr_contains "mailpost: probe 1 (<LF>.<LF>) could not be sent: RCPT TO: server said 550 5.1.1 <bob@example.net>: no such user"
	assert_stderr_line_count 1
	assert_no_message 1
	# A server that starts the data though the recipient was refused gets
	# no probe: the connection closes without it.
	start_smtpd "$(printf '%s\n' "on RCPT 550 5.1.1 <bob@example.net>: no such user" \
		"on DATA 354 go ahead")"
	smuggle 67
	assert_stderr_contains "mailpost: probe 1 (<LF>.<LF>) could not be sent: RCPT TO: server said 550 5.1.1"
	assert_received_lacks "The sequence follows"
	assert_no_message 1
}

@test "results that cannot be written to standard output: 74, not a verdict" {
	start_smtpd "option end-of-data smuggling" -- --max-connections "$NPROBES"
	run --separate-stderr timeout 30 sh -c 'exec "$0" "$@" >/dev/full' "$MAILPOST" \
		-C /dev/null --host 127.0.0.1 --port "$SMTPD_PORT" --domain client.test \
		-f alice@example.org --smtp-smuggling-test bob@example.net </dev/null
	assert_equal 74 "$status" "exit status"
	assert_stderr_contains "mailpost: cannot write the test's results to standard output"
}

@test "with AUTH, the password from a command-line source, descriptor 0 allowed since stdin is not read" {
	tls_certs
	start_smtpd "$(printf '%s\n' "$(tls_cert_line server)" "caps PIPELINING, STARTTLS" \
		"tls-caps PIPELINING, AUTH PLAIN" "user alice Sm-uggle-7" "option end-of-data crlf")" \
		-- --max-connections "$NPROBES"
	write_config "tls on" "tls_trust_file $CERTS/ca.pem" "auth plain" "user alice"
	run_send 0 --smtp-smuggling-test --password-fd 0 bob@example.net <<<"Sm-uggle-7"
	assert_equal "$NPROBES" "$(probe_lines no)" "probes not taken" || return 1
	assert_equal "$NPROBES" "$(grep -c 'PLAIN user=alice reply=235 tls' "$SMTPD_DIR/auth")" "AUTHs"
	assert_no_secret "Sm-uggle-7"
}

@test "--smtp-smuggling-test needs a server named on the command line, one recipient, one host (64)" {
	write_config "host 127.0.0.1"
	run_mailpost 64 -C "$MAILPOST_CONF" --smtp-smuggling-test bob@example.net
	assert_stderr_contains "mailpost: --smtp-smuggling-test probes only a server named on the command line: give --host HOST (or --socket FILE), even for the account's own server; its probes are test messages the server may deliver"
	run_mailpost 64 -C "$MAILPOST_CONF" --host 127.0.0.1 --smtp-smuggling-test bob@example.net carol@example.net
	assert_stderr_contains "sends its probes to one recipient: name exactly one address (yours)"
	run_mailpost 64 -C "$MAILPOST_CONF" --host 127.0.0.1 --smtp-smuggling-test -t
	assert_stderr_contains "sends its probes to one recipient"
	run_mailpost 64 -C "$MAILPOST_CONF" --host 127.0.0.1 --smtp-smuggling-test -s hi bob@example.net
	assert_stderr_contains "composing options and --dry-run cannot be given with it"
	run_mailpost 64 -C "$MAILPOST_CONF" --host 127.0.0.1 --smtp-smuggling-test --queue always bob@example.net
	assert_stderr_contains "--queue cannot be given with --smtp-smuggling-test"
	run_mailpost 64 -C "$MAILPOST_CONF" --host 127.0.0.1,127.0.0.2 --smtp-smuggling-test bob@example.net
	assert_stderr_contains "--smtp-smuggling-test probes one server: name one host with --host"
	run_mailpost 64 -C "$MAILPOST_CONF" -q --smtp-smuggling-test
	assert_stderr_contains "--smtp-smuggling-test cannot be combined with -q"
}
