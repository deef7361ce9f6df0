#!/bin/bash
# rmsnorm and softmax: the hand-written cpu.simd against cpu.fused, both in one `tessel bench` call per
# problem and round (the same process, the harness's flush), after session 29's runner changes.
# Usage: ROUNDS=2 bash bench/results/cpu/rmsnorm-softmax-simd-vs-fused-2026-12-01-session29.sh
set -euo pipefail
: "${ROUNDS:=2}" "${T:=build/cpu/tessel}"
for r in $(seq "$ROUNDS"); do
  for s in "rmsnorm rows=4096 cols=4096" "rmsnorm rows=65536 cols=1024 dtype=bf16" "rmsnorm rows=4096 cols=4096 dtype=bf16" \
           "rmsnorm rows=64 cols=262144" "rmsnorm rows=16 cols=1000000" "softmax rows=4096 cols=4096" \
           "softmax rows=65536 cols=1024 dtype=bf16" "softmax rows=2048 cols=256" "softmax rows=256 cols=100000 dtype=bf16" \
           "softmax rows=16 cols=262144" "softmax rows=8 cols=1000000"; do
    "$T" bench "$s" --impl cpu.simd,cpu.fused --threads 2 --max-seconds 0.5 2>&1 |
      awk -v s="$s" -v r="$r" '/PASSED/ {m = ($4 == "us") ? 0.001 : 1; t[$2] = $3 * m}
        END {printf "%s | round %d | cpu.simd %.3f ms | cpu.fused %.3f ms | simd/fused %.2f\n", s, r, t["cpu.simd"], t["cpu.fused"], t["cpu.simd"] / t["cpu.fused"]}'
  done
done
