# SPDX-License-Identifier: GPL-2.0
#
# Included by the top Makefile (after OUTPUT is set):
#   make vm_run   KERNEL=<bzImage|kernel tree|.deb|linux-image-package> [VM_ARGS=...]
#   make vm_bench KERNEL=... [VM_ARGS=...]
# VM_ARGS are vm/run.sh options, optionally followed by "-- run_tests.sh args",
# e.g. VM_ARGS="--timeout 600 -- -t cow".  The suite is built statically in
# its own directory (a dynamic build in OUTPUT would look up to date) and
# installed into $(OUTPUT)/.vm-suite, which vm/run.sh packs into the VM.

VM_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
VM_BUILD := $(OUTPUT)/.vm-build
VM_SUITE := $(OUTPUT)/.vm-suite

.PHONY: vm_run vm_bench

vm_run vm_bench:
	@test -n "$(KERNEL)" || { \
		echo "make $@ needs KERNEL=<bzImage|kernel tree|.deb|linux-image package>" >&2; \
		exit 2; }
	$(MAKE) install STATIC=1 O=$(VM_BUILD) INSTALL_PATH=$(VM_SUITE) \
		OUTPUT=$(VM_BUILD) PINSUITE_KSFT=0
	$(VM_DIR)/$(if $(filter vm_bench,$@),bench,run).sh --suite $(VM_SUITE) $(KERNEL) $(VM_ARGS)
