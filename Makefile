# SPDX-License-Identifier: GPL-2.0
#
# pinsuite: long-term page pin reliability tests.
#
#   make [O=dir] [STATIC=1] [WERROR=1] [CC=clang] [CROSS_COMPILE=...]
#   make run_tests | check | clean | help | emit_tests
#   make install INSTALL_PATH=dir       (a kselftest tree in dir is kept)
#   make install [DESTDIR=pkg] [PREFIX=/usr/local]  (PREFIX/libexec/pinsuite)
#   make vm_run KERNEL=... (see vm/README.md)
#   In a kernel tree, as tools/testing/selftests/pinsuite:
#   make -C tools/testing/selftests TARGETS=pinsuite [O=dir] [run_tests|install|gen_tar]

# Our variables carry a PINSUITE_ prefix: the kselftest Makefiles pass
# TARGETS, OUTPUT, O, INSTALL_PATH, COLLECTION and TEST_* to us.

# The binaries: one per top-level .c file, the known ones in run order.
PINSUITE_ORDER := cow gup_longterm vfio_pin iouring_pin promises udmabuf_pin rdma_pin xdp_pin odirect_pin
PINSUITE_BINS := $(basename $(wildcard $(addsuffix .c,$(PINSUITE_ORDER)))) \
		 $(filter-out $(PINSUITE_ORDER),$(sort $(basename $(wildcard *.c))))
