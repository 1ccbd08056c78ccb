/*
 * jsonlib.h - json-c, loaded once (dynload.h) for every module that
 * reads or writes JSON: --json's result (jsonout.c) and the answers of an
 * OAuth2 token endpoint (oauth2.c).
 *
 * This is the only module that loads json-c.  Its users include this
 * header, which includes json-c's own for the types, and call json-c
 * through the struct `jsonlib`, whose pointers have exactly the types the
 * header gives the functions (`__typeof__(json_object_put) *`); they are
 * NULL until jsonlib_open succeeded.  json-c is not linked: a run that
 * neither writes --json nor talks to a token endpoint never maps it.
 *
 * Built without json-c (configure --without-json, or no libjson-c-dev),
 * HAVE_JSON_C is undefined, the struct does not exist and jsonlib_open
 * says what to install.
 */
#ifndef MAILPOST_JSONLIB_H
#define MAILPOST_JSONLIB_H

#include "error.h"

#ifdef HAVE_JSON_C
#include <json.h>

/* json-c's functions that mailpost calls, of the types its header gives
 * them.  A new one is added here and in jsonlib.c's table. */
struct jsonlib {
	/* Writing (jsonout.c). */
	__typeof__(json_object_array_add) *json_object_array_add;
	__typeof__(json_object_new_array) *json_object_new_array;
	__typeof__(json_object_new_boolean) *json_object_new_boolean;
	__typeof__(json_object_new_double_s) *json_object_new_double_s;
	__typeof__(json_object_new_int) *json_object_new_int;
	__typeof__(json_object_new_int64) *json_object_new_int64;
	__typeof__(json_object_new_object) *json_object_new_object;
	__typeof__(json_object_new_string) *json_object_new_string;
	__typeof__(json_object_new_string_len) *json_object_new_string_len;
	__typeof__(json_object_object_add) *json_object_object_add;
	__typeof__(json_object_put) *json_object_put;
	__typeof__(json_object_to_json_string_ext)
	    *json_object_to_json_string_ext;
	/* Reading (oauth2.c). */
	__typeof__(json_tokener_new_ex) *json_tokener_new_ex;
	__typeof__(json_tokener_free) *json_tokener_free;
	__typeof__(json_tokener_parse_ex) *json_tokener_parse_ex;
	__typeof__(json_tokener_set_flags) *json_tokener_set_flags;
	__typeof__(json_tokener_get_error) *json_tokener_get_error;
	__typeof__(json_tokener_get_parse_end) *json_tokener_get_parse_end;
	__typeof__(json_object_get_type) *json_object_get_type;
	__typeof__(json_object_object_get_ex) *json_object_object_get_ex;
	__typeof__(json_object_get_string) *json_object_get_string;
	__typeof__(json_object_get_string_len) *json_object_get_string_len;
	__typeof__(json_object_get_int64) *json_object_get_int64;
	__typeof__(json_object_get_double) *json_object_get_double;
};

/* Filled by jsonlib_open; all NULL before. */
extern struct jsonlib jsonlib;
#endif

/* Load json-c (once; later calls return 0 at once): 0, or -1 with
 * ERROR_UNAVAILABLE, sysexits' "a support program or file does not
 * exist": the library's soname and Debian package when it cannot be
 * loaded ("cannot load libjson-c.so.5 (...), needed for --json and
 * OAuth2; install it (Debian: libjson-c5)"), or, in a build without
 * json-c, the package to build with. */
int jsonlib_open(struct error *err);

#endif
