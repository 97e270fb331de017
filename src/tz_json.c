/* tz_json.c — stub, to be written. */
#include "textize.h"
