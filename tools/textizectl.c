/* textizectl.c — operator command (stub, to be written). */
#include <stdio.h>
#include "textize.h"
int main(void) { puts("textizectl " TZ_VERSION); return 0; }
