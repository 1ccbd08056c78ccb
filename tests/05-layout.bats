#!/usr/bin/env bats
# 05-layout.bats - the shape of the source tree: the modules of src/ and
# the #include lines between them form no cycle, so each layer (util.c at
# the bottom, main.c at the top) can be read and tested without the ones
# above it.  tests/lib/includes.py prints the graph.

setup() {
	SRCDIR=${MAILPOST_SRCDIR:-$BATS_TEST_DIRNAME/..}
}

@test "layout: no include cycle among the modules of src/" {
	run python3 "$SRCDIR/tests/lib/includes.py" --quiet "$SRCDIR/src"
	if [ "$status" -ne 0 ]; then
		printf '%s\n' "$output" >&2
		return 1
	fi
}

@test "layout: the cycle check names a cycle when there is one" {
	mkdir "$BATS_TEST_TMPDIR/src"
	printf '#include "b.h"\n' >"$BATS_TEST_TMPDIR/src/a.c"
	printf '#include "c.h"\n' >"$BATS_TEST_TMPDIR/src/b.h"
	printf '#include "config.h"\n#include "a.h"\n' >"$BATS_TEST_TMPDIR/src/c.c"
	run python3 "$SRCDIR/tests/lib/includes.py" --quiet "$BATS_TEST_TMPDIR/src"
	[ "$status" -eq 1 ]
	[[ $output == *"include cycle: a -> b -> c -> a"* ]]
}

@test "layout: util.c, the base layer, includes no other module" {
	run python3 "$SRCDIR/tests/lib/includes.py" "$SRCDIR/src"
	[ "$status" -eq 0 ]
	local line
	line=$(printf '%s\n' "$output" | grep '^util:')
	if [ "$line" != "util: " ]; then
		printf 'util.c depends on: %s\n' "${line#util: }" >&2
		return 1
	fi
}

@test "layout: only header.c reads the members of a header field" {
	# The other modules walk a header block through header.h's walker and
	# accessors, so that one module decides what a field's bytes are.
	run grep -rnE '(->|\.)(raw|raw_len|name_len|raw_cap)\b' "$SRCDIR/src" \
		--include='*.c' --include='*.h' --exclude='header.[ch]'
	if [ "$status" -ne 1 ]; then
		printf 'a header field read outside header.c:\n%s\n' \
			"$output" >&2
		return 1
	fi
}
