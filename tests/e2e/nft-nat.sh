#!/usr/bin/env bash
# Stateless old/new address translation (roam/nft.h, docs/nat-rules.md; seed 004 figures 2, 3A,
# 3B) end to end, without sipd: nftctl plays the SIP servers that configure the routers.
#
#   cn (10.71.3.2, fd71:3::2) == rt == old link 10.71.1.0/24, fd71:1::/64 == mn
#                                   == new link 10.71.2.0/24, fd71:2::/64 == mn
#
# Before the move the mobile mn holds OLD (10.71.1.2, fd71:1::2) on its old link.  A TCP
# connection (trafgen tcp-client in cn -> tcp-server on OLD) and UDP streams both ways (IPv4 and
# IPv6) run between cn and OLD.  Then mn moves: NEW (10.71.2.2, fd71:2::2) on the new link, the
# default routes through the new link, OLD kept only as a host address on lo for the sessions
# that use it, the old link down.  nftctl installs on rt the pair OLD -> NEW (--dst: packets to
# OLD get daddr NEW; the correspondent's first hop, router 120-C; plus the static route for OLD
# into the new network, which rt's strict reverse-path filter needs for the mobile's packets from
# OLD: the new first hop's part, router 120-B) and on mn the reversed pair
# NEW -> OLD with --guard (the mobile's own first hop, router 120-B: packets to NEW get daddr
# OLD back unless a socket bound to NEW takes them).  Checked:
#  - the TCP connection survives and every byte is verified; the UDP streams resume (gap
#    printed); on the wire between rt and mn the old sessions' packets carry NEW, cn still sees
#    OLD as source and destination (nft counters in cn and mn);
#  - rt's locally generated packets to OLD are rewritten too (route-type output chain: ping);
#  - new connections after the move, both directions, use NEW on both ends (ss);
#  - removing the pairs restores the plain behaviour (OLD unreachable, NEW reachable);
#  - nothing is left: empty rulesets, no route of protocol 176.
# Namespaces nfn<pid>-{cn,rt,mn}; removed at exit.  Figures (gaps) go to stdout.
. "$(dirname "$0")/lib.sh"

TG=$BIN/trafgen
NC=$BIN/nftctl
for b in "$TG" "$NC"; do [ -x "$b" ] || { t_fail "binaries" "$b missing"; t_done; }; done
for c in jq ip nft ss ping; do command -v $c >/dev/null || { t_fail "$c" "$c is required"; t_done; }; done

P=nfn$$
CN=$P-cn RT=$P-rt MN=$P-mn
CA=10.71.3.2 CA6=fd71:3::2
OLD=10.71.1.2 OLD6=fd71:1::2
NEW=10.71.2.2 NEW6=fd71:2::2
NS() { local n=$1; shift; ip netns exec "$n" "$@"; }

for n in $CN $RT $MN; do
  ip netns add "$n" || { t_fail "namespace" "cannot create $n"; t_done; }
  t_cleanup ip netns del "$n"
  ip -n "$n" link set lo up
  NS "$n" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
ip -n "$RT" link add ${P}c type veth peer name ${P}c1 netns "$CN"
ip -n "$RT" link add ${P}o type veth peer name ${P}o1 netns "$MN"
ip -n "$RT" link add ${P}n type veth peer name ${P}n1 netns "$MN"
ip -n "$RT" addr add 10.71.3.1/24 dev ${P}c
ip -n "$RT" addr add fd71:3::1/64 dev ${P}c nodad
ip -n "$RT" addr add 10.71.1.1/24 dev ${P}o
ip -n "$RT" addr add fd71:1::1/64 dev ${P}o nodad
ip -n "$RT" addr add 10.71.2.1/24 dev ${P}n
ip -n "$RT" addr add fd71:2::1/64 dev ${P}n nodad
ip -n "$CN" addr add $CA/24 dev ${P}c1
ip -n "$CN" addr add $CA6/64 dev ${P}c1 nodad
ip -n "$MN" addr add $OLD/24 dev ${P}o1
ip -n "$MN" addr add $OLD6/64 dev ${P}o1 nodad
for l in "$RT ${P}c" "$RT ${P}o" "$RT ${P}n" "$CN ${P}c1" "$MN ${P}o1" "$MN ${P}n1"; do
  set -- $l; ip -n "$1" link set "$2" up
