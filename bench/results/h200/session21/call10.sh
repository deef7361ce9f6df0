#!/usr/bin/env bash
# Session 21, device call 10 (issue 3): K splits for block-scaled 128 x 64 fp8 tiles (wgmma_fp8_block_splits).
# 1. verify forced splits (2, 4) on odd shapes of both layouts, a fused epilogue, and the default on the
# long-K rows; memcheck and racecheck on a small split shape; 2. the long-K rows, default (2 splits)
# against splits=1, cuBLASLt beside, 2 rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session21-call10}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
D=bench/results/h200/session21
for sp in 2 4; do
  timeout 60 $T verify "gemm m=130 n=257 k=1008 dtype=e4m3 scale=block b=nk" "gemm m=128 n=200 k=1024 dtype=e4m3 scale=block b=nk scale_layout=km" \
    "gemm m=12 n=4100 k=2048 dtype=e4m3 scale=block b=nk scale_layout=km" "gemm m=257 n=1000 k=640 dtype=e4m3 b=nk scale=block bias=true act=silu residual=true" \
    --impl cuda.wgmma.fp8 --config tile_n=64,splits=$sp 2>&1 | grep -E "FAILED|ERROR|rror|PASSED" | cut -c1-130 | sed "s/^/verify splits=$sp: /"
done
timeout 60 $T verify "gemm m=128 n=4096 k=14336 dtype=e4m3 b=nk scale=block scale_layout=km" "gemm m=128 n=4096 k=14336 dtype=e4m3 b=nk scale=block" \
  --impl cuda.wgmma.fp8 2>&1 | grep -E "FAILED|ERROR|rror|PASSED" | cut -c1-130 | sed "s/^/verify default: /"
for tool in memcheck racecheck; do
  timeout 90 compute-sanitizer --tool $tool --print-limit 5 $T verify "gemm m=130 n=257 k=1008 dtype=e4m3 scale=block b=nk scale_layout=km" \
    --impl cuda.wgmma.fp8 --config tile_n=64,splits=2 2>&1 | grep -E "SUMMARY|PASSED|FAILED|Error|hazard" | head -3 | sed "s/^/$tool: /"
done
OUT=$OUT/ab timeout 150 scripts/gpu-ab $D/fp8-block-longk.txt new=$T "s1=$T:--config splits=1" \
  --rounds 2 --max-seconds 0.3 --impl cuda.wgmma.fp8,cublaslt 2>&1 | tail -8
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
