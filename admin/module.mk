# crtoken-admin: the operator CLI. Other parts add libraries their admin
# subcommands need through ADMIN_EXTRA_PKGS (pkg-config names).
# crtoken-admin otp: QR codes in the terminal and as PNG.
ADMIN_DEPS := libqrencode:libqrencode-dev zlib:zlib1g-dev
ADMIN_EXTRA_PKGS += $(call dep_pcs,$(ADMIN_DEPS))
BUILD_PKGS += $(ADMIN_DEPS)
ADMIN_SRC := $(wildcard admin/*.c)
ADMIN_OBJ := $(ADMIN_SRC:%.c=$(B)/obj/%.o)
ADMIN_BIN := $(B)/bin/crtoken-admin

$(B)/obj/admin/%.o: admin/%.c $(wildcard admin/*.h) common/crtoken.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CORE_CFLAGS) $(call pc_cflags,$(ADMIN_EXTRA_PKGS)) -c -o $@ $<

$(ADMIN_BIN): $(ADMIN_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) -o $@ $(ADMIN_OBJ) $(LIB) $(CORE_LIBS) $(call pc_libs,$(ADMIN_EXTRA_PKGS)) $(BASE_LDFLAGS)

install-admin: $(ADMIN_BIN)
	install -D -m 0755 $(ADMIN_BIN) $(DESTDIR)$(PREFIX)/bin/crtoken-admin
	install -D -m 0644 admin/crtoken-admin.8 $(DESTDIR)$(PREFIX)/share/man/man8/crtoken-admin.8
	install -D -m 0644 crtoken.conf $(DESTDIR)$(PREFIX)/share/doc/crtoken/crtoken.conf.sample

BUILD_TARGETS += $(ADMIN_BIN)
INSTALL_TARGETS += install-admin
.PHONY: install-admin
