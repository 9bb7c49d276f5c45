#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build all of drivers/infiniband, every RDMA driver and ULP as a module, W=1,
# against the patched tree (or the stock one), to prove that the ib_umem
# conversion builds every in-tree user unchanged.
#
#   rig/rdma-build.sh            -> build/x86-rdma-all   (base + overlay + patches/)
#   rig/rdma-build.sh stock      -> build/x86-rdma-stock (pristine 6.12)
#
# Starts from x86_64 defconfig, enables every config symbol declared in
# drivers/infiniband/{Kconfig,hw,sw,ulp}/**/Kconfig (tristates as m, bools as
# y) plus the core, network and bus drivers they depend on, runs
# olddefconfig and reports every driver symbol that did not stick, with its
# dependencies. Fails if the build fails, or if (patched tree) W=1 reports a
# warning in drivers/infiniband/core/umem.c or lib/umem.c, or any warning
# mentioning umem.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
which=${1:-patched}
case $which in
patched) src=$("$top/rig/tree.sh" patched); obj=$top/build/x86-rdma-all ;;
stock)	 src=$("$top/rig/tree.sh" stock); obj=$top/build/x86-rdma-stock ;;
*)	 echo "usage: $0 [patched|stock]" >&2; exit 2 ;;
esac
log=$obj.log
jobs=${RDMA_BUILD_JOBS:-2}

export CCACHE_BASEDIR=$top/build CCACHE_NOHASHDIR=true CCACHE_SLOPPINESS=time_macros
cc=gcc; command -v ccache >/dev/null && cc="ccache gcc"
mk=(make -C "$src" O="$obj" ARCH=x86_64 CC="$cc" HOSTCC=gcc)

mkdir -p "$obj"
[ -f "$obj/.config" ] || "${mk[@]}" defconfig >/dev/null

# Every symbol the RDMA Kconfig files declare, with its type.
mapfile -t decls < <(cd "$src" && awk '
	/^(menu)?config[ \t]+/ { sym = $2; next }
	sym != "" && /^[ \t]+(tristate|bool)/ { sub(/^[ \t]+/, ""); split($0, w, /[ \t]/); print sym, w[1]; sym = "" }
	' drivers/infiniband/Kconfig drivers/infiniband/hw/*/Kconfig \
	  drivers/infiniband/sw/*/Kconfig drivers/infiniband/ulp/*/Kconfig | sort -u)

# What the drivers depend on: buses, Ethernet/RDMA core drivers, hypervisor
# and storage glue. Tristates as m, bools as y.
deps_m="MLX4_CORE MLX4_EN MLX5_CORE BNXT CHELSIO_T4 QED QEDE
	I40E ICE ENIC BE2NET HNS3 HNS3_HCLGE HNS3_ENET VMXNET3 MICROSOFT_MANA
	PCI_HYPERV HYPERV HYPERV_NET SCSI_ISCSI_ATTRS ISCSI_TCP TARGET_CORE
	ISCSI_TARGET DCA SCSI_SRP_ATTRS BLK_DEV_NVME NVME_RDMA NVME_TARGET NVME_TARGET_RDMA
	SUNRPC SUNRPC_XPRT_RDMA CIFS SMB_SERVER RDS RDS_RDMA NET_9P NET_9P_RDMA
	FW_LOADER"
deps_y="NETDEVICES ETHERNET PCI PCI_MSI PCI_IOV INET IPV6 NET_VENDOR_MELLANOX
	NET_VENDOR_BROADCOM NET_VENDOR_CHELSIO NET_VENDOR_QLOGIC NET_VENDOR_INTEL
	NET_VENDOR_CISCO NET_VENDOR_EMULEX NET_VENDOR_HISILICON NET_VENDOR_VMWARE
	NET_VENDOR_MICROSOFT HYPERVISOR_GUEST COMPILE_TEST MLX5_CORE_EN MLX5_ESWITCH
	MLX5_INFINIBAND IOMMU_SUPPORT INTEL_IOMMU SCSI BLOCK CONFIGFS_FS
	CIFS_SMB_DIRECT SMB_SERVER_SMBDIRECT NET_SWITCHDEV VXLAN DCB QED_RDMA
	QED_LL2 SECURITY_INFINIBAND SECURITY"

args=()
for d in "${decls[@]}"; do
	set -- $d
	if [ "$2" = tristate ]; then args+=(--module "$1"); else args+=(--enable "$1"); fi
done
for s in $deps_m; do args+=(--module "$s"); done
for s in $deps_y; do args+=(--enable "$s"); done
# COMPILE_TEST (for hns) must not turn W=1 warnings into errors.
args+=(--disable WERROR)
# Apply twice around olddefconfig: a symbol whose dependency was set in the
# same pass is only kept once the dependency is resolved.
"$src/scripts/config" --file "$obj/.config" "${args[@]}"
"${mk[@]}" olddefconfig >/dev/null
"$src/scripts/config" --file "$obj/.config" "${args[@]}"
"${mk[@]}" olddefconfig >/dev/null

echo "rdma-build: driver symbols that are not enabled:"
missing=0
for d in "${decls[@]}"; do
	set -- $d
	want=m; [ "$2" = bool ] && want=y
	got=$(grep -E "^CONFIG_$1=" "$obj/.config" | cut -d= -f2 || true)
	if [ "$2" = tristate ] && [ "$got" = y ]; then got=m; fi	# built in by a selector
	[ "$got" = "$want" ] && continue
	missing=$((missing + 1))
	printf '  %-36s %-8s is %s; ' "$1" "$2" "${got:-unset}"
	(cd "$src" && grep -rh -A12 -E "^(menu)?config $1\$" drivers/infiniband | \
		sed -n '2,$p' | sed '/^\(menu\)\?config /,$d' | \
		grep -E '^[[:space:]]+depends on' | sed 's/^[[:space:]]*//' | \
		tr '\n' ';'; echo)
done
echo "rdma-build: $missing of ${#decls[@]} symbols not enabled"
grep -E '^CONFIG_(INFINIBAND|RDMA|MLX[45]_INFINIBAND|UMEM)[A-Z0-9_]*=' "$obj/.config" > "$obj.symbols"
echo "rdma-build: enabled: $(grep -c . "$obj.symbols") symbols, see $obj.symbols"

targets=(drivers/infiniband/)
[ "$which" = patched ] && targets+=(lib/umem.o)
echo "rdma-build: make W=1 -j$jobs ${targets[*]} (log: $log)"
rc=0
"${mk[@]}" -j"$jobs" W=1 "${targets[@]}" >"$log" 2>&1 || rc=$?
# grep -c exits 1 on a count of 0, which pipefail would make fatal.
{ grep -c 'warning:' "$log" || true; } | sed 's/^/rdma-build: W=1 warnings: /'
if [ "$rc" != 0 ]; then
	grep -E 'error' "$log" | head -40
	echo "rdma-build: FAILED (make exit $rc)"
	exit 1
fi
if [ "$which" = patched ]; then
	if grep -E 'warning:' "$log" | grep -Ei 'umem' ; then
		echo "rdma-build: FAILED: W=1 warnings mentioning umem (above)"
		exit 1
	fi
fi
nobj=$(find "$obj/drivers/infiniband" -name '*.o' | wc -l)
echo "rdma-build: OK, $nobj objects under drivers/infiniband"
