#!/usr/bin/env bash
# baresip (Debian package baresip) as a real SIP user agent against roam: alice (baresip)
# registers with sipd using digest authentication, calls sip:cn@roam.example through sipd, and
# cnd's `sip` module answers; media flows (baresip echoes what it receives (aubridge) as PCMU, cnd's RTP stream to
# baresip); baresip hangs up.  Asserts: sipd's location service holds alice's binding, sipd
# proxied the INVITE and the BYE, cnd saw the call established with media from baresip's
# address and ended by the BYE (no call left); tshark decodes every SIP and RTP packet of the
# capture without a malformed packet or an expert error.
# Everything runs in one network namespace (three addresses on its loopback).
. "$(dirname "$0")/../e2e/lib.sh"
# a failing roamctl must fail the check, not feed jq an empty input (jq -e then says 0)
set -o pipefail; export SHELLOPTS

SIPD=$BIN/sipd CND=$BIN/cnd CTL_BIN=$BIN/roamctl
for b in "$SIPD" "$CND" "$CTL_BIN"; do [ -x "$b" ] || { t_fail "binaries" "$b missing"; t_done; }; done
for c in jq ip tshark baresip; do command -v $c >/dev/null || { t_fail "$c" "$c is required"; t_done; }; done

N=bsip$$
# baresip takes the first address of the interface for its media: give it that one
B_A=10.94.0.1 CN_A=10.94.0.2 SIPD_A=10.94.0.3
ip netns add $N || { t_fail "namespace" "cannot create $N"; t_done; }
t_cleanup ip netns del $N
ip -n $N link set lo up
for a in $B_A $CN_A $SIPD_A; do ip -n $N addr add $a/32 dev lo; done

CTL() { t_ctl "$@"; }
csip() { CTL cnd sip; }

t_sip_users "$T_TMP/users" roam.example alice=alice-secret cn=cn-secret
t_sipd_yaml "$T_TMP/sipd.yaml" $SIPD_A md5 </dev/null
t_sip_agent_yaml "$T_TMP/cnd.yaml" cnd sip:cn@roam.example $SIPD_A 20000 <<EOC
  password: cn-secret
  address: $CN_A
  local_port: 5070
EOC
mkdir -p "$T_TMP/baresip"
cat >"$T_TMP/baresip/config" <<EOC
poll_method epoll
sip_listen $B_A:5080
sip_transports udp
audio_player aubridge,nil
audio_source aubridge,nil
audio_alert aubridge,nil
rtp_ports 30000-30010
module_path /usr/lib/baresip/modules
module stdio.so
module g711.so
module aubridge.so
module_app account.so
module_app menu.so
EOC
echo "<sip:alice@roam.example>;auth_pass=alice-secret;outbound=\"sip:$SIPD_A:5060\";regint=60;audio_codecs=PCMU" \
  >"$T_TMP/baresip/accounts"
: >"$T_TMP/baresip/contacts"

t_capture $N lo "$T_TMP/cap.pcap" udp; TS=$T_PID
t_sipd $N sipd "$T_TMP/sipd.yaml"
t_daemon $N cnd "$CND" "$T_TMP/cnd.yaml"
t_check "cnd registers" t_poll 20 t_jq '.registrations[0].state == "registered"' csip

# baresip reads its commands from a FIFO (stdio module): dial, wait, hang up, quit
mkfifo "$T_TMP/bin"
ip netns exec $N baresip -f "$T_TMP/baresip" <"$T_TMP/bin" >"$T_TMP/baresip.log" 2>&1 &
BP=$!; t_cleanup kill $BP
exec 7>"$T_TMP/bin"
alice_bound() { CTL sipd registrations aor=sip:alice@roam.example | grep -q "$B_A:5080"; }
t_check "baresip registers with sipd (digest)" t_poll 20 alice_bound
echo "/dial sip:cn@roam.example" >&7
up() { t_jq ".calls[0].state == \"confirmed\" and (.calls[0].peer_media | startswith(\"$B_A:\")) and .calls[0].media.rx > 50 and .calls[0].media.rx_bad == 0" csip; }
t_check "call from baresip established at cnd, RTP both ways" t_poll 20 up
t_check "baresip sees the call established" t_poll 10 grep -q -i "established" "$T_TMP/baresip.log"
echo "/hangup" >&7
ended() { t_jq '.counters.rx_bye == 1 and (.calls | length) == 0 and .last_call.rx > 50' csip; }
t_check "baresip's BYE ends the call at cnd" t_poll 10 ended
t_check "sipd proxied INVITE and BYE" t_jq '.proxy_rx_invite >= 1 and .proxy_rx_bye >= 1' CTL sipd stats
echo "/quit" >&7
exec 7>&-
t_poll 10 bash -c "! kill -0 $BP 2>/dev/null" || kill $BP 2>/dev/null

sleep 0.5
kill $TS 2>/dev/null; wait $TS 2>/dev/null
DA="-d udp.port==20000,rtp -d udp.port==30000,rtp -d udp.port==30002,rtp -d udp.port==5070,sip -d udp.port==5080,sip"
t_check "capture: INVITE, 200, ACK, BYE and RTP" \
  bash -c "tshark -r $T_TMP/cap.pcap -n $DA -Y sip 2>/dev/null | grep -q 'Request: INVITE' &&
           tshark -r $T_TMP/cap.pcap -n $DA -Y sip 2>/dev/null | grep -q 'Request: BYE' &&
           [ \$(tshark -r $T_TMP/cap.pcap -n $DA -Y rtp 2>/dev/null | wc -l) -gt 100 ]"
t_check "tshark: no malformed packet, no expert error" t_tshark_clean "$T_TMP/cap.pcap" $DA
t_done
