#!/usr/bin/env bash
# fad end to end: had and two fad instances in namespaces of their own, a dual-radio mobile
# simulated with mipc registering through the foreign agents: agent advertisements on the cells,
# registration via fad1 (binding at had with fad1's care-of address, registered visitor at fad1
# with MN-FA on both legs), refresh, a move to fad2 with synchronized: true (had sends the
# deregistration reply to fad1, which relays it to the mobile on the old cell and drops the
# visitor), deregistration via fad2, restart of fad2 with the visitor list restored from its
# snapshot, the Fast Binding Update via the new FA (fad2 relays it, fad1 forwards and answers the
# FBAck through fad2), forged FA-HA (had denies 132, fad drops the unauthenticated denial and
# answers 78 on timeout), fad's own denials (69, 67), SIGHUP with a bad and a good config,
# SIGTERM.  Counters are checked at both FAs and at had through their control sockets.  A tshark
# capture on both cells and both backbone links must decode every Mobile IP packet with no
# malformed packet and no expert error, decoded with tests/dissectors/mip4-roam.lua (which also
# decodes the FBU / FBAck types 20 / 21 Wireshark does not name, and checks roam's extension
# rules on every type).
#
# Topology (namespaces fae<pid>-{h,f1,f2,m}):
#   m (mobile, home address 10.70.0.10 on both radios)
#     m1 --- fc1 [f1: fad1, care-of 10.81.1.2] fb1 --- hb1 [h: had 10.81.0.1, router]
#     m2 --- fc2 [f2: fad2, care-of 10.81.2.2] fb2 --- hb2
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/mip4.sh"

HAD=$BIN/had
FAD=$BIN/fad
MIPC=$BIN/mipc
CTL_BIN=$BIN/roamctl
t_need "$HAD" "$FAD" "$MIPC" "$CTL_BIN" jq tshark ip

P=fae$$
NH=$P-h NF1=$P-f1 NF2=$P-f2 NM=$P-m
HA=10.81.0.1
COA1=10.81.1.2
COA2=10.81.2.2
HOME=10.70.0.10
KMNHA=00112233445566778899aabbccddeeff
KFA1=0123456789abcdef0123456789abcdef
KFA2=fedcba9876543210fedcba9876543210
KMNFA=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf

for n in $NH $NF1 $NF2 $NM; do
  ip netns add $n || { t_fail "namespace" "cannot create $n"; t_done; }
  t_cleanup ip netns del $n
  ip -n $n link set lo up
  ip netns exec $n sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
ip netns exec $NH sysctl -qw net.ipv4.ip_forward=1
ip -n $NH link add hb1 type veth peer name fb1 netns $NF1
ip -n $NH link add hb2 type veth peer name fb2 netns $NF2
ip -n $NF1 link add fc1 type veth peer name m1 netns $NM
ip -n $NF2 link add fc2 type veth peer name m2 netns $NM
ip -n $NH addr add $HA/32 dev lo
ip -n $NH addr add 10.81.1.1/24 dev hb1
ip -n $NH addr add 10.81.2.1/24 dev hb2
ip -n $NF1 addr add $COA1/24 dev fb1
ip -n $NF2 addr add $COA2/24 dev fb2
ip -n $NM addr add $HOME/32 dev m1
ip -n $NM addr add $HOME/32 dev m2
for l in "$NH hb1" "$NH hb2" "$NF1 fb1" "$NF1 fc1" "$NF2 fb2" "$NF2 fc2" "$NM m1" "$NM m2"; do
  set -- $l; ip -n $1 link set $2 up
  ip netns exec $1 sysctl -qw net.ipv4.conf.$2.rp_filter=0
done
ip -n $NF1 route add default via 10.81.1.1
ip -n $NF2 route add default via 10.81.2.1
# The mobile reaches each FA's care-of address on the radio of that cell.
ip -n $NM route add $COA1/32 dev m1
ip -n $NM route add $COA2/32 dev m2

CTL() { "$CTL_BIN" -s "$T_TMP/$1.sock" --json "${@:2}"; }
stat() { CTL "$1" stats | jq -e ".$2"; }
expect() { jq -e "$1" <<<"$2" >/dev/null || { echo "expected $1 in: $2"; return 1; }; }
visitor() { CTL "$1" visitors | jq -c --arg h "$HOME" '.[] | select(.home == $h)'; }
binding() { CTL had bindings | jq -c --arg h "$HOME" '.[] | select(.home == $h)'; }

