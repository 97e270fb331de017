/* main.c — textize-milter entry point (stub, to be written). */
#include <stdio.h>
#include "textize.h"
int main(void) { puts("textize-milter " TZ_VERSION); return 0; }
