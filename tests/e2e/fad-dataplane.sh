#!/usr/bin/env bash
# fad's user-space data plane end to end (fad(8) DATA PLANE; RFC 2003, RFC 3024, RFC 4988):
#
#   cn 10.61.0.2 ==home link== ha: had 10.61.0.1 (data plane on, uplink 10.62.0.1) == rt
#   rt == fa1 (fad, care-of 10.63.1.2) --cell c1-- mobile (home address 10.61.0.50)
#   rt == fa2 (fad, care-of 10.63.2.2) --cell c2-- mobile
#
# The mobile namespace holds the home address statically on both cell links (mnd is not used);
# tools/mipc registers it through the foreign agents.
#  - registration via fad1 with T: fad1 installs the host route of the home address on its cell;
#  - trafgen UDP cn -> home address: had (proxy ARP, IP-in-IP to 10.63.1.2, checked with tshark
#    on the router) -> fad1 decapsulates and delivers on the cell: every packet counted at the
#    mobile, at had and at fad1;
#  - trafgen UDP mobile -> cn: fad1 reverse-tunnels it to had (IP-in-IP 10.63.1.2 -> 10.61.0.1 on
#    the wire), had decapsulates, every packet counted at cn;
#  - the mobile registers via fad2 (had runs with synchronized: false here, so fad1 keeps its
#    visitor: the FA-side forwarding is what is tested) and sends an FBU to fad1 through fad2;
#    IP-in-IP still arriving at fad1 from the home agent is re-tunnelled to fad2 (10.63.1.2 ->
#    10.63.2.2 on the wire), decapsulated there and delivered on cell 2: counted at fad1
#    (forwarded), fad2 (decapsulated, delivered) and the mobile;
#  - the forwarding entry expires; SIGTERM removes the cell routes and the TUN devices.
# Namespaces fdp<pid>-*; files in $T_TMP; everything is removed at exit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/mip4.sh"

HAD=$BIN/had
FAD=$BIN/fad
MIPC=$BIN/mipc
CTL_BIN=$BIN/roamctl
TG=$BIN/trafgen
t_need "$HAD" "$FAD" "$MIPC" "$CTL_BIN" "$TG" jq tshark ip python3
[ -c /dev/net/tun ] || { t_fail "tun" "/dev/net/tun missing"; t_done; }

P=fdp$$
CN=$P-cn HA=$P-ha RT=$P-rt F1=$P-f1 F2=$P-f2 MN=$P-mn
HAADDR=10.61.0.1
CNADDR=10.61.0.2
HOME=10.61.0.50
COA1=10.63.1.2
COA2=10.63.2.2
KMNHA=00112233445566778899aabbccddeeff
KFA1=0123456789abcdef0123456789abcdef
KFA2=fedcba9876543210fedcba9876543210
KMNFA=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf
CAP=$T_TMP/ipip.pcapng
NS() { local n=$1; shift; ip netns exec "$n" "$@"; }

for n in $CN $HA $RT $F1 $F2 $MN; do
  ip netns add "$n" || { t_fail "namespace" "cannot create $n"; t_done; }
  t_cleanup ip netns del "$n"
  ip -n "$n" link set lo up
  NS "$n" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
link() { # ns1 if1 ns2 if2
  ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
  ip -n "$1" link set "$2" up; ip -n "$3" link set "$4" up
  NS "$1" sysctl -qw net.ipv4.conf.$2.rp_filter=0; NS "$3" sysctl -qw net.ipv4.conf.$4.rp_filter=0
}
link "$HA" ${P}h0 "$CN" ${P}h1
link "$HA" ${P}u0 "$RT" ${P}u1
link "$RT" ${P}a1 "$F1" ${P}a0
link "$RT" ${P}b1 "$F2" ${P}b0
link "$F1" ${P}c1 "$MN" ${P}m1
link "$F2" ${P}c2 "$MN" ${P}m2
ip -n "$HA" addr add $HAADDR/24 dev ${P}h0
ip -n "$CN" addr add $CNADDR/24 dev ${P}h1
ip -n "$HA" addr add 10.62.0.1/24 dev ${P}u0
ip -n "$RT" addr add 10.62.0.2/24 dev ${P}u1
ip -n "$RT" addr add 10.63.1.1/24 dev ${P}a1
ip -n "$F1" addr add $COA1/24 dev ${P}a0
ip -n "$RT" addr add 10.63.2.1/24 dev ${P}b1
ip -n "$F2" addr add $COA2/24 dev ${P}b0
ip -n "$MN" addr add $HOME/32 dev ${P}m1
ip -n "$MN" addr add $HOME/32 dev ${P}m2
ip -n "$CN" route add default via $HAADDR
ip -n "$HA" route add default via 10.62.0.2
ip -n "$RT" route add 10.61.0.0/24 via 10.62.0.1
ip -n "$F1" route add default via 10.63.1.1
ip -n "$F2" route add default via 10.63.2.1
NS "$RT" sysctl -qw net.ipv4.ip_forward=1
# The mobile reaches its agents on the cells; its default route points at the current FA.
ip -n "$MN" route add $COA1/32 dev ${P}m1
ip -n "$MN" route add $COA2/32 dev ${P}m2
ip -n "$MN" route add default via $COA1 dev ${P}m1 onlink

