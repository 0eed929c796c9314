#!/usr/bin/env bash
# Every Mobile IPv4 message type roam sends decodes cleanly in tshark: mip4gen encodes each one
# with the codec (common/proto/mip4, authenticators from mip4_auth_append) and sends it to UDP
# 434 on the loopback of a namespace of our own while tshark captures; the capture is decoded
# with tests/dissectors/mip4-roam.lua, which hands Registration Request / Reply (1, 3) to
# Wireshark's "mip" dissector and decodes 18-21 and 240-243 per docs/protocols/mipv4.md, flagging
# any deviation as an expert error.  mip4gen --bad then sends messages that each break one rule
# of the document: every one of them must produce an expert error, so the check can fail.
. "$(dirname "$0")/lib.sh"

GEN=$BIN/mip4gen
LUA=$PWD/tests/dissectors/mip4-roam.lua
[ -x "$GEN" ] || { t_fail "binaries" "$GEN missing"; t_done; }
command -v tshark >/dev/null || { t_fail "tshark" "tshark is not installed"; t_done; }
[ -r "$LUA" ] || { t_fail "dissector" "$LUA missing"; t_done; }

NS=mip4ts-$$
ip netns add "$NS" || { t_fail "namespace" "cannot create $NS"; t_done; }
t_cleanup "ip netns del $NS"
ip -n "$NS" link set lo up

GOOD_PORT=4341 # source port of the conforming messages
BAD_PORT=4340  # source port of the deliberately broken ones
CAP=$T_TMP/mip4.pcap
# tshark says "Capturing on" a moment before the kernel filter is in place; on a loaded machine
# the first datagrams can be missed.  So: capture, send, and if the capture does not hold every
# conforming datagram, do it again (at most 3 times); what is decoded is always one whole run.
capture_run() {
  ip netns exec "$NS" tshark -q -i lo -f "udp port 434" -w "$CAP" >"$T_TMP/tshark.log" 2>&1 &
  TSHARK=$!
  t_capturing "$T_TMP/tshark.log" || { kill -TERM $TSHARK; wait $TSHARK; return 1; }
  ip netns exec "$NS" "$GEN" -l $GOOD_PORT >"$T_TMP/good.out" 2>"$T_TMP/good.err"; GEN_RC=$?
  ip netns exec "$NS" "$GEN" --bad -l $BAD_PORT >"$T_TMP/bad.out" 2>"$T_TMP/bad.err"; BAD_RC=$?
  sleep 1
  kill -INT $TSHARK; wait $TSHARK 2>/dev/null
  [ "$(tshark -r "$CAP" -Y "udp.srcport == $GOOD_PORT" -T fields -e frame.number 2>/dev/null | wc -l)" \
    -eq "$(wc -l <"$T_TMP/good.out")" ]
}
t_cleanup 'kill -TERM $TSHARK 2>/dev/null'
for try in 1 2 3; do capture_run && break; echo "capture $try missed datagrams, again"; done
t_check "mip4gen sends every message type" test "$GEN_RC" -eq 0 -a ! -s "$T_TMP/good.err"
t_check "mip4gen --bad sends the broken messages" test "$BAD_RC" -eq 0 -a ! -s "$T_TMP/bad.err"

n_good=$(wc -l <"$T_TMP/good.out")
n_bad=$(wc -l <"$T_TMP/bad.out")
dec() { tshark -r "$CAP" -X lua_script:"$LUA" "$@" 2>/dev/null; }
count() { dec -Y "$1" -T fields -e frame.number | wc -l; }

good="udp.srcport == $GOOD_PORT"
bad="udp.srcport == $BAD_PORT"
err='_ws.malformed || _ws.expert.severity >= "Error"'
total=$(count "$good")
t_check "capture holds the $n_good conforming datagrams ($total)" test "$total" -eq $n_good -a "$n_good" -gt 0
decoded=$(count "$good && (mip4roam.type || mip.type)")
t_check "every conforming datagram decodes as Mobile IP ($decoded of $total)" test "$decoded" -eq "$total"
bad_frames=$(dec -Y "$good && ($err)" -T fields -e frame.number -e _ws.expert.message | head -5)
t_check "no malformed packet and no expert error in the conforming ones" test -z "$bad_frames"
noted=$(count "$good && _ws.expert")
t_check "no expert info at all on the conforming ones ($noted)" test "$noted" -eq 0

