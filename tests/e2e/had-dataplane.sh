#!/usr/bin/env bash
# had's user-space data plane end to end (had(8) DATA PLANE; RFC 2003, RFC 3024):
#
#   cn (10.91.0.2) ==home link== ha: had (10.91.0.1, uplink 10.92.0.1) == rt == fa (10.93.0.2)
#
# fa plays the care-of address endpoint with tests/e2e/helpers/ipip-endpoint.py (raw protocol-4
# socket + TUN device holding the mobile's home address 10.91.0.50).  mipc registers the home
# address with care-of address 10.93.0.2; then:
#  - trafgen UDP cn -> 10.91.0.50: cn resolves the home address by ARP to had (proxy ARP), had
#    tunnels it; the outer header (10.91.0.1 -> 10.93.0.2, protocol 4) is checked with tshark
#    on the router, every packet arrives decapsulated at the receiver in fa;
#  - trafgen UDP fa (10.91.0.50) -> cn: reverse-tunnelled, decapsulated by had, routed to cn;
#  - forged reverse-tunnel packets (wrong care-of address, spoofed inner source) are dropped
#    and counted;
#  - a synchronized move to a second care-of endpoint (fa2, 10.94.0.2) in the middle of a
#    stream: every packet arrives at one endpoint or the other, the deregistration reply reaches
#    the old care-of address after every packet tunnelled there (checked on the wire), later
#    packets go to the new one;
#  - deregistration removes the route and the proxy ARP entry and stops the tunnelling;
#  - restart with the binding restored from the snapshot: route and proxy ARP entry come back,
#    tunnelling resumes without a new registration;
#  - SIGTERM removes the proxy ARP entries (and the TUN device with its routes);
#  - tshark decodes the IP-in-IP capture with no malformed packet and no expert error.
# Namespaces hdp<pid>-{cn,ha,rt,fa,fb}; files in $T_TMP; everything is removed at exit.
. "$(dirname "$0")/lib.sh"

HAD=$BIN/had
MIPC=$BIN/mipc
CTL_BIN=$BIN/roamctl
TG=$BIN/trafgen
EP=$(dirname "$0")/helpers/ipip-endpoint.py
t_need "$HAD" "$MIPC" "$CTL_BIN" "$TG" jq tshark ip python3
[ -c /dev/net/tun ] || { t_fail "tun" "/dev/net/tun missing"; t_done; }

P=hdp$$
CN=$P-cn HA=$P-ha RT=$P-rt FA=$P-fa FB=$P-fb
HAADDR=10.91.0.1
CNADDR=10.91.0.2
HOME=10.91.0.50
COA=10.93.0.2
COA2=10.94.0.2
K1=00112233445566778899aabbccddeeff
CFG=$T_TMP/had.yaml
SOCK=$T_TMP/had.sock
SNAP=$T_TMP/had.snap
LOG=$T_TMP/had.log
CAP=$T_TMP/ipip.pcapng
EPSTATS=$T_TMP/ep.json
EP2STATS=$T_TMP/ep2.json
CTL() { "$CTL_BIN" -s "$SOCK" "$@"; }
NS() { local n=$1; shift; ip netns exec "$n" "$@"; }

for n in $CN $HA $RT $FA $FB; do
  ip netns add "$n" || { t_fail "namespace" "cannot create $n"; t_done; }
  t_cleanup ip netns del "$n"
  ip -n "$n" link set lo up
done
# home link cn <-> ha
ip -n "$HA" link add ${P}h0 type veth peer name ${P}h1 netns "$CN"
ip -n "$HA" addr add $HAADDR/24 dev ${P}h0
ip -n "$CN" addr add $CNADDR/24 dev ${P}h1
# uplink ha <-> rt, foreign link rt <-> fa
ip -n "$HA" link add ${P}u0 type veth peer name ${P}u1 netns "$RT"
ip -n "$HA" addr add 10.92.0.1/24 dev ${P}u0
ip -n "$RT" addr add 10.92.0.2/24 dev ${P}u1
ip -n "$RT" link add ${P}f1 type veth peer name ${P}f0 netns "$FA"
ip -n "$RT" addr add 10.93.0.1/24 dev ${P}f1
ip -n "$FA" addr add $COA/24 dev ${P}f0
ip -n "$RT" link add ${P}g1 type veth peer name ${P}g0 netns "$FB"
ip -n "$RT" addr add 10.94.0.1/24 dev ${P}g1
ip -n "$FB" addr add $COA2/24 dev ${P}g0
for l in "$HA ${P}h0" "$CN ${P}h1" "$HA ${P}u0" "$RT ${P}u1" "$RT ${P}f1" "$FA ${P}f0" \
         "$RT ${P}g1" "$FB ${P}g0"; do
  set -- $l; ip -n "$1" link set "$2" up
