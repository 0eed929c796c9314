#!/usr/bin/env bash
# Mobile IPv4 route optimization with the synchronized handoff (issue 5, seed 002 figures 18-24;
# docs/protocols/mipv4.md 4 and 8.4): etc/topologies/mip4-ro.yml under netlab (had and the
# correspondent cn running cnd on the home network, 20 ms of backbone, fad on each of two cells,
# mnd on the mobile with two radios).  had sends cnd Binding Updates; cn tunnels its traffic for
# the mobile's home address straight to the care-of address.  A 5,000 packet/s UDP stream each way
# and a TCP connection run while the mobile moves MIP4_MOVES times (dual radio: attach the new
# radio, wait until mnd releases the old one, detach it).  Each move: had's deregistration reply
# rides in the Binding Update to cnd, which sends it to the old FA behind the data it already
# tunnelled there; the old FA relays it to the mobile behind that data; mnd releases the old radio.
#
# Asserted: every move done and ended by the relayed deregistration reply; zero UDP loss either
# way, no duplicate; TCP survives with its bytes verified; traffic from cn goes directly to the
# care-of address (had's tunnel counter of the binding stays ~0 during the streams, cnd's grows
# by at least what cn sent); then a Binding Update with a wrong authenticator, a replayed one and
# one with a stale Identification are each refused and counted by cnd, the binding untouched;
# tshark decodes every Mobile IP datagram cn saw (tests/dissectors/mip4-roam.lua) with no
# malformed packet and no expert error.
#
# Environment: MIP4_MOVES (default 50), MIP4_SPACING (ms between moves, default 700),
# MIP4_RATE (packets/s each way, default 5000).
. "$(dirname "$0")/lib.sh"

: "${MIP4_MOVES:=50}" "${MIP4_SPACING:=700}" "${MIP4_RATE:=5000}"
NETLAB=$BIN/netlab
CTL_BIN=$BIN/roamctl
LUA=$PWD/tests/dissectors/mip4-roam.lua
for b in netlab roamctl trafgen had fad mnd cnd; do
  [ -x "$BIN/$b" ] || { t_fail "binaries" "$BIN/$b missing"; t_done; }
done
for c in jq tshark python3; do command -v $c >/dev/null || { t_fail "$c" "$c is required"; t_done; }; done
[ -c /dev/net/tun ] || { t_fail "tun" "/dev/net/tun missing"; t_done; }

TOPO=etc/topologies/mip4-ro.yml
CFG=$(cd etc/topologies/mip4-ro && pwd)
PROJ=m4ro$$
HOME_ADDR=10.93.0.100
CN=10.93.0.10
HA=10.93.0.1
RO_SPI=5001
RO_KEY=c0c1c2c3c4c5c6c7c8c9cacbcccdcecf
t_cleanup '"$NETLAB" -p "$PROJ" down'

f=$T_TMP/topo.yml
sed -e "s#\./mip4-ro/#$CFG/#" -e "s#^  name: mip4ro\$#  name: $PROJ#" "$TOPO" >"$f"
grep -q "name: $PROJ" "$f" || { t_fail "topology copy"; t_done; }

ctl() { "$CTL_BIN" -s "$("$NETLAB" -p "$PROJ" ctl "$1")" --json "${@:2}"; }
nl() { "$NETLAB" -p "$PROJ" exec "$@"; }
mctr() { ctl mn mip4 | jq -r ".counters.$1"; }
registered() { ctl mn mip4 | jq -e '.state == "registered"' >/dev/null; }
cn_bound() { ctl cn mip4-bindings | jq -e --arg c "$1" 'length == 1 and .[0].care_of == $c' >/dev/null; }
ha_tunnelled() { ctl ha bindings | jq -r '.[0].tunnelled // 0'; }
cn_tunnelled() { ctl cn mip4-bindings | jq -r '.[0].tunnelled // 0'; }
msleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
ctr_above() { [ "$(mctr "$1" 2>/dev/null || echo 0)" -gt "$2" ]; }
wait_ctr() { t_poll "$3" ctr_above "$1" "$2"; }

