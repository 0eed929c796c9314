#!/usr/bin/env bash
# Mobile IPv4 regional registration through a GFA under load (issue 5, RFC 4857, seed 002
# figures 25-31; docs/protocols/mipv4.md 8.5): etc/topologies/mip4-regional.yml under netlab
# (had and the correspondent cn at home, 20 ms of backbone, the GFA on the region's gateway, two
# lower fads each on its cell, mnd with two radios).  A 5,000 packet/s UDP stream each way (cn ->
# home address, home address -> cn) and a TCP connection (mobile -> cn) run while the mobile
# moves MIP4R_MOVES times (default 50) between the two cells, each move attaching the radio of the
# next cell (mnd sends a Regional Registration Request through it) and detaching the old radio
# once mnd has released the old link (the GFA's deregistration reply arrived through the old fad
# behind the data).  Asserts: zero UDP loss either way, no duplicate, TCP survives with its bytes
# verified, had's registration count unchanged after the first registration (the moves stay in
# the region), the GFA's dual replies == moves, every Mobile IP packet at the mobile decodes
# (tests/dissectors/mip4-roam.lua) with no malformed packet and no expert error.
#
# Environment: MIP4R_MOVES (default 50), MIP4R_SPACING (ms between moves, default 700),
# MIP4R_RATE (packets/s each way, default 5000).
. "$(dirname "$0")/lib.sh"

: "${MIP4R_MOVES:=50}" "${MIP4R_SPACING:=700}" "${MIP4R_RATE:=5000}"
NETLAB=$BIN/netlab
CTL_BIN=$BIN/roamctl
for b in netlab roamctl trafgen had fad mnd; do
  [ -x "$BIN/$b" ] || { t_fail "binaries" "$BIN/$b missing"; t_done; }
done
for c in jq tshark; do command -v $c >/dev/null || { t_fail "$c" "$c is required"; t_done; }; done
[ -c /dev/net/tun ] || { t_fail "tun" "/dev/net/tun missing"; t_done; }

CFG=$(cd etc/topologies/mip4-regional && pwd)
PROJ=m4r$$
HOME_ADDR=10.92.0.100
CN=10.92.0.10
t_cleanup '"$NETLAB" -p "$PROJ" down'

TOPO=$T_TMP/topo.yml
sed -e "s#\./mip4-regional/#$CFG/#" -e "s#^  name: mip4r\$#  name: $PROJ#" \
    etc/topologies/mip4-regional.yml >"$TOPO"
grep -q "name: $PROJ" "$TOPO" || { t_fail "topology" "project name"; t_done; }

ctl() { "$CTL_BIN" -s "$("$NETLAB" -p "$PROJ" ctl "$1")" --json "${@:2}"; }
mctr() { ctl mn mip4 | jq -r ".counters.$1"; }
registered() { ctl mn mip4 | jq -e '.state == "registered"' >/dev/null; }
msleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
ctr_above() { local v; v=$(mctr "$1" 2>/dev/null) && [ -n "$v" ] && [ "$v" -gt "$2" ]; }

CUR=cell1
move_dual() {
  local rel
  rel=$(mctr links_released) || return 1
  "$NETLAB" -p "$PROJ" attach mn "$1" >/dev/null || return 1
  t_poll 5 ctr_above links_released "$rel" || echo "# no release within 5 s (move to $1)"
  "$NETLAB" -p "$PROJ" detach mn "$CUR" >/dev/null || return 1
  CUR=$1
}

"$NETLAB" --bin "$BIN" up "$TOPO" >"$T_TMP/up" 2>&1 || { tail -5 "$T_TMP/up"; t_fail "netlab up"; t_done; }
t_check "mnd registers through fa1 and the GFA" t_poll 15 registered
ha_created() { ctl ha stats | jq -r '.accepted'; }
ha_bound() { local n; n=$(ha_created) && [ "$n" -ge 1 ] 2>/dev/null; }
t_poll 5 ha_bound
HA0=$(ha_created)
echo "# had accepted $HA0 registration(s) before the moves"

