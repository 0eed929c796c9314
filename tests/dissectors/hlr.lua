-- Wireshark/tshark dissector for roam's HLR protocol (docs/protocols/hlr.md), UDP port 7460.
-- Used by the end-to-end tests to check that every HLR packet roam sends decodes cleanly:
--   tshark -X lua_script:tests/dissectors/hlr.lua -r capture.pcap
-- Any deviation from the document is reported as an expert error, so a test can assert that a
-- capture has none.
local hlr = Proto("hlr", "roam HLR protocol")

local types = { [1] = "UPDATE", [2] = "UPDATE-ACK", [3] = "QUERY", [4] = "QUERY-REPLY" }
local codes = { [0] = "OK", [1] = "NO-MAPPING", [64] = "NOT-AUTHORIZED", [65] = "BAD-ADDRESS",
                [66] = "NO-RESOURCES" }
local attrs = { [1] = "PERMANENT-ADDRESS", [2] = "CARE-OF-ADDRESS", [3] = "LIFETIME",
                [4] = "NEGATIVE-TTL" }
local allowed = {
  [1] = { [1] = true, [2] = true, [3] = true },
  [2] = { [1] = true, [3] = true },
  [3] = { [1] = true },
  [4] = { [1] = true, [2] = true, [3] = true, [4] = true },
}

local f = {
  version = ProtoField.uint8("hlr.version", "Version"),
  type = ProtoField.uint8("hlr.type", "Type", base.DEC, types),
  length = ProtoField.uint16("hlr.length", "Length"),
  flags = ProtoField.uint8("hlr.flags", "Flags", base.HEX),
  code = ProtoField.uint8("hlr.code", "Code", base.DEC, codes),
  reserved = ProtoField.uint16("hlr.reserved", "Reserved", base.HEX),
  txid = ProtoField.uint32("hlr.txid", "Transaction ID", base.HEX),
  keyid = ProtoField.uint32("hlr.keyid", "Key ID"),
  timestamp = ProtoField.uint64("hlr.timestamp", "Timestamp (NTP)", base.HEX),
  attr = ProtoField.bytes("hlr.attr", "Attribute"),
  attr_type = ProtoField.uint8("hlr.attr.type", "Attribute type", base.DEC, attrs),
  attr_len = ProtoField.uint8("hlr.attr.length", "Attribute length"),
  family = ProtoField.uint8("hlr.attr.family", "Family", base.DEC, { [1] = "IPv4", [2] = "IPv6" }),
  perm4 = ProtoField.ipv4("hlr.permanent", "Permanent address"),
  perm6 = ProtoField.ipv6("hlr.permanent6", "Permanent address"),
  coa4 = ProtoField.ipv4("hlr.careof", "Care-of address"),
  coa6 = ProtoField.ipv6("hlr.careof6", "Care-of address"),
  lifetime = ProtoField.uint32("hlr.lifetime", "Lifetime (s)"),
  negttl = ProtoField.uint32("hlr.negative_ttl", "Negative TTL (s)"),
  unknown = ProtoField.bytes("hlr.attr.value", "Value"),
  auth = ProtoField.bytes("hlr.authenticator", "Authenticator (HMAC-SHA256)"),
}
hlr.fields = f

local e_malformed = ProtoExpert.new("hlr.malformed", "Malformed HLR message",
                                    expert.group.MALFORMED, expert.severity.ERROR)
hlr.experts = { e_malformed }

local function bad(tree, item, msg)
  (item or tree):add_proto_expert_info(e_malformed, msg)
end