write_had() { # $1 synchronized, $2 key of fa1 at had
  { cat <<EOC
address: $HA
listen: $HA
control_socket: $T_TMP/had.sock
snapshot: ""
max_lifetime: 600s
synchronized: $1
EOC
    mip4_had_sas "${2:-}"; } >"$T_TMP/had.yaml"
}
write_fad() { # $1 n (1|2), $2 FA-HA key, $3 relay_timeout
  local n=$1 coa; coa=$([ "$n" = 1 ] && echo $COA1 || echo $COA2)
  { cat <<EOC
# fad$n of tests/e2e/fad.sh
control_socket: $T_TMP/fad$n.sock
snapshot: $T_TMP/fad$n.snap
max_lifetime: 300s
relay_timeout: ${3:-2s}
fbu_max_lifetime: 10s
advert:
  interval: 300ms
cells:
  - interface: fc$n
    care_of: $coa
EOC
    mip4_fad_sas $n "$HA" "$2"; } >"$T_TMP/fad$n.yaml"
}

# t_start NAME NS BINARY: $T_TMP/NAME.yaml; stop NAME: whatever its exit status
stop() { t_stop "$1" || true; }
t_cleanup stop had
t_cleanup stop fad1
t_cleanup stop fad2
TS1= TS2=
t_cleanup '[ -n "$TS1" ] && kill $TS1'
t_cleanup '[ -n "$TS2" ] && kill $TS2'

write_had true
write_fad 1 $KFA1
write_fad 2 $KFA2
t_check "fad -t accepts the generated config" "$FAD" -t -c "$T_TMP/fad1.yaml"
t_check "fad -t accepts etc/roam/fad.yaml" "$FAD" -t -c etc/roam/fad.yaml
check_t_bad() {
  printf 'cells:\n  - interface: eth0\n    care_of: 10.0.0.300\nmax_visitors: 0\n' >"$T_TMP/bad.yaml"
  t_conf_refused "$FAD" "$T_TMP/bad.yaml" "cells\[0\].care_of" "max_visitors"
}
t_check "fad -t rejects a bad config with every error located" check_t_bad

CAP1=$T_TMP/m.pcapng CAP2=$T_TMP/h.pcapng
ip netns exec $NM tshark -q -i m1 -i m2 -w "$CAP1" -f "udp port 434 or icmp" >"$T_TMP/ts1.log" 2>&1 &
TS1=$!
ip netns exec $NH tshark -q -i hb1 -i hb2 -w "$CAP2" -f "udp port 434" >"$T_TMP/ts2.log" 2>&1 &
TS2=$!
t_capturing "$T_TMP/ts1.log" && t_capturing "$T_TMP/ts2.log" || t_fail "tshark capture" "$(cat "$T_TMP"/ts?.log)"

t_check "had starts" t_start had $NH "$HAD"
t_check "fad1 starts" t_start fad1 $NF1 "$FAD"
t_check "fad2 starts" t_start fad2 $NF2 "$FAD"

# mipc as the mobile, through the FA of cell $1 (extra arguments follow)
mob() {
  local coa; coa=$([ "$1" = 1 ] && echo $COA1 || echo $COA2); shift
  ip netns exec $NM "$MIPC" -s $coa --ha $HA --spi 1000 -k $KMNHA --mn-fa-spi 4000 \
    --mn-fa-key $KMNFA --local $HOME -w 3000 "$@"
}

check_adv() {
  local s; s=$(CTL fad1 status) || return 1
  expect '.cells[0].interface == "fc1" and .cells[0].advertising == true and .cells[0].care_of == "'$COA1'"' "$s" &&
  t_poll 5 sh -c "[ \$($CTL_BIN -s $T_TMP/fad1.sock --json stats | jq .adv_sent) -ge 2 ]"
}
t_check "advertisements on the cells" check_adv

