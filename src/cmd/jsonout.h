/*
 * jsonout.h - a message's result (jsonresult.h) as one line of JSON, the
 * schema of mailpost(1)'s JSON OUTPUT, version JSONRESULT_VERSION.
 *
 * It writes through json-c (jsonlib.h), and nothing but --json calls
 * it.  Every string is written as valid JSON whatever its bytes:
 * json-c escapes the control characters, and bytes that are not
 * well-formed UTF-8 (a server's reply may hold any) become U+FFFD first,
 * so that a parser never rejects the line.
 *
 * Start-up: json-c is not linked; it is loaded (jsonlib_open) when
 * --json is parsed (jsonout_check), so a run without --json never maps
 * it.
 */
#ifndef MAILPOST_JSONOUT_H
#define MAILPOST_JSONOUT_H

#include <stdio.h>

#include "error.h"
#include "jsonresult.h"

/* Load json-c: 0 when this program was built with it and the library
 * loads; else ERROR_UNAVAILABLE (EX_UNAVAILABLE, as sysexits(3) says of a
 * support program that does not exist) saying what to install. */
int jsonout_check(struct error *err);

/* r as one JSON object on one line, then a newline, flushed: -1 with err
 * (ERROR_IOERR) when it could not be written. */
int jsonout_write(FILE *out, const struct jsonresult *r, struct error *err);

/* r's JSON text (malloc'd, no newline; NULL without json-c, or when it
 * cannot be loaded), for the tests. */
char *jsonout_text(const struct jsonresult *r);

#endif
