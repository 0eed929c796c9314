#!/usr/bin/env bash
# SIP terminal mobility (issue 6; seed 001 [71]-[77]; docs/protocols/sip-mobility.md part 3).
# sipd (registrar + proxy, digest) on a server network; the mobile mn runs mnd with its `sip`
# module on cell 1; the correspondent cn runs cnd with `sip`.  Both register with sipd; mn calls
# cn through sipd, and each agent sends its RTP stream to the other.  Then mn moves to cell 2 (its
# radio re-plugged into the other cell's bridge, as netlab moves, and its address changed from
# 10.93.1.10 to 10.93.2.10 as a DHCP client would): mnd sees the address change on netlink,
# re-REGISTERs (sipd's location service shows the new contact) and re-INVITEs cn through sipd
# (Record-Route) with the new address in Contact and SDP; cn's stream resumes at the new address
# and both streams keep arriving.  The interruption (longest gap) is printed.  BYE ends the call
# on both sides.  tshark decodes every SIP and RTP packet seen at cn without a malformed packet or
# an expert error.  Second case, with Kamailio (Debian package kamailio) as the correspondent's
# proxy: cn2 (cnd) is registered at Kamailio as sip:cn@kam.example, sipd routes kam.example to
# Kamailio; mn calls across both, moves back to cell 1, and the re-INVITE reaches cn2 through
# sipd and Kamailio (both record-route); the stream resumes.
#
#   s (sipd 10.93.0.2) -- r0 [r: router] r3 -- c (cnd 10.93.3.2)
#                         r1 (10.93.1.1) --- br1 --- m0 (mn, cell 1: 10.93.1.10)
#                         r2 (10.93.2.1) --- br2      (cell 2: 10.93.2.10)   [w: bridges]
#                         r4 -- k (kamailio 10.93.4.2)   r5 -- c2 (cnd 10.93.5.2, at Kamailio)
. "$(dirname "$0")/lib.sh"
# a failing roamctl must fail the check, not feed jq an empty input (jq -e then says 0)
set -o pipefail; export SHELLOPTS

SIPD=$BIN/sipd MND=$BIN/mnd CND=$BIN/cnd CTL_BIN=$BIN/roamctl
for b in "$SIPD" "$MND" "$CND" "$CTL_BIN"; do [ -x "$b" ] || { t_fail "binaries" "$b missing"; t_done; }; done
for c in jq ip tshark kamailio; do command -v $c >/dev/null || { t_fail "$c" "$c is required"; t_done; }; done

P=sipm$$
NR=$P-r NS=$P-s NC=$P-c NM=$P-m NW=$P-w NK=$P-k NC2=$P-c2
SIPD_A=10.93.0.2 CN_A=10.93.3.2 MN1=10.93.1.10 MN2=10.93.2.10 KAM_A=10.93.4.2 CN2_A=10.93.5.2

for n in $NR $NS $NC $NM $NW $NK $NC2; do
  ip netns add $n || { t_fail "namespace" "cannot create $n"; t_done; }
  t_cleanup ip netns del $n
  ip -n $n link set lo up
done
ip netns exec $NR sysctl -qw net.ipv4.ip_forward=1
ip -n $NR link add r0 type veth peer name s0 netns $NS
ip -n $NR link add r3 type veth peer name c0 netns $NC
ip -n $NW link add br1 type bridge
ip -n $NW link add br2 type bridge
ip -n $NR link add r1 type veth peer name w-r1 netns $NW
ip -n $NR link add r2 type veth peer name w-r2 netns $NW
ip -n $NM link add m0 type veth peer name w-m0 netns $NW
for l in "w-r1 br1" "w-r2 br2" "w-m0 br1"; do
  set -- $l; ip -n $NW link set $1 master $2; ip -n $NW link set $1 up
