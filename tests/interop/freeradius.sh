#!/usr/bin/env bash
# Interop with FreeRADIUS (Debian packages freeradius, freeradius-utils): lacd finds the LNS of
# an attaching mobile with an Access-Request (docs/protocols/radius.md).  Namespaces of our own
# (prefix frri<pid>-): lac, lns (lnsd, 10.86.0.254), rad (freeradius -X with the configuration
# of etc/topologies/l2tp-handoff/freeradius/), mob (a scripted mobile sending raw ATTACHes).
#   1. MIN 3125550100 with NAI mobile1@example.net: Access-Accept with two L2TP tunnels; lacd
#      takes the one with the lowest Tunnel-Preference (10.86.0.254) and its Tunnel-Password as
#      the tunnel secret: the tunnel to lnsd authenticates, the call is established, ATTACH-ACK;
#   2. MIN 3125550199: Access-Reject -> ATTACH-NAK cause 3; MIN 3125550177 (no entry):
#      FreeRADIUS rejects -> ATTACH-NAK cause 3;
#   3. FreeRADIUS stopped: MIN 3125550155 times out and falls back to lacd's static table
#      (ATTACH-ACK, call established); MIN 3125550166 (no static entry) gets ATTACH-NAK cause 3.
# tshark decodes the RADIUS capture with the shared secret: every packet RADIUS, Response
# Authenticators valid, our User-Password decrypted as configured (tshark does not decrypt
# Tunnel-Password: lnsd authenticating the tunnel with it is the proof), no malformed packet, no
# expert error.
. "$(dirname "$(readlink -f "$0")")/../e2e/lib.sh"
T_NAME=freeradius

for b in lnsd lacd roamctl; do
  [ -x "$BIN/$b" ] || { t_fail "binaries" "$BIN/$b missing"; t_done; }
done
for c in freeradius tshark jq python3; do
  command -v $c >/dev/null || { t_fail "$c" "$c is required (apt-get install freeradius tshark jq python3)"; t_done; }
done

P=frri$$
RADDB_SRC=$(dirname "$(readlink -f "$0")")/../../etc/topologies/l2tp-handoff/freeradius
SECRET=roam-radius-secret         # clients.conf
TSECRET=handoff-tunnel-secret     # users: Tunnel-Password of the tunnel lacd must pick
for n in lac lns rad mob; do
  t_cleanup "ip netns delete $P-$n"
  ip netns delete $P-$n 2>/dev/null
  ip netns add $P-$n || { t_fail "namespaces"; t_done; }
  ip -n $P-$n link set lo up
done
link() { # NS_A IF_A ADDR_A NS_B IF_B ADDR_B
  ip -n $P-$1 link add $2 type veth peer name $5 netns $P-$4
  ip -n $P-$1 addr add $3/24 dev $2; ip -n $P-$4 addr add $6/24 dev $5
  ip -n $P-$1 link set $2 up; ip -n $P-$4 link set $5 up
}
link lac eth-core 10.86.0.1 lns eth-core 10.86.0.254
link lac eth-rad 10.86.5.1 rad eth0 10.86.5.2
link lac eth-cell 10.86.1.1 mob eth0 10.86.1.100
t_check "namespaces reach each other" t_poll 10 ip netns exec $P-lac ping -c1 -W1 10.86.5.2

PIDS=()
t_cleanup 'for p in "${PIDS[@]}"; do kill -TERM $p 2>/dev/null; done; sleep 0.5; for p in "${PIDS[@]}"; do kill -KILL $p 2>/dev/null; done'
CTL() { "$BIN/roamctl" -s "$T_TMP/$1.sock" --json "${@:2}"; }
expect_stat() { local v; v=$(CTL "$1" stats | jq -r ".$2") && jq -en "$v $3 $4" >/dev/null || { echo "$1 $2 = $v, want $3 $4"; return 1; }; }

# ---- FreeRADIUS: the shared configuration, copied (it must not be world-writable) ----
cp -r "$RADDB_SRC" "$T_TMP/raddb"
chmod -R go-w "$T_TMP/raddb"
ip netns exec $P-rad tshark -q -i eth0 -w "$T_TMP/radius.pcapng" -f "udp port 1812" >"$T_TMP/tshark.log" 2>&1 &
CAPPID=$!
PIDS+=($CAPPID)
t_capturing "$T_TMP/tshark.log" || t_fail "tshark capture" "$(cat "$T_TMP/tshark.log")"
ip netns exec $P-rad freeradius -f -X -d "$T_TMP/raddb" >"$T_TMP/freeradius.log" 2>&1 &
RADPID=$!
PIDS+=($RADPID)
rad_ready() { grep -q "Ready to process requests" "$T_TMP/freeradius.log"; }
t_check "freeradius -X started" t_poll 15 rad_ready || { tail -20 "$T_TMP/freeradius.log"; t_done; }

