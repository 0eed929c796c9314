#!/usr/bin/env bash
# sipd against SIPp (Debian package sip-tester): REGISTER with digest authentication (401 then
# 200), refresh, un-REGISTER (one contact, then the wildcard), OPTIONS, over UDP/IPv4 and
# TCP/IPv6, then SIGHUP, SIGTERM and a restart that restores the binding from the snapshot, in a
# network namespace of its own.  Asserts SIPp's own success counts, sipd's
# registrations dump and counters, and that tshark decodes every SIP packet of the run with no
# malformed packet and no expert error.
#   BIN=$PWD/build/<you>/bin bash tests/interop/sipp-register.sh
# Needs root (the namespace), sipp, tshark.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/helpers/sipp.sh" # sipp_prepare, in_ns, sipp_sipd_up, ctl, stat, successes, sipp_capture_clean

SIPP_DIR=$(cd "$(dirname "$0")/sipp" && pwd)
NS="sipreg$$"
PORT=5060
sipp_prepare sipp tshark ip

# Credentials: alice by password, bob by HA1 (md5 of bob:roam.example:bobpw).
umask 077
bob_ha1=$(printf 'bob:roam.example:bobpw' | md5sum | cut -d' ' -f1)
printf 'alice roam.example password=secret1\nbob roam.example ha1-md5=%s\n' "$bob_ha1" >"$T_TMP/users"
SOCK="$T_TMP/sipd.sock"
# SIPp 3.6.1 answers the FIRST WWW-Authenticate only, and only MD5: MD5 is offered first here
# (sipd's default order is SHA-256 first, RFC 8760).
cat >"$T_TMP/sipd.yaml" <<EOF
listen: ["127.0.0.1:$PORT", "[::1]:$PORT"]
domains: [roam.example]
realm: roam.example
credentials: file:$T_TMP/users
digest_algorithms: [md5, sha-256]
min_expires: 60s
control_socket: $SOCK
snapshot: $T_TMP/sipd.snap
EOF
sipp_sipd_up "port $PORT"

# sipp_run NAME LOCAL_IP REMOTE TRANSPORT SCENARIO USER PASS [sipp args...]: one call; checks the
# exit status and SIPp's own "Successful call" count.
sipp_run() {
  local name=$1 lip=$2 remote=$3 tr=$4 sf=$5 user=$6 pass=$7; shift 7
  local out="$T_TMP/sipp-$name.out"
  (cd "$T_TMP" && in_ns timeout 30 sipp -sf "$SIPP_DIR/$sf" -s "$user" -au "$user" -ap "$pass" \
     -auth_uri roam.example -i "$lip" -t "$tr" -m 1 -nostdin -timeout 20s -timeout_error \
     "$@" "$remote") >"$out" 2>&1
  local rc=$?
  local ok
  ok=$(successes "$out")
  if [ "$rc" -eq 0 ] && [ "${ok:-0}" = 1 ]; then t_ok "sipp $name (1 successful call)"
  else t_fail "sipp $name" "rc=$rc successful=${ok:-?}: $(grep -a -i 'error\|unexpected' "$out" | head -3)"; fi
}
# Expires of USER's first contact in the dump.
expires_of() {
  ctl registrations aor="sip:$1@roam.example" | python3 -c '
import json,sys
d=json.load(sys.stdin)
print(d[0]["contacts"][0]["expires"] if d and d[0]["contacts"] else 0)'
}
contact_count() {
  ctl registrations aor="sip:$1@roam.example" | python3 -c '
import json,sys
d=json.load(sys.stdin)
print(len(d[0]["contacts"]) if d else 0)'
}

# 1. REGISTER over UDP/IPv4, 401 then 200.
sipp_run register-udp4 127.0.0.1 127.0.0.1:$PORT u1 register.xml alice secret1 -key expires 300 -p 25061
e=$(expires_of alice)
t_check "alice bound, expires ~300 ($e)" test "$e" -gt 290 -a "$e" -le 300
t_check "alice's contact over udp" sh -c "$BIN/roamctl -s $SOCK --json registrations aor=sip:alice@roam.example | grep -q '\"transport\":\"udp\"'"

