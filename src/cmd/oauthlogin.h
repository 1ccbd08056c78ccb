/*
 * oauthlogin.h - --oauth2-login: log an account in with its OAuth2
 * provider once, and keep the refresh token its sends will use
 * (bearer.h).
 *
 * Two ways to ask for the user's consent (--oauth2-flow; without it the
 * provider's default, provider.h's device_default):
 *
 *   device   RFC 8628: the verification address and a user code are
 *            printed, to be entered on any device with a browser; the
 *            token endpoint is polled at the interval the server gives
 *            (5 s more after each slow_down, 3.5) until the login is
 *            done, refused, or the code expires.
 *   browser  RFC 8252 with PKCE (RFC 7636, S256): the authorization
 *            address is printed (and opened with xdg-open when a display
 *            is set), the answer comes back to a loopback socket
 *            (redirect.h) or as the address the browser ended at, pasted
 *            on the terminal; the state sent is checked; the code is
 *            exchanged with the verifier.
 *
 * Then the refresh token is stored (tokstore_put_refresh: the keyring or
 * the file), the access token cached, and one line on `out` says where
 * the refresh token went.  Nothing is stored unless the whole login
 * succeeded.  Ctrl-C (or SIGTERM) ends any wait at once (interrupt.h).
 *
 * Errors (main.c prints the one line):
 *   the account has no oauth2_provider, a key is missing, the provider
 *   has no device endpoint for --oauth2-flow=device (naming the key)
 *                                                   ERROR_CONFIG   78
 *   the user refused (access_denied)                ERROR_NOPERM   77
 *   (the system configuration's accounts of a setgid installation are
 *   root's to log in: job.c refuses any other caller, 77, before a
 *   secret is read)
 *   the device code expired, no answer from the browser in time, a
 *   signal: "run it again"                          ERROR_TEMPFAIL 75
 *   an answer whose state is not the one sent       ERROR_PROTOCOL 76
 *   libcurl or json-c missing (what to install)     ERROR_UNAVAILABLE 69
 *   and oauth2.h's and tokstore.h's own.  No message holds a token, a
 *   code, the verifier or the client secret.
 */
#ifndef MAILPOST_OAUTHLOGIN_H
#define MAILPOST_OAUTHLOGIN_H

#include <stdio.h>

#include "error.h"
#include "job.h"

/* How long the browser flow waits for the answer (seconds).  The test
 * suite shortens it with MAILPOST_TEST_OAUTH2_TIMEOUT, which a run that
 * started setgid ignores. */
#define OAUTHLOGIN_BROWSER_TIMEOUT 300
/* The device grant's poll interval and slow_down's step are in seconds;
 * the test suite makes a second shorter with MAILPOST_TEST_OAUTH2_POLL_MS
 * (1 to 999 ms), which a run that started setgid ignores as well. */

/* PKCE's code verifier (RFC 7636 4.1: 43 to 128 characters): 32 random
 * bytes in base64url, 43 characters, as 4.1 recommends. */
#define OAUTHLOGIN_VERIFIER_BYTES 32
/* The state (RFC 6749 10.12): 16 random bytes in base64url. */
#define OAUTHLOGIN_STATE_BYTES 16

/* Log job's account (-A, else the default) in; the instructions and the
 * result line go to out, notes to diag. */
int oauthlogin_run(struct job *job, FILE *out, FILE *diag, struct error *err);

#endif
