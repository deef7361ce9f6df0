#!/usr/bin/env bash
# Session 11, device call 2 (issue 4). (a) Eight vector slots a thread for the reducing chains (64
# columns, 127 registers, 512 threads an SM) against the default four (32 columns, 64 registers, 1024
# threads): the per-row work (two block reductions, the double statistics, the scale) is then spread
# over twice the elements. An experiment build (.devbin: main d8cc50b plus slots=8 in the runner and
# the tunable's range); verify with slots=8 first, then 3 interleaved rounds, same binary, default
# against --config slots=8. (b) ncu of rope NeoX at 4096 tokens (70% of copy) against GPT-J.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session11-call2}
T=.devbin/tessel
$T probe --refresh | grep "gpu copy"
echo "==== verify slots=8"
$T verify "rmsnorm rows=7 cols=8192 dtype=bf16" "rmsnorm rows=3 cols=4104 dtype=bf16" "rmsnorm rows=5 cols=32768 dtype=bf16" \
  "rmsnorm_quant rows=9 cols=8192 dtype=bf16" "rmsnorm_quant rows=9 cols=8200 dtype=bf16 quant=i8" \
  "rmsnorm_quant rows=4 cols=4096 dtype=bf16 quant=i8" "layernorm rows=6 cols=8192 dtype=bf16" \
  "layernorm rows=65 cols=4096 dtype=bf16" "softmax rows=5 cols=8192 dtype=bf16" "softmax rows=3 cols=2056 dtype=bf16" \
  "rmsnorm_residual rows=5 cols=8192 dtype=bf16" "rmsnorm rows=2 cols=16 dtype=bf16" \
  --impl cuda.fused --config slots=8 2>&1 | tail -14
echo "==== A/B"
OUT=$OUT/ab scripts/gpu-ab bench/results/h200/session11/ab-slots-lines.txt s4=$T "s8=$T:--config slots=8" --rounds 3 --max-seconds 0.4 2>&1 | tail -13
echo "==== ncu rope"
n=0
for p in "rope tokens=4096 heads_q=24 heads_k=8 dim=128 dtype=bf16" "rope tokens=4096 heads_q=24 heads_k=8 dim=128 dtype=bf16 style=gptj"; do
  n=$((n + 1))
  timeout 100 ncu --section SpeedOfLight --section MemoryWorkloadAnalysis --section WarpStateStats --section InstructionStats \
    --section Occupancy --section LaunchStats -k "regex:short_rows" -c 1 $T bench "$p" --impl cuda.fused --max-seconds 0.05 >"$OUT/ncu-rope-$n.txt" 2>&1
  echo "ncu $n rc=$?: $p"
  grep -E "Duration|Compute \(SM\) Throughput|DRAM Throughput|L1/TEX Hit|L2 Hit|Mem Busy|Max Bandwidth|Executed Instructions  |Warp Cycles Per Issued|Achieved Occupancy|Registers Per" "$OUT/ncu-rope-$n.txt" | head -14
done
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
