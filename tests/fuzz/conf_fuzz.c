/*
 * conf_fuzz - configuration files (conf.c): an msmtprc or mailpost.conf,
 * which may come from a user's home, a package or a copy from the web.
 * A file that parses is then resolved the ways main.c resolves it: the
 * default account, the account whose `from` matches a sender, and each
 * account named in the file (up to a few).
 */
#include "config.h"

#include "fuzz.h"

#include "conf.h"

#define NAMES_MAX 8

static void
select_one(const struct config *cfg, const char *name, const char *sender)
{
	struct account a = {0};
	struct error err;

	if (conf_select(cfg, name, sender, &a, &err) < 0)
		FUZZ_ASSERT(err.kind == ERROR_CONFIG &&
		            fuzz_message_ok(err.msg));
	account_clear(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	struct error err;
	const char *line;
	size_t pos = 0, len, names = 0;

	if (conf_parse((const char *)data, size, "fuzzrc", &cfg, &err) < 0) {
		FUZZ_ASSERT(err.kind == ERROR_CONFIG &&
		            fuzz_message_ok(err.msg));
		return 0;
	}
	select_one(cfg, NULL, NULL);
	select_one(cfg, NULL, "user@example.org");
	select_one(cfg, "default", NULL);
	while (names < NAMES_MAX &&
	       fuzz_next_line(data, size, &pos, true, &line, &len)) {
		char name[128];

		if (len <= 8 || memcmp(line, "account ", 8) != 0)
			continue;
		len = fuzz_span(line + 8, len - 8, " \t:\r");
		snprintf(name, sizeof name, "%.*s", (int)len, line + 8);
		select_one(cfg, name, NULL);
		names++;
	}
	conf_free(cfg);
	return 0;
}
