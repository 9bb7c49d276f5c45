#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In-guest RDMA memory registration test, run as root:
#
#   umem_rdma_test.sh [BINDIR]
#
# Creates a soft-RoCE device rxe0 on a dummy netdev (192.0.2.1/24; nothing
# leaves the machine), runs rdma-core's ibv_rc/srq/ud_pingpong against
# themselves over it, then BINDIR/umem_mr_test (default: this directory),
# and checks that /proc/vmstat nr_foll_pin_acquired and _released moved by
# the same amount.  Removes rxe0 and dummy0 at the end.  Prints
# TAP ("ok N - ..." / "not ok N - ..." per step, the plan at the end), then
# "N passed, N failed"; skips (exit 4) without rdma, ip or rdma-core; exits
# non-zero if anything failed.  UMEM_MR_ARGS are passed to umem_mr_test,
# UMEM_MR_TIMEOUT (seconds, default 1200) bounds it.

bindir=${1:-$(dirname "$0")}
ksft_skip=4
dev=rxe0
ndev=umemrdma0	# not dummy0: CONFIG_DUMMY=y makes that one itself
addr=192.0.2.1
for tool in rdma ip ibv_rc_pingpong; do
	if ! command -v $tool > /dev/null; then
		echo "umem_rdma_test: SKIP: no $tool (iproute2, rdma-core)"
		exit $ksft_skip
	fi
done
echo "TAP version 13"
tmp=$(mktemp -d /tmp/umem_rdma.XXXXXX) || exit 1
n=0
passed=0
failed=0

ok()
{
	n=$((n + 1))
	passed=$((passed + 1))
	echo "ok $n - $*"
}

not_ok()
{
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $*"
}

# Show a command's output as TAP comments
comment()
{
	sed 's/^/# /' "$@"
}

pins()
{
	echo 1 > /proc/sys/vm/stat_refresh 2>/dev/null
	awk '$1 == "nr_foll_pin_acquired" { a = $2 }
	     $1 == "nr_foll_pin_released" { r = $2 }
	     END { print a + 0, r + 0 }' /proc/vmstat
}

# The index of the RoCE v2 GID of $addr (IPv4-mapped) on port 1 of $dev
find_gid()
{
	port=/sys/class/infiniband/$dev/ports/1
	# shellcheck disable=SC2046,SC2183
	want=0000:0000:0000:0000:0000:ffff:$(printf '%02x%02x:%02x%02x' \
		$(echo "$addr" | tr . ' '))
	for f in "$port"/gids/*; do
		i=${f##*/}
		g=
		t=
		read -r g < "$f" 2>/dev/null
		[ "$g" = "$want" ] || continue
		read -r t < "$port/gid_attrs/types/$i" 2>/dev/null
		[ "$t" = "RoCE v2" ] || continue
		echo "$i"
		return 0
	done
	return 1
}

# Wait until something listens on TCP port $1
wait_listen()
{
	hex=$(printf '%04X' "$1")
	for _ in $(seq 100); do
		cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
			awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
					  END { exit !f }' && return 0
		sleep 0.2
	done
	return 1
}

# pingpong NAME PORT ARGS...: server in the background, client to $addr
pingpong()
{
	name=$1 port=$2
	shift 2
	timeout 120 "$name" -d "$dev" -p "$port" "$@" \
		> "$tmp/$name.server" 2>&1 &
	spid=$!
	if ! wait_listen "$port"; then
		kill "$spid" 2>/dev/null
		wait "$spid"
		comment "$tmp/$name.server"
		not_ok "$name: server did not start"
		return
	fi
	timeout 120 "$name" -d "$dev" -p "$port" "$@" "$addr" \
		> "$tmp/$name.client" 2>&1
	crc=$?
	[ "$crc" = 0 ] || kill "$spid" 2>/dev/null
	wait "$spid"
	src=$?
	comment "$tmp/$name.client"
	if [ "$crc" = 0 ] && [ "$src" = 0 ]; then
		ok "$name $* (client and server)"
	else
		comment "$tmp/$name.server"
		not_ok "$name $*: client exit $crc, server exit $src"
	fi
}

echo "# umem_rdma_test on $(uname -r)"
# shellcheck disable=SC2046
set -- $(pins)
acq0=$1 rel0=$2

if [ -r /proc/vmstat ] && [ -r /proc/self/status ]; then
	ok "/proc/vmstat and /proc/self/status readable"
else
	not_ok "/proc is not mounted properly"
