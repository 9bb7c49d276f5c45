#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn benchmarks/bench.sh's raw.csv into table.md, summary.md and plot.png.

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
import textwrap
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
    'umem-sgt': ('umem (test_umem)', {'pin': 'umem_get', 'unpin': 'umem_release'}),
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
              'record from them (compact; a scatterlist with UMEM_SGT), then unpins '
              'by contiguous range, dirtying '
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
              'umem: what umem_metadata_bytes() reports, for the compact record and '
              'for the scatterlist record (UMEM_SGT, what RDMA keeps). Page array: '
              '8 bytes per 4K page, as GUP_TEST, and a page-array design, hold. '
              'VFIO type1: unreclaimable slab grown by MAP_DMA of the largest size, '
              'per GiB (noisy; IOMMU page tables excluded, they are the same for both).',
              '',
              '| backing | size | umem | umem, scatterlist | page array '
              '| type1 stock | type1 patched |',
              '| --- | ---: | ---: | ---: | ---: | ---: | ---: |']
    for b in BACKINGS:
        for n in sizes:
            u = get('patched', 'umem', b, n, 'metadata')
            us = get('patched', 'umem-sgt', b, n, 'metadata')
            g = get('patched', 'gup-pin-longterm', b, n, 'metadata') or \
                get('stock', 'gup-pin-longterm', b, n, 'metadata')
            vs = get('stock', 'vfio-type1', b, n, 'metadata')
            vp = get('patched', 'vfio-type1', b, n, 'metadata')
            if not any((u, g, vs, vp)):
                continue
            lines.append(f'| {b} | {size_str(n)} | {fmt(u, "B")} | {fmt(us, "B")} | '
                         f'{fmt(g, "B")} | '
                         f'{fmt(vs, "B")} | {fmt(vp, "B")} |')

    slower = [l for l in lines if '**slower**' in l]
    lines += ['', f'Rows where the patched kernel is slower: {len(slower)}.']
    lines += [f'- {l}' for l in slower]

    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, 'table.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')

    vm_sizes = sorted({k[3] for k in data if k[1] == 'vfio-vm-start'})
    summary = make_summary(get, sizes, vm_sizes, machine)
    with open(os.path.join(outdir, 'summary.md'), 'w') as f:
        f.write('\n'.join(summary) + '\n')
    return make_plot(get, sizes, outdir)


HUGE = ['THP', 'hugetlb', 'hugetlb-1G']


def rat(a, b):
    """b over a, medians of stats() tuples; None when either is missing."""
    if a is None or b is None or a[0] <= 0:
        return None
    return b[0] / a[0]


def span(rs):
    """'0.03-0.05' for a list of ratios (None entries ignored), None if empty."""
    rs = [r for r in rs if r is not None]
    if not rs:
        return None
    lo, hi = min(rs), max(rs)
    return f'{lo:.2f}' if f'{lo:.2f}' == f'{hi:.2f}' else f'{lo:.2f}-{hi:.2f}'