CUR=cell1
declare -A COA=([cell1]=10.93.1.1 [cell2]=10.93.2.1)
move_dual() {
  local rel
  rel=$(mctr links_released) || return 1
  "$NETLAB" -p "$PROJ" attach mn "$1" >/dev/null || return 1
  wait_ctr links_released "$rel" 5 || echo "# no release within 5 s (move to $1)"
  "$NETLAB" -p "$PROJ" detach mn "$CUR" >/dev/null || return 1
  CUR=$1
}

"$NETLAB" --bin "$BIN" up "$f" >"$T_TMP/up.log" 2>&1 || { tail -5 "$T_TMP/up.log"; t_fail "netlab up"; t_done; }
t_check "mnd registered" t_poll 15 registered
t_check "had's Binding Update reached cnd: binding at the care-of address 10.93.1.1" t_poll 10 cn_bound 10.93.1.1

# Capture what cn sends and receives on UDP 434 for the dissector check.
CAP=$T_TMP/cn.pcap
nl cn sh -c "echo \$\$ >$T_TMP/tshark.pid; exec tshark -q -i eth-home -f 'udp port 434' -w $CAP" >"$T_TMP/tshark.log" 2>&1 &
TSHARK=$!
t_cleanup 'kill -INT "$(cat "$T_TMP/tshark.pid")" 2>/dev/null'
t_capturing "$T_TMP/tshark.log" || echo "# tshark did not start"

d=$(( (MIP4_MOVES + 2) * MIP4_SPACING / 1000 + 3 ))
nl mn trafgen udp-recv --bind "$HOME_ADDR:5001" --duration $((d + 6)) --json "$T_TMP/down.json" >/dev/null 2>&1 &
p1=$!
nl cn trafgen udp-recv --bind "$CN:5003" --duration $((d + 6)) --json "$T_TMP/up.json" >/dev/null 2>&1 &
p2=$!
nl cn trafgen tcp-server --bind "$CN:5002" --duration $((d + 30)) --json "$T_TMP/tcps.json" >/dev/null 2>&1 &
p3=$!
sleep 0.5
h0=$(ha_tunnelled); c0=$(cn_tunnelled)
nl cn trafgen udp-send --to "$HOME_ADDR:5001" --rate "$MIP4_RATE" --duration "$d" --json "$T_TMP/downs.json" >/dev/null 2>&1 &
p4=$!
nl mn trafgen udp-send --bind "$HOME_ADDR" --to "$CN:5003" --rate "$MIP4_RATE" --duration "$d" --json "$T_TMP/ups.json" >/dev/null 2>&1 &
p5=$!
nl mn trafgen tcp-client --to "$CN:5002" --rate 200000 --duration "$d" --timeout 5 --stall-ms 500 --json "$T_TMP/tcpc.json" >/dev/null 2>&1 &
p6=$!
sleep 1
for ((k = 1; k <= MIP4_MOVES; k++)); do
  move_dual "cell$(( k % 2 + 1 ))" || echo "# move $k failed"
  msleep "$MIP4_SPACING"
