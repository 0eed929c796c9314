# netlab: runs docker-compose topologies in network namespaces (tools/netlab, docs/netlab.md).
$(eval $(call roam_prog,netlab,tools/netlab,))
# Its unit tests: tests/unit/netlab/test_*.c (linked with its objects except main.o).
