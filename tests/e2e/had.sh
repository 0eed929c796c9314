#!/usr/bin/env bash
# had end to end in a network namespace of its own, driven by mipc: register, refresh, move
# (synchronized: the deregistration reply reaches the old care-of address), deregister, lifetime
# cap, wrong key, replayed identification, unknown SPI, stale identification (133), someone
# else's home address, FA-HA from a configured foreign agent, garbage, agent advertisements and
# solicitation, restart with the bindings restored from the snapshot, SIGHUP with a bad config
# (keeps running) and a good one (bindings kept), SIGTERM.  Every check looks at the reply and at
# the daemon's stats / bindings through the control socket.  A tshark capture of the run (after
# the deliberate garbage) must decode every Mobile IP packet with no malformed packet and no
# expert error.  Namespace hae2e-<pid>; files in $T_TMP; everything is removed at exit.
. "$(dirname "$0")/lib.sh"

HAD=$BIN/had
MIPC=$BIN/mipc
CTL_BIN=$BIN/roamctl
t_need "$HAD" "$MIPC" "$CTL_BIN" jq tshark ip python3

NS=hae2e-$$
HA=10.77.0.1
COA1=10.77.0.5
COA2=10.77.0.6
FA=10.77.0.7
CFG=$T_TMP/had.yaml
SOCK=$T_TMP/had.sock
PIDF=$T_TMP/had.pid
SNAP=$T_TMP/had.snap
LOG=$T_TMP/had.log
CAP=$T_TMP/had.pcapng
K1=00112233445566778899aabbccddeeff
K2=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf
KF=0123456789abcdef0123456789abcdef
printf '%s\n' "$K2" >"$T_TMP/k2.hex"
chmod 600 "$T_TMP/k2.hex"
NSX() { ip netns exec "$NS" "$@"; }
CTL() { "$CTL_BIN" -s "$SOCK" "$@"; }

ip netns add "$NS" || { t_fail "namespace" "cannot create $NS"; t_done; }
t_cleanup ip netns del "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add hae0 type veth peer name hae1
ip -n "$NS" addr add $HA/24 dev hae0
for a in 10.77.0.2 $COA1 $COA2 $FA; do ip -n "$NS" addr add $a/24 dev hae1; done
ip -n "$NS" link set hae0 up
ip -n "$NS" link set hae1 up
# The home link, with a host on it in a second namespace (solicitations must come from a
# foreign source address: the kernel drops packets whose source is one of its own).
NSH=$NS-h
ip netns add "$NSH" || { t_fail "namespace" "cannot create $NSH"; t_done; }
t_cleanup ip netns del "$NSH"
ip -n "$NS" link add hah0 type veth peer name hah1 netns "$NSH"
ip -n "$NS" addr add 10.66.0.1/24 dev hah0
ip -n "$NSH" addr add 10.66.0.2/24 dev hah1
ip -n "$NS" link set hah0 up
ip -n "$NSH" link set hah1 up

write_conf() { # $1: max_lifetime, $2: synchronized (true|false)
  cat >"$CFG" <<EOC
address: $HA
listen: $HA
port: 434
control_socket: $SOCK
snapshot: $SNAP
snapshot_interval: 1s
max_lifetime: $1
replay_tolerance: 7s
synchronized: $2
advert:
  enabled: true
  interface: hah0
  interval: 300ms
  lifetime: 3s
log_level: info
mobiles:
  - name: m1
    spi: 1000
    key: $K1
    home: [10.88.0.10]
  - name: m2
    spi: 1001
    key: file:k2.hex
    algorithm: keyed-md5
    home: [10.88.0.11]
foreign_agents:
  - name: fa
    address: $FA
    spi: 2000
    key: $KF
EOC
}

t_cleanup t_stop had
TSHARK=
t_cleanup '[ -n "$TSHARK" ] && kill $TSHARK'

# mipc with SA 1 (or 2) against had: prints the reply JSON lines, returns mipc's exit code
m1() { NSX "$MIPC" -s $HA --spi 1000 -k $K1 -w 1000 "$@"; }
m2() { NSX "$MIPC" -s $HA --spi 1001 -K "$T_TMP/k2.hex" --alg keyed-md5 -w 1000 "$@"; }
stat() { CTL --json stats | jq -e ".$1"; }
bind_of() { CTL --json bindings | jq -c --arg h "$1" '.[] | select(.home == $h)'; }
expect() { jq -e "$1" <<<"$2" >/dev/null || { echo "expected $1 in: $2"; return 1; }; }
first() { head -n1 <<<"$1"; }

