/*
 * reply_fuzz - server replies (reply.c): the bytes a server sends, cut into
 * lines at each LF with a CR before it removed (as conn_read_line hands
 * them over), pushed into reply_push_line.  Every complete reply is read
 * back and judged at every stage, and what reply.h promises is checked:
 * a code of 2xx..5xx, an enhanced code that agrees with it, censored text.
 */
#include "config.h"

#include "fuzz.h"

#include "reply.h"

static const enum reply_stage stages[] = {
    REPLY_STAGE_CONNECT, REPLY_STAGE_HELO, REPLY_STAGE_AUTH, REPLY_STAGE_MAIL,
    REPLY_STAGE_RCPT,    REPLY_STAGE_DATA, REPLY_STAGE_BODY,
};

static void
judge(const struct reply *r)
{
	char summary[128];
	struct error err;

	FUZZ_ASSERT(r->code >= 200 && r->code <= 599);
	FUZZ_ASSERT(r->nlines >= 1 && r->nlines <= REPLY_LINES_MAX);
	FUZZ_ASSERT(r->enhanced[0] == '\0' ||
	            r->enhanced[0] == '0' + r->code / 100);
	for (size_t i = 0; i < r->nlines; i++) {
		size_t len;
		const char *l = reply_line(r, i, &len);

		FUZZ_ASSERT(l != NULL && len <= REPLY_LINE_MAX);
		FUZZ_ASSERT(fuzz_censored(l, len));
	}
	reply_summary(r, summary, sizeof summary);
	FUZZ_ASSERT(strlen(summary) < sizeof summary);
	for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
		enum error_kind kind = reply_error_kind(r, stages[i]);

		FUZZ_ASSERT((kind == ERROR_NONE) == reply_is_positive(r));
		error_clear(&err);
		FUZZ_ASSERT(reply_to_error(r, stages[i], "fuzz", &err) == -1);
		FUZZ_ASSERT(err.kind != ERROR_NONE);
		FUZZ_ASSERT(fuzz_message_ok(err.msg));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reply r;
	struct error err;
	const char *line;
	size_t pos = 0, len;

	reply_init(&r);
	while (fuzz_next_line(data, size, &pos, true, &line, &len)) {
		int rc;

		error_clear(&err);
		rc = reply_push_line(&r, line, len, &err);
		if (rc < 0)
			FUZZ_ASSERT(err.kind == ERROR_PROTOCOL);
		if (rc == 1)
			judge(&r);
		if (rc != 0) {
			/* A session would end on an error; start a new reply
			 * to fuzz what follows too. */
			reply_clear(&r);
			reply_init(&r);
		}
	}
	reply_clear(&r);
	return 0;
}
