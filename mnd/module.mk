# mnd: the mobile host agent, one module per mechanism (docs/man/mnd.8).
$(eval $(call roam_prog,mnd,mnd,$(NFT_LIBS) -losipparser2))