done
ip -n "$CN" route add default via $HAADDR
ip -n "$HA" route add default via 10.92.0.2
ip -n "$RT" route add 10.91.0.0/24 via 10.92.0.1
ip -n "$FA" route add default via 10.93.0.1
ip -n "$FB" route add default via 10.94.0.1
NS "$RT" sysctl -qw net.ipv4.ip_forward=1
# fa: the home agent itself is reached directly (registration from the care-of address)
ip -n "$FA" route add $HAADDR/32 via 10.93.0.1
ip -n "$FB" route add $HAADDR/32 via 10.94.0.1

cat >"$CFG" <<EOC
address: $HAADDR
listen: 0.0.0.0
control_socket: $SOCK
snapshot: $SNAP
snapshot_interval: 1s
max_lifetime: 600s
synchronized: true
dataplane:
  enabled: true
  tun: ${P}t
  interface: ${P}h0
log_level: info
mobiles:
  - name: m1
    spi: 1000
    key: $K1
    home: [$HOME]
EOC

t_cleanup t_stop had
EPPID= EP2PID=
t_cleanup '[ -n "$EPPID" ] && kill $EPPID'
t_cleanup '[ -n "$EP2PID" ] && kill $EP2PID'
TSHARK=
t_cleanup '[ -n "$TSHARK" ] && kill $TSHARK'

stat() { CTL --json stats | jq -e ".$1"; }
bind_of() { CTL --json bindings | jq -c --arg h "$1" '.[] | select(.home == $h)'; }
expect() { jq -e "$1" <<<"$2" >/dev/null || { echo "expected $1 in: $2"; return 1; }; }
m1() { NS "$FA" "$MIPC" -s $HAADDR --spi 1000 -k $K1 -w 1000 "$@"; }
has_route() { ip -n "$HA" route show $HOME/32 | grep -q "dev ${P}t"; }
has_proxy() { ip -n "$HA" neigh show proxy dev ${P}h0 | grep -qw "$HOME"; }
ep() { jq -e ".$1" "$EPSTATS"; }

t_check "had -t accepts the data plane config" "$HAD" -t -c "$CFG"
t_check "had starts with its data plane" t_start had "$HA" "$HAD"
[ -n "${T_PIDS[had]}" ] || t_done
t_check "status: data plane on, TUN device up" \
  sh -c "'$CTL_BIN' -s '$SOCK' --json status | jq -e '.dataplane == true and .tunnel_source == \"$HAADDR\"' >/dev/null && ip -n $HA link show ${P}t | grep -q UP"

# The care-of endpoint with the mobile's home address behind its TUN device.
endpoint() { # $1 ns, $2 care-of address, $3 stats file; prints the pid
  ip netns exec "$1" python3 "$EP" --tun ${P}m --local $2 --peer $HAADDR --stats "$3" >/dev/null 2>&1 &
  echo $!
}
EPPID=$(endpoint "$FA" $COA "$EPSTATS")
EP2PID=$(endpoint "$FB" $COA2 "$EP2STATS")
for n in $FA $FB; do
  t_poll 5 ip -n "$n" link show ${P}m >/dev/null || { t_fail "endpoint" "no TUN device in $n"; t_done; }
  ip -n "$n" addr add $HOME/24 dev ${P}m
  ip -n "$n" link set ${P}m up
  NS "$n" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.${P}m.rp_filter=0
done

t_tshark TSHARK "$RT" ${P}f1 "$CAP" "ip proto 4 or udp port 434"

check_no_binding() {
  ! has_route && ! has_proxy && [ "$(stat dp_tunnelled)" -eq 0 ]
}
t_check "no binding: no route, no proxy ARP entry, nothing tunnelled" check_no_binding

check_register() {
  local r; r=$(m1 register $HOME $COA 300) || { echo "$r"; return 1; }
  expect '.reply.code == 0' "$r" && has_route && has_proxy &&
  expect '.care_of == "'$COA'" and .installed == true' "$(bind_of $HOME)" &&
  [ "$(stat dp_installs)" -eq 1 ] && [ "$(stat dp_garp_sent)" -ge 1 ]
}
t_check "registration installs the host route, the proxy ARP entry, sends a gratuitous ARP" check_register

