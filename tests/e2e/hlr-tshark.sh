#!/usr/bin/env bash
# Every HLR packet roam sends decodes cleanly: hlrd and hlrc exchange updates, queries,
# deregistrations and refusals (IPv4 and IPv6) while tshark captures loopback; the capture is
# then decoded with the HLR dissector (tests/dissectors/hlr.lua, written from
# docs/protocols/hlr.md), which flags any deviation from the document as an expert error.
. "$(dirname "$0")/lib.sh"

HLRD=$BIN/hlrd
HLRC=$BIN/hlrc
LUA=$PWD/tests/dissectors/hlr.lua
for b in "$HLRD" "$HLRC"; do [ -x "$b" ] || { t_fail "binaries" "$b missing"; t_done; }; done
command -v tshark >/dev/null || { t_fail "tshark" "tshark is not installed"; t_done; }

while :; do
  PORT=$((20000 + RANDOM % 30000))
  [ -z "$(ss -Hlun "sport = :$PORT" 2>/dev/null)" ] && break
done
K1=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
cat >"$T_TMP/hlrd.yaml" <<EOC
listen: [127.0.0.1, "::1"]
port: $PORT
control_socket: $T_TMP/hlrd.sock
snapshot: $T_TMP/hlrd.snap
hosts:
  - name: mobile-1
    key_id: 1
    key: $K1
    addresses: [192.0.2.10, "2001:db8:10::/64"]
EOC

CAP=$T_TMP/hlr.pcap
tshark -q -i lo -f "udp port $PORT" -w "$CAP" >"$T_TMP/tshark.log" 2>&1 &
TSHARK=$!
t_cleanup "kill -TERM $TSHARK 2>/dev/null; wait $TSHARK 2>/dev/null"
t_capturing "$T_TMP/tshark.log" || { t_fail "capture" "tshark did not start: $(cat "$T_TMP/tshark.log")"; t_done; }

"$HLRD" -f -c "$T_TMP/hlrd.yaml" -p "$T_TMP/hlrd.pid" >"$T_TMP/hlrd.log" 2>&1 &
HPID=$!
t_cleanup "kill -TERM $HPID 2>/dev/null; wait $HPID 2>/dev/null"
t_poll 10 "$BIN/roamctl" -s "$T_TMP/hlrd.sock" status || { t_fail "hlrd start" "$(tail -5 "$T_TMP/hlrd.log")"; t_done; }

hc() { "$HLRC" -s "$1" -i 1 -k $K1 -w 1000 "${@:2}" >>"$T_TMP/hlrc.out" 2>&1; }
hc 127.0.0.1:$PORT update 192.0.2.10 198.51.100.7 600       # UPDATE / UPDATE-ACK OK
hc 127.0.0.1:$PORT query 192.0.2.10                         # QUERY / QUERY-REPLY OK
hc 127.0.0.1:$PORT query 192.0.2.99                         # QUERY-REPLY NO-MAPPING
hc 127.0.0.1:$PORT update 192.0.2.77 198.51.100.7 600       # UPDATE-ACK NOT-AUTHORIZED
hc "[::1]:$PORT" update 2001:db8:10::5 2001:db8:99::5 60    # over IPv6, IPv6 addresses
hc "[::1]:$PORT" query 2001:db8:10::5
hc 127.0.0.1:$PORT update 192.0.2.10 192.0.2.10 0           # deregistration
sleep 1
kill -INT $TSHARK; wait $TSHARK 2>/dev/null

dec() { tshark $T_TSHARK_OPTS -r "$CAP" -X lua_script:"$LUA" -d "udp.port==$PORT,hlr" "$@" 2>/dev/null; }
total=$(dec -T fields -e frame.number | wc -l)
hlr=$(dec -Y hlr -T fields -e hlr.type | wc -l)
t_check "capture holds the 14 request/reply datagrams" test "$total" -eq 14
t_check "every captured datagram decodes as HLR ($hlr of $total)" test "$hlr" -eq "$total"
bad=$(dec -Y '_ws.malformed || _ws.expert.severity >= "Error" || hlr.malformed' -T fields -e frame.number)
t_check "no malformed packet and no expert error" test -z "$bad"
types=$(dec -Y hlr -T fields -e hlr.type | sort -n | uniq -c | awk '{printf "%s:%s ", $2, $1}')
t_check "all four message types seen ($types)" test "$types" = "1:4 2:4 3:3 4:3 "
codes=$(dec -Y "hlr.type == 2 || hlr.type == 4" -T fields -e hlr.code | sort -n | uniq | tr '\n' ' ')
t_check "reply codes OK, NO-MAPPING, NOT-AUTHORIZED seen ($codes)" test "$codes" = "0 1 64 "
v6=$(dec -Y "hlr.careof6 == 2001:db8:99::5" -T fields -e frame.number | wc -l)
t_check "IPv6 care-of address decoded" test "$v6" -ge 2
t_done
