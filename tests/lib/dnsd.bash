# dnsd.bash - a DNS server on loopback for the tests of look-ups (knotd,
# Debian's knot), serving zones under "test." signed at test time with
# ldns-keygen and ldns-signzone (ldnsutils), so that DNSSEC is real:
# secure, provably insecure and bogus answers, NXDOMAIN and NODATA with
# their NSEC proofs.  Nothing here talks to any other server.
#
# Load after lib/helpers; use it in setup_file (one server per test file,
# each test with its own names):
#   dnsd_zone NAME [--unsigned | --bogus]
#                        the zone NAME (under "test.": example.test, ...)
#                        with the records on stdin in zone-file syntax
#                        (owner names relative to NAME, or absolute with a
#                        final dot); its SOA and NS are added.  Signed by
#                        default, with a DS in "test."; --unsigned: no DS
#                        in the parent, so provably insecure; --bogus:
#                        signed and delegated with its DS, then every
#                        signature but the keys' broken
#   dnsd_start           sign the zones, build "test." (signed: the
#                        delegations, the DS of the signed children),
#                        start knotd on 127.0.0.1 and a free port, wait
#                        until it answers; sets DNSD_PORT, DNSD_ANCHOR (the
#                        DS of "test.", a trust anchor file) and
#                        DNSD_CONFIG (the lines "dns_server 127.0.0.1@PORT"
#                        and "dnssec_trust_anchor FILE")
#   dnsd_stop            stop it (call from teardown_file)
#   dnsd_query NAME TYPE print the server's own answer (drill), to check
#                        the harness without mailpost
# Everything lives in $DNSD_DIR (default: the file's temporary directory);
# the server's log is $DNSD_DIR/knotd.log.

DNSD_KEYALG=ECDSAP256SHA256

# dnsd_zone NAME [--unsigned | --bogus] < RECORDS
dnsd_zone() {
	local name=${1%.} kind=signed
	case ${2:-} in
	"") ;;
	--unsigned) kind=unsigned ;;
	--bogus) kind=bogus ;;
	*) die "dnsd_zone: unknown option '$2'" || return 1 ;;
	esac
	[[ "$name" == *.test ]] || die "dnsd_zone: '$name' is not under test." || return 1
	DNSD_DIR=${DNSD_DIR:-${BATS_FILE_TMPDIR:-$BATS_TEST_TMPDIR}/dnsd}
	mkdir -p "$DNSD_DIR/zones"
	[[ ! -e "$DNSD_DIR/zones/$name.zone" ]] ||
		die "dnsd_zone: $name given twice" || return 1
	{
		printf '$ORIGIN %s.\n$TTL 300\n' "$name"
		printf '@ SOA ns.test. hostmaster.test. 1 3600 600 86400 300\n'
		printf '@ NS ns.test.\n'
		cat
	} >"$DNSD_DIR/zones/$name.zone"
	printf '%s %s\n' "$name" "$kind" >>"$DNSD_DIR/zones.list"
}

# _dnsd_sign ZONE-NAME: keys (a KSK and a ZSK) and ZONE.zone.signed;
# the KSK's DS is in $DNSD_DIR/keys/ZONE.ds.
_dnsd_sign() {
	local name=$1 ksk zsk dir="$DNSD_DIR/keys"
	mkdir -p "$dir"
	ksk=$(cd "$dir" && ldns-keygen -a "$DNSD_KEYALG" -k "$name.") || return 1
	zsk=$(cd "$dir" && ldns-keygen -a "$DNSD_KEYALG" "$name.") || return 1
	cp "$dir/$ksk.ds" "$dir/$name.ds"
	(cd "$dir" && ldns-signzone -o "$name." -f "$DNSD_DIR/zones/$name.zone.signed" \
		"$DNSD_DIR/zones/$name.zone" "$ksk" "$zsk") || return 1
}

# _dnsd_break ZONE-NAME: break the signature of every RRset but DNSKEY
# (its first base64 character changed: six bits of the signature; the
# last ones may be padding, which decoders ignore), so the keys validate
# and the data does not.
_dnsd_break() {
	local f="$DNSD_DIR/zones/$1.zone.signed"
	awk 'BEGIN { OFS = "\t" }
	$4 == "RRSIG" && $5 != "DNSKEY" {
		$NF = (substr($NF, 1, 1) == "A" ? "B" : "A") substr($NF, 2)
	}
	{ print }' "$f" >"$f.bogus" && mv "$f.bogus" "$f"
}

