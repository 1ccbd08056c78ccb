#!/usr/bin/env bats
# 15-startup: a feature's library is loaded when the feature runs
# (src/base/dynload.h, doc/ARCHITECTURE.md): --version and a plain send
# map none of libgsasl, libmagic, json-c, libcurl, libgnutls-dane,
# libexpat and libunbound;
# AUTH loads libgsasl, an attachment that needs typing libmagic, --json
# json-c; an OAuth2 send maps libcurl only when it refreshes its token
# (a DANE hop's libgnutls-dane: tests/84-dane.bats); a DNS look-up
# (through tests/mailpost-dnstest, or a deliver mx send) loads libunbound,
# and a deliver mx send to an address literal does not.  What each process
# loaded is read from ld.so itself (LD_DEBUG=files, one LD_DEBUG_OUTPUT
# file per process, so a child's loads count too); nothing in mailpost
# is there for the test.  A library missing at run time is simulated in
# a private mount namespace, where an empty file is bound over it for one
# run (root only); the loader's own cases are tests/unit/dynload_test.c.

load lib/helpers

setup() {
	mailpost_setup
	MSG="$(make_message)"
	LDLOG="$BATS_TEST_TMPDIR/ld"
	mkdir "$LDLOG"
}

# traced EXIT ARGS...: run_mailpost with ld.so's record of every file
# each process loads in $LDLOG.
traced() {
	LD_DEBUG=files LD_DEBUG_OUTPUT="$LDLOG/ld" run_mailpost "$@"
}

# traced_send EXIT ARGS...: the same for run_send.
traced_send() {
	LD_DEBUG=files LD_DEBUG_OUTPUT="$LDLOG/ld" run_send "$@"
}

# loaded NAME: true when a process of the run loaded libNAME.so.*.
loaded() {
	ls "$LDLOG"/ld.* >/dev/null 2>&1 ||
		die "ld.so wrote no record in $LDLOG (LD_DEBUG ignored?)" || return 2
	grep -qs "file=lib$1\.so\." "$LDLOG"/ld.*
}

# assert_not_loaded NAME...: no process of the run loaded any of them.
assert_not_loaded() {
	local name rc
	for name in "$@"; do
		loaded "$name" && rc=0 || rc=$?
		case $rc in
		0) die "lib$name was loaded:" "$(grep -h "file=lib$name" "$LDLOG"/ld.*)" ;;
		1) ;;
		*) return 1 ;;
		esac
	done
}

# assert_loaded NAME: a process of the run loaded it.
assert_loaded() {
	loaded "$1" || die "lib$1 was not loaded;" "$(cat "$LDLOG"/ld.* | grep 'file=' | head -20)"
}

@test "startup: --version loads none of libgsasl, libmagic, json-c, libcurl, libgnutls-dane, libexpat, libunbound" {
	traced 0 --version
	assert_loaded gnutls # the record works
	assert_not_loaded gsasl magic json-c curl-gnutls gnutls-dane expat unbound
}

@test "startup: a plain send loads none of libgsasl, libmagic, json-c, libcurl, libgnutls-dane, libexpat, libunbound" {
	start_smtpd
	traced_send 0 bob@example.net <"$MSG"
	assert_loaded gnutls
	assert_not_loaded gsasl magic json-c curl-gnutls gnutls-dane expat unbound
}

@test "startup: a DNS resolver loads libunbound, and nothing else of these" {
	[[ -x "$MAILPOST_DNSTEST" ]] || die "not built: $MAILPOST_DNSTEST"
	MAILPOST="$MAILPOST_DNSTEST" traced 0 --server 127.0.0.1 available
	assert_loaded unbound
	assert_not_loaded gsasl magic json-c curl-gnutls gnutls-dane expat
}

@test "startup: a deliver mx send to an address literal looks nothing up and loads no libunbound" {
	start_smtpd
	write_config "deliver mx" "port $SMTPD_PORT" "domain client.test"
	traced 0 -C "$MAILPOST_CONF" -f alice@example.org "bob@[127.0.0.1]" <"$MSG"
	assert_message 1 "$MSG_SIMPLE_CRLF"
	assert_not_loaded unbound gsasl magic json-c curl-gnutls gnutls-dane expat
}

@test "startup: a send with AUTH loads libgsasl, and neither libmagic nor json-c" {
	start_smtpd $'caps PIPELINING, AUTH PLAIN\nuser alice Xq7-pencil-Zr9'
	write_config "user alice" "auth plain" "password Xq7-pencil-Zr9"
	traced_send 0 bob@example.net <"$MSG"
	assert_auth_record "conn 1: PLAIN user=alice reply=235 clear"
	assert_loaded gsasl
	assert_not_loaded magic json-c
}

