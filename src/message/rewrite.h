/*
 * rewrite.h - header hygiene for mail written by system programs (cron,
 * daemons, scripts): a smarthost that checks the header refuses
 * "From: root (Cron Daemon)" or "To: root", so these are made into real
 * addresses before the message leaves.
 *
 *  - rewrite_from: a From whose address is local (no domain, or a domain
 *    that names this machine: its host name, "localhost", ...; see
 *    identity_is_local_domain) becomes the given address, the display
 *    name kept: "root (Cron Daemon)" -> "Cron Daemon <cron@example.org>",
 *    and "Cron Daemon <root@myhost>" -> "Cron Daemon <cron@example.org>".
 *  - qualify: in From, To, Cc, Reply-To (and their Resent- forms), every
 *    address without a domain is replaced by its aliases (when an aliases
 *    table is given) and then given "@maildomain".  With a maildomain,
 *    an address at this machine's name in From, Sender, Reply-To (and
 *    their Resent- forms) is a local name too: "root@myhost" is qualified
 *    as "root" is.  Display names, comments and groups are kept; only the
 *    addr-specs change.
 *
 * Fields that are not touched keep their bytes exactly; a rewritten field
 * is written as "Name: value" folded at 78 columns where possible.
 */
#ifndef MAILPOST_REWRITE_H
#define MAILPOST_REWRITE_H

#include <stdbool.h>

#include "aliases.h"
#include "error.h"
#include "header.h"

struct header_rewrite {
	bool rewrite_from;
	const char *from_address; /* for rewrite_from: the address to use */
	bool qualify;
	const char *maildomain;         /* for qualify; NULL or "": the
	                                 * local host name */
	const struct aliases *aliases;  /* for qualify; NULL: none */
	const char *local_host;         /* this machine's name (for tests);
	                                 * NULL: gethostname() */
};

/* Apply r to h.  ERROR_DATA when a field to rewrite cannot be parsed;
 * ERROR_CONFIG from aliases_expand. */
int headers_rewrite(struct header_block *h, const struct header_rewrite *r,
                    struct error *err);

/* True when addr is local in the sense above: no domain, or one that
 * names this machine (identity_is_local_domain; local_host as there). */
bool address_is_local(const char *addr, const char *local_host);

#endif