done
wait $p4 $p5 $p6 2>/dev/null
sleep 1.5
kill -TERM $p1 $p2 $p3 2>/dev/null
wait $p1 $p2 $p3 2>/dev/null
h1=$(ha_tunnelled); c1=$(cn_tunnelled)
ctl mn mip4 >"$T_TMP/mnd.json" 2>/dev/null || echo '{}' >"$T_TMP/mnd.json"
ctl ha status >"$T_TMP/ha.json" 2>/dev/null || echo '{}' >"$T_TMP/ha.json"
ctl ha stats >"$T_TMP/ha-stats.json" 2>/dev/null || echo '{}' >"$T_TMP/ha-stats.json"
ctl cn stats >"$T_TMP/cn.json" 2>/dev/null || echo '{}' >"$T_TMP/cn.json"
ctl fa1 stats >"$T_TMP/fa1.json" 2>/dev/null || echo '{}' >"$T_TMP/fa1.json"
ctl fa2 stats >"$T_TMP/fa2.json" 2>/dev/null || echo '{}' >"$T_TMP/fa2.json"
cp /run/roam-netlab/"$PROJ"/linkem-*.json "$T_TMP/" 2>/dev/null
rcvbuf() { nl "$1" awk '/^Udp:/ && !h {h=1; for (i=1;i<=NF;i++) if ($i=="RcvbufErrors") c=i; next} /^Udp:/ {print $c}' /proc/net/snmp; }
echo "# receive-buffer overflows: cn $(rcvbuf cn) mn $(rcvbuf mn)"
for x in down up tcps downs ups tcpc; do [ -s "$T_TMP/$x.json" ] || echo '{}' >"$T_TMP/$x.json"; done
jq -n --slurpfile dr "$T_TMP/down.json" --slurpfile ds "$T_TMP/downs.json" \
      --slurpfile ur "$T_TMP/up.json" --slurpfile us "$T_TMP/ups.json" \
      --slurpfile tc "$T_TMP/tcpc.json" --slurpfile ts "$T_TMP/tcps.json" \
      --slurpfile m "$T_TMP/mnd.json" --slurpfile h "$T_TMP/ha.json" --slurpfile c "$T_TMP/cn.json" --slurpfile hs "$T_TMP/ha-stats.json" \
      --argjson h0 "${h0:-0}" --argjson h1 "${h1:-0}" --argjson c0 "${c0:-0}" --argjson c1 "${c1:-0}" '
  # (gap_open // true) would read false as missing: compare instead
  def lost(s; r): ([((s.sent // 0) + (s.send_errors // 0)) - (r.received // 0), 0] | max);
  { down_sent: ($ds[0].sent // 0), down_lost: lost($ds[0]; $dr[0]), down_dup: ($dr[0].duplicated // 0),
    down_gap_ms: ($dr[0].max_gap_ms // null), down_flowing: ($dr[0].gap_open == false),
    up_sent: ($us[0].sent // 0), up_lost: lost($us[0]; $ur[0]), up_dup: ($ur[0].duplicated // 0),
    up_gap_ms: ($ur[0].max_gap_ms // null), up_flowing: ($ur[0].gap_open == false),
    tcp_survived: ((($tc[0].survived // false) == true) and ($ts[0].survived != false)),
    tcp_verified: ($tc[0].bytes_verified // $ts[0].bytes_verified // 0),
    handoffs: ($m[0].counters.handoffs // 0), dereg_replies: ($m[0].counters.dereg_replies // 0),
    links_released: ($m[0].counters.links_released // 0),
    ha_tunnelled: ($h1 - $h0), cn_tunnelled: ($c1 - $c0),
    ha_bu_sent: ($h[0].route_optimization.bu_sent // 0), ha_drr_relayed: ($h[0].route_optimization.drr_relayed // 0),
    ha_ba_rx: ($h[0].route_optimization.ba_rx // 0), ha_drr_sent: ($hs[0].drr_sent // 0),
    cn_moved: ($c[0].modules.mip4.moved // 0), cn_drr_relayed: ($c[0].modules.mip4.drr_relayed // 0),
    cn_drr_no_old: ($c[0].modules.mip4.drr_no_old_path // 0),
    cn_dp_drop: (($c[0].modules.mip4.dp_drop_full // 0) + ($c[0].modules.mip4.dp_drop_tx_error // 0) + ($c[0].modules.mip4.dp_drop_no_binding // 0)) }' >"$T_TMP/row.json"
jq -r '"# down lost \(.down_lost)/\(.down_sent) (gap \(.down_gap_ms) ms), up lost \(.up_lost)/\(.up_sent) (gap \(.up_gap_ms) ms), TCP survived \(.tcp_survived) (\(.tcp_verified) bytes), handoffs \(.handoffs), DRRs \(.dereg_replies); had tunnelled \(.ha_tunnelled), cnd tunnelled \(.cn_tunnelled); had BUs \(.ha_bu_sent) (DRR relayed \(.ha_drr_relayed), BAs \(.ha_ba_rx)); cnd moves \(.cn_moved), DRRs relayed \(.cn_drr_relayed)"' "$T_TMP/row.json"
row() { jq -e "$1" "$T_TMP/row.json" >/dev/null; }

t_check "every move done ($MIP4_MOVES handoffs, as many old links released)" row ".handoffs == $MIP4_MOVES and .links_released >= $MIP4_MOVES"
t_check "every move ended by had's deregistration reply relayed by cnd" row ".dereg_replies == $MIP4_MOVES and .ha_drr_relayed == $MIP4_MOVES and .cn_drr_relayed == $MIP4_MOVES and .cn_drr_no_old == 0"
t_check "had sent no deregistration reply of its own (all relayed)" row '.ha_drr_sent == 0'
t_check "cnd followed every move (Binding Updates acknowledged)" row ".cn_moved == $MIP4_MOVES and .ha_ba_rx >= $MIP4_MOVES"
t_check "no UDP packet lost downstream (cn -> mobile), none duplicated" row '.down_sent > 0 and .down_lost == 0 and .down_dup == 0 and .down_flowing'
t_check "no UDP packet lost upstream (mobile -> cn), none duplicated" row '.up_sent > 0 and .up_lost == 0 and .up_dup == 0 and .up_flowing'
t_check "the TCP connection survived, bytes verified" row '.tcp_survived and .tcp_verified > 0'
t_check "cn's traffic went directly to the care-of address: had tunnelled ~0 of it" row '.ha_tunnelled <= 20'
t_check "what reached the mobile was tunnelled by cnd" row '.cn_tunnelled >= .down_sent - .down_lost'
t_check "cnd dropped nothing in its data plane" row '.cn_dp_drop == 0'

# ---- forged, replayed and stale Binding Updates to cnd (from the home agent's address) ----
cat >"$T_TMP/bu.py" <<'EOF'
import hmac, hashlib, os, socket, struct, sys, time
mode, home, coa, spi, key, dst, save = sys.argv[1:8]
if mode == "replay":
    msg = open(save, "rb").read()
else:
    ntp = int(time.time()) + 2208988800 - (100 if mode == "stale" else 0)
    ident = (ntp << 32) | struct.unpack("!I", os.urandom(4))[0]
    fixed = struct.pack("!BBH4s4sQ", 242, 0xC0, 600, socket.inet_aton(home), socket.inet_aton(coa), ident)
    hdr = struct.pack("!BBI", 35, 20, int(spi))
    k = bytes.fromhex(key)
    if mode == "forged":
        k = bytes(b ^ 0xFF for b in k)
    msg = fixed + hdr + hmac.new(k, fixed + hdr, hashlib.md5).digest()
    open(save, "wb").write(msg)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[8], 0))
s.sendto(msg, (dst, 434))
EOF
cnc() { ctl cn stats | jq -r ".modules.mip4.$1"; }
bu() { nl ha python3 "$T_TMP/bu.py" "$1" "$HOME_ADDR" "$2" $RO_SPI $RO_KEY $CN "$T_TMP/bu-$3.bin" $HA; }
# bu_refused MODE COA COUNTER: cnd counts it in COUNTER and the binding stays as it was.
bu_refused() {
  local before after b0 b1
  before=$(cnc "$3") && b0=$(ctl cn mip4-bindings | jq -c '.[0] | {care_of, moves, last_id, lifetime}') || return 1
  bu "$1" "$2" "$4" || return 1
  t_poll 5 sh -c "[ \"\$(\"$CTL_BIN\" -s \"$("$NETLAB" -p "$PROJ" ctl cn)\" --json stats | jq -r .modules.mip4.$3)\" -gt $before ]" || { echo "counter $3 stayed $before"; return 1; }
  b1=$(ctl cn mip4-bindings | jq -c '.[0] | {care_of, moves, last_id, lifetime}')
  [ "$b0" = "$b1" ] || { echo "binding changed: $b0 -> $b1"; return 1; }
}
CURCOA=${COA[$CUR]}
t_check "a Binding Update with a wrong authenticator is refused and counted, the binding untouched" bu_refused forged 10.93.9.9 drop_auth_failed f
acc0=$(cnc accepted)
bu valid "$CURCOA" v
t_check "a valid Binding Update from the home agent's address is accepted" t_poll 5 sh -c "[ \"\$(\"$CTL_BIN\" -s \"$("$NETLAB" -p "$PROJ" ctl cn)\" --json stats | jq -r .modules.mip4.accepted)\" -gt $acc0 ]"
t_check "the same Binding Update replayed is refused and counted, the binding untouched" bu_refused replay x drop_replay v
t_check "a Binding Update with a stale Identification is refused and counted, the binding untouched" bu_refused stale 10.93.9.9 drop_id_window s
t_check "the binding still points at the mobile's care-of address $CURCOA" cn_bound "$CURCOA"

# ---- a stale binding repaired through a Binding Warning ----
# A valid update (as the home agent) points cnd at the cell the mobile is not in; cn's next
# packets reach that fad, which has no such visitor: it sends had a Binding Warning naming cn,
# and had answers cn with a Binding Update for the real care-of address.
OTHER=cell1; [ "$CUR" = cell1 ] && OTHER=cell2
OTHERCOA=${COA[$OTHER]}
fa_of() { [ "$1" = cell1 ] && echo fa1 || echo fa2; }
bw0=$(ctl ha status | jq -r '.route_optimization.bw_answered')
bu valid "$OTHERCOA" w
t_check "cnd took the stale update (binding at $OTHERCOA)" t_poll 5 cn_bound "$OTHERCOA"
nl cn trafgen udp-send --to "$HOME_ADDR:5009" --rate 200 --duration 3 >/dev/null 2>&1 &
pw=$!
t_check "the Binding Warning got cnd back to the mobile's care-of address $CURCOA" t_poll 10 cn_bound "$CURCOA"
wait $pw 2>/dev/null
t_check "$(fa_of $OTHER) sent a Binding Warning" test "$(ctl "$(fa_of $OTHER)" stats | jq -r .ro_warnings_sent)" -ge 1
t_check "had answered it with a Binding Update" test "$(ctl ha status | jq -r '.route_optimization.bw_answered')" -gt "$bw0"

sleep 1
kill -INT "$(cat "$T_TMP/tshark.pid")" 2>/dev/null; wait $TSHARK 2>/dev/null
"$NETLAB" -p "$PROJ" down >/dev/null 2>&1

# ---- the capture: every Mobile IP datagram decodes cleanly ----
dec() { tshark -r "$CAP" -X lua_script:"$LUA" "$@" 2>/dev/null; }
count() { dec -Y "$1" -T fields -e frame.number | wc -l; }
ours="udp.port == 434 && !(ip.src == $HA && udp.srcport != 434)" # the injected ones are checked apart
n=$(count "$ours")
decoded=$(count "$ours && (mip4roam.type || mip.type)")
t_check "cn captured Binding Updates, Acknowledges and relayed deregistration replies ($n)" test "$n" -gt $((MIP4_MOVES * 3))
t_check "every one decodes as a route optimization message ($decoded of $n)" test "$decoded" -eq "$n"
bad=$(dec -Y "$ours && (_ws.malformed || _ws.expert.severity >= \"Error\")" -T fields -e frame.number -e _ws.expert.message | head -5 | tr '\n' ' ')
t_check "no malformed packet and no expert error ($bad)" test -z "$bad"
relay=$(count "$ours && mip4roam.type == 242 && mip4roam.ext.type == 240")
t_check "Binding Updates carrying the deregistration reply decoded ($relay)" test "$relay" -ge "$MIP4_MOVES"
drr=$(count "ip.src == $CN && udp.dstport == 434 && mip.type == 3 && mip.life == 0")
t_check "deregistration replies sent by cn to the old FAs decoded as Registration Replies ($drr)" test "$drr" -ge "$MIP4_MOVES"
forged=$(count "ip.src == $HA && udp.srcport != 434 && mip4roam.type == 242")
t_check "the injected updates decode too ($forged)" test "$forged" -ge 4
t_done
