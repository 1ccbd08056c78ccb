/*
 * mxprobe.h - --serverinfo and --quit-after in direct delivery (`deliver
 * mx`): one recipient domain's route (mxroute.h) walked as a send walks
 * it, each hop probed (submit_probe_hop) or tested up to a step
 * (submit_quit_after) until one gets through, and what became of every
 * hop on the way, for the report.
 *
 * The walk is the send's: the hops in the route's order; a hop whose TLS
 * policy forbids it now (mxroute_hop_tls: its TLSA look-up failed, an
 * MTA-STS policy in force does not list it) is passed over; a hop that
 * fails as a send's would go on to the next one (mxroute_may_retry)
 * leads to the next; a permanent refusal ends the walk, as it ends a
 * send's route.  An opportunistic hop whose STARTTLS fails is not
 * failed: a send goes on in the clear on that hop, and so does the walk
 * (for --serverinfo the probe's report says so; --quit-after tests the
 * hop again in the clear).
 */
#ifndef MAILPOST_MXPROBE_H
#define MAILPOST_MXPROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "error.h"
#include "mxroute.h"
#include "smtp.h"
#include "submit.h"
#include "transcript.h"

/* What became of one hop of the walk. */
enum mxprobe_state {
	MXPROBE_NOT_TRIED = 0, /* an earlier hop got through, or the walk
	                        * ended before this one */
	MXPROBE_UNUSABLE,      /* its TLS policy forbids it now (why) */
	MXPROBE_FAILED,        /* tried, failed as a send's attempt would
	                        * have (why); the next hop was tried */
	MXPROBE_REFUSED,       /* tried, refused for good (why): a send's
	                        * route ends here */
	MXPROBE_ANSWERED,      /* tried and got through: the hop chosen */
};

struct mxprobe_hop {
	enum mxprobe_state state;
	struct error why;    /* UNUSABLE, FAILED, REFUSED: the reason */
	bool tls_failed;     /* an opportunistic hop's STARTTLS failed
	                      * (tls_error): a send goes on in the clear */
	struct error tls_error;
	struct submit_probe probe; /* --serverinfo: what was heard (also
	                            * for a hop that failed) */
};

struct mxprobe {
	struct mxroute_domain route; /* the domain's hops, their policies */
	struct mxprobe_hop *hops;    /* route.nhops of them, or NULL */
	size_t chosen;               /* the hop that got through, or
	                              * route.nhops when none did */
	size_t tried;                /* hops tried (passed over included) */
};

void mxprobe_init(struct mxprobe *p);
void mxprobe_clear(struct mxprobe *p);

/* --serverinfo of `domain` (a domain name, U-labels allowed, or an
 * address literal) for account a (deliver mx; the route's m): the walk,
 * each hop tried probed as submit_probe_hop does (never AUTH, never
 * MAIL).  0 when a hop answered (p->chosen; with its policy's TLS set up
 * and its certificate accepted where the policy requires it).  -1 with
 * err: mxroute_domain's errors (p->route.nhops is then 0), or the last
 * hop's failure when none got through (p->hops says each one's). */
int mxprobe_serverinfo(struct mxroute *m, const struct account *a,
                       const char *domain, struct transcript *t,
                       struct mxprobe *p, struct error *err);

/* --quit-after `step` on the route of `domain` for the submission sub
 * (its account, envelope and transcript; sub->hop is set per hop): the
 * walk, each hop tried tested as submit_quit_after does.  0 when a hop
 * passed every step up to `step` (p->chosen), else -1 as for
 * mxprobe_serverinfo. */
int mxprobe_quit_after(struct mxroute *m, const struct submission *sub,
                       const char *domain, enum smtp_step step,
                       struct mxprobe *p, struct error *err);

#endif
