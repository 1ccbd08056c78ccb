# cases.bash - declarative protocol cases for mailpost's bats tests.
#
# A protocol case is a few lines that say what the scripted server
# (tests/lib/smtpd.py) answers and what mailpost must then send and exit
# with; curl's tests/data is the model.  Each case is one bats test whose
# body is `run_case` fed the case on stdin (a quoted here-document, so
# nothing is expanded and leading whitespace is kept):
#
#   @test "HELO fallback after EHLO 502" {
#   	run_case <<'EOF'
#   --- server on EHLO 502 5.5.2 not implemented
#   --- args bob@example.net
#   --- exit 0
#   --- received
#   EHLO client.test
#   HELO client.test
#   ...
#   EOF
#   }
#
# (bats 1.8 finds tests by their `@test` lines only, so the cases cannot
# live in data files that a loop turns into tests.)
#
# THE FORMAT.  A line "--- NAME" starts a section; text after the name on
# the same line is the section's first line, the lines up to the next
# "--- " line are the rest.  A section may appear once.
#
#   config   lines for the config file after "defaults" (write_config);
#            without it, -C /dev/null
#   args     mailpost's arguments after run_send's (-C, --host, --port,
#            --domain client.test, -f alice@example.org), split on
#            whitespace (no quoting: an argument cannot hold a space)
#   server   the server's script (smtpd.py's header documents it); without
#            it, the well-behaved default server
#   stdin    the message on stdin, as a file (LF line ends); without it,
#            make_message's standard message
#   exit     the expected exit code (required)
#   stderr   each line a text that stderr must contain
#   received the exact bytes the server received; every line ends in CRLF
#            (write LF, as in assert_received_crlf)
#   message  the bytes of message 1 as the server stored it (same
#            notation), or "none": no complete message arrived
#
# In received and message, a line "@MESSAGE@" stands for the standard
# message's lines (make_message) and "@SIZE@" anywhere for its size in
# bytes (CRLF line ends), as mailpost announces it in MAIL FROM's SIZE=.
#
# Every case also asserts that the server saw no client mistakes
# (assert_no_problems).  A case that needs another assertion is not a
# case: write it as an ordinary test.

# case_expand TEXT: set CASE_BYTES to the CRLF bytes of a received or
# message section (a variable: $(...) would drop the final LF).
case_expand() {
	local line out=""
	while IFS= read -r line; do
		if [[ "$line" == "@MESSAGE@" ]]; then
			out+="$MSG_SIMPLE_CRLF"
		else
			out+="${line//@SIZE@/${#MSG_SIMPLE_CRLF}}"$'\r\n'
		fi
	done <<<"$1"
	CASE_BYTES="$out"
}

# case_parse: read a case from stdin into the associative array CASE
# (section name -> text, lines joined with LF).
case_parse() {
	local line name="" first rest
	CASE=()
	while IFS= read -r line; do
		if [[ "$line" == "--- "* ]]; then
			rest="${line#--- }"
			name="${rest%% *}"
			first=""
			[[ "$rest" == *" "* ]] && first="${rest#* }"
			case "$name" in
			config | args | server | stdin | exit | stderr | received | message) ;;
			*) die "run_case: unknown section '$name'" || return 1 ;;
			esac
			[[ -z "${CASE[$name]+set}" ]] ||
				die "run_case: section '$name' appears twice" || return 1
			CASE[$name]="$first"
			CASE_LINES[$name]=$([[ -n "$first" ]] && echo 1 || echo 0)
			continue
		fi
		[[ -n "$name" ]] || die "run_case: text before the first section: $line" || return 1
		if ((CASE_LINES[$name] > 0)); then
			CASE[$name]+=$'\n'
		fi
		CASE[$name]+="$line"
		CASE_LINES[$name]=$((CASE_LINES[$name] + 1))
	done
	[[ -n "${CASE[exit]+set}" ]] || die "run_case: no exit section" || return 1
}

# run_case: run the case on stdin (see the header) as the current test.
run_case() {
	declare -gA CASE=() CASE_LINES=()
	case_parse || return 1

	local args=() input="$BATS_TEST_TMPDIR/case-stdin" line
	if [[ -n "${CASE[config]+set}" ]]; then
		local config_lines=()
		mapfile -t config_lines <<<"${CASE[config]}"
		write_config "${config_lines[@]}"
	fi
	read -ra args <<<"${CASE[args]:-}"
	if [[ -n "${CASE[stdin]+set}" ]]; then
		printf '%s\n' "${CASE[stdin]}" >"$input"
	else
		make_message "$input" >/dev/null
	fi

	start_smtpd "${CASE[server]:-}" || return 1
	run_send "${CASE[exit]}" "${args[@]}" <"$input" || return 1
	if [[ -n "${CASE[stderr]+set}" ]]; then
		while IFS= read -r line; do
			assert_stderr_contains "$line" || return 1
		done <<<"${CASE[stderr]}"
	fi
	if [[ -n "${CASE[received]+set}" ]]; then
		case_expand "${CASE[received]}"
		assert_received "$CASE_BYTES" || return 1
	fi
	if [[ "${CASE[message]-}" == none ]]; then
		assert_no_message || return 1
	elif [[ -n "${CASE[message]+set}" ]]; then
		case_expand "${CASE[message]}"
		assert_message 1 "$CASE_BYTES" || return 1
	fi
	assert_no_problems
}
