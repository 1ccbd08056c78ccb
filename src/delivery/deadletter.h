/*
 * deadletter.h - the last resort for a message that cannot be delivered and
 * will not be queued: it is appended to an mbox file, so that its content is
 * never lost and any mail reader opens it.
 *
 * Format (mboxrd): a "From SENDER DATE" line (asctime form, sender "MAILER-
 * DAEMON" for the null sender), the message with CRLF turned into LF, every
 * line that matches /^>*From / given one more '>', and an empty line.  The
 * file is created 0600 and never through a symbolic link; the append is
 * done under flock(2) with O_APPEND and fsync'ed; if it fails half way the
 * file is cut back to its old length, so a failure never leaves a partial
 * message in it.
 */
#ifndef MAILPOST_DEADLETTER_H
#define MAILPOST_DEADLETTER_H

#include <sys/types.h>
#include <time.h>

#include "error.h"
#include "stream.h"

/* The file used when none is configured: $HOME/dead.letter (as mailx).  A
 * new string; NULL with ERROR_CONFIG when HOME is unset and the password
 * database has no home either. */
char *deadletter_default_path(struct error *err);

/* Append m (rewound first when it can be, else from its current position,
 * to the end) for `sender`, dated `when` (the caller's clock; 0: now).
 * ERROR_IOERR (or ERROR_CONFIG for a symbolic link or a file owned by
 * someone else) naming the path and the cause. */
int deadletter_append(const char *path, const char *sender, time_t when,
                      struct message_stream *m, struct error *err);

/* Ceilings for deadletter_append_as: the groups a user may be in (more
 * is refused rather than cut, which could leave a group it should not
 * have), and how long the child may take (it may wait for a lock the
 * user holds on its own file) before it is killed, unless the caller
 * gives another limit. */
#define DEADLETTER_GROUPS_MAX 1024
#define DEADLETTER_CHILD_SECONDS 30

/* Append m to the dead letter file of user uid, HOME/dead.letter with the
 * home of the password database, as that user: in a child that took the
 * user's groups, gid and uid for good (root never writes in a user's
 * home, where a link or a file of the user's choosing may wait).  For
 * root's flush of the machine's spool.  seconds: the child's time limit
 * (0: DEADLETTER_CHILD_SECONDS; tests give a short one).  *path is the
 * file (caller frees; NULL when the user has no home).
 * deadletter_append's errors, the user's (ERROR_CONFIG: unknown, no
 * home), ERROR_OSERR when the child could not run or become the user,
 * ERROR_TEMPFAIL when it took more than the limit (killed, nothing
 * written). */
int deadletter_append_as(uid_t uid, int seconds, const char *sender,
                         time_t when, struct message_stream *m, char **path,
                         struct error *err);

#endif
