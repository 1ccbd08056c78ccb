/*
 * interrupt.c - catching SIGTERM, SIGINT and SIGHUP during a send (see
 * interrupt.h for why and how).
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "interrupt.h"

static volatile sig_atomic_t caught;
static bool held;
static bool active;
static sigset_t wait_mask;    /* while waiting: the signals let through */
static sigset_t outside_mask; /* the mask before interrupt_catch */

static const int catched_signals[] = {SIGTERM, SIGINT, SIGHUP};

static void
on_signal(int sig)
{
	if (!caught)
		caught = sig;
}

/* A signal the invoking process ignores (nohup, a background job) or
 * blocks stays that way: it was not meant to stop us. */
static bool
left_alone(int sig, const sigset_t *old_mask)
{
	struct sigaction old;

	if (sigismember(old_mask, sig) == 1)
		return true;
	return sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN;
}

void
interrupt_catch(void)
{
	struct sigaction sa;
	sigset_t block;

	if (active)
		return;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: the wait must end */
	sigemptyset(&block);
	sigprocmask(SIG_BLOCK, NULL, &outside_mask);
	for (size_t i = 0; i < sizeof catched_signals / sizeof *catched_signals;
	     i++) {
		if (left_alone(catched_signals[i], &outside_mask))
			continue;
		sigaction(catched_signals[i], &sa, NULL);
		sigaddset(&block, catched_signals[i]);
	}
	wait_mask = outside_mask;
	sigprocmask(SIG_BLOCK, &block, NULL);
	active = true;
}

void
interrupt_suspend(bool suspend)
{
	if (!active)
		return;
	if (suspend) {
		sigprocmask(SIG_SETMASK, &outside_mask, NULL);
	} else {
		sigset_t block = outside_mask;

		for (size_t i = 0;
		     i < sizeof catched_signals / sizeof *catched_signals; i++)
			if (!left_alone(catched_signals[i], &outside_mask))
				sigaddset(&block, catched_signals[i]);
		sigprocmask(SIG_SETMASK, &block, NULL);
	}
}

bool
interrupt_active(void)
{
	return active;
}

const sigset_t *
interrupt_wait_mask(void)
{
	return &wait_mask;
}

int
interrupt_signal(void)
{
	return caught;
}

void
interrupt_hold(bool hold)
{
	held = hold;
}

bool
interrupt_cuts(void)
{
	return caught != 0 && !held;
}

const char *
interrupt_name(int sig)
{
	static char other[32];

	switch (sig) {
	case SIGTERM:
		return "SIGTERM";
	case SIGINT:
		return "SIGINT";
	case SIGHUP:
		return "SIGHUP";
	default:
		snprintf(other, sizeof other, "signal %d", sig);
		return other;
	}
}

int
interrupt_error(struct error *err)
{
	return error_set(err, ERROR_TEMPFAIL, "interrupted by %s",
	                 interrupt_name(caught));
}