types=$( { dec -Y "$good && mip.type" -T fields -e mip.type; dec -Y "$good && mip4roam.type" -T fields -e mip4roam.type; } |
  sort -n | uniq | tr '\n' ' ')
t_check "every message type present ($types)" test "$types" = "1 3 18 19 20 21 240 241 242 243 "
codes=$(dec -Y "$good && mip4roam.code" -T fields -e mip4roam.type -e mip4roam.code | sort -n | uniq | tr '\t\n' ': ')
t_check "reply codes decoded ($codes)" test "$codes" = "19:0 19:67 21:0 21:65 "
subs=$(dec -Y "$good" -T fields -e mip4roam.ext.subtype | tr ',' '\n' | grep . | sort -n | uniq | tr '\n' ' ')
t_check "generalized authentication FA-FA, MN-GFA, MN-PAR decoded ($subs)" test "$subs" = "2 3 4 "
ro=$(count "$good && mip4roam.ext.type == 35 && mip4roam.ext.spi == 0x1007")
t_check "route-optimization authenticator in 241-243 ($ro)" test "$ro" -eq 5
fields=$(dec -Y "$good && mip4roam.type == 18" -T fields -e mip4roam.ext.nai -e mip4roam.ext.hfa \
  -e mip4roam.coa | sort -u)
t_check "regional request: NAI, Hierarchical FA, care-of address ($fields)" \
  test "$fields" = "$(printf 'mn1@roam.example\t198.51.100.1\t198.51.100.2')"
fbu=$(dec -Y "$good && mip4roam.type == 20" -T fields -e mip4roam.prev_fa -e mip4roam.coa -e mip4roam.lifetime | sort -u)
t_check "fast binding update: previous FA, new care-of address, lifetime ($fbu)" \
  test "$fbu" = "$(printf '198.51.100.1\t198.51.100.2\t5')"
bw=$(dec -Y "$good && mip4roam.type == 240" -T fields -e mip4roam.home -e mip4roam.target | sort -u)
t_check "binding warning: home and target addresses ($bw)" test "$bw" = "$(printf '192.0.2.10\t192.0.2.50')"
bu=$(dec -Y "$good && mip4roam.type == 242" -T fields -e mip4roam.bu.a -e mip4roam.bu.i -e mip4roam.lifetime |
  sort -u | tr '\t\n' ', ')
t_check "binding update: A, I, lifetimes 600 and 0 ($bu)" test "$bu" = "1,1,0 1,1,600 "
nack=$(count "$good && mip4roam.ba.n == 1")
t_check "negative binding acknowledge decoded ($nack)" test "$nack" -eq 1
regext=$(count "$good && mip.type == 1 && mip4roam.ext.gfa == 203.0.113.1 && mip4roam.ext.hfa")
t_check "registration request: roam checks of GFA / HFA extensions ($regext)" test "$regext" -eq 1

# The broken ones: each datagram carries at least one expert error.
nb=$(count "$bad")
t_check "capture holds the $n_bad broken datagrams ($nb)" test "$nb" -eq $n_bad -a "$n_bad" -gt 0
flagged=$(count "$bad && ($err)")
missed=$(dec -Y "$bad && !($err)" -T fields -e frame.number -e mip4roam.type | head -5 | tr '\n' ' ')
t_check "every broken datagram has an expert error ($flagged of $nb; missed: $missed)" test "$flagged" -eq "$nb"
malf=$(count "$bad && _ws.malformed")
t_check "truncated ones are marked malformed ($malf)" test "$malf" -eq 3
t_done
