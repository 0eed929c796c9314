#!/usr/bin/env bash
# mnd end to end (Mobile IPv4 module): had and two fad instances in namespaces of their own, a
# dual-radio mobile running mnd.  mnd puts its home address on lo, hears fad1's advertisements on
# radio m1 and registers through it (binding at had with fad1's care-of address, visitor at
# fad1, default route via fad1 on m1).  Then radio m2 comes up in fad2's cell: mnd registers via
# fad2 (Phase I of the synchronized handoff), switches its default route to fad2 on the reply,
# and releases m1 when had's deregistration reply arrives through fad1 (fad1 then drops the
# visitor).  A 500 packet/s UDP stream from the correspondent (home link) to the home address
# runs through had's and the fads' data planes across that handoff: none may be lost.  A Layer-2 "link-going-down" notice as netlab sends it makes mnd send a Fast Binding
# Update to its current FA.  Forged replies are dropped.  SIGTERM deregisters (the binding
# disappears at had) and removes the home address and routes.  Then a single-radio mnd (radio m3)
# registers via fad1, gets a "link-going-down" notice naming cell2, sends the FBU to fad1 (which
# accepts it), and after its radio is moved to cell 2 (the switch end re-enslaved to the other
# bridge, as netlab does) registers via fad2 (Phase III).
#
# Topology (namespaces mne<pid>-{h,f1,f2,m,s,c}; s holds the cells' bridges br1 / br2):
#   c (correspondent 10.71.0.2) --- hl0 [h: had, home link 10.71.0.1/24, data plane]
#   m (mnd, home address 10.71.0.10 on lo)
#     m1, m3 --- br1 --- fc1 [f1: fad1, care-of 10.82.1.2] fb1 --- hb1 [h: had 10.82.0.1, router]
#     m2     --- br2 --- fc2 [f2: fad2, care-of 10.82.2.2] fb2 --- hb2
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/mip4.sh"

HAD=$BIN/had
FAD=$BIN/fad
MND=$BIN/mnd
CTL_BIN=$BIN/roamctl
t_need "$HAD" "$FAD" "$MND" "$CTL_BIN" jq ip python3
[ -c /dev/net/tun ] || { t_fail "tun" "/dev/net/tun missing (had's and fad's data planes)"; t_done; }

P=mne$$
NH=$P-h NF1=$P-f1 NF2=$P-f2 NM=$P-m NS=$P-s NC=$P-c
CN=10.71.0.2
TG=$BIN/trafgen
HA=10.82.0.1
COA1=10.82.1.2
COA2=10.82.2.2
HOME=10.71.0.10
KMNHA=00112233445566778899aabbccddeeff
KFA1=0123456789abcdef0123456789abcdef
KFA2=fedcba9876543210fedcba9876543210
KMNFA=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf

for n in $NH $NF1 $NF2 $NM $NS $NC; do
  ip netns add $n || { t_fail "namespace" "cannot create $n"; t_done; }
  t_cleanup ip netns del $n
  ip -n $n link set lo up
  ip netns exec $n sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
ip netns exec $NH sysctl -qw net.ipv4.ip_forward=1
ip -n $NH link add hb1 type veth peer name fb1 netns $NF1
ip -n $NH link add hb2 type veth peer name fb2 netns $NF2
ip -n $NS link add br1 type bridge
ip -n $NS link add br2 type bridge
ip -n $NF1 link add fc1 type veth peer name s-f1 netns $NS
ip -n $NF2 link add fc2 type veth peer name s-f2 netns $NS
ip -n $NM link add m1 type veth peer name s-m1 netns $NS
ip -n $NM link add m2 type veth peer name s-m2 netns $NS
ip -n $NM link add m3 type veth peer name s-m3 netns $NS
for l in "s-f1 br1" "s-m1 br1" "s-m3 br1" "s-f2 br2" "s-m2 br2"; do
  set -- $l; ip -n $NS link set $1 master $2; ip -n $NS link set $1 up
