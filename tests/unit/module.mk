# cmocka unit tests: tests/unit/test_*.c → $(B)/tests/unit/test_*
TEST_PKGS += cmocka:libcmocka-dev
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%)

$(B)/tests/unit/%: tests/unit/%.c tests/unit/testutil.h tests/unit/import_util.h $(LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CORE_CFLAGS) $(call pc_cflags,cmocka) -Itests/unit -o $@ $< \
		$(LIB) $(CORE_LIBS) $(call pc_libs,cmocka) -lpthread $(BASE_LDFLAGS)

TEST_TARGETS += $(UNIT_BIN)

# crtokend's limiter is compiled into its test.
$(B)/tests/unit/test_ratelimit: enroll/crtokend/ratelimit.c enroll/crtokend/crtokend.h

# The PKCS#11 header for the token checks (libp11-kit-dev; common/module.mk).
$(B)/tests/unit/test_pkcs11: CORE_CFLAGS += $(call pc_cflags,$(call dep_pcs,$(P11_DEPS)))
