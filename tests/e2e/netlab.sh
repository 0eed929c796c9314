#!/usr/bin/env bash
# netlab end to end: up of etc/topologies/netlab-test.yml (two hosts and a router, one emulated
# link, two radio cells), reachability, ps, move with --notice, attach/detach, down leaving
# nothing behind, and down after netlab was killed -9 in the middle of up.
source "$(dirname "$0")/lib.sh"
TOPO=etc/topologies/netlab-test.yml
P="nlt$$"                                   # unique project: namespaces are $P-*
export NETLAB_RUNDIR="$T_TMP/runs"          # our runs only (down --all touches nothing else)
NL() { "$BIN/netlab" --bin "$BIN" -p "$P" "$@"; }
RUN="$NETLAB_RUNDIR/$P"

leftovers() {  # prints what is left of run $P: namespaces, processes, state
  ip netns list | awk '{print $1}' | grep "^$P-" | sed 's/^/netns /'
  for pid in $PIDS; do [ -d /proc/$pid ] && [ "$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)" != Z ] && echo "pid $pid"; done
  [ -e "$RUN/state" ] && echo "state $RUN/state"
  true
}
nothing_left() { [ -z "$(leftovers)" ]; }
state_pids() { awk '$1 == "proc" || $1 == "linkem" {print $3}' "$RUN/state" 2>/dev/null; }
ping1() { NL exec "$1" ping -c1 -W1 "$2"; }
reach() { t_poll 10 ping1 "$1" "$2"; }
no_reach() { ! ping1 "$1" "$2" && ! ping1 "$1" "$2"; }

PIDS=""
t_cleanup '"$BIN/netlab" down --all'
t_cleanup 'for n in $(ip netns list | awk "{print \$1}" | grep "^$P-"); do ip netns delete $n; done'

