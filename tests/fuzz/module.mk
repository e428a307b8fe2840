# libFuzzer harnesses (clang): tests/fuzz/fuzz_*.c → build/fuzz/bin/fuzz_*
#
#   make fuzz [FUZZ_SECONDS=10] [FUZZ=csr]   build, then fuzz each harness
#                                           (or those whose name contains FUZZ)
#
# Everything here is compiled by clang with -fsanitize=fuzzer,address,undefined
# into its own tree, build/fuzz/ (whatever B is): libcrtoken's sources are
# compiled again rather than linking the gcc objects. The harnesses are also
# TEST_TARGETS, so `make check` builds them and tests/integration/t_fuzz_smoke.sh
# replays each seed corpus and runs a few thousand mutations.

FUZZ_B := build/fuzz
FUZZ_CC := clang
FUZZ_SECONDS ?= 10
FUZZ ?=
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
# Our own warnings stay errors under clang too.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) \
	-fsanitize=fuzzer-no-link -fPIC $(WARN) -Icommon $(CORE_CFLAGS)
FUZZ_LDFLAGS := $(FUZZ_SAN) -fsanitize=fuzzer

FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
# The PAM option parser is pam_crtoken's (not built with WITH_PAM=0).
ifeq ($(WITH_PAM),0)
FUZZ_NAMES := $(filter-out pam_opts,$(FUZZ_NAMES))
endif
FUZZ_BINS := $(FUZZ_NAMES:%=$(FUZZ_B)/bin/fuzz_%)
FUZZ_COMMON_OBJ := $(COMMON_SRC:%.c=$(FUZZ_B)/obj/%.o) $(FUZZ_B)/obj/common/conf_sample.o
FUZZ_OBJ := $(FUZZ_NAMES:%=$(FUZZ_B)/obj/tests/fuzz/fuzz_%.o)

# The PKCS#11 CA key file needs what common/module.mk gives it (see there).
$(FUZZ_B)/obj/common/ca_pkcs11.o: FUZZ_CFLAGS += -Wno-deprecated-declarations \
	$(call pc_cflags,$(call dep_pcs,$(P11_DEPS)))

$(FUZZ_B)/obj/common/%.o: common/%.c $(COMMON_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_B)/obj/common/conf_sample.o: common/conf_sample.S crtoken.conf
	@mkdir -p $(@D)
	$(FUZZ_CC) -c -o $@ $<

# Harness objects; extra flags and sources per harness below.
$(FUZZ_B)/obj/tests/fuzz/%.o: tests/fuzz/%.c tests/fuzz/fuzz.h common/crtoken.h common/internal.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_EXTRA_CFLAGS_$*) -Itests/fuzz -c -o $@ $<

# pam_crtoken.c is compiled into its harness (its option parser is static).
FUZZ_EXTRA_CFLAGS_fuzz_pam_opts := $(call pc_cflags,pam)
FUZZ_EXTRA_LIBS_fuzz_pam_opts := -lpam
$(FUZZ_B)/obj/tests/fuzz/fuzz_pam_opts.o: pam_crtoken/pam_crtoken.c

# crtokend's body-parsing handlers (the parsers are static or inline in
# them) are linked into their harness unchanged, with what they call.
FUZZ_ENROLL_PKGS := libmicrohttpd jansson
FUZZ_ENROLL_SRC := $(addprefix enroll/crtokend/,h_tokens.c h_redeem.c h_certs.c h_profiles.c reqjson.c denied.c \
	respond.c log.c ratelimit.c)
FUZZ_ENROLL_OBJ := $(FUZZ_ENROLL_SRC:%.c=$(FUZZ_B)/obj/%.o)
FUZZ_EXTRA_CFLAGS_fuzz_json := $(call pc_cflags,$(FUZZ_ENROLL_PKGS)) -Ienroll/crtokend
FUZZ_EXTRA_LIBS_fuzz_json := $(FUZZ_ENROLL_OBJ) $(call pc_libs,$(FUZZ_ENROLL_PKGS))
$(FUZZ_B)/obj/tests/fuzz/fuzz_json.o: enroll/crtokend/crtokend.h
$(FUZZ_B)/bin/fuzz_json: $(FUZZ_ENROLL_OBJ)

$(FUZZ_B)/obj/enroll/crtokend/%.o: enroll/crtokend/%.c enroll/crtokend/crtokend.h common/crtoken.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(call pc_cflags,$(FUZZ_ENROLL_PKGS)) -c -o $@ $<

$(FUZZ_B)/bin/fuzz_%: $(FUZZ_B)/obj/tests/fuzz/fuzz_%.o $(FUZZ_COMMON_OBJ)
	@mkdir -p $(@D)
	$(FUZZ_CC) -o $@ $< $(FUZZ_EXTRA_LIBS_fuzz_$*) $(FUZZ_COMMON_OBJ) $(CORE_LIBS) \
		-lpthread $(FUZZ_LDFLAGS)

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@FUZZ_B=$(FUZZ_B) tests/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ)

# Built by pattern rules: keep them (not intermediates) so rebuilds are incremental.
.SECONDARY: $(FUZZ_COMMON_OBJ) $(FUZZ_OBJ) $(FUZZ_ENROLL_OBJ)

TEST_TARGETS += $(FUZZ_BINS)