done
ip -n $NW link set br1 up; ip -n $NW link set br2 up
ip -n $NR addr add 10.93.0.1/24 dev r0; ip -n $NR addr add 10.93.1.1/24 dev r1
ip -n $NR addr add 10.93.2.1/24 dev r2; ip -n $NR addr add 10.93.3.1/24 dev r3
for i in r0 r1 r2 r3; do ip -n $NR link set $i up; done
ip -n $NS addr add $SIPD_A/24 dev s0; ip -n $NS link set s0 up; ip -n $NS route add default via 10.93.0.1
ip -n $NC addr add $CN_A/24 dev c0; ip -n $NC link set c0 up; ip -n $NC route add default via 10.93.3.1
ip -n $NR link add r4 type veth peer name k0 netns $NK
ip -n $NR link add r5 type veth peer name c0 netns $NC2
ip -n $NR addr add 10.93.4.1/24 dev r4; ip -n $NR addr add 10.93.5.1/24 dev r5
ip -n $NR link set r4 up; ip -n $NR link set r5 up
ip -n $NK addr add $KAM_A/24 dev k0; ip -n $NK link set k0 up; ip -n $NK route add default via 10.93.4.1
ip -n $NC2 addr add $CN2_A/24 dev c0; ip -n $NC2 link set c0 up; ip -n $NC2 route add default via 10.93.5.1
ip -n $NM link set m0 up
ip -n $NM addr add $MN1/24 dev m0; ip -n $NM route add default via 10.93.1.1

CTL() { t_ctl "$@"; }
msip() { CTL mnd sip; }
csip() { CTL cnd sip; }
c2sip() { CTL cnd2 sip; }
# move_to CELL (1 or 2): the mobile's radio re-plugged into that cell's bridge, its address and
# default route changed as a DHCP client would
move_to() {
  ip -n $NW link set w-m0 master br$1
  ip -n $NM addr del 10.93.$((3 - $1)).10/24 dev m0
  ip -n $NM addr add 10.93.$1.10/24 dev m0
  ip -n $NM route replace default via 10.93.$1.1
}

t_sip_users "$T_TMP/users" roam.example mn=mn-secret cn=cn-secret
t_sipd_yaml "$T_TMP/sipd.yaml" $SIPD_A "sha-256, md5" <<EOC
min_expires: 10s
routes:
  - {domain: kam.example, next_hop: "$KAM_A:5060", transport: udp}
EOC
t_sip_agent_yaml "$T_TMP/mnd.yaml" mnd sip:mn@roam.example $SIPD_A 16384 <<EOC
  password: mn-secret
  interface: m0
EOC
t_sip_agent_yaml "$T_TMP/cnd.yaml" cnd sip:cn@roam.example $SIPD_A 20000 <<EOC
  password: cn-secret
  address: $CN_A
EOC
t_sip_agent_yaml "$T_TMP/cnd2.yaml" cnd2 sip:cn@kam.example $KAM_A 20000 <<EOC
  address: $CN2_A
EOC
sed "s/KAM_ADDR/$KAM_A/" "$(dirname "$0")/../../etc/topologies/sip-mobility/kamailio.cfg" >"$T_TMP/kamailio.cfg"
mkdir -p "$T_TMP/kam"

t_capture $NC c0 "$T_TMP/cn.pcap" udp; TS=$T_PID

t_sipd $NS sipd "$T_TMP/sipd.yaml"
t_daemon $NC cnd "$CND" "$T_TMP/cnd.yaml"
t_daemon $NM mnd "$MND" "$T_TMP/mnd.yaml"; MP=$T_PID

registered() { t_jq '.registrations[0].state == "registered"' "$1"; }
t_check "mnd registers with sipd (digest)" t_poll 20 registered msip
t_check "cnd registers with sipd (digest)" t_poll 20 registered csip
contact_is() { CTL sipd registrations aor=sip:mn@roam.example | grep -q "$1"; }
t_check "sipd location: mn at $MN1" t_poll 10 contact_is "sip:mn@$MN1:5060"

