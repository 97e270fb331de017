/* textize.h — project-wide constants shared by every module of the core. */
#ifndef TEXTIZE_H
#define TEXTIZE_H

#include <stddef.h>

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif
#define TZ_VERSION PACKAGE_VERSION

/* Every core function that can fail takes (char *err, size_t errlen) and
 * fills it with a one-line reason; this size is always enough. */
#define TZ_ERRLEN 256

/* Reference ids (quarantine entry ids) are at most this long, NUL included. */
#define TZ_ID_LEN 40

#endif
