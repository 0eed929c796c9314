#!/usr/bin/env bash
# linkem accuracy and forwarding rate (issue 3): host A -- [M: linkem between two veths] -- B,
# in network namespaces of this benchmark only (prefix "lkb-<pid>"), measured with trafgen the
# way tests/e2e/linkem.sh does (SCHED_FIFO for linkem and trafgen, one frame per segment, static
# neighbours, no IPv6 chatter).  Needs root.  About 2 minutes.
#   delay:  one-way latency at 10,000 datagrams/s through linkem without delay (the baseline)
#           and with --delay 20ms, 3 s each; error = latency - baseline mean - 20 ms
#   loss:   --loss 1% and --loss 5% over 100,000 datagrams each (25,000/s for 4 s)
#   rate:   highest rate with no datagram lost through linkem without impairment, for 64 and
#           1400-byte UDP payloads (frames of 106 and 1442 bytes): a bisection of 2 s runs
#           between 10,000/s and 400,000/s, to 5% precision.  On 2 cores sender, linkem and
#           receiver share the CPUs, so this is the figure of the whole path on this machine.
. "$(dirname "$0")/lib.sh"

b_need "$BIN/linkem" "$BIN/trafgen" jq ip awk
[ "$(id -u)" -eq 0 ] || b_die "needs root (network namespaces)"

P="lkb-$$"
NA="$P-a" NM="$P-m" NB="$P-b"
IPA=10.78.0.1 IPB=10.78.0.2
MACA=02:00:0a:4e:00:01 MACB=02:00:0a:4e:00:02
RT=--realtime
LK_PID=
SEED=${LINKEM_BENCH_SEED:-$((RANDOM * 32768 + RANDOM))}

for ns in "$NA" "$NM" "$NB"; do
	b_cleanup "ip netns pids $ns 2>/dev/null | xargs -r kill -9; ip netns del $ns"
done
b_cleanup stop_linkem

. "$(dirname "$0")/../tests/e2e/helpers/linkem-net.sh" # nsx, setup, stop_linkem

start_linkem() {
	local name=$1; shift
	rm -f "$B_TMP/$name.json"
	ip netns exec "$NM" "$BIN/linkem" $RT -a ma -b mb --json "$B_TMP/$name.json" "$@" \
		2>"$B_TMP/$name.log" &
	LK_PID=$!
	b_poll 5 grep -q forwarding "$B_TMP/$name.log" || { cat "$B_TMP/$name.log" >&2; return 1; }
}

# udp_run NAME RATE DURATION [SIZE]: trafgen from A to B; receiver JSON in $B_TMP/NAME.json.
udp_run() {
	local name=$1 rate=$2 dur=$3 size=${4:-64} rpid
	ip netns exec "$NB" "$BIN/trafgen" udp-recv $RT --bind $IPB:7001 --duration $((dur + 10)) \
		--json "$B_TMP/$name.json" &
	rpid=$!
	b_poll 5 nsx "$NB" sh -c "ss -Hlun | grep -q ':7001 '" || return 1
	nsx "$NA" "$BIN/trafgen" udp-send $RT --to $IPB:7001 --rate "$rate" --duration "$dur" \
		--size "$size" --json "$B_TMP/$name.send.json" || return 1
	wait $rpid
}
jget() { jq -r "$2" "$B_TMP/$1.json"; }

setup || b_die "could not create namespaces and veths"

# ---- delay at 10,000 datagrams/s ----
start_linkem lk-base || b_die "linkem did not start"
udp_run base 10000 3 || b_die "baseline run failed"
stop_linkem
start_linkem lk-delay --delay 20ms || b_die "linkem did not start"
udp_run delay 10000 3 || b_die "delay run failed"
stop_linkem
echo "delay: baseline $(jq -c .latency_ms "$B_TMP/base.json"); 20ms $(jq -c .latency_ms "$B_TMP/delay.json")"

