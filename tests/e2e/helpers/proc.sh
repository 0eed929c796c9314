# shellcheck shell=bash
# Process helpers shared by tests/e2e/lib.sh and bench/lib.sh (sourced by both; not a test).
#   roam_run_cleanups ARRAY   eval the commands of the array named ARRAY, last first, their
#                             output and failures ignored
#   roam_stop PID NAME        SIGTERM to PID (a child of this shell), SIGKILL if it still runs
#                             after 10 s (said on stderr); waits for it, returns its exit status
#   roam_free_udp_port        print a random UDP port in 20000-49999 that nothing listens on
#   roam_poll TIMEOUT_S CMD...  retry CMD (output discarded) every 100 ms until it succeeds;
#                             returns 1 if it has not after TIMEOUT_S
roam_run_cleanups() {
	local -n roam__cl=$1
	local roam__i
	for ((roam__i = ${#roam__cl[@]} - 1; roam__i >= 0; roam__i--)); do
		eval "${roam__cl[$roam__i]}" >/dev/null 2>&1 || true
	done
}
roam_stop() {
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$1" 2>/dev/null; then
		echo "$2 ($1) ignored SIGTERM for 10 s: killed" >&2
		kill -KILL "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
}
roam_poll() {
	local roam__end=$((SECONDS + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $roam__end ] && return 1
		sleep 0.1
	done
	return 0
}
roam_free_udp_port() {
	local port
	while :; do
		port=$((20000 + RANDOM % 30000))
		[ -z "$(ss -Hlun "sport = :$port" 2>/dev/null)" ] && break
	done
	echo "$port"
}
