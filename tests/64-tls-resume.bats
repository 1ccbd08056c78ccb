#!/usr/bin/env bats
# 64-tls-resume: TLS sessions kept between runs (tls_session_cache;
# src/wire/tlscache.c) against the scripted server, whose one SSLContext
# keeps its tickets valid across connections and which records each
# handshake that resumed (DIR/resumed): the next run resumes (STARTTLS with
# AUTH, implicit TLS, TLS 1.2) and verifies the kept certificate again; a
# change of host, trust file or pin means a full handshake; a damaged,
# foreign or other-writable file is ignored and replaced; a ticket the
# server no longer takes falls back to a full handshake; a state directory
# that cannot be written costs a note at -v, never the mail; an entry whose
# data GnuTLS refuses is said at -v and replaced, and a killed run's stale
# temporary file removed; the switches;
# --serverinfo and --json say so.  Counts, never times.

load lib/helpers

setup() {
	mailpost_setup
	MSG="$(make_message)"
	tls_certs
	CACHE="$HOME/.local/state/mailpost/tls"
	TLSCACHE_MAGIC=$'mailpost-tls-session 1\n'
}

# The server: STARTTLS, AUTH PLAIN inside, then LINEs (option tls12...).
starttls_script() {
	tls_cert_line server
	printf '%s\n' "caps PIPELINING, 8BITMIME, STARTTLS" \
		"tls-caps PIPELINING, 8BITMIME, AUTH PLAIN" "user alice s3cret" "$@"
}

# The account: STARTTLS verified against the test CA, AUTH PLAIN, LINEs.
resume_config() {
	write_config "tls on" "tls_trust_file $CERTS/ca.pem" "auth plain" \
		"user alice" "password s3cret" "$@"
}

# The server's handshakes that resumed a session are exactly these
# connections ("2 3"), or none ("").
assert_resumed() {
	local got
	got=$(sed 's/^conn //' "$SMTPD_DIR/resumed" | paste -sd' ' -)
	assert_equal "$1" "$got" "the connections that resumed a session"
}

