/*
 * crlf_fuzz - line-ending normalisation (crlf.c), the first thing every
 * byte of a message goes through.  Byte 0 holds the options (bit 0:
 * sendmail's lone-dot rule) and seeds the sizes of the pieces the rest is
 * pushed in.  Checked: the promises of crlf.h, that the output does not
 * depend on how the input was split, that it is canonical (every CR
 * followed by LF, every LF preceded by CR, ending in CRLF) and that the
 * measurements agree with it.
 */
#include "config.h"

#include "fuzz.h"

#include "crlf.h"

/* The input in one piece, or in pieces of 1..16 bytes chosen by seed. */
static size_t
normalise(const uint8_t *in, size_t n, bool dot, unsigned seed, char *out,
          struct crlf_norm *c)
{
	size_t o = 0, i = 0;

	crlf_init(c, dot);
	while (i < n) {
		size_t piece = seed ? 1 + (seed + i * 7) % 16 : n - i;

		if (piece > n - i)
			piece = n - i;
		o += crlf_push(c, (const char *)in + i, piece, out + o);
		i += piece;
	}
	o += crlf_finish(c, out + o);
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct crlf_norm whole, split;
	char *a, *b;
	size_t na, nb, lines = 0, line = 0, longest = 0;
	bool dot, eightbit = false;

	if (size < 1)
		return 0;
	dot = data[0] & 1;
	a = malloc(CRLF_OUT_MAX(size));
	b = malloc(CRLF_OUT_MAX(size));
	if (!a || !b)
		abort();
	na = normalise(data + 1, size - 1, dot, 0, a, &whole);
	nb = normalise(data + 1, size - 1, dot, data[0] | 1u, b, &split);
	FUZZ_ASSERT(na == nb && memcmp(a, b, na) == 0);
	FUZZ_ASSERT(whole.bytes == na && split.bytes == na);
	FUZZ_ASSERT(
	    whole.lines == split.lines && whole.max_line == split.max_line &&
	    whole.has_8bit == split.has_8bit && whole.has_nul == split.has_nul);
	FUZZ_ASSERT(na == 0 ||
	            (na >= 2 && a[na - 2] == '\r' && a[na - 1] == '\n'));
	for (size_t i = 0; i < na; i++) {
		if (a[i] == '\r') {
			FUZZ_ASSERT(i + 1 < na && a[i + 1] == '\n');
		} else if (a[i] == '\n') {
			FUZZ_ASSERT(i > 0 && a[i - 1] == '\r');
			lines++;
			longest = line > longest ? line : longest;
			line = 0;
			continue;
		}
		if ((unsigned char)a[i] >= 0x80)
			eightbit = true;
		if (a[i] != '\r')
			line++;
	}
	FUZZ_ASSERT(whole.lines == lines);
	FUZZ_ASSERT(whole.max_line == longest);
	FUZZ_ASSERT(whole.has_8bit == eightbit);
	free(a);
	free(b);
	return 0;
}
