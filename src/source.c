/* source.c - placeholder until the module lands. */
#include "source.h"