def make_summary(get, sizes, vm_sizes, machine):
    """The short summary the README and the cover letter quote: ranges of
    the table's ratios, computed here so that a new run updates them."""
    def vs_stock(wl, op, backings):
        return span([rat(get('stock', wl, b, n, op), get('patched', wl, b, n, op))
                     for b in backings for n in sizes])

    def vs_gup(wl, op, backings):
        return span([rat(get('patched', 'gup-pin-longterm', b, n, op),
                         get('patched', wl, b, n, op))
                     for b in backings for n in sizes])

    def part(label, val):
        return f'{label} {val}' if val else None

    def bullet(head, parts):
        parts = [x for x in parts if x]
        return f'- {head}: ' + '; '.join(parts) + '.' if parts else None

    run = next((l[2:].strip() for l in open(machine).read().splitlines()
                if l.startswith('- sizes:')), '')
    out = [f'Generated by benchmarks/report.py from its table.md ({run}). '
           'Ratios: patched/stock of the medians, or against GUP_TEST '
           'PIN_LONGTERM on the same kernel; below 1 is faster.', '']
    rows = [
        bullet('umem_get() (its compact record included) against PIN_LONGTERM',
               [part('THP/2M/1G', vs_gup('umem', 'pin', HUGE)),
                part('4K', vs_gup('umem', 'pin', ['4K']))]),
        bullet('GUP pinning into runs (PIN_LONGTERM_RUNS) against PIN_LONGTERM',
               [part('THP/2M/1G', vs_gup('gup-pin-runs', 'pin', HUGE)),
                part('4K', vs_gup('gup-pin-runs', 'pin', ['4K']))]),
        bullet('umem release, clean, against PIN_LONGTERM unpin',
               [part('THP/2M/1G', vs_gup('umem-nodirty', 'unpin', HUGE)),
                part('4K', vs_gup('umem-nodirty', 'unpin', ['4K']))]),
        bullet('VFIO type1 MAP_DMA, patched/stock',
               [part('THP/2M/1G', vs_stock('vfio-type1', 'map', HUGE)),
                part('4K', vs_stock('vfio-type1', 'map', ['4K']))]),
        bullet('VFIO type1 UNMAP_DMA, patched/stock',
               [part('THP/2M/1G', vs_stock('vfio-type1', 'unmap', HUGE)),
                part('4K', vs_stock('vfio-type1', 'unmap', ['4K']))]),
    ]
    vm = []
    for op, name in (('map', 'MAP_DMA'), ('unmap', 'UNMAP_DMA')):
        for n in vm_sizes:
            s = get('stock', 'vfio-vm-start', 'hugetlb-1G', n, op)
            p = get('patched', 'vfio-vm-start', 'hugetlb-1G', n, op)
            if s and p:
                vm.append(f'{name} of {size_str(n)} {ms(s[0])} ms -> {ms(p[0])} ms')
    rows.append(bullet('VM start (IOVA mapped over the same 1G hugetlb pages, '
                       'then unmap-all), stock -> patched', vm))
    rows.append(bullet('ibv_reg_mr over rxe, patched/stock',
                       [part('THP/2M', vs_stock('rdma-reg-mr', 'reg', HUGE)),
                        part('4K', vs_stock('rdma-reg-mr', 'reg', ['4K']))]))
    for op, name in (('map', 'IOAS_MAP'), ('unmap', 'IOAS_UNMAP')):
        rows.append(bullet(f'iommufd {name}, patched/stock',
                           [part('THP/2M/1G', vs_stock('iommufd', op, HUGE)),
                            part('4K', vs_stock('iommufd', op, ['4K']))]))
    rows.append(bullet('VFIO type1 MAP_DMA against iommufd IOAS_MAP, patched kernel',
                       [part('THP/2M/1G', span([rat(get('patched', 'iommufd', b, n, 'map'),
                                                    get('patched', 'vfio-type1', b, n, 'map'))
                                                for b in HUGE for n in sizes])),
                        part('4K', span([rat(get('patched', 'iommufd', '4K', n, 'map'),
                                             get('patched', 'vfio-type1', '4K', n, 'map'))
                                         for n in sizes]))]))
    rows.append(bullet('control: GUP_TEST page-array commands, patched/stock',
                       [part('PIN_LONGTERM', span([rat(get('stock', 'gup-pin-longterm', b, n, 'pin'),
                                                       get('patched', 'gup-pin-longterm', b, n, 'pin'))
                                                   for b in BACKINGS for n in sizes])),
                        part('PIN_FAST', span([rat(get('stock', 'gup-pin-fast', b, n, 'pin'),
                                                   get('patched', 'gup-pin-fast', b, n, 'pin'))
                                               for b in BACKINGS for n in sizes]))]))
    meta = []
    for b in ('4K', 'THP'):
        for n in sizes:
            u = get('patched', 'umem', b, n, 'metadata')
            if u:
                meta.append(f'{b} at {size_str(n)} {u[0] * (1 << 30) / n / 1024:.0f} KiB/GiB')
    rows.append(bullet('umem metadata (a page array: 2048 KiB/GiB)', meta))
    out += [textwrap.fill(r, 72, subsequent_indent='  ', break_on_hyphens=False)
            for r in rows if r]
    return [textwrap.fill(out[0], 72, break_on_hyphens=False)] + out[1:]