write_conf 600s true
t_check "had -t accepts the generated config" "$HAD" -t -c "$CFG"
t_check "had -t accepts etc/roam/had.yaml" "$HAD" -t -c etc/roam/had.yaml
check_t_bad() {
  printf 'address: 10.0.0.1\nmobiles:\n  - spi: 7\n    key: 00\n    home: [10.0.0.300]\n' >"$T_TMP/bad.yaml"
  t_conf_refused "$HAD" "$T_TMP/bad.yaml" "bad.yaml:3:[0-9]*: key 'mobiles\[0\].spi'" "mobiles\[0\].home\[0\]"
}
t_check "had -t rejects a bad file naming every error with file:line:col" check_t_bad

t_check "had starts in the namespace and answers on its control socket" t_start had "$NS" "$HAD"
[ -n "${T_PIDS[had]}" ] || t_done

# ---- garbage first, before the capture (it is malformed on purpose) ----
check_garbage() {
  local n; n=$(stat drop_malformed)
  NSX "$MIPC" -s $HA -w 300 --garbage 30; [ $? -eq 3 ] || return 1
  NSX "$MIPC" -s $HA -w 300 --garbage 7; [ $? -eq 3 ] || return 1
  [ "$(stat drop_malformed)" -ge $((n + 1)) ] && [ "$(stat rx_packets)" -ge 2 ] && kill -0 "${T_PIDS[had]}"
}
t_check "garbage: no reply, counted, daemon alive" check_garbage

t_tshark TSHARK "$NS" any "$CAP" "udp port 434 or icmp"

# ---- register, refresh, move, deregister ----
check_register() {
  t_reply '.reply.code == 0 and .reply.lifetime == 300 and .reply.mn_ha == "valid" and .reply.id_match == 1' m1 register 10.88.0.10 $COA1 300 &&
  expect '.care_of == "'$COA1'" and .spi == 1000 and .mode == "sync" and .remaining <= 300 and .remaining >= 290' "$(bind_of 10.88.0.10)" &&
  t_counts stat accepted=1 created=1
}
t_check "registration accepted, authenticated reply, binding created" check_register
check_refresh() {
  t_reply '.reply.code == 0 and .reply.lifetime == 200' m1 register 10.88.0.10 $COA1 200 &&
  expect '.care_of == "'$COA1'" and .remaining <= 200' "$(bind_of 10.88.0.10)" && t_counts stat refreshed=1
}
t_check "refresh" check_refresh
check_move() {
  local r; r=$(m1 --drr $COA1 register 10.88.0.10 $COA2 300) || { echo "$r"; return 1; }
  local rrp drr; rrp=$(grep '"via":"ha"' <<<"$r"); drr=$(grep '"via":"old_coa"' <<<"$r")
  expect '.reply.code == 0 and .reply.lifetime == 300 and .reply.id_match == 1' "$rrp" &&
  expect '.reply.code == 0 and .reply.lifetime == 0 and .reply.id_match == 2 and .reply.mn_ha == "valid"' "$drr" &&
  expect '.care_of == "'$COA2'" and .moves == 1 and (has("old_path") | not)' "$(bind_of 10.88.0.10)" &&
  t_counts stat drr_sent=1 moved=1
}
t_check "move: reply to the new care-of, deregistration reply (own id) to the old one" check_move
check_cap() {
  t_reply '.reply.code == 0 and .reply.lifetime == 600 and .reply.mn_ha == "valid"' m2 register 10.88.0.11 $COA1 65535 &&
  t_counts stat lifetimes_capped=1
}
t_check "lifetime capped to max_lifetime (keyed-md5 SA, key from a file)" check_cap
check_dereg() {
  local r; r=$(m2 deregister 10.88.0.11) || return 1
  expect '.reply.code == 0 and .reply.lifetime == 0' "$r" && [ -z "$(bind_of 10.88.0.11)" ] &&
  m2 register 10.88.0.11 $COA1 100 >/dev/null && r=$(m2 register 10.88.0.11 $COA1 0) &&
  expect '.reply.lifetime == 0' "$r" && [ -z "$(bind_of 10.88.0.11)" ] && [ "$(stat deregistered)" -eq 2 ]
}
t_check "deregistration: care-of = home, and lifetime 0" check_dereg

