# linkem: user-space link emulator (AF_PACKET between two interfaces).
$(eval $(call roam_prog,linkem,tools/linkem,))
# Its unit tests: tests/unit/linkem/test_*.c (linked with its objects except main.o).
