/*
 * request.c - the command line as data (see request.h).
 */
#include "config.h"

#include "request.h"

/* How each mode is asked for, to name it when two modes collide. */
static const char *const mode_option[] = {
    [CLI_SEND] = "-bm",
    [CLI_QUEUE_LIST] = "-bp",
    [CLI_QUEUE_FLUSH] = "-q",
    [CLI_QUEUE_SHOW] = "--queue-show",
    [CLI_QUEUE_REMOVE] = "--queue-remove",
    [CLI_SERVE] = "-bs",
    [CLI_NOOP] = "-bi",
    [CLI_PRETEND] = "--check-config",
    [CLI_SERVERINFO] = "--serverinfo",
    [CLI_SMUGGLE_TEST] = "--smtp-smuggling-test",
    [CLI_OAUTH2_LOGIN] = "--oauth2-login",
    [CLI_CONFIGURE] = "--configure",
    [CLI_VERSION] = "--version",
    [CLI_HELP] = "--help",
};

const char *
request_mode_option(enum cli_mode mode)
{
	return mode_option[mode];
}
