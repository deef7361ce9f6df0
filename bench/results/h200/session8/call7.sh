#!/usr/bin/env bash
# Session 8, device call 7 (issue 4): base = main 899fa99; new = base + rope's bf16 short-row kernel
# at 4 blocks per SM (64 registers; ncu in call 6: NeoX 80 registers, 33% occupancy) + the device
# exp from ex2.approx (ncu: gelu_tanh 72% SM, 22 instructions per element). A/B, then verify of
# every cuda.fused sample and odd shapes of the ops that use exp or rope, and the runner tests.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
S=bench/results/h200/session8
T=.devbin/tessel
OUT=$OUT/ab timeout 110 scripts/gpu-ab $S/exp-ab.txt base=.devbin-base/tessel new=$T --rounds 2 --max-seconds 0.15 >"$OUT/ab.log" 2>&1; grep -A13 "^problem" "$OUT/ab.log"
timeout 50 $T verify --impl cuda.fused >"$OUT/verify.log" 2>&1; tail -1 "$OUT/verify.log"; grep -E "FAILED" "$OUT/verify.log" | head -5
timeout 30 $T verify "eltwise rows=1 cols=1 dtype=bf16 chain=silu" "eltwise rows=3 cols=5000 dtype=bf16 chain=gelu_erf" \
  "eltwise rows=7 cols=3000 dtype=bf16 chain=bias_gelu" "eltwise rows=5 cols=100003 chain=silu_mul" "eltwise rows=1001 cols=128 dtype=bf16 chain=gelu_tanh" \
  "eltwise rows=333 cols=4104 chain=gelu_tanh" "swiglu rows=3 cols=5001 dtype=bf16 quant=e4m3" "swiglu rows=100 cols=2049 dtype=bf16" \
  "rope tokens=37 heads_q=5 heads_k=3 dim=128 dtype=bf16" "rope tokens=11 heads_q=3 heads_k=1 dim=128" "rope tokens=64 heads_q=4 heads_k=4 dim=128 dtype=bf16 style=gptj" \
  "eltwise rows=40 cols=96 dtype=bf16 chain=bias_gelu" --impl cuda.fused >"$OUT/verify-odd.log" 2>&1; tail -1 "$OUT/verify-odd.log"; grep FAILED "$OUT/verify-odd.log" | head -3
timeout 30 .devbin/tessel_cuda_tests --gtest_filter='FuseCuda*' --gtest_brief=1 2>&1 | tail -1
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
