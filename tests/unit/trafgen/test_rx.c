/* UDP receiver accounting on a fake clock: loss, duplicates, reordering, gaps, latency,
 * series, END handling, foreign flows and absurd sequence numbers. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../../tools/trafgen/trafgen.h"

#define MS 1000000ull

static struct tg_rx rx;

static void setup(void) { cr_assert_eq(tg_rx_init(&rx), 0); }
static void teardown(void) { tg_rx_free(&rx); }

/* DATA seq arriving at `at` ms, sent `lat` ms earlier, flow 1 */
static void data(uint64_t seq, double at, double lat)
{
	uint64_t now = (uint64_t)(at * 1e6) + 1000 * MS;
	struct tg_pkt p = { .type = TG_DATA, .flow = 1, .seq = seq,
			    .send_ns = now - (uint64_t)(lat * 1e6) };
	tg_rx_packet(&rx, now, &p);
}
static void end(uint64_t total, double at)
{
	struct tg_pkt p = { .type = TG_END, .flow = 1, .total = total,
			    .send_ns = (uint64_t)(at * 1e6) + 1000 * MS };
	tg_rx_packet(&rx, (uint64_t)(at * 1e6) + 1000 * MS, &p);
}
static struct tg_rx_report report(double at)
{
	struct tg_rx_report r;
	tg_rx_finish(&rx, (uint64_t)(at * 1e6) + 1000 * MS);
	tg_rx_report(&rx, &r);
	return r;
}

TestSuite(rx, .init = setup, .fini = teardown);

Test(rx, clean_stream)
{
	for (uint64_t i = 0; i < 1000; i++)
		data(i, (double)i, 2.0);
	end(1000, 1000);
	struct tg_rx_report r = report(2000);
	cr_assert_eq(r.sent, 1000);
	cr_assert_eq(r.received, 1000);
	cr_assert_eq(r.lost, 0);
	cr_assert_eq(r.duplicated, 0);
	cr_assert_eq(r.reordered, 0);
	cr_assert_float_eq(r.max_gap_ms, 1.0, 1e-9);
	cr_assert_float_eq(r.lat_min_ms, 2.0, 1e-9);
	cr_assert_float_eq(r.lat_avg_ms, 2.0, 1e-9);
	cr_assert_float_eq(r.lat_max_ms, 2.0, 1e-9);
	cr_assert_float_eq(r.lat_p99_ms, 2.0, 0.002);
	cr_assert(r.end_seen);
	cr_assert(!r.gap_open);
	/* 1 per ms: 100 per 100 ms bucket */
	cr_assert_eq(rx.series_len, 10);
	for (size_t i = 0; i < rx.series_len; i++)
		cr_assert_eq(rx.series[i], 100);
}

Test(rx, loss_dup_reorder_gap)
{
	/* 0..99 at 1 ms; 100..109 lost; a handoff gap of 250 ms; 110..199 with 150 duplicated
	 * twice, 160 and 161 swapped, 170 arriving after 175 */
	double t = 0;
	for (uint64_t i = 0; i < 100; i++)
		data(i, t++, 1);
	t += 250; /* 99 arrived at 99, next at 350 */
	for (uint64_t i = 110; i < 200; i++) {
		if (i == 160)
			data(161, t++, 1), data(160, t++, 1), i++;
		else if (i == 170)
			continue;
		else
			data(i, t++, 1);
		if (i == 150)
			data(150, t++, 1), data(150, t++, 1);
		if (i == 175)
			data(170, t++, 1);
	}
	end(200, t + 1);
	struct tg_rx_report r = report(t + 600);
	cr_assert_eq(r.sent, 200);
	cr_assert_eq(r.received, 190);
	cr_assert_eq(r.lost, 10);
	cr_assert_eq(r.duplicated, 2);
	cr_assert_eq(r.reordered, 2); /* 160 and 170 came after higher numbers */
	cr_assert_float_eq(r.max_gap_ms, 251.0, 1e-9);
	cr_assert_float_eq(r.max_gap_at_ms, 99.0, 1e-9);
	cr_assert(!r.gap_open);
	cr_assert_eq(rx.arrivals, 192);
	/* the silent 100 ms buckets of the gap are zero */
	cr_assert_eq(rx.series[0], 100);
	cr_assert_eq(rx.series[1], 0);
	cr_assert_eq(rx.series[2], 0);
}

