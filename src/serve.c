/* serve.c - placeholder until written. */
#include "config.h"

#include "serve.h"
