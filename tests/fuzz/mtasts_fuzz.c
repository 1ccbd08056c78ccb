/*
 * mtasts_fuzz - what a recipient domain publishes for MTA-STS (mtasts.c,
 * RFC 8461): the first byte picks the _mta-sts TXT records (its low bit
 * 0; the rest is split at LF into up to 8 records, as dns_txt hands them
 * over) or the policy document (low bit 1; the rest as the HTTPS body
 * came, NULs and all).
 * Checked: a record verdict of 1 or 0, 1 with an id of 1 to
 * MTASTS_ID_MAX letters and digits, 0 with an empty id and a reason that
 * is one printable line; a policy either parsed (a mode of the three, a
 * max_age within MTASTS_MAX_AGE, mx patterns within MTASTS_MX_MAX that
 * are lower-case host names of at most MTASTS_NAME_MAX bytes, "*." only
 * in front, at least one unless the mode is none) or refused with a
 * printable one-line reason and nothing filled; and every pattern of a
 * parsed policy matches a name made from it, the wildcard one label and
 * never two.
 */
#include "config.h"

#include "fuzz.h"

#include "mtasts.h"

#define RECORDS_MAX 8

static void
printable_line(const char *s)
{
	FUZZ_ASSERT(s[0] != '\0' && fuzz_message_ok(s));
	for (const char *p = s; *p; p++)
		FUZZ_ASSERT((unsigned char)*p >= 0x20 &&
		            (unsigned char)*p < 0x7f);
}

static void
records(const uint8_t *data, size_t size)
{
	char *all = fuzz_string(data, size), *recs[RECORDS_MAX];
	char id[MTASTS_ID_MAX + 1], why[256];
	size_t n = 0;
	char *p = all;

	while (n < RECORDS_MAX) {
		char *lf = strchr(p, '\n');

		recs[n++] = p;
		if (!lf)
			break;
		*lf = '\0';
		p = lf + 1;
	}
	switch (mtasts_parse_txt((const char *const *)recs, n, id, why,
	                         sizeof why)) {
	case 1:
		FUZZ_ASSERT(id[0] != '\0' && strlen(id) <= MTASTS_ID_MAX);
		for (const char *c = id; *c; c++)
			FUZZ_ASSERT((*c >= 'a' && *c <= 'z') ||
			            (*c >= 'A' && *c <= 'Z') ||
			            (*c >= '0' && *c <= '9'));
		break;
	case 0:
		FUZZ_ASSERT(id[0] == '\0');
		printable_line(why);
		break;
	default:
		FUZZ_ASSERT(!"a verdict other than 1 or 0");
	}
	free(all);
}

static void
pattern_ok(const struct mtasts_policy *p, const char *m)
{
	size_t n = strlen(m);
	const char *name = m[0] == '*' ? m + 2 : m;
	char probe[MTASTS_NAME_MAX + 8];

	FUZZ_ASSERT(n > 0 && n <= MTASTS_NAME_MAX);
	if (m[0] == '*')
		FUZZ_ASSERT(m[1] == '.' && name[0] != '\0');
	for (const char *c = name; *c; c++)
		FUZZ_ASSERT((*c >= 'a' && *c <= 'z') ||
		            (*c >= '0' && *c <= '9') || *c == '-' || *c == '.');
	FUZZ_ASSERT(name[0] != '.' && name[strlen(name) - 1] != '.');
	if (m[0] != '*') {
		FUZZ_ASSERT(mtasts_mx_matches(p, m, NULL, 0));
		return;
	}
	snprintf(probe, sizeof probe, "x.%s", name);
	FUZZ_ASSERT(mtasts_mx_matches(p, probe, NULL, 0));
}

static void
policy(const uint8_t *data, size_t size)
{
	struct mtasts_policy p;
	char why[256];

	if (mtasts_parse_policy((const char *)data, size, &p, why, sizeof why) <
	    0) {
		printable_line(why);
		FUZZ_ASSERT(p.nmx == 0 && p.max_age == 0 &&
		            p.mode == MTASTS_MODE_NONE);
		return;
	}
	FUZZ_ASSERT(p.mode == MTASTS_MODE_NONE ||
	            p.mode == MTASTS_MODE_TESTING ||
	            p.mode == MTASTS_MODE_ENFORCE);
	FUZZ_ASSERT(p.max_age >= 0 && p.max_age <= MTASTS_MAX_AGE);
	FUZZ_ASSERT(p.nmx <= MTASTS_MX_MAX);
	FUZZ_ASSERT(p.nmx > 0 || p.mode == MTASTS_MODE_NONE);
	for (size_t i = 0; i < p.nmx; i++)
		pattern_ok(&p, p.mx[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		policy(data + 1, size - 1);
	else
		records(data + 1, size - 1);
	return 0;
}
