/*
 * redirect.h - the loopback end of an OAuth 2.0 authorization request
 * (RFC 8252 7.3): a socket on 127.0.0.1, port chosen by the kernel, that
 * receives the one HTTP GET the browser makes when the provider sends it
 * back with the answer in the query (RFC 6749 4.1.2: code and state, or
 * error, error_description and state).
 *
 * It knows HTTP only as far as a request head: the request line and the
 * header fields, bounded (REDIRECT_HEAD_MAX), never a body.  Each request
 * is answered with a short page and its connection closed; a request for
 * another path (a browser's favicon.ico) or another method is answered
 * 404 or 405 and waited past, and so is a malformed one (400).  Several
 * connections are held at once (REDIRECT_CONN_MAX), since a browser may
 * open one it never uses.  The answer may also come as a line of text on
 * another descriptor (the terminal): the address the browser ended at,
 * pasted by a user whose browser runs on another machine and could not
 * reach this one's 127.0.0.1.
 *
 * What it does not do: judge the answer.  Whether the state is the one
 * sent, whether an error means a refusal, is the caller's (oauthlogin.c);
 * the page says only that the answer arrived and the terminal says the
 * rest.  The code is a secret: kept in memory only, wiped by
 * redirect_result_clear, never in a message.
 */
#ifndef MAILPOST_REDIRECT_H
#define MAILPOST_REDIRECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* A request head (request line and header fields): a browser's is well
 * under 2 KiB; more is refused (431) and waited past. */
#define REDIRECT_HEAD_MAX 8192
/* One decoded query value (code, state, error, error_description).
 * Providers' codes are a few hundred bytes. */
#define REDIRECT_VALUE_MAX 2048
/* Connections held open at once; a further one closes the oldest. */
#define REDIRECT_CONN_MAX 8
/* The pasted line (an address bar's contents). */
#define REDIRECT_PASTE_MAX REDIRECT_HEAD_MAX

/* What the answer carried; each NULL when absent.  Decoded (percent
 * and '+'), NUL-free; code and state are printable ASCII (RFC 6749
 * A.11, A.5: VSCHAR), error_description may be anything else and is
 * censored by whoever shows it. */
struct redirect_result {
	char *code; /* secret */
	char *state;
	char *error;
	char *error_description;
};

/* Wipe the code and free everything; the struct is empty afterwards. */
void redirect_result_clear(struct redirect_result *res);

/* --- pure: the judgement of bytes (unit test, fuzz target) --- */

enum redirect_verdict {
	REDIRECT_MORE,     /* no whole head yet: read on */
	REDIRECT_ANSWER,   /* a GET of the path with code or error: *out */
	REDIRECT_NOTFOUND, /* another path: 404 */
	REDIRECT_METHOD,   /* not GET: 405 */
	REDIRECT_EMPTY,    /* the path, but neither code nor error: 400 */
	REDIRECT_TOOBIG,   /* no head within REDIRECT_HEAD_MAX bytes: 431 */
	REDIRECT_BAD,      /* malformed request or query: 400 */
};

/* The HTTP status each verdict but MORE and ANSWER (200) is answered
 * with. */
int redirect_status(enum redirect_verdict v);

/* Judge the bytes of one request received so far, head[0..len): its
 * request line (RFC 9112 3: GET, origin-form target, HTTP/1.x; CRLF or
 * a bare LF ending lines) and the end of its header fields.  path is
 * the redirect URI's path ("/").  On REDIRECT_ANSWER *out is filled
 * (the caller clears it); else it is left empty.  A query that names a
 * parameter twice (RFC 6749 3.1), or a value with a control byte, a
 * bad %-escape or over REDIRECT_VALUE_MAX is REDIRECT_BAD. */
enum redirect_verdict redirect_judge(const char *head, size_t len,
                                     const char *path,
                                     struct redirect_result *out);

/* Judge a pasted line: the redirect URI uri ("http://127.0.0.1:PORT/")
 * followed by '?' and the query, white space around it ignored.  1 with
 * *out filled (code or error present), 0 with err saying what is wrong
 * with it (ERROR_USAGE; the line itself is not quoted: it may hold the
 * code). */
int redirect_judge_pasted(const char *line, size_t len, const char *uri,
                          struct redirect_result *out, struct error *err);

/* --- the socket --- */

struct redirect;

/* Listen on 127.0.0.1, port 0 (RFC 8252 7.3: the kernel's choice, put in
 * the redirect URI), for requests of path (starting with '/').
 * ERROR_OSERR when no socket can be had. */
int redirect_open(struct redirect **out, const char *path, struct error *err);

/* "http://127.0.0.1:PORT" and the path: the redirect_uri to send. */
const char *redirect_uri(const struct redirect *r);

/* Wait until the answer arrives, on the socket or as a line on paste_fd
 * (-1: none; its end of file stops watching it), or the monotonic
 * deadline (now_ms()) passes.  1: *out filled (caller clears it).  0: a
 * pasted line that is no answer, err says why (call again to wait on).
 * -1: ERROR_TEMPFAIL at the deadline ("no answer ..."), or for a signal
 * (interrupt.h); ERROR_IOERR when paste_fd cannot be read. */
int redirect_wait(struct redirect *r, int paste_fd, int64_t deadline,
                  struct redirect_result *out, struct error *err);

/* Close the socket and every connection; NULL is a no-op. */
void redirect_close(struct redirect *r);

#endif