check_down() {
  local out=$T_TMP/down.json
  t_udp "$CN" $CNADDR:39001 $HOME:39002 "$FA" 500 2 "$out"
  local b; b=$(bind_of $HOME)
  expect '.received == .sent and .sent >= 900 and .lost == 0' "$(cat "$out")" &&
  expect '.tunnelled >= 900 and .dropped == 0' "$b" &&
  t_poll 5 eval '[ "$(ep rx)" -ge 900 ]' && [ "$(ep rx_wrong_peer)" -eq 0 ] &&
  [ "$(ep outer_ttl_max)" -le 64 ] &&
  [ "$(ep outer_ttl_min)" -ge 60 ] && ip -n "$CN" neigh show $HOME | grep -q lladdr
}
t_check "cn -> home address: proxy ARP, tunnelled to the care-of address, every packet delivered" check_down

check_up() {
  local out=$T_TMP/up.json n; n=$(stat rt_rx_packets)
  t_udp "$FA" $HOME:39003 $CNADDR:39004 "$CN" 500 2 "$out"
  expect '.received == .sent and .sent >= 900 and .lost == 0' "$(cat "$out")" &&
  [ "$(stat rt_rx_packets)" -ge $((n + 900)) ] &&
  expect '.reverse >= 900' "$(bind_of $HOME)"
}
t_check "reverse tunnel: home address -> cn decapsulated by had, every packet delivered" check_up

# Forged reverse-tunnel packets: from another source address, and a spoofed inner source.
forge() { # $1 outer source (must be an address of fa), $2 inner source
  NS "$FA" python3 - "$1" "$2" "$HAADDR" "$CNADDR" <<'EOP'
import socket, struct, sys
osrc, isrc, ha, cn = sys.argv[1:5]
def ck(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
payload = b"forged!!"
udp = struct.pack("!HHHH", 39005, 39006, 8 + len(payload), 0) + payload
h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, socket.inet_aton(isrc), socket.inet_aton(cn))
h = h[:10] + struct.pack("!H", ck(h)) + h[12:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 4)
s.bind((osrc, 0))
for _ in range(3):
    s.sendto(h + udp, (ha, 0))
EOP
}
check_forged() {
  local sp un; sp=$(stat rt_drop_spoofed); un=$(stat rt_drop_unknown_coa)
  ip -n "$FA" addr add 10.93.0.77/24 dev ${P}f0 2>/dev/null
  forge 10.93.0.77 $HOME && forge $COA 10.91.0.99 &&
  t_poll 3 test "$(stat rt_drop_spoofed)" -ge $((sp + 3)) &&
  t_poll 3 test "$(stat rt_drop_unknown_coa)" -ge $((un + 3))
}
t_check "forged reverse tunnel (wrong care-of, unknown inner source): dropped and counted" check_forged

check_move() {
  local r1=$T_TMP/move1.json r2=$T_TMP/move2.json tx=$T_TMP/move-tx.json mv=$T_TMP/move.out
  NS "$FA" "$TG" udp-recv --bind $HOME:39012 --duration 7 --grace 1 --json "$r1" &
  local p1=$!
  NS "$FB" "$TG" udp-recv --bind $HOME:39012 --duration 7 --grace 1 --json "$r2" &
  local p2=$!
  sleep 0.5
  NS "$CN" "$TG" udp-send --bind $CNADDR:39011 --to $HOME:39012 --rate 1000 --duration 4 --json "$tx" &
  local ps=$!
  sleep 2
  # the mobile (dual radio) asks from the old care-of address for the new one and waits for the
  # deregistration reply there
  m1 --drr $COA register $HOME $COA2 300 >"$mv" || { cat "$mv"; return 1; }
  wait $ps $p1 $p2
  local sent a b
  sent=$(jq .sent "$tx"); a=$(jq .received "$r1"); b=$(jq .received "$r2")
  echo "sent=$sent old=$a new=$b"
  expect '.reply.code == 0 and .reply.lifetime == 0 and .reply.id_match == 2' "$(grep '"via":"old_coa"' "$mv")" &&
  expect '.care_of == "'$COA2'" and .moves == 1 and (has("old_path") | not)' "$(bind_of $HOME)" &&
  [ "$sent" -ge 3600 ] && [ "$a" -ge 1000 ] && [ "$b" -ge 1000 ] && [ $((a + b)) -eq "$sent" ] &&
  [ "$(stat drr_sent)" -eq 1 ] && [ "$(jq .rx "$EP2STATS")" -ge "$b" ]
}
t_check "synchronized move mid-stream: no packet lost, deregistration reply to the old care-of address" check_move

