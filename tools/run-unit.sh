#!/usr/bin/env bash
# Runs each Criterion test binary given, prints its synthesis line, and a total line
# "unit: N passed, N failed" at the end.  Exit status is non-zero if any test failed or crashed,
# or if a sanitizer (ASan, LSan, UBSan) reported anything.
set -u
pass=0; fail=0; bad=()
for t in "$@"; do
  case "$t" in *.o|*.d) continue ;; esac   # a glob such as test_* also matches objects
  out=$("$t" --jobs 2 2>&1); rc=$?
  syn=$(grep -a 'Synthesis:' <<<"$out" | tail -1)
  p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$syn"); p=${p:-0}
  f=$(sed -n 's/.*Failing: \([0-9]*\).*Crashing: \([0-9]*\).*/\1 \2/p' <<<"$syn")
  nf=0; for x in $f; do nf=$((nf + x)); done
  # Criterion counts a test as passed even when a sanitizer reported from its worker process.
  san=$(grep -acE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' <<<"$out")
  if [ "$san" -gt 0 ]; then
    nf=$((nf + san)); p=$((p > san ? p - san : 0))
    echo "$t: $san sanitizer report(s):"; grep -aE -A12 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' <<<"$out" | head -60
  fi
  if [ $rc -ne 0 ] || [ -z "$syn" ] || [ "$san" -gt 0 ]; then
    [ $nf -eq 0 ] && nf=1
    bad+=("$t"); echo "$out" | grep -av '^\[----\]' | tail -40
  fi
  pass=$((pass + p)); fail=$((fail + nf))
  printf '%-50s %s\n' "${t#build/}" "${syn#*Synthesis: }"
done
echo "unit: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ ${#bad[@]} -eq 0 ]
