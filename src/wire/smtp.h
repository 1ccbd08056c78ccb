/*
 * smtp.h - the SMTP (and LMTP) client session: the protocol and nothing
 * else.  It sends commands, reads and checks replies, and reports them;
 * what a rejection means for the message (give up, try other recipients,
 * queue) is decided by submit.c.
 *
 * The session is a small state machine (see the state table in smtp.c):
 * every state change goes through one function that records it in the
 * transcript.  Commands are written into the connection's buffer and the
 * buffer is flushed only when a reply must be awaited, so a PIPELINING
 * group (RFC 2920) leaves in one write.
 *
 * Transport security and authentication happen inside smtp_open: implicit
 * TLS (RFC 8314) or STARTTLS (RFC 3207), then EHLO again inside TLS, then
 * AUTH (RFC 4954) when configured.  Nothing of a session that failed them
 * is usable: no MAIL is ever sent over it.
 *
 * Return values: 0 when the exchange happened (the replies say how it
 * went), -1 when it could not (connection lost, timeout, a malformed
 * reply: ERROR_TEMPFAIL or ERROR_PROTOCOL), or, for the opening and the
 * greeting only, when the server refused (kind from the reply).  After -1
 * the session is unusable except for smtp_close.
 */
#ifndef MAILPOST_SMTP_H
#define MAILPOST_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conn.h"
#include "envelope.h"
#include "error.h"
#include "reply.h"
#include "smtpcaps.h"
#include "transcript.h"

/* RFC 5321 4.5.3.2 timeouts, in milliseconds. */
struct smtp_timeouts {
	int connect;  /* each connect attempt (not in the RFC; ours) */
	int greeting; /* 5 minutes */
	int command;  /* EHLO, MAIL, RCPT, RSET, QUIT...: 5 minutes */
	int data;     /* DATA initiation: 2 minutes */
	int block;    /* each write of the body: 3 minutes */
	int final;    /* reply to the final dot: 10 minutes */
};

/* The RFC values above; with `seconds` > 0, every timeout is that. */
void smtp_timeouts_init(struct smtp_timeouts *t, int seconds);

/* The steps of a session, in the order they happen: what --quit-after
 * names, and what --timing, --serverinfo and --json time. */
enum smtp_step {
	SMTP_STEP_CONNECT,  /* the transport: TCP, a proxy, a local socket */
	SMTP_STEP_GREETING, /* the server's 220 */
	SMTP_STEP_EHLO,     /* EHLO (or HELO, LHLO) in the clear, or the first
	                     * one inside implicit TLS */
	SMTP_STEP_TLS,      /* implicit TLS: the handshake; STARTTLS: the
	                     * command, the handshake and the EHLO after it */
	SMTP_STEP_AUTH,     /* the whole AUTH exchange */
	SMTP_STEP_MAIL,     /* MAIL FROM and its reply */
	SMTP_STEP_RCPT,     /* the first RCPT sent to the last reply read */
	SMTP_STEP_DATA,     /* DATA and its reply (354, or a refusal) */
	SMTP_STEP_BODY,     /* the message and the reply (LMTP: the replies)
	                     * to its end */
	SMTP_STEP_QUIT,     /* QUIT and its reply */
	SMTP_NSTEPS
};

/* "connect", "greeting", "ehlo", "tls", "auth", "mail", "rcpt", "data",
 * "body", "quit". */
const char *smtp_step_name(enum smtp_step step);

/* When each step of a session began and ended, in microseconds since
 * smtp_open was called; -1 for a step not begun (begin_us) or not finished
 * (end_us).  A step that begun and did not finish is where the session
 * failed (smtp_timing_failed).  A later transaction on the same session
 * overwrites MAIL to BODY; with PIPELINING, MAIL, RCPT and DATA begin
 * together (their commands leave in one write) and end as their replies
 * arrive. */
struct smtp_timing {
	int64_t origin_us; /* now_us() when smtp_open was called */
	int64_t begin_us[SMTP_NSTEPS];
	int64_t end_us[SMTP_NSTEPS];
};

/* Every step not begun. */
void smtp_timing_init(struct smtp_timing *t);

