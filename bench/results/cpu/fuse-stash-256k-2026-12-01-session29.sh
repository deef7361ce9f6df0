#!/bin/bash
# softmax cpu.fused: the stash for rows up to 262144 columns (session 29) against the runner's 65536
# before, on rows between the two, and three controls (a longer row, which keeps the online form, and
# two rmsnorm rows, whose stash limit did not change). OLD and NEW are `tessel` binaries, alternated as in
# fuse-next-row-prefetch-2026-12-01-session29.sh, whose loop this reuses.
# Usage: OLD=/tmp/tessel-s64k NEW=build/cpu/tessel ROUNDS=3 bash bench/results/cpu/fuse-stash-256k-2026-12-01-session29.sh
# (The record's first table, "every chain", ran an earlier build that raised the runner's default for
# every chain; rmsnorm on bf16 rows lost there, so only softmax asks for the longer stash.)
set -euo pipefail
PROBLEMS="softmax rows=256 cols=100000 dtype=bf16
softmax rows=256 cols=100000
softmax rows=128 cols=200000 dtype=bf16
softmax rows=16 cols=262144
softmax rows=8 cols=1000000
rmsnorm rows=128 cols=200000 dtype=bf16
rmsnorm rows=4096 cols=4096" exec bash "$(dirname "$0")/fuse-next-row-prefetch-2026-12-01-session29.sh"
