#!/usr/bin/env bash
# The L2TP handoff (seed 000; docs/protocols/l2tp-handoff.md) end to end in netlab
# (etc/topologies/l2tp-handoff.yml): mnd's l2tp module runs PPP (CHAP) over the emulated access
# link, first to lac1; srv sends a verified TCP stream and a 2,000 packet/s UDP stream to the
# mobile's PPP address while the mobile moves lac1 -> lac2 -> lac1 ... ten times (netlab move
# --notice: DETACH "moving", CDN with the handoff cause and USER_MOVED at the old LAC, CHAP
# re-challenge and a handoff ICRQ at the new one, the LNS resumes the parked call).  The LACs
# find the LNS through RADIUS (FreeRADIUS with etc/topologies/l2tp-handoff/freeradius/).
#
# Handoff run (ten moves with netlab's notice, then two without: keepalive loss): TCP survives
# with every byte verified, PPP was negotiated once (lnsd and mnd ppp_negotiations == 1), the
# address never changes, lnsd resumed a handoff for each of the 12 moves (and for each extra
# re-attachment when the loaded box moves the radio late); printed: the UDP datagrams lost around
# each move (with the notice ~0: the LNS buffers the parked call's packets and those in flight to
# the old LAC, and sends them on resume) and how long arrivals stopped (the handoff's latency),
# lnsd's park_* and lacd's handoff counters, the UDP socket drops of each namespace.  Forged (one byte flipped) and replayed USER_MOVED
# datagrams (a genuine one captured on the LAC group network and sent again) are dropped and
# counted by lacd and move no call; a handoff ICRQ for a MIN the LNS has not parked is refused
# (unknown MIN) and the call goes on as a fresh one.  tshark decodes every L2TP packet of the core capture with
# no malformed field and no expert error.
# Plain run (handoff.enabled: false in lacd and lnsd, two moves): the standard behaviour, PPP
# renegotiated on every move (ppp_negotiations > 1) and the TCP stream broken or stalled.
# Budget: about 2.5 minutes.  L2H_ONLY=handoff|plain runs one part.
. "$(dirname "$0")/lib.sh"

SRC=etc/topologies/l2tp-handoff.yml
for b in lnsd lacd mnd roamctl netlab linkem trafgen; do
  [ -x "$BIN/$b" ] || { t_fail "binaries" "$BIN/$b missing"; t_done; }
done
for c in jq tshark python3 freeradius; do
  command -v $c >/dev/null || { t_fail "$c" "$c is required"; t_done; }
done

export NETLAB_RUNDIR="$T_TMP/runs"
MIN=3125550100
P=
NL() { "$BIN/netlab" --bin "$BIN" -p "$P" "$@"; }
# Project names unique to this run (several may run at once on one host).
PH=l2hh$$ PP=l2hp$$
for p in $PH $PP; do
  t_cleanup '"$BIN/netlab" --bin "$BIN" -p '$p' down'
  t_cleanup 'for n in $(ip netns list | awk "{print \$1}" | grep "^'$p'-"); do ip netns delete $n; done'
done
BGPIDS=()
t_cleanup 'for p in "${BGPIDS[@]}"; do kill $p 2>/dev/null; done'

# variant MODE PROJECT: a copy of the topology and its configs under $T_TMP/MODE with the project
# name PROJECT; "plain": handoff.enabled off in lacd and lnsd.  Prints the topology's path.
variant() {
  local d=$T_TMP/$1
  mkdir -p "$d"
  cp -p "$SRC" "$d/" && cp -rp "${SRC%.yml}" "$d/" || return 1
  chmod 600 "$d"/l2tp-handoff/lnsd-users "$d"/l2tp-handoff/lac-group.keys
  sed -i "s/^  name: l2h$/  name: $2/" "$d/l2tp-handoff.yml"
  if [ "$1" = plain ]; then
    sed -i '/^handoff:/,/^[a-z]/ s/^  enabled: yes/  enabled: no/' \
      "$d"/l2tp-handoff/lacd1.yaml "$d"/l2tp-handoff/lacd2.yaml "$d"/l2tp-handoff/lnsd.yaml
    grep -q '^  enabled: no' "$d"/l2tp-handoff/lnsd.yaml || return 1
  fi
  echo "$d/l2tp-handoff.yml"
}

