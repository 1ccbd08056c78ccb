/* transcript.c - placeholder until the module lands. */
#include "transcript.h"
