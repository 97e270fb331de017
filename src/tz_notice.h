/* tz_notice.h — stub, to be written. */
#ifndef TZ_NOTICE_H
#define TZ_NOTICE_H
#endif
