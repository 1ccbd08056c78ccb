/*
 * socks_fuzz - a SOCKS5 proxy's replies (socks.c, RFC 1928), which come
 * from whatever listens at proxy_host: the method choice, the status of
 * the CONNECT, the bound address's head; and the request built for a
 * host name taken from the same bytes (a configuration value).
 * Checked: a reply judged good leaves at most the rest of a bound
 * address and the port to read, a request is never longer than
 * SOCKS_REQUEST_MAX, and the messages are as error_set leaves them.
 */
#include "config.h"

#include "fuzz.h"

#include "socks.h"

static void
judged(int rc, const struct error *err)
{
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc < 0)
		FUZZ_ASSERT(err->kind != ERROR_NONE &&
		            fuzz_message_ok(err->msg));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char greeting[SOCKS_GREETING_LEN];
	unsigned char request[SOCKS_REQUEST_MAX];
	struct error err;
	size_t rest = 0, len = 0;
	char *host;
	int port;

	if (size <
	    SOCKS_METHOD_LEN + SOCKS_STATUS_LEN + SOCKS_ADDR_HEAD_LEN + 2)
		return 0;
	FUZZ_ASSERT(socks_greeting(greeting) == SOCKS_GREETING_LEN);
	error_clear(&err);
	judged(socks_check_method(data, &err), &err);
	data += SOCKS_METHOD_LEN;
	error_clear(&err);
	judged(socks_check_status(data, &err), &err);
	data += SOCKS_STATUS_LEN;
	error_clear(&err);
	if (socks_check_bound(data, &rest, &err) == 0)
		/* the rest of an IPv6 address (the longest fixed one) or of
		 * a name, and the port */
		FUZZ_ASSERT(rest <= 255 + 2);
	else
		judged(-1, &err);
	data += SOCKS_ADDR_HEAD_LEN;
	port = data[0] << 8 | data[1];
	data += 2;
	size -= SOCKS_METHOD_LEN + SOCKS_STATUS_LEN + SOCKS_ADDR_HEAD_LEN + 2;
	host = fuzz_string(data, size);
	error_clear(&err);
	if (!*host)
		; /* conn_open refuses an empty host before any proxy */
	else if (socks_request(host, port, request, &len, &err) == 0)
		/* VER CMD RSV ATYP, a 1-octet name with its length (the
		 * shortest address), the port */
		FUZZ_ASSERT(len >= 4 + 2 + 2 && len <= SOCKS_REQUEST_MAX);
	else
		judged(-1, &err);
	free(host);
	return 0;
}
