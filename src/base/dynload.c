/*
 * dynload.c - dlopen a feature's library by its soname and fill a table
 * of its functions (see dynload.h).
 */
#include "config.h"

#include "dynload.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* POSIX (dlsym) requires that a function's address survives the trip
 * through void *; the table is filled by copying that pointer's bytes. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
               "function pointers are not the size of void *");

/* dlerror's text without the soname it often starts with, which the
 * message names already. */
static const char *
reason(const char *soname)
{
	const char *why = dlerror();
	size_t n = strlen(soname);

	if (!why)
		return "unknown reason";
	if (strncmp(why, soname, n) == 0 && why[n] == ':' && why[n + 1] == ' ')
		why += n + 2;
	return why;
}

static int
refuse(const struct dynload *d, const char *why, struct error *err)
{
	return error_set(err, ERROR_UNAVAILABLE,
	                 "cannot load %s (%s), needed %s; install it "
	                 "(Debian: %s)",
	                 d->soname, why, d->feature, d->package);
}

/* Every symbol into the table; -1 with the first one missing in *missing. */
static int
fill(struct dynload *d, void *handle, const char **missing)
{
	for (size_t i = 0; i < d->nsyms; i++) {
		void *sym = dlsym(handle, d->syms[i].name);

		if (!sym) {
			*missing = d->syms[i].name;
			return -1;
		}
		memcpy((char *)d->table + d->syms[i].offset, &sym, sizeof sym);
	}
	return 0;
}

int
dynload_open(struct dynload *d, struct error *err)
{
	const char *missing = NULL;
	char why[256];
	void *handle;

	if (d->handle)
		return 0;
	handle = dlopen(d->soname, RTLD_NOW | RTLD_LOCAL);
	if (!handle)
		return refuse(d, reason(d->soname), err);
	if (fill(d, handle, &missing) < 0) {
		/* An older or different build of the library: use none
		 * of it. */
		snprintf(why, sizeof why, "it has no %s", missing);
		for (size_t i = 0; i < d->nsyms; i++)
			memset((char *)d->table + d->syms[i].offset, 0,
			       sizeof(void *));
		dlclose(handle);
		return refuse(d, why, err);
	}
	d->handle = handle;
	return 0;
}

bool
dynload_loaded(const struct dynload *d)
{
	return d->handle != NULL;
}
