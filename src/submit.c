/* submit.c - placeholder until the module lands. */
#include "submit.h"
