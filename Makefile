# SPDX-License-Identifier: GPL-2.0
# Front door of the umem rig.  See README.md.
#
#   make demo        build, boot, pin real memory through umem, print what happened
#   make check       everything CI runs (.ci/run)
#   make check-fast  checkpatch, kernel-doc, UML KUnit: minutes, for iterating
#   make kunit       the umem KUnit suite under UML and in the x86_64 guest
#   make vm-run CMD='...' [BASE=stock]   run a command as root in the guest
#   make series      the upstream patch series in build/series/
#   make bench       stock 6.12 against umem, side by side (BENCH_SIZES, BENCH_REPS)
#   make profile     perf profile of umem and GUP_TEST pinning in the guest

SHELL := /bin/bash
RIG := rig
BASE ?= patched
FLAVOUR := $(if $(filter stock,$(BASE)),--stock,)

.PHONY: all deps tree kernel kernel-stock kunit kunit-um kunit-x86 vm-run demo \
	check check-fast checkpatch docs-check selftest series bench profile clean

all: check

deps:
	@$(RIG)/deps.sh

tree: deps
	@$(RIG)/tree.sh patched >/dev/null

kernel: deps
	mkdir -p build && $(RIG)/build-kernel.sh patched > build/build-patched.log 2>&1 || { tail -40 build/build-patched.log; exit 1; }

kernel-stock: deps
	mkdir -p build && $(RIG)/build-kernel.sh stock > build/build-stock.log 2>&1 || { tail -40 build/build-stock.log; exit 1; }

kunit: kunit-um kunit-x86

kunit-um: deps
	$(RIG)/kunit-um.sh

kunit-x86: deps
	$(RIG)/kunit-x86.sh

vm-run: deps
	$(RIG)/vm-run.sh $(FLAVOUR) -- '$(CMD)'

demo: deps
	BASE=$(BASE) $(RIG)/demo.sh

selftest: deps
	$(RIG)/selftest.sh

checkpatch: deps
	$(RIG)/checkpatch.sh

docs-check: deps
	$(RIG)/docs-check.sh

check: deps
	$(RIG)/check.sh

check-fast: deps
	$(RIG)/check.sh --fast

series: deps
	$(RIG)/series.sh

bench: deps
	benchmarks/bench.sh

profile: deps
	benchmarks/profile.sh

clean:
	rm -rf build/src build/x86-* build/kunit-um build/vm build/series