# Commands run in a service's namespace with `ip netns exec` rather than `netlab exec`, and the
# control sockets are reached from outside (netlab ctl): nothing here needs the services' bind
# mounts, which a concurrent netlab run taking its own down may remove from the host.
IN() { local s=$1; shift; ip netns exec "$P-$s" "$@"; }
ctl() { local s=$1; shift; "$BIN/roamctl" -s "$(NL ctl "$s")" --json "$@"; }
st() { ctl "$1" stats | jq -r ".$2"; }
mnv() { ctl mn l2tp | jq -r ".$1"; }
mn_up() { ctl mn l2tp | jq -e '.ppp_up and .link == "attached"' >/dev/null; }
mn_on() { ctl mn l2tp | jq -e --arg l "$1" '.ppp_up and .link == "attached" and (.lac | startswith($l + ":"))' >/dev/null; }
LAC_ADDR=([1]=10.86.1.1 [2]=10.86.1.2)

capture() { # SERVICE IFACE FILTER FILE
  ip netns exec "$P-$1" tshark -q -i "$2" -w "$4" -f "$3" >"$4.log" 2>&1 &
  BGPIDS+=($!)
  t_capturing "$4.log" || t_fail "tshark capture on $1 $2" "$(cat "$4.log")"
}
stop_captures() { local p; for p in "${BGPIDS[@]}"; do kill -INT $p 2>/dev/null; wait $p 2>/dev/null; done; BGPIDS=(); }
# The payload of trafgen's streams inside (UDP 5001, TCP 5002) is decoded as data: random octets
# that a heuristic dissector (Thrift, ...) or an ephemeral port's dissector claims would be
# "malformed" whatever the L2TP, PPP, IP, UDP and TCP layers (all still checked) carry.
clean_decode() {
  local out; out=$(tshark -r "$1" -d udp.port==5001,data -d tcp.port==5002,data -Y '_ws.malformed || _ws.expert.severity >= error' 2>/dev/null)
  [ -z "$out" ] || { echo "$out" | head -5; return 1; }
}
all_l2tp() {
  tshark -r "$1" -T fields -e frame.number >"$1.all" 2>/dev/null
  tshark -r "$1" -Y l2tp -T fields -e frame.number >"$1.l2tp" 2>/dev/null
  [ -s "$1.all" ] && cmp "$1.all" "$1.l2tp"
}

