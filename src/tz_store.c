/* tz_store.c — stub, to be written. */
#include "textize.h"
