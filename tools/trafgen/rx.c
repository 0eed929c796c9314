/* UDP receiver accounting (see trafgen.h).  A sequence bitmap tells first copies from
 * duplicates; a first copy below the highest sequence seen so far is a reordered one; the sent
 * count comes from the END datagram (else highest sequence + 1). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trafgen.h"

#define LAT_BUCKETS (TG_LAT_FINE + TG_LAT_COARSE + 1)

int tg_rx_init(struct tg_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
	rx->lat_hist = calloc(LAT_BUCKETS, sizeof(*rx->lat_hist));
	return rx->lat_hist ? 0 : -ENOMEM;
}

void tg_rx_free(struct tg_rx *rx)
{
	free(rx->seen);
	free(rx->lat_hist);
	free(rx->series);
	rx->seen = NULL;
	rx->lat_hist = NULL;
	rx->series = NULL;
}

static int seen_grow(struct tg_rx *rx, uint64_t seq)
{
	size_t need = (size_t)(seq / 8) + 1;
	if (need <= rx->seen_len)
		return 0;
	size_t n = rx->seen_len ? rx->seen_len : 4096;
	while (n < need)
		n *= 2;
	uint8_t *s = realloc(rx->seen, n);
	if (!s)
		return -ENOMEM;
	memset(s + rx->seen_len, 0, n - rx->seen_len);
	rx->seen = s;
	rx->seen_len = n;
	return 0;
}

static void series_add(struct tg_rx *rx, uint64_t now_ns)
{
	uint64_t b = (now_ns - rx->first_ns) / TG_SERIES_NS;
	if (b >= rx->series_len) {
		if (b >= 10u * 1000 * 1000) /* 11 days: stop growing */
			return;
		if (b >= rx->series_cap) {
			size_t n = rx->series_cap ? rx->series_cap : 256;
			while (n <= b)
				n *= 2;
			uint32_t *s = realloc(rx->series, n * sizeof(*s));
			if (!s)
				return;
			rx->series = s;
			rx->series_cap = n;
		}
		memset(rx->series + rx->series_len, 0, (b + 1 - rx->series_len) * sizeof(uint32_t));
		rx->series_len = (size_t)b + 1;
	}
	rx->series[b]++;
}

static void latency_add(struct tg_rx *rx, uint64_t lat_ns)
{
	uint64_t us = lat_ns / 1000;
	size_t b;
	if (us < TG_LAT_FINE)
		b = (size_t)us;
	else if ((us - TG_LAT_FINE) / 100 < TG_LAT_COARSE)
		b = TG_LAT_FINE + (size_t)((us - TG_LAT_FINE) / 100);
	else
		b = TG_LAT_FINE + TG_LAT_COARSE;
	rx->lat_hist[b]++;
	if (!rx->lat_n || lat_ns < rx->lat_min)
		rx->lat_min = lat_ns;
	if (lat_ns > rx->lat_max)
		rx->lat_max = lat_ns;
	rx->lat_n++;
	rx->lat_sum += lat_ns;
}

void tg_rx_garbage(struct tg_rx *rx)
{
	rx->invalid++;
}

void tg_rx_packet(struct tg_rx *rx, uint64_t now_ns, const struct tg_pkt *p)
{
	if (rx->have_flow && p->flow != rx->flow) {
		rx->foreign++;
		return;
	}
	if (p->type == TG_END) {
		rx->have_flow = 1;
		rx->flow = p->flow;
		rx->ends++;
		if (!rx->end_seen) {
			rx->end_seen = 1;
			rx->end_total = p->total;
			rx->end_ns = now_ns;
		}
		return;
	}
	if (p->type != TG_DATA) {
		rx->invalid++;
		return;
	}
	if (p->seq >= rx->seq_end + TG_SEQ_WINDOW || seen_grow(rx, p->seq) < 0) {
		rx->invalid++;
		return;
	}
	rx->have_flow = 1;
	rx->flow = p->flow;

	/* arrival timing: every copy is an arrival */
	if (!rx->arrivals) {
		rx->first_ns = now_ns;
	} else if (now_ns > rx->last_ns && now_ns - rx->last_ns > rx->max_gap_ns) {
		rx->max_gap_ns = now_ns - rx->last_ns;
		rx->max_gap_at_ns = rx->last_ns - rx->first_ns;
	}
	if (now_ns > rx->last_ns || !rx->arrivals)
		rx->last_ns = now_ns;
	rx->arrivals++;
	series_add(rx, now_ns);

	uint8_t bit = (uint8_t)(1u << (p->seq & 7));
	if (rx->seen[p->seq / 8] & bit) {
		rx->duplicated++;
		return;
	}
	rx->seen[p->seq / 8] |= bit;
	rx->received++;
	if (p->seq + 1 < rx->seq_end)
		rx->reordered++;
	else
		rx->seq_end = p->seq + 1;
	latency_add(rx, now_ns >= p->send_ns ? now_ns - p->send_ns : 0);
}

