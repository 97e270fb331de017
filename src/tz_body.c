/* tz_body.c — stub, to be written. */
#include "textize.h"
