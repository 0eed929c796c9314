#!/usr/bin/env bash
# sipd against Kamailio (Debian's kamailio 5.6) as SIP registrars, driven by the same SIPp
# scenario in the same run: REGISTER with digest authentication per second, and memory per
# binding at 1,000,000 bindings.  Everything runs in a network namespace of its own
# (sipb-<pid>) on its loopback.  Receive buffers: sipd asks for 4 MB, Kamailio probes up to
# its maxbuffer (16 MB), SIPp gets -buff_size 8 MB, each capped by net.core.rmem_max, which
# cannot be changed inside a namespace here: the script raises the host's to 8 MB when lower
# and restores it at exit.
#
#   auth:  bench/sip/register-auth.xml: REGISTER, 401 (MD5, qop=auth), REGISTER with
#          Authorization, 200; one distinct user per call (SIPp -inf CSV, u<i>;pw<i>), USERS
#          users (USERS, default 24,000: see below) split over NSIPP SIPp processes (one SIPp saturates near 10,000 calls/s),
#          each keeping at most 200 calls open.  sipd: one event loop, credentials file, digest
#          [md5]; Kamailio: bench/sip/kamailio.cfg (children=1: one UDP worker, usrloc
#          db_mode 0, pv_www_authenticate against an htable of the same users), foreground
#          (-DD -E).  Rate = successful calls / (last SIPp end - first SIPp start); SIPp's
#          retransmissions and failed calls are reported.
#   fill:  bench/sip/register-noauth.xml (servers with authentication off) for FILL distinct
#          users: RSS delta per binding.  sipd: VmRSS; Kamailio: the sum of Pss
#          (/proc/PID/smaps_rollup) over its processes (shared memory counted once), -m sized
#          for the fill.  KAM_FILL=0 skips Kamailio's fill.
# sipd's users are inline in sipd.yaml: a credentials *file* is limited to 64 KiB (about 1,800
# users) by common/util/conf.c (CONF_SECRET_FILE_MAX), although sipd.yaml allows 256 MiB of
# credentials; inline, the 1 MiB YAML limit allows about 26,000.
# Needs root (namespace), sipp, kamailio.  About 3 minutes with the defaults.
. "$(dirname "$0")/lib.sh"

SIPD=$BIN/sipd
SIPP_DIR=$(cd "$(dirname "$0")/sip" && pwd)
b_need "$SIPD" "$BIN/roamctl" sipp kamailio jq ip ss awk
[ "$(id -u)" = 0 ] || b_die "needs root (network namespace)"
USERS=${SIPD_BENCH_USERS:-24000}
NSIPP=${SIPD_BENCH_SIPP:-3}
LIMIT=${SIPD_BENCH_LIMIT:-200}
FILL=${SIPD_BENCH_FILL:-1000000}
KAM_FILL=${SIPD_BENCH_KAM_FILL:-1}
KAM_SHM_MB=${SIPD_BENCH_KAM_SHM_MB:-2048}

NS=sipb-$$
b_netns "$NS"
in_ns() { ip netns exec "$NS" "$@"; }
RMEM_MAX=$(cat /proc/sys/net/core/rmem_max)
if [ "$RMEM_MAX" -lt 8388608 ]; then
	sysctl -qw net.core.rmem_max=8388608 || b_die "cannot raise net.core.rmem_max"
	b_cleanup "sysctl -qw net.core.rmem_max=$RMEM_MAX"
fi

SIP_PORT=5060
KAM_PORT=5070

# Users u<i> / pw<i>: inline in sipd.yaml, in Kamailio's htable (filled by its config), and
# one SIPp CSV per process (distinct users per call).
umask 077
# csv_split PREFIX N: PREFIX<k>.csv for k < NSIPP, users 0..N-1 dealt in contiguous slices
csv_split() {
	awk -v n="$2" -v p="$NSIPP" -v pre="$1" 'BEGIN {
		per = int(n / p)
		for (k = 0; k < p; k++) {
			f = pre k ".csv"
			print "SEQUENTIAL" > f
			for (i = k * per; i < (k + 1) * per; i++)
				printf "u%d;pw%d;[authentication username=u%d password=pw%d]\n", i, i, i, i > f
			close(f)
		}
	}'
}
csv_split "$B_TMP/auth" "$USERS"

