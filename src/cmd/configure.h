/*
 * configure.h - --configure ADDRESS: find the submission server of the
 * address's domain, probe it, and print a ready account for it.
 *
 * Where the server is found, in this order:
 *   1. RFC 6186 SRV records: _submissions._tcp.DOMAIN (implicit TLS, RFC
 *      8314 5.1 prefers it), then _submission._tcp.DOMAIN (STARTTLS);
 *      lowest priority first, then highest weight; a target "." says the
 *      service is not offered there (RFC 6186 3).  A bogus answer
 *      (DNSSEC validation failed) is not used.
 *   2. Where that finds nothing, the provider's autoconfig document
 *      (Thunderbird's format, autoconfig.h) over HTTPS only, certificate
 *      verified: https://autoconfig.DOMAIN/mail/config-v1.1.xml?
 *      emailaddress=ADDRESS, then https://DOMAIN/.well-known/autoconfig/
 *      mail/config-v1.1.xml; no redirect followed.  Its outgoingServer
 *      entries of type smtp in document order; socketType plain is never
 *      recommended.
 * Names are resolved through wire/dns.h with the configuration's
 * resolver, and the server is reached at the address found while its
 * name is what TLS verifies.
 *
 * Each server found is probed as --serverinfo does (submit_probe: TLS as
 * the account will use it, certificate verified, EHLO; never AUTH or
 * MAIL), in order, until one answers well (at most CONFIGURE_PROBES_MAX).
 *
 * The account goes to `out` (standard output) in the configuration
 * file's syntax, each value after a comment line that says where it came
 * from (the SRV record, the document's URL, the probe) and what the
 * probe found (TLS, the certificate, the AUTH mechanisms); a SRV target
 * outside the domain from an answer that is not DNSSEC-secure is marked
 * with a warning (RFC 6186 6).  What was looked up and not found is said
 * on `diag`, one line each.
 *
 * The resolver (dns_server, dnssec_trust_anchor), the trust store
 * (tls_trust_file) and the probe's timeout and EHLO name come from the
 * configuration file's defaults section when there is a file (-C FILE, or
 * the one mailpost finds), with the command line's one-off settings over
 * them.
 */
#ifndef MAILPOST_CONFIGURE_H
#define MAILPOST_CONFIGURE_H

#include <stdio.h>

#include "error.h"
#include "job.h"

/* Servers considered, of all SRV records and documents. */
#define CONFIGURE_CANDIDATES_MAX 8
/* Servers probed before giving up: each probe may take a timeout. */
#define CONFIGURE_PROBES_MAX 3

/* The mode CLI_CONFIGURE for job->req.configure_address.  0 when an
 * account was printed and its server's probe went well.  -1 with err:
 *   ERROR_TEMPFAIL     the account was printed, marked: no server found
 *                      answered the probe well (the first one's failure
 *                      is named);
 *   ERROR_NOHOST       nothing found and the domain does not exist;
 *   ERROR_UNAVAILABLE  nothing found (the message says what was looked
 *                      for, and whether only plain-text servers were);
 *   ERROR_USAGE        a domain that is not a valid (IDNA) name;
 *   ERROR_CONFIG       the resolver's settings (dns_open);
 *   ERROR_IOERR        out cannot be written. */
int configure_run(struct job *job, FILE *out, FILE *diag, struct error *err);

#endif
