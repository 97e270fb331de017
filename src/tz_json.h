/* tz_json.h — stub, to be written. */
#ifndef TZ_JSON_H
#define TZ_JSON_H
#endif
