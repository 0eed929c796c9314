# libroam: every .c under common/ (util, net, proto/<proto>) goes into one static library.
LIBROAM_SRCS := $(wildcard common/util/*.c common/net/*.c common/proto/*/*.c)
LIBROAM_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIBROAM_SRCS))
$(LIBROAM): $(LIBROAM_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^
