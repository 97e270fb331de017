/* tz_jis.c — stub, to be written. */
#include "textize.h"
