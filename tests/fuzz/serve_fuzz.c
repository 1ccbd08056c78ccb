/*
 * serve_fuzz - sendmail -bs (serve.c): the bytes a local client writes to
 * mailpost's standard input, a whole SMTP session (commands, pipelined
 * groups, DATA bodies), read from a memory file; the replies go to
 * /dev/null.  Each accepted message is handed to a deliver callback that
 * checks what serve.h promises (sender and recipients free of CR, LF and
 * other control bytes, the data readable from offset 0) and answers in
 * turn 250, 451 and 554, so that every answer path runs.
 */
#include "config.h"

#include "fuzz.h"

#include <fcntl.h>

#include "serve.h"
#include "util.h"

static unsigned delivered;

static void
deliver(void *ctx, const struct serve_message *m, struct serve_answer *answer)
{
	static const char *const answers[] = {
	    "250 2.0.0 Ok: delivered",
	    "451 4.4.1 Connection refused",
	    "554 5.7.1 Rejected",
	};
	const struct envelope *e = m->env;
	char block[4096];

	(void)ctx;
	FUZZ_ASSERT(e->sender && !str_has_ctl(e->sender, strlen(e->sender)));
	FUZZ_ASSERT(e->nrcpts > 0);
	for (size_t i = 0; i < e->nrcpts; i++)
		FUZZ_ASSERT(!str_has_ctl(e->rcpts[i].addr,
		                         strlen(e->rcpts[i].addr)));
	FUZZ_ASSERT(lseek(m->fd, 0, SEEK_CUR) == 0);
	while (read(m->fd, block, sizeof block) > 0)
		;
	snprintf(answer->line, sizeof answer->line, "%s",
	         answers[delivered++ % 3]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int out = -1;
	struct serve_options o = {0};
	struct error err;
	int in;

	if (out < 0)
		out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (out < 0)
		abort();
	in = fuzz_memfd(data, size);
	o.hostname = "fuzz.example.org";
	o.size_max = 1024 * 1024;
	o.idle_timeout_ms = 0;
	o.tmpdir = getenv("TMPDIR");
	o.deliver = deliver;
	error_clear(&err);
	if (serve_run(in, out, &o, &err) < 0)
		FUZZ_ASSERT(err.kind != ERROR_NONE && fuzz_message_ok(err.msg));
	close(in);
	return 0;
}
