/* tz_config.c — stub, to be written. */
#include "textize.h"
