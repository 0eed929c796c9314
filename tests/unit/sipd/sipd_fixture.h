/* Shared by sipd's message-level tests (test_message.c, test_proxy.c, test_nat.c): a SIP text fed
 * to sipd_handle() and its answer.  Header-only (static inline). */
#ifndef SIPD_FIXTURE_H
#define SIPD_FIXTURE_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../../../sipd/sipd.h"

/* Feeds text to s as if from src at now, with each \n turned into CRLF (when crlf_once, a \n
 * that already follows a \r is kept as it is); dst (NULL: not wanted) receives where the answer
 * goes.  Returns the answer (malloc'd), or NULL when sipd sends none, in which case it must have
 * written nothing. */
static inline char *sipd_feed(struct sipd *s, const struct sipd_src *src, const char *text,
			      uint64_t now, struct roam_sockaddr *dst, bool crlf_once)
{
	struct wbuf in, out;
	wbuf_init(&in);
	wbuf_init(&out);
	for (const char *p = text; *p; p++) {
		if (*p == '\n' && !(crlf_once && p > text && p[-1] == '\r'))
			wbuf_put_u8(&in, '\r');
		wbuf_put_u8(&in, (uint8_t)*p);
	}
	struct roam_sockaddr d;
	int r = sipd_handle(s, in.buf, in.len, src, now, &out, dst ? dst : &d);
	char *res = NULL;
	if (r == 1)
		res = strndup((const char *)out.buf, out.len);
	else
		cr_assert_eq(out.len, 0, "a drop leaves no partial output");
	wbuf_free(&in);
	wbuf_free(&out);
	return res;
}

/* The status code of a response, -1 when resp is NULL or no response. */
static inline int status_of(const char *resp)
{
	int code = 0;
	if (!resp || sscanf(resp, "SIP/2.0 %d", &code) != 1)
		return -1;
	return code;
}

#endif