done
NS "$RT" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
# rt filters sources strictly (BCP 38 / uRPF): after the move the mobile's packets with source
# OLD arrive on the new link, and only the pair's static route for OLD lets them through.
NS "$RT" sysctl -qw net.ipv4.conf.all.rp_filter=1
ip -n "$CN" route add default via 10.71.3.1
ip -n "$CN" -6 route add default via fd71:3::1
ip -n "$MN" route add default via 10.71.1.1
ip -n "$MN" -6 route add default via fd71:1::1

t_check "before the move: cn reaches OLD (v4, v6)" \
  t_poll 10 sh -c "ip netns exec $CN ping -c1 -W1 $OLD && ip netns exec $CN ping -6 -c1 -W1 $OLD6"

# Probes (counters in tables of their own, at priority -400, before the translation): what
# travels on the wire between rt and mn, and what cn sees.
NS "$MN" nft -f - <<EOF
table inet ${P}probe {
  chain pre { type filter hook prerouting priority -400; policy accept;
    ip saddr $CA ip daddr $NEW udp dport 6002 counter name new_udp
    ip saddr $CA ip daddr $OLD udp dport 6002 counter name old_udp
  }
  counter new_udp {}
  counter old_udp {}
}
EOF
NS "$CN" nft -f - <<EOF
table inet ${P}probe {
  chain pre { type filter hook prerouting priority -400; policy accept;
    ip saddr $OLD udp sport 6002 counter name from_old
    ip saddr $NEW udp sport 6002 counter name from_new
  }
  counter from_old {}
  counter from_new {}
}
EOF

# Old sessions: TCP cn -> OLD:5001, UDP both ways OLD:6002 <-> cn:6001, IPv6 UDP too.
DUR=8
PIDS=()
t_cleanup 'for p in "${PIDS[@]}"; do kill $p; done'
NS "$MN" "$TG" tcp-server --bind $OLD:5001 --duration 30 --timeout 20 --json "$T_TMP/tcp-srv.json" &
PIDS+=($!)
NS "$MN" "$TG" udp --bind $OLD:6002 --to $CA:6001 --rate 200 --duration $DUR --wait 5 --json "$T_TMP/udp-mn.json" &
PIDS+=($!)
NS "$CN" "$TG" udp --bind $CA:6001 --to $OLD:6002 --rate 200 --duration $DUR --wait 5 --json "$T_TMP/udp-cn.json" &
PIDS+=($!)
NS "$MN" "$TG" udp --bind [$OLD6]:6004 --to [$CA6]:6003 --rate 200 --duration $DUR --wait 5 --json "$T_TMP/udp6-mn.json" &
PIDS+=($!)
NS "$CN" "$TG" udp --bind [$CA6]:6003 --to [$OLD6]:6004 --rate 200 --duration $DUR --wait 5 --json "$T_TMP/udp6-cn.json" &
PIDS+=($!)
sleep 0.3
NS "$CN" "$TG" tcp-client --to $OLD:5001 --rate 200000 --duration $DUR --timeout 20 --json "$T_TMP/tcp-cli.json" &
PIDS+=($!)
sleep 2.5

