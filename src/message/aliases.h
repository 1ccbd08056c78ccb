/*
 * aliases.h - local recipient names mapped to real addresses, from a file
 * in /etc/aliases syntax (msmtp's `aliases` key):
 *
 *     # comment
 *     root: admin@example.org
 *     www-data: root, webmaster@example.org
 *     postmaster: root
 *     default: catchall@example.org
 *
 * A name is looked up case-insensitively (after an optional '@' and
 * nothing, i.e. only names without a domain are local).  Values are
 * comma-separated; a line that starts with white space continues the
 * previous one.  A target that is itself a local name is expanded again (a
 * loop, or more than ALIASES_DEPTH_MAX steps, is an error).  A local name
 * with no entry takes the `default` entry's value when there is one (only
 * a recipient as given: a target without an entry stays as it is), and
 * stays as it is otherwise.  Targets that only a local delivery agent can
 * honour ("|command", "/file", ":include:") are refused when used.
 */
#ifndef MAILPOST_ALIASES_H
#define MAILPOST_ALIASES_H

#include <stddef.h>

#include "error.h"
#include "util.h"

#define ALIASES_DEPTH_MAX 10
#define ALIASES_FILE_MAX (4 * 1024 * 1024)

struct aliases;

/* Read and parse.  ERROR_CONFIG ("FILE:LINE: why") for a syntax error or
 * an unreadable file. */
int aliases_load(const char *path, struct aliases **out, struct error *err);

/* Parse text (for tests; name is used in messages). */
int aliases_parse(const char *text, size_t len, const char *name,
                  struct aliases **out, struct error *err);

void aliases_free(struct aliases *a);

/* Expand one recipient and append the result to out (duplicates already
 * in out are not added again).  An address with a domain is appended as
 * it is.  ERROR_CONFIG for a loop, too deep a chain, or an unusable
 * target, naming the alias. */
int aliases_expand(const struct aliases *a, const char *rcpt,
                   struct strlist *out, struct error *err);

#endif
