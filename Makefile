# roam — top-level, non-recursive Makefile.  Each folder contributes a fragment (module.mk).
#   make            build libroam, every daemon and tool, every unit test  (into $(BUILD))
#   make SAN=1      the same with ASan+UBSan, into build/san
#   make check      deps, build, unit tests (plain and sanitized), end-to-end tests
#   make demo       deps, build, the handoff tour in network namespaces
#   make bench      benchmarks, results as JSON under build/bench
.DEFAULT_GOAL := all
SHELL := /bin/bash

SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
SANFLAGS :=
endif

CC ?= cc
PKGS := libuv yaml-0.1 libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
OPT ?= -O2
CFLAGS := -std=c11 -Wall -Wextra -Werror -Wvla -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
          -D_GNU_SOURCE -g $(OPT) -Icommon/include $(PKG_CFLAGS) $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS) $(EXTRA_LDFLAGS)
LIBS := $(PKG_LIBS) -lm
# Extra libraries only some programs link (third argument of roam_prog):
NFT_LIBS := $(shell pkg-config --libs libnftables 2>/dev/null)
DEPFLAGS = -MMD -MP

LIBROAM := $(BUILD)/libroam.a
PROGS :=
UNIT_TESTS :=

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

# $(call roam_prog,NAME,DIR,EXTRA_LIBS): a program from every .c file of DIR.
# Its objects other than main.o are also what its unit tests (tests/unit/NAME/test_*.c) link against.
define roam_prog
$(1)_SRCS := $$(wildcard $(2)/*.c)
$(1)_OBJS := $$(patsubst %.c,$$(BUILD)/%.o,$$($(1)_SRCS))
$(1)_LIBOBJS := $$(filter-out %/main.o,$$($(1)_OBJS))
$(1)_EXTRA_LIBS := $(3)
$$(BUILD)/bin/$(1): $$($(1)_OBJS) $$(LIBROAM)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$($(1)_OBJS) $$(LIBROAM) $$(LIBS) $(3)
PROGS += $$(BUILD)/bin/$(1)
$$(foreach t,$$(wildcard tests/unit/$(1)/test_*.c),$$(eval $$(call roam_unit,$$(t),$$($(1)_LIBOBJS),$(3))))
endef

# $(call roam_unit,TEST_C,EXTRA_OBJS,EXTRA_LIBS): one Criterion test binary.
define roam_unit
$$(BUILD)/$(basename $(1)): $$(BUILD)/$(basename $(1)).o $(2) $$(LIBROAM)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LIBS) -lcriterion $(3)
UNIT_TESTS += $$(BUILD)/$(basename $(1))
endef

include common/module.mk
include $(filter-out common/module.mk tests/module.mk,$(wildcard */module.mk)) $(wildcard tools/*/module.mk)
include tests/module.mk

all: $(LIBROAM) $(PROGS) $(UNIT_TESTS)

deps:
	@tools/deps.sh

unit: $(LIBROAM) $(PROGS) $(UNIT_TESTS)
	@tools/run-unit.sh $(UNIT_TESTS)

e2e: all
	@BIN=$(abspath $(BUILD))/bin tests/e2e/run.sh $(E2E)

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) SAN=1 unit
	$(MAKE) e2e

demo: deps
	$(MAKE) all
	@BIN=$(abspath $(BUILD))/bin tools/demo.sh

bench: deps
	$(MAKE) all
	@bench/run.sh

# install: daemons to sbin, tools to bin, man pages, example configs (never overwriting an
# existing /etc/roam file), init scripts and units.  DESTDIR and PREFIX as usual.
PREFIX ?= /usr
DAEMONS := $(filter $(addprefix $(BUILD)/bin/,lacd lnsd had fad mapd hlrd mmpd sipd mnd cnd),$(PROGS))
TOOLS := $(filter-out $(DAEMONS),$(PROGS))
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/roam \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	$(if $(DAEMONS),install -m 0755 $(DAEMONS) $(DESTDIR)$(PREFIX)/sbin/)
	install -m 0755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	for f in docs/man/*.[158]; do install -m 0644 $$f $(DESTDIR)$(PREFIX)/share/man/man$${f##*.}/; done
	for f in etc/roam/*; do [ -e $(DESTDIR)/etc/$${f#etc/} ] || \
		install -m $$(case $$f in *.yaml) echo 0640;; *) echo 0600;; esac) $$f $(DESTDIR)/etc/roam/; done
	for d in init.d systemd default; do [ -d etc/$$d ] || continue; \
		install -d $(DESTDIR)/etc/$$d; cp -p $$(ls etc/$$d/* | grep -v '\.in$$') $(DESTDIR)/etc/$$d/; done

# deb: the Debian packages of the committed tree (docs/packaging.md), into $(BUILD)/pkg
deb:
	rm -rf $(BUILD)/pkg && mkdir -p $(BUILD)/pkg/roam
	git archive --format=tar HEAD | tar -xf - -C $(BUILD)/pkg/roam
	cd $(BUILD)/pkg/roam && dpkg-buildpackage -b -uc -us
	lintian $(BUILD)/pkg/roam_*.changes
	@ls $(BUILD)/pkg/*.deb

# fuzz: every libFuzzer target for FUZZ_SECONDS each (tests/fuzz/README.md); not part of check
FUZZ_SECONDS ?= 30
fuzz:
	tests/fuzz/run.sh $(FUZZ_SECONDS)

clean:
	rm -rf build

.PHONY: all deps unit e2e check demo bench install deb fuzz clean
# (not under $(BUILD)/pkg: make deb's tree there has its own build/ and an etc/init.d directory)
-include $(shell find $(BUILD) -path $(BUILD)/pkg -prune -o -name '*.d' -type f -print 2>/dev/null)
