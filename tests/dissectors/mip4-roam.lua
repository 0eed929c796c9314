-- Wireshark/tshark dissector for the Mobile IPv4 messages roam sends on UDP port 434 that
-- Wireshark's own "mip" dissector does not decode (docs/protocols/mipv4.md):
--   18 / 19   Regional Registration Request / Reply (RFC 4857)
--   20 / 21   Fast Binding Update / Acknowledgment (RFC 4988)
--   240-243   route optimization: Binding Warning, Request, Update, Acknowledge (roam's numbers
--             for draft-ietf-mobileip-optim's 16-19, document section 4)
-- with their extensions (authentication 32-35, generalized authentication 36 with subtypes 2, 3,
-- 4, GFA IP Address 46, Encapsulating Delivery Style 130, NAI 131, Hierarchical FA 140).
-- It takes udp.port 434 over from "mip" and hands Registration Request / Reply (1, 3) to it, so
-- those stay fully decoded by Wireshark; for them it adds a "roam checks" subtree that applies
-- the document's extension rules (allowed set, lengths, order, SPIs, codes).
-- Any deviation from the document is an expert error (mip4roam.malformed for what does not
-- parse, mip4roam.deviation for what parses but breaks a rule), so a test can assert that a
-- capture has none:
--   tshark -X lua_script:tests/dissectors/mip4-roam.lua -r capture.pcap \
--          -Y '_ws.malformed || _ws.expert.severity >= "Error"'
-- Other ports: -d udp.port==N,mip4roam.
local p = Proto("mip4roam", "roam Mobile IPv4")

local REQ, REP, BW, BR, BU, BA = 1, 2, 3, 4, 5, 6
local types = {
  [1] = "Registration Request", [3] = "Registration Reply",
  [18] = "Regional Registration Request", [19] = "Regional Registration Reply",
  [20] = "Fast Binding Update", [21] = "Fast Binding Acknowledgment",
  [240] = "Binding Warning", [241] = "Binding Request", [242] = "Binding Update",
  [243] = "Binding Acknowledge",
}
local layout = { [1] = REQ, [3] = REP, [18] = REQ, [19] = REP, [20] = REQ, [21] = REP,
                 [240] = BW, [241] = BR, [242] = BU, [243] = BA }
local fixed_len = { [REQ] = 24, [REP] = 20, [BW] = 12, [BR] = 16, [BU] = 12, [BA] = 16 }

local codes = {
  [0] = "registration accepted", [1] = "accepted, simultaneous bindings unsupported",
  [64] = "FA: reason unspecified", [65] = "FA: administratively prohibited",
  [66] = "FA: insufficient resources", [67] = "FA: mobile node failed authentication",
  [68] = "FA: home agent failed authentication", [69] = "FA: requested lifetime too long",
  [70] = "FA: poorly formed request", [71] = "FA: poorly formed reply",
  [72] = "FA: requested encapsulation unavailable", [73] = "FA: reserved and unavailable",
  [74] = "FA: requested reverse tunnel unavailable",
  [75] = "FA: reverse tunnel is mandatory and T bit not set",
  [76] = "FA: mobile node too distant", [77] = "FA: invalid care-of address",
  [78] = "FA: registration timeout", [79] = "FA: delivery style not supported",
  [80] = "FA: home network unreachable", [81] = "FA: HA host unreachable",
  [82] = "FA: HA port unreachable", [88] = "FA: home agent unreachable",
  [128] = "HA: reason unspecified", [129] = "HA: administratively prohibited",
  [130] = "HA: insufficient resources", [131] = "HA: mobile node failed authentication",
  [132] = "HA: foreign agent failed authentication",
  [133] = "HA: registration Identification mismatch", [134] = "HA: poorly formed request",
  [135] = "HA: too many simultaneous mobility bindings", [136] = "HA: unknown home agent address",
  [137] = "HA: requested reverse tunnel unavailable",
  [138] = "HA: reverse tunnel is mandatory and T bit not set",
  [139] = "HA: requested encapsulation unavailable",
}
-- Codes each reply type may carry (section 2.2: FBAck uses these FA codes; 19 the FA range).
local function code_ok(typ, code)
  if not codes[code] then return false end
  if typ == 21 then
    return code == 0 or code == 65 or code == 66 or code == 67 or code == 69 or code == 70 or
           code == 77
  elseif typ == 19 then
    return code <= 1 or (code >= 64 and code < 128)
  end
  return true
end

local ext_names = {
  [32] = "MN-HA Authentication", [33] = "MN-FA Authentication", [34] = "FA-HA Authentication",
  [35] = "Route Optimization Authentication", [36] = "Generalized Authentication",
  [46] = "GFA IP Address", [130] = "Encapsulating Delivery Style", [131] = "Mobile Node NAI",
  [140] = "Hierarchical Foreign Agent", [240] = "RO Relay (roam)",
}
local gen_names = { [1] = "MN-AAA", [2] = "FA-FA", [3] = "MN-GFA", [4] = "MN-PAR" }
-- Key of an extension: its type, or "36/subtype".
local function key_of(t, st) return t == 36 and ("36/" .. st) or tostring(t) end
local key_names = {
  ["32"] = "MN-HA", ["33"] = "MN-FA", ["34"] = "FA-HA", ["35"] = "RO", ["36/2"] = "FA-FA",
  ["36/3"] = "MN-GFA", ["36/4"] = "MN-PAR", ["46"] = "GFA IP Address",
  ["130"] = "Encapsulating Delivery Style", ["131"] = "NAI", ["140"] = "Hierarchical FA",
  ["240"] = "RO Relay",
}
-- Extensions each message type may carry (section 2.4; 35 in 241-243, section 4).
local allowed = {
  [1] = { ["32"] = true, ["33"] = true, ["34"] = true, ["46"] = true, ["130"] = true,
          ["131"] = true, ["140"] = true },
  [3] = { ["32"] = true, ["33"] = true, ["34"] = true },
  [18] = { ["36/3"] = true, ["36/2"] = true, ["131"] = true, ["140"] = true },
  [19] = { ["36/3"] = true, ["36/2"] = true },
  [20] = { ["36/4"] = true }, [21] = { ["36/4"] = true },
  [240] = {}, [241] = { ["35"] = true }, [242] = { ["35"] = true, ["240"] = true }, [243] = { ["35"] = true },
}
-- Position in the order of section 2.5 (1 mobile's, 2 mobile's authenticator, 3 MN-FA,
-- 4 FA's extensions, 5 FA's authenticator).
local rank = { ["131"] = 1, ["130"] = 1, ["240"] = 1, ["32"] = 2, ["35"] = 2, ["36/3"] = 2, ["36/4"] = 2,
               ["33"] = 3, ["46"] = 4, ["140"] = 4, ["34"] = 5, ["36/2"] = 5 }
-- The sender's own authenticator, mandatory (sections 2.4, 4, 8): returns its key or nil.
local function mandatory_auth(typ, code)
  local had_or_mn = code == nil or code <= 1 or code >= 128
  if typ == 1 or (typ == 3 and had_or_mn) then return "32" end
  if typ == 18 or (typ == 19 and code <= 1) then return "36/3" end
  if typ == 20 or (typ == 21 and code == 0) then return "36/4" end
  if typ >= 241 then return "35" end
  return nil
end

local f = {
  type = ProtoField.uint8("mip4roam.type", "Type", base.DEC, types),
  flags = ProtoField.uint8("mip4roam.flags", "Flags", base.HEX),
  f_s = ProtoField.bool("mip4roam.flags.s", "S: simultaneous bindings", 8, nil, 0x80),
  f_b = ProtoField.bool("mip4roam.flags.b", "B: broadcast datagrams", 8, nil, 0x40),
  f_d = ProtoField.bool("mip4roam.flags.d", "D: decapsulation by mobile node", 8, nil, 0x20),
  f_m = ProtoField.bool("mip4roam.flags.m", "M: minimal encapsulation", 8, nil, 0x10),
  f_g = ProtoField.bool("mip4roam.flags.g", "G: GRE encapsulation", 8, nil, 0x08),
  f_r = ProtoField.bool("mip4roam.flags.r", "r: reserved", 8, nil, 0x04),
  f_t = ProtoField.bool("mip4roam.flags.t", "T: reverse tunnelling", 8, nil, 0x02),
  f_x = ProtoField.bool("mip4roam.flags.x", "x: reserved", 8, nil, 0x01),
  bu_a = ProtoField.bool("mip4roam.bu.a", "A: acknowledge requested", 8, nil, 0x80),
  bu_i = ProtoField.bool("mip4roam.bu.i", "I: Identification present", 8, nil, 0x40),
  bu_m = ProtoField.bool("mip4roam.bu.m", "M: minimal encapsulation", 8, nil, 0x20),
  bu_g = ProtoField.bool("mip4roam.bu.g", "G: GRE encapsulation", 8, nil, 0x10),
  bu_rsv = ProtoField.uint8("mip4roam.bu.reserved", "Reserved", base.HEX, nil, 0x0f),
  ba_n = ProtoField.bool("mip4roam.ba.n", "N: negative acknowledgement", 8, nil, 0x80),
  ba_rsv = ProtoField.uint8("mip4roam.ba.reserved", "Reserved", base.HEX, nil, 0x7f),
  code = ProtoField.uint8("mip4roam.code", "Code", base.DEC, codes),
  lifetime = ProtoField.uint16("mip4roam.lifetime", "Lifetime (s)"),
  reserved = ProtoField.uint32("mip4roam.reserved", "Reserved", base.HEX),
  home = ProtoField.ipv4("mip4roam.home", "Home Address"),
  ha = ProtoField.ipv4("mip4roam.ha", "Home Agent"),
  pfa = ProtoField.ipv4("mip4roam.prev_fa", "Previous Foreign Agent"),
  coa = ProtoField.ipv4("mip4roam.coa", "Care-of Address"),
  target = ProtoField.ipv4("mip4roam.target", "Target Node Address"),
  id = ProtoField.uint64("mip4roam.id", "Identification", base.HEX),
  ext = ProtoField.bytes("mip4roam.ext", "Extension"),
  ext_type = ProtoField.uint8("mip4roam.ext.type", "Extension type", base.DEC, ext_names),
  ext_subtype = ProtoField.uint8("mip4roam.ext.subtype", "Subtype", base.DEC, gen_names),
  ext_len = ProtoField.uint16("mip4roam.ext.length", "Length"),
  spi = ProtoField.uint32("mip4roam.ext.spi", "SPI", base.HEX),
  auth = ProtoField.bytes("mip4roam.ext.authenticator", "Authenticator"),
  nai = ProtoField.string("mip4roam.ext.nai", "NAI"),
  gfa = ProtoField.ipv4("mip4roam.ext.gfa", "GFA IP Address"),
  hfa = ProtoField.ipv4("mip4roam.ext.hfa", "Hierarchical FA Address"),
  value = ProtoField.bytes("mip4roam.ext.value", "Value"),
  relay_dst = ProtoField.ipv4("mip4roam.ext.relay_dst", "Relay to (UDP 434)"),
  relay_msg = ProtoField.bytes("mip4roam.ext.relay_msg", "Relayed message"),
  relay_type = ProtoField.uint8("mip4roam.ext.relay_type", "Relayed message type", base.DEC, types),
}
p.fields = f

local e_malformed = ProtoExpert.new("mip4roam.malformed", "Malformed Mobile IPv4 message",
                                    expert.group.MALFORMED, expert.severity.ERROR)
local e_deviation = ProtoExpert.new("mip4roam.deviation",
                                    "Mobile IPv4 message deviates from docs/protocols/mipv4.md",
                                    expert.group.PROTOCOL, expert.severity.ERROR)
local e_skipped = ProtoExpert.new("mip4roam.skipped", "Skippable extension unknown to roam",
                                  expert.group.UNDECODED, expert.severity.NOTE)
p.experts = { e_malformed, e_deviation, e_skipped }

local mip = Dissector.get("mip")
-- Bitwise AND: bit32 in Lua 5.2 (Wireshark <= 4.2), Wireshark's BitOp "bit" otherwise.
local band = (bit32 and bit32.band) or (bit and bit.band)

local function malformed(item, msg) item:add_proto_expert_info(e_malformed, msg) end
local function deviation(item, msg) item:add_proto_expert_info(e_deviation, msg) end

-- "2026-11-22 19:00:00.25 UTC" for an NTP timestamp (timestamp-based Identification, 5.7).
local function ntp_text(range)
  local secs, frac = range(0, 4):uint(), range(4, 4):uint()
  local unix = secs - 2208988800
  if unix < 0 then return "not a timestamp" end
  return os.date("!%Y-%m-%d %H:%M:%S", unix) .. string.format(".%03d UTC",
    math.floor(frac / 4294967296 * 1000))
end

-- Fixed part: returns its length, or nil after flagging a short message.
local function dissect_fixed(buf, tree, typ, lay)
  local n = buf:len()
  local need = fixed_len[lay]
  if lay == BU and n >= 2 and band(buf(1, 1):uint(), 0x40) ~= 0 then need = 20 end
  if n < need then
    malformed(tree, string.format("%s needs %d bytes of fixed part, datagram has %d",
      types[typ], need, n))
    return nil
  end
  local flags = buf(1, 1):uint()
  if lay == REQ then
    local fi = tree:add(f.flags, buf(1, 1))
    for _, k in ipairs({ "f_s", "f_b", "f_d", "f_m", "f_g", "f_r", "f_t", "f_x" }) do
      fi:add(f[k], buf(1, 1))
    end
    if band(flags, 0x05) ~= 0 then deviation(fi, "reserved flag r or x set (sent 0)") end
    if band(flags, 0xf8) ~= 0 then
      deviation(fi, "S, B, D, M or G set: roam never sends them (section 2.1)")
    end
    tree:add(f.lifetime, buf(2, 2))
    tree:add(f.home, buf(4, 4))
    tree:add(typ == 20 and f.pfa or f.ha, buf(8, 4))
    tree:add(f.coa, buf(12, 4))
    tree:add(f.id, buf(16, 8)):append_text(" (" .. ntp_text(buf(16, 8)) .. ")")
  elseif lay == REP then
    local code = buf(1, 1):uint()
    local ci = tree:add(f.code, buf(1, 1))
    if not codes[code] then deviation(ci, "code " .. code .. " is not defined")
    elseif not code_ok(typ, code) then
      deviation(ci, "code " .. code .. " is not one " .. types[typ] .. " carries (section 2.2)")
    end
    tree:add(f.lifetime, buf(2, 2))
    tree:add(f.home, buf(4, 4))
    tree:add(typ == 21 and f.pfa or f.ha, buf(8, 4))
    tree:add(f.id, buf(12, 8)):append_text(" (" .. ntp_text(buf(12, 8)) .. ")")
  elseif lay == BW or lay == BR then
    local ri = tree:add(f.reserved, buf(1, 3))
    if buf(1, 3):uint() ~= 0 then deviation(ri, "reserved bytes not zero") end
    tree:add(f.home, buf(4, 4))
    if lay == BW then tree:add(f.target, buf(8, 4))
    else tree:add(f.id, buf(8, 8)):append_text(" (" .. ntp_text(buf(8, 8)) .. ")") end
  elseif lay == BU then
    local fi = tree:add(f.flags, buf(1, 1))
    for _, k in ipairs({ "bu_a", "bu_i", "bu_m", "bu_g", "bu_rsv" }) do fi:add(f[k], buf(1, 1)) end
    if band(flags, 0x0f) ~= 0 then deviation(fi, "reserved bits not zero") end
    if band(flags, 0x30) ~= 0 then deviation(fi, "M or G set: roam never sends them") end
    if band(flags, 0x40) == 0 then deviation(fi, "I clear: roam always sends the Identification") end
    tree:add(f.lifetime, buf(2, 2))
    tree:add(f.home, buf(4, 4))
    tree:add(f.coa, buf(8, 4))
    if need == 20 then tree:add(f.id, buf(12, 8)):append_text(" (" .. ntp_text(buf(12, 8)) .. ")") end
  elseif lay == BA then
    local fi = tree:add(f.flags, buf(1, 1))
    fi:add(f.ba_n, buf(1, 1))
    fi:add(f.ba_rsv, buf(1, 1))
    if band(flags, 0x7f) ~= 0 then deviation(fi, "reserved bits not zero") end
    local ri = tree:add(f.reserved, buf(2, 2))
    if buf(2, 2):uint() ~= 0 then deviation(ri, "reserved bytes not zero") end
    tree:add(f.home, buf(4, 4))
    tree:add(f.id, buf(8, 8)):append_text(" (" .. ntp_text(buf(8, 8)) .. ")")
  end
  return need
end

-- Extensions from off to the end of the datagram (section 1: they must fill it exactly).
local function dissect_exts(buf, tree, typ, code, off)
  local n = buf:len()
  local seen, last_rank, last_key, last_any = {}, 0, nil, nil
  while off < n do
    local t = buf(off, 1):uint()
    local hdr, st, len = 2, nil, nil
    if t == 36 then
      hdr = 4
      if n - off < 4 then malformed(tree, "generalized authentication header cut short"); return end
      st, len = buf(off + 1, 1):uint(), buf(off + 2, 2):uint()
    else
      if n - off < 2 then malformed(tree, "extension " .. t .. " header cut short"); return end
      len = buf(off + 1, 1):uint()
    end
    if off + hdr + len > n then
      local item = tree:add(f.ext, buf(off, n - off)):set_text((ext_names[t] or ("Extension " .. t)) ..
        " (truncated)")
      malformed(item, string.format("extension %d length %d runs past the end of the datagram", t, len))
      return
    end
    local k = key_of(t, st)
    local name = key_names[k] or ext_names[t] or ("Extension " .. t)
    if t == 36 then name = "Generalized Authentication " .. (gen_names[st] or ("subtype " .. st)) end
    local item = tree:add(f.ext, buf(off, hdr + len)):set_text(name)
    item:add(f.ext_type, buf(off, 1))
    if t == 36 then
      item:add(f.ext_subtype, buf(off + 1, 1))
      item:add(f.ext_len, buf(off + 2, 2))
    else
      item:add(f.ext_len, buf(off + 1, 1))
    end
    local v = off + hdr
    local known = key_names[k] ~= nil
    if t == 32 or t == 33 or t == 34 or t == 35 or (t == 36 and known) then
      if len ~= 20 then
        malformed(item, string.format("authentication extension length %d, not 4 + 16", len))
      end
      if len >= 4 then
        local spi = buf(v, 4):uint()
        local si = item:add(f.spi, buf(v, 4))
        if spi < 256 then deviation(si, "SPI " .. spi .. " is reserved (0-255)") end
        if len > 4 then item:add(f.auth, buf(v + 4, len - 4)) end
        item:append_text(string.format(", SPI 0x%x", spi))
      end
    elseif t == 46 or t == 140 then
      if len ~= 4 then malformed(item, "address extension length " .. len .. ", not 4")
      else
        item:add(t == 46 and f.gfa or f.hfa, buf(v, 4))
        item:append_text(": " .. tostring(buf(v, 4):ipv4()))
      end
    elseif t == 240 then
      -- RO relay (section 4): destination + the message the correspondent relays (8.4)
      if len < 5 then malformed(item, "RO relay extension length " .. len .. ", less than 4 + 1")
      else
        item:add(f.relay_dst, buf(v, 4))
        local m = item:add(f.relay_msg, buf(v + 4, len - 4))
        m:add(f.relay_type, buf(v + 4, 1))
        item:append_text(": to " .. tostring(buf(v, 4):ipv4()) .. ", " ..
          (types[buf(v + 4, 1):uint()] or ("type " .. buf(v + 4, 1):uint())) .. ", " .. (len - 4) .. " bytes")
      end
    elseif t == 130 then
      if len ~= 0 then malformed(item, "Encapsulating Delivery Style length " .. len .. ", not 0") end
    elseif t == 131 then
      if len == 0 then malformed(item, "empty NAI")
      else
        item:add(f.nai, buf(v, len))
        item:append_text(": " .. buf(v, len):string())
      end
    else
      if len > 0 then item:add(f.value, buf(v, len)) end
      if t < 128 then
        deviation(item, string.format("must-understand extension %s unknown to roam: the message " ..
          "is discarded", t == 36 and ("36 subtype " .. st) or tostring(t)))
      else
        item:add_proto_expert_info(e_skipped, "skippable extension " .. t .. " (ignored by roam)")
      end
    end
    if known then
      if seen[k] then deviation(item, key_names[k] .. " appears twice") end
      seen[k] = true
      if not allowed[typ][k] then
        deviation(item, key_names[k] .. " is not carried in " .. types[typ] .. " (section 2.4)")
      elseif rank[k] < last_rank then
        deviation(item, key_names[k] .. " after " .. key_names[last_key] ..
          ": out of the order of section 2.5")
      else
        last_rank, last_key = rank[k], k
      end
    end
    last_any = k
    off = v + len
  end
  local must = mandatory_auth(typ, code)
  if must and not seen[must] then
    deviation(tree, key_names[must] .. " authentication extension missing")
  end
  if typ >= 241 and seen["35"] and last_any ~= "35" then
    deviation(tree, "RO authentication is not the last extension (section 4)")
  end
end

function p.dissector(buf, pinfo, root)
  local n = buf:len()
  if n < 1 then return 0 end
  local typ = buf(0, 1):uint()
  local lay = layout[typ]
  if typ == 1 or typ == 3 or not lay then
    -- Wireshark decodes these itself; add roam's rules for 1 and 3, flag any other type.
    local consumed = mip and mip:call(buf, pinfo, root) or 0
    local tree = root:add(p, buf(), "roam Mobile IPv4 checks")
    if not lay then
      deviation(tree, "message type " .. typ .. " is not one roam sends (section 1)")
    elseif n >= fixed_len[lay] then
      local code = typ == 3 and buf(1, 1):uint() or nil
      if typ == 3 and not code_ok(typ, code) then deviation(tree, "reply code " .. code .. " not defined") end
      if typ == 1 and band(buf(1, 1):uint(), 0x05) ~= 0 then
        deviation(tree, "reserved flag r or x set (sent 0)")
      end
      dissect_exts(buf, tree, typ, code, fixed_len[lay])
    else
      malformed(tree, types[typ] .. " shorter than its fixed part")
    end
    return math.max(consumed, n)
  end
  pinfo.cols.protocol = "MIP-roam"
  local tree = root:add(p, buf(), "roam Mobile IPv4, " .. types[typ])
  tree:add(f.type, buf(0, 1))
  local info = types[typ]
  local flen = dissect_fixed(buf, tree, typ, lay)
  if not flen then
    pinfo.cols.info = info .. " [short]"
    return n
  end
  local code = lay == REP and buf(1, 1):uint() or nil
  if code then info = info .. " code " .. code end
  if lay == REQ or lay == REP or lay == BU then info = info .. " lifetime " .. buf(2, 2):uint() end
  info = info .. " home " .. tostring(buf(4, 4):ipv4())
  if lay == REQ then info = info .. " coa " .. tostring(buf(12, 4):ipv4())
  elseif lay == BU then info = info .. " coa " .. tostring(buf(8, 4):ipv4())
  elseif lay == BW then info = info .. " target " .. tostring(buf(8, 4):ipv4()) end
  if lay == BA and band(buf(1, 1):uint(), 0x80) ~= 0 then info = info .. " [N]" end
  pinfo.cols.info = info
  dissect_exts(buf, tree, typ, code, flen)
  return n
end

DissectorTable.get("udp.port"):add(434, p)
