/*
 * header_fuzz - the header block of a message (header.c, and rewrite.c
 * and address.c on its fields): the input is made canonical by crlf.c,
 * as source.c does, then pushed a line at a time until the block ends.
 * The block is then used as mailpost uses it: the address fields parsed
 * (for -t), values unfolded, Bcc removed, a field added, the cron-mail
 * rewriting applied (From of a local user, bare names qualified).
 * Checked: header_size is the sum of the fields; every field still ends
 * in CRLF after the edits.
 */
#include "config.h"

#include "fuzz.h"

#include "address.h"
#include "buf.h"
#include "crlf.h"
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
		for (long i = header_find(h, address_fields[k], 0); i >= 0;
		     i = header_find(h, address_fields[k], (size_t)i + 1)) {
			struct strlist l;
			struct buf v;

			buf_init(&v, HEADER_BLOCK_MAX);
			strlist_init(&l);
			if (header_value(&h->v[i], &v) == 0)
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
	size_t sum = 0;

	for (size_t i = 0; i < h->n; i++) {
		const struct header_field *f = &h->v[i];

		FUZZ_ASSERT(f->raw_len >= 2 && f->name_len < f->raw_len);
		FUZZ_ASSERT(f->raw[f->raw_len - 2] == '\r' &&
		            f->raw[f->raw_len - 1] == '\n');
		sum += f->raw_len;
	}
	FUZZ_ASSERT(header_size(h) == sum);
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
		FUZZ_ASSERT(err.kind != ERROR_NONE);
	check_block(&h);
	header_clear(&h);
	free(text);
	return 0;
}
