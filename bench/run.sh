#!/usr/bin/env bash
# bench/run.sh [NAME...]: runs every benchmark bench/<name>.sh (or the NAMEs given), each of
# which writes build/bench/<name>.json, then prints a summary table of the figures.
# Exits non-zero when a benchmark fails to run (non-zero exit, or no valid JSON); the figures
# themselves are never judged here.
# Environment: BIN (binaries; default $BUILD/bin, i.e. build/bin), BENCH_OUT (default
# build/bench).  Output of each benchmark: build/bench/<name>.log.
set -u
cd "$(dirname "$0")/.." || exit 1
: "${BIN:=$PWD/${BUILD:-build}/bin}"
: "${BENCH_OUT:=$PWD/build/bench}"
export BIN BENCH_OUT
command -v jq >/dev/null || { echo "bench: jq is required" >&2; exit 1; }
mkdir -p "$BENCH_OUT" || exit 1

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in bench/*.sh; do
		n=$(basename "$f" .sh)
		case $n in run | lib) continue ;; esac
		names+=("$n")
	done
fi

failed=()
declare -A took
for n in "${names[@]}"; do
	n=${n%.sh}
	n=${n#bench/}
	if [ ! -f "bench/$n.sh" ] || [ "$n" = run ] || [ "$n" = lib ]; then
		echo "bench: no benchmark '$n'" >&2
		failed+=("$n")
		continue
	fi
	echo "== $n (log: $BENCH_OUT/$n.log)"
	rm -f "$BENCH_OUT/$n.json"
	start=$SECONDS
	B_CMDLINE="bench/run.sh $n" bash "bench/$n.sh" >"$BENCH_OUT/$n.log" 2>&1
	rc=$?
	took[$n]=$((SECONDS - start))
	if [ $rc -ne 0 ] || ! jq -e '.results | type == "object"' "$BENCH_OUT/$n.json" >/dev/null 2>&1; then
		echo "bench: $n FAILED (exit $rc after ${took[$n]} s):" >&2
		tail -n 20 "$BENCH_OUT/$n.log" | sed 's/^/  | /' >&2
		failed+=("$n")
	fi
done

echo
printf '%-10s %-40s %s\n' benchmark figure value
printf '%-10s %-40s %s\n' --------- ------ -----
for n in "${names[@]}"; do
	n=${n%.sh}
	n=${n#bench/}
	f=$BENCH_OUT/$n.json
	if [ -s "$f" ] && jq -e .results "$f" >/dev/null 2>&1; then
		jq -r --arg n "$n" '.results | to_entries[] | select(.value | type != "object" and type != "array")
			| [$n, .key, (.value | tostring)] | @tsv' "$f" |
			while IFS=$'\t' read -r a b c; do printf '%-10s %-40s %s\n' "$a" "$b" "$c"; done
		printf '%-10s %-40s %s\n' "$n" "(run time)" "${took[$n]:-?} s"
	else
		printf '%-10s %-40s %s\n' "$n" "FAILED" "see $BENCH_OUT/$n.log"
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "bench: ${#failed[@]} failed: ${failed[*]}" >&2
	exit 1
fi
echo "bench: ${#names[@]} benchmarks, results in $BENCH_OUT"
