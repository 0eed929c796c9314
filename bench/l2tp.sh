#!/usr/bin/env bash
# lnsd against xl2tpd as L2TP LNS, loaded in the same run by tools/l2tpload acting as LAC
# (RFC 2661 control plane: SCCRQ/SCCRP/SCCCN, ICRQ/ICRP/ICCN, ZLB acknowledgements, then
# StopCCN): tunnel and call set-ups per second, and memory per call at 10,000 calls.
# Each LNS runs alone in a network namespace of its own (l2b-<pid>), on its loopback.
#   setup: TUNNELS tunnels x 1 call, at most 32 tunnels being set up at once: tunnel+call
#          set-ups per second (from the first SCCRQ to the last ICRP; the run ends once every
#          ICCN is acknowledged), then StopCCN on all.
#   calls: 10 tunnels x 1,000 calls = 10,000 calls held: calls per second, and the LNS's
#          RSS delta (VmRSS) / calls established; then StopCCN.
# Only the control plane is measured, which is what both LNSs do before PPP: lnsd runs with
# ppp.enabled false (the call is held without PPP); xl2tpd ("force userspace = yes") starts
# pppd for each call at ICCN, which fails here for lack of kernel PPP (/dev/ppp); xl2tpd may
# then clear the call with CDN (cdn_received).  Its memory is divided by the calls still held
# at the reading, and includes what each pppd start costs it (the pty).
# Parked calls: see bench/l2tp_park.c (lnsd's own functions, in-process), run at the end.
# Needs root (namespace), xl2tpd.  About 1 minute.
. "$(dirname "$0")/lib.sh"

LNSD=$BIN/lnsd
LOAD=$BIN/l2tpload
b_need "$LNSD" "$LOAD" "$BIN/roamctl" xl2tpd jq ip ss awk
[ "$(id -u)" = 0 ] || b_die "needs root (network namespace)"
TUNNELS=${L2TP_BENCH_TUNNELS:-200}
CT=${L2TP_BENCH_CALL_TUNNELS:-10}
CS=${L2TP_BENCH_CALLS_PER_TUNNEL:-1000}

NS=l2b-$$
b_netns "$NS"

PID=
b_cleanup b_stop
LPID=
stop_load() { [ -z "$LPID" ] || kill -KILL "$LPID" 2>/dev/null; LPID=; }
b_cleanup stop_load
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"; }
listening() { [ -n "$(ip netns exec "$NS" ss -Hlun "sport = :1701")" ]; }

cat >"$B_TMP/lnsd.yaml" <<EOF
listen: 127.0.0.1
port: 1701
host_name: lnsd-bench
control_socket: $B_TMP/lnsd.sock
log_level: warning
accept_any: true
tunnel:
  receive_window: 16
  max_tunnels: 4096
  max_sessions: 65535
handoff:
  enabled: true
  snapshot: ""
ppp:
  enabled: false
EOF
cat >"$B_TMP/xl2tpd.conf" <<EOF
[global]
listen-addr = 127.0.0.1
port = 1701
force userspace = yes
access control = no
[lns default]
ip range = 10.99.0.2-10.99.255.254
local ip = 10.99.0.1
require authentication = no
name = xl2tpd-bench
pppoptfile = $B_TMP/ppp-options
length bit = yes
tunnel rws = 16
EOF
printf 'noauth\n' >"$B_TMP/ppp-options"
"$LNSD" -t -c "$B_TMP/lnsd.yaml" >/dev/null || b_die "lnsd -t refuses the config"

start() { # lnsd | xl2tpd
	case $1 in
	lnsd) ip netns exec "$NS" "$LNSD" -f -c "$B_TMP/lnsd.yaml" -p "$B_TMP/lnsd.pid" >>"$B_TMP/lnsd.log" 2>&1 & ;;
	xl2tpd) ip netns exec "$NS" xl2tpd -D -c "$B_TMP/xl2tpd.conf" -p "$B_TMP/xl2tpd.pid" \
		-C "$B_TMP/xl2tpd.ctl" >>"$B_TMP/xl2tpd.log" 2>&1 & ;;
	esac
	PID=$!
	b_poll 20 listening || { tail "$B_TMP/$1.log" >&2; b_die "$1 did not start"; }
	sleep 0.3
}
# run NAME ARGS...: l2tpload against 127.0.0.1:1701 in the namespace, JSON in $B_TMP/NAME.json;
# with --ready, RSS of the LNS at the ready point in $B_TMP/NAME.rss
run() {
	local name=$1; shift
	rm -f "$B_TMP/$name.ready"
	ip netns exec "$NS" "$LOAD" -s 127.0.0.1:1701 --timeout 150 --json "$B_TMP/$name.json" \
		--ready "$B_TMP/$name.ready" --hold 60 "$@" >"$B_TMP/$name.out" 2>&1 &
	LPID=$!
	if b_poll 150 test -e "$B_TMP/$name.ready"; then
		sleep 0.5
		rss_kb >"$B_TMP/$name.rss"
		cat "$B_TMP/$name.ready" >"$B_TMP/$name.held"
		kill -USR1 "$LPID" 2>/dev/null
	fi
	wait "$LPID" || { cat "$B_TMP/$name.out" >&2; b_die "l2tpload ($name) failed"; }
	LPID=
	kill -0 "$PID" 2>/dev/null || b_die "the LNS died during $name"
	echo "$name: $(jq -c . "$B_TMP/$name.json")"
}

