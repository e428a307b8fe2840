# pam_crtoken: the OTP PAM module (libcrtoken linked in statically, only the
# pam_sm_* entry points exported). Left out by make WITH_PAM=0.
BUILD_PKGS += pam:libpam0g-dev
# Its demo chapter: codes as a phone computes them, a PAM host, PAM sandbox.
DEMO_DEBS += oathtool pamtester libpam-wrapper
PAM_CRT_SO := $(B)/lib/pam_crtoken.so
PAM_CRT_OBJ := $(B)/obj/pam_crtoken/pam_crtoken.o
# The system's PAM module directory (Debian: /lib/<multiarch>/security).
PAM_MODULE_DIR ?= $(shell pkg-config --variable=libdir pam 2>/dev/null || \
	echo /lib/$$(dpkg-architecture -qDEB_HOST_MULTIARCH))/security
PAM_SERVICE_DIR ?= /etc/pam.d

$(PAM_CRT_OBJ): pam_crtoken/pam_crtoken.c common/crtoken.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(call pc_cflags,pam) -c -o $@ $<

# libpam dlcloses modules at every pam_end: everything the module keeps lives
# in its own instance, released by its destructor (no -z nodelete needed).
$(PAM_CRT_SO): $(PAM_CRT_OBJ) $(LIB) pam_crtoken/pam_crtoken.map
	@mkdir -p $(@D)
	$(CC) -shared -o $@ $(PAM_CRT_OBJ) $(LIB) $(CORE_LIBS) $(call pc_libs,pam) \
		-Wl,--exclude-libs,ALL -Wl,--version-script=pam_crtoken/pam_crtoken.map \
		-Wl,-z,defs $(BASE_LDFLAGS)

BUILD_TARGETS += $(PAM_CRT_SO)

.PHONY: install-pam
# The service file is installed only if absent: it is the admin's to edit.
install-pam: $(PAM_CRT_SO)
	install -d $(DESTDIR)$(PAM_MODULE_DIR) $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PAM_SERVICE_DIR)
	install -m 0644 $(PAM_CRT_SO) $(DESTDIR)$(PAM_MODULE_DIR)/pam_crtoken.so
	install -m 0644 pam_crtoken/pam_crtoken.8 $(DESTDIR)$(PREFIX)/share/man/man8/pam_crtoken.8
	[ -e $(DESTDIR)$(PAM_SERVICE_DIR)/crtoken ] || \
		install -m 0644 pam_crtoken/crtoken.pam $(DESTDIR)$(PAM_SERVICE_DIR)/crtoken

INSTALL_TARGETS += install-pam