# ---- bad input: denied or dropped, counted, binding untouched ----
before=
snap_state() { before=$(CTL --json bindings | jq -c 'map(del(.remaining))'); }
same_state() { [ "$(CTL --json bindings | jq -c 'map(del(.remaining))')" = "$before" ] || { echo "bindings changed"; return 1; }; }
check_wrong_key() {
  snap_state; local r rc; r=$(m1 --wrong-key register 10.88.0.10 $COA1 300); rc=$?
  [ $rc -eq 4 ] && expect '.reply.code == 131' "$r" && [ "$(stat denied_131)" -eq 1 ] &&
  [ "$(stat mn_auth_failed)" -eq 1 ] && same_state
}
t_check "wrong key: denied 131, counted, binding untouched" check_wrong_key
check_replay() {
  local r; r=$(m1 --replay -w 700 register 10.88.0.10 $COA2 300) || { echo "$r"; return 1; }
  expect '.reply.code == 0' "$(first "$r")" && expect '.reply == null' "$(sed -n 2p <<<"$r")" &&
  [ "$(stat drop_replay)" -eq 1 ] && snap_state &&
  r=$(m1 --replay -w 700 register 10.88.0.10 $COA1 300) && [ "$(stat drop_replay)" -eq 2 ] &&
  expect '.care_of == "'$COA1'"' "$(bind_of 10.88.0.10)"
}
t_check "replayed identification: dropped without reply, counted, binding unchanged by it" check_replay
check_unknown_spi() {
  snap_state; local r rc; r=$(m1 --unknown-spi register 10.88.0.10 $COA2 300); rc=$?
  [ $rc -eq 4 ] && expect '.reply.code == 131 and .reply.mn_ha == "absent"' "$r" &&
  [ "$(stat unknown_spi)" -eq 1 ] && same_state
}
t_check "unknown SPI: denied 131 (unauthenticated), counted" check_unknown_spi
check_stale() {
  snap_state; local r rc; r=$(m1 --stale 60 register 10.88.0.10 $COA2 300); rc=$?
  [ $rc -eq 4 ] && expect '.reply.code == 133 and .reply.id_match == 1 and .reply.mn_ha == "valid"' "$r" &&
  [ "$(stat denied_133)" -eq 1 ] && same_state
}
t_check "stale identification: 133 with the resynchronising id, binding untouched" check_stale
check_foreign_home() {
  snap_state; local r rc; r=$(m1 register 10.88.0.11 $COA2 300); rc=$?
  [ $rc -eq 4 ] && expect '.reply.code == 129' "$r" && [ "$(stat foreign_home)" -eq 1 ] &&
  [ -z "$(bind_of 10.88.0.11)" ] && same_state
}
t_check "someone else's home address: denied 129, counted" check_foreign_home
check_unknown_ha() {
  local r rc; r=$(m1 --ha 10.77.0.99 register 10.88.0.10 $COA2 300); rc=$?
  [ $rc -eq 4 ] && expect '.reply.code == 136 and .reply.ha == "'$HA'"' "$r"
}
t_check "unknown home agent address: 136 naming the right one" check_unknown_ha
check_fa() {
  local r rc; r=$(m1 --local $FA register 10.88.0.10 $FA 300); rc=$?
  [ $rc -eq 4 ] && expect '.reply.code == 132' "$r" && [ "$(stat fa_auth_failed)" -eq 1 ] || return 1
  r=$(m1 --local $FA --fa-spi 2000 --fa-key $KF register 10.88.0.10 $FA 300) || { echo "$r"; return 1; }
  expect '.reply.code == 0 and .reply.fa_ha == "valid" and .reply.mn_ha == "valid"' "$r" &&
  expect '.care_of == "'$FA'"' "$(bind_of 10.88.0.10)"
}
t_check "configured FA: FA-HA missing -> 132, valid -> accepted with FA-HA in the reply" check_fa

# ---- agent advertisements ----
solicit() {
  ip netns exec "$NSH" python3 - <<'EOP'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"hah1")
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
pkt = bytes([10, 0, 0xf5, 0xff, 0, 0, 0, 0])  # type 10, code 0, checksum, reserved
s.sendto(pkt, ("224.0.0.2", 0))
EOP
}
check_adv() {
  t_poll 5 test "$(stat adv_sent)" -ge 3 || return 1
  solicit && t_poll 5 test "$(stat adv_solicited)" -ge 1
}
t_check "agent advertisements sent periodically and on solicitation" check_adv

