#!/usr/bin/env bash
# The standard L2TP control plane (RFC 2661) end to end in netlab (etc/topologies/l2tp-control.yml):
# lacd sets up an authenticated tunnel (hidden AVPs) to lnsd over a link losing 10% of the
# frames each way, places several calls (roamctl call), both sides agree on the tunnel and the
# sessions, hangups send CDN, the tunnel is closed (StopCCN) after the last session, a LAC with the
# wrong secret is refused (counted, no tunnel), lost messages were retransmitted, SIGTERM sends
# StopCCN, and tshark decodes every datagram of the capture as L2TP with no malformed packet and
# no expert error.
. "$(dirname "$0")/lib.sh"

TOPO=etc/topologies/l2tp-control.yml
P=l2c$$  # per run: a concurrent run of this script must not tear down our namespaces
t_need "$BIN"/{lnsd,lacd,roamctl,netlab,linkem} jq tshark

export NETLAB_RUNDIR="$T_TMP/runs"
NL() { "$BIN/netlab" --bin "$BIN" -p "$P" "$@"; }
t_cleanup '"$BIN/netlab" down --all'
t_cleanup 'for n in $(ip netns list | awk "{print \$1}" | grep "^$P-"); do ip netns delete $n; done'
CAP=$T_TMP/l2tp.pcapng
CAPPID=

# roamctl against a service's daemon: ctl SERVICE COMMAND [key=value...] (JSON result on stdout)
ctl() { local s=$1; shift; local sock=/run/roam/lacd.sock; [ "$s" = lns ] && sock=/run/roam/lnsd.sock
        NL exec "$s" roamctl -s "$sock" --json "$@"; }
stat() { ctl "$1" stats | jq -r ".$2"; }
# expect SERVICE STAT OP VALUE (jq comparison)
expect_stat() { local v; v=$(stat "$1" "$2") && jq -en "$v $3 $4" >/dev/null || { echo "$1 $2 = $v, want $3 $4"; return 1; }; }
sessions_in() { ctl "$1" sessions | jq -e --arg st "$2" --argjson n "$3" '[.[] | select(.state == $st)] | length == $n'; }

# ---- up, capture ----
t_netlab_up "$TOPO" "netlab up: lnsd, lacd and the bad lacd started"
t_cleanup 'kill $CAPPID'
t_tshark CAPPID $P-lns eth-core "$CAP" "udp port 1701"

# ---- tunnel and calls ----
N=6
ok=1
for i in $(seq 1 $N); do ctl lac call MIN=1555000000$i >/dev/null || ok=0; done
t_check "lacd accepts $N calls" test $ok = 1
dup_refused() { ! ctl lac call MIN=15550000001; }
t_check "lacd: a second call for the same MIN is refused" dup_refused
t_check "lacd: all $N sessions established" t_poll 60 sessions_in lac established $N
t_check "lnsd: all $N sessions established" t_poll 30 sessions_in lns established $N
one_tunnel() {
  ctl lac tunnels | jq -e 'length == 1 and .[0].state == "established" and .[0].authenticated and .[0].hidden_avps' &&
  ctl lns tunnels | jq -e '[.[] | select(.state == "established")] | length == 1 and .[0].authenticated and .[0].host_name == "lac"'
}
t_check "one tunnel each side, established and authenticated, with hidden AVPs" one_tunnel
ids_agree() {
  local a b
  a=$(ctl lac sessions | jq -c '[.[] | [.tunnel, .session, .peer_tunnel, .peer_session]] | sort')
  b=$(ctl lns sessions | jq -c '[.[] | [.peer_tunnel, .peer_session, .tunnel, .session]] | sort')
  [ "$a" = "$b" ] || { echo "$a != $b"; return 1; }
}
t_check "both sides agree on tunnel and session ids" ids_agree
mins_seen() { ctl lns sessions | jq -e --argjson n $N '[.[].calling] | sort == [range(1; $n + 1) | "1555000000\(.)"]'; }
t_check "lnsd sees the MINs as Calling Number" mins_seen

