/* queue.c - placeholder until written. */
#include "config.h"

#include "queue.h"
