# Mobile IPv4 with route optimization (issue 5, seed 002 figures 18-24; docs/protocols/mipv4.md
# 4 and 8.4): etc/topologies/mip4-ro.yml, the mip4-handoff topology with the correspondent cn
# running cnd.  had sends cnd Binding Updates and cn tunnels its traffic for the mobile's home
# address straight to the care-of address.  Dual radio, as the "MIPv4 synchronized (dual radio)"
# row: each move attaches the radio of the next cell, mnd registers there and the old radio is
# detached once mnd has released it, on had's deregistration reply, which now rides in the
# Binding Update to cnd and leaves cn behind the data cn already sent to the old care-of address.
# Uses the helpers of 20-mip4.sh (sourced before this file): mip4_ctl, mip4_wait_registered,
# mip4_netlab (the dual-radio move), mip4_counters.  Adds cnd's counters: cn_tunnelled (packets
# cnd tunnelled), cn_moves, cn_drr_relayed, and ha_tunnelled (packets had tunnelled for the
# binding: ~0 once cnd has its binding).

MIP4_RO_TOPO=etc/topologies/mip4-ro.yml

# mip4_ro_counters: cnd's and had's route-optimization counters into the row.
mip4_ro_counters() {
  local c b h
  c=$(mip4_ctl cn stats) || c='{}'
  b=$(mip4_ctl ha bindings) || b='[]'
  h=$(mip4_ctl ha status) || h='{}'
  jq --argjson c "$c" --argjson b "$b" --argjson h "$h" '. + {
      cn_tunnelled: ($c.modules.mip4.dp_tunnelled // null), cn_moves: ($c.modules.mip4.moved // null),
      cn_drr_relayed: ($c.modules.mip4.drr_relayed // null),
      ha_tunnelled: ($b[0].tunnelled // null),
      ha_bu_sent: ($h.route_optimization.bu_sent // null)}' \
    "$DEMO_ROW_DIR/row.json" >"$DEMO_ROW_DIR/row.json.tmp" && mv "$DEMO_ROW_DIR/row.json.tmp" "$DEMO_ROW_DIR/row.json"
}

tour_mip4_ro() {
  local topo dir i MIP4_NETLAB=$NETLAB
  dir=$(cd "$(dirname "$MIP4_RO_TOPO")" && pwd)/mip4-ro
  topo=$DEMO_ROW_DIR/mip4-ro.yml
  sed -e "s#\./mip4-ro/#$dir/#" "$MIP4_RO_TOPO" >"$topo" || return 1
  demo_up "$topo" || return 1
  mip4_wait_registered || return 1
  for ((i = 0; i < 50; i++)); do   # had's first Binding Update reached cnd
    mip4_ctl cn mip4-bindings 2>/dev/null | jq -e 'length == 1' >/dev/null && break
    sleep 0.1
  done
  MIP4_CUR=cell1
  local NETLAB=mip4_netlab
  demo_measure --mobile mn --cn cn --mobile-addr 10.93.0.100 --cn-addr 10.93.0.10 \
    --cells "cell1 cell2" \
    --note "two radios, cn tunnels to the care-of address; the deregistration reply relayed by cn" || return 1
  mip4_counters
  mip4_ro_counters
}
demo_row "MIPv4 synchronized (route optimized)" tour_mip4_ro