# ---- hangup: CDN, and the tunnel goes when its last call ends ----
t_check "hangup one call" ctl lac hangup MIN=15550000001
t_check "lnsd: the CDN cleared its session" t_poll 30 sessions_in lns established $((N - 1))
t_check "lnsd counts the CDN" expect_stat lns sessions_closed_by_peer == 1
still_up() { ctl lac tunnels | jq -e '.[0].state == "established"'; }
t_check "lacd: tunnel still up with calls left" still_up
for i in $(seq 2 $N); do ctl lac hangup MIN=1555000000$i >/dev/null; done
t_check "lnsd: no session left" t_poll 30 sessions_in lns established 0
t_check "lacd closes the idle tunnel (StopCCN)" t_poll 30 expect_stat lac tunnels_closed_idle == 1
t_check "lnsd: StopCCN received, no tunnel established" t_poll 30 expect_stat lns tunnels_closed_by_peer == 1
t_check "lnsd: tunnels_up 0" t_poll 10 expect_stat lns tunnels_up == 0

# ---- wrong secret ----
t_check "bad lacd places a call" ctl badlac call MIN=15550000009
t_check "bad lacd: the LNS's challenge response does not verify" t_poll 30 expect_stat badlac tunnels_auth_failed == 1
bad_failed() { ctl badlac stats | jq -e '.calls_failed == 1 and .sessions == 0 and .tunnels_established == 0'; }
t_check "bad lacd: the call failed, no session" bad_failed
lns_untouched() { ctl lns stats | jq -e --argjson n $N '.tunnels_established == 1 and .sessions_established == $n'; }
t_check "lnsd: no tunnel established with the bad LAC" lns_untouched

# ---- lost messages were recovered by retransmission ----
# With 10 % loss a run of a few dozen control messages can, rarely, lose none: until one was
# lost, place and clear more calls (each is about eight control messages), at most 15 rounds.
retransmitted() {
  local a b i
  for i in $(seq 0 15); do
    a=$(ctl lac stats | jq '.ctrl_retransmits'); b=$(ctl lns stats | jq '.ctrl_retransmits')
    [ $((a + b)) -gt 0 ] && { echo "retransmissions: lacd $a, lnsd $b (extra rounds: $i)"; return 0; }
    ctl lac call MIN=15550000008 >/dev/null || return 1
    t_poll 30 sessions_in lac established 1 || return 1
    ctl lac hangup MIN=15550000008 >/dev/null || return 1
    t_poll 30 sessions_in lac established 0 || return 1
  done
  echo "no retransmission after 15 extra calls"; return 1
}
t_check "lost control messages were retransmitted (10% loss)" retransmitted
no_timeout() { ctl lac stats | jq -e '.tunnels_timed_out == 0 and .calls_failed == 0' && ctl lns stats | jq -e '.tunnels_timed_out == 0'; }
t_check "despite the loss no tunnel timed out and no call failed" no_timeout

# ---- SIGTERM: StopCCN on every tunnel ----
ctl lac call MIN=15550000007 >/dev/null
t_check "a call before lnsd stops" t_poll 30 sessions_in lac established 1
NL exec lns sh -c 'kill -TERM $(cat /run/roam/lnsd.pid)'
got_stop6() { ctl lac tunnels | jq -e '[.[] | select(.stop_by_peer and .stop_result == 6)] | length == 1'; }
t_check "lacd gets StopCCN (result 6) when lnsd is terminated" t_poll 30 got_stop6
t_check "lacd: the call is gone" sessions_in lac established 0

# ---- the capture ----
sleep 1
kill -INT $CAPPID 2>/dev/null; wait $CAPPID 2>/dev/null; CAPPID=
tshark $T_TSHARK_OPTS -r "$CAP" -T fields -e frame.number >"$T_TMP/all.txt" 2>"$T_TMP/tshark-r.err"
tshark $T_TSHARK_OPTS -r "$CAP" -Y l2tp -T fields -e frame.number >"$T_TMP/l2tp.txt" 2>>"$T_TMP/tshark-r.err"
t_check "capture has L2TP packets" test "$(wc -l <"$T_TMP/l2tp.txt")" -gt 20
t_check "every captured datagram decodes as L2TP" cmp "$T_TMP/all.txt" "$T_TMP/l2tp.txt"
clean_decode() {
  local out; out=$(tshark $T_TSHARK_OPTS -r "$CAP" -Y '_ws.malformed || _ws.expert.severity >= error' 2>/dev/null)
  [ -z "$out" ] || { echo "$out"; return 1; }
}
t_check "tshark: no malformed packet, no expert error" clean_decode
has_type() { [ -n "$(tshark $T_TSHARK_OPTS -r "$CAP" -Y "l2tp.avp.message_type == $1" 2>/dev/null | head -1)" ]; }
for m in 1 2 3 4 10 11 12 14; do t_check "capture holds message type $m" has_type $m; done
[ -n "${KEEP_CAP:-}" ] && cp "$CAP" "$KEEP_CAP"

t_check "netlab down" NL down
t_done
