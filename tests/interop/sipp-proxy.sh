#!/usr/bin/env bash
# sipd as a stateful proxy between two SIPp instances (Debian package sip-tester), in a network
# namespace of its own, over UDP and then over TCP: bob (a SIPp UAS) registers through sipd with digest authentication,
# alice (a SIPp UAC) calls sip:bob@roam.example through sipd: INVITE, 407 (authenticate_invite)
# and ACK, INVITE with Proxy-Authorization, 100/180/200, ACK along the Record-Route, re-INVITE,
# an in-dialog OPTIONS, BYE; then an OPTIONS to sipd itself.  Asserts SIPp's own success counts,
# sipd's proxy counters and transaction dump, and that tshark decodes every SIP packet of the
# run with no malformed packet and no expert error.
#   BIN=$PWD/build/<you>/bin bash tests/interop/sipp-proxy.sh
# Needs root (the namespace), sipp, tshark.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/helpers/sipp.sh" # sipp_prepare, in_ns, sipp_sipd_up, ctl, stat, successes, sipp_capture_clean

SIPP_DIR=$(cd "$(dirname "$0")/sipp" && pwd)
NS="sipprx$$"
PORT=5060
BOB_PORT=25080
ALICE_PORT=25070
sipp_prepare sipp tshark ip python3

umask 077
printf 'alice roam.example password=secret1\nbob roam.example password=bobpw\n' >"$T_TMP/users"
SOCK="$T_TMP/sipd.sock"
# SIPp 3.6.1 answers the FIRST challenge only, and only MD5: MD5 is offered first here.
cat >"$T_TMP/sipd.yaml" <<EOF2
listen: ["127.0.0.1:$PORT"]
domains: [roam.example]
realm: roam.example
credentials: file:$T_TMP/users
digest_algorithms: [md5, sha-256]
authenticate_invite: true
record_route: true
control_socket: $SOCK
snapshot: ""
EOF2
sipp_sipd_up "udp or tcp"

# run_call TRANSPORT BOB_PORT ALICE_PORT (u1 or t1): bob registers through sipd (401, then 200)
# from the port his UAS then listens on; alice calls him.  Over TCP the REGISTER's connection is
# gone when the call comes: sipd connects to bob's registered source address.
run_call() {
  local tr=$1 bport=$2 aport=$3 out rc uac_rc uas_rc
  ctl unregister aor=sip:bob@roam.example >/dev/null # (bob's binding of the previous run)
  out="$T_TMP/sipp-register-$tr.out"
  (cd "$T_TMP" && in_ns timeout 30 sipp -sf "$SIPP_DIR/register.xml" -s bob -au bob -ap bobpw \
     -auth_uri roam.example -i 127.0.0.1 -p "$bport" -t "$tr" -m 1 -nostdin -timeout 20s \
     -timeout_error -key expires 300 127.0.0.1:$PORT) >"$out" 2>&1
  rc=$?
  t_check "$tr: bob registers (rc $rc, $(successes "$out") successful)" test "$rc" = 0 -a "$(successes "$out")" = 1
  local uas_out="$T_TMP/sipp-uas-$tr.out" uac_out="$T_TMP/sipp-uac-$tr.out"
  (cd "$T_TMP" && in_ns timeout 60 sipp -sf "$SIPP_DIR/call-uas.xml" -i 127.0.0.1 -p "$bport" \
     -t "$tr" -m 1 -nostdin -timeout 40s -timeout_error -trace_err) >"$uas_out" 2>&1 &
  local uas=$!
  t_cleanup "kill $uas"
  sleep 0.5
  (cd "$T_TMP" && in_ns timeout 60 sipp -sf "$SIPP_DIR/call-uac.xml" -s bob -au alice -ap secret1 \
     -auth_uri bob@roam.example -i 127.0.0.1 -p "$aport" -t "$tr" -m 1 -nostdin -timeout 40s \
     -timeout_error -trace_err -mp $((aport + 1000)) 127.0.0.1:$PORT) >"$uac_out" 2>&1
  uac_rc=$?
  wait "$uas"; uas_rc=$?
  t_check "$tr: alice's call through sipd: INVITE/407/ACK/INVITE/180/200/ACK, re-INVITE, OPTIONS, BYE (rc $uac_rc, $(successes "$uac_out") successful)" \
    test "$uac_rc" = 0 -a "$(successes "$uac_out")" = 1
  t_check "$tr: bob's side of the call (rc $uas_rc, $(successes "$uas_out") successful)" \
    test "$uas_rc" = 0 -a "$(successes "$uas_out")" = 1
}

# 1. UDP, 2. TCP.
run_call u1 25080 25070
run_call t1 25180 25170