void tg_rx_finish(struct tg_rx *rx, uint64_t now_ns)
{
	if (rx->finished)
		return;
	rx->finished = 1;
	if (rx->end_seen || !rx->arrivals || now_ns <= rx->last_ns)
		return;
	if (now_ns - rx->last_ns > rx->max_gap_ns) {
		rx->max_gap_ns = now_ns - rx->last_ns;
		rx->max_gap_at_ns = rx->last_ns - rx->first_ns;
		rx->gap_open = 1;
	}
}

static double bucket_ms(size_t b)
{
	/* the middle of the bucket */
	if (b < TG_LAT_FINE)
		return ((double)b + 0.5) / 1e3;
	if (b < TG_LAT_FINE + TG_LAT_COARSE)
		return ((double)TG_LAT_FINE + (double)(b - TG_LAT_FINE) * 100 + 50) / 1e3;
	return NAN;
}

static double round3(double v)
{
	return round(v * 1000) / 1000;
}

void tg_rx_report(const struct tg_rx *rx, struct tg_rx_report *o)
{
	memset(o, 0, sizeof(*o));
	o->sent = rx->end_seen ? rx->end_total : rx->seq_end;
	if (o->sent < rx->seq_end) /* an END that undercounts: trust what arrived */
		o->sent = rx->seq_end;
	o->received = rx->received;
	o->lost = o->sent - rx->received;
	o->duplicated = rx->duplicated;
	o->reordered = rx->reordered;
	o->foreign = rx->foreign;
	o->invalid = rx->invalid;
	o->max_gap_ms = round3((double)rx->max_gap_ns / 1e6);
	o->max_gap_at_ms = round3((double)rx->max_gap_at_ns / 1e6);
	o->end_seen = rx->end_seen;
	o->gap_open = rx->gap_open;
	if (rx->lat_n) {
		o->lat_min_ms = round3((double)rx->lat_min / 1e6);
		o->lat_max_ms = round3((double)rx->lat_max / 1e6);
		o->lat_avg_ms = round3((double)(rx->lat_sum / rx->lat_n) / 1e6);
		uint64_t want = (uint64_t)ceil(0.99 * (double)rx->lat_n), cum = 0;
		for (size_t b = 0; b < LAT_BUCKETS; b++) {
			cum += rx->lat_hist[b];
			if (cum >= want) {
				double v = bucket_ms(b);
				o->lat_p99_ms = isnan(v) ? o->lat_max_ms : round3(v);
				break;
			}
		}
		/* the bucket middle may overshoot the true extremes */
		if (o->lat_p99_ms > o->lat_max_ms)
			o->lat_p99_ms = o->lat_max_ms;
		if (o->lat_p99_ms < o->lat_min_ms)
			o->lat_p99_ms = o->lat_min_ms;
	}
}

void tg_rx_json(const struct tg_rx *rx, struct json_writer *w)
{
	struct tg_rx_report r;
	tg_rx_report(rx, &r);
	json_kv_str(w, "mode", "udp");
	json_kv_uint(w, "sent", r.sent);
	json_kv_uint(w, "received", r.received);
	json_kv_uint(w, "lost", r.lost);
	json_kv_uint(w, "duplicated", r.duplicated);
	json_kv_uint(w, "reordered", r.reordered);
	json_kv_double(w, "max_gap_ms", r.max_gap_ms);
	json_kv_double(w, "max_gap_at_ms", r.max_gap_at_ms);
	json_kv_bool(w, "gap_open", r.gap_open);
	json_kv_bool(w, "end_seen", r.end_seen);
	json_kv_uint(w, "end_received", rx->ends);
	json_kv_uint(w, "foreign", r.foreign);
	json_kv_uint(w, "invalid", r.invalid);
	json_key(w, "latency_ms");
	json_obj_begin(w);
	json_kv_double(w, "min", r.lat_min_ms);
	json_kv_double(w, "avg", r.lat_avg_ms);
	json_kv_double(w, "max", r.lat_max_ms);
	json_kv_double(w, "p99", r.lat_p99_ms);
	json_obj_end(w);
	json_kv_uint(w, "series_ms", TG_SERIES_NS / 1000000);
	json_key(w, "series");
	json_arr_begin(w);
	for (size_t i = 0; i < rx->series_len; i++)
		json_uint(w, rx->series[i]);
	json_arr_end(w);
}
