#!/usr/bin/env bash
# hlrd on loopback, loaded by tools/hlrload: authenticated UPDATEs per second, and memory per
# mapping at 1,000,000 mappings.  hlrd runs with a generated config of 1,000 host keys, each
# allowed a /22 of 100.64.0.0/12 (1,024,000 permanent addresses in all), max_entries 1,100,000,
# no snapshots.  Steps (about 1 minute):
#   fill:     1,000,000 UPDATEs creating 1,000,000 mappings (1,000 per key) as fast as a window
#             of 64 outstanding requests allows; RSS delta (VmRSS of /proc/PID/status) / mappings
#   refresh:  10 s of UPDATEs refreshing existing mappings, window 64 (table at 1,000,000)
#   mixed:    10 s of 50% UPDATE / 50% QUERY, window 64
#   paced:    5 s at 10,000 UPDATEs/s: latency when not saturated
# hlrload verifies every reply's authenticator, so on 2 cores the client costs about as much
# CPU as the daemon; hlrd's own CPU time per request is reported as well.  No privileges needed.
. "$(dirname "$0")/lib.sh"

HLRD=$BIN/hlrd
LOAD=$BIN/hlrload
b_need "$HLRD" "$LOAD" "$BIN/roamctl" jq ss awk
KEYS=${HLRD_BENCH_KEYS:-1000}
PER_KEY=${HLRD_BENCH_PER_KEY:-1000}
MAPPINGS=$((KEYS * PER_KEY))
WINDOW=${HLRD_BENCH_WINDOW:-64}

PORT=$(roam_free_udp_port)
CFG=$B_TMP/hlrd.yaml
SOCK=$B_TMP/hlrd.sock
LOG=$B_TMP/hlrd.log
CTL() { "$BIN/roamctl" -s "$SOCK" "$@"; }
{
	cat <<-EOC
	listen: [127.0.0.1]
	port: $PORT
	control_socket: $SOCK
	snapshot: ""
	default_lifetime: 300s
	max_lifetime: 3600s
	max_entries: $((MAPPINGS + MAPPINGS / 10))
	log_level: warning
	EOC
	"$LOAD" --print-hosts --keys "$KEYS" --block 1024 --prefix 100.64.0.0/12
} >"$CFG" || b_die "cannot write the config"
"$HLRD" -t -c "$CFG" >/dev/null || b_die "hlrd -t refuses the generated config"

PID=
b_cleanup b_stop
"$HLRD" -f -c "$CFG" -p "$B_TMP/hlrd.pid" >>"$LOG" 2>&1 &
PID=$!
b_poll 10 CTL status || { cat "$LOG" >&2; b_die "hlrd did not start"; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
mappings() { CTL --json status | jq .mappings; }
load() { # NAME ARGS...: hlrload run, JSON in $B_TMP/NAME.json, hlrd CPU seconds in NAME.cpu
	local name=$1; shift
	local c0; c0=$(cpu_ticks)
	timeout 150 "$LOAD" -s "127.0.0.1:$PORT" --keys "$KEYS" --block 1024 \
		--prefix 100.64.0.0/12 --per-key "$PER_KEY" --json "$B_TMP/$name.json" "$@" ||
		b_die "hlrload ($name) failed"
	awk -v a="$c0" -v b="$(cpu_ticks)" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.3f\n", (b - a) / hz }' >"$B_TMP/$name.cpu"
	kill -0 "$PID" 2>/dev/null || b_die "hlrd died during $name"
	echo "$name: $(jq -c '{sent, answered, lost, answered_per_s, latency_us}' "$B_TMP/$name.json")"
}

sleep 0.5
RSS0=$(rss_kb)
load fill --count "$MAPPINGS" --window "$WINDOW" --lifetime 3600 --wait-ms 2000
sleep 0.5
RSS1=$(rss_kb)
NMAP=$(mappings)
echo "fill: $NMAP mappings, VmRSS $RSS0 kB -> $RSS1 kB"
[ "$NMAP" -ge $((MAPPINGS * 99 / 100)) ] || b_die "only $NMAP of $MAPPINGS mappings created"
load refresh --duration 10 --window "$WINDOW" --lifetime 3600
load mixed --duration 10 --window "$WINDOW" --query-pct 50 --lifetime 3600
load paced --duration 5 --rate 10000 --lifetime 3600
CTL --json stats >"$B_TMP/stats.json" || b_die "no stats"
RSS2=$(rss_kb)
b_stop

jq -n --slurpfile f "$B_TMP/fill.json" --slurpfile r "$B_TMP/refresh.json" \
	--slurpfile m "$B_TMP/mixed.json" --slurpfile p "$B_TMP/paced.json" \
	--slurpfile st "$B_TMP/stats.json" \
	--argjson rss0 "$RSS0" --argjson rss1 "$RSS1" --argjson rss2 "$RSS2" \
	--argjson nmap "$NMAP" --argjson keys "$KEYS" --argjson window "$WINDOW" \
	--argjson cf "$(cat "$B_TMP/fill.cpu")" --argjson cr "$(cat "$B_TMP/refresh.cpu")" \
	--argjson cm "$(cat "$B_TMP/mixed.cpu")" '
	def r1: (. * 10 | round) / 10;
	def lat($x; $p): {
	  ("\($p)_latency_p50_us"): $x.latency_us.p50, ("\($p)_latency_p99_us"): $x.latency_us.p99,
	  ("\($p)_latency_max_us"): $x.latency_us.max };
	{
	  host_keys: $keys,
	  window_requests: $window,
	  mappings: $nmap,
	  fill_updates_per_s: ($f[0].answered_per_s | round),
	  fill_loss_pct: ($f[0].loss_pct | r1),
	  rss_before_fill_kb: $rss0,
	  rss_after_fill_kb: $rss1,
	  rss_end_kb: $rss2,
	  memory_per_mapping_bytes: (($rss1 - $rss0) * 1024 / $nmap | r1),
	  refresh_updates_per_s: ($r[0].answered_per_s | round),
	  refresh_loss_pct: ($r[0].loss_pct | r1),
	  refresh_hlrd_cpu_us_per_update: ($cr * 1e6 / $r[0].answered | r1),
	  fill_hlrd_cpu_us_per_update: ($cf * 1e6 / $f[0].answered | r1),
	  mixed_requests_per_s: ($m[0].answered_per_s | round),
	  mixed_queries_per_s: ($m[0].answered_per_s * $m[0].sent_query / $m[0].sent | round),
	  mixed_loss_pct: ($m[0].loss_pct | r1),
	  mixed_hlrd_cpu_us_per_request: ($cm * 1e6 / $m[0].answered | r1),
	  paced_rate_per_s: $p[0].target_rate_per_s,
	  paced_answered_per_s: ($p[0].answered_per_s | round),
	  paced_loss_pct: ($p[0].loss_pct | r1),
	  hlrd_drops: ($st[0] | with_entries(select(.key | startswith("drop_"))) | add),
	  hlrd_reply_no_resources: $st[0].reply_no_resources
	} + lat($f[0]; "fill") + lat($r[0]; "refresh") + lat($m[0]; "mixed") + lat($p[0]; "paced")
	' >"$B_TMP/results.json" || b_die "cannot compose results"
jq . "$B_TMP/results.json"
b_result "$B_TMP/results.json"
