#!/usr/bin/env bats
# 67-oauth2: an OAuth2 account at send time (issue #14; src/delivery/bearer.h,
# relay.h).  The access token comes from the cache while it has more than
# BEARER_MARGIN (120 s) left, with no request to the token endpoint;
# otherwise it is refreshed (tests/lib/oauthd.py plays the endpoint), a
# rotated refresh token replacing the old one before the access token is
# cached.  AUTH is OAUTHBEARER when offered, else XOAUTH2 (smtpd.py checks
# the token).  A refused cached token is refreshed once; a refused refresh
# token is exit 77 with the command that logs in again; an endpoint that
# cannot answer now keeps the message in the queue for -q.  No token and no
# client secret reaches the transcript, the log file, the JSON result or a
# child's argv and environment.  The login itself is 69-oauth2-login's:
# here the token file is written as tokstore.c's header describes it.

load lib/helpers

ACCOUNT=default # write_oauth2_config's "account default : oauth"

setup() {
	mailpost_setup
	MSG="$(make_message)"
	DEAD="$HOME/dead.letter"
	tls_certs
}

# token_file: the path oauth2_seed wrote (the one file of the token directory).
token_file() {
	ls -d "$XDG_STATE_HOME"/mailpost/oauth2/"$ACCOUNT"-*
}

# assert_token_file KEY VALUE: the token file has the line "KEY VALUE".
assert_token_file() {
	grep -qx -- "$1 $2" "$(token_file)" ||
		die "the token file has no line '$1 $2':" "$(sed 's/_token .*/_token .../' "$(token_file)")"
}

# server CAPS TOKEN: the test server offering AUTH CAPS and taking TOKEN
# for $OAUTH2_USER.
server() {
	start_smtpd "caps PIPELINING, AUTH $1"$'\n'"user $OAUTH2_USER $2"
}

# send EXIT [ARGS...]: a send through the configuration's OAuth2 account
# (the server from the file: a temporary failure is queued).
send() {
	local want="$1"
	shift
	run_mailpost "$want" -C "$MAILPOST_CONF" -f alice@example.org "$@" \
		bob@example.net <"$MSG"
}

# assert_requests N: the token endpoint got N requests.
assert_requests() {
	assert_equal "$1" "$(oauthd_requests /token)" "requests to the token endpoint"
}

# assert_queued: one line "queued as ID: ..." and mailq lists one entry.
assert_queued() {
	[[ "$stderr" =~ mailpost:\ queued\ as\ [0-9a-f]{16}:\ (.*) ]] ||
		die "not queued:" "$stderr" || return 1
	[[ "${BASH_REMATCH[1]}" == *"$1"* ]] ||
		die "the reason does not say '$1':" "$stderr" || return 1
	"$MAILPOST" -C "$MAILPOST_CONF" -bp | grep -q 'bob@example.net' ||
		die "mailq does not list it:" "$("$MAILPOST" -C "$MAILPOST_CONF" -bp)"
}

# --- the cache --------------------------------------------------------------

@test "oauth2: a cached token is used as it is, with no request to the token endpoint" {
	oauthd_start
	server "OAUTHBEARER XOAUTH2" cached-Tok3n
	write_oauth2_config
	oauth2_seed refresh-1 cached-Tok3n 3000 >/dev/null
	send 0 -v
	assert_bearer_used cached-Tok3n
	assert_requests 0
	[[ "$stderr" =~ "=== OAuth2 access token from the cache, "(49|50)" min left" ]] ||
		die "the transcript does not say where the token came from:" "$stderr"
	assert_no_secret cached-Tok3n
	assert_no_secret refresh-1
}

@test "oauth2: a token with less than 2 minutes left is refreshed once, cached, and the next send uses the cache" {
	oauthd_start
	server OAUTHBEARER access-1
	write_oauth2_config
	oauth2_seed refresh-1 old-Tok3n 100 >/dev/null
	send 0 -v
	assert_bearer_used access-1
	assert_requests 1
	assert_equal refresh-1 "$(oauthd_last_form refresh_token)" "the refresh token sent"
	assert_equal refresh_token "$(oauthd_last_form grant_type)" "grant_type"
	[[ "$stderr" == *"=== OAuth2 access token refreshed at $OAUTHD_URL/token"* ]] ||
		die "the transcript does not say the token was refreshed:" "$stderr"
	assert_token_file access_token access-1
	assert_token_file refresh_token refresh-1
	send 0
	assert_requests 1
	assert_no_secret access-1
	assert_oauthd_no_problems
}