# _dnsd_free_port: a port free for both UDP and TCP on 127.0.0.1.
_dnsd_free_port() {
	"$SMTPD_PYTHON" -c '
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]
    u = socket.socket(type=socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close(); continue
    print(port); t.close(); u.close(); break'
}

dnsd_start() {
	local name kind i zones="" parent
	DNSD_DIR=${DNSD_DIR:-${BATS_FILE_TMPDIR:-$BATS_TEST_TMPDIR}/dnsd}
	mkdir -p "$DNSD_DIR/zones" "$DNSD_DIR/run" "$DNSD_DIR/db"
	touch "$DNSD_DIR/zones.list"
	parent="$DNSD_DIR/zones/test.zone"
	{
		printf '$ORIGIN test.\n$TTL 300\n'
		printf '@ SOA ns.test. hostmaster.test. 1 3600 600 86400 300\n'
		printf '@ NS ns.test.\nns A 127.0.0.1\n'
	} >"$parent"
	while read -r name kind; do
		printf '%s. NS ns.test.\n' "$name" >>"$parent"
		if [[ "$kind" != unsigned ]]; then
			_dnsd_sign "$name" || die "dnsd_start: signing $name failed" || return 1
			[[ "$kind" != bogus ]] || _dnsd_break "$name"
			cat "$DNSD_DIR/keys/$name.ds" >>"$parent"
		else
			cp "$DNSD_DIR/zones/$name.zone" "$DNSD_DIR/zones/$name.zone.signed"
		fi
		zones+="  - domain: $name."$'\n'"    file: $name.zone.signed"$'\n'
	done <"$DNSD_DIR/zones.list"
	_dnsd_sign test || die "dnsd_start: signing test. failed" || return 1
	DNSD_ANCHOR="$DNSD_DIR/keys/test.ds"

	for ((i = 0; i < 5; i++)); do
		DNSD_PORT=$(_dnsd_free_port) || return 1
		cat >"$DNSD_DIR/knot.conf" <<EOF
server:
  rundir: "$DNSD_DIR/run"
  listen: 127.0.0.1@$DNSD_PORT
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
log:
  - target: "$DNSD_DIR/knotd.log"
    any: info
database:
  storage: "$DNSD_DIR/db"
template:
  - id: default
    storage: "$DNSD_DIR/zones"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
zone:
  - domain: test.
    file: test.zone.signed
$zones
EOF
		knotd -c "$DNSD_DIR/knot.conf" >>"$DNSD_DIR/knotd.out" 2>&1 3>&- &
		DNSD_PID=$!
		if _dnsd_wait; then
			DNSD_CONFIG="dns_server 127.0.0.1@$DNSD_PORT"$'\n'"dnssec_trust_anchor $DNSD_ANCHOR"
			export DNSD_PORT DNSD_ANCHOR DNSD_CONFIG DNSD_PID DNSD_DIR
			return 0
		fi
		dnsd_stop
		# Another process took the port between the check and knotd's
		# bind: try another; anything else is reported.
		grep -qi 'address already in use' "$DNSD_DIR/knotd.log" "$DNSD_DIR/knotd.out" 2>/dev/null ||
			break
		: >"$DNSD_DIR/knotd.log"
	done
	die "dnsd_start: knotd did not answer:" "$(tail -n 20 "$DNSD_DIR/knotd.log" "$DNSD_DIR/knotd.out")"
}

# _dnsd_wait: until knotd has loaded every zone and listens (its log
# says so; a query sent earlier would wait for drill's timeout), then
# one query answered (at most 10 s).
_dnsd_wait() {
	local i want
	want=$(($(wc -l <"$DNSD_DIR/zones.list") + 1))
	for ((i = 0; i < 200; i++)); do
		kill -0 "$DNSD_PID" 2>/dev/null || return 1
		if grep -q 'server started' "$DNSD_DIR/knotd.log" 2>/dev/null &&
			[[ $(grep -c '\] loaded, serial' "$DNSD_DIR/knotd.log") -ge $want ]]; then
			dnsd_query test SOA | grep -q 'IN[[:space:]]*SOA' && return 0
		fi
		sleep 0.02
	done
	return 1
}

dnsd_query() {
	drill -p "$DNSD_PORT" -o rd -D "$1" "$2" @127.0.0.1 2>&1 | sed -n '/ANSWER SECTION/,/^$/p'
}

dnsd_stop() {
	if [[ -n "${DNSD_PID:-}" ]]; then
		kill -TERM "$DNSD_PID" 2>/dev/null || true
		wait "$DNSD_PID" 2>/dev/null || true
	fi
	DNSD_PID=
}
