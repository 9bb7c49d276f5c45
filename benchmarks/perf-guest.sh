# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the in-guest profile scripts (profile-guest.sh,
# profile-vfio-unmap-guest.sh): perf set-up, and the report of the samples
# under one call.

# Let root's perf see kernel symbols and every event.
perf_setup() {
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	echo 0 > /proc/sys/kernel/kptr_restrict
	echo -1 > /proc/sys/kernel/perf_event_paranoid
}

# perf_report TITLE PARENT_REGEX
# Of /tmp/perf.data, only the samples with a caller matching PARENT_REGEX
# (perf report --parent with --exclude-other), in percent of those: the
# functions they are in, then the functions they are under; syscall entry
# frames and unresolved addresses left out.
perf_report() {
	echo "### $1: self, samples under $2 (percent of those)"
	perf report -q -i /tmp/perf.data --stdio --no-children -g none -n \
		-p "$2" -x --sort symbol --percentage relative \
		--percent-limit 1.5 2>/dev/null | sed '/^$/d' | head -20 |
		sed 's/ *-  *- .*//'
	echo "### $1: inclusive"
	perf report -q -i /tmp/perf.data --stdio --children -g none -n \
		-p "$2" -x --sort symbol --percentage relative \
		--percent-limit 4 2>/dev/null | sed '/^$/d' |
		grep -v -E 'do_syscall_64|entry_SYSCALL|x64_sys_call|ioctl|0x[0-9a-f]{8}' |
		head -20 | sed 's/ *-  *- .*//'
}