Test(rx, no_end_uses_highest_sequence_and_open_gap)
{
	for (uint64_t i = 0; i < 50; i++)
		if (i % 10 != 3)
			data(i, (double)i * 10, 5);
	/* the stream stops at 490 ms; the receiver gives up at 3000 ms */
	struct tg_rx_report r = report(3000);
	cr_assert_eq(r.sent, 50);
	cr_assert_eq(r.received, 45);
	cr_assert_eq(r.lost, 5);
	cr_assert(!r.end_seen);
	cr_assert(r.gap_open);
	cr_assert_float_eq(r.max_gap_ms, 2510.0, 1e-9);
	cr_assert_float_eq(r.max_gap_at_ms, 490.0, 1e-9);
	/* finish is idempotent */
	tg_rx_finish(&rx, 9000 * MS);
	tg_rx_report(&rx, &r);
	cr_assert_float_eq(r.max_gap_ms, 2510.0, 1e-9);
}

Test(rx, trailing_loss_counted_from_end)
{
	for (uint64_t i = 0; i < 90; i++)
		data(i, (double)i, 1);
	end(100, 200);
	end(100, 210); /* repeated END */
	struct tg_rx_report r = report(300);
	cr_assert_eq(r.sent, 100);
	cr_assert_eq(r.lost, 10);
	cr_assert_eq(rx.ends, 2);
	cr_assert(!r.gap_open);
}

Test(rx, latency_percentile)
{
	/* 990 at 20 ms, 10 at 40 ms: p99 is 20 ms, max 40, avg 20.2 */
	for (uint64_t i = 0; i < 1000; i++)
		data(i, (double)i, i % 100 == 99 ? 40 : 20);
	struct tg_rx_report r = report(1000);
	cr_assert_float_eq(r.lat_min_ms, 20.0, 1e-9);
	cr_assert_float_eq(r.lat_max_ms, 40.0, 1e-9);
	cr_assert_float_eq(r.lat_avg_ms, 20.2, 1e-9);
	cr_assert_float_eq(r.lat_p99_ms, 20.0, 0.002);
	/* beyond the fine histogram range */
	teardown();
	setup();
	for (uint64_t i = 0; i < 100; i++)
		data(i, (double)i, 150);
	r = report(1000);
	cr_assert_float_eq(r.lat_p99_ms, 150.0, 0.1);
}

Test(rx, foreign_and_invalid)
{
	data(0, 0, 1);
	struct tg_pkt p = { .type = TG_DATA, .flow = 2, .seq = 1, .send_ns = 0 };
	tg_rx_packet(&rx, 1001 * MS, &p); /* another sender */
	p.flow = 1;
	p.seq = 1ull << 40; /* absurd */
	tg_rx_packet(&rx, 1002 * MS, &p);
	tg_rx_garbage(&rx);
	data(1, 3, 1);
	struct tg_rx_report r = report(10);
	cr_assert_eq(r.foreign, 1);
	cr_assert_eq(r.invalid, 2);
	cr_assert_eq(r.sent, 2);
	cr_assert_eq(r.received, 2);
	cr_assert_eq(r.lost, 0);
}

Test(rx, large_sequences_grow_the_bitmap)
{
	for (uint64_t i = 0; i < 200000; i++)
		data(i * 3, (double)i * 0.01, 1); /* every third arrives */
	struct tg_rx_report r = report(3000);
	cr_assert_eq(r.sent, 599998);
	cr_assert_eq(r.received, 200000);
	cr_assert_eq(r.lost, 399998);
	cr_assert_eq(r.duplicated, 0);
	data(3, 2001, 1);
	tg_rx_report(&rx, &r);
	cr_assert_eq(r.duplicated, 1);
}

Test(rx, json_keys)
{
	data(0, 0, 1);
	end(1, 1);
	tg_rx_finish(&rx, 2000 * MS);
	struct wbuf b;
	struct json_writer w;
	wbuf_init(&b);
	json_writer_init(&w, &b);
	json_obj_begin(&w);
	tg_rx_json(&rx, &w);
	json_obj_end(&w);
	cr_assert_eq(json_writer_err(&w), 0);
	struct json_value *v;
	char err[128];
	cr_assert_eq(json_parse((const char *)b.buf, b.len, &v, err, sizeof(err)), 0, "%s", err);
	static const char *const keys[] = { "mode",   "sent",       "received",      "lost",
					    "duplicated", "reordered", "max_gap_ms",
					    "max_gap_at_ms", "latency_ms", "series" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_assert_not_null(json_get(v, keys[i]), "missing %s", keys[i]);
	const char *mode;
	cr_assert_eq(json_get_str(v, "mode", &mode), 0);
	cr_assert_str_eq(mode, "udp");
	cr_assert_not_null(json_get(json_get(v, "latency_ms"), "p99"));
	json_free(v);
	wbuf_free(&b);
}
