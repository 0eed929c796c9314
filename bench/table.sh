#!/usr/bin/env bash
# The soft-state table (common/include/roam/table.h) at 100,000 and 1,000,000 entries:
# inserts, lookups (hits and misses), expiry arming and expiries per second, and bytes per
# entry (RSS delta / entries, each entry calloc'ed with a 17-byte address key and a 32-byte
# payload, allocator overhead included).  Each size runs in a fresh process of
# bench/table_bench.c; each size is run 3 times and the best rate / the median memory kept.
# About 30 seconds; needs no privileges.
. "$(dirname "$0")/lib.sh"

b_need "$BIN/table_bench" jq
SIZES=${TABLE_BENCH_SIZES:-100000 1000000}
RUNS=${TABLE_BENCH_RUNS:-3}

for n in $SIZES; do
	for r in $(seq "$RUNS"); do
		timeout 120 "$BIN/table_bench" -n "$n" --seed "$r" --json "$B_TMP/t-$n-$r.json" ||
			b_die "table_bench -n $n failed"
		jq -c . "$B_TMP/t-$n-$r.json"
	done
	jq -s '
		def best($k): map(.[$k]) | max | round;
		def median($k): map(.[$k]) | sort | .[(length / 2 | floor)];
		{
		  entries: .[0].entries,
		  runs: length,
		  inserts_per_s: best("inserts_per_s"),
		  lookups_hit_per_s: best("lookups_hit_per_s"),
		  lookups_miss_per_s: best("lookups_miss_per_s"),
		  set_expiry_per_s: best("set_expiry_per_s"),
		  expiries_per_s: best("expiries_per_s"),
		  bytes_per_entry: (median("bytes_per_entry") * 10 | round / 10),
		  table_bytes_per_entry: (median("table_bytes_per_entry") * 10 | round / 10),
		  entry_struct_bytes: .[0].entry_struct_bytes,
		  node_bytes: .[0].node_bytes
		}' "$B_TMP"/t-"$n"-*.json >"$B_TMP/s-$n.json" || b_die "cannot summarise"
done

# flat figures: the entry count is appended to each key (inserts_per_s_100k, ...)
jq -s '(map(. as $s | (if $s.entries % 1000000 == 0 then "\($s.entries / 1000000)m"
		elif $s.entries % 1000 == 0 then "\($s.entries / 1000)k"
		else "\($s.entries)" end) as $tag |
	  [$s | to_entries[] | select(.key | test("per_s$|per_entry$"))
	      | {key: "\(.key)_\($tag)", value}])
	| flatten | from_entries)
	+ (.[0] | {entry_struct_bytes, table_node_bytes: .node_bytes})
	+ {runs_per_size: '"$RUNS"'}' \
	"$B_TMP"/s-*.json >"$B_TMP/results.json" || b_die "cannot compose results"
jq . "$B_TMP/results.json"
b_result "$B_TMP/results.json"
