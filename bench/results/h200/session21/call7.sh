#!/usr/bin/env bash
# Session 21, device call 7 (issue 3): 128 x 64 tiles for block-scaled fp8 where 128-wide tiles leave
# more than half of the SMs idle (wgmma_fp8_block_tile_n). 1. verify tile_n=64 on odd shapes of both
# scale layouts and the default on the rows that take it; memcheck and racecheck on a small one;
# 2. the few-rows lines, default against tile_n=128, cuBLASLt beside (block and per-tensor), 3 rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session21-call7}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
D=bench/results/h200/session21
timeout 120 $T verify "gemm m=130 n=257 k=384 dtype=e4m3 scale=block b=nk" "gemm m=200 n=136 k=80 dtype=e4m3 scale=block b=nk" \
  "gemm m=128 n=200 k=1024 dtype=e4m3 scale=block b=nk scale_layout=km" "gemm m=12 n=4100 k=512 dtype=e4m3 scale=block b=nk scale_layout=km" \
  "gemm m=257 n=1000 k=640 dtype=e4m3 b=nk scale=block bias=true act=silu residual=true" \
  --impl cuda.wgmma.fp8 --config tile_n=64 2>&1 | grep -E "FAILED|ERROR|rror|PASSED" | cut -c1-140 | sed "s/^/verify 64: /"
timeout 120 $T verify "gemm m=128 n=6144 k=4096 dtype=e4m3 b=nk scale=block scale_layout=km" \
  "gemm m=128 n=6144 k=4096 dtype=e4m3 b=nk scale=block" --impl cuda.wgmma.fp8 2>&1 | grep -E "FAILED|ERROR|rror|PASSED" | cut -c1-140 | sed "s/^/verify default: /"
for tool in memcheck racecheck; do
  timeout 150 compute-sanitizer --tool $tool --print-limit 5 $T verify "gemm m=130 n=257 k=384 dtype=e4m3 scale=block b=nk scale_layout=km" \
    --impl cuda.wgmma.fp8 --config tile_n=64 2>&1 | grep -E "ERROR SUMMARY|PASSED|FAILED|Error" | head -3 | sed "s/^/$tool: /"
done
OUT=$OUT/ab timeout 300 scripts/gpu-ab $D/fp8-block-few-rows.txt new=$T "t128=$T:--config tile_n=128" \
  --rounds 3 --max-seconds 0.3 --impl cuda.wgmma.fp8,cublaslt 2>&1 | tail -20
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