# sipd_cfg AUTH: $B_TMP/sipd.yaml
sipd_cfg() {
	cat >"$B_TMP/sipd.yaml" <<-EOF
	listen: ["127.0.0.1:$SIP_PORT"]
	udp: true
	tcp: false
	domains: [roam.example]
	authentication: $1
	realm: roam.example
	digest_algorithms: [md5]
	min_expires: 60s
	max_expires: 3600s
	max_bindings: $((FILL + FILL / 10))
	max_nonces: $((USERS * 2))
	control_socket: $B_TMP/sipd.sock
	snapshot: ""
	log_level: warning
	EOF
	[ "$1" = true ] || return 0
	echo "credentials: |" >>"$B_TMP/sipd.yaml"
	awk -v n="$USERS" 'BEGIN { for (i = 0; i < n; i++) printf "  u%d roam.example password=pw%d\n", i, i }' \
		>>"$B_TMP/sipd.yaml"
}

SPID=
KPID=
stop_pid() { [ -z "$1" ] || roam_stop "$1" "$B_NAME"; } # PID: TERM, then KILL after 10 s
stop_sipd() { stop_pid "$SPID"; SPID=; }
stop_kam() {
	[ -n "$KPID" ] || return 0
	local kids; kids=$(pgrep -P "$KPID")
	stop_pid "$KPID"
	# shellcheck disable=SC2086
	[ -z "$kids" ] || kill -KILL $kids 2>/dev/null
	KPID=
}
b_cleanup stop_sipd
b_cleanup stop_kam
SIPP_PIDS=()
stop_sipp() { local p; for p in "${SIPP_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done; SIPP_PIDS=(); }
b_cleanup stop_sipp

start_sipd() { # AUTH
	sipd_cfg "$1"
	"$SIPD" -t -c "$B_TMP/sipd.yaml" >/dev/null || b_die "sipd -t refuses the config"
	ip netns exec "$NS" "$SIPD" -f -c "$B_TMP/sipd.yaml" -p "$B_TMP/sipd.pid" >>"$B_TMP/sipd.log" 2>&1 &
	SPID=$!
	b_poll 20 "$BIN/roamctl" -s "$B_TMP/sipd.sock" status || { tail "$B_TMP/sipd.log" >&2; b_die "sipd did not start"; }
}
listening() { [ -n "$(in_ns ss -Hlun "sport = :$1")" ]; }
start_kam() { # USERS SHM_MB [-A BENCH_NOAUTH]
	local users=$1 shm=$2; shift 2
	mkdir -p "$B_TMP/kam"
	ip netns exec "$NS" kamailio -DD -E -f "$SIPP_DIR/kamailio.cfg" -Y "$B_TMP/kam" -P "$B_TMP/kam/kam.pid" \
		-A "BENCH_LISTEN=udp:127.0.0.1:$KAM_PORT" -A "BENCH_USERS=$users" "$@" \
		-m "$shm" -M 64 >>"$B_TMP/kamailio.log" 2>&1 &
	KPID=$!
	b_poll 60 listening "$KAM_PORT" || { tail "$B_TMP/kamailio.log" >&2; b_die "kamailio did not start"; }
	sleep 1 # the workers finish their start-up (htable filled in mod-init, before listening)
	kill -0 "$KPID" 2>/dev/null || { tail "$B_TMP/kamailio.log" >&2; b_die "kamailio died"; }
}
pss_kb() { # PID...: sum of Pss
	local p s=0 v
	for p in "$@"; do
		v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
		s=$((s + ${v:-0}))
	done
	echo "$s"
}
kam_pss() { pss_kb "$KPID" $(pgrep -P "$KPID"); }
sipd_rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$SPID/status"; }

# sipp_load NAME PORT SCENARIO CSVPREFIX CALLS_PER_PROC: NSIPP SIPp processes at once, each
# -m CALLS_PER_PROC with at most LIMIT calls open; summary JSON in $B_TMP/NAME.json
sipp_load() {
	local name=$1 port=$2 sf=$3 csv=$4 calls=$5 k
	SIPP_PIDS=()
	for ((k = 0; k < NSIPP; k++)); do
		(cd "$B_TMP" && exec ip netns exec "$NS" timeout 150 sipp -sf "$sf" -inf "$csv$k.csv" \
			-i 127.0.0.1 -p $((7000 + 10 * k)) -mp $((9000 + 10 * k)) -t u1 -m "$calls" -r 100000 -rp 1000 -l "$LIMIT" \
			-buff_size 8388608 -nostdin -nd -auth_uri roam.example -timeout 120s -trace_stat -stf "$B_TMP/$name-$k.stat" \
			-fd 1 -trace_err -error_file "$B_TMP/$name-$k.err" "127.0.0.1:$port") \
			>"$B_TMP/$name-$k.out" 2>&1 &
		SIPP_PIDS+=($!)
	done
	local rc=0 p
	for p in "${SIPP_PIDS[@]}"; do wait "$p" || rc=1; done
	SIPP_PIDS=()
	# the last line of each stat file: start/end epochs (3rd tab field of columns 1 and 3),
	# cumulated successful, failed calls and retransmissions
	for ((k = 0; k < NSIPP; k++)); do
		tail -n 1 "$B_TMP/$name-$k.stat" | awk -F';' '{
			split($1, a, "\t"); split($3, b, "\t")
			printf "{\"start\": %s, \"end\": %s, \"ok\": %s, \"failed\": %s, \"retrans\": %s}\n",
				a[3], b[3], $16, $18, $58 }'
	done | jq -s --arg rc "$rc" '{
		calls_ok: (map(.ok) | add), calls_failed: (map(.failed) | add),
		retransmissions: (map(.retrans) | add),
		duration_s: ((map(.end) | max) - (map(.start) | min)),
		sipp_exit: ($rc | tonumber) } | . + {rate_per_s: (.calls_ok / .duration_s)}' \
		>"$B_TMP/$name.json" || b_die "no SIPp statistics for $name"
	echo "$name: $(jq -c . "$B_TMP/$name.json")"
}

