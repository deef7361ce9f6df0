#!/usr/bin/env bash
# Session 13, device call 2. Same bundle as call 1 (main 0bd9527 plus tile_n=48, not the default).
# Why is m = 100 1.3x slower than m = 128 at n = 6144, k = 4096 (call 1)? A sweep of m around one
# 128-row tile (mtail-lines.txt, 2 rounds with cuBLASLt), the 64-wide tiles with the staged epilogue
# against TMA stores (does store_staged explain tile_n=48's extra fixed cost?), and ncu of m = 100
# against m = 128.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session13-call2}
OUT=$OUT/mtail scripts/gpu-ab bench/results/h200/session13/mtail-lines.txt cur=.devbin/tessel \
  --impl cuda.wgmma,cublaslt --rounds 2 --max-seconds 0.25 2>&1 | tail -20
echo "==== epilogue"
OUT=$OUT/epi scripts/gpu-ab bench/results/h200/session13/m128-lines.txt tma=".devbin/tessel:--config tile_n=64" \
  staged=".devbin/tessel:--config tile_n=64,epilogue=1" w48=".devbin/tessel:--config tile_n=48" --impl cuda.wgmma \
  --rounds 2 --max-seconds 0.25 2>&1 | tail -8
echo "==== ncu"
OUT=$OUT/ncu scripts/gpu-ncu --impl cuda.wgmma --kernel wgmma_gemm_kernel "gemm m=128 n=6144 k=4096 dtype=bf16 b=nk" \
  "gemm m=100 n=6144 k=4096 dtype=bf16 b=nk"
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
