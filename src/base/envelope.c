/*
 * envelope.c - one message's envelope and its recipients' states (see
 * envelope.h).
 */
#include "config.h"

#include "envelope.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* Replace the owned string *field by a copy of v (NULL stays NULL). */
static void
set_string(char **field, const char *v)
{
	char *copy = v ? xstrdup(v) : NULL;

	free(*field);
	*field = copy;
}

void
envelope_init(struct envelope *e)
{
	memset(e, 0, sizeof *e);
}

static void
rcpt_clear(struct envelope_rcpt *r)
{
	free(r->addr);
	free(r->reply);
	memset(r, 0, sizeof *r);
}

void
envelope_clear(struct envelope *e)
{
	for (size_t i = 0; i < e->nrcpts; i++)
		rcpt_clear(&e->rcpts[i]);
	free(e->rcpts);
	free(e->sender);
	free(e->dsn.notify);
	free(e->dsn.ret);
	free(e->dsn.envid);
	free(e->account);
	free(e->host);
	envelope_init(e);
}

void
envelope_set_sender(struct envelope *e, const char *sender)
{
	set_string(&e->sender, sender);
}

size_t
envelope_add_rcpt(struct envelope *e, const char *addr)
{
	struct envelope_rcpt *r;

	if (e->nrcpts == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 4;
		e->rcpts = xrealloc(e->rcpts, e->cap * sizeof *e->rcpts);
	}
	r = &e->rcpts[e->nrcpts];
	memset(r, 0, sizeof *r);
	r->addr = xstrdup(addr);
	r->state = ENVELOPE_PENDING;
	return e->nrcpts++;
}

void
envelope_set_dsn(struct envelope *e, const char *notify, const char *ret,
                 const char *envid)
{
	set_string(&e->dsn.notify, notify);
	set_string(&e->dsn.ret, ret);
	set_string(&e->dsn.envid, envid);
}

void
envelope_set_account(struct envelope *e, const char *name, const char *host,
                     int port)
{
	set_string(&e->account, name);
	set_string(&e->host, host);
	e->port = port;
}

/* Everything but the recipients. */
static void
copy_head(struct envelope *dst, const struct envelope *src)
{
	envelope_clear(dst);
	envelope_set_sender(dst, src->sender);
	envelope_set_dsn(dst, src->dsn.notify, src->dsn.ret, src->dsn.envid);
	envelope_set_account(dst, src->account, src->host, src->port);
	dst->priority = src->priority;
}

void
envelope_copy(struct envelope *dst, const struct envelope *src)
{
	copy_head(dst, src);
	for (size_t i = 0; i < src->nrcpts; i++)
		envelope_add_rcpt(dst, src->rcpts[i].addr);
}

void
envelope_copy_state(struct envelope *dst, const struct envelope *src,
                    enum envelope_state only)
{
	envelope_copy_states(dst, src, ENVELOPE_BIT(only));
}

void
envelope_copy_states(struct envelope *dst, const struct envelope *src,
                     unsigned states)
{
	copy_head(dst, src);
	for (size_t i = 0; i < src->nrcpts; i++)
		if (states & ENVELOPE_BIT(src->rcpts[i].state))
			envelope_add_rcpt(dst, src->rcpts[i].addr);
}

void
envelope_rcpt_set(struct envelope *e, size_t i, enum envelope_state state,
                  int code, const char *reply)
{
	struct envelope_rcpt *r = &e->rcpts[i];

	r->state = state;
	r->code = code;
	set_string(&r->reply, reply);
}

void
envelope_rcpt_reset(struct envelope *e)
{
	for (size_t i = 0; i < e->nrcpts; i++)
		envelope_rcpt_set(e, i, ENVELOPE_PENDING, 0, NULL);
}

size_t
envelope_count(const struct envelope *e, enum envelope_state s)
{
	size_t n = 0;

	for (size_t i = 0; i < e->nrcpts; i++)
		if (e->rcpts[i].state == s)
			n++;
	return n;
}

const char *
envelope_state_name(enum envelope_state s)
{
	switch (s) {
	case ENVELOPE_PENDING:
		return "pending";
	case ENVELOPE_ACCEPTED:
		return "accepted";
	case ENVELOPE_REFUSED_TEMP:
		return "refused-temporarily";
	case ENVELOPE_REFUSED_PERM:
		return "refused-permanently";
	}
	return "unknown";
}

/* s[0..len) is word, in any case. */
static bool
token_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

bool
envelope_dsn_notify_valid(const char *s)
{
	if (str_ieq(s, "never"))
		return true;
	for (;;) {
		size_t len = strcspn(s, ",");

		if (!token_is(s, len, "success") &&
		    !token_is(s, len, "failure") && !token_is(s, len, "delay"))
			return false;
		if (s[len] == '\0')
			return true;
		s += len + 1;
	}
}

bool
envelope_dsn_ret_valid(const char *s)
{
	return str_ieq(s, "full") || str_ieq(s, "hdrs");
}

bool
envelope_dsn_envid_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > ENVELOPE_DSN_ENVID_MAX)
		return false;
	for (; *s != '\0'; s++) {
		if (*s < 0x21 || *s > 0x7e)
			return false;
	}
	return true;
}

const char *
envelope_dsn_invalid(const struct envelope *e)
{
	if (e->dsn.notify && !envelope_dsn_notify_valid(e->dsn.notify))
		return "NOTIFY";
	if (e->dsn.ret && !envelope_dsn_ret_valid(e->dsn.ret))
		return "RET";
	return NULL;
}
