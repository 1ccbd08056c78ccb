/*
 * redirect_fuzz - the request a browser (or anything else that reaches
 * 127.0.0.1) sends to the loopback redirect (redirect.c, RFC 8252 7.3),
 * and the line a user pastes: judged whole and at every prefix, as the
 * reads of a connection deliver it.
 * Checked: a verdict for every prefix, MORE only while the head is
 * unfinished and under REDIRECT_HEAD_MAX; an answer only with code or
 * error, whose code and state are printable ASCII, every value NUL-free
 * and within REDIRECT_VALUE_MAX; nothing filled on any other verdict;
 * a pasted line judged 1 or 0, with a clean message on 0.
 */
#include "config.h"

#include "fuzz.h"

#include "redirect.h"

static void
check_value(const char *v, bool ascii)
{
	size_t n;

	if (v == NULL)
		return;
	n = strlen(v);
	FUZZ_ASSERT(n <= REDIRECT_VALUE_MAX);
	if (ascii)
		for (size_t i = 0; i < n; i++)
			FUZZ_ASSERT(v[i] >= 0x20 && v[i] <= 0x7e);
}

static void
check_result(const struct redirect_result *r, bool answer)
{
	if (!answer) {
		FUZZ_ASSERT(!r->code && !r->state && !r->error &&
		            !r->error_description);
		return;
	}
	FUZZ_ASSERT(r->code || r->error);
	check_value(r->code, true);
	check_value(r->state, true);
	check_value(r->error, true);
	check_value(r->error_description, false);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *head = (const char *)data;
	struct redirect_result r;
	struct error err;
	size_t step = size / 16 + 1;

	if (size > 2 * REDIRECT_HEAD_MAX)
		return 0;
	for (size_t len = 0; len <= size; len += step) {
		enum redirect_verdict v = redirect_judge(head, len, "/cb", &r);

		FUZZ_ASSERT(v != REDIRECT_MORE || len < REDIRECT_HEAD_MAX);
		check_result(&r, v == REDIRECT_ANSWER);
		redirect_result_clear(&r);
	}
	check_result(&r, false);
	error_clear(&err);
	if (redirect_judge_pasted(head, size, "http://127.0.0.1:8080/cb", &r,
	                          &err) == 1) {
		check_result(&r, true);
	} else {
		check_result(&r, false);
		FUZZ_ASSERT(err.kind == ERROR_USAGE &&
		            fuzz_message_ok(err.msg));
	}
	redirect_result_clear(&r);
	return 0;
}