# ---- lnsd (no PPP: the call is what is asserted) and lacd ----
cat >"$T_TMP/lnsd.yaml" <<EOC
listen: 10.86.0.254
host_name: fr-lns
control_socket: $T_TMP/lns.sock
log_level: debug
peers:
  - address: 10.86.0.1
    secret: $TSECRET
EOC
printf '%s\n' "$SECRET" >"$T_TMP/radius.secret"
chmod 600 "$T_TMP/radius.secret"
# The static entry names the LNS without a secret: the tunnel authenticates only if lacd took
# the Tunnel-Password of the Access-Accept.
cat >"$T_TMP/lacd.yaml" <<EOC
listen: 10.86.0.1
host_name: fr-lac
control_socket: $T_TMP/lac.sock
log_level: debug
tunnel:
  idle_timeout: 60s
access:
  listen: 10.86.1.1
  keepalive_interval: 1s
  dead_interval: 3s
radius:
  servers: [10.86.5.2]
  secret: file:$T_TMP/radius.secret
  password: roam-lac
  nas_identifier: fr-lac
  nas_ip_address: 10.86.5.1
  timeout: 500ms
  retries: 1
lns:
  - min: "3125550155"
    address: 10.86.0.254
EOC
t_check "lacd -t accepts the radius section" "$BIN/lacd" -t -c "$T_TMP/lacd.yaml"
ip netns exec $P-lns "$BIN/lnsd" -f -d -c "$T_TMP/lnsd.yaml" -p "$T_TMP/lnsd.pid" >"$T_TMP/lnsd.log" 2>&1 &
PIDS+=($!)
ip netns exec $P-lac "$BIN/lacd" -f -d -c "$T_TMP/lacd.yaml" -p "$T_TMP/lacd.pid" >"$T_TMP/lacd.log" 2>&1 &
PIDS+=($!)
t_check "lnsd and lacd up" t_poll 10 bash -c "[ -S $T_TMP/lns.sock ] && [ -S $T_TMP/lac.sock ]"

# attach MIN NAI: a raw ATTACH (docs/protocols/access-link.md) from the mobile's namespace,
# repeated every second with the same Nonce; prints "ACK <link>" or "NAK <cause>".
attach() {
  ip netns exec $P-mob python3 - "$1" "$2" <<'EOP'
import os, socket, struct, sys
mn, nai = sys.argv[1].encode(), sys.argv[2].encode()
nonce = int.from_bytes(os.urandom(4), "big")
msg = struct.pack("!HBBII", 0x524C, 1, 1, 0, 0) + struct.pack("!I", nonce) + mn + bytes([len(nai)]) + nai
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
for _ in range(10):
    s.sendto(msg, ("10.86.1.1", 17010))
    try:
        d, _ = s.recvfrom(2048)
    except socket.timeout:
        continue
    magic, ver, typ, link, seq = struct.unpack("!HBBII", d[:12])
    if magic != 0x524C or struct.unpack("!I", d[12:16])[0] != nonce:
        continue
    if typ == 2:
        print("ACK %08x" % link); sys.exit(0)
    if typ == 3:
        print("NAK %d" % struct.unpack("!H", d[16:18])[0]); sys.exit(0)
print("none"); sys.exit(1)
EOP
}
is() { local got; got=$(attach "$1" "$2"); [[ $got == $3* ]] || { echo "MIN $1: got '$got', want '$3'"; return 1; }; }
sessions_of() { CTL lac sessions | jq -e --arg m "$1" '[.[] | select(.min == $m and .state == "established")] | length == 1' >/dev/null; }
lns_call() { CTL lns sessions | jq -e --arg m "$1" '[.[] | select(.calling == $m)] | length >= 1' >/dev/null; }