# traffic DIR DURATION ADDR: UDP 2000/s and a TCP stream srv -> mobile, in the background.
# (ip netns exec in the background, not a function, so that $! is trafgen: SIGTERM reaches it.)
traffic() {
  local d=$1 dur=$2 a=$3
  ip netns exec "$P-mn" "$BIN/trafgen" udp-recv --bind "$a:5001" --duration $((dur + 4)) --grace 1 --json "$d/udp-recv.json" >/dev/null 2>"$d/udp-recv.err" &
  UR=$!
  ip netns exec "$P-mn" "$BIN/trafgen" tcp-server --bind "$a:5002" --duration $((dur + 15)) --stall-ms 500 --timeout 10 --json "$d/tcp-server.json" >/dev/null 2>"$d/tcp-server.err" &
  TS=$!
  sleep 0.5
  T0=${EPOCHREALTIME/./}
  # From port 5001 too: an ephemeral source port that some tshark dissector claims would have
  # the datagrams' payload decoded as that protocol and flagged malformed (clean_decode).
  ip netns exec "$P-srv" "$BIN/trafgen" udp-send --bind 10.86.2.10:5001 --to "$a:5001" --rate 2000 --duration "$dur" --json "$d/udp-send.json" >/dev/null 2>"$d/udp-send.err" &
  US=$!
  ip netns exec "$P-srv" "$BIN/trafgen" tcp-client --to "$a:5002" --rate 100000 --duration "$dur" --stall-ms 500 --timeout 5 --json "$d/tcp-client.json" >/dev/null 2>"$d/tcp-client.err" &
  TC=$!
}
traffic_wait() {
  wait $US 2>/dev/null; wait $TC 2>/dev/null
  sleep 1
  kill -TERM $UR $TS 2>/dev/null
  wait $UR 2>/dev/null; wait $TS 2>/dev/null
}
sleep_until() { # microseconds since the epoch
  local now=${EPOCHREALTIME/./}
  [ "$1" -gt "$now" ] && sleep "$(printf '%d.%06d' $((($1 - now) / 1000000)) $((($1 - now) % 1000000)))"
  return 0
}
# move_report DIR: UDP loss and, for each move, from the 100 ms buckets of trafgen's series
# from 0.3 s before to 2 s after it (2,000/s: 200 a bucket): the datagrams lost around it (what
# the buckets lack in all: datagrams delivered late, e.g. buffered by the LNS and sent on
# resume, count as delivered) and the gap (what the buckets short of 200 lack: the time
# without arrivals, the handoff's latency, in ms at 2 a ms).
move_report() {
  local d=$1 k t lost short
  echo "# UDP 2000/s: sent $(jq .sent "$d/udp-send.json"), received $(jq .received "$d/udp-recv.json"), lost $(jq .lost "$d/udp-recv.json"), longest gap $(jq .max_gap_ms "$d/udp-recv.json") ms"
  for k in "${!MOVE_AT[@]}"; do
    t=$(( (MOVE_AT[$k] - T0) / 100000 ))   # bucket of the move (100 ms), relative to the start
    lost=$(jq --argjson b "$t" '. as $r | [range([$b - 3, 0] | max; $b + 20) | 200 - ($r.series[.] // 0)] | add // 0' "$d/udp-recv.json")
    short=$(jq --argjson b "$t" '. as $r | [range([$b - 3, 0] | max; $b + 20) | ($r.series[.] // 0) | [200 - ., 0] | max] | add // 0' "$d/udp-recv.json")
    echo "#   move $k ($(printf %s "${MOVE_TO[$k]}")): ~$lost datagrams lost around it, arrivals stopped ~$((short / 2)) ms"
  done
}

