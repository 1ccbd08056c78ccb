/* maillog.c - placeholder until the module lands. */
#include "maillog.h"
