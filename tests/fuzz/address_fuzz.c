/*
 * address_fuzz - mail addresses (address.c): the input is used both as
 * one envelope address (as -f, a recipient on the command line, RCPT TO
 * of -bs, or a queue entry gives it) and as the value of an address
 * header (To, Cc, ... for -t).
 * Checked: an address address_check accepts holds no control byte (no
 * CR/LF smuggling, RFC 5321 4.1.2) and is at most ADDRESS_PATH_MAX - 2
 * octets; address_to_ascii and the qualified form of it are accepted
 * again; address_walk_list finds the same addresses as
 * address_parse_list, in the same order, with positions inside the
 * value; address_parse_input (a command-line recipient) gives only
 * checked addresses and names without line breaks.
 */
#include "config.h"

#include "fuzz.h"

#include "address.h"
#include "util.h"

struct walk {
	const struct strlist *want;
	size_t i, len;
};

static int
visit(void *ctx, const struct address_mailbox *mb, struct error *err)
{
	struct walk *w = ctx;

	(void)err;
	FUZZ_ASSERT(w->i < w->want->n);
	FUZZ_ASSERT(strcmp(mb->addr, w->want->v[w->i]) == 0);
	FUZZ_ASSERT(mb->start <= mb->end && mb->end <= w->len);
	FUZZ_ASSERT(mb->spec_start <= mb->spec_end && mb->spec_end <= w->len);
	FUZZ_ASSERT(mb->name_start <= mb->name_end && mb->name_end <= w->len);
	w->i++;
	return 0;
}

static void
envelope_address(const char *s)
{
	struct error err;
	char *ascii = NULL, *q;

	(void)address_needs_smtputf8(s);
	if (address_check(s, true, ERROR_USAGE, &err) < 0) {
		FUZZ_ASSERT(err.kind == ERROR_USAGE || err.kind == ERROR_DATA);
		FUZZ_ASSERT(fuzz_message_ok(err.msg));
		return;
	}
	FUZZ_ASSERT(!str_has_ctl(s, strlen(s)));
	FUZZ_ASSERT(strlen(s) <= ADDRESS_PATH_MAX - 2);
	if (address_to_ascii(s, &ascii, &err) == 0) {
		FUZZ_ASSERT(!str_has_ctl(ascii, strlen(ascii)));
		free(ascii);
	}
	q = address_qualify(s, "example.org");
	FUZZ_ASSERT(q != NULL);
	free(q);
}

/* As a command-line recipient (address_parse_input): every mailbox it
 * gives passes address_check, no display name holds CR or LF (a name
 * goes into a composed header), and the duplicate check knows each
 * address after it was added once. */
static void
input_list(const char *s)
{
	struct address_entries l;
	struct address_set set;
	struct error err;

	address_entries_init(&l);
	address_set_init(&set);
	if (address_parse_input(s, ERROR_USAGE, &l, &err) < 0) {
		FUZZ_ASSERT(err.kind == ERROR_USAGE || err.kind == ERROR_DATA ||
		            err.kind == ERROR_OSERR);
		FUZZ_ASSERT(fuzz_message_ok(err.msg));
	}
	for (size_t i = 0; i < l.n; i++) {
		FUZZ_ASSERT(
		    address_check(l.v[i].addr, false, ERROR_USAGE, &err) == 0);
		FUZZ_ASSERT(!l.v[i].name || !strpbrk(l.v[i].name, "\r\n"));
		(void)address_set_add(&set, l.v[i].addr);
		FUZZ_ASSERT(!address_set_add(&set, l.v[i].addr));
	}
	address_set_clear(&set);
	address_entries_clear(&l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *host = NULL;
	struct strlist list;
	struct error err;
	struct walk w;

	envelope_address(s);
	input_list(s);
	if (address_host_to_ascii(s, &host, &err) == 0)
		free(host);

	strlist_init(&list);
	if (address_parse_list((const char *)data, size, &list, &err) == 0) {
		w.want = &list;
		w.i = 0;
		w.len = size;
		FUZZ_ASSERT(address_walk_list((const char *)data, size, visit,
		                              &w, &err) == 0);
		FUZZ_ASSERT(w.i == list.n);
		for (size_t i = 0; i < list.n; i++)
			FUZZ_ASSERT(!strpbrk(list.v[i], "\r\n"));
	} else {
		FUZZ_ASSERT(err.kind == ERROR_DATA);
	}
	strlist_clear(&list);
	free(s);
	return 0;
}