# ======================= handoff run ========================================================
run_handoff() {
P=$PH
TOPO=$(variant handoff $P) || { t_fail "topology variant"; return; }
D=$T_TMP/handoff
if ! NL up "$TOPO" >"$T_TMP/up-ho.log" 2>&1; then
  t_fail "netlab up (handoff)" "$(tail -5 "$T_TMP/up-ho.log" | tr '\n' ' ')"
  return
fi
t_ok "netlab up: lnsd, lacd x2, mnd (l2tp), srv"
capture lns eth-core "udp port 1701" "$D/core.pcapng"
capture lac2 eth-lacs "udp port 17011" "$D/lacs.pcapng"

t_check "mnd: PPP up through lac1" t_poll 30 mn_on 10.86.1.1
A0=$(mnv address)
t_check "mnd: an address from lnsd's pool ($A0)" test "$(echo "$A0" | cut -d. -f1-3)" = 10.65.0
t_check "mnd: authenticated with CHAP" test "$(mnv auth)" = chap
t_check "lac1 found the LNS through RADIUS (FreeRADIUS)" test "$(st lac1 radius_accepts)" -ge 1
t_check "srv -> mobile (ping)" IN srv ping -c 2 -i 0.2 -W 2 "$A0"

# Ten moves announced by netlab (--notice 20: DETACH "moving" at once), then two without notice
# (each LAC finds the mobile silent after its dead interval of 1 s and hands the call off; mnd
# finds the LAC silent and attaches again silence_margin, 200 ms, later).
MOVES=12 NOTICED=10 DUR=37
traffic "$D" $DUR "$A0"
MOVE_AT=(); MOVE_TO=()
cur=1 addr_kept=1 reattach_ok=1
for ((k = 1; k <= MOVES; k++)); do
  sleep_until $((T0 + 1500000 + (k - 1) * 2800000))
  to=$((3 - cur))
  MOVE_AT[$k]=${EPOCHREALTIME/./}; MOVE_TO[$k]="lac$cur -> lac$to"
  if [ $k -le $NOTICED ]; then
    NL move mn --to cell$to --notice 20 >/dev/null || t_fail "move $k" "netlab move failed"
  else
    MOVE_TO[$k]+=", no notice"
    NL move mn --to cell$to >/dev/null || t_fail "move $k" "netlab move failed"
  fi
  cur=$to
  if ! t_poll 10 mn_on "${LAC_ADDR[$cur]}"; then
    reattach_ok=0; echo "# move $k: mnd not up on lac$cur within 10 s: $(ctl mn l2tp | jq -c '{link,lac,ppp,address}')"
  fi
  a=$(mnv address); [ "$a" = "$A0" ] || { addr_kept=0; echo "# move $k: address $a (was $A0)"; }
done
traffic_wait
t_check "mnd: re-attached and PPP up after each of the $MOVES moves" test $reattach_ok = 1
t_check "mnd: the address never changed ($A0)" test $addr_kept = 1
tcp_intact() {
  jq -e '.survived == true' "$D/tcp-client.json" >/dev/null &&
  jq -e '.survived == true and .bytes_verified > 1000000' "$D/tcp-server.json" >/dev/null ||
  { cat "$D"/tcp-*.json; return 1; }
}
t_check "TCP srv -> mobile survived $MOVES moves, every byte verified" tcp_intact
echo "# TCP: $(jq .bytes_verified "$D/tcp-server.json") bytes verified, longest stall $(jq .max_stall_ms "$D/tcp-client.json") ms"
move_report "$D"
t_check "lnsd: ppp_negotiations == 1" test "$(st lns ppp_negotiations)" = 1
t_check "mnd: ppp_negotiations == 1" test "$(mnv ppp_negotiations)" = 1
# At least one re-attachment and one resumed handoff per move.  More when the box is so loaded
# that netlab moves the radio later than the notice said: mnd's ATTACH then still reaches the
# LAC it left, which resumes the call, and the real move follows as a silent one.  Either way
# the call is resumed each time (PPP negotiated once, above).
RA=$(mnv reattaches) RS=$(st lns handoffs_resumed)
[ "$RA" -gt $MOVES ] && echo "# $RA re-attachments for $MOVES moves (radio moved late)"
t_check "mnd: $MOVES+ re-attachments ($RA), 1 attachment" test "$RA" -ge $MOVES -a "$(mnv attaches)" = 1
t_check "lnsd: handoffs_resumed >= $MOVES ($RS), one per re-attachment" test "$RS" -ge $MOVES -a "$RS" = "$RA"
echo "# lnsd: $(ctl lns stats | jq -c '{ppp_negotiations, handoffs_resumed, parked, park_buffered, park_resent, park_flushed, park_dropped, park_discarded}')"
for l in lac1 lac2; do echo "# $l: $(ctl $l stats | jq -c '{drop_unknown_session, handoffs_sent, handoffs_accepted, handoffs_refused, handoffs_retried, own_superseded, um_older, access_drop_frame_no_call, access_frames_queued, access_tx_errors, access_drop_late}')"; done
echo "# mnd: $(ctl mn l2tp | jq -c '{rx_ip, drop_ip, drop_not_attached, rx_lost, frames_bad}')"
for n in mn lac1 lac2 lns; do echo "# $n UDP: $(IN $n cat /proc/net/snmp | awk '/^Udp:/ {if (h) print; h = 1}')"; done

# ---- forged and replayed USER_MOVED ----
# The genuine USER_MOVED datagrams lac1 sent (its moves away: 5), as seen on lac2's side.
sleep 0.5
tshark -r "$D/lacs.pcapng" -Y "udp.dstport == 17011 && ip.src == 10.86.3.1" -T fields -e udp.payload 2>/dev/null | tr -d ':' | grep . >"$D/um.hex"
t_check "capture: lac1's USER_MOVED datagrams on the LAC group network" test -s "$D/um.hex"
UM=$(tail -1 "$D/um.hex")
# send_um HEX: one datagram from lac1's address on the LAC group network to the group.
send_um() {
  ip netns exec $P-lac1 python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("10.86.3.1"))
s.bind(("10.86.3.1", 0))
s.sendto(bytes.fromhex(sys.argv[1]), ("239.255.17.1", 17011))
EOF
}
# forge: flip one bit of the MIN (octet 64), which the HMAC covers.
FORGED=$(python3 -c 'import sys; b=bytearray.fromhex(sys.argv[1]); b[64]^=1; print(b.hex())' "$UM")
lac2_before=$(ctl lac2 stats)
lns_before=$(ctl lns stats | jq '.handoffs_resumed')
send_um "$FORGED"
send_um "$UM"
um_dropped() { # KEY: lac2's counter grew by one
  local n0 n1; n0=$(jq -r ".$1 // empty" <<<"$lac2_before"); n1=$(st lac2 "$1")
  [ -n "$n0" ] && [ "$n1" = $((n0 + 1)) ]
}
t_check "lacd: the forged USER_MOVED dropped and counted (um_bad_mac)" t_poll 5 um_dropped um_bad_mac
t_check "lacd: the replayed USER_MOVED dropped and counted (um_replayed)" t_poll 5 um_dropped um_replayed
sleep 0.5
t_check "no call moved: handoffs_resumed unchanged" test "$(st lns handoffs_resumed)" = "$lns_before"
t_check "no call moved: the mobile still on lac$cur with its address" mn_on "${LAC_ADDR[$cur]}"
t_check "srv -> mobile still works (ping)" IN srv ping -c 2 -i 0.2 -W 2 "$A0"

