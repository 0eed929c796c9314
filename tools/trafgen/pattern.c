/* The TCP byte pattern: block b (8 bytes at offset 8b) is mix64(key, b), little-endian. */
#include <string.h>

#include "trafgen.h"

static uint64_t mix64(uint64_t key, uint64_t block)
{
	uint64_t z = key ^ (block * 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	/* a second round so that neighbouring blocks share no visible structure */
	z = (z ^ (z >> 33)) * 0xff51afd7ed558ccdull;
	return z ^ (z >> 33);
}

uint8_t tg_pattern_byte(uint64_t key, uint64_t off)
{
	return (uint8_t)(mix64(key, off >> 3) >> (8 * (off & 7)));
}

void tg_pattern_fill(uint64_t key, uint64_t off, uint8_t *buf, size_t len)
{
	size_t i = 0;
	while (i < len && ((off + i) & 7))
		buf[i] = tg_pattern_byte(key, off + i), i++;
	for (; i + 8 <= len; i += 8) {
		uint64_t v = mix64(key, (off + i) >> 3);
		for (int k = 0; k < 8; k++)
			buf[i + (size_t)k] = (uint8_t)(v >> (8 * k));
	}
	for (; i < len; i++)
		buf[i] = tg_pattern_byte(key, off + i);
}

size_t tg_pattern_check(uint64_t key, uint64_t off, const uint8_t *buf, size_t len)
{
	uint8_t tmp[4096];
	size_t done = 0;
	while (done < len) {
		size_t n = len - done < sizeof(tmp) ? len - done : sizeof(tmp);
		tg_pattern_fill(key, off + done, tmp, n);
		if (memcmp(tmp, buf + done, n) != 0) {
			for (size_t i = 0; i < n; i++)
				if (tmp[i] != buf[done + i])
					return done + i;
		}
		done += n;
	}
	return len;
}
