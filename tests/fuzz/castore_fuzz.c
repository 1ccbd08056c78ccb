/*
 * castore_fuzz - trust store files (castore.c): any bytes as the text of
 * a PEM bundle, which a user may name.  Scanning must end with an error
 * or an index, never read past what it was given; every indexed
 * certificate decodes again to DER whose subject, walked by
 * castore_names, is the one indexed (which holds the quick way, that
 * decodes only the headers before the subject and the subject where a
 * regular layout puts them, to the bytes the whole decoding gives); and
 * castore_names and castore_not_after are also given the raw bytes, as a
 * server's certificate (network input).
 */
#include "config.h"

#include "fuzz.h"

#include "castore.h"

static void
check_cert(const struct castore *s, size_t i)
{
	size_t len, dn_len, at[2], nl[2];
	const char *why = NULL;
	unsigned char *dn = castore_subject(s, i, &dn_len);
	unsigned char *der = castore_der(s, i, &len, &why);

	FUZZ_ASSERT(castore_line(s, i) >= 1);
	/* Only its beginning (or, in PEM's regular layout, only the headers
	 * before the subject) was read when indexed: the rest may be bad,
	 * and then it says why. */
	if (dn)
		FUZZ_ASSERT(castore_subject_is(s, i, dn, dn_len));
	if (!der) {
		FUZZ_ASSERT(why != NULL);
		free(dn);
		return;
	}
	FUZZ_ASSERT(len <= CASTORE_CERT_MAX);
	if (castore_names(der, len, at, nl)) {
		FUZZ_ASSERT(at[1] + nl[1] <= len && at[0] + nl[0] <= len);
		FUZZ_ASSERT(nl[1] == dn_len &&
		            memcmp(der + at[1], dn, dn_len) == 0);
		FUZZ_ASSERT(castore_not_after(der, len) >= -1);
	}
	free(der);
	free(dn);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct castore *s = NULL;
	struct error err;
	size_t at[2], nl[2];

	if (castore_names(data, size, at, nl))
		FUZZ_ASSERT(at[0] + nl[0] <= size && at[1] + nl[1] <= size &&
		            at[0] < at[1]);
	FUZZ_ASSERT(castore_not_after(data, size) >= -1);
	if (castore_scan(&s, (const char *)data, size, &err) < 0) {
		FUZZ_ASSERT(err.kind == ERROR_CONFIG);
		FUZZ_ASSERT(strncmp(err.msg, "certificate ", 12) == 0);
		return 0;
	}
	for (size_t i = 0; i < castore_count(s); i++)
		check_cert(s, i);
	castore_free(s);
	return 0;
}
