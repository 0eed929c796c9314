#!/usr/bin/env bash
# Interop with xl2tpd (Debian package xl2tpd), the reference RFC 2661 implementation, in two
# network namespaces of our own (prefix l2xi<pid>-):
#   1. xl2tpd as LAC ([lac] section, autodial, tunnel secret with challenge) sets up an
#      authenticated tunnel and a call with lnsd;
#   2. lacd sets up an authenticated tunnel and a call with xl2tpd as LNS.
# xl2tpd then starts pppd, which fails here (no kernel PPP): the call is cleared.  What is
# asserted is the control exchange, SCCRQ..ICCN and a clean CDN/StopCCN, from the daemons'
# stats and from a tshark capture (every packet L2TP, none malformed, no expert error).
. "$(dirname "$(readlink -f "$0")")/../e2e/lib.sh"
T_NAME=xl2tpd

for b in lnsd lacd roamctl; do
  [ -x "$BIN/$b" ] || { t_fail "binaries" "$BIN/$b missing"; t_done; }
done
for c in xl2tpd tshark jq; do
  command -v $c >/dev/null || { t_fail "$c" "$c is required (apt-get install xl2tpd tshark jq)"; t_done; }
done

NS_A=l2xi$$-a   # the LAC side: 10.82.0.1
NS_B=l2xi$$-b   # the LNS side: 10.82.0.2
SECRET="interop secret"
t_cleanup "ip netns delete $NS_A"
t_cleanup "ip netns delete $NS_B"
ip netns delete $NS_A 2>/dev/null; ip netns delete $NS_B 2>/dev/null  # a reused pid's leftovers
ip netns add $NS_A && ip netns add $NS_B || { t_fail "namespaces"; t_done; }
ip -n $NS_A link add eth0 type veth peer name eth0 netns $NS_B
ip -n $NS_A addr add 10.82.0.1/24 dev eth0
ip -n $NS_B addr add 10.82.0.2/24 dev eth0
for n in $NS_A $NS_B; do ip -n $n link set lo up; ip -n $n link set eth0 up; done
t_check "namespaces reach each other" t_poll 10 ip netns exec $NS_A ping -c1 -W1 10.82.0.2

PIDS=()
t_cleanup 'for p in "${PIDS[@]}"; do kill -TERM $p 2>/dev/null; done; sleep 0.5; for p in "${PIDS[@]}"; do kill -KILL $p 2>/dev/null; done'
CTL() { "$BIN/roamctl" -s "$1" --json "${@:2}"; }
expect_stat() { local v; v=$(CTL "$1" stats | jq -r ".$2") && jq -en "$v $3 $4" >/dev/null || { echo "$2 = $v, want $3 $4"; return 1; }; }

# PPP options for xl2tpd's pppd (which cannot run here anyway).
printf 'noauth\nnodefaultroute\nmtu 1400\nmru 1400\n' >"$T_TMP/options"
printf '* * %s\n' "$SECRET" >"$T_TMP/l2tp-secrets"
chmod 600 "$T_TMP/l2tp-secrets"

# xl2tpd_global ADDR: the [global] section of an xl2tpd.conf listening on ADDR:1701 (userspace,
# the shared secret file, every debug on)
xl2tpd_global() {
  cat <<EOC
[global]
listen-addr = $1
port = 1701
force userspace = yes
auth file = $T_TMP/l2tp-secrets
access control = no
debug avp = yes
debug network = yes
debug state = yes
debug tunnel = yes
EOC
}
# capture NS PCAP: tshark on the namespace's eth0 (L2TP only), pid in CAPPID
capture() {
  ip netns exec "$1" tshark -q -i eth0 -w "$2" -f "udp port 1701" >"$2.log" 2>&1 &
  CAPPID=$!
  PIDS+=($CAPPID)
  t_capturing "$2.log"
}
stop_capture() { kill -INT "$CAPPID" 2>/dev/null; wait "$CAPPID" 2>/dev/null; }
check_capture() { # NAME PCAP TYPES...
  local name=$1 cap=$2; shift 2
  tshark -r "$cap" -T fields -e frame.number >"$cap.all" 2>/dev/null
  tshark -r "$cap" -Y l2tp -T fields -e frame.number >"$cap.l2tp" 2>/dev/null
  t_check "$name: capture holds L2TP" test -s "$cap.l2tp"
  t_check "$name: every captured datagram decodes as L2TP" cmp "$cap.all" "$cap.l2tp"
  clean() { local o; o=$(tshark -r "$cap" -Y '_ws.malformed || _ws.expert.severity >= error' 2>/dev/null); [ -z "$o" ] || { echo "$o"; return 1; }; }
  t_check "$name: tshark finds no malformed packet and no expert error" clean
  has() { [ -n "$(tshark -r "$cap" -Y "l2tp.avp.message_type == $1" 2>/dev/null | head -1)" ]; }
  local m
  for m in "$@"; do t_check "$name: capture holds message type $m" has $m; done
}

