#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 30) on its seed corpus.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
# Environment: FUZZ_BUILD (default build/fuzz), FUZZ_JOBS (targets run in parallel, default:
# the number of CPUs), FUZZ_ARGS (extra libFuzzer flags).
# The seeds (tests/fuzz/corpus/<target>) are only read; what the fuzzer finds goes to
# $FUZZ_BUILD/corpus/<target>, crashes to $FUZZ_BUILD/crashes/<target>/, logs to
# $FUZZ_BUILD/logs/<target>.log.  One summary line per target; exit status 1 if any target
# crashed (or failed to build or run), 0 otherwise.
set -u
cd "$(dirname "$0")/../.."

secs=${1:-30}
shift || true
case $secs in
'' | *[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac
build=${FUZZ_BUILD:-build/fuzz}
jobs=${FUZZ_JOBS:-$(nproc)}

make -s -f tests/fuzz/Makefile FUZZ_BUILD="$build" -j"$jobs" all || {
	echo "fuzz: build failed" >&2
	exit 1
}
if [ $# -gt 0 ]; then
	targets=("$@")
else
	read -r -a targets <<<"$(make -s -f tests/fuzz/Makefile FUZZ_BUILD="$build" list)"
fi
mkdir -p "$build/logs"

run_one() {
	local t=$1 bin=$build/bin/$1
	local seeds=tests/fuzz/corpus/$t work=$build/corpus/$t art=$build/crashes/$t/
	local dict=tests/fuzz/$t.dict extra=()
	mkdir -p "$work" "$art"
	[ -d "$seeds" ] || seeds=
	[ -f "$dict" ] && extra+=(-dict="$dict")
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$art" "${extra[@]}" ${FUZZ_ARGS:-} "$work" $seeds \
		>"$build/logs/$t.log" 2>&1
	echo $? >"$build/logs/$t.rc"
}

pids=()
running=0
for t in "${targets[@]}"; do
	if [ ! -x "$build/bin/$t" ]; then
		echo "fuzz: no such target: $t" >&2
		echo 1 >"$build/logs/$t.rc"
		continue
	fi
	run_one "$t" &
	pids+=($!)
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

status=0
printf '%-16s %-6s %12s %10s %6s %7s  %s\n' target result execs exec/s cov ft corpus
for t in "${targets[@]}"; do
	log=$build/logs/$t.log
	rc=$(cat "$build/logs/$t.rc" 2>/dev/null || echo 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" 2>/dev/null | tail -1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" 2>/dev/null | tail -1)
	last=$(grep -E '^#[0-9]+' "$log" 2>/dev/null | tail -1)
	cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.*corp: \([^ ]*\).*/\1/p' <<<"$last")
	if [ "$rc" = 0 ]; then
		res=ok
	else
		res=CRASH
		status=1
	fi
	printf '%-16s %-6s %12s %10s %6s %7s  %s\n' "$t" "$res" "${execs:--}" "${eps:--}" \
		"${cov:--}" "${ft:--}" "${corp:--}"
	if [ "$rc" != 0 ]; then
		grep -m1 -E 'fuzz check failed|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error' \
			"$log" | sed 's/^/    /'
		ls "$build/crashes/$t/" 2>/dev/null | sed "s|^|    input: $build/crashes/$t/|"
	fi
done

# Known defects: inputs kept under tests/fuzz/crashes/<target>/ are replayed with FUZZ_STRICT=1
# (which turns off the targets' masks for them).  They are reported, not counted as failures:
# each is described in tests/fuzz/README.md.  When one no longer crashes, drop its input and
# its mask.
for dir in tests/fuzz/crashes/*/; do
	[ -d "$dir" ] || continue
	t=$(basename "$dir")
	[ -x "$build/bin/$t" ] || continue
	for f in "$dir"*; do
		[ -f "$f" ] || continue
		if FUZZ_STRICT=1 "$build/bin/$t" "$f" >/dev/null 2>&1; then
			echo "known defect fixed?  $t $f no longer crashes"
		else
			echo "known defect         $t $f"
		fi
	done
done
exit $status
