# cnd: the correspondent host agent, one module per mechanism (docs/man/cnd.8).
$(eval $(call roam_prog,cnd,cnd,-losipparser2))
