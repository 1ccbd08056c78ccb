/*
 * cliopt.h - the options of the command line: one table of them
 * (letter and/or long name, how the argument is taken, the small
 * function that applies it to struct request), and those functions,
 * which check their own argument (a port, a DSN keyword, a name without
 * control characters) and say what is wrong in one ERROR_USAGE line.
 *
 * cli.c's word loop finds each word's option here and hands it the
 * argument; it alone knows how words are cut (clusters, glued
 * arguments, "--", permutation).  tests/10-cli.bats reads the long names
 * from the table in cliopt.c and holds the man page, the help text and
 * the completions to them.
 */
#ifndef MAILPOST_CLIOPT_H
#define MAILPOST_CLIOPT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "request.h"

enum cliopt_arg {
	CLIOPT_NONE,     /* a flag; may be clustered: -ti */
	CLIOPT_REQUIRED, /* the rest of the word, else the next word */
	CLIOPT_GLUED,    /* optional, and only the rest of the word */
	CLIOPT_QUEUE,    /* -q: as CLIOPT_GLUED, but a selection letter alone
	                  * (-qI, -qR, -qS) takes the next word */
	CLIOPT_OPTIONAL, /* long only, optional, only after '=': --tls=off */
	CLIOPT_MODE_OR_ADDR, /* -b: as CLIOPT_REQUIRED, but an argument that is
	                      * a word of its own goes to cliopt_b_word ("-b
	                      * bob" is an address, "-bbob" an unknown mode) */
};

struct cliopt {
	char letter;           /* 0: long form only */
	const char *long_name; /* NULL: short form only */
	enum cliopt_arg arg;
	int (*apply)(struct request *req, const char *arg, struct error *err);
};

/* The options, searched in order: called as msmtp, msmtp's meanings of
 * the letters and names that collide (msmtp true) come before the
 * others (msmtp false).  *n is set to the table's length. */
const struct cliopt *cliopt_table(bool msmtp, size_t *n);

/* -b's argument given as a word of its own ("-b p", "-b bob"): a mode
 * when it is one of sendmail's mode letters, else a Bcc address. */
int cliopt_b_word(struct request *req, const char *arg, struct error *err);

/* -qI, -qR, -qS with the text to match taken from the next word
 * (select is 'I', 'R' or 'S'). */
int cliopt_queue_select(struct request *req, char select, const char *match,
                        struct error *err);

#endif
