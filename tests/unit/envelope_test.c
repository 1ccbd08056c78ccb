/*
 * envelope_test.c - the one envelope (envelope.c): its strings are its
 * own, recipients keep their order and their verdicts, and a copy is a
 * new message's envelope.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "envelope.h"
#include "unit.h"

static void
test_empty(void)
{
	struct envelope e;

	envelope_init(&e);
	CHECK(e.sender == NULL);
	CHECK_INT(e.nrcpts, 0);
	CHECK(e.dsn.notify == NULL && e.dsn.ret == NULL && e.dsn.envid == NULL);
	CHECK(e.account == NULL && e.host == NULL);
	CHECK_INT(e.port, 0);
	CHECK_INT(e.priority, 0);
	CHECK_INT(envelope_count(&e, ENVELOPE_PENDING), 0);
	/* Clearing an empty envelope, twice, is harmless. */
	envelope_clear(&e);
	envelope_clear(&e);
	CHECK(e.sender == NULL);
}

/* The setters copy: the caller's buffer may change or go away. */
static void
test_owns_strings(void)
{
	struct envelope e;
	char buf[64];

	envelope_init(&e);
	snprintf(buf, sizeof buf, "%s", "me@example.org");
	envelope_set_sender(&e, buf);
	snprintf(buf, sizeof buf, "%s", "you@example.org");
	CHECK_INT(envelope_add_rcpt(&e, buf), 0);
	snprintf(buf, sizeof buf, "%s", "NEVER");
	envelope_set_dsn(&e, buf, "HDRS", "id 1");
	snprintf(buf, sizeof buf, "%s", "work");
	envelope_set_account(&e, buf, "smtp.example.org", 2525);
	memset(buf, 'x', sizeof buf - 1);
	CHECK_STR(e.sender, "me@example.org");
	CHECK_STR(e.rcpts[0].addr, "you@example.org");
	CHECK_STR(e.dsn.notify, "NEVER");
	CHECK_STR(e.dsn.ret, "HDRS");
	CHECK_STR(e.dsn.envid, "id 1");
	CHECK_STR(e.account, "work");
	CHECK_STR(e.host, "smtp.example.org");
	CHECK_INT(e.port, 2525);

	/* Setting again replaces (the old string is freed: ASan would say
	 * otherwise); NULL unsets; "" is the null sender, not unset. */
	envelope_set_sender(&e, "");
	CHECK_STR(e.sender, "");
	envelope_set_sender(&e, NULL);
	CHECK(e.sender == NULL);
	envelope_set_dsn(&e, NULL, "FULL", NULL);
	CHECK(e.dsn.notify == NULL && e.dsn.envid == NULL);
	CHECK_STR(e.dsn.ret, "FULL");
	envelope_set_account(&e, NULL, NULL, 0);
	CHECK(e.account == NULL && e.host == NULL);
	CHECK_INT(e.port, 0);
	envelope_clear(&e);
	CHECK(e.rcpts == NULL);
	CHECK_INT(e.nrcpts, 0);
}

/* Recipients keep their order through growth; any byte but NUL is kept. */
static void
test_many_rcpts(void)
{
	struct envelope e;
	char addr[64];
	bool ok = true;

	envelope_init(&e);
	for (int i = 0; i < 1000; i++) {
		snprintf(addr, sizeof addr, "\"user %d\"@ex\xc3\xa4mple.org",
		         i);
		if (envelope_add_rcpt(&e, addr) != (size_t)i)
			ok = false;
	}
	CHECK(ok);
	CHECK_INT(e.nrcpts, 1000);
	CHECK(e.cap >= e.nrcpts);
	for (int i = 0; i < 1000; i++) {
		snprintf(addr, sizeof addr, "\"user %d\"@ex\xc3\xa4mple.org",
		         i);
		if (strcmp(e.rcpts[i].addr, addr) != 0 ||
		    e.rcpts[i].state != ENVELOPE_PENDING ||
		    e.rcpts[i].reply != NULL || e.rcpts[i].code != 0)
			ok = false;
	}
	CHECK(ok);
	CHECK_INT(envelope_count(&e, ENVELOPE_PENDING), 1000);
	envelope_clear(&e);
	/* Usable again after a clear. */
	CHECK_INT(envelope_add_rcpt(&e, "again@example.org"), 0);
	CHECK_STR(e.rcpts[0].addr, "again@example.org");
	envelope_clear(&e);
}

