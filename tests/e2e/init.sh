#!/usr/bin/env bash
# init.sh: the init scripts, systemd units and defaults files of every daemon.
#  - the committed etc/init.d/*, etc/systemd/*.service and etc/default/* equal what
#    tools/gen-init.sh produces from the templates (so they cannot drift), and nothing else is there;
#  - `sh -n` accepts every init script; `systemd-analyze verify` accepts every unit;
#  - a `make install DESTDIR=...` tree works: its /etc/init.d/hlrd, pointed at the temp tree by
#    its defaults file, starts hlrd (config checked first), answers roamctl, reloads (and refuses
#    a broken config without disturbing the daemon), stops and removes its pidfile.
# Touches nothing outside its temp directory: the daemon listens on 127.0.0.1 only, with its
# pidfile, control socket and snapshot under $T_TMP.
. "$(dirname "$0")/lib.sh"

# ---------------------------------------------------------------- generated files are current
gen=$T_TMP/gen
if tools/gen-init.sh -o "$gen" --all >"$T_TMP/gen.out" 2>&1; then
  t_ok "tools/gen-init.sh --all runs"
else
  t_fail "tools/gen-init.sh --all runs" "$(tr '\n' ' ' <"$T_TMP/gen.out")"
fi
daemons=$(tools/gen-init.sh --list)
for d in $daemons; do
  bad=
  for f in "etc/init.d/$d" "etc/systemd/$d.service" "etc/default/$d"; do
    if [ ! -f "$f" ]; then bad+="$f missing; "
    elif ! cmp -s "$f" "$gen/$f"; then bad+="$f differs from the generator's output (run tools/gen-init.sh --all); "
    fi
  done
  [ -x "etc/init.d/$d" ] || bad+="etc/init.d/$d not executable; "
  if [ -z "$bad" ]; then t_ok "$d: init script, unit and defaults equal the generator's"; else t_fail "$d: generated files" "$bad"; fi
