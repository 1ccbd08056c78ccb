#!/usr/bin/env bats
# 61-trust: the trust store read lazily (src/wire/castore.c, tls.c's
# import_matching): only the CAs whose subject names a certificate of the
# server's chain are imported, and verification says what it said when
# every CA was.  "The system store" is a bundle of this file's own, named
# by MAILPOST_TEST_SYSTEM_TRUST (honoured only by a run that did not start
# setgid, see 78-privileged); the same bundle as tls_trust_file gives the
# same verdicts.  -vvv's line "trust: N of M CAs of the store match the
# server's chain" asserts that only those were imported.

load lib/helpers

setup() {
	mailpost_setup
	MSG="$(make_message)"
	tls_certs
	trust_pki
}

# The certificates these tests need beyond mkcerts.sh's, made once per
# file into $TRUST:
#   filler-N.pem (1..20)  CAs of other names (one key)
#   impostor.pem          a CA named "mailpost test CA", another key
#   inter.pem             "mailpost test intermediate", signed by ca.pem
#   chain.pem             localhost signed by inter.pem, then inter.pem
#                         (key server.key): what the server sends
#   ca-broken.pem         ca.pem with its public key's tag spoilt: fine up
#                         to its subject, refused by GnuTLS
#   ca-trusted.pem        ca.pem as OpenSSL's "TRUSTED CERTIFICATE" block
trust_pki() {
	TRUST="$BATS_FILE_TMPDIR/trust"
	[[ -f "$TRUST/.complete" ]] && return 0
	mkdir -p "$TRUST"
	local ct=(certtool --no-text) i
	"${ct[@]}" --generate-privkey --key-type ecdsa --curve secp256r1 \
		--outfile "$TRUST/other.key" 2>/dev/null || die "certtool failed"
	for ((i = 1; i <= 20; i++)); do
		printf 'cn = "filler CA %d"\nca\ncert_signing_key\nexpiration_days = 3650\n' \
			"$i" >"$TRUST/t.tmpl"
		"${ct[@]}" --generate-self-signed --load-privkey "$TRUST/other.key" \
			--template "$TRUST/t.tmpl" --outfile "$TRUST/filler-$i.pem" \
			2>/dev/null || die "certtool failed" || return 1
	done
	printf 'cn = "mailpost test CA"\nca\ncert_signing_key\nexpiration_days = 3650\n' \
		>"$TRUST/t.tmpl"
	"${ct[@]}" --generate-self-signed --load-privkey "$TRUST/other.key" \
		--template "$TRUST/t.tmpl" --outfile "$TRUST/impostor.pem" 2>/dev/null
	printf 'cn = "mailpost test intermediate"\nca\ncert_signing_key\nexpiration_days = 3650\n' \
		>"$TRUST/t.tmpl"
	"${ct[@]}" --generate-certificate --load-privkey "$TRUST/other.key" \
		--load-ca-certificate "$CERTS/ca.pem" --load-ca-privkey "$CERTS/ca.key" \
		--template "$TRUST/t.tmpl" --outfile "$TRUST/inter.pem" 2>/dev/null
	printf '%s\n' 'cn = "localhost"' 'dns_name = "localhost"' \
		'ip_address = "127.0.0.1"' tls_www_server signing_key encryption_key \
		'expiration_days = 3650' >"$TRUST/t.tmpl"
	"${ct[@]}" --generate-certificate --load-privkey "$CERTS/server.key" \
		--load-ca-certificate "$TRUST/inter.pem" --load-ca-privkey "$TRUST/other.key" \
		--template "$TRUST/t.tmpl" --outfile "$TRUST/leaf.pem" 2>/dev/null
	cat "$TRUST/leaf.pem" "$TRUST/inter.pem" >"$TRUST/chain.pem"
	sed 's/CERTIFICATE-----/TRUSTED CERTIFICATE-----/' "$CERTS/ca.pem" \
		>"$TRUST/ca-trusted.pem"
	"$SMTPD_PYTHON" - "$CERTS/ca.pem" "$TRUST/ca-broken.pem" <<-'EOF' || die "ca-broken.pem" || return 1
		import base64, sys
		text = open(sys.argv[1]).read()
		b64 = text.split("-----")[2]
		der = bytearray(base64.b64decode(b64))
		def skip(p):  # past the element at p
		    n = der[p + 1]; p += 2
		    if n & 0x80:
		        k = n & 0x7f; n = int.from_bytes(der[p:p + k], "big"); p += k
		    return p + n
		def inside(p):
		    n = der[p + 1]
		    return p + 2 + (n & 0x7f if n & 0x80 else 0)
		p = inside(inside(0))  # into tbsCertificate
		for _ in range(6):     # version, serial, signature, issuer, validity, subject
		    p = skip(p)
		assert der[p] == 0x30  # subjectPublicKeyInfo
		der[p] = 0x31
		out = base64.encodebytes(bytes(der)).decode().replace("\n", "")
		lines = [out[i:i + 64] for i in range(0, len(out), 64)]
		open(sys.argv[2], "w").write("-----BEGIN CERTIFICATE-----\n" +
		    "\n".join(lines) + "\n-----END CERTIFICATE-----\n")
	EOF
	rm -f "$TRUST/t.tmpl"
	: >"$TRUST/.complete"
}

