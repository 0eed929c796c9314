-- Wireshark/tshark dissector for roam's USER_MOVED (docs/protocols/l2tp-handoff.md section 4),
-- UDP port 17011, the LAC group message of the L2TP handoff extension.  Written from the
-- document; any deviation from it is an expert error, so a test can assert a capture has none:
--   tshark -X lua_script:tests/dissectors/usermoved.lua -r capture.pcap
-- The HMAC cannot be checked here (no key): lacd's counters and the unit tests cover it.
local um = Proto("usermoved", "roam USER_MOVED (L2TP handoff)")

local phases = { [0] = "dead", [1] = "establish", [2] = "authenticate", [3] = "network",
                 [4] = "terminate" }
local auths = { [0] = "none", [0xc023] = "PAP", [0xc223] = "CHAP" }

local f = {
  magic = ProtoField.uint16("usermoved.magic", "Magic", base.HEX),
  version = ProtoField.uint8("usermoved.version", "Version"),
  type = ProtoField.uint8("usermoved.type", "Type", base.DEC, { [1] = "USER_MOVED" }),
  length = ProtoField.uint16("usermoved.length", "Length"),
  key_id = ProtoField.uint8("usermoved.key_id", "Key ID"),
  min_len = ProtoField.uint8("usermoved.min_length", "MIN Length"),
  timestamp = ProtoField.uint64("usermoved.timestamp", "Timestamp (ms since 1970)"),
  lac = ProtoField.ipv4("usermoved.lac", "LAC Address"),
  lns = ProtoField.ipv4("usermoved.lns", "LNS Address"),
  lns_port = ProtoField.uint16("usermoved.lns_port", "LNS UDP Port"),
  old_tunnel = ProtoField.uint16("usermoved.old_tunnel", "Old Tunnel ID"),
  old_session = ProtoField.uint16("usermoved.old_session", "Old Session ID"),
  lns_tunnel = ProtoField.uint16("usermoved.lns_tunnel", "LNS Tunnel ID"),
  lns_session = ProtoField.uint16("usermoved.lns_session", "LNS Session ID"),
  hold = ProtoField.uint16("usermoved.hold", "Hold Time (s)"),
  reserved = ProtoField.uint32("usermoved.reserved", "Reserved", base.HEX),
  cs = ProtoField.bytes("usermoved.call_state", "Call State"),
  data_ns = ProtoField.uint16("usermoved.cs.data_ns", "Data Ns"),
  data_nr = ProtoField.uint16("usermoved.cs.data_nr", "Data Nr"),
  phase = ProtoField.uint8("usermoved.cs.ppp_phase", "PPP Phase", base.DEC, phases),
  flags = ProtoField.uint8("usermoved.cs.ppp_flags", "PPP Flags", base.HEX),
  f_lcp = ProtoField.bool("usermoved.cs.lcp_opened", "LCP opened", 8, nil, 0x01),
  f_auth = ProtoField.bool("usermoved.cs.auth_done", "Authentication done", 8, nil, 0x02),
  f_ipcp = ProtoField.bool("usermoved.cs.ipcp_opened", "IPCP opened", 8, nil, 0x04),
  f_seq = ProtoField.bool("usermoved.cs.data_seq", "Data sequencing", 8, nil, 0x08),
  mru = ProtoField.uint16("usermoved.cs.mru", "MRU"),
  accm_send = ProtoField.uint32("usermoved.cs.accm_send", "Send ACCM", base.HEX),
  accm_recv = ProtoField.uint32("usermoved.cs.accm_recv", "Receive ACCM", base.HEX),
  auth = ProtoField.uint16("usermoved.cs.auth_proto", "Auth Protocol", base.HEX, auths),
  cs_reserved = ProtoField.uint16("usermoved.cs.reserved", "Reserved", base.HEX),
  mobile = ProtoField.ipv4("usermoved.cs.mobile", "Mobile Address"),
  min = ProtoField.string("usermoved.min", "MIN"),
  hmac = ProtoField.bytes("usermoved.hmac", "HMAC-SHA256"),
}
um.fields = f

local e_malformed = ProtoExpert.new("usermoved.malformed", "Malformed USER_MOVED",
                                    expert.group.MALFORMED, expert.severity.ERROR)
local e_deviation = ProtoExpert.new("usermoved.deviation", "USER_MOVED deviates from the document",
                                    expert.group.PROTOCOL, expert.severity.ERROR)
um.experts = { e_malformed, e_deviation }