done
ip -n $NS link set br1 up
ip -n $NS link set br2 up
ip -n $NH link add hl0 type veth peer name cl0 netns $NC
ip -n $NH addr add $HA/32 dev lo
ip -n $NH addr add 10.71.0.1/24 dev hl0
ip -n $NC addr add $CN/24 dev cl0
ip -n $NH link set hl0 up
ip -n $NC link set cl0 up
ip -n $NC route add default via 10.71.0.1
ip -n $NH addr add 10.82.1.1/24 dev hb1
ip -n $NH addr add 10.82.2.1/24 dev hb2
ip -n $NF1 addr add $COA1/24 dev fb1
ip -n $NF2 addr add $COA2/24 dev fb2
for l in "$NH hb1" "$NH hb2" "$NF1 fb1" "$NF1 fc1" "$NF2 fb2" "$NF2 fc2" "$NM m1"; do
  set -- $l; ip -n $1 link set $2 up
  ip netns exec $1 sysctl -qw net.ipv4.conf.$2.rp_filter=0
done
ip netns exec $NM sysctl -qw net.ipv4.conf.m2.rp_filter=0 net.ipv4.conf.m3.rp_filter=0
ip -n $NF1 route add default via 10.82.1.1
ip -n $NF2 route add default via 10.82.2.1
# m2 and m3 stay down: the mobile is only in cell 1 at first.

CTL() { "$CTL_BIN" -s "$T_TMP/$1.sock" --json "${@:2}"; }
stat() { CTL "$1" stats | jq -e ".$2"; }
expect() { jq -e "$1" <<<"$2" >/dev/null || { echo "expected $1 in: $2"; return 1; }; }
visitor() { CTL "$1" visitors | jq -c --arg h "$HOME" '.[] | select(.home == $h)'; }
binding() { CTL had bindings | jq -c --arg h "$HOME" '.[] | select(.home == $h)'; }
mip4() { CTL mnd mip4; }

{ cat <<EOC
address: $HA
listen: $HA
control_socket: $T_TMP/had.sock
snapshot: ""
max_lifetime: 600s
synchronized: true
dataplane:
  enabled: true
  tun: ${P}t
  interface: hl0
EOC
  mip4_had_sas; } >"$T_TMP/had.yaml"
write_fad() { # $1 n (1|2), $2 FA-HA key
  local n=$1 coa; coa=$([ "$n" = 1 ] && echo $COA1 || echo $COA2)
  { cat <<EOC
control_socket: $T_TMP/fad$n.sock
snapshot: ""
max_lifetime: 300s
relay_timeout: 2s
fbu_max_lifetime: 10s
advert:
  interval: 300ms
dataplane:
  enabled: true
  tun: ${P}x$n
cells:
  - interface: fc$n
    care_of: $coa
EOC
    mip4_fad_sas $n "$HA" "$2"; } >"$T_TMP/fad$n.yaml"
}
write_fad 1 $KFA1
write_fad 2 $KFA2
cat >"$T_TMP/mnd.yaml" <<EOC
# mnd of tests/e2e/mnd.sh
control_socket: $T_TMP/mnd.sock
log_level: debug
mip4:
  home_address: $HOME
  home_agent: $HA
  spi: 1000
  key: $KMNHA
  fa_spi: 4000
  fa_key: $KMNFA
  radios: [m1, m2]
  lifetime: 120s
  retransmit: 500ms
  retransmit_max: 2s
  neighbours:
    - network: cell1
      foreign_agent: $COA1
    - network: cell2
      foreign_agent: $COA2
EOC

# t_start NAME NS BINARY: $T_TMP/NAME.yaml
t_cleanup t_stop mnd
t_cleanup t_stop had
t_cleanup t_stop fad1
t_cleanup t_stop fad2

t_check "mnd -t accepts the generated config" "$MND" -t -c "$T_TMP/mnd.yaml"
t_check "mnd -t accepts etc/roam/mnd.yaml" "$MND" -t -c etc/roam/mnd.yaml
check_t_bad() {
  printf 'mip4:\n  home_address: 10.0.0.300\n  spi: 1\n  radios: []\n' >"$T_TMP/bad.yaml"
  t_conf_refused "$MND" "$T_TMP/bad.yaml" "mip4.home_address" "mip4.spi"
}
t_check "mnd -t rejects a bad config with the errors located" check_t_bad

