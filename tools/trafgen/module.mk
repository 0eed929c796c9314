# trafgen: the traffic meter (UDP loss/gap/latency, TCP integrity/stalls).
$(eval $(call roam_prog,trafgen,tools/trafgen,))
# Its unit tests: tests/unit/trafgen/test_*.c (linked with its objects except main.o).
