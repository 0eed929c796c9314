#!/usr/bin/env bash
# hlrd end to end on loopback (IPv4 and IPv6), driven by hlrc: update, query, refresh, expiry,
# deregistration, lifetime cap, wrong key, unknown key, replay, stale timestamp, another host's
# address, garbage and oversized datagrams, restart with the snapshot, SIGHUP with a bad and a
# good config, and hlrd -t.  Every check looks at the reply and at the daemon's stats / table
# through the control socket.  Everything lives in $T_TMP; the daemon is killed at exit.
. "$(dirname "$0")/lib.sh"

HLRD=$BIN/hlrd
HLRC=$BIN/hlrc
CTL_BIN=$BIN/roamctl
t_need "$HLRD" "$HLRC" "$CTL_BIN" jq

# A free UDP port on both loopbacks.
PORT=$(roam_free_udp_port)
CFG=$T_TMP/hlrd.yaml
SOCK=$T_TMP/hlrd.sock
PIDF=$T_TMP/hlrd.pid
SNAP=$T_TMP/hlrd.snap
LOG=$T_TMP/hlrd.log
CTL() { "$CTL_BIN" -s "$SOCK" "$@"; }
K1=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
K2=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf
K3=c0c1c2c3c4c5c6c7c8c9cacbcccdcecf
printf '%s\n' "$K2" >"$T_TMP/k2.hex"
chmod 600 "$T_TMP/k2.hex"

write_conf() { # $1: extra host block (may be empty)
  cat >"$CFG" <<EOC
listen: [127.0.0.1, "::1"]
port: $PORT
control_socket: $SOCK
snapshot: $SNAP
snapshot_interval: 1s
default_lifetime: 60s
max_lifetime: 900s
negative_ttl: 20s
replay_tolerance: 7s
log_level: info
hosts:
  - name: mobile-1
    key_id: 1
    key: $K1
    addresses: [192.0.2.10, 192.0.2.11, "2001:db8:10::/64"]
  - name: mobile-2
    key_id: 2
    key: file:k2.hex
    addresses: [198.51.100.0/24]
$1
EOC
}

t_cleanup t_stop hlrd

# hlrc with key N over IPv4 (or $SRV): prints the reply JSON, returns hlrc's exit code
hc() { local k=$1; shift; local key; eval "key=\$K$k"; "$HLRC" -s "${SRV:-127.0.0.1:$PORT}" -i "$k" -k "$key" -w 1000 "$@"; }
stat() { CTL --json stats | jq -e ".$1"; }
dump() { CTL --json dump | jq -c "."; }
entry() { CTL --json dump | jq -c --arg p "$1" '.[] | select(.permanent == $p)'; }
# expect JQ_FILTER JSON: the filter must be true
expect() { jq -e "$1" <<<"$2" >/dev/null || { echo "expected $1 in: $2"; return 1; }; }

write_conf ""
# ---- hlrd -t ----
check_t_good() { "$HLRD" -t -c "$CFG"; }
check_t_bad() {
  printf 'port: 7460\nhosts:\n  - key_id: 1\n    key: %s\n    addresses: [192.0.2.300]\n' "$K1" >"$T_TMP/bad.yaml"
  t_conf_refused "$HLRD" "$T_TMP/bad.yaml" "bad.yaml:5:[0-9]*: key 'hosts\[0\].addresses\[0\]'"
}
t_check "hlrd -t accepts the generated config" check_t_good
t_check "hlrd -t rejects a bad file naming file:line:col and the key" check_t_bad
t_check "hlrd -t accepts etc/roam/hlrd.yaml" "$HLRD" -t -c etc/roam/hlrd.yaml

t_check "hlrd starts and answers on its control socket" t_start hlrd "" "$HLRD"
[ -n "${T_PIDS[hlrd]}" ] || t_done

# ---- update, query, refresh ----
check_update() {
  t_reply '.type == "UPDATE-ACK" and .code == 0 and .lifetime == 600 and .verified and .matches_request' hc 1 update 192.0.2.10 198.51.100.7 600 &&
  expect '.care_of == "198.51.100.7" and .key_id == 1 and .granted == 600' "$(entry 192.0.2.10)" &&
  t_counts stat accepted_update=1 mappings_created=1
}
t_check "update registers a mapping" check_update
check_query() {
  t_reply '.type == "QUERY-REPLY" and .code == 0 and .care_of == "198.51.100.7" and .lifetime > 500 and .lifetime <= 600 and .verified' hc 2 query 192.0.2.10 &&
  t_counts stat queries_found=1
}
t_check "query by another key returns the mapping" check_query
check_refresh() {
  t_reply '.code == 0' hc 1 update 192.0.2.10 203.0.113.9 600 &&
  expect '.care_of == "203.0.113.9"' "$(entry 192.0.2.10)" &&
  t_counts stat mappings_refreshed=1 && [ "$(dump | jq length)" -eq 1 ]
}
t_check "refresh replaces the care-of address" check_refresh
check_nomap() {
  t_reply '.code == 1 and .code_name == "NO-MAPPING" and .negative_ttl == 20 and (has("care_of") | not)' hc 1 query 192.0.2.200 &&
  [ "$(stat queries_no_mapping)" -ge 1 ]
}
t_check "query of an unknown address: no mapping with the negative TTL" check_nomap

