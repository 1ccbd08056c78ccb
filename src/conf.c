/* conf.c - placeholder until the module lands. */
#include "conf.h"
