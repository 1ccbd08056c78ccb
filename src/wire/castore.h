/*
 * castore.h - a file of CA certificates (PEM, as the system trust store
 * and every bundle are) indexed by subject without parsing each one.
 *
 * Verifying one server needs the few CAs whose subject names a
 * certificate of its chain; turning all ~150 of a system store into
 * library objects costs seven times the rest of a TLS session.  So the
 * file is read once, each block's base64 decoded and its DER walked only
 * as far as tbsCertificate's subject (every length checked against what
 * is there: the file is input, and a user may name any file), and tls.c
 * imports through GnuTLS only the certificates whose subject it asks for.
 *
 * What counts as a certificate is what GnuTLS reads from a PEM file: the
 * text between "-----BEGIN CERTIFICATE-----" and "-----END CERTIFICATE-----";
 * anything outside such blocks (the comments and titles of many bundles)
 * is skipped.  Inside a block only base64 and white space may stand.  A
 * block that is cut short, holds other bytes, or whose DER is not one
 * whole certificate up to its subject, refuses the whole file (as GnuTLS
 * refuses a file with one bad certificate).  What lies after the subject
 * (validity, key, extensions, signature) is GnuTLS's to check when the
 * certificate is imported; so is, in a block of PEM's regular layout, any
 * base64 character that the walk to the subject does not decode (the
 * contents of the serial number, the signature algorithm, the issuer, the
 * validity and the subject, decoded only when a chain names a subject of
 * its length): a bad one refuses the store when a chain names that CA
 * (castore_der says why).
 *
 * Pure code, no library: castore_scan is fuzzed (tests/fuzz/castore_fuzz.c).
 *
 * Errors: ERROR_CONFIG for a file that is not a usable bundle (the message
 * names the certificate by number and line, never quotes the file);
 * ERROR_CONFIG also for an unreadable file (the caller names it); never
 * anything else.
 */
#ifndef MAILPOST_CASTORE_H
#define MAILPOST_CASTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The largest PEM file read whole: a trust file here, and the CRL,
 * certificate and key files tls.c gives GnuTLS (the biggest bundles are
 * a few hundred KiB; a device such as /dev/zero never ends). */
#define CASTORE_FILE_MAX (16 * 1024 * 1024)
/* The largest certificate (DER): CA certificates are 1-2 KiB, and GnuTLS
 * reads none larger than this either. */
#define CASTORE_CERT_MAX (64 * 1024)

struct castore;

/* Map the regular file path (opened as the caller; not a FIFO or device,
 * at most CASTORE_FILE_MAX) and index its certificates; where it cannot
 * be mapped it is read.  A file without any certificate is not an error:
 * castore_count says 0.  The mapping lives until castore_free, and while
 * it does SIGBUS has a handler of castore's: a file cut short under it by
 * another process makes the reads below fail ("the file was cut short
 * while it was read": castore_der says so, castore_subject returns NULL,
 * castore_line 0) instead of ending the run; every other SIGBUS gets the
 * action it had before. */
int castore_open(struct castore **out, const char *path, struct error *err);

/* The same over text[0..len-1], which is copied. */
int castore_scan(struct castore **out, const char *text, size_t len,
                 struct error *err);

/* How many certificates the file holds. */
size_t castore_count(const struct castore *s);

/* Certificate i's subject (tbsCertificate.subject, a DER Name with its
 * tag and length) equals dn[0..len-1] byte for byte.  In a block of PEM's
 * regular layout the subject is decoded only now, and only when its
 * length is len; when its base64 text is bad, true: the caller decodes
 * the certificate (castore_der), which says why. */
bool castore_subject_is(const struct castore *s, size_t i, const void *dn,
                        size_t len);

/* Certificate i's subject, as castore_subject_is compares it: a new
 * buffer of *len bytes, which the caller frees; NULL when its base64 text
 * is bad (then castore_der says why). */
unsigned char *castore_subject(const struct castore *s, size_t i, size_t *len);

/* Certificate i, decoded: a new buffer of *len bytes, which the caller
 * frees; or NULL with the reason in *why, when its base64 text is bad
 * past the part read to index it. */
unsigned char *castore_der(const struct castore *s, size_t i, size_t *len,
                           const char **why);

/* The line of the file where certificate i begins (for messages); 0 when
 * the file was cut short before it. */
size_t castore_line(const struct castore *s, size_t i);

/* The issuer (name[0]) and subject (name[1]) of the DER certificate
 * der[0..len-1], walked as the file's are: offsets into der of each
 * Name's tag, and its length with tag and length.  False when der is not
 * a certificate up to its subject.  (tls.c asks this of the certificates
 * a server sent: network input, every length checked.) */
bool castore_names(const unsigned char *der, size_t len, size_t name[2],
                   size_t name_len[2]);

/* The notAfter of the DER certificate der[0..len-1] (RFC 5280 4.1.2.5),
 * in seconds since the epoch, read as castore_names reads the names
 * before it; -1 when der is not a certificate up to its subject, or the
 * time is not in the one form RFC 5280 allows for each type (UTCTime
 * YYMMDDHHMMSSZ, years 50-99 being 19YY; GeneralizedTime
 * YYYYMMDDHHMMSSZ), or its year is before 1970 or 9999 (4.1.2.5: no
 * well-defined expiration): the caller then asks GnuTLS, which reads
 * every form. */
int64_t castore_not_after(const unsigned char *der, size_t len);

/* Release (NULL is a no-op). */
void castore_free(struct castore *s);

#endif