t_check "mnd calls cn through sipd" CTL mnd sip-call uri=sip:cn@roam.example
call_up() { t_jq '.calls[0].state == "confirmed" and (.calls[0].media.rx // 0) > 50' "$1"; }
t_check "call established, media both ways (mnd)" t_poll 20 call_up msip
t_check "call established, media both ways (cnd)" t_poll 20 call_up csip
t_check "cnd sends to the mobile's SDP address" t_jq ".calls[0].peer_media == \"$MN1:16384\"" csip

# ---- the move ----
RX_C0=$(csip | jq '.calls[0].media.rx')
RX_M0=$(msip | jq '.calls[0].media.rx')
move_to 2

t_check "mnd saw the move and re-INVITEd" t_poll 20 \
  t_jq ".counters.moves == 1 and .counters.tx_reinvite >= 1 and .address == \"$MN2\"" msip
t_check "sipd location: mn re-REGISTERed at $MN2" t_poll 20 contact_is "sip:mn@$MN2:5060"
only_contact() { # $1 the contact's address, $2 an address it must not have any more
  local out; out=$(CTL sipd registrations aor=sip:mn@roam.example) || return 1
  grep -q "sip:mn@$1:" <<<"$out" && ! grep -q "sip:mn@$2:" <<<"$out"
}
t_check "sipd location: the old contact was removed in the same REGISTER" only_contact $MN2 $MN1
t_check "cnd got the re-INVITE: peer media now $MN2" t_poll 20 \
  t_jq ".calls[0].reinvites_received >= 1 and .calls[0].peer_media == \"$MN2:16384\"" csip
resumed() { # $1 fn, $2 rx before, $3 expected source
  t_jq ".calls[0].media.rx > $2 + 100 and (.calls[0].media.rx_from | startswith(\"$3\"))" "$1"
}
t_check "stream mn -> cn resumes from the new address" t_poll 20 resumed csip "$RX_C0" "$MN2:"
t_check "stream cn -> mn resumes at the new address" t_poll 20 resumed msip "$RX_M0" "$CN_A:"
GAP_C=$(csip | jq '.calls[0].media.longest_gap_ms')
GAP_M=$(msip | jq '.calls[0].media.longest_gap_ms')
echo "# interruption (longest gap): mn -> cn ${GAP_C} ms, cn -> mn ${GAP_M} ms; lost at cn $(csip | jq '.calls[0].media.lost'), at mn $(msip | jq '.calls[0].media.lost')"
t_check "interruption below 10 s (sanity bound)" test "$GAP_C" -lt 10000 -a "$GAP_M" -lt 10000

# ---- BYE through sipd, along the Record-Route ----
t_check "mnd hangs up" CTL mnd sip-hangup call=1
t_check "cnd got the BYE, no call left" t_poll 10 \
  t_jq '.counters.rx_bye == 1 and (.calls | length) == 0' csip
t_check "sipd proxied INVITE, re-INVITE, BYE" \
  t_jq '.proxy_rx_invite >= 2 and .proxy_rx_bye >= 1' CTL sipd stats

# ---- with Kamailio as the correspondent's proxy ----
t_capture $NK k0 "$T_TMP/kam.pcap" udp; TK=$T_PID
ip netns exec $NK kamailio -DD -E -Y "$T_TMP/kam" -P "$T_TMP/kam/kamailio.pid" -f "$T_TMP/kamailio.cfg" \
  >"$T_TMP/kamailio.log" 2>&1 &
KP=$!; t_cleanup kill $KP
t_check "Kamailio listens" t_poll 20 bash -c "ip netns exec $NK ss -Hlun | grep -q '$KAM_A:5060'"
t_daemon $NC2 cnd2 "$CND" "$T_TMP/cnd2.yaml"
t_check "cn2 registers with Kamailio" t_poll 20 registered c2sip
t_check "mnd calls sip:cn@kam.example (sipd -> Kamailio)" CTL mnd sip-call uri=sip:cn@kam.example
t_check "call via Kamailio established, media both ways" t_poll 20 call_up c2sip
RX_K0=$(c2sip | jq '.calls[0].media.rx')
move_to 1
t_check "re-INVITE through sipd and Kamailio: cn2's peer media now $MN1" t_poll 20 \
  t_jq ".calls[0].reinvites_received >= 1 and .calls[0].peer_media == \"$MN1:16384\"" c2sip
