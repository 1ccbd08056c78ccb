/*
 * spoolgate_fuzz - the spool helper's requests (spoolserve.c), which come
 * from the caller's process: any bytes a user outside the group can make
 * it send.  The input is written whole to one end of a socketpair and
 * the helper's loop serves the other end in a child, whose spool could
 * not be opened (so every request that gets past the framing is answered
 * with that error: the frames, the envelope parser and the message
 * stream are exercised, never the disk).  Checked: the helper ends (no
 * hang, no crash) and every reply is a well-formed 'E' frame of a known
 * kind with a one-line message.
 */
#include "config.h"

#include "fuzz.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spoolserve.h"

/* Read n bytes; false at EOF or an error. */
static bool
read_n(int fd, unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

static void
check_replies(int fd)
{
	static unsigned char msg[ERROR_MSG_MAX + 1];
	unsigned char h[5];

	while (read_n(fd, h, sizeof h)) {
		uint32_t len = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 |
		               (uint32_t)h[3] << 8 | h[4];

		FUZZ_ASSERT(h[0] == 'E');
		FUZZ_ASSERT(len >= 1 && len <= ERROR_MSG_MAX);
		FUZZ_ASSERT(read_n(fd, msg, len));
		FUZZ_ASSERT(msg[0] > ERROR_NONE && msg[0] <= ERROR_CONFIG);
		msg[len] = '\0';
		FUZZ_ASSERT(fuzz_message_ok((const char *)msg + 1));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct error broken;
	int sv[2], st = 0;
	pid_t pid;

	signal(SIGPIPE, SIG_IGN);
	FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid = fork();
	FUZZ_ASSERT(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		error_set(&broken, ERROR_CONFIG, "the spool is missing");
		spoolserve_run(sv[1], NULL, NULL, &broken);
		_exit(0);
	}
	close(sv[1]);
	/* Inputs are small (libFuzzer's -max_len): the socket takes them
	 * whole before the helper answers. */
	if (size > 0 && fd_write_all(sv[0], data, size) < 0)
		FUZZ_ASSERT(!"write");
	shutdown(sv[0], SHUT_WR);
	check_replies(sv[0]);
	close(sv[0]);
	FUZZ_ASSERT(waitpid(pid, &st, 0) == pid);
	FUZZ_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return 0;
}
