#!/usr/bin/env bash
# linkem and trafgen end to end: host A -- [M: linkem between two veths] -- host B, in network
# namespaces of this test only (prefix "lkt-<pid>").  Checks what issue 3 asks of the test bed:
#  (a) delay: at 10,000 datagrams/s with --delay 20ms nothing is lost and no datagram arrives
#      sooner than 20 ms after it was sent (linkem never releases early).  How close the mean
#      comes to 20 ms plus the baseline (target: within 0.2 ms) is a figure of bench/linkem.sh,
#      not a check here: a timed test fails on a busy machine for reasons of its own;
#  (b) loss: --loss 5% with a fixed seed over 100,000 datagrams is measured within 1 point;
#  (c) trafgen's loss/duplicate/reorder counters agree with linkem's own stats;
#  (d) TCP through delay and 1% loss survives and verifies every byte; a cut path is reported
#      survived=false within the user timeout.
# The figures measured are printed as "figure: ..." lines.
. "$(dirname "$0")/lib.sh"

P="lkt-$$"
NA="$P-a" NM="$P-m" NB="$P-b"
IPA=10.77.0.1 IPB=10.77.0.2
MACA=02:00:0a:4d:00:01 MACB=02:00:0a:4d:00:02
DELAY_EARLY_MS=0 # sender and receiver stamp with the same CLOCK_MONOTONIC
# SCHED_FIFO for linkem and the UDP meter: on a loaded machine ordinary scheduling adds
# milliseconds to release and receive times (measured: +1.2 ms mean, 12 ms max at load 5)
RT=--realtime
LK_PID=

for ns in "$NA" "$NM" "$NB"; do
	t_cleanup "ip netns pids $ns 2>/dev/null | xargs -r kill -9; ip netns del $ns"
done

. "$(dirname "$0")/helpers/linkem-net.sh" # nsx, setup, stop_linkem

# start_linkem NAME ARGS...: linkem in M, stats to $T_TMP/NAME.json on exit.
start_linkem() {
	local name=$1; shift
	rm -f "$T_TMP/$name.json"
	ip netns exec "$NM" "$BIN/linkem" $RT -a ma -b mb --json "$T_TMP/$name.json" "$@" 2>"$T_TMP/$name.log" &
	LK_PID=$!
	t_poll 5 grep -q forwarding "$T_TMP/$name.log"
}

# udp_run NAME RATE DURATION: trafgen from A to B; receiver JSON in $T_TMP/NAME.json.
udp_run() {
	local name=$1 rate=$2 dur=$3 rpid
	ip netns exec "$NB" "$BIN/trafgen" udp-recv $RT --bind $IPB:7001 --duration $((dur + 10)) \
		--json "$T_TMP/$name.json" &
	rpid=$!
	t_poll 5 nsx "$NB" sh -c "ss -Hlun | grep -q ':7001 '" || return 1
	nsx "$NA" "$BIN/trafgen" udp-send $RT --to $IPB:7001 --rate "$rate" --duration "$dur" \
		--json "$T_TMP/$name.send.json" || return 1
	wait $rpid
}

jget() { jq -r "$2" "$T_TMP/$1.json"; }
# fcmp EXPR: evaluates a float comparison with awk, true/false as exit status
fcmp() { awk "BEGIN { exit !($*) }"; }

if ! setup; then
	t_fail "setup" "could not create namespaces and veths"
	t_done
fi

# ---- (a) delay at 10,000 datagrams/s ----
delay_test() {
	start_linkem lk-base || return 1
	udp_run base 10000 3 || return 1
	stop_linkem
	start_linkem lk-delay --delay 20ms || return 1
	udp_run delay 10000 3 || return 1
	stop_linkem
	local b d err
	b=$(jget base .latency_ms.avg)
	d=$(jget delay .latency_ms.avg)
	err=$(awk -v b="$b" -v d="$d" 'BEGIN { printf "%.3f", d - b - 20 }')
	echo "figure: baseline mean one-way latency ${b} ms; with --delay 20ms ${d} ms" \
		"(p99 $(jget delay .latency_ms.p99), max $(jget delay .latency_ms.max));" \
		"delay error ${err} ms at 10000 pps, $(jget delay .received) datagrams"
	[ "$(jget delay .lost)" -eq 0 ] || { echo "lost $(jget delay .lost)"; return 1; }
	local min
	min=$(jget delay .latency_ms.min)
	fcmp "$min >= 20 - $DELAY_EARLY_MS" || {
		echo "a datagram arrived after $min ms: sooner than the 20 ms delay"
		return 1
	}
}
t_check "delay 20ms at 10k pps: nothing lost, no datagram sooner than 20 ms" delay_test
grep '^figure' "$T_TMP/last.out" || true

# ---- (b) loss 5% over 100,000 datagrams ----
loss_test() {
	start_linkem lk-loss --loss 5% --seed 42 || return 1
	udp_run loss 25000 4 || return 1
	stop_linkem
	local sent lost pct
	sent=$(jget loss .sent)
	lost=$(jget loss .lost)
	pct=$(awk -v s="$sent" -v l="$lost" 'BEGIN { printf "%.3f", 100 * l / s }')
	echo "figure: --loss 5% --seed 42: $lost of $sent lost = ${pct}%;" \
		"linkem dropped $(jget lk-loss .a2b.dropped_loss) of $(jget lk-loss .a2b.frames_in)"
	[ "$sent" -eq 100000 ] || { echo "sent $sent, not 100000"; return 1; }
	fcmp "$pct >= 4 && $pct <= 6" || { echo "loss ${pct}% not within 1 point of 5%"; return 1; }
}
t_check "loss 5% over 100,000 datagrams within 1 point" loss_test
grep '^figure' "$T_TMP/last.out" || true

