/* header.c - placeholder until the module lands. */
#include "header.h"
