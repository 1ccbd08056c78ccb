/* smtp.c - placeholder until the module lands. */
#include "smtp.h"