# ---- register via fad1 ----
check_register() {
  local r; r=$(mob 1 --lport 434 register $HOME $COA1 120) || { echo "$r"; return 1; }
  expect '.reply.code == 0 and .reply.lifetime == 120 and .reply.mn_ha == "valid" and .reply.mn_fa == "valid" and .reply.fa_ha == "absent" and .reply.id_match == 1' "$r" &&
  expect '.care_of == "'$COA1'"' "$(binding)" &&
  expect '.state == "registered" and .home_agent == "'$HA'" and .interface == "fc1" and .care_of == "'$COA1'" and .remaining <= 120 and .remaining >= 110' "$(visitor fad1)" &&
  [ "$(stat fad1 relayed_requests)" -eq 1 ] && [ "$(stat fad1 registered)" -eq 1 ] &&
  [ "$(stat had fa_auth_failed)" -eq 0 ] && [ "$(stat had accepted)" -eq 1 ]
}
t_check "registration via fad1: binding at had with fad1's care-of, visitor at fad1" check_register

check_refresh() {
  local r; r=$(mob 1 --lport 434 register $HOME $COA1 100) || { echo "$r"; return 1; }
  expect '.reply.code == 0 and .reply.lifetime == 100' "$r" &&
  expect '.state == "registered" and .lifetime == 100' "$(visitor fad1)" &&
  [ "$(stat fad1 refreshed)" -eq 1 ] && [ "$(stat had refreshed)" -eq 1 ]
}
t_check "refresh via fad1" check_refresh

check_denials() {
  local r
  r=$(mob 1 register $HOME $COA1 301); [ $? -eq 4 ] || { echo "$r"; return 1; }
  expect '.reply.code == 69 and .reply.mn_fa == "valid"' "$r" || return 1
  r=$(ip netns exec $NM "$MIPC" -s $COA1 --ha $HA --spi 1000 -k $KMNHA --mn-fa-spi 4000 \
    --mn-fa-key $KFA1 --local $HOME -w 3000 register $HOME $COA1 60); [ $? -eq 4 ] || { echo "$r"; return 1; }
  expect '.reply.code == 67' "$r" &&
  [ "$(stat fad1 denied_69)" -eq 1 ] && [ "$(stat fad1 denied_67)" -eq 1 ] &&
  [ "$(stat had accepted)" -eq 2 ] && expect '.state == "registered"' "$(visitor fad1)"
}
t_check "fad's own denials: 69 lifetime too long, 67 MN-FA wrong; nothing relayed" check_denials

# ---- synchronized move to fad2: fad1 relays had's deregistration reply on the old cell ----
check_move() {
  local r; r=$(mob 2 --drr $HOME register $HOME $COA2 100) || { echo "$r"; return 1; }
  local new old
  new=$(grep '"via":"ha"' <<<"$r"); old=$(grep '"via":"old_coa"' <<<"$r")
  expect '.reply.code == 0 and .reply.lifetime == 100 and .reply.id_match == 1 and .reply.mn_fa == "valid"' "$new" &&
  expect '.reply.code == 0 and .reply.lifetime == 0 and .reply.id_match == 2 and .reply.mn_ha == "valid" and .reply.mn_fa == "valid"' "$old" &&
  expect '.care_of == "'$COA2'"' "$(binding)" &&
  expect '.state == "registered" and .interface == "fc2"' "$(visitor fad2)" &&
  [ -z "$(visitor fad1)" ] &&
  [ "$(stat fad1 drr_received)" -eq 1 ] && [ "$(stat fad1 drr_relayed)" -eq 1 ] &&
  [ "$(stat fad2 registered)" -eq 1 ] && [ "$(stat had moved)" -eq 1 ] &&
  [ "$(stat had drr_sent)" -eq 1 ]
}
t_check "move to fad2 (synchronized): reply via fad2, deregistration reply via fad1, fad1's visitor gone" check_move

# ---- fad2 restarts: the visitor list comes back from its snapshot ----
check_restart() {
  stop fad2 && grep -q "shutting down: 1 visitors" "$T_TMP/fad2.log" &&
  [ ! -e "$T_TMP/fad2.sock" ] && [ ! -e "$T_TMP/fad2.pid" ] &&
  t_start fad2 $NF2 "$FAD" &&
  expect '.state == "registered" and .interface == "fc2" and .remaining <= 100 and .remaining >= 80' "$(visitor fad2)" &&
  [ "$(stat fad2 snapshot_loaded)" -eq 1 ]
}
t_check "SIGTERM then restart of fad2: visitor restored from the snapshot" check_restart

