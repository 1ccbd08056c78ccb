/*
 * dynload_test.c - a feature's library loaded on demand (dynload.c): a
 * library that is not there and one that lacks a function give the one
 * message and exit status a user sees (a missing libmagic or json-c at
 * run time), and leave the table empty; one that is there fills it.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "dynload.h"
#include "unit.h"

/* Two functions of the C library, of their own types. */
struct libc_api {
	__typeof__(strlen) *strlen;
	__typeof__(getpid) *getpid;
};

static const struct dynload_sym libc_syms[] = {
    DYNLOAD_SYM(struct libc_api, strlen),
    DYNLOAD_SYM(struct libc_api, getpid),
};

/* A library for a test, whose table is api (emptied). */
static struct dynload
library(const char *soname, const char *package, const struct dynload_sym *syms,
        struct libc_api *api)
{
	struct dynload d = {
	    .soname = soname,
	    .package = package,
	    .feature = "for a test",
	    .syms = syms,
	    .nsyms = 2,
	    .table = api,
	};

	memset(api, 0, sizeof *api);
	return d;
}

static void
test_missing_library(void)
{
	struct libc_api api;
	struct dynload d = library("libmailpost-absent.so.7",
	                           "libmailpost-absent7", libc_syms, &api);
	struct error err;

	error_clear(&err);
	CHECK_INT(dynload_open(&d, &err), -1);
	CHECK_INT(err.kind, ERROR_UNAVAILABLE);
	CHECK_INT(error_exit_code(err.kind), 69);
	/* dlerror's text, without the name it starts with, in brackets. */
	CHECK_STR(err.msg, "cannot load libmailpost-absent.so.7 (cannot open "
	                   "shared object file: No such file or directory), "
	                   "needed for a test; install it (Debian: "
	                   "libmailpost-absent7)");
	CHECK(!dynload_loaded(&d));
	CHECK(api.strlen == NULL && api.getpid == NULL);
	/* A second try fails the same way (nothing half-remembered). */
	CHECK_INT(dynload_open(&d, &err), -1);
	CHECK(!dynload_loaded(&d));
}

static void
test_missing_function(void)
{
	static const struct dynload_sym syms[] = {
	    DYNLOAD_SYM(struct libc_api, strlen),
	    {"mailpost_no_such_function", offsetof(struct libc_api, getpid)},
	};
	struct libc_api api;
	struct dynload d = library("libc.so.6", "libc6", syms, &api);
	struct error err;

	error_clear(&err);
	CHECK_INT(dynload_open(&d, &err), -1);
	CHECK_INT(err.kind, ERROR_UNAVAILABLE);
	CHECK_STR(err.msg, "cannot load libc.so.6 (it has no "
	                   "mailpost_no_such_function), needed for a test; "
	                   "install it (Debian: libc6)");
	/* strlen was found first, and is not kept: all or nothing. */
	CHECK(api.strlen == NULL && api.getpid == NULL);
	CHECK(!dynload_loaded(&d));
}

static void
test_loaded(void)
{
	struct libc_api api;
	struct dynload d = library("libc.so.6", "libc6", libc_syms, &api);
	struct error err;

	error_clear(&err);
	CHECK_INT(dynload_open(&d, &err), 0);
	CHECK_INT(err.kind, ERROR_NONE);
	CHECK(dynload_loaded(&d));
	CHECK(api.strlen != NULL && api.getpid != NULL);
	if (api.strlen && api.getpid) {
		CHECK_INT(api.strlen("mailpost"), 8);
		CHECK_INT(api.getpid(), getpid());
	}
	/* Once loaded, a later call is a no-op. */
	CHECK_INT(dynload_open(&d, &err), 0);
}

int
main(void)
{
	test_missing_library();
	test_missing_function();
	test_loaded();
	return unit_done();
}