# ---- expiry, deregistration, cap ----
expired() { hc 1 query 192.0.2.11 | jq -e '.code == 1' >/dev/null; }
check_expiry() {
  local r; r=$(hc 1 update 192.0.2.11 198.51.100.8 2) || return 1
  expect '.lifetime == 2' "$r" && [ -n "$(entry 192.0.2.11)" ] &&
  t_poll 10 expired && [ -z "$(entry 192.0.2.11)" ] && t_poll 5 test "$(stat mappings_expired)" -ge 1
}
t_check "a mapping expires when not refreshed" check_expiry
check_dereg() {
  hc 1 update 2001:db8:10::5 198.51.100.9 600 >/dev/null || return 1
  local r; r=$(hc 1 update 2001:db8:10::5 2001:db8:10::5 0) || return 1
  expect '.code == 0 and .lifetime == 0' "$r" && [ -z "$(entry 2001:db8:10::5)" ] &&
  hc 1 query 2001:db8:10::5 | jq -e '.code == 1' >/dev/null && [ "$(stat deregistrations)" -eq 1 ]
}
t_check "lifetime 0 deregisters" check_dereg
check_cap() {
  local r; r=$(hc 2 update 198.51.100.20 192.0.2.99 100000) || return 1
  expect '.code == 0 and .lifetime == 900' "$r" && expect '.granted == 900' "$(entry 198.51.100.20)" &&
  [ "$(stat lifetimes_capped)" -eq 1 ]
}
t_check "a long lifetime is capped, not refused (key from a file: reference)" check_cap

# ---- bad input: no reply, counted, state unchanged ----
before=
snap_state() { before=$(dump | jq -c 'map(del(.remaining))'); }
same_state() { [ "$(dump | jq -c 'map(del(.remaining))')" = "$before" ] || { echo "table changed"; return 1; }; }
check_wrong_key() {
  snap_state; local n; n=$(stat drop_bad_auth)
  hc 1 --wrong-key update 192.0.2.10 192.0.2.66 600; [ $? -eq 3 ] || return 1
  [ "$(stat drop_bad_auth)" -eq $((n + 1)) ] && same_state
}
t_check "wrong key: no reply, counted, state unchanged" check_wrong_key
check_unknown_key() {
  snap_state; local n; n=$(stat drop_unknown_key)
  "$HLRC" -s 127.0.0.1:$PORT -i 77 -k "$K1" -w 500 update 192.0.2.10 192.0.2.66 600; [ $? -eq 3 ] || return 1
  [ "$(stat drop_unknown_key)" -eq $((n + 1)) ] && same_state
}
t_check "unknown key id: no reply, counted" check_unknown_key
check_replay() {
  local n; n=$(stat drop_replay)
  hc 1 --replay --save "$T_TMP/captured" update 192.0.2.10 198.51.100.77 600 || return 1
  [ "$(stat drop_replay)" -eq $((n + 1)) ] || return 1
  snap_state
  "$HLRC" -s 127.0.0.1:$PORT -i 1 -k "$K1" -w 500 --send "$T_TMP/captured"; [ $? -eq 3 ] || return 1
  [ "$(stat drop_replay)" -eq $((n + 2)) ] && same_state
}
t_check "replayed request (same bytes, and later from a capture): dropped, counted" check_replay
check_stale() {
  snap_state; local n; n=$(stat drop_stale)
  hc 1 --skew -30 update 192.0.2.10 192.0.2.66 600; [ $? -eq 3 ] || return 1
  hc 1 --skew 30 query 192.0.2.10; [ $? -eq 3 ] || return 1
  [ "$(stat drop_stale)" -eq $((n + 2)) ] && same_state
}
t_check "timestamps outside the tolerance: dropped, counted" check_stale
check_not_authorized() {
  snap_state; local r rc; r=$(hc 2 update 192.0.2.10 198.51.100.66 600); rc=$?
  [ $rc -eq 4 ] || { echo "rc $rc $r"; return 1; }
  expect '.code == 64 and .code_name == "NOT-AUTHORIZED" and .verified and (has("lifetime") | not)' "$r" &&
  [ "$(stat reply_not_authorized)" -eq 1 ] && same_state
}
t_check "update of another host's address: refused with NOT-AUTHORIZED" check_not_authorized
check_garbage() {
  snap_state; local n; n=$(stat drop_malformed)
  "$HLRC" -s 127.0.0.1:$PORT -w 500 --garbage 100; [ $? -eq 3 ] || return 1
  "$HLRC" -s 127.0.0.1:$PORT -w 500 --garbage 600; [ $? -eq 3 ] || return 1
  hc 1 -w 300 raw 01; [ $? -eq 3 ] || return 1
  hc 1 -w 300 raw "$(head -c 2000 /dev/urandom | od -An -tx1 | tr -d ' \n')"; [ $? -eq 3 ] || return 1
  [ "$(stat drop_malformed)" -eq $((n + 4)) ] && same_state && kill -0 "${T_PIDS[hlrd]}" &&
  CTL --json status | jq -e '.state == "running"' >/dev/null
}
t_check "garbage, truncated and oversized datagrams: counted, daemon alive" check_garbage

