#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tabulate what the guest suites injected and raced, from their logs.

usage: robustness.py [--readme README.md] LOG...

Reads the console logs of the guest suites (build/selftest-vm.log,
build/rdma-vm.log, build/vfio-vm.log and their -stock twins, as
rig/check.sh writes them) and prints a markdown table: per suite and
kernel, the fail-nth sweeps (failure points injected, how each failed
call ended), the fuzz (operations), the lifecycle and race checks (passed
of run), and what vm-run found after the guest powered off (FOLL_PIN
balance, kmemleak). With --readme the table replaces the block between
"<!-- robustness begin -->" and "<!-- robustness end -->" of that file.
Nothing here is typed by hand: a new `make check` and a new run of this
script update every number.
"""
import os
import re
import sys

FAILNTH = re.compile(r'^\s*# fail-nth (.*?): (\d+) points injected \((.*)\)')
FUZZ = re.compile(r'^\s*# fuzz: (\d+) operations \((.*)\), seed (\d+)')
TAP = re.compile(r'^\s*(not ok|ok) \d+ - (.*)')
BALANCE = re.compile(r'^vm-run: (\w+) kernel: nr_foll_pin_acquired=(\d+) '
                     r'nr_foll_pin_released=(\d+)')
RACE = re.compile(r'\brac(e|ing)\b|SIGKILL|\bfork\b|exit with pins|\bexits\b|mremap|'
                  r'MADV_DONTNEED|outlive|\bkilled\b', re.I)
COUNT = re.compile(r'^(\d+) passed, (\d+) failed')


def scan(path):
    s = {'kernel': '?', 'failnth': [], 'fuzz': [], 'race_ok': 0,
         'race_n': 0, 'balance': None, 'leak': False, 'count': None}
    for line in open(path, errors='replace'):
        line = line.rstrip('\n')
        m = FAILNTH.match(line)
        if m:
            s['failnth'].append((m.group(1), int(m.group(2)), m.group(3)))
            continue
        m = FUZZ.match(line)
        if m:
            s['fuzz'].append((int(m.group(1)), m.group(2), m.group(3)))
            continue
        m = TAP.match(line)
        if m and RACE.search(m.group(2)):
            s['race_n'] += 1
            s['race_ok'] += m.group(1) == 'ok'
            continue
        m = COUNT.match(line)
        if m:
            s['count'] = (int(m.group(1)), int(m.group(2)))
            continue
        m = BALANCE.match(line)
        if m:
            s['kernel'] = m.group(1)
            s['balance'] = (int(m.group(2)), int(m.group(3)))
            continue
        if 'kmemleak reports unreferenced objects' in line:
            s['leak'] = True
    return s


def table(logs):
    out = ['| suite | kernel | suite result | fail-nth sweeps: points injected '
           '| fuzz operations | lifecycle/race checks passed | FOLL_PIN balance '
           '| kmemleak |',
           '|---|---|---|---|---|---|---|---|']
    for path in logs:
        if not os.path.exists(path):
            continue
        s = scan(path)
        suite = os.path.basename(path).removesuffix('.log').removesuffix('-stock')
        fn = '; '.join(f'{w}: {n} ({how})' for w, n, how in s['failnth'])
        fz = '; '.join(f'{n} ({how}; seed {seed})' for n, how, seed in s['fuzz'])
        if s['balance']:
            a, r = s['balance']
            bal = f'{a} = {r}' if a == r else f'**{a} != {r}**'
        else:
            bal = 'not reached'
        if s['count']:
            p, f = s['count']
            res = f'{p} passed, {f} failed' if not f else f'**{p} passed, {f} failed**'
        else:
            res = '**no result line**'
        out.append(f"| {suite} | {s['kernel']} | {res} | {fn or '-'} | {fz or '-'} | "
                   f"{s['race_ok']}/{s['race_n']} | {bal} | "
                   f"{'**reported**' if s['leak'] else 'none'} |")
    return '\n'.join(out) + '\n'


def main(argv):
    readme = None
    if len(argv) > 1 and argv[0] == '--readme':
        readme, argv = argv[1], argv[2:]
    text = table(argv)
    if readme:
        body = open(readme).read()
        new, n = re.subn(r'(<!-- robustness begin -->\n).*?(<!-- robustness end -->)',
                         lambda m: m.group(1) + text + m.group(2), body, flags=re.S)
        if n != 1:
            sys.exit(f'robustness.py: no robustness block in {readme}')
        open(readme, 'w').write(new)
    else:
        sys.stdout.write(text)


if __name__ == '__main__':
    main(sys.argv[1:])
