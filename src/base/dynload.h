/*
 * dynload.h - a feature's library loaded when the feature runs, not at
 * start-up (doc/ARCHITECTURE.md, "A feature's library is loaded when the
 * feature runs").
 *
 * The module that owns a library (filetype.c for libmagic, jsonlib.c for
 * json-c, sasl.c for libgsasl, https.c for libcurl) still includes its
 * header, for the types; it calls through a struct of function pointers
 * of exactly those types (`__typeof__(magic_open) *magic_open;`), which
 * dynload_open fills from a table naming each function and where its
 * pointer goes.  The library
 * is named by its run-time soname ("libmagic.so.1"), which configure
 * finds; the program is not linked with it, so a run that never needs the
 * feature never maps it nor binds its symbols.
 *
 * Safety of a setgid program: a soname without a slash is searched for
 * by ld.so in the system's places only (ld.so.cache and the default
 * directories; mailpost has no RPATH or RUNPATH): LD_LIBRARY_PATH is
 * ignored in a process started setgid (AT_SECURE), which stays secure
 * for its whole life, also after privilege_drop.
 */
#ifndef MAILPOST_DYNLOAD_H
#define MAILPOST_DYNLOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* One function of a library: its name, and the offset of its pointer in
 * the caller's struct. */
struct dynload_sym {
	const char *name;
	size_t offset;
};

/* A row of a symbol table for the member `name` of `type`, which holds
 * the function of that name. */
/* clang-format off */
#define DYNLOAD_SYM(type, name) {#name, offsetof(type, name)}
/* clang-format on */

/* A library and what it is for; the caller's struct of pointers is
 * `table`.  Zero-initialise the rest. */
struct dynload {
	const char *soname;  /* as ld.so finds it: "libmagic.so.1" */
	const char *package; /* Debian's package of it, for the advice */
	const char *feature; /* "for --json": what needs it, for the message */
	const struct dynload_sym *syms;
	size_t nsyms;
	void *table;
	/* Set by dynload_open. */
	void *handle; /* non-NULL once every symbol was found */
};

/* Load d's library (once: later calls return 0 at once) with every
 * symbol bound now (RTLD_NOW: no lazy binding later, see configure.ac's
 * full RELRO) and kept local (RTLD_LOCAL: its names serve only the
 * table), and fill d->table.  The library stays loaded until the process
 * exits.  -1 with err (ERROR_UNAVAILABLE, sysexits' "a service is
 * unavailable ... a support program or file does not exist"): "cannot
 * load SONAME (why), needed FEATURE; install it (Debian: PACKAGE)"; the table
 * is then all NULL, and a later call tries again. */
int dynload_open(struct dynload *d, struct error *err);

/* True when d's library is loaded (dynload_open succeeded). */
bool dynload_loaded(const struct dynload *d);

#endif