# ---- 1. Access-Accept: the LNS and the tunnel secret from FreeRADIUS ----
t_check "MIN 3125550100 (NAI mobile1@example.net): ATTACH-ACK" is 3125550100 mobile1@example.net ACK
t_check "lacd: one Access-Request, one Access-Accept" expect_stat lac radius_accepts == 1
t_check "lacd: the call of 3125550100 is established" t_poll 10 sessions_of 3125550100
t_check "lnsd: the call arrived (Calling Number 3125550100)" t_poll 10 lns_call 3125550100
tun_ok() { CTL lac tunnels | jq -e '[.[] | select(.peer == "10.86.0.254:1701")] | length == 1' >/dev/null || { CTL lac tunnels; return 1; }; }
t_check "lacd: the tunnel goes to the preferred LNS 10.86.0.254 (Tunnel-Preference 1)" tun_ok
t_check "lnsd: the tunnel authenticated with the Tunnel-Password" expect_stat lns tunnels_authenticated '>=' 1
t_check "lacd log names the LNS from RADIUS" grep -q "radius: MIN 3125550100 -> LNS 10.86.0.254" "$T_TMP/lacd.log"

# ---- 2. Access-Reject ----
t_check "MIN 3125550199 (barred): ATTACH-NAK cause 3" is 3125550199 "" "NAK 3"
t_check "MIN 3125550177 (unknown to FreeRADIUS): ATTACH-NAK cause 3" is 3125550177 "" "NAK 3"
t_check "lacd: two Access-Rejects" expect_stat lac radius_rejects == 2
t_check "lacd: no bad authenticator" expect_stat lac radius_bad_authenticator == 0
t_check "lacd: no timeout yet" expect_stat lac radius_timeouts == 0

# ---- 3. no RADIUS server: static table fallback ----
kill -TERM $RADPID; wait $RADPID 2>/dev/null
t_check "MIN 3125550155 (static entry): ATTACH-ACK after the RADIUS timeout" is 3125550155 "" ACK
t_check "MIN 3125550166 (no static entry): ATTACH-NAK cause 3 after the timeout" is 3125550166 "" "NAK 3"
fallback_stats() { expect_stat lac radius_timeouts == 2 && expect_stat lac radius_fallback_static == 1; }
t_check "lacd: two timeouts, one static fallback" fallback_stats
t_check "lacd: the call of 3125550155 is established" t_poll 10 sessions_of 3125550155
t_check "lacd: retransmissions counted" expect_stat lac radius_retransmissions '>=' 2

# ---- the capture ----
sleep 0.5
kill -INT $CAPPID 2>/dev/null; wait $CAPPID 2>/dev/null
CAP=$T_TMP/radius.pcapng
TS=(-o "radius.shared_secret:$SECRET" -o radius.validate_authenticator:TRUE)
tshark -r "$CAP" -T fields -e frame.number >"$T_TMP/all.txt" 2>/dev/null
tshark -r "$CAP" "${TS[@]}" -Y radius -T fields -e frame.number >"$T_TMP/radius.txt" 2>/dev/null
t_check "capture holds RADIUS" test -s "$T_TMP/radius.txt"
t_check "every captured datagram decodes as RADIUS" cmp "$T_TMP/all.txt" "$T_TMP/radius.txt"
count() { tshark -r "$CAP" "${TS[@]}" -Y "$1" 2>/dev/null | wc -l; }
t_check "capture: Access-Accept (2), Access-Reject (3) present" test "$(count 'radius.code == 2')" -ge 1 -a "$(count 'radius.code == 3')" -ge 2
t_check "capture: every request carries a Message-Authenticator" test "$(count 'radius.code == 1 && !radius.Message_Authenticator')" -eq 0
t_check "capture: every answer carries a Message-Authenticator" test "$(count 'radius.code != 1 && !radius.Message_Authenticator')" -eq 0
t_check "capture: Calling-Station-Id is the MIN" test "$(count 'radius.Calling_Station_Id == "3125550100" && radius.User_Name == "mobile1@example.net"')" -ge 1
t_check "tshark: no invalid Response Authenticator" test "$(count 'radius.authenticator.invalid == 1')" -eq 0
t_check "tshark: answers checked against their requests" test "$(count 'radius.authenticator.valid == 1')" -ge 3
t_check "tshark decrypts our User-Password" test "$(count 'radius.User_Password == "roam-lac"')" -ge 4
t_check "capture: the Accept's Tunnel-Password is tagged 2 (the preferred tunnel)" test "$(count 'radius.Tunnel_Password.tag == 2')" -ge 1
clean_decode() {
  local out; out=$(tshark -r "$CAP" "${TS[@]}" -Y '_ws.malformed || _ws.expert.severity >= error' 2>/dev/null)
  [ -z "$out" ] || { echo "$out" | head -5; return 1; }
}
t_check "tshark: no malformed packet, no expert error" clean_decode
[ -n "${KEEP_CAP:-}" ] && cp "$CAP" "$KEEP_CAP"
t_done
