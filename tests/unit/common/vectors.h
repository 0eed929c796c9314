/* What the codec tests of tests/unit/common share for their byte vectors (test_radius.c,
 * test_hlr_codec.c): hex text, as RFCs and captures print it, to bytes. */
#ifndef TEST_VECTORS_H
#define TEST_VECTORS_H
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Decodes pairs of hex digits into out (cap bytes at most), skipping spaces and newlines;
 * returns the byte count.  A stray character or overflow fails the test. */
static __attribute__((unused)) size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (const char *p = hex; *p;) {
		if (*p == ' ' || *p == '\n') {
			p++;
			continue;
		}
		unsigned v;
		cr_assert(p[1] && sscanf(p, "%2x", &v) == 1, "bad hex at %s", p);
		cr_assert(n < cap);
		out[n++] = (uint8_t)v;
		p += 2;
	}
	return n;
}

#endif
