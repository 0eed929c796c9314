#!/usr/bin/env bash
# make demo: the handoff tour.  Runs every row defined by tools/demo.d/NN-<scheme>.sh in order
# (each brings up its topology with netlab, runs a UDP stream and a TCP connection between a
# correspondent and a mobile, moves the mobile DEMO_MOVES times, and emits one row), prints the
# comparison table and writes build/demo/report.json.  Cleans up (netlab down) on any exit,
# Ctrl-C included.
#
# Environment: BIN (binaries, default $BUILD/bin, build/bin), DEMO_DURATION (seconds of traffic per row,
# default 20), DEMO_MOVES (default 3), DEMO_DIR (default build/demo), DEMO_ONLY (a regex: run the
# rows whose scheme matches), DEMO_KEEP=1 (keep each row's run directory and trafgen JSON).
#
# A fragment defines a function and registers it:
#     tour_mip4() { demo_up etc/topologies/mip4.yml; demo_measure --mobile mn --cn cn ...; }
#     demo_row "Mobile IPv4" tour_mip4
# demo_measure (below) does the traffic, the moves and the row; see its comment.
set -u
cd "$(dirname "$0")/.."
: "${BIN:=$PWD/${BUILD:-build}/bin}"   # make demo BUILD=... passes BUILD on
: "${DEMO_DURATION:=20}"
: "${DEMO_MOVES:=3}"
: "${DEMO_DIR:=build/demo}"
: "${DEMO_ONLY:=}"
BIN=$(cd "$BIN" && pwd) || { echo "demo: no binaries in $BIN (run make first)" >&2; exit 1; }
export ROAM_BIN=$BIN
NETLAB="$BIN/netlab"
for b in netlab trafgen linkem; do
  [ -x "$BIN/$b" ] || { echo "demo: $BIN/$b missing (make first)" >&2; exit 1; }
done
if [ "$(id -u)" -ne 0 ]; then
  echo "demo: must run as root (network namespaces)" >&2
  exit 1
fi
command -v jq >/dev/null || { echo "demo: jq missing (make deps)" >&2; exit 1; }
mkdir -p "$DEMO_DIR"
DEMO_DIR=$(cd "$DEMO_DIR" && pwd)
rm -f "$DEMO_DIR"/row-*.json "$DEMO_DIR/report.json"

DEMO_SCHEMES=()    # scheme names, in order
DEMO_FUNCS=()      # their functions
DEMO_PROJECTS=()   # netlab runs to take down
DEMO_BG=()         # background pids (traffic) to stop
DEMO_ROW_DIR=""    # the current row's scratch directory
DEMO_SCHEME=""     # the current row's scheme

demo_row() { DEMO_SCHEMES+=("$1"); DEMO_FUNCS+=("$2"); }

demo_log() { printf '  [%s] %s\n' "$DEMO_SCHEME" "$*" >&2; }

# demo_up FILE: netlab up of a topology (taken down after the row, and on any exit).
demo_up() {
  local name
  name=$(awk '/^x-roam:/{x=1; next} x && /^  name:/{print $2; exit} /^[^ #]/{x=0}' "$1")
  [ -n "$name" ] || name=$(basename "$1" .yml)
  "$NETLAB" down -p "$name" >/dev/null 2>&1 || true   # a leftover of an interrupted tour
  DEMO_PROJECTS+=("$name")
  DEMO_CUR_PROJECT=$name
  "$NETLAB" --bin "$BIN" up "$1" >&2 || return 1
}

demo_down_all() {
  local p
  for p in "${DEMO_PROJECTS[@]}"; do
    "$NETLAB" -p "$p" ${DEMO_KEEP:+--keep-logs} down >/dev/null 2>&1 || true
  done
  DEMO_PROJECTS=()
}

demo_stop_bg() {
  local p
  for p in "${DEMO_BG[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${DEMO_BG[@]}"; do wait "$p" 2>/dev/null || true; done
  DEMO_BG=()
}

demo_cleanup() { demo_stop_bg; demo_down_all; }
trap 'echo "demo: interrupted, cleaning up" >&2; demo_cleanup; exit 130' INT TERM
trap demo_cleanup EXIT

# demo_exec SVC CMD...: a command in a service of the current run.
demo_exec() { "$NETLAB" -p "$DEMO_CUR_PROJECT" exec "$@"; }

