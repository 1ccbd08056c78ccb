# bench/lib/common.bash - set-up shared by every figure of bench/run:
# packages, the temporary directory and its cleanup, the test PKI, the
# password file, the messages, the client configurations, and the two ways
# of measuring (callgrind, measure.py). Sourced by bench/run.
#
# Variables the driver sets before sourcing: srcdir, MAILPOST, MSMTP.
# Set here: tmp, lib, RESULTS, CERTS, PWFILE, SASL_USER.

lib=$srcdir/bench/lib

die() { printf 'bench/run: %s\n' "$*" >&2; exit 1; }
say() { printf '%s\n' "$*" >&2; }

# Install what is missing (Debian), as root; otherwise name it and stop.
# Postfix (for smtp-sink) is preseeded so that it sets nothing up.
bench_packages()
{
	local pkgs="msmtp postfix valgrind python3 coreutils time gnutls-bin \
ca-certificates openssl iproute2 util-linux" missing= p
	for p in $pkgs; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	[ "$(id -u)" = 0 ] || die "missing packages:$missing (run as root to install)"
	export DEBIAN_FRONTEND=noninteractive
	echo "postfix postfix/main_mailer_type select No configuration" |
		debconf-set-selections
	apt-get update -q >&2
	# shellcheck disable=SC2086
	apt-get install -y -q $missing </dev/null >&2
}

# Everything the run makes lives in $tmp; the trap stops what it started
# (by pid), removes the network namespaces it made, and removes $tmp.
bench_pids=()
bench_netns=()
bench_cleanup()
{
	local pid ns
	for pid in "${bench_pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${bench_pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	for ns in "${bench_netns[@]}"; do
		ip netns delete "$ns" 2>/dev/null || true
	done
	[ -n "${tmp:-}" ] && rm -rf "$tmp"
}

bench_setup()
{
	tmp=$(mktemp -d /tmp/mailpost-bench.XXXXXX)
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	RESULTS=$tmp/results.jsonl
	: >"$RESULTS"
	# The clients' homes and state: nothing of root's is read or written
	# (~/.msmtprc, ~/.netrc, mailpost's queue and TLS session cache).
	mkdir -p "$tmp/home" "$tmp/state"
	export HOME=$tmp/home XDG_STATE_HOME=$tmp/state \
		XDG_CONFIG_HOME=$tmp/home/.config
	CERTS=$tmp/certs
	"$srcdir/tests/lib/mkcerts.sh" "$CERTS" || die "could not make the test PKI"
	# The SMTP AUTH password: random, in a 0600 file that the sinks read
	# and the clients' passwordeval cats; never on a command line.
	SASL_USER=bench
	PWFILE=$tmp/password
	(umask 077 && head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' \
		>"$PWFILE" && echo >>"$PWFILE")
	bench_messages
}

# The messages: a 2 KB one (headers and body of 7-bit lines, 2048 bytes in
# all) and, made when a figure needs it, one of N MiB.
bench_messages()
{
	python3 - "$tmp/small.eml" <<'EOF'
import sys
head = (b"From: Bench <bench@client.test>\nTo: sink@example.test\n"
        b"Subject: a 2 KB message\nDate: Sat, 01 Feb 2025 10:00:00 +0000\n"
        b"Message-ID: <small.1@client.test>\n\n")
line = b"A message of 2 KB, as cron or a shell script would send it.......\n"
body = (line * 40)[:2048 - len(head) - 1] + b"\n"
open(sys.argv[1], "wb").write(head + body)
EOF
}

# big_message MIB: $tmp/big-MIB.eml, 76-character 7-bit lines.
big_message()
{
	local f=$tmp/big-$1.eml
	[ -f "$f" ] && return 0
	python3 - "$f" "$1" <<'EOF'
import sys
size = int(sys.argv[2]) * 1024 * 1024
line = (b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" * 2)[:76] + b"\n"
block = line * 1024
with open(sys.argv[1], "wb") as f:
    f.write(b"From: bench@client.test\nTo: sink@example.test\n"
            b"Subject: a big message\nDate: Sat, 01 Feb 2025 10:00:00 +0000\n"
            b"Message-ID: <big.1@client.test>\n\n")
    written = 0
    while written < size:
        f.write(block)
        written += len(block)
EOF
}

# write_conf NAME PORT TLS TRUST AUTH: $tmp/NAME.mailpost and
# $tmp/NAME.msmtp, mode 0600, one default account as a user would write it.
#   TLS: off, starttls or implicit; TRUST: a tls_trust_file value (ignored
#   with TLS off); AUTH: on (PLAIN as $SASL_USER, password by passwordeval
#   from $PWFILE) or off.
# Both files hold the same msmtp-syntax lines; mailpost's adds "queue never"
# and "dead_letter off", so that a failed send fails the run instead of
# being queued (exit 0) or saved.
write_conf()
{
	local name=$1 port=$2 tls=$3 trust=$4 auth=$5
	(
		umask 077
		{
			echo "defaults"
			echo "domain client.test"
			echo "from bench@client.test"
			echo "account bench"
			echo "host 127.0.0.1"
			echo "port $port"
			case $tls in
			off) echo "tls off" ;;
			starttls) printf 'tls on\ntls_starttls on\ntls_trust_file %s\n' "$trust" ;;
			implicit) printf 'tls on\ntls_starttls off\ntls_trust_file %s\n' "$trust" ;;
			esac
			if [ "$auth" = on ]; then
				printf 'auth plain\nuser %s\npasswordeval cat %s\n' \
					"$SASL_USER" "$PWFILE"
			else
				echo "auth off"
			fi
			echo "account default : bench"
		} >"$tmp/$name.msmtp"
		{
			cat "$tmp/$name.msmtp"
			printf 'queue never\ndead_letter off\n'
		} >"$tmp/$name.mailpost"
	)
}

# client_cmd CLIENT NAME: the command line that sends one message (stdin)
# with configuration NAME.
client_cmd()
{
	case $1 in
	mailpost) echo "$MAILPOST -C $tmp/$2.mailpost sink@example.test" ;;
	msmtp) echo "$MSMTP -C $tmp/$2.msmtp sink@example.test" ;;
	esac
}

# instructions INPUT COMMAND...: the instructions one run executes, counted
# by callgrind (exact: the same on a loaded machine). The client process
# only: a passwordeval child is not followed, for either client. Both this
# and measure run under the prefix ${wrap[@]} when one is set (figure 3's
# system-store namespace).
instructions()
{
	local input=$1 out
	shift
	out=$(mktemp "$tmp/callgrind.XXXXXX")
	"${wrap[@]}" valgrind --tool=callgrind --callgrind-out-file="$out" "$@" \
		<"$input" >/dev/null 2>"$out.log" ||
		{ cat "$out.log" >&2; die "under callgrind, failed: $*"; }
	sed -n 's/^summary: *\([0-9]*\).*/\1/p; s/^totals: *\([0-9]*\).*/\1/p' \
		"$out" | head -n 1
	rm -f "$out" "$out.log"
}

# measure ARGS...: bench/lib/measure.py with the run's RUNS and WARMUP.
measure()
{
	"${wrap[@]}" python3 "$lib/measure.py" --runs "$RUNS" --warmup "$WARMUP" "$@"
}

# field JSON NAME KEY: a number from measure.py's output.
field()
{
	python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]][sys.argv[3]])' \
		"$1" "$2" "$3"
}

# row FIG LABEL UNIT A B TARGET [VS]: one row of the table.
row()
{
	python3 "$lib/table.py" add "$RESULTS" "$@"
	say "  $2: mailpost $4, ${7:-msmtp} $5"
}
