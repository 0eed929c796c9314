/* Shared helpers of the libFuzzer targets (tests/fuzz/README.md).
 *
 * FUZZ_CHECK aborts with a message naming the target, the file and the line: libFuzzer then
 * saves the input as a crash.  It is for properties the codec promises (a re-encoded message
 * decodes to the same thing, an encoder accepts what its decoder produced), never for inputs a
 * codec may legitimately refuse. */
#ifndef ROAM_FUZZ_H
#define ROAM_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roam/log.h"

#define FUZZ_CHECK(cond, ...)                                                               \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz check failed at %s:%d: %s: ", __FILE__, __LINE__, \
			        #cond);                                                        \
			fprintf(stderr, __VA_ARGS__);                                          \
			fputc('\n', stderr);                                                   \
			abort();                                                               \
		}                                                                              \
	} while (0)

/* Byte strings equal (either pointer may be NULL when its length is 0). */
static inline int fuzz_eq(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* Quietens libroam's logging (codecs may log drops) once per process. */
static inline void fuzz_quiet(void)
{
	static int done;
	if (!done) {
		log_init("fuzz", 1, LOG_LVL_ERR);
		done = 1;
	}
}

/* A cursor over the fuzzer's input for the stateful targets: each getter returns 0 once the
 * input is exhausted, so every input is a valid program. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t hi = fuzz_u8(in);
	return (uint16_t)(hi << 8 | fuzz_u8(in));
}

/* Borrows up to n bytes (fewer at the end of the input); *got is how many. */
static inline const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t n, size_t *got)
{
	const uint8_t *p = in->p;
	if (n > in->left)
		n = in->left;
	in->p += n;
	in->left -= n;
	*got = n;
	return p;
}

#endif
