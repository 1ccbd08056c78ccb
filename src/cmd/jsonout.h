/*
 * jsonout.h - a message's result (jsonresult.h) as one line of JSON, the
 * schema of mailpost(1)'s JSON OUTPUT, version JSONRESULT_VERSION.
 *
 * This is the only module that includes json-c, and nothing but --json
 * calls it.  Every string is written as valid JSON whatever its bytes:
 * json-c escapes the control characters, and bytes that are not
 * well-formed UTF-8 (a server's reply may hold any) become U+FFFD first,
 * so that a parser never rejects the line.
 *
 * Start-up: json-c is linked like the other libraries, so every run maps
 * it (one shared object, about 80 more relocations bound at start with
 * -z now) although only --json calls it.  Nothing outside this file
 * names a json-c symbol, so it can be loaded only when --json runs:
 * either this file built as a module of its own that jsonout_write
 * dlopen()s (then installed, and named in the package's dependencies by
 * hand, since dpkg-shlibdeps does not see a dlopen), or dlopen of
 * libjson-c itself with dlsym for the dozen functions used here.
 */
#ifndef MAILPOST_JSONOUT_H
#define MAILPOST_JSONOUT_H

#include <stdio.h>

#include "error.h"
#include "jsonresult.h"

/* 0 when this program was built with json-c; else ERROR_UNAVAILABLE
 * (EX_UNAVAILABLE, as sysexits(3) says of a support program that does not
 * exist) saying what to install. */
int jsonout_check(struct error *err);

/* r as one JSON object on one line, then a newline, flushed: -1 with err
 * (ERROR_IOERR) when it could not be written. */
int jsonout_write(FILE *out, const struct jsonresult *r, struct error *err);

/* r's JSON text (malloc'd, no newline; NULL without json-c), for the
 * tests. */
char *jsonout_text(const struct jsonresult *r);

#endif
