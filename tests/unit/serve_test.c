#include "config.h"

#include "serve.h"
#include "unit.h"

int
main(void)
{
	CHECK(1); /* placeholder until the tests are written */
	return unit_done();
}
