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
# roam_run_cleanups, roam_stop, roam_poll, roam_free_udp_port (shared with bench/lib.sh)
. "$(dirname "${BASH_SOURCE[0]}")/helpers/proc.sh"

t_ok() { T_PASS=$((T_PASS + 1)); echo "ok - $T_NAME: $1"; }
t_fail() { T_FAIL=$((T_FAIL + 1)); echo "not ok - $T_NAME: $1${2:+ ($2)}"; }
t_check() {
  local name=$1; shift
  if "$@" >"$T_TMP/last.out" 2>&1; then t_ok "$name"; else t_fail "$name" "$(tail -c 300 "$T_TMP/last.out" | tr '\n' ' ')"; fi
}
t_poll() { roam_poll "$@"; }
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
  roam_run_cleanups T_CLEAN
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
# ---- daemons a script starts and stops itself, captures, netlab (fad.sh, had.sh, hlrd.sh, ...) ----
declare -gA T_PIDS=()
# t_start NAME NS BINARY [CONF]: the roam daemon BINARY in the foreground (-f) with CONF (default
# $T_TMP/NAME.yaml) and pid file $T_TMP/NAME.pid, in namespace NS (none if NS is empty), in the
# background, its output appended to $T_TMP/NAME.log; its pid in T_PIDS[NAME] and T_PID (ip netns
# exec execs it: the daemon's own pid).  Returns once it answers on $T_TMP/NAME.sock (t_ctl NAME
# status), 1 if it does not within 10 s.
t_start() {
  local name=$1 ns=$2 bin=$3 conf=${4:-$T_TMP/$1.yaml}
  if [ -n "$ns" ]; then
    ip netns exec "$ns" "$bin" -f -c "$conf" -p "$T_TMP/$name.pid" >>"$T_TMP/$name.log" 2>&1 &
  else
    "$bin" -f -c "$conf" -p "$T_TMP/$name.pid" >>"$T_TMP/$name.log" 2>&1 &
  fi
  T_PID=$!; T_PIDS[$name]=$T_PID
  t_poll 10 t_ctl "$name" status
}
# t_stop NAME: stops the daemon of t_start NAME (SIGTERM, SIGKILL after 10 s) and returns its exit
# status (0 if none runs); a status other than 0 is said on stderr with the end of its log.
t_stop() {
  local p=${T_PIDS[$1]:-} rc
  [ -n "$p" ] || return 0
  roam_stop "$p" "$1"; rc=$?
  T_PIDS[$1]=
  [ $rc -eq 0 ] || { echo "$1 exited $rc" >&2; tail -5 "$T_TMP/$1.log" >&2; }
  return $rc
}
# t_tshark VAR NS IFACE PCAP FILTER [CHECK]: tshark writing PCAP from IFACE in namespace NS (its
# messages in $T_TMP/tshark.log), its pid in the variable VAR at once; returns once it captures,
# or records the check CHECK (default "tshark capture") as failed with tshark's messages.
t_tshark() {
  ip netns exec "$2" tshark -q -i "$3" -w "$4" -f "$5" >"$T_TMP/tshark.log" 2>&1 &
  printf -v "$1" %s $!
  t_capturing "$T_TMP/tshark.log" || t_fail "${6:-tshark capture}" "$(cat "$T_TMP/tshark.log")"
}
# t_netlab_up TOPO TEXT: `NL up TOPO` (NL: the script's netlab command; output in $T_TMP/up.log),
# then ok TEXT; if it fails, the check "netlab up" fails and the script ends (t_done).
t_netlab_up() {
  if ! NL up "$1" >"$T_TMP/up.log" 2>&1; then
    t_fail "netlab up" "$(tail -5 "$T_TMP/up.log" | tr '\n' ' ')"
    t_done
  fi
  t_ok "$2"
}
# t_udp SENDER_NS BIND TO RECEIVER_NS RATE SECONDS OUT: a trafgen UDP stream ($TG) from BIND to TO
# at RATE packets/s for SECONDS, the receiver (in RECEIVER_NS, on TO) writing its JSON to OUT.
t_udp() {
  local sns=$1 bind=$2 to=$3 rns=$4 rate=$5 dur=$6 out=$7
  ip netns exec "$rns" "$TG" udp-recv --bind "$to" --duration $((dur + 3)) --grace 1 --json "$out" &
  local rp=$!
  sleep 0.5
  ip netns exec "$sns" "$TG" udp-send --bind "$bind" --to "$to" --rate "$rate" --duration "$dur" --json - >/dev/null
  wait $rp
}
# t_conf_refused BINARY FILE PATTERN...: `BINARY -t -c FILE` exits 1 and its messages match every
# grep PATTERN; otherwise prints "rc STATUS: MESSAGES" and fails.
t_conf_refused() {
  local bin=$1 f=$2 out rc p; shift 2
  out=$("$bin" -t -c "$f" 2>&1); rc=$?
  [ $rc -eq 1 ] || { echo "rc $rc: $out"; return 1; }
  for p in "$@"; do grep -q "$p" <<<"$out" || { echo "rc $rc: $out"; return 1; }; done
}
# t_reply FILTER CMD...: CMD succeeds (otherwise prints its output and fails) and its output (JSON)
# satisfies jq -e FILTER (otherwise prints "expected FILTER in: OUTPUT" and fails).
t_reply() {
  local f=$1 out; shift
  out=$("$@") || { echo "$out"; return 1; }
  jq -e "$f" <<<"$out" >/dev/null || { echo "expected $f in: $out"; return 1; }
}
# t_counts FN NAME=N...: for every pair, `FN NAME` (the script's counter reader) prints N (an
# integer equal to N); otherwise prints "NAME = VALUE, want N" and fails.
t_counts() {
  local fn=$1 kv v; shift
  for kv in "$@"; do
    v=$("$fn" "${kv%%=*}") && [ "$v" -eq "${kv#*=}" ] 2>/dev/null || { echo "${kv%%=*} = $v, want ${kv#*=}"; return 1; }
  done
}
# t_need PROGRAM...: a PROGRAM with a slash must be an executable file (else the check "binaries"
# fails: "PROGRAM missing"), one without a command on PATH (else the check "PROGRAM" fails:
# "PROGRAM is required"); the script ends at the first one missing.
t_need() {
  local x
  for x in "$@"; do
    case $x in
    */*) [ -x "$x" ] || { t_fail "binaries" "$x missing"; t_done; } ;;
    *) command -v "$x" >/dev/null || { t_fail "$x" "$x is required"; t_done; } ;;
    esac
  done
}
