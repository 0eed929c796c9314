# fad: the Mobile IPv4 foreign agent (docs/protocols/mipv4.md, fad(8)).
$(eval $(call roam_prog,fad,fa,))
