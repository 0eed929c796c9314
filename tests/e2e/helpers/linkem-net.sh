# shellcheck shell=bash
# The linkem test bed shared by tests/e2e/linkem.sh and bench/linkem.sh (sourced by both; not a
# test): host A -- [M: linkem between veths ma and mb] -- host B.  The caller names the
# namespaces NA, NM, NB, the addresses IPA, IPB and the MAC addresses MACA, MACB, and removes the
# namespaces at exit.
#   nsx NS CMD...   run CMD in namespace NS
#   setup           create the namespaces and links (returns 1 on failure)
#   stop_linkem     SIGTERM to the linkem whose pid is in LK_PID (it writes its stats), wait
# (background jobs use `ip netns exec` directly, so that $! is the program's pid)
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

setup() {
	local ns
	for ns in "$NA" "$NM" "$NB"; do
		ip netns add "$ns" || return 1
		# no IPv6 (no router/neighbour solicitations): only the test's frames cross linkem,
		# so its counters can be compared with trafgen's exactly
		nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		nsx "$ns" ip link set lo up
	done
	ip -n "$NA" link add a0 address $MACA type veth peer name ma netns "$NM" || return 1
	ip -n "$NB" link add b0 address $MACB type veth peer name mb netns "$NM" || return 1
	# one frame per TCP segment, so that loss and rate apply per packet
	ip -n "$NA" link set dev a0 gso_max_segs 1 || return 1
	ip -n "$NB" link set dev b0 gso_max_segs 1 || return 1
	ip -n "$NA" addr add $IPA/24 dev a0
	ip -n "$NB" addr add $IPB/24 dev b0
	ip -n "$NA" link set dev a0 up && ip -n "$NB" link set dev b0 up &&
		ip -n "$NM" link set dev ma up && ip -n "$NM" link set dev mb up || return 1
	# static neighbours: no ARP through linkem either
	ip -n "$NA" neigh replace $IPB lladdr $MACB dev a0 nud permanent
	ip -n "$NB" neigh replace $IPA lladdr $MACA dev b0 nud permanent
}

stop_linkem() {
	[ -n "$LK_PID" ] || return 0
	kill -TERM "$LK_PID" 2>/dev/null
	wait "$LK_PID" 2>/dev/null
	LK_PID=
}
