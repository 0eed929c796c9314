#!/usr/bin/env bash
# e2e-timeout: 1200 (eleven rows of the tour, each brought up and down by netlab)
# The `make demo` tour, shortened (DEMO_DURATION): report.json has one well-formed object per
# row, the baseline row shows the loss of a move without mobility support, the Mobile IPv4 rows
# (tools/demo.d/20-mip4.sh) are there and the synchronized dual-radio handoff loses nothing, the
# L2TP rows (tools/demo.d/30-l2tp.sh) show the handoff resumed without renegotiation and the
# plain row renegotiating, and the tour leaves nothing behind.  Also checks that an interrupted
# tour cleans up.
source "$(dirname "$0")/lib.sh"
export DEMO_DIR="$T_TMP/demo" DEMO_DURATION=${DEMO_DURATION:-6} DEMO_MOVES=${DEMO_MOVES:-3}
t_cleanup '"$BIN/netlab" -p tour down'
t_cleanup '"$BIN/netlab" -p mip4h down'
t_cleanup '"$BIN/netlab" -p l2h down'
t_cleanup '"$BIN/netlab" -p mip4ro down'

no_tour_left() {
  ! ip netns list | grep -q '^tour-\|^mip4h-\|^l2h-\|^mip4ro-' &&
  [ ! -e /run/roam-netlab/mip4ro/state ] &&
  [ ! -e /run/roam-netlab/tour/state ] && [ ! -e /run/roam-netlab/mip4h/state ] &&
  [ ! -e /run/roam-netlab/l2h/state ]
}

t_check "the tour runs" env BIN="$BIN" tools/demo.sh
R="$DEMO_DIR/report.json"
t_check "report.json is a non-empty list" jq -e 'type == "array" and length >= 1' "$R"
t_check "every row has the common fields" jq -e 'all(.[]; (.scheme | type) == "string"
  and (.moves | type) == "number" and (.udp_sent | type) == "number"
  and (.udp_lost | type) == "number" and has("max_gap_ms") and (.tcp_survived | type) == "boolean")' "$R"
t_check "the baseline row is there" jq -e 'any(.[]; .scheme == "No mobility (baseline)")' "$R"
B='.[] | select(.scheme == "No mobility (baseline)")'
t_check "baseline: the moves happened" jq -e "$B | .moves == $DEMO_MOVES" "$R"
t_check "baseline: UDP was sent" jq -e "$B | .udp_sent > 0" "$R"
t_check "baseline: UDP got through before the first move" jq -e "$B | .udp_received > 0" "$R"
t_check "baseline: UDP lost packets" jq -e "$B | .udp_lost > 0" "$R"
t_check "baseline: the TCP connection did not survive" jq -e "$B | .tcp_survived == false" "$R"
for s in "MIPv4 synchronized (dual radio)" "MIPv4 synchronized (single radio)" "MIPv4 synchronized (late reply)" "MIPv4 plain RFC 5944"; do
  t_check "row '$s' is there, its moves happened" jq -e --arg s "$s" \
    "any(.[]; .scheme == \$s and .moves == $DEMO_MOVES and .udp_sent > 0 and .handoffs == $DEMO_MOVES)" "$R"
done
D='.[] | select(.scheme == "MIPv4 synchronized (dual radio)")'
t_check "dual radio: every move ended by a deregistration reply" jq -e "$D | .dereg_replies == $DEMO_MOVES and .links_released == $DEMO_MOVES" "$R"
t_check "dual radio: no UDP packet lost" jq -e "$D | .udp_lost == 0 and .udp_received == .udp_sent and .udp_stopped == false" "$R"
t_check "dual radio: the TCP connection survived" jq -e "$D | .tcp_survived == true and .tcp_bytes_verified > 0" "$R"
S='.[] | select(.scheme == "MIPv4 synchronized (single radio)")'
t_check "single radio: an FBU per move, accepted by the old FA" jq -e "$S | .fbu_sent == $DEMO_MOVES and .fa_fbu_accepted == $DEMO_MOVES" "$R"
t_check "single radio: no UDP packet lost, the new FA expected the mobile on every move" jq -e "$S | .udp_lost == 0 and .udp_received == .udp_sent and .fa_anticipated >= $DEMO_MOVES" "$R"
S='.[] | select(.scheme == "MIPv4 synchronized (late reply)")'
t_check "late reply: an FBU per move on the notice, each acknowledged via the new FA, no UDP packet lost" jq -e "$S | .fbu_sent == $DEMO_MOVES and .fback_rx == $DEMO_MOVES and .udp_lost == 0" "$R"
P='.[] | select(.scheme == "MIPv4 plain RFC 5944")'
t_check "plain: figures reported, no deregistration reply, no FBU" jq -e "$P | (.udp_lost | type) == \"number\"
  and (.tcp_survived | type) == \"boolean\" and .dereg_replies == 0 and .drr_sent == 0 and .fbu_sent == 0" "$R"
t_check "plain: the stream still flows at the end" jq -e "$P | .udp_stopped == false and .udp_received > 0" "$R"
O='.[] | select(.scheme == "MIPv4 synchronized (route optimized)")'
t_check "route optimized: every move ended by the deregistration reply relayed by cn, no UDP packet lost" \
  jq -e "$O | .moves == $DEMO_MOVES and .handoffs == $DEMO_MOVES and .cn_drr_relayed == $DEMO_MOVES
  and .udp_lost == 0 and .udp_received == .udp_sent and .tcp_survived == true" "$R"
t_check "route optimized: cn tunnelled to the care-of address itself, had did not" \
  jq -e "$O | .cn_tunnelled > 0 and .ha_tunnelled <= 20" "$R"
L='.[] | select(.scheme == "L2TP handoff")'
t_check "L2TP handoff: every move resumed, PPP negotiated once, address and TCP kept" jq -e "$L |
  .moves == $DEMO_MOVES and .handoffs_resumed == $DEMO_MOVES and .mnd_ppp_negotiations == 1
  and .lnsd_ppp_negotiations == 1 and .address_kept == true and .tcp_survived == true" "$R"
L='.[] | select(.scheme == "L2TP plain (PPP renegotiates)")'
t_check "L2TP plain: PPP renegotiated on the moves, nothing resumed" jq -e "$L |
  .moves == $DEMO_MOVES and .mnd_ppp_negotiations > 1 and .handoffs_resumed == 0" "$R"
echo "# $(jq -r '.[] | "\(.scheme): lost \(.udp_lost)/\(.udp_sent), gap \(.max_gap_ms) ms, TCP \(.tcp_survived)"' "$R" | paste -sd ';' -)"
t_check "the tour left nothing behind" no_tour_left

# Interrupted in the middle of a row: still cleans up.  (SIGTERM: a background job of a
# script ignores SIGINT; at a terminal Ctrl-C reaches the same trap.)
DEMO_DURATION=60 BIN="$BIN" tools/demo.sh >"$T_TMP/int.out" 2>&1 &
pid=$!
t_poll 30 grep -q "move 1/" "$T_TMP/int.out"
started=$SECONDS
kill -TERM $pid
wait $pid
t_check "interrupted tour exits with 130" test $? -eq 130
t_check "interrupted tour stopped at once" test $((SECONDS - started)) -lt 20
t_check "interrupted tour left nothing behind" t_poll 10 no_tour_left
t_done
