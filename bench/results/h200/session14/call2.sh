#!/usr/bin/env bash
# Session 14, device call 2. .devbin = main ce59e31 plus cuda.wgmma.fp8's tile_n=96 (64 x 96 tiles, two consumers
# of 48 columns, per-tensor scales) and wgmma m64n48k32 (WgmmaFp8.M64N48K128). Correctness: CUDA unit tests,
# verify of odd fp8 shapes at tile_n=96 (promote and fast, TMA-store and store_staged epilogues), memcheck and
# racecheck. Then the A/B on fp8-colsplit-lines.txt (default / tile_n=96 / cuBLASLt, 3 rounds).
set -uo pipefail
tar xzf .devbinz/b.tgz && export LD_LIBRARY_PATH=$PWD/.devbin TESSEL_CACHE_DIR=$OUT
T=.devbin/tessel
timeout 60 .devbin/tessel_cuda_tests --gtest_brief=1 >"$OUT/tests.log" 2>&1; echo "device tests rc=$?"; tail -1 "$OUT/tests.log"
grep -E "M64N48K128|FAILED" "$OUT/tests.log" | head -5
odd=("gemm m=128 n=6144 k=4096 dtype=e4m3 b=nk scale=tensor" "gemm m=100 n=1000 k=4096 dtype=e4m3 b=nk scale=tensor"
  "gemm m=65 n=96 k=128 dtype=e4m3 b=nk scale=tensor" "gemm m=130 n=6008 k=1008 dtype=e4m3 b=nk scale=tensor"
  "gemm m=77 n=200 k=272 dtype=e4m3 b=nk scale=tensor bias=true act=gelu" "gemm m=1 n=200 k=512 dtype=e4m3 b=nk scale=tensor"
  "gemm m=256 n=777 k=2064 dtype=e4m3 b=nk scale=tensor residual=true" "gemm m=128 n=4104 k=256 dtype=e4m3 b=nk scale=tensor")
for cfg in tile_n=96 tile_n=96,accum=1 tile_n=96,accum=2,epilogue=1; do
  timeout 150 $T verify "${odd[@]}" --impl cuda.wgmma.fp8 --config $cfg 2>&1 | grep -E "FAILED|ERROR|verify:|rror" | sed "s/^/$cfg: /"
done
for tool in memcheck racecheck; do
  timeout 120 compute-sanitizer --tool $tool --print-limit 5 $T verify "gemm m=130 n=200 k=384 dtype=e4m3 b=nk scale=tensor" \
    "gemm m=77 n=200 k=272 dtype=e4m3 scale=tensor b=nk bias=true" "gemm m=128 n=296 k=1024 dtype=e4m3 b=nk scale=tensor" \
    --impl cuda.wgmma.fp8 --config tile_n=96 2>&1 | grep -E "ERROR SUMMARY|RACECHECK SUMMARY|FAILED" | sed "s/^/$tool: /"
done
echo "==== A/B"
OUT=$OUT/ab timeout 300 scripts/gpu-ab bench/results/h200/session14/fp8-colsplit-lines.txt def=.devbin/tessel \
  "t96=.devbin/tessel:--config tile_n=96" --impl cuda.wgmma.fp8,cublaslt --rounds 3 --max-seconds 0.2 2>&1 | tail -20
cd "$OUT" && tar czf /tmp/all.tgz . && find . -mindepth 1 -delete && mv /tmp/all.tgz .