static void
fill(struct envelope *e)
{
	envelope_init(e);
	envelope_set_sender(e, "me@example.org");
	envelope_add_rcpt(e, "a@example.org");
	envelope_add_rcpt(e, "b@example.org");
	envelope_add_rcpt(e, "c@example.org");
	envelope_add_rcpt(e, "d@example.org");
	envelope_set_dsn(e, "SUCCESS,FAILURE", "HDRS", "envid+2B");
	envelope_set_account(e, "work", "mx.example.org", 587);
	e->priority = -3;
}

/* Verdicts: set, counted, replaced, and reset before another attempt. */
static void
test_states(void)
{
	struct envelope e;

	fill(&e);
	envelope_rcpt_set(&e, 0, ENVELOPE_ACCEPTED, 250, "250 2.0.0 Ok");
	envelope_rcpt_set(&e, 1, ENVELOPE_REFUSED_TEMP, 450,
	                  "450-4.2.1 busy\n450 4.2.1 try later");
	envelope_rcpt_set(&e, 2, ENVELOPE_REFUSED_PERM, 550,
	                  "550 5.1.1 No such user");
	CHECK_INT(envelope_count(&e, ENVELOPE_ACCEPTED), 1);
	CHECK_INT(envelope_count(&e, ENVELOPE_REFUSED_TEMP), 1);
	CHECK_INT(envelope_count(&e, ENVELOPE_REFUSED_PERM), 1);
	CHECK_INT(envelope_count(&e, ENVELOPE_PENDING), 1);
	CHECK_INT(e.rcpts[1].code, 450);
	CHECK_STR(e.rcpts[1].reply, "450-4.2.1 busy\n450 4.2.1 try later");
	CHECK(e.rcpts[3].reply == NULL);

	/* A later verdict replaces the earlier one, reply and all. */
	envelope_rcpt_set(&e, 1, ENVELOPE_ACCEPTED, 0, NULL);
	CHECK_INT(e.rcpts[1].state, ENVELOPE_ACCEPTED);
	CHECK_INT(e.rcpts[1].code, 0);
	CHECK(e.rcpts[1].reply == NULL);

	envelope_rcpt_reset(&e);
	CHECK_INT(envelope_count(&e, ENVELOPE_PENDING), 4);
	for (size_t i = 0; i < e.nrcpts; i++)
		CHECK(e.rcpts[i].code == 0 && e.rcpts[i].reply == NULL);
	/* The addresses are untouched by verdicts. */
	CHECK_STR(e.rcpts[2].addr, "c@example.org");
	envelope_clear(&e);
}

static void
check_head(const struct envelope *c)
{
	CHECK_STR(c->sender, "me@example.org");
	CHECK_STR(c->dsn.notify, "SUCCESS,FAILURE");
	CHECK_STR(c->dsn.ret, "HDRS");
	CHECK_STR(c->dsn.envid, "envid+2B");
	CHECK_STR(c->account, "work");
	CHECK_STR(c->host, "mx.example.org");
	CHECK_INT(c->port, 587);
	CHECK_INT(c->priority, -3);
}

/* A copy is deep (it outlives the original) and a new message's: every
 * recipient pending, without the original's replies. */
static void
test_copy(void)
{
	struct envelope e, c;

	fill(&e);
	envelope_rcpt_set(&e, 1, ENVELOPE_REFUSED_TEMP, 451, "451 later");
	envelope_init(&c);
	envelope_set_sender(&c, "old@example.org"); /* freed by the copy */
	envelope_add_rcpt(&c, "old@example.org");
	envelope_copy(&c, &e);
	envelope_clear(&e);
	check_head(&c);
	CHECK_INT(c.nrcpts, 4);
	CHECK_STR(c.rcpts[0].addr, "a@example.org");
	CHECK_STR(c.rcpts[3].addr, "d@example.org");
	CHECK_INT(envelope_count(&c, ENVELOPE_PENDING), 4);
	CHECK(c.rcpts[1].reply == NULL);
	envelope_clear(&c);

	/* Unset fields stay unset in the copy. */
	envelope_init(&e);
	envelope_set_sender(&e, "");
	envelope_add_rcpt(&e, "x@example.org");
	envelope_init(&c);
	envelope_copy(&c, &e);
	CHECK_STR(c.sender, "");
	CHECK(c.dsn.notify == NULL && c.dsn.ret == NULL && c.dsn.envid == NULL);
	CHECK(c.account == NULL && c.host == NULL);
	envelope_clear(&c);
	envelope_clear(&e);
}

