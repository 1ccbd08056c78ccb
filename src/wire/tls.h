/*
 * tls.h - a TLS client session over a connected socket (GnuTLS hidden
 * inside tls.c, the only file that includes it).
 *
 * conn.c is the only user: it switches a connection to TLS with
 * conn_start_tls and then routes its read_some/write_some through
 * tls_read/tls_write, so nothing above conn knows whether TLS is on.
 *
 * Verification is explicit and happens inside the handshake, before our
 * client certificate or any application byte is sent: the chain against the
 * trust store, the host name (RFC 6125, through GnuTLS) and the validity
 * dates; or, when a fingerprint is pinned, the peer certificate's digest and
 * nothing else; or, for DANE (tls_params.dane), the server's TLSA records
 * and nothing else (tlsdane.h).  Every failed check is named in words in
 * the error.
 * TLS 1.2 is the minimum (RFC 8997), whatever the priority string says.
 *
 * Trust (the system store or a file) is read by tls_start, never at
 * program start, and only indexed (castore.h): the CAs whose subject is the
 * subject or issuer of a certificate the server sends are imported into
 * GnuTLS when they arrive, the rest never parsed.  GnuTLS finds issuers
 * and trusted copies of chain certificates by name, so its verdicts are
 * those it gives with every CA loaded.  A system store that is not a plain
 * file (configure.ac) is loaded whole by GnuTLS, as before.
 *
 * Errors: ERROR_CONFIG for unusable parameters (a bad priority string or
 * fingerprint, unreadable trust/CRL/key files); ERROR_TEMPFAIL for a
 * handshake that timed out or a socket error; ERROR_PROTOCOL for every TLS
 * failure (handshake refused, version too old, verification failed).
 */
#ifndef MAILPOST_TLS_H
#define MAILPOST_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "tlsdane.h"
#include "transcript.h"

/* The default priorities: GnuTLS's NORMAL set, TLS 1.3 and 1.2 only
 * (RFC 8997 deprecates TLS 1.0 and 1.1).  The same groups as NORMAL, but
 * X25519 first: GnuTLS sends key shares for its first two groups of
 * different kinds (RFC 8446 4.2.8) and servers take the first they
 * support, so a P-256 first made the handshake's key exchange cost a
 * P-256 multiplication (~1 M instructions more than X25519's, RFC 7748)
 * with every server that supports both.  P-256 still goes as the second
 * share: a server without X25519 needs no HelloRetryRequest. */
#define TLS_DEFAULT_PRIORITIES                                                 \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-GROUP-ALL:+GROUP-X25519:" \
	"+GROUP-ALL"
/* Handshake timeout when the caller gives none. */
#define TLS_TIMEOUT_MS (60 * 1000)
/* Room for base64 channel binding data: tls-exporter is 32 bytes
 * (RFC 9266), tls-unique 12 (RFC 5929 with TLS 1.2 Finished). */
#define TLS_BINDING_B64_MAX 128
/* "AA:BB:..." for SHA-256: 32 pairs and 31 colons. */
#define TLS_FINGERPRINT_MAX (32 * 3)

struct tls;

/* --serverinfo's description of a session (tls_params.info).  A longer
 * chain than this is cut (RFC 8446 4.4.2 sets no limit; real chains have
 * two to four certificates). */
#define TLS_CHAIN_MAX 8
#define TLS_WORD_MAX 128
/* The verdict: every reason named (see tls.c). */
#define TLS_VERDICT_MAX 768
/* Room for the subjectAltName entries of one certificate, "DNS:a, IP:b";
 * more are counted, not listed. */
#define TLS_NAMES_MAX 1024

/* One certificate of the server's chain, as sent.  Strings are the
 * library's text (RFC 4514 names), not yet censored for a terminal. */
struct tls_cert_info {
	char *subject;
	char *issuer;
	char *names;        /* subjectAltName DNS and IP entries, or "" */
	int64_t not_before; /* seconds since the epoch; -1 unknown */
	int64_t not_after;
	char key[TLS_WORD_MAX];       /* "EC/ECDSA 256 bits (SECP256R1)" */
	char signature[TLS_WORD_MAX]; /* how its issuer signed it */
	char sha256[TLS_FINGERPRINT_MAX + 1];
	bool self_signed;
	char *pem; /* the certificate itself */
};

/* What a handshake showed, filled as soon as the server's certificate
 * arrives and again when the handshake completes, so that a refused
 * certificate is still described (the handshake then stops with an alert:
 * nothing of ours is sent after it). */
