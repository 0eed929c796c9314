#!/usr/bin/env bash
# The data path of a standard L2TP call end to end in netlab (etc/topologies/l2tp-data.yml):
# mobiles (rlpc) attach to lacd over the emulated access link (ATTACH to the all-LACs group on
# the cell), lacd places the calls to lnsd over a 20 ms core, lnsd terminates PPP (mob1 PAP,
# mob2 CHAP) and hands out addresses from its pool; a UDP stream (trafgen) and a TCP
# connection between the server and the mobiles work both ways; mob3's wrong password is
# refused (PPP down, no address, counted); a DETACH (SIGTERM) clears the call (CDN) and frees
# the address; a mobile killed with -9 is detected by lacd within the dead interval (CDN);
# tshark decodes the core capture (L2TP with PPP inside) with no malformed packet and no expert
# error.  Figures printed: PPP set-up time, UDP loss, TCP throughput.
. "$(dirname "$0")/lib.sh"

TOPO=etc/topologies/l2tp-data.yml
P=l2d$$  # per run: a concurrent run of this script must not tear down our namespaces
t_need "$BIN"/{lnsd,lacd,rlpc,roamctl,netlab,linkem,trafgen} jq tshark

export NETLAB_RUNDIR="$T_TMP/runs"
NL() { "$BIN/netlab" --bin "$BIN" -p "$P" "$@"; }
t_cleanup '"$BIN/netlab" --bin "$BIN" -p '$P' down'
t_cleanup 'for n in $(ip netns list | awk "{print \$1}" | grep "^$P-"); do ip netns delete $n; done'
CAP=$T_TMP/l2tp-data.pcapng
CAPPID=

# The credentials file is a secret: lnsd refuses one readable by others (git keeps no modes).
chmod 600 etc/topologies/l2tp-data/lnsd-users

ctl() {
  local s=$1; shift; local sock
  case $s in lac) sock=/run/roam/lacd.sock ;; lns) sock=/run/roam/lnsd.sock ;; *) sock=/run/roam/rlpc.sock ;; esac
  NL exec "$s" roamctl -s "$sock" --json "$@"
}
st() { ctl "$1" stats | jq -r ".$2"; }
expect_stat() { local v; v=$(st "$1" "$2") && jq -en "$v $3 $4" >/dev/null || { echo "$1 $2 = $v, want $3 $4"; return 1; }; }
mob() { ctl "$1" status | jq -r ".$2"; }
ppp_up() { ctl "$1" status | jq -e '.ppp_up' >/dev/null; }

# ---- up, capture ----
t_netlab_up "$TOPO" "netlab up: lnsd, lacd, three mobiles"
t_cleanup 'kill $CAPPID 2>/dev/null'
t_tshark CAPPID $P-lns eth-core "$CAP" "udp port 1701"

# ---- PPP: PAP and CHAP, addresses from the pool ----
t_check "mob1: PPP up" t_poll 30 ppp_up mob1
t_check "mob2: PPP up" t_poll 30 ppp_up mob2
# The first negotiations may predate the capture: the LAC hangs both calls up (CDN, DETACH
# cause 0 to the mobiles), which attach again after their 8 s back-off and renegotiate PPP.
t_check "lacd hangs up mob1's call" ctl lac hangup MIN=3125550101
t_check "lacd hangs up mob2's call" ctl lac hangup MIN=3125550102
ups() { ctl "$1" status | jq -e ".ppp_up and .ppp_ups == $2" >/dev/null; }
t_check "mob1: DETACH, attached again, PPP up again" t_poll 30 ups mob1 2
t_check "mob2: DETACH, attached again, PPP up again" t_poll 30 ups mob2 2
A1=$(mob mob1 address); A2=$(mob mob2 address)
in_pool() { [[ $1 =~ ^10\.64\.0\.[0-9]+$ ]] && [ "$1" != 10.64.0.1 ]; }
t_check "mob1 has an address from the pool ($A1)" in_pool "$A1"
t_check "mob2 has an address from the pool ($A2)" in_pool "$A2"
t_check "the addresses differ" test "$A1" != "$A2"
t_check "mob1 authenticated with PAP" test "$(mob mob1 auth)" = pap
t_check "mob2 authenticated with CHAP" test "$(mob mob2 auth)" = chap
lns_view() {
  ctl lns sessions | jq -e --arg a1 "$A1" --arg a2 "$A2" '
    ([.[] | select(.calling == "3125550101")][0] | .peer_name == "alice" and .address == $a1 and .auth == "pap" and .ppp_up) and
    ([.[] | select(.calling == "3125550102")][0] | .peer_name == "bob" and .address == $a2 and .auth == "chap" and .ppp_up)' >/dev/null
}
t_check "lnsd sessions show PPP state, peer name and address" lns_view
echo "# PPP set-up (mobile view, ATTACH to IPCP opened): mob1 $(mob mob1 ppp_setup_ms) ms, mob2 $(mob mob2 ppp_setup_ms) ms"
links_n() { ctl lac links | jq -e "length >= $1" >/dev/null; }
t_check "lacd: the mobiles' access links" links_n 2

