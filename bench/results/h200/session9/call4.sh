#!/usr/bin/env bash
# Session 9, device call 4 (issue 4): chains without reductions back on 2 vector slots (call 3 measured
# relu 1.08-1.16x and gelu_tanh 1.03-1.10x faster at 2 than at 4), base = main 42dd992. Runner tests,
# every cuda.fused sample and odd map shapes, then the A/B, with the reducing chains also at 2 slots
# (new2) where 4096 x 4096 is below 90% of copy.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=42dd992+maps2slots
S=bench/results/h200/session9
T=.devbin/tessel
timeout 60 .devbin/tessel_cuda_tests --gtest_filter='FuseCuda*' --gtest_brief=1 2>&1 | tail -1
timeout 60 $T verify --impl cuda.fused >"$OUT/verify.log" 2>&1; tail -1 "$OUT/verify.log"; grep -E "FAILED" "$OUT/verify.log" | head -5
timeout 60 $T verify "eltwise rows=3 cols=5000 dtype=bf16 chain=relu" "eltwise rows=1001 cols=4104 dtype=bf16 chain=gelu_tanh" \
  "eltwise rows=7 cols=100003 chain=silu_mul" "eltwise rows=333 cols=2056 dtype=bf16 chain=bias_gelu" "swiglu rows=3 cols=5001 dtype=bf16 quant=e4m3" \
  "eltwise rows=65537 cols=1032 dtype=bf16 chain=relu" "eltwise rows=1 cols=1 dtype=bf16 chain=silu" "eltwise rows=5 cols=8 dtype=bf16 chain=gelu_erf" \
  --impl cuda.fused >"$OUT/verify-odd.log" 2>&1; tail -1 "$OUT/verify-odd.log"; grep FAILED "$OUT/verify-odd.log" | head -3
timeout 60 compute-sanitizer --tool memcheck --error-exitcode 99 $T verify "eltwise rows=333 cols=4104 dtype=bf16 chain=gelu_tanh" "eltwise rows=3 cols=5000 dtype=bf16 chain=relu" \
  --impl cuda.fused >"$OUT/memcheck.log" 2>&1; echo "memcheck rc=$?"; tail -1 "$OUT/memcheck.log"
OUT=$OUT/ab timeout 300 scripts/gpu-ab $S/slots-ab.txt base=.devbin-base/tessel new=$T new2="$T:--config slots=2" \
  --rounds 2 --max-seconds 0.15 >"$OUT/ab.log" 2>&1; grep -A14 "^problem" "$OUT/ab.log"
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
