# bench/lib/figures.bash - the figures of issue 13, one function each
# (fig1 ... fig8), every one mailpost against msmtp (or against the floor
# named) in the same run. Sourced by bench/run, after common.bash and
# sinks.bash; each function adds its rows with `row` and may assume the
# set-up of bench_setup. What each measures is in bench/README.md.
#
# Knobs (set by bench/run): RUNS, WARMUP (alternating rounds), SENDS (one-
# process sends of figure 4), LONG_RUNS (the rounds of figures 4 to 6,
# whose runs take seconds each; no warm-up round), BIG_MIB (figures 5 to
# 7), RSS_SIZES (KiB, figure 7), RTT (ms) and LAT_RUNS (figure 8).

wrap=() # a prefix for measure and callgrind (the system-store namespace)

# Before each run of a figure that must pay for a full TLS handshake: no
# kept TLS session (mailpost would otherwise resume the one the last run
# cached), but the state directory itself there, as it is after a user's
# first send: making it (two mkdir on this ext4) is a once-per-user cost
# that was ~3 ms of system time per run, more than the handshake's own
# CPU.  msmtp keeps no state.
fresh_state()
{
	echo "(umask 077 && mkdir -p $tmp/fresh-state/mailpost/tls) &&" \
		"find $tmp/fresh-state/mailpost/tls -mindepth 1 -delete"
}

# Figure 1: start-up, `--version`.
fig1()
{
	say "figure 1: --version"
	row 1 "\`--version\`: instructions" instr \
		"$(instructions /dev/null "$MAILPOST" --version)" \
		"$(instructions /dev/null "$MSMTP" --version)" "<= 0.45x"
}

# Figure 2: one 2 KB message to smtp-sink, plain SMTP.
fig2()
{
	say "figure 2: a 2 KB message, plain"
	write_conf plain "$SMTP_SINK_PORT" off - off
	# shellcheck disable=SC2046
	row 2 "2 KB plain message: instructions" instr \
		"$(instructions "$tmp/small.eml" $(client_cmd mailpost plain))" \
		"$(instructions "$tmp/small.eml" $(client_cmd msmtp plain))" -
}

# fig3_case NAME TRUST LABEL TARGETS: instructions, CPU and peak RSS of one
# STARTTLS send of the 2 KB message verified against TRUST. TARGETS=yes
# gives the issue's targets (the system store and its bundle).
fig3_case()
{
	local name=$1 trust=$2 label=$3 targets=$4 t_ins=- t_cpu=- t_rss=- m
	[ "$targets" = yes ] && t_ins="<= 0.15x" t_cpu="<= 0.4x" t_rss="<= 0.6x"
	write_conf "$name" "$STLS_PORT" starttls "$trust" off
	eval "$(fresh_state)"
	# shellcheck disable=SC2046
	row 3 "STARTTLS, $label: instructions" instr \
		"$(instructions "$tmp/small.eml" $(client_cmd mailpost "$name"))" \
		"$(instructions "$tmp/small.eml" $(client_cmd msmtp "$name"))" \
		"$t_ins"
	m=$(measure --rss --prepare "$(fresh_state)" \
		"mailpost=exec $(client_cmd mailpost "$name") <$tmp/small.eml" \
		"msmtp=exec $(client_cmd msmtp "$name") <$tmp/small.eml") ||
		die "figure 3 ($label) failed"
	row 3 "STARTTLS, $label: CPU" s "$(field "$m" mailpost cpu)" \
		"$(field "$m" msmtp cpu)" "$t_cpu"
	row 3 "STARTTLS, $label: peak RSS" KiB "$(field "$m" mailpost rss)" \
		"$(field "$m" msmtp rss)" "$t_rss"
}