# The move (what mnd does on the mobile), then the pairs (what the SIP servers configure).
move() {
  ip -n "$MN" addr add $NEW/24 dev ${P}n1 &&
  ip -n "$MN" addr add $NEW6/64 dev ${P}n1 nodad &&
  ip -n "$MN" addr add $OLD/32 dev lo &&
  ip -n "$MN" addr add $OLD6/128 dev lo nodad &&
  ip -n "$MN" addr del $OLD/24 dev ${P}o1 &&
  ip -n "$MN" addr del $OLD6/64 dev ${P}o1 &&
  ip -n "$MN" link set ${P}o1 down &&
  ip -n "$MN" route replace default via 10.71.2.1 &&
  ip -n "$MN" -6 route replace default via fd71:2::1
}
t_cleanup NS "$RT" "$NC" -o nftnat destroy
t_cleanup NS "$MN" "$NC" -o nftnat destroy
pairs() {
  NS "$RT" "$NC" -o nftnat add mn1 $OLD $NEW --dst --route-via $NEW &&
  NS "$RT" "$NC" -o nftnat add mn1-v6 $OLD6 $NEW6 --dst --route-dev ${P}n &&
  NS "$MN" "$NC" -o nftnat add mn1 $NEW $OLD --dst --guard &&
  NS "$MN" "$NC" -o nftnat add mn1-v6 $NEW6 $OLD6 --dst --guard
}
t_check "the mobile moves to the new link" move
t_check "pairs installed on rt (OLD->NEW) and on the mobile (NEW->OLD, guarded)" pairs
t_check "static routes for OLD into the new network (protocol 176)" sh -c "
  ip -n $RT route show $OLD proto 176 | grep -q 'via $NEW dev ${P}n' &&
  ip -n $RT -6 route show $OLD6 proto 176 | grep -q 'dev ${P}n'"
