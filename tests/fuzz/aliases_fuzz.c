/*
 * aliases_fuzz - an /etc/aliases file (aliases.c), parsed and then used:
 * the usual local names, an address with a domain, and each name the file
 * defines (up to a few) are expanded.  Checked: no expansion yields an
 * address with a control byte.
 */
#include "config.h"

#include "fuzz.h"

#include "aliases.h"

#define NAMES_MAX 8

static void
expand(const struct aliases *a, const char *name)
{
	struct strlist out;
	struct error err;

	strlist_init(&out);
	if (aliases_expand(a, name, &out, &err) == 0) {
		for (size_t i = 0; i < out.n; i++)
			FUZZ_ASSERT(!strpbrk(out.v[i], "\r\n"));
	} else {
		FUZZ_ASSERT(err.kind == ERROR_CONFIG &&
		            fuzz_message_ok(err.msg));
	}
	strlist_clear(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const usual[] = {
	    "root",     "postmaster",          "MAILER-DAEMON",
	    "www-data", "someone@example.org", "nobody@",
	};
	struct aliases *a = NULL;
	struct error err;
	const char *line;
	size_t pos = 0, len, names = 0;

	if (aliases_parse((const char *)data, size, "fuzz-aliases", &a, &err) <
	    0) {
		FUZZ_ASSERT(err.kind == ERROR_CONFIG &&
		            fuzz_message_ok(err.msg));
		return 0;
	}
	for (size_t i = 0; i < sizeof usual / sizeof *usual; i++)
		expand(a, usual[i]);
	while (names < NAMES_MAX &&
	       fuzz_next_line(data, size, &pos, true, &line, &len)) {
		char name[128];
		size_t n = fuzz_span(line, len, ": \t\r");

		if (n == 0 || n >= len || line[n] != ':' || n >= sizeof name)
			continue;
		snprintf(name, sizeof name, "%.*s", (int)n, line);
		expand(a, name);
		names++;
	}
	aliases_free(a);
	return 0;
}