function hlr.dissector(buf, pinfo, root)
  local n = buf:len()
  pinfo.cols.protocol = "HLR"
  local tree = root:add(hlr, buf(), "roam HLR protocol")
  if n < 56 or n > 512 then
    bad(tree, nil, "message size " .. n .. " outside 56..512")
    return n
  end
  local ver = buf(0, 1):uint()
  local typ = buf(1, 1):uint()
  local len = buf(2, 2):uint()
  local code = buf(5, 1):uint()
  local vi = tree:add(f.version, buf(0, 1))
  if ver ~= 1 then bad(tree, vi, "version " .. ver) end
  local ti = tree:add(f.type, buf(1, 1))
  if not types[typ] then bad(tree, ti, "unknown type " .. typ) end
  local li = tree:add(f.length, buf(2, 2))
  if len ~= n then bad(tree, li, "length " .. len .. " but datagram is " .. n) end
  tree:add(f.flags, buf(4, 1))
  local ci = tree:add(f.code, buf(5, 1))
  if (typ == 1 or typ == 3) and code ~= 0 then bad(tree, ci, "request with non-zero code") end
  tree:add(f.reserved, buf(6, 2))
  tree:add(f.txid, buf(8, 4))
  tree:add(f.keyid, buf(12, 4))
  tree:add(f.timestamp, buf(16, 8))
  pinfo.cols.info = (types[typ] or ("type " .. typ)) ..
    ((typ == 2 or typ == 4) and (" " .. (codes[code] or ("code " .. code))) or "") ..
    string.format(" txid=0x%08x key=%d", buf(8, 4):uint(), buf(12, 4):uint())
  local off, stop, seen = 24, n - 32, {}
  while off < stop do
    if stop - off < 2 then bad(tree, nil, "truncated attribute header"); break end
    local at, al = buf(off, 1):uint(), buf(off + 1, 1):uint()
    if off + 2 + al > stop then bad(tree, nil, "attribute runs past the authenticator"); break end
    local item = tree:add(f.attr, buf(off, 2 + al)):set_text(attrs[at] or ("Attribute " .. at))
    item:add(f.attr_type, buf(off, 1))
    item:add(f.attr_len, buf(off + 1, 1))
    if at < 128 then
      if not attrs[at] then bad(tree, item, "unassigned attribute " .. at)
      elseif seen[at] then bad(tree, item, "duplicate attribute " .. attrs[at])
      elseif allowed[typ] and not allowed[typ][at] then bad(tree, item, attrs[at] .. " not allowed here") end
    end
    seen[at] = true
    local v = off + 2
    if at == 1 or at == 2 then
      local fam = al > 0 and buf(v, 1):uint() or 0
      item:add(f.family, buf(v, math.min(al, 1)))
      if fam == 1 and al == 5 then
        item:add(at == 1 and f.perm4 or f.coa4, buf(v + 1, 4))
        item:append_text(": " .. tostring(buf(v + 1, 4):ipv4()))
      elseif fam == 2 and al == 17 then
        item:add(at == 1 and f.perm6 or f.coa6, buf(v + 1, 16))
        item:append_text(": " .. tostring(buf(v + 1, 16):ipv6()))
      else
        bad(tree, item, "bad address family/length")
      end
    elseif at == 3 or at == 4 then
      if al ~= 4 then bad(tree, item, "bad length")
      else
        item:add(at == 3 and f.lifetime or f.negttl, buf(v, 4))
        item:append_text(": " .. buf(v, 4):uint() .. " s")
      end
    elseif al > 0 then
      item:add(f.unknown, buf(v, al))
    end
    off = off + 2 + al
  end
  if typ == 1 or typ == 3 or typ == 2 or typ == 4 then
    if not seen[1] then bad(tree, nil, "PERMANENT-ADDRESS missing") end
  end
  if typ == 1 and not seen[2] then bad(tree, nil, "CARE-OF-ADDRESS missing") end
  if typ == 4 and code == 0 and not (seen[2] and seen[3]) then bad(tree, nil, "OK reply without care-of/lifetime") end
  if typ == 4 and code == 1 and not seen[4] then bad(tree, nil, "NO-MAPPING without NEGATIVE-TTL") end
  tree:add(f.auth, buf(n - 32, 32))
  return n
end

DissectorTable.get("udp.port"):add(7460, hlr)
