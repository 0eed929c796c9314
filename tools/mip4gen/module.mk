# mip4gen: sends one of every Mobile IPv4 message roam sends (or malformed ones) for the
# tshark / Lua dissector test (tests/e2e/mip4-tshark.sh).
$(eval $(call roam_prog,mip4gen,tools/mip4gen,))
