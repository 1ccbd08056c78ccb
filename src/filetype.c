/* filetype.c - placeholder until the module lands. */
#include "config.h"
#include "filetype.h"
