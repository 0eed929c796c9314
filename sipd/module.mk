# sipd: the SIP registrar (docs/protocols/sip-mobility.md, sipd(8)); libosip2 parses and builds.
$(eval $(call roam_prog,sipd,sipd,-losipparser2 -losip2 $(NFT_LIBS)))
