# SPDX-License-Identifier: GPL-2.0
#
# pinsuite: long-term page pin reliability tests.
#
#   make [O=dir] [STATIC=1] [WERROR=1] [CC=clang] [CROSS_COMPILE=...]
#   make run_tests | check | install INSTALL_PATH=dir | clean | help
#   make vm_run KERNEL=... (see vm/README.md)

BINARIES := $(basename $(wildcard cow.c gup_longterm.c vfio_pin.c iouring_pin.c))
PROGS := run_tests.sh
FILES := config settings

ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif

ifneq ($(O),)
OUTPUT := $(abspath $(O))
endif
OUTPUT ?= $(CURDIR)
override OUTPUT := $(abspath $(OUTPUT))

CFLAGS ?= -O2 -g
override CFLAGS += -Wall -Wextra -std=gnu11 -pthread -I$(CURDIR) -DHAVE_LIBNUMA -MMD -MP
ifeq ($(WERROR),1)
override CFLAGS += -Werror
endif
LDLIBS := -luring
override LDFLAGS += -pthread
ifeq ($(STATIC),1)
override LDFLAGS += -static
endif

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(LIB_SRCS))
TARGETS := $(addprefix $(OUTPUT)/,$(BINARIES))

.PHONY: all deps run_tests check install clean help
.SECONDARY:

all: $(TARGETS)

# Name the Debian package instead of failing deep inside the compiler.
deps:
	@for h in liburing.h:liburing-dev numaif.h:libnuma-dev; do \
		printf '#include <%s>\n' "$${h%%:*}" | \
		$(CC) $(filter-out -MMD -MP,$(CFLAGS)) -E -x c - >/dev/null 2>&1 || { \
		echo "pinsuite: <$${h%%:*}> not found: install the Debian package" \
		     "$${h##*:} (apt-get install $${h##*:})" >&2; exit 1; }; \
	done

$(OUTPUT)/lib/%.o: lib/%.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(OUTPUT)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(OUTPUT)/%: $(OUTPUT)/%.o $(LIB_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

run_tests: all
	OUTPUT=$(OUTPUT) ./run_tests.sh

# The project's own tests; tests/ksft_selftest is built for them only.
check: all $(OUTPUT)/tests/ksft_selftest
	OUTPUT=$(OUTPUT) prove -v tests/*.sh $(wildcard tests/vm/*.sh)

install: all
	@test -n "$(INSTALL_PATH)" || { echo "make install needs INSTALL_PATH=dir" >&2; exit 1; }
	mkdir -p $(INSTALL_PATH)
	install -m 0755 $(TARGETS) $(PROGS) $(INSTALL_PATH)/
	install -m 0644 $(FILES) $(INSTALL_PATH)/
	for b in $(BINARIES); do echo "pinsuite:$$b"; done > $(INSTALL_PATH)/kselftest-list.txt
	# kselftest's run_kselftest.sh enters <dir>/<collection>.
	ln -sfn . $(INSTALL_PATH)/pinsuite

clean:
	rm -f $(TARGETS) $(TARGETS:=.o) $(TARGETS:=.d) $(LIB_OBJS) $(LIB_OBJS:.o=.d)
	rm -f $(OUTPUT)/tests/ksft_selftest $(OUTPUT)/tests/ksft_selftest.[od]

help:
	@sed -n '3,9s/^# \{0,1\}//p' Makefile

-include vm/vm.mk
-include $(LIB_OBJS:.o=.d) $(TARGETS:=.d) $(OUTPUT)/tests/ksft_selftest.d
