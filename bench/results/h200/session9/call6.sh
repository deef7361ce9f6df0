#!/usr/bin/env bash
# Session 9, device call 6 (issue 4): the int8 quantizing store on the vector path without F2I (clamp,
# add 1.5 * 2^23, byte permutes, one 8-byte store); base = main ee90990 (call 5's binary). Runner tests
# (with a new one comparing the vector path's e4m3 and int8 stores with the core's conversions on ties,
# limits, infinities and NaN), verify of every cuda.fused sample and int8 odd shapes, memcheck, then A/B.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=ee90990+i8store
S=bench/results/h200/session9
T=.devbin/tessel
timeout 60 .devbin/tessel_cuda_tests --gtest_filter='FuseCuda*' >"$OUT/tests.log" 2>&1; echo "tests rc=$?"; grep -E "FAILED|PASSED|Failure|Expected|Which is|of " "$OUT/tests.log" | head -12
timeout 60 $T verify --impl cuda.fused >"$OUT/verify.log" 2>&1; tail -1 "$OUT/verify.log"; grep -E "FAILED" "$OUT/verify.log" | head -5
timeout 60 $T verify "rmsnorm_quant rows=1 cols=8 dtype=bf16 quant=i8" "rmsnorm_quant rows=3 cols=4104 dtype=bf16 quant=i8" \
  "rmsnorm_quant rows=1001 cols=1032 dtype=bf16 quant=i8" "rmsnorm_quant rows=5 cols=16392 dtype=bf16 quant=i8" \
  "rmsnorm_quant rows=7 cols=1001 dtype=bf16 quant=i8" "rmsnorm_quant rows=64 cols=4096 quant=i8" \
  --impl cuda.fused >"$OUT/verify-odd.log" 2>&1; tail -1 "$OUT/verify-odd.log"; grep FAILED "$OUT/verify-odd.log" | head -3
timeout 60 compute-sanitizer --tool memcheck --error-exitcode 99 $T verify "rmsnorm_quant rows=3 cols=4104 dtype=bf16 quant=i8" \
  --impl cuda.fused >"$OUT/memcheck.log" 2>&1; echo "memcheck rc=$?"; tail -1 "$OUT/memcheck.log"
OUT=$OUT/ab timeout 200 scripts/gpu-ab $S/i8-ab.txt base=.devbin-base/tessel new=$T --rounds 3 --max-seconds 0.15 >"$OUT/ab.log" 2>&1; grep -A6 "^problem" "$OUT/ab.log"
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
