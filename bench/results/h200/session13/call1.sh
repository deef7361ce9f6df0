#!/usr/bin/env bash
# Session 13, device call 1. .devbin = main 0bd9527 plus 128 x 48 tiles for cuda.wgmma (tile_n=48, b=nk,
# 8 stages of 22 KiB, store_staged epilogue); the default is unchanged (tile_n=0 never picks 48 yet).
# Correctness first: CUDA unit tests, verify with tile_n=48 on odd shapes, memcheck/racecheck on small
# ones. Then A/B of tile_n=64 against tile_n=48 with cuBLASLt in every round (m128-lines.txt).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session13-call1}
.devbin/tessel_cuda_tests 2>&1 | tail -3
shapes=("gemm m=128 n=6144 k=4096 dtype=bf16 b=nk" "gemm m=100 n=1000 k=4104 dtype=bf16 b=nk bias=true act=gelu"
  "gemm m=257 n=777 k=136 dtype=bf16 b=nk out=f32" "gemm m=130 n=100 k=72 dtype=bf16 b=nk residual=true"
  "gemm m=128 n=6000 k=1000 dtype=bf16 b=nk" "gemm m=1 n=48 k=8 dtype=bf16 b=nk" "gemm m=300 n=520 k=1000 dtype=bf16 b=kn")
.devbin/tessel verify "${shapes[@]}" --impl cuda.wgmma --config tile_n=48 2>&1 | tail -12
for tool in memcheck racecheck; do
  compute-sanitizer --tool $tool --print-limit 5 .devbin/tessel verify "gemm m=130 n=100 k=136 dtype=bf16 b=nk" \
    "gemm m=64 n=200 k=64 dtype=bf16 b=nk out=f32 bias=true" --impl cuda.wgmma --config tile_n=48 2>&1 | grep -E "ERROR SUMMARY|PASSED|FAILED"
done
echo "==== A/B"
OUT=$OUT/ab scripts/gpu-ab bench/results/h200/session13/m128-lines.txt w64=".devbin/tessel:--config tile_n=64" \
  w48=".devbin/tessel:--config tile_n=48" --impl cuda.wgmma,cublaslt --rounds 3 --max-seconds 0.3 2>&1 | tail -12
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