{ cat <<EOC
address: $HAADDR
listen: 0.0.0.0
control_socket: $T_TMP/had.sock
snapshot: ""
max_lifetime: 600s
synchronized: false
dataplane:
  enabled: true
  tun: ${P}t
  interface: ${P}h0
EOC
  mip4_had_sas; } >"$T_TMP/had.yaml"
write_fad() { # $1 n, $2 care-of, $3 FA-HA key
  { cat <<EOC
control_socket: $T_TMP/fad$1.sock
snapshot: ""
max_lifetime: 300s
fbu_max_lifetime: 10s
advert:
  interval: 500ms
dataplane:
  enabled: true
  tun: ${P}x$1
cells:
  - interface: ${P}c$1
    care_of: $2
EOC
    mip4_fad_sas $1 "$HAADDR" "$3"; } >"$T_TMP/fad$1.yaml"
}
write_fad 1 $COA1 $KFA1
write_fad 2 $COA2 $KFA2

# t_start NAME NS BINARY: $T_TMP/NAME.yaml
t_cleanup t_stop had
t_cleanup t_stop fad1
t_cleanup t_stop fad2
TSHARK=
t_cleanup '[ -n "$TSHARK" ] && kill $TSHARK'

CTL() { "$CTL_BIN" -s "$T_TMP/$1.sock" --json "${@:2}"; }
stat() { CTL "$1" stats | jq -e ".$2"; }
visitor() { CTL "$1" visitors | jq -c --arg h "$HOME" '.[] | select(.home == $h)'; }
expect() { jq -e "$1" <<<"$2" >/dev/null || { echo "expected $1 in: $2"; return 1; }; }
mob() { # via fad $1 (extra arguments follow)
  local coa; coa=$([ "$1" = 1 ] && echo $COA1 || echo $COA2); shift
  NS "$MN" "$MIPC" -s $coa --ha $HAADDR --spi 1000 -k $KMNHA --mn-fa-spi 4000 \
    --mn-fa-key $KMNFA --local $HOME -w 3000 "$@"
}

t_check "fad -t accepts the data plane config" "$FAD" -t -c "$T_TMP/fad1.yaml"
t_check "had starts (data plane on)" t_start had "$HA" "$HAD"
t_check "fad1 starts with its data plane" t_start fad1 "$F1" "$FAD"
t_check "fad2 starts with its data plane" t_start fad2 "$F2" "$FAD"
[ -n "${T_PIDS[fad1]}" ] && [ -n "${T_PIDS[fad2]}" ] || t_done
check_status() {
  expect '.dataplane == true' "$(CTL fad1 status)" && ip -n "$F1" link show ${P}x1 | grep -q UP &&
  [ "$(NS "$F1" sysctl -n net.ipv4.conf.${P}c1.forwarding)" = 0 ]
}
t_check "status: data plane on, TUN device up, forwarding off on the cell" check_status

t_tshark TSHARK "$RT" ${P}a1 "$CAP" "ip proto 4"

check_register() {
  local r; r=$(mob 1 --lport 434 --flags T register $HOME $COA1 120) || { echo "$r"; return 1; }
  expect '.reply.code == 0' "$r" &&
  expect '.state == "registered" and .reverse_tunnel == true and .route_installed == true' "$(visitor fad1)" &&
  ip -n "$F1" route show $HOME/32 | grep -q "dev ${P}c1"
}
t_check "registration via fad1 with T: host route of the home address on the cell" check_register

check_down() {
  local out=$T_TMP/down.json
  t_udp "$CN" $CNADDR:39001 $HOME:39002 "$MN" 500 2 "$out"
  expect '.received == .sent and .sent >= 900 and .lost == 0' "$(cat "$out")" &&
  expect '.delivered >= 900 and .dropped == 0' "$(visitor fad1)" &&
  [ "$(stat fad1 dp_delivered)" -ge 900 ] && [ "$(stat had dp_tunnelled)" -ge 900 ]
}
t_check "cn -> home address: had tunnels, fad1 decapsulates and delivers on the cell, every packet" check_down

check_up() {
  local out=$T_TMP/up.json
  t_udp "$MN" $HOME:39003 $CNADDR:39004 "$CN" 500 2 "$out"
  expect '.received == .sent and .sent >= 900 and .lost == 0' "$(cat "$out")" &&
  expect '.reverse >= 900' "$(visitor fad1)" && [ "$(stat had rt_rx_packets)" -ge 900 ]
}
t_check "mobile -> cn: reverse-tunnelled by fad1 (T), decapsulated by had, every packet" check_up

