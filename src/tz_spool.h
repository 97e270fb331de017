/* tz_spool.h — stub, to be written. */
#ifndef TZ_SPOOL_H
#define TZ_SPOOL_H
#endif