/* The step that began and did not finish (the latest such), or
 * SMTP_NSTEPS when every step begun has finished. */
enum smtp_step smtp_timing_failed(const struct smtp_timing *t);

/* What the server said while a session opened, for --serverinfo: kept
 * in a record the caller owns (like struct smtp_timing), so that a
 * session that failed (a greeting of 554, a refused certificate, a
 * connection closed after the greeting) still shows what came before. */
struct smtp_heard {
	char peer[512];        /* conn_peer once connected, else "" */
	struct reply greeting; /* code 0: none came */
	/* The replies to EHLO (LHLO, or HELO when EHLO was refused): [0] the
	 * first one (in the clear, or inside implicit TLS), [1] the one
	 * after STARTTLS; code 0 when not read.  caps[] are what they
	 * offered, hello_verb[] the command that was answered.  hello_cut[]:
	 * the reply did not come whole and in order (malformed, too long,
	 * the connection closed or the wait timed out in its middle, or
	 * bytes after it), so hello[] holds only its first lines and caps[]
	 * nothing. */
	struct reply hello[2];
	struct smtp_caps caps[2];
	const char *hello_verb[2];
	bool hello_cut[2];
	bool implicit_tls;     /* the first EHLO was inside TLS */
	struct reply starttls; /* the reply to STARTTLS; code 0: not sent */
	bool tls_done;         /* TLS is on: handshake done, server accepted */
};

void smtp_heard_init(struct smtp_heard *h);
void smtp_heard_clear(struct smtp_heard *h);

/* What a session negotiated that its caller reports (--json) and that
 * outlives it: owned by the caller, filled as the session goes (the TLS
 * session is described through tls_params.info). */
struct smtp_report {
	char auth_mechanism[SMTP_MECH_MAX + 1]; /* the one AUTH tried, or "" */
};

enum smtp_tls_mode {
	SMTP_TLS_OFF = 0,
	SMTP_TLS_STARTTLS, /* RFC 3207: required, never a plaintext fallback */
	SMTP_TLS_IMPLICIT, /* RFC 8314 3.3: TLS from the first byte */
};

struct smtp_options {
	struct conn_target target; /* host, port, source address; its
	                            * timeout_ms, when 0, is timeouts.connect */
	const char *helo_name;     /* our name for EHLO/HELO/LHLO */
	bool lmtp;                 /* RFC 2033: LHLO, one reply per recipient */
	struct smtp_timeouts timeouts;
	struct transcript *transcript; /* may be NULL */

	enum smtp_tls_mode tls;
	/* host: the A-label to verify (NULL: target.host); timeout_ms <= 0:
	 * timeouts.command.  Read only during smtp_open. */
	struct tls_params tls_params;

	/* AUTH: NULL (or "off") for none; "on" or a mechanism name. */
	const char *auth;
	const char *user;
	const char *secret;  /* password or token; NULL when not needed */
	const char *account; /* the account's name, only for messages (an
	                      * AUTH failure, a refused certificate) */
	bool private_names;  /* the user and the account are not named in
	                      * messages (sasl.h) */
	bool auth_plaintext; /* PLAIN/LOGIN allowed without TLS */
	bool bearer;         /* the secret is an OAuth2 access token
	                      * (sasl_params.bearer) */
	/* NULL, or how a refused secret is renewed once on the same session
	 * (a cached OAuth2 token the server no longer takes): called when
	 * the server refused the credentials (ERROR_NOPERM) and the session
	 * can take another AUTH (RFC 4954 4: a failed AUTH leaves it open
	 * and unauthenticated).  0 with *secret (valid while smtp_open
	 * runs): AUTH again with it, once; 1: the refusal stands; -1: the
	 * renewal failed, and its err is the session's failure. */
	int (*renew)(void *ctx, const char **secret, struct error *err);
	void *renew_ctx;

	/* NULL, or where the session records its steps' times as it goes
	 * (smtp_open initialises it).  Owned by the caller, so it can be read
	 * after smtp_close, QUIT included. */
	struct smtp_timing *timing;

