/*
 * queue_fuzz - queue envelopes (queuefile.c): the text of DIR/ID/envelope,
 * which a damaged disk, an older or newer mailpost or a user's editor may
 * have left in any state.  The entry's id is taken from the text's own
 * "id:" line when there is one, so that well-formed envelopes get past
 * the id check.  Checked: a parsed envelope has an id, at least one
 * recipient, a priority in range and strings without NUL (given back byte
 * for byte, CR and LF included, as the format promises).
 */
#include "config.h"

#include "fuzz.h"

#include "queuefile.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char id[QUEUE_ID_SIZE] = "0000000000000000";
	struct queue_envelope e;
	struct error err;
	const char *line;
	size_t pos = 0, len;

	while (fuzz_next_line(data, size, &pos, false, &line, &len)) {
		if (len == 4 + QUEUE_ID_LEN && memcmp(line, "id: ", 4) == 0) {
			memcpy(id, line + 4, QUEUE_ID_LEN);
			break;
		}
	}
	queue_envelope_init(&e);
	if (queuefile_parse((const char *)data, size, id, &e, &err) == 0) {
		FUZZ_ASSERT(strcmp(e.id, id) == 0 && queue_id_valid(e.id));
		FUZZ_ASSERT(e.env.sender && e.env.account && e.env.nrcpts >= 1);
		FUZZ_ASSERT(e.env.priority >= QUEUE_PRIORITY_MIN &&
		            e.env.priority <= QUEUE_PRIORITY_MAX);
	} else {
		FUZZ_ASSERT(err.kind == ERROR_DATA && fuzz_message_ok(err.msg));
	}
	queue_envelope_clear(&e);
	return 0;
}
