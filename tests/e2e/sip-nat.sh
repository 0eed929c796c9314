#!/usr/bin/env bash
# NAT session continuity with SIP (issue 6; seed 004 figures 1, 2, 3A, 3B; sip-mobility.md 4)
# end to end in netlab (etc/topologies/sip-nat.yml): three locations whose first-hop routers
# run sipd, 20 ms apart.  The mobile mn registers with sipd B from OLD (10.61.1.10, location
# 101); a TCP connection cn -> OLD and UDP streams both ways run; mn moves to location 102,
# gets NEW (10.61.2.10), installs its own guarded reverse pair (nftctl, as mnd's SIP agent will)
# and re-registers from NEW with X-Roam-Previous-Contact: OLD and the option tag in Require.
# sipd B checks the claim (digest-authenticated, OLD is a binding of the same AOR), installs
# OLD -> NEW with the static route for OLD on rb and tells sipd C (HMAC-authenticated MESSAGE),
# which installs OLD -> NEW on rc.  Checked:
#  - the TCP connection survives with every byte verified, the UDP streams resume, cn keeps
#    using OLD; a connection opened after the move uses NEW on both ends;
#  - the routers' tables hold exactly the pairs of current bindings (nft -j list table inet
#    roam_sipd), rb the protocol-176 route OLD via NEW;
#  - refused: another user claiming OLD (403), no credentials (401), a malformed header (400),
#    the extension off on sipd A (420 + Unsupported), a forged peer MESSAGE (403); malformed and
#    oversized messages (400 or dropped); nothing installed by any of them, all counted;
#  - sipd B restarted: its pair adopted from the snapshot, a stale pair of an earlier run
#    removed; the binding removed: the pairs go on rb and (peer notification) on rc;
#  - tshark decodes every SIP packet captured on rb with no malformed packet or expert error.
# Budget: about 60 s.
. "$(dirname "$0")/lib.sh"

TOPO=etc/topologies/sip-nat.yml
P=sipnat$$
P=${P:0:20}
for b in sipd nftctl roamctl netlab linkem trafgen; do
  [ -x "$BIN/$b" ] || { t_fail "binaries" "$BIN/$b missing"; t_done; }
done
for c in jq tshark python3 nft ip ss; do command -v $c >/dev/null || { t_fail "$c" "$c is required"; t_done; }; done

export NETLAB_RUNDIR="$T_TMP/runs"
NL() { "$BIN/netlab" --bin "$BIN" -p "$P" "$@"; }
t_cleanup '"$BIN/netlab" --bin "$BIN" -p '$P' down'
# secrets: sipd refuses files readable by others (git keeps no modes)
chmod 600 etc/topologies/sip-nat/sipd.users etc/topologies/sip-nat/peer-bc.key

OLD=10.61.1.10 NEW=10.61.2.10 CA=10.61.3.10
B=10.61.254.2 C=10.61.254.3 A=10.61.254.1
REG="python3 $PWD/tests/e2e/helpers/sipreg.py"
ctl() { local s=$1; shift; NL exec "$s" roamctl -s /run/roam/sipd.sock --json "$@"; }
st() { ctl "$1" stats | jq -r ".$2"; }
expect_stat() { local v; v=$(st "$1" "$2") && jq -en "$v $3 $4" >/dev/null || { echo "$1 $2 = $v, want $3 $4"; return 1; }; }
# the pairs in a router's table, "tag old new flags" sorted (roam_nft_list through nftctl)
pairs() { NL exec "$1" nftctl -o sipd list | sort; }
npairs() { pairs "$1" | grep -c . ; }
# the rules of roam_sipd as nft lists them: every rule must carry a tag of a current pair
rule_tags() { NL exec "$1" nft -j list table inet roam_sipd | jq -r '.nftables[] | select(.rule) | .rule.comment' | sort -u; }
mn_reg() { NL exec mn $REG --server $B --domain roam.test "$@"; }
code_of() { jq -r .code; }
# chk 'SHELL CONDITION': evaluated in this shell (the functions above are usable)
chk() { eval "$1"; }

if ! NL up "$TOPO" >"$T_TMP/up.log" 2>&1; then
  t_fail "netlab up" "$(tail -5 "$T_TMP/up.log" | tr '\n' ' ')"
  t_done
fi
t_ok "netlab up: three routers with sipd, cn, mn"

# ---- capture SIP on rb (all its interfaces) ----
CAP=$T_TMP/sip-nat.pcap
ip netns exec $P-rb tshark -q -i any -f "udp port 5060" -w "$CAP" >"$T_TMP/tshark.log" 2>&1 &
TSHARK=$!
t_cleanup 'kill $TSHARK 2>/dev/null'
t_capturing "$T_TMP/tshark.log" || t_fail "tshark capture" "$(cat "$T_TMP/tshark.log")"

