# rlpc: the test mobile, the shared access-link + PPP client of mnd's l2tp module
# (common/proto/access/pppclient.c) on a command line, PPP restarting on every new link.
$(eval $(call roam_prog,rlpc,tools/rlpc,))
