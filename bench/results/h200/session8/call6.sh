#!/usr/bin/env bash
# Session 8, device call 6 (issue 4): Nsight Compute on the fusion rows that stay below 90% of copy,
# with the final build (main 899fa99): rope NeoX (both shapes), rmsnorm_quant and layernorm at
# 4096 x 4096, rmsnorm_quant at 16384 x 8192 and gelu_tanh at 65536 x 1024. One report per row in
# ncu/, the headline metrics on stdout.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
mkdir -p "$OUT/ncu"
n=0
while IFS='|' read -r kernel problem; do
  n=$((n + 1))
  timeout 45 ncu --section SpeedOfLight --section WarpStateStats --section MemoryWorkloadAnalysis --section Occupancy \
    --section LaunchStats --section InstructionStats -k "regex:$kernel" -c 1 .devbin/tessel bench "$problem" --impl cuda.fused \
    --max-seconds 0.05 >"$OUT/ncu/ncu-$n.txt" 2>&1
  echo "== $n $problem"
  grep -E "Duration|DRAM Throughput|L2 Cache Throughput|Compute \(SM\) Throughput|Achieved Occupancy|Registers Per|Executed Instructions  |Waves Per SM|Warp Cycles Per Issued" "$OUT/ncu/ncu-$n.txt" | sed 's/^ */   /'
done <<'P'
short_rows_kernel|rope tokens=16384 heads_q=48 heads_k=16 dim=128 dtype=bf16
short_rows_kernel|rope tokens=16384 heads_q=48 heads_k=16 dim=128 dtype=bf16 style=gptj
short_rows_kernel|rope tokens=4096 heads_q=24 heads_k=8 dim=128 dtype=bf16
stash_kernel|rmsnorm_quant rows=4096 cols=4096 dtype=bf16
stash_kernel|layernorm rows=4096 cols=4096 dtype=bf16
stash_kernel|rmsnorm rows=4096 cols=4096 dtype=bf16
stash_kernel|eltwise rows=65536 cols=1024 dtype=bf16 chain=gelu_tanh
P
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
