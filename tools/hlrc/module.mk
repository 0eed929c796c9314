# hlrc: HLR protocol test client (update, query, raw, replay, wrong key, garbage; ctl calls).
$(eval $(call roam_prog,hlrc,tools/hlrc,))
