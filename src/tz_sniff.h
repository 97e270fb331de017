/* tz_sniff.h — stub, to be written. */
#ifndef TZ_SNIFF_H
#define TZ_SNIFF_H
#endif
