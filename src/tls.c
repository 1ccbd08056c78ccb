/* tls.c - placeholder until the module lands. */
#include "config.h"
#include "tls.h"
