#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Put the generated benchmark results where the README and the cover
letter quote them, so that their numbers are the results files', not typed.

usage: update-readme.py [RESULTS_DIR [README_MD [COVER_LETTER]]]

- README.md's "### Latest run" section (up to the next "## " heading)
  becomes RESULTS_DIR/table.md, its headings demoted two levels.
- Every block between "<!-- summary:DIR begin -->" and
  "<!-- summary:DIR end -->" in README.md and in the cover letter becomes
  DIR/summary.md (benchmarks/report.py writes it), for any DIR named.
"""
import os
import re
import sys

results = sys.argv[1] if len(sys.argv) > 1 else 'benchmarks/results'
readme = sys.argv[2] if len(sys.argv) > 2 else 'README.md'
cover = sys.argv[3] if len(sys.argv) > 3 else 'rig/cover-letter.txt'

MARK = re.compile(r'(<!-- summary:(\S+) begin -->\n)(.*?)(<!-- summary:\2 end -->)',
                  re.S)


def fill_summaries(text):
    def sub(m):
        path = os.path.join(m.group(2), 'summary.md')
        if not os.path.exists(path):
            return m.group(0)
        return m.group(1) + open(path).read().rstrip('\n') + '\n' + m.group(4)
    return MARK.sub(sub, text)


lines = open(readme).read().split('\n')
start = next(i for i, l in enumerate(lines) if l.startswith('### Latest run'))
end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith('## '))
body = []
for l in open(os.path.join(results, 'table.md')).read().rstrip('\n').split('\n'):
    if l.startswith('# '):
        l = '### Latest run: ' + l[2:]
    elif l.startswith('#'):
        l = '##' + l
    body.append(l)
text = '\n'.join(lines[:start] + body + [''] + lines[end:])
open(readme, 'w').write(fill_summaries(text))
if os.path.exists(cover):
    text = fill_summaries(open(cover).read())
    open(cover, 'w').write(text)
