/* tz_engine.c — stub, to be written. */
#include "textize.h"