fi

# ---- soft-RoCE on a dummy netdev ----
ip link del "$ndev" 2>/dev/null
if ip link add "$ndev" type dummy &&
   ip addr add "$addr/24" dev "$ndev" &&
   ip link set "$ndev" up; then
	ok "$ndev up with $addr"
else
	not_ok "$ndev up with $addr"
fi

if rdma link add "$dev" type rxe netdev "$ndev" 2> "$tmp/rdma.err"; then
	ok "rdma link add $dev type rxe netdev $ndev"
else
	comment "$tmp/rdma.err"
	not_ok "rdma link add $dev type rxe netdev $ndev"
	echo "1..$n"
	echo "$passed passed, $failed failed"
	exit 1
fi

# No udev in the guest: open the uverbs nodes up as rdma-core's rules do
for _ in $(seq 50); do
	ls /dev/infiniband/uverbs* > /dev/null 2>&1 && break
	sleep 0.1
done
if chmod 666 /dev/infiniband/*; then
	ok "/dev/infiniband: $(ls /dev/infiniband | tr '\n' ' ')"
else
	not_ok "/dev/infiniband/uverbs* missing"
fi

gid=
for _ in $(seq 20); do
	gid=$(find_gid) && break
	sleep 0.5
done
if [ -n "$gid" ]; then
	gidarg="--gid-index $gid"
	ok "RoCE v2 GID of $addr is index $gid"
else
	for f in /sys/class/infiniband/$dev/ports/1/gids/*; do
		i=${f##*/}
		g=$(cat "$f" 2>/dev/null)
		[ "$g" = 0000:0000:0000:0000:0000:0000:0000:0000 ] && continue
		echo "# gid $i $g" \
			"$(cat /sys/class/infiniband/$dev/ports/1/gid_attrs/types/$i 2>/dev/null)"
	done
	not_ok "no RoCE v2 GID of $addr"
	gid=1
	gidarg=
fi

state=
for _ in $(seq 50); do
	ibv_devinfo -d "$dev" > "$tmp/devinfo" 2>&1
	state=$(awk '$1 == "state:" { print $2; exit }' "$tmp/devinfo")
	[ "$state" = PORT_ACTIVE ] && break
	sleep 0.2
done
comment "$tmp/devinfo"
if [ "$state" = PORT_ACTIVE ]; then
	ok "ibv_devinfo: $dev port 1 PORT_ACTIVE"
else
	not_ok "ibv_devinfo: $dev port 1 is '$state'"
fi

# ---- rdma-core's examples, loopback ----
pingpong ibv_rc_pingpong 18515 -g "$gid" -n 20 -r 100 -c
pingpong ibv_rc_pingpong 18516 -g "$gid" -n 5 -r 20 -s 1048576 -c
pingpong ibv_srq_pingpong 18517 -g "$gid" -n 10 -q 4 -r 100 -c
pingpong ibv_ud_pingpong 18518 -g "$gid" -n 20 -r 100 -s 512 -c

# ---- memory registration ----
bin=$bindir/umem_mr_test
if [ -x "$bin" ]; then
	{
		# shellcheck disable=SC2086
		timeout "${UMEM_MR_TIMEOUT:-1200}" "$bin" $gidarg \
			${UMEM_MR_ARGS:-} 2>&1
		echo $? > "$tmp/mr.rc"
	} | tee "$tmp/mr.out" | sed -u 's/^/    /'
	rc=$(cat "$tmp/mr.rc")
	tally=$(tail -n 1 "$tmp/mr.out")
	if [ "$rc" = 0 ]; then
		ok "umem_mr_test: $tally"
	else
		not_ok "umem_mr_test: exit $rc, $tally"
	fi
else
	not_ok "umem_mr_test: $bin not found"
fi

# ---- teardown, pin balance ----
if rdma link del "$dev" 2> "$tmp/rdma.err"; then
	ok "rdma link del $dev"
else
	comment "$tmp/rdma.err"
	not_ok "rdma link del $dev"
fi
ip link del "$ndev" 2>/dev/null

# shellcheck disable=SC2046
set -- $(pins)
acq=$(($1 - acq0))
rel=$(($2 - rel0))
if [ "$acq" = "$rel" ]; then
	ok "nr_foll_pin_acquired and _released both moved by $acq"
else
	not_ok "nr_foll_pin_acquired moved by $acq, nr_foll_pin_released by $rel"
fi

rm -rf "$tmp"
echo "1..$n"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
