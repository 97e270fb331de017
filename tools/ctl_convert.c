/* ctl_convert.c — `textizectl convert` (stub, to be written). */
#include <stdio.h>
#include "ctl.h"
int ctl_convert(int argc, char **argv) { (void)argc; (void)argv; fputs("textizectl convert: not yet implemented\n", stderr); return 1; }
