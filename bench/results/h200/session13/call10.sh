#!/usr/bin/env bash
# Session 13, device call 10. new = .devbin: main a16b614 plus 128 x 64 tiles in cuda.wgmma.fp8 for per-tensor
# scaling (promoting or fast) where 128 x 128 tiles leave more than half of the SMs idle
# (wgmma_fp8_auto_tile_n). old = .devbin-base: main c598d65.
# Correctness: CUDA unit tests, fp8 verify (default and tile_n=64, both accumulations, odd shapes),
# memcheck and racecheck. Then A/B old / new on fp8-narrow-lines.txt, cuBLASLt alongside, 3 rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
.devbin/tessel_cuda_tests --gtest_brief=1 2>&1 | tail -1
fp8=("gemm m=128 n=6144 k=4096 dtype=e4m3 scale=tensor b=nk" "gemm m=100 n=1000 k=512 dtype=e4m3 scale=tensor b=nk bias=true act=gelu"
  "gemm m=1 n=4096 k=4096 dtype=e4m3 scale=tensor b=nk" "gemm m=127 n=264 k=384 dtype=e4m3 scale=tensor b=nk residual=true"
  "gemm m=130 n=1000 k=2048 dtype=e4m3 scale=tensor b=nk" "gemm m=64 n=520 k=1008 dtype=e4m3 scale=block b=nk")
.devbin/tessel verify "${fp8[@]}" --impl cuda.wgmma.fp8 2>&1 | grep -E "FAILED|ERROR|verify:"
for acc in 1 2; do
  .devbin/tessel verify "${fp8[@]}" --impl cuda.wgmma.fp8 --config tile_n=64,accum=$acc 2>&1 | grep -E "FAILED|ERROR|verify:"
done
for tool in memcheck racecheck; do
  compute-sanitizer --tool $tool --print-limit 5 .devbin/tessel verify "gemm m=77 n=200 k=512 dtype=e4m3 scale=tensor b=nk" \
    "gemm m=40 n=264 k=256 dtype=e4m3 scale=tensor b=nk bias=true" --impl cuda.wgmma.fp8 --config tile_n=64 2>&1 |
    grep -E "ERROR SUMMARY|RACECHECK SUMMARY|FAILED" | sed "s/^/$tool: /"
done
echo "==== A/B"
OUT=$OUT/ab scripts/gpu-ab bench/results/h200/session13/fp8-narrow-lines.txt old=.devbin-base/tessel new=.devbin/tessel \
  --impl cuda.wgmma.fp8,cublaslt --rounds 3 --max-seconds 0.2 2>&1 | tail -20
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