struct tls_info {
	bool completed;               /* the handshake finished */
	char version[TLS_WORD_MAX];   /* "TLS1.3" */
	char suite[TLS_WORD_MAX];     /* the cipher suite's name */
	char group[TLS_WORD_MAX];     /* key exchange: the group, else the kx */
	char signature[TLS_WORD_MAX]; /* the server's handshake signature */
	char sni[TLS_WORD_MAX * 2];   /* the name sent as SNI, or "" */
	char trust[TLS_WORD_MAX * 2]; /* what the chain was checked against */
	bool verify_ran;
	bool verified;
	bool resumed; /* a session kept from an earlier run (tls_params.
	               * cache_dir), its certificate verified again */
	/* The verdict is DANE's (tls_params.dane): "trusted by DANE: record
	 * 3 1 1 (DANE-EE) matched ...", a refusal naming each record's
	 * reason, or, with no usable record, "NOT AUTHENTICATED ...". */
	bool dane;
	char verdict[TLS_VERDICT_MAX];
	char anchor[TLS_WORD_MAX * 2]; /* the trusted root's name, or "" */
	size_t ncerts;
	size_t chain_len; /* as sent; more than ncerts when cut */
	struct tls_cert_info certs[TLS_CHAIN_MAX];
};

/* An empty description, and releasing one (then empty again). */
void tls_info_init(struct tls_info *i);
void tls_info_clear(struct tls_info *i);

/* What to verify and present.  A zeroed struct plus .host is the safe
 * default: system trust, verification on, default priorities.  The
 * strings are only read during tls_start. */
struct tls_params {
	/* The server's name as configured, as an A-label (RFC 5890): sent as
	 * SNI (RFC 6066 3; not for an address literal) and, unless
	 * host_override is set, matched against the certificate. */
	const char *host;
	const char *host_override; /* tls_host_override: match and SNI */
	/* NULL or "system": the system trust store; "": no CA at all (only
	 * a fingerprint pin can then make a certificate trusted); else a
	 * PEM file of CA certificates. */
	const char *trust_file;
	const char *crl_file; /* PEM, or NULL */
	/* A pin: hex pairs, ':' between them optional.  32 bytes are
	 * SHA-256 (preferred); 20 bytes SHA-1, accepted for msmtp configs.
	 * When set, the certificate is trusted exactly when its digest
	 * matches, whatever the CA, name or dates. */
	const char *fingerprint;
	const char *cert_file; /* client certificate, PEM, with key_file */
	const char *key_file;  /* unencrypted PEM private key */
	/* tls_certcheck off: accept any certificate (the caller warns).
	 * A pinned fingerprint is still checked. */
	bool no_certcheck;
	const char *priorities; /* GnuTLS priority string; NULL: default */
	const char *account;    /* the account's name, for the advice after
	                         * a refusal; or NULL */
	bool private_names;     /* the system configuration's, for a caller
	                         * outside its group: messages call
	                         * trust_file "(hidden)" */
	int timeout_ms;         /* the whole handshake; <= 0: TLS_TIMEOUT_MS */
	/* Session resumption across runs (tlscache.h): NULL (off), or the
	 * directory the sessions are kept in, created 0700 when missing.
	 * A session is kept only after a verified handshake (never with
	 * no_certcheck), and offered again only to the same identity:
	 * account, host and cache_scope name its file; that and the name
	 * verified (SNI), trust_file, crl_file, fingerprint, cert_file,
	 * key_file and priorities must all be as they were.  A resumed
	 * session's certificate (the one verified when it was kept) is
	 * verified again against today's settings. */
	const char *cache_dir;
	/* What else names the server, which this struct does not hold:
	 * the caller's port and TLS mode ("587 starttls"). */
	const char *cache_scope;
	/* NULL, or the caller's description of the session (initialised
	 * with tls_info_init), filled by tls_start whether it succeeds or
	 * not: --serverinfo and --tls-get-peer-cert. */
	struct tls_info *info;
	/* info describes every certificate of the chain and the trusted
	 * root (--serverinfo, --tls-get-peer-cert: ~1 M instructions, a
	 * fifteenth of a STARTTLS send); false: of the certificates only
	 * the server's own SHA-256 fingerprint (certs[0].sha256, ncerts 1;
	 * its other members empty; anchor ""), which is what --json shows. */
	bool info_chain;
	/* DANE (RFC 7672 3): NULL, or the TLSA records that alone decide
	 * whether the certificate is trusted (tlsdane.h): trust_file,
	 * crl_file, fingerprint and no_certcheck are then not consulted, and
	 * host is only sent as SNI.  A record set with no usable record
	 * accepts any certificate (RFC 7672 2.2: TLS required, not
	 * authenticated), said so in the verdict.  No session is kept or
	 * resumed (cache_dir is ignored): each handshake is judged by the
	 * records of its day.  tls_start loads libgnutls-dane before the
	 * handshake when a record is usable (ERROR_UNAVAILABLE when it
	 * cannot). */
	const struct tls_dane *dane;
};

/* The file that is the system trust store, or NULL when GnuTLS's own
 * call must load it (configure found no plain file: a PKCS#11 trust
 * module, a blocklist, or a library it could not read; configure.ac).
 * MAILPOST_TEST_SYSTEM_TRUST stands in for it in the test suite, and is
 * ignored by a run that started setgid: the system configuration's
 * account trusts what the machine trusts, never what its caller says.
 * https.c's libcurl uses the same file. */
