# hlrd: the home location register (docs/protocols/hlr.md, hlrd(8)).
$(eval $(call roam_prog,hlrd,hlrd,))