@test "oauth2: a rotated refresh token replaces the old one, which the endpoint then refuses; the next refresh uses the new one" {
	oauthd_start --refresh rotate --expires-in 60
	server OAUTHBEARER access-1
	write_oauth2_config
	oauth2_seed refresh-1 >/dev/null
	send 0
	assert_bearer_used access-1
	assert_token_file refresh_token refresh-2
	# The old one is dead now, as at Microsoft and many others.
	run "$SMTPD_PYTHON" "$OAUTHD_PY" --ca "$CERTS/ca.pem" --request POST \
		"$OAUTHD_URL/token" grant_type=refresh_token refresh_token=refresh-1 \
		client_id="$OAUTH2_CLIENT_ID"
	[[ "$output" == 400*invalid_grant* ]] || die "the old refresh token still works:" "$output"
	# expires_in 60 is inside the margin: the next send refreshes, with
	# the new refresh token.
	stop_smtpd
	server OAUTHBEARER access-2
	write_oauth2_config
	send 0
	assert_bearer_used access-2
	assert_equal refresh-2 "$(oauthd_last_form refresh_token /token)" "the second refresh's token"
	assert_token_file refresh_token refresh-3
}

@test "oauth2: sends at once refresh one at a time, so none loses a rotated refresh token" {
	oauthd_start --refresh rotate:access_token=access-1 --expires-in 60
	server OAUTHBEARER access-1
	write_oauth2_config
	oauth2_seed refresh-1 >/dev/null
	# Every send refreshes (expires_in 60 is inside the margin) and each
	# must use the refresh token the one before it stored.
	local i pids=() rc=0
	for i in 1 2 3 4; do
		"$MAILPOST" -C "$MAILPOST_CONF" -f alice@example.org bob@example.net \
			<"$MSG" >"$BATS_TEST_TMPDIR/out.$i" 2>&1 3>&- &
		pids+=($!)
	done
	for i in 0 1 2 3; do
		wait "${pids[$i]}" || {
			rc=$?
			die "send $((i + 1)) failed ($rc):" "$(cat "$BATS_TEST_TMPDIR/out.$((i + 1))")"
		}
	done
	[[ $rc -eq 0 ]] || return 1
	assert_requests 4
	assert_token_file refresh_token refresh-5
	assert_oauthd_no_problems
}

@test "oauth2: an account that only names another (account default : oauth) uses that one's login, and keeps its one file" {
	oauthd_start --refresh rotate:access_token=access-2
	server OAUTHBEARER access-2
	write_oauth2_config
	# Logged in as README says, with -A oauth; sent without -A.
	OAUTH2_ACCOUNT=oauth oauth2_seed refresh-1 access-1 60 >/dev/null
	send 0
	assert_bearer_used access-2
	ACCOUNT=oauth
	assert_equal 1 "$(find "$XDG_STATE_HOME/mailpost/oauth2" -type f | wc -l)" "token files"
	assert_token_file refresh_token refresh-2
	assert_token_file access_token access-2
	run_mailpost 0 -C "$MAILPOST_CONF" --check-config -A default
	[[ "$output" == *"refresh token: in $(token_file)"* ]] ||
		die "--check-config of account default does not find the login:" "$output"
}

# --- a refresh token refused -------------------------------------------------

@test "oauth2: invalid_grant is exit 77 with the exact command that logs in again (with -C), the message kept" {
	oauthd_start --refresh invalid_grant:description=Token_has_been_expired_or_revoked.
	server OAUTHBEARER access-1
	write_oauth2_config
	oauth2_seed refresh-1 >/dev/null
	send 77
	[[ "$stderr" == *"; log in again: mailpost -C $MAILPOST_CONF --oauth2-login -A default"* ]] ||
		die "no command to log in again:" "$stderr"
	[[ "$stderr" == *invalid_grant* ]] || die "the endpoint's error is not quoted:" "$stderr"
	assert_equal 1 "$(grep -c . <<<"$stderr")" "lines on stderr"
	grep -q 'Subject: ' "$DEAD" || die "the message is not in $DEAD"
	assert_no_command AUTH MAIL
	assert_no_secret refresh-1 "$DEAD"
}

