/* fuzz_config.c — libFuzzer harness: the config file parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "tz_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/tz-fuzz-conf-XXXXXX";
	char err[256];
	struct tz_config *cfg;
	int fd = mkstemp(path);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	cfg = tz_config_load(path, err, sizeof(err));
	tz_config_unref(cfg);
	unlink(path);
	return 0;
}
