/* Clocks.  Protocol state machines never read a clock themselves: they are handed `now`
 * (monotonic milliseconds) by the caller, so unit tests drive them with a fake clock. */
#ifndef ROAM_CLOCK_H
#define ROAM_CLOCK_H
#include <stdint.h>

/* Monotonic milliseconds (CLOCK_MONOTONIC); the same base as libuv's uv_now(). */
uint64_t roam_mono_ms(void);
/* Wall-clock milliseconds since the Unix epoch (CLOCK_REALTIME), for snapshots and timestamps
 * that must mean the same thing after a restart. */
uint64_t roam_wall_ms(void);
/* Converts between the two at the current instant (for snapshot load/save of expiry times). */
uint64_t roam_wall_to_mono(uint64_t wall_ms);
uint64_t roam_mono_to_wall(uint64_t mono_ms);

#endif
