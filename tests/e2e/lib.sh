# Sourced by every end-to-end test script (tests/e2e/*.sh).
#   t_ok NAME / t_fail NAME REASON / t_check NAME CMD...   record a result
#   t_cleanup CMD...                                       run CMD at exit (LIFO), also on failure
#   t_poll TIMEOUT_S CMD...                                retry CMD every 100 ms until it succeeds
#   t_capturing LOG                                        wait until tshark (messages in LOG) captures
#   t_done                                                 print "<script>: N passed, N failed", exit
#   tshark $T_TSHARK_OPTS -r CAP ...                       read a capture with random payload inside
# Scripts run as root from the top of the tree; binaries are in $BIN (default build/bin).
set -u
: "${BIN:=$PWD/build/bin}"
# jq -e fails on empty input (tests/e2e/bin/jq says why)
case ":$PATH:" in *":$PWD/tests/e2e/bin:"*) ;; *) export PATH="$PWD/tests/e2e/bin:$PATH" ;; esac
T_NAME=$(basename "$0" .sh)
T_PASS=0
T_FAIL=0
T_CLEAN=()
T_TMP=$(mktemp -d "/tmp/roam-e2e-$T_NAME.XXXXXX")

t_ok() { T_PASS=$((T_PASS + 1)); echo "ok - $T_NAME: $1"; }
t_fail() { T_FAIL=$((T_FAIL + 1)); echo "not ok - $T_NAME: $1${2:+ ($2)}"; }
t_check() {
  local name=$1; shift
  if "$@" >"$T_TMP/last.out" 2>&1; then t_ok "$name"; else t_fail "$name" "$(tail -c 300 "$T_TMP/last.out" | tr '\n' ' ')"; fi
}
t_poll() {
  local timeout=$1; shift
  local end=$((SECONDS + timeout))
  while ! "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $end ] && return 1
    sleep 0.1
  done
  return 0
}
t_cleanup() { T_CLEAN+=("$*"); }
# t_capturing LOG: waits (up to 30 s: tshark starts slowly on a loaded machine) until the tshark
# writing its messages to LOG captures.  tshark prints "Capturing on" a moment before the kernel
# filter is attached, so give it half a second more.
t_capturing() { t_poll 30 grep -q "Capturing on" "$1" && sleep 0.5; }
# T_TSHARK_OPTS: options for reading a capture that carries arbitrary payload (trafgen's
# pseudo-random TCP stream, random UDP datagrams, inside a tunnel or not), used unquoted:
# `tshark $T_TSHARK_OPTS -r CAP ...`.  They turn off the heuristic dissectors that such payload
# trips into a "malformed" or an expert error (THRIFT ... EXCEPTION, RTCP, ...): measured on
# 300,000 random TCP segments and 300,000 random UDP datagrams with Debian 12's tshark 4.0,
# those six were the only heuristics that fired (about 1 segment in 2,000 for thrift_tcp).
# tshark refuses an unknown name ("No such protocol"), so every name here is checked by every
# run; `tshark -G heuristic-decodes` lists the heuristics (by protocol, not by these names).
# A capture's own protocols (L2TP, PPP, MIP, HLR, SIP, RTP) are decoded by port or -d, not by
# these heuristics.
T_TSHARK_OPTS="--disable-heuristic thrift_tcp --disable-heuristic thrift_udp"
T_TSHARK_OPTS+=" --disable-heuristic rtcp_udp --disable-heuristic cltp_udp"
T_TSHARK_OPTS+=" --disable-heuristic mp2t_udp --disable-heuristic pathport_udp"
t__atexit() {
  local i
  for ((i = ${#T_CLEAN[@]} - 1; i >= 0; i--)); do eval "${T_CLEAN[$i]}" >/dev/null 2>&1 || true; done
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$T_TMP"
}
trap t__atexit EXIT
trap 'exit 130' INT TERM
t_done() {
  echo "$T_NAME: $T_PASS passed, $T_FAIL failed"
  [ "$T_FAIL" -eq 0 ] && [ "$T_PASS" -gt 0 ]
  exit $?
}
# ---- helpers of the SIP scripts (sip-mobility.sh, tests/interop/baresip.sh) ----
# t_daemon NS NAME BINARY CONF: runs a roam daemon in the foreground in namespace NS (pid file
# and stderr log $T_TMP/NAME.pid, NAME.log), killed at exit; its pid in T_PID.
t_daemon() {
  ip netns exec "$1" "$3" -f -c "$4" -p "$T_TMP/$2.pid" 2>"$T_TMP/$2.log" &
  T_PID=$!; t_cleanup kill $T_PID
}
# t_ctl NAME ARGS...: roamctl --json on the control socket $T_TMP/NAME.sock.
t_ctl() { "${CTL_BIN:-$BIN/roamctl}" -s "$T_TMP/$1.sock" --json "${@:2}"; }
# t_jq FILTER CMD...: CMD succeeds and its output satisfies jq -e FILTER (a failing CMD fails
# the check instead of feeding jq an empty input).
t_jq() {
  local f=$1 out; shift
  out=$("$@") || return 1
  jq -e "$f" <<<"$out"
}
# t_sip_users FILE REALM USER=PASSWORD...: a credentials file for sipd (mode 0600).
t_sip_users() {
  local f=$1 realm=$2 u; shift 2
  : >"$f"; chmod 600 "$f"
  for u in "$@"; do printf '%s %s password=%s\n' "${u%%=*}" "$realm" "${u#*=}" >>"$f"; done
}
# t_sipd_yaml FILE ADDR ALGORITHMS: a sipd.yaml for roam.example on ADDR:5060 (UDP), digest
# (ALGORITHMS: "sha-256, md5") against $T_TMP/users, control socket $T_TMP/sipd.sock, no
# snapshot; the script's own keys follow from stdin.
t_sipd_yaml() {
  { cat <<EOC
listen: ["$2:5060"]
tcp: false
domains: [roam.example]
authentication: true
realm: roam.example
digest_algorithms: [$3]
credentials: file:$T_TMP/users
control_socket: $T_TMP/sipd.sock
snapshot: ""
EOC
    cat; } >"$1"
}
# t_tshark_clean CAPTURE TSHARK_ARGS...: no malformed packet and no expert error in CAPTURE.
t_tshark_clean() {
  local c=$1; shift
  [ -z "$(tshark -r "$c" -n "$@" -Y '_ws.malformed || _ws.expert.severity >= "Error"' 2>/dev/null)" ]
}
# t_sip_agent_yaml FILE DAEMON AOR SERVER MEDIA_PORT: an mnd.yaml or cnd.yaml (control socket
# $T_TMP/DAEMON.sock) whose sip section registers AOR with SERVER (expires 60 s) and sends 50
# RTP packets/s of 160 bytes from MEDIA_PORT; the section's other keys (password, interface or
# address, ...) follow from stdin, indented by two spaces.
t_sip_agent_yaml() {
  { cat <<EOC
control_socket: $T_TMP/$2.sock
sip:
  aor: $3
  servers: ["$4"]
  expires: 60
  media: {port: $5, rate: 50, payload_size: 160}
EOC
    cat; } >"$1"
}
# t_capture NS IFACE PCAP FILTER: tshark writing PCAP from IFACE in namespace NS (its messages in
# PCAP.log), killed at exit; returns once it captures; its pid in T_PID.
t_capture() {
  ip netns exec "$1" tshark -q -n -i "$2" -w "$3" -f "$4" >"$3.log" 2>&1 &
  T_PID=$!; t_cleanup kill $T_PID
  t_capturing "$3.log" || t_fail "tshark" "not capturing on $2"
}
# t_sipd NS NAME CONF: sipd (BINARY $SIPD) as t_daemon, then waits until it answers on
# $T_TMP/NAME.sock.
t_sipd() {
  t_daemon "$1" "$2" "$SIPD" "$3"
  t_poll 10 t_ctl "$2" status || t_fail "$2" "does not answer"
}
