#!/bin/sh
# mkcerts.sh DIR - generate the test PKI for the TLS tests into DIR.
#
# Made at test time with certtool (gnutls-bin), never committed: a test CA,
# server certificates for every verification failure the client must name,
# a client certificate, a CRL, and the SHA-256 fingerprint of each server
# certificate (upper-case hex pairs joined by ':', as tls_fingerprint wants).
# Keys are ECDSA P-256: fast to make, and accepted by GnuTLS, OpenSSL
# (Postfix, Python's ssl) alike.  Validity dates are written into the
# templates, so no clock faking is needed for "expired" or "not yet valid".
#
# Idempotent: a complete DIR (marked by DIR/.complete) is left as it is.
# Writes only into DIR.
#
#   ca.pem ca.key            the test CA ("mailpost test CA")
#   server.pem server.key    localhost, SAN DNS:localhost IP:127.0.0.1
#   wronghost.pem            wrong.example (key server.key)
#   names.pem                the test zones' names (tests/lib/dnsd.bash):
#                            example.test, other.test, third.test,
#                            pkix.test and
#                            each's "*." (mta-sts., autoconfig., mx1. ...),
#                            localhost, 127.0.0.1 (key server.key)
#   expired.pem              localhost, expired in 2021 (key server.key)
#   notyet.pem               localhost, valid from 2090 (key server.key)
#   selfsigned.pem           localhost, self-signed (key server.key)
#   revoked.pem crl.pem      localhost, listed in the CA's CRL
#   other-ca.pem             a second CA the client does not know
#   unknownca.pem            localhost signed by other-ca (key server.key)
#   client.pem client.key    a client certificate from the test CA
#   NAME.sha256              fingerprint of NAME.pem
set -eu

dir=${1:?usage: mkcerts.sh DIR}
mkdir -p "$dir"
[ -f "$dir/.complete" ] && exit 0
command -v certtool >/dev/null 2>&1 || {
	echo "mkcerts.sh: certtool not found (install gnutls-bin)" >&2
	exit 1
}

ct() {
	certtool "$@" >/dev/null 2>&1 || {
		echo "mkcerts.sh: certtool $* failed" >&2
		certtool "$@" >&2 || true
		exit 1
	}
}

key() {
	ct --generate-privkey --key-type ecdsa --curve secp256r1 \
		--no-text --outfile "$dir/$1.key"
}

# template NAME: the rest of the arguments are its lines.
template() {
	name=$1
	shift
	printf '%s\n' "$@" >"$dir/$name.tmpl"
}

ca() { # ca NAME CN
	key "$1"
	template "$1" "cn = \"$2\"" "ca" "cert_signing_key" "crl_signing_key" \
		"expiration_days = 3650"
	ct --generate-self-signed --load-privkey "$dir/$1.key" \
		--template "$dir/$1.tmpl" --no-text --outfile "$dir/$1.pem"
}

# server NAME CA TEMPLATE-LINES...: a server certificate with server.key.
server() {
	name=$1
	signer=$2
	shift 2
	template "$name" "$@" "tls_www_server" "signing_key" "encryption_key"
	if [ "$signer" = self ]; then
		ct --generate-self-signed --load-privkey "$dir/server.key" \
			--template "$dir/$name.tmpl" --no-text \
			--outfile "$dir/$name.pem"
	else
		ct --generate-certificate --load-privkey "$dir/server.key" \
			--load-ca-certificate "$dir/$signer.pem" \
			--load-ca-privkey "$dir/$signer.key" \
			--template "$dir/$name.tmpl" --no-text \
			--outfile "$dir/$name.pem"
	fi
	fingerprint "$name"
}

fingerprint() {
	certtool --fingerprint --hash sha256 --infile "$dir/$1.pem" |
		tr -d ' \n' | tr 'a-f' 'A-F' | sed 's/../&:/g; s/:$//' \
		>"$dir/$1.sha256"
	echo >>"$dir/$1.sha256"
}

localhost='cn = "localhost"'
sans='dns_name = "localhost"
ip_address = "127.0.0.1"'

ca ca "mailpost test CA"
ca other-ca "mailpost other CA"
key server
key client

server server ca "$localhost" "$sans" "expiration_days = 3650"
server wronghost ca 'cn = "wrong.example"' 'dns_name = "wrong.example"' \
	"expiration_days = 3650"
server names ca 'cn = "example.test"' 'dns_name = "example.test"' \
	'dns_name = "*.example.test"' 'dns_name = "other.test"' \
	'dns_name = "*.other.test"' 'dns_name = "third.test"' \
	'dns_name = "*.third.test"' 'dns_name = "pkix.test"' \
	'dns_name = "*.pkix.test"' "$sans" "expiration_days = 3650"
server expired ca "$localhost" "$sans" \
	'activation_date = "2020-01-01 00:00:00"' \
	'expiration_date = "2021-01-01 00:00:00"'
server notyet ca "$localhost" "$sans" \
	'activation_date = "2090-01-01 00:00:00"' \
	'expiration_date = "2091-01-01 00:00:00"'
server selfsigned self "$localhost" "$sans" "expiration_days = 3650"
server unknownca other-ca "$localhost" "$sans" "expiration_days = 3650"
server revoked ca "$localhost" "$sans" "expiration_days = 3650"

template client 'cn = "mailpost test client"' "tls_www_client" \
	"signing_key" "expiration_days = 3650"
ct --generate-certificate --load-privkey "$dir/client.key" \
	--load-ca-certificate "$dir/ca.pem" --load-ca-privkey "$dir/ca.key" \
	--template "$dir/client.tmpl" --no-text --outfile "$dir/client.pem"

template crl "crl_next_update = 3650"
ct --generate-crl --load-ca-privkey "$dir/ca.key" \
	--load-ca-certificate "$dir/ca.pem" \
	--load-certificate "$dir/revoked.pem" \
	--template "$dir/crl.tmpl" --no-text --outfile "$dir/crl.pem"

rm -f "$dir"/*.tmpl
: >"$dir/.complete"
