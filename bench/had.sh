#!/usr/bin/env bash
# had on loopback, loaded by tools/mip4load: authenticated registrations per second, and memory
# per binding at 100,000 bindings.  mip4load plays mobiles with co-located care-of addresses
# registering straight with had (no foreign agent), each request carrying an MN-HA
# authenticator (HMAC-MD5, RFC 5944 3.5); it verifies every reply's authenticator.  had's
# config is generated (`mip4load --print-mobiles`): MN-HA SAs of 64 home addresses each (the
# most had.yaml allows per SA), max_bindings 110,000, no snapshots, no data plane.
#
# had.yaml cannot name 100,000 home addresses: home addresses are listed one by one and the
# YAML loader refuses files over 1 MiB (YAML_MAX_FILE), so about 70,000 fit.  The benchmark
# therefore configures the first half of the mobiles, registers them, reloads had (roamctl reload)
# with a config of the second half (bindings are kept across a reload) and registers those.
# Steps (about 1 minute):
#   fresh:    2 x 50,000 registrations creating 100,000 bindings, window 64; RSS delta (VmRSS
#             of /proc/PID/status) / bindings
#   refresh:  10 s of re-registrations of existing bindings (the second half), window 64,
#             binding cache at 100,000
#   paced:    5 s at 5,000 registrations/s: latency when not saturated
#   solo:     a second had with one SA per mobile (10,000 SAs): refresh rate, showing the cost
#             of had's linear SA lookup by SPI
# On 2 cores the client costs about as much CPU as the daemon; had's own CPU time per
# registration (utime+stime of /proc/PID/stat) is reported as well.  No privileges needed.
. "$(dirname "$0")/lib.sh"

HAD=$BIN/had
LOAD=$BIN/mip4load
b_need "$HAD" "$LOAD" "$BIN/roamctl" jq ss awk
MOBILES=${HAD_BENCH_MOBILES:-100000}
PER_SA=${HAD_BENCH_PER_SA:-64}
WINDOW=${HAD_BENCH_WINDOW:-64}
SOLO=${HAD_BENCH_SOLO_SAS:-10000} # mobiles of the one-SA-per-mobile step (0: skipped)

# write_cfg NAME MOBILES PER_SA [mip4load args]: $B_TMP/NAME.yaml
write_cfg() {
	{
		cat <<-EOC
		address: 127.0.0.1
		listen: 127.0.0.1
		port: $PORT
		control_socket: $B_TMP/$1.sock
		snapshot: ""
		max_bindings: $((${MAXB:-$2} * 11 / 10))
		max_lifetime: 1800s
		log_level: warning
		EOC
		"$LOAD" --print-mobiles --mobiles "$2" --per-sa "$3" "${@:4}"
	} >"$B_TMP/$1.yaml" || b_die "cannot write the config"
}

