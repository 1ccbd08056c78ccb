/*
 * clicheck.h - the checks that need the whole command line, run by
 * cli_parse once every word is read: the options each mode takes and
 * refuses (a queue mode takes no recipients, --json goes with a send or
 * -q, ...), the combinations of the modes for testing a server
 * (--quit-after, --test, --smtp-smuggling-test, the one-off password
 * sources), and the control characters no address may carry.  Each
 * failure is one ERROR_USAGE line that names the options.
 */
#ifndef MAILPOST_CLICHECK_H
#define MAILPOST_CLICHECK_H

#include "error.h"
#include "request.h"

/* 0 when req, as parsed, is a command line mailpost runs; else -1 with
 * the first problem found in err.  Reads req only. */
int clicheck_request(const struct request *req, struct error *err);

#endif