function um.dissector(buf, pinfo, root)
  local n = buf:len()
  pinfo.cols.protocol = "USER_MOVED"
  local tree = root:add(um, buf(), "roam USER_MOVED")
  local function bad(item, msg) (item or tree):add_proto_expert_info(e_malformed, msg) end
  local function dev(item, msg) (item or tree):add_proto_expert_info(e_deviation, msg) end
  if n < 97 or n > 111 then
    bad(nil, "datagram of " .. n .. " octets outside 97..111")
    if n < 8 then return n end
  end
  local mi = tree:add(f.magic, buf(0, 2))
  if buf(0, 2):uint() ~= 0x524d then bad(mi, "magic is not 0x524d") end
  local vi = tree:add(f.version, buf(2, 1))
  if buf(2, 1):uint() ~= 1 then bad(vi, "version " .. buf(2, 1):uint()) end
  local ti = tree:add(f.type, buf(3, 1))
  if buf(3, 1):uint() ~= 1 then bad(ti, "type " .. buf(3, 1):uint()) end
  local li = tree:add(f.length, buf(4, 2))
  if buf(4, 2):uint() ~= n then bad(li, "Length " .. buf(4, 2):uint() .. " but datagram is " .. n) end
  tree:add(f.key_id, buf(6, 1))
  local minlen = buf(7, 1):uint()
  local mli = tree:add(f.min_len, buf(7, 1))
  if minlen < 1 or minlen > 15 then bad(mli, "MIN Length " .. minlen .. " outside 1..15") end
  if n ~= 64 + minlen + 32 then
    bad(mli, "datagram of " .. n .. " octets, 64 + MIN Length + 32 = " .. (64 + minlen + 32))
    return n
  end
  tree:add(f.timestamp, buf(8, 8))
  tree:add(f.lac, buf(16, 4))
  local lnsi = tree:add(f.lns, buf(20, 4))
  if buf(20, 4):uint() == 0 then dev(lnsi, "LNS Address 0") end
  local pi = tree:add(f.lns_port, buf(24, 2))
  if buf(24, 2):uint() == 0 then dev(pi, "LNS UDP Port 0") end
  tree:add(f.old_tunnel, buf(26, 2))
  tree:add(f.old_session, buf(28, 2))
  tree:add(f.lns_tunnel, buf(30, 2))
  tree:add(f.lns_session, buf(32, 2))
  local hi = tree:add(f.hold, buf(34, 2))
  if buf(34, 2):uint() == 0 then dev(hi, "Hold Time 0") end
  local ri = tree:add(f.reserved, buf(36, 4))
  if buf(36, 4):uint() ~= 0 then dev(ri, "reserved octets not 0") end
  -- Call State (section 2.5)
  local cs = tree:add(f.cs, buf(40, 24))
  cs:add(f.data_ns, buf(40, 2))
  cs:add(f.data_nr, buf(42, 2))
  local phi = cs:add(f.phase, buf(44, 1))
  if buf(44, 1):uint() > 4 then bad(phi, "PPP Phase " .. buf(44, 1):uint() .. " > 4") end
  local fl = cs:add(f.flags, buf(45, 1))
  fl:add(f.f_lcp, buf(45, 1))
  fl:add(f.f_auth, buf(45, 1))
  fl:add(f.f_ipcp, buf(45, 1))
  fl:add(f.f_seq, buf(45, 1))
  if bit.band(buf(45, 1):uint(), 0xf0) ~= 0 then dev(fl, "undefined PPP Flags set") end
  cs:add(f.mru, buf(46, 2))
  cs:add(f.accm_send, buf(48, 4))
  cs:add(f.accm_recv, buf(52, 4))
  local ai = cs:add(f.auth, buf(56, 2))
  if not auths[buf(56, 2):uint()] then dev(ai, string.format("Auth Protocol 0x%04x", buf(56, 2):uint())) end
  local cri = cs:add(f.cs_reserved, buf(58, 2))
  if buf(58, 2):uint() ~= 0 then dev(cri, "Call State reserved octets not 0") end
  cs:add(f.mobile, buf(60, 4))
  local min = buf(64, minlen):string()
  local mini = tree:add(f.min, buf(64, minlen))
  if not min:match("^%d+$") then bad(mini, "MIN is not ASCII digits") end
  tree:add(f.hmac, buf(64 + minlen, 32))
  pinfo.cols.info = string.format("USER_MOVED MIN %s from %s, LNS %s, old ids %d/%d, hold %d s, key %d",
                                  min, tostring(buf(16, 4):ipv4()), tostring(buf(20, 4):ipv4()),
                                  buf(26, 2):uint(), buf(28, 2):uint(), buf(34, 2):uint(),
                                  buf(6, 1):uint())
  return n
end

DissectorTable.get("udp.port"):add(17011, um)
