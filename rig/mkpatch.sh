#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Developer helper: regenerate one patches/ file from an edited copy.
#   rig/mkpatch.sh patches/NNNN-name.patch "subject" file... < edits in build/edit/<file>
# Diffs build/base/linux-source-6.12/<file> against build/edit/<file>.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$1; subj=$2; shift 2
base=$top/build/base/linux-source-6.12
{
	echo "Subject: $subj"
	echo
	for f in "$@"; do
		diff -u --label "a/$f" --label "b/$f" "$base/$f" "$top/build/edit/$f" || true
	done
} > "$top/$out"