check_dereg() {
  local r; r=$(mob 2 deregister $HOME) || { echo "$r"; return 1; }
  expect '.reply.code == 0 and .reply.lifetime == 0' "$r" &&
  [ -z "$(visitor fad2)" ] && [ -z "$(binding)" ] &&
  [ "$(stat fad2 deregistered)" -eq 1 ] && [ "$(stat fad2 relayed_deregistrations)" -eq 1 ] &&
  [ "$(stat had deregistered)" -eq 1 ]
}
t_check "deregistration via fad2: binding and visitor removed" check_dereg

# ---- Fast Binding Update (had in plain mode, so that fad1 keeps its visitor after the move) ----
check_fbu() {
  write_had false
  kill -HUP "${T_PIDS[had]}"
  t_poll 5 sh -c "$CTL_BIN -s $T_TMP/had.sock --json status | jq -e '.synchronized == false'" || return 1
  mob 1 register $HOME $COA1 100 >/dev/null || return 1
  mob 2 register $HOME $COA2 100 >/dev/null || return 1
  expect '.state == "registered"' "$(visitor fad1)" || return 1
  local r; r=$(mob 2 fbu $HOME $COA1 $COA2 5) || { echo "$r"; return 1; }
  expect '.reply.type == 21 and .reply.code == 0 and .reply.lifetime == 5 and .reply.mn_fa == "valid" and .reply.ha == "'$COA1'"' "$r" &&
  expect '.state == "forwarding" and .forwarding_to == "'$COA2'"' "$(visitor fad1)" &&
  [ "$(CTL fad1 forwarding | jq length)" -eq 1 ] &&
  [ "$(stat fad2 fbu_relayed)" -eq 1 ] && [ "$(stat fad1 fbu_accepted)" -eq 1 ] &&
  [ "$(stat fad2 fback_relayed)" -eq 1 ] &&
  t_poll 10 sh -c "[ -z \"\$($CTL_BIN -s $T_TMP/fad1.sock --json visitors | jq -c '.[]')\" ]" &&
  [ "$(stat fad1 forwarding_expired)" -eq 1 ]
}
t_check "FBU via fad2: fad1 forwards (expiring entry), FBAck relayed by fad2" check_fbu

check_fbu_forged() {
  local r; r=$(ip netns exec $NM "$MIPC" -s $COA2 --spi 1000 -k $KMNHA --mn-fa-spi 4000 \
    --mn-fa-key $KMNFA --wrong-key --local $HOME -w 1000 fbu $HOME $COA1 $COA2 5)
  # the 67 goes back to the sender of the FBU: fad2, which has no use for it
  [ "$(stat fad1 denied_67)" -ge 1 ] && [ "$(stat fad1 fbu_refused)" -ge 1 ] &&
  [ "$(stat fad1 fbu_accepted)" -eq 1 ]
}
t_check "forged FBU: refused 67 at fad1, nothing forwarded" check_fbu_forged

# An FBU from a stranger: a home address fad1 has no security association with.  Dropped
# without an answer (a refusal would tell a scanner who is served), counted, nothing changes.
check_fbu_stranger() {
  local s0 a0 v0 r
  s0=$(stat fad1 fbu_stranger); a0=$(stat fad1 fbu_accepted); v0=$(CTL fad1 visitors | jq -c .)
  r=$(ip netns exec $NM "$MIPC" -s $COA1 --spi 1000 -k $KMNHA --mn-fa-spi 4000 \
    --mn-fa-key $KMNFA -w 700 fbu 10.70.0.99 $COA1 $COA2 5)
  expect '.reply == null' "$r" &&
  [ "$(stat fad1 fbu_stranger)" -eq $((s0 + 1)) ] && [ "$(stat fad1 fbu_accepted)" -eq "$a0" ] &&
  [ "$(CTL fad1 visitors | jq -c .)" = "$v0" ]
}
t_check "FBU from a stranger (no SA for its home address): dropped, counted, no answer, visitors untouched" check_fbu_stranger

# ---- forged FA-HA: fad1 signs with a key had does not have ----
check_forged() {
  write_had true "00000000000000000000000000000000"
  kill -HUP "${T_PIDS[had]}"
  t_poll 5 sh -c "$CTL_BIN -s $T_TMP/had.sock --json status | jq -e '.synchronized == true'" || return 1
  local d0; d0=$(stat fad1 drop_ha_auth)
  local r; r=$(mob 1 -w 4000 register $HOME $COA1 60); [ $? -eq 4 ] || { echo "$r"; return 1; }
  expect '.reply.code == 78' "$r" &&
  [ "$(stat had denied_132)" -eq 1 ] && [ "$(stat fad1 drop_ha_auth)" -eq $((d0 + 1)) ] &&
  [ "$(stat fad1 pending_timeouts)" -eq 1 ] &&
  expect '.care_of == "'$COA2'"' "$(binding)"
}
t_check "forged FA-HA: had denies 132, fad1 drops the unauthenticated reply and answers 78" check_forged