t_check "had starts" t_start had $NH "$HAD"
t_check "fad1 starts" t_start fad1 $NF1 "$FAD"
t_check "fad2 starts" t_start fad2 $NF2 "$FAD"
t_check "mnd starts" t_start mnd $NM "$MND"

check_registered() {
  local s; s=$(mip4) || return 1
  expect '.state == "registered" and .foreign_agent == "'$COA1'" and .care_of == "'$COA1'" and .radio == "m1" and .lifetime_granted_s == 120' "$s" &&
  expect '.care_of == "'$COA1'"' "$(binding)" &&
  expect '.state == "registered" and .care_of == "'$COA1'"' "$(visitor fad1)"
}
t_check "mnd registers via fad1: binding at had, visitor at fad1" t_poll 10 check_registered
check_routes() {
  ip -n $NM -4 addr show dev lo | grep -q "$HOME/32" &&
  ip -n $NM route show default | grep -q "via $COA1 dev m1" ||
    { ip -n $NM addr; ip -n $NM route; return 1; }
}
t_check "home address on lo, default route via fad1 on m1" check_routes

check_forged() {
  local before; before=$(mip4 | jq .counters.drop_auth)
  # A Registration Reply for our home address with a wrong MN-HA authenticator, sent from
  # fad1's cell address to the mobile's port 434.
  ip netns exec $NF1 python3 - "$HOME" "$HA" "$COA1" <<'EOP' || return 1
import socket, struct, sys, time
home, ha, src = sys.argv[1:4]
ntp = int(time.time()) + 2208988800
msg = struct.pack("!BBH4s4sQ", 3, 0, 120, socket.inet_aton(home), socket.inet_aton(ha), ntp << 32)
msg += struct.pack("!BBI", 32, 20, 1000) + b"A" * 16
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
s.sendto(msg, (home, 434))
EOP
  t_poll 5 sh -c "[ \$($CTL_BIN -s $T_TMP/mnd.sock --json mip4 | jq .counters.drop_auth) -gt $before ]" &&
  expect '.state == "registered" and .foreign_agent == "'$COA1'" and .counters.handoffs == 0' "$(mip4)"
}
# fad1 learnt a host route to the home address when it registered the visitor; add one in case.
ip -n $NF1 route add $HOME/32 dev fc1 2>/dev/null
t_check "forged reply dropped, state unchanged" check_forged

# ---- Phase I: the second radio comes up in cell 2, during a stream cn -> home address ----
UDPOUT=$T_TMP/udp.json
RP= SP=
t_cleanup '[ -n "$SP" ] && kill $SP'
t_cleanup '[ -n "$RP" ] && kill $RP'
if [ -x "$TG" ]; then
  ip netns exec $NM "$TG" udp-recv --bind $HOME:39002 --duration 7 --grace 1 --json "$UDPOUT" &
  RP=$!
  sleep 0.5
  ip netns exec $NC "$TG" udp-send --bind $CN:39001 --to $HOME:39002 --rate 500 --duration 4 --json - >/dev/null &
  SP=$!
  sleep 1.5
fi
ip -n $NM link set m2 up
check_handoff() {
  local s; s=$(mip4) || return 1
  expect '.state == "registered" and .foreign_agent == "'$COA2'" and .radio == "m2" and .counters.handoffs == 1 and .counters.dereg_replies == 1 and .counters.links_released == 1' "$s" &&
  expect '.care_of == "'$COA2'"' "$(binding)" &&
  expect '.state == "registered" and .care_of == "'$COA2'"' "$(visitor fad2)" &&
  [ -z "$(visitor fad1)" ]
}
t_check "dual radio: registers via fad2, dereg reply via fad1 releases m1, fad1 drops the visitor" t_poll 15 check_handoff
if [ -x "$TG" ]; then
  wait $SP; wait $RP
  SP= RP=
  check_stream() {
    expect '.sent >= 1500 and .received == .sent and .lost == 0' "$(cat "$UDPOUT")"
  }
  t_check "data plane: stream cn -> home address delivered across the handoff, none lost" check_stream
  echo "# stream across the dual-radio handoff: $(jq -c '{sent, received, lost, max_gap_ms}' "$UDPOUT" 2>/dev/null)"
