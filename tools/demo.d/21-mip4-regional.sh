# Mobile IPv4 regional registration through a GFA (issue 5, RFC 4857, seed 002 figures 25-31;
# docs/protocols/mipv4.md 8.5): etc/topologies/mip4-regional.yml, the mip4-handoff topology with
# the region's gateway gw running fad as GFA and the two cells' fads configured with the region
# (they advertise I and the GFA's address, relay to the GFA).  Dual radio, as the "MIPv4
# synchronized (dual radio)" row: each move attaches the radio of the next cell, mnd sends a
# Regional Registration Request (18) through it, the GFA answers with the dual reply (19 to the
# new FA, the deregistration reply behind the data on the old FA's path) and the old radio is
# detached once mnd has released it; had sees only the first registration.
# Uses the helpers of 20-mip4.sh (sourced before this file): mip4_ctl, mip4_wait_registered,
# mip4_netlab (the dual-radio move), mip4_counters.  Adds: regional (regional replies mnd
# accepted), gfa_dual_replies, gfa_tunnelled (packets the GFA tunnelled to the lower FAs) and
# ha_accepted (registrations had accepted: 1 for the whole row).

MIP4_REGIONAL_TOPO=etc/topologies/mip4-regional.yml

# mip4_regional_counters: the GFA's, mnd's regional and had's counters into the row.
mip4_regional_counters() {
  local m g h
  m=$(mip4_ctl mn mip4) || m='{}'
  g=$(mip4_ctl gw stats) || g='{}'
  h=$(mip4_ctl ha stats) || h='{}'
  jq --argjson m "$m" --argjson g "$g" --argjson h "$h" '. + {
      regional: ($m.counters.regional_replies_ok // null),
      gfa_dual_replies: ($g.gfa_dual_replies // null), gfa_tunnelled: ($g.gfa_tunnelled // null),
      ha_accepted: ($h.accepted // null)}' \
    "$DEMO_ROW_DIR/row.json" >"$DEMO_ROW_DIR/row.json.tmp" && mv "$DEMO_ROW_DIR/row.json.tmp" "$DEMO_ROW_DIR/row.json"
}

tour_mip4_regional() {
  local topo dir MIP4_NETLAB=$NETLAB
  dir=$(cd "$(dirname "$MIP4_REGIONAL_TOPO")" && pwd)/mip4-regional
  topo=$DEMO_ROW_DIR/mip4-regional.yml
  sed -e "s#\./mip4-regional/#$dir/#" "$MIP4_REGIONAL_TOPO" >"$topo" || return 1
  demo_up "$topo" || return 1
  mip4_wait_registered || return 1
  MIP4_CUR=cell1
  local NETLAB=mip4_netlab
  demo_measure --mobile mn --cn cn --mobile-addr $MIP4_HOME --cn-addr $MIP4_CN \
    --cells "cell1 cell2" \
    --note "two radios in a GFA region: regional registrations, the GFA's dual reply; had sees one registration" || return 1
  mip4_counters
  mip4_regional_counters
}
demo_row "MIPv4 synchronized (regional, GFA)" tour_mip4_regional
