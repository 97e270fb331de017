/* tz_header.c — stub, to be written. */
#include "textize.h"
