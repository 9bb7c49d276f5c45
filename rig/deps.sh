#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the rig needs; idempotent and quiet when done.
set -euo pipefail
pkgs="linux-source-6.12 build-essential bc bison flex libssl-dev libelf-dev
      ccache sparse python3 rsync cpio xz-utils kmod iproute2 pciutils
      qemu-system-x86 rdma-core ibverbs-utils perftest libibverbs-dev
      python3-sphinx python3-sphinx-rtd-theme python3-ply python3-git gnuplot-nox"
missing=()
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# One ccache for the UML, patched and stock builds: room for all three.
command -v ccache >/dev/null && ccache -M 16G >/dev/null
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
[ "$(id -u)" = 0 ] || { echo "deps: run as root (or: sudo apt-get install ${missing[*]})" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
