# had: the Mobile IPv4 home agent (docs/protocols/mipv4.md, had(8)).
$(eval $(call roam_prog,had,ha,))