# ---- restart: bindings restored from the snapshot ----
check_restart() {
  local b1; b1=$(bind_of 10.88.0.10)
  [ -n "$b1" ] || { echo "no binding before restart"; return 1; }
  t_stop had
  [ -s "$SNAP" ] || { echo "no snapshot"; return 1; }
  t_start had "$NS" "$HAD" || return 1
  local b2; b2=$(bind_of 10.88.0.10)
  expect '.care_of == "'$FA'" and .spi == 1000 and .remaining > 280 and .remaining <= 300' "$b2" &&
  [ "$(stat snapshot_loaded)" -eq 1 ] &&
  m1 --local $FA --fa-spi 2000 --fa-key $KF register 10.88.0.10 $FA 300 | jq -e '.reply.code == 0' >/dev/null &&
  [ "$(stat refreshed)" -eq 1 ]
}
t_check "restart: the binding comes back with its remaining lifetime and is refreshed" check_restart

# ---- SIGHUP ----
check_hup_bad() {
  cp "$CFG" "$T_TMP/good.yaml"
  printf 'address: 10.77.0.1\nmax_lifetime: banana\nmobiles: []\n' >"$CFG"
  kill -HUP "${T_PIDS[had]}"; sleep 0.5
  kill -0 "${T_PIDS[had]}" && CTL --json status | jq -e '.state == "running"' >/dev/null &&
  grep -q "max_lifetime" "$LOG" && [ -n "$(bind_of 10.88.0.10)" ] &&
  m1 register 10.88.0.10 $COA1 300 | jq -e '.reply.code == 0 and .reply.lifetime == 300' >/dev/null
}
t_check "SIGHUP with a bad config: keeps running with the old one" check_hup_bad
check_hup_good() {
  local n; n=$(stat drr_sent)
  write_conf 50s false
  kill -HUP "${T_PIDS[had]}"; sleep 0.5
  CTL --json status | jq -e '.synchronized == false and .max_lifetime_s == 50' >/dev/null &&
  [ -n "$(bind_of 10.88.0.10)" ] &&
  m1 register 10.88.0.10 $COA2 300 | jq -e '.reply.lifetime == 50' >/dev/null &&
  expect '.mode == "plain" and .care_of == "'$COA2'"' "$(bind_of 10.88.0.10)" &&
  [ "$(stat drr_sent)" -eq "$n" ] && [ "$(stat moved)" -ge 2 ]
}
t_check "SIGHUP with a good config: applied (plain mode, new cap), bindings kept" check_hup_good

check_delete() {
  m2 register 10.88.0.11 $COA1 100 | jq -e '.reply.code == 0' >/dev/null && [ -n "$(bind_of 10.88.0.11)" ] &&
  CTL delete home=10.88.0.11 >/dev/null && [ -z "$(bind_of 10.88.0.11)" ] &&
  [ "$(stat bindings_deleted)" -eq 1 ] && ! CTL delete home=10.88.0.11 >/dev/null 2>&1 &&
  [ -n "$(bind_of 10.88.0.10)" ]
}
t_check "delete home=...: removes one binding, unknown home refused" check_delete

check_term() {
  local p=${T_PIDS[had]}; t_stop had; ! kill -0 "$p" 2>/dev/null && [ ! -e "$SOCK" ] && [ ! -e "$PIDF" ] &&
  grep -q "shutting down" "$LOG"
}
t_check "SIGTERM: clean exit, socket and pidfile removed" check_term

# ---- the capture ----
sleep 0.5
kill -INT "$TSHARK" 2>/dev/null; wait "$TSHARK" 2>/dev/null; TSHARK=
check_capture() {
  local n bad adv
  n=$(tshark -r "$CAP" -Y mip 2>/dev/null | wc -l)
  adv=$(tshark -r "$CAP" -Y 'icmp.type == 9 && icmp.mip.flags' 2>/dev/null | wc -l)
  bad=$(tshark -r "$CAP" -Y '(mip || icmp) && (_ws.malformed || _ws.expert.severity >= 8388608)' 2>/dev/null | wc -l)
  echo "mip=$n adv=$adv bad=$bad"
  [ "$n" -ge 20 ] && [ "$adv" -ge 3 ] && [ "$bad" -eq 0 ]
}
t_check "tshark decodes every Mobile IP packet and advertisement: no malformed, no expert error" check_capture
[ "$T_FAIL" -eq 0 ] || { echo "--- had log:"; tail -n 30 "$LOG"; }
t_done