d=$(( (MIP4R_MOVES + 2) * MIP4R_SPACING / 1000 + 3 ))
nl=("$NETLAB" -p "$PROJ" exec)
"${nl[@]}" mn tshark -q -i any -w "$T_TMP/mip.pcap" -f "udp port 434" >"$T_TMP/ts" 2>&1 &
pts=$!
t_capturing "$T_TMP/ts" || echo "# tshark did not start"
# The GFA's side too: 18 / 19 between the lower FAs and the GFA (Hierarchical FA, FA-FA).
"${nl[@]}" gw tshark -q -i any -w "$T_TMP/gfa.pcap" -f "udp port 434" >"$T_TMP/tsg" 2>&1 &
ptg=$!
t_capturing "$T_TMP/tsg" || echo "# tshark on gw did not start"
"${nl[@]}" mn trafgen udp-recv --bind "$HOME_ADDR:5001" --duration $((d + 6)) --json "$T_TMP/down.json" >/dev/null 2>&1 &
p1=$!
"${nl[@]}" cn trafgen udp-recv --bind "$CN:5003" --duration $((d + 6)) --json "$T_TMP/up.json" >/dev/null 2>&1 &
p2=$!
"${nl[@]}" cn trafgen tcp-server --bind "$CN:5002" --duration $((d + 30)) --json "$T_TMP/tcps.json" >/dev/null 2>&1 &
p3=$!
sleep 0.5
"${nl[@]}" cn trafgen udp-send --to "$HOME_ADDR:5001" --rate "$MIP4R_RATE" --duration "$d" --json "$T_TMP/downs.json" >/dev/null 2>&1 &
p4=$!
"${nl[@]}" mn trafgen udp-send --bind "$HOME_ADDR" --to "$CN:5003" --rate "$MIP4R_RATE" --duration "$d" --json "$T_TMP/ups.json" >/dev/null 2>&1 &
p5=$!
"${nl[@]}" mn trafgen tcp-client --to "$CN:5002" --rate 200000 --duration "$d" --timeout 5 --stall-ms 500 --json "$T_TMP/tcpc.json" >/dev/null 2>&1 &
p6=$!
sleep 1
for ((k = 1; k <= MIP4R_MOVES; k++)); do
  move_dual "cell$(( k % 2 + 1 ))" || echo "# move $k failed"
  msleep "$MIP4R_SPACING"