# ---- before the move: mn at OLD in location 101, registered with sipd B ----
NL exec mn ip addr add $OLD/24 dev radio0
NL exec mn ip route add default via 10.61.1.1
t_check "cn reaches OLD through ra" t_poll 10 NL exec cn ping -c1 -W1 $OLD
r=$(mn_reg --bind $OLD --password mn-secret-1)
t_check "mn registers with sipd B from OLD: 200" test "$(echo "$r" | code_of)" = 200
t_check "B lists x-roam-nat-continuity in Supported" sh -c "echo '$r' | jq -e '.headers.supported[] | select(. == \"x-roam-nat-continuity\")'"
t_check "no pair anywhere yet" sh -c "[ -z \"\$(ip netns exec $P-rb nft list table inet roam_sipd 2>/dev/null | grep comment)\" ]"

# ---- sessions started before the move ----
DUR=10
PIDS=()
t_cleanup 'for p in "${PIDS[@]}"; do kill $p 2>/dev/null; done'
NL exec mn trafgen tcp-server --bind $OLD:5001 --duration 30 --timeout 20 --json "$T_TMP/tcp-srv.json" &
PIDS+=($!)
NL exec mn trafgen udp --bind $OLD:6002 --to $CA:6001 --rate 100 --duration $DUR --wait 5 --json "$T_TMP/udp-mn.json" &
PIDS+=($!)
NL exec cn trafgen udp --bind $CA:6001 --to $OLD:6002 --rate 100 --duration $DUR --wait 5 --json "$T_TMP/udp-cn.json" &
PIDS+=($!)
sleep 0.5
NL exec cn trafgen tcp-client --to $OLD:5001 --rate 100000 --duration $DUR --timeout 20 --json "$T_TMP/tcp-cli.json" &
PIDS+=($!)
sleep 3

# ---- the move (what mnd does), the mobile's own guarded reverse pair, the REGISTER ----
# arp_announce 2: the mobile's ARP requests on the new link name NEW, not OLD (the source of
# the old sessions' packets that trigger them): rb's strict reverse-path filter drops an ARP
# request from OLD until the static route is there, which needs the REGISTER, which needs ARP.
move() {
  NL exec mn sysctl -qw net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.radio0.arp_announce=2 &&
  NL move mn --to netb &&
  NL exec mn ip addr add $NEW/24 dev radio0 &&
  NL exec mn ip addr add $OLD/32 dev lo &&
  NL exec mn ip addr del $OLD/24 dev radio0 &&
  NL exec mn ip route replace default via 10.61.2.1 &&
  NL exec mn nftctl -o mn add mn-move $NEW $OLD --dst --guard
}
t_cleanup "ip netns exec $P-mn $BIN/nftctl -o mn destroy"
t_check "mn moves to location 102 (NEW), reverse pair NEW -> OLD guarded on mn" move
r=$(mn_reg --bind $NEW --password mn-secret-1 --prev $OLD --remove-contact $OLD)
echo "# move REGISTER: $(echo "$r" | jq -c "{code,reason}")"
t_check "REGISTER from NEW claiming OLD: 200" test "$(echo "$r" | code_of)" = 200
t_check "200 echoes X-Roam-Previous-Contact OLD" sh -c "echo '$r' | jq -e '.headers[\"x-roam-previous-contact\"][0] == \"<sip:$OLD>\"'"
t_check "rb: pair OLD -> NEW (dst)" t_poll 5 sh -c "[ \"\$(ip netns exec $P-rb $BIN/nftctl -o sipd list | awk '{print \$2, \$3, \$4}')\" = '$OLD $NEW dst' ]"
t_check "rb: static route OLD via NEW, protocol 176" sh -c "ip -n $P-rb route show $OLD proto 176 | grep -q 'via $NEW'"
t_check "rc: pair OLD -> NEW (dst), installed for peer B" t_poll 5 sh -c "[ \"\$(ip netns exec $P-rc $BIN/nftctl -o sipd list | awk '{print \$2, \$3, \$4}')\" = '$OLD $NEW dst' ]"
t_check "rc: no route of protocol 176 (correspondent side)" sh -c "[ -z \"\$(ip -n $P-rc route show proto 176)\" ]"
t_check "B: claim ok, pair installed, peer acked" chk "expect_stat rb nat_claims_ok == 1 && expect_stat rb nat_pairs_installed == 1 && t_poll 5 expect_stat rb nat_peer_acked '>=' 1"
t_check "C: notification received, pair installed" chk "expect_stat rc nat_peer_received '>=' 1 && expect_stat rc nat_pairs_installed == 1"
t_check "ra's sipd (extension off) created no table" sh -c "! ip netns exec $P-ra nft list table inet roam_sipd"