	/* Never pipeline (RFC 2920), even when the server offers it: one
	 * command, one reply.  smtp_caps still says what was offered. */
	bool no_pipelining;
	/* Never BDAT (RFC 3030), even when the server offers CHUNKING: the
	 * body goes with DATA, dot-stuffed. */
	bool no_chunking;

	/* --quit-after: with `stop`, the session goes no further than the
	 * step `stop_after` (smtp_open and smtp_envelope say where each
	 * stops); smtp_close then ends it.  Without it: every step. */
	bool stop;
	enum smtp_step stop_after;

	/* NULL, or where the session keeps what the server said while it
	 * opened (smtp_open initialises it; smtp_heard_clear frees). */
	struct smtp_heard *heard;
	/* With SMTP_TLS_OFF: STARTTLS all the same when the server offers
	 * it (--serverinfo shows both sides).  A failure is then a failure
	 * of the session, as with SMTP_TLS_STARTTLS. */
	bool starttls_if_offered;

	/* NULL, or the caller's record of what was negotiated (smtp_open
	 * clears it). */
	struct smtp_report *report;
};

/* RFC 3030 sets no size for a BDAT chunk.  A chunk is read whole into
 * one buffer before its "BDAT n" can be written, so this is the memory
 * a BDAT body costs (the DATA path's two buffers take 192 KiB); 256 KiB
 * keeps the replies to a 100 MiB message at 400. */
#define SMTP_CHUNK_SIZE (256 * 1024)
/* Chunks written before their replies are read (RFC 2920 3.2 item 2:
 * bounded, so that neither side blocks on a full socket buffer of
 * unread replies). */
#define SMTP_CHUNKS_UNREAD 16

struct smtp_session;

/* Connect (through TLS at once in SMTP_TLS_IMPLICIT), read the greeting,
 * send EHLO (HELO when EHLO is refused with a 5xx; LHLO for LMTP) and
 * record the capabilities; with SMTP_TLS_STARTTLS switch to TLS and send
 * EHLO again; with auth, authenticate.  A negative greeting or HELO reply
 * is returned as an error of the reply's kind.  TLS failures (handshake,
 * verification, injected bytes, STARTTLS not offered or answered with a
 * 5xx or an unexpected code) are ERROR_PROTOCOL; a 4xx to STARTTLS is
 * ERROR_TEMPFAIL.  AUTH failures are as sasl.h says; no message holds
 * the secret or a SASL response. */
int smtp_open(struct smtp_session **out, const struct smtp_options *o,
              struct error *err);

/* With o->stop, smtp_open returns 0 (a session for smtp_close only, or,
 * stopping after MAIL, RCPT or DATA, for smtp_envelope) as soon as the
 * step o->stop_after is over:
 *  - CONNECT: the transport is up (TCP, the proxy, the local socket);
 *    nothing was read or sent, not even the TLS handshake of implicit
 *    TLS, and smtp_close closes without QUIT (RFC 5321 3.1: nothing may
 *    be sent before the greeting);
 *  - GREETING: the 220 was read (after the handshake, with implicit TLS);
 *  - EHLO: the first EHLO (HELO, LHLO) was answered; STARTTLS is not
 *    sent;
 *  - TLS: STARTTLS, the handshake and the EHLO inside TLS; with implicit
 *    TLS, the greeting and the first EHLO (both inside TLS);
 *  - AUTH: the AUTH exchange succeeded.
 * smtp_close sends QUIT after each but CONNECT. */

const struct smtp_caps *smtp_caps(const struct smtp_session *s);

/* The session's step times so far (the caller's smtp_options.timing, or
 * the session's own). */
const struct smtp_timing *smtp_timing(const struct smtp_session *s);

/* One transaction: the envelope (envelope.h: sender, recipients, DSN,
 * priority), its addresses already in their wire form, and what only the
 * wire needs.  Recipients' states in it are not read. */