PER=$((USERS / NSIPP))
# ---- REGISTER with digest: sipd, then Kamailio, same scenario and users ----
start_sipd true
c0=$(awk '{ print $14 + $15 }' "/proc/$SPID/stat")
sipp_load sipd_auth "$SIP_PORT" "$SIPP_DIR/register-auth.xml" "$B_TMP/auth" "$PER"
SIPD_CPU=$(awk -v a="$c0" -v hz="$(getconf CLK_TCK)" '{ printf "%.3f\n", ($14 + $15 - a) / hz }' "/proc/$SPID/stat")
"$BIN/roamctl" -s "$B_TMP/sipd.sock" --json stats >"$B_TMP/sipd_stats.json" || true
stop_sipd

start_kam "$USERS" 256
KCPU0=$(for p in "$KPID" $(pgrep -P "$KPID"); do awk '{ print $14 + $15 }' "/proc/$p/stat"; done | awk '{ s += $1 } END { print s }')
sipp_load kam_auth "$KAM_PORT" "$SIPP_DIR/register-auth.xml" "$B_TMP/auth" "$PER"
KAM_CPU=$(for p in "$KPID" $(pgrep -P "$KPID"); do awk '{ print $14 + $15 }' "/proc/$p/stat"; done |
	awk -v a="$KCPU0" -v hz="$(getconf CLK_TCK)" '{ s += $1 } END { printf "%.3f\n", (s - a) / hz }')
stop_kam