for lns in lnsd xl2tpd; do
	start "$lns"
	run "${lns}_setup" --tunnels "$TUNNELS" --sessions 1 --window 32
	sleep 1 # lingering tunnels
	echo "$(rss_kb)" >"$B_TMP/${lns}_calls.rss0"
	run "${lns}_calls" --tunnels "$CT" --sessions "$CS" --window "$CT"
	b_stop
done

# parked calls, in-process (bench/l2tp_park.c)
PARK='{}'
if [ -x "$BIN/l2tp_park" ]; then
	"$BIN/l2tp_park" 10000 >"$B_TMP/park.json" || b_die "l2tp_park failed"
	PARK=$(cat "$B_TMP/park.json")
	echo "park: $PARK"
fi

jq -n --slurpfile ls "$B_TMP/lnsd_setup.json" --slurpfile xs "$B_TMP/xl2tpd_setup.json" \
	--slurpfile lc "$B_TMP/lnsd_calls.json" --slurpfile xc "$B_TMP/xl2tpd_calls.json" \
	--argjson l0 "$(cat "$B_TMP/lnsd_calls.rss0")" --argjson x0 "$(cat "$B_TMP/xl2tpd_calls.rss0")" \
	--argjson l1 "$(cat "$B_TMP/lnsd_calls.rss" 2>/dev/null || echo null)" \
	--argjson x1 "$(cat "$B_TMP/xl2tpd_calls.rss" 2>/dev/null || echo null)" \
	--argjson lh "$(cat "$B_TMP/lnsd_calls.held" 2>/dev/null || echo 0)" \
	--argjson xh "$(cat "$B_TMP/xl2tpd_calls.held" 2>/dev/null || echo 0)" \
	--argjson park "$PARK" '
	def r1: (. * 10 | round) / 10;
	def per($a; $b; $n): if $b == null or $n == 0 then null else (($b - $a) * 1024 / $n | r1) end;
	{
	  setup_tunnels: $ls[0].tunnels,
	  lnsd_setups_per_s: ($ls[0].sessions_per_s | round),
	  xl2tpd_setups_per_s: ($xs[0].sessions_per_s | round),
	  lnsd_to_xl2tpd_setup_ratio: (if $xs[0].sessions_per_s > 0 then ($ls[0].sessions_per_s / $xs[0].sessions_per_s * 100 | round / 100) else null end),
	  lnsd_setup_failed: ($ls[0].tunnels_failed + $ls[0].sessions_failed),
	  xl2tpd_setup_failed: ($xs[0].tunnels_failed + $xs[0].sessions_failed),
	  lnsd_setup_retransmits: $ls[0].retransmits, xl2tpd_setup_retransmits: $xs[0].retransmits,
	  lnsd_setup_p99_ms: $ls[0].session_setup_ms.p99, xl2tpd_setup_p99_ms: $xs[0].session_setup_ms.p99,
	  lnsd_teardown_s: $ls[0].teardown_s, xl2tpd_teardown_s: $xs[0].teardown_s,
	  calls: ($lc[0].tunnels * $lc[0].sessions_per_tunnel),
	  lnsd_calls_per_s: ($lc[0].sessions_per_s | round),
	  xl2tpd_calls_per_s: ($xc[0].sessions_per_s | round),
	  lnsd_calls_established: $lc[0].sessions_established,
	  xl2tpd_calls_established: $xc[0].sessions_established,
	  lnsd_calls_cdn_received: $lc[0].cdn_received,
	  xl2tpd_calls_cdn_received: $xc[0].cdn_received,
	  lnsd_rss_before_calls_kb: $l0, lnsd_rss_at_calls_kb: $l1,
	  lnsd_calls_held: $lh, xl2tpd_calls_held: $xh,
	  lnsd_calls_failed: $lc[0].sessions_failed, xl2tpd_calls_failed: $xc[0].sessions_failed,
	  lnsd_calls_retransmits: $lc[0].retransmits, xl2tpd_calls_retransmits: $xc[0].retransmits,
	  lnsd_calls_p99_ms: $lc[0].session_setup_ms.p99, xl2tpd_calls_p99_ms: $xc[0].session_setup_ms.p99,
	  lnsd_memory_per_call_bytes: per($l0; $l1; $lh),
	  xl2tpd_rss_before_calls_kb: $x0, xl2tpd_rss_at_calls_kb: $x1,
	  xl2tpd_memory_per_held_call_bytes: per($x0; $x1; $xh)
	} + $park' >"$B_TMP/results.json" || b_die "cannot compose results"
jq . "$B_TMP/results.json"
b_result "$B_TMP/results.json"
