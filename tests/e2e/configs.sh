#!/usr/bin/env bash
# Every daemon ships what an operator needs, and it is valid: for each daemon built, an example
# config etc/roam/<daemon>.yaml that `<daemon> -t` accepts, man pages <daemon>.8 and
# <daemon>.yaml.5 that groff renders without a warning, and every man page of docs/man renders.
. "$(dirname "$0")/lib.sh"

DAEMONS="lacd lnsd had fad mapd hlrd mmpd sipd mnd cnd"
# The example configs are checked as installed: secrets files beside them are 0600 there (git
# keeps no such mode), so check a copy.
ETC=$T_TMP/etc-roam
cp -r etc/roam "$ETC"
find "$ETC" -type f ! -name '*.yaml' -exec chmod 600 {} +
found=0
for d in $DAEMONS; do
  [ -x "$BIN/$d" ] || continue
  found=$((found + 1))
  cfg=etc/roam/$d.yaml
  if [ -f "$cfg" ]; then
    t_check "$d -t accepts $cfg" "$BIN/$d" -t -c "$ETC/$d.yaml"
  else
    t_fail "$d has an example config" "$cfg missing"
  fi
  for m in docs/man/$d.8 docs/man/$d.yaml.5; do
    [ -f "$m" ] && t_ok "$m exists" || t_fail "$m exists" "missing"
  done
done
t_check "at least one daemon built ($found)" test "$found" -ge 1
if command -v groff >/dev/null; then
  for m in docs/man/*.[158]; do
    out=$(groff -man -ww -z "$m" 2>&1)
    [ -z "$out" ] && t_ok "$m renders cleanly" || t_fail "$m renders cleanly" "$out"
  done
fi
t_done
