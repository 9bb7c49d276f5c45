#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the guest, as root: profile GUP_TEST PIN_LONGTERM, GUP_TEST PIN_FAST,
# GUP_TEST PIN_LONGTERM_RUNS (patched kernel) and umem (dirty and clean
# release) of one buffer per backing with perf.
#   profile-guest.sh BINDIR SIZE REPEAT BACKING...
# Each workload pins and releases the buffer REPEAT times under one perf
# record, for enough samples; the median time of each op is printed.
# Only the samples under the timed call are reported (perf report --parent
# with --exclude-other): pin_user_pages(), pin_user_pages_fast() or
# umem_get() for the pin, unpin_user_pages() or umem_release() for the
# release; faulting the buffer in and test_umem's read-back are left out,
# as they are out of the times pin_bench reports.
bin=$1 size=$2 repeat=$3
shift 3
. "$(dirname "$0")/perf-guest.sh"
perf_setup
cd /tmp || exit 1
rc=0

echo "==== profile begin"
echo "# $(uname -r), pin_bench $size x $repeat, perf $(perf version 2>/dev/null | cut -d' ' -f3)," \
	"cpu-clock at 1000 Hz"
for b in "$@"; do
	for w in gup-pin-longterm gup-pin-fast gup-pin-runs umem umem-nodirty; do
		echo
		echo "## $w $b $size"
		perf record -q -e cpu-clock -F 1000 -g -o /tmp/perf.data -- \
			"$bin/pin_bench" --only "$w" --backing "$b" --repeat "$repeat" \
			"$size" > /tmp/pb.out 2>&1 || { rc=1; cat /tmp/pb.out; continue; }
		# median time (ms) of each op over the repetitions
		for op in pin unpin; do
			grep "^csv,$w,$b,[0-9]*,$op," /tmp/pb.out | cut -d, -f6 | sort -n |
				awk -v w="$w" -v op="$op" '{ v[NR] = $1 }
					END { if (NR) printf "# %s %s: median %.1f ms of %d\n", w, op, v[int((NR + 1) / 2)], NR }'
		done
		case $w in
		gup-pin-longterm) perf_report pin '^pin_user_pages$'; perf_report unpin '^unpin_user_pages$' ;;
		gup-pin-fast) perf_report pin '^pin_user_pages_fast$'; perf_report unpin '^unpin_user_pages$' ;;
		gup-pin-runs) perf_report pin '^pin_user_pages_runs_fast$'; perf_report unpin '^unpin_user_page_runs$' ;;
		umem*) perf_report pin '^umem_get$'; perf_report release '^umem_release$' ;;
		esac
	done
done
echo "==== profile end"
exit $rc
