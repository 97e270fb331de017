/* tz_sniff.c — stub, to be written. */
#include "textize.h"
