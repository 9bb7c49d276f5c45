#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn benchmarks/bench.sh's raw.csv into table.md and plot.png.

usage: report.py RAW_CSV MACHINE_MD OUTDIR

Per (workload, backing, size, op): the median, min and max over the
repetitions of each kernel, and patched/stock of the medians. Rows where the
patched kernel is slower by more than 5% are marked. Raw pinning compares
umem with the kernel's own GUP_TEST page-array benchmark on the patched
kernel. Metadata rows are bytes per GiB pinned or mapped.
"""
import csv
import os
import statistics
import subprocess
import sys
from collections import defaultdict

TIMED = {
    'vfio-type1': ('VFIO type1', {'map': 'MAP_DMA', 'unmap': 'UNMAP_DMA'}),
    'vfio-vm-start': ('VFIO type1, VM start', {'map': 'MAP_DMA, all',
                                               'unmap': 'UNMAP_DMA, all'}),
    'iommufd': ('iommufd', {'map': 'IOAS_MAP', 'unmap': 'IOAS_UNMAP'}),
    'rdma-reg-mr': ('RDMA (rxe)', {'reg': 'ibv_reg_mr', 'dereg': 'ibv_dereg_mr'}),
    'gup-pin-fast': ('GUP_TEST', {'pin': 'PIN_FAST pin', 'unpin': 'PIN_FAST unpin'}),
    'gup-pin-longterm': ('GUP_TEST', {'pin': 'PIN_LONGTERM pin',
                                      'unpin': 'PIN_LONGTERM unpin'}),
    'gup-pin-runs': ('GUP_TEST', {'pin': 'PIN_LONGTERM_RUNS pin',
                                  'unpin': 'PIN_LONGTERM_RUNS unpin'}),
    'umem': ('umem (test_umem)', {'pin': 'umem_get', 'unpin': 'umem_release'}),
    'umem-nodirty': ('umem (test_umem)', {'pin': 'umem_get', 'unpin': 'umem_release'}),
}
BACKINGS = ['4K', 'THP', 'hugetlb', 'hugetlb-1G']


def size_str(n):
    n = int(n)
    if n % (1 << 30) == 0:
        return f'{n >> 30}G'
    return f'{n >> 20}M'


def stats(vals):
    if not vals:
        return None
    return statistics.median(vals), min(vals), max(vals)


def fmt(st, unit='ms'):
    if st is None:
        return '—'
    med, lo, hi = st
    if unit == 'B':
        return f'{med:,.0f}'
    if lo == hi:
        return f'{med:.1f}'
    return f'{med:.1f} ({lo:.1f}–{hi:.1f})'


def ratio(s, p):
    if s is None or p is None or s[0] <= 0:
        return '—'
    r = p[0] / s[0]
    mark = ' **slower**' if r > 1.05 else ''
    return f'{r:.2f}{mark}'


def main():
    raw, machine, outdir = sys.argv[1:4]
    data = defaultdict(list)  # (kernel, workload, backing, bytes, op) -> values
    with open(raw) as f:
        for row in csv.DictReader(f):
            try:
                val = float(row['value'])
            except ValueError:
                continue
            data[(row['kernel'], row['workload'], row['backing'],
                  int(row['bytes']), row['op'])].append(val)
    sizes = sorted({k[3] for k in data})

    def get(kernel, wl, b, n, op):
        return stats(data.get((kernel, wl, b, n, op), []))

    lines = ['# stock 6.12 against umem, side by side', '']
    lines += open(machine).read().strip().splitlines()
    lines += ['', 'Times in ms: median (min–max) over the repetitions; ratio is '
              'patched/stock of the medians, below 1 means the umem kernel is '
              'faster. The guest runs under TCG (emulated CPU): absolute '
              'times are slow, compare kernels only by ratio. '
              'GUP_TEST runs the same code on both kernels: its rows are the '
              'control, and their spread of ratios is the noise floor of this '
              'machine.', '']

    lines += ['## Time, stock kernel against patched kernel', '',
              '| workload | op | backing | size | stock | patched | patched/stock |',
              '| --- | --- | --- | ---: | ---: | ---: | ---: |']
    for wl, (wname, ops) in TIMED.items():
        if wl.startswith('umem') or wl == 'gup-pin-runs':
            continue
        for op, oname in ops.items():
            for b in BACKINGS:
                for n in sizes:
                    s = get('stock', wl, b, n, op)
                    p = get('patched', wl, b, n, op)
                    if s is None and p is None:
                        continue
                    lines.append(f'| {wname} | {oname} | {b} | {size_str(n)} | '
                                 f'{fmt(s)} | {fmt(p)} | {ratio(s, p)} |')

    lines += ['', '## Raw pinning on the patched kernel: umem against GUP_TEST', '',
              'GUP_TEST PIN_LONGTERM pins into a page array, 512 pages per call, '
              'and unpins with unpin_user_pages() without dirtying. '
              'PIN_LONGTERM_RUNS pins the same range, 512 pages per call, with '
              'pin_user_pages_runs_fast() into physically contiguous runs and '
              'unpins them by range. umem pins through the same runs, builds its '
              'scatterlist from them, then unpins by contiguous range, dirtying '
              '(as a DMA-write user must) or not. Ratios are against '
              'PIN_LONGTERM; the clean release is the like-for-like one.',
              '',
              '| op | backing | size | GUP_TEST PIN_LONGTERM | PIN_LONGTERM_RUNS '
              '| runs/GUP_TEST | umem | umem/GUP_TEST '
              '| umem, clean release | clean/GUP_TEST |',
              '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |']
    for op, oname in (('pin', 'pin'), ('unpin', 'unpin / release')):
        for b in BACKINGS:
            for n in sizes:
                g = get('patched', 'gup-pin-longterm', b, n, op)
                r = get('patched', 'gup-pin-runs', b, n, op)
                u = get('patched', 'umem', b, n, op)
                c = get('patched', 'umem-nodirty', b, n, op)
                if g is None and u is None:
                    continue
                lines.append(f'| {oname} | {b} | {size_str(n)} | {fmt(g)} | '
                             f'{fmt(r)} | {ratio(g, r)} | '
                             f'{fmt(u)} | {ratio(g, u)} | {fmt(c)} | {ratio(g, c)} |')

    lines += ['', '## Metadata: kernel bytes held per GiB', '',
              'umem: what umem_metadata_bytes() reports (scatterlist). Page array: '
              '8 bytes per 4K page, as GUP_TEST, and a page-array design, hold. '
              'VFIO type1: unreclaimable slab grown by MAP_DMA of the largest size, '
              'per GiB (noisy; IOMMU page tables excluded, they are the same for both).',
              '',
              '| backing | size | umem | page array | type1 stock | type1 patched |',
              '| --- | ---: | ---: | ---: | ---: | ---: |']
    for b in BACKINGS:
        for n in sizes:
            u = get('patched', 'umem', b, n, 'metadata')
            g = get('patched', 'gup-pin-longterm', b, n, 'metadata') or \
                get('stock', 'gup-pin-longterm', b, n, 'metadata')
            vs = get('stock', 'vfio-type1', b, n, 'metadata')
            vp = get('patched', 'vfio-type1', b, n, 'metadata')
            if not any((u, g, vs, vp)):
                continue
            lines.append(f'| {b} | {size_str(n)} | {fmt(u, "B")} | {fmt(g, "B")} | '
                         f'{fmt(vs, "B")} | {fmt(vp, "B")} |')

    slower = [l for l in lines if '**slower**' in l]
    lines += ['', f'Rows where the patched kernel is slower: {len(slower)}.']
    lines += [f'- {l}' for l in slower]

    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, 'table.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')

    # The plot: time against size per backing, stock dashed, patched solid.
    panels = [('vfio-type1', 'map', 'VFIO MAP_DMA'),
              ('vfio-type1', 'unmap', 'VFIO UNMAP_DMA'),
              ('rdma-reg-mr', 'reg', 'ibv_reg_mr'),
              ('rdma-reg-mr', 'dereg', 'ibv_dereg_mr')]
    dat = os.path.join(outdir, 'plot.dat')
    # Only series with data get a block: gnuplot's "index" counts blocks
    # separated by two blank lines and does not count empty ones, so an
    # empty block would shift every later index.
    blocks = []
    with open(dat, 'w') as f:
        for wl, op, _ in panels:
            for kernel in ('stock', 'patched'):
                for b in BACKINGS:
                    pts = [(n, get(kernel, wl, b, n, op)) for n in sizes]
                    pts = [(n, st) for n, st in pts if st]
                    if not pts:
                        continue
                    f.write(f'# {wl} {op} {kernel} {b}\n')
                    for n, st in pts:
                        f.write(f'{n / (1 << 30):g} {st[0]:.3f} {st[1]:.3f} {st[2]:.3f}\n')
                    f.write('\n\n')
                    blocks.append((wl, op, kernel, b))
    colors = {'4K': '#1f77b4', 'THP': '#2ca02c', 'hugetlb': '#d62728',
              'hugetlb-1G': '#9467bd'}
    gp = ['set terminal pngcairo size 1400,1000 font ",10" noenhanced',
          f'set output "{os.path.join(outdir, "plot.png")}"',
          'set multiplot layout 2,2 title "stock 6.12 (dashed) against umem (solid), '
          'median with min-max"',
          'set logscale xy', 'set xlabel "GiB"', 'set ylabel "ms"', 'set key left top',
          'set grid', 'set offsets graph 0.05, graph 0.05, 0, 0']
    for wl, op, title in panels:
        plots = []
        for i, (bwl, bop, kernel, b) in enumerate(blocks):
            if (bwl, bop) != (wl, op):
                continue
            dt = 2 if kernel == 'stock' else 1
            plots.append(f'"{dat}" index {i} using 1:2:3:4 with yerrorlines '
                         f'dt {dt} lc rgb "{colors[b]}" title "{b} {kernel}"')
        gp.append(f'set title "{title}"')
        if plots:
            gp.append('plot ' + ', '.join(plots))
        else:
            gp.append('unset logscale')
            gp.append('set label 1 "no data" at graph 0.5, 0.5 center')
            gp.append('plot [0:1] [0:1] NaN notitle')
            gp.append('unset label 1')
            gp.append('set logscale xy')
    gp.append('unset multiplot')
    try:
        subprocess.run(['gnuplot'], input='\n'.join(gp), text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f'report: gnuplot failed: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
