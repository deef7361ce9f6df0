#!/usr/bin/env bash
# Session 20, device call 4 (issue 3): the committed default (wgmma_fp8_block_tile_n picks 128 x 192 tiles for
# staged km block scales where their waves cost no more) against cuBLASLt, per-tensor and block-scaled.
# 1. verify at the default on km shapes the model sends to 192 and to 128; 2. the per-tensor and km block
# rows of the fp8 suite, cuda.wgmma.fp8 and cublaslt, 3 interleaved rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session20-call4}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
timeout 150 $T verify "gemm m=1024 n=6144 k=4096 dtype=e4m3 b=nk scale=block scale_layout=km" \
  "gemm m=1024 n=4096 k=4096 dtype=e4m3 b=nk scale=block scale_layout=km" "gemm m=2048 n=6144 k=1024 dtype=e4m3 b=nk scale=block scale_layout=km" \
  --impl cuda.wgmma.fp8 2>&1 | grep -E "FAILED|ERROR|verify:|rror|PASSED" | cut -c1-150 | sed "s/^/verify: /"
OUT=$OUT/ab timeout 420 scripts/gpu-ab bench/results/h200/session20/fp8-km-lines.txt cur=.devbin/tessel \
  --rounds 3 --max-seconds 0.3 --impl cuda.wgmma.fp8,cublaslt 2>&1 | tail -3
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
