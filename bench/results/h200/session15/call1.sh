#!/usr/bin/env bash
# Session 15, device call 1. .devbin/tessel = main ef8b570 plus wgmma m64n24k16 and the 24-column plain TMA
# store (no behaviour change); .devbin/tessel-exp = the same built with -DTESSEL_EXP_CS48, where cuda.wgmma's
# tile_n=48 runs 64 x 48 tiles (ColSplit: two consumers of 24 columns sharing A's 64 rows) with 13 stages of
# 14 KiB instead of 128 x 48 with 8 of 22 KiB. Why: at m <= 16 A's box is m rows, so a 128 x 48 stage
# carries 8 KiB (64 KiB in flight per SM); 64-row A tiles leave room for 13 stages (104 KiB in flight).
# Correctness of the experiment first (verify of odd shapes on both epilogue paths, memcheck, racecheck),
# then the A/B on cs48-lines.txt (the m <= 32 rows whose default tile is 48 wide), 3 rounds.
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT TESSEL_COMMIT=${TESSEL_COMMIT:-session15-call1}
X=.devbin/tessel-exp
odd=("gemm m=16 n=6144 k=4096 dtype=bf16 b=nk" "gemm m=5 n=1000 k=4104 dtype=bf16 b=nk" "gemm m=64 n=96 k=64 dtype=bf16 b=nk"
  "gemm m=16 n=6008 k=1000 dtype=bf16 b=nk out=f32" "gemm m=33 n=1000 k=4104 dtype=bf16 b=nk bias=true act=gelu"
  "gemm m=1 n=5120 k=4096 dtype=bf16 b=nk out=f32 bias=true act=silu" "gemm m=30 n=100 k=72 dtype=bf16 b=nk residual=true"
  "gemm m=57 n=777 k=136 dtype=bf16 b=nk" "gemm m=1 n=200 k=520 dtype=bf16 b=nk" "gemm m=8 n=6000 k=520 dtype=bf16 b=nk out=f32")
timeout 200 $X verify "${odd[@]}" --impl cuda.wgmma --config tile_n=48,splits=1 2>&1 | grep -E "FAILED|ERROR|verify:|rror"
for tool in memcheck racecheck; do
  timeout 120 compute-sanitizer --tool $tool --print-limit 5 $X verify "gemm m=13 n=200 k=136 dtype=bf16 b=nk" \
    "gemm m=40 n=200 k=64 dtype=bf16 b=nk out=f32 bias=true" "gemm m=64 n=296 k=200 dtype=bf16 b=nk" --impl cuda.wgmma \
    --config tile_n=48,splits=1 2>&1 | grep -E "ERROR SUMMARY|RACECHECK SUMMARY|FAILED" | sed "s/^/$tool: /"
done
echo "==== A/B"
OUT=$OUT/ab timeout 300 scripts/gpu-ab bench/results/h200/session15/cs48-lines.txt def=.devbin/tessel exp=.devbin/tessel-exp \
  --impl cuda.wgmma,cuda.wgmma.skinny,cublaslt --rounds 3 --max-seconds 0.2 2>&1 | tail -20
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