done
wait $p4 $p5 $p6 2>/dev/null
sleep 1.5
kill -TERM $p1 $p2 $p3 2>/dev/null
wait $p1 $p2 $p3 2>/dev/null
kill -INT "$pts" "$ptg" 2>/dev/null; wait "$pts" "$ptg" 2>/dev/null
ctl mn mip4 >"$T_TMP/mnd.json" 2>/dev/null || echo '{}' >"$T_TMP/mnd.json"
ctl gw stats >"$T_TMP/gfa.json" 2>/dev/null || echo '{}' >"$T_TMP/gfa.json"
ctl fa1 stats >"$T_TMP/fa1.json" 2>/dev/null || echo '{}' >"$T_TMP/fa1.json"
ctl fa2 stats >"$T_TMP/fa2.json" 2>/dev/null || echo '{}' >"$T_TMP/fa2.json"
ctl ha stats >"$T_TMP/ha.json" 2>/dev/null || echo '{}' >"$T_TMP/ha.json"
"$NETLAB" -p "$PROJ" ${KEEP_TMP:+--keep-logs} down >/dev/null 2>&1
for f in down up tcps downs ups tcpc; do [ -s "$T_TMP/$f.json" ] || echo '{}' >"$T_TMP/$f.json"; done
jq -n --slurpfile dr "$T_TMP/down.json" --slurpfile ds "$T_TMP/downs.json" \
      --slurpfile ur "$T_TMP/up.json" --slurpfile us "$T_TMP/ups.json" \
      --slurpfile tc "$T_TMP/tcpc.json" --slurpfile ts "$T_TMP/tcps.json" \
      --slurpfile m "$T_TMP/mnd.json" --slurpfile g "$T_TMP/gfa.json" --slurpfile h "$T_TMP/ha.json" '
  def lost(s; r): ([((s.sent // 0) + (s.send_errors // 0)) - (r.received // 0), 0] | max);
  { down_sent: ($ds[0].sent // 0), down_lost: lost($ds[0]; $dr[0]), down_dup: ($dr[0].duplicated // 0),
    down_gap_ms: ($dr[0].max_gap_ms // null), down_flowing: ($dr[0].gap_open == false),
    up_sent: ($us[0].sent // 0), up_lost: lost($us[0]; $ur[0]), up_dup: ($ur[0].duplicated // 0),
    up_gap_ms: ($ur[0].max_gap_ms // null), up_flowing: ($ur[0].gap_open == false),
    tcp_survived: ((($tc[0].survived // false) == true) and (($ts[0].survived // true) == true)),
    tcp_verified: ($tc[0].bytes_verified // $ts[0].bytes_verified // 0),
    handoffs: ($m[0].counters.handoffs // 0), dereg_replies: ($m[0].counters.dereg_replies // 0),
    regional: ($m[0].counters.regional_replies_ok // 0),
    gfa_dual: ($g[0].gfa_dual_replies // 0), gfa_accepted: ($g[0].gfa_regional_accepted // 0),
    ha_accepted: ($h[0].accepted // 0) }' >"$T_TMP/row"
jq -r '"# down lost \(.down_lost)/\(.down_sent) (gap \(.down_gap_ms) ms), up lost \(.up_lost)/\(.up_sent) (gap \(.up_gap_ms) ms), TCP survived \(.tcp_survived) (\(.tcp_verified) bytes), handoffs \(.handoffs), regional replies \(.regional), DRRs \(.dereg_replies), GFA dual replies \(.gfa_dual), had accepted \(.ha_accepted)"' "$T_TMP/row"
row() { jq -e "$1" "$T_TMP/row" >/dev/null; }

t_check "every move done ($MIP4R_MOVES handoffs, each a regional registration)" row ".handoffs == $MIP4R_MOVES and .regional == $MIP4R_MOVES"
t_check "the GFA's dual replies == moves, each deregistration reply reached the mobile" row ".gfa_dual == $MIP4R_MOVES and .dereg_replies == $MIP4R_MOVES"
t_check "had's registration count unchanged after the first registration" row ".ha_accepted == $HA0"
t_check "no UDP packet lost downstream (cn -> mobile), none duplicated" row '.down_sent > 0 and .down_lost == 0 and .down_dup == 0 and .down_flowing'
t_check "no UDP packet lost upstream (mobile -> cn), none duplicated" row '.up_sent > 0 and .up_lost == 0 and .up_dup == 0 and .up_flowing'
t_check "the TCP connection survives, its bytes verified" row '.tcp_survived and .tcp_verified > 0'
# capture_ok PCAP: decodes with no malformed packet / expert error, holds at least one 18 per
# move and two 19 per move (reply and deregistration reply).
capture_ok() {
  local c=$T_TMP/$1 lua=$PWD/tests/dissectors/mip4-roam.lua n rrq rrp bad
  [ -s "$c" ] || { echo "no capture"; return 1; }
  dec() { tshark -r "$c" -X lua_script:"$lua" -Y "$1" 2>/dev/null | wc -l; }
  n=$(dec 'mip || mip4roam'); rrq=$(dec 'mip4roam.type == 18'); rrp=$(dec 'mip4roam.type == 19')
  bad=$(dec '(mip || mip4roam) && (_ws.malformed || _ws.expert.severity >= 8388608)')
  echo "# capture $1: mip=$n 18=$rrq 19=$rrp bad=$bad"
  [ "$n" -gt 0 ] && [ "$rrq" -ge "$MIP4R_MOVES" ] && [ "$rrp" -ge $((2 * MIP4R_MOVES)) ] && [ "$bad" -eq 0 ]
}
t_check "every Mobile IP packet at the mobile decodes (18 / 19 through mip4-roam.lua), no expert error" capture_ok mip.pcap
hfa_ok() { [ "$(tshark -r "$T_TMP/gfa.pcap" -X lua_script:"$PWD/tests/dissectors/mip4-roam.lua" -Y 'mip4roam.type == 18' -V 2>/dev/null | grep -ci 'hierarchical')" -ge "$MIP4R_MOVES" ]; }
t_check "every Mobile IP packet at the GFA decodes (18 with Hierarchical FA and FA-FA, 19), no expert error" capture_ok gfa.pcap
t_check "the lower FAs' regional requests carry the Hierarchical FA extension" hfa_ok
t_done
