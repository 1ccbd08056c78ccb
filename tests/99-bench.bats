#!/usr/bin/env bats
# 99-bench.bats - the benchmark suite (bench/) still works as a program:
# its scripts parse, the delay relay's self-test passes (its delays and its
# wait count), the sink speaks the protocol the figures rely on, and the
# table judges targets right. Nothing here times anything: bench/run itself
# is run by hand (bench/README.md), never by the suite.

setup() {
	SRCDIR=${MAILPOST_SRCDIR:-$BATS_TEST_DIRNAME/..}
	BENCH=$SRCDIR/bench
}

@test "bench: bench/run and its libraries parse (bash -n, Python's parser)" {
	local f
	for f in "$BENCH/run" "$BENCH"/lib/*.bash; do
		run bash -n "$f"
		[ "$status" -eq 0 ] || { echo "$f: $output"; false; }
	done
	run python3 -c 'import ast, sys
for f in sys.argv[1:]:
    ast.parse(open(f).read(), f)' "$BENCH"/lib/*.py
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "bench: bench/run --help explains itself; an unknown option exits 64 before doing anything" {
	run "$BENCH/run" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--quick"* && "$output" == *"--latency"* ]]
	run "$BENCH/run" --bogus
	[ "$status" -eq 64 ]
	[[ "$output" == *"unknown argument --bogus"* ]]
	run "$BENCH/run" --only
	[ "$status" -eq 64 ]
}

@test "bench: the delay relay holds each chunk RTT/2 each way and counts waits, not receives" {
	run python3 "$BENCH/lib/relay.py" --self-test
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok (4 waits"* ]]
}

# sink_session ARGS...: start sink.py with ARGS on a free port, talk to it
# with the Python client below, stop it; $output is the client's transcript.
sink_session() {
	local pfile=$BATS_TEST_TMPDIR/port pid
	printf 'secret\n' >"$BATS_TEST_TMPDIR/pw"
	python3 "$BENCH/lib/sink.py" --listen 127.0.0.1:0 --port-file "$pfile" \
		--stats "$BATS_TEST_TMPDIR/stats" "$@" 3>&- &
	pid=$!
	for _ in $(seq 50); do [ -s "$pfile" ] && break; sleep 0.1; done
	run python3 - "$(cat "$pfile")" <<'EOF'
import base64, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
f = s.makefile("rb")
def reply():
    lines = []
    while True:
        line = f.readline().decode().rstrip("\r\n")
        lines.append(line)
        if line[3:4] != "-":
            return " | ".join(lines)
def say(text):
    s.sendall(text.encode())
    print(">", text.strip().replace("\r\n", " / "), "<", reply())
print("<", reply())
say("EHLO client.test\r\n")
say("MAIL FROM:<a@client.test>\r\n")
bad = base64.b64encode(b"\0bench\0wrong").decode()
say("AUTH PLAIN %s\r\n" % bad)
good = base64.b64encode(b"\0bench\0secret").decode()
say("AUTH PLAIN %s\r\n" % good)
s.sendall(b"MAIL FROM:<a@client.test>\r\nRCPT TO:<b@sink.test>\r\n")
print("< pipelined", reply(), "|", reply())
say("BDAT 7\r\nab\r\n.\r\n")
say("BDAT 3 LAST\r\nxyz")
s.sendall(b"MAIL FROM:<a@client.test>\r\nRCPT TO:<b@sink.test>\r\nDATA\r\n")
print("< pipelined", reply(), "|", reply(), "|", reply())
say("line\r\n..dot\r\n.\r\n")
say("QUIT\r\n")
EOF
	kill "$pid"
	wait "$pid" || true
}

@test "bench: the sink offers CHUNKING and AUTH as asked, refuses MAIL before AUTH, counts the body" {
	sink_session --auth bench --password-file "$BATS_TEST_TMPDIR/pw" --chunking
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"250-AUTH PLAIN LOGIN"*"250-CHUNKING"* ]]
	[[ "$output" == *"MAIL FROM:<a@client.test> < 530 "* ]]
	[[ "$output" == *"< 535 "*"< 235 "* ]]
	[[ "$output" == *"BDAT 3 LAST / xyz < 250 "* ]]
	[[ "$output" == *"354 end"*"< 250 2.0.0 discarded"*"< 221 "* ]]
	# Two messages: 7 + 3 bytes by BDAT; "line\r\n..dot\r\n" by DATA,
	# 13 bytes as sent (the sink discards: it does not undouble dots).
	run cat "$BATS_TEST_TMPDIR/stats"
	[[ "$output" == *'"body": 23, "messages": 2'* ]]
}

@test "bench: the sink offers no CHUNKING unless asked, and refuses BDAT then" {
	sink_session --auth bench --password-file "$BATS_TEST_TMPDIR/pw"
	echo "$output"
	[[ "$output" != *"CHUNKING"* ]]
	[[ "$output" == *"BDAT 3 LAST / xyz < 503 "* ]]
}

@test "bench: the table judges ratio and absolute targets, and shows waits as given" {
	local r=$BATS_TEST_TMPDIR/results
	# Rows as `table.py add` writes them (the first is added that way).
	python3 "$BENCH/lib/table.py" add "$r" 1 "start-up" instr 4000000 10000000 "<= 0.45x"
	cat >>"$r" <<'EOF'
{"fig": "3", "label": "trust", "unit": "instr", "a": "50000000", "b": "100000000", "target": "<= 0.15x", "vs": "msmtp"}
{"fig": "4", "label": "rate", "unit": "msg/s", "a": "30", "b": "10", "target": ">= 3x", "vs": "msmtp"}
{"fig": "7", "label": "rss", "unit": "KiB", "a": "9000", "b": "-", "target": "<= 8", "vs": "msmtp"}
{"fig": "8", "label": "waits", "unit": "waits", "a": "5 (5.2)", "b": "6 (6.9)", "target": "<= 5", "vs": "msmtp"}
EOF
	run python3 "$BENCH/lib/table.py" render "$r"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"| 1 | start-up | 4.00 M | msmtp | 10.00 M | 0.4x | <= 0.45x (met) |"* ]]
	[[ "$output" == *"| 0.5x | <= 0.15x (not met) |"* ]]
	[[ "$output" == *"| 3x | >= 3x (met) |"* ]]
	[[ "$output" == *"| 7 | rss | 8.8 MiB |  | - |  | <= 8 (not met) |"* ]]
	[[ "$output" == *"| 5 (5.2) | msmtp | 6 (6.9) |  | <= 5 (met) |"* ]]
}

@test "bench: a run of some figures replaces only their rows of bench/README.md's table" {
	local r=$BATS_TEST_TMPDIR/results readme=$BATS_TEST_TMPDIR/README.md
	cat >"$readme" <<'EOF2'
# bench
<!-- results -->
mailpost aaaaaaa; run 2026-01-01.

| # | figure | mailpost | compared with | value | ratio | target |
|---|---|---|---|---|---|---|
| 1 | start-up | 4.00 M | msmtp | 10.00 M | 0.4x | <= 0.45x (met) |
| 3 | trust, old | 16.00 M | msmtp | 80.00 M | 0.2x | <= 0.15x (not met) |
| 3 | trust CPU, old | 10.0 ms | msmtp | 20.0 ms | 0.5x | <= 0.4x (not met) |
| 7 | rss | 8.8 MiB |  | - |  | <= 8 (not met) |
<!-- /results -->
notes
EOF2
	python3 "$BENCH/lib/table.py" add "$r" 3 "trust, new" instr 12000000 100000000 "<= 0.15x"
	echo "mailpost bbbbbbb; run 2026-02-02." >"$BATS_TEST_TMPDIR/head"
	run python3 "$BENCH/lib/table.py" merge "$r" "$readme" "$BATS_TEST_TMPDIR/head"
	[ "$status" -eq 0 ]
	run cat "$readme"
	echo "$output"
	[[ "$output" == *"mailpost aaaaaaa; run 2026-01-01."* ]]
	[[ "$output" == *"Figure 3 measured again: mailpost bbbbbbb; run 2026-02-02."* ]]
	[[ "$output" == *"| 1 | start-up | 4.00 M |"* ]]
	[[ "$output" == *"| 3 | trust, new | 12.00 M | msmtp | 100.00 M | 0.12x | <= 0.15x (met) |"* ]]
	[[ "$output" != *"old"* ]]
	[[ "$output" == *"| 7 | rss | 8.8 MiB |"* ]]
	[[ "$output" == *$'<!-- /results -->\nnotes'* ]]
	# The rows stay in figure order: 1, then 3, then 7.
	[ "$(grep -o '^| [0-9]* |' "$readme" | tr -d '| ' | tr '\n' ' ')" = "1 3 7 " ]
}

@test "bench: measure.py starts a client's command line as the program alone, anything else under sh" {
	run python3 - "$BENCH/lib" <<'EOF2'
import os, sys
sys.path.insert(0, sys.argv[1])
import measure
O, D = os.POSIX_SPAWN_OPEN, os.POSIX_SPAWN_DUP2
assert measure.direct("exec /bin/m -C c.conf to@x.test <in.eml") == (
    ["/bin/m", "-C", "c.conf", "to@x.test"], [(O, 0, "in.eml", os.O_RDONLY, 0o666)])
argv, acts = measure.direct("exec b64 -w 76 f >/dev/null 2>&1")
assert argv == ["b64", "-w", "76", "f"] and acts[1] == (D, 1, 2), acts
for shell in ("for i in 1 2; do x; done", "exec m $X", "exec m 'a b'",
              "m <in", "exec a | b", "exec a <<EOF", "exec"):
    assert measure.direct(shell) is None, shell
print("ok")
EOF2
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

@test "bench: measure.py makes a direct command's redirections, runs a shell one, and takes peak RSS from GNU time" {
	local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out
	command -v /usr/bin/time >/dev/null || skip "no GNU time"
	printf 'some bytes\n' >"$in"
	run python3 "$BENCH/lib/measure.py" --runs 2 --warmup 0 \
		"cat=exec cat <$in >$out" "loop=for i in 1 2; do :; done"
	[ "$status" -eq 0 ]
	cmp "$in" "$out"
	run python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert set(d) == {"cat", "loop"} and "rss" not in d["cat"], d
assert len(d["cat"]["runs"]) == 2 and d["cat"]["cpu"] >= 0 < d["cat"]["wall"], d
print("ok")' "$output"
	[ "$output" = ok ]
	# A program spawned from Python would carry its high-water mark
	# (~10 MiB) into ru_maxrss: the peak is GNU time's run of cat.
	run python3 "$BENCH/lib/measure.py" --runs 1 --warmup 0 --rss \
		"cat=exec cat <$in >$out"
	[ "$status" -eq 0 ]
	run python3 -c 'import json, sys
rss = json.loads(sys.argv[1])["cat"]["rss"]
print("ok" if 0 < rss < 6144 else "rss %d KiB" % rss)' "$output"
	[ "$output" = ok ]
}
