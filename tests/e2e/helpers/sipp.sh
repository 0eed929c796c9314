# shellcheck shell=bash
# Shared by tests/interop/sipp-proxy.sh and sipp-register.sh (sourced by both after lib.sh; not a
# test): sipd in the namespace NS with $T_TMP/sipd.yaml and its control socket SOCK
# ($T_TMP/sipd.sock), the run captured on the namespace's loopback into $T_TMP/cap.pcapng.
#   sipp_prepare TOOL...    every TOOL on PATH and sipd, roamctl in $BIN (else the check
#                           "prerequisite" fails and the script ends); the namespace NS with
#                           its loopback up, deleted at exit
#   in_ns CMD...            run CMD in NS
#   sipp_sipd_up FILTER     sipd -t accepts the config; tshark (capture filter FILTER, pid in
#                           TSHARK) and sipd (pid in SIPD) start; the script ends if sipd does not
#                           answer
#   ctl ARGS...             roamctl --json on sipd's control socket
#   stat NAME               sipd's counter NAME
#   successes OUTFILE       SIPp's "Successful call" count in its output OUTFILE
#   sipp_capture_clean MIN  stops tshark; the capture holds at least MIN SIP packets, every one
#                           decoded with no malformed packet and no expert error
sipp_prepare() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { t_fail "prerequisite" "$tool not installed"; t_done; }
  done
  [ -x "$BIN/sipd" ] && [ -x "$BIN/roamctl" ] || { t_fail "prerequisite" "no sipd/roamctl in $BIN"; t_done; }
  ip netns add "$NS" || { t_fail "netns" "cannot create $NS"; t_done; }
  t_cleanup "ip netns del $NS"
  ip -n "$NS" link set lo up
}
in_ns() { ip netns exec "$NS" "$@"; }
sipp_sipd_up() {
  t_check "config checks" "$BIN/sipd" -t -c "$T_TMP/sipd.yaml"
  t_cleanup 'kill $TSHARK'
  t_tshark TSHARK "$NS" lo "$T_TMP/cap.pcapng" "$1" "tshark start"
  local up
  t_start sipd "$NS" "$BIN/sipd"; up=$?
  SIPD=$T_PID; t_cleanup "kill $SIPD"
  [ $up -eq 0 ] || { t_fail "sipd start" "$(tail -5 "$T_TMP/sipd.log")"; t_done; }
}
ctl() { "$BIN/roamctl" -s "$SOCK" --json "$@"; }
stat() { ctl stats | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
successes() { grep -a 'Successful call' "$1" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}'; }
sipp_capture_clean() {
  local nsip rc bad
  sleep 0.5
  kill -INT "$TSHARK" 2>/dev/null; wait "$TSHARK" 2>/dev/null
  nsip=$(tshark -r "$T_TMP/cap.pcapng" -Y sip -T fields -e frame.number 2>/dev/null | wc -l)
  t_check "tshark sees SIP packets ($nsip)" test "$nsip" -ge "$1"
  # (the filter's own validity is checked too: a rejected filter would print nothing)
  tshark -r "$T_TMP/cap.pcapng" -Y 'sip && (_ws.malformed || _ws.expert.severity == error)' \
    -T fields -e frame.number >"$T_TMP/bad.txt" 2>"$T_TMP/bad.err"
  rc=$?
  bad=$(wc -l <"$T_TMP/bad.txt")
  t_check "tshark: no malformed SIP packet, no expert error ($bad, rc $rc)" test "$bad" = 0 -a "$rc" = 0
}
