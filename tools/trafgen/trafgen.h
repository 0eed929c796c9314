/* trafgen: the traffic meter.  UDP: numbered, timestamped datagrams at a fixed rate and a
 * receiver that accounts for loss, duplication, reordering, gaps and one-way latency.  TCP: one
 * long connection streaming a keyed byte pattern, verified byte by byte at the far end.
 *
 * The accounting (rx.c, stall.c, pattern.c) and the codec (codec.c) never read a clock: they
 * are handed `now` (CLOCK_MONOTONIC nanoseconds), so unit tests drive them with a fake clock.
 * CLOCK_MONOTONIC is shared by every network namespace of one machine, which is what makes the
 * one-way latency (receive time - send time stamped in the datagram) meaningful. */
#ifndef TRAFGEN_H
#define TRAFGEN_H
#include <stddef.h>
#include <stdint.h>

#include "roam/buf.h"
#include "roam/json.h"

/* ---- UDP datagram (codec.c); all fields in network byte order ----
 *   0  magic   u32  "RMTG" (0x524d5447)
 *   4  version u8   1
 *   5  type    u8   1 DATA, 2 END
 *   6  flags   u16  0 (ignored)
 *   8  flow    u32  identifies one sender run
 *  12  seq     u64  DATA: 0, 1, 2, ...   END: 0
 *  20  send_ns u64  sender's CLOCK_MONOTONIC at transmission
 *  28  total   u64  END only: number of DATA datagrams sent
 * followed by padding (zeros) up to the requested size. */
#define TG_MAGIC 0x524d5447u
#define TG_VERSION 1
#define TG_DATA 1
#define TG_END 2
#define TG_DATA_LEN 28 /* smallest DATA datagram */
#define TG_END_LEN 36  /* smallest END datagram */
#define TG_MAX_LEN 65507

struct tg_pkt {
	uint8_t type;
	uint32_t flow;
	uint64_t seq;
	uint64_t send_ns;
	uint64_t total; /* END */
};

/* Encodes p into w, padded with zeros to `size` bytes (at least the minimum of its type).
 * Returns 0, or w's error (-ENOSPC for a fixed buffer too small), -EINVAL for a bad type or
 * a size above TG_MAX_LEN. */
int tg_pkt_encode(const struct tg_pkt *p, size_t size, struct wbuf *w);
/* Decodes a datagram (borrowed bytes).  Returns 0, -EMSGSIZE when truncated, -EBADMSG for a
 * wrong magic, version or type. */
int tg_pkt_decode(const void *buf, size_t len, struct tg_pkt *p);

/* ---- UDP receiver accounting (rx.c) ---- */

#define TG_SERIES_NS 100000000ull /* series bucket: 100 ms */
#define TG_SEQ_WINDOW (1u << 24)  /* a sequence this far above the highest seen is invalid */
#define TG_LAT_FINE 65536u        /* 1 us buckets below 65.536 ms */
#define TG_LAT_COARSE 100000u     /* then 100 us buckets up to ~10 s */

struct tg_rx {
	int have_flow;
	uint32_t flow;
	uint64_t first_ns, last_ns;   /* first and latest DATA arrival */
	uint64_t arrivals;            /* DATA datagrams of the flow, copies included */
	uint64_t received;            /* distinct sequence numbers */
	uint64_t duplicated, reordered;
	uint64_t foreign;             /* valid datagrams of another flow (ignored) */
	uint64_t invalid;             /* undecodable, or absurd sequence numbers */
	uint64_t seq_end;             /* highest sequence + 1 */
	int end_seen;
	uint64_t end_total, end_ns, ends;
	uint64_t max_gap_ns, max_gap_at_ns; /* at: start of the gap, relative to first_ns */
	int gap_open;                 /* max gap is the silence at the end (no END seen) */
	/* sequence bitmap */
	uint8_t *seen;
	size_t seen_len;
	/* one-way latency */
	uint64_t lat_n, lat_min, lat_max;
	long double lat_sum;
	uint32_t *lat_hist;           /* TG_LAT_FINE + TG_LAT_COARSE + 1 (overflow) */
	/* arrivals per 100 ms since first_ns */
	uint32_t *series;
	size_t series_len, series_cap;
	int finished;
};

struct tg_rx_report {
	uint64_t sent, received, lost, duplicated, reordered, foreign, invalid;
	double max_gap_ms, max_gap_at_ms;
	double lat_min_ms, lat_avg_ms, lat_max_ms, lat_p99_ms; /* 0 when nothing arrived */
	int end_seen, gap_open;
};

/* Returns 0 or -ENOMEM. */
int tg_rx_init(struct tg_rx *rx);
void tg_rx_free(struct tg_rx *rx);
/* Accounts one decoded datagram that arrived at now_ns.  Never fails: what cannot be
 * accounted (out of memory, absurd sequence) is counted as invalid. */
