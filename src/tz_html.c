/* tz_html.c — stub, to be written. */
#include "textize.h"
