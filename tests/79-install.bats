#!/usr/bin/env bats
# 79-install: make install-mta, which makes mailpost the system's sendmail
# (system/mta-install does the work; README, "Use as your system's
# sendmail").  Staged with DESTDIR from the build that is being tested:
# the program, the links sendmail, mailq and newaliases with their manual
# pages, the systemd timer and the cron file, the spool; refused when a
# link would replace another mail server's sendmail; undone by
# uninstall-mta.  Without DESTDIR, as root and with every path in the
# test's directory, system/mta-install itself: the group created, the
# program setgid to it only when its --version says it drops the group.
# The Debian packages are checked by .ci/package (minutes, not here).

bats_require_minimum_version 1.5.0
# status, output, stderr: set by bats' run.
# shellcheck disable=SC2154

load lib/helpers # assert_equal, assert_stderr_contains, die

MTA_INSTALL=${MAILPOST_SRCDIR:-$BATS_TEST_DIRNAME/..}/system/mta-install
LINKS="/usr/sbin/sendmail /usr/lib/sendmail /usr/bin/mailq /usr/bin/newaliases /usr/sbin/newaliases"

setup_file() {
	BUILD=$(dirname "$MAILPOST")
	export BUILD
	# make's value of VARIABLE in the build directory.
	make_value() {
		printf 'show:\n\t@echo $(%s)\n' "$1" |
			env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
				make -s -C "$BUILD" -f Makefile -f - show
	}
	BINDIR=$(make_value bindir)
	UNITDIR=$(make_value systemdunitdir)
	MANDIR=$(make_value mandir)
	GROUP=$(make_value MTA_GROUP)
	STATEDIR=$(make_value localstatedir)
	export BINDIR UNITDIR MANDIR GROUP STATEDIR
	# One staged install that the tests below read, or copy to change.
	STAGED=$BATS_FILE_TMPDIR/staged
	export STAGED
	install_mta "$STAGED" >"$BATS_FILE_TMPDIR/staged.out" 2>&1 || {
		cat "$BATS_FILE_TMPDIR/staged.out" >&2
		return 1
	}
}

setup() {
	mailpost_setup
	TEST_GROUP=
	TEST_USER=
}

teardown() {
	if [ -n "$TEST_USER" ] && getent passwd "$TEST_USER" >/dev/null; then
		userdel "$TEST_USER"
	fi
	if [ -n "$TEST_GROUP" ] && getent group "$TEST_GROUP" >/dev/null; then
		groupdel "$TEST_GROUP"
	fi
}

# install_mta DESTDIR [TARGET]: make TARGET (install-mta) into DESTDIR,
# outside the make that runs the tests.
install_mta() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -s -C "$BUILD" "${2:-install-mta}" DESTDIR="$1"
}

# mode_of PATH: octal mode, owner and group ("2755 root:mail").
mode_of() {
	stat -c '%a %U:%G' "$1"
}

