#!/usr/bin/env bash
# Line and branch coverage of each codec's source files reached by its fuzz target's corpus.
#   tests/fuzz/coverage.sh [TARGET...]
# Builds the targets with clang source-based coverage into build/fuzz-cov (FUZZ_COV=1), runs
# each once over its seeds and over what run.sh found (build/fuzz/corpus/<target>), and prints
# llvm-cov's summary for the files the target is about.  HTML: build/fuzz-cov/html/<target>/.
set -eu
cd "$(dirname "$0")/../.."
cov=build/fuzz-cov
found=${FUZZ_BUILD:-build/fuzz}/corpus
profdata=$(command -v llvm-profdata || command -v llvm-profdata-14)
llvmcov=$(command -v llvm-cov || command -v llvm-cov-14)

declare -A files=(
	[fuzz_hlr]="common/proto/hlr/codec.c"
	[fuzz_l2tp]="common/proto/l2tp/msg.c common/proto/l2tp/header.c common/proto/l2tp/hidden.c common/proto/l2tp/handoff.c"
	[fuzz_l2tp_um]="common/proto/l2tp/handoff.c"
	[fuzz_l2tp_ctrl]="common/proto/l2tp/ctrl.c"
	[fuzz_mip4]="common/proto/mip4/msg.c"
	[fuzz_mip4_adv]="common/proto/mip4/adv.c"
	[fuzz_ppp_codec]="common/proto/ppp/codec.c"
	[fuzz_ppp_hdlc]="common/proto/ppp/hdlc.c"
	[fuzz_ppp_link]="common/proto/ppp/ppp.c common/proto/ppp/fsm.c common/proto/ppp/lcp.c common/proto/ppp/ipcp.c common/proto/ppp/pap.c common/proto/ppp/chap.c"
	[fuzz_ip]="common/net/ip.c"
	[fuzz_netlink]="common/net/netlink.c"
	[fuzz_json]="common/util/json.c"
	[fuzz_yaml]="common/util/yaml.c"
	[fuzz_conf]="common/util/conf.c"
)

make -s -f tests/fuzz/Makefile FUZZ_BUILD=$cov FUZZ_COV=1 -j"$(nproc)" all
if [ $# -gt 0 ]; then targets=("$@"); else targets=($(printf '%s\n' "${!files[@]}" | sort)); fi
for t in "${targets[@]}"; do
	dirs=()
	[ -d tests/fuzz/corpus/$t ] && dirs+=(tests/fuzz/corpus/$t)
	[ -d $found/$t ] && dirs+=($found/$t)
	rm -f $cov/$t.profraw
	LLVM_PROFILE_FILE=$cov/$t.profraw $cov/bin/$t -runs=0 "${dirs[@]}" >/dev/null 2>&1 || true
	$profdata merge -sparse $cov/$t.profraw -o $cov/$t.profdata
	echo "== $t"
	# shellcheck disable=SC2086
	$llvmcov report $cov/bin/$t -instr-profile=$cov/$t.profdata ${files[$t]:-} |
		awk 'NR > 2 && !/^-/ { sub(".*/", "", $1); printf "  %-12s regions %7s  lines %7s  branches %7s\n", $1, $4, $10, $13 }'
	# shellcheck disable=SC2086
	$llvmcov show $cov/bin/$t -instr-profile=$cov/$t.profdata -format=html \
		-output-dir=$cov/html/$t ${files[$t]:-} >/dev/null 2>&1 || true
done