# 2. refresh: same Call-ID, higher CSeqs, new Expires.
sipp_run refresh-udp4 127.0.0.1 127.0.0.1:$PORT u1 refresh.xml alice secret1 -key expires 300 -key expires2 900 -p 25062
e=$(expires_of alice)
t_check "alice refreshed to ~900 ($e)" test "$e" -gt 890 -a "$e" -le 900
t_check "alice has two contacts (ports 25061, 25062)" test "$(contact_count alice)" = 2

# 3. bob over TCP/IPv6 (HA1 credentials).
sipp_run register-tcp6 ::1 "[::1]:$PORT" t1 register.xml bob bobpw -key expires 600 -p 25063
t_check "bob bound over tcp" sh -c "$BIN/roamctl -s $SOCK --json registrations aor=sip:bob@roam.example | grep -q '\"transport\":\"tcp\"'"

# 4. un-REGISTER bob's contact (Expires: 0), then alice's with the wildcard.
sipp_run unregister-tcp6 ::1 "[::1]:$PORT" t1 register.xml bob bobpw -key expires 0 -p 25063
t_check "bob unbound" test "$(contact_count bob)" = 0
sipp_run unregister-wildcard 127.0.0.1 127.0.0.1:$PORT u1 unregister.xml alice secret1 -p 25064
t_check "alice unbound by the wildcard" test "$(contact_count alice)" = 0

# 5. OPTIONS: 200 with Allow.
sipp_run options-udp4 127.0.0.1 127.0.0.1:$PORT u1 options.xml alice secret1 -p 25065

# sipd's own view: challenges answered, nothing dropped, no failure.
t_check "sipd: 6 registrations answered 200" test "$(stat registrations_ok)" = 6
t_check "sipd: every 401 answered with a good digest" test "$(stat auth_failed)" = 0
t_check "sipd: no unparseable input" test "$(stat drop_unparseable)" = 0
t_check "sipd: one wildcard removal" test "$(stat wildcard_removals)" = 1
t_check "sipd: nothing left registered" test "$(ctl status | python3 -c 'import json,sys; print(json.load(sys.stdin)["bindings"])')" = 0

# 6. SIGHUP keeps bindings; SIGTERM writes the snapshot; a restart restores the binding.
sipp_run register-again 127.0.0.1 127.0.0.1:$PORT u1 register.xml alice secret1 -key expires 1200 -p 25066
kill -HUP "$SIPD"
t_poll 5 sh -c "$BIN/roamctl -s $SOCK --json status | grep -q '\"reloads\":1,\"last_reload\":{[^}]*\"ok\":true'"
t_check "SIGHUP: reloaded, alice kept" sh -c "$BIN/roamctl -s $SOCK --json status | grep -q '\"ok\":true' && test $(contact_count alice) = 1"
kill -TERM "$SIPD"
t_poll 10 sh -c "! kill -0 $SIPD 2>/dev/null" && t_ok "sipd exits on SIGTERM" || t_fail "sipd exits on SIGTERM"
wait "$SIPD"; rc=$?
t_check "sipd exit status 0 ($rc)" test "$rc" = 0
t_check "snapshot written at shutdown" test -s "$T_TMP/sipd.snap"
ip netns exec "$NS" "$BIN/sipd" -f -c "$T_TMP/sipd.yaml" -p "$T_TMP/sipd.pid" >"$T_TMP/sipd2.log" 2>&1 &
SIPD=$!
t_cleanup "kill $SIPD"
t_poll 10 "$BIN/roamctl" -s "$SOCK" status || t_fail "sipd restart" "$(tail -5 "$T_TMP/sipd2.log")"
e=$(expires_of alice)
t_check "alice's binding survived the restart ($e s left)" test "$e" -gt 1100 -a "$e" -le 1200
kill -TERM "$SIPD"; wait "$SIPD"

# 7. tshark: every SIP packet decodes, no malformed packet, no expert error.
sipp_capture_clean 20
nreq=$(tshark -r "$T_TMP/cap.pcapng" -Y 'sip.Method == "REGISTER"' -T fields -e frame.number 2>/dev/null | wc -l)
t_check "tshark: REGISTER requests decoded ($nreq)" test "$nreq" -ge 10

t_done
