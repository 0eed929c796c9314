#!/usr/bin/env bash
# USER_MOVED on the wire (docs/protocols/l2tp-handoff.md 4) in netlab
# (etc/topologies/l2tp-usermoved.yml): two lacd on the LAC group network, a third host writes
# USER_MOVED datagrams with python3 to 239.255.17.1:17011.  Each LAC must drop and count a
# forged one (HMAC under another key), a truncated one, one with an unknown key id and one
# 60 s old (stale timestamp), leave its handoff table empty meanwhile, then store a genuine
# one (roamctl handoffs: MIN, LNS, old ids, Call State), accept one signed with the previous
# key, drop the genuine one sent again (replay), ignore one naming itself as the sender, and
# after a key roll-over (new file, reload) take the new key and refuse the removed one.  A key
# file readable by the group makes `lacd -t` refuse the configuration.  Budget: about 15 s.
. "$(dirname "$0")/lib.sh"

SRC=etc/topologies/l2tp-usermoved.yml
P=l2um
for b in lacd roamctl netlab; do
  [ -x "$BIN/$b" ] || { t_fail "binaries" "$BIN/$b missing"; t_done; }
done
for c in jq python3 tshark; do
  command -v $c >/dev/null || { t_fail "$c" "$c is required"; t_done; }
done

export NETLAB_RUNDIR="$T_TMP/runs"
NL() { "$BIN/netlab" --bin "$BIN" -p "$P" "$@"; }
t_cleanup '"$BIN/netlab" --bin "$BIN" -p '$P' down'
t_cleanup 'for n in $(ip netns list | awk "{print \$1}" | grep "^'$P'-"); do ip netns delete $n; done'

# The topology with its key file at mode 0600 (git does not keep modes).
D=$T_TMP/topo
mkdir -p "$D"
cp -p "$SRC" "$D/" && cp -rp "${SRC%.yml}" "$D/"
KEYS=$D/l2tp-usermoved/lac-group.keys
chmod 600 "$KEYS"
KEY_CUR=$(awk '!/^#/ && NF == 2 {print $2; exit}' "$KEYS")
KEY_PREV=$(awk '!/^#/ && NF == 2 {n++; if (n == 2) {print $2; exit}}' "$KEYS")

# ---- the secrets file rule ----
cp "$D/l2tp-usermoved/lacd1.yaml" "$T_TMP/lacd-check.yaml"
sed -i "s|/etc/roam/lac-group.keys|$T_TMP/group.keys|" "$T_TMP/lacd-check.yaml"
cp "$KEYS" "$T_TMP/group.keys"; chmod 640 "$T_TMP/group.keys"
refused() { ! "$BIN/lacd" -t -c "$T_TMP/lacd-check.yaml" >"$T_TMP/check.log" 2>&1 &&
            grep -q "handoff.key_file" "$T_TMP/check.log"; }
t_check "lacd -t refuses a group-readable key file" refused
chmod 600 "$T_TMP/group.keys"
t_check "lacd -t accepts it at mode 0600" "$BIN/lacd" -t -c "$T_TMP/lacd-check.yaml"

# ---- up ----
if ! NL up "$D/l2tp-usermoved.yml" >"$T_TMP/up.log" 2>&1; then
  t_fail "netlab up" "$(tail -5 "$T_TMP/up.log" | tr '\n' ' ')"
  t_done
fi
t_ok "netlab up: lac1, lac2, forger"
CAP=$T_TMP/um.pcapng
ip netns exec $P-forger tshark -q -i eth-lacs -w "$CAP" -f "udp port 17011" >"$T_TMP/tshark.log" 2>&1 &
CAPPID=$!
t_cleanup 'kill $CAPPID 2>/dev/null'
t_capturing "$T_TMP/tshark.log" || t_fail "tshark capture" "$(cat "$T_TMP/tshark.log")"

ctl() { local s=$1; shift; NL exec "$s" roamctl -s /run/roam/lacd.sock --json "$@"; }
# expect_all STAT VALUE: the counter on both LACs
expect_all() { local s v; for s in lac1 lac2; do v=$(ctl $s stats | jq -r ".$1");
               [ "$v" = "$2" ] || { echo "$s $1 = $v, want $2"; return 1; }; done; }
table_len() { local s; for s in lac1 lac2; do ctl $s handoffs | jq -e --argjson n "$1" 'length == $n' >/dev/null || return 1; done; }

# um.py OUT KEY_HEX KEY_ID LAC_ADDR TS_OFFSET_MS [truncate]: writes a USER_MOVED to OUT and
# sends it to the group; um.py --resend FILE sends a file again.
cat >"$T_TMP/um.py" <<'PY'
import hashlib, hmac, socket, struct, sys, time
def send(pkt):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("10.87.3.9"))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    s.sendto(pkt, ("239.255.17.1", 17011))
if sys.argv[1] == "--resend":
    send(open(sys.argv[2], "rb").read()); sys.exit(0)
