#!/usr/bin/env bash
# Session 13, device call 9: the shapes scripts/gpu-gemm gained for the 128 x 48 tiles (verify, and
# memcheck / racecheck on a small shape that picks them by default), run with main c598d65's tessel
# (.devbin-base; cuda.wgmma is the same code at 379e93d).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin-base/tessel
$T verify "gemm m=100 n=6008 k=1000 dtype=bf16 b=nk out=f32" "gemm m=256 n=3072 k=4104 dtype=bf16 b=nk residual=true" \
  "gemm m=40 n=4264 k=128 dtype=bf16 b=nk" --impl 'cuda.wgmma*,cublaslt' 2>&1 | tail -8
$T bench "gemm m=40 n=4264 k=128 dtype=bf16 b=nk" --impl cuda.wgmma --max-seconds 0.05 2>&1 | grep -E "config|PASSED"
for tool in memcheck racecheck; do
  compute-sanitizer --tool $tool --error-exitcode 99 $T verify "gemm m=40 n=4264 k=128 dtype=bf16 b=nk" \
    --impl 'cuda.wgmma*' 2>&1 | grep -E "ERROR SUMMARY|RACECHECK SUMMARY|FAILED|PASSED"
done
