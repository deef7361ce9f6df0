#!/usr/bin/env bash
# Session 20, device call 3 (issue 3): 128 x 192 tiles for km block scales (`--config tile_n=192`: two
# scale_b columns per tile, 4 stages of 40 KiB) against the default 128 x 128. 1. tile-layer tests
# (m64n192k32 included); 2. verify at tile_n=192 on odd km shapes (tiles that start mid scale block,
# ragged n and k, fused epilogue) plus mk (which stays 128 wide); 3. memcheck and racecheck; 4. A/B on
# the km block rows, 3 interleaved rounds; 5. the names of cuBLASLt's block and per-tensor kernels (ncu).
set -uo pipefail
tar xzf .devbinz/b.tgz && export TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session20-call3}
export LD_LIBRARY_PATH=$PWD/.devbin
T=.devbin/tessel
.devbin/tessel_cuda_tests --gtest_brief=1 2>&1 | tail -3 | sed "s/^/tests: /"
odd=("gemm m=256 n=320 k=512 dtype=e4m3 b=nk scale=block scale_layout=km" "gemm m=132 n=640 k=1536 dtype=e4m3 b=nk scale=block scale_layout=km"
  "gemm m=1024 n=2000 k=2048 dtype=e4m3 b=nk scale=block scale_layout=km" "gemm m=4 n=4096 k=4096 dtype=e4m3 b=nk scale=block scale_layout=km"
  "gemm m=200 n=136 k=80 dtype=e4m3 b=nk scale=block scale_layout=km" "gemm m=4096 n=4097 k=4096 dtype=e4m3 b=nk scale=block scale_layout=km"
  "gemm m=260 n=1000 k=512 dtype=e4m3 b=nk scale=block scale_layout=km bias=true act=silu residual=true"
  "gemm m=130 n=257 k=384 dtype=e4m3 b=nk scale=block" "gemm m=77 n=200 k=272 dtype=e4m3 b=nk scale=block scale_layout=km")
timeout 240 $T verify "${odd[@]}" --impl cuda.wgmma.fp8 --config tile_n=192 2>&1 | grep -E "FAILED|ERROR|verify:|rror|PASSED" | cut -c1-150 | sed "s/^/odd 192: /"
for tool in memcheck racecheck; do
  timeout 100 compute-sanitizer --tool $tool --print-limit 5 $T verify "gemm m=132 n=320 k=384 dtype=e4m3 b=nk scale=block scale_layout=km" \
    "gemm m=128 n=700 k=1024 dtype=e4m3 b=nk scale=block scale_layout=km" --impl cuda.wgmma.fp8 --config tile_n=192 2>&1 | grep -E "ERROR SUMMARY|RACECHECK SUMMARY|FAILED" | sed "s/^/$tool: /"
done
echo "==== A/B"
OUT=$OUT/ab timeout 300 scripts/gpu-ab bench/results/h200/session20/fp8-block-km-lines.txt b128=.devbin/tessel "b192=.devbin/tessel:--config tile_n=192" \
  --rounds 3 --max-seconds 0.3 --impl cuda.wgmma.fp8 2>&1 | tail -16
echo "==== cuBLASLt kernels"
for d in "gemm m=8192 n=8192 k=8192 dtype=e4m3 b=nk scale=block scale_layout=km" "gemm m=4096 n=4096 k=4096 dtype=e4m3 b=nk scale=block scale_layout=km" \
  "gemm m=8192 n=8192 k=8192 dtype=e4m3 b=nk scale=tensor"; do
  timeout 60 ncu --launch-count 6 --metrics gpu__time_duration.sum,launch__grid_size,launch__block_size,launch__registers_per_thread,launch__cluster_dim_x,launch__cluster_dim_y \
    $T bench "$d" --impl cublaslt --max-seconds 0.01 2>&1 | grep -vE "^==PROF==|^\s*$|Section|-----" | grep -E "\(|grid|block_size|registers|cluster|duration" | sort | uniq | head -14 | sed "s/^/ncu: /"
done
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