@test "startup: an attachment typed by its content loads libmagic, and not json-c" {
	# A DOS executable under a name without an extension: neither the
	# signature table nor mime.types can tell it, only libmagic.  (Not
	# random bytes: now and then those match one of libmagic's weak
	# signatures.)
	printf 'MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff' >"$BATS_TEST_TMPDIR/program"
	head -c 3000 /dev/zero >>"$BATS_TEST_TMPDIR/program"
	traced 0 -C /dev/null --dry-run -s x -a "$BATS_TEST_TMPDIR/program" bob@example.net </dev/null
	[[ "$output" == *"Content-Type: application/x-dosexec; name=program"* ]] ||
		die "not typed by libmagic:" "$output"
	assert_loaded magic
	assert_not_loaded gsasl json-c
}

@test "startup: an attachment typed by its signature needs no libmagic, whatever its name" {
	printf '%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n' >"$BATS_TEST_TMPDIR/doc.pdf"
	# A PNG named as nothing: the signature alone types it.
	printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x10' >"$BATS_TEST_TMPDIR/pic"
	traced 0 -C /dev/null --dry-run -s x -a "$BATS_TEST_TMPDIR/doc.pdf" \
		-a "$BATS_TEST_TMPDIR/pic" bob@example.net </dev/null
	[[ "$output" == *"Content-Type: application/pdf; name=doc.pdf"* ]] ||
		die "not typed as a PDF:" "$output"
	[[ "$output" == *"Content-Type: image/png; name=pic"* ]] ||
		die "not typed as a PNG:" "$output"
	assert_not_loaded gsasl magic json-c
}

@test "startup: binary data typed by its extension through mime.types needs no libmagic" {
	printf 'application/x-mailpost-test\tmpt\n' >"$BATS_TEST_TMPDIR/mime.types"
	{ printf '\0\1\2'; head -c 100000 /dev/urandom; } >"$BATS_TEST_TMPDIR/data.mpt"
	MAILPOST_TEST_MIME_TYPES="$BATS_TEST_TMPDIR/mime.types" \
		traced 0 -C /dev/null --dry-run -s x -a "$BATS_TEST_TMPDIR/data.mpt" bob@example.net </dev/null
	[[ "$output" == *"Content-Type: application/x-mailpost-test; name=data.mpt"* ]] ||
		die "not typed by the table:" "$output"
	assert_not_loaded gsasl magic json-c
}

@test "startup: --json loads json-c, and not libmagic" {
	start_smtpd
	traced_send 0 --json bob@example.net <"$MSG"
	[[ "$output" == *'"status":"delivered"'* ]] || die "no JSON result:" "$output"
	assert_loaded json-c
	assert_not_loaded gsasl magic
}

@test "startup: an OAuth2 send with a cached token loads neither libcurl nor json-c" {
	oauthd_start
	start_smtpd $'caps AUTH OAUTHBEARER\n'"user $OAUTH2_USER cached-1"
	write_oauth2_config
	oauth2_seed refresh-1 cached-1 3000 >/dev/null
	traced 0 -C "$MAILPOST_CONF" -f alice@example.org bob@example.net <"$MSG"
	assert_bearer_used cached-1
	assert_loaded gsasl
	assert_not_loaded curl-gnutls json-c magic
}

@test "startup: an OAuth2 send that refreshes its token loads libcurl" {
	oauthd_start
	start_smtpd $'caps AUTH OAUTHBEARER\n'"user $OAUTH2_USER access-1"
	write_oauth2_config
	oauth2_seed refresh-1 >/dev/null
	traced 0 -C "$MAILPOST_CONF" -f alice@example.org bob@example.net <"$MSG"
	assert_bearer_used access-1
	assert_loaded curl-gnutls
	assert_not_loaded magic
}

# --- a library missing at run time -------------------------------------------

# without_lib NAME EXIT ARGS...: run_mailpost in a private mount namespace
# where libNAME (the file ld.so.cache names) is an empty file, so that
# dlopen fails as it would were the package not installed.
without_lib() {
	local name=$1 lib wrapper="$BATS_TEST_TMPDIR/without-$1"
	shift
	[[ "$(id -u)" -eq 0 ]] && command -v unshare >/dev/null ||
		skip "needs root and unshare to hide lib$name for one run"
	lib=$(ldconfig -p | awk -v n="lib$name.so." 'index($1, n) == 1 { print $NF; exit }')
	[[ -n "$lib" ]] || die "ldconfig knows no lib$name" || return 1
	lib=$(realpath "$lib")
	cat >"$wrapper" <<-EOF
		#!/bin/sh
		exec unshare --mount --propagation private sh -c 'mount --bind /dev/null "\$1" && shift && exec "\$@"' sh '$lib' '$MAILPOST' "\$@"
	EOF
	chmod +x "$wrapper"
	MAILPOST="$wrapper" run_mailpost "$@"
}