# Figure 3: STARTTLS, the server's chain verified against the system trust
# store (`tls_trust_file system`, in the private mount namespace of
# system_store_ns), a bundle file of the same CAs, and a one-CA file.
# No AUTH: the figure is the cost of TLS and trust.
fig3()
{
	say "figure 3: STARTTLS and the trust store"
	sink_start STLS_PORT --tls starttls
	cat /etc/ssl/certs/ca-certificates.crt "$CERTS/ca.pem" >"$tmp/bundle.pem"
	local saved=$XDG_STATE_HOME
	export XDG_STATE_HOME=$tmp/fresh-state
	if [ "$(id -u)" = 0 ]; then
		wrap=(system_store_ns)
		fig3_case tls-system system "system store (\`tls_trust_file system\`)" yes
		wrap=()
	else
		say "  not root: skipping \`tls_trust_file system\` (it needs a private mount namespace)"
	fi
	fig3_case tls-bundle "$tmp/bundle.pem" \
		"bundle file of the same CAs ($(grep -c 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt) + the test CA)" yes
	fig3_case tls-oneca "$CERTS/ca.pem" "trust file with one CA" no
	export XDG_STATE_HOME=$saved
}

# fig4_case NAME LABEL TARGET: SENDS one-process sends in a shell loop.
fig4_case()
{
	local name=$1 label=$2 target=$3 loop m
	loop="for i in \$(seq $SENDS); do CMD <$tmp/small.eml || exit 1; done"
	m=$(RUNS=$LONG_RUNS WARMUP=0 measure "mailpost=${loop/CMD/$(client_cmd mailpost "$name")}" \
		"msmtp=${loop/CMD/$(client_cmd msmtp "$name")}") ||
		die "figure 4 ($label) failed"
	row 4 "$SENDS one-process sends, $label: messages per second" msg/s \
		"$(python3 -c "print($SENDS / $(field "$m" mailpost wall))")" \
		"$(python3 -c "print($SENDS / $(field "$m" msmtp wall))")" "$target"
}

# Figure 4: messages per second, one process per message, as a cron burst
# or a queue flush sends them: plain to smtp-sink, STARTTLS+AUTH to the TLS
# sink. One configuration per client and mailpost's own state directory,
# kept across the runs, as a user has them: a cached TLS session counts.
fig4()
{
	say "figure 4: $SENDS one-process sends"
	write_conf plain "$SMTP_SINK_PORT" off - off
	sink_start AUTH_PORT --tls starttls --auth --stats "$tmp/auth.stats"
	write_conf tls-auth "$AUTH_PORT" starttls "$CERTS/ca.pem" on
	fig4_case plain "plain" ">= 3x"
	fig4_case tls-auth "STARTTLS+AUTH" ">= 4x"
	# How many of the sends resumed a TLS session: four more of each.
	local c n a b
	for c in mailpost msmtp; do
		: >"$tmp/auth.stats"
		for n in 1 2 3 4; do
			$(client_cmd "$c" tls-auth) <"$tmp/small.eml" ||
				die "$c failed over STARTTLS+AUTH"
		done
		sleep 0.2 # the sink appends its line after the client has gone
		n=$(grep -c '"resumed": true' "$tmp/auth.stats" || true)
		[ "$c" = mailpost ] && a=$n || b=$n
	done
	row 4 "STARTTLS+AUTH: TLS sessions resumed, of 4 sends" count "$a" "$b" -
}

# Figure 5: one BIG_MIB MiB message, plain, to smtp-sink: the clients and
# the raw-TCP limit of the same session (bench/lib/rawsend.py).
fig5()
{
	say "figure 5: $BIG_MIB MiB, plain"
	local m msg
	big_message "$BIG_MIB"
	msg=$tmp/big-$BIG_MIB.eml
	python3 "$lib/rawsend.py" --wire "$msg" "$tmp/big.wire"
	write_conf plain "$SMTP_SINK_PORT" off - off
	m=$(RUNS=$LONG_RUNS WARMUP=0 measure \
		"mailpost=exec $(client_cmd mailpost plain) <$msg" \
		"msmtp=exec $(client_cmd msmtp plain) <$msg" \
		"raw=exec python3 -I -S $lib/rawsend.py $SMTP_SINK_PORT bench@client.test sink@example.test $tmp/big.wire") ||
		die "figure 5 failed"
	row 5 "$BIG_MIB MiB plain: client CPU" s "$(field "$m" mailpost cpu)" \
		"$(field "$m" msmtp cpu)" -
	row 5 "$BIG_MIB MiB plain: wall" s "$(field "$m" mailpost wall)" \
		"$(field "$m" msmtp wall)" -
	row 5 "$BIG_MIB MiB plain: wall against the raw-TCP limit" s \
		"$(field "$m" mailpost wall)" "$(field "$m" raw wall)" "<= 1.3x" \
		"raw TCP (sendfile)"
}

