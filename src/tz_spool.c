/* tz_spool.c — stub, to be written. */
#include "textize.h"