# ---- loss at 1% and 5% over 100,000 datagrams ----
loss_run() { # PCT
	start_linkem "lk-loss$1" --loss "$1%" --seed "$SEED" || return 1
	udp_run "loss$1" 25000 4 || return 1
	stop_linkem
	echo "loss $1%: sent $(jget "loss$1" .sent) lost $(jget "loss$1" .lost)"
}
loss_run 1 || b_die "loss 1% run failed"
loss_run 5 || b_die "loss 5% run failed"

# ---- highest loss-free rate ----
# trial RATE SIZE: 0 when every datagram arrived (and the sender kept the rate)
trial() {
	local rate=$1 size=$2 name="rate-$2-$1"
	start_linkem "lk-$name" || return 2
	udp_run "$name" "$rate" 2 "$size" || { stop_linkem; return 2; }
	stop_linkem
	local sent lost
	sent=$(jget "$name" .sent) lost=$(jget "$name" .lost)
	echo "rate $rate/s size $size: sent $sent lost $lost" >&2
	[ "$sent" -ge $((rate * 2 * 99 / 100)) ] && [ "$lost" -eq 0 ]
}
max_rate() { # SIZE: prints the highest loss-free rate found
	local size=$1 lo=0 hi=400000 mid
	# a trial that fails to run at all is an error, not a figure
	if trial 10000 "$size"; then lo=10000; else [ $? -eq 2 ] && return 1; echo 0; return 0; fi
	while [ $((hi - lo)) -gt $((lo / 20 + 1000)) ]; do
		mid=$(((lo + hi) / 2))
		if trial "$mid" "$size"; then lo=$mid; else [ $? -eq 2 ] && return 1; hi=$mid; fi
	done
	echo "$lo"
}
R64=$(max_rate 64) || b_die "rate trials (64 bytes) failed"
R1400=$(max_rate 1400) || b_die "rate trials (1400 bytes) failed"

b_mean=$(jget base .latency_ms.avg)
jq -n --slurpfile base "$B_TMP/base.json" --slurpfile d "$B_TMP/delay.json" \
	--slurpfile l1 "$B_TMP/loss1.json" --slurpfile l5 "$B_TMP/loss5.json" \
	--argjson bm "$b_mean" --argjson r64 "$R64" --argjson r1400 "$R1400" --argjson seed "$SEED" '
	def r3: (. * 1000 | round) / 1000;
	def lpct($x): (100 * $x.lost / $x.sent);
	{
	  delay_rate_pps: 10000,
	  delay_setting_ms: 20,
	  delay_packets: $d[0].received,
	  baseline_latency_mean_ms: ($bm | r3),
	  baseline_latency_p99_ms: ($base[0].latency_ms.p99 | r3),
	  delayed_latency_mean_ms: ($d[0].latency_ms.avg | r3),
	  delayed_latency_p99_ms: ($d[0].latency_ms.p99 | r3),
	  delayed_latency_max_ms: ($d[0].latency_ms.max | r3),
	  delay_error_mean_ms: ($d[0].latency_ms.avg - $bm - 20 | r3),
	  delay_error_p99_ms: ($d[0].latency_ms.p99 - $bm - 20 | r3),
	  delay_lost_packets: $d[0].lost,
	  loss_seed: $seed,
	  loss_1pct_packets: $l1[0].sent,
	  loss_1pct_measured_pct: (lpct($l1[0]) | r3),
	  loss_1pct_error_points: (lpct($l1[0]) - 1 | r3),
	  loss_5pct_packets: $l5[0].sent,
	  loss_5pct_measured_pct: (lpct($l5[0]) | r3),
	  loss_5pct_error_points: (lpct($l5[0]) - 5 | r3),
	  max_lossless_rate_64b_pps: $r64,
	  max_lossless_rate_1400b_pps: $r1400,
	  max_lossless_rate_1400b_mbit_s: ($r1400 * 1442 * 8 / 1e6 | r3),
	  rate_trial_s: 2,
	  rate_search_max_pps: 400000
	}' >"$B_TMP/results.json" || b_die "cannot compose results"
jq . "$B_TMP/results.json"
b_result "$B_TMP/results.json"
