/* dot.c - placeholder until the module lands. */
#include "dot.h"