# ---- a handoff ICRQ for a MIN the LNS has not parked ----
# lac2 is told (a USER_MOVED with a valid HMAC under the group key: the last genuine one with a
# fresh timestamp, as a LAC would send it) that the mobile left lac1, while its call is in fact
# still up at the LNS through lac1.  lac1 is frozen (SIGSTOP: it sends no handoff CDN nor a
# USER_MOVED of its own) and the radio moves without notice: mnd finds lac1 silent, attaches to
# lac2, which re-challenges it and asks the LNS for a handoff of a MIN with nothing parked.
# The LNS refuses (Handoff Refused, reason 1 unknown MIN), the call goes on as a fresh one (PPP
# renegotiates: the standard fallback) and the live call at lac1 is not moved.
KEY=$(awk '$1 == 1 {print $2}' "$D/l2tp-handoff/lac-group.keys")
FRESH=$(python3 - "$UM" "$KEY" <<'EOF2'
import hashlib, hmac, struct, sys, time
b = bytearray.fromhex(sys.argv[1])
b[8:16] = struct.pack("!Q", int(time.time() * 1000))
b[-32:] = hmac.new(bytes.fromhex(sys.argv[2]), bytes(b[:-32]), hashlib.sha256).digest()
print(b.hex())
EOF2
)
l2_before=$(ctl lac2 stats); lns_before=$(ctl lns stats)
send_um "$FRESH"
um_taken() { [ "$(st lac2 um_accepted)" = $(($(jq .um_accepted <<<"$l2_before") + 1)) ]; }
t_check "lac2 takes the re-signed USER_MOVED (um_accepted)" t_poll 5 um_taken
LAC1_PID=$(ip netns pids $P-lac1 | head -1)
kill -STOP "$LAC1_PID"
t_cleanup "kill -CONT $LAC1_PID"
NL move mn --to cell2 >/dev/null
t_check "mnd: on lac2 after lac1's silence" t_poll 15 mn_on 10.86.1.2
refused() { # DAEMON: handoffs_refused_unknown_min grew by one
  local b; [ "$1" = lac2 ] && b=$l2_before || b=$lns_before
  [ "$(st "$1" handoffs_refused_unknown_min)" = $(($(jq .handoffs_refused_unknown_min <<<"$b") + 1)) ]
}
t_check "lnsd refused the handoff of an unknown MIN (handoffs_refused_unknown_min)" t_poll 5 refused lns
t_check "lac2 counted the refusal (handoffs_refused_unknown_min)" t_poll 5 refused lac2
t_check "no parked call moved: handoffs_resumed unchanged" test "$(st lns handoffs_resumed)" = "$(jq .handoffs_resumed <<<"$lns_before")"
renegotiated2() { [ "$(mnv ppp_negotiations)" = 2 ] && mn_on 10.86.1.2; }
t_check "the call went on as a fresh one: PPP renegotiated (mnd ppp_negotiations 2)" t_poll 15 renegotiated2
# lac1 stays frozen until then: woken earlier, it would find the mobile silent and hand its call
# off for real (CDN, USER_MOVED), and lac2, refused with the forged entry, would rightly ask
# again with lac1's newer USER_MOVED and resume it (l2tp-handoff.md 3.1).
kill -CONT "$LAC1_PID"

