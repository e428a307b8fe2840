# crtoken — top-level build (GNU make + pkg-config).
#
#   make            build everything into build/ (installs nothing: a missing
#                   library stops it with the pkg-config module and the
#                   Debian package to install, or run `make deps` as root)
#   make WITH_RADIUS=0   without rlm_crtoken (no FreeRADIUS headers needed)
#   make WITH_PAM=0      without pam_crtoken and crtokend (its login gate is PAM)
#   make B=DIR      build into DIR instead of build/ (build/asan with SANITIZE=1)
#   make deps       install the missing Debian packages (as root)
#   make check      install missing Debian packages (as root), build, run all tests
#   make demo       install missing Debian packages (as root; the build's and the
#                   demo's peers), build, run the story
#   make bench      benchmarks (tests/bench)
#   make install    DESTDIR= PREFIX=
#   make SANITIZE=1 check   the same under ASan + UBSan (build/asan)
#   make openapi-swagger-cli  validate enroll/openapi.yaml with swagger-cli (npm)
#
# Each part adds its own targets and declares its own dependencies in
# <part>/module.mk; this file holds the shared flags, the dependency check and
# the top-level targets only. A part's dependencies, in its module.mk:
#   BUILD_PKGS += PCNAME:DEBIAN   a pkg-config module and the Debian package with it
#   BUILD_FILES += PATH:DEBIAN    a file (no pkg-config module) and its package
#   DEMO_DEBS += DEBIAN           peers its chapter of `make demo` drives
# scripts/deps.sh asks `make print-debs-build` / `print-debs-demo` for them.

PREFIX ?= /usr/local
DESTDIR ?=
SANITIZE ?=
CC ?= gcc
WITH_RADIUS ?= 1
WITH_PAM ?= 1

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
B ?= build/asan
OPT := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_LDFLAGS := -fsanitize=address,undefined
else
B ?= build
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

empty :=
# PCNAME:DEBIAN pairs → the pkg-config names / the Debian packages.
dep_pcs = $(foreach d,$(1),$(firstword $(subst :, ,$(d))))
dep_debs = $(foreach d,$(1),$(lastword $(subst :, ,$(d))))

.PHONY: all build deps check check-run demo demo-run bench install clean format fuzz \
	openapi-swagger-cli print-debs-build print-debs-demo
.DEFAULT_GOAL := all

all: build

# Targets and dependencies added by the parts' module.mk files.
BUILD_TARGETS :=
TEST_TARGETS :=
INSTALL_TARGETS :=
BUILD_PKGS :=
BUILD_FILES :=
TEST_PKGS :=
DEMO_DEBS :=

# The library first: the others use its variables (LIB, CORE_CFLAGS, ...).
PARTS := common admin enroll
ifneq ($(WITH_PAM),0)
PARTS += pam_crtoken
endif
ifneq ($(WITH_RADIUS),0)
PARTS += rlm_crtoken
endif
include $(PARTS:%=%/module.mk)
include $(sort $(wildcard tests/*/module.mk))

# A missing dependency stops the build before anything is compiled, with what
# to install (nothing is installed here: that is `make deps`). Goals that
# install them first, or need none, are not checked.
NO_DEP_CHECK_GOALS := deps check demo bench clean format openapi-swagger-cli \
	print-debs-build print-debs-demo
ifneq ($(filter-out $(NO_DEP_CHECK_GOALS),$(or $(MAKECMDGOALS),all)),)
dep_check_pkgs := $(BUILD_PKGS) $(if $(filter check-run,$(MAKECMDGOALS)),$(TEST_PKGS))
missing_pkgs := $(if $(shell command -v pkg-config),$(shell for d in $(sort $(dep_check_pkgs)); do \
	pkg-config --exists "$${d%%:*}" || echo "$$d"; done),pkg-config:pkg-config)
missing_files := $(foreach f,$(BUILD_FILES),$(if $(wildcard $(firstword $(subst :, ,$(f)))),,$(f)))
ifneq ($(missing_pkgs)$(missing_files),)
$(info crtoken: missing build dependencies:)
$(foreach d,$(missing_pkgs),$(info $(empty)  pkg-config module $(call dep_pcs,$(d)) (Debian package $(call dep_debs,$(d)))))
$(foreach d,$(missing_files),$(info $(empty)  $(call dep_pcs,$(d)) (Debian package $(call dep_debs,$(d)))))
$(info Install them: apt-get install $(sort $(call dep_debs,$(missing_pkgs) $(missing_files))) (or `make deps` as root);)
$(info or build without a part: make WITH_RADIUS=0 (rlm_crtoken), make WITH_PAM=0 (pam_crtoken, crtokend).)
$(error missing build dependencies)
endif
endif

# The suites test every part: a build without one cannot pass them.
ifneq ($(filter check check-run,$(MAKECMDGOALS)),)
ifneq ($(filter 0,$(WITH_RADIUS) $(WITH_PAM)),)
$(error make check tests every part: run it without WITH_RADIUS=0 / WITH_PAM=0)
endif
endif

build: $(BUILD_TARGETS)

# The Debian packages of the parts this build includes (for scripts/deps.sh).
print-debs-build:
	@echo $(sort $(call dep_debs,$(BUILD_PKGS) $(BUILD_FILES)))
print-debs-demo:
	@echo $(sort $(DEMO_DEBS))

deps:
	@scripts/deps.sh check

# The build before the suites runs on every core, and so do the suites:
# tests/run.sh runs JOBS of them side by side, each integration suite in a
# network namespace of its own (its fixed ports are its own). JOBS=1 runs
# them one after another.
CHECK_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
JOBS ?= $(CHECK_JOBS)
check:
	@scripts/deps.sh check
	@$(MAKE) --no-print-directory -j$(CHECK_JOBS) check-run

check-run: build $(TEST_TARGETS)
	@B=$(B) SANITIZE=$(SANITIZE) JOBS=$(JOBS) tests/run.sh

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