# ---- memory per binding at FILL bindings (no authentication) ----
csv_split "$B_TMP/fill" "$FILL"
FPER=$((FILL / NSIPP))
start_sipd false
sleep 0.5
SR0=$(sipd_rss)
sipp_load sipd_fill "$SIP_PORT" "$SIPP_DIR/register-noauth.xml" "$B_TMP/fill" "$FPER"
sleep 0.5
SR1=$(sipd_rss)
SB=$("$BIN/roamctl" -s "$B_TMP/sipd.sock" --json status | jq '.bindings // .registrations // 0')
echo "sipd fill: $SB bindings, VmRSS $SR0 kB -> $SR1 kB"
stop_sipd

KAM_FILL_JSON='{}'
if [ "$KAM_FILL" = 1 ]; then
	start_kam 1 "$KAM_SHM_MB" -A BENCH_NOAUTH
	sleep 0.5
	KR0=$(kam_pss)
	sipp_load kam_fill "$KAM_PORT" "$SIPP_DIR/register-noauth.xml" "$B_TMP/fill" "$FPER"
	sleep 0.5
	KR1=$(kam_pss)
	echo "kamailio fill: Pss $KR0 kB -> $KR1 kB"
	stop_kam
	KAM_FILL_JSON=$(jq -n --slurpfile f "$B_TMP/kam_fill.json" --argjson r0 "$KR0" --argjson r1 "$KR1" \
		--argjson shm "$KAM_SHM_MB" '{
		kamailio_shm_mb: $shm, kamailio_fill_bindings: $f[0].calls_ok,
		kamailio_fill_registers_per_s: ($f[0].rate_per_s | round),
		kamailio_pss_before_fill_kb: $r0, kamailio_pss_after_fill_kb: $r1,
		kamailio_memory_per_binding_bytes: (($r1 - $r0) * 1024 / $f[0].calls_ok * 10 | round / 10) }')
fi

jq -n --slurpfile s "$B_TMP/sipd_auth.json" --slurpfile k "$B_TMP/kam_auth.json" \
	--slurpfile sf "$B_TMP/sipd_fill.json" --argjson sr0 "$SR0" --argjson sr1 "$SR1" \
	--argjson sb "$SB" --argjson users "$USERS" --argjson nsipp "$NSIPP" --argjson limit "$LIMIT" \
	--argjson scpu "$SIPD_CPU" --argjson kcpu "$KAM_CPU" --argjson kf "$KAM_FILL_JSON" '
	def r1: (. * 10 | round) / 10;
	{
	  users: $users, sipp_processes: $nsipp, sipp_calls_open_per_process: $limit,
	  sipd_registers_per_s: ($s[0].rate_per_s | round),
	  kamailio_registers_per_s: ($k[0].rate_per_s | round),
	  sipd_to_kamailio_ratio: ($s[0].rate_per_s / $k[0].rate_per_s * 100 | round / 100),
	  sipd_calls_ok: $s[0].calls_ok, sipd_calls_failed: $s[0].calls_failed,
	  sipd_retransmissions: $s[0].retransmissions,
	  kamailio_calls_ok: $k[0].calls_ok, kamailio_calls_failed: $k[0].calls_failed,
	  kamailio_retransmissions: $k[0].retransmissions,
	  sipd_cpu_us_per_register: ($scpu * 1e6 / ([$s[0].calls_ok, 1] | max) | r1),
	  kamailio_cpu_us_per_register: ($kcpu * 1e6 / ([$k[0].calls_ok, 1] | max) | r1),
	  sipd_fill_bindings: $sb,
	  sipd_fill_registers_per_s: ($sf[0].rate_per_s | round),
	  sipd_fill_calls_failed: $sf[0].calls_failed,
	  sipd_rss_before_fill_kb: $sr0, sipd_rss_after_fill_kb: $sr1,
	  sipd_memory_per_binding_bytes: (($sr1 - $sr0) * 1024 / ([$sb, 1] | max) | r1)
	} + $kf' >"$B_TMP/results.json" || b_die "cannot compose results"
jq . "$B_TMP/results.json"
b_result "$B_TMP/results.json"