# ---- IPv6 transport, IPv6 care-of ----
check_v6() {
  local r
  r=$(SRV="[::1]:$PORT" hc 1 update 2001:db8:10::10 2001:db8:99::1 600) || { echo "$r"; return 1; }
  expect '.code == 0' "$r" || return 1
  r=$(hc 2 query 2001:db8:10::10) || return 1
  expect '.care_of == "2001:db8:99::1"' "$r" || return 1
  r=$(SRV="[::1]:$PORT" hc 1 update 192.0.2.10 2001:db8:99::2 600) || return 1
  r=$(SRV="[::1]:$PORT" hc 2 query 192.0.2.10) || return 1
  expect '.care_of == "2001:db8:99::2" and .permanent == "192.0.2.10"' "$r"
}
t_check "IPv6 transport, IPv6 care-of for IPv4 and IPv6 homes" check_v6

# ---- restart: unexpired entries come back with their remaining lifetime ----
check_restart() {
  hc 1 update 192.0.2.11 198.51.100.8 3 >/dev/null || return 1
  local left; left=$(entry 192.0.2.10 | jq .remaining)
  t_stop hlrd
  [ -s "$SNAP" ] || { echo "no snapshot"; return 1; }
  sleep 3.5 # 192.0.2.11 expires while hlrd is down
  t_start hlrd "" "$HLRD" || return 1
  local e; e=$(entry 192.0.2.10)
  expect ".care_of == \"2001:db8:99::2\" and .remaining <= $left and .remaining >= $left - 15 and .key_id == 1" "$e" &&
  expect '.care_of == "2001:db8:99::1"' "$(entry 2001:db8:10::10)" &&
  [ -z "$(entry 192.0.2.11)" ] && [ "$(stat snapshot_loaded)" -eq 3 ] && [ "$(stat snapshot_skipped)" -eq 1 ] &&
  hc 2 query 192.0.2.10 | jq -e '.code == 0' >/dev/null
}
t_check "restart: unexpired mappings restored with their remaining lifetime, expired ones not" check_restart

# ---- reload ----
check_bad_reload() {
  cp "$CFG" "$T_TMP/good.yaml"
  write_conf "  - key_id: 3
    key: $K3
    bogus_key: 1"
  local line; line=$(grep -n bogus_key "$CFG" | cut -d: -f1)
  kill -HUP "${T_PIDS[hlrd]}"
  t_poll 5 grep -q "$CFG:$line:[0-9]*: key 'hosts\[2\].bogus_key'" "$LOG" || { echo "no error logged"; tail -5 "$LOG"; return 1; }
  kill -0 "${T_PIDS[hlrd]}" && hc 1 query 192.0.2.10 | jq -e '.code == 0' >/dev/null &&
  { hc 3 query 192.0.2.10; [ $? -eq 3 ]; } && [ "$(dump | jq length)" -eq 3 ]
}
t_check "SIGHUP with a bad config: keeps running on the old config, error names file:line" check_bad_reload
key3_works() { hc 3 query 192.0.2.10 | jq -e '.code == 0' >/dev/null; }
check_good_reload() {
  write_conf "  - name: cn-3
    key_id: 3
    key: $K3"
  kill -HUP "${T_PIDS[hlrd]}"
  t_poll 5 key3_works && [ "$(dump | jq length)" -eq 3 ] &&
  CTL --json status | jq -e '.hosts == 3' >/dev/null &&
  { hc 3 update 192.0.2.10 192.0.2.1 10; [ $? -eq 4 ]; }
}
t_check "SIGHUP with a good config: the new key works, mappings kept" check_good_reload

# ---- operator commands ----
check_ctl() {
  CTL delete permanent=2001:db8:10::10 >/dev/null &&
  [ -z "$(entry 2001:db8:10::10)" ] &&
  ! CTL delete permanent=2001:db8:10::10 >/dev/null 2>&1 &&
  CTL --json flush | jq -e '.deleted == 2' >/dev/null &&
  [ "$(dump | jq length)" -eq 0 ] && [ "$(stat mappings_deleted)" -eq 3 ]
}
t_check "control commands delete and flush" check_ctl

check_stop() { t_stop hlrd; [ ! -e "$PIDF" ] && [ ! -e "$SOCK" ] && grep -q "shutting down" "$LOG"; }
t_check "SIGTERM: clean exit, pidfile and socket removed" check_stop
t_done
