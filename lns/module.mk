# lnsd: the L2TP Network Server (docs/protocols/l2tp.md, lnsd(8)).
$(eval $(call roam_prog,lnsd,lns,))
