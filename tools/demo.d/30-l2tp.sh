# L2TP rows (seed 000, US 2003/0224792; docs/protocols/l2tp-handoff.md):
# etc/topologies/l2tp-handoff.yml, the mobile mn (mnd's l2tp module: PPP over the access link,
# its PPP address on l2tp0) moving with one radio between cell1 (lac1) and cell2 (lac2), lnsd 20
# ms behind the LACs, the correspondent srv behind lnsd.  Traffic and figures as the baseline row
# (demo_measure) between srv and the mobile's PPP address, with `netlab move --notice 20`, plus
# the counters of mnd (ppp_negotiations, reattaches, address at the end) and lnsd
# (ppp_negotiations, handoffs_resumed).
#
# Rows:
#  - "L2TP handoff": handoff.enabled in lacd and lnsd.  The old LAC sends CDN with the handoff
#    cause and USER_MOVED; the LNS parks the call; the new LAC re-challenges the mobile (CHAP)
#    and sends a handoff ICRQ; the LNS resumes the parked call: PPP is not renegotiated and the
#    address is kept.
#  - "L2TP plain (PPP renegotiates)": the extension off (standard RFC 2661): every move is a
#    new call, PPP renegotiates from LCP and the mobile may get another address (then the TCP
#    connection dies).
# Variants are copies of the topology and its configs in the row's directory.

L2TP_TOPO=etc/topologies/l2tp-handoff.yml
L2TP_SRV=10.86.2.10

l2tp_ctl() { "$ROAM_BIN/roamctl" -s "$("$NETLAB" -p "$DEMO_CUR_PROJECT" ctl "$1")" --json "${@:2}"; }

# l2tp_variant on|off: a copy of the topology and its configs with handoff.enabled set; prints
# the topology's path.  The secrets get mode 0600 (git keeps no modes).
l2tp_variant() {
  local d=$DEMO_ROW_DIR/topo
  mkdir -p "$d" || return 1
  cp -p "$L2TP_TOPO" "$d/" && cp -rp "${L2TP_TOPO%.yml}" "$d/" || return 1
  chmod 600 "$d"/l2tp-handoff/lnsd-users "$d"/l2tp-handoff/lac-group.keys
  if [ "$1" = off ]; then
    sed -i '/^handoff:/,/^[a-z]/ s/^  enabled: yes/  enabled: no/' \
      "$d"/l2tp-handoff/lacd1.yaml "$d"/l2tp-handoff/lacd2.yaml "$d"/l2tp-handoff/lnsd.yaml || return 1
  fi
  echo "$d/l2tp-handoff.yml"
}

# l2tp_wait_up: until mnd's PPP is up (up to 20 s); prints the mobile's address.
l2tp_wait_up() {
  local i
  for ((i = 0; i < 200; i++)); do
    l2tp_ctl mn l2tp 2>/dev/null | jq -er 'select(.ppp_up) | .address' && return 0
    sleep 0.1
  done
  demo_log "mnd's PPP did not come up: $(l2tp_ctl mn l2tp 2>&1 | head -c 300)"
  return 1
}

# l2tp_counters ADDR0: adds mnd's and lnsd's counters to the row.
l2tp_counters() {
  local m l
  m=$(l2tp_ctl mn l2tp) || m='{}'
  l=$(l2tp_ctl lns stats) || l='{}'
  jq --argjson m "$m" --argjson l "$l" --arg a0 "$1" '. + {
      mnd_ppp_negotiations: ($m.ppp_negotiations // null), reattaches: ($m.reattaches // null),
      address_kept: (($m.address // "") == $a0),
      lnsd_ppp_negotiations: ($l.ppp_negotiations // null),
      handoffs_resumed: ($l.handoffs_resumed // null)}' \
    "$DEMO_ROW_DIR/row.json" >"$DEMO_ROW_DIR/row.json.tmp" && mv "$DEMO_ROW_DIR/row.json.tmp" "$DEMO_ROW_DIR/row.json"
}

# l2tp_row on|off NOTE
l2tp_row() {
  local topo a0
  topo=$(l2tp_variant "$1") || return 1
  demo_up "$topo" || return 1
  a0=$(l2tp_wait_up) || return 1
  demo_measure --mobile mn --cn srv --mobile-addr "$a0" --cn-addr $L2TP_SRV \
    --cells "cell1 cell2" --notice 20 --note "$2" || return 1
  l2tp_counters "$a0"
}

tour_l2tp_handoff() {
  l2tp_row on "call parked by the LNS and resumed on the new LAC: PPP not renegotiated, address kept"
}
tour_l2tp_plain() {
  l2tp_row off "RFC 2661 without the extension: a new call per move, PPP renegotiated from LCP"
}
demo_row "L2TP handoff" tour_l2tp_handoff
demo_row "L2TP plain (PPP renegotiates)" tour_l2tp_plain