@test "startup: without libmagic, an attachment to be typed fails (69) naming the package, and nothing is sent" {
	start_smtpd
	# Binary data of no known signature, without an extension that
	# mime.types could look up: only libmagic could type it.
	{ printf '\0\1\2'; head -c 3000 /dev/urandom; } >"$BATS_TEST_TMPDIR/data"
	without_lib magic 69 -C /dev/null --host 127.0.0.1 --port "$SMTPD_PORT" \
		-f alice@example.org -s x -a "$BATS_TEST_TMPDIR/data" bob@example.net </dev/null
	assert_stderr_contains "cannot load libmagic.so."
	assert_stderr_contains "needed to type an attachment (or give --attach-type); install it (Debian: libmagic"
	assert_no_message
	# A type given, libmagic is not needed.
	without_lib magic 0 -C /dev/null --dry-run -f alice@example.org -s x \
		-a "$BATS_TEST_TMPDIR/data" --attach-type=application/octet-stream \
		bob@example.net </dev/null
}

@test "startup: without json-c, --json fails (69) before anything is sent" {
	start_smtpd
	without_lib json-c 69 -C /dev/null --host 127.0.0.1 --port "$SMTPD_PORT" \
		-f alice@example.org --json bob@example.net <"$MSG"
	assert_stderr_contains "cannot load libjson-c.so."
	assert_stderr_contains "needed for --json and OAuth2; install it (Debian: libjson-c"
	assert_no_message
}

@test "startup: without libgsasl, AUTH fails (69) and the message is kept" {
	start_smtpd $'caps PIPELINING, AUTH PLAIN\nuser alice Xq7-pencil-Zr9'
	# The server in the file, not --host (a test of a server keeps no
	# dead letter).
	write_config "host 127.0.0.1" "port $SMTPD_PORT" "user alice" "auth plain" \
		"password Xq7-pencil-Zr9"
	without_lib gsasl 69 -C "$MAILPOST_CONF" -f alice@example.org bob@example.net <"$MSG"
	assert_stderr_contains "cannot load libgsasl.so."
	assert_stderr_contains "needed for SMTP AUTH; install it (Debian: libgsasl"
	assert_stderr_contains "the message was saved to $HOME/dead.letter"
	grep -q "^Subject: " "$HOME/dead.letter" || die "no message in dead.letter"
}

@test "startup: without libunbound, a DNS look-up fails (69) naming the package" {
	[[ -x "$MAILPOST_DNSTEST" ]] || die "not built: $MAILPOST_DNSTEST"
	MAILPOST="$MAILPOST_DNSTEST" without_lib unbound 69 --server 127.0.0.1 \
		mx example.test
	assert_stderr_contains "cannot load libunbound.so.8"
	assert_stderr_contains "needed for DNS look-ups (direct delivery, --configure); install it (Debian: libunbound8)"
}

@test "startup: without libunbound, a deliver mx send fails (69) naming the package, and the message is kept" {
	write_config "deliver mx" "dns_server 127.0.0.1@$(unused_port)"
	without_lib unbound 69 -C "$MAILPOST_CONF" -f alice@example.org bob@example.test <"$MSG"
	assert_stderr_contains "cannot load libunbound.so.8"
	assert_stderr_contains "the message was saved to $HOME/dead.letter"
	grep -q "^Subject: " "$HOME/dead.letter" || die "no message in dead.letter"
}

@test "startup: without libcurl, --oauth2-login fails (69) naming the package, and stores nothing" {
	export XDG_STATE_HOME="$BATS_TEST_TMPDIR/state"
	write_config "account oauth" "oauth2_provider generic" \
		"oauth2_client_id mailpost-test" \
		"oauth2_token_endpoint https://127.0.0.1:9/token" \
		"oauth2_device_endpoint https://127.0.0.1:9/device" \
		"user alice@example.org"
	without_lib curl-gnutls 69 -C "$MAILPOST_CONF" --oauth2-login -A oauth \
		--oauth2-flow=device </dev/null
	assert_stderr_contains "cannot load libcurl-gnutls.so.4"
	assert_stderr_contains "install it (Debian: libcurl3-gnutls)"
	[[ ! -e "$XDG_STATE_HOME/mailpost/oauth2" ]] || die "something was stored"
}
