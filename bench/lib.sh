# shellcheck shell=bash
# Sourced by every benchmark script (bench/<name>.sh); not a benchmark itself.
#   b_cleanup CMD...          run CMD at exit (LIFO), also on failure or interruption
#   b_poll TIMEOUT_S CMD...   retry CMD every 100 ms until it succeeds
#   b_result FILE             write build/bench/<name>.json: the common envelope around the
#                             results object in FILE (JSON), with the command line
#   b_die MSG                 print MSG to stderr and exit 1 (cleanups run)
#   b_stop                    stop the process whose pid is in PID (SIGTERM, SIGKILL after 10 s)
#   b_netns NS                create namespace NS, loopback up, deleted at exit
# Environment: BIN (binaries; default build/bin), BENCH_OUT (results; default build/bench).
# Scripts run from the top of the tree; they bound their own duration and clean up everything
# they start.
set -u
: "${BIN:=$PWD/build/bin}"
: "${BENCH_OUT:=$PWD/build/bench}"
B_NAME=$(basename "$0" .sh)
B_CMD="${B_CMDLINE:-bash bench/$B_NAME.sh}"
B_CLEAN=()
B_TMP=$(mktemp -d "/tmp/roam-bench-$B_NAME.XXXXXX")
B_LOAD=$(cat /proc/loadavg) # other work on the machine skews the figures: recorded with them
mkdir -p "$BENCH_OUT"
# roam_run_cleanups, roam_stop, roam_poll, roam_free_udp_port (shared with tests/e2e/lib.sh)
. "$(dirname "${BASH_SOURCE[0]}")/../tests/e2e/helpers/proc.sh"

b_cleanup() { B_CLEAN+=("$*"); }
b__atexit() {
	roam_run_cleanups B_CLEAN
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$B_TMP"
}
trap b__atexit EXIT
trap 'exit 130' INT TERM
b_die() { echo "$B_NAME: $*" >&2; exit 1; }
b_poll() { roam_poll "$@"; }
# b_stop: stops the process whose pid is in PID (SIGTERM, SIGKILL after 10 s), empties PID
b_stop() {
	[ -n "${PID:-}" ] || return 0
	roam_stop "$PID" "$B_NAME"
	PID=
}
# b_netns NS: creates the network namespace NS (deleted at exit) with its loopback up
b_netns() {
	ip netns add "$1" || b_die "cannot create namespace $1"
	b_cleanup "ip netns del $1"
	ip -n "$1" link set lo up
}
b_need() {
	local b
	for b in "$@"; do
		case $b in
		*/*) [ -x "$b" ] || b_die "$b missing (build first: make, or set BIN)" ;;
		*) command -v "$b" >/dev/null || b_die "$b is required" ;;
		esac
	done
}
b_result() {
	local out="$BENCH_OUT/$B_NAME.json"
	jq -n --arg name "$B_NAME" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		--argjson cores "$(nproc)" --arg kernel "$(uname -r)" --arg cmd "$B_CMD" \
		--arg load "$B_LOAD" \
		--slurpfile res "$1" \
		'{benchmark: $name, date: $date, machine: {cores: $cores, kernel: $kernel,
		  loadavg_at_start: ($load | split(" ")[0:3] | map(tonumber))},
		  results: $res[0], command: $cmd}' >"$out.tmp" || b_die "cannot write $out"
	mv "$out.tmp" "$out"
	echo "$B_NAME: results in $out"
}
