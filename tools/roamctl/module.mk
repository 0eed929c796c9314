# roamctl: the control client for every roam daemon.
$(eval $(call roam_prog,roamctl,tools/roamctl,))