# ---- (c) trafgen agrees with linkem on loss, duplication and reordering ----
count_test() {
	start_linkem lk-count --loss 1% --dup 2% --reorder 2% --delay 1ms --seed 7 || return 1
	udp_run count 10000 2 || return 1
	stop_linkem
	local tsent trecv tlost tdup treo tends lin lout ldrop ldup lreo
	tsent=$(jget count .sent) trecv=$(jget count .received) tlost=$(jget count .lost)
	tdup=$(jget count .duplicated) treo=$(jget count .reordered)
	tends=$(jget count .end_received)
	lin=$(jget lk-count .a2b.frames_in) lout=$(jget lk-count .a2b.frames_out)
	ldrop=$(jget lk-count .a2b.dropped) ldup=$(jget lk-count .a2b.duplicated)
	lreo=$(jget lk-count .a2b.reordered)
	echo "figure: trafgen sent=$tsent received=$trecv lost=$tlost dup=$tdup reordered=$treo" \
		"end_received=$tends; linkem in=$lin out=$lout dropped=$ldrop dup=$ldup reordered=$lreo"
	local ok=0
	if [ "$tdup" -eq 0 ] || [ "$treo" -eq 0 ] || [ "$tlost" -eq 0 ]; then
		echo "a counter is 0"
		ok=1
	fi
	# every frame crossing linkem is ours: data plus 3 END datagrams
	[ $((lin - 3)) -eq "$tsent" ] || { echo "linkem in $lin != sent $tsent + 3"; ok=1; }
	[ $((trecv + tdup + tends)) -eq "$lout" ] ||
		{ echo "arrivals $((trecv + tdup + tends)) != linkem out $lout"; ok=1; }
	# END datagrams may themselves be dropped, copied or held back: at most 3 of each
	local diff what
	while read -r diff what; do
		if [ "$diff" -lt 0 ] || [ "$diff" -gt 3 ]; then
			echo "$what: linkem and trafgen differ by $diff"
			ok=1
		fi
	done <<-EOF
		$((ldrop - tlost)) drop
		$((ldup - tdup)) dup
		$((lreo - treo)) reorder
	EOF
	return $ok
}
t_check "trafgen's lost/duplicated/reordered agree with linkem's stats" count_test
grep '^figure' "$T_TMP/last.out" || true

# ---- (d) TCP: survives delay and loss; a cut path is reported ----
tcp_test() {
	start_linkem lk-tcp --delay 10ms --loss 1% --seed 3 || return 1
	ip netns exec "$NB" "$BIN/trafgen" tcp-server --bind $IPB:7002 --duration 60 \
		--json "$T_TMP/tcps.json" &
	local spid=$!
	t_poll 5 nsx "$NB" sh -c "ss -Hltn | grep -q ':7002 '" || return 1
	nsx "$NA" "$BIN/trafgen" tcp-client --to $IPB:7002 --rate 2000000 --duration 5 \
		--json "$T_TMP/tcpc.json" || return 1
	wait $spid
	stop_linkem
	local cs cv ss sv
	cs=$(jget tcpc .bytes_sent) cv=$(jget tcpc .bytes_verified)
	ss=$(jget tcps .survived) sv=$(jget tcps .bytes_verified)
	echo "figure: tcp through 10ms/1% loss: sent $cs verified $cv (server $sv)," \
		"max stall $(jget tcpc .max_stall_ms) ms, linkem dropped $(jget lk-tcp .a2b.dropped_loss)+$(jget lk-tcp .b2a.dropped_loss)"
	[ "$(jget tcpc .survived)" = true ] && [ "$ss" = true ] || { echo "did not survive"; return 1; }
	[ "$cs" -gt 1000000 ] && [ "$cv" -eq "$cs" ] && [ "$sv" -eq "$cs" ]
}
t_check "tcp through delay and 1% loss survives, every byte verified" tcp_test
grep '^figure' "$T_TMP/last.out" || true

cut_test() {
	start_linkem lk-cut --delay 5ms || return 1
	ip netns exec "$NB" "$BIN/trafgen" tcp-server --bind $IPB:7003 --duration 60 --timeout 3s \
		--json "$T_TMP/cuts.json" &
	local spid=$!
	t_poll 5 nsx "$NB" sh -c "ss -Hltn | grep -q ':7003 '" || return 1
	ip netns exec "$NA" "$BIN/trafgen" tcp-client --to $IPB:7003 --rate 500000 --duration 60 \
		--timeout 3s --json "$T_TMP/cutc.json" &
	local cpid=$!
	sleep 2
	kill -9 "$LK_PID"
	wait "$LK_PID" 2>/dev/null
	LK_PID=
	local cut=$SECONDS
	wait $cpid
	local took=$((SECONDS - cut))
	wait $spid
	echo "figure: path cut: client reported after ${took}s ($(jget cutc .error))," \
		"server: $(jget cuts .error)"
	[ "$(jget cutc .survived)" = false ] && [ "$(jget cuts .survived)" = false ] || return 1
	jget cutc .error | grep -qi "timed out" || return 1
	# sanity bound only: the 3 s user timeout, plus generous slack
	[ "$took" -le 15 ]
}
t_check "tcp with a cut path is reported survived=false within the user timeout" cut_test
grep '^figure' "$T_TMP/last.out" || true

t_done
