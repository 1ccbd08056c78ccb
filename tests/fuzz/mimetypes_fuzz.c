/*
 * mimetypes_fuzz - a mime.types(5) file (mimetypes.c), parsed, then each
 * word of each line (up to a few) looked up as an extension, in upper
 * case too.  Checked: every type found is a valid type/subtype, and the
 * table never holds more than its ceiling.
 */
#include "config.h"

#include "fuzz.h"

#include "mimetypes.h"

#define WORDS_MAX 64
#define ENTRIES_MAX 8192 /* mimetypes.c's MIMETYPES_ENTRIES_MAX */

static void
lookup(const struct mimetypes *t, const char *ext)
{
	const char *type = mimetypes_lookup(t, ext);

	FUZZ_ASSERT(!type || mimetypes_valid(type));
}

/* The word w[0..n) as an extension, as written and in upper case. */
static void
lookup_both(const struct mimetypes *t, const char *w, size_t n)
{
	char ext[64];

	memcpy(ext, w, n);
	ext[n] = '\0';
	lookup(t, ext);
	for (size_t i = 0; i < n; i++)
		if (ext[i] >= 'a' && ext[i] <= 'z')
			ext[i] = (char)(ext[i] - 'a' + 'A');
	lookup(t, ext);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mimetypes *t = mimetypes_new();
	const char *line;
	size_t pos = 0, len, words = 0;

	mimetypes_parse(t, (const char *)data, size);
	FUZZ_ASSERT(mimetypes_count(t) <= ENTRIES_MAX);
	while (words < WORDS_MAX &&
	       fuzz_next_line(data, size, &pos, false, &line, &len)) {
		size_t at = 0;

		while (at < len && words < WORDS_MAX) {
			size_t n = fuzz_span(line + at, len - at, " \t\r");

			if (n > 0 && n < 64)
				lookup_both(t, line + at, n);
			words += n > 0;
			at += n + 1;
		}
	}
	mimetypes_free(t);
	return 0;
}