check_hup() {
  local n; n=$(stat fad1 visitors_deleted)
  echo "cells: [" >"$T_TMP/fad1.yaml.bad"
  cp "$T_TMP/fad1.yaml" "$T_TMP/fad1.yaml.good"
  cp "$T_TMP/fad1.yaml.bad" "$T_TMP/fad1.yaml"
  kill -HUP "${T_PIDS[fad1]}"; sleep 0.5
  kill -0 "${T_PIDS[fad1]}" && CTL fad1 status >/dev/null || return 1
  cp "$T_TMP/fad1.yaml.good" "$T_TMP/fad1.yaml"
  sed -i 's/^max_lifetime: 300s/max_lifetime: 200s/' "$T_TMP/fad1.yaml"
  kill -HUP "${T_PIDS[fad1]}"
  t_poll 5 sh -c "$CTL_BIN -s $T_TMP/fad1.sock --json status | jq -e '.max_lifetime_s == 200'" &&
  grep -q "reloaded" "$T_TMP/fad1.log" && [ "$(stat fad1 visitors_deleted)" -eq "$n" ]
}
t_check "SIGHUP: a broken file keeps the running config, a good one applies" check_hup

check_delete() {
  write_had true
  kill -HUP "${T_PIDS[had]}"; sleep 0.3
  mob 1 register $HOME $COA1 60 >/dev/null || return 1
  CTL fad1 delete home=$HOME >/dev/null && [ -z "$(visitor fad1)" ] &&
  [ "$(stat fad1 visitors_deleted)" -eq 1 ] &&
  ! CTL fad1 delete home=$HOME >/dev/null 2>&1
}
t_check "delete home=...: visitor removed; unknown visitor is an error" check_delete

check_term() {
  local p=${T_PIDS[fad1]}; stop fad1
  ! kill -0 "$p" 2>/dev/null && [ ! -e "$T_TMP/fad1.sock" ] && [ ! -e "$T_TMP/fad1.pid" ] &&
  grep -q "shutting down" "$T_TMP/fad1.log"
}
t_check "SIGTERM: clean exit, socket and pidfile removed" check_term

# ---- the capture ----
sleep 0.5
kill -INT "$TS1" "$TS2" 2>/dev/null; wait "$TS1" "$TS2" 2>/dev/null; TS1= TS2=
check_capture() {
  local n fb adv bad c lua=$PWD/tests/dissectors/mip4-roam.lua
  dec() { tshark -r "$1" -X lua_script:"$lua" -Y "$2" 2>/dev/null | wc -l; }
  n=$(( $(dec "$CAP1" 'mip || mip4roam') + $(dec "$CAP2" 'mip || mip4roam') ))
  fb=$(dec "$CAP1" 'mip4roam.type == 20 || mip4roam.type == 21')
  adv=$(dec "$CAP1" 'icmp.type == 9 && icmp.mip.flags')
  bad=0
  for c in "$CAP1" "$CAP2"; do
    bad=$((bad + $(dec "$c" '(mip || mip4roam || icmp) && (_ws.malformed || _ws.expert.severity >= 8388608)')))
  done
  echo "mip=$n fbu/fback=$fb adv=$adv bad=$bad"
  [ "$n" -ge 20 ] && [ "$fb" -ge 2 ] && [ "$adv" -ge 3 ] && [ "$bad" -eq 0 ]
}
t_check "tshark decodes every Mobile IP packet and advertisement: no malformed, no expert error" check_capture
stop fad2; stop had
check_san() { ! grep -E "ERROR: (Address|Leak)Sanitizer|runtime error" "$T_TMP"/had.log "$T_TMP"/fad1.log "$T_TMP"/fad2.log; }
t_check "no sanitizer report in the daemons' logs" check_san
[ "$T_FAIL" -eq 0 ] || for d in had fad1 fad2; do echo "--- $d log:"; tail -n 25 "$T_TMP/$d.log"; done
t_done
