/*
 * headeredit_test.c - the edits mailpost makes to a message's header
 * (headeredit.c): the priority a header asks for, the policy an account
 * asks for, the sender's header forms, and when the account's rewriting
 * runs.  Completing a header read whole is tested in source_test.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "error.h"
#include "header.h"
#include "header_text.h"
#include "headeredit.h"
#include "mime.h"
#include "unit.h"

struct prio_case {
	const char *in;
	int want;
};

static const struct prio_case prio_cases[] = {
    {"To: a\r\n", 0},
    {"Priority: urgent\r\n", 4},
    {"priority:URGENT\r\n", 4},
    {"Priority : urgent\r\n", 4},
    {"Priority: non-urgent\r\n", -4},
    {"Priority: normal\r\n", 0},
    {"Priority:\r\n  urgent  \r\n", 4},
    {"Priority: urgent please\r\n", 0},
    {"X-Priority: 1 (Highest)\r\n", 4},
    {"X-Priority: 2\r\n", 4},
    {"X-Priority: 3\r\n", 0},
    {"X-Priority: 4\r\n", -4},
    {"x-priority:\t5 (Lowest)\r\n", -4},
    {"X-Priority:\r\n", 0},
    {"X-Priority: 9\r\n", 0},
    /* Priority first, even when it says normal; the first of a name */
    {"X-Priority: 1\r\nPriority: normal\r\n", 0},
    {"Priority: non-urgent\r\nPriority: urgent\r\n", -4},
    {"X-Priority: 5\r\nX-Priority: 1\r\n", -4},
};

static void
test_priority(void)
{
	for (size_t i = 0; i < sizeof prio_cases / sizeof *prio_cases; i++) {
		struct header_block h;

		header_from(&h, prio_cases[i].in);
		CHECK_INT(headeredit_priority(&h), prio_cases[i].want);
		header_clear(&h);
	}
	CHECK_INT(mime_priority_value(MIME_PRIORITY_NONE), 0);
	CHECK_INT(mime_priority_value(MIME_PRIORITY_HIGH), 4);
	CHECK_INT(mime_priority_value(MIME_PRIORITY_NORMAL), 0);
	CHECK_INT(mime_priority_value(MIME_PRIORITY_LOW), -4);
}

/* The account's keys become the policy; the sender's domain wins over
 * the EHLO name for the Message-ID; -t removes Bcc. */
static void
test_policy(void)
{
	struct account a;
	struct header_policy p;

	account_defaults(&a);
	a.domain = strdup("ehlo.example");
	p = headeredit_policy(&a, "me@example.org", "example.org", "Me", false);
	CHECK_STR(p.from_address, "me@example.org");
	CHECK_STR(p.full_name, "Me");
	CHECK_STR(p.msgid_domain, "example.org");
	CHECK_INT(p.set_from, FROM_HEADER_AUTO);
	CHECK_INT(p.remove_bcc, a.remove_bcc_headers);
	CHECK_INT(p.set_date, a.set_date_header);
	CHECK_INT(p.set_msgid, a.set_msgid_header);
	CHECK_INT(p.undisclosed, a.undisclosed_recipients);
	p = headeredit_policy(&a, "", NULL, NULL, true);
	CHECK_STR(p.msgid_domain, "ehlo.example");
	CHECK(p.full_name == NULL);
	CHECK(p.remove_bcc);
	a.set_from_header = CONF_FROM_ON;
	a.remove_bcc_headers = true;
	a.set_date_header = false;
	a.set_msgid_header = false;
	a.undisclosed_recipients = true;
	p = headeredit_policy(&a, "", NULL, NULL, false);
	CHECK_INT(p.set_from, FROM_HEADER_ON);
	CHECK(p.remove_bcc && !p.set_date && !p.set_msgid && p.undisclosed);
	a.set_from_header = CONF_FROM_OFF;
	p = headeredit_policy(&a, "", NULL, NULL, false);
	CHECK_INT(p.set_from, FROM_HEADER_OFF);
	account_clear(&a);
}

/* The header forms of the sender: the domain in A-labels, the null
 * sender empty; earlier results are freed. */
static void
test_sender_forms(void)
{
	char *header = NULL, *domain = NULL;
	struct error err;

	CHECK_INT(
	    headeredit_sender_forms("anna@example.org", &header, &domain, &err),
	    0);
	CHECK_STR(header, "anna@example.org");
	CHECK_STR(domain, "example.org");
	CHECK_INT(headeredit_sender_forms("anna@b\xc3\xbc"
	                                  "cher.example",
	                                  &header, &domain, &err),
	          0);
	CHECK_STR(header, "anna@xn--bcher-kva.example");
	CHECK_STR(domain, "xn--bcher-kva.example");
	CHECK_INT(headeredit_sender_forms("", &header, &domain, &err), 0);
	CHECK_STR(header, "");
	CHECK(domain == NULL);
	CHECK_INT(headeredit_sender_forms("anna", &header, &domain, &err), 0);
	CHECK_STR(header, "anna");
	CHECK(domain == NULL);
	CHECK_INT(headeredit_sender_forms("anna@", &header, &domain, &err), 0);
	CHECK(domain == NULL);
	free(header);
	free(domain);
}

/* The block's fields, concatenated. */
static void
render(const struct header_block *h, struct buf *out)
{
	buf_reset(out);
	header_render(h, out);
}

/* The account's rewriting runs only when it asks, and From only for a
 * sender that is not null. */
static void
test_rewrite(void)
{
	static const char in[] = "From: root\r\nTo: bob\r\n";
	struct account a;
	struct header_block h;
	struct error err;
	struct buf out;

	account_defaults(&a);
	buf_init(&out, 4096);
	header_from(&h, in);
	CHECK_INT(headeredit_rewrite(&h, &a, "cron@example.org",
	                             "cron@example.org", NULL, &err),
	          0);
	render(&h, &out);
	CHECK_STR(buf_str(&out), in);
	a.rewrite_local_from = true;
	CHECK_INT(headeredit_rewrite(&h, &a, "", "", NULL, &err), 0);
	render(&h, &out);
	CHECK_STR(buf_str(&out), in);
	CHECK_INT(headeredit_rewrite(&h, &a, "cron@example.org",
	                             "cron@example.org", NULL, &err),
	          0);
	render(&h, &out);
	CHECK_STR(buf_str(&out), "From: cron@example.org\r\nTo: bob\r\n");
	a.rewrite_local_from = false;
	a.qualify_headers = true;
	a.maildomain = strdup("example.org");
	CHECK_INT(headeredit_rewrite(&h, &a, "", "", NULL, &err), 0);
	render(&h, &out);
	CHECK_STR(buf_str(&out),
	          "From: cron@example.org\r\nTo: bob@example.org\r\n");
	header_clear(&h);
	buf_clear(&out);
	account_clear(&a);
}

int
main(void)
{
	test_priority();
	test_policy();
	test_sender_forms();
	test_rewrite();
	return unit_done();
}
