/*
 * fdwait.h - waiting for a descriptor, the one place a send can be cut by
 * a signal.
 *
 * Every wait on the network (conn.c, tls.c), on a FIFO writer (mime.c) or
 * on the -bs client (serve.c) goes through fd_wait(), so that the signal
 * policy of interrupt.h holds everywhere at once.  It lives above
 * interrupt.c, which lives above error.c and util.c: the base layer
 * depends on nothing that waits.
 */
#ifndef MAILPOST_FDWAIT_H
#define MAILPOST_FDWAIT_H

#include <stdint.h>

/* Wait until fd is ready for `events` (poll(2) bits) or the monotonic
 * deadline (now_ms() scale) passes: 1 ready, 0 deadline, -1 poll error
 * (errno set).  EINTR is retried with the time left, except for a signal
 * caught by interrupt.h and not held: then -1 with errno EINTR. */
int fd_wait(int fd, short events, int64_t deadline);

#endif