# ---- a session started after the move uses NEW on both ends ----
new_in() {
  NL exec mn trafgen tcp-server --bind $NEW:5002 --duration 8 --json "$T_TMP/new-srv.json" &
  local sp=$!
  sleep 0.3
  NL exec cn trafgen tcp-client --to $NEW:5002 --rate 100000 --duration 2 --json "$T_TMP/new-cli.json" &
  local cp=$!
  t_poll 4 sh -c "ip netns exec $P-mn ss -Htn state established '( sport = :5002 )' | grep -q '$NEW:5002 *$CA:'"
  local seen=$?
  wait $cp; wait $sp
  [ $seen -eq 0 ] && jq -e '.survived and .completed and .bytes_verified == .bytes_sent' "$T_TMP/new-cli.json"
}
t_check "a new connection cn -> mn uses NEW on both ends" new_in

# ---- refused claims (well-formed SIP: still captured) ----
before_rb=$(pairs rb); before_rc=$(pairs rc)
r=$(NL exec mn $REG --server $B --domain roam.test --bind $NEW --lport 5070 --user mallory --password mallory-secret --prev $OLD)
t_check "mallory claims mn's OLD: 403" sh -c "echo '$r' | jq -e '.code == 403 and .reason == \"Previous Contact Not Yours\"'"
r=$(mn_reg --bind $NEW --lport 5071 --prev 10.61.1.99 --password mn-secret-1)
t_check "mn claims an address that was never its: 403" test "$(echo "$r" | code_of)" = 403
r=$(mn_reg --bind $NEW --lport 5072 --prev $OLD --no-auth)
t_check "a claim without credentials: 401 challenge, nothing else" test "$(echo "$r" | code_of)" = 401
r=$(mn_reg --bind $NEW --lport 5073 --prev $OLD --password wrong-password)
t_check "a claim with a wrong password: 401" test "$(echo "$r" | code_of)" = 401
r=$(mn_reg --bind $NEW --lport 5074 --prev not-an-address --password mn-secret-1)
t_check "a malformed X-Roam-Previous-Contact: 400" test "$(echo "$r" | code_of)" = 400
r=$(NL exec mn $REG --server $A --domain a.test --bind $NEW --lport 5075 --prev $OLD --no-auth)
t_check "sipd A (extension off): 420 with Unsupported" sh -c "echo '$r' | jq -e '.code == 420 and .headers.unsupported[0] == \"x-roam-nat-continuity\"'"
t_check "B counted the refusals" chk 'expect_stat rb nat_claims_refused_not_yours == 2 && expect_stat rb nat_claims_refused_bad_header == 1'
# a forged peer notification to C (right key id, wrong MAC): 403, counted, nothing installed
body=$(printf 'aor=sip:mn@roam.test\r\nold=10.61.3.10\r\nnew=10.61.2.10\r\nexpires=3600\r\n')
{ printf 'MESSAGE sip:%s:5060 SIP/2.0\r\nVia: SIP/2.0/UDP %s:5076;branch=z9hG4bKforged1;rport\r\n' $C $NEW
  printf 'Max-Forwards: 70\r\nFrom: <sip:b@%s>;tag=f1\r\nTo: <sip:%s:5060>\r\nCall-ID: forged1@%s\r\n' $B $C $NEW
  printf 'CSeq: 1 MESSAGE\r\nRequire: x-roam-nat-continuity\r\n'
  printf 'X-Roam-Peer-Auth: hmac-sha256 key=b, seq=%s, mac=%064d\r\n' "$(date +%s%3N)" 0
  printf 'Content-Type: application/x-roam-nat-continuity\r\nContent-Length: %d\r\n\r\n%s\r\n' $((${#body} + 2)) "$body"
} > "$T_TMP/forged.sip"
r=$(NL exec mn $REG --server $C --bind $NEW --lport 5076 --raw "$T_TMP/forged.sip")
t_check "a forged peer MESSAGE to C: 403 Bad Peer MAC" sh -c "echo '$r' | jq -e '.code == 403 and .reason == \"Bad Peer MAC\"'"
t_check "C counted it" chk 'expect_stat rc nat_peer_refused_bad_mac == 1'
t_check "no refused claim changed a ruleset" sh -c "[ \"\$(ip netns exec $P-rb $BIN/nftctl -o sipd list | sort)\" = '$before_rb' ] && [ \"\$(ip netns exec $P-rc $BIN/nftctl -o sipd list | sort)\" = '$before_rc' ]"

# ---- the sessions of before the move ----
for p in "${PIDS[@]}"; do wait $p; done
PIDS=()
J() { jq -c "$1" "$T_TMP/$2"; }
echo "# tcp client: $(J '{survived,completed,bytes_sent,bytes_verified,stall_count,max_stall_ms}' tcp-cli.json)"
echo "# udp cn->OLD (rx at mn): $(J '{sent,received,lost,max_gap_ms,max_gap_at_ms}' udp-mn.json)"
echo "# udp OLD->cn (rx at cn): $(J '{sent,received,lost,max_gap_ms,max_gap_at_ms}' udp-cn.json)"
t_check "the TCP connection to OLD survived the move, every byte verified" \
  jq -e '.survived and .completed and .bytes_verified == .bytes_sent and .bytes_sent > 100000' "$T_TMP/tcp-cli.json"
t_check "the TCP server at OLD saw the whole stream" jq -e '.survived' "$T_TMP/tcp-srv.json"
for f in udp-mn udp-cn; do
  t_check "UDP stream ($f) resumed after the move" \
    jq -e '.end_seen and .gap_open == false and .received >= 0.6 * .sent' "$T_TMP/$f.json"
done

# ---- the routers hold only what current bindings need ----
t_check "rb: one tag in roam_sipd, that of the pair" sh -c "[ \"\$(ip netns exec $P-rb nft -j list table inet roam_sipd | jq -r '.nftables[] | select(.rule) | .rule.comment' | sort -u)\" = \"\$(ip netns exec $P-rb $BIN/nftctl -o sipd list | awk '{print \$1}')\" ] && [ \$(ip netns exec $P-rb $BIN/nftctl -o sipd list | wc -l) -eq 1 ]"
t_check "rc: one tag in roam_sipd" sh -c "[ \$(ip netns exec $P-rc nft -j list table inet roam_sipd | jq -r '.nftables[] | select(.rule) | .rule.comment' | sort -u | wc -l) -eq 1 ]"
t_check "B's nat command lists the pair (binding, new-hop)" chk "ctl rb nat | jq -e 'length == 1 and .[0].origin == \"binding\" and .[0].role == \"new-hop\" and .[0].old == \"$OLD\"'"
t_check "C's nat command lists the pair (peer b, cn-hop)" chk "ctl rc nat | jq -e 'length == 1 and .[0].origin == \"peer\" and .[0].peer == \"b\" and .[0].role == \"cn-hop\"'"

# ---- capture: every SIP packet decodes cleanly (before the deliberately broken input) ----
sleep 0.5
kill -INT $TSHARK; wait $TSHARK 2>/dev/null
total=$(tshark -r "$CAP" -T fields -e frame.number 2>/dev/null | wc -l)
sip=$(tshark -r "$CAP" -Y sip -T fields -e frame.number 2>/dev/null | wc -l)
bad=$(tshark -r "$CAP" -Y '_ws.malformed || _ws.expert.severity >= "Error"' -T fields -e frame.number 2>/dev/null)
echo "# capture on rb: $total packets, $sip SIP"
t_check "capture holds the REGISTERs, the peer MESSAGE and their responses ($total)" test "$total" -ge 12
t_check "every captured packet decodes as SIP ($sip of $total)" test "$sip" -eq "$total"
t_check "no malformed packet and no expert error" test -z "$bad"
t_check "the peer MESSAGE and its 200 are in the capture" sh -c "[ \$(tshark -r $CAP -Y 'sip.Method == \"MESSAGE\" && sip.Require == \"x-roam-nat-continuity\"' 2>/dev/null | wc -l) -ge 1 ] && [ \$(tshark -r $CAP -Y 'sip.CSeq.method == \"MESSAGE\" && sip.Status-Code == 200' 2>/dev/null | wc -l) -ge 1 ]"

# ---- malformed and oversized input: 400 or dropped, counted, nothing installed ----
printf 'REGISTER sip:roam.test SIP/2.0\r\nVia: SIP/2.0/UDP %s:5077;branch=z9hG4bKbad1;rport\r\nFrom: <sip:mn@roam.test>;tag=1\r\nTo: <sip:mn@roam.test>\r\nCall-ID: bad1\r\nCSeq: nine REGISTER\r\nRequire: x-roam-nat-continuity\r\nX-Roam-Previous-Contact: <sip:mn@%s>\r\nContent-Length: 0\r\n\r\n' $NEW $OLD > "$T_TMP/badcseq.sip"
r=$(NL exec mn $REG --server $B --bind $NEW --lport 5077 --raw "$T_TMP/badcseq.sip")
t_check "a REGISTER with a bad CSeq: 400" test "$(echo "$r" | code_of)" = 400
printf '\x01\x02 garbage \xff\r\n\r\n' > "$T_TMP/garbage.sip"
d0=$(st rb drop_unparseable)
NL exec mn $REG --server $B --bind $NEW --lport 5078 --timeout 1.5 --raw "$T_TMP/garbage.sip" >/dev/null
t_check "garbage: dropped and counted" chk "expect_stat rb drop_unparseable '>' $d0"
{ printf 'REGISTER sip:roam.test SIP/2.0\r\nVia: SIP/2.0/UDP %s:5079;branch=z9hG4bKbig1\r\nFrom: <sip:mn@roam.test>;tag=1\r\nTo: <sip:mn@roam.test>\r\nCall-ID: big1\r\nCSeq: 1 REGISTER\r\nRequire: x-roam-nat-continuity\r\n' $NEW
  for i in $(seq 200); do printf 'X-Roam-Previous-Contact: <sip:mn@10.61.1.%d>\r\n' $((i % 250 + 1)); done
  printf 'Content-Length: 0\r\n\r\n'; } > "$T_TMP/big.sip"
d0=$(st rb drop_oversize)
NL exec mn $REG --server $B --bind $NEW --lport 5079 --timeout 1.5 --raw "$T_TMP/big.sip" >/dev/null
t_check "an oversized REGISTER ($(stat -c %s "$T_TMP/big.sip") bytes > 8 KiB): dropped and counted" chk "expect_stat rb drop_oversize '>' $d0"
t_check "none of it changed rb's ruleset" sh -c "[ \"\$(ip netns exec $P-rb $BIN/nftctl -o sipd list | sort)\" = '$before_rb' ]"

# ---- restart of sipd B: its pair adopted, a stale pair of an earlier run removed ----
NL exec rb nftctl -o sipd add l00000000deadbeef.00000000 10.61.1.77 10.61.2.77 --dst
t_check "a stale pair (binding gone while sipd was down) is in rb's table" sh -c "ip netns exec $P-rb $BIN/nftctl -o sipd list | grep -q l00000000deadbeef"
tag=$(pairs rb | awk '$2 == "'$OLD'" {print $1}')
pidf=$NETLAB_RUNDIR/$P/rb/run/sipd.pid
restart_b() {
  local pid; pid=$(cat "$pidf") || return 1
  kill -TERM "$pid" || return 1
  t_poll 10 sh -c "! kill -0 $pid 2>/dev/null" || return 1
  NL exec rb sipd -f -c /etc/roam/sipd.yaml -p /run/roam/sipd.pid >"$T_TMP/sipd-b2.log" 2>&1 &
  t_poll 10 chk 'ctl rb status >/dev/null'
}
t_check "sipd B restarted (SIGTERM: snapshot saved; started again)" restart_b
t_check "after the restart: the binding's pair kept, the stale one removed" sh -c "[ \"\$(ip netns exec $P-rb $BIN/nftctl -o sipd list | sort)\" = '$before_rb' ]"
t_check "B counted one reconciled pair, adopted the other" chk "expect_stat rb nat_pairs_reconciled == 1 && ctl rb nat | jq -e 'length == 1 and .[0].tag == \"$tag\"'"
t_check "cn still reaches OLD after the restart" NL exec cn ping -c1 -W2 $OLD

# ---- the binding goes: the pairs go on rb and, told by B, on rc ----
t_check "unregister mn on B" chk "ctl rb unregister aor=sip:mn@roam.test | jq -e '.removed >= 1'"
t_check "rb: no pair, no route of protocol 176 left" t_poll 5 sh -c "[ -z \"\$(ip netns exec $P-rb $BIN/nftctl -o sipd list)\" ] && [ -z \"\$(ip -n $P-rb route show proto 176)\" ]"
t_check "rc: the peer's pair removed too" t_poll 8 sh -c "[ -z \"\$(ip netns exec $P-rc $BIN/nftctl -o sipd list)\" ]"
t_check "rb and rc rulesets hold no rule of ours" sh -c "[ -z \"\$(ip netns exec $P-rb nft -j list table inet roam_sipd | jq -r '.nftables[] | select(.rule) | .rule.comment')\" ] && [ -z \"\$(ip netns exec $P-rc nft -j list table inet roam_sipd | jq -r '.nftables[] | select(.rule) | .rule.comment')\" ]"
t_check "C counted the removal" chk 'expect_stat rc nat_pairs_removed == 1'

t_check "netlab down" NL down
t_done
