# SIP NAT continuity row (issue 6, seed 004): etc/topologies/sip-nat.yml, three locations 20 ms
# apart whose first-hop routers run sipd.  The mobile mn starts at OLD 10.61.1.10 in location
# 101 (registered with sipd B, the registrar of roam.test); the tour's traffic (demo_measure: UDP
# cn -> OLD, TCP OLD -> cn) runs on OLD throughout.  Each move to netb: NEW 10.61.2.10 on the
# radio, OLD kept on lo, the mobile's guarded reverse pair NEW -> OLD (nftctl, where mnd's SIP
# agent will do it), and a REGISTER from NEW with X-Roam-Previous-Contact: OLD (tests/e2e/
# helpers/sipreg.py): sipd B installs OLD -> NEW and the route on rb and tells sipd C, which
# installs OLD -> NEW on rc.  Each move back to neta: just before it, a REGISTER from NEW
# removing the NEW contact (B removes its pair and route and tells C: rb's strict reverse-path
# filter would otherwise drop the mobile's REGISTER from OLD arriving over the backbone); then
# OLD on the radio again, the reverse pair removed, a REGISTER from OLD.
# Row counters: pairs installed and removed on rb and rc, peer notifications acknowledged.

SIPNAT_TOPO=etc/topologies/sip-nat.yml
SIPNAT_OLD=10.61.1.10
SIPNAT_NEW=10.61.2.10
SIPNAT_CN=10.61.3.10

sipnat_ctl() { "$ROAM_BIN/roamctl" -s "$("$SIPNAT_NETLAB" -p "$DEMO_CUR_PROJECT" ctl "$1")" --json "${@:2}"; }
sipnat_exec() { "$SIPNAT_NETLAB" -p "$DEMO_CUR_PROJECT" exec "$@"; }
sipnat_reg() {
  local r
  r=$(sipnat_exec mn python3 "$PWD/tests/e2e/helpers/sipreg.py" --server 10.61.254.2 \
        --domain roam.test --user mn --password mn-secret-1 "$@") || { demo_log "REGISTER: $r"; return 1; }
  [ "$(echo "$r" | jq -r .code)" = 200 ] || { demo_log "REGISTER refused: $r"; return 1; }
}

# sipnat_at CELL: the mobile's side of being on CELL (what mnd and its SIP agent do).
sipnat_at() {
  case $1 in
    netb)
      sipnat_exec mn ip addr add $SIPNAT_NEW/24 dev radio0 &&
      sipnat_exec mn ip addr add $SIPNAT_OLD/32 dev lo &&
      sipnat_exec mn ip addr del $SIPNAT_OLD/24 dev radio0 &&
      sipnat_exec mn ip route replace default via 10.61.2.1 &&
      sipnat_exec mn nftctl -o mn add mn-move $SIPNAT_NEW $SIPNAT_OLD --dst --guard >/dev/null &&
      sipnat_reg --bind $SIPNAT_NEW --prev $SIPNAT_OLD --remove-contact $SIPNAT_OLD ;;
    neta)
      sipnat_exec mn nftctl -o mn destroy >/dev/null
      sipnat_exec mn ip addr del $SIPNAT_OLD/32 dev lo &&
      sipnat_exec mn ip addr add $SIPNAT_OLD/24 dev radio0 &&
      sipnat_exec mn ip addr del $SIPNAT_NEW/24 dev radio0 &&
      sipnat_exec mn ip route replace default via 10.61.1.1 &&
      sipnat_reg --bind $SIPNAT_OLD ;;
  esac
}

# sipnat_netlab ARGS: stands in for netlab inside demo_measure: a move is followed by the
# mobile's side of it; everything else is netlab itself.
sipnat_netlab() {
  local a=("$@") i move=-1 to=""
  for i in "${!a[@]}"; do [ "${a[$i]}" = move ] && move=$i; [ "${a[$i]}" = --to ] && to=${a[$((i + 1))]}; done
  if [ "$move" -lt 0 ]; then
    if [ "$BASH_SUBSHELL" -gt 0 ]; then exec "$SIPNAT_NETLAB" "$@"; fi
    "$SIPNAT_NETLAB" "$@"
    return
  fi
  # Going home: NEW's binding is removed from the new network first (its pairs go on rb and rc):
  # rb's strict reverse-path filter would drop the REGISTER from OLD arriving over the
  # backbone while its route for OLD still points into netb.
  if [ "$to" = neta ]; then
    sipnat_reg --bind $SIPNAT_NEW --expires 0 || demo_log "could not deregister NEW before going home"
  fi
  "$SIPNAT_NETLAB" "$@" >/dev/null || return 1
  sipnat_at "$to"
}

sipnat_counters() {
  local b c
  b=$(sipnat_ctl rb stats) || b='{}'
  c=$(sipnat_ctl rc stats) || c='{}'
  jq --argjson b "$b" --argjson c "$c" '. + {
      nat_pairs_installed: (($b.nat_pairs_installed // 0) + ($c.nat_pairs_installed // 0)),
      nat_pairs_removed: (($b.nat_pairs_removed // 0) + ($c.nat_pairs_removed // 0)),
      nat_peer_acked: ($b.nat_peer_acked // null), nat_claims_ok: ($b.nat_claims_ok // null)}' \
    "$DEMO_ROW_DIR/row.json" >"$DEMO_ROW_DIR/row.json.tmp" && mv "$DEMO_ROW_DIR/row.json.tmp" "$DEMO_ROW_DIR/row.json"
}

tour_sip_nat() {
  local SIPNAT_NETLAB=$NETLAB
  chmod 600 etc/topologies/sip-nat/sipd.users etc/topologies/sip-nat/peer-bc.key
  demo_up "$SIPNAT_TOPO" || return 1
  sipnat_exec mn sysctl -qw net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.radio0.arp_announce=2
  sipnat_exec mn ip addr add $SIPNAT_OLD/24 dev radio0 &&
  sipnat_exec mn ip route add default via 10.61.1.1 || return 1
  sipnat_reg --bind $SIPNAT_OLD || return 1
  local NETLAB=sipnat_netlab
  demo_measure --mobile mn --cn cn --mobile-addr $SIPNAT_OLD --cn-addr $SIPNAT_CN \
    --cells "neta netb" --note "sessions keep OLD: translation on rb and rc by sipd (REGISTER + peer MESSAGE)" || return 1
  sipnat_counters
}
demo_row "SIP NAT continuity" tour_sip_nat
