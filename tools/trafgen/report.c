/* Output helpers: JSON files written whole (temporary file + rename), the clock. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "trafgen.h"

uint64_t tg_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int tg_write_json(const char *path, void (*fn)(struct json_writer *, const void *),
		  const void *arg)
{
	struct wbuf b;
	struct json_writer w;
	wbuf_init(&b);
	json_writer_init(&w, &b);
	fn(&w, arg);
	int rc = json_writer_err(&w);
	if (rc < 0)
		goto out;
	wbuf_put_u8(&b, '\n');
	if (b.err) {
		rc = b.err;
		goto out;
	}
	if (strcmp(path, "-") == 0) {
		if (fwrite(b.buf, 1, b.len, stdout) != b.len || fflush(stdout) != 0)
			rc = -EIO;
		goto out;
	}
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	FILE *f = fopen(tmp, "w");
	if (!f) {
		rc = -errno;
		goto out;
	}
	size_t wr = fwrite(b.buf, 1, b.len, f);
	if ((fclose(f) != 0) | (wr != b.len)) {
		unlink(tmp);
		rc = -EIO;
		goto out;
	}
	if (rename(tmp, path) < 0) {
		rc = -errno;
		unlink(tmp);
	}
out:
	wbuf_free(&b);
	return rc;
}