PID=
b_cleanup b_stop
# start NAME: had with $B_TMP/NAME.yaml; seconds from exec to the control socket answering in
# $B_TMP/NAME.start
start() {
	local t0=$EPOCHREALTIME
	"$HAD" -f -c "$B_TMP/$1.yaml" -p "$B_TMP/$1.pid" >>"$B_TMP/$1.log" 2>&1 &
	PID=$!
	b_poll 60 "$BIN/roamctl" -s "$B_TMP/$1.sock" status || { cat "$B_TMP/$1.log" >&2; b_die "had did not start"; }
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f\n", b - a }' >"$B_TMP/$1.start"
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
bindings() { "$BIN/roamctl" -s "$B_TMP/$1.sock" --json status | jq .bindings; }
# load NAME MOBILES PER_SA ARGS...: mip4load run, JSON in $B_TMP/NAME.json, had CPU s in NAME.cpu
load() {
	local name=$1 mob=$2 per=$3; shift 3
	local c0; c0=$(cpu_ticks)
	timeout 150 "$LOAD" -s "127.0.0.1:$PORT" --mobiles "$mob" --per-sa "$per" \
		--json "$B_TMP/$name.json" "$@" || b_die "mip4load ($name) failed"
	awk -v a="$c0" -v b="$(cpu_ticks)" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.3f\n", (b - a) / hz }' >"$B_TMP/$name.cpu"
	kill -0 "$PID" 2>/dev/null || b_die "had died during $name"
	echo "$name: $(jq -c '{sent, answered, lost, code_accepted, code_denied, first_denial_code, answered_per_s, latency_us}' "$B_TMP/$name.json")"
}

PORT=$(roam_free_udp_port)
HALF=$((MOBILES / 2))
MAXB=$MOBILES
write_cfg main "$HALF" "$PER_SA"
"$HAD" -t -c "$B_TMP/main.yaml" >/dev/null || b_die "had -t refuses the generated config"
start main
sleep 0.5
RSS0=$(rss_kb)
load fresh1 "$HALF" "$PER_SA" --count "$HALF" --window "$WINDOW" --wait-ms 2000
sleep 0.5
RSSH=$(rss_kb)
# the second half: same port and socket, SAs of mobiles HALF .. MOBILES-1, bindings kept
cp "$B_TMP/main.yaml" "$B_TMP/main1.yaml"
write_cfg main "$((MOBILES - HALF))" "$PER_SA" --first-mobile "$HALF"
"$HAD" -t -c "$B_TMP/main.yaml" >/dev/null || b_die "had -t refuses the second config"
"$BIN/roamctl" -s "$B_TMP/main.sock" reload >/dev/null || b_die "had refused the reload"
sleep 0.5
load fresh2 "$((MOBILES - HALF))" "$PER_SA" --first-mobile "$HALF" --skip "$HALF" \
	--count "$((MOBILES - HALF))" --window "$WINDOW" --wait-ms 2000
sleep 0.5
RSS1=$(rss_kb)
NB=$(bindings main)
echo "fresh: $NB bindings, VmRSS $RSS0 kB -> $RSS1 kB"
[ "$NB" -ge $((MOBILES * 99 / 100)) ] || b_die "only $NB of $MOBILES bindings created"
jq -s '{answered: (.[0].answered + .[1].answered), loss_pct: ((.[0].lost + .[1].lost) * 100 / (.[0].sent + .[1].sent)),
	answered_per_s: ((.[0].answered + .[1].answered) / (.[0].active_duration_s + .[1].active_duration_s)),
	code_denied: (.[0].code_denied + .[1].code_denied), mobiles: (.[0].mobiles + .[1].mobiles),
	latency_us: {p50: ([.[0].latency_us.p50, .[1].latency_us.p50] | max), p99: ([.[0].latency_us.p99, .[1].latency_us.p99] | max),
	  max: ([.[0].latency_us.max, .[1].latency_us.max] | max)}}' \
	"$B_TMP/fresh1.json" "$B_TMP/fresh2.json" >"$B_TMP/fresh.json"
awk '{ s += $1 } END { printf "%.3f\n", s }' "$B_TMP/fresh1.cpu" "$B_TMP/fresh2.cpu" >"$B_TMP/fresh.cpu"
load refresh "$((MOBILES - HALF))" "$PER_SA" --first-mobile "$HALF" --skip "$MOBILES" \
	--duration 10 --window "$WINDOW"
load paced "$((MOBILES - HALF))" "$PER_SA" --first-mobile "$HALF" --skip $((MOBILES * 100)) \
	--duration 5 --rate 5000
"$BIN/roamctl" -s "$B_TMP/main.sock" --json stats >"$B_TMP/stats.json" || b_die "no stats"
RSS2=$(rss_kb)
b_stop