t_check "pairs listed back" sh -c "
  [ \"\$(ip netns exec $RT $NC -o nftnat list | sort)\" = \"mn1 $OLD $NEW dst
mn1-v6 $OLD6 $NEW6 dst\" ] &&
  [ \"\$(ip netns exec $MN $NC -o nftnat list | sort)\" = \"mn1 $NEW $OLD dst,guard
mn1-v6 $NEW6 $OLD6 dst,guard\" ]"
t_check "rt's own packets to OLD are rewritten (route-type output chain)" NS "$RT" ping -c1 -W2 $OLD

# New sessions after the move use NEW directly, in both directions.
new_in() {  # cn -> NEW:5002
  NS "$MN" "$TG" tcp-server --bind $NEW:5002 --duration 10 --json "$T_TMP/new-in-srv.json" &
  local sp=$!
  sleep 0.3
  NS "$CN" "$TG" tcp-client --to $NEW:5002 --rate 100000 --duration 2 --json "$T_TMP/new-in-cli.json" &
  local cp=$!
  t_poll 3 sh -c "ip netns exec $MN ss -Htn state established '( sport = :5002 )' | grep -q '$NEW:5002 *$CA:'"
  local seen=$?
  wait $cp; wait $sp
  [ $seen -eq 0 ] && jq -e '.survived and .completed and .bytes_verified == .bytes_sent' "$T_TMP/new-in-cli.json"
}
new_out() {  # NEW -> cn:5003 (source chosen by the kernel: NEW on the new link)
  NS "$CN" "$TG" tcp-server --bind $CA:5003 --duration 10 --json "$T_TMP/new-out-srv.json" &
  local sp=$!
  sleep 0.3
  NS "$MN" "$TG" tcp-client --to $CA:5003 --rate 100000 --duration 2 --json "$T_TMP/new-out-cli.json" &
  local cp=$!
  t_poll 3 sh -c "ip netns exec $CN ss -Htn state established '( sport = :5003 )' | grep -q '$CA:5003 *$NEW:'"
  local seen=$?
  wait $cp; wait $sp
  [ $seen -eq 0 ] && jq -e '.survived and .completed and .bytes_verified == .bytes_sent' "$T_TMP/new-out-cli.json"
}
t_check "a new connection cn -> mobile uses NEW on both ends" new_in
t_check "a new connection mobile -> cn uses NEW on both ends" new_out

for p in "${PIDS[@]}"; do wait $p; done
PIDS=()
J() { jq -c "$1" "$T_TMP/$2"; }
echo "# tcp client: $(J '{survived,completed,bytes_sent,bytes_verified,stall_count,max_stall_ms}' tcp-cli.json)"
echo "# udp cn->OLD (rx at mobile):   $(J '{sent,received,lost,max_gap_ms,max_gap_at_ms}' udp-mn.json)"
echo "# udp OLD->cn (rx at cn):       $(J '{sent,received,lost,max_gap_ms,max_gap_at_ms}' udp-cn.json)"
echo "# udp6 cn->OLD6 (rx at mobile): $(J '{sent,received,lost,max_gap_ms,max_gap_at_ms}' udp6-mn.json)"
echo "# udp6 OLD6->cn (rx at cn):     $(J '{sent,received,lost,max_gap_ms,max_gap_at_ms}' udp6-cn.json)"

t_check "the TCP connection to OLD survived the move, every byte verified" \
  jq -e '.survived and .completed and .bytes_verified == .bytes_sent and .bytes_sent > 1000000' "$T_TMP/tcp-cli.json"
t_check "the TCP server at OLD saw the whole stream" jq -e '.survived and .bytes_sent > 1000000' "$T_TMP/tcp-srv.json"
for f in udp-mn udp-cn udp6-mn udp6-cn; do
  # the stream resumed: its END arrived and most of it got through (the move's gap aside)
  t_check "UDP stream ($f) resumed after the move" \
    jq -e '.end_seen and .gap_open == false and .received >= 0.8 * .sent and .max_gap_ms < 3000' "$T_TMP/$f.json"
done
t_check "on the wire rt -> mobile the old session's packets carry NEW" sh -c "[ \$(ip netns exec $MN nft -j list counter inet ${P}probe new_udp | jq '.nftables[1].counter.packets') -gt 100 ]"
t_check "cn saw the mobile's packets from OLD only" sh -c "
  [ \$(ip netns exec $CN nft -j list counter inet ${P}probe from_old | jq '.nftables[1].counter.packets') -gt 1000 ] &&
  [ \$(ip netns exec $CN nft -j list counter inet ${P}probe from_new | jq '.nftables[1].counter.packets') -eq 0 ]"

# Removing the pairs restores the plain behaviour.
t_check "pairs removed" sh -c "ip netns exec $RT $NC -o nftnat del mn1 && ip netns exec $RT $NC -o nftnat del mn1-v6 &&
  ip netns exec $MN $NC -o nftnat del mn1 && ip netns exec $MN $NC -o nftnat del mn1-v6 &&
  [ -z \"\$(ip netns exec $RT $NC -o nftnat list)\" ] && [ -z \"\$(ip netns exec $MN $NC -o nftnat list)\" ]"
t_check "without the pairs OLD is unreachable from cn" sh -c "! ip netns exec $CN ping -c2 -W1 $OLD && ! ip netns exec $CN ping -6 -c2 -W1 $OLD6"
t_check "without the pairs NEW is reachable from cn" sh -c "ip netns exec $CN ping -c1 -W2 $NEW && ip netns exec $CN ping -6 -c1 -W2 $NEW6"

t_check "destroy leaves nothing: empty rulesets, no route of protocol 176" sh -c "
  ip netns exec $RT $NC -o nftnat destroy && ip netns exec $MN $NC -o nftnat destroy &&
  ip netns exec $MN nft delete table inet ${P}probe && ip netns exec $CN nft delete table inet ${P}probe &&
  for n in $CN $RT $MN; do [ -z \"\$(ip netns exec \$n nft list ruleset)\" ] || exit 1;
    [ -z \"\$(ip -n \$n route show proto 176; ip -n \$n -6 route show proto 176)\" ] || exit 1; done"
t_done
