/* conn.c - placeholder until the module lands. */
#include "conn.h"
