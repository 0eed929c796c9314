/* Identification by timestamp (RFC 5944 5.7) and roam's deregistration-reply Identification
 * (docs/protocols/mipv4.md 5.3). */
#include <errno.h>

#include "roam/mip4.h"

#define LOW32 0xffffffffULL

uint64_t mip4_id_next(uint64_t now_ms, int64_t offset, uint64_t last)
{
	uint64_t id = auth_ntp_from_unix_ms(now_ms) + (uint64_t)offset;

	/* Strictly after last and after last's deregistration-reply value. */
	if (last != 0 && id < last + 2)
		id = last + 2;
	/* A low word of all ones would make mip4_id_dereg() wrap into the same second's 0. */
	if ((id & LOW32) == LOW32)
		id++;
	return id;
}

int mip4_id_check(uint64_t id, uint64_t now_ntp, unsigned tolerance_s)
{
	uint64_t tol = (uint64_t)tolerance_s << 32;
	uint64_t d = id > now_ntp ? id - now_ntp : now_ntp - id;

	return d <= tol ? 0 : -ERANGE;
}

uint64_t mip4_id_resync(uint64_t request_id, uint64_t now_ntp)
{
	return (now_ntp & ~LOW32) | (request_id & LOW32);
}

int64_t mip4_id_resync_offset(uint64_t reply_id, uint64_t request_id)
{
	return (int64_t)((reply_id & ~LOW32) - (request_id & ~LOW32));
}

uint64_t mip4_id_dereg(uint64_t request_id)
{
	return (request_id & ~LOW32) | ((request_id + 1) & LOW32);
}

int mip4_id_match(uint64_t reply_id, uint64_t request_id)
{
	if ((reply_id & LOW32) == (request_id & LOW32))
		return 1;
	if ((reply_id & LOW32) == (mip4_id_dereg(request_id) & LOW32))
		return 2;
	return 0;
}