t_check "stream mn -> cn2 resumes from the new address" t_poll 20 resumed c2sip "$RX_K0" "$MN1:"
echo "# via Kamailio: interruption mn -> cn2 $(c2sip | jq '.calls[0].media.longest_gap_ms') ms"
t_check "the dialog's route set: sipd then Kamailio; mnd moved twice" \
  t_jq "(.calls[0].route | length) == 2 and (.calls[0].route[0] | contains(\"$SIPD_A\")) and (.calls[0].route[1] | contains(\"$KAM_A\")) and .counters.tx_reinvite >= 2 and .counters.moves == 2" msip
CALL2=$(msip | jq '.calls[0].id')
t_check "hang up via Kamailio" CTL mnd sip-hangup call=$CALL2
t_check "cn2 got the BYE" t_poll 10 t_jq '.counters.rx_bye == 1 and (.calls | length) == 0' c2sip

# ---- nat_continuity on, sipd without the extension: 420, then the plain re-INVITE ----
kill $MP; wait $MP 2>/dev/null
sed 's/^  expires: 60$/  expires: 60\n  nat_continuity: true/' "$T_TMP/mnd.yaml" >"$T_TMP/mnd-natc.yaml"
t_daemon $NM mnd-natc "$MND" "$T_TMP/mnd-natc.yaml"; MP=$T_PID
t_check "mnd (nat_continuity) registers" t_poll 20 registered msip
t_check "mnd calls cn again" CTL mnd sip-call uri=sip:cn@roam.example
t_check "call established" t_poll 20 call_up csip
RX_C0=$(csip | jq '.calls[0].media.rx')
move_to 2
t_check "claim refused (420 from sipd without the extension), re-INVITE instead" t_poll 20 \
  t_jq '.counters.natc_refused == 1 and .counters.natc_accepted == 0 and .counters.tx_reinvite >= 1 and .natc_rewrite == false' msip
t_check "sipd answered the claim with 420" t_jq '.reply_420 >= 1' CTL sipd stats
t_check "cn's peer media follows (fallback re-INVITE)" t_poll 20 \
  t_jq ".calls[0].peer_media == \"$MN2:16384\"" csip
t_check "stream mn -> cn resumes from the new address" t_poll 20 resumed csip "$RX_C0" "$MN2:"
t_check "sipd location: mn at $MN2 only" only_contact $MN2 $MN1
echo "# nat_continuity fallback: interruption mn -> cn $(csip | jq '.calls[0].media.longest_gap_ms') ms"

# ---- nat_continuity accepted: a second sipd on the router r (the co-located first-hop router of
# both cells, nat_continuity on) is the mobile's registrar for nat.example.  mn (back on cell 1,
# at OLD) calls cn through it and sipd; after the move its REGISTER claims OLD, sipd on r
# installs OLD <-> NEW and mnd its reverse pair: no re-INVITE, cn keeps sending to OLD and sees
# the mobile's stream from OLD. ----
kill $MP; wait $MP 2>/dev/null
printf 'mn nat.example password=mn-nat-secret\n' >"$T_TMP/users-nat"; chmod 600 "$T_TMP/users-nat"
cat >"$T_TMP/sipd-r.yaml" <<EOC
listen: ["0.0.0.0:5060"]
advertise: "10.93.1.1:5060"
tcp: false
domains: [nat.example]
authentication: true
realm: nat.example
credentials: file:$T_TMP/users-nat
min_expires: 10s
routes:
  - {domain: roam.example, next_hop: "$SIPD_A:5060", transport: udp}
