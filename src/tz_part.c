/* tz_part.c — stub, to be written. */
#include "textize.h"
