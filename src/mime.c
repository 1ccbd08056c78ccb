/* mime.c - placeholder until the module lands. */
#include "config.h"
#include "mime.h"
