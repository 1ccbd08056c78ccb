# MP_SONAME(VAR, LIBRARY, FUNCTION, LIBS, [PACKAGE])
# ----------------------------------------------------
# The run-time name of libLIBRARY that a program linked with LIBS (from
# pkg-config) would load: a program calling FUNCTION is linked, and the
# NEEDED entry naming libLIBRARY.so.N is read back from it (objdump -p),
# so it is the soname of the very library the header came with.  mailpost
# is not linked with it: the module that uses it dlopen()s this name
# (src/base/dynload.h) when its feature runs.  Defines VAR_SONAME
# ("libmagic.so.1") and VAR_PACKAGE, Debian's name of the package that
# holds it (libfoo.so.N is libfooN, libfoo2.so.N is libfoo2-N), which the
# message for a missing library names; PACKAGE, when given, instead (the
# package of libcurl-gnutls.so.4 is libcurl3-gnutls).
AC_DEFUN([MP_SONAME], [
AC_REQUIRE([AC_PROG_CC])
AC_CHECK_TOOL([OBJDUMP], [objdump], [no])
AS_IF([test "x$OBJDUMP" = xno],
	[AC_MSG_ERROR([objdump not found, to read the soname of lib$2 (Debian: apt-get install binutils)])])
AS_VAR_PUSHDEF([mp_var], [mp_cv_soname_$2])
AC_CACHE_CHECK([the run-time name of lib$2], [mp_var], [
	mp_save_LIBS=$LIBS
	LIBS="$4 $LIBS"
	AC_LINK_IFELSE([AC_LANG_CALL([], [$3])],
		[AS_VAR_SET([mp_var], [`$OBJDUMP -p conftest$ac_exeext | sed -n 's/^ *NEEDED *\(lib$2\.so\.[[0-9.]]*\) *$/\1/p' | sed 1q`])],
		[AS_VAR_SET([mp_var], [])])
	LIBS=$mp_save_LIBS])
mp_soname=AS_VAR_GET([mp_var])
AS_VAR_POPDEF([mp_var])
AS_IF([test -z "$mp_soname"],
	[AC_MSG_ERROR([cannot find the soname of lib$2 by linking $3 with '$4'])])
mp_base=`echo "$mp_soname" | sed 's/\.so\..*//'`
mp_major=`echo "$mp_soname" | sed 's/^.*\.so\.\([[0-9]]*\).*$/\1/'`
AS_CASE([$mp_base],
	[*[[0-9]]], [mp_package=$mp_base-$mp_major],
	[mp_package=$mp_base$mp_major])
m4_ifval([$5], [mp_package=$5])
AC_DEFINE_UNQUOTED([$1_SONAME], ["$mp_soname"],
	[the run-time name of lib$2, which the program loads when needed])
AC_DEFINE_UNQUOTED([$1_PACKAGE], ["$mp_package"],
	[Debian's package of lib$2, named when it cannot be loaded])
])