void tg_rx_packet(struct tg_rx *rx, uint64_t now_ns, const struct tg_pkt *p);
/* Accounts an undecodable datagram. */
void tg_rx_garbage(struct tg_rx *rx);
/* Closes the run at now_ns: without an END, the silence since the last arrival counts as a
 * gap (the stream stopped).  Idempotent. */
void tg_rx_finish(struct tg_rx *rx, uint64_t now_ns);
void tg_rx_report(const struct tg_rx *rx, struct tg_rx_report *out);
/* Writes the receiver's members ("mode":"udp", "sent", ... "series") into the open object. */
void tg_rx_json(const struct tg_rx *rx, struct json_writer *w);

/* ---- TCP byte pattern (pattern.c) ---- */

/* Byte at stream offset `off` of the pattern keyed by `key`: a stateless PRNG stream, so any
 * loss, duplication, reordering or corruption of bytes shows up as a mismatch. */
uint8_t tg_pattern_byte(uint64_t key, uint64_t off);
void tg_pattern_fill(uint64_t key, uint64_t off, uint8_t *buf, size_t len);
/* Returns the index of the first byte of buf that differs from the pattern at off, or len. */
size_t tg_pattern_check(uint64_t key, uint64_t off, const uint8_t *buf, size_t len);

/* Stream header the client sends first (16 bytes): magic "RMTC" u32, version u8, 3 zero
 * bytes, key u64. */
#define TG_TCP_MAGIC 0x524d5443u
#define TG_TCP_HDR_LEN 16
int tg_tcp_hdr_encode(uint64_t key, struct wbuf *w);
/* Returns 0, -EMSGSIZE (short), -EBADMSG (magic/version). */
int tg_tcp_hdr_decode(const void *buf, size_t len, uint64_t *key);

/* ---- stall tracker (stall.c) ---- */

#define TG_STALLS_MAX 1000 /* stalls kept for the report; all are counted */

struct tg_stall {
	uint64_t at_ns; /* start, relative to the tracker's start */
	uint64_t len_ns;
};

struct tg_stalls {
	uint64_t threshold_ns, start_ns, last_ns;
	int waiting;      /* progress is expected (something outstanding) */
	uint64_t count, max_ns;
	struct tg_stall list[TG_STALLS_MAX];
	size_t n;
};

void tg_stalls_init(struct tg_stalls *s, uint64_t threshold_ns, uint64_t now_ns);
/* Progress (bytes acknowledged or read) at now: closes a pending stall. */
void tg_stalls_progress(struct tg_stalls *s, uint64_t now_ns);
/* Whether progress is expected: an idle stream (nothing outstanding) does not stall.  When
 * waiting starts, the stall clock starts at now. */
void tg_stalls_waiting(struct tg_stalls *s, int waiting, uint64_t now_ns);
/* Closes the run: an open stall longer than the threshold is recorded. */
void tg_stalls_finish(struct tg_stalls *s, uint64_t now_ns);
void tg_stalls_json(const struct tg_stalls *s, struct json_writer *w);

/* ---- runners (udp.c, tcp.c) ---- */

enum tg_udp_mode { TG_UDP_SEND, TG_UDP_RECV, TG_UDP_BOTH };

struct tg_udp_opts {
	enum tg_udp_mode mode;
	const char *to, *bind;   /* ADDR:PORT strings */
	double rate;             /* datagrams per second */
	double duration_s;       /* send: how long; recv: max listening time (0: no limit) */
	size_t size;             /* datagram size */
	uint32_t flow;
	int flow_set;
	uint64_t grace_ns;       /* after END */
	uint64_t wait_ns;        /* both: how long to wait for the peer after sending */
	const char *json;        /* NULL: table on stdout; "-": JSON on stdout */
};
int tg_udp_run(const struct tg_udp_opts *o);

struct tg_tcp_opts {
	int server;
	const char *addr;        /* bind (server) or to (client) */
	double rate;             /* bytes per second (client) */
	double duration_s;       /* client: streaming time; server: max time (0: no limit) */
	uint64_t stall_ns;
	uint64_t timeout_ms;     /* TCP_USER_TIMEOUT and keepalive detection */
	uint64_t key;
	int key_set;
	const char *json;
};
int tg_tcp_run(const struct tg_tcp_opts *o);

/* Output helper (report.c): writes the JSON object built by fn to path ("-": stdout), via a
 * temporary file and rename.  Returns 0 or a negative errno. */
int tg_write_json(const char *path, void (*fn)(struct json_writer *, const void *),
		  const void *arg);
uint64_t tg_now_ns(void);

#endif