struct smtp_envelope {
	const struct envelope *envelope;
	/* NOTIFY= on each RCPT, RET= (FULL|HDRS) and ENVID= (as xtext, RFC
	 * 3461 4) on MAIL are sent from it when the server offers DSN; RFC
	 * 6710 MT-PRIORITY, -9..9, when not 0 and the server offers it
	 * (ignored otherwise: a priority is a wish, not a condition). */
	uint64_t size;  /* SIZE= when the server has SIZE; 0 omits it */
	bool body_8bit; /* BODY=8BITMIME (the caller checked the cap) */
	/* BODY=BINARYMIME (RFC 3030 3) instead: only in a transaction that
	 * goes by BDAT, which the caller learns from smtp_envelope_uses_bdat
	 * before filling it; smtp_envelope refuses it otherwise. */
	bool body_binary;
	/* DATA even when the server offers CHUNKING: the caller sends the
	 * body itself after the 354 (smtp_body_raw). */
	bool want_data;
	/* RFC 6531 3.4: the SMTPUTF8 parameter on MAIL; set only when an
	 * address cannot be written in ASCII, and only when the server offers
	 * it.  Without it every address must be ASCII (U-label domains
	 * already in A-labels): smtp_envelope refuses 8-bit addresses then. */
	bool smtputf8;
	/* Without pipelining, DATA is only sent when the replies allow it: when
	 * all_or_nothing, only if every recipient was accepted; otherwise if
	 * at least one was.  With pipelining DATA is always sent and the
	 * caller judges the replies (see smtp_abort). */
	bool all_or_nothing;
};

struct smtp_envelope_result {
	struct reply mail;
	struct reply *rcpt; /* nrcpts replies; code 0 for one not sent */
	size_t nrcpt;
	size_t naccepted;
	struct reply data; /* code 0 when DATA was not sent */
	/* The body goes by BDAT (RFC 3030): no DATA was sent, and
	 * smtp_body may follow once MAIL and a recipient were accepted. */
	bool bdat;
	/* With bdat: MAIL and the RCPTs were queued and not yet answered
	 * (one recipient, or all_or_nothing false, with PIPELINING: the
	 * chunks and QUIT go in the same write).  Then smtp_body must
	 * follow, the envelope and this result still alive: it reads the
	 * replies to MAIL and RCPT into this result before the chunks'
	 * (mail, rcpt[], naccepted), and the caller judges them after it:
	 * a refused envelope makes the server refuse the chunks too. */
	bool piped;
};

void smtp_envelope_result_init(struct smtp_envelope_result *r);
void smtp_envelope_result_clear(struct smtp_envelope_result *r);

/* Send MAIL, RCPT for each recipient, and DATA (pipelined when offered,
 * and not turned off by no_pipelining,
 * checking every reply; without pipelining, stops at the first refusal
 * that makes the rest pointless).  The message body may be sent only when
 * res->data.code == 354, or with res->bdat (and then, with res->piped,
 * must be: see there).  res must have been initialised; what it held is
 * cleared first.  Afterwards: with a 354, smtp_body or smtp_abort; with
 * MAIL accepted but no 354, smtp_rset before the next transaction.
 *
 * On a session opened with stop (smtp_options): stop_after MAIL sends
 * MAIL only (no recipient is needed: nrcpts may be 0); RCPT sends MAIL
 * and the RCPTs, never DATA; DATA sends them all, and a 354 is to be
 * followed by smtp_abort, since only dropping the connection ends the
 * data without a message (RFC 5321 4.1.1.4).  Any other stop_after is a
 * caller's mistake. */
int smtp_envelope(struct smtp_session *s, const struct smtp_envelope *env,
                  struct smtp_envelope_result *res, struct error *err);

/* Whether the next transaction's body will go by BDAT (RFC 3030) rather
 * than DATA: the server offers CHUNKING (an LMTP server too: the LAST
 * chunk then gets one reply per recipient), the caller did not turn it
 * off (no_chunking), the session is not stopping (--quit-after), and
 * env->want_data is not set.  With BDAT no DATA is
 * sent: once MAIL and at least one RCPT were accepted (res->bdat true),
 * smtp_body sends the body in chunks; otherwise smtp_rset as after any
 * transaction that ended before its body. */
bool smtp_envelope_uses_bdat(const struct smtp_session *s,
                             const struct smtp_envelope *env);

/* Where the body comes from: canonical CRLF text, read in blocks.  Returns
 * bytes read, 0 at the end, -1 with err filled. */
