/*
 * privilege.c - the group of a setgid installation, held only as long as
 * it is needed (privilege.h).
 *
 * Threat model: the caller is any user of the machine.  It chooses our
 * argv, environment, descriptors, limits and signals, and can ptrace or
 * read /proc of its own processes unless they are not dumpable.  The
 * group must give it nothing: no file it names is opened with the group
 * (the group is out of the effective gid from the start), no child of
 * its choosing runs with it, and no core dump or ptrace reaches memory
 * that held the system configuration.
 */
#include "config.h"

#include "privilege.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "util.h"

enum state {
	NOT_SETGID = 0, /* never had a group: nothing to do */
	HELD,           /* the group is the saved gid */
	RAISED,         /* the group is the effective gid */
	DROPPED,        /* given up for good */
};

static enum state state = NOT_SETGID;
static gid_t group_gid;
static gid_t caller_gid;
static char *group_name;
static const char *build_group; /* privilege_start's, held or not */

int
privilege_protect_process(struct error *err)
{
	struct rlimit none = {0, 0};

#ifdef __linux__
	/* Also stops other processes of the caller from ptrace-reading us
	 * and from reading /proc/PID/mem and environ.  A change of gid puts
	 * the flag back to the kernel's suid_dumpable: called after each. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return error_set_errno(err, ERROR_OSERR, errno,
		                       "cannot turn off core dumps");
#endif
	if (setrlimit(RLIMIT_CORE, &none) < 0)
		return error_set_errno(err, ERROR_OSERR, errno,
		                       "cannot turn off core dumps");
	return 0;
}

static int
set_gids(gid_t r, gid_t e, gid_t s, struct error *err)
{
	if (setresgid(r, e, s) < 0)
		return error_set_errno(err, ERROR_OSERR, errno,
		                       "cannot change the group id");
	return privilege_protect_process(err);
}

/* The group named at configure time, looked up once it is no longer the
 * effective gid (NSS modules run as the caller). */
static bool
is_our_group(const char *group, gid_t gid)
{
	struct group *gr;

	if (!group || !*group)
		return false;
	gr = getgrnam(group);
	return gr && gr->gr_gid == gid;
}

int
privilege_start(const char *group, struct error *err)
{
	gid_t r, e, s;

	build_group = group && *group ? group : NULL;
	if (getresgid(&r, &e, &s) < 0)
		return error_set_errno(err, ERROR_OSERR, errno,
		                       "cannot read the group ids");
	if (r == e && r == s)
		return 0;
	/* From here on the process is setgid: protected before anything
	 * else happens, and the group out of the effective gid at once. */
	if (privilege_protect_process(err) < 0 || set_gids(r, r, e, err) < 0)
		return -1;
	state = HELD;
	caller_gid = r;
	group_gid = e;
	if (getuid() == 0 || !is_our_group(group, e))
		return privilege_drop(err);
	group_name = xstrdup(group);
	return 0;
}

bool
privilege_held(void)
{
	return state == HELD || state == RAISED;
}

const char *
privilege_group(void)
{
	return privilege_held() ? group_name : NULL;
}

int
privilege_raise(struct error *err)
{
	if (state != HELD)
		return error_set(err, ERROR_SOFTWARE,
		                 "internal error: the group is not held");
	if (set_gids(caller_gid, group_gid, group_gid, err) < 0)
		return -1;
	state = RAISED;
	return 0;
}

int
privilege_lower(struct error *err)
{
	if (state != RAISED)
		return 0;
	if (set_gids(caller_gid, caller_gid, group_gid, err) < 0)
		return -1;
	state = HELD;
	return 0;
}

int
privilege_child_take_group(void)
{
	if (state != RAISED)
		return -1;
	return setresgid(group_gid, group_gid, group_gid);
}

int
privilege_drop(struct error *err)
{
	gid_t r, e, s;

	if (!privilege_held())
		return 0;
	if (set_gids(caller_gid, caller_gid, caller_gid, err) < 0)
		return -1;
	/* Irrevocable only if the saved gid went too: check what the
	 * kernel holds rather than trust the call. */
	if (getresgid(&r, &e, &s) < 0 || r != caller_gid || e != caller_gid ||
	    s != caller_gid)
		return error_set(err, ERROR_OSERR,
		                 "cannot give up the group %s",
		                 group_name ? group_name : "of the program");
	state = DROPPED;
	free(group_name);
	group_name = NULL;
	return 0;
}

const char *
privilege_getenv(const char *name)
{
	return state == RAISED ? NULL : getenv(name);
}

const char *
privilege_build_group(void)
{
	return build_group;
}
