#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the x86_64 guest kernel from rig/configs/vm.config.
#   rig/build-kernel.sh patched   -> build/x86-patched/arch/x86/boot/bzImage
#   rig/build-kernel.sh stock     -> build/x86-stock/arch/x86/boot/bzImage
# VM_CONFIG=bench builds the same without the debug options
# (rig/configs/bench.config on top) into build/x86-<flavour>-bench.
# Incremental: the object directory is kept; the config is only regenerated
# when the fragment changed.  ccache is used when installed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
flavour=${1:-patched}
shift || true
src=$("$top/rig/tree.sh" "$flavour")
variant=${VM_CONFIG:-}
case "$variant" in
'' | bench) ;;
*) echo "build-kernel.sh: VM_CONFIG=$variant: only bench or empty" >&2; exit 2 ;;
esac
obj=$top/build/x86-$flavour${variant:+-$variant}
mkdir -p "$obj"

cc=gcc
if command -v ccache >/dev/null; then
	cc="ccache gcc"
	export CCACHE_BASEDIR=$top/build CCACHE_NOHASHDIR=true
	export CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
	
fi
mk=(make -C "$src" O="$obj" ARCH=x86_64 CC="$cc" HOSTCC=gcc -j"$(nproc)"
    KBUILD_BUILD_TIMESTAMP="umem rig" KBUILD_BUILD_USER=umem KBUILD_BUILD_HOST=rig)

frag=$obj/frag.wanted
mkdir -p "$obj"
if [ -n "$variant" ]; then
	over=$top/rig/configs/$variant.config
	syms=$(sed -nE 's/^(# drop )?(CONFIG_[A-Z0-9_]+).*/\2/p' "$over" | paste -sd'|')
	{ grep -vE "^($syms)=" "$top/rig/configs/vm.config"; cat "$over"; } > "$frag"
else
	cp "$top/rig/configs/vm.config" "$frag"
fi
sum=$(cat "$frag" | sha1sum | cut -c1-40)-$flavour
if [ ! -f "$obj/.config" ] || [ "$(cat "$obj/.fragment" 2>/dev/null)" != "$sum" ]; then
	cp "$frag" "$obj/frag.config"
	[ "$flavour" = stock ] && echo 'CONFIG_LOCALVERSION="-stock"' >> "$obj/frag.config"
	"${mk[@]}" -s KCONFIG_ALLCONFIG="$obj/frag.config" allnoconfig
	# Every symbol of the fragment that exists in this tree must have stuck.
	missing=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=n) sym=${line%%=*}; grep -q "^$sym=" "$obj/.config" && { echo "config: $sym still set" >&2; missing=1; } ;;
		CONFIG_*=*) grep -qxF "$line" "$obj/.config" || {
			sym=${line%%=*}
			if [ "$flavour" = stock ] && grep -qE "UMEM|LOCALVERSION" <<<"$sym"; then continue; fi
			echo "config: wanted $line, got: $(grep "^$sym=\|# $sym " "$obj/.config")" >&2; missing=1; } ;;
		esac
	done < "$frag"
	[ "$missing" = 0 ] || { echo "build-kernel.sh: config fragment did not apply" >&2; exit 1; }
	echo "$sum" > "$obj/.fragment"
fi
"${mk[@]}" "$@" bzImage
echo "$obj/arch/x86/boot/bzImage"
