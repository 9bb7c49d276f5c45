#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Copy benchmarks/results/table.md into README.md's "Latest run" section.

usage: update-readme.py [TABLE_MD [README_MD]]

The section runs from the line starting "### Latest run" to the next "## "
heading; table.md's headings are demoted two levels. Nothing else in the
README changes, so the numbers there are the results file's, not typed.
"""
import sys

table = sys.argv[1] if len(sys.argv) > 1 else 'benchmarks/results/table.md'
readme = sys.argv[2] if len(sys.argv) > 2 else 'README.md'
lines = open(readme).read().split('\n')
start = next(i for i, l in enumerate(lines) if l.startswith('### Latest run'))
end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith('## '))
body = []
for l in open(table).read().rstrip('\n').split('\n'):
    if l.startswith('# '):
        l = '### Latest run: ' + l[2:]
    elif l.startswith('#'):
        l = '##' + l
    body.append(l)
open(readme, 'w').write('\n'.join(lines[:start] + body + [''] + lines[end:]))
