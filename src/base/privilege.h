/*
 * privilege.h - the group of a setgid installation (configure
 * --with-mta-group=GROUP), held only as long as it is needed.
 *
 * Installed as the system's sendmail, mailpost may be setgid GROUP so
 * that the system configuration can be 0640 root:GROUP: the group reads
 * that file and the secrets it names, nothing else.  The life of the
 * group in one run:
 *
 *   privilege_start   first thing in main(): no core dumps, no ptrace,
 *                     then the group moved out of the effective gid; it
 *                     stays only as the saved gid.  Every file opened
 *                     from here on is opened as the caller.  environ is
 *                     reduced to a list of variables that name no file
 *                     (privilege_env_reduce), so that no library reads a
 *                     file or loads a module the caller names in the
 *                     process that will hold the system configuration's
 *                     secrets.
 *   privilege_raise   the group effective again, for reading the system
 *   privilege_lower   configuration and running its passwordeval, and
 *                     back (job.c's load of the system configuration)
 *   privilege_drop    gone for good: real, effective and saved gid the
 *                     caller's (checked with getresgid).  Called before
 *                     any file the caller names is opened and before any
 *                     child but the system configuration's own commands
 *                     runs; -C or a user configuration calls it at once.
 *                     When nothing was read with the group, environ is
 *                     the caller's again (its own passwordeval needs it).
 *
 * The spool helper (spoolgate.h, postdrop's part) is forked between
 * privilege_start and privilege_drop: it keeps the group as its saved gid
 * and raises it only around the spool's own system calls, while the
 * caller's side drops it as above.
 *
 * Errors: ERROR_OSERR (a set*gid or prctl call failed; the run stops).
 */
#ifndef MAILPOST_PRIVILEGE_H
#define MAILPOST_PRIVILEGE_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* Called first in main() with the group this build was configured for
 * (NULL: none).  A process that is not setgid is left as it is.  A setgid
 * process whose group is not that one, or run by root (who needs no
 * group), gives the group up for good at once. */
int privilege_start(const char *group, struct error *err);

/* The group can still be raised (started setgid GROUP, not dropped). */
bool privilege_held(void);

/* The process started setgid (whatever became of the group since): a
 * run whose system configuration's secrets may be in memory, which no
 * test-only variable may steer (tls.c's MAILPOST_TEST_SYSTEM_TRUST). */
bool privilege_was_setgid(void);

/* The group's name while it is held, else NULL (for messages). */
const char *privilege_group(void);

/* The group's id while it is held (the spool helper opens the spool
 * with it, spoolgate.h), else the effective gid. */
gid_t privilege_gid(void);

/* The group as the effective gid, and back to the caller's.  Only
 * between them may a file be opened with the group. */
int privilege_raise(struct error *err);
int privilege_lower(struct error *err);

/* In a child between fork and exec, while the group is raised: the group
 * as real, effective and saved gid, so that a shell that gives up an
 * effective gid different from its real one (dash, bash) keeps it, and
 * nothing inherits the caller's gid.  Async-signal-safe; -1 when the
 * group is not raised or the call failed. */
int privilege_child_take_group(void);

/* Give the group up irrevocably; a no-op when it is not held. */
int privilege_drop(struct error *err);

/* The caller's variable `name` as it came, even where environ was reduced
 * for the libraries; NULL while the group is effective, so that no
 * variable of the caller's redirects a file read with the group.  Every
 * variable mailpost itself reads is read through it; each names the
 * caller's own business, opened as the caller.  (secure_getenv would
 * also ignore HOME after the drop, when today's behaviour is wanted.) */
const char *privilege_getenv(const char *name);

/* The program search path of a command run for the system (the system
 * configuration's passwordeval, any child of a process that keeps the
 * group): the system's directories, none of the caller's. */
#define PRIVILEGE_SAFE_PATH "/usr/local/bin:/usr/bin:/bin"

/* The environment a process that keeps the group passes on to the
 * libraries it links and to its children: PATH set to the system's
 * directories, then from env only the variables of privilege.c's list
 * (language, time zone, login name), the first of each name, and only
 * with a value that names no file.  A new array of pointers into env's
 * strings (the PATH string aside), NULL-terminated: free the array only.
 * Exposed for its unit test. */
char **privilege_env_reduce(char *const *env);

/* No core dumps and no ptrace by other processes of the caller:
 * PR_SET_DUMPABLE 0 (Linux) and RLIMIT_CORE 0. */
int privilege_protect_process(struct error *err);

/* The group this program was built for (privilege_start's; NULL: a
 * build for users' own installs), whether or not it is held: a setgid
 * installation's machine-wide spool belongs to it, and root, who never
 * holds the group, works on that spool too. */
const char *privilege_build_group(void);

#endif
