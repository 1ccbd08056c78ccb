/* sasl.c - placeholder until the module lands. */
#include "config.h"
#include "sasl.h"
