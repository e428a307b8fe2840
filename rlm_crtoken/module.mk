# rlm_crtoken: the FreeRADIUS 3.2 module, built out of tree.
#
# FreeRADIUS's own headers come from an overlay made by
# scripts/fetch-freeradius-headers.sh (Debian's libfreeradius-dev lacks ~23
# headers radiusd.h includes); it is cached under build/freeradius and is
# shared by the normal and the SANITIZE build. The overlay is included with
# -isystem so FreeRADIUS's headers do not trip our -Werror; our own code
# keeps every warning. Symbols of the server resolve from the radiusd
# binary at load time; libcrtoken is linked in statically and its symbols
# are hidden, so only `rlm_crtoken` is exported. Left out by make WITH_RADIUS=0
# (then nothing of FreeRADIUS is needed or fetched).
#
# FR_SYSTEM_HEADERS: the installed FreeRADIUS headers (libfreeradius-dev) the
# overlay starts from. FR_OVERLAY: where the overlay is made (kept across
# `make clean`-less rebuilds; default build/freeradius, whatever B is).

# Its headers include talloc's and (HAVE_PCRE) pcre's.
BUILD_PKGS += talloc:libtalloc-dev libpcre:libpcre3-dev
FR_SYSTEM_HEADERS ?= /usr/include/freeradius
BUILD_FILES += $(FR_SYSTEM_HEADERS)/radiusd.h:libfreeradius-dev
# Its demo chapter: the server and the EAP-TLS peer.
DEMO_DEBS += freeradius eapoltest

FR_OVERLAY ?= build/freeradius
FR_STAMP := $(FR_OVERLAY)/stamp
FR_MODDIR ?= /usr/lib/freeradius
FR_RADDB ?= /etc/freeradius/3.0

RLM_SO := $(B)/lib/rlm_crtoken.so
RLM_OBJ := $(B)/obj/rlm_crtoken/rlm_crtoken.o

# FreeRADIUS dlopens modules with RTLD_DEEPBIND, which the ASan runtime
# refuses; under SANITIZE=1 the module and its own copy of libcrtoken are
# built with UBSan only (the other parts keep ASan + UBSan).
ifeq ($(SANITIZE),1)
rlm_comma := ,
rlm_nosan = $(subst -fsanitize=address$(rlm_comma)undefined,-fsanitize=undefined,$(1))
RLM_BASE_CFLAGS := $(call rlm_nosan,$(BASE_CFLAGS))
RLM_LDFLAGS := $(call rlm_nosan,$(BASE_LDFLAGS))
RLM_LIB := $(B)/obj/rlm_crtoken/libcrtoken-ubsan.a
RLM_LIB_OBJ := $(COMMON_SRC:%.c=$(B)/obj/rlm_crtoken/ubsan/%.o) $(B)/obj/common/conf_sample.o

$(B)/obj/rlm_crtoken/ubsan/common/%.o: common/%.c common/crtoken.h common/internal.h
	@mkdir -p $(@D)
	$(CC) $(RLM_BASE_CFLAGS) $(CORE_CFLAGS) -c -o $@ $<

$(RLM_LIB): $(RLM_LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^
else
RLM_BASE_CFLAGS := $(BASE_CFLAGS)
RLM_LDFLAGS := $(BASE_LDFLAGS)
RLM_LIB := $(LIB)
endif

# -DNDEBUG matches Debian's server build (REQUEST layout); build.h must come
# first because radiusd.h uses RCSIDH before including it.
RLM_CFLAGS := $(RLM_BASE_CFLAGS) -DNDEBUG -isystem $(FR_OVERLAY)/include \
	-include freeradius/build.h $(call pc_cflags,talloc)

# The script is cheap when the overlay is current and only rewrites the
# stamp when it rebuilds the overlay, so dependents rebuild only then.
$(FR_STAMP): rlm-crtoken-fr-headers
	@FR_SYSTEM_HEADERS=$(FR_SYSTEM_HEADERS) scripts/fetch-freeradius-headers.sh $(FR_OVERLAY)

.PHONY: rlm-crtoken-fr-headers install-rlm-crtoken
rlm-crtoken-fr-headers:

$(RLM_OBJ): rlm_crtoken/rlm_crtoken.c common/crtoken.h $(FR_STAMP)
	@mkdir -p $(@D)
	$(CC) $(RLM_CFLAGS) -c -o $@ $<

$(RLM_SO): $(RLM_OBJ) $(RLM_LIB)
	@mkdir -p $(@D)
	$(CC) -shared -o $@ $(RLM_OBJ) $(RLM_LIB) -Wl,--exclude-libs,ALL $(CORE_LIBS) \
		$(call pc_libs,talloc) -lpthread $(RLM_LDFLAGS)

BUILD_TARGETS += $(RLM_SO)

# Samples are not overwritten when an administrator already has them; like
# Debian's own files there they are 0640 and group freerad (when it exists).
install-rlm-crtoken: $(RLM_SO)
	install -D -m 0644 $(RLM_SO) $(DESTDIR)$(FR_MODDIR)/rlm_crtoken.so
	@grp=; getent group freerad >/dev/null 2>&1 && grp="-g freerad"; \
	for f in "rlm_crtoken/crtoken.mod:mods-available/crtoken" \
		"rlm_crtoken/check-eap-tls:sites-available/check-eap-tls-crtoken"; do \
		src=$${f%%:*}; dst=$(DESTDIR)$(FR_RADDB)/$${f#*:}; \
		if [ -e "$$dst" ]; then echo "keeping existing $$dst"; \
		else echo "install $$src $$dst"; install -D -m 0640 $$grp "$$src" "$$dst"; fi; \
	done

INSTALL_TARGETS += install-rlm-crtoken