# ---- the capture ----
stop_captures
t_check "every datagram of the core capture decodes as L2TP" all_l2tp "$D/core.pcapng"
has() { [ -n "$(tshark -r "$1" -Y "$2" 2>/dev/null | head -1)" ]; }
t_check "capture: handoff vendor AVPs (CDN, ICRQ, ICRP)" has "$D/core.pcapng" "l2tp.avp.vendor_id == 32473"
t_check "tshark: no malformed packet, no expert error (core)" clean_decode "$D/core.pcapng"
[ -n "${KEEP_CAP:-}" ] && cp "$D/core.pcapng" "$KEEP_CAP"
t_check "netlab down (handoff)" NL down
}

# ======================= plain run (extension off) ==========================================
run_plain() {
P=$PP
TOPO=$(variant plain $P) || { t_fail "topology variant (plain)"; return; }
D=$T_TMP/plain
if ! NL up "$TOPO" >"$T_TMP/up-pl.log" 2>&1; then
  t_fail "netlab up (plain)" "$(tail -5 "$T_TMP/up-pl.log" | tr '\n' ' ')"
  return
fi
capture lns eth-core "udp port 1701" "$D/core.pcapng"
t_check "plain: mnd PPP up through lac1" t_poll 30 mn_on 10.86.1.1
A0=$(mnv address)
MOVES=2 DUR=14
traffic "$D" $DUR "$A0"
MOVE_AT=(); MOVE_TO=()
cur=1
for ((k = 1; k <= MOVES; k++)); do
  sleep_until $((T0 + 2000000 + (k - 1) * 5000000))
  to=$((3 - cur))
  MOVE_AT[$k]=${EPOCHREALTIME/./}; MOVE_TO[$k]="lac$cur -> lac$to"
  NL move mn --to cell$to --notice 20 >/dev/null || t_fail "plain: move $k" "netlab move failed"
  cur=$to
  t_poll 10 mn_on "${LAC_ADDR[$cur]}" || echo "# plain move $k: mnd not up on lac$cur within 10 s"
done
traffic_wait
renegotiated() { local n; n=$(st lns ppp_negotiations); [ "$n" -gt 1 ] || { echo "lnsd ppp_negotiations $n"; return 1; }; }
t_check "plain: lnsd renegotiated PPP (ppp_negotiations > 1)" renegotiated
t_check "plain: mnd renegotiated PPP ($(mnv ppp_negotiations) negotiations)" test "$(mnv ppp_negotiations)" -eq $((MOVES + 1))
echo "# plain: addresses $A0 -> $(mnv address); lnsd handoffs_resumed $(st lns handoffs_resumed)"
tcp_hurt() {
  jq -e '(.survived == false) or (.max_stall_ms > 2000)' "$D/tcp-client.json" >/dev/null || { cat "$D/tcp-client.json"; return 1; }
}
t_check "plain: the TCP stream broken or stalled (standard behaviour)" tcp_hurt
echo "# plain TCP: survived $(jq .survived "$D/tcp-client.json"), error $(jq -c .error "$D/tcp-client.json"), longest stall $(jq .max_stall_ms "$D/tcp-client.json") ms"
move_report "$D"
[ "$(mnv address)" = "$A0" ] || echo "#   (the address changed: the stream to $A0 ends at the first move that changed it)"
stop_captures
t_check "plain: tshark: no malformed packet, no expert error (core)" clean_decode "$D/core.pcapng"
t_check "plain: no handoff vendor AVP sent" bash -c "! tshark -r '$D/core.pcapng' -Y 'l2tp.avp.vendor_id == 32473' 2>/dev/null | grep -q ."
t_check "netlab down (plain)" NL down
}

# L2H_ONLY=handoff or plain runs one of the two (debugging).
[ "${L2H_ONLY:-}" = plain ] || run_handoff
[ "${L2H_ONLY:-}" = handoff ] || run_plain
t_done
