# Mobile IPv4 rows (issue 5): etc/topologies/mip4-handoff.yml, had (data plane) on the home
# network with the correspondent cn, 20 ms of backbone, fad on each of the two cells, mnd on the
# mobile (home address 10.92.0.100, kept on lo).  Traffic and figures as the baseline row
# (demo_measure), plus mnd's and had's counters: handoffs, dereg_replies (deregistration replies
# the mobile received through the old path), links_released, fbu_sent, fback_rx (mnd), drr_sent
# (had), fa_fbu_accepted, fa_forwarded, fa_drop_no_visitor (both fads, summed).
#
# Rows:
#  - "MIPv4 synchronized (dual radio)": Phase I.  Each move attaches the radio of the next cell
#    (netlab attach), mnd registers through that cell's fad and switches its sending path on the
#    reply; the old radio is detached (netlab detach) once mnd has released the old link, which
#    it does on had's deregistration reply arriving through the old fad behind the data.
#  - "MIPv4 synchronized (single radio)": Phase III.  One radio with both cells, `netlab move
#    --notice 50`: mnd sends a Fast Binding Update to the old fad on the link-going-down notice,
#    the old fad forwards what still arrives there to the new care-of address and sends its
#    FBAck there first; the new fad takes the FBAck as the announcement of the mobile
#    (anticipated visitor) and holds the FBAck, the forwarded data and the mobile's upstream
#    until the mobile's registration there is accepted (fa_anticipated, fa_held).  When the
#    mobile comes back before the forwarding ends, the forwarding entry ends instead of looping.
#  - "MIPv4 synchronized (late reply)": Phase II.  Two radios as the dual-radio row, but had
#    holds its deregistration reply for 2 s (had-late.yaml, drr_delay: a test knob standing in
#    for a slow old path): after the registration via the new cell the row sends mnd a
#    link-going-down notice for the old radio, mnd sends the FBU to the old fad, which forwards
#    to the new care-of address and answers the FBAck through the new fad; the old radio is
#    detached once the FBAck is in (fback_rx).
#  - "MIPv4 plain RFC 5944": the single-radio move with synchronization off in had and mnd
#    (break before make: what was tunnelled to the old care-of address is lost; no FBU).
# Variants are copies of the topology in the row's directory with another mnd/had config mounted.

MIP4_TOPO=etc/topologies/mip4-handoff.yml
MIP4_HOME=10.92.0.100
MIP4_CN=10.92.0.10
MIP4_CUR=cell1        # the cell the mobile's (current) radio is on

# mip4_variant MND HAD [single]: writes a copy of the topology with mip4-handoff/MND and HAD
# mounted (absolute paths) into the row directory and prints its path; "single": one radio with
# both cells.
mip4_variant() {
  local dir f
  dir=$(cd "$(dirname "$MIP4_TOPO")" && pwd)/mip4-handoff
  f=$DEMO_ROW_DIR/mip4-handoff.yml
  sed -e "s#\./mip4-handoff/mnd\.yaml:#$dir/$1:#" -e "s#\./mip4-handoff/had\.yaml:#$dir/$2:#" \
      -e "s#\./mip4-handoff/#$dir/#" "$MIP4_TOPO" >"$f" || return 1
  if [ "${3:-}" = single ]; then
    sed -i -e 's#- {interface: radio0, cells: \[cell1\], attach: cell1}#- {interface: radio0, cells: [cell1, cell2], attach: cell1}#' \
           -e '/- {interface: radio1, cells: \[cell2\]}/d' "$f" || return 1
    grep -q 'cells: \[cell1, cell2\], attach: cell1' "$f" || { demo_log "single-radio variant: radio block not found"; return 1; }
  fi
  echo "$f"
}

mip4_ctl() { "$ROAM_BIN/roamctl" -s "$("$MIP4_NETLAB" -p "$DEMO_CUR_PROJECT" ctl "$1")" --json "${@:2}"; }