/* "The rest": only the recipients in one state, in their order. */
static void
test_copy_state(void)
{
	struct envelope e, rest;

	fill(&e);
	envelope_rcpt_set(&e, 0, ENVELOPE_ACCEPTED, 250, "250 Ok");
	envelope_rcpt_set(&e, 1, ENVELOPE_REFUSED_TEMP, 450, "450 busy");
	envelope_rcpt_set(&e, 2, ENVELOPE_REFUSED_PERM, 550, "550 no");
	envelope_rcpt_set(&e, 3, ENVELOPE_REFUSED_TEMP, 452, "452 full");
	envelope_init(&rest);
	envelope_copy_state(&rest, &e, ENVELOPE_REFUSED_TEMP);
	check_head(&rest);
	CHECK_INT(rest.nrcpts, 2);
	CHECK_STR(rest.rcpts[0].addr, "b@example.org");
	CHECK_STR(rest.rcpts[1].addr, "d@example.org");
	CHECK_INT(envelope_count(&rest, ENVELOPE_PENDING), 2);
	CHECK(rest.rcpts[0].reply == NULL);

	/* None in that state: an envelope without recipients. */
	envelope_rcpt_reset(&e);
	envelope_copy_state(&rest, &e, ENVELOPE_REFUSED_TEMP);
	CHECK_INT(rest.nrcpts, 0);
	check_head(&rest);
	envelope_clear(&rest);
	envelope_clear(&e);
}

static void
test_state_names(void)
{
	CHECK_STR(envelope_state_name(ENVELOPE_PENDING), "pending");
	CHECK_STR(envelope_state_name(ENVELOPE_ACCEPTED), "accepted");
	CHECK_STR(envelope_state_name(ENVELOPE_REFUSED_TEMP),
	          "refused-temporarily");
	CHECK_STR(envelope_state_name(ENVELOPE_REFUSED_PERM),
	          "refused-permanently");
	CHECK_STR(envelope_state_name((enum envelope_state)99), "unknown");
}

/* What goes on the wire as it is: NOTIFY and RET (RFC 3461 4.1, 4.3). */
static void
test_dsn_values(void)
{
	struct envelope e;

	CHECK(envelope_dsn_notify_valid("NEVER"));
	CHECK(envelope_dsn_notify_valid("success,Failure,DELAY"));
	CHECK(!envelope_dsn_notify_valid("SUCCESS XFOO=1"));
	CHECK(!envelope_dsn_notify_valid("SUCCESS,"));
	CHECK(!envelope_dsn_notify_valid(""));
	CHECK(envelope_dsn_ret_valid("hdrs"));
	CHECK(!envelope_dsn_ret_valid("FULL AUTH=<a@b>"));
	CHECK(envelope_dsn_envid_valid("abc+1"));
	CHECK(!envelope_dsn_envid_valid("a b"));
	envelope_init(&e);
	CHECK(envelope_dsn_invalid(&e) == NULL);
	envelope_set_dsn(&e, "DELAY", "FULL", "any thing");
	CHECK(envelope_dsn_invalid(&e) == NULL);
	envelope_set_dsn(&e, "DELAY", "FULL AUTH=<a@b>", NULL);
	CHECK_STR(envelope_dsn_invalid(&e), "RET");
	envelope_set_dsn(&e, "DELAY XFOO=1", NULL, NULL);
	CHECK_STR(envelope_dsn_invalid(&e), "NOTIFY");
	envelope_clear(&e);
}

int
main(void)
{
	test_empty();
	test_owns_strings();
	test_many_rcpts();
	test_states();
	test_copy();
	test_copy_state();
	test_state_names();
	test_dsn_values();
	return unit_done();
}
