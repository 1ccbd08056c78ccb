/* deadletter.c - placeholder until written. */
#include "config.h"

#include "deadletter.h"
