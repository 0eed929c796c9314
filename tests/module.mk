# Unit tests of common/: one Criterion binary per tests/unit/common/test_*.c, linked with libroam.
# Tests of a daemon live in tests/unit/<dir>/ and are declared by that daemon's roam_prog.
$(foreach t,$(filter-out tests/unit/common/test_sip_ua.c,$(wildcard tests/unit/common/test_*.c)),$(eval $(call roam_unit,$(t),,)))
# The SIP user agent core parses with libosip2.
$(eval $(call roam_unit,tests/unit/common/test_sip_ua.c,,-losipparser2))