# Figure 6: one BIG_MIB MiB message over implicit TLS with AUTH; the TLS
# record overhead of the client's writes, counted by the sink. Each client
# has a sink of its own, so that each sink's statistics are one client's.
fig6()
{
	say "figure 6: $BIG_MIB MiB, implicit TLS"
	local m msg c p over=()
	big_message "$BIG_MIB"
	msg=$tmp/big-$BIG_MIB.eml
	for c in mailpost msmtp; do
		sink_start p --tls implicit --auth --stats "$tmp/implicit-$c.stats"
		write_conf "tls-implicit-$c" "$p" implicit "$CERTS/ca.pem" on
	done
	m=$(RUNS=$LONG_RUNS WARMUP=0 measure \
		"mailpost=exec $(client_cmd mailpost tls-implicit-mailpost) <$msg" \
		"msmtp=exec $(client_cmd msmtp tls-implicit-msmtp) <$msg") ||
		die "figure 6 failed"
	row 6 "$BIG_MIB MiB implicit TLS: client CPU" s \
		"$(field "$m" mailpost cpu)" "$(field "$m" msmtp cpu)" -
	row 6 "$BIG_MIB MiB implicit TLS: wall" s \
		"$(field "$m" mailpost wall)" "$(field "$m" msmtp wall)" -
	sleep 0.2 # a sink appends its line after the client has gone
	for c in mailpost msmtp; do
		over+=("$(python3 -c 'import json,sys
s = json.loads(open(sys.argv[1]).readline())
print(100.0 * (s["wire_in"] - s["plain_in"]) / s["plain_in"])' "$tmp/implicit-$c.stats")") ||
			die "figure 6: no statistics from the sink of $c"
	done
	row 6 "$BIG_MIB MiB implicit TLS: TLS wire bytes over payload" % \
		"${over[0]}" "${over[1]}" "<= 0.2"
}

# Figure 7: a BIG_MIB MiB attachment composed (--dry-run to /dev/null)
# against coreutils base64 -w 76 of the same file; the peak RSS of sending
# attachments of RSS_SIZES KiB to smtp-sink.
fig7()
{
	say "figure 7: attachments"
	local m f size
	head -c "$((BIG_MIB * 1024 * 1024))" /dev/urandom >"$tmp/attach.bin"
	m=$(measure "mailpost=exec $MAILPOST -C /dev/null -f bench@client.test --dry-run -s x -a $tmp/attach.bin r@example.test </dev/null >/dev/null 2>&1" \
		"base64=exec base64 -w 76 $tmp/attach.bin >/dev/null") ||
		die "figure 7 failed"
	row 7 "$BIG_MIB MiB attachment composed: wall" s \
		"$(field "$m" mailpost wall)" "$(field "$m" base64 wall)" - "base64 -w 76"
	row 7 "$BIG_MIB MiB attachment composed: CPU" s \
		"$(field "$m" mailpost cpu)" "$(field "$m" base64 cpu)" - "base64 -w 76"
	write_conf plain "$SMTP_SINK_PORT" off - off
	for size in $RSS_SIZES; do
		f=$tmp/attach-$size.bin
		head -c "$((size * 1024))" /dev/urandom >"$f"
		m=$(RUNS=1 WARMUP=0 measure --rss \
			"mailpost=exec $(client_cmd mailpost plain) -s x -a $f </dev/null") ||
			die "figure 7 (send of $size KiB) failed"
		row 7 "peak RSS, sending a $(rss_size "$size") attachment" \
			KiB "$(field "$m" mailpost rss)" - "<= 8"
	done
	# The same bytes under a name without an extension: neither the
	# signature table nor mime.types can type them, libmagic does (in
	# its child), which is what the peak then is.
	ln -f "$f" "$tmp/attach-$size"
	m=$(RUNS=1 WARMUP=0 measure --rss \
		"mailpost=exec $(client_cmd mailpost plain) -s x -a $tmp/attach-$size </dev/null") ||
		die "figure 7 (send of $size KiB, no extension) failed"
	row 7 "peak RSS, sending a $(rss_size "$size") attachment without an extension (libmagic)" \
		KiB "$(field "$m" mailpost rss)" - -
}

# rss_size KIB: "1 KiB", "10 MiB"...
rss_size()
{
	python3 -c "print('%g' % ($1 / 1024) + ' MiB' if $1 >= 1024 else '$1 KiB')"
}

# Figure 8: blocking waits per send through two network namespaces joined
# by the delay relay (RTT ms), for every TLS/AUTH mode, with and without
# CHUNKING offered. The relay counts the waits (bench/lib/relay.py says
# how); wall/RTT is shown beside them in parentheses.
fig8()
{
	say "figure 8: waits at $RTT ms RTT"
	if [ "$(id -u)" != 0 ]; then
		say "  not root: skipping the latency mode (it needs ip netns)"
		return 0
	fi
	netns_pair
	local mode chunk floor label sargs tls auth
	for chunk in off on; do
		for mode in plain starttls starttls-auth implicit implicit-auth; do
			case $mode in
			plain) floor=5 tls=off auth=off label=plain ;;
			starttls) floor=8 tls=starttls auth=off label=STARTTLS ;;
			starttls-auth) floor=9 tls=starttls auth=on label=STARTTLS+AUTH ;;
			implicit) floor=6 tls=implicit auth=off label="implicit TLS" ;;
			implicit-auth) floor=7 tls=implicit auth=on label="implicit TLS+AUTH" ;;
			esac
			sargs=(--netns "$SRV_NS")
			[ "$tls" != off ] && sargs+=(--tls "$tls")
			[ "$auth" = on ] && sargs+=(--auth)
			if [ "$chunk" = on ]; then
				sargs+=(--chunking)
				floor=$((floor - 1))
				label="$label, CHUNKING"
			fi
			fig8_case "$label" "$floor" "$tls" "$auth" "${sargs[@]}"
		done
	done
}

