# mipc: Mobile IPv4 registration test client and load generator (had(8), bench).
$(eval $(call roam_prog,mipc,tools/mipc,))
