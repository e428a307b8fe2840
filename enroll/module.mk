# enroll/: crtokend (REST service) and crtoken-enroll (end-user client).
#
# crtokend gates every redemption with a PAM login (pamgate.c): it needs PAM
# and is left out with pam_crtoken by make WITH_PAM=0 (a crtokend without its
# gate is not a configuration crtoken supports). crtoken-enroll is always built.
# GnuTLS (libmicrohttpd's TLS): the client certificate of a renewal.
CRTOKEND_DEPS := libmicrohttpd:libmicrohttpd-dev pam:libpam0g-dev gnutls:libgnutls28-dev
# The demo's HTTP chapter: the admin's requests, and a local SMTP server that
# receives the approval workflow's mail.
DEMO_DEBS += curl python3-aiosmtpd

CRTOKEND_CFLAGS := $(CORE_CFLAGS) $(call pc_cflags,$(call dep_pcs,$(CRTOKEND_DEPS)))
CRTOKEND_LIBS := $(CORE_LIBS) $(call pc_libs,$(call dep_pcs,$(CRTOKEND_DEPS))) -lpthread
# crtoken-enroll links libcrtoken-client (no store): openssl, libcurl, jansson.
ENROLL_CLIENT_DEPS := libcurl:libcurl4-openssl-dev jansson:libjansson-dev
ENROLL_CLIENT_CFLAGS := $(CLIENT_CFLAGS) $(call pc_cflags,$(call dep_pcs,$(ENROLL_CLIENT_DEPS)))
ENROLL_CLIENT_LIBS := $(CLIENT_LIBS) $(call pc_libs,$(call dep_pcs,$(ENROLL_CLIENT_DEPS)))
BUILD_PKGS += $(ENROLL_CLIENT_DEPS)

CRTOKEND_SRC := $(wildcard enroll/crtokend/*.c)
CRTOKEND_OBJ := $(CRTOKEND_SRC:%.c=$(B)/obj/%.o) $(B)/obj/enroll/crtokend/portal_assets.o
PORTAL_ASSETS := enroll/web/index.html enroll/web/app.js enroll/web/app.css
ENROLL_CLIENT_SRC := $(wildcard enroll/client/*.c)
ENROLL_CLIENT_OBJ := $(ENROLL_CLIENT_SRC:%.c=$(B)/obj/%.o)

$(B)/obj/enroll/crtokend/%.o: enroll/crtokend/%.c enroll/crtokend/crtokend.h common/crtoken.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CRTOKEND_CFLAGS) -c -o $@ $<

# The /enroll page's files, embedded with .incbin (paths relative to the top dir).
$(B)/obj/enroll/crtokend/portal_assets.o: enroll/crtokend/portal_assets.S $(PORTAL_ASSETS)
	@mkdir -p $(@D)
	$(CC) -c -o $@ $<

$(B)/obj/enroll/client/%.o: enroll/client/%.c enroll/client/enroll.h common/crtoken.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(ENROLL_CLIENT_CFLAGS) -c -o $@ $<

$(B)/bin/crtokend: $(CRTOKEND_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) -o $@ $(CRTOKEND_OBJ) $(LIB) $(CRTOKEND_LIBS) $(BASE_LDFLAGS)

$(B)/bin/crtoken-enroll: $(ENROLL_CLIENT_OBJ) $(CLIENT_LIB)
	@mkdir -p $(@D)
	$(CC) -o $@ $(ENROLL_CLIENT_OBJ) $(CLIENT_LIB) $(ENROLL_CLIENT_LIBS) $(BASE_LDFLAGS)

.PHONY: install-enroll install-crtokend
install-enroll: $(B)/bin/crtoken-enroll
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(B)/bin/crtoken-enroll $(DESTDIR)$(PREFIX)/bin/crtoken-enroll
	install -m 0644 enroll/crtoken-enroll.1 $(DESTDIR)$(PREFIX)/share/man/man1/crtoken-enroll.1

install-crtokend: $(B)/bin/crtokend
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/share/doc/crtoken
	install -m 0755 $(B)/bin/crtokend $(DESTDIR)$(PREFIX)/sbin/crtokend
	install -m 0644 enroll/crtokend.8 $(DESTDIR)$(PREFIX)/share/man/man8/crtokend.8
	install -d $(DESTDIR)$(PREFIX)/lib/sysusers.d
	for u in crtokend.service crtoken-crl.service crtoken-crl.timer \
		crtoken-maintain.service crtoken-maintain.timer; do \
		sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@BINDIR@|$(PREFIX)/bin|g' enroll/$$u \
			> $(DESTDIR)$(PREFIX)/lib/systemd/system/$$u && \
		chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/$$u || exit 1; \
	done
	install -m 0644 enroll/crtoken.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/crtoken.conf
	install -m 0644 enroll/openapi.yaml $(DESTDIR)$(PREFIX)/share/doc/crtoken/openapi.yaml

BUILD_TARGETS += $(B)/bin/crtoken-enroll
INSTALL_TARGETS += install-enroll
ifneq ($(WITH_PAM),0)
BUILD_PKGS += $(CRTOKEND_DEPS)
BUILD_TARGETS += $(B)/bin/crtokend
INSTALL_TARGETS += install-crtokend
endif
