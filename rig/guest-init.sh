#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# PID 1 of the rig's guest.  The host's root is mounted read-only over 9p;
# the writable scratch share (tag "scratch") carries the command in and the
# exit status, dmesg and kmemleak report out.  Powers off when done.

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH HOME=/root TERM=dumb LANG=C.UTF-8

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /dev/hugepages
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# The rig lives where this script does.  If that is under a directory about
# to get a private tmpfs (a CI clone in /tmp), keep the host's copy visible:
# bind it aside first and back at the same path afterwards.
top=$(cd "$(dirname "$0")/.." && pwd)
case "$top/" in
/tmp/*|/run/*|/var/tmp/*|/root/*)
	mkdir -p /dev/.rigtop && mount --bind "$top" /dev/.rigtop ;;
esac
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/tmp
mount -t tmpfs tmpfs /root
if [ -d /dev/.rigtop ]; then
	mkdir -p "$top" && mount --bind /dev/.rigtop "$top"
fi
mount -t hugetlbfs hugetlbfs /dev/hugepages
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 scratch /mnt
ip link set lo up

cd /mnt || { echo o > /proc/sysrq-trigger; exec sleep 60; }
echo 1 > /proc/sys/kernel/sysrq
: > /mnt/started
sh /mnt/cmd.sh < /dev/null > /dev/console 2>&1
echo $? > /mnt/rc.tmp

if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan > /sys/kernel/debug/kmemleak
	sleep 1
	echo scan > /sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak > /mnt/kmemleak
fi
echo 1 > /proc/sys/vm/stat_refresh 2>/dev/null
grep -E '^nr_foll_pin_(acquired|released)' /proc/vmstat > /mnt/vmstat
dmesg > /mnt/dmesg
mv /mnt/rc.tmp /mnt/rc
sync
# sysrq-o powers off asynchronously, and PID 1 must not exit meanwhile (the
# kernel would panic "Attempted to kill init"); nor may it run a program
# from the 9p root, which goes away under it.  So block in a shell builtin:
# opening a FIFO for reading waits for a writer, and none ever comes.
mknod /dev/.poweroff p 2>/dev/null
echo o > /proc/sysrq-trigger
while :; do read -r _ < /dev/.poweroff; done
