/*
 * envelope.h - one message's envelope, the one shape every stage passes
 * along: the command line's job, a submission, the queue, -bs, the log
 * line and the JSON result (--json) all read the same struct instead of
 * each copying it field by field into one of its own.
 *
 * It holds what RFC 5321 3.3 calls the envelope (the sender, the
 * recipients) with what travels with it: the DSN parameters (RFC 3461),
 * the priority (RFC 6710) and the identity of the account that sends it
 * (with the --host/--port given at submission, which a queued entry must
 * remember).  Each recipient carries its own state: after an attempt it
 * says which recipients got the message, which were refused for now (to be
 * tried again: "queue the rest") and which for good, with the server's
 * reply for each.
 *
 * Ownership: every string is owned by the envelope (copied in by the
 * setters, freed by envelope_clear).  A member may be replaced directly by
 * another malloc'd string, whose ownership passes to the envelope.  Base
 * layer: depends on util.h only.
 */
#ifndef MAILPOST_ENVELOPE_H
#define MAILPOST_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 3461 4.4: an ENVID is at most 100 characters. */
#define ENVELOPE_DSN_ENVID_MAX 100

/* RFC 6710 priorities run from -9 to 9; 0 is normal. */
#define ENVELOPE_PRIORITY_MIN (-9)
#define ENVELOPE_PRIORITY_MAX 9

/* What became of one recipient in the last attempt.  Only a reply about
 * the recipient itself sets a verdict: its RCPT reply, the reply to the
 * final dot for the recipients it covers (every accepted one for SMTP,
 * each one's own for LMTP, RFC 2033 4.2).  A failure of the whole
 * transaction (MAIL or DATA refused, the connection lost, the status
 * unknown after the dot) leaves the recipients it stopped pending: the
 * message's error says why. */
enum envelope_state {
	ENVELOPE_PENDING = 0,  /* no verdict: not tried, or not reached */
	ENVELOPE_ACCEPTED,     /* the server took the message for it */
	ENVELOPE_REFUSED_TEMP, /* refused for now (4xx): may be tried again */
	ENVELOPE_REFUSED_PERM, /* refused for good (5xx) */
};

struct envelope_rcpt {
	char *addr;                /* as given (UTF-8 allowed); never NULL */
	enum envelope_state state; /* ENVELOPE_PENDING until a verdict */
	int code;                  /* the reply behind the verdict, or 0 */
	char *reply; /* its text as the server sent it (censored, lines
	              * joined by '\n', e.g. "550 5.1.1 No such user"), or
	              * NULL */
};

/* RFC 3461 parameters; each NULL when not given. */
struct envelope_dsn {
	char *notify; /* NOTIFY= for every recipient: "NEVER" or a list of
	               * SUCCESS, FAILURE, DELAY */
	char *ret;    /* RET=: "FULL" or "HDRS" */
	char *envid;  /* ENVID=, decoded (xtext is the wire's business) */
};

struct envelope {
	char *sender; /* "" is the null sender <>; NULL until set */
	struct envelope_rcpt *rcpts;
	size_t nrcpts;
	size_t cap; /* allocated room in rcpts */
	struct envelope_dsn dsn;
	int priority; /* ENVELOPE_PRIORITY_MIN..MAX; 0 normal */
	/* Who sends it: the account's name ("" or NULL: the defaults), and
	 * the --host and --port given at submission (NULL and 0 when not),
	 * so that a queued message goes the way it was meant to. */
	char *account;
	char *host;
	int port;
};

/* An empty envelope: no sender (NULL), no recipients, no DSN, priority 0,
 * no account. */
void envelope_init(struct envelope *e);

/* Free everything e owns; it is then as after envelope_init. */
void envelope_clear(struct envelope *e);

/* Set the sender (a copy; "" is <>; NULL unsets it). */
void envelope_set_sender(struct envelope *e, const char *sender);

/* Add a recipient (a copy of addr, not NULL), pending; its index is
 * returned.  Duplicates are the caller's business (which addresses are the
 * same is address.h's question). */
size_t envelope_add_rcpt(struct envelope *e, const char *addr);

/* Set the DSN parameters (copies; NULL for one not given). */
void envelope_set_dsn(struct envelope *e, const char *notify, const char *ret,
                      const char *envid);

/* Whether a DSN value can go on a MAIL or RCPT line as it is (RFC 3461,
 * any case): NOTIFY is NEVER or a comma list of SUCCESS, FAILURE, DELAY
 * (4.1), RET is FULL or HDRS (4.3), an ENVID 1 to ENVELOPE_DSN_ENVID_MAX
 * printable ASCII characters without space (4.4; sent as xtext). */
bool envelope_dsn_notify_valid(const char *s);
bool envelope_dsn_ret_valid(const char *s);
bool envelope_dsn_envid_valid(const char *s);

/* The first of e's DSN parameters that go on the wire as they are
 * (NOTIFY, RET) that is given and not valid ("NOTIFY", "RET"), or NULL:
 * what a queue entry read back says was never checked on a command line,
 * and a space in it would add a parameter to the line.  (The ENVID goes
 * as xtext, whatever its bytes: -bs takes any.) */
const char *envelope_dsn_invalid(const struct envelope *e);

/* Set the account identity (copies; name NULL or "" for the defaults,
 * host NULL and port 0 for none given). */
void envelope_set_account(struct envelope *e, const char *name,
                          const char *host, int port);

/* dst (initialised; what it held is freed; not src itself) becomes a copy
 * of src as a new message's envelope: every recipient pending, without a
 * reply. */
void envelope_copy(struct envelope *dst, const struct envelope *src);

/* The same, with only the recipients of src in state `only`: the
 * envelope of "the rest" after a partial delivery (ENVELOPE_REFUSED_TEMP:
 * those refused for now). */
void envelope_copy_state(struct envelope *dst, const struct envelope *src,
                         enum envelope_state only);

/* A set of states, for the functions that take several: e.g.
 * ENVELOPE_BIT(ENVELOPE_REFUSED_TEMP) | ENVELOPE_BIT(ENVELOPE_REFUSED_PERM),
 * those who did not get the message. */
#define ENVELOPE_BIT(s) (1u << (unsigned)(s))

/* The same, with the recipients of src whose state is in the set `states`
 * (ENVELOPE_BIT): what a queued entry keeps after a partial delivery. */
void envelope_copy_states(struct envelope *dst, const struct envelope *src,
                          unsigned states);

/* Record recipient i's verdict: its state, the reply's code (0: none) and
 * text (copied; NULL: none). */
void envelope_rcpt_set(struct envelope *e, size_t i, enum envelope_state state,
                       int code, const char *reply);

/* Every recipient back to pending, without a reply: before an attempt, so
 * that what an earlier one said is not taken for this one's. */
void envelope_rcpt_reset(struct envelope *e);

/* How many recipients are in state s. */
size_t envelope_count(const struct envelope *e, enum envelope_state s);

/* A state's name for logs and machine-readable output: "pending",
 * "accepted", "refused-temporarily", "refused-permanently". */
const char *envelope_state_name(enum envelope_state s);

#endif
