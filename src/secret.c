/* secret.c - placeholder until the module lands. */
#include "config.h"
#include "secret.h"
