/*
 * identity.h - who is sending from where: the login name, this machine's
 * names, and msmtp's substitutions in the `from`, `domain` and `maildomain`
 * keys, so that mail from cron carries a sender a smarthost accepts:
 *
 *     %U  the login name (of the effective user)
 *     %H  the host name (gethostname)
 *     %C  the canonical host name (the host name resolved with
 *         AI_CANONNAME; the host name when that fails)
 *     %M  the mail name: the first line of /etc/mailname, else the host
 *         name
 *     %%  a literal '%'
 */
#ifndef MAILPOST_IDENTITY_H
#define MAILPOST_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* The login name: the password database's name for the effective user,
 * else $USER, else "nobody".  Static storage. */
const char *identity_login(void);

/* This machine's host name ("localhost" when it has none). */
void identity_host(char *out, size_t n);

/* Whether domain names this machine, so that an address there is as
 * local as a bare name ("root@myhost" is "root"): "localhost",
 * "localhost.localdomain" (the loopback names of Debian's /etc/hosts),
 * the host name (gethostname), its first label, and its canonical name
 * (%C below).  ASCII case is ignored, and one trailing dot (an absolute
 * name, RFC 1034 3.1).  The canonical name is asked for only when the
 * domain's first label is the host name's, so another machine's name is
 * never looked up, and once per process.  host: the host name to use
 * instead, with no canonical name (for tests); NULL: this machine's. */
bool identity_is_local_domain(const char *domain, const char *host);

/* The substitutions above applied to `template` (NULL gives NULL).  A new
 * string.  An unknown %X is ERROR_CONFIG naming it.  `mailname_file` is
 * the mail name file (NULL: /etc/mailname), for tests. */
char *identity_expand(const char *template, const char *mailname_file,
                      struct error *err);

#endif
