/*
 * mxprobe.c - a domain's route walked for --serverinfo and --quit-after
 * (see mxprobe.h).
 */
#include "config.h"

#include "mxprobe.h"

#include <stdlib.h>
#include <string.h>

#include "interrupt.h"
#include "util.h"

void
mxprobe_init(struct mxprobe *p)
{
	memset(p, 0, sizeof *p);
}

void
mxprobe_clear(struct mxprobe *p)
{
	if (p->hops)
		for (size_t i = 0; i < p->route.nhops; i++)
			submit_probe_clear(&p->hops[i].probe);
	free(p->hops);
	mxroute_domain_clear(&p->route);
	mxprobe_init(p);
}

/* The route of the domain, and a record per hop. */
static int
walk_begin(struct mxroute *m, const struct account *a, const char *domain,
           struct mxprobe *p, struct error *err)
{
	mxprobe_clear(p);
	if (mxroute_domain(m, domain, &p->route, err) < 0) {
		p->route.nhops = 0;
		return -1;
	}
	p->hops = xcalloc(p->route.nhops, sizeof *p->hops);
	for (size_t i = 0; i < p->route.nhops; i++) {
		/* As mxroute_send sets each hop before its policy. */
		p->route.hops[i].port = submit_port(a);
		p->route.hops[i].conn.address = p->route.hops[i].address;
		submit_probe_init(&p->hops[i].probe);
	}
	p->chosen = p->route.nhops;
	return 0;
}

/* Hop i's TLS policy: 0 to try it, -1 when it may not be used now
 * (recorded, and said in the transcript). */
static int
hop_policy(struct mxroute *m, struct mxprobe *p, size_t i,
           struct transcript *t)
{
	struct mxroute_hop *h = &p->route.hops[i];
	struct mxprobe_hop *ph = &p->hops[i];

	p->tried = i + 1;
	if (mxroute_hop_tls(m, &p->route, h, &ph->why) == 0)
		return 0;
	ph->state = MXPROBE_UNUSABLE;
	transcript_note(t, "%s [%s]: not used now: %s", h->name, h->address,
	                ph->why.msg);
	return -1;
}

/* What a hop's failure means for the walk: the next hop, as for a send
 * (mxroute.c: a temporary failure or a TLS one), or the end of the
 * route (a refusal, a signal). */
static void
hop_failed(struct mxprobe_hop *ph)
{
	bool goes_on = interrupt_signal() == 0 &&
	               (ph->why.kind == ERROR_TEMPFAIL ||
	                ph->why.kind == ERROR_PROTOCOL);

	ph->state = goes_on ? MXPROBE_FAILED : MXPROBE_REFUSED;
}

/* The walk ended without a hop that got through: the last hop's reason,
 * naming the domain and, when it was not alone, how many went before. */
static int
walk_failed(const struct mxprobe *p, struct error *err)
{
	const struct mxprobe_hop *last;
	const struct mxroute_hop *h;

	if (p->tried == 0)
		return error_set(err, ERROR_SOFTWARE,
		                 "%s: a route without hops (a bug in mailpost)",
		                 p->route.domain);
	last = &p->hops[p->tried - 1];
	h = &p->route.hops[p->tried - 1];
	*err = last->why;
	if (p->tried > 1)
		error_prefix(err,
		             "%s: no MX host took the session (%zu hops "
		             "tried); the last, %s [%s]: ",
		             p->route.domain, p->tried, h->name, h->address);
	else if (last->state != MXPROBE_REFUSED || p->route.nhops > 1)
		error_prefix(err, "%s: its MX host %s [%s]: ",
		             p->route.domain, h->name, h->address);
	return -1;
}

/* The account as one hop sees it: the MX host's name is its host (for
 * TLS and the messages); the hop's address is connected to. */
static void
hop_view(const struct account *a, const struct mxroute_hop *h,
         struct account *view)
{
	*view = *a;
	view->host = (char *)h->name;
}

int
mxprobe_serverinfo(struct mxroute *m, const struct account *a,
                   const char *domain, struct transcript *t,
                   struct mxprobe *p, struct error *err)
{
	if (walk_begin(m, a, domain, p, err) < 0)
		return -1;
	for (size_t i = 0; i < p->route.nhops; i++) {
		struct mxroute_hop *h = &p->route.hops[i];
		struct mxprobe_hop *ph = &p->hops[i];
		struct account view;
		int rc;

		if (hop_policy(m, p, i, t) < 0)
			continue;
		hop_view(a, h, &view);
		rc = submit_probe_hop(&view, &h->conn, t, &ph->probe,
		                      &ph->why);
		/* Opportunistic TLS that fails is no failure of the hop: a
		 * send takes it again in the clear (mxroute.h). */
		if (rc < 0 && h->conn.tls == SUBMIT_HOP_TLS_MAY &&
		    smtp_timing_failed(&ph->probe.timing) == SMTP_STEP_TLS) {
			ph->tls_failed = true;
			ph->tls_error = ph->why;
			error_clear(&ph->why);
			rc = 0;
		}
		if (rc == 0) {
			ph->state = MXPROBE_ANSWERED;
			p->chosen = i;
			return 0;
		}
		hop_failed(ph);
		if (ph->state == MXPROBE_REFUSED)
			break;
	}
	return walk_failed(p, err);
}

/* One hop tested up to the step; an opportunistic hop whose STARTTLS
 * failed is tested again in the clear, as a send would deliver. */
static int
quit_after_hop(const struct submission *base, struct mxroute_hop *h,
               enum smtp_step step, struct mxprobe_hop *ph)
{
	struct account view;
	struct submission sub = *base;
	struct submit_hop plain;
	int rc;

	hop_view(base->account, h, &view);
	sub.account = &view;
	sub.hop = &h->conn;
	rc = submit_quit_after(&sub, step, &ph->why);
	if (rc == 0 || h->conn.tls != SUBMIT_HOP_TLS_MAY ||
	    !base->report ||
	    smtp_timing_failed(&base->report->timing) != SMTP_STEP_TLS)
		return rc;
	ph->tls_failed = true;
	ph->tls_error = ph->why;
	error_clear(&ph->why);
	transcript_note(base->transcript,
	                "%s [%s]: STARTTLS failed (%s); again in the clear, "
	                "as a send would",
	                h->name, h->address, ph->tls_error.msg);
	plain = h->conn;
	plain.tls = SUBMIT_HOP_TLS_PLAIN;
	sub.hop = &plain;
	return submit_quit_after(&sub, step, &ph->why);
}

int
mxprobe_quit_after(struct mxroute *m, const struct submission *sub,
                   const char *domain, enum smtp_step step,
                   struct mxprobe *p, struct error *err)
{
	if (walk_begin(m, sub->account, domain, p, err) < 0)
		return -1;
	for (size_t i = 0; i < p->route.nhops; i++) {
		struct mxprobe_hop *ph = &p->hops[i];

		if (hop_policy(m, p, i, sub->transcript) < 0)
			continue;
		if (quit_after_hop(sub, &p->route.hops[i], step, ph) == 0) {
			ph->state = MXPROBE_ANSWERED;
			p->chosen = i;
			return 0;
		}
		hop_failed(ph);
		if (ph->state == MXPROBE_REFUSED)
			break;
	}
	return walk_failed(p, err);
}
