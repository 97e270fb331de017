/* tz_body.h — stub, to be written. */
#ifndef TZ_BODY_H
#define TZ_BODY_H
#endif