# --- files ---
t_check "netlab check accepts the test topology" "$BIN/netlab" check "$TOPO"
for f in etc/topologies/*.yml; do
  t_check "docker-compose accepts $f" docker-compose -f "$f" config -q
  t_check "netlab accepts $f" "$BIN/netlab" check "$f"
done
cat >"$T_TMP/bad.yml" <<'YML'
version: "3.8"
services:
  a:
    networks:
      n1:
        ipv4_address: 10.1.2.3
networks:
  n1:
    ipam:
      config:
        - subnet: 10.9.0.0/24
    x-roam:
      delay: fast
YML
"$BIN/netlab" check "$T_TMP/bad.yml" >"$T_TMP/bad.out" 2>&1
t_check "check refuses a bad file" test $? -ne 0
t_check "errors name file:line:col" grep -q "bad.yml:13:14: .*bad duration 'fast'" "$T_TMP/bad.out"
t_check "address outside the subnet is reported" grep -q "bad.yml:6:23: .*outside network 'n1'" "$T_TMP/bad.out"

# --- up ---
t_check "up" NL up "$TOPO"
PIDS=$(state_pids)
t_check "state records 4 services and 1 linkem" test "$(state_pids | wc -w)" -eq 5
t_check "namespaces made (4 services + switch)" test "$(ip netns list | grep -c "^$P-")" -eq 5
t_check "nothing added to the root namespace" bash -c "! ip link show | grep -Eq ' (br[0-9]+|v[0-9]+i[0-9]+)[@:]'"

# --- reachability: every host reaches every other ---
t_check "h1 reaches r" reach h1 10.77.0.1
t_check "h1 reaches m (via r, on cell1)" reach h1 10.77.1.10
t_check "h1 reaches h2 (via r, on cell2)" reach h1 10.77.2.20
t_check "m reaches h1" reach m 10.77.0.10
t_check "h2 reaches h1" reach h2 10.77.0.10
t_check "h2 reaches r" reach h2 10.77.2.1
t_check "r reaches m" reach r 10.77.1.10
rtt=$(ping1 h1 10.77.0.1 | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p')
t_check "the emulated wan link delays (rtt ${rtt:-?} ms >= 9 ms for 2 x 5 ms)" \
  awk -v r="${rtt:-0}" 'BEGIN { exit !(r >= 9) }'

# --- ps ---
NL ps >"$T_TMP/ps.out" 2>&1
for s in r h1 h2 m; do
  t_check "ps shows $s running" grep -Eq "^$s +[0-9]+ +running" "$T_TMP/ps.out"
done
t_check "ps shows linkem of wan" grep -Eq '^\[wan\] +[0-9]+ +running .*linkem' "$T_TMP/ps.out"
t_check "ps shows the radio on cell1" grep -q "radio: m radio0 -> cell1" "$T_TMP/ps.out"
t_check "addr prints an address" test "$(NL addr m cell2)" = 10.77.2.10
t_check "ctl path is in the run dir" test "$(NL ctl m)" = "$RUN/m/run/m.sock"

# --- movement ---
t_check "m reaches r on cell1 before the move" reach m 10.77.1.1
t_check "move with --notice" NL move m --to cell2 --notice 300
t_check "the mobile got the l2-notice" grep -q '"cmd":"l2-notice","args":{"event":"link-going-down","in_ms":300,"to":"cell2"}' "$RUN/m/run/requests.log"
t_check "after the move m reaches h2 on cell2" reach m 10.77.2.20
t_check "after the move m no longer reaches the old cell" no_reach m 10.77.1.1
t_check "the interface in the mobile stayed up" bash -c "$BIN/netlab -p $P exec m ip link show radio0 | grep -q LOWER_UP"
t_check "ps shows the radio on cell2" bash -c "$BIN/netlab -p $P ps | grep -q 'radio: m radio0 -> cell2'"
t_check "move back without notice" NL move m --to cell1
t_check "back on cell1 m reaches r there" reach m 10.77.1.1
t_check "and no longer h2" no_reach m 10.77.2.20
t_check "detach" NL detach m cell1
t_check "detached: no carrier in the mobile" bash -c "! $BIN/netlab -p $P exec m ip link show radio0 | grep -q LOWER_UP"
t_check "detached: nothing reachable" no_reach m 10.77.1.1
t_check "attach" NL attach m cell2
t_check "attached to cell2: h2 reachable" reach m 10.77.2.20
t_check "attach refuses a second cell on the same radio" bash -c "! $BIN/netlab -p $P attach m cell1"

# --- exec'd processes are cleaned too ---
"$BIN/netlab" -p "$P" exec h1 sleep 1000 &
t_poll 5 pgrep -f "^sleep 1000$" >/dev/null
PIDS="$PIDS $(pgrep -f '^sleep 1000$' | tr '\n' ' ')"

# --- down ---
t_check "down" NL down
t_check "down leaves nothing behind" nothing_left
t_check "run dir removed" test ! -e "$RUN"
t_check "down again is harmless" NL down

# --- an emulated shared network (3 hosts on a bridge): the delay applies once per direction ---
cat >"$T_TMP/lan3.yml" <<'YML'
version: "3.8"
services:
  a: {networks: {lan: {ipv4_address: 10.78.0.1}}}
  b: {networks: {lan: {ipv4_address: 10.78.0.2}}}
  c: {networks: {lan: {ipv4_address: 10.78.0.3}}}
networks:
  lan:
    ipam: {config: [{subnet: 10.78.0.0/24}]}
    x-roam: {delay: 20ms}
YML
L="${P}l"
t_check "up of a 3-host emulated LAN" "$BIN/netlab" --bin "$BIN" -p "$L" up "$T_TMP/lan3.yml"
t_check "3 linkems, one per attachment" test "$("$BIN/netlab" -p "$L" ps | grep -c '^\[lan\] .* running')" -eq 3
t_poll 5 "$BIN/netlab" -p "$L" exec b ping -c1 -W1 10.78.0.3 >/dev/null
rtt=$("$BIN/netlab" -p "$L" exec b ping -c1 -W1 10.78.0.3 | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p')
t_check "LAN rtt ${rtt:-?} ms is 2 x 20 ms (not 4 x)" awk -v r="${rtt:-0}" 'BEGIN { exit !(r >= 38 && r < 70) }'
t_check "down of the LAN" "$BIN/netlab" -p "$L" down
t_check "LAN: no namespace left" bash -c "! ip netns list | grep -q '^$L-'"

# --- netlab killed -9 in the middle of up, then down ---
for stage in "ns" "proc"; do
  "$BIN/netlab" --bin "$BIN" -p "$P" up "$TOPO" >"$T_TMP/up-$stage.out" 2>&1 &
  upid=$!
  # poll fast: up takes about a second
  for ((i = 0; i < 2000; i++)); do grep -q "^$stage " "$RUN/state" 2>/dev/null && break; sleep 0.005; done
  kill -9 $upid 2>/dev/null; wait $upid 2>/dev/null
  t_check "killed at '$stage': up had not finished" bash -c "! grep -q '^up-done' '$RUN/state'"
  PIDS=$(state_pids)
  t_check "killed at the first '$stage' record: state was left" test -e "$RUN/state"
  t_check "killed at '$stage': down cleans up" NL down
  t_check "killed at '$stage': nothing left" nothing_left
done
# and once after a complete up, with the processes killed first
t_check "up again" NL up "$TOPO"
PIDS=$(state_pids)
t_check "down --all" "$BIN/netlab" down --all
t_check "down --all leaves nothing" nothing_left
t_done
