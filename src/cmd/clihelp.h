/*
 * clihelp.h - what --help and --version print.  The help text lists the
 * options of cliopt.c's table by job; tests/10-cli.bats holds it, the
 * man page and the completions to the same names.
 */
#ifndef MAILPOST_CLIHELP_H
#define MAILPOST_CLIHELP_H

/* The --help text and the version banner, for main() to print with fputs
 * (each ends with a newline). */
const char *clihelp_usage(void);
const char *clihelp_version(void);

#endif