def ms(v):
    return f'{v:.0f}' if v >= 100 else f'{v:.1f}'


def make_plot(get, sizes, outdir):
    """What the table says at a glance: patched/stock (or umem/GUP_TEST)
    per workload and backing, on a log axis, with the spread of the
    GUP_TEST control rows drawn as the noise band."""
    # (title, (kernel, workload, op) of the reference, of the measured)
    groups = [('VFIO MAP_DMA', ('stock', 'vfio-type1', 'map'), ('patched', 'vfio-type1', 'map')),
              ('VFIO UNMAP_DMA', ('stock', 'vfio-type1', 'unmap'),
               ('patched', 'vfio-type1', 'unmap')),
              ('ibv_reg_mr', ('stock', 'rdma-reg-mr', 'reg'), ('patched', 'rdma-reg-mr', 'reg')),
              ('umem pin / GUP_TEST', ('patched', 'gup-pin-longterm', 'pin'),
               ('patched', 'umem', 'pin')),
              ('umem release / GUP_TEST', ('patched', 'gup-pin-longterm', 'unpin'),
               ('patched', 'umem-nodirty', 'unpin')),
              ('iommufd IOAS_MAP', ('stock', 'iommufd', 'map'), ('patched', 'iommufd', 'map'))]
    control = [rat(get('stock', wl, b, n, op), get('patched', wl, b, n, op))
               for wl in ('gup-pin-fast', 'gup-pin-longterm')
               for op in ('pin', 'unpin') for b in BACKINGS for n in sizes]
    control = [r for r in control if r]
    dat = os.path.join(outdir, 'plot.dat')
    colors = {'4K': '#1f77b4', 'THP': '#2ca02c', 'hugetlb': '#d62728',
              'hugetlb-1G': '#9467bd'}
    x = 0
    tics = []
    with open(dat, 'w') as f:
        for name, (ka, wa, oa), (kb, wb, ob) in groups:
            tics.append((x + 1.5, name))
            for bi, b in enumerate(BACKINGS):
                for n in sizes:
                    r = rat(get(ka, wa, b, n, oa), get(kb, wb, b, n, ob))
                    if r:
                        f.write(f'{x + bi:g} {max(r, 1e-3):.5f} {bi} # {name} {b} {size_str(n)}\n')
            x += len(BACKINGS) + 1
    gp = ['set terminal pngcairo size 1400,700 font ",11" noenhanced',
          f'set output "{os.path.join(outdir, "plot.png")}"',
          'set title "umem kernel against stock 6.12: ratio of medians per workload and backing '
          '(below 1 = faster); grey band: GUP_TEST control rows (same code on both kernels)"',
          'set logscale y', 'set yrange [0.001:4]', 'set ylabel "ratio (log)"',
          'set grid ytics', f'set xrange [-1:{x}]',
          'set xtics (' + ', '.join(f'"{n}" {p:g}' for p, n in tics) + ')',
          'set key outside right']
    if control:
        gp.append(f'set object 1 rectangle from graph 0, first {min(control):.4f} '
                  f'to graph 1, first {max(control):.4f} fillcolor rgb "#dddddd" '
                  'fillstyle solid 0.6 noborder behind')
    gp.append('set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2')
    plots = [f'"{dat}" using 1:($3 == {bi} ? $2 : NaN) with points pt 7 ps 1.5 '
             f'lc rgb "{colors[b]}" title "{b}"' for bi, b in enumerate(BACKINGS)]
    gp.append('plot ' + ', '.join(plots))
    try:
        subprocess.run(['gnuplot'], input='\n'.join(gp), text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f'report: gnuplot failed: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