# 3. OPTIONS to sipd itself.
out="$T_TMP/sipp-options.out"
(cd "$T_TMP" && in_ns timeout 30 sipp -sf "$SIPP_DIR/options.xml" -s alice -i 127.0.0.1 \
   -p 25071 -t u1 -m 1 -nostdin -timeout 20s -timeout_error 127.0.0.1:$PORT) >"$out" 2>&1
rc=$?
t_check "OPTIONS to sipd (rc $rc)" test "$rc" = 0 -a "$(successes "$out")" = 1

# 4. sipd's counters.
t_check "sipd: 407 for each unauthenticated INVITE ($(stat reply_407))" test "$(stat reply_407)" = 2
t_check "sipd: proxy auth ok (auth_ok $(stat auth_ok))" test "$(stat auth_ok)" -ge 4
t_check "sipd: 6 INVITEs proxied ($(stat proxy_rx_invite))" test "$(stat proxy_rx_invite)" = 6
t_check "sipd: two BYEs proxied" test "$(stat proxy_rx_bye)" = 2
t_check "sipd: two in-dialog OPTIONS proxied" test "$(stat proxy_rx_options)" = 2
# (the 407 is sent statelessly, before a transaction exists: its ACK is absorbed as one for sipd)
t_check "sipd: the ACK of the 407 absorbed, two ACKs for 2xx routed ($(stat proxy_rx_ack) ACKs, $(stat drop_ack) absorbed)" \
  test "$(stat proxy_rx_ack)" = 6 -a "$(stat drop_ack)" = 2
t_check "sipd: four ACKs for 2xx forwarded statelessly ($(stat proxy_stateless_requests))" \
  test "$(stat proxy_stateless_requests)" = 4
t_check "sipd: 8 requests forwarded in transactions ($(stat proxy_fwd_requests))" \
  test "$(stat proxy_fwd_requests)" = 8
t_check "sipd: connected to bob over TCP ($(stat tcp_connected))" test "$(stat tcp_connected)" = 1
t_check "sipd: 2xx received for INVITE, re-INVITE, OPTIONS, BYE ($(stat proxy_rx_2xx))" \
  test "$(stat proxy_rx_2xx)" -ge 8
t_check "sipd: 180 received ($(stat proxy_rx_1xx))" test "$(stat proxy_rx_1xx)" -ge 1
t_check "sipd: responses forwarded ($(stat proxy_fwd_responses))" test "$(stat proxy_fwd_responses)" -ge 10
t_check "sipd: no loop, no timeout" test "$(stat proxy_loops)" = 0 -a "$(stat proxy_timeouts)" = 0
t_check "sipd: no stray response, no send failure" \
  test "$(stat drop_proxy_stray_response)" = 0 -a "$(stat drop_proxy_send)" = 0
t_check "sipd: no unparseable input" test "$(stat drop_unparseable)" = 0
t_check "sipd: transactions dump is a JSON array" sh -c "$BIN/roamctl -s $SOCK --json transactions | python3 -c 'import json,sys; assert isinstance(json.load(sys.stdin), list)'"
# Every transaction ends within 64*T1 plus the tick: none is left after 35 s.
t_poll 40 sh -c "test \"\$($BIN/roamctl -s $SOCK --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"proxy_transactions\"])')\" = 0" \
  && t_ok "sipd: every proxy transaction freed" || t_fail "sipd: every proxy transaction freed" "$(ctl transactions)"
kill -TERM "$SIPD"; wait "$SIPD"
rc=$?
t_check "sipd exit status 0 ($rc)" test "$rc" = 0

# 5. tshark: every SIP packet decodes, no malformed packet, no expert error.
sipp_capture_clean 30
nrr=$(tshark -r "$T_TMP/cap.pcapng" -Y 'sip.Method == "INVITE" && sip.Record-Route' -T fields -e frame.number 2>/dev/null | wc -l)
t_check "tshark: the forwarded initial INVITEs carry sipd's Record-Route ($nrr)" test "$nrr" = 2
nrr=$(tshark -r "$T_TMP/cap.pcapng" -Y 'sip.Status-Code == 200 && sip.CSeq.method == "INVITE" && sip.Record-Route' -T fields -e frame.number 2>/dev/null | wc -l)
t_check "tshark: the 200 carries it back, both hops ($nrr)" test "$nrr" -ge 2
nbye=$(tshark -r "$T_TMP/cap.pcapng" -Y 'sip.Method == "BYE" && sip.Route' -T fields -e frame.number 2>/dev/null | wc -l)
t_check "tshark: BYE routed by Route ($nbye)" test "$nbye" -ge 2

t_done