fi
t_check "default route switched to fad2 on m2" sh -c "ip -n $NM route show default | grep -q 'via $COA2 dev m2'"
t_check "had moved the binding and sent the deregistration reply" sh -c "[ \$($CTL_BIN -s $T_TMP/had.sock --json stats | jq '.moved') -ge 1 ] && [ \$($CTL_BIN -s $T_TMP/had.sock --json stats | jq '.drr_sent') -ge 1 ]"

# ---- L2 notice as netlab sends it: FBU to the current FA (fad2) pointing at cell1's FA ----
check_notice() {
  CTL mnd l2-notice event=link-going-down in_ms=100 to=cell1 >/dev/null || return 1
  t_poll 5 sh -c "[ \$($CTL_BIN -s $T_TMP/mnd.sock --json mip4 | jq .counters.fbu_sent) -eq 1 ]" &&
  t_poll 5 sh -c "[ \$($CTL_BIN -s $T_TMP/fad2.sock --json stats | jq .rx_fbu) -ge 1 ]"
}
t_check "l2-notice link-going-down: FBU sent to the current FA, received there" check_notice
check_bad_notice() {
  ! CTL mnd l2-notice event=sideways >/dev/null 2>&1 &&
  [ "$(stat mnd l2_bad)" -ge 1 ]
}
t_check "unknown l2-notice event refused and counted" check_bad_notice

# ---- stop: deregistration, addresses and routes removed ----
t_check "mnd stops on SIGTERM" t_stop mnd
t_check "deregistered at had" t_poll 5 sh -c "[ -z \"\$($CTL_BIN -s $T_TMP/had.sock --json bindings | jq -c --arg h $HOME '.[] | select(.home == \$h)')\" ]"
t_check "home address and default route removed" sh -c "! ip -n $NM -4 addr show dev lo | grep -q $HOME && ! ip -n $NM route show default | grep -q ."

# ---- Phase III: one radio (m3), FBU on the notice, then the move ----
ip -n $NM link set m1 down
ip -n $NM link set m2 down
ip -n $NM link set m3 up
sed -e 's/radios: \[m1, m2\]/radios: [m3]/' "$T_TMP/mnd.yaml" >"$T_TMP/mnd1.yaml"
mv "$T_TMP/mnd1.yaml" "$T_TMP/mnd.yaml"
t_check "single-radio mnd starts" t_start mnd $NM "$MND"
check_registered3() {
  expect '.state == "registered" and .foreign_agent == "'$COA1'" and .radio == "m3"' "$(mip4)" &&
  expect '.care_of == "'$COA1'"' "$(binding)" &&
  expect '.state == "registered" and .care_of == "'$COA1'"' "$(visitor fad1)"
}
t_check "single radio: registered via fad1" t_poll 10 check_registered3
fbu1=$(stat fad1 fbu_accepted)
check_move() {
  CTL mnd l2-notice event=link-going-down in_ms=100 to=cell2 >/dev/null || return 1
  sleep 0.1
  ip -n $NS link set s-m3 master br2 || return 1
  t_poll 10 sh -c "$CTL_BIN -s $T_TMP/mnd.sock --json mip4 | jq -e '.foreign_agent == \"$COA2\" and .counters.handoffs == 1 and .counters.fbu_sent == 1' >/dev/null" &&
  [ "$(stat fad1 fbu_accepted)" -gt "${fbu1:-0}" ] &&
  t_poll 5 sh -c "$CTL_BIN -s $T_TMP/had.sock --json bindings | jq -e '.[] | select(.home == \"$HOME\") | .care_of == \"$COA2\"' >/dev/null" &&
  expect '.state == "registered" and .care_of == "'$COA2'"' "$(visitor fad2)"
}
t_check "link-going-down: FBU accepted by fad1; after the move registered via fad2" check_move
t_check "single-radio mnd stops" t_stop mnd

t_done
