# tests/lib/postfix.bash - a private Postfix instance for the real-MTA tier.
#
# The instance lives entirely in one temp dir: its own main.cf and master.cf,
# queue, data directory, log file and Maildirs. It listens on 127.0.0.1 only,
# on high ports picked at start, delivers example.test and second.test to
# Maildirs through the virtual(8) agent, and relays nowhere: every other
# transport is error(8). Nothing under /etc/postfix is read or written
# except the stock meta files (postfix-files, dynamicmaps.cf) the package ships.
#
# Postfix must be started as root. Root is trusted with "postfix -c DIR", so
# alternate_config_directories in /etc/postfix/main.cf is not needed and that
# file may be absent (Debian's "No configuration" install leaves it absent).
#
# With --secure the instance also serves mail submission the way a
# provider does (RFC 8314, RFC 4954), on two more ports:
#   PF_SUBMIT_PORT   STARTTLS required (smtpd_tls_security_level=encrypt)
#   PF_SUBMITS_PORT  implicit TLS (smtpd_tls_wrappermode=yes)
# Both offer AUTH only inside TLS (smtpd_tls_auth_only) and accept no
# recipient, not even one of the local Maildirs, without a successful AUTH:
# an unauthenticated RCPT gets "554 5.7.1 ... Relay access denied". The
# certificate is the test PKI's server.pem (tests/lib/mkcerts.sh:
# localhost, IP 127.0.0.1, signed by the test CA), made at start into the
# instance dir. SASL is Cyrus with its sasldb auxprop plugin; smtpd.conf and
# sasldb2 live in the instance dir (cyrus_sasl_config_path, sasldb_path), so
# nothing under /etc/sasl2, /etc/postfix/sasl or /usr/lib/sasl2 is read.
# The one account is $PF_SASL_USER, a bare name (smtpd_sasl_local_domain
# supplies the realm), with a password made at random at each start;
# saslpasswd2 reads it on standard input, never from its command line. The
# plain ports stay as they are: no STARTTLS, no AUTH.
#
# Functions:
#   postfix_start [--secure]      start; sets the PF_* variables below
#   postfix_stop                  stop, make sure no process remains, remove
#                                 the temp dir (kept when PF_KEEP=1)
#   postfix_wait_delivered N [S]  wait up to S seconds (default 30) until at
#                                 least N messages sit in the Maildirs
#   postfix_delivered             print delivered files, one per line, sorted
#   postfix_maildir ADDR          print the new/ directory of ADDR's Maildir
#   postfix_clear                 remove all delivered mail
#   postfix_queue_count           print how many messages are in the queue
#   postfix_wait_queue_empty [S]  wait up to S seconds (default 30) until the
#                                 queue is empty: every message Postfix
#                                 accepted is then in a Maildir (or bounced)
#   postfix_log_tail [N]          print the last N lines of the Postfix log
#
# Variables set by postfix_start:
#   PF_DIR         the instance's temp dir (removed by postfix_stop)
#   PF_CONF        its config directory (for "postfix -c", "postconf -c")
#   PF_PORT        SMTP port
#   PF_SMALL_PORT  SMTP port whose message_size_limit is PF_SMALL_LIMIT bytes
#   PF_MAILBASE    virtual_mailbox_base; ADDR user@dom lands in dom/user/
#   PF_LOG         the maillog_file
#   PF_USERS       the addresses that exist (space-separated)
#   PF_SECURE      1 with --secure, else 0
# and with --secure:
#   PF_SUBMIT_PORT     STARTTLS + AUTH port
#   PF_SUBMITS_PORT    implicit TLS + AUTH port
#   PF_CERTS           the test PKI (mkcerts.sh): ca.pem is the CA that
#                      signed the server's certificate, other-ca.pem is not
#   PF_SASL_USER       the login name ("user")
#   PF_SASL_PASSWORD   its password (random letters and digits)
#   PF_SASL_REALM      the realm of the sasldb entry
#   PF_SASL_MECHS      the mechanisms offered (space-separated)

