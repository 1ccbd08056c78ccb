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

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

/* Wait until fd is ready for `events` (poll(2) bits) or the monotonic
 * deadline (now_ms() scale) passes: 1 ready, 0 deadline, -1 poll error
 * (errno set).  EINTR is retried with the time left, except for a signal
 * caught by interrupt.h and not held: then -1 with errno EINTR. */
int fd_wait(int fd, short events, int64_t deadline);

/* The same for several descriptors at once (poll(2)'s array; a negative
 * fd is skipped, as poll(2) skips it): the number of entries with
 * revents set, 0 at the deadline, -1 as fd_wait.  For a wait on more
 * than one source: the loopback redirect's socket, its connections and
 * the terminal (redirect.c). */
int fd_wait_any(struct pollfd *p, size_t n, int64_t deadline);

#endif
