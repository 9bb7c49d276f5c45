#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build every commit of the series (build/series-tree, made by
# rig/series.sh) on its own, x86_64, in two configs:
#   y  the guest config (rig/configs/vm.config): umem, its users (RDMA and
#      rxe, VFIO type1 and vfio-pci, iommufd), the test driver and both
#      KUnit suites built in;
#   m  the same with modules: every user and KUnit suite that can be a
#      module is one, so that modpost checks what they take from umem's
#      exports.  UMEM itself is a hidden bool its users select: built in;
#      so is the vfio_umem KUnit suite, which type1.c includes and which
#      needs type1 built in (config y builds it).
# Each config has one object directory, built commit after commit as a
# bisection would (kbuild rebuilds what a commit changes); bzImage, and
# the modules in m.  The commits are checked out into a worktree at
# build/bisect/src, so that ../src is the relative path from the object
# directory to the source, as for the rig's kernels, and ccache (with
# CCACHE_BASEDIR) serves whatever a commit leaves as in the final tree.
#
#   rig/bisect-build.sh           all commits, both configs
#   BISECT_CONFIGS=y rig/bisect-build.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=$top/build/series-tree
bis=$top/build/bisect
configs=${BISECT_CONFIGS:-y m}
[ -d "$work/.git" ] || { echo "bisect-build: run rig/series.sh first" >&2; exit 2; }

cc=gcc
if command -v ccache >/dev/null; then
	cc="ccache gcc"
	export CCACHE_BASEDIR=$top/build CCACHE_NOHASHDIR=true
	export CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
fi

mkdir -p "$bis"
if [ ! -e "$bis/src/.git" ]; then
	git -C "$work" worktree prune
	rm -rf "$bis/src"
	git -C "$work" worktree add -q --detach "$bis/src" umem-base
fi

# The fragments: y is the guest config; m turns the users into modules.
cp "$top/rig/configs/vm.config" "$bis/frag-y.config"
mods="INFINIBAND INFINIBAND_USER_ACCESS RDMA_RXE VFIO VFIO_IOMMU_TYPE1 VFIO_PCI
	IOMMUFD UMEM_KUNIT_TEST"
{
	grep -vE "^CONFIG_($(echo $mods | tr ' ' '|'))=" "$top/rig/configs/vm.config"
	echo CONFIG_MODULES=y
	for s in $mods; do echo "CONFIG_$s=m"; done
} > "$bis/frag-m.config"

build() {
	local cfg=$1 obj=$bis/x86-$1 t0=$SECONDS
	local mk=(make -C "$bis/src" O="$obj" ARCH=x86_64 CC="$cc" HOSTCC=gcc -j"$(nproc)"
		  KBUILD_BUILD_TIMESTAMP="umem rig" KBUILD_BUILD_USER=umem KBUILD_BUILD_HOST=rig)
	local targets=bzImage

	[ "$cfg" = m ] && targets="bzImage modules"
	mkdir -p "$obj"
	"${mk[@]}" -s KCONFIG_ALLCONFIG="$bis/frag-$cfg.config" allnoconfig > "$obj/build.log" 2>&1 &&
		"${mk[@]}" -s $targets >> "$obj/build.log" 2>&1 || {
		tail -n 30 "$obj/build.log" >&2
		return 1
	}
	# The commit that adds the library has no user to select it yet:
	# compile it anyway, as the object its users will link.
	if [ -f "$bis/src/lib/umem.c" ] && ! grep -qx CONFIG_UMEM=y "$obj/.config"; then
		"${mk[@]}" -s lib/umem.o >> "$obj/build.log" 2>&1 || {
			tail -n 30 "$obj/build.log" >&2
			return 1
		}
		printf ' (lib/umem.o unselected, compiled alone)'
	fi
	printf ' %s ok (%ss)' "$cfg" $((SECONDS - t0))
}

# The m config must have stuck where the symbols exist: at the last commit.
check_m() {
	local s
	for s in $mods; do
		grep -qx "CONFIG_$s=m" "$bis/x86-m/.config" ||
			{ echo "bisect-build: CONFIG_$s is not a module in the m config" >&2; return 1; }
	done
}

n=0
commits=$(git -C "$work" rev-list --reverse umem-base..umem)
total=$(wc -w <<<"$commits")
for c in $commits; do
	n=$((n + 1))
	git -C "$bis/src" checkout -q --detach "$c"
	subj=$(git -C "$work" log -1 --format=%s "$c")
	printf 'bisect-build: %2d/%d %s:' $n "$total" "$subj"
	for cfg in $configs; do
		build "$cfg" || { echo; echo "bisect-build: \"$subj\" does not build in config $cfg" >&2; exit 1; }
	done
	echo
done
case " $configs " in *" m "*) check_m ;; esac
echo "bisect-build: all $total commits build in config(s) $configs"
