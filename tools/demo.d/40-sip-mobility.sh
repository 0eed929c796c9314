# SIP re-INVITE mobility row (issue 6, seed 001 [71]-[77]): etc/topologies/sip-mobility.yml,
# sipd on the server network, cnd (`sip`) on the correspondent's network, mnd (`sip`) on a
# mobile whose radio moves between two cells with different subnets.  mn calls cn through sipd;
# the two agents' own RTP streams (50 packets/s each way, docs/protocols/sip-mobility.md 3.4)
# are the traffic of this row: terminal mobility changes the mobile's address, so the tour's
# trafgen streams (bound to one address) are not what it keeps -- a TCP connection does not
# survive it, which the row says.  Each move: `netlab move`, then the address of the new cell on
# radio0 (as a DHCP client would: old address removed, new one and its default route added);
# mnd re-REGISTERs and re-INVITEs.  Row figures: both RTP streams summed (sent, lost), the
# longest gap of either, whether both still flow at the end; counters: re-INVITEs sent by mnd
# and received by cnd, mnd's REGISTERs.

SIPMOB_TOPO=etc/topologies/sip-mobility.yml

sipmob_ctl() { "$ROAM_BIN/roamctl" -s "$("$NETLAB" -p "$DEMO_CUR_PROJECT" ctl "$1")" --json "${@:2}"; }
sipmob_addr() { # CELL: the mobile's address in that cell
  case $1 in cell1) echo 10.95.1.10 ;; cell2) echo 10.95.2.10 ;; esac
}
# sipmob_at OLD NEW: the mobile's address follows the cell it is now on.
sipmob_at() {
  local o n
  o=$(sipmob_addr "$1") n=$(sipmob_addr "$2")
  demo_exec mn ip addr del "$o/24" dev radio0 &&
  demo_exec mn ip addr add "$n/24" dev radio0 &&
  demo_exec mn ip route replace default via "${n%.*}.1"
}
sipmob_wait() { # SVC JQ: up to 20 s until `sip` of SVC satisfies JQ
  local i
  for ((i = 0; i < 200; i++)); do
    sipmob_ctl "$1" sip 2>/dev/null | jq -e "$2" >/dev/null && return 0
    sleep 0.1
  done
  demo_log "$1: timeout waiting for $2: $(sipmob_ctl "$1" sip 2>&1 | head -c 300)"
  return 1
}

tour_sip_mobility() {
  local d=$DEMO_DURATION m=$DEMO_MOVES k cur=cell1 next t0 at now
  chmod 600 etc/topologies/sip-mobility/sipd.users
  demo_up "$SIPMOB_TOPO" || return 1
  demo_exec mn ip addr add 10.95.1.10/24 dev radio0 &&
  demo_exec mn ip route add default via 10.95.1.1 || return 1
  sipmob_wait mn '.registrations[0].state == "registered"' || return 1
  sipmob_wait cn '.registrations[0].state == "registered"' || return 1
  sipmob_ctl mn sip-call uri=sip:cn@roam.example >/dev/null || return 1
  sipmob_wait cn '.calls[0].state == "confirmed" and .calls[0].media.rx > 10' || return 1
  t0=${EPOCHREALTIME/./}
  for ((k = 1; k <= m; k++)); do
    at=$((t0 + d * 1000000 * k / (m + 1))) now=${EPOCHREALTIME/./}
    if [ $at -gt $now ]; then sleep "$(printf '%d.%06d' $(((at - now) / 1000000)) $(((at - now) % 1000000)))"; fi
    next=$([ $cur = cell1 ] && echo cell2 || echo cell1)
    demo_log "move $k/$m -> $next"
    "$NETLAB" -p "$DEMO_CUR_PROJECT" move mn --to "$next" >/dev/null || return 1
    sipmob_at $cur $next || return 1
    cur=$next
  done
  at=$((t0 + d * 1000000)) now=${EPOCHREALTIME/./}
  if [ $at -gt $now ]; then sleep "$(printf '%d.%06d' $(((at - now) / 1000000)) $(((at - now) % 1000000)))"; fi
  local ms cs
  ms=$(sipmob_ctl mn sip) || return 1
  cs=$(sipmob_ctl cn sip) || return 1
  jq -n --arg scheme "$DEMO_SCHEME" --argjson moves "$m" --argjson duration "$d" \
    --argjson ms "$ms" --argjson cs "$cs" '
    ($ms.calls[0].media // {}) as $mm | ($cs.calls[0].media // {}) as $cm |
    {
      scheme: $scheme, moves: $moves, duration_s: $duration,
      udp_sent: (($mm.tx // 0) + ($cm.tx // 0)),
      udp_received: (($mm.rx // 0) + ($cm.rx // 0)),
      udp_lost: (($mm.lost // 0) + ($cm.lost // 0)),
      max_gap_ms: ([($mm.longest_gap_ms // 0), ($cm.longest_gap_ms // 0)] | max),
      udp_stopped: ((($mm.since_last_rx_ms // 99999) > 1000) or (($cm.since_last_rx_ms // 99999) > 1000)),
      tcp_survived: false,
      tcp_bytes_verified: 0, tcp_max_stall_ms: null,
      tcp_error: "not kept: the address changes",
      note: "RTP of the SIP agents both ways; re-REGISTER + re-INVITE through sipd per move",
      reinvites_sent: ($ms.counters.tx_reinvite // 0),
      reinvites_received: ($cs.counters.rx_reinvite // 0),
      registers_sent: ($ms.counters.tx_register // 0),
      peer_media_at_end: ($cs.calls[0].peer_media // null)
    }' >"$DEMO_ROW_DIR/row.json"
  sipmob_ctl mn sip-hangup call="$(echo "$ms" | jq '.calls[0].id')" >/dev/null || true
}
demo_row "SIP re-INVITE mobility" tour_sip_mobility
