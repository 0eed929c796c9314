#!/usr/bin/env bash
# Runs the end-to-end scenarios and the interop tests (tests/e2e/*.sh, tests/interop/*.sh, or the
# names given) one after another, each with a time limit, and prints "e2e: N passed, N failed"
# (counting checks, not scripts).
set -u
cd "$(dirname "$0")/../.."
if [ "$(id -u)" -ne 0 ]; then
  echo "e2e: must run as root (network namespaces, TUN, raw sockets)" >&2
  exit 1
fi
scripts=()
if [ $# -gt 0 ]; then
  for n in "$@"; do
    n=${n%.sh}
    if [ -f "tests/e2e/$n.sh" ]; then scripts+=("tests/e2e/$n.sh")
    elif [ -f "tests/interop/$n.sh" ]; then scripts+=("tests/interop/$n.sh")
    else echo "e2e: no scenario named $n" >&2; exit 2; fi
  done
else
  for s in tests/e2e/*.sh tests/interop/*.sh; do
    [ -f "$s" ] || continue
    case "$(basename "$s")" in lib.sh|run.sh) continue ;; esac
    scripts+=("$s")
  done
fi
pass=0; fail=0; failed=()
for s in "${scripts[@]}"; do
  echo "=== $s"
  # a script may ask for more time than the default with a line "# e2e-timeout: SECONDS"
  limit=$(sed -n 's/^# e2e-timeout: *\([0-9][0-9]*\).*/\1/p' "$s" | head -1)
  out=$(timeout --kill-after=10 "${E2E_TIMEOUT:-${limit:-600}}" bash "$s" 2>&1); rc=$?
  echo "$out" | grep -E '^(ok|not ok) - ' || true
  line=$(grep -E '^[A-Za-z0-9_.-]+: [0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -1)
  p=$(sed -n 's/.*: \([0-9]*\) passed.*/\1/p' <<<"$line"); f=$(sed -n 's/.*passed, \([0-9]*\) failed/\1/p' <<<"$line")
  p=${p:-0}; f=${f:-0}
  [ -n "$line" ] && echo "$line"
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ $rc -ne 0 ]; then
    failed+=("$s")
    # the script's own diagnostics ("# ..." lines: figures, what it waited for in vain) first
    echo "--- $s exited $rc; its diagnostics:"; grep -E '^# ' <<<"$out" | tail -60
    echo "--- last output:"; echo "$out" | tail -30
  fi
  pass=$((pass + p)); fail=$((fail + f))
done
[ ${#failed[@]} -gt 0 ] && echo "failed scripts: ${failed[*]}"
echo "e2e: $pass passed, $fail failed"
[ $fail -eq 0 ]
