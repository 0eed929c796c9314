/* Internal interfaces between the files of common/proto/l2tp (not installed). */
#ifndef ROAM_L2TP_INT_H
#define ROAM_L2TP_INT_H
#include "roam/l2tp.h"

/* Parses the value of handoff vendor AVP `type` into m.  0, -EBADMSG (bad length or value),
 * or 1 when the type is not one of ours (then reported as unknown). */
int l2tp_ho_parse(struct l2tp_msg *m, uint16_t type, const uint8_t *v, size_t n);
/* Writes the value of handoff AVP `type` from m.  0 or -EINVAL (bad MIN), or w->err. */
int l2tp_ho_write(const struct l2tp_msg *m, uint16_t type, struct wbuf *w);
/* Call state: 24 bytes (docs/protocols/l2tp-handoff.md). */
void l2tp_call_state_put(struct wbuf *w, const struct l2tp_call_state *s);
int l2tp_call_state_get(struct rbuf *r, struct l2tp_call_state *s);

#endif