# bundle FILE NAME...: FILE made of the PEM files NAME (a path, or fillers
# A-B for filler-A.pem .. filler-B.pem) in that order.
bundle() {
	local out=$1 f a b
	shift
	: >"$out"
	for f in "$@"; do
		if [[ "$f" == fillers\ * ]]; then
			read -r _ a b <<<"$f"
			for ((; a <= b; a++)); do
				cat "$TRUST/filler-$a.pem" >>"$out"
			done
		else
			cat "$f" >>"$out"
		fi
	done
}

starttls_with() { # CERT-FILE: the server's chain (key server.key)
	printf 'tls-cert %s %s\n' "$1" "$CERTS/server.key"
	printf '%s\n' "caps PIPELINING, 8BITMIME, STARTTLS" "tls-caps PIPELINING, 8BITMIME"
}

# Send through a server presenting CERT-FILE with "the system store" being
# BUNDLE and -vvv; EXPECTED is the exit code; more config LINEs follow.
send_system() {
	local expected=$1 cert=$2 store=$3
	shift 3
	start_smtpd "$(starttls_with "$cert")"
	write_config "tls on" "tls_trust_file system" "$@"
	MAILPOST_TEST_SYSTEM_TRUST="$store" run_send "$expected" -vvv bob@example.net <"$MSG"
}

assert_matched() { # N M
	assert_stderr_contains "trust: $1 of $2 CAs of the store match the server's chain"
}

@test "system store: the server's CA first, in the middle or last of 21 is found, and only it is imported" {
	local where
	for where in first middle last; do
		case $where in
		first) bundle "$BATS_TEST_TMPDIR/store" "$CERTS/ca.pem" "fillers 1 20" ;;
		middle) bundle "$BATS_TEST_TMPDIR/store" "fillers 1 10" "$CERTS/ca.pem" "fillers 11 20" ;;
		last) bundle "$BATS_TEST_TMPDIR/store" "fillers 1 20" "$CERTS/ca.pem" ;;
		esac
		send_system 0 "$CERTS/server.pem" "$BATS_TEST_TMPDIR/store" ||
			die "(the CA $where)" || return 1
		assert_matched 1 21 || die "(the CA $where)" || return 1
		assert_stderr_contains "trusted (chain, host name" || return 1
		assert_message 1 "$MSG_SIMPLE_CRLF" || return 1
	done
}

@test "a bundle named by tls_trust_file is read the same way" {
	bundle "$BATS_TEST_TMPDIR/store" "fillers 1 10" "$CERTS/ca.pem" "fillers 11 20"
	start_smtpd "$(starttls_with "$CERTS/server.pem")"
	write_config "tls on" "tls_trust_file $BATS_TEST_TMPDIR/store"
	run_send 0 -vvv bob@example.net <"$MSG"
	assert_matched 1 21
	assert_message 1 "$MSG_SIMPLE_CRLF"
}

@test "a chain to a CA outside the store is refused (76), and so is one to a CA taken out of it" {
	bundle "$BATS_TEST_TMPDIR/store" "fillers 1 20" "$CERTS/ca.pem"
	send_system 76 "$CERTS/unknownca.pem" "$BATS_TEST_TMPDIR/store"
	assert_matched 0 21
	assert_stderr_contains "certificate is not trusted (issuer unknown)"
	assert_stderr_contains "is not in the system trust store"
	assert_nothing_sent_here
	# Debian's way to distrust a CA: it leaves the bundle.
	bundle "$BATS_TEST_TMPDIR/store" "fillers 1 20"
	send_system 76 "$CERTS/server.pem" "$BATS_TEST_TMPDIR/store"
	assert_matched 0 20
	assert_stderr_contains "certificate is not trusted (issuer unknown)"
	assert_nothing_sent_here
}