# The one kept entry (there must be exactly one).
the_entry() {
	local f=("$CACHE"/session-*)
	[[ ${#f[@]} -eq 1 && -f "${f[0]}" ]] ||
		die "want one kept session in $CACHE, have:" "$(ls -la "$CACHE" 2>&1)" || return 1
	printf '%s\n' "${f[0]}"
}

@test "resume: STARTTLS+AUTH: the next run resumes, verifies the kept certificate again, and sends; the entry is 0600 in a 0700 directory" {
	start_smtpd "$(starttls_script)" -- --max-connections 3
	resume_config
	run_send 0 -v bob@example.net <"$MSG"
	assert_stderr_lacks "TLS session resumed"
	local entry
	entry=$(the_entry) || return 1
	assert_equal 600 "$(stat -c %a "$entry")" "the entry's mode"
	assert_equal 700 "$(stat -c %a "$CACHE")" "the directory's mode"
	run_send 0 -v bob@example.net <"$MSG"
	assert_stderr_contains "TLS session resumed"
	assert_stderr_contains "certificate verification: trusted (chain, host name '127.0.0.1'"
	# The second run kept the ticket the server gave it: the third resumes.
	run_send 0 bob@example.net <"$MSG"
	assert_equal "" "$stderr" "stderr of a quiet run"
	smtpd_finish
	assert_resumed "2 3"
	assert_equal 3 "$(grep -c 'PLAIN user=alice reply=235' "$SMTPD_DIR/auth")" "AUTH PLAIN accepted"
	[[ -s "$SMTPD_DIR/msg.3" ]] || die "the third message did not arrive"
	[[ "$(the_entry)" == "$entry" ]] || die "the entry changed its name"
	assert_no_secret s3cret "$entry"
}

@test "resume: implicit TLS and TLS 1.2 (with the extended master secret) resume too" {
	start_smtpd "$(tls_cert_line server; printf '%s\n' "option implicit-tls" "caps PIPELINING, 8BITMIME")" -- --max-connections 2
	write_config "tls on" "tls_starttls off" "tls_trust_file $CERTS/ca.pem"
	run_send 0 bob@example.net <"$MSG"
	run_send 0 -v bob@example.net <"$MSG"
	assert_stderr_contains "TLS session resumed"
	smtpd_finish
	assert_resumed "2"
	start_smtpd "$(starttls_script "option tls12")" -- --max-connections 2
	resume_config
	run_send 0 bob@example.net <"$MSG"
	run_send 0 -v bob@example.net <"$MSG"
	assert_stderr_contains "TLS session: TLS1.2"
	assert_stderr_contains "TLS session resumed"
	smtpd_finish
	assert_resumed "2"
	# One entry per port and mode.
	assert_equal 2 "$(find "$CACHE" -name 'session-*' | wc -l)" "entries"
}

@test "resume: only the same identity: another host name, another trust file or a pin means a full handshake, which replaces the entry" {
	start_smtpd "$(starttls_script)" -- --max-connections 6
	resume_config
	cp "$CERTS/ca.pem" "$BATS_TEST_TMPDIR/ca-copy.pem"
	SEND_HOST=localhost run_send 0 bob@example.net <"$MSG"
	# 127.0.0.1 is the same server (the certificate names both), another name.
	SEND_HOST=127.0.0.1 run_send 0 bob@example.net <"$MSG"
	SEND_HOST=localhost run_send 0 --tls-trust-file="$BATS_TEST_TMPDIR/ca-copy.pem" bob@example.net <"$MSG"
	SEND_HOST=localhost run_send 0 --tls-fingerprint="$(cat "$CERTS/server.sha256")" bob@example.net <"$MSG"
	SEND_HOST=localhost run_send 0 --tls-host-override=127.0.0.1 bob@example.net <"$MSG"
	# The same settings as the run before: resumed.
	SEND_HOST=localhost run_send 0 -v --tls-host-override=127.0.0.1 bob@example.net <"$MSG"
	assert_stderr_contains "TLS session resumed"
	smtpd_finish
	assert_resumed "6"
	assert_equal 2 "$(find "$CACHE" -name 'session-*' | wc -l)" "entries (localhost, 127.0.0.1)"
}

@test "resume: the kept certificate is verified again: a trust file that no longer holds its CA refuses the resumed session (76), nothing sent" {
	start_smtpd "$(starttls_script)" -- --max-connections 2
	cp "$CERTS/ca.pem" "$BATS_TEST_TMPDIR/trust.pem"
	resume_config
	sed -i "s|$CERTS/ca.pem|$BATS_TEST_TMPDIR/trust.pem|" "$MAILPOST_CONF"
	run_send 0 bob@example.net <"$MSG"
	cp "$CERTS/other-ca.pem" "$BATS_TEST_TMPDIR/trust.pem"
	run_send 76 bob@example.net <"$MSG"
	assert_stderr_contains "certificate is not trusted"
	smtpd_finish
	assert_resumed "2"
	! grep -q '^2 tls \(AUTH\|MAIL\)' "$SMTPD_DIR/commands" ||
		die "AUTH or MAIL went out on the refused session:" "$(cat "$SMTPD_DIR/commands")"
}

@test "resume: a damaged, truncated, foreign, group-readable or linked entry is ignored: full handshake, mail sent, the entry replaced" {
	start_smtpd "$(starttls_script)" -- --max-connections 7
	resume_config
	run_send 0 bob@example.net <"$MSG"
	local entry good="$BATS_TEST_TMPDIR/good"
	entry=$(the_entry) || return 1
	cp -p "$entry" "$good"
	local how
	for how in truncate garbage mode0644 foreign symlink; do
		case $how in
		truncate) head -c 40 "$good" >"$entry" ;;
		garbage) head -c 700 /dev/urandom >"$entry" ;;
		mode0644) cp -p "$good" "$entry" && chmod 644 "$entry" ;;
		foreign) cp -p "$good" "$entry" && chown 65534 "$entry" ;;
		symlink) rm -f "$entry" && ln -s "$good" "$entry" ;;
		esac
		run_send 0 -v bob@example.net <"$MSG" || return 1
		assert_stderr_lacks "TLS session resumed" || die "($how)" || return 1
		[[ -f "$entry" && ! -L "$entry" ]] || die "($how) not replaced" || return 1
		assert_equal "600 $(id -u)" "$(stat -c '%a %u' "$entry")" "($how) the new entry" || return 1
	done
	run_send 0 bob@example.net <"$MSG"
	smtpd_finish
	assert_resumed "7"
	assert_equal 7 "$(grep -c 'reply=235' "$SMTPD_DIR/auth")" "messages authenticated"
}

