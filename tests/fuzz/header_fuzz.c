/*
 * header_fuzz - the header block of a message (header.c, and rewrite.c
 * and address.c on its fields): the input is made canonical by crlf.c,
 * as source.c does, then pushed a line at a time until the block ends.
 * The block is then used as mailpost uses it: the address fields parsed
 * (for -t), values unfolded, Bcc removed, a field added, the cron-mail
 * rewriting applied (From of a local user, bare names qualified); and a
 * copy is edited through the walker (each field set to its own bytes,
 * every other one removed, a field inserted, long lines folded), and a
 * copy is written in ASCII as for a server without SMTPUTF8 (downgrade.c).
 * Checked: header_size is the sum of the fields; every field still ends
 * in CRLF after the edits; a field set to its own bytes is unchanged;
 * what folding, rewriting and downgrading compose always passes the
 * scanner (their failures are the message's, never ERROR_SOFTWARE's
 * "composed a malformed header field"); a downgraded header is ASCII.
 */
#include "config.h"

#include "fuzz.h"

#include "address.h"
#include "buf.h"
#include "crlf.h"
#include "downgrade.h"
#include "header.h"
#include "rewrite.h"

static const char *const address_fields[] = {
    "From", "To", "Cc", "Bcc", "Reply-To", "Resent-To", "Sender",
};

static void
use_fields(struct header_block *h)
{
	struct error err;

	for (size_t k = 0; k < sizeof address_fields / sizeof *address_fields;
	     k++) {
		struct header_walk w;
		const struct header_field *f;

		header_walk_init(&w);
		while ((f = header_walk_next(h, &w, address_fields[k])) !=
		       NULL) {
			struct strlist l;
			struct buf v;

			buf_init(&v, HEADER_BLOCK_MAX);
			strlist_init(&l);
			if (header_value(f, &v) == 0)
				(void)address_parse_list(buf_str(&v), v.len, &l,
				                         &err);
			strlist_clear(&l);
			buf_clear(&v);
		}
	}
}

static void
check_block(const struct header_block *h)
{
	struct header_walk w;
	const struct header_field *f;
	size_t sum = 0, count = 0;

	header_walk_init(&w);
	while ((f = header_walk_next(h, &w, NULL)) != NULL) {
		size_t raw_len, name_len;
		const char *raw = header_raw(f, &raw_len);

		(void)header_name(f, &name_len);
		FUZZ_ASSERT(raw_len >= 2 && name_len > 0 && name_len < raw_len);
		FUZZ_ASSERT(raw[raw_len - 2] == '\r' &&
		            raw[raw_len - 1] == '\n');
		sum += raw_len;
		count++;
	}
	FUZZ_ASSERT(header_size(h) == sum);
	FUZZ_ASSERT(header_count(h) == count);
}

/* Edits through the walker, on a copy of h. */
static void
walk_edits(const struct header_block *h)
{
	struct header_block c;
	struct header_walk w;
	const struct header_field *f;
	struct buf before, after;
	struct error err;
	size_t kept = 0, i = 0;

	header_copy(&c, h);
	buf_init(&before, 2 * HEADER_BLOCK_MAX);
	buf_init(&after, 2 * HEADER_BLOCK_MAX);
	FUZZ_ASSERT(header_render(h, &before) == 0);
	header_walk_init(&w);
	while ((f = header_walk_next(&c, &w, NULL)) != NULL) {
		size_t n;
		const char *raw = header_raw(f, &n);
		char *same = malloc(n);

		if (!same)
			abort();
		memcpy(same, raw, n);
		FUZZ_ASSERT(header_walk_set_raw(&c, &w, same, n, &err) == 0);
		free(same);
	}
	FUZZ_ASSERT(header_render(&c, &after) == 0);
	FUZZ_ASSERT(after.len == before.len &&
	            (after.len == 0 ||
	             memcmp(after.data, before.data, after.len) == 0));
	header_walk_init(&w);
	while ((f = header_walk_next(&c, &w, NULL)) != NULL)
		if (i++ % 2)
			header_walk_remove(&c, &w);
		else
			kept++;
	FUZZ_ASSERT(header_count(&c) == kept);
	check_block(&c);
	header_walk_init(&w);
	if (header_walk_next(&c, &w, NULL) &&
	    header_walk_insert(&c, &w, "X-Walk", "1", &err) == 0)
		FUZZ_ASSERT(header_count(&c) == kept + 1);
	check_block(&c);
	if (header_fold_long(&c, &err) < 0) {
		FUZZ_ASSERT(err.kind == ERROR_DATA);
	} else {
		size_t at = 0;

		buf_reset(&after);
		FUZZ_ASSERT(header_render(&c, &after) == 0);
		while (at < after.len) {
			const char *lf =
			    memchr(after.data + at, '\n', after.len - at);

			FUZZ_ASSERT(lf && (size_t)(lf - (after.data + at)) <=
			                      HEADER_LINE_FOLD + 1);
			at = (size_t)(lf - after.data) + 1;
		}
	}
	check_block(&c);
	header_clear(&c);
	buf_clear(&before);
	buf_clear(&after);
}

/* The header written in ASCII for a server without SMTPUTF8: refused
 * (no ASCII form) or done, never a field composed wrongly. */
static void
downgraded(const struct header_block *h)
{
	struct header_block c;
	struct error err;

	header_copy(&c, h);
	if (downgrade_header(&c, &err) < 0)
		FUZZ_ASSERT(err.kind == ERROR_UNAVAILABLE ||
		            err.kind == ERROR_DATA);
	else
		FUZZ_ASSERT(!header_has_8bit(&c));
	check_block(&c);
	header_clear(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct header_rewrite rw = {0};
	struct header_block h;
	struct crlf_norm c;
	struct error err;
	char *text = malloc(CRLF_OUT_MAX(size));
	size_t n, pos = 0;

	if (!text)
		abort();
	crlf_init(&c, false);
	n = crlf_push(&c, (const char *)data, size, text);
	n += crlf_finish(&c, text + n);
	header_init(&h);
	while (pos < n) {
		const char *nl = memchr(text + pos, '\n', n - pos);
		size_t len = (size_t)(nl - (text + pos)) + 1;
		int rc = header_push_line(&h, text + pos, len, &err);

		pos += len;
		if (rc < 0 || rc == HEADER_END_BLANK || rc == HEADER_END_BODY)
			break;
	}
	check_block(&h);
	walk_edits(&h);
	use_fields(&h);
	(void)header_remove(&h, "Bcc");
	(void)header_add(&h, "X-Fuzz", "1", &err);
	check_block(&h);
	rw.rewrite_from = true;
	rw.from_address = "cron@example.org";
	rw.qualify = true;
	rw.maildomain = "example.org";
	rw.local_host = "myhost";
	if (headers_rewrite(&h, &rw, &err) < 0)
		FUZZ_ASSERT(err.kind != ERROR_NONE &&
		            err.kind != ERROR_SOFTWARE);
	check_block(&h);
	downgraded(&h);
	check_block(&h);
	header_clear(&h);
	free(text);
	return 0;
}
