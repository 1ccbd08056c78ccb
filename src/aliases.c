/* aliases.c - placeholder until written. */
#include "config.h"

#include "aliases.h"
