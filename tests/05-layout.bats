#!/usr/bin/env bats
# 05-layout.bats - the shape of the source tree: each module of src/ lives
# in the folder of its layer (base/ at the bottom; account/ and message/ on
# it, wire/ beside them; delivery/ over both; cmd/ on top), includes only
# the headers of its own folder and of the folders under it, and the
# #include lines form no cycle, so each layer can be read and tested
# without the ones above it.  tests/lib/includes.py holds the layers,
# checks them and prints the graph; doc/ARCHITECTURE.md draws it.

setup() {
	SRCDIR=${MAILPOST_SRCDIR:-$BATS_TEST_DIRNAME/..}
	INCLUDES=$SRCDIR/tests/lib/includes.py
}

# put_file PATH LINE...: a file under $BATS_TEST_TMPDIR/src with the lines.
put_file() {
	local path=$BATS_TEST_TMPDIR/src/$1
	shift
	mkdir -p "${path%/*}"
	printf '%s\n' "$@" >"$path"
}

# check_fixture: run includes.py on the fixture tree.
check_fixture() {
	run python3 "$INCLUDES" --quiet "$BATS_TEST_TMPDIR/src"
}

@test "layout: every module of src/ is in its layer's folder, includes point down, no cycle" {
	run python3 "$INCLUDES" --quiet "$SRCDIR/src"
	if [ "$status" -ne 0 ]; then
		printf '%s\n' "$output" >&2
		return 1
	fi
}

@test "layout: the check names an include that points up a layer" {
	put_file base/low.c '#include "config.h"' '#include "low.h"' \
		'#include "high.h"'
	put_file base/low.h '#include <stdio.h>'
	put_file wire/high.h '#include <stddef.h>'
	check_fixture
	[ "$status" -eq 1 ]
	[ "$output" = "layer: base/low includes high.h of wire/; base/ may use only base/" ]
}

@test "layout: the check names an include between layers side by side" {
	put_file base/util.h ''
	put_file message/msg.h '#include "util.h"'
	put_file wire/smtpish.c '#include "util.h"' '#include "msg.h"'
	put_file cmd/top.c '#include "msg.h"' '#include "smtpish.h"'
	put_file wire/smtpish.h ''
	check_fixture
	[ "$status" -eq 1 ]
	[ "$output" = "layer: wire/smtpish includes msg.h of message/; wire/ may use only wire/, base/" ]
}

@test "layout: the check names a file outside the layer folders and a name in two folders" {
	put_file top.c '#include "config.h"'
	put_file wire/vtls/deep.c ''
	put_file base/twice.h ''
	put_file delivery/twice.c ''
	check_fixture
	[ "$status" -eq 1 ]
	[[ $output == *"src/top.c is in no layer folder (base/ account/ message/ wire/ delivery/ cmd/)"* ]]
	[[ $output == *"src/wire/vtls/deep.c is in no layer folder"* ]]
	[[ $output == *"src/delivery/twice.c: module twice is also in src/base/; a name is used in one folder only"* ]]
	[ "${#lines[@]}" -eq 3 ]
}

@test "layout: the cycle check names a cycle when there is one" {
	put_file base/a.c '#include "b.h"'
	put_file base/b.h '#include "c.h"'
	put_file base/c.c '#include "config.h"' '#include "a.h"'
	check_fixture
	[ "$status" -eq 1 ]
	[ "$output" = "include cycle: a -> b -> c -> a" ]
}

@test "layout: util.c, the floor of the base layer, includes no other module" {
	run python3 "$INCLUDES" "$SRCDIR/src"
	[ "$status" -eq 0 ]
	local line
	line=$(printf '%s\n' "$output" | grep '^base/util:')
	if [ "$line" != "base/util: " ]; then
		printf 'util.c depends on: %s\n' "${line#base/util: }" >&2
		return 1
	fi
}

@test "layout: Makefile.am lists each file of src/ with its layer and puts each layer on the include path" {
	local folder file list includes missing=
	cd "$SRCDIR"
	includes=$(sed -n '/^src_includes = /,/[^\]$/p' Makefile.am)
	while read -r folder _; do
		folder=${folder%:}
		grep -qwF -- "-I\$(top_srcdir)/src/$folder" <<<"$includes" ||
			missing+=" -I\$(top_srcdir)/src/$folder"
		list=$(sed -n "/^${folder}_sources = /,/[^\\]\$/p" Makefile.am)
		for file in src/"$folder"/*.[ch]; do
			[ -e "$file" ] && [ "$file" != src/cmd/main.c ] || continue
			grep -qwF -- "$file" <<<"$list" || missing+=" $file"
		done
	done < <(python3 "$INCLUDES" --layers)
	grep -qx 'mailpost_SOURCES = src/cmd/main.c' Makefile.am ||
		missing+=" src/cmd/main.c"
	if [ -n "$missing" ]; then
		echo "not where Makefile.am should have them:$missing" >&2
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

@test "layout: doc/ARCHITECTURE.md's drawing of the layers names every module of src/" {
	local drawing f m missing=
	drawing=$(awk '/^```/ { n++; next } n == 1' "$SRCDIR/doc/ARCHITECTURE.md")
	for f in "$SRCDIR"/src/*/*.[ch]; do
		m=${f##*/}
		m=${m%.?}
		grep -qw -- "$m" <<<"$drawing" || missing="$missing ${f#"$SRCDIR"/}"
	done
	if [ -n "$missing" ]; then
		echo "not in doc/ARCHITECTURE.md's drawing:$missing" >&2
		return 1
	fi
}