# demo_measure --mobile SVC --cn SVC --mobile-addr ADDR --cn-addr ADDR --cells "CELL1 CELL2 ..."
#              [--notice MS] [--udp-rate PPS] [--tcp-rate BYTES_PER_S] [--note TEXT]
# Runs, for DEMO_DURATION seconds, a UDP stream cn -> mobile and a TCP connection mobile -> cn
# (trafgen), and moves the mobile DEMO_MOVES times at even intervals, cycling through the cells
# starting from the second (the mobile starts on the first).  Then writes the row JSON
# ($DEMO_DIR/row-N.json):
#   scheme, moves, duration_s, udp_sent, udp_received, udp_lost, max_gap_ms, udp_stopped (the
#   stream was not flowing at the end), tcp_survived (no reset, no corruption, and the
#   connection still delivered and closed cleanly at the end), tcp_bytes_verified,
#   tcp_max_stall_ms, tcp_error, note.
demo_measure() {
  local mobile="" cn="" maddr="" caddr="" cells="" notice="" urate=200 trate=100000 note=""
  while [ $# -gt 0 ]; do
    case $1 in
      --mobile) mobile=$2; shift 2 ;;
      --cn) cn=$2; shift 2 ;;
      --mobile-addr) maddr=$2; shift 2 ;;
      --cn-addr) caddr=$2; shift 2 ;;
      --cells) cells=$2; shift 2 ;;
      --notice) notice=$2; shift 2 ;;
      --udp-rate) urate=$2; shift 2 ;;
      --tcp-rate) trate=$2; shift 2 ;;
      --note) note=$2; shift 2 ;;
      *) echo "demo_measure: unknown option $1" >&2; return 2 ;;
    esac
  done
  local d=$DEMO_DURATION m=$DEMO_MOVES dir=$DEMO_ROW_DIR
  local -a cl=($cells)
  local up ur ts tc k t0 target
  # In the background netlab is run directly (not through a function) so that $! is the
  # process itself (netlab exec execs trafgen): SIGTERM then reaches trafgen.
  local nl=("$NETLAB" -p "$DEMO_CUR_PROJECT" exec)
  "${nl[@]}" "$mobile" trafgen udp-recv --bind "$maddr:5001" --duration $((d + 4)) \
    --json "$dir/udp-recv.json" >/dev/null 2>"$dir/udp-recv.err" &
  ur=$!; DEMO_BG+=("$ur")
  "${nl[@]}" "$cn" trafgen tcp-server --bind "$caddr:5002" --duration $((d + 30)) \
    --json "$dir/tcp-server.json" >/dev/null 2>"$dir/tcp-server.err" &
  ts=$!; DEMO_BG+=("$ts")
  sleep 0.5
  "${nl[@]}" "$cn" trafgen udp-send --to "$maddr:5001" --rate "$urate" --duration "$d" \
    --json "$dir/udp-send.json" >/dev/null 2>"$dir/udp-send.err" &
  up=$!; DEMO_BG+=("$up")
  "${nl[@]}" "$mobile" trafgen tcp-client --to "$caddr:5002" --rate "$trate" --duration "$d" \
    --timeout 5 --stall-ms 500 --json "$dir/tcp-client.json" >/dev/null 2>"$dir/tcp-client.err" &
  tc=$!; DEMO_BG+=("$tc")
  t0=${EPOCHREALTIME/./}   # microseconds
  for ((k = 1; k <= m; k++)); do
    local at=$((t0 + d * 1000000 * k / (m + 1))) now=${EPOCHREALTIME/./}
    if [ $at -gt $now ]; then sleep "$(printf '%d.%06d' $(((at - now) / 1000000)) $(((at - now) % 1000000)))"; fi
    target=${cl[$((k % ${#cl[@]}))]}
    demo_log "move $k/$m -> $target"
    "$NETLAB" -p "$DEMO_CUR_PROJECT" move "$mobile" --to "$target" ${notice:+--notice "$notice"} >/dev/null || return 1
  done
  wait "$up" 2>/dev/null
  wait "$tc" 2>/dev/null
  sleep 1
  kill -TERM "$ur" "$ts" 2>/dev/null
  wait "$ur" 2>/dev/null; wait "$ts" 2>/dev/null
  DEMO_BG=()
  local f
  for f in udp-send udp-recv tcp-client; do
    [ -s "$dir/$f.json" ] || { echo "{}" >"$dir/$f.json"; demo_log "no $f result ($(tail -c 200 "$dir/$f.err" | tr '\n' ' '))"; }
  done
  [ -s "$dir/tcp-server.json" ] || echo "{}" >"$dir/tcp-server.json"
  jq -n --arg scheme "$DEMO_SCHEME" --argjson moves "$m" --argjson duration "$d" --arg note "$note" \
    --slurpfile us "$dir/udp-send.json" --slurpfile ur "$dir/udp-recv.json" \
    --slurpfile tc "$dir/tcp-client.json" --slurpfile ts "$dir/tcp-server.json" '
    ($us[0].sent // 0) as $sent0 | ([$sent0, ($ur[0].sent // 0)] | max) as $sent |
    ($ur[0].received // 0) as $rcv |
    {
      scheme: $scheme, moves: $moves, duration_s: $duration,
      udp_sent: $sent, udp_received: $rcv,
      udp_lost: ([$sent - $rcv + ($ur[0].duplicated // 0), 0] | max),
      max_gap_ms: ($ur[0].max_gap_ms // null),
      udp_stopped: (($ur[0].gap_open // false) or (($ur[0].end_seen // false) | not)),
      tcp_survived: ((($tc[0].survived // false) == true) and (($ts[0].survived // true) == true)),
      tcp_bytes_verified: ($tc[0].bytes_verified // $ts[0].bytes_verified // 0),
      tcp_max_stall_ms: ($tc[0].max_stall_ms // null),
      tcp_error: ($tc[0].error // null),
      note: $note
    }' >"$dir/row.json"
}

# --- the rows ---
for f in tools/demo.d/[0-9][0-9]-*.sh; do
  [ -e "$f" ] || continue
  # shellcheck source=/dev/null
  source "$f"
done
[ ${#DEMO_SCHEMES[@]} -gt 0 ] || { echo "demo: no rows in tools/demo.d" >&2; exit 1; }

echo "roam handoff tour: ${#DEMO_SCHEMES[@]} scheme(s), ${DEMO_DURATION}s of traffic and $DEMO_MOVES moves each"
rows=0 failed=0 start=$SECONDS
for i in "${!DEMO_SCHEMES[@]}"; do
  DEMO_SCHEME=${DEMO_SCHEMES[$i]}
  [ -n "$DEMO_ONLY" ] && ! [[ $DEMO_SCHEME =~ $DEMO_ONLY ]] && continue
  DEMO_ROW_DIR=$DEMO_DIR/rows/$i
  rm -rf "$DEMO_ROW_DIR"; mkdir -p "$DEMO_ROW_DIR"
  echo "- $DEMO_SCHEME" >&2
  if "${DEMO_FUNCS[$i]}" && [ -s "$DEMO_ROW_DIR/row.json" ]; then
    cp "$DEMO_ROW_DIR/row.json" "$DEMO_DIR/row-$(printf %02d "$i").json"
    rows=$((rows + 1))
  else
    echo "demo: row '$DEMO_SCHEME' failed" >&2
    failed=$((failed + 1))
  fi
  demo_stop_bg
  demo_down_all
  [ -n "${DEMO_KEEP:-}" ] || rm -rf "$DEMO_ROW_DIR"
done
if [ $rows -gt 0 ]; then
  jq -s . "$DEMO_DIR"/row-*.json >"$DEMO_DIR/report.json"
else
  echo "[]" >"$DEMO_DIR/report.json"
fi
rm -f "$DEMO_DIR"/row-*.json
[ -n "${DEMO_KEEP:-}" ] || rm -rf "$DEMO_DIR/rows"

echo
jq -r '
  def yn: if . then "yes" else "NO" end;
  def num: if . == null then "-" else (. * 10 | round / 10 | tostring) end;
  (["scheme", "moves", "UDP sent", "UDP lost", "loss %", "longest gap ms", "UDP at end", "TCP survived"] | @tsv),
  (.[] | [.scheme, (.moves | tostring), (.udp_sent | tostring), (.udp_lost | tostring),
          (if .udp_sent > 0 then (.udp_lost * 1000 / .udp_sent | round / 10 | tostring) else "-" end),
          (.max_gap_ms | num), (if .udp_stopped then "stopped" else "flowing" end),
          (.tcp_survived | yn) + (if .tcp_error then " (" + .tcp_error + ")" else "" end)] | @tsv)
' "$DEMO_DIR/report.json" | column -t -s $'\t'
echo
echo "report: $DEMO_DIR/report.json ($rows rows, $((SECONDS - start)) s)"
[ $failed -eq 0 ]
