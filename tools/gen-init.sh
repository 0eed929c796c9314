#!/bin/sh
# gen-init.sh: writes a daemon's init script, systemd unit and defaults file from the templates
# etc/init.d/roam-daemon.in, etc/systemd/roam-daemon.service.in and etc/default/roam-daemon.in.
#   tools/gen-init.sh [-o DIR] DAEMON DESCRIPTION   one daemon, e.g. hlrd "home location register"
#   tools/gen-init.sh [-o DIR] --all                every daemon of the table below
# Writes DIR/etc/init.d/DAEMON (0755), DIR/etc/systemd/DAEMON.service and DIR/etc/default/DAEMON
# (0644); DIR is the top of the tree (default: the tree this script belongs to).  The generated
# files are committed; tests/e2e/init.sh checks that they equal what this script produces.
# To add a daemon: add its row below, run `tools/gen-init.sh --all`, commit the three files.
set -eu

# name  description (the "roam ..." phrase of its LSB header and unit)
DAEMONS='
hlrd	home location register
had	Mobile IP home agent
sipd	SIP registrar
lacd	L2TP access concentrator
lnsd	L2TP network server
fad	Mobile IP foreign agent
mnd	mobile host agent
cnd	correspondent host agent
'

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top

usage() {
	echo "usage: $0 [-o DIR] DAEMON DESCRIPTION | [-o DIR] --all" >&2
	exit 2
}

# subst TEMPLATE OUTPUT MODE NAME DESCRIPTION
subst() {
	case $5 in *'|'* | *'\'* | *'&'*) echo "$0: description must not contain | \\ or &" >&2; exit 2 ;; esac
	mkdir -p "$(dirname "$2")"
	sed -e "s|@NAME@|$4|g" -e "s|@DESCRIPTION@|$5|g" "$1" >"$2.tmp"
	if grep -n '@[A-Z_]*@' "$2.tmp" >&2; then
		rm -f "$2.tmp"
		echo "$0: $1: unknown placeholder (above)" >&2
		exit 1
	fi
	chmod "$3" "$2.tmp"
	mv "$2.tmp" "$2"
}

gen() {
	case $1 in
	'' | *[!a-z0-9_-]*) echo "$0: bad daemon name '$1'" >&2; exit 2 ;;
	esac
	[ -n "$2" ] || { echo "$0: $1: empty description" >&2; exit 2; }
	subst "$top/etc/init.d/roam-daemon.in" "$out/etc/init.d/$1" 0755 "$1" "$2"
	subst "$top/etc/systemd/roam-daemon.service.in" "$out/etc/systemd/$1.service" 0644 "$1" "$2"
	subst "$top/etc/default/roam-daemon.in" "$out/etc/default/$1" 0644 "$1" "$2"
}

if [ "${1:-}" = -o ]; then
	[ $# -ge 2 ] || usage
	out=$2
	shift 2
fi
case "${1:-}" in
--all)
	[ $# -eq 1 ] || usage
	printf '%s\n' "$DAEMONS" | while IFS='	' read -r name desc; do
		[ -n "$name" ] || continue
		gen "$name" "$desc"
	done
	;;
--list)
	printf '%s\n' "$DAEMONS" | while IFS='	' read -r name desc; do
		[ -n "$name" ] && echo "$name"
	done
	;;
-* | '') usage ;;
*)
	[ $# -eq 2 ] || usage
	gen "$1" "$2"
	;;
esac