done
# every file there comes from the generator (a hand-written one would escape the template)
extra=
for f in etc/init.d/* etc/systemd/* etc/default/*; do
  case $f in *.in) continue ;; esac
  [ -f "$gen/$f" ] || extra+="$f "
done
if [ -z "$extra" ]; then t_ok "no hand-written init files"; else t_fail "no hand-written init files" "not generated: $extra(add a row to tools/gen-init.sh)"; fi

# ---------------------------------------------------------------- syntax
for f in etc/init.d/*; do
  t_check "sh -n $f" sh -n "$f"
done

# ---------------------------------------------------------------- make install
BUILD=${BIN%/bin}
case $BUILD in "$PWD"/*) BUILD=${BUILD#"$PWD"/} ;; esac
root=$T_TMP/root
if make -s BUILD="$BUILD" install DESTDIR="$root" PREFIX=/usr >"$T_TMP/install.out" 2>&1; then
  t_ok "make install DESTDIR=... PREFIX=/usr"
else
  t_fail "make install DESTDIR=... PREFIX=/usr" "$(tail -c 300 "$T_TMP/install.out" | tr '\n' ' ')"
  t_done
fi

# systemd-analyze verify the installed units, with the daemon paths pointed at the installed
# binaries (a daemon not built yet gets a stub: the unit's syntax is what is checked here)
if command -v systemd-analyze >/dev/null 2>&1; then
  mkdir -p "$T_TMP/units" "$T_TMP/stub"
  for u in "$root"/etc/systemd/*.service; do
    d=$(basename "$u" .service)
    exe=$root/usr/sbin/$d
    if [ ! -x "$exe" ]; then exe=$T_TMP/stub/$d; ln -sf /bin/true "$exe"; fi
    sed "s|/usr/sbin/$d|$exe|g" "$u" >"$T_TMP/units/$d.service"
    if out=$(systemd-analyze verify --man=no "$T_TMP/units/$d.service" 2>&1) && [ -z "$out" ]; then
      t_ok "systemd-analyze verify $d.service"
    else
      t_fail "systemd-analyze verify $d.service" "$(tr '\n' ' ' <<<"$out")"
    fi
  done
else
  echo "ok - $T_NAME: systemd-analyze verify (skipped: systemd-analyze is not installed)"
fi

# ---------------------------------------------------------------- hlrd through its init script
init=$root/etc/init.d/hlrd
run=$T_TMP/run/roam
sock=$run/hlrd.sock
pidfile=$run/hlrd.pid
conf=$T_TMP/hlrd.yaml
port=$((20000 + $$ % 20000))
t_check "installed: init script, daemon, roamctl, example config" \
  test -x "$init" -a -x "$root/usr/sbin/hlrd" -a -x "$root/usr/bin/roamctl" -a -f "$root/etc/roam/hlrd.yaml"
t_check "installed example config is mode 0640" test "$(stat -c %a "$root/etc/roam/hlrd.yaml")" = 640
sed -e "s|^control_socket:.*|control_socket: $sock|" -e "s|^snapshot:.*|snapshot: $T_TMP/hlrd.snap|" \
  -e "s|^port:.*|port: $port|" -e '/^listen:/,/^[a-z]/{/^  - /d}' -e 's|^listen:.*|listen: [127.0.0.1]|' \
  "$root/etc/roam/hlrd.yaml" >"$conf"
# the defaults file is how an admin points the script elsewhere; ROAM_DEFAULT names ours
cat >>"$root/etc/default/hlrd" <<EOT
DAEMON=$root/usr/sbin/hlrd
CONFIG=$conf
PIDFILE=$pidfile
EOT
export ROAM_DEFAULT=$root/etc/default/hlrd
ctl() { "$root/usr/bin/roamctl" -s "$sock" "$@"; }
jstatus() { ctl --json status | jq -r ".$1"; }
# whatever happens, no hlrd of ours survives the test
t_cleanup 'p=$(cat "'"$pidfile"'" 2>/dev/null) && [ -n "$p" ] && kill -KILL "$p"'

t_check "init.d/hlrd status before start: not running (3)" bash -c '"$0" status; [ $? -eq 3 ]' "$init"
t_check "init.d/hlrd start" "$init" start
t_check "pidfile written" test -s "$pidfile"
pid=$(cat "$pidfile" 2>/dev/null)
t_check "the pidfile's process is our hlrd" test "$(readlink "/proc/${pid:-0}/exe")" = "$root/usr/sbin/hlrd"
t_check "init.d/hlrd status: running" "$init" status
t_check "roamctl status answers (running, our config)" \
  bash -c '[ "$("$0" -s "$1" --json status | jq -r ".state + \" \" + .config")" = "running $2" ]' \
  "$root/usr/bin/roamctl" "$sock" "$conf"
t_check "init.d/hlrd start again: ok, same daemon" bash -c '"$0" start && [ "$(cat "$1")" = "$2" ]' "$init" "$pidfile" "$pid"

# reload: a new value is applied
sed -i 's|^max_lifetime:.*|max_lifetime: 1800s|' "$conf"
t_check "init.d/hlrd reload" "$init" reload
t_check "reload applied (max_lifetime_s 1800, reloads 1)" \
  t_poll 5 bash -c '[ "$("$0" -s "$1" --json status | jq -r "(.max_lifetime_s|tostring) + \" \" + (.reloads|tostring)")" = "1800 1" ]' \
  "$root/usr/bin/roamctl" "$sock"
# a broken config is refused by the -t check before any signal is sent
cp "$conf" "$conf.good"
echo "no_such_key: 1" >>"$conf"
t_check "init.d/hlrd reload with a broken config fails" bash -c '! "$0" reload' "$init"
t_check "the daemon kept running and was not signalled (reloads 1)" \
  bash -c '[ "$("$0" -s "$1" --json status | jq -r "(.pid|tostring) + \" \" + (.reloads|tostring)")" = "$2 1" ]' \
  "$root/usr/bin/roamctl" "$sock" "$pid"
cp "$conf.good" "$conf"

t_check "init.d/hlrd stop" "$init" stop
t_check "pidfile removed" test ! -e "$pidfile"
t_check "control socket removed" test ! -e "$sock"
# gone, or a zombie its reaper has not collected yet (pid 1 of a container may be slow to)
t_check "process gone" bash -c '[ ! -e /proc/$0 ] || grep -q "^State:[[:space:]]*Z" /proc/$0/status' "${pid:-0}"
t_check "snapshot written at stop" test -f "$T_TMP/hlrd.snap"
t_check "init.d/hlrd status after stop: not running (3)" bash -c '"$0" status; [ $? -eq 3 ]' "$init"
t_check "init.d/hlrd stop when stopped: ok" "$init" stop

# restart from stopped, then stop again
t_check "init.d/hlrd restart" "$init" restart
t_check "restart: roamctl status answers" ctl status
t_check "init.d/hlrd stop after restart" "$init" stop
t_check "pidfile removed after restart/stop" test ! -e "$pidfile"

# a broken config is refused before start
echo "no_such_key: 1" >>"$conf"
t_check "init.d/hlrd start with a broken config fails" bash -c '! "$0" start' "$init"
t_check "and nothing runs" test ! -e "$pidfile"

t_done
