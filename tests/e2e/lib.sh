# Sourced by every end-to-end test script (tests/e2e/*.sh).
#   t_ok NAME / t_fail NAME REASON / t_check NAME CMD...   record a result
#   t_cleanup CMD...                                       run CMD at exit (LIFO), also on failure
#   t_poll TIMEOUT_S CMD...                                retry CMD every 100 ms until it succeeds
#   t_capturing LOG                                        wait until tshark (messages in LOG) captures
#   t_done                                                 print "<script>: N passed, N failed", exit
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
