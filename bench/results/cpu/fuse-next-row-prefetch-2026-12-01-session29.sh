#!/bin/bash
# cpu.fused with reductions: the first stash pass prefetches the next row's inputs (session 29) against
# the build before (those passes prefetched the current row, already loaded). OLD and NEW are `tessel`
# binaries; each round runs every problem on both, one after the other (tessel bench's own flush).
# Usage: OLD=/tmp/tessel-base NEW=build/cpu/tessel ROUNDS=3 bash bench/results/cpu/fuse-next-row-prefetch-2026-12-01-session29.sh
set -euo pipefail
: "${OLD:?a tessel binary built before the change}" "${NEW:=build/cpu/tessel}" "${ROUNDS:=3}" "${IMPL:=cpu.fused}"
# PROBLEMS (one per line) replaces the list below and IMPL the implementation (cpu.fused): the other
# session 29 runners call this one with them.
problems=("rmsnorm_quant rows=4096 cols=4096" "rmsnorm_quant rows=65536 cols=1024 dtype=bf16 quant=i8"
          "layernorm rows=4096 cols=4096" "layernorm rows=65536 cols=1024 dtype=bf16"
          "rmsnorm_residual rows=4096 cols=4096" "rmsnorm_residual rows=65536 cols=1024 dtype=bf16"
          "rmsnorm rows=4096 cols=4096" "rmsnorm rows=65536 cols=1024 dtype=bf16"
          "softmax rows=4096 cols=4096" "softmax rows=65536 cols=1024 dtype=bf16"
          "rmsnorm rows=64 cols=262144" "softmax rows=16 cols=262144")
if [ -n "${PROBLEMS:-}" ]; then mapfile -t problems <<< "$PROBLEMS"; fi
for p in "${problems[@]}"; do
  for r in $(seq "$ROUNDS"); do
    for b in OLD NEW; do
      t=$("${!b}" bench "$p" --impl "$IMPL" --threads 2 --max-seconds 0.6 2>&1 | awk -v impl="$IMPL" '$1 == "PASSED" && $2 == impl {print $3, $4}')
      echo "$p | round $r | $b | $t"
    done
  done
done
