/* rewrite.c - placeholder until written. */
#include "config.h"

#include "rewrite.h"
