# l2tpload: L2TP control-plane load generator (LAC role on the shared endpoint of
# common/proto/l2tp) for bench/l2tp.sh: tunnel and call set-ups per second, held calls.
$(eval $(call roam_prog,l2tpload,tools/l2tpload,))
