/* address.c - placeholder until the module lands. */
#include "address.h"
