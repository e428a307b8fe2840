# crtoken — top-level build (GNU make + pkg-config).
#
#   make            build everything into build/
#   make check      install missing Debian packages (as root), build, run all tests
#   make demo       install missing Debian packages (as root; the build's and the
#                   demo's peers), build, run the story
#   make bench      benchmarks (tests/bench)
#   make install    DESTDIR= PREFIX=
#   make SANITIZE=1 check   the same under ASan + UBSan (build/asan)
#   make openapi-swagger-cli  validate enroll/openapi.yaml with swagger-cli (npm)
#
# Each part adds its own targets in <part>/module.mk; this file holds the
# shared flags and the top-level targets only.

PREFIX ?= /usr/local
DESTDIR ?=
SANITIZE ?=
CC ?= gcc

# SANITIZE=1: everything (library, CLIs, crtokend, unit tests, and the PAM and
# RADIUS modules too) is built with ASan + UBSan into build/asan, and the test
# suites run against those binaries. The modules are loaded by hosts built
# without ASan (pamtester, freeradius): the suites that start such a host
# LD_PRELOAD the ASan runtime, `$(CC) -print-file-name=libasan.so` (building
# the modules without sanitizers would leave them the only unchecked code).
# crtokend carries the runtime itself, so its PAM stack needs nothing.
# tests/run.sh sends every sanitizer report of every process (daemons whose
# stderr a suite discards too) to $(B)/tests/logs/sanitizer and fails the
# suite that left one.
ifeq ($(SANITIZE),1)
B := build/asan
OPT := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_LDFLAGS := -fsanitize=address,undefined
else
B := build
OPT := -O2 -D_FORTIFY_SOURCE=2
SAN_LDFLAGS :=
endif

WARN := -Wall -Wextra -Werror -Wformat=2 -Wno-unused-parameter -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla
BASE_CFLAGS := -std=gnu11 -g $(OPT) -fstack-protector-strong -fPIC $(WARN) -Icommon
BASE_LDFLAGS := -Wl,-z,relro,-z,now $(SAN_LDFLAGS)

pc = $(shell pkg-config --cflags --libs $(1) 2>/dev/null)
pc_cflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pc_libs = $(shell pkg-config --libs $(1) 2>/dev/null)

CORE_PKGS := openssl sqlite3 inih jansson
CORE_CFLAGS := $(call pc_cflags,$(CORE_PKGS))
CORE_LIBS := $(call pc_libs,$(CORE_PKGS))

LIB := $(B)/lib/libcrtoken.a

.PHONY: all build deps check check-run demo demo-run bench install clean format fuzz \
	openapi-swagger-cli
.DEFAULT_GOAL := all

all:
	@scripts/deps.sh build
	@$(MAKE) --no-print-directory build

# Targets added by the parts' module.mk files.
BUILD_TARGETS :=
TEST_TARGETS :=
INSTALL_TARGETS :=

include $(sort $(wildcard */module.mk tests/*/module.mk))

build: $(BUILD_TARGETS)

deps:
	@scripts/deps.sh check

check:
	@scripts/deps.sh check
	@$(MAKE) --no-print-directory check-run

check-run: build $(TEST_TARGETS)
	@B=$(B) SANITIZE=$(SANITIZE) tests/run.sh

demo:
	@scripts/deps.sh demo
	@$(MAKE) --no-print-directory demo-run

demo-run: build
	@B=$(B) scripts/demo.sh

install: build $(INSTALL_TARGETS)

# A second opinion on enroll/openapi.yaml (make check runs JSON::Validator):
# swagger-cli from npm, pinned in scripts/openapi-validator/, needs npm.
openapi-swagger-cli:
	@scripts/openapi-validate.sh --swagger-cli enroll/openapi.yaml

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
