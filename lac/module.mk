# lacd: the L2TP Access Concentrator (docs/protocols/l2tp.md, lacd(8)).
$(eval $(call roam_prog,lacd,lac,))
