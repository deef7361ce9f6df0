#!/bin/bash
# cpu.fused: a row's reduction folded across the vector's lanes in halves on vectors (the same order as the
# scalar tree it replaces; session 29) against the build before. OLD and NEW are `tessel` binaries,
# alternated as in fuse-next-row-prefetch-2026-12-01-session29.sh, whose loop this reuses.
# Usage: OLD=/tmp/tessel-old NEW=build/cpu/tessel ROUNDS=3 bash bench/results/cpu/fuse-lane-tree-2026-12-01-session29.sh
set -euo pipefail
PROBLEMS="layernorm rows=65536 cols=1024 dtype=bf16
rmsnorm_quant rows=65536 cols=1024 dtype=bf16 quant=i8
rmsnorm rows=65536 cols=1024 dtype=bf16
softmax rows=65536 cols=1024 dtype=bf16
rmsnorm_residual rows=65536 cols=1024 dtype=bf16
layernorm rows=4096 cols=4096" exec bash "$(dirname "$0")/fuse-next-row-prefetch-2026-12-01-session29.sh"
