/* tz_s3.h — how tz_blob_s3.c signs its requests, apart so the unit tests
 * can check libcurl's AWS Signature Version 4 against AWS's published test
 * vector. Not for other modules: use tz_blob.h. */
#ifndef TZ_S3_H
#define TZ_S3_H

#include <stddef.h>
#include <curl/curl.h>

/* Make h sign its request with SigV4 (libcurl's CURLOPT_AWS_SIGV4:
 * provider "aws:amz", region, service) using the key id and secret. */
int tz_s3_sign(CURL *h, const char *region, const char *service, const char *key_id,
	       const char *secret, char *err, size_t errlen);

/* Read S3AccessKeyFile: the access key id and the secret, separated by
 * white space (a line each), the file not readable by group or others.
 * g_free() both. 0, or -1 with err. */
int tz_s3_load_keys(const char *path, char **key_id, char **secret, char *err, size_t errlen);

#endif
