/* Stall tracker: intervals without progress, while progress is expected, longer than a
 * threshold. */
#include <string.h>

#include "trafgen.h"

void tg_stalls_init(struct tg_stalls *s, uint64_t threshold_ns, uint64_t now_ns)
{
	memset(s, 0, sizeof(*s));
	s->threshold_ns = threshold_ns;
	s->start_ns = s->last_ns = now_ns;
}

static void close_stall(struct tg_stalls *s, uint64_t now_ns)
{
	if (!s->waiting || now_ns < s->last_ns)
		return;
	uint64_t len = now_ns - s->last_ns;
	if (len <= s->threshold_ns)
		return;
	s->count++;
	if (len > s->max_ns)
		s->max_ns = len;
	if (s->n < TG_STALLS_MAX)
		s->list[s->n++] = (struct tg_stall){ s->last_ns - s->start_ns, len };
}

void tg_stalls_progress(struct tg_stalls *s, uint64_t now_ns)
{
	close_stall(s, now_ns);
	s->last_ns = now_ns;
}

void tg_stalls_waiting(struct tg_stalls *s, int waiting, uint64_t now_ns)
{
	if (waiting && !s->waiting) {
		s->waiting = 1;
		s->last_ns = now_ns;
	} else if (!waiting && s->waiting) {
		close_stall(s, now_ns);
		s->waiting = 0;
		s->last_ns = now_ns;
	}
}

void tg_stalls_finish(struct tg_stalls *s, uint64_t now_ns)
{
	close_stall(s, now_ns);
	s->waiting = 0;
	s->last_ns = now_ns;
}

void tg_stalls_json(const struct tg_stalls *s, struct json_writer *w)
{
	json_key(w, "stalls");
	json_arr_begin(w);
	for (size_t i = 0; i < s->n; i++) {
		json_obj_begin(w);
		json_kv_double(w, "at_ms", (double)s->list[i].at_ns / 1e6);
		json_kv_double(w, "ms", (double)s->list[i].len_ns / 1e6);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_kv_uint(w, "stall_count", s->count);
	json_kv_double(w, "max_stall_ms", (double)s->max_ns / 1e6);
}