PINSUITE_SCRIPTS := run_tests.sh
PINSUITE_DATA := config settings
PINSUITE_COLLECTION := pinsuite
PINSUITE_LIB_SRCS := $(wildcard lib/*.c)

# Inside tools/testing/selftests the kernel's lib.mk drives the build, run
# and install; PINSUITE_KSFT=0 (or 1) overrides the guess.
ifeq ($(origin PINSUITE_KSFT),undefined)
PINSUITE_KSFT := $(if $(and $(wildcard ../lib.mk),$(wildcard ../kselftest/runner.sh)),1,0)
endif

ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif

# liburing: pkg-config when it knows it, else plain -luring.  libnuma is
# used for its headers only.
PKG_CONFIG ?= pkg-config
pinsuite_pkg = $(shell $(PKG_CONFIG) $(if $(filter 1,$(STATIC)),--static) $(1) $(2) 2>/dev/null)
URING_CFLAGS := $(call pinsuite_pkg,--cflags,liburing)
URING_LIBS := $(or $(strip $(call pinsuite_pkg,--libs,liburing)),-luring)

# Libraries for every binary; a binary that needs more gets one line:
#   LDLIBS_rdma_pin := -libverbs
PINSUITE_LDLIBS := $(URING_LIBS)

# libibverbs for rdma_pin and promises; statically linked with the rxe provider built in
# (there are no provider plugins to load in the VM's initramfs) and libnl.
# glibc warns that libnl's name lookups (getaddrinfo, getprotobyname), which
# rxe never calls, need glibc's shared libraries at run time: -w.
ifeq ($(STATIC),1)
VERBS_LIBS := -Wl,--no-warnings $(or $(strip $(call pinsuite_pkg,--libs,libibverbs)),\
		   -lrxe-rdmav34 -libverbs -lnl-route-3 -lnl-3)
VERBS_CFLAGS := -DRDMA_STATIC_PROVIDERS=rxe
endif
LDLIBS_rdma_pin := $(or $(VERBS_LIBS),-libverbs)
LDLIBS_promises := $(LDLIBS_rdma_pin)

# CFLAGS and LDFLAGS are the user's (and lib.mk's); ours come after them.
# KHDR_INCLUDES (the kernel's uAPI headers) is set by the selftests Makefile
# and lib.mk, or by hand: KHDR_INCLUDES="-isystem ~/linux/usr/include".
CFLAGS ?= -O2 -g
PINSUITE_CFLAGS = -Wall -Wextra -std=gnu11 -pthread -I$(CURDIR) -DHAVE_LIBNUMA \
		   $(KHDR_INCLUDES) $(URING_CFLAGS) -MMD -MP
ifeq ($(WERROR),1)
PINSUITE_CFLAGS += -Werror
endif
PINSUITE_LDFLAGS := -pthread
ifeq ($(STATIC),1)
PINSUITE_LDFLAGS += -static
endif

ifeq ($(PINSUITE_KSFT),1)
# lib.mk builds into OUTPUT (given by the selftests Makefile, else here),
# runs TEST_GEN_PROGS with kselftest's runner, installs every TEST_* list
# plus config and settings, and prints "<collection>:<binary>" for
# kselftest-list.txt.  The multi-file link is ours (OVERRIDE_TARGETS).
OUTPUT ?= $(CURDIR)
TEST_GEN_PROGS := $(PINSUITE_BINS)
TEST_PROGS_EXTENDED := $(PINSUITE_SCRIPTS)
OVERRIDE_TARGETS := 1
include ../lib.mk
else
ifneq ($(O),)
OUTPUT := $(abspath $(O))
endif
OUTPUT ?= $(CURDIR)
override OUTPUT := $(abspath $(OUTPUT))
endif

PINSUITE_PROGS := $(addprefix $(OUTPUT)/,$(PINSUITE_BINS))
PINSUITE_LIB_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(PINSUITE_LIB_SRCS))
PINSUITE_LIB := $(OUTPUT)/lib/libpinsuite.a
PINSUITE_SELFTEST := $(OUTPUT)/tests/ksft_selftest
EXTRA_CLEAN := $(PINSUITE_PROGS:=.o) $(PINSUITE_PROGS:=.d) $(PINSUITE_LIB) \
	       $(PINSUITE_LIB_OBJS) $(PINSUITE_LIB_OBJS:.o=.d) \
	       $(PINSUITE_SELFTEST) $(PINSUITE_SELFTEST).o $(PINSUITE_SELFTEST).d

.DEFAULT_GOAL := all
.PHONY: deps check help
.SECONDARY:

# Name the Debian package instead of failing deep inside the compiler.
deps:
	@for h in liburing.h:liburing-dev numaif.h:libnuma-dev infiniband/verbs.h:libibverbs-dev; do \
		printf '#include <%s>\n' "$${h%%:*}" | \
		$(CC) $(filter-out -MMD -MP,$(CFLAGS) $(PINSUITE_CFLAGS)) -E -x c - >/dev/null 2>&1 || { \
		echo "pinsuite: <$${h%%:*}> not found: install the Debian package" \
		     "$${h##*:} (apt-get install $${h##*:})" >&2; exit 1; }; \
	done

$(OUTPUT)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(call msg,CC,,$@)
	$(Q)$(CC) $(CFLAGS) $(PINSUITE_CFLAGS) -c -o $@ $<

# lib/ as an archive: a binary takes only the objects it uses, so a
# mechanism's library (-libverbs, say) is needed by its binary alone.
$(PINSUITE_LIB): $(PINSUITE_LIB_OBJS)
	$(call msg,AR,,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(PINSUITE_PROGS) $(PINSUITE_SELFTEST): $(OUTPUT)/%: $(OUTPUT)/%.o $(PINSUITE_LIB)
	$(call msg,LD,,$@)
	$(Q)$(CC) $(LDFLAGS) $(PINSUITE_LDFLAGS) -o $@ $^ $(LDLIBS_$*) $(LDLIBS) $(PINSUITE_LDLIBS)

$(OUTPUT)/lib/pin_rdma.o: PINSUITE_CFLAGS += $(VERBS_CFLAGS)

# The project's own tests; tests/ksft_selftest is built for them only.
check: all $(PINSUITE_SELFTEST)
	OUTPUT=$(OUTPUT) prove -v tests/*.sh $(wildcard tests/vm/*.sh)

help:
	@sed -n '3,11s/^# \{0,1\}//p' Makefile

ifneq ($(PINSUITE_KSFT),1)
.PHONY: all run_tests install emit_tests clean

all: $(PINSUITE_PROGS)

run_tests: all
	OUTPUT=$(OUTPUT) ./run_tests.sh

emit_tests:
	@for b in $(PINSUITE_BINS); do echo "$(PINSUITE_COLLECTION):$$b"; done

# make install lays the suite out in one of three ways:
# - INSTALL_PATH=dir holding run_kselftest.sh (a kselftest install tree):
#   the collection goes to dir/pinsuite/, and only the pinsuite: lines of
#   dir/kselftest-list.txt are replaced; everything else stays.
# - INSTALL_PATH=dir otherwise: the collection at the top of dir, with a
#   kselftest-list.txt and the symlink pinsuite -> . that run_kselftest.sh
#   needs to enter the collection (vm/run.sh relies on this layout).
# - no INSTALL_PATH: the collection in $(DESTDIR)$(PREFIX)/libexec/pinsuite.
# DESTDIR, when given, is put in front of either path.
PREFIX ?= /usr/local
LIBEXECDIR ?= $(PREFIX)/libexec
PINSUITE_PKGDIR := $(DESTDIR)$(LIBEXECDIR)/$(PINSUITE_COLLECTION)
PINSUITE_TOP := $(if $(INSTALL_PATH),$(DESTDIR)$(INSTALL_PATH))
pinsuite_silent := $(findstring s,$(firstword -$(MAKEFLAGS)))

install: all
	@set -e; top='$(PINSUITE_TOP)'; c='$(PINSUITE_COLLECTION)'; \
	if [ -z "$$top" ]; then dir='$(PINSUITE_PKGDIR)'; how=package; \
	elif [ -f "$$top/run_kselftest.sh" ]; then dir=$$top/$$c; how="kselftest tree"; \
	else dir=$$top; how=collection; fi; \
	install -d "$$dir"; \
	install -m 0755 $(PINSUITE_PROGS) $(PINSUITE_SCRIPTS) "$$dir/"; \
	install -m 0644 $(PINSUITE_DATA) "$$dir/"; \
	if [ -n "$$top" ]; then \
		list=$$top/kselftest-list.txt; touch "$$list"; \
		awk -v c="$$c" -v bins='$(strip $(PINSUITE_BINS))' ' \
			function ours(  n, i, b) { \
				n = split(bins, b, " "); \
				for (i = 1; i <= n; i++) print c ":" b[i]; done = 1 } \
			index($$0, c ":") == 1 { if (!done) ours(); next } \
			{ print } \
			END { if (!done) ours() }' "$$list" > "$$list.tmp"; \
		mv "$$list.tmp" "$$list"; \
		if [ "$$dir" = "$$top" ] && [ ! -d "$$top/$$c" ]; then ln -sfn . "$$top/$$c"; fi; \
	fi; \
	$(if $(pinsuite_silent),:,echo "  INSTALL $$dir ($$how)")

clean:
	rm -f $(PINSUITE_PROGS) $(EXTRA_CLEAN)
endif

-include vm/vm.mk
-include $(PINSUITE_LIB_OBJS:.o=.d) $(PINSUITE_PROGS:=.d) $(PINSUITE_SELFTEST).d