@test "resume: an entry of ours whose session data GnuTLS cannot take: a full handshake said at -v, mail sent, the entry replaced; a killed run's stale temporary file goes" {
	start_smtpd "$(starttls_script)" -- --max-connections 3
	resume_config
	run_send 0 bob@example.net <"$MSG"
	local entry bad="$BATS_TEST_TMPDIR/bad" header
	entry=$(the_entry) || return 1
	# The header (magic, identity digest, expiry, length) as written, so
	# that the file is read as ours and current; the data zeroed.
	header=$((${#TLSCACHE_MAGIC} + 32 + 8 + 4))
	{
		head -c "$header" "$entry"
		head -c "$(($(stat -c %s "$entry") - header))" /dev/zero
	} >"$bad"
	cp "$bad" "$entry"
	# What a run killed between its write and its rename leaves, two
	# minutes ago; and one that may be another run's write right now.
	local stale="$CACHE/.$(basename "$entry").00112233AABBCCDD"
	local fresh="$CACHE/.$(basename "$entry").0011223344556677"
	(umask 077 && cp "$bad" "$stale" && cp "$bad" "$fresh")
	touch -d '2 minutes ago' "$stale"
	run_send 0 -v bob@example.net <"$MSG"
	assert_stderr_contains "the kept TLS session is not usable: a full handshake follows"
	assert_stderr_lacks "TLS session resumed"
	! cmp -s "$entry" "$bad" || die "the unusable entry was kept"
	[[ ! -e "$stale" ]] || die "the stale temporary file is still there"
	[[ -e "$fresh" ]] || die "a temporary file younger than a minute was removed"
	run_send 0 -v bob@example.net <"$MSG"
	assert_stderr_contains "TLS session resumed"
	smtpd_finish
	assert_resumed "3"
	[[ -s "$SMTPD_DIR/msg.2" ]] || die "the second message did not arrive"
}

@test "resume: a ticket the server no longer takes: a full handshake, the entry replaced, the run after resumes it" {
	# On a local socket, so that the second server is the same one to
	# mailpost (the port would make it another); new ticket keys.
	local sock="$BATS_TEST_TMPDIR/smtp.sock" entry
	start_smtpd "$(starttls_script)" -- --unix "$sock"
	resume_config "host localhost" "socket $sock"
	run_mailpost 0 -C "$MAILPOST_CONF" -f alice@example.org bob@example.net <"$MSG"
	entry=$(the_entry) || return 1
	cp "$entry" "$BATS_TEST_TMPDIR/first"
	smtpd_finish
	rm -f "$sock"
	start_smtpd "$(starttls_script)" -- --unix "$sock" --max-connections 2
	run_mailpost 0 -C "$MAILPOST_CONF" -f alice@example.org -v bob@example.net <"$MSG"
	assert_stderr_lacks "TLS session resumed"
	! cmp -s "$entry" "$BATS_TEST_TMPDIR/first" || die "the stale entry was kept"
	run_mailpost 0 -C "$MAILPOST_CONF" -f alice@example.org -v bob@example.net <"$MSG"
	assert_stderr_contains "TLS session resumed"
	smtpd_finish
	assert_resumed "2"
}

@test "resume: a state directory that cannot be written: the mail is sent, one note at -v, nothing without -v" {
	start_smtpd "$(starttls_script)" -- --max-connections 2
	resume_config
	mkdir -p "$HOME/.local/state/mailpost"
	echo "not a directory" >"$CACHE"
	run_send 0 -v bob@example.net <"$MSG"
	assert_equal 1 "$(grep -c 'TLS session not kept for the next run' <<<"$stderr")" "notes"
	run_send 0 bob@example.net <"$MSG"
	assert_equal "" "$stderr" "stderr without -v"
	smtpd_finish
	assert_resumed ""
	assert_equal 2 "$(grep -c 'reply=235' "$SMTPD_DIR/auth")" "messages authenticated"
}

@test "resume: --tls-session-cache=off, tls_session_cache off and tls_certcheck off: full handshakes, nothing kept" {
	start_smtpd "$(starttls_script)" -- --max-connections 5
	resume_config
	run_send 0 --tls-session-cache=off bob@example.net <"$MSG"
	[[ ! -e "$CACHE" ]] || die "--tls-session-cache=off kept a session:" "$(ls -la "$CACHE")"
	resume_config "tls_session_cache off"
	run_send 0 bob@example.net <"$MSG"
	resume_config "tls_certcheck off"
	run_send 0 bob@example.net <"$MSG"
	[[ ! -e "$CACHE" ]] || die "a session was kept:" "$(ls -la "$CACHE")"
	# The command line turns it back on over the key; then it is used.
	resume_config "tls_session_cache off"
	run_send 0 --tls-session-cache bob@example.net <"$MSG"
	run_send 0 --tls-session-cache=on bob@example.net <"$MSG"
	smtpd_finish
	assert_resumed "5"
}

@test "resume: --serverinfo and --json say whether the session was resumed" {
	start_smtpd "$(starttls_script)" -- --max-connections 4
	resume_config
	run_send 0 --serverinfo
	assert_output_contains "Resumed:       no: a full handshake"
	run_send 0 --serverinfo
	assert_output_contains "Resumed:       yes: TLS session resumed"
	assert_output_contains "Verification:  verified: chain to mailpost test CA"
	assert_output_contains "Certificate chain, as the server sent it to the run that kept the session (1):"
	run_send 0 --json --tls-session-cache=off bob@example.net <"$MSG"
	assert_equal false "$(jq -r .tls.resumed <<<"$output")" "--json's tls.resumed, cache off"
	run_send 0 --json bob@example.net <"$MSG"
	assert_equal true "$(jq -r .tls.resumed <<<"$output")" "--json's tls.resumed"
	smtpd_finish
	assert_resumed "2 4"
}
