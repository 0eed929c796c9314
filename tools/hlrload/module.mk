# hlrload: HLR load generator for bench/hlrd.sh (authenticated UPDATEs/QUERYs from many keys).
$(eval $(call roam_prog,hlrload,tools/hlrload,))