PF_USERS="user@example.test root@example.test alice@example.test \
bob@example.test carol@example.test a@example.test b@second.test"
PF_SMALL_LIMIT=20000
PF_SASL_MECHS="SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN"
PF_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Print N free TCP ports on 127.0.0.1, one per line: bind port 0, read the
# number back, release. All are held at once so they differ.
pf_free_ports()
{
	python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
    s.close()
EOF
}

# Print the pids of the instance's live processes: the master (from its pid
# file) and its children. Zombies are left out: they are already gone.
pf_pids()
{
	local master stat pid rest state ppid
	master=$(sed -n '1s/[^0-9]//gp' "$PF_DIR/queue/pid/master.pid" 2>/dev/null)
	[ -n "$master" ] || return 0
	for stat in /proc/[0-9]*/stat; do
		read -r rest 2>/dev/null <"$stat" || continue
		pid=${rest%% *}
		rest=${rest##*) }	# after "(comm) ": state ppid ...
		state=${rest%% *}
		rest=${rest#* }
		ppid=${rest%% *}
		[ "$state" = Z ] && continue
		if [ "$pid" = "$master" ] || [ "$ppid" = "$master" ]; then
			echo "$pid"
		fi
	done
}

pf_write_config()
{
	local uid gid addr user domain
	uid=$(id -u nobody)
	gid=$(id -g nobody)

	cat >"$PF_CONF/main.cf" <<EOF
# Private Postfix instance for the mailpost test suite. Loopback only,
# delivers only to the Maildirs below, relays nowhere.
compatibility_level = 3.6
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $PF_LOG
maillog_file_prefixes = $PF_DIR

myhostname = mx.example.test
mydomain = example.test
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_banner = \$myhostname ESMTP mailpost test instance

# Nothing ever leaves: every transport but virtual is error(8).
relay_domains =
relayhost =
default_transport = error:private test instance: no relaying
relay_transport = error:private test instance: no relaying
local_transport = error:private test instance: no local delivery
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unlisted_recipient, reject_unauth_destination
smtpd_reject_unlisted_recipient = yes

virtual_mailbox_domains = example.test, second.test
virtual_mailbox_base = $PF_MAILBASE
virtual_mailbox_maps = texthash:$PF_CONF/vmailbox
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid

# Deliver what the client sent: no headers added or rewritten for us
# (otherwise Postfix would add From/Date/Message-ID and hide what mailpost
# does), no DNS lookups, no artificial delays.
local_header_rewrite_clients =
always_add_missing_headers = no
smtpd_peername_lookup = no
smtpd_error_sleep_time = 0s
in_flow_delay = 0s
message_size_limit = 10240000
delay_warning_time = 0h
notify_classes =
biff = no
EOF

	# No chroot anywhere: the temp dir is not a chroot jail.
	cat >"$PF_CONF/master.cf" <<EOF
# service   type  private unpriv chroot wakeup maxproc command
$PF_PORT    inet  n       -      n      -      -       smtpd
$PF_SMALL_PORT inet n     -      n      -      -       smtpd -o message_size_limit=$PF_SMALL_LIMIT
$(pf_secure_services)
pickup      unix  n       -      n      60     1       pickup
cleanup     unix  n       -      n      -      0       cleanup
qmgr        unix  n       -      n      300    1       qmgr
rewrite     unix  -       -      n      -      -       trivial-rewrite
bounce      unix  -       -      n      -      0       bounce
defer       unix  -       -      n      -      0       bounce
trace       unix  -       -      n      -      0       bounce
verify      unix  -       -      n      -      1       verify
flush       unix  n       -      n      1000?  0       flush
proxymap    unix  -       -      n      -      -       proxymap
showq       unix  n       -      n      -      -       showq
error       unix  -       -      n      -      -       error
retry       unix  -       -      n      -      -       error
discard     unix  -       -      n      -      -       discard
virtual     unix  -       n      n      -      -       virtual
anvil       unix  -       -      n      -      1       anvil
scache      unix  -       -      n      -      1       scache
postlog     unix-dgram n  -      n      -      1       postlogd
EOF

	if [ "$PF_SECURE" = 1 ]; then
		pf_write_secure || return 1
	fi

	# texthash: is read directly, no postmap. "dom/user/" (trailing slash)
	# makes virtual(8) deliver to a Maildir.
	: >"$PF_CONF/vmailbox"
	for addr in $PF_USERS; do
		user=${addr%@*}
		domain=${addr#*@}
		echo "$addr $domain/$user/" >>"$PF_CONF/vmailbox"
	done

	chown "$uid:$gid" "$PF_MAILBASE"
	# The data directory belongs to mail_owner; the queue directory stays
	# root's and "postfix start" makes its subdirectories.
	chown postfix: "$PF_DIR/data"
	chmod 700 "$PF_DIR/data"
}

# The master.cf lines of the submission ports (nothing without --secure).
# smtpd_relay_restrictions is checked before the recipient restrictions:
# only an authenticated client gets any recipient accepted.
pf_secure_services()
{
	[ "$PF_SECURE" = 1 ] || return 0
	local common="  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject"
	cat <<EOF
$PF_SUBMIT_PORT inet n    -      n      -      -       smtpd
$common
$PF_SUBMITS_PORT inet n   -      n      -      -       smtpd
  -o smtpd_tls_wrappermode=yes
$common
tlsmgr      unix  -       -      n      1000?  1       tlsmgr
EOF
}

# main.cf settings and files for --secure: certificate, Cyrus SASL, sasldb.
# In main.cf TLS and AUTH stay off (the plain ports offer neither); the
# submission services switch them on with -o.
pf_write_secure()
{
	local sasl=$PF_CONF/sasl
	"$PF_LIB_DIR/mkcerts.sh" "$PF_CERTS" || return 1
	# smtpd reads the key as root, before it drops privileges.
	chmod 600 "$PF_CERTS"/*.key

	cat >>"$PF_CONF/main.cf" <<EOF

# --secure: TLS and SASL, switched on per service in master.cf.
smtpd_tls_security_level = none
smtpd_tls_cert_file = $PF_CERTS/server.pem
smtpd_tls_key_file = $PF_CERTS/server.key
smtpd_tls_loglevel = 1
smtpd_tls_received_header = no
smtpd_tls_session_cache_database =
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_protocols = >=TLSv1.2
smtpd_sasl_auth_enable = no
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $sasl
smtpd_sasl_local_domain = $PF_SASL_REALM
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
smtpd_sasl_authenticated_header = no
broken_sasl_auth_clients = no
EOF

	# Cyrus reads $smtpd_sasl_path.conf from cyrus_sasl_config_path, but
	# Debian's Postfix searches $config_directory/sasl (then /usr/lib/sasl)
	# whatever that says: the directory is both.
	mkdir -p "$sasl"
	cat >"$sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $sasl/sasldb2
mech_list: $PF_SASL_MECHS
EOF
	# -p: the password comes from standard input, as it is (no prompt).
	printf '%s' "$PF_SASL_PASSWORD" |
		saslpasswd2 -p -c -f "$sasl/sasldb2" -u "$PF_SASL_REALM" \
			"$PF_SASL_USER" || {
		echo "postfix_start: saslpasswd2 failed" >&2
		return 1
	}
	# smtpd opens the database as mail_owner (there is no chroot here);
	# "postfix start" wants everything in the config directory root's.
	chown root:postfix "$sasl/sasldb2"
	chmod 640 "$sasl/sasldb2"
}

# A password of random letters and digits behind a fixed prefix, so that a
# leak is easy to grep for and never a substring of anything else.
pf_random_password()
{
	local p
	# No reader closes its pipe early: no SIGPIPE under pipefail.
	p=$(head -c 30 /dev/urandom | base64 -w0 | LC_ALL=C tr -dc 'A-Za-z0-9' |
		cut -c1-24)
	printf 'Pw%s\n' "$p"
}

postfix_start()
{
	local ports i nports=2 port
	PF_SECURE=0 PF_SUBMIT_PORT='' PF_SUBMITS_PORT=''
	while [ $# -gt 0 ]; do
		case $1 in
		--secure) PF_SECURE=1 nports=4 ;;
		*)
			echo "postfix_start: unknown option $1" >&2
			return 1
			;;
		esac
		shift
	done
	if [ "$(id -u)" != 0 ]; then
		echo "postfix_start: must run as root" >&2
		return 1
	fi
	command -v postfix >/dev/null || {
		echo "postfix_start: postfix is not installed" >&2
		return 1
	}
	PF_DIR=$(mktemp -d /tmp/mailpost-postfix.XXXXXX) || return 1
	# Postfix daemons and the delivery user (nobody) must get through it.
	chmod 755 "$PF_DIR"
	PF_CONF=$PF_DIR/etc
	PF_MAILBASE=$PF_DIR/mail
	PF_LOG=$PF_DIR/maillog
	mkdir -p "$PF_CONF" "$PF_MAILBASE" "$PF_DIR/queue" "$PF_DIR/data"
	mapfile -t ports < <(pf_free_ports "$nports")
	PF_PORT=${ports[0]}
	PF_SMALL_PORT=${ports[1]}
	export PF_DIR PF_CONF PF_PORT PF_SMALL_PORT PF_SMALL_LIMIT PF_MAILBASE \
		PF_LOG PF_USERS PF_SECURE
	if [ "$PF_SECURE" = 1 ]; then
		if ! command -v saslpasswd2 >/dev/null; then
			echo "postfix_start: saslpasswd2 is not installed (sasl2-bin)" >&2
			postfix_stop
			return 1
		fi
		PF_SUBMIT_PORT=${ports[2]}
		PF_SUBMITS_PORT=${ports[3]}
		PF_CERTS=$PF_DIR/certs
		PF_SASL_USER=user
		PF_SASL_REALM=example.test
		PF_SASL_PASSWORD=$(pf_random_password)
		export PF_SUBMIT_PORT PF_SUBMITS_PORT PF_CERTS PF_SASL_USER \
			PF_SASL_REALM PF_SASL_PASSWORD PF_SASL_MECHS
	fi

	if ! pf_write_config; then
		echo "postfix_start: could not write the instance's files" >&2
		postfix_stop
		return 1
	fi
	# "postfix start" creates the queue directories with the owners and modes
	# Postfix wants (post-install create-missing); "set-permissions" is not
	# used because it would also reset the modes of the system's Postfix files.
	if ! postfix -c "$PF_CONF" start >"$PF_DIR/start.log" 2>&1 3>&-; then
		echo "postfix_start: postfix did not start:" >&2
		cat "$PF_DIR/start.log" "$PF_LOG" >&2 2>/dev/null
		postfix_stop
		return 1
	fi
	# Started means the master holds the pid file; wait for the listeners
	# (not the implicit-TLS one: a probe there logs a failed handshake).
	for port in "${ports[@]}"; do
		[ "$port" = "${PF_SUBMITS_PORT:-}" ] && continue
		for ((i = 0; i < 100; i++)); do
			if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
				"$port" 2>/dev/null; then
				continue 2
			fi
			sleep 0.1
		done
		break
	done
	[ "$i" -lt 100 ] && return 0
	echo "postfix_start: nothing listens on 127.0.0.1:$port" >&2
	postfix_log_tail 20 >&2
	postfix_stop
	return 1
}

postfix_stop()
{
	local i pids live pid
	[ -n "${PF_DIR:-}" ] && [ -d "$PF_DIR" ] || return 0
	# Remember every process now: once the master is gone its children
	# are no longer recognisable as ours.
	pids=$(pf_pids)
	postfix -c "$PF_CONF" stop >/dev/null 2>&1 3>&-
	for ((i = 0; i < 50; i++)); do
		live=
		for pid in $pids; do
			if [ -r "/proc/$pid/stat" ] &&
				! grep -q ') Z ' "/proc/$pid/stat" 2>/dev/null; then
				live="$live $pid"
			fi
		done
		[ -z "$live" ] && break
		sleep 0.1
	done
	if [ -n "$live" ]; then
		echo "postfix_stop: killing leftover processes:$live" >&2
		# shellcheck disable=SC2086
		kill -9 $live 2>/dev/null
	fi
	if [ "${PF_KEEP:-0}" = 1 ]; then
		echo "postfix_stop: kept $PF_DIR" >&2
	else
		rm -rf "$PF_DIR"
	fi
	PF_DIR=
}

postfix_delivered()
{
	find "$PF_MAILBASE" -path '*/new/*' -type f 2>/dev/null | sort
}

postfix_maildir()
{
	local addr=$1
	echo "$PF_MAILBASE/${addr#*@}/${addr%@*}/new"
}

postfix_wait_delivered()
{
	local want=$1 secs=${2:-30} n i
	for ((i = 0; i < secs * 10; i++)); do
		n=$(postfix_delivered | wc -l)
		[ "$n" -ge "$want" ] && return 0
		sleep 0.1
	done
	echo "postfix_wait_delivered: $n of $want message(s) after ${secs}s" >&2
	postfix_log_tail 20 >&2
	return 1
}

# A message Postfix accepted is in its queue from before the 250 that ends
# DATA until it is delivered, so once the queue is empty the Maildirs hold
# everything: counting them then needs no pause "to be sure".
postfix_wait_queue_empty()
{
	local secs=${1:-30} i
	for ((i = 0; i < secs * 50; i++)); do
		[ "$(postfix_queue_count)" -eq 0 ] && return 0
		sleep 0.02
	done
	echo "postfix_wait_queue_empty: $(postfix_queue_count) message(s) still queued after ${secs}s" >&2
	postfix_log_tail 20 >&2
	return 1
}

# postfix_setup_file [--secure]: the setup_file of a test file that needs
# the private Postfix.  bats 1.8 cannot skip from setup_file, so when not
# root the reason is left in PF_SKIP for setup to skip each test with.
postfix_setup_file()
{
	export PF_SKIP=
	if [ "$(id -u)" != 0 ]; then
		PF_SKIP="the real-MTA tests start a private Postfix and must run as root"
		return 0
	fi
	postfix_start "$@"
}

# postfix_one ADDR: print the single file delivered to ADDR (fail if not
# exactly one).
postfix_one()
{
	local dir files
	dir=$(postfix_maildir "$1")
	files=("$dir"/*)
	if [ "${#files[@]}" -ne 1 ] || [ ! -f "${files[0]}" ]; then
		echo "want exactly one message for $1 in $dir, found:" >&2
		postfix_delivered >&2
		return 1
	fi
	echo "${files[0]}"
}

postfix_clear()
{
	find "$PF_MAILBASE" -mindepth 1 -maxdepth 1 -exec rm -rf {} + 2>/dev/null
	return 0
}

postfix_queue_count()
{
	find "$PF_DIR/queue/incoming" "$PF_DIR/queue/active" \
		"$PF_DIR/queue/deferred" "$PF_DIR/queue/hold" \
		"$PF_DIR/queue/maildrop" -type f 2>/dev/null | wc -l
}

postfix_log_tail()
{
	echo "--- last lines of $PF_LOG"
	tail -n "${1:-20}" "$PF_LOG" 2>/dev/null
}
