/*
 * jsonlib.c - json-c's functions loaded into one table (jsonlib.h).
 */
#include "config.h"

#include "jsonlib.h"

#ifdef HAVE_JSON_C
#include "dynload.h"

struct jsonlib jsonlib;

static const struct dynload_sym json_syms[] = {
    DYNLOAD_SYM(struct jsonlib, json_object_array_add),
    DYNLOAD_SYM(struct jsonlib, json_object_new_array),
    DYNLOAD_SYM(struct jsonlib, json_object_new_boolean),
    DYNLOAD_SYM(struct jsonlib, json_object_new_double_s),
    DYNLOAD_SYM(struct jsonlib, json_object_new_int),
    DYNLOAD_SYM(struct jsonlib, json_object_new_int64),
    DYNLOAD_SYM(struct jsonlib, json_object_new_object),
    DYNLOAD_SYM(struct jsonlib, json_object_new_string),
    DYNLOAD_SYM(struct jsonlib, json_object_new_string_len),
    DYNLOAD_SYM(struct jsonlib, json_object_object_add),
    DYNLOAD_SYM(struct jsonlib, json_object_put),
    DYNLOAD_SYM(struct jsonlib, json_object_to_json_string_ext),
    DYNLOAD_SYM(struct jsonlib, json_tokener_new_ex),
    DYNLOAD_SYM(struct jsonlib, json_tokener_free),
    DYNLOAD_SYM(struct jsonlib, json_tokener_parse_ex),
    DYNLOAD_SYM(struct jsonlib, json_tokener_set_flags),
    DYNLOAD_SYM(struct jsonlib, json_tokener_get_error),
    DYNLOAD_SYM(struct jsonlib, json_tokener_get_parse_end),
    DYNLOAD_SYM(struct jsonlib, json_object_get_type),
    DYNLOAD_SYM(struct jsonlib, json_object_object_get_ex),
    DYNLOAD_SYM(struct jsonlib, json_object_get_string),
    DYNLOAD_SYM(struct jsonlib, json_object_get_string_len),
    DYNLOAD_SYM(struct jsonlib, json_object_get_int64),
    DYNLOAD_SYM(struct jsonlib, json_object_get_double),
};

/* configure finds JSON_C_SONAME (the library the header belongs to). */
static struct dynload json_lib = {
    .soname = JSON_C_SONAME,
    .package = JSON_C_PACKAGE,
    .feature = "for --json and OAuth2",
    .syms = json_syms,
    .nsyms = sizeof json_syms / sizeof *json_syms,
    .table = &jsonlib,
};

int
jsonlib_open(struct error *err)
{
	return dynload_open(&json_lib, err);
}

#else /* built without json-c */

int
jsonlib_open(struct error *err)
{
	return error_set(err, ERROR_UNAVAILABLE,
	                 "this mailpost was built without json-c; install it "
	                 "(Debian: apt-get install libjson-c-dev) and run "
	                 "configure again");
}

#endif
