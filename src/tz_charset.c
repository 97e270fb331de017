/* tz_charset.c — stub, to be written. */
#include "textize.h"