nat_continuity: true
nat_networks: ["10.93.1.0/24", "10.93.2.0/24"]
nat_table_owner: sipdr
control_socket: $T_TMP/sipdr.sock
snapshot: ""
EOC
move_to 1
t_sipd $NR sipdr "$T_TMP/sipd-r.yaml"
t_sip_agent_yaml "$T_TMP/mnd-nat.yaml" mnd sip:mn@nat.example 10.93.1.1 16384 <<EOC
  password: mn-nat-secret
  interface: m0
  nat_continuity: true
EOC
t_daemon $NM mnd-nat2 "$MND" "$T_TMP/mnd-nat.yaml"; MP=$T_PID
t_check "mnd registers with sipd on r (nat.example)" t_poll 20 registered msip
t_check "mnd calls cn via r's sipd and sipd" CTL mnd sip-call uri=sip:cn@roam.example
t_check "call established" t_poll 20 call_up csip
RX_C0=$(csip | jq '.calls[0].media.rx'); RX_M0=$(msip | jq '.calls[0].media.rx')
move_to 2
t_check "claim accepted: reverse rewrite installed on the mobile, no re-INVITE" t_poll 20 \
  t_jq '.counters.natc_accepted == 1 and .natc_rewrite == true and .counters.tx_reinvite == 0' msip
t_check "sipd on r installed the pair" \
  bash -c "$CTL_BIN -s $T_TMP/sipdr.sock --json nat | grep -q '$MN1'"
t_check "mobile keeps OLD on lo; table roam_mnd present" \
  bash -c "ip -n $NM -4 addr show dev lo | grep -q '$MN1/32' && ip netns exec $NM nft list table inet roam_mnd >/dev/null"
t_check "stream mn -> cn goes on from OLD (translated on r)" t_poll 20 resumed csip "$RX_C0" "$MN1:"
t_check "stream cn -> mn goes on (to OLD, translated on r and on the mobile)" t_poll 20 resumed msip "$RX_M0" "$CN_A:"
t_check "cn still sends to OLD (no re-INVITE)" \
  t_jq ".calls[0].peer_media == \"$MN1:16384\" and .calls[0].reinvites_received == 0" csip
echo "# nat continuity: interruption mn -> cn $(csip | jq '.calls[0].media.longest_gap_ms') ms, cn -> mn $(msip | jq '.calls[0].media.longest_gap_ms') ms"
kill $MP; wait $MP 2>/dev/null
t_check "mnd removed its table and OLD from lo at exit" \
  bash -c "! ip netns exec $NM nft list table inet roam_mnd >/dev/null 2>&1 && ! ip -n $NM -4 addr show dev lo | grep -q '$MN1/32'"

sleep 0.5
kill $TS $TK 2>/dev/null; wait $TS $TK 2>/dev/null
tshark -r "$T_TMP/cn.pcap" -n -d udp.port==20000,rtp -d udp.port==16384,rtp -Y sip -T fields -e sip.Method -e sip.Status-Code >"$T_TMP/sip.txt" 2>/dev/null
t_check "capture holds INVITE, re-INVITE and BYE" \
  bash -c "[ \$(grep -c '^INVITE' $T_TMP/sip.txt) -ge 2 ] && grep -q '^BYE' $T_TMP/sip.txt"
t_check "capture holds RTP both ways" \
  bash -c "[ \$(tshark -r $T_TMP/cn.pcap -n -d udp.port==20000,rtp -d udp.port==16384,rtp -Y rtp 2>/dev/null | wc -l) -gt 200 ]"
t_check "tshark: no malformed packet, no expert error" \
  t_tshark_clean "$T_TMP/cn.pcap" -d udp.port==20000,rtp -d udp.port==16384,rtp
kam_invites() { [ "$(tshark -r "$T_TMP/kam.pcap" -n -Y 'sip.Method == "INVITE"' 2>/dev/null | wc -l)" -ge 3 ]; }
t_check "Kamailio capture: INVITE, re-INVITE, BYE; no malformed packet, no expert error" \
  eval 'kam_invites && t_tshark_clean "$T_TMP/kam.pcap"'
t_done
