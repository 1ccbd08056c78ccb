#include "config.h"

#include "rewrite.h"
#include "unit.h"

int
main(void)
{
	CHECK(1); /* placeholder until the tests are written */
	return unit_done();
}