# ---------------------------------------------------------------------------------------------
# 1. xl2tpd (LAC) -> lnsd
cat >"$T_TMP/lnsd.yaml" <<EOC
listen: 10.82.0.2
host_name: roam-lns
control_socket: $T_TMP/lnsd.sock
log_level: debug
tunnel:
  hello_interval: 10s
peers:
  - address: 10.82.0.1
    secret: "$SECRET"
EOC
{ xl2tpd_global 10.82.0.1; cat <<EOC; } >"$T_TMP/xl2tpd-lac.conf"

[lac roam]
lns = 10.82.0.2
autodial = yes
redial = no
challenge = yes
hostname = xl2tpd-lac
length bit = yes
require authentication = no
pppoptfile = $T_TMP/options
EOC
capture $NS_B "$T_TMP/lac-to-lnsd.pcapng" || t_fail "capture 1"
ip netns exec $NS_B "$BIN/lnsd" -f -c "$T_TMP/lnsd.yaml" -p "$T_TMP/lnsd.pid" >"$T_TMP/lnsd.log" 2>&1 &
LNSD=$!
PIDS+=($LNSD)
t_check "lnsd is up" t_poll 10 CTL "$T_TMP/lnsd.sock" status
ip netns exec $NS_A xl2tpd -D -c "$T_TMP/xl2tpd-lac.conf" -p "$T_TMP/xl2tpd-lac.pid" \
  -C "$T_TMP/xl2tpd-lac.ctl" >"$T_TMP/xl2tpd-lac.log" 2>&1 &
XL=$!
PIDS+=($XL)
S="$T_TMP/lnsd.sock"
t_check "xl2tpd LAC -> lnsd: authenticated tunnel (SCCRQ/SCCRP/SCCCN with challenges)" \
  t_poll 30 expect_stat "$S" tunnels_authenticated '>=' 1
t_check "xl2tpd LAC -> lnsd: call established (ICRQ/ICRP/ICCN)" t_poll 30 expect_stat "$S" sessions_established '>=' 1
t_check "xl2tpd LAC -> lnsd: no refusal" bash -c "$(declare -f CTL); BIN='$BIN' CTL '$S' stats | jq -e '.tunnels_refused_auth == 0 and .tunnels_refused_peer == 0 and .sessions_refused == 0 and .drop_malformed == 0 and .unknown_mandatory_avp == 0'"
# pppd fails: xl2tpd clears the call (CDN); then we stop xl2tpd, which closes the tunnel.
t_check "xl2tpd LAC -> lnsd: the call is cleared with CDN when pppd fails" t_poll 30 expect_stat "$S" sessions_closed_by_peer '>=' 1
# xl2tpd keeps the tunnel: lnsd closes it (StopCCN), xl2tpd must acknowledge it.
TID=$(CTL "$S" tunnels | jq -r '.[0].tunnel')
t_check "xl2tpd LAC -> lnsd: lnsd sends StopCCN" CTL "$S" stop-tunnel tunnel="$TID"
stop_acked() { CTL "$S" tunnels | jq -e '.[0].state == "closing" and .[0].idle'; }
t_check "xl2tpd LAC -> lnsd: xl2tpd acknowledges the StopCCN" t_poll 30 stop_acked
t_check "xl2tpd LAC -> lnsd: one StopCCN, nothing timed out" bash -c "$(declare -f CTL); BIN='$BIN' CTL '$S' stats | jq -e '.tx_stopccn == 1 and .tunnels_timed_out == 0 and .sessions_timed_out == 0'"
kill -TERM $XL 2>/dev/null
wait $XL 2>/dev/null
kill -TERM $LNSD; wait $LNSD 2>/dev/null
sleep 0.5
stop_capture
check_capture "xl2tpd LAC -> lnsd" "$T_TMP/lac-to-lnsd.pcapng" 1 2 3 10 11 12 14 4

