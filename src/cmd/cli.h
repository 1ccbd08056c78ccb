/*
 * cli.h - the command line: argv in, one struct request out.
 *
 * All of sendmail's quirks live here: clustered and attached option
 * arguments (-FCronDaemon, -oi, -odi, -B8BITMIME), options that sendmail
 * accepts and we ignore, the -b modes, and the program name (called as
 * mailq it lists the queue, as newaliases it does nothing).  Option
 * combinations are checked after parsing.  No output, no exit: errors are
 * ERROR_USAGE.
 *
 * sendmail's -q: -q and -qf flush the queue (every entry; with --due
 * only those due); -qI, -qR, -qS select entries (glued or next word:
 * -qRexample.org, -qR example.org); an interval (-q15m, -qp) is
 * refused, since mailpost is no daemon.
 *
 * mailx's composition options share letters with sendmail's: -s is the
 * subject (sendmail's obsolete -s is gone), -c a Cc address, and -b is
 * either: its argument is a mode when it is exactly one of sendmail's mode
 * letters (a C d D h H i m p P s t v x), glued or not (-bp, -b p); else a
 * Bcc address when it is a word of its own (-b bob) or holds an '@'
 * (-bbob@example.org); anything else glued is an unknown mode (-bmm).
 * --bcc is always an address.
 *
 * Called as msmtp (a link, as Debian's msmtp-mta provides one), the
 * letters that msmtp uses otherwise take msmtp's meanings: -a ACCOUNT,
 * -d (debug, as -v), -P (--check-config), -S (--serverinfo),
 * -X FILE (--logfile), --from ADDR (the envelope sender, as -f), and a
 * line holding only "." is text, never the end of the message.  msmtp's
 * long options that do not collide with mailpost's are accepted under
 * either name.  Options msmtp has and mailpost does not are refused with
 * a message that says why (--rmqs, --configure, ...).
 */
#ifndef MAILPOST_CLI_H
#define MAILPOST_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "request.h"

/* Parse.  req->rcpts is allocated (free with cli_clear); strings point into
 * argv, except sender, which may point to req->sender_copy.  --help and
 * --version stop parsing and skip the checks.  On failure the allocations
 * are already freed (only req->program is left set); cli_clear on it again
 * is harmless. */
int cli_parse(int argc, char **argv, struct request *req, struct error *err);
void cli_clear(struct request *req);

#endif
