/* encode.c - placeholder until the module lands. */
#include "config.h"
#include "encode.h"