# mip4_wait_registered: until mnd is registered (up to 10 s).
mip4_wait_registered() {
  local i
  for ((i = 0; i < 100; i++)); do
    mip4_ctl mn mip4 2>/dev/null | jq -e '.state == "registered"' >/dev/null && return 0
    sleep 0.1
  done
  demo_log "mnd did not register: $(mip4_ctl mn mip4 2>&1 | head -c 300)"
  return 1
}

# mip4_netlab ARGS: stands in for netlab inside demo_measure for the dual-radio rows.  "move
# MOBILE --to CELL" becomes: attach the radio of CELL, wait until mnd has released the old link
# (links_released grows; at most 5 s), detach the old cell.  Everything else is netlab itself
# (exec'd in a background job, so that its pid is trafgen's).
mip4_netlab() {
  local a=("$@") i move=-1 to="" rel0 rel
  for i in "${!a[@]}"; do [ "${a[$i]}" = move ] && move=$i; [ "${a[$i]}" = --to ] && to=${a[$((i + 1))]}; done
  if [ "$move" -lt 0 ]; then
    if [ "$BASH_SUBSHELL" -gt 0 ]; then exec "$MIP4_NETLAB" "$@"; fi
    "$MIP4_NETLAB" "$@"
    return
  fi
  [ "$to" != "$MIP4_CUR" ] || return 0
  rel0=$(mip4_ctl mn mip4 | jq '.counters.links_released') || return 1
  "$MIP4_NETLAB" -p "$DEMO_CUR_PROJECT" attach mn "$to" >/dev/null || return 1
  for ((i = 0; i < 50; i++)); do
    sleep 0.1
    rel=$(mip4_ctl mn mip4 | jq '.counters.links_released') || continue
    [ "$rel" -gt "$rel0" ] && break
  done
  [ "${rel:-0}" -gt "$rel0" ] || demo_log "mnd did not release the old link within 5 s; detaching anyway"
  "$MIP4_NETLAB" -p "$DEMO_CUR_PROJECT" detach mn "$MIP4_CUR" >/dev/null || return 1
  MIP4_CUR=$to
}

# mip4_netlab_late ARGS: as mip4_netlab for the late-reply row: attach the radio of CELL, wait
# for the registration through it (handoffs grows), send the link-going-down notice for the
# old radio, wait for the FBAck (fback_rx grows), detach the old cell.  At most 5 s per wait.
mip4_netlab_late() {
  local a=("$@") i move=-1 to="" ho0 fb0 v
  for i in "${!a[@]}"; do [ "${a[$i]}" = move ] && move=$i; [ "${a[$i]}" = --to ] && to=${a[$((i + 1))]}; done
  if [ "$move" -lt 0 ]; then
    if [ "$BASH_SUBSHELL" -gt 0 ]; then exec "$MIP4_NETLAB" "$@"; fi
    "$MIP4_NETLAB" "$@"
    return
  fi
  [ "$to" != "$MIP4_CUR" ] || return 0
  ho0=$(mip4_ctl mn mip4 | jq '.counters.handoffs') && fb0=$(mip4_ctl mn mip4 | jq '.counters.fback_rx') || return 1
  "$MIP4_NETLAB" -p "$DEMO_CUR_PROJECT" attach mn "$to" >/dev/null || return 1
  for ((i = 0; i < 50; i++)); do
    v=$(mip4_ctl mn mip4 | jq '.counters.handoffs') && [ "$v" -gt "$ho0" ] && break
    sleep 0.1
  done
  mip4_ctl mn l2-notice event=link-going-down in_ms=0 >/dev/null || demo_log "l2-notice refused"
  for ((i = 0; i < 50; i++)); do
    v=$(mip4_ctl mn mip4 | jq '.counters.fback_rx') && [ "$v" -gt "$fb0" ] && break
    sleep 0.1
  done
  [ "${v:-0}" -gt "$fb0" ] || demo_log "no FBAck within 5 s; detaching anyway"
  "$MIP4_NETLAB" -p "$DEMO_CUR_PROJECT" detach mn "$MIP4_CUR" >/dev/null || return 1
  MIP4_CUR=$to
}

