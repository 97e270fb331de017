/* tz_notice.c — stub, to be written. */
#include "textize.h"