# ---- IP both ways ----
t_check "server -> mob1 (ping)" NL exec server ping -c 3 -i 0.2 -W 2 "$A1"
t_check "mob2 -> server (ping)" NL exec mob2 ping -c 3 -i 0.2 -W 2 10.82.2.10
udp() { # SENDER BIND_ADDR RECEIVER TO_ADDR:PORT OUT
  NL exec "$3" trafgen udp-recv --bind "$4" --duration 6 --grace 1 --json "$5" &
  local rp=$!
  sleep 0.5
  NL exec "$1" trafgen udp-send --bind "$2" --to "$4" --rate 200 --duration 3 --json - >/dev/null
  wait $rp
}
udp server 10.82.2.10 mob1 "$A1:5001" "$T_TMP/udp-down.json"
udp mob1 "$A1" server 10.82.2.10:5002 "$T_TMP/udp-up.json"
udp_ok() { jq -e '.received >= 570' "$1" >/dev/null || { cat "$1"; return 1; }; }
t_check "UDP server -> mob1: 600 datagrams received (>= 95%)" udp_ok "$T_TMP/udp-down.json"
t_check "UDP mob1 -> server: 600 datagrams received (>= 95%)" udp_ok "$T_TMP/udp-up.json"
echo "# UDP 200/s: down lost $(jq .lost "$T_TMP/udp-down.json"), up lost $(jq .lost "$T_TMP/udp-up.json")"
NL exec mob2 trafgen tcp-server --bind "$A2:5003" --duration 10 --json "$T_TMP/tcp-srv.json" &
TP=$!
sleep 0.5
NL exec server trafgen tcp-client --to "$A2:5003" --rate 200000 --duration 3 --json "$T_TMP/tcp-cli.json" >/dev/null
wait $TP
tcp_ok() { jq -e '.error == null or .error == ""' "$T_TMP/tcp-cli.json" >/dev/null && jq -e '.bytes_verified > 500000' "$T_TMP/tcp-srv.json" >/dev/null || { cat "$T_TMP"/tcp-*.json; return 1; }; }
t_check "TCP server -> mob2 (200 kB/s for 3 s, verified)" tcp_ok
echo "# TCP: $(jq .bytes_verified "$T_TMP/tcp-srv.json") bytes verified in $(jq .duration_ms "$T_TMP/tcp-srv.json") ms"
seq_on() { ctl lns sessions | jq -e '[.[] | select(.ppp_up)] | all(.data_tx > 0 and .data_rx_late == 0)' >/dev/null; }
t_check "lnsd: data messages both ways, no late ones" seq_on

# ---- wrong password ----
refused() { ctl lns stats | jq -e '.ppp_auth_failed >= 1' >/dev/null; }
t_check "lnsd refuses mob3's password (counted)" t_poll 30 refused
mob3_refused() { ctl mob3 status | jq -e '(.ppp_up | not) and .address == ""' >/dev/null; }
t_check "mob3: PPP not up, no address" mob3_refused
no_carol() { ! ctl lns sessions | jq -e '[.[] | select(.peer_name == "carol" and .address != "")] | length > 0' >/dev/null; }
t_check "lnsd: no address for carol" no_carol

# ---- DETACH: CDN, address freed ----
used_before=$(st lns ppp_pool_used)
kill -TERM $(ip netns pids $P-mob2) 2>/dev/null
t_check "lacd: DETACH received" t_poll 10 expect_stat lac access_detach_rx '>=' 1
gone2() { ! ctl lns sessions | jq -e '[.[] | select(.calling == "3125550102")] | length > 0' >/dev/null; }
t_check "lnsd: mob2's call cleared by CDN" t_poll 10 gone2
t_check "lnsd: mob2's address back in the pool" t_poll 10 expect_stat lns ppp_pool_used '<' "$used_before"

# ---- keepalive loss: kill -9 ----
t0=$(date +%s%N)
kill -9 $(ip netns pids $P-mob1) 2>/dev/null
t_check "lacd detects mob1's loss (dead interval 2 s)" t_poll 10 expect_stat lac access_links_lost '>=' 1
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# loss of mob1 detected after ~${ms} ms (dead interval 2000 ms; poll granularity ~0.5 s)"
t_check "loss detected within the dead interval + 2 s" test "$ms" -lt 4000
gone1() { ! ctl lns sessions | jq -e '[.[] | select(.calling == "3125550101")] | length > 0' >/dev/null; }
t_check "lnsd: mob1's call cleared" t_poll 10 gone1

# ---- the capture ----
sleep 1
kill -INT $CAPPID 2>/dev/null; wait $CAPPID 2>/dev/null; CAPPID=
tshark $T_TSHARK_OPTS -r "$CAP" -T fields -e frame.number >"$T_TMP/all.txt" 2>/dev/null
tshark $T_TSHARK_OPTS -r "$CAP" -Y l2tp -T fields -e frame.number >"$T_TMP/l2tp.txt" 2>/dev/null
t_check "every captured datagram decodes as L2TP" cmp "$T_TMP/all.txt" "$T_TMP/l2tp.txt"
has() { [ -n "$(tshark $T_TSHARK_OPTS -r "$CAP" -Y "$1" 2>/dev/null | head -1)" ]; }
t_check "capture: PPP LCP inside L2TP" has "l2tp && lcp"
t_check "capture: PAP inside L2TP" has pap
t_check "capture: CHAP inside L2TP" has chap
t_check "capture: IPCP inside L2TP" has ipcp
t_check "capture: the mobiles' IP packets inside L2TP" has "ppp && ip.dst == $A1"
# The TCP stream inside the tunnel is trafgen's pseudo-random bytes: $T_TSHARK_OPTS (lib.sh) keeps
# tshark's heuristics (thrift) from reading it as a broken protocol.
clean_decode() {
  local out; out=$(tshark $T_TSHARK_OPTS -r "$CAP" -Y '_ws.malformed || _ws.expert.severity >= error' 2>/dev/null)
  [ -z "$out" ] || { echo "$out" | head -5; return 1; }
}
t_check "tshark: no malformed packet, no expert error" clean_decode
[ -n "${KEEP_CAP:-}" ] && cp "$CAP" "$KEEP_CAP"

t_check "netlab down" NL down
t_done