@test "CAs sharing the issuer's name but not its key are imported too; only the right key verifies" {
	bundle "$BATS_TEST_TMPDIR/store" "$TRUST/impostor.pem" "fillers 1 20" "$CERTS/ca.pem"
	send_system 0 "$CERTS/server.pem" "$BATS_TEST_TMPDIR/store"
	assert_matched 2 22
	bundle "$BATS_TEST_TMPDIR/store" "fillers 1 10" "$CERTS/ca.pem" "fillers 11 20" "$TRUST/impostor.pem"
	send_system 0 "$CERTS/server.pem" "$BATS_TEST_TMPDIR/store"
	assert_matched 2 22
	# Any number of them: the right one last of five.
	bundle "$BATS_TEST_TMPDIR/store" "$TRUST/impostor.pem" "$TRUST/impostor.pem" \
		"fillers 1 20" "$TRUST/impostor.pem" "$TRUST/impostor.pem" "$CERTS/ca.pem"
	send_system 0 "$CERTS/server.pem" "$BATS_TEST_TMPDIR/store"
	assert_matched 5 25
	# The name alone is not enough.
	bundle "$BATS_TEST_TMPDIR/store" "fillers 1 20" "$TRUST/impostor.pem"
	send_system 76 "$CERTS/server.pem" "$BATS_TEST_TMPDIR/store"
	assert_matched 1 21
	assert_stderr_contains "refused"
	assert_nothing_sent_here
}

@test "an intermediate the server sends: trusted through the root, or itself in the store" {
	# The root, named by the intermediate's issuer.
	bundle "$BATS_TEST_TMPDIR/store" "fillers 1 20" "$CERTS/ca.pem"
	send_system 0 "$TRUST/chain.pem" "$BATS_TEST_TMPDIR/store"
	assert_matched 1 21
	# Only the intermediate: GnuTLS stops at a trusted certificate of the
	# chain, found by its subject.
	bundle "$BATS_TEST_TMPDIR/store" "fillers 1 10" "$TRUST/inter.pem" "fillers 11 20"
	send_system 0 "$TRUST/chain.pem" "$BATS_TEST_TMPDIR/store"
	assert_matched 1 21
	# Both.
	bundle "$BATS_TEST_TMPDIR/store" "$TRUST/inter.pem" "fillers 1 20" "$CERTS/ca.pem"
	send_system 0 "$TRUST/chain.pem" "$BATS_TEST_TMPDIR/store"
	assert_matched 2 22
	# Neither.
	bundle "$BATS_TEST_TMPDIR/store" "fillers 1 20"
	send_system 76 "$TRUST/chain.pem" "$BATS_TEST_TMPDIR/store"
	assert_matched 0 20
}

@test "the server's own certificate in the store (its issuer not): trusted, as GnuTLS trusts a listed certificate" {
	bundle "$BATS_TEST_TMPDIR/store" "fillers 1 10" "$CERTS/unknownca.pem" "fillers 11 20"
	send_system 0 "$CERTS/unknownca.pem" "$BATS_TEST_TMPDIR/store"
	assert_matched 1 21
	# Found by its subject, not its issuer's.  The same file as
	# tls_trust_file says the same.
	start_smtpd "$(starttls_with "$CERTS/unknownca.pem")"
	write_config "tls on" "tls_trust_file $BATS_TEST_TMPDIR/store"
	run_send 0 bob@example.net <"$MSG"
}

@test "a certificate revoked by tls_crl_file stays refused with the system store" {
	bundle "$BATS_TEST_TMPDIR/store" "fillers 1 20" "$CERTS/ca.pem"
	send_system 76 "$CERTS/revoked.pem" "$BATS_TEST_TMPDIR/store" "tls_crl_file $CERTS/crl.pem"
	assert_matched 1 21
	assert_stderr_contains "certificate revoked"
	assert_nothing_sent_here
	send_system 0 "$CERTS/revoked.pem" "$BATS_TEST_TMPDIR/store"
}

@test "OpenSSL's TRUSTED CERTIFICATE form is never read (GnuTLS never did): its CA is not trusted" {
	bundle "$BATS_TEST_TMPDIR/store" "fillers 1 20" "$TRUST/ca-trusted.pem"
	send_system 76 "$CERTS/server.pem" "$BATS_TEST_TMPDIR/store"
	assert_matched 0 20
	assert_nothing_sent_here
}

