/* main.c - placeholder until the driver lands. */
#include "config.h"
int main(void)
{
	return 70;
}
