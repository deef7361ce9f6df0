#!/usr/bin/env bash
# Session 9, device call 3 (issue 4): chains without reductions split each thread's virtual row into
# (row, column tile) with a multiply and a shift (fuse::cuda::Divider31) instead of a 64-bit division.
# base = main 42dd992. Runner tests (incl. the divider's host test), every cuda.fused sample and odd
# map shapes, then the A/B (plus new at 2 slots for the one-input maps), then ncu of relu at 4096^2.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=42dd992+divider
S=bench/results/h200/session9
T=.devbin/tessel
timeout 60 .devbin/tessel_cuda_tests --gtest_filter='FuseCuda*' --gtest_brief=1 2>&1 | tail -1
timeout 60 $T verify --impl cuda.fused >"$OUT/verify.log" 2>&1; tail -1 "$OUT/verify.log"; grep -E "FAILED" "$OUT/verify.log" | head -5
timeout 60 $T verify "eltwise rows=3 cols=5000 dtype=bf16 chain=relu" "eltwise rows=1001 cols=4104 dtype=bf16 chain=gelu_tanh" \
  "eltwise rows=7 cols=100003 chain=silu_mul" "eltwise rows=333 cols=2056 dtype=bf16 chain=bias_gelu" "swiglu rows=3 cols=5001 dtype=bf16 quant=e4m3" \
  "eltwise rows=65537 cols=1032 dtype=bf16 chain=relu" "eltwise rows=1 cols=1 dtype=bf16 chain=silu" "swiglu rows=100 cols=8200 dtype=bf16" \
  --impl cuda.fused >"$OUT/verify-odd.log" 2>&1; tail -1 "$OUT/verify-odd.log"; grep FAILED "$OUT/verify-odd.log" | head -3
OUT=$OUT/ab timeout 240 scripts/gpu-ab $S/maps-ab.txt base=.devbin-base/tessel new=$T new2="$T:--config slots=2" \
  --rounds 2 --max-seconds 0.15 >"$OUT/ab.log" 2>&1; grep -A12 "^problem" "$OUT/ab.log"
mkdir -p "$OUT/ncu"
for b in base:.devbin-base/tessel new:$T; do
  timeout 45 ncu --section SpeedOfLight --section WarpStateStats --section Occupancy --section LaunchStats --section InstructionStats \
    -k "regex:stash_kernel" -c 1 ${b#*:} bench "eltwise rows=4096 cols=4096 dtype=bf16 chain=relu" --impl cuda.fused --max-seconds 0.05 \
    >"$OUT/ncu/relu-${b%%:*}.txt" 2>&1
  echo "== ncu relu 4096^2 ${b%%:*}"
  grep -E "Duration|DRAM Throughput|Compute \(SM\) Throughput|Achieved Occupancy|Registers Per|Executed Instructions  |Waves Per SM|Warp Cycles Per Issued" "$OUT/ncu/relu-${b%%:*}.txt" | sed 's/^ */   /'
done
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
