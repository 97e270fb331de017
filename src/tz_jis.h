/* tz_jis.h — stub, to be written. */
#ifndef TZ_JIS_H
#define TZ_JIS_H
#endif