@test "text between the blocks is skipped, as GnuTLS skips it (bundles carry titles and comments)" {
	{
		printf 'A title\n=======\n\x01\x02 bytes that are no text\n'
		cat "$TRUST/filler-1.pem"
		printf '# a comment\n\n-----BEGIN SOMETHING ELSE-----\nxyz\n-----END SOMETHING ELSE-----\n'
		cat "$CERTS/ca.pem"
		printf 'trailing words'
	} >"$BATS_TEST_TMPDIR/store"
	send_system 0 "$CERTS/server.pem" "$BATS_TEST_TMPDIR/store"
	assert_matched 1 2
}

# A store made of filler 1, then the test CA as spoilt by the sed or python
# expression EDIT, then filler 2.
spoilt_store() {
	local edit=$1
	{
		cat "$TRUST/filler-1.pem"
		"$SMTPD_PYTHON" -c "$edit" <"$CERTS/ca.pem"
		cat "$TRUST/filler-2.pem"
	} >"$BATS_TEST_TMPDIR/store"
}

@test "a malformed store is refused (78) with the certificate and line, and nothing is sent" {
	local c name edit words line
	# The spoilt CA's BEGIN line, after filler 1.
	line=$(($(wc -l <"$TRUST/filler-1.pem") + 1))
	# name | python reading the CA's PEM on stdin, writing it spoilt | words
	local cases=(
		"truncated|import sys; t=sys.stdin.read().splitlines(); print('\n'.join(t[:4] + t[-1:]))|certificate 2 (line $line)"
		"garbage inside|import sys; t=sys.stdin.read().splitlines(); print('\n'.join(t[:3] + ['!!!! not base64'] + t[3:]))|a byte that is not base64 inside the block"
		"huge length|import sys,base64; t=sys.stdin.read().split('-----'); d=base64.b64decode(t[2]); d=b'\x30\x84\xff\xff\xff\xff'+d[4:]; print('-----BEGIN CERTIFICATE-----\n'+base64.encodebytes(d).decode()+'-----END CERTIFICATE-----')|not a DER certificate"
		"no end before the next block|import sys; t=sys.stdin.read().splitlines(); print('\n'.join(t[:-1]))|a byte that is not base64 inside the block"
		"another end|import sys; t=sys.stdin.read().splitlines(); print('\n'.join(t[:-1] + ['-----END PRIVATE KEY-----']))|another -----END line"
		"empty|print('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----')|the block is empty"
	)
	for c in "${cases[@]}"; do
		IFS='|' read -r name edit words <<<"$c"
		spoilt_store "$edit"
		start_smtpd "$(starttls_with "$CERTS/server.pem")"
		write_config "tls on" "tls_trust_file system"
		MAILPOST_TEST_SYSTEM_TRUST="$BATS_TEST_TMPDIR/store" run_send 78 bob@example.net <"$MSG" ||
			die "($name)" || return 1
		assert_stderr_contains "mailpost: cannot load the system trust store $BATS_TEST_TMPDIR/store: certificate 2 (line $line)" ||
			die "($name)" || return 1
		assert_stderr_contains "$words" || die "($name)" || return 1
		assert_stderr_contains "; set tls_trust_file" || die "($name)" || return 1
		assert_nothing_sent_here || die "($name)" || return 1
		stop_smtpd
	done
	# No END line before the end of the file.
	{
		cat "$TRUST/filler-1.pem"
		head -n 3 "$CERTS/ca.pem"
	} >"$BATS_TEST_TMPDIR/store"
	start_smtpd "$(starttls_with "$CERTS/server.pem")"
	MAILPOST_TEST_SYSTEM_TRUST="$BATS_TEST_TMPDIR/store" run_send 78 bob@example.net <"$MSG"
	assert_stderr_contains "certificate 2 (line $line): no -----END CERTIFICATE----- line; set tls_trust_file"
	# The empty block as tls_trust_file: named as that setting.
	spoilt_store "print('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----')"
	start_smtpd "$(starttls_with "$CERTS/server.pem")"
	write_config "tls on" "tls_trust_file $BATS_TEST_TMPDIR/store"
	run_send 78 bob@example.net <"$MSG"
	assert_stderr_contains "mailpost: tls_trust_file $BATS_TEST_TMPDIR/store: certificate 2 (line $line): the block is empty; name a PEM file of CA certificates"
	# No certificate at all.
	printf 'no certificate here\n' >"$BATS_TEST_TMPDIR/store"
	start_smtpd "$(starttls_with "$CERTS/server.pem")"
	run_send 78 bob@example.net <"$MSG"
	assert_stderr_contains "tls_trust_file $BATS_TEST_TMPDIR/store: no PEM certificate in it; name a PEM file of CA certificates, or 'tls_trust_file system'"
	# The same as the system store: named as that, with its advice.
	start_smtpd "$(starttls_with "$CERTS/server.pem")"
	write_config "tls on"
	MAILPOST_TEST_SYSTEM_TRUST="$BATS_TEST_TMPDIR/store" run_send 78 bob@example.net <"$MSG"
	assert_stderr_contains "mailpost: cannot load the system trust store $BATS_TEST_TMPDIR/store: no PEM certificate in it; set tls_trust_file"
}

