/* Clocks (see roam/clock.h). */
#include <time.h>

#include "roam/clock.h"

static uint64_t read_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t roam_mono_ms(void) { return read_ms(CLOCK_MONOTONIC); }
uint64_t roam_wall_ms(void) { return read_ms(CLOCK_REALTIME); }

uint64_t roam_wall_to_mono(uint64_t wall_ms)
{
	uint64_t w = roam_wall_ms(), m = roam_mono_ms();
	if (wall_ms <= w)
		return m > (w - wall_ms) ? m - (w - wall_ms) : 0;
	return m + (wall_ms - w);
}

uint64_t roam_mono_to_wall(uint64_t mono_ms)
{
	uint64_t w = roam_wall_ms(), m = roam_mono_ms();
	if (mono_ms <= m)
		return w - (m - mono_ms);
	return w + (mono_ms - m);
}
