# nftctl: drives roam/nft.h from the command line (tests/e2e/nft-nat.sh, debugging a router's
# old/new address pairs).  Links libnftables.
$(eval $(call roam_prog,nftctl,tools/nftctl,$(NFT_LIBS)))
# Its unit tests, tests/unit/nftctl/test_nft.c, test roam/nft.h itself (they need -lnftables).