check_dereg() {
  local r; r=$(m1 deregister $HOME) || { echo "$r"; return 1; }
  expect '.reply.code == 0 and .reply.lifetime == 0' "$r" && [ -z "$(bind_of $HOME)" ] &&
  ! has_route && ! has_proxy && [ "$(stat dp_removals)" -ge 1 ] || return 1
  local n; n=$(stat dp_tunnelled)
  local out=$T_TMP/dereg.json
  t_udp "$CN" $CNADDR:39001 $HOME:39002 "$FA" 200 1 "$out"
  expect '.received == 0' "$(cat "$out")" && [ "$(stat dp_tunnelled)" -eq "$n" ]
}
t_check "deregistration: route and proxy ARP entry removed, tunnelling stops" check_dereg

check_restart() {
  m1 register $HOME $COA 300 | jq -e '.reply.code == 0' >/dev/null && has_route && has_proxy || return 1
  CTL save >/dev/null
  t_stop had
  ! has_proxy || { echo "proxy ARP entry left after SIGTERM"; return 1; }
  ! ip -n "$HA" link show ${P}t >/dev/null 2>&1 || { echo "TUN device left"; return 1; }
  t_start had "$HA" "$HAD" || return 1
  [ "$(stat snapshot_loaded)" -eq 1 ] && has_route && has_proxy &&
  expect '.care_of == "'$COA'" and .installed == true' "$(bind_of $HOME)" || return 1
  local out=$T_TMP/restart.json
  t_udp "$CN" $CNADDR:39001 $HOME:39002 "$FA" 500 2 "$out"
  expect '.received == .sent and .sent >= 900' "$(cat "$out")" && [ "$(stat accepted)" -eq 0 ]
}
t_check "restart: binding restored, route and proxy ARP re-installed, tunnelling resumes" check_restart

check_term() {
  t_stop had; ! has_proxy && ! ip -n "$HA" link show ${P}t >/dev/null 2>&1 && grep -q "shutting down" "$LOG"
}
t_check "SIGTERM: proxy ARP entry and TUN device removed" check_term

sleep 0.5
kill -INT "$TSHARK" 2>/dev/null; wait "$TSHARK" 2>/dev/null; TSHARK=
check_capture() {
  local n outer bad order
  # the deregistration reply (lifetime 0) to the old care-of address comes after the last
  # packet tunnelled there
  order=$(tshark -r "$CAP" -Y "(ip.proto == 4 && ip.dst == $COA && udp.dstport == 39012) || (mip.type == 3 && mip.life == 0 && ip.dst == $COA && udp.dstport == 434)" \
    -T fields -e frame.number -e mip.type 2>/dev/null | awk '$2 == 3 && !d { d = $1 } $2 == "" { last = $1 } END { print (d > last && last > 0) ? "ok" : "bad " d " " last }')
  [ "$order" = ok ] || { echo "order: $order"; return 1; }
  n=$(tshark -r "$CAP" -Y 'ip.proto == 4' 2>/dev/null | wc -l)
  # first ip layer: the outer header had built (proto 4, had -> care-of), inner UDP cn -> home
  outer=$(tshark -r "$CAP" -Y "ip.proto == 4 && ip.src == $HAADDR && ip.dst == $COA && udp.dstport == 39002" \
    -T fields -e ip.src -e ip.dst 2>/dev/null | grep -c "^$HAADDR,$CNADDR"$'\t'"$COA,$HOME\$")
  bad=$(tshark -r "$CAP" -Y '_ws.malformed || _ws.expert.severity >= 8388608' 2>/dev/null | wc -l)
  [ "$(tshark -r "$CAP" -Y mip 2>/dev/null | wc -l)" -ge 3 ] || { echo "no Mobile IP packets captured"; return 1; }
  echo "ipip=$n had->coa=$outer bad=$bad"
  [ "$n" -ge 2500 ] && [ "$outer" -ge 1800 ] && [ "$bad" -eq 0 ]
}
t_check "capture: deregistration reply after the old path's data; IP-in-IP decoded (had -> care-of, cn -> home), no malformed, no expert error" check_capture
[ "$T_FAIL" -eq 0 ] || { echo "--- had log:"; tail -n 30 "$LOG"; echo "--- endpoints:"; cat "$EPSTATS" "$EP2STATS"; }
t_done