out, key, kid, lac, off = sys.argv[1], bytes.fromhex(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
mn = b"3125550100"
ts = int(time.time() * 1000) + off
ip = lambda a: struct.unpack(">I", socket.inet_aton(a))[0]
hdr = struct.pack(">HBBHBBQIIHHHHHHI", 0x524d, 1, 1, 64 + len(mn) + 32, kid, len(mn), ts,
                  ip(lac), ip("10.87.3.254"), 1701, 4001, 4002, 600, 70, 30, 0)
cs = struct.pack(">HHBBHIIHHI", 100, 200, 3, 0x0f, 1500, 0, 0, 0xc223, 0, ip("10.65.0.5"))
body = hdr + cs + mn
pkt = body + hmac.new(key, body, hashlib.sha256).digest()
if len(sys.argv) > 6:
    pkt = pkt[:-1]
open(out, "wb").write(pkt)
send(pkt)
PY
um() { NL exec forger python3 "$T_TMP/um.py" "$@"; }
WRONG=$(printf '%064d' 7)

# ---- bad datagrams: dropped, counted, table untouched ----
um "$T_TMP/forged" "$WRONG" 5 10.87.3.9 0
t_check "forged (HMAC under another key): um_bad_mac on both LACs" t_poll 10 expect_all um_bad_mac 1
um "$T_TMP/trunc" "$KEY_CUR" 5 10.87.3.9 1 truncate
t_check "truncated: um_malformed on both LACs" t_poll 10 expect_all um_malformed 1
um "$T_TMP/badkey" "$KEY_CUR" 9 10.87.3.9 2
t_check "unknown key id: um_unknown_key on both LACs" t_poll 10 expect_all um_unknown_key 1
um "$T_TMP/stale" "$KEY_CUR" 5 10.87.3.9 -60000
t_check "60 s old: um_stale on both LACs" t_poll 10 expect_all um_stale 1
t_check "nothing accepted, handoff tables empty" expect_all um_accepted 0
t_check "handoff tables empty" table_len 0

# ---- genuine, previous key, replay ----
um "$T_TMP/genuine" "$KEY_CUR" 5 10.87.3.9 3
t_check "genuine: um_accepted on both LACs" t_poll 10 expect_all um_accepted 1
stored() {
  local s; for s in lac1 lac2; do
    ctl $s handoffs | jq -e 'length == 1 and .[0].min == "3125550100" and .[0].lns == "10.87.3.254"
      and .[0].lac == "10.87.3.9" and .[0].old_tunnel == 4001 and .[0].old_session == 4002
      and .[0].data_ns == 100 and .[0].data_nr == 200 and .[0].auth == "chap"
      and .[0].key_id == 5 and .[0].own == false and .[0].expires_in_ms > 20000' >/dev/null ||
      { echo "$s: $(ctl $s handoffs)"; return 1; }
  done
}
t_check "both handoff tables hold the entry (roamctl handoffs)" stored
um --resend "$T_TMP/genuine"
t_check "the same datagram again: um_replayed on both LACs" t_poll 10 expect_all um_replayed 1
t_check "still one entry, nothing else accepted" expect_all um_accepted 1
um "$T_TMP/prev" "$KEY_PREV" 4 10.87.3.9 4
t_check "signed with the previous key: accepted (key roll-over)" t_poll 10 expect_all um_accepted 2
t_check "the MIN's entry was replaced, not added" table_len 1
t_check "um_rx counts every datagram" expect_all um_rx 7

# ---- a LAC's own datagram (its address in LAC Address) is ignored by it, taken by the other ----
um "$T_TMP/own" "$KEY_CUR" 5 10.87.3.1 5
own_seen() { [ "$(ctl lac1 stats | jq '.um_own')" = 1 ] && [ "$(ctl lac2 stats | jq '.um_accepted')" = 3 ] &&
             [ "$(ctl lac1 stats | jq '.um_accepted')" = 2 ]; }
t_check "lac1 ignores a USER_MOVED naming lac1 as sender, lac2 takes it" t_poll 10 own_seen

# ---- key roll-over: a new current key, the old one kept as previous, reload ----
NEW=$(printf '%064x' 12345)
printf '6 %s\n5 %s\n' "$NEW" "$KEY_CUR" >"$T_TMP/keys.new"
cat "$T_TMP/keys.new" >"$KEYS" # in place: the file bound into the LACs
for s in lac1 lac2; do ctl $s reload >/dev/null; done
um "$T_TMP/new" "$NEW" 6 10.87.3.9 6
new_key_ok() { [ "$(ctl lac1 stats | jq '.um_accepted')" = 3 ] && [ "$(ctl lac2 stats | jq '.um_accepted')" = 4 ]; }
t_check "after reload, the new key (id 6) is accepted" t_poll 10 new_key_ok
um "$T_TMP/old" "$KEY_PREV" 4 10.87.3.9 7
t_check "the key dropped from the file (id 4) is not any more" t_poll 10 expect_all um_unknown_key 2

# ---- the capture, decoded with the dissector written from the document ----
sleep 0.5
kill -INT $CAPPID 2>/dev/null; wait $CAPPID 2>/dev/null
LUA=$PWD/tests/dissectors/usermoved.lua
dec() { tshark -r "$CAP" -X lua_script:"$LUA" "$@" 2>/dev/null; }
t_check "the dissector registers usermoved" sh -c "tshark -G protocols -X lua_script:$LUA 2>/dev/null | grep -q usermoved"
count_um() { [ "$(dec -Y usermoved -T fields -e frame.number | wc -l)" = 10 ]; }
t_check "10 USER_MOVED datagrams captured and decoded" count_um
only_truncated_bad() {
  local bad
  bad=$(dec -Y '_ws.malformed || _ws.expert.severity >= "Error"' -T fields -e frame.len | tr '\n' ' ')
  [ "$bad" = "147 " ] || { echo "datagrams with expert errors (frame lengths): '$bad'"; return 1; }
}
t_check "all conform to the document but the truncated one (expert error)" only_truncated_bad
fields_ok() {
  dec -Y 'usermoved.min == "3125550100" && usermoved.lns == 10.87.3.254 && usermoved.old_tunnel == 4001 && usermoved.cs.auth_proto == 0xc223 && usermoved.hold == 30' \
    -T fields -e frame.number | wc -l | grep -qx 9
}
t_check "fields decode as sent (MIN, LNS, old ids, CHAP, hold time; all but the truncated one)" fields_ok
t_done