# fig8_case LABEL FLOOR TLS AUTH SINK-ARGS...: one configuration.
fig8_case()
{
	local label=$1 floor=$2 tls=$3 auth=$4 port rport log c r n a b
	shift 4
	sink_start port "$@"
	log=$tmp/relay.log
	: >"$log"
	relay_start rport "$port" "$RTT" "$log"
	write_conf lat "$rport" "$tls" "$CERTS/ca.pem" "$auth"
	for c in mailpost msmtp; do
		: >"$log"
		for ((r = 0; r < LAT_RUNS; r++)); do
			rm -rf "$tmp/fresh-state"
			XDG_STATE_HOME=$tmp/fresh-state ip netns exec "$CLI_NS" \
				$(client_cmd "$c" lat) <"$tmp/small.eml" ||
				die "$c failed through the relay ($label)"
			# The relay writes its line once both directions ended.
			for ((n = 0; n < 50; n++)); do
				[ "$(wc -l <"$log")" -gt "$r" ] && break
				sleep 0.1
			done
		done
		n=$(python3 -c 'import json,statistics,sys
rs = [json.loads(l) for l in open(sys.argv[1])]
print("%d (%.1f)" % (statistics.median(r["waits"] for r in rs),
                     statistics.median(r["wall_rtts"] for r in rs)))' "$log")
		[ "$c" = mailpost ] && a=$n || b=$n
	done
	stop_last # the relay
	stop_last # the sink
	row 8 "waits at $RTT ms RTT (wall/RTT), $label" waits "$a" "$b" "<= $floor"
}
