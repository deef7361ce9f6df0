#!/usr/bin/env bash
# Session 9, device call 11 (issue 3): the landing build (call 10's kernel; the host no longer allocates
# the split workspace for cluster pairs, whose partials stay on chip). Device tests, verify of the pair
# shapes and the gemm samples, racecheck and memcheck of a pair, and one bench of the m = 128 row.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=landing
T=.devbin/tessel
timeout 100 .devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; echo "device tests rc=$?"; tail -1 "$OUT/tests.log"
timeout 60 $T verify "gemm m=128 n=4096 k=4096 dtype=bf16 b=nk" "gemm m=100 n=1000 k=1032 dtype=bf16 b=nk bias=true act=silu residual=true" \
  "gemm m=65 n=640 k=2048 dtype=bf16 b=nk out=f32" "gemm m=128 n=4096 k=14336 dtype=bf16 b=nk" --impl cuda.wgmma >"$OUT/verify.log" 2>&1; tail -1 "$OUT/verify.log"
timeout 60 $T verify --impl 'cuda.wgmma*' >"$OUT/verify-samples.log" 2>&1; tail -1 "$OUT/verify-samples.log"
for tool in memcheck racecheck; do
  timeout 60 compute-sanitizer --tool $tool --error-exitcode 99 $T verify "gemm m=64 n=128 k=1024 dtype=bf16 b=nk" --impl cuda.wgmma \
    --config cluster_k=2 >"$OUT/$tool.log" 2>&1; echo "$tool rc=$?"; tail -1 "$OUT/$tool.log"
done
timeout 30 $T bench "gemm m=128 n=4096 k=4096 dtype=bf16 b=nk" --impl 'cuda.wgmma,cublaslt' --max-seconds 0.3 >"$OUT/bench.log" 2>&1; grep PASSED "$OUT/bench.log"
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