# mip4_counters: adds mnd's and had's handoff counters to the row.
mip4_counters() {
  local m h f1 f2
  m=$(mip4_ctl mn mip4) || m='{}'
  h=$(mip4_ctl ha stats) || h='{}'
  f1=$(mip4_ctl fa1 stats) || f1='{}'
  f2=$(mip4_ctl fa2 stats) || f2='{}'
  jq --argjson m "$m" --argjson h "$h" --argjson f1 "$f1" --argjson f2 "$f2" '. + {
      handoffs: ($m.counters.handoffs // null), dereg_replies: ($m.counters.dereg_replies // null),
      links_released: ($m.counters.links_released // null), fbu_sent: ($m.counters.fbu_sent // null),
      fback_rx: ($m.counters.fback_rx // null), drr_sent: ($h.drr_sent // null),
      fa_fbu_accepted: (($f1.fbu_accepted // 0) + ($f2.fbu_accepted // 0)),
      fa_forwarded: (($f1.dp_forwarded // 0) + ($f2.dp_forwarded // 0)),
      fa_drop_no_visitor: (($f1.dp_drop_no_visitor // 0) + ($f2.dp_drop_no_visitor // 0)),
      fa_anticipated: (($f1.anticipated // 0) + ($f2.anticipated // 0) + ($f1.forwarding_returned // 0) + ($f2.forwarding_returned // 0)),
      fa_held: (($f1.dp_held // 0) + ($f2.dp_held // 0)),
      fa_fback_relayed: (($f1.fback_relayed // 0) + ($f2.fback_relayed // 0))}' \
    "$DEMO_ROW_DIR/row.json" >"$DEMO_ROW_DIR/row.json.tmp" && mv "$DEMO_ROW_DIR/row.json.tmp" "$DEMO_ROW_DIR/row.json"
}

# mip4_dual MND HAD NOTE [MOVER]: a dual-radio row (MOVER: the netlab stand-in, default
# mip4_netlab).
mip4_dual() {
  local topo MIP4_NETLAB=$NETLAB
  topo=$(mip4_variant "$1" "$2") || return 1
  demo_up "$topo" || return 1
  mip4_wait_registered || return 1
  MIP4_CUR=cell1
  local NETLAB=${4:-mip4_netlab}
  demo_measure --mobile mn --cn cn --mobile-addr $MIP4_HOME --cn-addr $MIP4_CN \
    --cells "cell1 cell2" --note "$3" || return 1
  mip4_counters
}

tour_mip4_dual() {
  mip4_dual mnd.yaml had.yaml "two radios: old radio released on the deregistration reply"
}
# mip4_single MND HAD NOTE: a single-radio row (netlab move --notice).
mip4_single() {
  local topo MIP4_NETLAB=$NETLAB
  topo=$(mip4_variant "$1" "$2" single) || return 1
  demo_up "$topo" || return 1
  mip4_wait_registered || return 1
  demo_measure --mobile mn --cn cn --mobile-addr $MIP4_HOME --cn-addr $MIP4_CN \
    --cells "cell1 cell2" --notice "$MIP4_NOTICE_MS" --note "$3" || return 1
  mip4_counters
}
MIP4_NOTICE_MS=50   # the radio's warning before a single-radio move (the old fad must have the FBU before the switch)
tour_mip4_single() {
  mip4_single mnd-single.yaml had.yaml "one radio: FBU to the old FA on the link-going-down notice (${MIP4_NOTICE_MS} ms before the move)"
}
tour_mip4_plain() {
  mip4_single mnd-plain.yaml had-plain.yaml "one radio, no synchronization: break before make, no FBU"
}
tour_mip4_late() {
  mip4_dual mnd.yaml had-late.yaml "two radios, deregistration reply 2 s late (drr_delay): FBU to the old FA on the link-going-down notice" mip4_netlab_late
}
demo_row "MIPv4 synchronized (dual radio)" tour_mip4_dual
demo_row "MIPv4 synchronized (single radio)" tour_mip4_single
demo_row "MIPv4 synchronized (late reply)" tour_mip4_late
demo_row "MIPv4 plain RFC 5944" tour_mip4_plain