# ---- the mobile moves to cell 2: registration via fad2, FBU to fad1 through fad2 ----
check_move() {
  ip -n "$MN" route replace default via $COA2 dev ${P}m2 onlink
  local r; r=$(mob 2 --lport 434 --flags T register $HOME $COA2 120) || { echo "$r"; return 1; }
  expect '.reply.code == 0' "$r" || return 1
  r=$(mob 2 fbu $HOME $COA1 $COA2 8) || { echo "$r"; return 1; }
  expect '.state == "forwarding"' "$(visitor fad1)" &&
  expect '.state == "registered" and .route_installed == true' "$(visitor fad2)" &&
  [ "$(stat fad1 fbu_accepted)" -eq 1 ] && ! ip -n "$F1" route show $HOME/32 | grep -q .
}
t_check "move: registered via fad2, FBU accepted by fad1 (forwarding), cell route moved" check_move

# Traffic still tunnelled to the old care-of address (the home agent's old path): injected from
# the home agent's address, 300 UDP datagrams cn -> home address:39006.
cat >"$T_TMP/inject.py" <<'EOF'
import socket, struct, sys, time
ha, coa, cn, home, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def ip4(src, dst, proto, payload, ident):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for i in range(n):
    body = struct.pack("!I", i) + b"x" * 60
    udp = struct.pack("!HHHH", 39005, 39006, 8 + len(body), 0) + body
    inner = ip4(cn, home, 17, udp, i)
    s.sendto(ip4(ha, coa, 4, inner, i), (coa, 0))
    time.sleep(0.002)
EOF
check_forward() {
  local out=$T_TMP/fwd.json
  NS "$MN" "$TG" udp-recv --bind $HOME:39006 --duration 4 --grace 1 --json "$out" &
  local rp=$!
  sleep 0.5
  NS "$HA" python3 "$T_TMP/inject.py" $HAADDR $COA1 $CNADDR $HOME 300
  wait $rp
  # not trafgen's own format: counted as "invalid" datagrams by the receiver
  expect '.invalid + .received == 300' "$(cat "$out")" &&
  expect '.forwarded >= 300' "$(visitor fad1)" && [ "$(stat fad1 dp_forwarded)" -ge 300 ] &&
  expect '.decapsulated >= 300 and .delivered >= 300' "$(visitor fad2)"
}
t_check "traffic arriving at fad1 is re-tunnelled to fad2 and delivered on cell 2 (counted at both)" check_forward

check_expiry() {
  t_poll 12 sh -c "[ -z \"\$('$CTL_BIN' -s '$T_TMP/fad1.sock' --json visitors | jq -c '.[]')\" ]" &&
  [ "$(stat fad1 forwarding_expired)" -eq 1 ]
}
t_check "the forwarding entry expires" check_expiry

sleep 1
kill $TSHARK 2>/dev/null; wait $TSHARK 2>/dev/null; TSHARK=
check_wire() {
  local ha2c1 c1ha c1c2 mal
  ha2c1=$(tshark -r "$CAP" -Y "ip.src == $HAADDR && ip.dst == $COA1 && ip.proto == 4 && ip.src == $CNADDR" 2>/dev/null | wc -l)
  c1ha=$(tshark -r "$CAP" -Y "ip.src == $COA1 && ip.dst == $HAADDR && ip.proto == 4" 2>/dev/null | wc -l)
  c1c2=$(tshark -r "$CAP" -Y "ip.src == $COA1 && ip.dst == $COA2 && ip.proto == 4 && ip.dst == $HOME" 2>/dev/null | wc -l)
  mal=$(tshark -r "$CAP" -Y "_ws.malformed || _ws.expert.severity >= error" 2>/dev/null | wc -l)
  echo "had->fad1 $ha2c1, fad1->had $c1ha, fad1->fad2 $c1c2, malformed/errors $mal"
  [ "$ha2c1" -ge 1200 ] && [ "$c1ha" -ge 900 ] && [ "$c1c2" -ge 300 ] && [ "$mal" -eq 0 ]
}
t_check "capture: IP-in-IP had -> fad1, fad1 -> had (reverse), fad1 -> fad2 (forwarding); no malformed" check_wire

check_stop() {
  t_stop fad2
  ! ip -n "$F2" route show $HOME/32 | grep -q . && ! ip -n "$F2" link show ${P}x2 >/dev/null 2>&1
}
t_check "SIGTERM: cell route and TUN device removed" check_stop

echo "--- fad1 log:"; tail -20 "$T_TMP/fad1.log"
echo "--- fad2 log:"; tail -20 "$T_TMP/fad2.log"
t_done
