# libcrtoken: the static (PIC) library every part links.
#
# Its dependencies (CORE_*) are every part's: the library's headers and
# objects use them. Declared here, with the Debian packages that carry them.
CORE_DEPS := openssl:libssl-dev sqlite3:libsqlite3-dev inih:libinih-dev jansson:libjansson-dev \
	libcurl:libcurl4-openssl-dev
CORE_PKGS := $(call dep_pcs,$(CORE_DEPS))
CORE_CFLAGS := $(call pc_cflags,$(CORE_PKGS))
CORE_LIBS := $(call pc_libs,$(CORE_PKGS))
BUILD_PKGS += $(CORE_DEPS)
# Optional: the PostgreSQL backend (common/store/pg*.c) is built only when
# pkg-config finds libpq (libpq-dev); [store] backend = postgresql is then
# listed in the backend table (store/port.c), otherwise refused with
# config_invalid. PQ_LIBS for parts that link their own library list.
HAVE_LIBPQ := $(shell pkg-config --exists libpq 2>/dev/null && echo 1)
ifeq ($(HAVE_LIBPQ),1)
PQ_LIBS := $(call pc_libs,libpq)
CORE_CFLAGS += $(call pc_cflags,libpq) -DCRT_HAVE_LIBPQ
CORE_LIBS += $(PQ_LIBS)
endif

LIB := $(B)/lib/libcrtoken.a

COMMON_SRC := $(wildcard common/*.c common/store/*.c common/rules/*.c)
ifneq ($(HAVE_LIBPQ),1)
COMMON_SRC := $(filter-out common/store/pg%.c,$(COMMON_SRC))
endif
COMMON_HDR := common/crtoken.h common/internal.h common/ca_cfssl.h $(wildcard common/store/*.h common/rules/*.h)
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/obj/%.o) $(B)/obj/common/conf_sample.o

$(B)/obj/common/%.o: common/%.c $(COMMON_HDR)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CORE_CFLAGS) -c -o $@ $<

# The sample config is embedded with .incbin (path relative to the top dir).
$(B)/obj/common/conf_sample.o: common/conf_sample.S crtoken.conf
	@mkdir -p $(@D)
	$(CC) -c -o $@ $<

# The PKCS#11 CA key goes through the OpenSSL ENGINE API, deprecated in
# OpenSSL 3 (its provider for PKCS#11 is not in Debian 12): only this file
# may use deprecated declarations; pkcs11.h comes from libp11-kit-dev (the
# header only: the module is dlopened, nothing links libp11-kit).
P11_DEPS := p11-kit-1:libp11-kit-dev
BUILD_PKGS += $(P11_DEPS)
$(B)/obj/common/ca_pkcs11.o $(B)/obj/rlm_crtoken/ubsan/common/ca_pkcs11.o: CORE_CFLAGS += -Wno-deprecated-declarations \
	$(call pc_cflags,$(call dep_pcs,$(P11_DEPS)))

$(LIB): $(COMMON_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

# libcrtoken-client: what an end-user client (crtoken-enroll) needs and no
# more — the status table, the token string format, key and CSR, PKCS#12,
# the profile format table, file and text helpers. No store, no config, no
# ctx: it links with openssl alone (CLIENT_LIBS), no SQLite, no inih. The same
# objects are in libcrtoken.
CLIENT_DEPS := openssl:libssl-dev
CLIENT_CFLAGS := $(call pc_cflags,$(call dep_pcs,$(CLIENT_DEPS)))
CLIENT_LIBS := $(call pc_libs,$(call dep_pcs,$(CLIENT_DEPS)))
CLIENT_LIB := $(B)/lib/libcrtoken-client.a
CLIENT_SRC := $(addprefix common/,err.c util.c token_format.c keygen.c pkcs12.c netprofile_formats.c)
CLIENT_OBJ := $(CLIENT_SRC:%.c=$(B)/obj/%.o)

$(CLIENT_LIB): $(CLIENT_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

BUILD_TARGETS += $(LIB) $(CLIENT_LIB)