const char *tls_system_trust_file(void);

/* The reasons in a GnuTLS verification status (gnutls_certificate_status_t
 * bits, as libcurl's CURLINFO_SSL_VERIFYRESULT gives them for https.c) in
 * the words of a session's refusal, without the certificate's details:
 * "certificate has expired; ...", into out[0..n). */
char *tls_status_words(unsigned status, char *out, size_t n);

/* Load what a session of p would load, without connecting
 * (--check-config): the pin's syntax, the trust (p->trust_file or the
 * system store, unless a pin or no_certcheck means none is consulted),
 * the CRL, the client certificate and key.  Unlike a session, every CA
 * of the store is parsed by GnuTLS, so a certificate broken past its
 * subject is found whatever a server's chain would name.  *ntrusted: the
 * number of CA certificates GnuTLS read from the store (0 when none is
 * consulted).  0, or -1 with the error a session would give (ERROR_CONFIG;
 * ERROR_OSERR). */
int tls_check_credentials(const struct tls_params *p, int *ntrusted,
                          struct error *err);

/* Which channel binding (for SCRAM-*-PLUS). */
enum tls_binding {
	TLS_BINDING_NONE = 0,
	TLS_BINDING_UNIQUE,   /* "tls-unique", RFC 5929: TLS 1.2 only */
	TLS_BINDING_EXPORTER, /* "tls-exporter", RFC 9266: TLS 1.3, or 1.2
	                       * with extended master secret (RFC 7627) */
};

/* Handshake over fd (a connected, non-blocking socket, which stays owned
 * by the caller) and verify the server, offering the session kept by an
 * earlier run (p->cache_dir) and keeping this one once its ticket is in
 * (TLS 1.3 sends it after the handshake: tls_read keeps it when it
 * comes).  A cache that cannot be read is a full handshake; one that
 * cannot be written is a note in t (-v), never an error.  The session
 * (protocol, cipher suite, certificate subject, issuer, validity, SHA-256
 * fingerprint and the verification result) is described in the transcript t
 * (may be NULL), also when verification fails.  On success *out is a new
 * session. */
int tls_start(struct tls **out, int fd, const struct tls_params *p,
              struct transcript *t, struct error *err);

/* Up to n bytes of application data (and the session ticket, kept in
 * p->cache_dir when it arrives): >0 read; 0 end of stream (the
 * server's close_notify, or a bare TCP close after tls_expect_close);
 * -1 with errno: EAGAIN (wait for POLLIN, or POLLOUT when tls_wants_write
 * says so, and call again), EINTR, or EPROTO/ECONNRESET with the reason in
 * tls_last_error. */
ssize_t tls_read(struct tls *s, void *buf, size_t n);

/* Up to n bytes (one record at most, 16 KiB): >0 written, -1 with errno
 * as tls_read.  After EAGAIN call again with the same data. */
ssize_t tls_write(struct tls *s, const void *buf, size_t n);

/* Decrypted bytes waiting inside the TLS layer (invisible to poll). */
size_t tls_pending(const struct tls *s);

/* True when the last EAGAIN was waiting to send, not to receive. */
bool tls_wants_write(const struct tls *s);

/* The reason for the last -1 from tls_read or tls_write. */
const char *tls_last_error(const struct tls *s);

/* The protocol has ended (QUIT was sent): from now on a TCP close without
 * close_notify is an end of stream, not a possible truncation attack. */
void tls_expect_close(struct tls *s);

/* The binding to use by default on this session: EXPORTER on TLS 1.3,
 * UNIQUE on TLS 1.2 (RFC 9266 4, RFC 5802 6). */
enum tls_binding tls_binding_preferred(const struct tls *s);

/* Channel binding data of kind `which`, base64-encoded (as libgsasl's
 * GSASL_CB_TLS_UNIQUE / GSASL_CB_TLS_EXPORTER properties want) into
 * out[0..size-1], NUL-terminated.  A kind that is undefined or unsafe on
 * this session (tls-unique on TLS 1.3, tls-exporter on TLS 1.2 without
 * extended master secret) is ERROR_PROTOCOL. */
int tls_channel_binding(const struct tls *s, enum tls_binding which, char *out,
                        size_t size, struct error *err);

/* Send close_notify, waiting at most timeout_ms for the socket, and free
 * the session (NULL is a no-op).  Does not wait for the server's reply
 * and does not close the socket. */
void tls_close(struct tls *s, int timeout_ms);

/* Free without a close_notify (after a failure; NULL is a no-op). */
void tls_free(struct tls *s);

/* SHA-256 of p[0..n) into out (TLS_SHA256_SIZE bytes), GnuTLS's, for
 * what else needs the digest (a PKCE challenge, RFC 7636 4.2): -1 only
 * if GnuTLS fails. */
#define TLS_SHA256_SIZE 32
int tls_sha256(const void *p, size_t n, unsigned char *out);

#endif