# ---------------------------------------------------------------------------------------------
# 2. lacd -> xl2tpd (LNS)
cat >"$T_TMP/lacd.yaml" <<EOC
listen: 10.82.0.1
host_name: roam-lac
control_socket: $T_TMP/lacd.sock
log_level: debug
tunnel:
  idle_timeout: 1s
lns:
  - min: "*"
    address: 10.82.0.2
    secret: "$SECRET"
EOC
{ xl2tpd_global 10.82.0.2; cat <<EOC; } >"$T_TMP/xl2tpd-lns.conf"

[lns default]
ip range = 10.99.0.10-10.99.0.20
local ip = 10.99.0.1
hostname = xl2tpd-lns
challenge = yes
length bit = yes
require authentication = no
pppoptfile = $T_TMP/options
EOC
capture $NS_A "$T_TMP/lacd-to-lns.pcapng" || t_fail "capture 2"
ip netns exec $NS_B xl2tpd -D -c "$T_TMP/xl2tpd-lns.conf" -p "$T_TMP/xl2tpd-lns.pid" \
  -C "$T_TMP/xl2tpd-lns.ctl" >"$T_TMP/xl2tpd-lns.log" 2>&1 &
XL=$!
PIDS+=($XL)
t_poll 10 ip netns exec $NS_B ss -Hlun "sport = :1701" | grep -q . || sleep 1
ip netns exec $NS_A "$BIN/lacd" -f -c "$T_TMP/lacd.yaml" -p "$T_TMP/lacd.pid" >"$T_TMP/lacd.log" 2>&1 &
LACD=$!
PIDS+=($LACD)
S="$T_TMP/lacd.sock"
t_check "lacd is up" t_poll 10 CTL "$S" status
t_check "lacd places a call" CTL "$S" call MIN=15551230001
t_check "lacd -> xl2tpd LNS: authenticated tunnel" t_poll 30 expect_stat "$S" tunnels_authenticated == 1
t_check "lacd -> xl2tpd LNS: call established (ICRQ/ICRP/ICCN)" t_poll 30 expect_stat "$S" sessions_established == 1
t_check "lacd -> xl2tpd LNS: no failure" bash -c "$(declare -f CTL); BIN='$BIN' CTL '$S' stats | jq -e '.tunnels_auth_failed == 0 and .drop_malformed == 0 and .unknown_mandatory_avp == 0 and .fsm_errors == 0'"
# xl2tpd's pppd fails and it clears the call (CDN), or we hang up first: either way CDN.
cdn_done() { CTL "$S" stats | jq -e '(.rx_cdn + .tx_cdn) >= 1 and .sessions == 0'; }
CTL "$S" hangup MIN=15551230001 >/dev/null 2>&1 || true
t_check "lacd -> xl2tpd LNS: the call is cleared with CDN" t_poll 30 cdn_done
closed() { CTL "$S" stats | jq -e '(.tunnels_closed_idle + .tunnels_closed_by_peer) >= 1 and .tunnels_timed_out == 0'; }
t_check "lacd -> xl2tpd LNS: tunnel closed with StopCCN, nothing timed out" t_poll 30 closed
# SIGHUP / reload: a bad file keeps the running configuration, a good one is applied.
cp "$T_TMP/lacd.yaml" "$T_TMP/lacd.good"
printf 'lns:\n  - min: "12x"\n    address: 10.82.0.2\n' >>"$T_TMP/lacd.yaml"
reload_refused() { ! CTL "$S" reload && CTL "$S" status | jq -e '.host_name == "roam-lac"'; }
t_check "lacd: reload of a bad file is refused, the running config kept" reload_refused
sed 's/^host_name: roam-lac/host_name: roam-lac2/' "$T_TMP/lacd.good" >"$T_TMP/lacd.yaml"
kill -HUP $LACD
reloaded() { CTL "$S" status | jq -e '.host_name == "roam-lac2"'; }
t_check "lacd: SIGHUP applies a good file" t_poll 10 reloaded
sleep 1
kill -TERM $LACD; wait $LACD 2>/dev/null
kill -TERM $XL; wait $XL 2>/dev/null
stop_capture
check_capture "lacd -> xl2tpd LNS" "$T_TMP/lacd-to-lns.pcapng" 1 2 3 10 11 12 14 4
t_done