@test "install-mta: the program, the links, the timer, the cron file, the spool" {
	local d=$STAGED l
	[ -x "$d$BINDIR/mailpost" ] || die "no $d$BINDIR/mailpost"
	# Under DESTDIR nothing is setgid, with a group or without.
	assert_equal 755 "$(stat -c %a "$d$BINDIR/mailpost")" "the program's mode"
	for l in $LINKS; do
		assert_equal "$BINDIR/mailpost" "$(readlink "$d$l")" "$l" || return 1
	done
	for l in man8/sendmail.8 man1/mailq.1 man1/newaliases.1; do
		assert_equal ../man1/mailpost.1 "$(readlink "$d$MANDIR/$l")" "$l" || return 1
		[ -f "$d$MANDIR/$l" ] || die "$l leads nowhere"
	done
	assert_equal 644 "$(stat -c %a "$d$UNITDIR/mailpost-flush.timer")" "the timer's mode"
	grep -qx 'OnUnitActiveSec=5min' "$d$UNITDIR/mailpost-flush.timer" ||
		die "the timer does not fire every five minutes"
	grep -qx 'WantedBy=timers.target' "$d$UNITDIR/mailpost-flush.timer" ||
		die "the timer cannot be enabled"
	grep -qx "ExecStart=$BINDIR/mailpost -q --due" \
		"$d$UNITDIR/mailpost-flush.service" ||
		die "the service does not run $BINDIR/mailpost -q --due:" \
			"$(cat "$d$UNITDIR/mailpost-flush.service")"
	assert_equal 644 "$(stat -c %a "$d/etc/cron.d/mailpost")" "the cron file's mode"
	grep -qxF "*/5 * * * *	root	[ -d /run/systemd/system ] || [ ! -x $BINDIR/mailpost ] || $BINDIR/mailpost -q --due" \
		"$d/etc/cron.d/mailpost" ||
		die "no cron line for $BINDIR/mailpost -q --due that steps aside for systemd:" \
			"$(cat "$d/etc/cron.d/mailpost")"
	[ -d "$d/var/spool/mailpost" ] || die "no spool"
	assert_equal 700 "$(stat -c %a "$d/var/spool/mailpost")" "the spool's mode"
	# The directory tokstore.c's TOKSTORE_SYSTEM_DIR names, for the
	# system account's OAuth2 tokens; on the target root:GROUP 2770.
	assert_equal 700 "$(stat -c %a "$d$STATEDIR/lib/mailpost/oauth2")" "the OAuth2 tokens' mode"
	assert_equal 755 "$(stat -c %a "$d$STATEDIR/lib/mailpost")" "its parent's mode"
	if [ -n "$GROUP" ]; then
		grep -q "on the target run: chown root:$GROUP $BINDIR/mailpost && chmod 2755 $BINDIR/mailpost" \
			"$BATS_FILE_TMPDIR/staged.out" ||
			die "no word of what to run on the target:" "$(cat "$BATS_FILE_TMPDIR/staged.out")"
	fi
}