SOLO_JSON="{}"
MAXB=
if [ "$SOLO" -gt 0 ]; then
	PORT=$(roam_free_udp_port)
	write_cfg solo "$SOLO" 1
	start solo
	load solo_fresh "$SOLO" 1 --count "$SOLO" --window "$WINDOW" --wait-ms 2000
	load solo_refresh "$SOLO" 1 --skip "$SOLO" --duration 5 --window "$WINDOW"
	b_stop
	SOLO_JSON=$(jq -n --slurpfile r "$B_TMP/solo_refresh.json" --argjson n "$SOLO" \
		--argjson c "$(cat "$B_TMP/solo_refresh.cpu")" --argjson st "$(cat "$B_TMP/solo.start")" '
		{ solo_sas: $n, solo_start_s: $st,
		  solo_refresh_per_s: ($r[0].answered_per_s | round),
		  solo_refresh_loss_pct: ((($r[0].loss_pct) * 10 | round) / 10),
		  solo_had_cpu_us_per_registration: ($c * 1e6 / ([$r[0].answered, 1] | max) * 10 | round / 10) }')
fi

jq -n --slurpfile f "$B_TMP/fresh.json" --slurpfile f1 "$B_TMP/fresh1.json" \
	--slurpfile f2 "$B_TMP/fresh2.json" --slurpfile r "$B_TMP/refresh.json" \
	--slurpfile p "$B_TMP/paced.json" --slurpfile st "$B_TMP/stats.json" \
	--argjson rss0 "$RSS0" --argjson rss1 "$RSS1" --argjson rss2 "$RSS2" --argjson rssh "$RSSH" --argjson half "$HALF" \
	--argjson nb "$NB" --argjson window "$WINDOW" --argjson solo "$SOLO_JSON" \
	--argjson cf "$(cat "$B_TMP/fresh.cpu")" --argjson cr "$(cat "$B_TMP/refresh.cpu")" \
	--argjson cp "$(cat "$B_TMP/paced.cpu")" --argjson start "$(cat "$B_TMP/main.start")" '
	def r1: (. * 10 | round) / 10;
	def lat($x; $p): {
	  ("\($p)_latency_p50_us"): $x.latency_us.p50, ("\($p)_latency_p99_us"): $x.latency_us.p99,
	  ("\($p)_latency_max_us"): $x.latency_us.max };
	{
	  mobiles: $f[0].mobiles,
	  window_requests: $window,
	  had_start_s: $start,
	  bindings: $nb,
	  fresh_registrations_per_s: ($f[0].answered_per_s | round),
	  fresh_loss_pct: ($f[0].loss_pct | r1),
	  fresh_denied: $f[0].code_denied,
	  fresh_half_registrations_per_s: [$f1[0].answered_per_s, $f2[0].answered_per_s] | map(round),
	  fresh_had_cpu_us_per_registration: ($cf * 1e6 / $f[0].answered | r1),
	  rss_before_kb: $rss0,
	  rss_after_fresh_kb: $rss1,
	  rss_end_kb: $rss2,
	  memory_per_binding_bytes: (($rss1 - $rss0) * 1024 / $nb | r1),
	  rss_after_first_half_kb: $rssh,
	  memory_per_binding_first_half_bytes: (($rssh - $rss0) * 1024 / $half | r1),
	  refresh_registrations_per_s: ($r[0].answered_per_s | round),
	  refresh_loss_pct: ($r[0].loss_pct | r1),
	  refresh_denied: $r[0].code_denied,
	  refresh_had_cpu_us_per_registration: ($cr * 1e6 / $r[0].answered | r1),
	  paced_rate_per_s: $p[0].target_rate_per_s,
	  paced_answered_per_s: ($p[0].answered_per_s | round),
	  paced_loss_pct: ($p[0].loss_pct | r1),
	  paced_had_cpu_us_per_registration: ($cp * 1e6 / ([$p[0].answered, 1] | max) | r1),
	  had_drops: ($st[0] | with_entries(select(.key | startswith("drop_"))) | add),
	  had_created: $st[0].created, had_refreshed: $st[0].refreshed
	} + lat($f[0]; "fresh") + lat($r[0]; "refresh") + lat($p[0]; "paced") + $solo
	' >"$B_TMP/results.json" || b_die "cannot compose results"
jq . "$B_TMP/results.json"
b_result "$B_TMP/results.json"
