/*
 * interrupt.h - SIGTERM, SIGINT and SIGHUP while a message is being sent.
 *
 * A send must never end with half a message accepted, and a message taken
 * from standard input must not vanish because the process was told to
 * stop.  So while a send is under way these signals are caught, not fatal:
 * interrupt_catch() blocks them, and they are let through only inside the
 * waits of fd_wait() (ppoll(2) with the old mask), where a caught signal
 * ends the wait with EINTR.  The network layers turn that into an error
 * (ERROR_TEMPFAIL "interrupted by SIGTERM"), smtp.c never sends the final
 * dot after it, and the driver queues the message (or saves it as a dead
 * letter) and exits 75.  Everything else (writing the queue, the dead
 * letter file) runs with the signals blocked, so it is never cut short.
 *
 * Once the final dot has gone out, the server's reply decides what
 * happened: interrupt_hold(true) makes waits ignore a signal until it is
 * read, so a delivered message is not queued a second time.
 */
#ifndef MAILPOST_INTERRUPT_H
#define MAILPOST_INTERRUPT_H

#include <signal.h>
#include <stdbool.h>

#include "error.h"

/* Install the handlers and block the signals (idempotent).  A signal
 * that the invoking process ignores or blocks (nohup) is left as it is. */
void interrupt_catch(void);

/* Let the signals through for a while (suspend true), then block them
 * again: around fetching a password, so that a prompt can be interrupted
 * and a password command runs with the mask it would have had. */
void interrupt_suspend(bool suspend);

/* True after interrupt_catch(): fd_wait() uses the unblocking mask. */
bool interrupt_active(void);

/* The mask to wait with (the signals unblocked), for ppoll(2). */
const sigset_t *interrupt_wait_mask(void);

/* The number of the first signal caught, or 0. */
int interrupt_signal(void);

/* While held, a caught signal does not end waits (see above). */
void interrupt_hold(bool hold);

/* A caught signal that is not held: the current operation should stop. */
bool interrupt_cuts(void);

/* Fill err with ERROR_TEMPFAIL "interrupted by SIGTERM"; returns -1. */
int interrupt_error(struct error *err);

/* "SIGTERM", "SIGINT", "SIGHUP" (or "signal N"). */
const char *interrupt_name(int sig);

#endif