@test "install-mta: the cron line's guard runs the flush only without systemd" {
	local line cmd fake=$BATS_TEST_TMPDIR/fake
	line=$(grep -v '^#' "$STAGED/etc/cron.d/mailpost" | grep 'mailpost -q')
	cmd=$(printf '%s\n' "$line" | cut -f 3-)
	# The same command with the paths moved into the test's directory.
	mkdir -p "$fake/bin"
	printf '#!/bin/sh\necho "flush $*" >>%s\n' "$fake/ran" >"$fake/bin/mailpost"
	chmod 755 "$fake/bin/mailpost"
	cmd=${cmd//"$BINDIR/mailpost"/$fake/bin/mailpost}
	cmd=${cmd//\/run\/systemd\/system/$fake/systemd}
	sh -c "$cmd" || die "the cron command failed without systemd: $cmd"
	assert_file_bytes "$fake/ran" $'flush -q --due\n' "what ran without systemd"
	mkdir "$fake/systemd"
	sh -c "$cmd" || die "the cron command failed with systemd: $cmd"
	assert_file_bytes "$fake/ran" $'flush -q --due\n' "what ran with systemd"
	rm "$fake/bin/mailpost"
	rmdir "$fake/systemd"
	sh -c "$cmd" || die "the cron command failed without the program: $cmd"
}

@test "install-mta: again over its own links, it succeeds" {
	local d=$BATS_TEST_TMPDIR/d
	cp -a "$STAGED" "$d"
	run install_mta "$d"
	[ "$status" -eq 0 ] || die "install-mta again failed ($status):" "$output"
	assert_equal "$BINDIR/mailpost" "$(readlink "$d/usr/sbin/sendmail")" sendmail
}

@test "install-mta: never replaces another program's sendmail, and installs nothing then" {
	local d=$BATS_TEST_TMPDIR/d
	mkdir -p "$d/usr/sbin" "$d/usr/lib"
	printf 'another mail server\n' >"$d/usr/sbin/sendmail"
	run --separate-stderr install_mta "$d"
	[ "$status" -ne 0 ] || die "install-mta replaced another program's sendmail"
	assert_stderr_contains "install-mta: /usr/sbin/sendmail is another program, not mailpost; move it away first (no package installed it) and run install-mta again"
	assert_file_bytes "$d/usr/sbin/sendmail" $'another mail server\n' "the other sendmail"
	[ ! -e "$d$BINDIR/mailpost" ] || die "the program was installed anyway"

	rm "$d/usr/sbin/sendmail"
	ln -s ../sbin/exim4 "$d/usr/lib/sendmail"
	run --separate-stderr install_mta "$d"
	[ "$status" -ne 0 ] || die "install-mta replaced a link to exim4"
	assert_stderr_contains "install-mta: /usr/lib/sendmail is a link to ../sbin/exim4, not mailpost"
	assert_equal ../sbin/exim4 "$(readlink "$d/usr/lib/sendmail")" "the link to exim4"
	[ ! -e "$d/usr/sbin/sendmail" ] || die "a link was made anyway"
}

@test "uninstall-mta: removes what install-mta made, leaves the spool and what is not its own" {
	local d=$BATS_TEST_TMPDIR/d
	cp -a "$STAGED" "$d"
	echo 'queued' >"$d/var/spool/mailpost/entry"
	ln -sfn ../sbin/exim4 "$d/usr/bin/mailq"
	run install_mta "$d" uninstall-mta
	[ "$status" -eq 0 ] || die "uninstall-mta failed ($status):" "$output"
	[[ "$output" == *"left /usr/bin/mailq: it is not mailpost's"* ]] ||
		die "no word of the link it left:" "$output"
	[[ "$output" == *"left /var/spool/mailpost (it may hold queued mail)"* ]] ||
		die "no word of the spool it left:" "$output"
	assert_equal ../sbin/exim4 "$(readlink "$d/usr/bin/mailq")" "the foreign mailq"
	assert_file_bytes "$d/var/spool/mailpost/entry" $'queued\n' "the queued mail"
	local p
	for p in /usr/sbin/sendmail /usr/lib/sendmail /usr/sbin/newaliases /usr/bin/newaliases \
		"$UNITDIR/mailpost-flush.timer" "$UNITDIR/mailpost-flush.service" \
		/etc/cron.d/mailpost "$MANDIR/man8/sendmail.8" "$BINDIR/mailpost"; do
		[ ! -e "$d$p" ] && [ ! -L "$d$p" ] || die "$p is still there"
	done
}

@test "install-mta: a DESTDIR others could plant links in is refused, and nothing installed" {
	local open=$BATS_TEST_TMPDIR/open d
	mkdir -m 777 "$open"
	chmod 777 "$open" # whatever the umask
	for d in "$open/stage" "$open/stage/deeper"; do
		run --separate-stderr install_mta "$d"
		[ "$status" -ne 0 ] || die "install-mta staged into $d" || return 1
		assert_stderr_contains "install-mta: DESTDIR $d is not safe: $open is writable by others (mode 777) without the sticky bit, so another user could plant a link there that root follows; stage into a directory only you (or root) can write" || return 1
		[ ! -e "$open/stage" ] || die "it made $open/stage" || return 1
	done
	if [ "$(id -u)" = 0 ]; then
		mkdir -m 755 "$BATS_TEST_TMPDIR/theirs"
		chown nobody "$BATS_TEST_TMPDIR/theirs"
		run --separate-stderr install_mta "$BATS_TEST_TMPDIR/theirs/stage"
		[ "$status" -ne 0 ] || die "install-mta staged into a directory of nobody's"
		assert_stderr_contains "install-mta: DESTDIR $BATS_TEST_TMPDIR/theirs/stage is not safe: $BATS_TEST_TMPDIR/theirs belongs to nobody, so another user could plant a link there that root follows"
	fi
	# A sticky directory (/tmp's kind) is fine: others cannot touch
	# what is not theirs in it.
	chmod 1777 "$open"
	run --separate-stderr install_mta "$open/stage"
	[ "$status" -eq 0 ] || die "install-mta into a sticky directory failed ($status):" "$stderr"
	# But they can make a name in it first: the check makes DESTDIR's
	# first missing directory there at once, before anyone else can,
	# and one that another user made first is refused.
	mta_install_here check DESTDIR="$open/claimed/deeper"
	[ "$status" -eq 0 ] || die "check failed ($status):" "$stderr"
	assert_equal "755 $(id -un)" "$(stat -c '%a %U' "$open/claimed")" "the directory the check made"
	[ ! -e "$open/claimed/deeper" ] || die "the check made more than the first directory"
	if [ "$(id -u)" = 0 ]; then
		mkdir -m 755 "$open/first"
		chown nobody "$open/first"
		run --separate-stderr install_mta "$open/first/stage"
		[ "$status" -ne 0 ] || die "install-mta staged into a directory nobody made first"
		assert_stderr_contains "$open/first belongs to nobody"
	fi
}

# mta_install_here COMMAND [VAR=VALUE...]: system/mta-install without
# DESTDIR, every path in the test's directory, the timer left alone.
mta_install_here() {
	local cmd=$1 t=$BATS_TEST_TMPDIR/sys
	shift
	run --separate-stderr env DESTDIR= MTA_BINARY="$t/bin/mailpost" \
		MTA_GROUP="$TEST_GROUP" MTA_LINKS="$t/sbin/sendmail $t/bin/mailq" \
		MTA_SPOOL="$t/spool" MTA_UNITDIR="$t/units" MTA_CRONDIR="$t/cron.d" \
		MTA_MANDIR="$t/man" MTA_GEN="$BUILD/gen/system" \
		MTA_CONF="$t/mailpost.conf" MTA_OAUTH2="$t/lib/mailpost/oauth2" \
		MTA_ENABLE_TIMER=no "$@" \
		sh "$MTA_INSTALL" "$cmd"
}

# fake_program GROUP-LINE: a program at $t/bin/mailpost whose --version
# says GROUP-LINE (nothing when empty).
fake_program() {
	local t=$BATS_TEST_TMPDIR/sys
	mkdir -p "$t/bin"
	printf '#!/bin/sh\necho "mailpost 0.1.0"\n%s\n' \
		"${1:+echo \"$1\"}" >"$t/bin/mailpost"
	chmod 755 "$t/bin/mailpost"
}

@test "mta-install: the group is created and the program made setgid to it, the spool 2770 with tmp/ and dead/" {
	[ "$(id -u)" = 0 ] || skip "creates a group: needs root"
	local t=$BATS_TEST_TMPDIR/sys
	TEST_GROUP=mpt$$
	! getent group "$TEST_GROUP" >/dev/null || die "group $TEST_GROUP exists already"
	fake_program "System sendmail group: $TEST_GROUP"
	printf 'defaults\n' >"$t/mailpost.conf"
	chmod 600 "$t/mailpost.conf"
	mta_install_here files
	[ "$status" -eq 0 ] || die "files failed ($status):" "$stderr"
	mta_install_here setup
	[ "$status" -eq 0 ] || die "setup failed ($status):" "$stderr"
	getent group "$TEST_GROUP" >/dev/null || die "no group $TEST_GROUP"
	[[ "$output" == *"created the system group $TEST_GROUP"* ]] || die "$output"
	[ "$(getent group "$TEST_GROUP" | cut -d: -f3)" -lt 1000 ] ||
		die "$TEST_GROUP is not a system group"
	assert_equal "2755 root:$TEST_GROUP" "$(mode_of "$t/bin/mailpost")" "the program"
	local sub
	for sub in "" /tmp /dead; do
		assert_equal "2770 root:$TEST_GROUP" "$(mode_of "$t/spool$sub")" "the spool$sub" || return 1
	done
	assert_equal "2770 root:$TEST_GROUP" "$(mode_of "$t/lib/mailpost/oauth2")" "the OAuth2 tokens"
	[[ "$output" == *"OAuth2 tokens of $t/mailpost.conf's accounts: $t/lib/mailpost/oauth2, mode 2770 root:$TEST_GROUP"* ]] ||
		die "no word of the OAuth2 tokens' directory:" "$output"
	assert_equal "$t/bin/mailpost" "$(readlink "$t/sbin/sendmail")" "sendmail"
	[[ "$output" == *"$t/mailpost.conf is mode 600 root:root; for every user's mail: chown root:$TEST_GROUP $t/mailpost.conf && chmod 640 $t/mailpost.conf"* ]] ||
		die "no advice on the configuration's mode:" "$output"

	# Once more: the group is there, the spool keeps its entries.
	echo entry >"$t/spool/x"
	chmod 600 "$t/spool/x"
	chown "root:$TEST_GROUP" "$t/mailpost.conf"
	chmod 640 "$t/mailpost.conf"
	mta_install_here setup
	[ "$status" -eq 0 ] || die "setup again failed ($status):" "$stderr"
	[[ "$output" != *created* ]] || die "created something again:" "$output"
	[[ "$output" != *"mailpost.conf is mode"* ]] || die "advice for a good mode:" "$output"
	assert_file_bytes "$t/spool/x" $'entry\n' "the spool's entry"
	assert_equal "2755 root:$TEST_GROUP" "$(mode_of "$t/bin/mailpost")" "the program"

	# An older install's spool (0710, root's queue with its tmp/ 0700
	# root:root and an entry) is made the machine's spool in place.
	chmod 00710 "$t/spool" # GNU chmod keeps a setgid bit unless told
	rmdir "$t/spool/dead"
	chown root:root "$t/spool/tmp"
	chmod 0700 "$t/spool/tmp"
	mkdir -m 0700 "$t/spool/0000000100000001"
	echo msg >"$t/spool/0000000100000001/message"
	mta_install_here setup
	[ "$status" -eq 0 ] || die "setup over an older spool failed ($status):" "$stderr"
	for sub in "" /tmp /dead; do
		assert_equal "2770 root:$TEST_GROUP" "$(mode_of "$t/spool$sub")" "the spool$sub" || return 1
	done
	assert_equal "700 root:root" "$(mode_of "$t/spool/0000000100000001")" "root's queued entry"
	assert_file_bytes "$t/spool/0000000100000001/message" $'msg\n' "root's queued message"

	# A symbolic link where dead/ goes is refused, not followed.
	rmdir "$t/spool/dead"
	mkdir "$BATS_TEST_TMPDIR/elsewhere"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$t/spool/dead"
	mta_install_here setup
	[ "$status" -ne 0 ] || die "setup followed a link as dead/"
	assert_stderr_contains "$t/spool/dead is a symbolic link"
	assert_equal "755 root:root" "$(mode_of "$BATS_TEST_TMPDIR/elsewhere")" "the link's target"
}

@test "mta-install: a program that does not say it drops the group is not made setgid" {
	[ "$(id -u)" = 0 ] || skip "creates a group: needs root"
	local t=$BATS_TEST_TMPDIR/sys
	TEST_GROUP=mpt$$
	fake_program "System sendmail group: other"
	mta_install_here setup
	[ "$status" -ne 0 ] || die "setup made it setgid:" "$output"
	assert_stderr_contains "does not announce the group $TEST_GROUP in --version"
	assert_equal "755 root:root" "$(mode_of "$t/bin/mailpost")" "the program"
}

# refused_group GROUP WHY: check and setup both refuse GROUP, saying WHY and
# what to do; nothing is made setgid.  (GROUP is not $TEST_GROUP when it
# is the machine's: teardown would remove that.)
refused_group() {
	local t=$BATS_TEST_TMPDIR/sys cmd
	fake_program "System sendmail group: $1"
	for cmd in check setup; do
		mta_install_here "$cmd" MTA_GROUP="$1"
		[ "$status" -ne 0 ] || die "$cmd accepted the group $1:" "$output" || return 1
		assert_stderr_contains "install-mta: the group $1 $2; setgid to it, mailpost would let them read the system configuration and its secrets: build for a group of its own (configure --with-mta-group=mailpost, which install-mta creates), or set MTA_SHARED_GROUP=yes to use $1 anyway" || return 1
		assert_equal 1 "$(printf '%s\n' "$stderr" | wc -l)" "lines on stderr" || return 1
	done
	assert_equal "755 root:root" "$(mode_of "$t/bin/mailpost")" "the program"
	[ ! -e "$t/spool" ] || die "the spool was made"
}

@test "mta-install: an existing group with members is refused, naming them" {
	[ "$(id -u)" = 0 ] || skip "creates a group: needs root"
	TEST_GROUP=mpt$$
	groupadd --system -U nobody,daemon "$TEST_GROUP"
	refused_group "$TEST_GROUP" "has members (nobody,daemon)"
}

@test "mta-install: a group that is an account's own group is refused, naming the account" {
	[ "$(id -u)" = 0 ] || skip "creates a group and a user: needs root"
	TEST_GROUP=mpt$$
	TEST_USER=mpt$$u
	groupadd --system "$TEST_GROUP"
	useradd -M -N -g "$TEST_GROUP" -s /usr/sbin/nologin "$TEST_USER"
	refused_group "$TEST_GROUP" "has members ($TEST_USER)"
}

@test "mta-install: a system group with another purpose is refused (users, a gid below 100)" {
	[ "$(id -u)" = 0 ] || skip "creates a group: needs root"
	local gid=99
	if [ -z "$(getent group users | cut -d: -f4)" ] &&
		! getent passwd | cut -d: -f4 | grep -qx 100; then
		refused_group users "is a system group with a purpose of its own (gid 100)" || return 1
	fi
	# Base-passwd's range: a free gid there, no member.
	while getent group "$gid" >/dev/null; do
		gid=$((gid - 1))
	done
	TEST_GROUP=mpt$$
	groupadd -g "$gid" "$TEST_GROUP"
	refused_group "$TEST_GROUP" "is a system group with a purpose of its own (gid $gid)"
}

@test "mta-install group (the package's postinst asks it): why a group is not mailpost's alone, else nothing" {
	[ "$(id -u)" = 0 ] || skip "creates a group: needs root"
	TEST_GROUP=mpt$$
	groupadd --system "$TEST_GROUP"
	mta_install_here group
	[ "$status" -eq 0 ] || die "a dedicated group: exit $status" "$output" "$stderr"
	assert_equal "" "$output$stderr" "what it says of a dedicated group"
	gpasswd -a nobody "$TEST_GROUP" >/dev/null
	mta_install_here group
	[ "$status" -eq 1 ] || die "a group with a member: exit $status" "$output" "$stderr"
	assert_equal "has members (nobody)" "$output" "what it says of a group with a member"
	mta_install_here group MTA_SHARED_GROUP=yes
	[ "$status" -eq 0 ] || die "MTA_SHARED_GROUP=yes: exit $status" "$output" "$stderr"
}

@test "mta-install: MTA_SHARED_GROUP=yes takes a group with members anyway, and says who can read the configuration" {
	[ "$(id -u)" = 0 ] || skip "creates a group: needs root"
	local t=$BATS_TEST_TMPDIR/sys
	TEST_GROUP=mpt$$
	groupadd --system -U nobody "$TEST_GROUP"
	fake_program "System sendmail group: $TEST_GROUP"
	mta_install_here setup MTA_SHARED_GROUP=yes
	[ "$status" -eq 0 ] || die "setup failed ($status):" "$stderr"
	assert_stderr_contains "install-mta: the group $TEST_GROUP has members (nobody); used anyway (MTA_SHARED_GROUP=yes): they can read the system configuration and its secrets"
	assert_equal "2755 root:$TEST_GROUP" "$(mode_of "$t/bin/mailpost")" "the program"
}

@test "mta-install: a group that cannot be created stops it, with the command to run" {
	[ "$(id -u)" = 0 ] || skip "runs groupadd: needs root"
	local t=$BATS_TEST_TMPDIR/sys
	TEST_GROUP='mpt:bad'
	fake_program "System sendmail group: $TEST_GROUP"
	mta_install_here setup
	[ "$status" -ne 0 ] || die "setup succeeded without the group"
	assert_stderr_contains "install-mta: cannot create the group $TEST_GROUP (groupadd failed); create it (groupadd --system $TEST_GROUP) and run install-mta again"
	assert_equal "755 root:root" "$(mode_of "$t/bin/mailpost")" "the program"
	TEST_GROUP=
}

@test "mta-install: without DESTDIR and not root, it says it needs root and changes nothing" {
	[ "$(id -u)" = 0 ] || skip "runs as nobody with setpriv: needs root"
	local t=$BATS_TEST_TMPDIR/sys
	fake_program ""
	run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env DESTDIR= MTA_BINARY="$t/bin/mailpost" MTA_LINKS="$t/sbin/sendmail" \
		sh "$MTA_INSTALL" files
	[ "$status" -ne 0 ] || die "files succeeded as nobody"
	assert_stderr_contains "install-mta: installing the system sendmail ($t/sbin/sendmail) needs root; run it as root, or stage the files with DESTDIR=DIR"
	[ ! -e "$t/sbin" ] || die "it made $t/sbin"
}

@test "--version names the group the program drops, the line mta-install looks for" {
	local want=
	[ -z "$GROUP" ] || want="System sendmail group: $GROUP"
	run_mailpost 0 --version
	assert_equal "$want" "$(grep '^System sendmail group' <<<"$output" || true)" \
		"the group line of $MAILPOST --version"
	[ -x "${MAILPOST_PRIVTEST:-}" ] || skip "no tests/mailpost-privtest (built by make check)"
	run --separate-stderr "$MAILPOST_PRIVTEST" --version
	[ "$status" -eq 0 ] || die "mailpost-privtest --version: exit $status" "$stderr"
	grep -qxF "System sendmail group: mailposttest" <<<"$output" ||
		die "mailpost-privtest (built for the group mailposttest) does not say so:" "$output"
	grep -qF 'grep -qxF "System sendmail group: $MTA_GROUP"' "$MTA_INSTALL" ||
		die "mta-install no longer looks for that line"
}
