/*
 * fdwait.c - waiting for a descriptor (see fdwait.h).
 */
#include "config.h"

#include "fdwait.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

#include "interrupt.h"
#include "util.h"

int
fd_wait(int fd, short events, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	int rc = fd_wait_any(&p, 1, deadline);

	return rc > 0 ? 1 : rc;
}

int
fd_wait_any(struct pollfd *p, size_t n, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		struct timespec ts;
		int rc;

		if (interrupt_cuts()) {
			errno = EINTR;
			return -1;
		}
		if (left < 0)
			left = 0;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000L;
		/* While a send catches SIGTERM and friends they are blocked
		 * everywhere but here (interrupt.h). */
		rc = ppoll(p, (nfds_t)n, &ts,
		           interrupt_active() ? interrupt_wait_mask() : NULL);
		if (rc >= 0)
			return rc;
		if (errno != EINTR)
			return -1;
	}
}
