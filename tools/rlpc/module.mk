# rlpc: the emulated mobile's access link + PPP client (tests; stand-in for mnd's L2TP module).
$(eval $(call roam_prog,rlpc,tools/rlpc,))
