#!/usr/bin/env bash
# Session 8, device call 4 (issue 3): the recorded run of the whole GEMM suite with today's kernels
# (unchanged since session 7's 8070e3e): bench/suites/gemm-h200.txt (bf16, cuda.wgmma* against
# cuBLAS and cuBLASLt) and bench/suites/gemm-h200-fp8.txt (cuda.wgmma.fp8 against cuBLASLt), every
# timed call checked against the reference by tessel bench; the device tests; and compute-sanitizer
# memcheck on the 128 x 64 tile path (few rows of A, b=nk), which had only had racecheck.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin/tessel
timeout 60 .devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; tail -1 "$OUT/tests.log"
timeout 100 compute-sanitizer --tool memcheck --error-exitcode 99 $T verify "gemm m=128 n=1024 k=2048 dtype=bf16 b=nk" \
  "gemm m=100 n=1000 k=1032 dtype=bf16 b=nk bias=true act=gelu residual=true" "gemm m=65 n=520 k=8192 dtype=bf16 b=nk out=f32" \
  --impl cuda.wgmma >"$OUT/memcheck-128x64.log" 2>&1; echo "memcheck rc=$?"; tail -3 "$OUT/memcheck-128x64.log"
timeout 230 $T bench --suite bench/suites/gemm-h200.txt --impl 'cuda.wgmma*,cublas*' --max-seconds 0.3 \
  --json "$OUT/gemm-bf16-2026-11-29.json" >"$OUT/gemm-bf16.log" 2>&1; echo "bf16 bench rc=$?"
timeout 200 $T bench --suite bench/suites/gemm-h200-fp8.txt --impl 'cuda.wgmma.fp8,cublaslt' --max-seconds 0.3 \
  --json "$OUT/gemm-fp8-2026-11-29.json" >"$OUT/gemm-fp8.log" 2>&1; echo "fp8 bench rc=$?"
grep -cE "PASSED" "$OUT/gemm-bf16.log" "$OUT/gemm-fp8.log"; grep -E "FAILED|MISMATCH|error" "$OUT/gemm-bf16.log" "$OUT/gemm-fp8.log" | head
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