@test "oauth2: without -C (the file mailpost finds itself) the command to log in again has none" {
	oauthd_start --refresh invalid_grant
	server OAUTHBEARER access-1
	write_oauth2_config
	oauth2_seed refresh-1 >/dev/null
	MAILPOST_CONFIG="$MAILPOST_CONF" run_mailpost 77 -f alice@example.org bob@example.net <"$MSG"
	[[ "$stderr" == *"; log in again: mailpost --oauth2-login -A default;"* ]] ||
		die "the command should have no -C:" "$stderr"
}

@test "oauth2: the command to log in again runs as printed, from elsewhere, for a relative -C FILE a shell would split" {
	oauthd_start --refresh invalid_grant --device status:503
	server OAUTHBEARER access-1
	write_oauth2_config
	oauth2_seed refresh-1 >/dev/null
	local dir="$BATS_TEST_TMPDIR/my dir" name="it's mine; \$HOME"
	mkdir -p "$dir"
	mv "$MAILPOST_CONF" "$dir/$name"
	cd "$dir"
	run_mailpost 77 -C "$name" -f alice@example.org bob@example.net <"$MSG"
	cd "$BATS_TEST_TMPDIR"
	[[ "$stderr" =~ \;\ log\ in\ again:\ (mailpost\ .*\ -A\ default)\;\  ]] ||
		die "no command to log in again:" "$stderr"
	local cmd="${BASH_REMATCH[1]}"
	# Run by a shell as it is, but for the program's own path, from
	# another directory: the token endpoint hears from the right account.
	cmd="${cmd/#mailpost/\"\$MAILPOST\"}"
	status=0
	(cd / && sh -c "$cmd" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/err") || status=$?
	assert_equal 75 "$status" "the exit code of '$cmd' ($(cat "$BATS_TEST_TMPDIR/err"))"
	assert_equal 1 "$(oauthd_requests /device)" "device requests"
	assert_equal "$OAUTH2_CLIENT_ID" "$(oauthd_last_form client_id /device)" "the client id"
}

@test "oauth2: no login yet is exit 77 with the command to log in, and nothing is asked of the endpoint" {
	oauthd_start
	server OAUTHBEARER access-1
	write_oauth2_config
	send 77
	[[ "$stderr" == *"has no OAuth2 login"*"mailpost -C $MAILPOST_CONF --oauth2-login -A default"* ]] ||
		die "no command to log in:" "$stderr"
	assert_requests 0
}

# --- the endpoint cannot answer now ------------------------------------------

@test "oauth2: the token endpoint down: the message is queued (exit 0)" {
	oauthd_start
	server OAUTHBEARER access-1
	write_oauth2_config
	oauth2_seed refresh-1 >/dev/null
	stop_oauthd
	send 0
	assert_queued "cannot refresh the OAuth2 access token of account 'default'"
	assert_no_command AUTH
}

@test "oauth2: a 500, then the endpoint back: queued, and -q delivers it" {
	oauthd_start --refresh server_error,ok
	server OAUTHBEARER access-1
	write_oauth2_config
	oauth2_seed refresh-1 >/dev/null
	send 0
	assert_queued "cannot refresh the OAuth2 access token"
	run_mailpost 0 -C "$MAILPOST_CONF" -q
	assert_bearer_used access-1
	assert_requests 2
	"$MAILPOST" -C "$MAILPOST_CONF" -bp | grep -q 'queue is empty' ||
		die "still queued:" "$("$MAILPOST" -C "$MAILPOST_CONF" -bp)"
}

@test "oauth2: an endpoint that does not answer is given up after the account's timeout: queued, then -q delivers" {
	oauthd_start --refresh hang:5,ok
	server OAUTHBEARER access-1
	write_oauth2_config "timeout 1"
	oauth2_seed refresh-1 >/dev/null
	run_mailpost --timeout 10 0 -C "$MAILPOST_CONF" -f alice@example.org bob@example.net <"$MSG"
	assert_queued "cannot refresh the OAuth2 access token"
	run_mailpost 0 -C "$MAILPOST_CONF" -q
	assert_bearer_used access-1
}

@test "oauth2: SIGTERM while a refresh waits for the token endpoint: within a second, 75, queued as any interrupted send" {
	oauthd_start --refresh hang:30
	server OAUTHBEARER access-1
	write_oauth2_config
	oauth2_seed refresh-1 >/dev/null
	env --default-signal=INT,TERM,HUP "$MAILPOST" -C "$MAILPOST_CONF" \
		-f alice@example.org bob@example.net <"$MSG" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	local pid=$! k start
	wait_for_text "$OAUTHD_LOG" '"kind": "refresh"'
	start=$(date +%s%N)
	kill -TERM "$pid"
	for ((k = 0; k < 100; k++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; die "still running 5 s after SIGTERM"; }
	status=0
	wait "$pid" || status=$?
	stderr="$(cat "$BATS_TEST_TMPDIR/err")"
	(($(date +%s%N) - start < 1500000000)) || die "it took more than a second to end"
	[[ "$status" -eq 75 ]] || die "exit code $status, expected 75:" "$stderr"
	[[ "$stderr" =~ ^mailpost:\ interrupted\ by\ SIGTERM:\ queued\ as\ [0-9a-f]{16}$ ]] ||
		die "stderr is not 'mailpost: interrupted by SIGTERM: queued as ID':" "$stderr"
	"$MAILPOST" -C "$MAILPOST_CONF" -bp | grep -q 'bob@example.net' ||
		die "mailq does not list it:" "$("$MAILPOST" -C "$MAILPOST_CONF" -bp)"
}

@test "oauth2: a malformed or oversized answer is one line, and the message queued" {
	local answer
	# One endpoint for the three: each send's refresh gets the next answer
	# (the log says each got its own).
	oauthd_start --refresh malformed,oversized:70000,no_token
	for answer in malformed oversized:70000 no_token; do
		server OAUTHBEARER access-1
		write_oauth2_config
		rm -rf "$XDG_STATE_HOME"
		oauth2_seed refresh-1 >/dev/null
		send 0
		assert_queued "cannot refresh the OAuth2 access token" || return 1
		assert_equal 1 "$(grep -c . <<<"$stderr")" "lines on stderr ($answer)"
		stop_smtpd
	done
	assert_equal "malformed oversized:70000 no_token" \
		"$(oauthd_log_query '" ".join(e["answer"] for e in log)' /token)" "the answers"
}

# --- the mechanism ------------------------------------------------------------

@test "oauth2: a server that offers XOAUTH2 only gets XOAUTH2" {
	oauthd_start
	server "PLAIN XOAUTH2" cached-1
	write_oauth2_config
	oauth2_seed refresh-1 cached-1 >/dev/null
	send 0
	smtpd_finish
	assert_auth_record "conn 1: XOAUTH2 user=$OAUTH2_USER reply=235"
}

@test "oauth2: OAUTHBEARER is preferred when both are offered" {
	oauthd_start
	server "XOAUTH2 PLAIN OAUTHBEARER" cached-1
	write_oauth2_config
	oauth2_seed refresh-1 cached-1 >/dev/null
	send 0
	smtpd_finish
	assert_auth_record "conn 1: OAUTHBEARER user=$OAUTH2_USER reply=235"
}

@test "oauth2: a server that offers neither is exit 69, one line naming what it offers" {
	oauthd_start
	server "PLAIN LOGIN" cached-1
	write_oauth2_config
	oauth2_seed refresh-1 cached-1 >/dev/null
	send 69
	[[ "$stderr" == *"the server offers neither OAUTHBEARER nor XOAUTH2, which an OAuth2 account needs (it offers: PLAIN LOGIN)"* ]] ||
		die "not the error expected:" "$stderr"
	assert_equal 1 "$(grep -c . <<<"$stderr")" "lines on stderr"
	assert_no_command AUTH
	grep -q 'Subject: ' "$DEAD" || die "the message is not in $DEAD"
}

@test "oauth2: a cached token the server refuses is refreshed once and AUTH tried again on the same session" {
	oauthd_start
	server OAUTHBEARER access-1
	write_oauth2_config
	oauth2_seed refresh-1 revoked-Tok3n 3000 >/dev/null
	send 0 -v
	assert_requests 1
	assert_bearer_used access-1
	smtpd_finish
	assert_equal "conn 1: OAUTHBEARER user=$OAUTH2_USER token=revoked-Tok3n refused
conn 1: OAUTHBEARER user=$OAUTH2_USER token=access-1 accepted" "$(cat "$SMTPD_DIR/bearer")" "bearer tokens"
	[[ "$stderr" == *"=== the server refused the cached OAuth2 access token: refreshing it"* ]] ||
		die "the transcript does not say why it refreshed:" "$stderr"
	assert_token_file access_token access-1
	assert_no_secret revoked-Tok3n
	assert_no_secret access-1
}

@test "oauth2: a freshly refreshed token refused is exit 77, with no second refresh" {
	oauthd_start --expires-in 60
	server OAUTHBEARER some-other-token
	write_oauth2_config
	oauth2_seed refresh-1 >/dev/null
	send 77
	assert_requests 1
	[[ "$stderr" == *"the server refused the OAuth2 access token: check that user is the mailbox the login was for"* ]] ||
		die "not the error expected:" "$stderr"
	grep -q 'Subject: ' "$DEAD" || die "the message is not in $DEAD"
}

@test "oauth2: passwordeval with auth xoauth2 (no oauth2_provider) works as before" {
	start_smtpd $'caps AUTH XOAUTH2\nuser alice ya29.from-a-script'
	write_config "user alice" "auth xoauth2" "passwordeval echo ya29.from-a-script" \
		"host 127.0.0.1" "port $SMTPD_PORT"
	send 0
	smtpd_finish
	assert_auth_record "conn 1: XOAUTH2 user=alice reply=235"
}

# --- the queue runner ------------------------------------------------------------

@test "oauth2: -q refreshes once for all the messages of an account" {
	# expires_in 60 is inside the margin: each fetch of the token would
	# refresh it, so one request means one fetch for the whole run.
	oauthd_start --expires-in 60 --refresh ok:access_token=access-1
	server OAUTHBEARER access-1
	write_oauth2_config "queue always"
	oauth2_seed refresh-1 >/dev/null
	send 0
	send 0
	send 0
	assert_requests 0
	run_mailpost 0 -C "$MAILPOST_CONF" -q
	assert_requests 1
	smtpd_finish
	assert_equal 3 "$(ls "$SMTPD_DIR"/msg.* | wc -l)" "messages delivered"
	"$MAILPOST" -C "$MAILPOST_CONF" -bp | grep -q 'queue is empty' ||
		die "still queued:" "$("$MAILPOST" -C "$MAILPOST_CONF" -bp)"
}

# --- secrets ---------------------------------------------------------------------

@test "oauth2: no token or client secret in the transcript, the log file, the JSON result, or a child's argv and environment" {
	local dump="$BATS_TEST_TMPDIR/dumps" bin="$BATS_TEST_TMPDIR/bin"
	mkdir -p "$dump" "$bin"
	# A client secret command and a keyring tool that record how they
	# were run; the keyring fails, so the rotated token goes to the file.
	cat >"$bin/dumper" <<EOF
#!/bin/sh
n=\$(date +%s%N)
{ printf '%s\n' "\$0" "\$@"; env; } >"$dump/\$n"
case "\$0" in *secret-tool) cat >/dev/null; exit 1 ;; esac
echo Cl1ent-S3cret
EOF
	chmod +x "$bin/dumper"
	ln -s dumper "$bin/secret-tool"
	oauthd_start --client-secret Cl1ent-S3cret --refresh rotate
	server OAUTHBEARER access-1
	write_oauth2_config "oauth2_client_secret_eval $bin/dumper" \
		"logfile $BATS_TEST_TMPDIR/log" "logfile_level transcript"
	oauth2_seed refresh-1 >/dev/null
	PATH="$bin:$PATH" send 0 -vv --json
	assert_bearer_used access-1
	assert_token_file refresh_token refresh-2
	ls "$dump"/* >/dev/null || die "the client secret command did not run"
	local s
	for s in refresh-1 refresh-2 access-1 Cl1ent-S3cret; do
		assert_no_secret "$s" "$BATS_TEST_TMPDIR/log" || return 1
		if grep -rlF -- "$s" "$dump" | grep -q .; then
			die "$s reached a child's argv or environment:" "$(grep -rF -- "$s" "$dump")"
			return 1
		fi
	done
}
