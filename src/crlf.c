/* crlf.c - placeholder until the module lands. */
#include "crlf.h"
