#!/usr/bin/env bash
# Session 13, device call 6. new = .devbin: main c598d65 plus A's TMA box clamped to min(BMs, m) rows in
# cuda.wgmma.skinny. old = .devbin-base: main c598d65 (call 5's bundle).
# Correctness: CUDA unit tests, verify of the skinny kernel on m < 16 / 32 / 64 with splits, wide
# tiles, fused epilogues and f32 out; memcheck and racecheck. Then A/B old / new on skinny-lines.txt.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session13-call6}
.devbin/tessel_cuda_tests 2>&1 | grep -E "PASSED|FAILED"
sk=("gemm m=1 n=8192 k=8192 dtype=bf16 b=nk" "gemm m=3 n=1000 k=4104 dtype=bf16 b=nk bias=true act=gelu"
  "gemm m=9 n=20000 k=520 dtype=bf16 b=nk bias=true act=gelu residual=true" "gemm m=12 n=17000 k=1032 dtype=bf16 b=nk out=f32"
  "gemm m=20 n=777 k=136 dtype=bf16 b=nk" "gemm m=33 n=4096 k=4096 dtype=bf16 b=nk out=f32" "gemm m=7 n=64 k=8 dtype=bf16 b=nk")
.devbin/tessel verify "${sk[@]}" --impl cuda.wgmma.skinny 2>&1 | grep -E "FAILED|ERROR|verify:"
.devbin/tessel verify "${sk[@]}" --impl cuda.wgmma.skinny --config splits=2 2>&1 | grep -E "FAILED|ERROR|verify:"
.devbin/tessel verify "gemm m=5 n=30000 k=1000 dtype=bf16 b=nk" "gemm m=13 n=17000 k=4096 dtype=bf16 b=nk residual=true" \
  --impl cuda.wgmma.skinny --config tile_rows=128 2>&1 | grep -E "FAILED|ERROR|verify:"
.devbin/tessel verify --impl cuda.wgmma.skinny 2>&1 | grep -E "FAILED|ERROR|verify:"
for tool in memcheck racecheck; do
  compute-sanitizer --tool $tool --print-limit 5 .devbin/tessel verify "gemm m=3 n=300 k=520 dtype=bf16 b=nk" \
    "gemm m=20 n=200 k=264 dtype=bf16 b=nk out=f32" --impl cuda.wgmma.skinny --config splits=2 2>&1 |
    grep -E "ERROR SUMMARY|RACECHECK SUMMARY|FAILED" | sed "s/^/$tool: /"
done
echo "==== A/B"
OUT=$OUT/ab scripts/gpu-ab bench/results/h200/session13/skinny-lines.txt old=.devbin-base/tessel new=.devbin/tessel \
  --impl cuda.wgmma.skinny,cublaslt --rounds 3 --max-seconds 0.25 2>&1 | tail -20
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
