/*
 * smtpcaps.c - what a server offers, read from its EHLO reply (see
 * smtpcaps.h).
 */
#include "config.h"

#include "smtpcaps.h"

#include <string.h>

bool
smtpcaps_word_is(const char *w, size_t n, const char *keyword)
{
	size_t i;

	for (i = 0; i < n && keyword[i]; i++) {
		char a = w[i], b = keyword[i];

		if (a >= 'a' && a <= 'z')
			a = (char)(a - 'a' + 'A');
		if (a != b)
			return false;
	}
	return i == n && keyword[i] == '\0';
}

bool
smtpcaps_next_word(const char *s, size_t len, size_t *pos, const char **w,
                   size_t *n)
{
	size_t i = *pos;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len)
		return false;
	*w = s + i;
	while (i < len && s[i] != ' ' && s[i] != '\t')
		i++;
	*n = (size_t)(s + i - *w);
	*pos = i;
	return true;
}

bool
smtpcaps_parse_size(const char *w, size_t n, uint64_t *size)
{
	uint64_t v = 0;

	*size = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(w[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*size = v;
	return true;
}

/* Add one SASL mechanism name (RFC 4422 3.1: upper-case letters, digits,
 * '-' and '_', at most 20), upper-cased, once. */
static void
add_mech(struct smtp_caps *caps, const char *w, size_t n)
{
	char mech[SMTP_MECH_MAX + 1];
	size_t have = strlen(caps->auth);
	const char *p;

	if (n == 0 || n > SMTP_MECH_MAX)
		return;
	for (size_t i = 0; i < n; i++) {
		char c = w[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (!(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
		    c != '-' && c != '_')
			return;
		mech[i] = c;
	}
	mech[n] = '\0';
	for (p = strstr(caps->auth, mech); p; p = strstr(p + 1, mech))
		if ((p == caps->auth || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' '))
			return;
	if (have + (have ? 1 : 0) + n + 1 > sizeof caps->auth)
		return;
	if (have)
		caps->auth[have++] = ' ';
	memcpy(caps->auth + have, mech, n + 1);
}

/* One EHLO line after the first: a keyword and its parameters
 * (RFC 5321 4.1.1.1), compared without regard to case. */
static void
parse_cap_line(struct smtp_caps *caps, const char *line, size_t len)
{
	size_t pos = 0, n, pn;
	const char *w, *p;

	if (!smtpcaps_next_word(line, len, &pos, &w, &n))
		return;
	if (smtpcaps_word_is(w, n, "PIPELINING"))
		caps->pipelining = true;
	else if (smtpcaps_word_is(w, n, "8BITMIME"))
		caps->eightbitmime = true;
	else if (smtpcaps_word_is(w, n, "SMTPUTF8"))
		caps->smtputf8 = true;
	else if (smtpcaps_word_is(w, n, "DSN"))
		caps->dsn = true;
	else if (smtpcaps_word_is(w, n, "ENHANCEDSTATUSCODES"))
		caps->enhancedstatuscodes = true;
	else if (smtpcaps_word_is(w, n, "CHUNKING"))
		caps->chunking = true;
	else if (smtpcaps_word_is(w, n, "BINARYMIME"))
		caps->binarymime = true;
	else if (smtpcaps_word_is(w, n, "MT-PRIORITY"))
		caps->mt_priority = true;
	else if (smtpcaps_word_is(w, n, "STARTTLS"))
		caps->starttls = true;
	else if (smtpcaps_word_is(w, n, "SIZE")) {
		caps->size = true;
		if (smtpcaps_next_word(line, len, &pos, &p, &pn))
			smtpcaps_parse_size(p, pn, &caps->size_max);
	} else if (smtpcaps_word_is(w, n, "AUTH") ||
	           (n > 5 && smtpcaps_word_is(w, 5, "AUTH="))) {
		/* "AUTH=" is the pre-RFC 4954 form some servers still send. */
		if (n > 5)
			add_mech(caps, w + 5, n - 5);
		while (smtpcaps_next_word(line, len, &pos, &p, &pn))
			add_mech(caps, p, pn);
	}
}

void
smtpcaps_parse(struct smtp_caps *caps, const struct reply *r)
{
	memset(caps, 0, sizeof *caps);
	caps->esmtp = true;
	for (size_t i = 1; i < r->nlines; i++) {
		size_t len;
		const char *line = reply_line(r, i, &len);

		if (line)
			parse_cap_line(caps, line, len);
	}
}