@test "a CA broken past its subject: refused (78) when the chain names it; --check-config finds it whatever the chain" {
	bundle "$BATS_TEST_TMPDIR/store" "fillers 1 20" "$TRUST/ca-broken.pem"
	send_system 78 "$CERTS/server.pem" "$BATS_TEST_TMPDIR/store"
	assert_stderr_contains "cannot load the system trust store $BATS_TEST_TMPDIR/store: certificate 21 (line"
	assert_nothing_sent_here
	# A chain that does not name it never reads it ...
	send_system 76 "$CERTS/unknownca.pem" "$BATS_TEST_TMPDIR/store"
	assert_matched 0 21
	# ... but --check-config parses every CA, as a send did before.
	write_config "tls on" "tls_trust_file system" "host 127.0.0.1" "from a@example.org"
	MAILPOST_TEST_SYSTEM_TRUST="$BATS_TEST_TMPDIR/store" run_mailpost 78 -C "$MAILPOST_CONF" --check-config
	assert_output_contains "FAIL"
	assert_output_contains "cannot load the system trust store $BATS_TEST_TMPDIR/store"
}

@test "a CA whose base64 is spoilt inside its issuer (64-column lines, not decoded to index it): refused (78) when the chain names it" {
	# The character in the middle of the issuer's content, past the first
	# line (which is decoded whole) and away from every header.
	"$SMTPD_PYTHON" - "$CERTS/ca.pem" "$BATS_TEST_TMPDIR/ca-spoilt.pem" <<-'EOF'
		import base64, sys
		text = open(sys.argv[1]).read()
		body = text.split("-----")[2].strip("\n")
		der = base64.b64decode(body)
		def inside(p):
		    n = der[p + 1]
		    return p + 2 + (n & 0x7f if n & 0x80 else 0)
		def skip(p):
		    n = der[p + 1]; p += 2
		    if n & 0x80:
		        k = n & 0x7f; n = int.from_bytes(der[p:p + k], "big"); p += k
		    return p + n
		p = inside(inside(0))
		for _ in range(3):  # version, serial, signature
		    p = skip(p)
		byte = (p + skip(p)) // 2
		assert byte > 54 and skip(p) - byte > 8, (p, skip(p))
		c = byte // 3 * 4 + 1
		pos = c // 64 * 65 + c % 64
		assert body[pos] != "\n"
		body = body[:pos] + "!" + body[pos + 1:]
		open(sys.argv[2], "w").write("-----BEGIN CERTIFICATE-----\n" + body +
		    "\n-----END CERTIFICATE-----\n")
	EOF
	bundle "$BATS_TEST_TMPDIR/store" "fillers 1 20" "$BATS_TEST_TMPDIR/ca-spoilt.pem"
	local line
	line=$(grep -n BEGIN "$BATS_TEST_TMPDIR/store" | tail -n 1 | cut -d: -f1)
	send_system 78 "$CERTS/server.pem" "$BATS_TEST_TMPDIR/store"
	assert_stderr_contains "cannot load the system trust store $BATS_TEST_TMPDIR/store: certificate 21 (line $line): a byte that is not base64 inside the block"
	assert_nothing_sent_here
	# A chain that does not name it never decodes it.
	send_system 76 "$CERTS/unknownca.pem" "$BATS_TEST_TMPDIR/store"
	assert_matched 0 21
}

@test "--check-config counts every CA of the store" {
	bundle "$BATS_TEST_TMPDIR/store" "fillers 1 20" "$CERTS/ca.pem"
	write_config "tls on" "tls_trust_file system" "host 127.0.0.1" "from a@example.org"
	MAILPOST_TEST_SYSTEM_TRUST="$BATS_TEST_TMPDIR/store" run_mailpost 0 -C "$MAILPOST_CONF" --check-config
	assert_output_contains "the system's trust store, 21 certificates"
}

# Nothing of the message reached the server (the handshake stopped).
assert_nothing_sent_here() {
	assert_no_command MAIL RCPT DATA
	assert_received_lacks "alice@example.org"
}