struct smtp_body_source {
	ssize_t (*read)(void *ctx, char *buf, size_t n, struct error *err);
	void *ctx;
};

/* Send the body after a 354 (by BDAT: see the end): dot-stuffed, then
 * CRLF.CRLF, then (when quit_after and the server pipelines) QUIT in the same
 * write.  Fills final[0..nfinal) (initialised with reply_init) with the replies
 * to the dot: one for SMTP, one per accepted recipient for LMTP.
 *
 * If the body source fails, the terminator is never sent: the connection
 * is dropped so the server discards the partial message, and the source's
 * error is returned.  If the connection fails after the terminator went
 * out and before its reply arrived, the error is ERROR_TEMPFAIL "delivery
 * status unknown" and *dot_sent is true.  Whatever fails after the dot,
 * the replies read before it stay in final[] (LMTP: the first recipients')
 * and the rest have code 0.
 *
 * When QUIT went in the same write, or with quit_after on a server
 * without PIPELINING right after the final reply (LMTP: the last one),
 * its reply is read here too: a reply other than 221 with another behind
 * it means the server answered one command twice and the replies taken as
 * final[] were not the final ones (RFC 2920 3.1): ERROR_TEMPFAIL
 * "delivery status unknown", every final[] cleared.
 *
 * With BDAT (res->bdat) instead: the body as it is (no dot-stuffing, RFC
 * 3030 2), in chunks of at most SMTP_CHUNK_SIZE octets, "BDAT n" each and
 * "BDAT n LAST" the last ("BDAT 0 LAST" when the end came right after a
 * full chunk), pipelined when the server pipelines (at most
 * SMTP_CHUNKS_UNREAD replies owed at a time), QUIT in the LAST chunk's
 * write as above; *dot_sent is then about the LAST chunk.  A chunk
 * refused (4xx, 5xx) ends the transaction (RFC 3030 2: no further chunk
 * is sent; the replies to those already sent are read): final[0..nfinal)
 * all hold that refusal (LMTP: every recipient's), the call returns 0,
 * and the session needs smtp_rset before another transaction.  So does a
 * piped envelope (res->piped) found refused after the first chunk: no
 * chunk follows, whatever the server said of it; final[] then holds the
 * chunk's refusal if there was one, else nothing (code 0), and res's
 * replies are the verdict. */
int smtp_body(struct smtp_session *s, const struct smtp_body_source *src,
              bool quit_after, struct reply *final, size_t nfinal,
              bool *dot_sent, struct error *err);

/* For the SMTP smuggling test (cmd/smuggle.c), and nothing else: after a
 * 354, send bytes[0..len) exactly as given (no dot-stuffing, no line
 * endings made CRLF: they carry a malformed end of data on purpose, and
 * must end with the caller's own CRLF.CRLF), QUIT behind them in the same
 * write whether or not the server pipelines (its 221 marks the end of the
 * replies), then read replies until the one to QUIT (a 221), a 421, the
 * end of the connection, or nreplies of them.  Each reply is read within
 * the final-reply timeout; none is judged.  *got is how many were read
 * into replies[] (initialised with reply_init).  Returns 0 when at least
 * one reply came (a failure to read a later one only ends the list: a
 * server may close after refusing); -1 when none did (err says why) or
 * the bytes could not be sent.  The session is then finished: only
 * smtp_close remains. */
int smtp_body_raw(struct smtp_session *s, const char *bytes, size_t len,
                  struct reply *replies, size_t nreplies, size_t *got,
                  struct error *err);

/* True when another transaction may follow on this session (after
 * smtp_rset): it is connected and between transactions. */
bool smtp_reusable(const struct smtp_session *s);

/* RSET: back to a clean state for another transaction. */
int smtp_rset(struct smtp_session *s, struct error *err);

/* Abandon a transaction that has had its 354: close the connection without
 * the terminator, so nothing is delivered. */
void smtp_abort(struct smtp_session *s);

/* Send QUIT (if not already pipelined), read its reply, close and free.
 * Never fails: the outcome of the mail is already known.  NULL is a no-op. */
void smtp_close(struct smtp_session *s);

#endif
